"""How the bench judges "Check these" (bench/suggestions.py) against a known truth."""

from __future__ import annotations

import numpy as np

from bench.suggestions import judge
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
