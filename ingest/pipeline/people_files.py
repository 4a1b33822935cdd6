"""Each warehouse's corrections file, with the warehouse brought in: which file a warehouse
reads, checking a file against it before anything is written, binding an old file, and
carrying corrections to another warehouse by faces. The file format and the pure logic are in
ingest/people/corrections.py; the queries in ingest/warehouse/store.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from ingest.people import corrections as people
from ingest.warehouse import store
from ingest.warehouse.lock import WarehouseError


def default_file(db_path: Path) -> Path:
    """The corrections file a warehouse reads when none is named: its own
    (``people.file_for``). Until that exists, the one shared file from before each warehouse
    had its own (``people.LEGACY_FILE``, no identity line) still applies to a warehouse built
    before then that it fits (every id it names issued there, nothing contradicting), so an
    upgrade loses no names. A warehouse whose corrections came from elsewhere never takes it:
    a new one records its own (empty) corrections on its first run."""
    own = people.file_for(db_path)
    if own.is_file() or not people.LEGACY_FILE.is_file() or not db_path.is_file():
        return own
    applied = store.applied_corrections(db_path)  # None: never clustered since identities
    if applied is not None and applied[1] != str(people.LEGACY_FILE.resolve()):
        return own
    try:
        legacy = people.read_file(people.LEGACY_FILE)
        if legacy.warehouse_id is not None or not legacy.corrections:
            return own
        con = store.open_warehouse(db_path, read_only=True)
        try:
            check_fits(con, legacy.corrections, str(people.LEGACY_FILE))
        finally:
            con.close()
    except (people.CorrectionsError, duckdb.Error):
        return own
    return people.LEGACY_FILE


def check_fits(con, corrections: list[people.Correction], path: str) -> None:
    """people.check_corrections against the warehouse open on ``con``: every id issued there,
    no merge and split undoing each other. Raises people.CorrectionsError."""
    issued = store.issued_ids(con)
    prev, vids = np.zeros(0, np.int64), np.zeros(0, str)
    if issued:
        face_ids, video_ids = store.clustered_faces(con)
        prev = store.previous_ids(store.cluster_snapshot(con), face_ids)
        vids = np.asarray(video_ids, dtype=str)
    people.check_corrections(corrections, path, issued, prev, vids)


def load(db_path: Path, path: Path) -> people.CorrectionsFile:
    """The corrections file, refused (people.ForeignFileError) when it is bound to another
    warehouse; and, when it is missing but the warehouse last applied corrections, refused too:
    a warehouse renamed or copied without its file would otherwise lose its names unseen."""
    f = people.read_file(path)
    people.check_owner(f, store.warehouse_id_of(db_path), db_path)
    if not f.exists:
        n, source = store.applied_corrections(db_path) or (0, None)
        if n:
            raise people.CorrectionsError(
                f"{db_path} last applied {n} corrections from {source}, but its corrections "
                f"file {path} is missing: copy that file to {path} (a renamed or copied "
                "warehouse takes its file along), or, to drop them, write it with just the "
                f"header line {','.join(people.FIELDS)}"
            )
    return f


def save(db_path: Path, path: Path, corrections: list[people.Correction]) -> str:
    """Write the file bound to the warehouse (given an identity now if it was built before
    identities); returns the warehouse's id."""
    wid = store.warehouse_id_of(db_path)
    if wid is None:
        try:
            wid = store.bind_warehouse_id(db_path)
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot give {db_path} an identity ({exc}); close what holds it and retry"
            ) from None
    people.write_corrections(path, corrections, wid)
    return wid


def record_applied(con, path: Path | None, corrections: list[people.Correction]) -> None:
    """After a clustering: the corrections it applied go to raw.people_corrections (what the
    marts read); a missing file is written, empty and bound, so the warehouse has its own from
    its first run on (and the shared file from before never applies to it)."""
    store.write_people_corrections(
        con, [c.row() for c in corrections], "" if path is None else str(path.resolve())
    )
    if path is not None and not path.exists():
        people.write_corrections(path, [], store.ensure_warehouse_id(con))


def bind(db_path: Path, path: Path | None) -> tuple[Path, int]:
    """`ingest people bind`: the file (``path``, else ``default_file``) checked against the
    warehouse, then written bound to it, at ``path`` or the warehouse's own file. Returns
    (file written, corrections)."""
    src = path or default_file(db_path)
    f = _checked(db_path, src)
    target = path or people.file_for(db_path)
    save(db_path, target, f.corrections)
    return target, len(f.corrections)


def _checked(db_path: Path, path: Path) -> people.CorrectionsFile:
    if not db_path.is_file():
        raise WarehouseError(f"no warehouse at {db_path}; run `make build` first")
    f = load(db_path, path)
    con = store.open_warehouse(db_path, read_only=True)
    try:
        check_fits(con, f.corrections, str(path))
    finally:
        con.close()
    return f


def export(db_path: Path, path: Path | None, out: Path) -> people.Export:
    """`ingest people export`: the warehouse's corrections and its faces' people -> ``out``."""
    f = _checked(db_path, path or default_file(db_path))
    faces = {k: v[0] for k, v in store.face_people(db_path).items()}
    ex = people.Export(store.warehouse_id_of(db_path), f.corrections, faces)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(people.format_export(ex), encoding="utf-8")
    return ex


def import_(export_file: Path, db_path: Path, path: Path | None) -> tuple[Path, list[str]]:
    """`ingest people import`: another warehouse's export mapped onto this one's people by
    shared faces (people.map_corrections), added to this warehouse's file after the same checks
    as any edit. Returns (file written, one line per exported correction)."""
    if not export_file.is_file():
        raise people.CorrectionsError(f"no export at {export_file} (`ingest people export`)")
    with export_file.open(newline="", encoding="utf-8") as fh:
        ex = people.parse_export(fh, str(export_file))
    src = path or default_file(db_path)
    f = _checked(db_path, src)
    updated, report = people.map_corrections(ex, store.face_people(db_path), f.corrections)
    target = path or people.file_for(db_path)
    con = store.open_warehouse(db_path, read_only=True)
    try:
        check_fits(con, updated, str(target))
    finally:
        con.close()
    save(db_path, target, updated)
    return target, report
