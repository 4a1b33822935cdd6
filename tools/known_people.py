"""A known_people/ folder for the demo corpus: reference photos of the demo's people that its
videos never show (truth_photos.csv), for dbt's known-people naming (int_influencers_matched).

    python -m tools.known_people --demo data/demo --faces ../shared/faces --out known_people

Your own people need no tool: put photos in known_people/<Name>/*.jpg."""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path


def unused_photos(demo_dir: Path, faces_dir: Path) -> dict[str, list[Path]]:
    """Each person of the demo corpus -> their photos in faces_dir the videos do not show."""
    with (demo_dir / "truth_videos.csv").open() as fh:
        people = sorted({p for row in csv.DictReader(fh) for p in row["people"].split(";") if p})
    with (demo_dir / "truth_photos.csv").open() as fh:
        used = {(row["identity"], row["photo"]) for row in csv.DictReader(fh)}
    return {
        p: [f for f in sorted((faces_dir / p).glob("*.jpg")) if (p, f.name) not in used]
        for p in people
    }


def write_references(photos: dict[str, list[Path]], out: Path, per_person: int) -> int:
    """Copy up to per_person photos per name into out/<name>/; returns the number copied."""
    n = 0
    for name, files in photos.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        for f in files[:per_person]:
            shutil.copyfile(f, out / name / f.name)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tools.known_people",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--demo",
        type=Path,
        default=Path("data/demo"),
        help="demo corpus folder (default: %(default)s)",
    )
    ap.add_argument(
        "--faces",
        type=Path,
        default=Path("../shared/faces"),
        help="the photos it was made from (default: %(default)s)",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("known_people"),
        help="folder to fill (default: %(default)s)",
    )
    ap.add_argument(
        "--per-person", type=int, default=3, help="photos per person (default: %(default)s)"
    )
    ap.add_argument("--people", type=int, help="only the first N people by name (default: all)")
    args = ap.parse_args(argv)
    for need in (args.demo / "truth_videos.csv", args.demo / "truth_photos.csv", args.faces):
        if not need.exists():
            print(
                f"error: {need} not found; run `make build` (the demo corpus) first, "
                "or pass --demo / --faces",
                file=sys.stderr,
            )
            return 2
    photos = unused_photos(args.demo, args.faces)
    if args.people is not None:
        photos = dict(list(photos.items())[: args.people])
    n = write_references(photos, args.out, args.per_person)
    print(f"{n} reference photos of {len(photos)} people in {args.out}; now `make dbt` names them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
