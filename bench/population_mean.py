"""Re-estimate a population mean (an embedder's or the faceres descriptor's) from the seed-1
calibration corpus.

`python -m bench.population_mean --of facenet` reads data/bench/cal_seed1.duckdb (written by
`make bench`); `--of arcface --db data/bench/cal_arcface_seed1.duckdb` the same corpus as
`make bench-calibrate` ingests it with ArcFace. Its faces are grouped into stage-1 tracks at
the stored embedder's own settings (``cluster_settings_for``) and the mean of the track
centroids is written: the prior that steadies centring on small corpora (ingest.people.cluster.center).
Seed 1 is a calibration corpus, disjoint from the benchmark's seed 2026. (dlib's,
ingest/dlib_population_mean.npy, came the same way from dlib's embeddings.)"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from bench.corpora import at_floor, load_table
from ingest.people.cluster import FaceTable, cluster_faces
from ingest.settings import ClusterSettings, Settings, cluster_settings_for
from ingest.vectors import l2_normalize
from ingest.warehouse.store import held_embedders


def track_mean(table: FaceTable, s: ClusterSettings, of_descriptor: bool = True) -> np.ndarray:
    """(k,) mean of the L2-normalised per-track centroids of ``table.descriptor`` (or of the
    embeddings), tracks as stage 1 keeps them (the veto is off here: stage 2 would need the
    mean being estimated)."""
    track = cluster_faces(table, dataclasses.replace(s, faceres_veto=0.0)).track_id
    x = table.descriptor if of_descriptor else table.embeddings
    cents = [x[track == k].astype(np.float64).mean(axis=0) for k in sorted(set(track) - {None})]
    return l2_normalize(np.stack(cents)).mean(axis=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.population_mean",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--db", type=Path, default=Path("data/bench/cal_seed1.duckdb"))
    ap.add_argument(
        "--of",
        choices=["faceres", "facenet", "arcface"],
        default="faceres",
        help="whose mean: the faceres descriptor or an embedder's embedding (the warehouse's)",
    )
    ap.add_argument("--out", type=Path, help="default: ingest/<of>_population_mean.npy")
    args = ap.parse_args(argv)
    if not args.db.is_file():
        print(f"error: {args.db} not found: run `make bench` first", file=sys.stderr)
        return 2
    s = Settings()
    out = args.out or Path(f"ingest/{args.of}_population_mean.npy")
    _, t = at_floor(*load_table(args.db), s.detection.min_face_px)
    stored = ", ".join(held_embedders(args.db)) or "nobody"
    if (args.of != "faceres" and stored != args.of) or (
        args.of == "faceres" and t.descriptor is None
    ):
        print(
            f"error: {args.db} holds no {args.of} vectors (its faces are {stored}'s): pass "
            "--db a seed-1 warehouse of that embedder (`make bench`, or `make bench-calibrate` "
            "for an opt-in one)",
            file=sys.stderr,
        )
        return 2
    # Tracks as stage 1 keeps them at the stored embedder's own settings.
    mean = track_mean(t, cluster_settings_for(stored), of_descriptor=args.of == "faceres")
    np.save(out, mean.astype(np.float32))
    print(f"wrote {out} ({mean.shape[0]}-d, from {args.db})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
