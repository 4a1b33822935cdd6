"""Cross-validated regression of video performance on influencer features.

Pure functions over numpy / pandas with scikit-learn doing the folds (``KFold``), the
per-fold imputation and scaling (a ``Pipeline``), the out-of-fold predictions
(``cross_val_predict``) and the metrics (``sklearn.metrics``). Only the coefficient standard
errors are computed here: scikit-learn does not give them.

The dbt Python model ``regression_fit`` calls ``run_regression`` once and returns ``stack``'s
one table; the SQL models ``regression_results``, ``regression_metrics`` and
``regression_coefficients`` select their rows from it.

Honest with small data: with fewer than ``min_videos`` videos (or fewer videos than folds)
no model is fitted; the output frames still have one row per video / model / feature, with
null numbers and a ``note`` that says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import BaseCrossValidator, KFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

MODEL = "model"
BASELINE = "baseline"

RESULT_COLUMNS = ["video_id", "performance_score", "predicted", "baseline_predicted", "fold"]
METRIC_COLUMNS = ["model", "n_videos", "n_features", "n_folds", "cv_r2", "cv_mae", "note"]
COEFFICIENT_COLUMNS = ["feature", "coefficient", "std_error", "note"]

# stack(): one row per video, model or feature; `grain` says which and `key` is its id
GRAIN_KEYS = {"video": "video_id", "model": "model", "feature": "feature"}
FIT_TYPES = {
    "grain": "string",
    "key": "string",
    "performance_score": "float64",
    "predicted": "float64",
    "baseline_predicted": "float64",
    "fold": "Int64",
    "n_videos": "Int64",
    "n_features": "Int64",
    "n_folds": "Int64",
    "cv_r2": "float64",
    "cv_mae": "float64",
    "coefficient": "float64",
    "std_error": "float64",
    "note": "string",
}


@dataclass(frozen=True)
class RegressionOutput:
    """The three tables the SQL models expose (``stack`` joins them into one)."""

    results: pd.DataFrame
    metrics: pd.DataFrame
    coefficients: pd.DataFrame


def ridge_pipeline(alpha: float = 1.0) -> Pipeline:
    """Impute nulls with the mean, standardize, ridge (``alpha``; 0 = OLS).

    As one estimator, cross-validation fits the imputer and the scaler on the training folds
    only. ``keep_empty_features``: an all-null column becomes zeros rather than vanishing, so
    there is still one coefficient per feature.
    """
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="mean", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("ridge", Ridge(alpha=alpha)),
        ]
    )


def fold_numbers(cv: BaseCrossValidator | KFold, n: int) -> np.ndarray:
    """The 0-based fold in which ``cv`` holds out each of ``n`` rows."""
    folds = np.full(n, -1, dtype=np.int64)
    for fold, (_, test) in enumerate(cv.split(np.zeros((n, 1)))):
        folds[test] = fold
    return folds


def out_of_fold_predictions(
    x: np.ndarray, y: np.ndarray, cv: BaseCrossValidator | KFold, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of ``ridge_pipeline(alpha)`` and of the mean-only baseline."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    # the baseline ignores x; a constant column keeps scikit-learn's input checks happy
    baseline = cross_val_predict(DummyRegressor(strategy="mean"), np.zeros((len(y), 1)), y, cv=cv)
    if x.shape[1] == 0:
        return baseline.copy(), baseline
    return cross_val_predict(ridge_pipeline(alpha), x, y, cv=cv), baseline


def cv_r2(y: np.ndarray, predicted: np.ndarray) -> float | None:
    """R squared; None when ``y`` is constant, where it is undefined."""
    # force_finite=False: constant y gives nan / -inf (then None) instead of a made-up 0 or 1
    with np.errstate(divide="ignore", invalid="ignore"):
        score = float(r2_score(y, predicted, force_finite=False))
    return score if np.isfinite(score) else None


def standardized_coefficients(
    x: np.ndarray, y: np.ndarray, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Full-data ``ridge_pipeline`` fit: coefficients and their standard errors.

    Standard errors use the ridge sandwich ``s^2 (X'X + aI)^-1 X'X (X'X + aI)^-1`` on the
    standardized, centred design (the intercept is not penalised) with
    ``s^2 = RSS / (n - p - 1)``; None when there are no residual degrees of freedom.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    fitted = ridge_pipeline(alpha).fit(x, y)
    coef = np.asarray(fitted[-1].coef_, dtype=float)
    dof = n - p - 1
    if dof <= 0:
        return coef, None
    residuals = y - fitted.predict(x)
    s2 = float(residuals @ residuals) / dof
    xs = fitted[:-1].transform(x)
    xc = xs - xs.mean(axis=0)
    gram = xc.T @ xc
    inv = np.linalg.pinv(gram + alpha * np.eye(p))
    cov = s2 * inv @ gram @ inv
    return coef, np.sqrt(np.clip(np.diag(cov), 0.0, None))


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
    cast to 0/1. Rows are sorted by ``id_column`` before the seeded shuffle into folds, so the
    folds do not depend on the order the rows arrive in.
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

    cv = KFold(n_splits=k, shuffle=True, random_state=seed)
    predicted, baseline = out_of_fold_predictions(x, y, cv, alpha)
    results["predicted"] = predicted
    results["baseline_predicted"] = baseline
    results["fold"] = pd.array(fold_numbers(cv, n) + 1, dtype="Int64")

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
                "cv_r2": cv_r2(y, predicted),
                "cv_mae": float(mean_absolute_error(y, predicted)),
                "note": model_note,
            },
            {
                "model": BASELINE,
                "n_videos": n,
                "n_features": 0,
                "n_folds": k,
                "cv_r2": cv_r2(y, baseline),
                "cv_mae": float(mean_absolute_error(y, baseline)),
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


def stack(output: RegressionOutput) -> pd.DataFrame:
    """The three tables as one (the ``regression_fit`` model): one row per video, model and
    feature, ``grain`` naming which and ``key`` its id; columns of the other grains are null."""
    parts = [
        table.rename(columns={GRAIN_KEYS[grain]: "key"}).assign(grain=grain)
        for grain, table in (
            ("video", output.results),
            ("model", output.metrics),
            ("feature", output.coefficients),
        )
    ]
    # empty parts (no features) are left out: pandas warns on concatenating empty frames
    stacked = pd.concat([part for part in parts if len(part)], ignore_index=True)
    stacked = stacked.reindex(columns=list(FIT_TYPES))
    return stacked.astype(FIT_TYPES)


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
