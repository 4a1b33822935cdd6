"""Check the warehouse before a run downloads anything, and name a full disk as one.

A run downloads and extracts first and writes last (ingest.warehouse.lock says why), so a
warehouse that cannot be written must be found before the downloads, not hours after them.
``preflight`` opens the file read-only (it never changes it), reads its header and every raw
table, checks that its folder can be written and has room, and returns what the warehouse
already records, so a re-run skips rows whose failure it holds.

A stale write-ahead log (a ``.wal`` left from another state of the file) makes every open fail
while the data beside it is intact: the log is moved aside to a dated name, never deleted, and
kept there when DuckDB then opens the file cleanly.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingest.warehouse import store
from ingest.warehouse.lock import WarehouseError, lock_holder

# DuckDB's file: a 4 KiB main header and two 4 KiB database headers, then fixed-size blocks.
HEADER_BYTES = 3 * 4096
# raw.videos columns every warehouse of this tool has had; a table without them is another's.
_VIDEO_COLUMNS = {"video_id", "row_number", "source_url", "status", "error", "content_sha256"}
# Room a run needs, at least: a row of raw.videos and its share of the log and the checkpoint
# (measured: about 1 KiB a failed row, twice over while the log is checkpointed), plus a few
# of DuckDB's 256 KiB blocks. Faces add more; this is the floor below which a run cannot end.
ROW_BYTES = 2048
BASE_BYTES = 4 * 2**20


class WarehouseDamaged(WarehouseError):
    """The warehouse file is cut short, corrupt, or not a warehouse (left untouched)."""


class DiskFull(WarehouseError):
    """No room left where the warehouse or its face thumbnails are written."""


@dataclass
class Preflight:
    exists: bool  # a warehouse file was there
    free_bytes: int  # on the warehouse's disk
    failed: dict[str, store.RecordedVideo] = field(default_factory=dict)  # recorded failures
    notes: list[str] = field(default_factory=list)  # what was done (a WAL moved aside)


def preflight(db_path: Path, n_rows: int) -> Preflight:
    """Check ``db_path`` before any download: it opens, its header and raw tables read, it is
    a warehouse of this tool, its folder is writable with room for ``n_rows`` rows. Raises a
    WarehouseError subclass with one line saying what is wrong and what to do; never writes
    the file (a stale WAL beside it is renamed, see the module)."""
    if db_path.is_dir():
        raise WarehouseError(
            f"--db {db_path} is a folder: point --db at a file (e.g. warehouse.duckdb)"
        )
    folder = db_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".ingest-check-"):
            pass
    except OSError as exc:
        raise WarehouseError(
            f"cannot write in {folder} ({exc.strerror or exc}), where the warehouse {db_path.name} "
            "and its log go: point --db at a folder you can write"
        ) from None
    notes: list[str] = []
    failed: dict[str, store.RecordedVideo] = {}
    exists = db_path.is_file()
    if exists:
        try:
            fd = os.open(db_path, os.O_RDWR)
            os.close(fd)
        except OSError as exc:
            raise WarehouseError(
                f"cannot write the warehouse {db_path} ({exc.strerror or exc}): make it "
                "writable, or point --db at a new file"
            ) from None
        con = _open_read_only(db_path, notes)
        if con is not None:
            try:
                failed = _check_contents(con, db_path)
            finally:
                con.close()
    free = shutil.disk_usage(folder).free
    need = BASE_BYTES + ROW_BYTES * n_rows
    if free < need:
        raise DiskFull(
            f"disk full: {folder} has {_mib(free)} free, and writing {n_rows} rows to "
            f"{db_path.name} needs at least {_mib(need)} (faces need more): free space there, "
            "or point --db at another disk"
        )
    return Preflight(exists, free, failed, notes)


def full_disk_error(
    exc: BaseException, db_path: Path, faces_dir: Path, written: int, total: int
) -> DiskFull | None:
    """The one-line error for a write that failed on a full disk, else None. Rows committed
    before it stay (each batch is a transaction); a re-run resumes from them."""
    if not store.is_disk_full(exc):
        return None
    where = faces_dir if isinstance(exc, OSError) else db_path
    try:
        free = f"{_mib(shutil.disk_usage(where if where.is_dir() else where.parent).free)} free"
    except OSError:
        free = "free space unknown"
    what = "the face thumbnails in" if where == faces_dir else "the warehouse"
    return DiskFull(
        f"disk full writing {what} {where} ({free}); {written} of {total} rows were written "
        "before it and are kept: free space on that disk (or point --db/--faces-dir at "
        "another), then run again, and the run goes on from there"
    )


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _open_read_only(db_path: Path, notes: list[str]) -> duckdb.DuckDBPyConnection | None:
    """The warehouse opened read-only, a stale WAL moved aside if that is what stops it; None
    when another process holds it for writing (the run waits for it before writing)."""
    try:
        return store.open_warehouse(db_path, read_only=True)
    except duckdb.Error as exc:
        msg = str(exc)
        if lock_holder(msg) is not None:
            return None
        wal = Path(f"{db_path}.wal")
        if wal.is_file() and _is_wal_failure(msg):
            return _without_stale_wal(db_path, wal, msg, notes)
        raise _unreadable(db_path, msg) from None


def _is_wal_failure(msg: str) -> bool:
    m = msg.lower()
    return "wal" in m and (
        "replaying" in m or "does not match" in m or "checkpoint iteration" in m or "wal file" in m
    )


def _without_stale_wal(
    db_path: Path, wal: Path, msg: str, notes: list[str]
) -> duckdb.DuckDBPyConnection:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = wal.with_name(f"{wal.name}.stale-{stamp}")
    first = _first_line(msg)
    try:
        wal.rename(aside)
    except OSError as exc:
        raise WarehouseDamaged(
            f"the warehouse {db_path} does not open: its write-ahead log {wal.name} is stale "
            f"({first}), and it could not be moved aside ({exc.strerror or exc}); run "
            f"`mv '{wal}' '{aside}'`, then run again (the log is kept, not deleted)"
        ) from None
    try:
        con = store.open_warehouse(db_path, read_only=True)
    except duckdb.Error as exc2:
        # Not the log's fault after all: put it back, leaving everything as it was.
        aside.rename(wal)
        raise _unreadable(db_path, str(exc2), also=f"with or without its log {wal.name}") from None
    notes.append(
        f"the warehouse's write-ahead log was stale ({first}); moved it aside to {aside} (kept, "
        f"not deleted) and {db_path.name} opens cleanly without it. Changes only that log held "
        "are not in the warehouse; delete the file once you are sure you do not need it"
    )
    return con


def _unreadable(
    db_path: Path, msg: str, also: str = "", what: str = "does not open"
) -> WarehouseDamaged:
    first = _first_line(msg)
    keep = "it was left as it is"
    if "not a valid duckdb database" in msg.lower():
        return WarehouseDamaged(
            f"--db {db_path} is not a DuckDB warehouse (the file is {_looks_like(db_path)}): "
            f"point --db at a new file, or restore the warehouse from a backup; {keep}"
        )
    return WarehouseDamaged(
        f"the warehouse {db_path} is damaged and {what}{' ' + also if also else ''} "
        f"({first}): restore it from a backup, or point --db at a new file; {keep}"
    )


def _looks_like(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError:
        return "unreadable"
    if not head:
        return "empty"
    if head.startswith(b"SQLite format 3\x00"):
        return "an SQLite database"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b")):
        return "an archive"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "text"
    return "of another kind"


def _check_contents(
    con: duckdb.DuckDBPyConnection, db_path: Path
) -> dict[str, store.RecordedVideo]:
    """Raise WarehouseDamaged for a file cut short, unreadable tables, or another program's
    DuckDB file; return the recorded failures."""
    try:
        size = con.execute("pragma database_size").fetchall()[0]
        # DuckDB trims free blocks off the end of the file, so the blocks in use are the
        # floor: a file shorter than that lost some of them.
        block_size, used_blocks = int(size[2]), int(size[4])
        expected = HEADER_BYTES + block_size * used_blocks if used_blocks else 0
        actual = db_path.stat().st_size
        if actual < expected:
            raise WarehouseDamaged(
                f"the warehouse {db_path} is cut short: {actual} bytes, where the blocks its "
                f"header lists in use need {expected} (copied while it was written, or a disk error): restore it "
                "from a backup, or point --db at a new file; it was left as it is"
            )
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
        raw = {t for s, t in tables if s == "raw"}
        if tables and "videos" not in raw:
            shown = ", ".join(f"{s}.{t}" for s, t in tables[:5])
            raise WarehouseDamaged(
                f"--db {db_path} is another program's DuckDB database (it holds {shown}"
                f"{' ...' if len(tables) > 5 else ''}, and no raw.videos): point --db at a new "
                "file; it was left as it is"
            )
        if not raw:
            return {}
        cols = {
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where database_name = "
                "current_database() and schema_name = 'raw' and table_name = 'videos'"
            ).fetchall()
        }
        if not cols >= _VIDEO_COLUMNS:
            raise WarehouseDamaged(
                f"--db {db_path} has a raw.videos table of another shape (missing "
                f"{', '.join(sorted(_VIDEO_COLUMNS - cols))}): it is not this tool's "
                "warehouse; point --db at a new file; it was left as it is"
            )
        # Read every column of every raw table once: a block cut off or corrupt fails here,
        # before the downloads, not in the middle of the writes.
        for table in sorted(raw):
            con.execute(f'select count(hash(columns(*))) from raw."{table}"').fetchall()
        return store.recorded_videos(con, failed_only=True)
    except duckdb.Error as exc:
        raise _unreadable(db_path, str(exc), what="cannot be read") from None


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else msg
