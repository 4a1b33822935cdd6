"""What if a network ran on only the k sharpest faces of each track (issue #49)?

FaceNet and faceres were half of extraction's CPU time on the benchmark corpus, and a track
holds 5.4 faces on average. This asks what running a network on fewer faces costs, from the
faces already stored: each within-video track (as clustering finds it at the defaults) keeps
its k sharpest faces, and its other faces take their mean, so every centroid the clustering
computes is the mean of the chosen faces; then it clusters at the defaults and scores against
the truth. Two questions, on every recipe's unseen seeds and the real clips:

- faceres (the veto's descriptor; the apparent age) on k faces a track, FaceNet on every face
  (taken at k = 2: extraction has stored faceres for two faces a track since);
- both networks on k faces a track, the tracks taken as found (an upper bound for any way of
  finding tracks without FaceNet, such as following boxes).

`make bench-per-track` (the warehouses `make bench` left in data/bench) -> docs/benchmarks.md."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from pathlib import Path

import numpy as np

from bench import folder_args
from bench.corpora import UNSEEN, CorpusFaces, cluster, corpus, load_table
from bench.creative import publish_block
from bench.margin import face_people, measure, read_people
from ingest.people.cluster import FaceTable, groups, tracks_within_video
from ingest.settings import ClusterSettings

START = "<!-- per track: start -->"
END = "<!-- per track: end -->"
KS = (1, 2, 3)
NETWORKS = {"faceres": ("descriptor",), "faceres and FaceNet": ("descriptor", "embeddings")}


def chosen_means(
    t: FaceTable, k: int, fields: tuple[str, ...], s: ClusterSettings
) -> tuple[FaceTable, int]:
    """``t`` with each track's ``fields`` rows replaced by the mean (L2-normalised) of its k
    sharpest faces, and how many faces were chosen. Faces of tracks clustering drops are
    never clustered, so none is chosen there."""
    out = {f: getattr(t, f).copy() for f in fields}
    chosen = 0
    for _, idx in groups(t.video_id):
        labels = tracks_within_video(t.frame_index[idx], t.embeddings[idx], s, t.sharpness[idx])
        for lab in np.unique(labels[labels >= 0]):
            members = idx[labels == lab]
            pick = members[np.argsort(-t.sharpness[members], kind="stable")[:k]]
            chosen += len(pick)
            for f in fields:
                m = getattr(t, f)[pick].astype(np.float64).mean(axis=0)
                out[f][members] = (m / np.linalg.norm(m)).astype(np.float32)
    return dataclasses.replace(t, **out), chosen


@dataclasses.dataclass(frozen=True)
class Row:
    corpora: str
    rule: str  # "as ingested" or "<network> on k a track"
    described: int  # faces each network of the rule runs on
    faces: int
    lowest_p: float | None  # synthetic: lowest BCubed precision over the seeds
    mean_f: float | None
    influencers: int
    wrong_merges: int | None  # real clips: pairs of different people merged at the defaults
    margin: float | None  # real clips: loosening before the first wrong merge


def _scored(
    name: str,
    rule: str,
    loaded: list[CorpusFaces],
    tables: list[FaceTable],
    described: int,
    s: ClusterSettings,
) -> Row:
    """One rule on a recipe's seeds: ``tables`` are the seeds' faces as the rule leaves them."""
    reps = [CorpusFaces(cf.corpus_dir, cf.df, t).score(s) for cf, t in zip(loaded, tables)]
    return Row(
        name,
        rule,
        described,
        sum(len(cf.df) for cf in loaded),
        min(r.bcubed_p for r in reps),
        float(np.mean([r.bcubed_f for r in reps])),
        sum(r.n_influencers for r in reps),
        None,
        None,
    )


def synthetic_rows(faces: Path, work: Path, s: ClusterSettings) -> list[Row]:
    """Every recipe's unseen seeds, from the warehouses `make bench` ingested."""
    rows = []
    for g in UNSEEN:
        loaded = [
            CorpusFaces(corpus(faces, work, c), *load_table(g.db(work, c))) for c in g.corpora
        ]
        name = f"{g.name}, unseen seeds {g.seed_list}"
        stored = sum(int(cf.df["faceres_descriptor"].notna().sum()) for cf in loaded)
        rows.append(_scored(name, "as ingested", loaded, [cf.table for cf in loaded], stored, s))
        for net, fields in NETWORKS.items():
            for k in KS:
                picked = [chosen_means(cf.table, k, fields, s) for cf in loaded]
                rule = f"{net} on {k} a track"
                tables = [p[0] for p in picked]
                rows.append(_scored(name, rule, loaded, tables, sum(p[1] for p in picked), s))
        print(f"{name}: done", flush=True)
    return rows


def real_rows(shared: Path, work: Path, s: ClusterSettings) -> list[Row]:
    """The real clips as `make bench-margin` ingested them (none: not yet ingested)."""
    db = work / "margin" / "real_all.duckdb"
    if not db.is_file():
        return []
    df, table = load_table(db)
    people = face_people(df, read_people(shared))
    name = "real clips (videos + videos-talking, one corpus)"

    def row(rule: str, t: FaceTable, described: int) -> Row:
        margins = measure(t, people, s)
        wrong = {pair for m in margins for pair in m.wrong_at_default}
        found = [m.margin for m in margins if m.margin is not None]
        labels = cluster(t, s).cluster_id
        return Row(
            name,
            rule,
            described,
            len(df),
            None,
            None,
            len(np.unique(labels[labels >= 0])),
            len(wrong),
            min(found) if found else None,
        )

    rows = [row("as ingested", table, int(df["faceres_descriptor"].notna().sum()))]
    for net, fields in NETWORKS.items():
        for k in KS:
            t, chosen = chosen_means(table, k, fields, s)
            rows.append(row(f"{net} on {k} a track", t, chosen))
    print(f"{name}: done", flush=True)
    return rows


def block(rows: list[Row], seconds: float) -> list[str]:
    """The docs/benchmarks.md block: one table, a row per corpora and rule."""

    def fmt(x: float | None, spec: str) -> str:
        return "-" if x is None else format(x, spec)

    lines = [
        "## Networks on a few faces a track (#49)",
        "",
        f"`make bench-per-track` ({dt.date.today().isoformat()}, {seconds:.0f} s wall time, on "
        "the warehouses `make bench` left; nothing is extracted again). Each within-video track "
        "keeps its k sharpest faces for the network named, and its other faces take their mean, "
        "so every centroid clustering computes is the chosen faces' mean; then clustering at "
        'the defaults. "faceres and FaceNet" takes the tracks as FaceNet finds them: an upper '
        "bound for any way of finding tracks without it. Faces described: what each network of "
        "the rule would run on, of the faces kept.",
        "",
        "| corpora | networks on | faces described | lowest BCubed P | mean BCubed F "
        "| influencers | wrong merges | margin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.corpora} | {r.rule} | {r.described} of {r.faces} "
            f"({r.described / max(r.faces, 1):.0%}) | {fmt(r.lowest_p, '.3f')} "
            f"| {fmt(r.mean_f, '.3f')} | {r.influencers} | {fmt(r.wrong_merges, 'd')} "
            f"| {fmt(r.margin, '+.3f')} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.per_track", description=__doc__)
    folder_args(ap)
    args = ap.parse_args(argv)
    s = ClusterSettings()
    t0 = time.perf_counter()
    missing = [
        g.db(args.work, c) for g in UNSEEN for c in g.corpora if not g.db(args.work, c).is_file()
    ]
    if missing:
        print(f"error: no warehouse at {missing[0]}: run `make bench` first")
        return 2
    rows = synthetic_rows(args.faces, args.work, s)
    rows += real_rows(args.faces.parent, args.work, s)
    lines = block(rows, time.perf_counter() - t0)
    publish_block(args.out, lines, START, END)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
