"""People, not cluster numbers: stable influencer ids and hand corrections that survive re-runs.

Three pieces, pure functions over arrays and rows (the CLI and ``ingest.pipeline.runner`` do the I/O):

* **Corrections file**, one per warehouse (``<db>.people.csv`` beside ``<db>.duckdb``,
  ``file_for``): one row per correction in force: ``name``, ``merge``, ``split``, ``hide``.
  The file holds the current state, not a log (renaming replaces the earlier ``name`` row,
  ``unhide`` deletes the ``hide`` row), so nothing depends on row order. Its first line,
  ``# warehouse: <uuid>``, names the warehouse it belongs to (raw.warehouse_meta): ids are a
  warehouse's own, so a file is refused by any other (``check_owner``). Each run copies the
  rows it applied into raw.people_corrections, which the marts read.
* **Constraints**: merges and splits become face groups that ``ingest.people.cluster.cluster_faces``
  turns into track-level must-links and cannot-links, stated in terms of the ids the faces
  carried after the previous run, so every later run re-applies them.
* **Id matching**: each new cluster takes the previous id it shares most faces with (face ids are
  ``<video_id>_f<frame>_<k>``, stable while a video's bytes and extraction settings are), ties to
  the lower id; the rest get ids never issued before. Every id ever issued is in
  ``raw.influencer_id_history`` with its events (created, merged into, split from)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ingest.errors import IngestError

FIELDS = ("action", "influencer_id", "other_id", "video_id", "name")
ACTIONS = ("name", "merge", "split", "hide")
NONE = -1  # no influencer (unassigned face, or a face not seen before)


class CorrectionsError(IngestError, ValueError):
    """A corrections file that cannot be applied; the message names the file and line."""


@dataclass(frozen=True)
class Correction:
    action: str
    influencer_id: int
    other_id: int | None = None  # merge: whose videos become influencer_id's
    video_id: str | None = None  # split: the video whose faces of influencer_id are someone else
    name: str | None = None  # name
    line: int = 0  # line in the file (header = 1); 0 for rows not read from a file

    def row(self) -> dict[str, str]:
        return {
            "action": self.action,
            "influencer_id": str(self.influencer_id),
            "other_id": "" if self.other_id is None else str(self.other_id),
            "video_id": self.video_id or "",
            "name": self.name or "",
        }


def _parse_id(text: str, what: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CorrectionsError(f"{where}: {what} must be a whole number, got {text!r}") from None
    if value < 1:
        raise CorrectionsError(f"{where}: {what} must be 1 or more, got {value}")
    return value


@dataclass(frozen=True)
class CorrectionsFile:
    """A corrections file as read: its rows and the warehouse it is bound to (None: a file from
    before warehouses had identities, or one written by hand without the line)."""

    path: Path
    warehouse_id: str | None
    corrections: list[Correction]
    exists: bool = True


class ForeignFileError(CorrectionsError):
    """A corrections file bound to another warehouse than the one it is offered to."""


def file_for(db_path: Path) -> Path:
    """A warehouse's own corrections file: ``<db stem>.people.csv`` beside it, so a warehouse
    folder carries its corrections, and two warehouses in one folder do not share one."""
    return db_path.with_name(db_path.stem + ".people.csv")


# Where the one corrections file of the repository lived before each warehouse had its own
# (a dbt seed). Read only as a fallback (ingest.pipeline.people_files.default_file).
LEGACY_FILE = Path("dbt_project/seeds/people.csv")

_IDENTITY = re.compile(r"#\s*warehouse:\s*([0-9A-Za-z-]+)")


def identity_line(warehouse_id: str) -> str:
    """The file's first line: which warehouse its ids belong to."""
    return (
        f"# warehouse: {warehouse_id} (ids are this warehouse's; "
        "`ingest people export/import` carries names to another)"
    )


def parse_file(lines: Iterable[str], path: str) -> CorrectionsFile:
    """``parse_corrections``, and the ``# warehouse: <id>`` first line if there is one."""
    lines = list(lines)
    warehouse_id, skip = None, 0
    if lines and lines[0].lstrip().startswith("#"):
        m = _IDENTITY.match(lines[0].strip())
        if m is None:
            raise CorrectionsError(
                f"{path}:1: a first line starting with # must be `# warehouse: <id>`, "
                f"got {lines[0].strip()!r}"
            )
        warehouse_id, skip = m.group(1), 1
    return CorrectionsFile(Path(path), warehouse_id, _parse_rows(lines[skip:], path, skip))


def parse_corrections(lines: Iterable[str], path: str) -> list[Correction]:
    """Rows of a corrections CSV (an optional ``# warehouse: <id>`` line, then header
    ``FIELDS``) -> corrections, checked on their own (no warehouse): known action, the fields
    it needs, one name per id, no self-merge, no row twice. Raises
    CorrectionsError("<path>:<line>: ...") at the first bad line."""
    return parse_file(lines, path).corrections


def _parse_rows(lines: list[str], path: str, offset: int) -> list[Correction]:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return []
    if tuple(h.strip() for h in header) != FIELDS:
        raise CorrectionsError(
            f"{path}:{1 + offset}: header must be {','.join(FIELDS)}, got {','.join(header)}"
        )
    out: list[Correction] = []
    named: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    for row in reader:
        line = reader.line_num + offset
        where = f"{path}:{line}"
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(FIELDS):
            raise CorrectionsError(
                f"{where}: expected {len(FIELDS)} fields ({','.join(FIELDS)}), got {len(row)}"
            )
        action, iid, other, video, name = (c.strip() for c in row)
        if action not in ACTIONS:
            raise CorrectionsError(
                f"{where}: unknown action {action!r} (one of {', '.join(ACTIONS)})"
            )
        c = Correction(action, _parse_id(iid, "influencer_id", where), line=line)
        if action == "merge":
            if not other:
                raise CorrectionsError(
                    f"{where}: merge needs other_id (whose videos become "
                    f"influencer {c.influencer_id}'s)"
                )
            c = Correction(
                action, c.influencer_id, other_id=_parse_id(other, "other_id", where), line=line
            )
            if c.other_id == c.influencer_id:
                raise CorrectionsError(
                    f"{where}: cannot merge influencer {c.influencer_id} with itself"
                )
        elif action == "split":
            if not video:
                raise CorrectionsError(f"{where}: split needs video_id")
            c = Correction(action, c.influencer_id, video_id=video, line=line)
        elif action == "name":
            if not name:
                raise CorrectionsError(f"{where}: name needs a name")
            if c.influencer_id in named:
                raise CorrectionsError(
                    f"{where}: influencer {c.influencer_id} is already named on "
                    f"line {named[c.influencer_id]}"
                )
            named[c.influencer_id] = line
            c = Correction(action, c.influencer_id, name=name, line=line)
        key = (c.action, c.influencer_id, c.other_id, c.video_id)
        if key in seen and action != "name":
            raise CorrectionsError(f"{where}: the same {action} as line {seen[key]}")
        seen[key] = line
        out.append(c)
    return out


def read_file(path: Path) -> CorrectionsFile:
    """The corrections file; no corrections and no identity when there is none."""
    if not path.is_file():
        return CorrectionsFile(path, None, [], exists=False)
    with path.open(newline="", encoding="utf-8") as fh:
        return parse_file(fh, str(path))


def read_corrections(path: Path | None) -> list[Correction]:
    """The corrections file, or no corrections when there is none."""
    return [] if path is None else read_file(path).corrections


def format_corrections(corrections: Sequence[Correction], warehouse_id: str | None = None) -> str:
    """The file's text: the identity line (if any), header + rows in the given order."""
    buf = io.StringIO()
    if warehouse_id is not None:
        buf.write(identity_line(warehouse_id) + "\n")
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(c.row() for c in corrections)
    return buf.getvalue()


def write_corrections(
    path: Path, corrections: Sequence[Correction], warehouse_id: str | None = None
) -> None:
    """Rewrite the file, atomically, after checking it parses back (so what the CLI writes is
    always a file the next run accepts)."""
    text = format_corrections(corrections, warehouse_id)
    parse_file(io.StringIO(text), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def with_correction(
    corrections: Sequence[Correction], new: Correction, remove: bool = False
) -> list[Correction]:
    """The file's rows after the CLI adds ``new`` (or, with ``remove``, takes away the matching
    row: ``unhide``): a new name replaces the old one in place; a row already there is not
    added twice."""
    out: list[Correction] = []
    placed = False
    for c in corrections:
        same = (c.action, c.influencer_id, c.other_id, c.video_id) == (
            new.action,
            new.influencer_id,
            new.other_id,
            new.video_id,
        )
        if new.action == "name" and c.action == "name" and c.influencer_id == new.influencer_id:
            same = True
        if same:
            if not remove and not placed:
                out.append(new)
                placed = True
            continue
        out.append(c)
    if not remove and not placed:
        out.append(new)
    return out


def merge_roots(corrections: Sequence[Correction]) -> dict[int, int]:
    """id -> the id it is merged into, followed through chains (merge 1 2, merge 2 3: 3 -> 1)."""
    parent: dict[int, int] = {}

    def find(a: int) -> int:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    for c in corrections:
        if c.action == "merge":
            assert c.other_id is not None
            keep, gone = find(c.influencer_id), find(c.other_id)
            if keep != gone:
                parent[gone] = keep
    return {a: find(a) for a in parent}


@dataclass
class Plan:
    """What the corrections mean for one clustering: face-row groups for ``cluster_faces`` and
    the previous ids to match new clusters against."""

    must_link: list[NDArray[np.int64]] = field(default_factory=list)
    cannot_link: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = field(default_factory=list)
    match_prev: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    stale: list[str] = field(default_factory=list)  # corrections matching nothing, reported


def check_corrections(
    corrections: Sequence[Correction],
    path: str,
    issued: set[int],
    prev: NDArray[np.int64],
    video_id: NDArray[np.str_],
) -> None:
    """Raise CorrectionsError for corrections the warehouse contradicts: an id never issued, or
    a merge and a split of the same pair (merge A B while a split says B's only video is not A,
    or the other way round). ``prev`` (n,): each current face's id after the last run."""
    for c in corrections:
        for iid in (c.influencer_id, c.other_id):
            if iid is not None and iid not in issued:
                known = f"ids issued so far: 1-{max(issued)}" if issued else "no ids issued yet"
                raise CorrectionsError(
                    f"{path}:{c.line}: unknown influencer {iid} ({known}); "
                    "ids come from the warehouse this file was written for"
                )
    splits = [c for c in corrections if c.action == "split"]
    for m in (c for c in corrections if c.action == "merge"):
        for s in splits:
            pair = {m.influencer_id, m.other_id}
            if s.influencer_id not in pair:
                continue
            other = (pair - {s.influencer_id}).pop()
            theirs = prev == other
            if theirs.any() and (video_id[theirs] == s.video_id).all():
                raise CorrectionsError(
                    f"{path}:{m.line} and line {s.line}: merge {m.influencer_id} {m.other_id} and "
                    f"split {s.influencer_id} --video {s.video_id} contradict each other "
                    f"(influencer {other} is only in that video); keep one"
                )


def check_owner(f: CorrectionsFile, warehouse_id: str | None, db_path: Path) -> None:
    """Raise ForeignFileError when ``f`` is bound to another warehouse than the one at
    ``db_path`` (``warehouse_id``; None: it has no identity yet, being new or from before
    identities). A file with no identity line passes here: its ids alone are checked."""
    if f.warehouse_id is None or f.warehouse_id == warehouse_id:
        return
    this = f"warehouse {warehouse_id}" if warehouse_id else "a warehouse with no identity yet"
    raise ForeignFileError(
        f"{f.path} holds the corrections of warehouse {f.warehouse_id}, not of {db_path} "
        f"({this}); its own are {file_for(db_path)}, and `ingest people export` / "
        "`import` carry names across"
    )


def bind_note(f: CorrectionsFile, db_path: Path) -> str | None:
    """One line for a file with corrections but no identity (it predates them): how to bind
    it to the warehouse it was applied to. None for a bound or empty file."""
    if f.warehouse_id is not None or not f.corrections:
        return None
    flag = "" if f.path in (file_for(db_path), LEGACY_FILE) else f" --file {f.path}"
    return (
        f"note: {f.path} is not bound to a warehouse (it predates warehouse identities); "
        f"bind it to {db_path} with `ingest people bind --db {db_path}{flag}`"
    )


def plan(
    corrections: Sequence[Correction], prev: NDArray[np.int64], video_id: NDArray[np.str_]
) -> Plan:
    """Constraints from the corrections and the faces' previous ids ``prev`` (n,), NONE for
    faces not clustered before; ``video_id`` (n,).

    A merge must-links every face that carried either id (or an id merged into them) except in
    videos split out of them; a split cannot-links the video's faces with the faces that carried
    the id elsewhere. Both are stated in previous ids, so after the first run they still hold:
    the merged faces all carry the kept id, the split video's faces another one."""
    roots = merge_roots(corrections)
    rooted = np.array([roots.get(int(p), int(p)) for p in prev], dtype=np.int64)
    out = Plan(match_prev=rooted.copy())
    present_ids = set(rooted[rooted != NONE].tolist())
    present_videos = set(video_id.tolist())
    split_out: dict[int, set[str]] = {}
    for c in corrections:
        if c.action == "split":
            assert c.video_id is not None
            root = roots.get(c.influencer_id, c.influencer_id)
            if c.video_id not in present_videos:
                out.stale.append(
                    f"line {c.line}: split {c.influencer_id} --video {c.video_id}: "
                    "the video is not in the warehouse"
                )
                continue
            split_out.setdefault(root, set()).add(c.video_id)
            in_video = video_id == c.video_id
            elsewhere = (rooted == root) & ~in_video
            if elsewhere.any():
                out.cannot_link.append((np.flatnonzero(in_video), np.flatnonzero(elsewhere)))
            # The id stays with the faces outside the video, however many the video holds.
            out.match_prev[in_video & (rooted == root)] = NONE
        elif roots.get(c.influencer_id, c.influencer_id) not in present_ids:
            what = {
                "merge": f"merge {c.influencer_id} {c.other_id}",
                "name": f"name {c.influencer_id} {c.name!r}",
                "hide": f"hide {c.influencer_id}",
            }[c.action]
            out.stale.append(f"line {c.line}: {what}: no face carries that id now")
    for root in sorted(set(roots.values())):
        members = rooted == root
        for v in split_out.get(root, ()):
            members &= video_id != v
        if members.any():
            out.must_link.append(np.flatnonzero(members))
    return out


def match_ids(
    groups: NDArray[np.int64], prev: NDArray[np.int64], issued_max: int
) -> NDArray[np.int64]:
    """New cluster labels ``groups`` (n,), 1.. or NONE, -> stable ids (n,).

    Greedy on shared faces with ``prev`` (n,): the (group, old id) pair sharing the most faces
    is matched first, ties to the lower old id, then the group with the earlier first face; each
    old id and group is matched once. Unmatched groups get ids from ``issued_max`` + 1, in
    order of (distinct faces desc, first face), so the same input gives the same ids."""
    out = np.full(len(groups), NONE, dtype=np.int64)
    labels = np.unique(groups[groups != NONE])
    first = {int(g): int(np.flatnonzero(groups == g)[0]) for g in labels}
    pairs = []
    both = (groups != NONE) & (prev != NONE)
    if both.any():
        keys, counts = np.unique(
            np.stack([groups[both], prev[both]], axis=1), axis=0, return_counts=True
        )
        pairs = sorted(
            (
                (-int(n), int(old), first[int(g)], int(g))
                for (g, old), n in zip(keys, counts, strict=True)
            )
        )
    new_id: dict[int, int] = {}
    taken: set[int] = set()
    for _, old, _, g in pairs:
        if g not in new_id and old not in taken:
            new_id[g] = old
            taken.add(old)
    fresh = sorted(
        (-int((groups == g).sum()), first[int(g)], int(g)) for g in labels if int(g) not in new_id
    )
    for k, (_, _, g) in enumerate(fresh, start=issued_max + 1):
        new_id[g] = k
    for g, iid in new_id.items():
        out[groups == g] = iid
    return out


def id_events(
    before: NDArray[np.int64], after: NDArray[np.int64], recorded: set[int] | None = None
) -> list[tuple[int, str, int | None]]:
    """(influencer_id, event, other_id) rows for one re-clustering, ``before``/``after`` (n,)
    being each face's id before and after: ``created`` for a new id (and ``split_from`` the old
    id most of its faces carried, if any), ``merged_into`` for an old id whose faces now carry
    another id (the one holding most of them). An id whose faces all left (videos removed,
    faces now unassigned) has no event: it may come back with its videos. Old ids missing from
    ``recorded`` (the history's ids; a warehouse from before the history) get their
    ``created`` now, so they are never issued again."""
    old_ids = set(before[before != NONE].tolist())
    new_ids = set(after[after != NONE].tolist())
    events: list[tuple[int, str, int | None]] = (
        [(iid, "created", None) for iid in sorted(old_ids - recorded)]
        if recorded is not None
        else []
    )

    def most(ids: NDArray[np.int64]) -> int | None:
        ids = ids[ids != NONE]
        if len(ids) == 0:
            return None
        vals, counts = np.unique(ids, return_counts=True)
        return int(vals[np.lexsort((vals, -counts))[0]])

    for iid in sorted(new_ids - old_ids):
        events.append((iid, "created", None))
        src = most(before[after == iid])
        if src is not None:
            events.append((iid, "split_from", src))
    for iid in sorted(old_ids - new_ids):
        dst = most(after[before == iid])
        if dst is not None:
            events.append((iid, "merged_into", dst))
    return events


@dataclass(frozen=True)
class Person:
    influencer_id: int
    name: str
    n_videos: int
    n_faces: int
    hidden: bool


def default_name(influencer_id: int) -> str:
    """The name shown until someone gives one (the marts write the same)."""
    return f"Person {influencer_id}"


def people_table(
    ids: NDArray[np.int64], video_id: NDArray[np.str_], corrections: Sequence[Correction]
) -> list[Person]:
    """One Person per current id (faces ``ids`` (n,), ``video_id`` (n,)), with the file's name
    and hide rows, by id."""
    names = {c.influencer_id: c.name for c in corrections if c.action == "name"}
    hidden = {c.influencer_id for c in corrections if c.action == "hide"}
    out = []
    for iid in np.unique(ids[ids != NONE]).tolist():
        mask = ids == iid
        out.append(
            Person(
                iid,
                names.get(iid) or default_name(iid),
                len(np.unique(video_id[mask])),
                int(mask.sum()),
                iid in hidden,
            )
        )
    return out


# `ingest people export`: a warehouse's corrections and every assigned face's id, one CSV, so
# another warehouse can map the people by the faces they share (face ids are
# <video_id>_f<frame>_<k>: the same wherever a video was extracted with the same settings).
EXPORT_FIELDS = ("kind", *FIELDS[1:], "face_id")


@dataclass(frozen=True)
class Export:
    warehouse_id: str | None
    corrections: list[Correction]
    faces: dict[str, int]  # face id -> influencer id in the exporting warehouse


def format_export(ex: Export) -> str:
    buf = io.StringIO()
    buf.write(f"# people export of warehouse: {ex.warehouse_id or 'unknown'}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EXPORT_FIELDS)
    for c in ex.corrections:
        r = c.row()
        w.writerow([r[k] for k in FIELDS] + [""])
    for face_id, iid in sorted(ex.faces.items()):
        w.writerow(["face", iid, "", "", "", face_id])
    return buf.getvalue()


def parse_export(lines: Iterable[str], path: str) -> Export:
    """An ``format_export`` file -> Export; raises CorrectionsError naming file and line."""
    lines = list(lines)
    m = re.match(r"#\s*people export of warehouse:\s*(\S+)", lines[0]) if lines else None
    if m is None or len(lines) < 2 or lines[1].strip() != ",".join(EXPORT_FIELDS):
        raise CorrectionsError(
            f"{path}: not a people export (`ingest people export` writes one: a "
            f"'# people export of warehouse: <id>' line, then {','.join(EXPORT_FIELDS)})"
        )
    faces: dict[str, int] = {}
    rows = [",".join(FIELDS) + "\n"]
    for k, row in enumerate(csv.reader(lines[2:]), start=3):
        if not row:
            continue
        if row[0] == "face":
            faces[row[-1]] = _parse_id(row[1], "influencer_id", f"{path}:{k}")
        else:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(row[: len(FIELDS)])
            rows.append(buf.getvalue())
    wid = None if m.group(1) == "unknown" else m.group(1)
    return Export(wid, _parse_rows(rows, path, 0), faces)


def _best(counts: dict[tuple[int, int], int], side: int) -> dict[int, int]:
    """For each id on ``side`` (0 or 1) of the (a, b) pairs: the partner sharing most faces,
    ties to the lower id."""
    best: dict[int, tuple[int, int]] = {}
    for pair, n in counts.items():
        me, other = pair[side], pair[1 - side]
        if me not in best or (-n, other) < (-best[me][1], best[me][0]):
            best[me] = (other, n)
    return {k: v[0] for k, v in best.items()}


def map_corrections(
    ex: Export,
    b_faces: dict[str, tuple[int, str]],
    b_corrections: Sequence[Correction],
) -> tuple[list[Correction], list[str]]:
    """Carry an export's corrections into warehouse B, by faces, never by id number.

    ``b_faces``: B's assigned faces, face id -> (influencer id, video id). A's person ``a``
    becomes B's ``b`` when each is the other's best match by shared faces (ties to the lower
    id): a B person who is mostly someone else never takes A's name. A merge becomes merges of
    the B people whose best match is A's merged person (B still holds them apart); a split
    becomes a split where B's person still holds faces of the video. Returns B's corrections
    with the carried ones added, and one line per correction (carried, or why not)."""
    counts: dict[tuple[int, int], int] = {}
    for face_id, a in ex.faces.items():
        if face_id in b_faces:
            key = (a, b_faces[face_id][0])
            counts[key] = counts.get(key, 0) + 1
    best_b, best_a = _best(counts, 0), _best(counts, 1)
    roots = merge_roots(ex.corrections)
    out = list(b_corrections)
    named = {c.influencer_id: c.name for c in b_corrections if c.action == "name"}
    report: list[str] = []

    def mapped(a: int) -> int | None:
        b = best_b.get(roots.get(a, a))
        return b if b is not None and best_a.get(b) == roots.get(a, a) else None

    for c in ex.corrections:
        what = {
            "name": f"name {c.influencer_id} {c.name!r}",
            "hide": f"hide {c.influencer_id}",
            "merge": f"merge {c.influencer_id} {c.other_id}",
            "split": f"split {c.influencer_id} --video {c.video_id}",
        }[c.action]
        b = mapped(c.influencer_id)
        if b is None:
            report.append(f"{what}: not carried (no person here is its best match by faces)")
            continue
        a = roots.get(c.influencer_id, c.influencer_id)
        new: list[Correction] = []
        if c.action == "name":
            if named.get(b) not in (None, c.name):
                report.append(f"{what}: not carried ({b} is already named {named[b]!r} here)")
                continue
            named[b] = c.name
            new = [Correction("name", b, name=c.name)]
        elif c.action == "hide":
            new = [Correction("hide", b)]
        elif c.action == "merge":
            same = sorted(k for k, v in best_a.items() if v == a and k != b)
            new = [Correction("merge", b, other_id=k) for k in same]
        elif c.action == "split":
            assert c.video_id is not None
            held = any(v == (b, c.video_id) for v in b_faces.values())
            new = [Correction("split", b, video_id=c.video_id)] if held else []
        if not new:
            report.append(f"{what}: nothing to do here (already so)")
            continue
        for n in new:
            out = with_correction(out, n)
        shown = ", ".join(
            f"{n.action} {n.influencer_id}"
            + (f" {n.other_id}" if n.other_id else "")
            + (f" --video {n.video_id}" if n.video_id else "")
            for n in new
        )
        report.append(f"{what} -> {shown} ({counts[(a, b)]} shared faces)")
    return out, report
