"""`make bench`: labelled benchmark of the whole pipeline, the naive baseline and real clips.

1. Calibration corpora (bench/corpora.py CALS: 28 corpora of the studio and edited recipes,
   with the look-alike seeds): the face-size floor and the clustering settings in
   ingest/settings.py were chosen by mean BCubed F0.5 over them; with the calibration on
   (make bench-calibrate) the sweeps are re-run and each clustering method's threshold is
   re-picked on them for the comparison table.
2. Benchmark corpus (seed 2026, never tuned on): 100 videos, 30 people, 9 with two people,
   15 with nobody. Our pipeline end to end (timed per stage, then dbt), the algorithm
   comparison, and the naive baseline, all on the same files in the same run.
3. Unseen seeds of each recipe (bench/corpora.py UNSEEN), ingested from an empty cache and
   scored against the targets of general footage, beside the rules before it.
4. The "What works" page against a planted creative effect and against none (bench/creative.py).
5. Real clips (../shared/videos): Barack Obama's clips must form one influencer with nobody
   else in it, and other people must not merge with each other: across clips, and within the
   clips hand-labelled in bench/labels (the six-person family dinner of SimpleFR).
6. The precision margin (bench/margin.py): ../shared/videos and videos-talking ingested as one
   corpus, no two people merged at the defaults, nor with stage 2 a margin looser.
7. "Check these" with the chance of each row (bench/chance.py): the shipped model's
   reliability and the user's burden at its floor, on the unseen seeds and the real clips.
8. `make review` on the benchmark corpus (bench/review.py): seconds from a click to the updated
   page, beside a full `make report` of the same warehouse.
Writes docs/benchmarks.md."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from pathlib import Path

from bench import OPT_IN, installed_opt_ins, publish, publish_readme_block
from bench.benchmark import run_benchmark
from bench.calibration import calibrate, calibrate_embedder, method_thresholds
from bench.chance import publish_checks
from bench.corpora import CALIBRATION, UNSEEN
from bench.creative import block as creative_block
from bench.creative import publish_block, run_creative
from bench.margin import FOLDERS, check_margin
from bench.real import check_real, real_clips, real_csv
from bench.render import (
    BenchReport,
    benchmarks_md,
    calibration_tables,
    embedder_calibration_tables,
    readme_block,
)
from bench.review import END as REVIEW_END
from bench.review import START as REVIEW_START
from bench.review import block as review_block
from bench.review import run_review_bench
from bench.unseen import run_unseen
from ingest.settings import Settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    ap.add_argument("--videos", type=Path, default=Path("../shared/videos"))
    ap.add_argument("--work", type=Path, default=Path("data/bench"), help="corpora and warehouses")
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument(
        "--skip-calibration",
        action="store_true",
        help="leave out the calibration sweeps (28 more corpora; make bench-calibrate)",
    )
    ap.add_argument(
        "--readme",
        type=Path,
        default=Path("README.md"),
        help="README whose 'make bench' block gets this run's table (default: %(default)s)",
    )
    ap.add_argument(
        "--calibrate-only",
        action="store_true",
        help="only ingest the calibration corpora and print the settings sweep",
    )
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no face photos at {args.faces} (make bench SHARED=...)", file=sys.stderr)
        return 2
    settings = dataclasses.replace(
        Settings(), cache_dir=args.work / "cache", faces_dir=args.work / "faces"
    )
    started = dt.datetime.now()

    cal = None
    if not args.skip_calibration:
        cal = calibrate(args.faces, args.work, settings, CALIBRATION)
        if args.calibrate_only:
            print(calibration_tables(cal, settings), end="")
            # An opt-in embedder's own settings, wherever its weights are installed.
            for name in installed_opt_ins(settings):
                ec = calibrate_embedder(name, args.faces, args.work, settings, CALIBRATION)
                print(embedder_calibration_tables(ec, CALIBRATION.seeds), end="")
            return 0
    thresholds = method_thresholds(cal, settings.cluster) if cal else None
    benchmark = run_benchmark(
        args.faces, args.work, settings, thresholds, CALIBRATION, args.skip_baseline
    )
    others = installed_opt_ins(settings)
    unseen = [run_unseen(g, args.faces, args.work, settings, others) for g in UNSEEN]
    real, real_others = None, []
    if args.videos.is_dir():
        real = check_real(args.videos, args.work / "real", settings)
        for name in others:
            s = settings.for_embedder(name)
            csv, _ = real_csv(args.videos, args.work / f"real_{name}")
            real_others.append((name, real_clips(csv, args.work / f"real_{name}", s)[0]))

    margin = None
    shared = args.videos.parent
    if all((shared / f / "INFO.csv").is_file() for f in FOLDERS):
        margin = check_margin(shared, args.work / "margin", settings)

    report = BenchReport(
        started,
        settings,
        benchmark,
        CALIBRATION,
        cal,
        real,
        unseen,
        real_others,
        [n for n in OPT_IN if n not in others],
        margin,
    )
    publish(args.out, benchmarks_md(report).split("\n"))
    # The "What works" page against a planted effect (bench/creative.py), in its own block.
    publish_block(args.out, creative_block(run_creative(args.faces, args.work, settings)))
    # "Check these": the shipped chance model on the same unseen seeds and real clips
    # (bench/chance.py; `make bench-chance` fits it), in its own block.
    publish_checks(args.out, args.faces, args.work, shared, settings)
    # `make review` on the benchmark corpus (bench/review.py), in its own block.
    publish_block(
        args.out,
        review_block(run_review_bench(args.faces, args.work, settings)),
        REVIEW_START,
        REVIEW_END,
    )
    if args.readme is not None:
        publish_readme_block(args.readme, readme_block(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
