"""Stage-2 clustering at scale on synthetic tracks: time, peak memory, clusters.

    python -m bench.scale --tracks 100000 --json
    python -m bench.scale --doc docs/scale.md --sizes 10000 100000

Synthetic tracks mimic centred FaceNet track centroids: each person is a random direction, a
track is that direction plus noise (person-specific spread, median within-person cosine
distance about 0.25, strangers about 1.0), a video shows one to three different people, and
each track carries a faceres-like descriptor drawn the same way and a median apparent age."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

EMB_DIM = 512  # FaceNet
DESC_DIM = 1024  # faceres


@dataclass(frozen=True)
class Tracks:
    centroids: NDArray[np.float32]  # (t, 512) L2-normalised
    descriptors: NDArray[np.float32]  # (t, 1024) L2-normalised
    video: NDArray[np.int64]  # (t,) video code
    age: NDArray[np.float64]  # (t,) years
    person: NDArray[np.int64]  # (t,) truth


def _noisy(
    base: NDArray[np.float32],
    who: NDArray[np.int64],
    sigma: NDArray[np.float32],
    rng: np.random.Generator,
    chunk: int = 100_000,
) -> NDArray[np.float32]:
    """Rows base[who] + N(0, sigma^2 / d) per coordinate, L2-normalised; in chunks so a million
    rows never hold a float64 copy."""
    d = base.shape[1]
    out = np.empty((len(who), d), dtype=np.float32)
    for lo in range(0, len(who), chunk):
        w = who[lo : lo + chunk]
        x = rng.standard_normal((len(w), d), dtype=np.float32)
        x *= (sigma[w] / np.sqrt(d))[:, None]
        x += base[w]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[lo : lo + chunk] = x
    return out


def synthetic_tracks(
    n: int, seed: int = 0, emb_dim: int = EMB_DIM, desc_dim: int = DESC_DIM, noise: float = 1.0
) -> Tracks:
    """``n`` tracks of about n/8 people (long-tailed: a few people in hundreds of videos);
    ``noise`` scales every person's spread (1.5 makes people overlap, for harder tests)."""
    rng = np.random.default_rng(seed)
    n_people = max(2, n // 8)
    weight = rng.pareto(2.5, n_people) + 1.0
    person = rng.choice(n_people, size=n, p=weight / weight.sum())
    rng.shuffle(person)

    def directions(d: int) -> NDArray[np.float32]:
        b = rng.standard_normal((n_people, d), dtype=np.float32)
        return b / np.linalg.norm(b, axis=1, keepdims=True)

    # sigma^2 / (1 + sigma^2) is the expected within-person cosine distance: 0.17-0.33.
    sigma = (noise * rng.uniform(0.45, 0.7, n_people)).astype(np.float32)
    centroids = _noisy(directions(emb_dim), person, sigma, rng)
    descriptors = _noisy(directions(desc_dim), person, sigma, rng)
    adult = rng.random(n_people) > 0.05
    age = np.where(adult, rng.uniform(20, 70, n_people), rng.uniform(4, 14, n_people))[person]
    # Videos of one to three tracks; a repeated person in one video becomes its own video.
    sizes = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
    video = np.repeat(np.arange(n), sizes)[:n]
    dup = np.zeros(n, dtype=bool)
    key = video * n_people + person
    _, first = np.unique(key, return_index=True)
    dup[np.setdiff1d(np.arange(n), first)] = True
    video = np.where(dup, n + np.arange(n), video)
    return Tracks(centroids, descriptors, video.astype(np.int64), age, person.astype(np.int64))


def same_video_pairs(video: NDArray[np.int64]) -> list[tuple[int, int]]:
    """Track pairs of one video: the synthetic videos hold different people side by side, on
    screen together, so each pair is a cannot-link, as a shared frame makes it in ingest."""
    order = np.argsort(video, kind="stable")
    out = []
    starts = np.flatnonzero(np.r_[True, video[order][1:] != video[order][:-1]])
    for lo, hi in zip(starts, [*starts[1:], len(order)]):
        members = order[lo:hi].tolist()
        out += [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]
    return out


def run_once(n: int, seed: int = 0) -> dict:
    """Cluster ``n`` synthetic tracks at the default settings; time excludes the synthesis."""
    from bench.metrics import bcubed
    from ingest.people.cluster_graph import cluster_tracks_graph
    from ingest.settings import ClusterSettings

    tr = synthetic_tracks(n, seed)
    t0 = time.perf_counter()
    # overwrite: the synthetic rows are not needed afterwards; at 1M tracks they are 6 GB.
    labels = cluster_tracks_graph(
        tr.centroids,
        ClusterSettings(),
        tr.video,
        same_video_pairs(tr.video),
        descriptors=tr.descriptors,
        overwrite=True,
    )
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    _, _, f = bcubed(tr.person.tolist(), labels.tolist())
    return {
        "tracks": n,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "clusters": int(labels.max()) + 1,
        "people": int(len(np.unique(tr.person))),
        "bcubed_f": round(float(f), 4),
    }


def compare_dense(n: int, seed: int = 0, noise: float = 1.0) -> dict:
    """The graph path against today's dense path (``ingest.people.cluster.cluster_tracks``) on the same
    ``n`` synthetic tracks at the default settings: seconds each and their agreement."""
    return {"data": f"synthetic, noise {noise}", **_compare(synthetic_tracks(n, seed, noise=noise))}


def photo_tracks(faces: Path, cache: Path, per_person: int = 15) -> Tracks:
    """Real embeddings: up to ``per_person`` photos of each person in ``faces``, each photo a
    one-face track of its own video (FaceNet embedding, faceres descriptor and age of its
    largest confident face). Cached in ``cache`` (.npz)."""
    if cache.is_file():
        z = np.load(cache)
        return Tracks(z["centroids"], z["descriptors"], z["video"], z["age"], z["person"])
    import cv2

    from ingest.demo.synth import list_identities
    from ingest.extract.age import AgeEstimator
    from ingest.extract.detect import MtcnnDetector
    from ingest.extract.embed import FacenetEmbedder
    from ingest.settings import Settings

    s = Settings()
    detector = MtcnnDetector(s.detection)
    embedder = FacenetEmbedder(s.embedding.facenet_weights)
    faceres = AgeEstimator(s.embedding.age_model_dir)
    rows: dict[str, list] = {"centroids": [], "descriptors": [], "age": [], "person": []}
    for k, photos in enumerate(list_identities(faces, 1).values()):
        for path in photos[:per_person]:
            rgb = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            dets = [d for d in detector.detect([rgb], 2000)[0] if d.score > 0.95]
            if not dets:
                continue
            d = max(dets, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
            out = faceres.estimate(rgb, d.box[None])
            rows["centroids"].append(embedder.embed(rgb, d.box[None], d.landmarks[None])[0])
            rows["descriptors"].append(out.descriptor[0])
            rows["age"].append(float(out.age[0]))
            rows["person"].append(k)
    arrays = {k: np.asarray(v) for k, v in rows.items()}
    arrays["video"] = np.arange(len(arrays["person"]))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **arrays)
    return Tracks(
        arrays["centroids"].astype(np.float32),
        arrays["descriptors"].astype(np.float32),
        arrays["video"],
        arrays["age"],
        arrays["person"],
    )


def compare_real(faces: Path, cache: Path) -> dict:
    """``compare_dense`` on real FaceNet / faceres embeddings of ``faces`` photos, centred with
    the shipped population means as in a real run."""
    from ingest.extract.embed import population_mean

    return {
        "data": f"{faces.name} photos, FaceNet",
        **_compare(
            photo_tracks(faces, cache), population_mean("facenet"), population_mean("faceres")
        ),
    }


def _compare(tr: Tracks, prior=None, descriptor_prior=None) -> dict:
    from bench.metrics import bcubed
    from ingest.people.cluster import cluster_tracks
    from ingest.people.cluster_graph import cluster_tracks_graph
    from ingest.settings import ClusterSettings

    s = ClusterSettings()
    n = len(tr.video)
    t0 = time.perf_counter()
    cannot = tr.video[:, None] == tr.video[None, :]
    np.fill_diagonal(cannot, False)
    dense = cluster_tracks(tr.centroids, cannot, s, prior, tr.descriptors, descriptor_prior)
    t1 = time.perf_counter()
    graph = cluster_tracks_graph(
        tr.centroids,
        s,
        tr.video,
        same_video_pairs(tr.video),
        prior_mean=prior,
        descriptors=tr.descriptors,
        descriptor_prior=descriptor_prior,
    )
    t2 = time.perf_counter()
    truth = tr.person.tolist()
    return {
        "tracks": n,
        "dense_s": round(t1 - t0, 2),
        "graph_s": round(t2 - t1, 2),
        "identical": bool((dense == graph).all()),
        "agreement_f": round(bcubed(dense.tolist(), graph.tolist())[2], 4),
        "dense_f": round(bcubed(truth, dense.tolist())[2], 4),
        "graph_f": round(bcubed(truth, graph.tolist())[2], 4),
    }


def compare_engines(faces: Path, work: Path, n_videos: int) -> list[dict]:
    """Ingest one synthesized corpus with the local engine (1 and 2 processes) and the Ray
    engine (a local Ray, one actor per CPU), each with its own empty cache."""
    import os

    from ingest.demo.synth import SynthConfig, synthesize

    corpus = work / "corpus"
    synthesize(
        faces,
        corpus,
        SynthConfig(
            n_videos=n_videos,
            n_identities=max(3, n_videos // 3),
            n_two_person=max(1, n_videos // 8),
            n_empty=1,
            seed=3,
        ),
    )
    out = []
    for name, kw in [
        ("local, 1 process", {"workers": 1}),
        ("local, 2 processes", {"workers": 2}),
        ("ray, local cluster, 1 actor per CPU", {"engine": "ray"}),
    ]:
        d = work / name.split(",")[0] / str(kw.get("workers", 0))
        # Each engine in a fresh process: forking the local pool after torch's OpenMP has run
        # in this process crashes a worker in libgomp (seen here).
        code = (
            f"from bench.scale import engine_once; engine_once({str(corpus)!r}, {str(d)!r}, {kw!r})"
        )
        res = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        out.append(
            {
                "engine": name,
                "videos": n_videos,
                "cpus": os.cpu_count(),
                **json.loads(res.stdout.strip().splitlines()[-1]),
            }
        )
        print(out[-1], flush=True)
    return out


def engine_once(corpus: str, work: str, kw: dict) -> None:
    """Ingest ``corpus``/videos.csv into ``work`` with Settings(**kw); print seconds, faces and
    influencers as JSON."""
    from ingest.pipeline.runner import run
    from ingest.settings import Settings

    d = Path(work)
    s = Settings(cache_dir=d / "cache", faces_dir=d / "faces", **kw)
    t0 = time.perf_counter()
    sm = run(Path(corpus) / "videos.csv", d / "w.duckdb", s, progress=False)
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - t0, 1),
                "faces": sm.n_faces,
                "influencers": sm.n_influencers,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, help="cluster this many synthetic tracks and report")
    ap.add_argument("--seed", type=int, default=0, help="synthesis seed (default: %(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="with --doc: track counts, each in a fresh process (default: %(default)s)",
    )
    ap.add_argument("--doc", type=Path, help="run --sizes and write the scale page here")
    ap.add_argument(
        "--dense-sizes",
        type=int,
        nargs="*",
        default=[1000, 2000, 4000],
        help="with --doc: sizes where the dense path runs too (default: %(default)s)",
    )
    ap.add_argument(
        "--engine-videos",
        type=int,
        default=8,
        help="with --doc: synthesized videos for the engine comparison; 0 = skip "
        "(default: %(default)s)",
    )
    ap.add_argument(
        "--faces",
        type=Path,
        default=Path("../shared/faces"),
        help="face photos: the real-embedding comparison and the engine comparison "
        "(default: %(default)s)",
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=Path("data/bench-scale"),
        help="scratch folder for the engine comparison (default: %(default)s)",
    )
    ap.add_argument(
        "--measured",
        nargs="*",
        metavar="JSON",
        help="with --doc: `--tracks N --json` outputs to use for those sizes "
        "instead of measuring again",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --doc: keep what the last run saved beside the page "
        "(<doc>.json) and measure only what is missing",
    )
    ap.add_argument(
        "--note",
        action="append",
        help="with --doc: a paragraph under the clustering table (repeatable)",
    )
    args = ap.parse_args(argv)
    if args.tracks:
        r = run_once(args.tracks, args.seed)
        print(json.dumps(r) if args.json else r)
        return 0
    if args.doc:
        if args.engine_videos and not args.faces.is_dir():
            print(
                f"error: no face photos at {args.faces} (--faces, or --engine-videos 0)",
                file=sys.stderr,
            )
            return 2
        # Rows measured earlier by `--tracks N --json` (a million tracks takes most of an hour),
        # and with --reuse the other sections of the last run (saved beside the page).
        extra = {r["tracks"]: r for r in map(json.loads, args.measured or [])}
        saved = args.doc.with_suffix(".json")
        last = json.loads(saved.read_text()) if args.reuse and saved.is_file() else {}
        extra = {**{r["tracks"]: r for r in last.get("rows", [])}, **extra}
        rows, dense = [], list(last.get("dense", []))
        for n in args.sizes:
            if n in extra:
                rows.append(extra.pop(n))
                continue
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.scale",
                    "--tracks",
                    str(n),
                    "--seed",
                    str(args.seed),
                    "--json",
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
        for n in [] if dense else args.dense_sizes:
            for noise in (1.0, 1.5):
                dense.append(compare_dense(n, args.seed, noise))
                print(dense[-1], flush=True)
        if args.faces.is_dir() and not last.get("dense"):
            dense.append(compare_real(args.faces, args.work.parent / "scale-photos.npz"))
            print(dense[-1], flush=True)
        engines = list(last.get("engines", []))
        if args.engine_videos and not engines:
            import shutil

            shutil.rmtree(args.work, ignore_errors=True)
            engines = compare_engines(args.faces, args.work, args.engine_videos)
        from bench.scale_doc import write_doc

        saved.write_text(json.dumps({"rows": rows, "dense": dense, "engines": engines}, indent=1))
        write_doc(args.doc, rows, dense, engines, args.note or [])
        print(f"wrote {args.doc}")
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
