"""The one module that writes DuckDB. Ingest writes only to schema ``raw``."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from PIL import Image

from ingest.embedders import EMBEDDERS
from ingest.extract.age import DESCRIPTOR_DIM
from ingest.extract.faces import VideoExtraction
from ingest.people.cluster import Clustering, FaceTable, fill_descriptors
from ingest.people.review import Candidate
from ingest.settings import WAREHOUSE_STORAGE_VERSION

STATUSES = ("ok", "no_faces", "download_failed", "decode_failed", "rejected")

VIDEOS_DDL = """
create table if not exists raw.videos (
    video_id varchar primary key,
    row_number integer,
    source_url varchar,
    performance_raw varchar,
    performance_score double,
    status varchar not null,
    error varchar,
    content_sha256 varchar,
    duration_s double,
    fps double,
    width integer,
    height integer,
    sample_interval_s double,
    n_frames_sampled integer,
    n_faces integer,
    embedder varchar,
    settings_hash varchar,
    ingested_at timestamp,
    decoded_share double
)"""

FACES_DDL = """
create table if not exists raw.faces (
    face_id varchar primary key,
    video_id varchar not null,
    frame_index integer,
    timestamp_s double,
    x1 double, y1 double, x2 double, y2 double,
    frame_width integer,
    frame_height integer,
    det_score double,
    landmarks float[10],
    sharpness double,
    embedder varchar,
    embedding float[{dim}],
    crop_path varchar,
    age_years double,
    faceres_descriptor float[{desc_dim}]
)"""

CLUSTERS_DDL = """
create table if not exists raw.face_clusters (
    face_id varchar primary key,
    cluster_id integer not null,
    track_id varchar,
    centroid_similarity double,
    embedder varchar,
    method varchar,
    clustered_at timestamp
)"""

# Every influencer id ever issued and what became of it (ingest.corrections.apply): ids are never reused.
ID_HISTORY_DDL = """
create table if not exists raw.influencer_id_history (
    influencer_id integer not null,
    event varchar not null,
    other_id integer,
    recorded_at timestamp
)"""

# Where the clustering may be wrong (ingest.people.review), rewritten with every clustering;
# the review_suggestions mart words them for the "Check these" page.
REVIEW_DDL = """
create table if not exists raw.review_candidates (
    kind varchar not null,
    influencer_id integer not null,
    other_id integer,
    video_id varchar,
    distance double,
    faceres_distance double,
    cluster_threshold double,
    n_shared_videos integer,
    kept_apart_by varchar,
    rank integer,
    clustered_at timestamp,
    chance double,
    shown boolean
)"""

RUNS_DDL = """
create table if not exists raw.ingest_runs (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    csv_path varchar,
    settings_json varchar,
    n_rows integer,
    n_ok integer,
    n_no_faces integer,
    n_download_failed integer,
    n_decode_failed integer,
    n_rejected integer
)"""


# The warehouse's identity: one row, a uuid made on the first write and kept by copies and
# renames of the file. Its corrections file names it (ingest.corrections.room.open_ledger).
WAREHOUSE_META_DDL = """
create table if not exists raw.warehouse_meta (
    warehouse_id varchar not null,
    created_at timestamp
)"""

# The corrections the last clustering applied, as read from the warehouse's corrections file:
# the marts read names and hidden people here, so dbt applies this warehouse's and no other's.
PEOPLE_CORRECTIONS_DDL = """
create table if not exists raw.people_corrections (
    action varchar not null,
    influencer_id integer not null,
    other_id integer,
    video_id varchar,
    name varchar,
    source_file varchar,
    applied_at timestamp
)"""


@dataclass(frozen=True)
class VideoRecord:
    """One raw.videos row (the fields ingest knows before or without extraction)."""

    video_id: str
    row_number: int
    source_url: str | None
    performance_raw: str | None
    performance_score: float | None
    status: str
    error: str | None = None
    content_sha256: str | None = None
    settings_hash: str | None = None
    embedder: str | None = None
    decoded_share: float | None = None  # 0-1 of the planned sample frames that decoded


def _version(tag: str) -> tuple[int, ...]:
    """'v1.4.0+' -> (1, 4, 0)."""
    return tuple(int(p) for p in tag.strip().lstrip("v").rstrip("+").split(".") if p.isdigit())


def storage_version(db_path: Path) -> str:
    """The storage format a warehouse file was written in, e.g. 'v1.4.0' or 'v2.0.0'."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{_sql_path(db_path)}' as wh (read_only)")
        tags = con.execute(
            "select tags from duckdb_databases() where database_name = 'wh'"
        ).fetchall()[0][0]
    finally:
        con.close()
    return "v" + ".".join(map(str, _version(tags.get("storage_version", "v0.0.0"))))


def migrate_storage(db_path: Path) -> str | None:
    """Rewrite a warehouse written in a storage format newer than WAREHOUSE_STORAGE_VERSION so
    that DuckDB 1.x clients open it; returns the old format, or None when nothing was needed.
    The copy is written beside the file and swapped in only when complete."""
    if not db_path.is_file():
        return None
    old = storage_version(db_path)
    if _version(old) <= _version(WAREHOUSE_STORAGE_VERSION):
        return None
    tmp = db_path.with_name(db_path.name + ".migrating")
    for p in (tmp, Path(f"{tmp}.wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        # The source keeps its catalog name, so views that name it (dbt's) still resolve. It is
        # attached for writing, though only read: that takes the file's exclusive lock, so no
        # other process holds the file that is about to be swapped.
        src = db_path.stem
        con.execute(f"attach '{_sql_path(db_path)}' as \"{src}\"")
        con.execute(
            f"attach '{_sql_path(tmp)}' as migrated (storage_version '{WAREHOUSE_STORAGE_VERSION}')"
        )
        con.execute(f'copy from database "{src}" to migrated')
        con.execute("detach migrated")
    finally:
        con.close()
    os.replace(tmp, db_path)
    Path(f"{db_path}.wal").unlink(missing_ok=True)
    return old


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def open_warehouse(db_path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse; a file created here is written in
    WAREHOUSE_STORAGE_VERSION."""
    return duckdb.connect(
        str(db_path),
        read_only=read_only,
        config={"storage_compatibility_version": WAREHOUSE_STORAGE_VERSION},
    )


def connect(db_path: Path, embedding_dim: int) -> duckdb.DuckDBPyConnection:
    """Open (creating) the warehouse and the raw tables. A faces table of another embedding size
    is dropped with its clusters: embeddings of different embedders never mix. A warehouse in a
    newer storage format than DuckDB 1.x clients read is rewritten first, saying so."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    old = migrate_storage(db_path)
    if old:
        print(
            f"note: {db_path} was in DuckDB storage format {old}, which DuckDB 1.x clients "
            f"cannot open; rewrote it in {WAREHOUSE_STORAGE_VERSION}",
            file=sys.stderr,
        )
    con = open_warehouse(db_path)
    con.execute("create schema if not exists raw")
    con.execute(VIDEOS_DDL)
    # Warehouses from before the decoded share: null there (not measured).
    con.execute("alter table raw.videos add column if not exists decoded_share double")
    # fetchall, not fetchone: duckdb 2 refuses new work while a result is half read.
    existing = next(
        iter(
            con.execute(
                "select data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'faces' and column_name = 'embedding'"
            ).fetchall()
        ),
        None,
    )
    if existing and existing[0] != f"FLOAT[{embedding_dim}]":
        con.execute("drop table if exists raw.face_clusters")
        con.execute("drop table raw.faces")
        con.execute("update raw.videos set settings_hash = null")  # forces re-extraction
    con.execute(FACES_DDL.format(dim=embedding_dim, desc_dim=DESCRIPTOR_DIM))
    # Warehouses from before apparent age / the descriptor: the columns are added; their videos
    # are re-extracted anyway (the extraction hash changed), which fills them.
    con.execute("alter table raw.faces add column if not exists age_years double")
    con.execute(
        f"alter table raw.faces add column if not exists faceres_descriptor float[{DESCRIPTOR_DIM}]"
    )
    con.execute(CLUSTERS_DDL)
    con.execute(ID_HISTORY_DDL)
    con.execute(RUNS_DDL)
    con.execute(PEOPLE_CORRECTIONS_DDL)
    ensure_warehouse_id(con)
    con.execute(REVIEW_DDL)
    # Warehouses from before the chance (#47): null there, every row shown until re-clustered.
    con.execute("alter table raw.review_candidates add column if not exists chance double")
    con.execute("alter table raw.review_candidates add column if not exists shown boolean")
    return con


@dataclass(frozen=True)
class RecordedVideo:
    """What raw.videos holds for one video: enough to tell whether a row changed."""

    row_number: int | None
    source_url: str | None
    performance_raw: str | None
    status: str
    error: str | None
    content_sha256: str | None
    settings_hash: str | None


def recorded_videos(
    con: duckdb.DuckDBPyConnection, failed_only: bool = False
) -> dict[str, RecordedVideo]:
    """video_id -> its raw.videos row, read in one query (a re-run of 50,000 rows asks once,
    not once a row)."""
    where = " where status not in ('ok', 'no_faces')" if failed_only else ""
    rows = con.execute(
        "select video_id, row_number, source_url, performance_raw, status, error, "
        f"content_sha256, settings_hash from raw.videos{where}"
    ).fetchall()
    return {r[0]: RecordedVideo(*r[1:]) for r in rows}


def ensure_warehouse_id(con: duckdb.DuckDBPyConnection) -> str:
    """The warehouse's identity, made now if it has none (raw.warehouse_meta)."""
    con.execute("create schema if not exists raw")
    con.execute(WAREHOUSE_META_DDL)
    rows = con.execute("select warehouse_id from raw.warehouse_meta").fetchall()
    if rows:
        return rows[0][0]
    wid = str(uuid.uuid4())
    con.execute("insert into raw.warehouse_meta values (?, ?)", [wid, dt.datetime.now()])
    return wid


def warehouse_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The identity of the warehouse open on ``con``; None when it has none yet."""
    try:
        rows = con.execute("select warehouse_id from raw.warehouse_meta").fetchall()
    except duckdb.CatalogException:  # from before identities
        return None
    return rows[0][0] if rows else None


def warehouse_id_of(db_path: Path) -> str | None:
    """A warehouse file's identity; None when there is no file or it has none yet."""
    return _read(db_path, warehouse_id, None)


def adopt_warehouse_id(con: duckdb.DuckDBPyConnection, warehouse_id: str) -> None:
    """Give the warehouse ``warehouse_id`` as its identity: a warehouse rebuilt from nothing
    takes the identity its corrections file was bound to (ingest.corrections.room)."""
    con.execute(WAREHOUSE_META_DDL)
    con.execute("delete from raw.warehouse_meta")
    con.execute("insert into raw.warehouse_meta values (?, ?)", [warehouse_id, dt.datetime.now()])


def bind_warehouse_id(db_path: Path) -> str:
    """``ensure_warehouse_id`` on an existing warehouse file (one built before identities).
    Raises duckdb.Error when it cannot be opened for writing."""
    con = open_warehouse(db_path)
    try:
        return ensure_warehouse_id(con)
    finally:
        con.close()


def write_people_corrections(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, str]], source_file: str
) -> None:
    """Replace raw.people_corrections with ``rows`` (Correction.row() dicts)."""
    con.execute(PEOPLE_CORRECTIONS_DDL)
    df = pd.DataFrame(
        {
            "action": [r["action"] for r in rows],
            "influencer_id": [int(r["influencer_id"]) for r in rows],
            "other_id": pd.array(
                [int(r["other_id"]) if r["other_id"] else None for r in rows], "Int64"
            ),
            "video_id": [r["video_id"] or None for r in rows],
            "name": [r["name"] or None for r in rows],
            "source_file": source_file,
            "applied_at": dt.datetime.now(),
        }
    )
    con.execute("begin transaction")
    try:
        con.execute("delete from raw.people_corrections")
        if len(df):
            con.register("corrections_df", df)
            con.execute("insert into raw.people_corrections by name select * from corrections_df")
            con.unregister("corrections_df")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def applied(con: duckdb.DuckDBPyConnection) -> tuple[int, str | None] | None:
    """(rows, source file) of the corrections the last clustering of the warehouse open on
    ``con`` applied (source None when no rows); None when it was last clustered before
    raw.people_corrections existed."""
    try:
        n, src = con.execute(
            "select count(*), any_value(source_file) from raw.people_corrections"
        ).fetchall()[0]
    except duckdb.CatalogException:
        return None
    return int(n), src


def applied_corrections(db_path: Path) -> tuple[int, str | None] | None:
    """``applied`` of a warehouse file; None also when there is no file."""
    return _read(db_path, applied, None)


def already_done(con: duckdb.DuckDBPyConnection, rec: VideoRecord) -> bool:
    """Same video, same bytes, same extraction settings, finished before: nothing to write."""
    return is_done(rec, recorded_videos_of(con, [rec.video_id]).get(rec.video_id))


def recorded_videos_of(
    con: duckdb.DuckDBPyConnection, video_ids: list[str]
) -> dict[str, RecordedVideo]:
    """``recorded_videos`` of these videos only."""
    con.register("wanted_ids", pd.DataFrame({"video_id": video_ids}, dtype=object))
    try:
        rows = con.execute(
            "select video_id, row_number, source_url, performance_raw, status, error, "
            "content_sha256, settings_hash from raw.videos semi join wanted_ids using (video_id)"
        ).fetchall()
    finally:
        con.unregister("wanted_ids")
    return {r[0]: RecordedVideo(*r[1:]) for r in rows}


def is_done(rec: VideoRecord, old: RecordedVideo | None) -> bool:
    """An extracted video recorded before with the same bytes, settings and CSV cells."""
    if old is None or old.status not in ("ok", "no_faces"):
        return False
    return (old.content_sha256, old.settings_hash, old.row_number, old.performance_raw) == (
        rec.content_sha256,
        rec.settings_hash,
        rec.row_number,
        rec.performance_raw,
    )


def same_failure(rec: VideoRecord, old: RecordedVideo | None) -> bool:
    """A row without faces recorded before exactly so: writing it again changes nothing."""
    return old is not None and (
        old.row_number,
        old.source_url,
        old.performance_raw,
        old.status,
        old.error,
        old.content_sha256,
    ) == (
        rec.row_number,
        rec.source_url,
        rec.performance_raw,
        rec.status,
        rec.error,
        rec.content_sha256,
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back what is left of a failed transaction. A commit that failed (a full disk) has
    already ended it; rolling back then raises "no transaction is active", which would hide
    the real error, so that one is ignored."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("rollback")


def is_disk_full(exc: BaseException) -> bool:
    """Whether a DuckDB or OS error says the disk (or the quota) is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    msg = str(exc).lower()
    return isinstance(exc, duckdb.Error) and (
        "no space left on device" in msg or "disk quota exceeded" in msg or "disk full" in msg
    )


def close_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Close after a failure: the checkpoint on close may fail the same way (a full disk);
    committed work is in the WAL either way and replays on the next open."""
    with contextlib.suppress(duckdb.Error):
        con.close()


def write_failed_videos(con: duckdb.DuckDBPyConnection, recs: list[VideoRecord]) -> int:
    """Replace the rows of videos without an extraction (rejected, download or decode failed)
    in one transaction: one insert for the lot, not one transaction a row. Their old faces and
    clusters go (a video that decoded before and fails now has none). Returns rows written."""
    if not recs:
        return 0
    now = dt.datetime.now()
    df = pd.DataFrame(
        {
            "video_id": [r.video_id for r in recs],
            "row_number": pd.array([r.row_number for r in recs], dtype="Int32"),
            "source_url": pd.array([r.source_url for r in recs], dtype=object),
            "performance_raw": pd.array([r.performance_raw for r in recs], dtype=object),
            "performance_score": pd.array([r.performance_score for r in recs], dtype="Float64"),
            "status": [r.status for r in recs],
            "error": pd.array([r.error for r in recs], dtype=object),
            "content_sha256": pd.array([r.content_sha256 for r in recs], dtype=object),
            "embedder": pd.array([r.embedder for r in recs], dtype=object),
            "settings_hash": pd.array([r.settings_hash for r in recs], dtype=object),
            "ingested_at": now,
            "decoded_share": pd.array([r.decoded_share for r in recs], dtype="Float64"),
        }
    )
    con.register("failed_df", df)
    con.execute("begin transaction")
    try:
        con.execute(
            "delete from raw.face_clusters where face_id in (select face_id from raw.faces "
            "semi join failed_df using (video_id))"
        )
        con.execute("delete from raw.faces where video_id in (select video_id from failed_df)")
        con.execute("delete from raw.videos where video_id in (select video_id from failed_df)")
        con.execute("insert into raw.videos by name select * from failed_df")
        con.execute("commit")
    except Exception:
        _rollback(con)
        raise
    finally:
        con.unregister("failed_df")
    return len(recs)


def write_video(
    con: duckdb.DuckDBPyConnection,
    rec: VideoRecord,
    x: VideoExtraction | None,
    faces_dir: Path,
) -> int:
    """Replace one video's rows (video + its faces) in a single transaction; returns faces
    written. Face thumbnails are written first, so a committed row never points at nothing."""
    now = dt.datetime.now()
    faces_df = None
    if x is not None and len(x.faces):
        faces_df = _faces_frame(rec.video_id, x, faces_dir)
    con.execute("begin transaction")
    try:
        _delete_video(con, rec.video_id)
        m = x.meta if x is not None else None
        con.execute(
            "insert into raw.videos values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                rec.video_id,
                rec.row_number,
                rec.source_url,
                rec.performance_raw,
                rec.performance_score,
                rec.status,
                rec.error,
                rec.content_sha256,
                m.duration_s if m else None,
                m.fps if m else None,
                m.width if m else None,
                m.height if m else None,
                x.sample_interval_s if x else None,
                x.n_frames_sampled if x else None,
                len(x.faces) if x else None,
                rec.embedder,
                rec.settings_hash,
                now,
                rec.decoded_share,
            ],
        )
        if faces_df is not None:
            dim = faces_df["embedding"].iloc[0].shape[0]
            con.register("faces_df", faces_df)
            con.execute(
                "insert into raw.faces by name select * replace ("
                f"embedding::float[{dim}] as embedding, landmarks::float[10] as landmarks, "
                f"faceres_descriptor::float[{DESCRIPTOR_DIM}] as faceres_descriptor) "
                "from faces_df"
            )
            con.unregister("faces_df")
        con.execute("commit")
    except Exception:
        _rollback(con)
        raise
    return 0 if faces_df is None else len(faces_df)


def _faces_frame(video_id: str, x: VideoExtraction, faces_dir: Path) -> pd.DataFrame:
    f = x.faces
    counter: dict[int, int] = {}
    ids, paths = [], []
    out_dir = faces_dir / video_id
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, fi in enumerate(f.frame_index.tolist()):
        k = counter.get(fi, 0)
        counter[fi] = k + 1
        face_id = f"{video_id}_f{fi}_{k}"
        path = out_dir / f"{face_id}.jpg"
        # Crops are RGB; PIL writes RGB. (OpenCV's imwrite would need BGR: the colour-swap bug.)
        Image.fromarray(f.crops[i]).save(path, quality=90)
        ids.append(face_id)
        paths.append(path.as_posix())
    return pd.DataFrame(
        {
            "face_id": ids,
            "video_id": video_id,
            "frame_index": f.frame_index.astype(np.int32),
            "timestamp_s": f.timestamp_s,
            "x1": f.boxes[:, 0].astype(np.float64),
            "y1": f.boxes[:, 1].astype(np.float64),
            "x2": f.boxes[:, 2].astype(np.float64),
            "y2": f.boxes[:, 3].astype(np.float64),
            "frame_width": x.meta.width,
            "frame_height": x.meta.height,
            "det_score": f.det_score.astype(np.float64),
            "landmarks": list(f.landmarks.reshape(len(f), 10).astype(np.float32)),
            "sharpness": f.sharpness.astype(np.float64),
            "embedder": x.embedder,
            "embedding": list(f.embeddings.astype(np.float32)),
            "crop_path": paths,
            # Faces faceres did not describe (EmbeddingSettings.faceres_per_track): NULL.
            "age_years": pd.Series(f.age.astype(np.float64)).astype("Float64"),
            "faceres_descriptor": [
                None if np.isnan(d).any() else d for d in f.descriptor.astype(np.float32)
            ],
        }
    )


def prune_videos(con: duckdb.DuckDBPyConnection, keep_ids: list[str]) -> int:
    """Remove videos (and their faces) that are no longer in the CSV, in one transaction;
    returns rows removed."""
    con.register("keep_ids", pd.DataFrame({"video_id": keep_ids}, dtype=object))
    try:
        stale = con.execute(
            "select count(*) from raw.videos anti join keep_ids using (video_id)"
        ).fetchall()[0][0]
        if not stale:
            return 0
        con.execute("begin transaction")
        try:
            con.execute(
                "create temp table stale_ids as "
                "select video_id from raw.videos anti join keep_ids using (video_id)"
            )
            con.execute(
                "delete from raw.face_clusters where face_id in (select face_id from raw.faces "
                "semi join stale_ids using (video_id))"
            )
            con.execute("delete from raw.faces where video_id in (select video_id from stale_ids)")
            con.execute("delete from raw.videos where video_id in (select video_id from stale_ids)")
            con.execute("drop table stale_ids")
            con.execute("commit")
        except Exception:
            _rollback(con)
            raise
    finally:
        con.unregister("keep_ids")
    return stale


def _delete_video(con: duckdb.DuckDBPyConnection, video_id: str) -> None:
    """Remove one video's rows (clusters, faces, video); the caller owns the transaction."""
    con.execute(
        "delete from raw.face_clusters where face_id in "
        "(select face_id from raw.faces where video_id = ?)",
        [video_id],
    )
    con.execute("delete from raw.faces where video_id = ?", [video_id])
    con.execute("delete from raw.videos where video_id = ?", [video_id])


def face_embedders(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The embedders whose faces raw.faces holds, sorted."""
    rows = con.execute(
        "select distinct embedder from raw.faces where embedder is not null order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def held_embedders(db_path: Path) -> list[str]:
    """``face_embedders`` of a warehouse file, opened read-only; [] when it is not there, has no
    faces table yet, or is held by a writer."""
    return _read(db_path, face_embedders, [])


def warehouse_embedder(con: duckdb.DuckDBPyConnection) -> str | None:
    """Which embedder this warehouse holds: the one whose faces it clustered
    (raw.face_clusters), else the one of raw.faces when it holds just one; None for an empty or
    new warehouse. The one answer to that question: the CLI, the UDFs and the bench ask here."""
    for table in ("raw.face_clusters", "raw.faces"):
        try:
            names = [
                r[0]
                for r in con.execute(
                    f"select distinct embedder from {table} where embedder is not null"
                ).fetchall()
            ]
        except duckdb.Error:
            continue
        if len(names) == 1 and names[0] in EMBEDDERS:
            return names[0]
    return None


def embedder_of(db_path: Path) -> str | None:
    """``warehouse_embedder`` of a warehouse file, opened read-only; None when it is not there
    or cannot be read now."""
    return _read(db_path, warehouse_embedder, None)


def _read(db_path: Path, query, default):
    """``query(con)`` on the file opened read-only; ``default`` when there is no file or it
    cannot be opened or read (a writer holds it, a table is missing)."""
    if not db_path.is_file():
        return default
    try:
        con = open_warehouse(db_path, read_only=True)
    except duckdb.Error:
        return default
    try:
        return query(con)
    except duckdb.Error:
        return default
    finally:
        con.close()


def influencers_for_csv(db_path: Path) -> pd.DataFrame:
    """One row per influencer for out/influencers.csv (main.influencers, after dbt), hidden
    people last. Raises duckdb.Error when the marts are not there."""
    con = open_warehouse(db_path, read_only=True)
    try:
        return con.execute(
            "select influencer_id, influencer_name as influencer, "
            "avg_performance as average_performance, n_videos as distinct_videos, "
            "representative_face_path as representative_image, is_hidden as hidden "
            "from main.influencers order by is_hidden, avg_performance desc, influencer_id"
        ).df()
    finally:
        con.close()


def person_faces(db_path: Path) -> tuple[NDArray[np.int64], NDArray[np.str_], set[int]] | None:
    """(influencer id, video id) of every assigned face, and every id ever issued; None when
    there is no warehouse. Raises duckdb.Error for a file that is not one of ours."""
    if not db_path.is_file():
        return None
    con = open_warehouse(db_path, read_only=True)
    try:
        issued = issued_ids(con)
        rows = (
            con.execute(
                "select c.cluster_id, f.video_id from raw.face_clusters c join raw.faces f "
                "using (face_id) where c.cluster_id >= 1"
            ).fetchall()
            if issued
            else []
        )
    finally:
        con.close()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    vids = np.array([r[1] for r in rows], dtype=str)
    return ids, vids, issued


def face_people(db_path: Path) -> dict[str, tuple[int, str]]:
    """face id -> (influencer id, video id) of every assigned face (people export/import)."""
    con = open_warehouse(db_path, read_only=True)
    try:
        rows = con.execute(
            "select c.face_id, c.cluster_id, f.video_id from raw.face_clusters c "
            "join raw.faces f using (face_id) where c.cluster_id >= 1"
        ).fetchall()
    finally:
        con.close()
    return {f: (int(c), v) for f, c, v in rows}


def assigned_faces(
    db_path: Path,
) -> tuple[list[str], NDArray[np.int64], NDArray[np.str_], NDArray[np.float64]]:
    """(face ids, influencer ids, video ids, sharpness) of every assigned face, by face id:
    what a correction is anchored on."""
    con = open_warehouse(db_path, read_only=True)
    try:
        rows = con.execute(
            "select c.face_id, c.cluster_id, f.video_id, coalesce(f.sharpness, 0) "
            "from raw.face_clusters c join raw.faces f using (face_id) "
            "where c.cluster_id >= 1 order by c.face_id"
        ).fetchall()
    finally:
        con.close()
    return (
        [r[0] for r in rows],
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=str),
        np.array([r[3] for r in rows], dtype=np.float64),
    )


def clustered_faces(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """(face ids, their video ids) of every face the last clustering saw."""
    rows = con.execute(
        "select f.face_id, f.video_id from raw.faces f join raw.face_clusters using (face_id)"
    ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def person_videos(db_path: Path, influencer_id: int) -> list[tuple[str, int, str, int]]:
    """(video id, CSV row, source URL, faces) of each video one person is in, by CSV row."""
    con = open_warehouse(db_path, read_only=True)
    try:
        return con.execute(
            "select f.video_id, v.row_number, v.source_url, count(*) from raw.face_clusters c "
            "join raw.faces f using (face_id) join raw.videos v using (video_id) "
            "where c.cluster_id = ? group by all order by v.row_number",
            [influencer_id],
        ).fetchall()
    finally:
        con.close()


def load_faces(con: duckdb.DuckDBPyConnection, embedder: str) -> pd.DataFrame:
    """Faces of one embedder for every current video, in a stable order."""
    df = con.execute(
        "select f.face_id, f.video_id, f.frame_index, f.sharpness, f.embedding, f.age_years, "
        "f.faceres_descriptor, least(f.x2 - f.x1, f.y2 - f.y1) as face_px "
        "from raw.faces f join raw.videos v using (video_id) "
        "where f.embedder = ? order by v.row_number, f.frame_index, f.face_id",
        [embedder],
    ).df()
    return df


def face_table(df: pd.DataFrame) -> FaceTable:
    """The clustering input from raw.faces rows (``video_id``, ``frame_index``, ``embedding``,
    ``sharpness``, ``age_years``, ``faceres_descriptor``), aligned with ``df``."""
    video_id = df["video_id"].to_numpy().astype(str)
    embeddings = np.stack(df["embedding"].to_numpy()).astype(np.float32)
    return FaceTable(
        video_id=video_id,
        frame_index=df["frame_index"].to_numpy().astype(np.int64),
        embeddings=embeddings,
        sharpness=df["sharpness"].to_numpy().astype(np.float32),
        age=df["age_years"].to_numpy(dtype=np.float32, na_value=np.nan),
        descriptor=_descriptors(df["faceres_descriptor"], video_id, embeddings),
        face_px=_face_px(df),
    )


def _descriptors(
    col: pd.Series, video_id: NDArray[np.str_], embeddings: NDArray[np.float32]
) -> NDArray[np.float32] | None:
    """(n, k) faceres descriptors from the column ``col``, a face faceres did not describe
    taking its video's nearest described face (``fill_descriptors``); None, so no veto at all
    rather than one over some tracks only, where a video has faces but none described (stored
    before the descriptor existed)."""
    has = col.notna().to_numpy()
    if not has.any():
        return None
    desc = np.full((len(col), len(col[has].iloc[0])), np.nan, dtype=np.float32)
    desc[has] = np.stack(col[has].to_numpy()).astype(np.float32)
    return fill_descriptors(video_id, embeddings, desc)


def _face_px(df: pd.DataFrame) -> NDArray[np.float32] | None:
    """(n,) each face's shorter box side in px, from ``face_px`` or the box columns; None
    when ``df`` has neither."""
    if "face_px" in df:
        return df["face_px"].to_numpy(dtype=np.float32)
    if {"x1", "y1", "x2", "y2"} <= set(df.columns):
        x1, y1, x2, y2 = (df[c].to_numpy(np.float32) for c in ("x1", "y1", "x2", "y2"))
        return np.minimum(x2 - x1, y2 - y1)
    return None


def write_clusters(
    con: duckdb.DuckDBPyConnection, face_ids: list[str], c: Clustering, embedder: str, method: str
) -> None:
    df = pd.DataFrame(
        {
            "face_id": face_ids,
            "cluster_id": c.cluster_id.astype(np.int32),
            "track_id": c.track_id,
            "centroid_similarity": c.centroid_similarity,
            "embedder": embedder,
            "method": method,
            "clustered_at": dt.datetime.now(),
        }
    )
    con.execute("begin transaction")
    try:
        con.execute("delete from raw.face_clusters")
        con.register("clusters_df", df)
        con.execute("insert into raw.face_clusters by name select * from clusters_df")
        con.unregister("clusters_df")
        con.execute("commit")
    except Exception:
        _rollback(con)
        raise


def cluster_snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """face_id -> influencer id of every assigned face after the last clustering. Taken before
    a run writes, because rewriting a video (its CSV row moved) deletes its clusters while its
    faces come back with the same ids."""
    return {
        f: int(c)
        for f, c in con.execute(
            "select face_id, cluster_id from raw.face_clusters where cluster_id >= 1"
        ).fetchall()
    }


def previous_ids(snapshot: dict[str, int], face_ids: list[str]) -> np.ndarray:
    """(n,) each face's id in ``snapshot`` (cluster_snapshot), -1 where it had none."""
    return np.array([snapshot.get(f, -1) for f in face_ids], dtype=np.int64)


def recorded_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Ids with a row in raw.influencer_id_history."""
    return {
        int(r[0])
        for r in con.execute(
            "select distinct influencer_id from raw.influencer_id_history"
        ).fetchall()
    }


def issued_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Every influencer id issued so far (history, plus ids of warehouses from before it)."""
    tables = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    parts = (
        ["select cluster_id from raw.face_clusters where cluster_id >= 1"]
        if "face_clusters" in tables
        else []
    )
    if "influencer_id_history" in tables:
        parts.append("select influencer_id from raw.influencer_id_history")
    if not parts:
        return set()
    return {int(r[0]) for r in con.execute(" union ".join(parts)).fetchall()}


def write_clusters_with_history(
    con: duckdb.DuckDBPyConnection,
    face_ids: list[str],
    c: Clustering,
    embedder: str,
    method: str,
    events: list[tuple[int, str, int | None]],
) -> None:
    """write_clusters and the id events of the same clustering."""
    write_clusters(con, face_ids, c, embedder, method)
    now = dt.datetime.now()
    for iid, event, other in events:
        con.execute(
            "insert into raw.influencer_id_history values (?, ?, ?, ?)", [iid, event, other, now]
        )


def write_run(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    con.execute(
        "insert into raw.ingest_runs by name select * from (select "
        + ", ".join(f"? as {k}" for k in row)
        + ")",
        list(row.values()),
    )


def write_review(
    con: duckdb.DuckDBPyConnection, candidates: list[Candidate], cluster_threshold: float
) -> None:
    """Replace raw.review_candidates with ``candidates`` (ingest.people.review) of the
    clustering just written."""
    now = dt.datetime.now()
    rows = [
        (
            c.kind,
            c.influencer_id,
            c.other_id,
            c.video_id,
            c.distance,
            c.faceres_distance,
            cluster_threshold,
            c.n_shared_videos,
            c.kept_apart_by,
            c.rank,
            now,
            c.chance,
            c.shown,
        )
        for c in candidates
    ]
    con.execute("begin transaction")
    try:
        con.execute("delete from raw.review_candidates")
        if rows:
            con.executemany(
                "insert into raw.review_candidates (kind, influencer_id, other_id, video_id, "
                "distance, faceres_distance, cluster_threshold, n_shared_videos, kept_apart_by, "
                "rank, clustered_at, chance, shown) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
