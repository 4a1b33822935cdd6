"""what_works_coefficients: the score on every creative feature at once, adjusted for the lead's
usual score, in score units (ingest.stats.creative, tested against scipy by pytest)."""

from ingest.stats.creative import adjusted_coefficients


def model(dbt, session):
    dbt.config(materialized="table")
    return adjusted_coefficients(
        dbt.ref("regression_features").df(), level=float(dbt.config.get("ci_level"))
    )
