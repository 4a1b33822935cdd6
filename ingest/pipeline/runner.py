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

from ingest.corrections import apply, room
from ingest.embedders import EMBEDDERS
from ingest.extract.download import CACHE_FULL, local_path, sha256_file
from ingest.extract.embed import population_mean
from ingest.people.chance import model_for
from ingest.people.cluster import cluster_faces
from ingest.people.review import review_candidates
from ingest.pipeline.csvin import VideoRow, read_videos_csv
from ingest.pipeline.process import Outcome, _one_thread_each, cached_outcome, process_row
from ingest.settings import Settings, available_cores
from ingest.warehouse import health, store
from ingest.warehouse.lock import WarehouseError, open_with_wait


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
    n_failed_kept: int = 0  # failures recorded before and unchanged: not tried again
    notes: list[str] = field(default_factory=list)  # what the run did to the warehouse's files
    stopped: str | None = None  # why the run stopped early (every row is still recorded)


# Rows of failures written per transaction: one transaction a row cost 5-9 ms each (50,000 rows
# in 4-7 minutes); a batch bounds what a crash or a full disk can take back.
FAILED_BATCH = 5_000
# Rows in a row that could not be cached before the run stops downloading.
CACHE_FULL_STREAK = 3


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
    # Before any download: a damaged, foreign or unwritable warehouse, or a full disk, stops
    # here with nothing fetched; a stale WAL is moved aside.
    pre = health.preflight(db_path, len(rows))
    # Read once, checked against the warehouse: a bad corrections file stops before any write.
    ledger = room.open_ledger(db_path, settings.people_file)
    produce = _outcomes
    if settings.engine == "ray":  # connects first: a setup error stops before any write
        from ingest.pipeline.engine_ray import ray_engine

        produce = ray_engine(settings)
    embedder = settings.embedding.embedder
    base_dir = csv_path.resolve().parent
    statuses: Counter = Counter()
    failures: list[tuple[int, str, str]] = []
    timings: Counter = Counter()
    skipped = 0
    partial: list[tuple[int, float]] = []
    kept = [] if settings.retry_failed else _kept_failures(rows, pre.failed, base_dir)
    kept_rows = {o.row.row_number for o in kept}
    todo = [r for r in rows if r.row_number not in kept_rows]
    # Download and extract before opening the warehouse: another process holding it (a reader,
    # a second run) delays only the writes, and a run stopped here has written nothing.
    outcomes, stopped = _produce_all(produce, todo, settings, base_dir, progress)
    # The checks again, as the warehouse is now (another process may have held it).
    room.confirm(ledger, settings.lock_wait_s)
    con = open_with_wait(
        lambda: store.connect(db_path, EMBEDDERS[embedder].dim), db_path, settings.lock_wait_s
    )
    written = 0
    try:
        before = store.cluster_snapshot(con)  # ids survive videos rewritten below
        # Only the rows this run produced: a kept failure is what the warehouse holds already.
        recorded = store.recorded_videos_of(con, [o.row.video_id for o in outcomes])
        for out in kept:
            statuses[out.status] += 1
            failures.append((out.row.row_number, out.status, out.error or ""))
        batch: list[store.VideoRecord] = []
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
            old = recorded.get(rec.video_id)
            if out.head is None:
                if not store.same_failure(rec, old):
                    batch.append(rec)
                if len(batch) >= FAILED_BATCH:
                    written += store.write_failed_videos(con, batch)
                    batch = []
            elif store.is_done(rec, old):
                skipped += 1
            else:
                store.write_video(con, rec, out.faces(), settings.faces_dir)
                written += 1
            timings["write"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        written += store.write_failed_videos(con, batch)
        store.prune_videos(con, [r.video_id for r in rows])
        timings["write"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        stale: list[str] = []
        n_faces, n_infl, n_unassigned = recluster(con, settings, ledger, stale, before)
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
    except Exception as exc:
        store.close_quietly(con)
        full = health.full_disk_error(exc, db_path, settings.faces_dir, written, len(rows))
        if full is not None:
            raise full from None
        raise
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
        n_failed_kept=len(kept),
        notes=pre.notes + ledger.notes,
        stopped=stopped,
    )


def _produce_all(
    produce, rows: list[VideoRow], settings: Settings, base_dir: Path, progress: bool
) -> tuple[list[Outcome], str | None]:
    """Every row's outcome. When the cache disk stays full (CACHE_FULL_STREAK rows in a row),
    downloading stops: the rows not tried yet are recorded as failed with that reason (none is
    lost), and a re-run tries them again. Returns (outcomes, why it stopped early or None)."""
    outcomes: list[Outcome] = []
    gen = produce(rows, settings, base_dir)
    streak = 0
    stopped = None
    with tqdm(total=len(rows), unit="video", desc="videos", disable=not progress) as bar:
        for out in gen:
            outcomes.append(out)
            bar.update()
            full = bool(out.error and out.error.startswith(CACHE_FULL))
            streak = streak + 1 if full else 0
            if streak >= CACHE_FULL_STREAK:
                gen.close()  # cancels the downloads not started
                stopped = out.error
                break
    if stopped is None:
        return outcomes, None
    seen = {o.row.row_number for o in outcomes}
    left = [r for r in rows if r.row_number not in seen]
    reason = (
        f"{CACHE_FULL}: not tried, the run stopped after {CACHE_FULL_STREAK} downloads in a "
        f"row could not be cached ({settings.cache_dir / 'downloads'}); free space there, then "
        "run again"
    )
    outcomes.extend(Outcome(r, "download_failed", reason) for r in left)
    return outcomes, (
        f"stopped early: {stopped}; {len(left)} rows not tried (recorded as failed, tried "
        "again on the next run)"
    )


def _kept_failures(
    rows: list[VideoRow], failed: dict[str, store.RecordedVideo], base_dir: Path
) -> list[Outcome]:
    """Outcomes of rows whose failure the warehouse records for the same CSV cells: not tried
    again (``--retry-failed`` tries them). A local file is tried again when it changed (it is
    there now, or holds other bytes); a full cache disk says nothing about the URL, so those
    rows are always tried again."""
    out = []
    for r in rows:
        old = failed.get(r.video_id)
        if (
            old is None
            or r.reject_reason  # rejecting costs nothing and may read differently now
            or old.status not in ("download_failed", "decode_failed")
            or (old.error or "").startswith(CACHE_FULL)
            or (old.row_number, old.source_url, old.performance_raw)
            != (r.row_number, r.source_url, r.performance_raw)
            or _local_changed(r, old, base_dir)
        ):
            continue
        out.append(Outcome(r, old.status, old.error, old.content_sha256))
    return out


def _local_changed(row: VideoRow, old: store.RecordedVideo, base_dir: Path) -> bool:
    """For a local file: whether it differs from what failed before (None-safe for URLs)."""
    if (row.source_url or "")[:8].lower().startswith(("http://", "https://")):
        return False  # a network URL (the common case, checked without parsing it)
    try:
        lp = local_path(row.source_url or "", base_dir)
    except Exception:
        return False  # a URL the fetcher refuses: refused the same way again
    if lp is None:
        return False
    if not lp.is_file():
        return old.content_sha256 is not None  # it was there before: changed
    try:
        return old.content_sha256 != sha256_file(lp)
    except OSError:
        return True


def recluster_warehouse(
    db_path: Path, settings: Settings
) -> tuple[int, int, int, list[str], list[str]]:
    """`ingest recluster`: re-cluster the faces already in the warehouse under the corrections
    file. Everything is checked before the warehouse is opened for writing; raises an
    IngestError subclass for a setup problem. Returns (faces, influencers, unassigned faces,
    stale corrections, notes on the corrections file)."""
    if not db_path.is_file():
        raise WarehouseError(
            f"no warehouse at {db_path}; run `ingest run CSV --db {db_path}` first"
        )
    embedder = settings.embedding.embedder
    # Before connecting for writing: a connection for another embedding size drops the faces.
    con = store.open_warehouse(db_path, read_only=True)
    try:
        held = store.face_embedders(con)
        if held and embedder not in held:
            raise WarehouseError(
                f"{db_path} holds {', '.join(held)} faces, not {embedder}'s: recluster with "
                f"--embedder {held[0]}, or re-extract with `ingest run --embedder {embedder}`"
            )
    finally:
        con.close()
    ledger = room.open_ledger(db_path, settings.people_file)
    room.confirm(ledger, settings.lock_wait_s)
    con = open_with_wait(
        lambda: store.connect(db_path, EMBEDDERS[embedder].dim), db_path, settings.lock_wait_s
    )
    stale: list[str] = []
    try:
        n, k, u = recluster(con, settings, ledger, stale)
    finally:
        con.close()
    return n, k, u, stale, ledger.notes


def recluster(
    con,
    settings: Settings,
    ledger: room.Ledger | None = None,
    stale: list[str] | None = None,
    before: dict[str, int] | None = None,
) -> tuple[int, int, int]:
    """Cluster every current face of the configured embedder under the corrections of
    ``ledger`` (``room.open_ledger``, read and checked before the run wrote; None: no
    corrections); rewrites raw.face_clusters with stable influencer ids
    (ingest.corrections.apply) and appends their events to raw.influencer_id_history, then
    records the corrections (``room.record``, whose notes go to ``ledger.notes``) and the
    review suggestions. Corrections that match nothing are appended to ``stale``. ``before``:
    store.cluster_snapshot taken before the run wrote (default: now). Returns (faces,
    influencers, unassigned faces)."""
    embedder = settings.embedding.embedder
    if ledger is None:
        ledger = room.no_ledger(Path(""))
    corrections = ledger.corrections
    where = str(ledger.path)
    df = store.load_faces(con, embedder)
    if df.empty:
        store.write_clusters(con, [], _empty_clustering(), embedder, "none")
        empty = np.zeros(0, np.int64)
        ledger.notes += room.record(con, ledger, [], empty, empty.astype(str), empty)
        store.write_review(con, [], settings.cluster.cluster_threshold)
        return 0, 0, 0
    table = store.face_table(df)
    cs = settings.cluster
    face_ids = df["face_id"].tolist()
    prev = store.previous_ids(store.cluster_snapshot(con) if before is None else before, face_ids)
    # Faces no id is carried by any more (a warehouse rebuilt from nothing) get their
    # corrections' ids back from the faces each row is anchored on, spread over the people a
    # clustering without the corrections finds, as the warehouse the file was written for had.
    # That clustering already keeps the anchored answers' pairs apart (cannot-links between
    # anchor faces), so two people answered "different" never share one.
    if apply.missing_anchored(corrections, prev, face_ids):
        seeded = apply.with_anchors(corrections, prev, face_ids)
        natural = cluster_faces(
            table,
            cs,
            population_mean(embedder),
            population_mean("faceres"),
            cannot_link=apply.plan(corrections, seeded, table.video_id).cannot_link,
        ).cluster_id
        prev = apply.with_anchors(corrections, prev, face_ids, natural)
    issued = room.issued_with_file(store.issued_ids(con), ledger)
    apply.check_corrections(corrections, where, issued, prev, table.video_id)
    p = apply.plan(corrections, prev, table.video_id)
    if stale is not None:
        stale.extend(f"{where}:{s}" for s in p.stale)
    c = cluster_faces(
        table,
        cs,
        population_mean(embedder),
        population_mean("faceres"),
        must_link=p.must_link,
        cannot_link=p.cannot_link,
    )
    ids = apply.match_ids(c.cluster_id, p.match_prev, max(issued, default=0))
    recorded = store.recorded_ids(con)
    events = apply.id_events(prev, ids, recorded)
    if ledger.fresh:
        # The file's ids that found no face (rows from before anchors, videos not in the CSV)
        # are this warehouse's too: recorded, so the next run knows them as issued.
        now = {e[0] for e in events} | set(ids[ids >= 1].tolist())
        events += [
            (i, "created", None) for i in sorted(apply.anchor_ids(corrections) - now - recorded)
        ]
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
    ledger.notes += room.record(con, ledger, face_ids, prev, table.video_id, table.sharpness)
    # What a person should check on the report's "Check these" page (issue #37); questions a
    # correction answered are not asked again.
    review = review_candidates(
        table,
        c,
        cs,
        settings.review,
        population_mean(embedder),
        population_mean("faceres"),
        tied=p.tied,
        cannot_link=p.cannot_link,
        model=model_for(embedder),
    )
    store.write_review(con, review, cs.cluster_threshold)
    n_infl = len(np.unique(c.cluster_id[c.cluster_id >= 1]))
    return len(df), n_infl, int((c.cluster_id < 1).sum())


def _empty_clustering():
    from ingest.people.cluster import Clustering

    return Clustering(np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0))
