"""What each face-size floor costs (`make bench-floors`, issue #50): each recipe's unseen seeds
(bench/corpora.py UNSEEN) extracted once at the lowest floor, then clustered at the defaults
with only the faces each floor keeps (a higher floor keeps a subset of the same faces, as in
bench/calibration.py). Per recipe and floor: the lowest BCubed precision over the seeds, the
mean recall, the people on screen that no influencer holds, and the error of a person's average
score. Detection runs on frames shrunk to the floor (DetectionSettings.floor_detect_px), so the
row at the default floor is close to, not the same as, a run at the defaults.

Then, at the lowest floor, the clustering's brakes loosened one after another (BRAKES): where
the people that floor keeps but no influencer holds are lost, and what finding them costs.

Writes its block into docs/benchmarks.md between the markers below."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import time
from pathlib import Path

from bench import folder_args
from bench.corpora import UNSEEN, CorpusGroup, ingest_group
from bench.creative import publish_block
from bench.metrics import Report
from ingest.settings import Settings

FLOORS = (30.0, 35.0, 40.0, 45.0, 50.0)  # px, the shorter side of a face's box

# (label, ClusterSettings changes), each on top of the one before.
BRAKES: tuple[tuple[str, dict[str, object]], ...] = (
    ("defaults", {}),
    ("clusters of 2 faces", {"min_cluster_faces": 2}),
    ("and track sharpness 30", {"min_cluster_faces": 2, "min_track_sharpness": 30.0}),
    ("and track sharpness 15", {"min_cluster_faces": 2, "min_track_sharpness": 15.0}),
    (
        "and stage 2 looser (threshold 0.62, no veto, no ratio test)",
        {
            "min_cluster_faces": 2,
            "min_track_sharpness": 15.0,
            "cluster_threshold": 0.62,
            "faceres_veto": 0.0,
            "merge_ratio": float("inf"),  # the relative merge test off
        },
    ),
)

START = "<!-- face floors: start -->"
END = "<!-- face floors: end -->"


@dataclasses.dataclass(frozen=True)
class FloorRow:
    floor_px: float
    reports: list[Report]  # one per seed
    label: str = ""  # the brakes' row: what is loosened

    @property
    def lowest_p(self) -> float:
        return min(r.bcubed_p for r in self.reports)

    @property
    def mean_r(self) -> float:
        return sum(r.bcubed_r for r in self.reports) / len(self.reports)

    @property
    def missed(self) -> tuple[int, int]:
        """(people on screen in no influencer, people on screen), over the seeds."""
        return (
            sum(r.n_people_missed for r in self.reports),
            sum(r.n_people for r in self.reports),
        )

    @property
    def score_error(self) -> float | None:
        known = [r.score_mae for r in self.reports if not math.isnan(r.score_mae)]
        return sum(known) / len(known) if known else None


def run_floors(
    groups: list[CorpusGroup], faces: Path, work: Path, settings: Settings
) -> list[tuple[CorpusGroup, list[FloorRow], list[FloorRow]]]:
    """Every group extracted at the lowest of FLOORS, then scored at each floor, and at the
    lowest floor with each of BRAKES."""
    low = dataclasses.replace(
        settings, detection=dataclasses.replace(settings.detection, min_face_px=min(FLOORS))
    )
    out = []
    for group in groups:
        g = dataclasses.replace(group, key=f"{group.key}_floor{int(min(FLOORS))}")
        corpora = ingest_group(g, faces, work, low)
        rows = [
            FloorRow(px, [c.at_floor(px).score(settings.cluster) for c in corpora]) for px in FLOORS
        ]
        brakes = [
            FloorRow(
                min(FLOORS),
                [c.score(dataclasses.replace(settings.cluster, **change)) for c in corpora],
                label,
            )
            for label, change in BRAKES
        ]
        out.append((group, rows, brakes))
    return out


def _wall(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _cells(row: FloorRow) -> str:
    n_missed, n_people = row.missed
    err = "no person found" if row.score_error is None else f"{row.score_error:.3f}"
    return f"{row.lowest_p:.3f} | {row.mean_r:.3f} | {n_missed} of {n_people} | {err} |"


def block(
    results: list[tuple[CorpusGroup, list[FloorRow], list[FloorRow]]],
    started: dt.datetime,
    seconds: float,
    default_px: float,
) -> list[str]:
    """The markdown block of docs/benchmarks.md."""
    lines = [
        "## What each face-size floor costs",
        "",
        f"`make bench-floors` ({started:%Y-%m-%d}, {_wall(seconds)} wall time; a run whose "
        "warehouses are already extracted only clusters). Each "
        f"recipe's unseen seeds extracted once at {min(FLOORS):g} px, then clustered at the "
        "defaults with the faces each floor keeps (the shorter side of the box). Lowest BCubed "
        "precision over the seeds, mean recall, people on screen that no influencer holds, "
        f"and the mean error of a person's average score. The default floor is "
        f"{default_px:g} px; its row is close to a run at the defaults, not the same (detection "
        "runs on frames shrunk to the floor).",
    ]
    for group, rows, brakes in results:
        lines += [
            "",
            f"### {group.name.capitalize()}: seeds {group.seed_list}",
            "",
            "| floor (px) | lowest BCubed P | mean BCubed R | people missed | score error |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            mark = " (default)" if row.floor_px == default_px else ""
            lines.append(f"| {row.floor_px:g}{mark} | {_cells(row)}")
        lines += [
            "",
            f"The clustering's brakes loosened at {min(FLOORS):g} px, each row on top of the one "
            "before:",
            "",
            "| clustering | lowest BCubed P | mean BCubed R | people missed | score error |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {row.label} | {_cells(row)}" for row in brakes]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.floors", description=__doc__)
    folder_args(ap)
    ap.add_argument(
        "--recipes",
        nargs="+",
        default=[g.key.removeprefix("unseen_") for g in UNSEEN],
        help="which recipes' unseen seeds (default: all)",
    )
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no face photos at {args.faces} (SHARED=...)")
        return 2
    groups = [g for g in UNSEEN if g.key.removeprefix("unseen_") in args.recipes]
    if not groups:
        print(f"error: no recipe among {args.recipes} (studio, edited, phone)")
        return 2
    settings = dataclasses.replace(
        Settings(), cache_dir=args.work / "cache", faces_dir=args.work / "faces"
    )
    started, t0 = dt.datetime.now(), time.perf_counter()
    results = run_floors(groups, args.faces, args.work, settings)
    lines = block(results, started, time.perf_counter() - t0, settings.detection.min_face_px)
    publish_block(args.out, lines, START, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
