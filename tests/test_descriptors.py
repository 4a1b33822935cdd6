"""The descriptor comparison's pure functions (bench/descriptors.py)."""

import numpy as np
import pytest

from bench.descriptors import (
    TrackPairs,
    false_match_rate,
    pair_auc,
    table_rows,
    track_pairs,
    with_combined,
)
from ingest.people.cluster import FaceTable
from ingest.settings import ClusterSettings


def test_pair_auc_is_one_when_every_stranger_pair_is_farther_and_counts_ties_half():
    same = np.array([True, True, False, False])
    assert pair_auc(np.array([0.1, 0.2, 0.5, 0.6]), same) == 1.0
    assert pair_auc(np.array([0.5, 0.6, 0.1, 0.2]), same) == 0.0
    # stranger 0.2 ties one same pair (0.2) and beats the other (0.1): (1 + 0.5 + 2) / 4
    assert pair_auc(np.array([0.1, 0.2, 0.2, 0.6]), same) == pytest.approx(3.5 / 4)
    assert np.isnan(pair_auc(np.array([0.1]), np.array([True])))


def test_false_match_rate_counts_strangers_within_the_same_person_quantile():
    same = np.array([True] * 20 + [False] * 4)
    dist = np.concatenate([np.linspace(0.1, 0.5, 20), [0.3, 0.45, 0.6, 0.9]])
    # the same-person 95th percentile is 0.48: two of the four strangers sit under it
    assert false_match_rate(dist, same) == 0.5
    assert false_match_rate(dist, same, q=0.0) == 0.0


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_track_pairs_pairs_named_tracks_of_different_videos_only():
    emb = np.stack(
        [
            _unit([1, 0, 0]),
            _unit([1, 0.1, 0]),
            _unit([0, 1, 0]),
            _unit([1, 0, 0.1]),
            _unit([0, 0, 1]),
        ]
    )
    table = FaceTable(
        video_id=np.array(["a", "a", "a", "b", "b"]),
        frame_index=np.zeros(5, np.int64),
        embeddings=emb,
    )
    # tracks: a:0 (ann, 2 faces), a:1 (bob), b:2 (ann), b:3 (nobody named)
    tid = ["a:0", "a:0", "a:1", "b:2", "b:3"]
    ident = ["ann", "ann", "bob", "ann", None]
    p = track_pairs(tid, ident, table, {"dlib": None}, prior_weight=0.0)
    # cross-video named pairs: (a:0, b:2) ann-ann and (a:1, b:2) bob-ann; a:0-a:1 share a video
    assert list(p.same) == [True, False]
    assert set(p.dist) == {"dlib"}
    assert p.dist["dlib"][0] < p.dist["dlib"][1]


def test_both_is_the_larger_distance_in_units_of_each_limit():
    s = ClusterSettings(cluster_threshold=0.5, faceres_veto=0.8)
    p = TrackPairs(
        same=np.array([True, False]),
        dist={"dlib": np.array([0.25, 0.4]), "faceres": np.array([0.6, 0.2])},
    )
    both = with_combined(p, s)["both (stage 2)"]
    assert both == pytest.approx([0.75, 0.8])
    assert "both (stage 2)" not in with_combined(p, ClusterSettings(faceres_veto=0.0))
    rows = table_rows([p], s)
    assert rows[0] == "| dlib | 1.0000 | 0.00% |" and len(rows) == 3
