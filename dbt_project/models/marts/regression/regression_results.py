"""regression_results: one row per video in regression_features (out-of-fold predictions).

Thin wrapper: the maths is ingest.regression (unit-tested with pytest). The ref and config
calls stay in each model file: dbt finds them by parsing it, not by running shared code.
"""

from ingest.regression import run_regression


def model(dbt, session):
    dbt.config(materialized="table")
    features = str(dbt.config.get("regression_features"))
    frame = dbt.ref("regression_features").df()
    output = run_regression(
        frame,
        [name.strip() for name in features.split(",") if name.strip()],
        k_folds=int(dbt.config.get("regression_k_folds")),
        min_videos=int(dbt.config.get("regression_min_videos")),
        alpha=float(dbt.config.get("regression_alpha")),
        seed=int(dbt.config.get("regression_seed")),
    )
    return output.results
