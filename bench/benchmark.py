"""The benchmark corpus (seed 2026, never tuned on): our pipeline timed end to end, the
clustering methods compared on the same faces, the two published approaches replicated on the
same files, and how ingest time grows with the number of videos."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.baseline import run_baseline, run_first_frames
from bench.calibration import brake_variants, plain_method, within_words
from bench.corpora import (
    BENCH,
    CAL,
    GROWTH_EXTRA,
    GROWTH_SIZES,
    CorpusFaces,
    CorpusGroup,
    corpus,
    load_table,
)
from bench.evaluate import evaluate, faces_with_clusters
from bench.metrics import Report
from bench.speed import TimedRun, dbt_seconds, growth, joined_csv, timed_ingest
from ingest.demo.synth import SynthConfig
from ingest.settings import ClusterSettings, Settings


@dataclasses.dataclass(frozen=True)
class Benchmark:
    corpus: SynthConfig
    ours: Report
    ours_run: TimedRun  # from scratch
    rerun: TimedRun  # the same CSV again, nothing new
    dbt_seconds: float
    comparison: list[tuple[str, Report]]  # (approach, its report) on our faces
    first5: Report | None  # None: the replicas were skipped
    first5_secs: float | None
    baseline: Report | None
    base_secs: float | None
    growth: list[tuple[int, TimedRun]]  # (videos, run)


def compare_methods(
    faces: CorpusFaces,
    cs: ClusterSettings,
    thresholds: dict[str, float] | None,
    group: CorpusGroup,
) -> list[tuple[str, Report]]:
    """Our clustering at the defaults, each brake taken away, each method at its calibrated
    threshold (``thresholds``, picked on ``group``; None: not calibrated, no such rows) and
    one stage with no tracks, all on the same faces."""
    rows = [
        (
            f"two-stage, stage 2 = agglomerative + ratio test + faceres veto (defaults: "
            f"stage 1 {cs.track_threshold}, threshold {cs.cluster_threshold}, ratio "
            f"{cs.merge_ratio}, spread prior {cs.spread_prior}, faceres veto "
            f"{cs.faceres_veto:g}, {within_words(cs)})",
            faces.score(cs),
        ),
        *((f"the same, {name}", faces.score(v)) for name, v in brake_variants(cs)[1:]),
    ]
    for method, t in (thresholds or {}).items():
        rows.append(
            (
                f"two-stage, stage 2 = {method} (threshold {t}, picked on seeds {group.seed_list})",
                faces.score(dataclasses.replace(plain_method(cs, method), cluster_threshold=t)),
            )
        )
    flat = dataclasses.replace(
        cs,
        min_track_faces=1,
        track_threshold=0.0,
        center=False,
        cluster_threshold=cs.track_threshold,
        merge_ratio=float("inf"),
        merge_within_video=True,
    )
    rows.append(
        (
            f"one stage: every face its own track, no centring, average linkage at the "
            f"stage-1 threshold {cs.track_threshold}",
            faces.score(flat),
        )
    )
    return rows


def run_benchmark(
    faces: Path,
    work: Path,
    settings: Settings,
    thresholds: dict[str, float] | None,
    group: CorpusGroup,
    skip_baseline: bool = False,
) -> Benchmark:
    bench_dir = corpus(faces, work, BENCH)
    db = work / "bench.duckdb"
    print("benchmark corpus: our pipeline", flush=True)
    # Timed from scratch (own warehouse, extraction cache and thumbnails), then re-run.
    timed = dataclasses.replace(
        settings, cache_dir=work / "cache_timed", faces_dir=work / "faces_timed"
    )
    ours_run = timed_ingest(bench_dir / "videos.csv", db, timed)
    rerun = timed_ingest(bench_dir / "videos.csv", db, timed, fresh=False)
    dbt_s = dbt_seconds(db)
    ours = evaluate(bench_dir, faces_with_clusters(db))
    comparison = compare_methods(
        CorpusFaces(bench_dir, *load_table(db)), settings.cluster, thresholds, group
    )

    baseline, base_secs, first5, first5_secs = None, None, None, None
    if not skip_baseline:
        vids = [(f"videos/{p.name}", p) for p in sorted((bench_dir / "videos").iterdir())]
        print("benchmark corpus: first-5-frames replica", flush=True)
        rows, first5_secs = run_first_frames(vids)
        first5 = evaluate(bench_dir, rows)
        print("benchmark corpus: naive baseline", flush=True)
        rows, base_secs = run_baseline(vids)
        baseline = evaluate(bench_dir, rows)
    grow_csv = joined_csv(
        [corpus(faces, work, c) / "videos.csv" for c in (BENCH, CAL, GROWTH_EXTRA)],
        work / "growth_videos.csv",
    )
    grown = growth(grow_csv, GROWTH_SIZES, work, settings)
    return Benchmark(
        BENCH,
        ours,
        ours_run,
        rerun,
        dbt_s,
        comparison,
        first5,
        first5_secs,
        baseline,
        base_secs,
        grown,
    )
