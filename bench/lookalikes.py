"""Look-alike people in the photo pool, for calibration corpora that test what the plain ones
never do: two people who look alike, one after the other in one video.

Each identity's photos are embedded by both embedders (dlib and FaceNet), each embedder's
identity centroids are centred on their mean, and the two cosine-similarity matrices are
averaged: a look-alike under both models, so neither embedder is calibrated on pairs picked to
be hard only for itself. Cached as JSON beside the corpora.

    python -m bench.lookalikes --faces ../shared/faces   # prints each person's nearest three
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from ingest.demo.synth import list_identities

PHOTOS_PER_PERSON = 12  # photos embedded per identity (the first ones in name order)


def rank_lookalikes(names: list[str], sims: list[NDArray[np.float32]]) -> dict[str, list[str]]:
    """names (n,), each model's (n, n) similarity matrix -> name: the others, most alike first
    by the mean similarity over models."""
    mean = np.mean(np.stack(sims), axis=0)
    out = {}
    for i, n in enumerate(names):
        order = [j for j in np.argsort(-mean[i], kind="stable") if j != i]
        out[n] = [names[j] for j in order]
    return out


def centred_similarity(centroids: NDArray[np.float32]) -> NDArray[np.float32]:
    """(n, d) identity centroids -> (n, n) cosine similarity after subtracting their mean, so
    the direction every face shares does not make everyone alike."""
    c = centroids - centroids.mean(axis=0, keepdims=True)
    c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    return (c @ c.T).astype(np.float32)


def _centroids(faces_dir: Path, min_photos: int, facenet_weights: str | None):
    from ingest.extract.detect import MtcnnDetector
    from ingest.extract.embed import DlibEmbedder, FacenetEmbedder
    from ingest.settings import DetectionSettings

    ids = list_identities(faces_dir, min_photos)
    detector = MtcnnDetector(DetectionSettings())
    models = [DlibEmbedder(), FacenetEmbedder(facenet_weights)]
    names, cents = [], [[] for _ in models]
    for name, photos in tqdm(ids.items(), desc="look-alikes", unit="person"):
        vecs: list[list[NDArray[np.float32]]] = [[] for _ in models]
        for path in photos[:PHOTOS_PER_PERSON]:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            dets = [d for d in detector.detect([rgb], 2000)[0] if d.score > 0.95]
            if not dets:
                continue
            d = max(dets, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
            for m, v in zip(models, vecs):
                v.append(m.embed(rgb, d.box[None], d.landmarks[None])[0])
        if vecs[0]:
            names.append(name)
            for c, v in zip(cents, vecs):
                c.append(np.mean(v, axis=0))
    return names, [np.asarray(c, np.float32) for c in cents]


def lookalikes(
    faces_dir: Path, cache: Path, min_photos: int, facenet_weights: str | None
) -> dict[str, list[str]]:
    """Identity -> other identities, most alike first (see module docstring); cached."""
    if cache.is_file():
        return json.loads(cache.read_text())
    names, cents = _centroids(faces_dir, min_photos, facenet_weights)
    out = rank_lookalikes(names, [centred_similarity(c) for c in cents])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out, indent=0))
    return out


def main(argv: list[str] | None = None) -> int:
    from ingest.settings import Settings

    ap = argparse.ArgumentParser(
        prog="bench.lookalikes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    ap.add_argument("--cache", type=Path, default=Path("data/bench/lookalikes.json"))
    args = ap.parse_args(argv)
    if not args.faces.is_dir():
        print(f"error: no face photos at {args.faces}", file=sys.stderr)
        return 2
    s = Settings()
    for name, near in lookalikes(args.faces, args.cache, 5, s.embedding.facenet_weights).items():
        print(f"{name}: {', '.join(near[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
