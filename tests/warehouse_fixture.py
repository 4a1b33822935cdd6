"""A small, realistic raw schema (docs/warehouse.md) in a temp DuckDB file, and a dbt runner.

Known content (hand-computed expectations live in the tests):

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

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
EMBEDDING_DIM = 128
DESCRIPTOR_DIM = 1024  # ingest.age.DESCRIPTOR_DIM

TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
}

RAW_DDL = f"""
create schema if not exists raw;
create or replace table raw.videos (
    video_id varchar primary key, row_number integer, source_url varchar,
    performance_raw varchar, performance_score double, status varchar, error varchar,
    content_sha256 varchar, duration_s double, fps double, width integer, height integer,
    sample_interval_s double, n_frames_sampled integer, n_faces integer, embedder varchar,
    settings_hash varchar, ingested_at timestamp, decoded_share double
);
create or replace table raw.faces (
    face_id varchar primary key, video_id varchar, frame_index integer, timestamp_s double,
    x1 double, y1 double, x2 double, y2 double, frame_width integer, frame_height integer,
    det_score double, landmarks float[10], sharpness double, embedder varchar,
    embedding float[{EMBEDDING_DIM}], crop_path varchar, age_years double,
    faceres_descriptor float[{DESCRIPTOR_DIM}]
);
create or replace table raw.face_clusters (
    face_id varchar primary key, cluster_id integer, track_id varchar,
    centroid_similarity double, embedder varchar, method varchar, clustered_at timestamp
);
create or replace table raw.influencer_id_history (
    influencer_id integer, event varchar, other_id integer, recorded_at timestamp
);
create or replace table raw.ingest_runs (
    run_id varchar, started_at timestamp, finished_at timestamp, csv_path varchar,
    settings_json varchar, n_rows integer, n_ok integer, n_no_faces integer,
    n_download_failed integer, n_decode_failed integer, n_rejected integer
);
"""

# video_id, row, score_raw, score, status, error, width, height, duration, interval, n_faces
VIDEOS = [
    ("v_a", 1, "1.0", 1.0, "ok", None, 1280, 720, 10.0, 1.0, 11),
    ("v_b", 2, "3", 3.0, "ok", None, 720, 1280, 4.0, 1.0, 3),
    ("v_c", 3, "5.0", 5.0, "ok", None, 1280, 720, 5.0, 0.5, 1),
    ("v_d", 4, "2.0", 2.0, "download_failed", "HTTP 404", None, None, None, None, None),
    ("v_e", 5, "n/a", None, "rejected", "not a video URL", None, None, None, None, None),
    ("v_f", 6, "4.0", 4.0, "ok", None, 640, 640, 3.0, 1.0, 2),
    ("v_g", 7, "2.0", 2.0, "no_faces", None, 1280, 720, 6.0, 1.0, 0),
]

# video_id, frame_index, k, (x1, y1, x2, y2), cluster_id, centroid_similarity, det_score
FACES = (
    [("v_a", i, 0, (100, 100, 200, 240), 1, 0.80 + 0.01 * i, 0.99) for i in range(10)]
    + [("v_a", 0, 1, (600, 100, 650, 160), -1, None, 0.95)]
    + [
        ("v_b", 0, 0, (10, 10, 60, 70), 1, 0.75, 0.97),  # influencer 1: small
        ("v_b", 0, 1, (100, 300, 600, 900), 2, 0.88, 0.99),  # influencer 2: big -> lead
        ("v_b", 1, 0, (110, 310, 610, 910), 2, 0.92, 0.98),
        ("v_c", 0, 0, (300, 100, 500, 350), 2, 0.92, 0.999),  # ties on similarity with v_b
        ("v_f", 0, 0, (100, 100, 200, 220), -1, None, 0.96),
        ("v_f", 1, 0, (100, 100, 200, 220), -1, None, 0.96),
    ]
)


def unit_vector(seed: int, dim: int = EMBEDDING_DIM) -> list[float]:
    v = np.random.default_rng(seed).normal(size=dim)
    return (v / np.linalg.norm(v)).astype(np.float32).tolist()


def raw_frames() -> dict[str, pd.DataFrame]:
    now = pd.Timestamp("2024-01-01 12:00:00")
    videos = pd.DataFrame(
        [
            {
                "video_id": vid,
                "row_number": row,
                "source_url": f"https://example.com/{vid}",
                "performance_raw": raw,
                "performance_score": score,
                "status": status,
                "error": error,
                "content_sha256": None if width is None else "ab" * 32,
                "duration_s": duration,
                "fps": None if width is None else 30.0,
                "width": width,
                "height": height,
                "sample_interval_s": interval,
                "n_frames_sampled": None if duration is None else int(duration / interval),
                "n_faces": n_faces,
                "embedder": "dlib",
                "settings_hash": "s1",
                "ingested_at": now,
                "decoded_share": None if duration is None else 1.0,
            }
            for vid, row, raw, score, status, error, width, height, duration, interval, n_faces in VIDEOS
        ]
    )
    size = {v[0]: (v[6], v[7]) for v in VIDEOS}
    interval = {v[0]: v[9] for v in VIDEOS}
    faces, clusters = [], []
    for n, (vid, frame, k, (x1, y1, x2, y2), cluster, sim, det) in enumerate(FACES):
        face_id = f"{vid}_f{frame}_{k}"
        width, height = size[vid]
        faces.append(
            {
                "face_id": face_id,
                "video_id": vid,
                "frame_index": frame,
                "timestamp_s": frame * interval[vid],
                "x1": float(x1),
                "y1": float(y1),
                "x2": float(x2),
                "y2": float(y2),
                "frame_width": width,
                "frame_height": height,
                "det_score": det,
                "landmarks": [float(x1 + 10)] * 10,
                "sharpness": 120.0,
                "embedder": "dlib",
                "embedding": unit_vector(n + 1),
                "crop_path": f"data/crops/{face_id}.jpg",
                "age_years": 30.0,
                "faceres_descriptor": unit_vector(1000 + n, DESCRIPTOR_DIM),
            }
        )
        clusters.append(
            {
                "face_id": face_id,
                "cluster_id": cluster,
                "track_id": None if cluster == -1 else f"{vid}_t{cluster}",
                "centroid_similarity": sim,
                "embedder": "dlib",
                "method": "agglomerative cosine 0.5",
                "clustered_at": now,
            }
        )
    runs = pd.DataFrame(
        [
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
            }
        ]
    )
    return {
        "videos": videos,
        "faces": pd.DataFrame(faces),
        "face_clusters": pd.DataFrame(clusters),
        "ingest_runs": runs,
    }


def write_raw(
    db_path: Path, mutate: Callable[[dict[str, pd.DataFrame]], None] | None = None
) -> Path:
    """Write the raw schema into ``db_path``; ``mutate`` may edit the frames first."""
    frames = raw_frames()
    if mutate is not None:
        mutate(frames)
    con = duckdb.connect(str(db_path))
    try:
        ddl = RAW_DDL
        if mutate is not None:  # corrupted copies may break the primary keys on purpose
            ddl = ddl.replace(" primary key", "")
        con.execute(ddl)
        for name, frame in frames.items():
            con.register("frame", frame)
            columns = ", ".join(frame.columns)
            con.execute(f"insert into raw.{name} ({columns}) select {columns} from frame")
            con.unregister("frame")
    finally:
        con.close()
    return db_path


def run_dbt(
    db_path: Path, work_dir: Path, *args: str, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the real dbt project against ``db_path``; target/logs go under ``work_dir``."""
    env = {**os.environ, **TELEMETRY_OFF, "INFLUENCER_LENS_DB": str(db_path)}
    command = [
        sys.executable,
        "-W",
        "ignore::RuntimeWarning",
        "-m",
        "dbt.cli.main",
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    result = subprocess.run(
        command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
    return result


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
