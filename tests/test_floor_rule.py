"""The rules `make bench` calibrates by: the face-size floor (DetectionSettings.min_face_px),
the stage-2 clustering settings and the faceres veto."""

import dataclasses

import numpy as np
import pandas as pd

from bench.calibration import (
    FLOORS,
    brake_variants,
    lowest_floor,
    pick_floor,
    pick_setting,
    pick_track,
    pick_veto,
    rule_line,
    sweep_one,
)
from bench.corpora import at_floor
from bench.metrics import Report
from ingest.people.cluster import FaceTable
from ingest.settings import Settings


def test_pick_floor_takes_the_best_f_then_the_lowest_score_error_then_the_largest_floor():
    assert pick_floor([(0.9900, 0.01, 40.0), (0.9901, 0.01, 50.0), (0.9874, 0.01, 60.0)]) == 50.0
    # 0.9904 beats 0.9896 unrounded, but both read 0.990: the larger floor
    assert pick_floor([(0.9904, 0.01, 40.0), (0.9896, 0.01, 50.0)]) == 50.0
    # 0.98996 and 0.99004 both read 0.990: a tie, so the larger floor
    assert pick_floor([(0.99004, 0.01, 40.0), (0.98996, 0.01, 45.0), (0.985, 0.01, 60.0)]) == 45.0
    assert pick_floor([(0.970, 0.01, 40.0), (0.985, 0.01, 60.0)]) == 60.0
    assert pick_floor([(0.991, 0.02, 40.0), (0.990, 0.01, 50.0)]) == 40.0  # F comes first
    # F ties (0.991): the lower score error wins over the larger floor; 0.0136 and 0.0141
    # both read 0.014, so between those the larger floor
    assert (
        pick_floor([(0.9906, 0.0136, 40.0), (0.9906, 0.0141, 50.0), (0.9906, 0.0148, 60.0)]) == 50.0
    )


def test_calibration_extracts_at_or_below_every_floor_it_compares():
    base = Settings()
    assert lowest_floor(base) == min(FLOORS) <= base.detection.min_face_px
    low = dataclasses.replace(base, detection=dataclasses.replace(base.detection, min_face_px=30.0))
    assert lowest_floor(low) == 30.0


def test_at_floor_keeps_faces_whose_shorter_side_reaches_the_floor():
    df = pd.DataFrame(
        {
            "x1": [0, 0, 0],
            "y1": [0, 0, 0],
            "x2": [80, 50, 49.5],
            "y2": [50, 90, 90],
            "source_url": ["a", "b", "c"],
        }
    )
    table = FaceTable(
        np.array(["a", "b", "c"]),
        np.array([0, 1, 2]),
        np.eye(3, dtype=np.float32),
        np.array([100, 20, 300], np.float32),
    )
    d, t = at_floor(df, table, 50.0)
    assert list(d.source_url) == ["a", "b"]  # shorter sides 50, 50, 49.5
    assert list(t.video_id) == ["a", "b"] and list(t.sharpness) == [100, 20]
    assert t.embeddings.shape == (2, 3) and np.array_equal(t.embeddings, np.eye(3)[:2])


def test_pick_setting_takes_the_best_f_then_the_lowest_threshold_then_the_largest_ratio():
    inf = float("inf")
    assert pick_setting(
        [(0.990, (0.56, 1.6, 0.3)), (0.990, (0.6, 1.6, 0.3)), (0.987, (0.5, 1.6, 0.3))]
    ) == (0.56, 1.6, 0.3)
    assert pick_setting(
        [(0.990, (0.56, 1.5, 0.3)), (0.990, (0.56, 1.6, 0.25)), (0.990, (0.56, 1.6, 0.3))]
    ) == (0.56, 1.6, 0.3)
    assert pick_setting([(0.9801, (0.6, inf, 0.3)), (0.9800, (0.5, 1.6, 0.3))]) == (0.5, 1.6, 0.3)
    assert pick_setting([(0.9811, (0.6, inf, 0.3)), (0.9800, (0.5, 1.6, 0.3))]) == (0.6, inf, 0.3)


def test_brake_variants_take_each_rule_away_from_the_defaults():
    cs = Settings().cluster
    rows = brake_variants(cs)
    (name0, d), (_, no_veto), (_, no_ratio), (name, within), (rname, ratio), (_, neither) = rows
    assert d == cs and cs.faceres_veto > 0 and cs.merge_within_video
    assert not cs.ratio_test_within_video
    assert no_veto == dataclasses.replace(cs, faceres_veto=0.0)
    assert no_ratio == dataclasses.replace(cs, merge_ratio=float("inf"))
    assert within == dataclasses.replace(cs, merge_within_video=False)
    assert name == "with no merges within a video" and "without the ratio test" in name0
    assert ratio == dataclasses.replace(cs, ratio_test_within_video=True)
    assert rname == "with merges within a video, ratio test too"
    assert neither == dataclasses.replace(cs, faceres_veto=0.0, merge_ratio=float("inf"))
    # Where no merges within a video is the setting, the row flips it the other way.
    apart = dataclasses.replace(cs, merge_within_video=False)
    (name0, _), _, _, (name, flipped), *_ = brake_variants(apart)
    assert flipped == cs and name.startswith("with merges within a video")
    assert "no merges" in name0


def test_pick_veto_takes_the_best_f_then_the_lowest_score_error_then_the_loosest_veto():
    assert pick_veto([(0.990, 0.01, 0.0), (0.9915, 0.01, 0.7), (0.989, 0.01, 0.75)]) == 0.7
    assert (
        pick_veto([(0.9912, 0.01, 0.65), (0.9908, 0.01, 0.7), (0.980, 0.01, 0.6)]) == 0.7
    )  # both 0.991: looser
    assert pick_veto([(0.990, 0.01, 0.0), (0.9904, 0.01, 0.8)]) == 0.0  # a tie with off: off
    assert pick_veto([(0.985, 0.01, 0.0), (0.990, 0.02, 0.6)]) == 0.6
    assert pick_veto([(0.990, 0.02, 0.0), (0.990, 0.01, 0.7)]) == 0.7  # F ties: lower error


def test_at_floor_keeps_ages_aligned():
    df = pd.DataFrame(
        {"x1": [0, 0], "y1": [0, 0], "x2": [80, 40], "y2": [80, 40], "source_url": ["a", "b"]}
    )
    table = FaceTable(
        np.array(["a", "b"]),
        np.array([0, 1]),
        np.eye(2, dtype=np.float32),
        np.array([100, 20], np.float32),
        np.array([30, 60], np.float32),
    )
    assert list(at_floor(df, table, 50.0)[1].age) == [30]


def test_population_mean_averages_track_centroids_not_faces():
    """Video a: one person in 3 frames; video b: one person in 1 frame (a one-face track,
    dropped). The mean is over kept tracks, each its normalised centroid: a's alone."""
    from bench.population_mean import track_mean
    from ingest.settings import ClusterSettings

    emb = np.tile(np.eye(4, dtype=np.float32)[:1], (4, 1))
    vecs = np.array([[3, 0], [3, 0], [0, 3], [0, 1]], np.float32)  # a's centroid: (6, 3) / |.|
    vids, frames = np.array(["a", "a", "a", "b"]), np.array([0, 1, 2, 0])
    sharp = np.full(4, 100.0, np.float32)
    s = ClusterSettings(min_track_faces=2)
    m = track_mean(FaceTable(vids, frames, emb, sharp, descriptor=vecs), s)
    assert np.allclose(m, np.array([6, 3]) / np.hypot(6, 3), atol=1e-6)


def test_rule_line_says_whether_the_default_still_holds():
    assert rule_line("50 px", "50", True) == "The rule picks 50 px, the default."
    assert rule_line("0.65", "0.7", False) == (
        "The rule picks 0.65; the default is 0.7: re-calibrate ingest/settings.py."
    )
    assert rule_line("(1, 2)", "(1, 3)", False, plural=True).endswith(
        "the defaults are (1, 3): re-calibrate ingest/settings.py."
    )


def test_pick_track_takes_the_best_f_then_the_lowest_score_error_then_the_strictest():
    assert pick_track([(0.990, 0.01, 0.5), (0.9904, 0.01, 0.55), (0.985, 0.01, 0.6)]) == 0.5
    assert pick_track([(0.990, 0.01, 0.5), (0.9914, 0.01, 0.55)]) == 0.55
    assert pick_track([(0.990, 0.02, 0.6), (0.990, 0.01, 0.5)]) == 0.5  # F ties: lower error
    assert pick_track([(0.9952, 0.005, 0.25), (0.9951, 0.005, 0.3)]) == 0.25  # then strictest


def rep(p: float, r: float, mae: float = 0.01) -> Report:
    return Report(p, r, 2 * p * r / (p + r), 0.9, 100, 30, 30, 0, 0.9, mae, 0, 0, 85)


def test_sweep_one_scores_every_value_and_says_what_the_rule_picks(capsys):
    scores = {0.4: rep(0.95, 1.0), 0.5: rep(0.99, 0.99), 0.6: rep(1.0, 0.9)}
    sweep = sweep_one(
        (0.4, 0.5, 0.6), 0.5, lambda t: f"{t:g}", pick_track, lambda t: [scores[t], scores[t]]
    )
    assert [r.name for r in sweep.rows] == ["0.4", "0.5 (default)", "0.6"]
    assert sweep.rows[1].reports == [scores[0.5]] * 2
    assert sweep.rows[1].score == max(r.score for r in sweep.rows)
    assert sweep.verdict == "The rule picks 0.5, the default."
    assert capsys.readouterr().out == sweep.verdict + "\n"
    # precision weighs double: 1.0 / 0.9 beats 0.95 / 1.0
    off = sweep_one((0.4, 0.6), 0.4, lambda t: f"{t:g}", pick_track, lambda t: [scores[t]], " px")
    assert (
        off.verdict == "The rule picks 0.6 px; the default is 0.4: re-calibrate ingest/settings.py."
    )


def test_an_opt_in_embedders_pick_prefers_fewer_rules_then_stricter_thresholds():
    from bench.calibration import pick_embedder_setting

    inf = float("inf")
    # best score to 3 decimals wins outright
    assert pick_embedder_setting([(0.9981, (0.5, 0.8, 2.0)), (0.9970, (0.4, 0.75, inf))]) == (
        0.5,
        0.8,
        2.0,
    )
    # ties: no ratio test first, then the lower stage-2 threshold, then the lower stage 1
    tied = [(0.9979, (0.4, 0.75, 2.0)), (0.9976, (0.55, 0.75, inf)), (0.9980, (0.4, 0.8, inf))]
    assert pick_embedder_setting(tied) == (0.55, 0.75, inf)
    assert pick_embedder_setting([*tied, (0.9978, (0.4, 0.75, inf))]) == (0.4, 0.75, inf)
