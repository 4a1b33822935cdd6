"""A small warehouse for the report's tests and demos, built the way a real one is.

The raw tables are written by ingest.warehouse.store (as `ingest run` would, from made-up videos whose
faces are real photos copied from a faces folder such as ../shared/faces), the corrections file
by ingest.corrections (as `ingest people name` and `hide` write it), the marts by the real dbt project
(`dbt build`) and quality.* by the real checks stage (`python -m expectations`).

Four influencers (two named by hand, one hidden), thirteen videos (ok, no_faces,
download_failed, rejected; one with two influencers, one whose only faces belong to nobody),
enough scored videos for the regression to be fitted. Everything is written under --root,
nothing into the repository.

Run: .venv/bin/python reports/fixture_warehouse.py --root /tmp/fx --faces ../shared/faces
then: make report DB=/tmp/fx/warehouse.duckdb FACES_ROOT=/tmp/fx
With --scale 1000 300: a made-up 1,000-video, 300-person warehouse instead (the browser test
measures the report's filter latency on it).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ingest.corrections import room
from ingest.corrections.file import file_for
from ingest.corrections.model import Correction
from ingest.extract.age import DESCRIPTOR_DIM
from ingest.extract.embed import population_mean
from ingest.extract.faces import Faces, VideoExtraction
from ingest.extract.video import VideoMeta
from ingest.people.cluster import Clustering
from ingest.people.review import review_candidates
from ingest.settings import ReviewSettings, cluster_settings_for
from ingest.warehouse import schema as warehouse_schema
from ingest.warehouse import store

# influencer_id -> (identity folder in the faces folder, photo file name)
PEOPLE = {
    1: ("Barack_Obama", "ageitgey_obama_small.jpg"),
    2: ("Angelina_Jolie", "lfw_Angelina_Jolie_0007.jpg"),
    3: ("George_Clooney", "lfw_George_Clooney_0008.jpg"),
    4: ("Elton_John", "5celeb_makfordead_train_01.jpg"),
    5: ("Barack_Obama", "ageitgey_obama2.jpg"),
}
# A planted split: influencer 5 is influencer 1 seen apart (its faces sit near 1's), so the
# "Check these" page lists the pair (ingest.people.review, as `ingest run` would).
SPLIT_OF = {5: 1}
# Names given by hand (ingest people name); the rest get the default "Person <id>".
GIVEN_NAMES = {1: "Barack Obama", 3: "George Clooney"}
HIDDEN = {4}  # ingest people hide: listed on its own page, never ranked
EXPECTED_NAMES = [GIVEN_NAMES.get(i, f"Person {i}") for i in PEOPLE]

# video rows: (row_number, status, error, score, duration, w, h, influencers [(id, role)],
# faces of nobody (cluster -1: a passer-by))
VIDEOS = [
    (1, "ok", None, 0.91, 15.0, 1080, 1920, [(1, "lead")], 0),
    (2, "ok", None, 0.74, 22.0, 1080, 1920, [(1, "lead")], 0),
    (3, "ok", None, 0.66, 30.0, 1920, 1080, [(1, "lead"), (2, "co-star")], 0),
    (4, "ok", None, 0.83, 12.0, 1080, 1920, [(1, "lead")], 0),
    (5, "ok", None, 0.41, 18.0, 1080, 1080, [(2, "lead")], 0),
    (6, "ok", None, 0.52, 25.0, 1080, 1920, [(2, "lead")], 0),
    (7, "ok", None, 0.35, 9.0, 1080, 1920, [(3, "lead")], 0),
    (8, "ok", None, 0.48, 40.0, 1920, 1080, [(3, "lead")], 0),
    (9, "no_faces", None, 0.22, 11.0, 1080, 1920, [], 0),
    (10, "download_failed", "HTTP 404 Not Found", 0.60, None, None, None, [], 0),
    (11, "rejected", "performance score is not numeric: 'n/a'", None, None, None, None, [], 0),
    (12, "ok", None, 0.95, 14.0, 1080, 1920, [(4, "lead")], 0),
    (13, "ok", None, 0.30, 10.0, 1080, 1920, [], 2),
    (14, "ok", None, 0.77, 10.0, 1080, 1920, [(5, "lead")], 0),
]
EMBEDDER, EMBEDDING_DIM = "dlib", 128
CROP_PX = 160
FACES_DIR = Path("data/faces")  # relative to --root, as `ingest run` from a project root writes
# Face height / frame height of the lead and of a co-star (the lead is the larger face).
FACE_HEIGHT = {"lead": 0.35, "co-star": 0.15}
# Share of the video's sampled frames the lead and a co-star are on screen in.
ON_SCREEN = {"lead": 0.8, "co-star": 0.3}


def video_id(row_number: int) -> str:
    return f"v_fixture{row_number:04d}"


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def _centre(iid: int) -> np.ndarray:
    """The direction of a person's faces; a planted split's lies near its person's."""
    own = np.random.default_rng(iid).normal(size=EMBEDDING_DIM)
    if iid in SPLIT_OF:
        return _unit(_centre(SPLIT_OF[iid]) + 0.03 * own)
    return _unit(own)


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Run in ``folder``: ingest writes crop_path relative to where it runs."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _faces(row: tuple, crops: dict[int, np.ndarray], rng: np.random.Generator):
    """(Faces of one video, cluster id of each face): every influencer in some sampled frames,
    the passers-by in the first ones."""
    _, _, _, _, duration, width, height, influencers, n_nobody = row
    n_frames = int(duration)  # one sampled frame a second
    people = [(iid, role, round(ON_SCREEN[role] * n_frames)) for iid, role in influencers]
    people += [(-1, "co-star", 1)] * n_nobody
    frames, boxes, clusters, images = [], [], [], []
    for slot, (iid, role, n_on_screen) in enumerate(people):
        side = FACE_HEIGHT[role] * height
        x1 = 40.0 + slot * (width / 3)
        for frame in range(n_frames)[:n_on_screen] if iid >= 1 else [slot]:
            frames.append(frame)
            boxes.append((x1, 200.0, x1 + side * 0.8, 200.0 + side))
            clusters.append(iid)
            images.append(crops.get(iid, np.full((CROP_PX, CROP_PX, 3), 128, np.uint8)))
    n = len(frames)
    if n == 0:
        return Faces.empty(EMBEDDING_DIM, CROP_PX), []
    box_array = np.array(boxes, dtype=np.float32).reshape(n, 4)
    # Faces of one person sit close to that person's direction; passers-by anywhere.
    centres = {iid: _centre(iid) for iid in set(clusters) if iid >= 1}
    embeddings = np.stack(
        [
            _unit(centres[c] + 0.05 * rng.normal(size=EMBEDDING_DIM))
            if c >= 1
            else _unit(rng.normal(size=EMBEDDING_DIM))
            for c in clusters
        ]
    ).reshape(n, EMBEDDING_DIM)
    faces = Faces(
        frame_index=np.array(frames, dtype=np.int64),
        timestamp_s=np.array(frames, dtype=np.float64),
        boxes=box_array,
        det_score=np.full(n, 0.99, dtype=np.float32),
        landmarks=np.repeat(box_array[:, None, :2] + 10, 5, axis=1),
        sharpness=np.full(n, 150.0, dtype=np.float32),
        embeddings=embeddings,
        crops=np.stack(images).reshape(n, CROP_PX, CROP_PX, 3),
        age=np.full(n, 40.0, dtype=np.float32),
        descriptor=_unit(rng.normal(size=(n, DESCRIPTOR_DIM))),
    )
    return faces, clusters


def _write_raw(
    db: Path, root: Path, crops: dict[int, np.ndarray], videos: list[tuple] | None = None
) -> None:
    videos = VIDEOS if videos is None else videos
    rng = np.random.default_rng(0)
    con = store.connect(db, EMBEDDING_DIM)
    try:
        face_ids: list[str] = []
        clusters: list[int] = []
        embeddings: list[np.ndarray] = []
        for row in videos:
            rn, status, error, score, duration, width, height = row[:7]
            vid = video_id(rn)
            extracted = duration is not None
            record = store.VideoRecord(
                video_id=vid,
                row_number=rn,
                # Mostly URLs; one local path, as the demo corpus has (must not become a link).
                source_url=f"videos/clip{rn}.mp4"
                if rn == 9
                else f"https://videos.example.com/clip{rn}",
                performance_raw="n/a" if score is None else str(score),
                performance_score=score,
                status=status,
                error=error,
                content_sha256=f"{rn:064x}" if extracted else None,
                settings_hash="fixture" if extracted else None,
                embedder=EMBEDDER,
                decoded_share=1.0 if extracted else None,
            )
            extraction = None
            if extracted:
                faces, face_clusters = _faces(row, crops, rng)
                extraction = VideoExtraction(
                    meta=VideoMeta(30.0, int(duration * 30), width, height, duration),
                    embedder=EMBEDDER,
                    sample_interval_s=1.0,
                    n_frames_sampled=int(duration),
                    faces=faces,
                    decoded_share=1.0,
                )
                seen: dict[int, int] = {}
                for frame in faces.frame_index.tolist():
                    face_ids.append(f"{vid}_f{frame}_{seen.get(frame, 0)}")
                    seen[frame] = seen.get(frame, 0) + 1
                clusters += face_clusters
                embeddings += list(faces.embeddings)
            with _inside(root):
                store.write_video(con, record, extraction, FACES_DIR)
        cluster_id = np.array(clusters, dtype=np.int64)
        emb = np.stack(embeddings)
        similarity = np.full(len(clusters), np.nan)
        for iid in crops:
            members = cluster_id == iid
            similarity[members] = emb[members] @ _unit(emb[members].mean(axis=0))
        clustering = Clustering(
            cluster_id=cluster_id,
            track_id=np.array(
                [
                    f"{f.rsplit('_f', 1)[0]}:{c}" if c >= 1 else None
                    for f, c in zip(face_ids, clusters)
                ],
                dtype=object,
            ),
            centroid_similarity=similarity,
        )
        store.write_clusters_with_history(
            con,
            face_ids,
            clustering,
            EMBEDDER,
            "fixture",
            [(iid, "created", None) for iid in crops],
        )
        _write_review(con, face_ids, clustering)
        now = dt.datetime(2025, 1, 1, 12)
        statuses = [row[1] for row in videos]
        store.write_run(
            con,
            {
                "run_id": "fixture",
                "started_at": now,
                "finished_at": now,
                "csv_path": "videos.csv",
                "settings_json": "{}",
                "n_rows": len(videos),
                **{f"n_{s}": statuses.count(s) for s in store.STATUSES},
            },
        )
    finally:
        con.close()


def _write_review(con, face_ids: list[str], clustering: Clustering) -> None:
    """raw.review_candidates as ingest's clustering writes them, at dlib's settings."""
    df = store.load_faces(con, EMBEDDER)
    at = {f: i for i, f in enumerate(face_ids)}
    order = np.array([at[f] for f in df["face_id"]])
    aligned = Clustering(
        clustering.cluster_id[order],
        clustering.track_id[order],
        clustering.centroid_similarity[order],
    )
    s = cluster_settings_for(EMBEDDER)
    found = review_candidates(
        store.face_table(df),
        aligned,
        s,
        ReviewSettings(),
        population_mean(EMBEDDER),
        population_mean("faceres"),
    )
    store.write_review(con, found, s.cluster_threshold)


def scaled(n_videos: int, n_people: int, faces_src: Path, seed: int = 0):
    """(people, videos) of a larger made-up warehouse, for measuring the report at scale:
    `n_people` people (photos of the faces folder, several per identity when it runs out), each
    lead in a skewed number of the `n_videos` videos (a few in many, most in few), a co-star in
    about a third of them, and a few videos that failed or have no face."""
    rng = np.random.default_rng(seed)
    identities = sorted(d for d in faces_src.iterdir() if d.is_dir())
    photos = {d: sorted(f.name for f in d.glob("*.jpg")) for d in identities}
    people = {}
    for i in range(n_people):
        folder = identities[i % len(identities)]
        people[i + 1] = (folder.name, photos[folder][(i // len(identities)) % len(photos[folder])])
    weight = 1.0 / np.arange(1, n_people + 1) ** 0.8
    weight /= weight.sum()
    effect = rng.normal(0.0, 0.1, size=n_people + 1)
    videos = []
    for rn in range(1, n_videos + 1):
        u = rng.random()
        if u < 0.02:
            videos.append(
                (rn, "download_failed", "HTTP 404 Not Found", 0.5, None, None, None, [], 0)
            )
            continue
        if u < 0.03:
            videos.append(
                (rn, "rejected", "performance score is not numeric", None) + (None,) * 3 + ([], 0)
            )
            continue
        duration = float(rng.integers(4, 10))
        if u < 0.05:
            videos.append((rn, "no_faces", None, 0.4, duration, 1080, 1920, [], 0))
            continue
        lead, co_star = (int(x) for x in rng.choice(n_people, size=2, replace=False, p=weight) + 1)
        n_ok = sum(v[1] == "ok" for v in videos)
        if n_ok < n_people:  # everyone leads at least one video (before the skew takes over)
            lead, co_star = n_ok + 1, co_star if co_star != n_ok + 1 else (n_ok + 1) % n_people + 1
        cast = [(lead, "lead")] + ([(co_star, "co-star")] if rng.random() < 0.3 else [])
        score = float(np.clip(0.5 + effect[lead] + rng.normal(0.0, 0.15), 0.0, 1.0))
        videos.append((rn, "ok", None, round(score, 3), duration, 1080, 1920, cast, 0))
    return people, videos


def build(
    root: Path,
    faces_src: Path,
    db_name: str = "warehouse.duckdb",
    scale: tuple[int, int] | None = None,
) -> Path:
    """Write `root/db_name` (raw, marts, quality) and `root/data/faces/`; returns the DuckDB path.
    The dbt project is copied to `root/dbt_project`; its
    target/manifest.json declares the marts. `scale` = (videos, people): a larger made-up
    warehouse instead (`scaled`)."""
    from expectations.cli import main as run_checks  # GX is slow to import: only when building

    root.mkdir(parents=True, exist_ok=True)
    db = root / db_name
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(root / FACES_DIR, ignore_errors=True)
    people, videos = (PEOPLE, VIDEOS) if scale is None else scaled(*scale, faces_src)
    crops = {
        iid: np.asarray(
            ImageOps.fit(Image.open(faces_src / person / photo).convert("RGB"), (CROP_PX,) * 2)
        )
        for iid, (person, photo) in people.items()
    }
    _write_raw(db, root, crops, videos)

    project = root / "dbt_project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(
        warehouse_schema.DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    # The names and hidden people as a run copies a warehouse's corrections file into raw.
    con = store.open_warehouse(db)
    try:
        rows = [Correction("name", i, name=n) for i, n in GIVEN_NAMES.items()]
        rows += [Correction("hide", i) for i in sorted(HIDDEN)]
        store.write_people_corrections(con, [c.row() for c in rows], "fixture")
    finally:
        con.close()
    # ... and the file they came from, beside the warehouse, so that `ingest recluster` and
    # `make review` on a copy of the fixture keep them.
    room.save(db, file_for(db), rows)
    # A folder that does not exist: no known_people photos, so no names proposed from them.
    known = f"{{known_people_dir: '{(root / 'known_people').as_posix()}'}}"
    result = warehouse_schema.run_dbt("build", "--vars", known, db=db, project_dir=project)
    if result.returncode != 0:
        raise RuntimeError(f"dbt build failed on the fixture:\n{result.stdout[-6000:]}")
    checks = ["--db", str(db), "--docs-dir", str(root / "data_docs")]
    checks += ["--dbt-run-results", str(project / "target" / "run_results.json")]
    summary = io.StringIO()
    with contextlib.redirect_stdout(summary):
        failed = run_checks(checks) != 0
    if failed:
        raise RuntimeError(f"the checks stage failed on the fixture:\n{summary.getvalue()}")
    return db


def manifest(root: Path) -> Path:
    """The manifest of the dbt build that made `root`'s warehouse."""
    return root / "dbt_project" / "target" / "manifest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        required=True,
        help="folder to write warehouse.duckdb and data/faces/ into; pass it as "
        "export_warehouse.py --root",
    )
    parser.add_argument(
        "--faces",
        type=Path,
        default=Path("../shared/faces"),
        help="folder of <Identity>/*.jpg photos (default: %(default)s)",
    )
    parser.add_argument(
        "--scale",
        type=int,
        nargs=2,
        metavar=("VIDEOS", "PEOPLE"),
        help="a larger made-up warehouse (for example 1000 300) instead of the small fixture",
    )
    args = parser.parse_args(argv)
    for key, value in warehouse_schema.TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    scale = tuple(args.scale) if args.scale else None
    print(build(args.root.resolve(), args.faces.resolve(), scale=scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
