"""Pure maths of ingest/stats/regression.py (no dbt, no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, LeaveOneOut, PredefinedSplit

from ingest.stats import regression as reg


def _frame(n: int, seed: int = 1, noise: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    y = 3.0 + 2.0 * x1 + noise * rng.normal(size=n)
    return pd.DataFrame(
        {"video_id": [f"v{i:03d}" for i in range(n)], "performance_score": y, "x1": x1, "x2": x2}
    )


def test_fold_numbers_balanced_and_deterministic():
    cv = KFold(n_splits=5, shuffle=True, random_state=3)
    folds = reg.fold_numbers(cv, 11)
    assert sorted(np.bincount(folds).tolist()) == [2, 2, 2, 2, 3]
    assert (folds == reg.fold_numbers(cv, 11)).all()


def test_folds_do_not_depend_on_row_order():
    frame = _frame(23)
    shuffled = frame.sample(frac=1.0, random_state=5)
    first = reg.run_regression(frame, ["x1", "x2"], k_folds=4)
    second = reg.run_regression(shuffled, ["x1", "x2"], k_folds=4)
    pd.testing.assert_frame_equal(first.results, second.results)
    pd.testing.assert_frame_equal(first.metrics, second.metrics)


def test_cv_r2_by_hand():
    y = np.array([1.0, 2.0, 3.0])
    assert reg.cv_r2(y, y) == 1.0
    assert reg.cv_r2(y, np.array([2.0, 2.0, 2.0])) == 0.0
    # SS_res = 0 + 0 + 4 = 4, SS_tot = 2 -> 1 - 2 = -1
    assert reg.cv_r2(y, np.array([1.0, 2.0, 5.0])) == pytest.approx(-1.0)
    # constant scores: R squared is undefined, not 0 or 1
    assert reg.cv_r2(np.array([5.0, 5.0]), np.array([5.0, 4.0])) is None
    assert reg.cv_r2(np.array([5.0, 5.0]), np.array([5.0, 5.0])) is None


def test_baseline_is_mean_of_training_folds():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    folds = PredefinedSplit([0, 0, 1, 1])
    model, baseline = reg.out_of_fold_predictions(np.zeros((4, 0)), y, folds)
    assert baseline.tolist() == [3.5, 3.5, 1.5, 1.5]
    assert model.tolist() == baseline.tolist()  # no features: the model is the mean too


def test_imputation_and_scaling_see_the_training_folds_only():
    # fold 1's null is imputed with fold 0's mean of x (1.0), where y = 2 * x predicts 2.0
    x = np.array([[0.0], [1.0], [2.0], [np.nan], [5.0]])
    y = np.array([0.0, 2.0, 4.0, 7.0, 10.0])
    predicted, _ = reg.out_of_fold_predictions(x, y, PredefinedSplit([0, 0, 0, 1, 1]), alpha=0.0)
    assert predicted[3] == pytest.approx(2.0)
    assert predicted[4] == pytest.approx(10.0)


def test_out_of_fold_predictions_do_not_see_the_test_row():
    # a single huge outlier: its own out-of-fold prediction must not be pulled towards it
    x = np.arange(10, dtype=float).reshape(-1, 1)
    y = x[:, 0].copy()
    y[9] = 1000.0
    predicted, baseline = reg.out_of_fold_predictions(x, y, LeaveOneOut(), alpha=0.0)
    assert baseline[9] == pytest.approx(np.mean(y[:9]))
    assert predicted[9] == pytest.approx(9.0)  # OLS on 0..8 is exact


def test_model_beats_baseline_on_signal():
    out = reg.run_regression(_frame(40), ["x1", "x2"], k_folds=5, min_videos=10, alpha=1.0)
    metrics = out.metrics.set_index("model")
    assert metrics.loc["model", "cv_r2"] > 0.9
    assert metrics.loc["baseline", "cv_r2"] < 0.0  # out-of-fold mean is honest: slightly < 0
    assert metrics.loc["model", "cv_mae"] < metrics.loc["baseline", "cv_mae"]
    assert metrics.loc["model", "n_folds"] == 5
    assert out.results["fold"].between(1, 5).all()
    assert out.results["predicted"].notna().all()
    coef = out.coefficients.set_index("feature")["coefficient"]
    # standardized: ~ 2 * std(x1); x2 carries nothing
    assert coef["x1"] == pytest.approx(2.0 * _frame(40)["x1"].std(ddof=0), rel=0.1)
    assert abs(coef["x2"]) < 0.2
    assert out.coefficients["std_error"].notna().all()


def test_noise_only_does_not_fake_skill():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "video_id": [f"v{i}" for i in range(30)],
            "performance_score": rng.normal(size=30),
            "x1": rng.normal(size=30),
        }
    )
    metrics = reg.run_regression(frame, ["x1"]).metrics.set_index("model")
    assert metrics.loc["model", "cv_r2"] < 0.1


def test_small_data_returns_rows_with_a_note():
    frame = _frame(6)
    out = reg.run_regression(frame, ["x1", "x2"], k_folds=5, min_videos=10)
    assert len(out.results) == 6
    assert out.results["predicted"].isna().all()
    assert out.results["fold"].isna().all()
    assert set(out.metrics["model"]) == {"model", "baseline"}
    assert out.metrics["cv_r2"].isna().all()
    assert out.metrics["note"].str.contains("not fitted: 6 videos").all()
    assert out.coefficients["feature"].tolist() == ["x1", "x2"]
    assert out.coefficients["coefficient"].isna().all()


def test_null_targets_dropped_and_null_features_imputed():
    frame = _frame(20)
    frame.loc[0, "performance_score"] = None
    frame.loc[1, "x2"] = None
    out = reg.run_regression(frame, ["x1", "x2"], k_folds=4, min_videos=10)
    assert len(out.results) == 19
    assert out.results["predicted"].notna().all()


def test_constant_and_all_null_features_do_not_crash():
    frame = _frame(15)
    frame["const"] = 1.0
    frame["empty"] = np.nan
    out = reg.run_regression(frame, ["x1", "const", "empty"], k_folds=3, min_videos=10)
    coef = out.coefficients.set_index("feature")["coefficient"]
    assert coef["const"] == pytest.approx(0.0)
    assert coef["empty"] == pytest.approx(0.0)
    assert np.isfinite(out.results["predicted"]).all()


def test_std_error_null_without_residual_dof():
    x = np.array([[0.0], [1.0]])
    coef, se = reg.standardized_coefficients(x, np.array([1.0, 2.0]), alpha=0.0)
    assert coef[0] == pytest.approx(0.5)
    assert se is None


def test_std_error_of_a_simple_ols_slope_by_hand():
    # one feature, alpha 0: se(slope) = s / sqrt(sum (x - mean)^2) with s^2 = RSS / (n - 2);
    # standardized x has sum (x - mean)^2 = n, so se = s / sqrt(n)
    x = np.array([[1.0], [2.0], [4.0], [7.0], [8.0]])
    y = np.array([1.0, 3.0, 4.0, 8.0, 9.0])
    coef, se = reg.standardized_coefficients(x, y, alpha=0.0)
    slope, intercept = np.polyfit(x[:, 0], y, 1)
    rss = float(np.sum((y - (slope * x[:, 0] + intercept)) ** 2))
    assert coef[0] == pytest.approx(slope * x[:, 0].std())
    assert se is not None
    assert se[0] == pytest.approx(np.sqrt(rss / 3) / np.sqrt(5))


def test_stack_holds_the_three_tables_once():
    out = reg.run_regression(_frame(12), ["x1", "x2"], k_folds=3)
    fit = reg.stack(out)
    assert list(fit.columns) == list(reg.FIT_TYPES)
    assert fit.groupby("grain").size().to_dict() == {"feature": 2, "model": 2, "video": 12}
    assert not fit.duplicated(["grain", "key"]).any()
    videos = fit[fit["grain"] == "video"].reset_index(drop=True)
    assert videos["key"].tolist() == out.results["video_id"].tolist()
    assert videos["predicted"].tolist() == out.results["predicted"].tolist()
    assert videos["coefficient"].isna().all() and videos["note"].isna().all()
    models = fit[fit["grain"] == "model"].set_index("key")
    assert models.loc["model", "cv_r2"] == out.metrics.set_index("model").loc["model", "cv_r2"]
    features = fit[fit["grain"] == "feature"].set_index("key")
    assert features["std_error"].tolist() == out.coefficients["std_error"].tolist()


def test_stack_without_features():
    fit = reg.stack(reg.run_regression(_frame(6), [], k_folds=5, min_videos=10))
    assert set(fit["grain"]) == {"video", "model"}
    assert str(fit["fold"].dtype) == "Int64" and str(fit["coefficient"].dtype) == "float64"
