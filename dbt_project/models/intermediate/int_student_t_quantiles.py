"""int_student_t_quantiles: scipy's Student-t quantiles at var('ci_level').

Thin wrapper over ingest.stats.student_t (tested by pytest). One row per df up to the number of
videos, so every influencer's n_scored_videos - 1 has a row: no table to regenerate, no df cap.
"""

from ingest.stats.student_t import two_sided_t_quantiles


def model(dbt, session):
    # the intermediate folder makes views; a Python model can only be a table
    dbt.config(materialized="table")
    [(n_videos,)] = dbt.ref("stg_videos").aggregate("count(*)").fetchall()
    return two_sided_t_quantiles(float(dbt.config.get("ci_level")), max_df=max(n_videos - 1, 1))
