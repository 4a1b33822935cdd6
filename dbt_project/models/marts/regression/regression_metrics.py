"""regression_metrics: one row per model (`model`, `baseline`) with cross-validated R2 and MAE.

Thin wrapper: the maths is ingest.regression (unit-tested with pytest).
"""

from ingest.regression import run_regression_for_dbt


def model(dbt, session):
    dbt.config(materialized="table")
    return run_regression_for_dbt(dbt).metrics
