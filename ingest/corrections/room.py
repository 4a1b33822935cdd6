"""Corrections and the warehouse, one way through.

A run calls ``open_ledger`` once, before it writes anything: the file is read (once) and
checked against the warehouse, opened read-only. The clustering then applies
``ledger.corrections`` (``ingest.corrections.apply``), and ``record`` writes what was applied
to raw.people_corrections and brings the file up to date: bound to the warehouse, every row
anchored on its faces. The ``ingest people`` commands change the file through ``edit`` and
friends, which check the same way and write it atomically in the format it was found in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from ingest.corrections import apply
from ingest.corrections.carry import Export, format_export, map_corrections, parse_export
from ingest.corrections.file import (
    LEGACY_FILE,
    CorrectionsFile,
    file_for,
    read_file,
    write_file,
)
from ingest.corrections.model import ANSWERS, FIELDS, Correction, CorrectionsError, with_correction
from ingest.warehouse import store
from ingest.warehouse.lock import WarehouseError, lock_holder, open_with_wait


class ForeignFileError(CorrectionsError):
    """A corrections file bound to another warehouse than the one it is offered to."""


class BindingLostError(CorrectionsError):
    """A corrections file without its ``# warehouse:`` line offered to a warehouse that has an
    identity: nothing says its ids are this warehouse's."""


@dataclass
class Ledger:
    """The corrections one run applies: read once, checked, applied, recorded."""

    db_path: Path
    path: Path | None  # None: no corrections file (library callers, the bench)
    file: CorrectionsFile
    fresh: bool = False  # the warehouse had issued no id yet when the ledger was opened
    checked: bool = False  # checked against the warehouse (open_ledger or confirm)
    issued: set[int] = field(default_factory=set)  # ids the warehouse had issued, when checked
    adopt: str | None = None  # a warehouse rebuilt from nothing takes its file's identity
    notes: list[str] = field(default_factory=list)  # what recording did to the file

    @property
    def corrections(self) -> list[Correction]:
        return self.file.corrections


def no_ledger(db_path: Path) -> Ledger:
    return Ledger(
        db_path, None, CorrectionsFile(Path(""), None, [], exists=False), fresh=False, checked=True
    )


def default_file(db_path: Path) -> Path:
    """The corrections file a warehouse reads when none is named: its own (``file_for``).
    Until that exists, the one shared file from before each warehouse had its own
    (``LEGACY_FILE``, no identity line) still applies to a warehouse built before then that it
    fits (every id it names issued there, nothing contradicting), so an upgrade loses no names.
    A warehouse whose corrections came from elsewhere never takes it: a new one records its own
    (empty) corrections on its first run."""
    own = file_for(db_path)
    if own.is_file() or not LEGACY_FILE.is_file() or not db_path.is_file():
        return own
    applied = store.applied_corrections(db_path)  # None: never clustered since identities
    if applied is not None and applied[1] != str(LEGACY_FILE.resolve()):
        return own
    try:
        legacy = read_file(LEGACY_FILE)
        if legacy.warehouse_id is not None or not legacy.corrections:
            return own
        con = store.open_warehouse(db_path, read_only=True)
        try:
            check_fits(con, legacy.corrections, str(LEGACY_FILE))
        finally:
            con.close()
    except (CorrectionsError, duckdb.Error):
        return own
    return LEGACY_FILE


def check_fits(con, corrections: list[Correction], path: str) -> None:
    """apply.check_corrections against the warehouse open on ``con``: every id issued there,
    no merge and split undoing each other. Raises CorrectionsError."""
    if not corrections:
        return  # nothing to check: no need to read every face
    issued = store.issued_ids(con)
    prev, vids = np.zeros(0, np.int64), np.zeros(0, str)
    if issued:
        face_ids, video_ids = store.clustered_faces(con)
        prev = store.previous_ids(store.cluster_snapshot(con), face_ids)
        vids = np.asarray(video_ids, dtype=str)
    apply.check_corrections(corrections, path, issued, prev, vids)


def _is_legacy(path: Path) -> bool:
    try:
        return path.resolve() == LEGACY_FILE.resolve()
    except OSError:
        return False


def bind_note(f: CorrectionsFile, db_path: Path) -> str | None:
    """One line for a file with corrections but no identity that was applied all the same (the
    shared file from before identities, or a warehouse from before them): how to bind it to the
    warehouse it was applied to. None for a bound or empty file."""
    if f.warehouse_id is not None or not f.corrections:
        return None
    flag = "" if f.path in (file_for(db_path), LEGACY_FILE) else f" --file {f.path}"
    return (
        f"note: {f.path} is not bound to a warehouse (it predates warehouse identities); "
        f"bind it to {db_path} with `ingest people bind --db {db_path}{flag}`"
    )


def _foreign(f: CorrectionsFile, wid: str | None, db_path: Path) -> ForeignFileError:
    this = f"warehouse {wid}" if wid else "a warehouse with no identity of its own yet"
    return ForeignFileError(
        f"{f.path} holds the corrections of warehouse {f.warehouse_id}, not of {db_path} "
        f"({this}); its own file is {file_for(db_path)} (a warehouse rebuilt from nothing "
        "takes its file from there), and `ingest people export` / `import` carry names "
        "across by faces"
    )


def _binding_lost(f: CorrectionsFile, db_path: Path, exists: bool) -> BindingLostError:
    flag = "" if f.path == file_for(db_path) else f" --file {f.path}"
    then = (
        f"if they are {db_path}'s, run `ingest people bind --db {db_path}{flag}` (it checks "
        "them against the warehouse first)"
        if exists
        else f"move it aside, build {db_path}, then run `ingest people bind --db {db_path} "
        "--file <the moved file>` (it checks them against the warehouse first)"
    )
    return BindingLostError(
        f"{f.path} has {len(f.corrections)} corrections but no `# warehouse: <id>` first line "
        f"(a spreadsheet may have dropped it), so nothing says whose ids they are; {then}"
    )


def _check(con, ledger: Ledger) -> None:
    """The checks of ``open_ledger`` against the warehouse open on ``con``."""
    f, path, db_path = ledger.file, ledger.path, ledger.db_path
    assert path is not None
    wid = store.warehouse_id(con)
    ledger.issued = store.issued_ids(con)
    ledger.fresh = not ledger.issued
    if f.warehouse_id is not None and f.warehouse_id != wid:
        # A warehouse rebuilt from nothing (no id issued yet) takes the identity of its own
        # file, the one beside it; a file from elsewhere is another warehouse's.
        if not ledger.fresh or not _same(path, file_for(db_path)):
            raise _foreign(f, wid, db_path)
        ledger.adopt = f.warehouse_id
    if f.warehouse_id is None and f.corrections:
        legacy = _is_legacy(path) or (wid is None and not ledger.fresh)
        if not legacy:
            raise _binding_lost(f, db_path, not ledger.fresh)
    if not f.exists:
        n, source = store.applied(con) or (0, None)
        if n:
            raise CorrectionsError(
                f"{db_path} last applied {n} corrections from {source}, but its corrections "
                f"file {path} is missing: copy that file to {path} (a renamed or copied "
                "warehouse takes its file along), or, to drop them, write it with just the "
                f"header line {','.join(FIELDS)}"
            )
    if not ledger.fresh:
        check_fits(con, f.corrections, str(path))
    ledger.checked = True


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def open_ledger(db_path: Path, path: Path | None) -> Ledger:
    """Read the corrections file once and check it against the warehouse (read-only), before
    anything is written. Refused (CorrectionsError, one line naming file and line): a file
    bound to another warehouse; a file that lost its binding line; a missing file where the
    warehouse applied corrections before; ids the warehouse never issued; a merge and a split
    undoing each other. A warehouse that has issued no id yet (new, or rebuilt from nothing)
    takes the identity its own file (the one beside it) is bound to: the rows land only on
    the faces they are anchored on. When another process holds the warehouse, the checks
    wait for ``confirm``, which a run calls again just before it writes."""
    if path is None:
        return no_ledger(db_path)
    f = read_file(path)
    ledger = Ledger(db_path, path, f, fresh=True)
    if not db_path.is_file():
        if f.warehouse_id is not None:
            if not _same(path, file_for(db_path)):
                raise _foreign(f, None, db_path)
            ledger.adopt = f.warehouse_id
        if f.warehouse_id is None and f.corrections and not _is_legacy(path):
            raise _binding_lost(f, db_path, exists=False)
        ledger.checked = True
        return ledger
    try:
        con = store.open_warehouse(db_path, read_only=True)
    except duckdb.Error as exc:
        if lock_holder(str(exc)) is not None:
            return ledger  # held by a writer: ``confirm`` checks once the run holds it
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WarehouseError(
            f"cannot read people from {db_path} ({first}); run `make build` first"
        ) from None
    try:
        _check(con, ledger)
    finally:
        con.close()
    return ledger


def confirm(ledger: Ledger, lock_wait_s: float) -> None:
    """The checks ``open_ledger`` could not make because another process held the warehouse,
    just before a run opens it for writing. Waits up to ``lock_wait_s`` for the holder, as the
    run does; read-only, so the warehouse is seen as it was before this run (whose connection
    gives a new warehouse its identity)."""
    if ledger.checked or ledger.path is None or not ledger.db_path.is_file():
        return
    con = open_with_wait(
        lambda: store.open_warehouse(ledger.db_path, read_only=True), ledger.db_path, lock_wait_s
    )
    try:
        _check(con, ledger)
    finally:
        con.close()


def issued_with_file(issued: set[int], ledger: Ledger) -> set[int]:
    """The ids a clustering must treat as issued: in a warehouse that has issued none yet, the
    file's own ids too, so nobody else takes them."""
    return issued | (apply.anchor_ids(ledger.corrections) if ledger.fresh else set())


def record(
    con,
    ledger: Ledger,
    face_ids: list[str],
    prev: NDArray[np.int64],
    video_id: NDArray[np.str_],
    sharpness: NDArray[np.floating],
) -> list[str]:
    """After a clustering under ``ledger``: the identity adopted, the corrections applied
    written to raw.people_corrections (what the marts read), and the file brought up to date:
    written, empty and bound, when missing (the warehouse has its own from its first run on);
    rows without anchors anchored on the faces that carried their ids before this clustering
    (``prev``), unless someone saved the file since it was read. Returns notes for the user."""
    notes: list[str] = []
    if ledger.adopt is not None:
        store.adopt_warehouse_id(con, ledger.adopt)
    corrections = ledger.corrections
    path = ledger.path
    store.write_people_corrections(
        con, [c.row() for c in corrections], "" if path is None else str(path.resolve())
    )
    if path is None:
        return notes
    wid = store.ensure_warehouse_id(con)
    if not ledger.file.exists:
        if path.exists():
            notes.append(f"{path} was written during the run; the next run applies it")
            return notes
        try:
            write_file(path, [], wid)
        except OSError as exc:
            notes.append(f"{path} not written ({exc.strerror or exc}); its warehouse is {wid}")
        return notes
    if not path.exists():
        notes.append(f"{path} went missing during the run; put it back before the next one")
        return notes
    if _is_legacy(path):
        return notes
    anchored = [apply.anchor(c, face_ids, prev, video_id, sharpness) for c in corrections]
    n = sum(1 for a, c in zip(anchored, corrections, strict=True) if a is not c)
    if n == 0:
        return notes
    try:
        unchanged = path.read_bytes() == ledger.file.data
    except OSError:
        unchanged = False
    if not unchanged:
        notes.append(f"{path} changed during the run; its rows were not anchored this time")
        return notes
    try:
        changed = write_file(path, anchored, ledger.file.warehouse_id, ledger.file.fmt)
    except OSError as exc:
        notes.append(f"{path} not anchored ({exc.strerror or exc}); the next run tries again")
        return notes
    notes.append(
        f"{path}: {n} corrections anchored on their faces (a warehouse rebuilt from the same "
        "videos gets them back)"
    )
    if changed:
        notes.append(changed)
    return notes


# --- the people commands ---------------------------------------------------------------


def _need_warehouse(db_path: Path) -> None:
    if not db_path.is_file():
        raise WarehouseError(f"no warehouse at {db_path}; run `make build` first")


def _command_ledger(db_path: Path, path: Path) -> Ledger:
    """``open_ledger`` for a people command, which needs the warehouse now."""
    _need_warehouse(db_path)
    ledger = open_ledger(db_path, path)
    if not ledger.checked:
        raise WarehouseError(
            f"{db_path} is held by another process (a build, a notebook); run this again when "
            "it has finished"
        )
    return ledger


def save(
    db_path: Path, path: Path, corrections: list[Correction], like: CorrectionsFile | None = None
) -> tuple[str, str | None]:
    """Write the file bound to the warehouse (given an identity now if it was built before
    identities), in ``like``'s format (the file as read). Returns (the warehouse's id, a note
    when the format had to change)."""
    wid = store.warehouse_id_of(db_path)
    if wid is None:
        try:
            wid = store.bind_warehouse_id(db_path)
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot give {db_path} an identity ({exc}); close what holds it and retry"
            ) from None
    fmt = like.fmt if like is not None and like.exists else None
    try:
        return wid, write_file(path, corrections, wid, fmt)
    except OSError as exc:
        raise CorrectionsError(f"cannot write {path} ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class Edit:
    target: Path  # the file written
    source: Path  # the file read
    n_before: int  # corrections the source held
    note: str | None  # the format changed


def edit(db_path: Path, path: Path | None, new: Correction, remove: bool = False) -> Edit:
    """One command's change to the warehouse's corrections file: ``new`` anchored on the
    faces its ids carry now, replacing any row about the same question (with ``remove``, that
    row taken away). Checked first: the ids issued, the video one of the person's. Edits go to
    the warehouse's own file (or ``path``), bound to it: a file from before identities is
    bound by its first edit, and the shared one from before is left as it was."""
    source = path or default_file(db_path)
    ledger = _command_ledger(db_path, source)
    face_ids, ids, vids, sharp = store.assigned_faces(db_path)
    for iid in (new.influencer_id, new.other_id):
        if iid is not None and iid not in ledger.issued:
            raise CorrectionsError(f"unknown influencer {iid} in {db_path} (`ingest people list`)")
    live = set(ids.tolist())
    for iid in (new.influencer_id, new.other_id):
        if new.action in ("merge", "apart") and not remove and iid is not None and iid not in live:
            raise CorrectionsError(
                f"influencer {iid} has no faces in {db_path} now (merged into another?); "
                "`ingest people list` shows who is there, `ingest people answers` what was "
                "answered"
            )
    if (
        new.video_id is not None
        and not remove
        and not ((ids == new.influencer_id) & (vids == new.video_id)).any()
    ):
        raise CorrectionsError(
            f"no faces of influencer {new.influencer_id} in video {new.video_id} in "
            f"{db_path} (`ingest people show {new.influencer_id}`)"
        )
    if not remove:
        new = apply.anchor(new, face_ids, ids, vids, sharp)
    updated = with_correction(ledger.corrections, new, remove=remove)
    target = path or file_for(db_path)
    like = ledger.file if target == source else None
    try:
        _, note = save(db_path, target, updated, like)
    except CorrectionsError as exc:
        raise CorrectionsError(f"not written: {exc}") from None
    return Edit(target, source, len(ledger.corrections), note)


def answers(db_path: Path, path: Path | None) -> list[tuple[int, Correction]]:
    """The answers in force (merge, apart, split, keep), numbered from 1 in file order."""
    ledger = _command_ledger(db_path, path or default_file(db_path))
    return list(enumerate((c for c in ledger.corrections if c.action in ANSWERS), start=1))


def undo(db_path: Path, path: Path | None, number: int) -> tuple[Correction, Edit]:
    """Take back answer ``number`` of ``answers``: the question is open again."""
    listed = answers(db_path, path)
    if not 1 <= number <= len(listed):
        raise CorrectionsError(
            f"no answer {number}: {len(listed)} answers (`ingest people answers`)"
        )
    c = listed[number - 1][1]
    return c, edit(db_path, path, c, remove=True)


def bind(db_path: Path, path: Path | None) -> tuple[Path, int]:
    """`ingest people bind`: the file (``path``, else ``default_file``) checked against the
    warehouse (ids issued, and rows anchored on faces here must be anchored on their own
    person's faces), then written bound to it, at ``path`` or the warehouse's own file.
    Returns (file written, corrections)."""
    _need_warehouse(db_path)
    src = path or default_file(db_path)
    f = read_file(src)
    wid = store.warehouse_id_of(db_path)
    con = store.open_warehouse(db_path, read_only=True)
    try:
        issued = store.issued_ids(con)
        if f.warehouse_id is not None and f.warehouse_id != wid and issued:
            raise _foreign(f, wid, db_path)
        check_fits(con, f.corrections, str(src))
        face_ids, _ = store.clustered_faces(con)
        prev = store.previous_ids(store.cluster_snapshot(con), face_ids)
    finally:
        con.close()
    wrong, checkable = apply.disagreeing_anchors(f.corrections, prev, face_ids)
    # A row or two can drift (a re-clustering moved a face); a file written for other people
    # disagrees nearly everywhere.
    if wrong and 2 * len(wrong) >= checkable:
        c, other = wrong[0]
        raise CorrectionsError(
            f"{src}:{c.line}: {c.describe()}: its faces are influencer {other}'s in {db_path}, "
            f"not {c.influencer_id}'s; the file was written for another warehouse "
            f"({len(wrong)} rows disagree): `ingest people export` / `import` carry names "
            "across by faces"
        )
    target = path or file_for(db_path)
    save(db_path, target, f.corrections, f if target == src else None)
    return target, len(f.corrections)


def _checked(db_path: Path, path: Path) -> Ledger:
    return _command_ledger(db_path, path)


def export(db_path: Path, path: Path | None, out: Path) -> Export:
    """`ingest people export`: the warehouse's corrections and its faces' people -> ``out``."""
    ledger = _checked(db_path, path or default_file(db_path))
    faces = {k: v[0] for k, v in store.face_people(db_path).items()}
    ex = Export(store.warehouse_id_of(db_path), ledger.corrections, faces)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(format_export(ex), encoding="utf-8")
    except OSError as exc:
        raise CorrectionsError(f"cannot write {out} ({exc.strerror or exc})") from None
    return ex


def import_(export_file: Path, db_path: Path, path: Path | None) -> tuple[Path, list[str]]:
    """`ingest people import`: another warehouse's export mapped onto this one's people by
    shared faces (carry.map_corrections), added to this warehouse's file after the same checks
    as any edit, and anchored here. Returns (file written, one line per exported correction)."""
    if not export_file.is_file():
        raise CorrectionsError(f"no export at {export_file} (`ingest people export`)")
    with export_file.open(newline="", encoding="utf-8") as fh:
        ex = parse_export(fh, str(export_file))
    src = path or default_file(db_path)
    ledger = _checked(db_path, src)
    updated, report = map_corrections(ex, store.face_people(db_path), ledger.corrections)
    face_ids, ids, vids, sharp = store.assigned_faces(db_path)
    updated = [apply.anchor(c, face_ids, ids, vids, sharp) for c in updated]
    target = path or file_for(db_path)
    con = store.open_warehouse(db_path, read_only=True)
    try:
        check_fits(con, updated, str(target))
    finally:
        con.close()
    save(db_path, target, updated, ledger.file if target == src else None)
    return target, report


def people(db_path: Path, path: Path | None) -> tuple[list[apply.Person], Ledger]:
    """`ingest people list`: one Person per current id, with the file's names and hidden."""
    ledger = _command_ledger(db_path, path or default_file(db_path))
    got = store.person_faces(db_path)
    assert got is not None
    ids, vids, _ = got
    return apply.people_table(ids, vids, ledger.corrections), ledger
