"""what_works_comparisons: each creative feature, videos with it against without it (thirds for
a continuous one), from ingest.stats.creative (tested against scipy by pytest)."""

from ingest.stats.creative import compare_features


def model(dbt, session):
    dbt.config(materialized="table")
    return compare_features(
        dbt.ref("regression_features").df(), level=float(dbt.config.get("ci_level"))
    )
