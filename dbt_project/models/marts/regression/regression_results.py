"""regression_results: one row per video in regression_features (out-of-fold predictions).

Thin wrapper: the maths is ingest.regression (unit-tested with pytest).
"""

from ingest.regression import run_regression_for_dbt


def model(dbt, session):
    dbt.config(materialized="table")
    return run_regression_for_dbt(dbt).results
