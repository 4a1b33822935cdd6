"""What corrections mean for one clustering: pure functions over arrays (no I/O).

* **Constraints** (``plan``): merges and "one person" answers become face groups that
  ``ingest.people.cluster.cluster_faces`` turns into track-level must-links; splits and
  "different" answers become cannot-links. They are stated in the ids the faces carried after
  the previous run, so every later run re-applies them, whatever videos arrive.
* **Anchors** (``with_anchors``, ``anchor``): each row also names faces it is about. Where no
  face carries a row's id any more (a warehouse rebuilt from nothing, a video that left and came
  back), those faces carry it again, so names and answers follow the faces, not the numbers.
* **Id matching** (``match_ids``): each new cluster takes the previous id it shares most faces
  with (face ids are ``<video_id>_f<frame>_<k>``, stable while a video's bytes and extraction
  settings are), ties to the lower id; the rest get ids never issued before. Every id ever
  issued is in ``raw.influencer_id_history`` with its events (``id_events``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ingest.corrections.model import (
    NONE,
    Correction,
    CorrectionsError,
    default_name,
    merge_roots,
)

ANCHORS_PER_SIDE = 3  # faces named per id in a row: one per video first, sharpest first


@dataclass
class Plan:
    """What the corrections mean for one clustering: face-row groups for ``cluster_faces``,
    the answered questions for ``ingest.people.review``, and the previous ids to match new
    clusters against."""

    must_link: list[NDArray[np.int64]] = field(default_factory=list)
    cannot_link: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = field(default_factory=list)
    # Face rows whose (influencer, video) a person has answered: not "maybe two people" again.
    tied: list[NDArray[np.int64]] = field(default_factory=list)
    match_prev: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    stale: list[str] = field(default_factory=list)  # corrections matching nothing, reported


def _sides(c: Correction) -> list[tuple[int, tuple[str, ...]]]:
    """(id, anchor faces) of each side of a row."""
    second = c.other_id if c.other_id is not None else c.influencer_id
    return [(c.influencer_id, c.face), (second, c.other_face)]


def _seeds(c: Correction) -> list[tuple[int, tuple[str, ...]]]:
    """The sides whose anchor faces get the row's id back in a rebuilt warehouse: not a
    split's faces in the video, which are someone else (the split cannot-links the whole video
    with the person's other faces anyway)."""
    return _sides(c)[:1] if c.action == "split" else _sides(c)


def missing_anchored(
    corrections: Sequence[Correction], prev: NDArray[np.int64], face_ids: Sequence[str]
) -> bool:
    """Whether some row's id is carried by no face while one of its anchor faces is here with
    no id: a warehouse rebuilt from nothing (or a video that left and came back)."""
    present = set(prev[prev != NONE].tolist())
    index = {f: i for i, f in enumerate(face_ids)}
    return any(
        iid not in present and any(f in index and prev[index[f]] == NONE for f in faces)
        for c in corrections
        for iid, faces in _seeds(c)
    )


def with_anchors(
    corrections: Sequence[Correction],
    prev: NDArray[np.int64],
    face_ids: Sequence[str],
    groups: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """``prev`` (n,) with each row's id given back to the faces it is anchored on, where no
    face carries that id now and the face carries none: how a rebuilt warehouse gets its
    people back. With ``groups`` (n,), a clustering of the faces without the corrections, the
    id goes to every face of its anchor's group (the faces that would have carried it before
    the rows were applied), when every anchor in that group agrees: a merge then joins two
    whole people, not a few of their faces, as it does in the warehouse the file was written
    for, and a group holding two people's anchors gives neither the other's faces."""
    out = prev.copy()
    present = set(prev[prev != NONE].tolist())
    index = {f: i for i, f in enumerate(face_ids)}
    for c in corrections:
        for iid, faces in _seeds(c):
            if iid in present:
                continue
            for f in faces:
                i = index.get(f)
                if i is not None and out[i] == NONE:
                    out[i] = iid
    if groups is None:
        return out
    # A group takes an id only when every anchor in it agrees (through the file's merges): a
    # group holding two people's anchors keeps them on their anchor faces alone.
    roots = merge_roots(corrections)
    agree: dict[int, set[int]] = {}
    for i in np.flatnonzero(out != prev).tolist():
        if int(groups[i]) >= 1:
            agree.setdefault(int(groups[i]), set()).add(roots.get(int(out[i]), int(out[i])))
    # People still here whose anchor faces share a group count too: that group is not only
    # the returning person's.
    for c in corrections:
        for iid, faces in _seeds(c):
            if iid not in present:
                continue
            for f in faces:
                i = index.get(f)
                if i is not None and int(groups[i]) in agree:
                    agree[int(groups[i])].add(roots.get(iid, iid))
    for g, rs in agree.items():
        if len(rs) == 1:
            out[(groups == g) & (out == NONE)] = next(iter(rs))
    return out


def anchor_ids(corrections: Sequence[Correction]) -> set[int]:
    """Every id a file's rows name: in a new warehouse, ids it must not issue to others."""
    return {i for c in corrections for i in (c.influencer_id, c.other_id) if i is not None}


def pick_faces(
    face_ids: Sequence[str],
    ids: NDArray[np.int64],
    video_id: NDArray[np.str_],
    sharpness: NDArray[np.floating],
    iid: int,
    video: str | None = None,
    inside: bool = False,
    k: int = ANCHORS_PER_SIDE,
) -> tuple[str, ...]:
    """Up to ``k`` faces carrying ``iid`` (inside or outside ``video`` when given): one per
    video first, sharpest first, ties by face id, so the same warehouse gives the same faces."""
    rows = ids == iid
    if video is not None:
        rows &= (video_id == video) if inside else (video_id != video)
    cand = np.flatnonzero(rows)
    if not len(cand):
        return ()
    order = sorted(cand.tolist(), key=lambda i: (-float(sharpness[i]), face_ids[i]))
    picked: list[int] = []
    videos: set[str] = set()
    for i in order:
        if len(picked) < k and str(video_id[i]) not in videos:
            picked.append(i)
            videos.add(str(video_id[i]))
    for i in order:
        if len(picked) < k and i not in picked:
            picked.append(i)
    return tuple(face_ids[i] for i in picked)


def anchor(
    c: Correction,
    face_ids: Sequence[str],
    ids: NDArray[np.int64],
    video_id: NDArray[np.str_],
    sharpness: NDArray[np.floating],
) -> Correction:
    """``c`` with its empty anchors filled from the faces' ids ``ids`` (n,) now. A side whose
    id no face carries (merged away before anchors existed) stays empty."""

    def pick(iid: int, video: str | None = None, inside: bool = False) -> tuple[str, ...]:
        return pick_faces(face_ids, ids, video_id, sharpness, iid, video, inside)

    face, other = c.face, c.other_face
    if c.action in ("split", "keep"):
        face = face or pick(c.influencer_id, c.video_id, inside=False)
        other = other or pick(c.influencer_id, c.video_id, inside=True)
    else:
        face = face or pick(c.influencer_id)
        if c.other_id is not None:
            other = other or pick(c.other_id)
    return c if (face, other) == (c.face, c.other_face) else replace(c, face=face, other_face=other)


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


def disagreeing_anchors(
    corrections: Sequence[Correction], prev: NDArray[np.int64], face_ids: Sequence[str]
) -> list[tuple[Correction, int]]:
    """Rows whose anchor faces are in the warehouse but none carries the row's id (followed
    through the file's merges): (row, the id they carry). A file whose rows agree was written
    for these people, whatever its binding line says."""
    roots = merge_roots(corrections)
    index = {f: i for i, f in enumerate(face_ids)}
    live = {roots.get(int(x), int(x)) for x in prev[prev != NONE].tolist()}
    out = []
    checkable = 0
    for c in corrections:
        # After a split, the video's faces belong to someone else by design.
        compared = False
        for iid, faces in _seeds(c):
            carried = {int(prev[index[f]]) for f in faces if f in index}
            carried.discard(NONE)
            if not carried or roots.get(iid, iid) not in live:
                continue  # nothing to compare: its faces are gone, or its id no longer is
            compared = True
            rooted = {roots.get(x, x) for x in carried}
            if roots.get(iid, iid) not in rooted:
                out.append((c, min(carried)))
                break
        checkable += compared
    return out, checkable


def plan(
    corrections: Sequence[Correction], prev: NDArray[np.int64], video_id: NDArray[np.str_]
) -> Plan:
    """Constraints from the corrections and the faces' previous ids ``prev`` (n,), NONE for
    faces not clustered before; ``video_id`` (n,).

    A merge must-links every face that carried either id (or an id merged into them) except in
    videos split out of them; a split cannot-links the video's faces with the faces that carried
    the id elsewhere; ``apart`` cannot-links the two ids' faces; ``keep`` must-links the id's
    faces in the video with its faces elsewhere. All are stated in previous ids, so after the
    first run they still hold: the merged faces all carry the kept id, the split video's faces
    another one, the two people kept apart their own ids."""
    roots = merge_roots(corrections)
    rooted = np.array([roots.get(int(p), int(p)) for p in prev], dtype=np.int64)
    out = Plan(match_prev=rooted.copy())
    present_ids = set(rooted[rooted != NONE].tolist())
    present_videos = set(video_id.tolist())
    split_out: dict[int, set[str]] = {}

    def root(i: int) -> int:
        return roots.get(i, i)

    # Videos split out of a person first: a "one person" answer or a merge never ties them back.
    for c in corrections:
        if c.action == "split" and c.video_id in present_videos:
            split_out.setdefault(root(c.influencer_id), set()).add(str(c.video_id))
    for c in corrections:
        if c.action in ("split", "keep") and c.video_id not in present_videos:
            out.stale.append(f"line {c.line}: {c.describe()}: the video is not in the warehouse")
            continue
        if c.action == "split":
            in_video = video_id == c.video_id
            elsewhere = (rooted == root(c.influencer_id)) & ~in_video
            if elsewhere.any():
                out.cannot_link.append((np.flatnonzero(in_video), np.flatnonzero(elsewhere)))
            # The id stays with the faces outside the video, however many the video holds.
            out.match_prev[in_video & (rooted == root(c.influencer_id))] = NONE
        elif c.action == "keep":
            if str(c.video_id) in split_out.get(root(c.influencer_id), ()):
                out.stale.append(
                    f"line {c.line}: {c.describe()}: a split of the same person's video says "
                    "otherwise (`ingest people answers` lists both)"
                )
                continue
            mine = rooted == root(c.influencer_id)
            for v in split_out.get(root(c.influencer_id), ()):
                mine &= video_id != v
            inside = mine & (video_id == c.video_id)
            if not inside.any():
                out.stale.append(
                    f"line {c.line}: {c.describe()}: no face of that video carries the id now"
                )
                continue
            out.tied.append(np.flatnonzero(inside))
            if (mine & ~inside).any():
                out.must_link.append(np.flatnonzero(mine))
        elif c.action == "apart":
            assert c.other_id is not None
            a = rooted == root(c.influencer_id)
            b = rooted == root(c.other_id)
            if a.any() and b.any():
                out.cannot_link.append((np.flatnonzero(a), np.flatnonzero(b)))
            else:
                gone = c.influencer_id if not a.any() else c.other_id
                out.stale.append(f"line {c.line}: {c.describe()}: no face carries {gone} now")
        elif root(c.influencer_id) not in present_ids:
            out.stale.append(f"line {c.line}: {c.describe()}: no face carries that id now")
    for r in sorted(set(roots.values())):
        members = rooted == r
        for v in split_out.get(r, ()):
            members &= video_id != v
        if members.any():
            group = np.flatnonzero(members)
            out.must_link.append(group)
            # A merge answers "maybe two people" for the videos it joined.
            if len(set(video_id[group].tolist())) > 1:
                out.tied.append(group)
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
