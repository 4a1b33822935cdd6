"""what_works_comparisons: each creative feature, videos with it against without it (thirds for
a continuous one), from ingest.stats.creative (tested against scipy by pytest).
Plain names come from the labels seed (the report's one place for them).
"""

from ingest.stats.creative import compare_features, with_labels


def model(dbt, session):
    dbt.config(materialized="table")
    table = compare_features(
        dbt.ref("regression_features").df(), level=float(dbt.config.get("ci_level"))
    )
    return with_labels(table, dbt.ref("labels").df())
