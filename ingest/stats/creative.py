"""What in a video goes with a better score: the "What works" page's statistics.

Pure functions over numpy / pandas, checked against scipy by tests/test_creative_stats.py:

- ``compare_groups``: two groups of scores (videos with a feature against without it, or the
  top third against the bottom third of a continuous feature): each group's mean with its
  Student-t interval, and the difference with Welch's interval and p-value (unequal variances:
  the groups differ in size and spread);
- ``benjamini_hochberg``: the p-values of a page's comparisons adjusted together, so a page of
  many comparisons does not find an effect by chance (Benjamini-Hochberg, the false-discovery
  rate; under no effect at all it also bounds the chance of any claim);
- ``within_lead_ols``: score on all creative features at once, compared within each lead's own
  videos (one intercept per lead: fixed effects), in score units per unit of each feature,
  with t intervals;
- ``what_works``: the two tables the dbt Python models ``what_works_comparisons`` and
  ``what_works_coefficients`` return.

A difference is called an effect only when its adjusted p-value is under 1 - level (its
interval then excludes 0 too). Otherwise the page says which of two things is true: "no effect
larger than" the interval's far end, when the whole interval lies within an effect worth
finding (half a standard deviation of the scores), or "too few videos to tell", with about how
many videos would show one worth finding. Beside it, the smallest effect the data could show
(``detectable_effect``: called 8 times in 10 at the page's own cut-off)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

NO_LARGE = "no large effect"
TOO_FEW_TO_TELL = "too few videos to tell"
TOO_FEW = "too few videos to compare"
VERDICTS = ("higher scores", "lower scores", NO_LARGE, TOO_FEW_TO_TELL, TOO_FEW)
# The chance that an effect of the detectable size gets called: the usual 80%.
POWER = 0.80
# An effect worth finding, in standard deviations of the scores: Cohen's "medium" (on the
# bench the planted hook effect of +0.3 is about this).
WORTH_FINDING_SD = 0.5

Kind = Literal["binary", "continuous", "cast"]


@dataclass(frozen=True)
class Feature:
    """A regression_features column compared on the page. ``binary``: 1 against 0;
    ``continuous``: top third against bottom third; ``cast``: 2+ people against one."""

    column: str
    kind: Kind


# The page's features, in the order it shows them (labels: the labels seed).
FEATURES: tuple[Feature, ...] = (
    Feature("face_in_hook", "binary"),
    Feature("seconds_to_first_face", "continuous"),
    Feature("closeup_share", "continuous"),
    Feature("lead_gaze_share", "continuous"),
    Feature("cuts_per_10s", "continuous"),
    Feature("n_influencers", "cast"),
    Feature("has_known_person", "binary"),
)
# In the adjusted regression: one column per idea (the hook once, the cast as 2+ people).
COEFFICIENT_FEATURES = (
    "face_in_hook",
    "closeup_share",
    "lead_gaze_share",
    "cuts_per_10s",
    "two_or_more_people",
    "has_known_person",
)
# Each lead gets their own intercept, so a feature is credited only with how a person's videos
# differ from that person's other videos. A person's habits (how they frame themselves, where
# they look) travel with how well that person scores; with a few videos per person the lead's
# leave-one-out average controlled for that too weakly: on 2 of 5 bench seeds with no effect
# planted the regression claimed such a habit (closeup, gaze, cast) as an effect.
GROUP = "lead_influencer_id"
NO_LEAD = "(nobody)"

COMPARISON_COLUMNS = [
    "feature",
    "comparison",
    "group_a",
    "n_a",
    "mean_a",
    "ci_low_a",
    "ci_high_a",
    "group_b",
    "n_b",
    "mean_b",
    "ci_low_b",
    "ci_high_b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "detectable_effect",
    "worth_finding",
    "videos_needed",
    "verdict",
    "finding",
    "sort_order",
]
COEFFICIENT_COLUMNS = [
    "feature",
    "coefficient",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "detectable_effect",
    "worth_finding",
    "videos_needed",
    "verdict",
    "finding",
    "n_videos",
    "note",
]


@dataclass(frozen=True)
class GroupMean:
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Comparison:
    a: GroupMean
    b: GroupMean
    difference: float | None  # mean of a - mean of b
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # Welch's two-sided t-test
    std_error: float | None = None  # of the difference
    dof: float | None = None  # Welch-Satterthwaite


def group_mean(values: Sequence[float], level: float = 0.90) -> GroupMean:
    """Mean with a two-sided Student-t interval (n - 1 df); no interval under two values."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return GroupMean(0, None, None, None)
    mean = float(x.mean())
    if n < 2:
        return GroupMean(n, mean, None, None)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return GroupMean(n, mean, mean - half, mean + half)


def welch(a: Sequence[float], b: Sequence[float], level: float = 0.90) -> Comparison:
    """Difference of means (a - b), Welch's interval and two-sided p-value. Each group needs two
    values and the two together some spread; else only the means are given."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ga, gb = group_mean(xa, level), group_mean(xb, level)
    if len(xa) < 2 or len(xb) < 2:
        diff = ga.mean - gb.mean if ga.mean is not None and gb.mean is not None else None
        return Comparison(ga, gb, diff, None, None, None)
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    diff = float(xa.mean() - xb.mean())
    se2 = va + vb
    if se2 <= 0:
        return Comparison(ga, gb, diff, None, None, None)
    # Welch-Satterthwaite degrees of freedom
    dof = se2**2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))
    se = float(np.sqrt(se2))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, dof))
    return Comparison(ga, gb, diff, diff - half, diff + half, p, se, float(dof))


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (the same as scipy's false_discovery_control);
    None stays None and does not count in the family."""
    idx = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    m = len(idx)
    if m == 0:
        return out
    p = np.array([p_values[i] for i in idx], dtype=float)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    # step-up: each adjusted value is the smallest of its own and every larger p's
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    for k, j in enumerate(order):
        out[idx[j]] = float(adjusted[k])
    return out


def detectable_effect(
    std_error: float | None,
    dof: float | None,
    n_tests: int,
    level: float = 0.90,
    power: float = POWER,
) -> float | None:
    """The smallest true effect (score units, either sign) that the page would call with
    chance ``power``: a two-sided t-test at (1 - level) / n_tests, the cut-off
    Benjamini-Hochberg sets for one effect alone among n_tests comparisons (the page's own
    rule: with more effects at once the cut-off is looser, so this errs large). None without
    a standard error."""
    if std_error is None or dof is None or pd.isna(std_error) or pd.isna(dof) or dof <= 0:
        return None
    alpha = _alpha(level, n_tests)
    return float((stats.t.ppf(1 - alpha / 2, dof) + stats.t.ppf(power, dof)) * std_error)


def _alpha(level: float, n_tests: int) -> float:
    """The page's cut-off for one effect alone among n_tests: Benjamini-Hochberg's first bar."""
    return (1 - level) / max(n_tests, 1)


def _z_sum(level: float, n_tests: int, power: float) -> float:
    """Standard errors between 0 and an effect called with chance ``power`` (normal)."""
    return float(stats.norm.ppf(1 - _alpha(level, n_tests) / 2) + stats.norm.ppf(power))


def chance_to_call(
    effect: float, detectable: float, n_tests: int, level: float = 0.90, power: float = POWER
) -> float:
    """The chance of calling a true ``effect`` where ``detectable`` is the stated detectable
    effect: its standard error is detectable over the z distance, in the normal approximation
    (``detectable_effect`` uses t quantiles: this errs slightly high)."""
    z_cut = stats.norm.ppf(1 - _alpha(level, n_tests) / 2)
    se = detectable / _z_sum(level, n_tests, power)
    return float(stats.norm.sf(z_cut - abs(effect) / se))


def videos_needed(
    std_error: float,
    worth: float,
    n_videos: int,
    n_tests: int,
    level: float = 0.90,
    power: float = POWER,
) -> int:
    """About how many videos would make ``worth`` detectable, where ``n_videos`` give
    ``std_error``: the standard error shrinks as one over the square root of the count, at the
    same split and spread. Normal quantiles: with that many videos the t quantiles are close to
    them, and the t quantiles of a small corpus would overstate the count. Rounded up to ten."""
    n = n_videos * (_z_sum(level, n_tests, power) * std_error / worth) ** 2
    return int(np.ceil(n / 10) * 10)


def verdict(
    difference: float | None,
    p_adjusted: float | None,
    level: float = 0.90,
    interval: tuple[float | None, float | None] = (None, None),
    worth: float | None = None,
) -> str:
    """The words the page shows: a direction only when the adjusted p-value is under 1 - level;
    else NO_LARGE when the whole interval lies within an effect worth finding (the data rule
    out a large effect either way), TOO_FEW_TO_TELL when it reaches past it."""
    if difference is None or p_adjusted is None or pd.isna(difference) or pd.isna(p_adjusted):
        return TOO_FEW
    if p_adjusted < 1 - level:
        return "higher scores" if difference > 0 else "lower scores"
    bound = _bound(interval)
    if bound is None or worth is None or bound > worth:
        return TOO_FEW_TO_TELL
    return NO_LARGE


def _bound(interval: tuple[float | None, float | None]) -> float | None:
    """The largest effect, either sign, that the interval leaves possible."""
    low, high = interval
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return None
    return max(abs(float(low)), abs(float(high)))


def _num(x: float) -> str:
    # two decimals, as the page's tables show their numbers
    return f"{x:.2f}"


def finding(
    said: str,
    difference: float | None,
    interval: tuple[float | None, float | None],
    needed: int | None,
    worth: float,
    why: str | None = None,
) -> str:
    """The verdict as a sentence with its numbers (the page's "What we found" column); for a
    row without a test, ``why`` when given."""
    if said == TOO_FEW and why:
        return why
    if said in ("higher scores", "lower scores") and difference is not None:
        return f"{said}, by about {_num(abs(difference))}"
    bound = _bound(interval)
    if said == NO_LARGE and bound is not None:
        return f"no effect larger than ±{_num(bound)}"
    if said == TOO_FEW_TO_TELL and needed is not None:
        about = f"about {needed:,}" if needed <= 10_000 else "over 10,000"
        return f"too few videos to tell: {about} would show ±{_num(worth)}"
    return said


def worth_finding(scores: pd.Series, sd: float = WORTH_FINDING_SD) -> float | None:
    """An effect worth finding, score units: ``sd`` standard deviations of the scores."""
    known = scores.dropna()
    return float(sd * known.std(ddof=1)) if len(known) >= 2 else None


def _judged(
    out: pd.DataFrame,
    estimate: str,
    worth: float | None,
    n_videos: int,
    level: float,
) -> pd.DataFrame:
    """``out`` (one row per feature, with ``estimate``, std_error, dof, p_value and ``why``:
    the reason a row has no test) with p_adjusted, detectable_effect, videos_needed, verdict
    and finding."""
    out = out.copy()
    p = [None if pd.isna(x) else float(x) for x in out["p_value"]]
    out["p_adjusted"] = benjamini_hochberg(p)
    n_tests = sum(x is not None for x in p)
    out["detectable_effect"] = [
        detectable_effect(se, dof, n_tests, level) if pv is not None else None
        for se, dof, pv in zip(out["std_error"], out["dof"], p)
    ]
    said, needed, words = [], [], []
    columns = [estimate, "p_adjusted", "std_error", "ci_low", "ci_high", "why"]
    for d, pa, se, low, high, why in zip(*(out[c] for c in columns)):
        d = None if pd.isna(d) else float(d)
        v = verdict(d, pa, level, (low, high), worth)
        need = (
            videos_needed(float(se), worth, n_videos, n_tests, level)
            if v == TOO_FEW_TO_TELL and worth and not pd.isna(se)
            else None
        )
        said.append(v)
        needed.append(need)
        words.append(finding(v, d, (low, high), need, worth or 0.0, None if pd.isna(why) else why))
    out["verdict"], out["videos_needed"], out["finding"] = said, needed, words
    out["worth_finding"] = worth
    return out


def thirds(values: pd.Series) -> tuple[pd.Series, pd.Series, str, str] | None:
    """(top, bottom, name of top, name of bottom) of a continuous feature: above its 2/3
    quantile against at or below its 1/3 quantile. Ties can leave a third empty: then above
    the 1/3 quantile against the rest, and where two thirds or more tie at the highest value
    (a lead who always looks at the camera), the highest value against the rest. None without
    two distinct values. Nulls are in neither."""
    known = values.dropna()
    if known.nunique() < 2:
        return None
    low, high = known.quantile(1 / 3), known.quantile(2 / 3)
    bottom, top = values <= low, values > high
    names = ("top third", "bottom third")
    if not top.any():
        top = values > low
    if not top.any():
        top, bottom = values >= known.max(), values < known.max()
        names = ("the highest value", "below it")
    return top.fillna(False), bottom.fillna(False), *names


def _range(values: pd.Series, unit: str) -> str:
    lo, hi = float(values.min()), float(values.max())
    return f"{lo:.2g} {unit}" if lo == hi else f"{lo:.2g} to {hi:.2g} {unit}"


UNITS = {
    "seconds_to_first_face": "s",
    "closeup_share": "of frames",
    "lead_gaze_share": "of the lead's faces",
    "cuts_per_10s": "per 10 s",
}


def feature_groups(
    frame: pd.DataFrame, feature: Feature
) -> tuple[str, str, str, pd.Series, pd.Series] | None:
    """(comparison, label of a, label of b, mask a, mask b) of one feature; None when the
    feature cannot be split (all videos alike)."""
    x = frame[feature.column]
    if feature.kind == "binary":
        return "with against without", "with", "without", x == 1, x == 0
    if feature.kind == "cast":
        return "2 or more people against 1", "2 or more people", "1 person", x >= 2, x == 1
    split = thirds(x)
    if split is None:
        return None
    top, bottom, a, b = split
    unit = UNITS.get(feature.column, "")
    return (
        f"{a} against {b}" if a == "top third" else f"{a} against the rest",
        f"{a} ({_range(x[top], unit)})",
        f"{b} ({_range(x[bottom], unit)})",
        top,
        bottom,
    )


def compare_features(
    frame: pd.DataFrame,
    features: Sequence[Feature] = FEATURES,
    target: str = "performance_score",
    level: float = 0.90,
) -> pd.DataFrame:
    """One row per feature (COMPARISON_COLUMNS); p-values adjusted together over the rows."""
    data = frame[frame[target].notna()]
    rows = []
    for order, feature in enumerate(features):
        groups = feature_groups(data, feature)
        if groups is None:
            c = Comparison(
                GroupMean(0, None, None, None),
                GroupMean(0, None, None, None),
                None,
                None,
                None,
                None,
            )
            why = (
                "every video has the same value"
                if data[feature.column].notna().any()
                else "no video has a value"
            )
            words, label_a, label_b = f"not compared: {why}", "", ""
        else:
            words, label_a, label_b, mask_a, mask_b = groups
            c = welch(data.loc[mask_a, target], data.loc[mask_b, target], level)
        # Why a row has no test: one value for every video, or too few on one side.
        why = words if groups is None else f"{TOO_FEW}: {c.a.n} against {c.b.n}"
        rows.append(
            {
                "feature": feature.column,
                "comparison": words,
                "group_a": label_a,
                "n_a": c.a.n,
                "mean_a": c.a.mean,
                "ci_low_a": c.a.ci_low,
                "ci_high_a": c.a.ci_high,
                "group_b": label_b,
                "n_b": c.b.n,
                "mean_b": c.b.mean,
                "ci_low_b": c.b.ci_low,
                "ci_high_b": c.b.ci_high,
                "difference": c.difference,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "p_value": c.p_value,
                "std_error": c.std_error,
                "dof": c.dof,
                "why": why,
                "sort_order": order + 1,
            }
        )
    out = pd.DataFrame(rows)
    out = _judged(out, "difference", worth_finding(data[target]), len(data), level)
    return _typed(out[COMPARISON_COLUMNS])


@dataclass(frozen=True)
class OlsFit:
    coefficients: np.ndarray  # one per column of x (the intercept is not reported)
    std_errors: np.ndarray
    dof: int


def within_lead_ols(x: np.ndarray, y: np.ndarray, groups: Sequence[object]) -> OlsFit | None:
    """Least squares of y on x with one intercept per group (fixed effects), by subtracting each
    group's means (the same coefficients as a dummy per group, Frisch-Waugh-Lovell); classical
    standard errors with n - groups - p degrees of freedom. None without residual degrees of
    freedom or when a column does not vary within any group (or is collinear with others)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    keys = pd.Series(list(groups), dtype=object)
    dof = n - keys.nunique() - p
    if dof <= 0:
        return None
    table = pd.DataFrame(np.column_stack([x, y]))
    within = (table - table.groupby(keys, sort=False).transform("mean")).to_numpy()
    xd, yd = within[:, :p], within[:, p]
    if np.linalg.matrix_rank(xd) < p:
        return None
    beta, *_ = np.linalg.lstsq(xd, yd, rcond=None)
    residuals = yd - xd @ beta
    s2 = float(residuals @ residuals) / dof
    cov = s2 * np.linalg.inv(xd.T @ xd)
    return OlsFit(beta, np.sqrt(np.diag(cov)), dof)


def _varies_within(values: pd.Series, groups: pd.Series) -> bool:
    return bool(values.groupby(groups, sort=False).nunique().gt(1).any())


def adjusted_coefficients(
    frame: pd.DataFrame,
    features: Sequence[str] = COEFFICIENT_FEATURES,
    group: str = GROUP,
    target: str = "performance_score",
    level: float = 0.90,
) -> pd.DataFrame:
    """One row per feature (COEFFICIENT_COLUMNS): least squares of the score on every feature
    together, within each lead's own videos (``within_lead_ols``; videos with nobody are one
    more group), in score units per unit of the feature (per 1 for a yes/no, per 100% of a
    share, per cut per 10 s). Nulls are imputed with the column's mean; a column that never
    varies within a lead's videos is left out (its row says so); p-values adjusted together
    over the features."""
    data = frame[frame[target].notna()].copy()
    if "two_or_more_people" in features and "two_or_more_people" not in data:
        data["two_or_more_people"] = (data["n_influencers"] >= 2).astype(float)
    groups = data[group].astype(object).where(data[group].notna(), NO_LEAD)
    x = data[list(features)].astype(float)
    x = x.fillna(x.mean())
    varying = [c for c in features if _varies_within(x[c], groups)]
    y = data[target].to_numpy(dtype=float)
    fit = within_lead_ols(x[varying].to_numpy(), y, groups.tolist()) if varying else None
    n, n_leads = len(data), int(groups[groups != NO_LEAD].nunique())
    rows = []
    for feature in features:
        row = {"feature": feature, "n_videos": n}
        if feature not in varying:
            row["note"] = "not estimated: never varies within one person's videos"
        elif fit is None:
            row["note"] = (
                f"not estimated: {n} videos of {n_leads} leads are too few for "
                f"{len(varying)} features"
            )
        else:
            k = varying.index(feature)
            b, se = float(fit.coefficients[k]), float(fit.std_errors[k])
            half = float(stats.t.ppf(0.5 + level / 2, fit.dof)) * se
            row.update(
                coefficient=b,
                std_error=se,
                ci_low=b - half,
                ci_high=b + half,
                p_value=float(2 * stats.t.sf(abs(b) / se, fit.dof)) if se > 0 else None,
                dof=fit.dof,
                note=f"every feature at once, within each of {n_leads} leads' own videos",
            )
        rows.append(row)
    columns = ["feature", "coefficient", "std_error", "ci_low", "ci_high", "p_value", "dof"]
    out = pd.DataFrame(rows, columns=[*columns, "n_videos", "note"])
    # why a row has no test: how it could not be fitted
    out["why"] = out["note"].where(out["note"].str.startswith("not estimated", na=False))
    out = _judged(out, "coefficient", worth_finding(data[target]), n, level)
    return _typed(out[COEFFICIENT_COLUMNS])


def with_labels(table: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a ``label`` column after ``feature``: the plain name from ``labels``
    (column_name, label: the labels seed), the column name where it has none."""
    names = dict(zip(labels["column_name"].astype(str), labels["label"].astype(str)))
    out = table.copy()
    out.insert(1, "label", [names.get(f, f) for f in out["feature"]])
    out["label"] = out["label"].astype("string")
    return out


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Floats as float64 (nulls NaN), counts as Int64, text as strings: the types the marts'
    .yml declare, whatever rows there are."""
    out = frame.copy()
    for column in out.columns:
        if column in ("n_a", "n_b", "n_videos", "videos_needed", "sort_order"):
            out[column] = pd.array(out[column].tolist(), dtype="Int64")
        elif column in (
            "feature",
            "comparison",
            "group_a",
            "group_b",
            "verdict",
            "finding",
            "note",
        ):
            out[column] = out[column].astype("string")
        else:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out
