import pytest

from bench.metrics import bcubed, pairwise_f, video_level


def test_bcubed_perfect():
    assert bcubed(["a", "a", "b"], [1, 1, 2]) == (1.0, 1.0, 1.0)


def test_bcubed_all_merged_has_low_precision():
    p, r, f = bcubed(["a", "a", "b", "b"], [1, 1, 1, 1])
    assert p == pytest.approx(0.5) and r == 1.0 and f == pytest.approx(2 / 3)


def test_unassigned_faces_count_as_singletons():
    p, r, _ = bcubed(["a", "a"], [-1, -1])
    assert p == 1.0 and r == pytest.approx(0.5)


def test_pairwise_f():
    assert pairwise_f(["a", "a", "b", "b"], [1, 1, 2, 2]) == 1.0
    assert pairwise_f(["a", "a", "b", "b"], [1, 2, 3, 4]) == 0.0


def test_video_level_exact_sets_and_score_error():
    truth = ["a", "a", "b", "b"]
    pred = [1, 1, 1, 2]  # b's first face was merged into a's cluster
    videos = ["v1", "v2", "v3", "v4"]
    true_videos = {"a": {"v1", "v2"}, "b": {"v3", "v4"}}
    scores = {"v1": 1.0, "v2": 3.0, "v3": 5.0, "v4": 7.0}
    exact, mae, missed = video_level(truth, pred, videos, true_videos, scores)
    # a -> cluster 1 = {v1, v2, v3}: wrong set, avg 3 vs 2; b -> tie (1 or 2), cluster 1 first
    assert exact == 0.0 and missed == 0
    assert mae == pytest.approx((1.0 + 3.0) / 2)
