"""The "What works" page's statistics (ingest/stats/creative.py) against scipy on fixed tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ingest.stats import creative as cs


def _table(n: int = 60, seed: int = 7, hook_effect: float = 0.0) -> pd.DataFrame:
    """A fixed table shaped like regression_features."""
    rng = np.random.default_rng(seed)
    hook = rng.integers(0, 2, n)
    people = rng.choice([0, 1, 1, 1, 2, 3], n)
    # a quarter as many leads as videos, each with their own level (the person effect)
    lead_id = np.where(people > 0, rng.integers(0, n // 4, n), -1)
    level = np.append(rng.normal(0, 0.5, n // 4), 0.0)[lead_id]
    lead = np.where(people > 0, 1.5 + level + rng.normal(0, 0.1, n), np.nan)
    score = 1.5 + level + hook_effect * hook + rng.normal(0, 0.3, n)
    return pd.DataFrame(
        {
            "video_id": [f"v{i:03d}" for i in range(n)],
            "performance_score": score,
            "face_in_hook": hook,
            "seconds_to_first_face": np.where(people > 0, rng.uniform(0.5, 6.5, n), np.nan),
            "closeup_share": rng.uniform(0, 1, n).round(1),
            "lead_gaze_share": np.where(people > 0, rng.uniform(0, 1, n), np.nan),
            "cuts_per_10s": rng.uniform(0, 6, n),
            "n_influencers": people,
            "has_known_person": (rng.random(n) < 0.3).astype(int),
            "lead_loo_mean": lead,
            "lead_influencer_id": lead_id,
        }
    )


def test_group_mean_is_the_student_t_interval():
    x = np.array([1.0, 2.5, 3.0, 4.5, 2.0])
    g = cs.group_mean(x, 0.90)
    low, high = stats.t.interval(0.90, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (g.n, g.mean) == (5, pytest.approx(x.mean()))
    assert (g.ci_low, g.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert cs.group_mean([3.0]) == cs.GroupMean(1, 3.0, None, None)
    assert cs.group_mean([]) == cs.GroupMean(0, None, None, None)


def test_welch_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 17), rng.normal(0.4, 2.0, 31)
    c = cs.welch(a, b, 0.90)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.90)
    assert c.difference == pytest.approx(a.mean() - b.mean())
    assert c.p_value == pytest.approx(ref.pvalue)
    assert (c.ci_low, c.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_welch_with_too_few_gives_no_interval():
    c = cs.welch([1.0], [2.0, 3.0])
    assert c.difference == pytest.approx(-1.5) and c.ci_low is None and c.p_value is None


def test_benjamini_hochberg_matches_scipy_and_skips_missing():
    p = [0.01, 0.04, 0.03, 0.5, 0.2, 0.011]
    ours = cs.benjamini_hochberg(p)
    assert ours == pytest.approx(stats.false_discovery_control(p, method="bh").tolist())
    with_missing = cs.benjamini_hochberg([0.01, None, 0.04, float("nan")])
    assert with_missing[1] is None and with_missing[3] is None
    assert [with_missing[0], with_missing[2]] == pytest.approx(
        stats.false_discovery_control([0.01, 0.04]).tolist()
    )


def test_verdict_words():
    assert cs.verdict(0.3, 0.01) == "higher scores"
    assert cs.verdict(-0.3, 0.05) == "lower scores"
    # not under 1 - 0.90: whether the interval rules out an effect worth finding
    assert cs.verdict(0.05, 0.10, interval=(-0.1, 0.2), worth=0.25) == cs.NO_LARGE
    assert cs.verdict(0.05, 0.10, interval=(-0.1, 0.3), worth=0.25) == cs.TOO_FEW_TO_TELL
    assert cs.verdict(0.3, 0.10) == cs.TOO_FEW_TO_TELL
    assert cs.verdict(None, None) == cs.TOO_FEW


def test_thirds_split_on_quantiles_and_leave_nulls_out():
    x = pd.Series([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, np.nan])
    top, bottom, a, b = cs.thirds(x)
    assert bottom.tolist() == [True, True, False, False, False, False, False]
    assert top.tolist() == [False, False, False, False, True, True, False]
    assert (a, b) == ("top third", "bottom third")
    # ties at the top: above the 1/3 quantile instead of an empty group
    top, bottom, _, _ = cs.thirds(pd.Series([0.0, 0.0, 1.0, 1.0, 1.0, 1.0]))
    assert bottom.sum() == 2 and top.sum() == 4
    assert cs.thirds(pd.Series([1.0, 1.0, np.nan])) is None


def test_two_thirds_tied_at_the_top_split_there_with_words_not_nan():
    # The lead looks at the camera in every face of 5 videos of 6 (issue #48's "nan to nan").
    x = pd.Series([0.4, 1.0, 1.0, 1.0, 1.0, 1.0])
    top, bottom, a, b = cs.thirds(x)
    assert top.sum() == 5 and bottom.sum() == 1 and (a, b) == ("the highest value", "below it")
    frame = pd.DataFrame({"lead_gaze_share": x})
    feature = next(f for f in cs.FEATURES if f.column == "lead_gaze_share")
    comparison, label_a, label_b, _, _ = cs.feature_groups(frame, feature)
    assert comparison == "the highest value against the rest"
    assert label_a == "the highest value (1 of the lead's faces)"
    assert label_b == "below it (0.4 of the lead's faces)"
    assert "nan" not in label_a + label_b


def test_comparisons_are_welch_on_each_features_groups():
    frame = _table()
    out = cs.compare_features(frame).set_index("feature")
    assert list(out.index) == [f.column for f in cs.FEATURES]
    y = frame.performance_score
    hook = out.loc["face_in_hook"]
    ref = stats.ttest_ind(y[frame.face_in_hook == 1], y[frame.face_in_hook == 0], equal_var=False)
    assert hook.p_value == pytest.approx(ref.pvalue)
    assert (hook.n_a, hook.n_b) == (
        (frame.face_in_hook == 1).sum(),
        (frame.face_in_hook == 0).sum(),
    )
    cast = out.loc["n_influencers"]
    ref = stats.ttest_ind(y[frame.n_influencers >= 2], y[frame.n_influencers == 1], equal_var=False)
    assert cast.p_value == pytest.approx(ref.pvalue)
    x = frame.cuts_per_10s
    top, bottom = x > x.quantile(2 / 3), x <= x.quantile(1 / 3)
    ref = stats.ttest_ind(y[top], y[bottom], equal_var=False)
    assert out.loc["cuts_per_10s", "p_value"] == pytest.approx(ref.pvalue)
    assert out.loc["cuts_per_10s", "group_a"].startswith("top third (")
    adjusted = stats.false_discovery_control(out.p_value.to_numpy(), method="bh")
    assert out.p_adjusted.to_numpy() == pytest.approx(adjusted)
    assert set(out.verdict) <= set(cs.VERDICTS)


def test_a_planted_effect_is_found_and_none_is_claimed_without_it():
    planted = cs.compare_features(_table(200, seed=11, hook_effect=0.5)).set_index("feature")
    assert planted.loc["face_in_hook", "verdict"] == "higher scores"
    assert planted.loc["face_in_hook", "ci_low"] <= 0.5 <= planted.loc["face_in_hook", "ci_high"]
    # under no effect at all, Benjamini-Hochberg at 0.10 bounds the chance of any claim on a
    # page by 0.10: over 40 tables, 4 expected; 10 or more happens with probability 0.005
    claimed = sum(
        cs.compare_features(_table(200, seed=s))
        .verdict.isin(["higher scores", "lower scores"])
        .any()
        for s in range(100, 140)
    )
    assert claimed <= 9


def test_within_lead_ols_with_one_lead_is_scipy_linregress():
    rng = np.random.default_rng(5)
    x = rng.normal(size=40)
    y = 2.0 - 0.7 * x + rng.normal(0, 0.5, 40)
    fit = cs.within_lead_ols(x[:, None], y, ["a"] * 40)
    ref = stats.linregress(x, y)
    assert fit.coefficients[0] == pytest.approx(ref.slope)
    assert fit.std_errors[0] == pytest.approx(ref.stderr)
    assert fit.dof == 38


def test_within_lead_ols_is_least_squares_with_a_dummy_per_lead():
    rng = np.random.default_rng(6)
    n, leads = 60, rng.integers(0, 7, 60)
    x = rng.normal(size=(n, 3))
    y = rng.normal(0, 1, 7)[leads] + x @ np.array([0.5, -1.0, 0.0]) + rng.normal(0, 0.2, n)
    fit = cs.within_lead_ols(x, y, leads.tolist())
    dummies = (leads[:, None] == np.arange(7)).astype(float)
    design = np.column_stack([x, dummies])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    resid = y - design @ beta
    dof = n - 7 - 3
    cov = resid @ resid / dof * np.linalg.inv(design.T @ design)
    assert fit.dof == dof
    assert fit.coefficients == pytest.approx(beta[:3])
    assert fit.std_errors == pytest.approx(np.sqrt(np.diag(cov))[:3])
    # a column constant within every lead is a lead's intercept: nothing to estimate
    assert cs.within_lead_ols(np.column_stack([x[:, 0], dummies[:, 0]]), y, leads) is None
    assert cs.within_lead_ols(x[:6], y[:6], leads[:6].tolist()) is None  # 6 - 3 leads - 3


def test_a_persons_habit_is_not_credited_with_that_persons_score():
    """No creative effect, but each person has a habit (how much of the time they are in
    close-up) that goes with how well they score: across people the habit looks like an effect,
    within each person's own videos it is not one."""
    rng = np.random.default_rng(12)
    n_people, per = 12, 4
    person = np.repeat(np.arange(n_people), per)
    talent = rng.normal(0, 1, n_people)
    habit = np.clip(0.5 + 0.2 * talent + rng.normal(0, 0.05, n_people), 0, 1)
    frame = _table(n_people * per, seed=13)
    frame["lead_influencer_id"] = person
    frame["n_influencers"] = 1
    frame["closeup_share"] = np.clip(habit[person] + rng.normal(0, 0.1, len(person)), 0, 1)
    frame["performance_score"] = talent[person] + rng.normal(0, 0.3, len(person))
    across = stats.linregress(frame["closeup_share"], frame["performance_score"])
    assert across.pvalue < 0.001  # across people the habit "predicts" the score
    out = cs.adjusted_coefficients(frame).set_index("feature")
    assert (out.verdict != "higher scores").all() and (out.verdict != "lower scores").all()
    assert out.loc["two_or_more_people", "note"].startswith("not estimated: never varies")


def test_adjusted_coefficients_in_score_units():
    frame = _table(300, seed=2, hook_effect=0.4)
    out = cs.adjusted_coefficients(frame).set_index("feature")
    assert list(out.index) == list(cs.COEFFICIENT_FEATURES)
    hook = out.loc["face_in_hook"]
    # score units: the planted 0.4 within three standard errors (a 90% interval misses 1 in 10)
    assert abs(hook.coefficient - 0.4) < 3 * hook.std_error and hook.verdict == "higher scores"
    n_groups = frame["lead_influencer_id"].nunique()  # the leads and the videos with nobody
    assert hook.ci_high - hook.coefficient == pytest.approx(
        stats.t.ppf(0.95, 300 - n_groups - 6) * hook.std_error
    )
    frame["has_known_person"] = 0
    out = cs.adjusted_coefficients(frame).set_index("feature")
    assert pd.isna(out.loc["has_known_person", "coefficient"])
    assert out.loc["has_known_person", "verdict"] == cs.TOO_FEW


def test_the_detectable_effect_is_called_as_often_as_promised():
    """At the detectable effect, a test at the page's cut-off for one effect among n_tests
    (0.10 / n_tests) calls it 8 times in 10: checked by simulation, not by the formula."""
    rng = np.random.default_rng(21)
    n_a, n_b, sd, n_tests = 20, 30, 1.0, 7
    se = sd * np.sqrt(1 / n_a + 1 / n_b)
    c = cs.welch(rng.normal(0, sd, n_a), rng.normal(0, sd, n_b))
    det = cs.detectable_effect(se, c.dof, n_tests)
    called = np.mean(
        [
            stats.ttest_ind(rng.normal(det, sd, n_a), rng.normal(0, sd, n_b)).pvalue
            < 0.10 / n_tests
            for _ in range(2000)
        ]
    )
    assert called == pytest.approx(cs.POWER, abs=0.04)
    assert cs.detectable_effect(None, 10, 7) is None


def test_videos_needed_shrinks_the_standard_error_to_the_effect_worth_finding():
    # at the needed count, (z at the cut-off + z at the power) standard errors are the worth;
    # the standard error goes as 1 / sqrt(n): four times the videos halve it
    z = stats.norm.ppf(1 - 0.10 / 14) + stats.norm.ppf(0.80)
    se = 0.3 / z  # already enough: 40 videos
    assert cs.videos_needed(se, 0.3, 40, 7) == 40
    assert cs.videos_needed(2 * se, 0.3, 40, 7) == 160
    assert cs.videos_needed(2.02 * se, 0.3, 40, 7) == 170  # rounded up to ten
    said = cs.finding(cs.TOO_FEW_TO_TELL, 0.1, (-0.5, 0.7), 1_600, 0.3)
    assert said == "too few videos to tell: about 1,600 would show ±0.30"
    far = cs.finding(cs.TOO_FEW_TO_TELL, 0.1, (-9.0, 9.0), 568_000, 0.3)
    assert far.endswith("over 10,000 would show ±0.30")
    assert cs.finding(cs.NO_LARGE, 0.02, (-0.12, 0.16), None, 0.3) == "no effect larger than ±0.16"


def test_each_comparison_says_what_it_could_have_found():
    small = cs.compare_features(_table(40, seed=3)).set_index("feature")
    large = cs.compare_features(_table(2000, seed=3)).set_index("feature")
    hook_small, hook_large = small.loc["face_in_hook"], large.loc["face_in_hook"]
    # more videos, a smaller effect the data can show
    assert hook_large.detectable_effect < hook_small.detectable_effect / 4
    assert hook_small.verdict == cs.TOO_FEW_TO_TELL
    assert hook_small.finding.startswith("too few videos to tell: about ")
    assert hook_small.videos_needed > 40
    assert hook_large.verdict == cs.NO_LARGE
    bound = max(abs(hook_large.ci_low), abs(hook_large.ci_high))
    assert bound <= hook_large.worth_finding  # the interval rules a large effect out
    assert hook_large.finding == f"no effect larger than ±{bound:.2f}"
    assert pd.isna(hook_large.videos_needed)
    for table in (small, large):
        text = " ".join(table.finding)
        assert "nan" not in text and "None" not in text, text


def test_a_row_without_a_test_says_why():
    frame = _table(40, seed=3)
    frame["closeup_share"] = 0.5
    frame["lead_gaze_share"] = np.nan
    frame["has_known_person"] = 0
    frame.loc[frame.index[0], "has_known_person"] = 1
    out = cs.compare_features(frame).set_index("feature")
    assert out.loc["closeup_share", "finding"] == "not compared: every video has the same value"
    assert out.loc["lead_gaze_share", "finding"] == "not compared: no video has a value"
    assert out.loc["has_known_person", "finding"] == "too few videos to compare: 1 against 39"
    coef = cs.adjusted_coefficients(frame).set_index("feature")
    assert coef.loc["closeup_share", "finding"].startswith("not estimated: never varies")
    assert out.worth_finding.tolist() == pytest.approx([0.5 * frame.performance_score.std()] * 7)
