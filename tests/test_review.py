"""ingest.people.review: the "Check these" suggestions, on small made-up embeddings."""

from __future__ import annotations

import itertools

import numpy as np

from ingest.people.cluster import (
    Clustering,
    FaceTable,
    center,
    cluster_faces,
    cosine_distances,
)
from ingest.people.review import (
    linkage_distances,
    review_candidates,
    spreads,
    track_view,
)
from ingest.settings import ClusterSettings, ReviewSettings

D = 32


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_linkage_distances_are_mean_pairwise_distances():
    rng = np.random.default_rng(0)
    x = _unit(rng.normal(size=(9, 6))).astype(np.float64)
    lab = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    sums = np.stack([x[lab == k].sum(axis=0) for k in range(3)])
    counts = np.bincount(lab).astype(float)
    d = cosine_distances(x.astype(np.float32))
    got = linkage_distances(sums, counts)
    for a, b in itertools.combinations(range(3), 2):
        assert np.isclose(got[a, b], d[np.ix_(lab == a, lab == b)].mean())
    # spread: mean distance between a group's members, shrunk toward the prior
    prior, w = 0.2, 1.0
    sp = spreads(sums, counts, prior, w)
    for k in range(3):
        m = np.flatnonzero(lab == k)
        pairs = [d[i, j] for i, j in itertools.combinations(m, 2)]
        assert np.isclose(sp[k], (sum(pairs) + w * prior) / (len(pairs) + w))


def _faces(specs: list[tuple[str, int, np.ndarray]]) -> FaceTable:
    """One face per (video, frame, embedding)."""
    return FaceTable(
        video_id=np.array([v for v, _, _ in specs]),
        frame_index=np.array([f for _, f, _ in specs], dtype=np.int64),
        embeddings=np.stack([e for _, _, e in specs]).astype(np.float32),
    )


def _clustering(cluster_id: list[int], track: list[str]) -> Clustering:
    return Clustering(
        np.array(cluster_id, dtype=np.int64),
        np.array(track, dtype=object),
        np.full(len(cluster_id), np.nan),
    )


S = ClusterSettings(cluster_threshold=0.2, center=False, faceres_veto=0.0)
R = ReviewSettings(same_band=0.05, fragment_band=0.3, split_cut=0.6, max_per_person=0)


def test_fragments_of_one_video_are_listed_and_two_on_one_frame_never():
    rng = np.random.default_rng(1)
    me = rng.normal(size=D)
    # Influencer 1 in videos a, b; influencer 2 a second look of the same person, in video a
    # at other frames: past the same-person band, inside the fragment band.
    look = _unit(me + 0.9 * rng.normal(size=D))
    specs = [("a", f, _unit(me + 0.2 * rng.normal(size=D))) for f in range(3)]
    specs += [("b", f, _unit(me + 0.2 * rng.normal(size=D))) for f in range(3)]
    specs += [("a", f, _unit(look + 0.1 * rng.normal(size=D))) for f in range(5, 8)]
    faces = _faces(specs)
    c = _clustering([1] * 6 + [2] * 3, ["a:0"] * 3 + ["b:1"] * 3 + ["a:2"] * 3)
    tracks = track_view(faces, c, S)
    lab = tracks.influencer
    d = linkage_distances(
        np.stack([tracks.vectors[lab == k].sum(axis=0) for k in (1, 2)]),
        np.array([(lab == 1).sum(), (lab == 2).sum()], dtype=float),
    )[0, 1]
    assert S.cluster_threshold + R.same_band < d <= S.cluster_threshold + R.fragment_band
    [got] = review_candidates(faces, c, S, R)
    assert (got.kind, got.influencer_id, got.other_id, got.n_shared_videos) == (
        "same_person",
        1,
        2,
        1,
    )
    assert got.kept_apart_by == "threshold" and np.isclose(got.distance, d)
    # Not sharing a video, the same distance is outside the narrower band: not listed.
    apart = FaceTable(
        np.array(["a"] * 3 + ["b"] * 3 + ["c"] * 3), faces.frame_index, faces.embeddings
    )
    c_apart = _clustering([1] * 6 + [2] * 3, ["a:0"] * 3 + ["b:1"] * 3 + ["c:2"] * 3)
    assert review_candidates(apart, c_apart, S, R) == []
    # On screen in one frame: two people, never suggested.
    together = FaceTable(faces.video_id, np.array([0, 1, 2, 0, 1, 2, 2, 6, 7]), faces.embeddings)
    assert review_candidates(together, c, S, R) == []
    # A hand split between them is an answer: not suggested again.
    split = (np.arange(6, 9), np.arange(0, 6))
    assert review_candidates(faces, c, S, R, cannot_link=[split]) == []


def test_a_stranger_merged_in_is_flagged_by_its_video():
    rng = np.random.default_rng(2)
    me, stranger = rng.normal(size=D), rng.normal(size=D)
    specs, cid, track = [], [], []
    for k, (vid, who) in enumerate(
        [("v1", me), ("v2", me), ("v3", me), ("v4", me), ("x", stranger)]
    ):
        for f in range(3):
            specs.append((vid, f, _unit(who + 0.2 * rng.normal(size=D))))
            cid.append(1)
            track.append(f"{vid}:{k}")
    faces = _faces(specs)
    c = _clustering(cid, track)
    got = review_candidates(faces, c, S, R)
    assert [(g.kind, g.influencer_id, g.video_id, g.rank) for g in got] == [
        ("two_people", 1, "x", 1)
    ]
    # A hand merge tying that video to the rest is an answer.
    assert review_candidates(faces, c, S, R, tied=[np.arange(len(cid))]) == []


def test_track_view_sees_the_distances_stage_two_merged_on():
    """Without the ratio test and the veto, stage 2 stops when every pair of groups is farther
    apart than the threshold or cannot merge (one frame): the review's distances say so too,
    with centring on a population prior as ingest clusters."""
    rng = np.random.default_rng(3)
    people = [rng.normal(size=D) for _ in range(6)]
    specs = []
    for v in range(24):
        who = people[v % 6]
        look = who + 0.6 * rng.normal(size=D)
        specs += [(f"v{v:02d}", f, _unit(look + 0.15 * rng.normal(size=D))) for f in range(3)]
    faces = _faces(specs)
    prior = _unit(rng.normal(size=D))
    s = ClusterSettings(merge_ratio=np.inf, faceres_veto=0.0, min_cluster_faces=1)
    c = cluster_faces(faces, s, prior_mean=prior)
    tracks = track_view(faces, c, s, prior_mean=prior)
    ids = np.unique(tracks.influencer[tracks.influencer >= 1])
    sums = np.stack([tracks.vectors[tracks.influencer == k].sum(axis=0) for k in ids])
    counts = np.array([(tracks.influencer == k).sum() for k in ids], dtype=float)
    d = linkage_distances(sums, counts)
    assert len(ids) > 1
    assert (d[np.triu_indices(len(ids), 1)] > s.cluster_threshold).all()
    # and the centring is stage 2's: the per-track vectors are the centred track centroids
    raw = _unit(np.stack([faces.embeddings[3 * k : 3 * k + 3].sum(axis=0) for k in range(24)]))
    assert np.allclose(np.sort(tracks.vectors, axis=0), np.sort(center(raw, prior, 20.0), axis=0))


def test_nothing_to_review_on_an_empty_or_unassigned_clustering():
    faces = _faces([("a", 0, _unit(np.ones(D)))])
    assert review_candidates(faces, _clustering([-1], [None]), S, R) == []
    empty = FaceTable(np.zeros(0, str), np.zeros(0, np.int64), np.zeros((0, D), np.float32))
    assert review_candidates(empty, _clustering([], []), S, R) == []


def test_close_pairs_match_the_full_matrix_in_any_chunking():
    from ingest.people.review import close_pairs

    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 8))
    sums = x / np.linalg.norm(x, axis=1, keepdims=True) * rng.integers(1, 4, size=(40, 1))
    counts = rng.integers(1, 4, size=40).astype(float)
    full = linkage_distances(sums, counts)
    want = {(i, j) for i, j in zip(*np.nonzero(np.triu(full <= 0.9, 1)))}
    for rows in (1, 7, 40, 1000):
        i, j, d = close_pairs(sums, counts, 0.9, rows)
        assert set(zip(i.tolist(), j.tolist())) == want
        assert np.allclose(d, full[i, j])
