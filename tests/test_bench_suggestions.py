"""How the bench judges "Check these" (bench/suggestions.py) against a known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.corpora import CorpusFaces
from bench.suggestions import judge, planted_short_tracks
from ingest.people.cluster import Clustering, FaceTable
from ingest.people.review import Candidate


def _same(a: int, b: int) -> Candidate:
    return Candidate("same_person", a, b, None, 0.5, None, 0, "ratio", 1)


def _two(a: int, video: str) -> Candidate:
    return Candidate("two_people", a, None, video, 0.5, None, 0, None, 1)


def test_fragments_listed_merges_applied_and_crowds_not_judged():
    # Ann is split three ways (1 largest, 2 and 3 fragments), Bob is one influencer that took
    # Cid's faces in video v4, and influencer 6 is a crowd nobody knows
    cluster_id = np.array([1, 1, 1, 2, 2, 3, 4, 4, 4, 4, 6, 6, -1])
    video_id = np.array(
        ["v1", "v1", "v2", "v3", "v3", "v5", "v1", "v2", "v4", "v4", "v6", "v6", "v6"]
    )
    labels = np.array(
        ["Ann", "Ann", "Ann", "Ann", "Ann", "Ann", "Bob", "Bob", "Cid", "Cid", None, None, None],
        dtype=object,
    )
    found = [_same(1, 2), _same(2, 4), _same(6, 1), _two(4, "v4"), _two(1, "v2")]
    j = judge(found, cluster_id, video_id, labels)
    assert (j.n_fragments, j.n_listed) == (2, 1)  # 3 is not listed
    assert (j.n_true, j.n_false, j.n_unjudged) == (2, 2, 1)  # 1+2 and v4 right; 2+4, 1/v2 wrong
    assert j.wrong == {(4, "v4")} and j.flagged == {(4, "v4")}
    # Ann's 3 and Bob: 4 influencers of known people, 2 people; merging 1+2 leaves 3
    assert (j.n_influencers, j.n_people, j.n_after) == (4, 2, 3)
    everything = judge([_same(1, 2), _same(3, 2)], cluster_id, video_id, labels)
    assert everything.n_listed == 2 and everything.n_after == everything.n_people


def test_short_tracks_planted_nearest_first_never_in_the_hosts_videos():
    """Issue #50: each large influencer, largest first, gets the nearest short track (at most
    SHORT_TRACK_FACES faces) of another person from a video it is not in; a track is planted
    once."""
    tracks = [  # (influencer, track id, faces, direction, person)
        (1, "v1:0", 4, (1.0, 0.0, 0.0), "Ann"),
        (1, "v2:0", 4, (1.0, 0.05, 0.0), "Ann"),
        (2, "v3:0", 2, (0.8, 0.6, 0.0), "Bob"),
        (2, "v1:1", 2, (0.9, 0.43, 0.0), "Bob"),  # nearest to Ann, but in Ann's video
        (2, "v4:0", 3, (0.0, 1.0, 0.0), "Bob"),  # too long
        (3, "v5:0", 1, (0.5, 0.0, 0.86), "Cid"),
        (3, "v6:0", 3, (0.0, 0.0, 1.0), "Cid"),
    ]
    rows = [(k, t, d, p) for k, t, n, d, p in tracks for _ in range(n)]
    emb = np.array([d for _, _, d, _ in rows], dtype=np.float32)
    table = FaceTable(
        video_id=np.array([t.split(":")[0] for _, t, _, _ in rows]),
        frame_index=np.arange(len(rows)),
        embeddings=emb / np.linalg.norm(emb, axis=1, keepdims=True),
    )
    clustering = Clustering(
        cluster_id=np.array([k for k, _, _, _ in rows]),
        track_id=np.array([t for _, t, _, _ in rows], dtype=object),
        centroid_similarity=np.ones(len(rows)),
    )
    labels = np.array([p for _, _, _, p in rows], dtype=object)
    c = CorpusFaces(Path("."), None, table)
    got = [
        (host, set(clustering.track_id[r]))
        for host, r in planted_short_tracks(c, clustering, labels)
    ]
    assert got == [(1, {"v3:0"}), (2, {"v5:0"}), (3, {"v1:1"})]
