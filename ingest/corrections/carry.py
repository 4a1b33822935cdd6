"""Carry corrections to another warehouse by the faces the two share, never by id number
(`ingest people export` / `import`): a warehouse's corrections and every assigned face's id in
one CSV; another warehouse maps the people by the faces they share (face ids are
<video_id>_f<frame>_<k>: the same wherever a video was extracted with the same settings)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.corrections.model import (
    ANSWERS,
    OLD_FIELDS,
    Correction,
    CorrectionsError,
    check_together,
    from_cells,
    merge_roots,
    parse_id,
    with_correction,
)

# `ingest people export`: a warehouse's corrections and every assigned face's id, one CSV, so
# another warehouse can map the people by the faces they share (face ids are
# <video_id>_f<frame>_<k>: the same wherever a video was extracted with the same settings).
EXPORT_FIELDS = ("kind", *OLD_FIELDS[1:], "face_id")


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
        w.writerow([r[k] for k in OLD_FIELDS] + [""])
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
    corrections: list[Correction] = []
    for k, row in enumerate(csv.reader(lines[2:]), start=3):
        if not row:
            continue
        if row[0] == "face":
            faces[row[-1]] = parse_id(row[1], "influencer_id", f"{path}:{k}")
        else:
            cells = dict(zip(OLD_FIELDS, (c.strip() for c in row[: len(OLD_FIELDS)]), strict=False))
            for f in OLD_FIELDS:
                cells.setdefault(f, "")
            corrections.append(from_cells(cells, f"{path}:{k}", k))
    check_together(corrections, path)
    wid = None if m.group(1) == "unknown" else m.group(1)
    return Export(wid, corrections, faces)


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
    the B people whose best match is A's merged person (B still holds them apart); a split or
    a "one person" answer carries where B's person still holds faces of the video, and a
    "different" answer where both people have their match. Returns B's corrections
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

    answered = {c.key(): c for c in b_corrections if c.action in ANSWERS}
    for c in ex.corrections:
        what = c.describe()
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
        elif c.action in ("split", "keep"):
            assert c.video_id is not None
            held = any(v == (b, c.video_id) for v in b_faces.values())
            new = [Correction(c.action, b, video_id=c.video_id)] if held else []
        elif c.action == "apart":
            assert c.other_id is not None
            b2 = mapped(c.other_id)
            if b2 is None:
                report.append(f"{what}: not carried (no person here is {c.other_id}'s match)")
                continue
            new = [Correction("apart", b, other_id=b2)] if b2 != b else []
        if not new:
            report.append(f"{what}: nothing to do here (already so)")
            continue
        # A question this warehouse answered otherwise keeps its own answer.
        other = [
            answered[n.key()]
            for n in new
            if n.key() in answered and answered[n.key()].action != n.action
        ]
        if other:
            report.append(f"{what}: not carried (answered here otherwise: {other[0].describe()})")
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
