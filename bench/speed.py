"""Speed figures for `make bench`: our ingest timed in a process of its own (wall time, peak
memory, frames and faces per second, the sampling rate each video got), dbt build after it, and
how ingest time grows with the number of videos."""

from __future__ import annotations

import csv
import dataclasses
import multiprocessing
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.pipeline.runner import RunSummary, run
from ingest.settings import Settings
from ingest.warehouse.schema import run_dbt


@dataclass(frozen=True)
class TimedRun:
    summary: RunSummary
    seconds: float  # wall time of the run, from reading the CSV to the last write
    peak_rss_mb: float  # the largest process of the run: ingest or one of its workers
    n_frames: int  # frames sampled, over all videos
    min_fps: float  # the lowest sampling rate any video got (frames per second of video)


def _run_measured(csv_path: Path, db: Path, settings: Settings) -> tuple[RunSummary, float, float]:
    t0 = time.perf_counter()
    summary = run(csv_path, db, settings, progress=False)
    secs = time.perf_counter() - t0
    # ru_maxrss is in KiB on Linux; CHILDREN is the largest of the run's finished workers.
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return summary, secs, peak / 1024


def timed_ingest(csv_path: Path, db: Path, settings: Settings, fresh: bool = True) -> TimedRun:
    """One `ingest run` in a new process, so its peak memory is its own; ``fresh`` starts from
    an empty warehouse and extraction cache (a first run), else re-runs on what is there."""
    if fresh:
        db.unlink(missing_ok=True)
        shutil.rmtree(settings.cache_dir, ignore_errors=True)
        shutil.rmtree(settings.faces_dir, ignore_errors=True)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        summary, secs, peak = pool.submit(_run_measured, csv_path, db, settings).result()
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_frames, min_fps = con.execute(
            "select coalesce(sum(n_frames_sampled), 0), min(n_frames_sampled / duration_s) "
            "from raw.videos where n_frames_sampled > 0"
        ).fetchone()
    finally:
        con.close()
    return TimedRun(summary, secs, peak, int(n_frames), float(min_fps or 0.0))


def dbt_seconds(db: Path) -> float:
    """Wall time of `dbt build` on ``db``, its target and logs beside it."""
    t0 = time.perf_counter()
    proc = run_dbt(
        "build",
        "--quiet",
        db=db.resolve(),
        target_dir=db.parent / "dbt_target",
        log_dir=db.parent / "dbt_logs",
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt build failed on {db}:\n{proc.stdout[-4000:]}")
    return time.perf_counter() - t0


def joined_csv(csvs: list[Path], out: Path) -> Path:
    """One CSV of every row of ``csvs`` in order, URLs made absolute (they are relative to each
    CSV's folder)."""
    rows = []
    for path in csvs:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows += [[score, str((path.parent / url).resolve())] for score, url in reader]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return out


def first_rows_csv(csv_path: Path, n: int) -> Path:
    """A CSV of the first ``n`` rows of ``csv_path``, beside it so relative URLs still resolve."""
    with csv_path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    out = csv_path.with_name(f"{csv_path.stem}_first{n}.csv")
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows[: n + 1])
    return out


def growth(
    csv_path: Path, sizes: tuple[int, ...], work: Path, settings: Settings
) -> list[tuple[int, TimedRun]]:
    """Ingest the first n videos for each n, each from scratch (own warehouse and cache)."""
    out = []
    for n in sizes:
        d = work / f"growth_{n}"
        s = dataclasses.replace(settings, cache_dir=d / "cache", faces_dir=d / "faces")
        print(f"ingest growth: {n} videos", flush=True)
        out.append((n, timed_ingest(first_rows_csv(csv_path, n), d / "w.duckdb", s)))
    return out


def speed_lines(ours: TimedRun, rerun: TimedRun, n_videos: int) -> list[str]:
    sm = ours.summary
    t = sm.timings
    stage = " | ".join(
        f"{k} {t.get(k, 0.0):.1f}"
        for k in ("download", "decode", "detect", "embed", "age", "write", "cluster")
    )
    return [
        f"- ours: **{ours.seconds:.0f} s** ingest for {n_videos} videos from scratch "
        f"({ours.seconds / n_videos:.2f} s per video), {ours.n_frames} frames sampled "
        f"({ours.n_frames / ours.seconds:.1f} frames/s), {sm.n_faces} faces kept "
        f"({sm.n_faces / ours.seconds:.1f} faces/s); peak memory {ours.peak_rss_mb:.0f} MB "
        f"(largest process); every video sampled at >= {ours.min_fps:.2f} frames per second "
        "of video, first to last second",
        f"- seconds per stage (summed over the workers): {stage}",
        f"- re-run with nothing new: {rerun.seconds:.1f} s "
        f"({100 * rerun.seconds / ours.seconds:.1f}% of the first run; "
        f"{rerun.summary.n_skipped} videos skipped)",
    ]


def growth_table(rows: list[tuple[int, TimedRun]]) -> list[str]:
    lines = [
        "| videos | ingest from scratch (s) | s per video | faces | peak memory (MB) |",
        "|---|---|---|---|---|",
    ]
    for n, r in rows:
        lines.append(
            f"| {n} | {r.seconds:.0f} | {r.seconds / n:.2f} | {r.summary.n_faces} | "
            f"{r.peak_rss_mb:.0f} |"
        )
    return lines
