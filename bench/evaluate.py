"""Score a warehouse's clustering against a synthesized corpus's truth."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb

from bench.metrics import Report, bcubed, pairwise_f, video_level
from ingest.synth import read_truth


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
        bcubed_p=p, bcubed_r=r, bcubed_f=f, pairwise_f=pairwise_f(truth, pred),
        n_faces_labelled=len(truth), n_people=len(true_videos),
        n_influencers=len(named), n_unnamed_clusters=len(pred_videos) - len(named),
        exact_video_sets=exact, score_mae=mae,
        n_people_missed=missed,
        videos_person_no_face=sum(1 for v in with_people if v not in seen_video),
        n_videos_with_people=len(with_people),
    )  # fmt: skip
