"""regression_coefficients: one row per feature (full-data fit on standardized features).

Thin wrapper: the maths is ingest.regression (unit-tested with pytest).
"""

from ingest.regression import run_regression_for_dbt


def model(dbt, session):
    dbt.config(materialized="table")
    return run_regression_for_dbt(dbt).coefficients
