"""The rule `make bench-blur` uses to derive ClusterSettings.min_track_sharpness."""

import numpy as np

from bench.blur import derive_threshold, false_match_rate


def test_threshold_is_interpolated_where_the_rate_doubles():
    sharp = [400.0, 200.0, 60.0, 40.0]
    rates = [0.005, 0.006, 0.009, 0.012]  # doubles (0.010) a third of the way from 60 to 40
    assert np.isclose(derive_threshold(sharp, rates, 2.0), 60 - 20 / 3)
    assert derive_threshold(sharp, rates, 3.0) is None  # never reaches 0.015


def test_false_match_rate_counts_only_different_people_closer_than_tau():
    x = np.array([[1, 0], [1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    labels = np.array(["a", "a", "b", "c"])
    # different-person distances: a-b 0.2 (twice), a-c 1 (twice), b-c 0.4; each pair counted
    # in both orders: 10 ordered pairs, 4 under 0.3
    assert np.isclose(false_match_rate(x, labels, 0.3), 0.4)
