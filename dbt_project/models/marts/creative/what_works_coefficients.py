"""what_works_coefficients: the score on every creative feature at once, within each lead's own
videos, in score units (ingest.stats.creative, tested against numpy and scipy by pytest).
Plain names come from the labels seed (the report's one place for them).
"""

from ingest.stats.creative import adjusted_coefficients, with_labels


def model(dbt, session):
    dbt.config(materialized="table")
    table = adjusted_coefficients(
        dbt.ref("regression_features").df(), level=float(dbt.config.get("ci_level"))
    )
    return with_labels(table, dbt.ref("labels").df())
