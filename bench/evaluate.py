"""Score a clustering against a synthesized corpus's truth, or a real clip's hand labels."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.metrics import Report, bcubed, pairwise_f, video_level
from ingest.demo.synth import read_truth


def label_face(rects: list[tuple], box: tuple[float, float, float, float]) -> str | None:
    """The identity whose true face box holds this detection's centre (with 25% slack); None
    for a detection of no labelled face."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for identity, x1, y1, x2, y2 in rects:
        sx, sy = 0.25 * (x2 - x1), 0.25 * (y2 - y1)
        if x1 - sx <= cx <= x2 + sx and y1 - sy <= cy <= y2 + sy:
            return identity
    return None


def faces_with_clusters(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select v.source_url, f.frame_index, f.x1, f.y1, f.x2, f.y2, "
            "coalesce(c.cluster_id, -1) "
            "from raw.faces f join raw.videos v using (video_id) "
            "left join raw.face_clusters c using (face_id) order by f.face_id"
        ).fetchall()
    finally:
        con.close()


def evaluate(corpus_dir: Path, rows: list[tuple]) -> Report:
    """rows: (source_url, frame_index, x1, y1, x2, y2, cluster_id) per detected face.

    Influencers found counts clusters that hold a labelled face. Clusters made only of faces
    the truth does not name are counted apart: they are real bystanders in the source photos
    (a face half out of the photo, or blurred, that the synthesizer's one-face check missed)."""
    videos, boxes = read_truth(corpus_dir)
    scores = {v.name: v.score for v in videos}
    true_videos: dict[str, set[str]] = defaultdict(set)
    for v in videos:
        for p in v.people:
            true_videos[p].add(v.name)
    truth, pred, vid_of = [], [], []
    pred_videos: dict[int, set[str]] = defaultdict(set)
    named: set[int] = set()  # clusters with a face of a labelled person
    seen_video: set[str] = set()
    for url, fi, x1, y1, x2, y2, cid in rows:
        name = Path(url).name
        if cid >= 0:
            pred_videos[cid].add(name)
        ident = label_face(boxes.get((name, fi), []), (x1, y1, x2, y2))
        if ident is None:
            continue
        truth.append(ident)
        pred.append(int(cid))
        if cid >= 0:
            named.add(int(cid))
        vid_of.append(name)
        seen_video.add(name)
    p, r, f = bcubed(truth, pred)
    exact, mae, missed = video_level(truth, pred, vid_of, dict(true_videos), scores, pred_videos)
    with_people = [v.name for v in videos if v.people]
    return Report(
        bcubed_p=p,
        bcubed_r=r,
        bcubed_f=f,
        pairwise_f=pairwise_f(truth, pred),
        n_faces_labelled=len(truth),
        n_people=len(true_videos),
        n_influencers=len(named),
        n_unnamed_clusters=len(pred_videos) - len(named),
        exact_video_sets=exact,
        score_mae=mae,
        n_people_missed=missed,
        videos_person_no_face=sum(1 for v in with_people if v not in seen_video),
        n_videos_with_people=len(with_people),
    )


# Real clips with hand labels: who each detected face is. The labels were made by eye from the
# face thumbnails of one extraction; a face too turned or blurred to name has no label. Each
# label is a face centre in frame pixels, so other detection boxes still find their label.
LABELS_DIR = Path(__file__).parent / "labels"


def read_clip_labels(path: Path) -> dict[int, list[tuple[float, float, str]]]:
    """frame index -> [(centre x, centre y, person)] from a labels CSV
    (``frame_index,cx,cy,person``)."""
    out: dict[int, list[tuple[float, float, str]]] = defaultdict(list)
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[int(row["frame_index"])].append((float(row["cx"]), float(row["cy"]), row["person"]))
    return dict(out)


# Frames between a detected face and the labelled frames it is checked against. The clips were
# labelled on a 2-per-second grid (every ~16.5 frames at 24 fps); extraction samples another
# grid, so a face off that grid is checked against the nearest labelled frame on each side
# within a sixth of a second, and takes a label only where both name the same person. Wider,
# the dinner's quick cuts put another person's label on a face: at 5 frames a face of Eddie
# (frame 1104) took Jessica's label, at 6 one of Jessica (frame 178) Grandma's (crops checked
# by eye).
LABEL_FRAME_TOLERANCE = 4


def label_by_centre(
    labels: dict[int, list[tuple[float, float, str]]],
    frame_index: int,
    box: tuple[float, float, float, float],
    max_apart: int = 0,
) -> str | None:
    """The person whose labelled face centre lies inside this box (the one nearest the box
    centre if several do). Off the labelled frames: the nearest labelled frame before and after,
    at most ``max_apart`` frames away, must agree. None if no label falls inside."""
    if frame_index in labels:
        return _label_inside(labels[frame_index], box)
    sides = [
        next((f for f in steps if f in labels), None)
        for steps in (
            range(frame_index - 1, frame_index - max_apart - 1, -1),
            range(frame_index + 1, frame_index + max_apart + 1),
        )
    ]
    named = {_label_inside(labels[f], box) for f in sides if f is not None}
    return named.pop() if len(named) == 1 else None


def _label_inside(rows: list[tuple[float, float, str]], box) -> str | None:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    inside = [
        (abs(lx - cx) + abs(ly - cy), p) for lx, ly, p in rows if x1 <= lx <= x2 and y1 <= ly <= y2
    ]
    return min(inside)[1] if inside else None


@dataclass(frozen=True)
class ClipPurity:
    n_people: int  # people in the labels
    n_labelled: int  # detected faces that matched a label
    by_influencer: dict[int, dict[str, int]]  # influencer -> person -> labelled faces
    mixed: list[int]  # influencers holding labelled faces of two or more people
    bcubed: tuple[float, float, float]  # P / R / F over the labelled faces (unassigned: singletons)


def clip_purity(
    labels: dict[int, list[tuple[float, float, str]]],
    faces: list[tuple],
    max_apart: int = LABEL_FRAME_TOLERANCE,
) -> ClipPurity:
    """faces: (frame_index, x1, y1, x2, y2, cluster_id) of every detected face of one clip;
    each is checked against the nearest labelled frame up to ``max_apart`` frames away."""
    truth, pred = [], []
    by: dict[int, Counter] = defaultdict(Counter)
    for fi, x1, y1, x2, y2, cid in faces:
        person = label_by_centre(labels, int(fi), (x1, y1, x2, y2), max_apart)
        if person is None:
            continue
        truth.append(person)
        pred.append(int(cid))
        if cid >= 1:
            by[int(cid)][person] += 1
    people = {p for rows in labels.values() for *_, p in rows}
    return ClipPurity(
        n_people=len(people),
        n_labelled=len(truth),
        by_influencer={k: dict(v.most_common()) for k, v in sorted(by.items())},
        mixed=sorted(k for k, v in by.items() if len(v) > 1),
        bcubed=bcubed(truth, pred) if truth else (float("nan"),) * 3,
    )
