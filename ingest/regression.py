"""Cross-validated regression of video performance on influencer features.

Pure functions over numpy / pandas, used by the thin dbt Python models
``regression_results``, ``regression_metrics`` and ``regression_coefficients``.

Honest with small data: with fewer than ``min_videos`` videos (or fewer videos than folds)
no model is fitted; the output frames still have one row per video / model / feature, with
null numbers and a ``note`` that says why.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

MODEL = "model"
BASELINE = "baseline"

RESULT_COLUMNS = ["video_id", "performance_score", "predicted", "baseline_predicted", "fold"]
METRIC_COLUMNS = ["model", "n_videos", "n_features", "n_folds", "cv_r2", "cv_mae", "note"]
COEFFICIENT_COLUMNS = ["feature", "coefficient", "std_error", "note"]


@dataclass(frozen=True)
class RegressionOutput:
    """The three tables the dbt models return."""

    results: pd.DataFrame
    metrics: pd.DataFrame
    coefficients: pd.DataFrame


def fold_assignments(n: int, k: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..k-1) per row: a seeded shuffle dealt round-robin, so fold sizes differ by <= 1."""
    if k < 2 or k > n:
        raise ValueError(f"need 2 <= k <= n, got k={k}, n={n}")
    order = np.random.default_rng(seed).permutation(n)
    folds = np.empty(n, dtype=np.int64)
    folds[order] = np.arange(n) % k
    return folds


def r2_score(y: np.ndarray, predicted: np.ndarray) -> float | None:
    """1 - SS_res / SS_tot around the mean of ``y``; None when ``y`` is constant."""
    y = np.asarray(y, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return None
    return 1.0 - float(np.sum((y - predicted) ** 2)) / ss_tot


def mean_absolute_error(y: np.ndarray, predicted: np.ndarray) -> float:
    y = np.asarray(y, dtype=float)
    return float(np.mean(np.abs(y - np.asarray(predicted, dtype=float))))


def _standardize(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Impute nulls with the training mean, then scale by training mean / std (std 0 -> 1)."""
    train = np.array(train, dtype=float)
    other = np.array(other, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-null column: mean of empty slice
        means = np.nanmean(train, axis=0) if train.size else np.zeros(train.shape[1])
    means = np.where(np.isnan(means), 0.0, means)
    for j in range(train.shape[1]):
        train[np.isnan(train[:, j]), j] = means[j]
        other[np.isnan(other[:, j]), j] = means[j]
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - means) / std, (other - means) / std


def out_of_fold_predictions(
    x: np.ndarray, y: np.ndarray, folds: np.ndarray, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of ridge (``alpha``; 0 = OLS) and of the mean-only baseline.

    Imputation and standardization are fitted on the training folds only.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    model = np.full(len(y), np.nan)
    baseline = np.full(len(y), np.nan)
    for fold in np.unique(folds):
        test = folds == fold
        train = ~test
        baseline[test] = y[train].mean()
        if x.shape[1] == 0:
            model[test] = y[train].mean()
            continue
        x_train, x_test = _standardize(x[train], x[test])
        fitted = Ridge(alpha=alpha).fit(x_train, y[train])
        model[test] = fitted.predict(x_test)
    return model, baseline


def standardized_coefficients(
    x: np.ndarray, y: np.ndarray, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Full-data ridge fit on standardized features: coefficients and their standard errors.

    Standard errors use the ridge sandwich ``s^2 (X'X + aI)^-1 X'X (X'X + aI)^-1`` with
    ``s^2 = RSS / (n - p - 1)``; None when there are no residual degrees of freedom.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    xs, _ = _standardize(x, x[:0])
    fitted = Ridge(alpha=alpha).fit(xs, y)
    coef = np.asarray(fitted.coef_, dtype=float)
    dof = n - p - 1
    if dof <= 0:
        return coef, None
    residuals = y - fitted.predict(xs)
    s2 = float(residuals @ residuals) / dof
    xc = xs - xs.mean(axis=0)
    gram = xc.T @ xc
    inv = np.linalg.pinv(gram + alpha * np.eye(p))
    cov = s2 * inv @ gram @ inv
    return coef, np.sqrt(np.clip(np.diag(cov), 0.0, None))


def _none_if_nan(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def run_regression(
    frame: pd.DataFrame,
    features: Sequence[str],
    *,
    id_column: str = "video_id",
    target: str = "performance_score",
    k_folds: int = 5,
    min_videos: int = 10,
    alpha: float = 1.0,
    seed: int = 0,
) -> RegressionOutput:
    """K-fold CV of ridge on ``features`` vs a mean-only baseline, plus a full-data fit.

    ``frame`` has one row per video; rows with a null target are dropped. Boolean features are
    cast to 0/1. Results are sorted by ``id_column`` for determinism.
    """
    features = list(features)
    data = frame.loc[frame[target].notna(), [id_column, target, *features]]
    data = data.sort_values(id_column).reset_index(drop=True)
    n = len(data)
    y = data[target].to_numpy(dtype=float)
    x = data[features].astype(float).to_numpy() if features else np.zeros((n, 0))
    need = max(min_videos, k_folds, 2)
    k = k_folds

    results = pd.DataFrame(
        {
            "video_id": data[id_column].astype(str),
            "performance_score": y,
            "predicted": np.nan,
            "baseline_predicted": np.nan,
            "fold": pd.array([pd.NA] * n, dtype="Int64"),
        }
    )

    if k_folds < 2:
        raise ValueError(f"k_folds must be >= 2, got {k_folds}")
    if n < need:
        note = (
            f"not fitted: {n} videos with a numeric score, need at least {need} "
            f"for {k_folds}-fold cross-validation"
        )
        metrics = pd.DataFrame(
            [
                {
                    "model": name,
                    "n_videos": n,
                    "n_features": n_features,
                    "n_folds": None,
                    "cv_r2": None,
                    "cv_mae": None,
                    "note": note,
                }
                for name, n_features in ((MODEL, len(features)), (BASELINE, 0))
            ],
            columns=METRIC_COLUMNS,
        )
        coefficients = pd.DataFrame(
            [
                {"feature": f, "coefficient": None, "std_error": None, "note": note}
                for f in features
            ],
            columns=COEFFICIENT_COLUMNS,
        )
        return RegressionOutput(
            results[RESULT_COLUMNS], _typed_metrics(metrics), _typed_coefficients(coefficients)
        )

    folds = fold_assignments(n, k, seed)
    predicted, baseline = out_of_fold_predictions(x, y, folds, alpha)
    results["predicted"] = predicted
    results["baseline_predicted"] = baseline
    results["fold"] = pd.array(folds + 1, dtype="Int64")

    small = f"; small sample ({n} videos): treat as indicative only" if n < 30 else ""
    model_note = (
        f"ridge (alpha={alpha:g}) on {len(features)} standardized features, "
        f"{k}-fold out-of-fold predictions{small}"
    )
    baseline_note = f"mean of the training folds, {k}-fold out-of-fold predictions{small}"
    metrics = pd.DataFrame(
        [
            {
                "model": MODEL,
                "n_videos": n,
                "n_features": len(features),
                "n_folds": k,
                "cv_r2": _none_if_nan(r2_score(y, predicted)),
                "cv_mae": mean_absolute_error(y, predicted),
                "note": model_note,
            },
            {
                "model": BASELINE,
                "n_videos": n,
                "n_features": 0,
                "n_folds": k,
                "cv_r2": _none_if_nan(r2_score(y, baseline)),
                "cv_mae": mean_absolute_error(y, baseline),
                "note": baseline_note,
            },
        ],
        columns=METRIC_COLUMNS,
    )

    if features:
        coef, std_error = standardized_coefficients(x, y, alpha)
        coef_note = (
            "full-data ridge fit; coefficient = change in score per 1 std of the feature"
            if std_error is not None
            else "full-data ridge fit; no residual degrees of freedom for a std_error"
        )
        coefficients = pd.DataFrame(
            {
                "feature": features,
                "coefficient": coef,
                "std_error": std_error if std_error is not None else [None] * len(features),
                "note": coef_note,
            },
            columns=COEFFICIENT_COLUMNS,
        )
    else:
        coefficients = pd.DataFrame(columns=COEFFICIENT_COLUMNS)
    return RegressionOutput(
        results[RESULT_COLUMNS], _typed_metrics(metrics), _typed_coefficients(coefficients)
    )


def _typed_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    out = metrics.copy()
    out["model"] = out["model"].astype(str)
    for column in ("n_videos", "n_features", "n_folds"):
        out[column] = pd.array(out[column].tolist(), dtype="Int64")
    for column in ("cv_r2", "cv_mae"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    out["note"] = out["note"].astype(str)
    return out


def _typed_coefficients(coefficients: pd.DataFrame) -> pd.DataFrame:
    out = coefficients.copy()
    out["feature"] = out["feature"].astype(str)
    for column in ("coefficient", "std_error"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    out["note"] = out["note"].astype(str)
    return out
