"""Orchestrate a run: CSV -> fetch -> extract (cached) -> raw tables -> clustering."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ingest import people, store
from ingest.cluster import cluster_faces
from ingest.csvin import VideoRow, read_videos_csv
from ingest.download import DownloadError, fetch, from_cache
from ingest.embed import EmbedderUnavailable, population_mean
from ingest.extract import (
    ExtractionHead,
    VideoExtraction,
    extract_video,
    load_extraction,
    load_head,
    save_extraction,
)
from ingest.settings import Settings, available_cores
from ingest.video import DecodeError
from ingest.warehouse_lock import open_with_wait

EMBED_DIM = {"dlib": 128, "facenet": 512, "arcface": 512}


@dataclass
class Outcome:
    """What processing one CSV row produced (picklable: crosses the process pool)."""

    row: VideoRow
    status: str
    error: str | None = None
    sha256: str | None = None
    head: ExtractionHead | None = None  # set when extraction succeeded
    # Where the faces are: the cache file, read back only when the video is written, so a run
    # holds no thumbnails in memory while it waits for the warehouse, and a re-run with nothing
    # new reads none. In memory only where the cache could not be written.
    cache: Path | None = None
    extraction: VideoExtraction | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def with_faces(self) -> Outcome:
        """The same outcome carrying its faces in memory, for a writer on another machine."""
        return dataclasses.replace(self, extraction=self.faces(), cache=None)

    def faces(self) -> VideoExtraction | None:
        """The extraction with its faces, or None for a row without one."""
        if self.extraction is not None or self.cache is None:
            return self.extraction
        return load_extraction(self.cache)


@dataclass
class RunSummary:
    n_rows: int
    statuses: Counter
    n_faces: int
    n_influencers: int
    n_unassigned_faces: int
    n_skipped: int
    timings: dict[str, float]
    failures: list[tuple[int, str, str]]  # (row, status, reason)
    partial: list[tuple[int, float]] = field(default_factory=list)  # (row, share decoded) < 1
    stale_corrections: list[str] = field(default_factory=list)  # kept, but matched nothing


def process_row(row: VideoRow, settings: Settings, base_dir: Path) -> Outcome:
    """Fetch and extract one video. Pure apart from the content-addressed caches; never raises
    for bad input: every failure becomes a status with a reason."""
    if row.reject_reason:
        return Outcome(row, "rejected", row.reject_reason)
    assert row.source_url is not None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        got = fetch(row.source_url, settings.cache_dir / "downloads", settings.download, base_dir)
    except DownloadError as exc:
        return Outcome(row, "download_failed", str(exc))
    except Exception as exc:  # never let one URL stop the run
        return Outcome(row, "download_failed", f"{type(exc).__name__}: {exc}")
    timings["download"] = time.perf_counter() - t0
    cache = _extraction_cache(got.sha256, settings)
    if cache.is_file():
        try:
            return _done(row, got.sha256, load_head(cache), timings, cache=cache)
        except Exception:
            cache.unlink(missing_ok=True)  # unreadable cache entry: recompute
    try:
        x = extract_video(got.path, settings)
    except DecodeError as exc:
        return Outcome(row, "decode_failed", str(exc), got.sha256, timings=timings)
    except EmbedderUnavailable:
        raise  # a setup problem, not a bad video: stop with the message
    except Exception as exc:
        return Outcome(
            row, "decode_failed", f"{type(exc).__name__}: {exc}", got.sha256, timings=timings
        )
    timings.update(x.timings)
    try:
        save_extraction(x, cache)
    except OSError:  # a full or read-only disk: the faces travel in memory instead
        return _done(row, got.sha256, ExtractionHead.of(x), timings, extraction=x)
    return _done(row, got.sha256, ExtractionHead.of(x), timings, cache=cache)


def _extraction_cache(sha256: str, settings: Settings) -> Path:
    return settings.cache_dir / "extract" / f"{sha256}_{settings.extraction_hash()}.npz"


def cached_outcome(row: VideoRow, settings: Settings, base_dir: Path) -> Outcome | None:
    """The outcome of a row whose video and extraction are both cached, found without the
    network or a model; None when it needs a worker."""
    if row.source_url is None:
        return None
    try:
        got = from_cache(
            row.source_url, settings.cache_dir / "downloads", settings.download, base_dir
        )
        cache = None if got is None else _extraction_cache(got.sha256, settings)
        if got is None or not cache.is_file():
            return None
        return _done(row, got.sha256, load_head(cache), {}, cache=cache)
    except Exception:  # an unreadable file or cache entry: the worker records what is wrong
        return None


def _done(row, sha, head: ExtractionHead, timings, cache=None, extraction=None) -> Outcome:
    status = "ok" if head.n_faces else "no_faces"
    return Outcome(row, status, None, sha, head, cache, extraction, timings)


def _one_thread_each() -> None:
    """Pool initializer: a worker per core already fills the machine; torch's and OpenCV's own
    thread pools in every worker only fight over the same cores (measured: ten times slower)."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def _outcomes(rows: list[VideoRow], settings: Settings, base_dir: Path) -> Iterator[Outcome]:
    """Each row's outcome, in the order they finish. Rejected rows and rows already extracted
    need no worker: a re-run with nothing new starts no process and loads no model."""
    todo = []
    for r in rows:
        done = None if r.reject_reason else cached_outcome(r, settings, base_dir)
        if r.reject_reason or done is not None:
            yield done or process_row(r, settings, base_dir)
        else:
            todo.append(r)
    workers = min(settings.workers or available_cores(), len(todo))
    if workers <= 1:
        for r in todo:
            yield process_row(r, settings, base_dir)
        return
    # spawn, not fork: a child forked from a process whose torch has started its OpenMP threads
    # can stall in them.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_one_thread_each) as pool:
        futures = [pool.submit(process_row, r, settings, base_dir) for r in todo]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()


def run(csv_path: Path, db_path: Path, settings: Settings, progress: bool = True) -> RunSummary:
    started = dt.datetime.now()
    rows = read_videos_csv(csv_path)
    check_people_file(db_path, settings)  # a bad corrections file stops before any write
    produce = _outcomes
    if settings.engine == "ray":  # connects first: a setup error stops before any write
        from ingest.engine_ray import ray_engine

        produce = ray_engine(settings)
    embedder = settings.embedding.embedder
    base_dir = csv_path.resolve().parent
    statuses: Counter = Counter()
    failures: list[tuple[int, str, str]] = []
    timings: Counter = Counter()
    skipped = 0
    partial: list[tuple[int, float]] = []
    # Download and extract before opening the warehouse: another process holding it (a reader,
    # a second run) delays only the writes, and a run stopped here has written nothing.
    bar = tqdm(
        produce(rows, settings, base_dir),
        total=len(rows),
        unit="video",
        desc="videos",
        disable=not progress,
    )
    outcomes = list(bar)
    con = open_with_wait(
        lambda: store.connect(db_path, EMBED_DIM[embedder]), db_path, settings.lock_wait_s
    )
    try:
        before = store.cluster_snapshot(con)  # ids survive videos rewritten below
        for out in outcomes:
            statuses[out.status] += 1
            timings.update(out.timings)
            if out.error:
                failures.append((out.row.row_number, out.status, out.error))
            share = out.head.decoded_share if out.head else None
            if share is not None and share < 1.0:
                partial.append((out.row.row_number, share))
            rec = store.VideoRecord(
                video_id=out.row.video_id,
                row_number=out.row.row_number,
                source_url=out.row.source_url,
                performance_raw=out.row.performance_raw,
                performance_score=out.row.performance_score,
                status=out.status,
                error=out.error,
                content_sha256=out.sha256,
                settings_hash=settings.extraction_hash() if out.head else None,
                embedder=out.head.embedder if out.head else None,
                decoded_share=share,
            )
            t0 = time.perf_counter()
            if out.head is not None and store.already_done(con, rec):
                skipped += 1
            else:
                store.write_video(con, rec, out.faces(), settings.faces_dir)
            timings["write"] += time.perf_counter() - t0
        store.prune_videos(con, [r.video_id for r in rows])
        t0 = time.perf_counter()
        stale: list[str] = []
        n_faces, n_infl, n_unassigned = recluster(con, settings, stale, before)
        timings["cluster"] += time.perf_counter() - t0
        store.write_run(
            con,
            {
                "run_id": uuid.uuid4().hex[:12],
                "started_at": started,
                "finished_at": dt.datetime.now(),
                "csv_path": str(csv_path),
                "settings_json": settings.to_json(),
                "n_rows": len(rows),
                **{f"n_{s}": statuses.get(s, 0) for s in store.STATUSES},
            },
        )
    finally:
        con.close()
    return RunSummary(
        len(rows),
        statuses,
        n_faces,
        n_infl,
        n_unassigned,
        skipped,
        dict(timings),
        failures,
        partial,
        stale,
    )


def check_people_file(db_path: Path, settings: Settings) -> list[people.Correction]:
    """Read the corrections file and check it against the warehouse (read-only); raises
    people.CorrectionsError naming the file and line."""
    corrections = people.read_corrections(settings.people_file)
    if not corrections:
        return corrections
    issued: set[int] = set()
    prev, vids = np.zeros(0, np.int64), np.zeros(0, str)
    if db_path.is_file():
        import duckdb

        con = duckdb.connect(str(db_path), read_only=True)
        try:
            issued = store.issued_ids(con)
            if issued:
                df = con.execute(
                    "select f.face_id, f.video_id from raw.faces f "
                    "join raw.face_clusters using (face_id)"
                ).df()
                prev = store.previous_ids(store.cluster_snapshot(con), df["face_id"].tolist())
                vids = df["video_id"].to_numpy().astype(str)
        finally:
            con.close()
    people.check_corrections(corrections, str(settings.people_file), issued, prev, vids)
    return corrections


def recluster(
    con, settings: Settings, stale: list[str] | None = None, before: dict[str, int] | None = None
) -> tuple[int, int, int]:
    """Cluster every current face of the configured embedder under the corrections file;
    rewrites raw.face_clusters with stable influencer ids (ingest.people) and appends their
    events to raw.influencer_id_history. Corrections that match nothing are appended to
    ``stale``. ``before``: store.cluster_snapshot taken before the run wrote (default: now).
    Returns (faces, influencers, unassigned faces)."""
    embedder = settings.embedding.embedder
    corrections = people.read_corrections(settings.people_file)
    df = store.load_faces(con, embedder)
    if df.empty:
        store.write_clusters(con, [], _empty_clustering(), embedder, "none")
        return 0, 0, 0
    table = store.face_table(df)
    cs = settings.cluster
    face_ids = df["face_id"].tolist()
    prev = store.previous_ids(store.cluster_snapshot(con) if before is None else before, face_ids)
    issued = store.issued_ids(con)
    people.check_corrections(corrections, str(settings.people_file), issued, prev, table.video_id)
    p = people.plan(corrections, prev, table.video_id)
    if stale is not None:
        stale.extend(f"{settings.people_file}:{s}" for s in p.stale)
    c = cluster_faces(
        table,
        cs,
        population_mean(embedder),
        population_mean("faceres"),
        must_link=p.must_link,
        cannot_link=p.cannot_link,
    )
    ids = people.match_ids(c.cluster_id, p.match_prev, max(issued, default=0))
    events = people.id_events(prev, ids, store.recorded_ids(con))
    c = dataclasses.replace(c, cluster_id=ids)
    method = (
        f"{cs.method} tracks<{cs.track_threshold} clusters<{cs.cluster_threshold} "
        f"ratio<{cs.merge_ratio} prior={cs.spread_prior} "
        f"track_sharpness>={cs.min_track_sharpness} "
        f"min_track_faces={cs.min_track_faces} merge_within_video={cs.merge_within_video} "
        f"ratio_test_within_video={cs.ratio_test_within_video} faceres_veto<={cs.faceres_veto} "
        f"min_faces={cs.min_cluster_faces}"
    )
    store.write_clusters_with_history(con, face_ids, c, embedder, method, events)
    n_infl = len(np.unique(c.cluster_id[c.cluster_id >= 1]))
    return len(df), n_infl, int((c.cluster_id < 1).sum())


def _empty_clustering():
    from ingest.cluster import Clustering

    return Clustering(np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0))
