"""A small, realistic raw schema in a temp DuckDB file, written by ingest.warehouse.store, and a dbt runner.

The raw tables are created and filled by ingest.warehouse.store itself (its DDL, write_video,
write_clusters_with_history, write_run), so the fixture has whatever columns ingest writes; the
marts come from a real ``dbt build`` (``built_warehouse``). Known content (hand-computed
expectations live in the tests):

| video | row | status          | score | size      | faces (cluster)                          |
|-------|-----|-----------------|-------|-----------|------------------------------------------|
| v_a   | 1   | ok              | 1.0   | 1280x720  | 10 of influencer 1 (10 frames), 1 of -1  |
| v_b   | 2   | ok              | 3.0   | 720x1280  | 1 of influencer 1 (small), 2 of 2 (big)  |
| v_c   | 3   | ok              | 5.0   | 1280x720  | 1 of influencer 2                        |
| v_d   | 4   | download_failed | 2.0   | -         | -                                        |
| v_e   | 5   | rejected        | null  | -         | -                                        |
| v_f   | 6   | ok              | 4.0   | 640x640   | 2 of -1 only (faces, but nobody)         |
| v_g   | 7   | no_faces        | 2.0   | 1280x720  | -                                        |
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ingest.extract.age import DESCRIPTOR_DIM
from ingest.extract.faces import Faces, VideoExtraction
from ingest.extract.video import VideoMeta
from ingest.people.cluster import Clustering
from ingest.warehouse import schema as warehouse_schema
from ingest.warehouse import store

EMBEDDING_DIM = 128  # dlib's
CROP_PX = 8  # the crop images are never looked at; small keeps the fixture fast

# video_id, row, score_raw, score, status, error, width, height, duration, interval
VIDEOS = [
    ("v_a", 1, "1.0", 1.0, "ok", None, 1280, 720, 10.0, 1.0),
    ("v_b", 2, "3", 3.0, "ok", None, 720, 1280, 4.0, 1.0),
    ("v_c", 3, "5.0", 5.0, "ok", None, 1280, 720, 5.0, 0.5),
    ("v_d", 4, "2.0", 2.0, "download_failed", "HTTP 404", None, None, None, None),
    ("v_e", 5, "n/a", None, "rejected", "not a video URL", None, None, None, None),
    ("v_f", 6, "4.0", 4.0, "ok", None, 640, 640, 3.0, 1.0),
    ("v_g", 7, "2.0", 2.0, "no_faces", None, 1280, 720, 6.0, 1.0),
]

# video_id, frame_index, (x1, y1, x2, y2), cluster_id, centroid_similarity, det_score; faces of
# one frame in this order get k = 0, 1, ... (face_id <video_id>_f<frame>_<k>)
FACES = (
    [("v_a", i, (100, 100, 200, 240), 1, 0.80 + 0.01 * i, 0.99) for i in range(10)]
    + [("v_a", 0, (600, 100, 650, 160), -1, None, 0.95)]
    + [
        ("v_b", 0, (10, 10, 60, 70), 1, 0.75, 0.97),  # influencer 1: small
        ("v_b", 0, (100, 300, 600, 900), 2, 0.88, 0.99),  # influencer 2: big -> lead
        ("v_b", 1, (110, 310, 610, 910), 2, 0.92, 0.98),
        ("v_c", 0, (300, 100, 500, 350), 2, 0.92, 0.999),  # ties on similarity with v_b
        ("v_f", 0, (100, 100, 200, 220), -1, None, 0.96),
        ("v_f", 1, (100, 100, 200, 220), -1, None, 0.96),
    ]
)


def unit_vector(seed: int, dim: int = EMBEDDING_DIM) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def _extraction(video: tuple, faces: list[tuple[int, tuple]]) -> VideoExtraction:
    """What extraction would have returned for ``video``: ``faces`` are (n, FACES row)."""
    _, _, _, _, _, _, width, height, duration, interval = video
    boxes = np.array([f[2] for _, f in faces], dtype=np.float32).reshape(-1, 4)
    return VideoExtraction(
        meta=VideoMeta(
            fps=30.0, n_frames=int(duration * 30), width=width, height=height, duration_s=duration
        ),
        embedder="dlib",
        sample_interval_s=interval,
        n_frames_sampled=int(duration / interval),
        faces=Faces(
            frame_index=np.array([f[1] for _, f in faces], dtype=np.int64),
            timestamp_s=np.array([f[1] * interval for _, f in faces], dtype=np.float64),
            boxes=boxes,
            det_score=np.array([f[5] for _, f in faces], dtype=np.float32),
            landmarks=np.repeat(boxes[:, None, :2] + 10, 5, axis=1),
            sharpness=np.full(len(faces), 120.0, dtype=np.float32),
            embeddings=np.stack([unit_vector(n + 1) for n, _ in faces])
            if faces
            else np.zeros((0, EMBEDDING_DIM), np.float32),
            crops=np.zeros((len(faces), CROP_PX, CROP_PX, 3), dtype=np.uint8),
            age=np.full(len(faces), 30.0, dtype=np.float32),
            descriptor=np.stack([unit_vector(1000 + n, DESCRIPTOR_DIM) for n, _ in faces])
            if faces
            else np.zeros((0, DESCRIPTOR_DIM), np.float32),
        ),
        decoded_share=1.0,
    )


def write_raw(db_path: Path, *corruptions: str) -> Path:
    """Write the raw schema into ``db_path`` with ingest.warehouse.store (crop images in ``crops/`` beside
    it), then run the SQL ``corruptions`` on it."""
    con = store.connect(db_path, EMBEDDING_DIM)
    try:
        face_ids, clusters = [], []
        for video in VIDEOS:
            vid, row, raw, score, status, error, width = video[:7]
            record = store.VideoRecord(
                video_id=vid,
                row_number=row,
                source_url=f"https://example.com/{vid}",
                performance_raw=raw,
                performance_score=score,
                status=status,
                error=error,
                content_sha256=None if width is None else "ab" * 32,
                settings_hash=None if width is None else "s1",
                embedder="dlib",
                decoded_share=None if width is None else 1.0,
            )
            faces = [(n, f) for n, f in enumerate(FACES) if f[0] == vid]
            extraction = None if width is None else _extraction(video, faces)
            store.write_video(con, record, extraction, db_path.parent / "crops")
            per_frame: dict[int, int] = {}
            for _, (_, frame, _, cluster, similarity, _) in faces:
                k = per_frame.get(frame, 0)
                per_frame[frame] = k + 1
                face_ids.append(f"{vid}_f{frame}_{k}")
                clusters.append((cluster, f"{vid}:{cluster}", similarity))
        clustering = Clustering(
            cluster_id=np.array([c for c, _, _ in clusters], dtype=np.int64),
            track_id=np.array([t if c >= 1 else None for c, t, _ in clusters], dtype=object),
            centroid_similarity=np.array(
                [np.nan if s is None else s for _, _, s in clusters], dtype=np.float64
            ),
        )
        events = [(1, "created", None), (2, "created", None)]
        store.write_clusters_with_history(
            con, face_ids, clustering, "dlib", "agglomerative cosine 0.5", events
        )
        now = dt.datetime(2024, 1, 1, 12)
        store.write_run(
            con,
            {
                "run_id": "run_1",
                "started_at": now,
                "finished_at": now,
                "csv_path": "x.csv",
                "settings_json": "{}",
                "n_rows": 7,
                "n_ok": 4,
                "n_no_faces": 1,
                "n_download_failed": 1,
                "n_decode_failed": 0,
                "n_rejected": 1,
            },
        )
        for statement in corruptions:
            con.execute(statement)
    finally:
        con.close()
    return db_path


def run_dbt(
    db_path: Path, work_dir: Path, *args: str, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real dbt project against ``db_path``; target/logs go under ``work_dir``."""
    result = warehouse_schema.run_dbt(
        *args, db=db_path, target_dir=work_dir / "target", log_dir=work_dir / "logs", timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
    return result


def marts(work_dir: Path) -> list[warehouse_schema.Table]:
    """The marts as the manifest of the build in ``work_dir`` declares them."""
    return warehouse_schema.marts(warehouse_schema.load(work_dir / "target" / "manifest.json"))


def query(db_path: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


_BUILT: dict[Path, Path] = {}


def built_warehouse(base_dir: Path) -> Path:
    """Raw fixture + one real ``dbt build`` per test session (cached by ``base_dir``).

    Returns the work dir: ``warehouse.duckdb`` and ``target/run_results.json`` live in it.
    Tests must not write to it: copy the file with ``copy_warehouse`` first.
    """
    if base_dir not in _BUILT:
        work_dir = base_dir / "built"
        work_dir.mkdir(parents=True, exist_ok=True)
        db_path = write_raw(work_dir / "warehouse.duckdb")
        run_dbt(db_path, work_dir, "build", check=True)
        _BUILT[base_dir] = work_dir
    return _BUILT[base_dir]


def copy_warehouse(built_dir: Path, dest_dir: Path) -> Path:
    """A private copy of the built warehouse to corrupt."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / "warehouse.duckdb"
    shutil.copyfile(built_dir / "warehouse.duckdb", target)
    return target


def execute(db_path: Path, *statements: str) -> None:
    con = duckdb.connect(str(db_path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
