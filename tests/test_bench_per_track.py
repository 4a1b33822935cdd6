"""bench/per_track.py: the k sharpest faces of each track stand for the track."""

import numpy as np

from bench.per_track import block, chosen_means
from ingest.people.cluster import FaceTable
from ingest.settings import ClusterSettings


def unit(v):
    v = np.asarray(v, np.float64)
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_each_track_takes_the_mean_of_its_k_sharpest_faces():
    """Two people in one video (four frames each, never in one frame with themselves) and a
    third person's single blurred face, whose track clustering drops. With k=2 each track's descriptor rows
    become the mean of its two sharpest faces; the embeddings stay as they were."""
    rng = np.random.default_rng(0)
    a, b, c = (unit(rng.normal(size=16)) for _ in range(3))
    emb = np.stack([a, b] * 4 + [c]) + rng.normal(scale=0.01, size=(9, 16)).astype(np.float32)
    emb = np.stack([unit(e) for e in emb])
    desc = np.stack([unit(rng.normal(size=8)) for _ in range(9)])
    sharp = np.array([100, 500, 400, 200, 300, 600, 200, 100, 1], np.float32)
    t = FaceTable(
        video_id=np.array(["v"] * 9),
        frame_index=np.array([0, 0, 1, 1, 2, 2, 3, 3, 4]),
        embeddings=emb,
        sharpness=sharp,
        descriptor=desc,
    )
    s = ClusterSettings()
    out, chosen = chosen_means(t, 2, ("descriptor",), s)
    assert chosen == 4  # two faces of each kept track; the lone face's track is dropped
    want_a = unit(desc[2].astype(np.float64) + desc[4])  # a's sharpest: 400 and 300
    want_b = unit(desc[5].astype(np.float64) + desc[1])  # b's sharpest: 600 and 500
    assert np.allclose(out.descriptor[[0, 2, 4, 6]], want_a, atol=1e-6)
    assert np.allclose(out.descriptor[[1, 3, 5, 7]], want_b, atol=1e-6)
    assert np.array_equal(out.descriptor[8], desc[8])  # never clustered: left alone
    assert np.array_equal(out.embeddings, t.embeddings)
    assert np.array_equal(t.descriptor, desc)  # the input is not changed


def test_the_block_tables_every_rule_with_its_share_of_faces():
    from bench.per_track import Row

    rows = [
        Row("studio", "every face", 100, 100, 1.0, 0.98, 30, None, None),
        Row("real clips", "faceres on 2 a track", 26, 100, None, None, 33, 0, 0.12),
    ]
    lines = block(rows, 12.0)
    assert "| studio | every face | 100 of 100 (100%) | 1.000 | 0.980 | 30 | - | - |" in lines
    assert (
        "| real clips | faceres on 2 a track | 26 of 100 (26%) | - | - | 33 | 0 | +0.120 |" in lines
    )
