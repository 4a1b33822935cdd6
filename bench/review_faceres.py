"""Would a faceres limit on "maybe the same person" suggestions cost fragments? A study on
calibration corpora only (never the unseen seeds nor the real clips it came from).

On the 32 real clips (`make bench-margin`) the right same-person suggestions sit at faceres
distances 0.42-0.43 and the wrong ones at 0.65-0.94, so stage 2's own faceres veto applied to
suggestions looked like it would drop most wrong ones. This checks that on corpora with known
people: each is ingested at the defaults (cached), reviewed, and judged with and without the
limit (bench/suggestions.py), and the faceres distances of right and wrong same-person
suggestions are printed.

    python -m bench.review_faceres [--limit 0.75]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from bench.corpora import EDITED, LOOKALIKE_CALS, CorpusFaces, corpus, ingest, load_table
from bench.suggestions import face_labels, judge, person_of
from ingest.extract.embed import population_mean
from ingest.people.cluster import cluster_faces
from ingest.people.review import review_candidates
from ingest.settings import Settings

# Multi-shot corpora (fragments are common) and look-alike corpora (near misses are common),
# all calibration seeds.
CORPORA = (*(dataclasses.replace(EDITED, seed=s) for s in (301, 302, 303)), *LOOKALIKE_CALS[:2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="bench.review_faceres",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    ap.add_argument("--work", type=Path, default=Path("data/bench"))
    ap.add_argument(
        "--limit", type=float, default=None, help="faceres limit (default: stage 2's veto)"
    )
    args = ap.parse_args(argv)
    s = dataclasses.replace(
        Settings(), cache_dir=args.work / "cache", faces_dir=args.work / "faces"
    )
    limit = s.cluster.faceres_veto if args.limit is None else args.limit
    right, wrong = [], []
    print("corpus | fragments | listed: all, with the limit | right / wrong: all, with the limit")
    for cfg in CORPORA:
        d = corpus(args.faces, args.work, cfg)
        db = args.work / f"review_faceres_{cfg.recipe}_seed{cfg.seed}.duckdb"
        if not db.exists():
            ingest(d / "videos.csv", db, s)
        c = CorpusFaces(d, *load_table(db))
        labels = face_labels(c)
        pop, fr = population_mean(c.embedder), population_mean("faceres")
        clustering = cluster_faces(c.table, s.cluster, pop, fr)
        found = review_candidates(c.table, clustering, s.cluster, s.review, pop, fr)
        kept = [
            x
            for x in found
            if x.kind != "same_person" or x.faceres_distance is None or x.faceres_distance <= limit
        ]
        a = judge(found, clustering.cluster_id, c.table.video_id, labels)
        b = judge(kept, clustering.cluster_id, c.table.video_id, labels)
        print(
            f"{cfg.recipe} {cfg.seed} | {a.n_fragments} | {a.n_listed}, {b.n_listed} | "
            f"{a.n_true} / {a.n_false}, {b.n_true} / {b.n_false}",
            flush=True,
        )
        who = person_of(clustering.cluster_id, labels)
        for x in found:
            p, q = who.get(x.influencer_id), who.get(x.other_id)
            if x.kind == "same_person" and x.faceres_distance is not None and p and q:
                (right if p == q else wrong).append(x.faceres_distance)
    print("right same-person suggestions, faceres:", np.round(sorted(right), 2).tolist())
    print("wrong same-person suggestions, faceres:", np.round(sorted(wrong), 2).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
