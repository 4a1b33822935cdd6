"""Ingest time and peak memory as the corpus grows to 1,000 videos (`make bench-growth`):
the first 100, 300 and 1,000 videos of ten studio corpora of the benchmark's shape (100 videos,
30 people each, drawn from the same 80 people of ../shared/faces), each size ingested from an empty warehouse and cache in a
process of its own (bench.speed.timed_ingest), so the cost per video is seen to stay flat or
not. Writes its block into docs/benchmarks.md between the markers below."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import time

from bench import folder_args
from bench.corpora import BENCH, corpus
from bench.creative import publish_block
from bench.speed import TimedRun, growth, growth_table, joined_csv
from ingest.demo.synth import SynthConfig
from ingest.settings import Settings

SIZES = (100, 300, 1000)
# Seeds 6001-6010: used for nothing else, so no default was chosen on them.
CORPORA = tuple(dataclasses.replace(BENCH, seed=s) for s in range(6001, 6011))

START = "<!-- ingest growth to 1000: start -->"
END = "<!-- ingest growth to 1000: end -->"


def flatness(rows: list[tuple[int, TimedRun]]) -> float | None:
    """Seconds per video at the largest size over seconds per video at the smallest: 1.0 is
    flat; None with fewer than two sizes."""
    if len(rows) < 2:
        return None
    (n0, r0), (n1, r1) = rows[0], rows[-1]
    return (r1.seconds / n1) / (r0.seconds / n0)


def block(
    rows: list[tuple[int, TimedRun]],
    started: dt.datetime,
    seconds: float,
    cores: int,
    corpora: tuple[SynthConfig, ...] = CORPORA,
) -> list[str]:
    """The markdown block of docs/benchmarks.md."""
    seeds = f"{corpora[0].seed}-{corpora[-1].seed}"
    lines = [
        "## Ingest as the corpus grows to 1,000 videos",
        "",
        f"`make bench-growth` ({started:%Y-%m-%d}, {seconds / 60:.0f} min wall time in all, "
        f"{cores} cores, no GPU). The first 100, 300 and 1,000 videos of {len(corpora)} studio "
        f"corpora of the benchmark's shape (seeds {seeds}: {corpora[0].n_videos} videos, "
        f"{corpora[0].n_identities} people each, drawn from the same 80 people of "
        "`../shared/faces`), every size from an empty warehouse and "
        "cache, in a process of its own (peak memory: the largest process, ingest or one of "
        "its workers). Clustering is inside the ingest time.",
        "",
        *growth_table(rows),
    ]
    ratio = flatness(rows)
    if ratio is not None:
        lines += [
            "",
            f"Seconds per video at {rows[-1][0]} videos are **{ratio:.2f}x** those at "
            f"{rows[0][0]}" + (" (flat: within 15%)." if abs(ratio - 1) <= 0.15 else "."),
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.growth", description=__doc__)
    folder_args(ap)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no face photos at {args.faces} (SHARED=...)")
        return 2
    sizes = tuple(sorted(args.sizes))
    per = CORPORA[0].n_videos
    needed = CORPORA[: -(-max(sizes) // per)]
    if len(needed) * per < max(sizes):
        print(f"error: at most {len(CORPORA) * per} videos (--sizes)")
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    started, t0 = dt.datetime.now(), time.perf_counter()
    csvs = [corpus(args.faces, args.work, c) / "videos.csv" for c in needed]
    joined = joined_csv(csvs, args.work / "growth1000_videos.csv")
    rows = growth(joined, sizes, args.work / "growth1000", Settings())
    lines = block(rows, started, time.perf_counter() - t0, os.cpu_count() or 1, needed)
    publish_block(args.out, lines, START, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
