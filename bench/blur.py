"""`make bench-blur`: how blur degrades dlib's embeddings, and where to stop trusting a face.

Data: ../shared/faces (up to 10 photos per person), disjoint from the real clips. It is the
photo pool the synthesized corpora draw from, the benchmark's people included: the study
measures how blur moves any face's embedding, not who is who. Each photo is blurred with a
Gaussian of growing sigma; for each level we measure the face's sharpness exactly as
extraction does (``ingest.extract.detect.sharpness`` on the 112 px crop) and embed it exactly as
extraction does (dlib from the MTCNN box clipped to the image).

The failure that matters for clustering is two blurred strangers looking alike, so the figure
is the blurred-vs-blurred false-match rate: different-person pairs, both at one blur level,
closer (centred cosine) than the same-person 95th percentile of the sharp photos. The derived
threshold is the sharpness at which that rate reaches twice the sharp photos' rate
(interpolated between levels), rounded to the nearest 10. Writes docs/blur.md."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from bench import publish
from ingest.extract.detect import MtcnnDetector, clip_box, sharpness, square_crop
from ingest.extract.embed import DlibEmbedder, population_mean
from ingest.settings import ClusterSettings, Settings
from ingest.vectors import l2_normalize

SIGMAS = (0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)  # Gaussian sigma, pixels of the photo
PER_PERSON = 10  # photos
RATE_FACTOR = 2.0  # x the sharp photos' false-match rate


def false_match_rate(x: np.ndarray, labels: np.ndarray, tau: float) -> float:
    """Share of different-person pairs in x (n, d, centred, unit rows) closer than tau."""
    d = 1.0 - x @ x.T
    diff = labels[:, None] != labels[None, :]
    return float((d[diff] < tau).mean())


def derive_threshold(sharp: list[float], rates: list[float], factor: float) -> float | None:
    """Sharpness where the rate first reaches factor x rates[0], interpolated between levels
    (levels ordered from sharp to blurred); None if it never does."""
    target = factor * rates[0]
    for i in range(1, len(rates)):
        if rates[i] >= target:
            w = (target - rates[i - 1]) / max(rates[i] - rates[i - 1], 1e-12)
            return sharp[i - 1] + w * (sharp[i] - sharp[i - 1])
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.blur", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    ap.add_argument("--out", type=Path, default=Path("docs/blur.md"))
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no photos at {args.faces} (pass --faces DIR)", file=sys.stderr)
        return 2
    settings = Settings()
    margin, crop_px = settings.embedding.crop_margin, settings.embedding.crop_px
    detector = MtcnnDetector(settings.detection)
    embedder = DlibEmbedder(settings.embedding.dlib_box_scale)
    files = [
        (d.name, f)
        for d in sorted(args.faces.iterdir())
        if d.is_dir()
        for f in sorted(d.glob("*.jpg"))[:PER_PERSON]
    ]
    labels, emb, sharp = [], [], []
    for name, f in tqdm(files, desc="photos", unit="photo"):
        img = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
        dets = detector.detect([img], settings.sampling.max_side_px)[0]
        if not dets:
            continue
        centre = np.array(img.shape[1::-1]) / 2
        d = min(dets, key=lambda x: float(np.linalg.norm((x.box[:2] + x.box[2:]) / 2 - centre)))
        box = clip_box(d.box, img.shape[1], img.shape[0])  # as extraction crops and embeds
        rows_e, rows_s = [], []
        for s in SIGMAS:
            im = np.ascontiguousarray(cv2.GaussianBlur(img, (0, 0), s) if s else img)
            crop = cv2.cvtColor(square_crop(im, box, margin, crop_px), cv2.COLOR_RGB2GRAY)
            rows_s.append(sharpness(crop, margin))
            rows_e.append(embedder.embed(im, box[None], d.landmarks[None])[0])
        labels.append(name)
        emb.append(rows_e)
        sharp.append(rows_s)
    lab = np.array(labels)
    e = np.asarray(emb, dtype=np.float32)  # (photos, levels, 128)
    sh = np.asarray(sharp)  # (photos, levels)
    mean = population_mean("dlib")
    c = np.stack([l2_normalize(e[:, k] - mean) for k in range(len(SIGMAS))], axis=1)
    d0 = 1.0 - c[:, 0] @ c[:, 0].T
    same = lab[:, None] == lab[None, :]
    np.fill_diagonal(same, False)
    tau = float(np.percentile(d0[same], 95))
    med_sharp = [float(np.median(sh[:, k])) for k in range(len(SIGMAS))]
    rates = [false_match_rate(c[:, k], lab, tau) for k in range(len(SIGMAS))]
    derived = derive_threshold(med_sharp, rates, RATE_FACTOR)
    chosen = ClusterSettings().min_track_sharpness
    rule = None if derived is None else round(derived / 10) * 10
    lines = [
        "# Blur and dlib embeddings",
        "",
        f"Generated by `make bench-blur` on {dt.date.today().isoformat()}: {len(lab)} photos of "
        f"{len(set(labels))} people from `../shared/faces`, each blurred with a Gaussian of "
        "growing sigma. Sharpness is `ingest.extract.detect.sharpness` (variance of the Laplacian over the "
        "centre of the face in the 112 px crop), as in extraction. These are the photos the "
        "synthesized corpora are made from, the benchmark's people included; what is measured is "
        "how blur moves any face's embedding, not who is who.",
        "",
        f"False match: two different people, both at the same blur, closer (centred cosine) than "
        f"{tau:.3f}, the same-person 95th percentile of the sharp photos.",
        "",
        "| blur sigma (px) | median sharpness | same-person median distance | false-match rate |",
        "|---|---|---|---|",
    ]
    for k, s in enumerate(SIGMAS):
        dk = 1.0 - c[:, k] @ c[:, k].T
        lines.append(
            f"| {s:g} | {med_sharp[k]:.0f} | {np.median(dk[same]):.3f} | "
            f"{100 * rates[k]:.2f}% ({rates[k] / rates[0]:.1f}x) |"
        )
    lines += [
        "",
        f"Rule: the sharpness at which the false-match rate reaches {RATE_FACTOR:g}x the sharp "
        "photos' rate, rounded to the nearest 10: "
        + ("never reached." if derived is None else f"{derived:.1f} -> **{rule}**.")
        + f" `ClusterSettings.min_track_sharpness` is {chosen:g}"
        + (" (matches)." if rule == chosen else " (DIFFERS: re-check the setting)."),
        "",
        "A track (one person within one video) whose median face is below it is left unassigned: "
        "one face's sharpness is noisy (compression, hair), a track's median is not.",
        "",
    ]
    publish(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
