"""bench/phone_parts.py: how far FaceNet links one person across videos, and its table."""

import datetime as dt

import numpy as np

from bench.floors import FloorRow
from bench.metrics import Report
from bench.phone_parts import FLOORS, Linkability, PartRow, block, linkability


def unit(rows):
    rows = np.asarray(rows, np.float64)
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_linkability_counts_pairs_across_videos_only():
    """Person a in three videos, b in two; one of a's tracks has drifted away. Pairs inside a
    video (a and b side by side in v1) are not counted, however alike."""
    rng = np.random.default_rng(0)
    a, b = np.eye(32)[:2]  # strangers: cosine about 0
    emb = unit(
        [
            a + 0.1 * rng.normal(size=32),  # v1
            a + 0.1 * rng.normal(size=32),  # v2
            -a + 0.1 * rng.normal(size=32),  # v3: drifted, further from a than a stranger is
            b + 0.1 * rng.normal(size=32),  # v4
            b + 0.1 * rng.normal(size=32),  # v1, beside a
        ]
    )
    video = np.array(["v1", "v2", "v3", "v4", "v1"])
    person = np.array(["a", "a", "a", "b", "b"])
    got = linkability(emb, video, person, np.zeros(5, np.int64))
    sim = emb @ emb.T
    same = [sim[0, 1], sim[0, 2], sim[1, 2], sim[3, 4]]
    strangers = [sim[0, 3], sim[1, 3], sim[1, 4], sim[2, 3], sim[2, 4]]  # not (0, 4): one video
    assert got.n_same == 4
    assert np.isclose(got.same_median, np.median(same))
    assert np.isclose(got.strangers_line, np.quantile(strangers, 0.999))
    assert got.share_above == np.mean(np.array(same) > got.strangers_line)
    assert got.share_above == 0.5  # the drifted track's two pairs fall under the line


def test_linkability_pairs_tracks_of_one_corpus_only():
    """Two seeds draw the same person's photos: across corpora that is one face twice, not a
    stranger, and not a pair of one person that clustering could ever link."""
    rng = np.random.default_rng(1)
    a, b = np.eye(16)[:2]
    emb = unit([a + 0.05 * rng.normal(size=16) for _ in range(2)] + [b, a])
    video = np.array(["v1", "v2", "v3", "v1"])
    person = np.array(["a", "a", "b", "c"])  # c: another person of corpus 1, who looks like a
    one = linkability(emb, video, person, np.array([0, 0, 0, 1]))
    assert one.n_same == 1 and one.strangers_line < 0.5  # (a, c) is no pair
    both = linkability(emb, video, person, np.zeros(4, np.int64))
    assert both.strangers_line > 0.9  # c paired with a's tracks as a stranger


def _report(p, r, missed, people, err):
    return Report(
        bcubed_p=p,
        bcubed_r=r,
        bcubed_f=0.0,
        pairwise_f=0.0,
        n_faces_labelled=10,
        n_people=people,
        n_influencers=1,
        n_unnamed_clusters=0,
        exact_video_sets=0.0,
        score_mae=err,
        n_people_missed=missed,
        videos_person_no_face=0,
        n_videos_with_people=10,
    )


def test_the_block_gives_each_footage_a_row_per_floor():
    row = PartRow(
        "no motion blur",
        [
            FloorRow(FLOORS[0], [_report(0.99, 0.6, 2, 25, 0.04)]),
            FloorRow(FLOORS[1], [_report(1.0, 0.5, 19, 25, float("nan"))]),
        ],
        Linkability(0.52, 0.62, 0.32, 300),
        41.0,
    )
    lines = block([row], (501,), dt.datetime(2026, 12, 8), 600.0)
    assert (
        "| no motion blur | 41 | 0.52 | 0.62 | 32% | 30 | 0.990 | 0.600 | 2 of 25 | 0.040 |"
        in lines
    )
    assert "| | | | | | 50 | 1.000 | 0.500 | 19 of 25 | no person found |" in lines
    assert "10 min wall time" in lines[2]
