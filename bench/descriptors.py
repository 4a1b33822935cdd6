"""How well each face descriptor tells people apart where stage 2 uses it: track centroids.

Stage 2 compares the centroids of stage-1 tracks across videos, centred by the population mean
(ingest.people.cluster.center). Here every pair of labelled tracks from different videos of a
calibration corpus is one trial: same person or not. A descriptor ranks the pairs by distance;
the table reports how often a different-person pair sits farther apart than a same-person pair
(ROC AUC) and how many different-person pairs sit within the same-person pairs' 95th
percentile (the false matches a threshold that keeps 95% of true merges lets through). Pure
functions below; `make bench` writes the table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.evaluate import label_face
from ingest.demo.synth import read_truth
from ingest.people.cluster import FaceTable, center, cosine_distances
from ingest.settings import ClusterSettings
from ingest.vectors import l2_normalize


def pair_auc(dist: NDArray[np.float64], same: NDArray[np.bool_]) -> float:
    """(m,) pair distances, (m,) same-person flags -> probability that a random different-person
    pair is farther apart than a random same-person pair (ties count half); nan without both."""
    pos, neg = dist[same], dist[~same]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.sort(pos)
    below = np.searchsorted(order, neg, side="left")  # same-person pairs strictly closer
    ties = np.searchsorted(order, neg, side="right") - below
    return float((below.sum() + 0.5 * ties.sum()) / (len(pos) * len(neg)))


def false_match_rate(dist: NDArray[np.float64], same: NDArray[np.bool_], q: float = 0.95) -> float:
    """Share of different-person pairs at or under the same-person pairs' ``q`` quantile."""
    pos, neg = dist[same], dist[~same]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    return float(np.mean(neg <= np.quantile(pos, q)))


@dataclass(frozen=True)
class TrackPairs:
    """Cross-video pairs of labelled tracks of one corpus, m pairs."""

    same: NDArray[np.bool_]  # (m,) same person
    dist: dict[str, NDArray[np.float64]]  # descriptor name -> (m,) centred cosine distances


def track_pairs(
    track_id: Sequence,
    identity: Sequence,
    table: FaceTable,
    priors: dict[str, NDArray[np.float32] | None],
    prior_weight: float,
    embedder: str = "dlib",
) -> TrackPairs:
    """Pairs of tracks from different videos, each track labelled by its faces' majority
    identity (tracks of unnamed faces are left out). ``track_id``/``identity`` (n,) per face
    (None: no track / no identity); ``priors`` the population means by descriptor (the
    embedder's name, "faceres"), as stage 2 centres with them."""
    tid = np.asarray(track_id, dtype=object)
    ident = np.asarray(identity, dtype=object)
    names = sorted({t for t in tid if t is not None})
    label, video, cents = [], [], {embedder: [], "faceres": []}
    for name in names:
        m = tid == name
        label.append(Counter(ident[m]).most_common(1)[0][0])
        video.append(table.video_id[m][0])
        cents[embedder].append(table.embeddings[m].astype(np.float64).mean(axis=0))
        if table.descriptor is not None:
            cents["faceres"].append(table.descriptor[m].astype(np.float64).mean(axis=0))
    lab, vid = np.asarray(label, dtype=object), np.asarray(video)
    i, j = np.triu_indices(len(names), 1)
    named = np.array([x is not None for x in label], dtype=bool)
    keep = named[i] & named[j] & (vid[i] != vid[j])
    i, j = i[keep], j[keep]
    dist = {}
    for key, rows in cents.items():
        if rows:
            x = center(l2_normalize(np.stack(rows)), priors.get(key), prior_weight)
            dist[key] = cosine_distances(x)[i, j]
    return TrackPairs(same=lab[i] == lab[j], dist=dist)


def corpus_pairs(
    df,
    table: FaceTable,
    corpus_dir: Path,
    track_id,
    s: ClusterSettings,
    priors: dict[str, NDArray[np.float32] | None],
    embedder: str = "dlib",
) -> TrackPairs:
    """``track_pairs`` for a synthesized corpus: identities from its truth boxes."""
    _, boxes = read_truth(corpus_dir)
    ident = [
        label_face(boxes.get((Path(u).name, int(fi)), []), (x1, y1, x2, y2))
        for u, fi, x1, y1, x2, y2 in zip(df.source_url, df.frame_index, df.x1, df.y1, df.x2, df.y2)
    ]
    return track_pairs(track_id, ident, table, priors, s.center_prior_weight, embedder)


def with_combined(p: TrackPairs, s: ClusterSettings) -> dict[str, NDArray[np.float64]]:
    """The descriptors' distances plus stage 2's combination of them: a pair passes only if
    the embedding is within the threshold and faceres within the veto, i.e. the larger of the
    two distances, each in units of its own limit."""
    out = dict(p.dist)
    emb = next(k for k in p.dist if k != "faceres")
    if "faceres" in p.dist and s.faceres_veto > 0:
        out["both (stage 2)"] = np.maximum(
            p.dist[emb] / s.cluster_threshold, p.dist["faceres"] / s.faceres_veto
        )
    return out


def table_rows(pairs: list[TrackPairs], s: ClusterSettings) -> list[str]:
    """Markdown rows: per descriptor, AUC and false-match rate per corpus."""
    per = [with_combined(p, s) for p in pairs]
    rows = []
    for key in per[0]:
        auc = " / ".join(f"{pair_auc(d[key], p.same):.4f}" for d, p in zip(per, pairs))
        fmr = " / ".join(f"{false_match_rate(d[key], p.same):.2%}" for d, p in zip(per, pairs))
        rows.append(f"| {key} | {auc} | {fmr} |")
    return rows
