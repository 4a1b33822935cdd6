"""regression_fit: the regression, fitted once per run (ingest.stats.regression, tested by pytest).

regression_results, regression_metrics and regression_coefficients are SQL models that select
their rows from this table, so the cross-validation and the full-data fit run only here.
"""

from ingest.stats.regression import run_regression, stack


def model(dbt, session):
    dbt.config(materialized="table")
    features = str(dbt.config.get("regression_features"))
    output = run_regression(
        dbt.ref("regression_features").df(),
        [name.strip() for name in features.split(",") if name.strip()],
        k_folds=int(dbt.config.get("regression_k_folds")),
        min_videos=int(dbt.config.get("regression_min_videos")),
        alpha=float(dbt.config.get("regression_alpha")),
        seed=int(dbt.config.get("regression_seed")),
    )
    return stack(output)
