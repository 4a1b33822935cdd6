"""Where the creative features' cuts come from (`python -m bench.creative_calibration`).

The close-up cut (face height >= a share of the frame) and the looking-at-the-camera ranges
(yaw and pitch proxies from MTCNN's five landmarks) are read off real footage: the 18
talking-head clips in ``../shared/videos-talking`` (a person talking to the camera, framed
head-and-shoulders: close-ups that look at the lens) against the 14 clips in
``../shared/videos`` (speeches at a podium, an audience, a crowd, a dinner table: wide and
medium shots, people looking at each other). A few sampled frames per clip, the largest face
of each; the proxies are the same arithmetic as dbt's ``int_faces_posed``."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from ingest.extract.detect import MtcnnDetector
from ingest.extract.video import iter_frames, probe
from ingest.settings import DetectionSettings


def pose(lm: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) proxies of five landmarks (5, 2): the nose's offset from the eyes'
    midpoint along the eye line in half eye-distances (0 frontal, +-1 profile), and the nose's
    position from the eye line (0) to the mouth line (1)."""
    le, re, nose, ml, mr = lm
    half = np.linalg.norm(re - le) / 2
    axis = (re - le) / (2 * half)
    eyes, mouth = (le + re) / 2, (ml + mr) / 2
    yaw = float(np.dot(nose - eyes, axis) / half)
    down = mouth - eyes
    pitch = float(np.dot(nose - eyes, down) / np.dot(down, down))
    return yaw, pitch


def measure(
    folder: Path, per_clip: int, det: MtcnnDetector
) -> list[tuple[str, float, float, float]]:
    """(clip, largest face height / frame height, yaw, pitch) per sampled frame with a face."""
    rows = []
    with (folder / "INFO.csv").open() as fh:
        files = [r["file"] for r in csv.DictReader(fh)]
    for name in files:
        meta = probe(folder / name)
        idx = np.unique(np.linspace(0, meta.n_frames - 1, per_clip + 2)[1:-1].astype(np.int64))
        for frame in iter_frames(folder / name, idx, meta.fps):
            dets = [d for d in det.detect([frame.rgb], 960)[0] if d.score >= 0.95]
            if not dets:
                continue
            big = max(dets, key=lambda d: d.box[3] - d.box[1])
            yaw, pitch = pose(big.landmarks)
            rows.append((name, float(big.box[3] - big.box[1]) / meta.height, yaw, pitch))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.creative_calibration", description=__doc__)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--per-clip", type=int, default=4, help="frames per clip")
    args = ap.parse_args(argv)
    det = MtcnnDetector(DetectionSettings())
    q = (5, 25, 50, 75, 95)
    for label, sub in (("talking heads", "videos-talking"), ("other real clips", "videos")):
        rows = measure(args.shared / sub, args.per_clip, det)
        h = np.array([r[1] for r in rows])
        yaw = np.array([r[2] for r in rows])
        pitch = np.array([r[3] for r in rows])
        print(f"{label}: {len(rows)} frames of {len({r[0] for r in rows})} clips")
        print(
            f"  largest face height / frame height, percentiles {q}: {np.percentile(h, q).round(3)}"
        )
        for cut in (0.15, 0.2, 0.25, 0.3, 0.35):
            print(f"    share of frames >= {cut}: {np.mean(h >= cut):.2f}")
        print(f"  |yaw| percentiles {q}: {np.percentile(np.abs(yaw), q).round(3)}")
        print(f"  pitch percentiles {q}: {np.percentile(pitch, q).round(3)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
