"""Re-estimate the faceres descriptor's population mean from the seed-1 calibration corpus.

`python -m bench.population_mean` reads data/bench/cal_seed1.duckdb (written by `make bench`),
groups its faces into stage-1 tracks at the default settings and writes the mean of the track
centroids: the prior that steadies centring on small corpora (ingest.cluster.center). Seed 1
is a calibration corpus, disjoint from the benchmark's seed 2026."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from bench.__main__ import at_floor, load_table
from ingest.cluster import _centroids, tracks_within_video
from ingest.settings import Settings

OUT = Path("ingest/faceres_population_mean.npy")


def track_mean(video_id, frame_index, emb, vectors, sharpness, s) -> np.ndarray:
    """(k,) mean of the L2-normalised per-track centroids of ``vectors`` (n, k), tracks found
    on ``emb`` (n, d) as stage 1 finds them."""
    track = np.full(len(video_id), -1)
    k = 0
    for v in np.unique(video_id):
        idx = np.flatnonzero(video_id == v)
        lab = tracks_within_video(frame_index[idx], emb[idx], s, sharpness[idx])
        for j in np.unique(lab[lab >= 0]):
            track[idx[lab == j]] = k
            k += 1
    kept = track >= 0
    return _centroids(vectors[kept], track[kept], k).mean(axis=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.population_mean", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("data/bench/cal_seed1.duckdb"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not args.db.is_file():
        print(f"error: {args.db} not found: run `make bench` first", file=sys.stderr)
        return 2
    s = Settings()
    _, t = at_floor(*load_table(args.db), s.detection.min_face_px)
    if t.descriptor is None:
        print(f"error: {args.db} has faces without a faceres descriptor: re-run `make bench`",
              file=sys.stderr)
        return 2
    mean = track_mean(t.video_id, t.frame_index, t.embeddings, t.descriptor, t.sharpness, s.cluster)
    np.save(args.out, mean.astype(np.float32))
    print(f"wrote {args.out} ({mean.shape[0]}-d, from {args.db})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
