"""What a correction is: one row of a warehouse's corrections file, checked on its own.

The file holds the corrections in force, not a log: a new name replaces the old one, and an
answer replaces the opposite answer to the same question (``with_correction``), so nothing
depends on row order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.errors import IngestError

# The file's columns. ``face`` and ``other_face`` anchor a row on the faces it is about
# (space-separated face ids, ``<video_id>_f<frame>_<k>``): ids are a warehouse's own numbers,
# faces are the same in every warehouse built from the same video with the same settings.
FIELDS = ("action", "influencer_id", "other_id", "video_id", "name", "face", "other_face")
# The columns before anchors: still read.
OLD_FIELDS = FIELDS[:5]

# The hand corrections, then the answers to "Check these": ``apart`` answers "maybe the same
# person" with "different", ``keep`` answers "maybe two people" with "one person" (``merge``
# and ``split`` are the other answers).
ACTIONS = ("name", "merge", "split", "hide", "apart", "keep")
# What each action needs beside influencer_id.
NEEDS = {
    "name": "name",
    "merge": "other_id",
    "apart": "other_id",
    "split": "video_id",
    "keep": "video_id",
    "hide": None,
}
ANSWERS = ("merge", "apart", "split", "keep")

NONE = -1  # no influencer (unassigned face, or a face not seen before)
FACE_ID = re.compile(r"^\S+_f\d+_\d+$")  # <video_id>_f<frame>_<k>


class CorrectionsError(IngestError, ValueError):
    """A corrections file that cannot be applied; the message names the file and line."""


@dataclass(frozen=True)
class Correction:
    action: str
    influencer_id: int
    other_id: int | None = None  # merge: whose videos become influencer_id's; apart: the other
    video_id: str | None = None  # split / keep: the video whose faces of influencer_id it is about
    name: str | None = None  # name
    # Anchors: faces that carried influencer_id (outside video_id for split and keep) and
    # other_id (for split and keep: influencer_id's faces inside video_id) when it was written.
    face: tuple[str, ...] = ()
    other_face: tuple[str, ...] = ()
    line: int = 0  # line in the file (header = 1); 0 for rows not read from a file

    def row(self) -> dict[str, str]:
        return {
            "action": self.action,
            "influencer_id": str(self.influencer_id),
            "other_id": "" if self.other_id is None else str(self.other_id),
            "video_id": self.video_id or "",
            "name": self.name or "",
            "face": " ".join(self.face),
            "other_face": " ".join(self.other_face),
        }

    def key(self) -> tuple:
        """What the row is about: two rows with one key are the same question. ``apart`` and
        ``merge`` are about a pair, in either order."""
        if self.action in ("merge", "apart"):
            assert self.other_id is not None
            pair = (min(self.influencer_id, self.other_id), max(self.influencer_id, self.other_id))
            return ("pair", *pair)
        if self.action in ("split", "keep"):
            return ("video", self.influencer_id, self.video_id)
        return (self.action, self.influencer_id)

    def describe(self) -> str:
        """The row as the command that writes it (without ``ingest people``)."""
        if self.action == "name":
            return f"name {self.influencer_id} {self.name!r}"
        if self.action in ("merge", "apart"):
            return f"{self.action} {self.influencer_id} {self.other_id}"
        if self.action in ("split", "keep"):
            return f"{self.action} {self.influencer_id} --video {self.video_id}"
        return f"{self.action} {self.influencer_id}"

    @property
    def anchored(self) -> bool:
        return bool(self.face) and (
            self.action not in ("merge", "apart", "split", "keep") or bool(self.other_face)
        )


def parse_id(text: str, what: str, where: str) -> int:
    t = text.strip()
    # A spreadsheet may show a whole number as 3.0
    if t.endswith(".0") and t[:-2].isdigit():
        t = t[:-2]
    try:
        value = int(t)
    except ValueError:
        raise CorrectionsError(f"{where}: {what} must be a whole number, got {text!r}") from None
    if value < 1:
        raise CorrectionsError(f"{where}: {what} must be 1 or more, got {value}")
    return value


def from_cells(cells: dict[str, str], where: str, line: int) -> Correction:
    """One row's cells (stripped, by column) -> a Correction checked on its own."""
    action = cells["action"].lower()
    if action not in ACTIONS:
        raise CorrectionsError(
            f"{where}: unknown action {cells['action']!r} (one of {', '.join(ACTIONS)})"
        )
    iid = parse_id(cells["influencer_id"], "influencer_id", where)
    faces = tuple(cells.get("face", "").split())
    other_faces = tuple(cells.get("other_face", "").split())
    for tok in (*faces, *other_faces):
        if not FACE_ID.match(tok):
            raise CorrectionsError(
                f"{where}: {tok!r} is not a face id (<video_id>_f<frame>_<k>) in face or "
                "other_face; a name with a comma needs quotes around it"
            )
    need = NEEDS[action]
    c = Correction(action, iid, face=faces, other_face=other_faces, line=line)
    if need == "other_id":
        if not cells["other_id"]:
            what = "whose videos become" if action == "merge" else "the other person than"
            raise CorrectionsError(f"{where}: {action} needs other_id ({what} influencer {iid})")
        other = parse_id(cells["other_id"], "other_id", where)
        if other == iid:
            raise CorrectionsError(f"{where}: cannot {action} influencer {iid} with itself")
        return replace(c, other_id=other)
    if need == "video_id":
        if not cells["video_id"]:
            raise CorrectionsError(f"{where}: {action} needs video_id")
        return replace(c, video_id=cells["video_id"])
    if need == "name":
        if not cells["name"]:
            raise CorrectionsError(f"{where}: name needs a name")
        return replace(c, name=cells["name"])
    return c


def check_together(corrections: Sequence[Correction], where: str) -> None:
    """Rows that contradict each other within one file: one question asked twice, two names
    for one id, or an ``apart`` pair that merges join (merge 1 2, merge 2 3, apart 1 3).
    ``where``: the file, for the message."""
    seen: dict[tuple, Correction] = {}
    for c in corrections:
        k = c.key()
        if k in seen:
            first = seen[k]
            if c.action == "name":
                raise CorrectionsError(
                    f"{where}:{c.line}: influencer {c.influencer_id} is already named on "
                    f"line {first.line}"
                )
            raise CorrectionsError(
                f"{where}:{c.line}: {c.describe()}: line {first.line} answers the same "
                f"question ({first.describe()}); keep one"
            )
        seen[k] = c
    roots = merge_roots(corrections)
    for c in corrections:
        if c.action == "apart":
            assert c.other_id is not None
            a, b = roots.get(c.influencer_id, c.influencer_id), roots.get(c.other_id, c.other_id)
            if a == b:
                raise CorrectionsError(
                    f"{where}:{c.line}: apart {c.influencer_id} {c.other_id} contradicts the "
                    f"merges that join them into {a}; keep one"
                )


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


def with_correction(
    corrections: Sequence[Correction], new: Correction, remove: bool = False
) -> list[Correction]:
    """The file's rows after a command adds ``new`` (or, with ``remove``, takes away the row
    about the same question: ``unhide``, an undone answer). A row about the same question is
    replaced in place (a new name, or the opposite answer); nothing is added twice."""
    out: list[Correction] = []
    placed = False
    for c in corrections:
        if c.key() == new.key():
            if not remove and not placed:
                out.append(new)
                placed = True
            continue
        out.append(c)
    if not remove and not placed:
        out.append(new)
    return out


def default_name(influencer_id: int) -> str:
    """The name shown until someone gives one (the marts write the same)."""
    return f"Person {influencer_id}"
