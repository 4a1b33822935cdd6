"""The expectation suites, as code.

Each ``TableCheck`` reads one table (or a filtered / derived view of it) with a DuckDB query and
validates it with GX expectations. Derived columns (box overhangs, embedding norms, avg - min)
keep every expectation a plain single-column one whose observed value reads well in a failure.

Severity is GX's own (``Expectation.severity``): ``critical`` (GX's default) fails the run
(non-zero exit); ``warning`` is recorded and reported but does not fail it. The only warning is
"every `ok` video with faces has at least one influencer": a video whose faces are all
cluster -1 (a passer-by, a crowd, a face seen in one video only) is a legitimate clustering
outcome, not a broken pipeline, so it must not block `make build`; it is still surfaced
(quality.gx_results, the summary, the HTML page) because many such videos mean the clustering
threshold is too strict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import great_expectations as gx

from ingest.warehouse import store

# MTCNN boxes may poke a few pixels outside the frame at the edges.
BOX_TOLERANCE_PX = 4.0
EMBEDDING_NORM_TOLERANCE = 1e-3
STATUSES = list(store.STATUSES)
EPS = 1e-9

E = gx.expectations


@dataclass(frozen=True)
class TableCheck:
    """Expectations over the rows a query returns from one warehouse table."""

    suite: str  # "raw" or "marts"
    table: str  # schema-qualified table the query reads
    name: str  # unique per suite, e.g. "faces" or "videos[ok with faces]"
    query: str
    checks: list[gx.expectations.Expectation] = field(default_factory=list)
    id_column: str | None = None  # named next to unexpected values in failure reports


def _between(
    column: str, low: float | None = None, high: float | None = None
) -> gx.expectations.Expectation:
    return E.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)


def _not_null(column: str) -> gx.expectations.Expectation:
    return E.ExpectColumnValuesToNotBeNull(column=column)


def _unique(column: str) -> gx.expectations.Expectation:
    return E.ExpectColumnValuesToBeUnique(column=column)


def raw_checks() -> list[TableCheck]:
    """Raw tables written by ingest (fresh GX objects on every call)."""
    return [
        TableCheck(
            "raw",
            "raw.videos",
            "videos",
            "select * from raw.videos",
            [
                _not_null("video_id"),
                _unique("video_id"),
                _unique("row_number"),
                E.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES),
                _not_null("status"),
            ],
            id_column="video_id",
        ),
        TableCheck(
            "raw",
            "raw.videos",
            "videos[status ok/no_faces]",
            "select * from raw.videos where status in ('ok', 'no_faces')",
            [
                # a video we analysed must have a numeric score, a size and a sampling interval
                _not_null("performance_score"),
                E.ExpectColumnValuesToBeNull(column="error"),
                _between("duration_s", 0, None),
                _between("width", 1, None),
                _between("height", 1, None),
                _between("sample_interval_s", EPS, None),
            ],
            id_column="video_id",
        ),
        TableCheck(
            "raw",
            "raw.videos",
            "videos[failed]",
            "select * from raw.videos where status not in ('ok', 'no_faces')",
            [_not_null("error")],
            id_column="video_id",
        ),
        TableCheck(
            "raw",
            "raw.faces",
            "faces",
            """
            select
                face_id, video_id, det_score, embedder, age_years,
                x1, y1,
                x2 - frame_width as right_overhang_px,
                y2 - frame_height as bottom_overhang_px,
                x2 - x1 as box_width_px,
                y2 - y1 as box_height_px,
                len(cast(embedding as double[])) as embedding_length,
                sqrt(list_dot_product(cast(embedding as double[]), cast(embedding as double[])))
                    as embedding_norm,
                sqrt(list_dot_product(cast(faceres_descriptor as double[]),
                                      cast(faceres_descriptor as double[]))) as descriptor_norm,
                video_id in (select video_id from raw.videos) as video_exists
            from raw.faces
            """,
            [
                _not_null("face_id"),
                _unique("face_id"),
                _not_null("video_id"),
                E.ExpectColumnValuesToBeInSet(column="video_exists", value_set=[True]),
                _not_null("det_score"),
                _between("det_score", 0, 1),
                # NULL for faces faceres did not describe (EmbeddingSettings.faceres_per_track)
                _between("age_years", 0, 100),
                _between("x1", -BOX_TOLERANCE_PX, None),
                _between("y1", -BOX_TOLERANCE_PX, None),
                _between("right_overhang_px", None, BOX_TOLERANCE_PX),
                _between("bottom_overhang_px", None, BOX_TOLERANCE_PX),
                _between("box_width_px", EPS, None),
                _between("box_height_px", EPS, None),
                E.ExpectColumnValuesToBeInSet(column="embedding_length", value_set=[128, 512]),
                _not_null("embedding_norm"),
                _between(
                    "embedding_norm", 1 - EMBEDDING_NORM_TOLERANCE, 1 + EMBEDDING_NORM_TOLERANCE
                ),
                _not_null("descriptor_norm"),
                _between(
                    "descriptor_norm", 1 - EMBEDDING_NORM_TOLERANCE, 1 + EMBEDDING_NORM_TOLERANCE
                ),
            ],
            id_column="face_id",
        ),
        TableCheck(
            "raw",
            "raw.face_clusters",
            "face_clusters",
            """
            select
                face_id, cluster_id, centroid_similarity,
                face_id in (select face_id from raw.faces) as face_exists
            from raw.face_clusters
            """,
            [
                _unique("face_id"),
                E.ExpectColumnValuesToBeInSet(column="face_exists", value_set=[True]),
                _not_null("cluster_id"),
                _between("cluster_id", -1, None),
                E.ExpectColumnValuesToNotBeInSet(column="cluster_id", value_set=[0]),
                _between("centroid_similarity", -1 - EPS, 1 + EPS),
            ],
            id_column="face_id",
        ),
        TableCheck(
            "raw",
            "raw.ingest_runs",
            "ingest_runs",
            "select * from raw.ingest_runs",
            [E.ExpectTableRowCountToBeBetween(min_value=1), _unique("run_id")],
        ),
    ]


def mart_checks() -> list[TableCheck]:
    """dbt marts (fresh GX objects on every call)."""
    return [
        TableCheck(
            "marts",
            "main.influencers",
            "influencers",
            """
            select
                *,
                avg_performance - min_performance as avg_minus_min,
                max_performance - avg_performance as max_minus_avg
            from main.influencers
            """,
            [
                _not_null("influencer_id"),
                _unique("influencer_id"),
                _between("influencer_id", 1, None),
                _not_null("n_videos"),
                _between("n_videos", 1, None),
                _between("screen_share", 0, 1),
                _between("avg_minus_min", -EPS, None),
                _between("max_minus_avg", -EPS, None),
                _unique("performance_rank"),
                _not_null("representative_face_id"),
            ],
            id_column="influencer_id",
        ),
        TableCheck(
            "marts",
            "main.influencer_videos",
            "influencer_videos",
            "select * from main.influencer_videos",
            [
                E.ExpectCompoundColumnsToBeUnique(column_list=["influencer_id", "video_id"]),
                _between("n_faces", 1, None),
                _between("screen_share", 0, 1),
                E.ExpectColumnValuesToBeInSet(column="role", value_set=["lead", "co-star"]),
            ],
        ),
        TableCheck(
            "marts",
            "main.videos",
            "videos",
            "select * from main.videos",
            [
                _unique("video_id"),
                E.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES),
                E.ExpectColumnValuesToBeInSet(
                    column="orientation", value_set=["vertical", "horizontal", "square"]
                ),
            ],
            id_column="video_id",
        ),
        TableCheck(
            "marts",
            "main.videos",
            "videos[ok with faces]",
            "select * from main.videos where status = 'ok' and n_faces > 0",
            [
                # a warning, not critical: see the module docstring
                E.ExpectColumnValuesToBeBetween(
                    column="n_influencers", min_value=1, severity="warning"
                ),
            ],
            id_column="video_id",
        ),
        TableCheck(
            "marts",
            "main.regression_metrics",
            "regression_metrics",
            "select * from main.regression_metrics",
            [
                E.ExpectTableRowCountToEqual(value=2),
                E.ExpectColumnValuesToBeInSet(column="model", value_set=["model", "baseline"]),
                _not_null("note"),
            ],
            id_column="model",
        ),
        TableCheck(
            "marts",
            "main.regression_results",
            "regression_results",
            "select * from main.regression_results",
            [_unique("video_id"), _not_null("performance_score")],
            id_column="video_id",
        ),
    ]


SUITES: dict[str, Callable[[], list[TableCheck]]] = {"raw": raw_checks, "marts": mart_checks}
