"""Cluster face embeddings into people: pure, typed functions (no I/O).

Two stages, because a loose single pass chains different people into one "influencer":

1. Within each video, faces are grouped into tracks by average-linkage agglomerative
   clustering with a hard cannot-link between faces of the same frame (two faces on screen at
   once are two people). Tracks with too few faces are noise, and tracks whose median face
   is blurred are unreliable (blur makes strangers look alike); both stay unassigned.
2. Track centroids are clustered across videos with the same constrained average linkage;
   two tracks that share a frame are cannot-linked, and two tracks of one video otherwise merge
   like tracks of different videos (the cuts of one video), bar the ratio test. A second
   descriptor (faceres) vetoes merges of groups it sees as far apart: the two models confuse
   different look-alikes. Centroids are centred first (see ``center``).

Clusters are numbered 1.. by distinct videos, then faces (ingest.people.corrections maps them to stable
influencer ids); -1 marks faces left out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ingest.people.cluster_graph import cluster_tracks_graph, shared_frame_pairs
from ingest.settings import ClusterSettings
from ingest.vectors import l2_normalize

UNASSIGNED = -1


def groups(keys: NDArray) -> Iterator[tuple[Any, NDArray[np.int64]]]:
    """(key, its row indices ascending) per distinct key of ``keys`` (n,), keys in sorted order.
    One sort, not a scan of every row per key, which is quadratic at 20k videos."""
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    return zip(uniq, np.split(order, starts[1:]))


def cosine_distances(x: NDArray[np.float32]) -> NDArray[np.float64]:
    """(n, d) L2-normalised rows -> (n, n) cosine distances in [0, 2]."""
    sim = np.clip(x.astype(np.float64) @ x.T.astype(np.float64), -1.0, 1.0)
    d = 1.0 - sim
    np.fill_diagonal(d, 0.0)
    return d


def constrained_average_linkage(
    dist: NDArray[np.float64],
    threshold: float,
    cannot_link: NDArray[np.bool_] | None = None,
    weights: NDArray[np.float64] | None = None,
    max_ratio: float = np.inf,
    spread_prior: float = 0.0,
    spread_prior_weight: float = 1.0,
    veto_dist: NDArray[np.float64] | None = None,
    veto_threshold: float = np.inf,
    must_link: Sequence[NDArray[np.int64]] = (),
    ratio_exempt: NDArray[np.bool_] | None = None,
) -> NDArray[np.int64]:
    """Average-linkage agglomerative clustering that never merges across a cannot-link.

    dist: (n, n) symmetric distances. Merging stops when the closest allowed pair of clusters
    is farther than ``threshold`` (mean pairwise distance, weighted by ``weights``, default 1).

    ``max_ratio`` adds a relative test: two clusters merge only if their mean cross distance
    is at most ``max_ratio`` times the larger of their own spreads (mean distance between
    their members, shrunk toward ``spread_prior`` with ``spread_prior_weight`` pseudo-pairs, so
    a single item has spread ``spread_prior``). Two tight groups that sit a little closer than
    the global threshold (two look-alike people, each seen several times) stay apart, while a
    loose group (one person across many photos) still absorbs its members. A rejected pair is
    reconsidered when either side grows.

    ``ratio_exempt`` (n, n): pairs the ratio test leaves out; a merged group is exempt with
    whatever either side was (stage 2: groups sharing a video).

    ``veto_dist`` (n, n) is a second opinion on the same items, averaged over the two groups the
    same way: a merge goes ahead only if that average is at most ``veto_threshold`` too.

    ``must_link``: groups of items (hand corrections, ingest.people.corrections) merged before anything
    else, whatever their distances and cannot-links, through the same update, so afterwards
    distances and spreads are average linkage's over the members (as if they had merged on
    their own), which keeps a re-run with the same corrections where the last run ended.
    Returns (n,) labels 0..k-1. O(n^2) memory, O(n^2) numpy work per merge."""
    n = dist.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    d = dist.astype(np.float64).copy()
    d2 = None if veto_dist is None else veto_dist.astype(np.float64).copy()
    w = np.ones(n) if weights is None else weights.astype(np.float64).copy()
    spread_sum = np.zeros(n)  # weighted sum of within-cluster pair distances
    spread_pairs = np.zeros(n)  # weighted count of those pairs
    blocked = np.zeros((n, n), dtype=bool) if cannot_link is None else cannot_link.copy()
    active = np.ones(n, dtype=bool)
    label = np.arange(n)
    big = np.inf
    work = d.copy()
    work[blocked] = big
    np.fill_diagonal(work, big)
    forced = [(int(g[0]), int(m)) for g in must_link for m in g[1:]]
    exempt = None if ratio_exempt is None else ratio_exempt.copy()
    while True:
        pair = _pop_forced(forced, label)
        i, j = pair if pair is not None else divmod(int(np.argmin(work)), n)
        if pair is None and (not np.isfinite(work[i, j]) or work[i, j] > threshold):
            break
        if pair is None and np.isfinite(max_ratio) and not (exempt is not None and exempt[i, j]):
            prior = spread_prior_weight * spread_prior
            si = (spread_sum[i] + prior) / (spread_pairs[i] + spread_prior_weight)
            sj = (spread_sum[j] + prior) / (spread_pairs[j] + spread_prior_weight)
            if d[i, j] > max_ratio * max(si, sj):
                work[i, j] = work[j, i] = big  # until i or j grows (its row is rebuilt then)
                continue
        if pair is None and d2 is not None and d2[i, j] > veto_threshold:
            work[i, j] = work[j, i] = big  # as above
            continue
        if i > j:
            i, j = j, i
        # Lance-Williams update for average linkage: merge j into i.
        wi, wj = w[i], w[j]
        spread_sum[i] += spread_sum[j] + d[i, j] * wi * wj
        spread_pairs[i] += spread_pairs[j] + wi * wj
        new = (wi * d[i] + wj * d[j]) / (wi + wj)
        d[i, :] = new
        d[:, i] = new
        if d2 is not None:
            d2[i, :] = d2[:, i] = (wi * d2[i] + wj * d2[j]) / (wi + wj)
        w[i] = wi + wj
        blocked[i, :] |= blocked[j, :]
        blocked[:, i] = blocked[i, :]
        if exempt is not None:
            exempt[i, :] |= exempt[j, :]
            exempt[:, i] = exempt[i, :]
        active[j] = False
        label[label == j] = i
        row = d[i].copy()
        row[blocked[i] | ~active] = big
        row[i] = big
        work[i, :] = row
        work[:, i] = row
        work[j, :] = big
        work[:, j] = big
    _, out = np.unique(label, return_inverse=True)
    return out.astype(np.int64)


def _pop_forced(forced: list[tuple[int, int]], label: NDArray[np.int64]) -> tuple[int, int] | None:
    """The next must-link pair whose items are still in different clusters, as the clusters'
    current indices; None when none is left."""
    while forced:
        a, b = forced.pop()
        i, j = int(label[a]), int(label[b])
        if i != j:
            return i, j
    return None


@dataclass(frozen=True)
class FaceTable:
    """The faces to cluster, n rows aligned across arrays."""

    video_id: NDArray[np.str_]  # (n,)
    frame_index: NDArray[np.int64]  # (n,)
    embeddings: NDArray[np.float32]  # (n, d) L2-normalised
    sharpness: NDArray[np.float32] | None = None  # (n,); None: no track is judged by blur
    age: NDArray[np.float32] | None = None  # (n,) apparent age, years (nan: unknown); not used here
    descriptor: NDArray[np.float32] | None = None  # (n, k) faceres, L2-normalised; None: no veto
    face_px: NDArray[np.float32] | None = None  # (n,) shorter box side, px; for review's chance

    def take(self, mask: NDArray[np.bool_]) -> FaceTable:
        """The rows where ``mask`` (n,) is True, every array alike."""
        return replace(
            self,
            **{
                f.name: getattr(self, f.name)[mask]
                for f in fields(self)
                if getattr(self, f.name) is not None
            },
        )


@dataclass(frozen=True)
class Clustering:
    cluster_id: NDArray[np.int64]  # (n,) 1.. or -1
    track_id: NDArray[np.object_]  # (n,) "<video_id>:<k>" or None
    centroid_similarity: NDArray[np.float64]  # (n,) cosine to own cluster centroid, nan if -1


def tracks_within_video(
    frame_index: NDArray[np.int64],
    emb: NDArray[np.float32],
    s: ClusterSettings,
    sharpness: NDArray[np.float32] | None = None,
) -> NDArray[np.int64]:
    """Group one video's faces into per-person tracks; (n,) labels 0.. or -1 for tracks left
    out: too few faces, or (given ``sharpness``, (n,)) a median face under
    ``s.min_track_sharpness``, since blurred people are where dlib confuses strangers."""
    if len(frame_index) == 0:
        return np.zeros(0, dtype=np.int64)
    same_frame = frame_index[:, None] == frame_index[None, :]
    np.fill_diagonal(same_frame, False)
    labels = constrained_average_linkage(cosine_distances(emb), s.track_threshold, same_frame)
    keep = np.bincount(labels) >= s.min_track_faces
    if sharpness is not None:
        keep &= np.array(
            [np.median(sharpness[labels == k]) >= s.min_track_sharpness for k in range(len(keep))]
        )
    return np.where(keep[labels], labels, -1)


def fill_descriptors(
    video_id: NDArray[np.str_], emb: NDArray[np.float32], desc: NDArray[np.float32]
) -> NDArray[np.float32] | None:
    """``desc`` (n, k) with each nan row (a face faceres did not describe) taken from the
    described face of the same video nearest to it in ``emb`` (n, d, L2-normalised): faceres
    describes a few faces of each track, and a track's nearest described face is its own. None
    where a video has faces but none described."""
    out = desc.copy()
    missing = np.isnan(desc).any(axis=1)
    if not missing.any():
        return out
    for _, idx in groups(video_id):
        gaps, known = idx[missing[idx]], idx[~missing[idx]]
        if len(gaps) == 0:
            continue
        if len(known) == 0:
            return None
        nearest = np.argmax(emb[gaps].astype(np.float64) @ emb[known].T.astype(np.float64), axis=1)
        out[gaps] = desc[known[nearest]]
    return out


def _centroids(emb: NDArray[np.float32], labels: NDArray[np.int64], k: int) -> NDArray[np.float32]:
    """(k, d) L2-normalised mean embedding of each label 0..k-1."""
    c = np.zeros((k, emb.shape[1]), dtype=np.float64)
    np.add.at(c, labels, emb)
    return l2_normalize(c)


def center(
    x: NDArray[np.float32], prior: NDArray[np.float32] | None = None, prior_weight: float = 0.0
) -> NDArray[np.float32]:
    """Subtract the mean and re-normalise rows; (n, d) -> (n, d).

    Face embeddings share a large common component (dlib: cosine distance between different
    people is only ~0.16), so raw cosine distances are compressed. Removing the mean face
    spreads them: on the calibration corpus same/different-person overlap goes from ~5% to
    ~0%. With few rows the mean is noisy, so it is shrunk toward ``prior`` (a population mean)
    with ``prior_weight`` pseudo-rows."""
    mu = x.astype(np.float64).mean(axis=0)
    if prior is not None and prior_weight > 0:
        mu = (len(x) * mu + prior_weight * prior.astype(np.float64)) / (len(x) + prior_weight)
    return l2_normalize(x.astype(np.float64) - mu)


def cluster_tracks(
    centroids: NDArray[np.float32],
    cannot_link: NDArray[np.bool_],
    s: ClusterSettings,
    prior_mean: NDArray[np.float32] | None = None,
    descriptors: NDArray[np.float32] | None = None,
    descriptor_prior: NDArray[np.float32] | None = None,
    must_link: Sequence[NDArray[np.int64]] = (),
    same_video: NDArray[np.bool_] | None = None,
) -> NDArray[np.int64]:
    """Cluster track centroids (t, d) across videos; cannot_link (t, t) marks pairs that must
    stay apart, ``must_link`` groups of tracks that must end together (agglomerative only), and
    ``same_video`` (t, t) tracks of one video (the ratio test skips groups that share one unless
    ``s.ratio_test_within_video``).
    ``descriptors`` (t, k): each track's faceres centroid, for the veto (None: no veto),
    centred like the centroids with ``descriptor_prior`` (k,) as their prior mean.
    Returns (t,) labels 0.. (-1 = noise for the density methods)."""
    t = len(centroids)
    if t == 0:
        return np.zeros(0, dtype=np.int64)
    x = center(centroids, prior_mean, s.center_prior_weight) if s.center else centroids
    dist = cosine_distances(x)
    if s.method == "agglomerative":
        veto = None
        if descriptors is not None and s.faceres_veto > 0:
            y = (
                center(descriptors, descriptor_prior, s.center_prior_weight)
                if s.center
                else descriptors
            )
            veto = cosine_distances(y)
        return constrained_average_linkage(
            dist,
            s.cluster_threshold,
            cannot_link,
            max_ratio=s.merge_ratio,
            spread_prior=s.spread_prior,
            spread_prior_weight=s.spread_prior_weight,
            veto_dist=veto,
            veto_threshold=s.faceres_veto,
            must_link=must_link,
            ratio_exempt=None if s.ratio_test_within_video else same_video,
        )
    # Density methods cannot take cannot-links; they are here for the documented comparison.
    if s.method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        if t < 2:
            return np.zeros(t, dtype=np.int64)
        return (
            HDBSCAN(
                min_cluster_size=2,
                min_samples=1,
                metric="precomputed",
                cluster_selection_epsilon=s.cluster_threshold,
                allow_single_cluster=True,
            )
            .fit_predict(dist)
            .astype(np.int64)
        )
    if s.method == "dbscan":
        from sklearn.cluster import DBSCAN

        return (
            DBSCAN(eps=s.cluster_threshold, min_samples=1, metric="precomputed")
            .fit_predict(dist)
            .astype(np.int64)
        )
    raise ValueError(f"unknown clustering method {s.method!r}")


def cluster_faces(
    faces: FaceTable,
    s: ClusterSettings,
    prior_mean: NDArray[np.float32] | None = None,
    descriptor_prior: NDArray[np.float32] | None = None,
    must_link: Sequence[NDArray[np.int64]] = (),
    cannot_link: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]] = (),
) -> Clustering:
    """Two-stage clustering of all faces (see module docstring). ``prior_mean`` (d,) is the
    embedder's population mean face, which steadies centring when there are few tracks;
    ``descriptor_prior`` (k,) is the same for ``faces.descriptor``
    (``ingest.extract.embed.population_mean``).

    Hand corrections (``ingest.people.corrections``) come as face-row groups, because track ids are made
    here: ``must_link`` groups whose tracks end in one cluster, ``cannot_link`` pairs of groups
    whose tracks never share one. A track belongs to a group when most of its faces do."""
    n = len(faces.frame_index)
    track_of = np.full(n, -1, dtype=np.int64)
    track_names: list[str] = []
    frames_of: list[set[tuple[str, int]]] = []
    tracks_of_video: list[list[int]] = []
    for vid, idx in groups(faces.video_id):
        sharp = None if faces.sharpness is None else faces.sharpness[idx]
        labels = tracks_within_video(faces.frame_index[idx], faces.embeddings[idx], s, sharp)
        tracks_of_video.append([])
        for lab in np.unique(labels[labels >= 0]):
            members = idx[labels == lab]
            track_of[members] = len(track_names)
            tracks_of_video[-1].append(len(track_names))
            track_names.append(f"{vid}:{len(track_names)}")
            frames_of.append({int(f) for f in faces.frame_index[members]})
    kept = track_of >= 0
    # Two tracks on screen in the same frame are two people. Tracks of one video that never
    # share a frame were kept apart by stage 1 (see ClusterSettings.merge_within_video).
    t = len(track_names)
    # Many tracks: no (t, t) matrix (ingest/people/cluster_graph.py builds the same links per group).
    graph = s.method == "agglomerative" and t >= s.graph_min_tracks
    cannot = np.zeros((0, 0) if graph else (t, t), dtype=bool)
    for group in [] if graph else tracks_of_video:
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if not s.merge_within_video or frames_of[a] & frames_of[b]:
                    cannot[a, b] = cannot[b, a] = True
    cluster_id = np.full(n, UNASSIGNED, dtype=np.int64)
    sim = np.full(n, np.nan)
    track_id = np.array([track_names[t] if t >= 0 else None for t in track_of], dtype=object)
    if kept.any():
        cents = _centroids(faces.embeddings[kept], track_of[kept], len(track_names))
        descs = None
        if faces.descriptor is not None:
            descs = _centroids(faces.descriptor[kept], track_of[kept], len(track_names))
        if graph:
            hand_pairs, must = hand_links(track_of, must_link, cannot_link)
            shared = shared_frame_pairs(tracks_of_video, frames_of) if s.merge_within_video else ()
            tlabels = cluster_tracks_graph(
                cents,
                s,
                np.repeat(np.arange(len(tracks_of_video)), list(map(len, tracks_of_video))),
                [*shared, *hand_pairs],
                must_link=[(int(g[0]), int(x)) for g in must for x in g[1:]],
                prior_mean=prior_mean,
                descriptors=descs,
                descriptor_prior=descriptor_prior,
            )
        else:
            must = hand_constraints(track_of, must_link, cannot_link, cannot)
            same_video = np.zeros((t, t), dtype=bool)
            for group in tracks_of_video:
                same_video[np.ix_(group, group)] = True
            tlabels = cluster_tracks(
                cents, cannot, s, prior_mean, descs, descriptor_prior, must, same_video
            )
        face_label = np.where(kept, tlabels[np.maximum(track_of, 0)], -1)
        cluster_id = _renumber(face_label, faces.video_id, s.min_cluster_faces)
        sim = centroid_similarity(faces.embeddings, cluster_id)
    return Clustering(cluster_id, track_id, sim)


# --- Hand corrections as hard constraints (ingest.people.corrections writes them) -------------------------


def tracks_of_groups(
    track_of: NDArray[np.int64], groups: Sequence[NDArray[np.int64]]
) -> list[NDArray[np.int64]]:
    """Face-row groups -> the tracks (indices) most of whose faces are in each group."""
    t = int(track_of.max()) + 1 if len(track_of) else 0
    size = np.bincount(track_of[track_of >= 0], minlength=t)
    out = []
    for g in groups:
        tr = track_of[np.asarray(g, dtype=np.int64)]
        hits = np.bincount(tr[tr >= 0], minlength=t)
        out.append(np.flatnonzero(2 * hits > size))
    return out


def hand_links(
    track_of: NDArray[np.int64],
    must_link: Sequence[NDArray[np.int64]],
    cannot_link: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
) -> tuple[list[tuple[int, int]], list[NDArray[np.int64]]]:
    """Face-row corrections lifted to tracks: (cannot-linked track pairs, must-link groups of
    tracks). A hand cannot-link inside a must-link group is a contradiction (ValueError)."""
    pairs: list[tuple[int, int]] = []
    for left, right in cannot_link:
        a, b = tracks_of_groups(track_of, [left, right])
        pairs += [(int(i), int(j)) for i in a for j in b if i != j]
    must = [g for g in tracks_of_groups(track_of, must_link) if len(g) > 1]
    for g in must:
        members = set(g.tolist())
        if any(i in members and j in members for i, j in pairs):
            raise ValueError("a must-link group contains a cannot-linked pair of tracks")
    return pairs, must


def hand_constraints(
    track_of: NDArray[np.int64],
    must_link: Sequence[NDArray[np.int64]],
    cannot_link: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
    cannot: NDArray[np.bool_],
) -> list[NDArray[np.int64]]:
    """``hand_links`` for the dense path: sets the cannot-links in ``cannot`` (t, t) in place
    and returns the must-link groups of tracks. A must-link overrides the automatic
    cannot-links between its tracks (the person said so)."""
    pairs, must = hand_links(track_of, must_link, cannot_link)
    for i, j in pairs:
        cannot[i, j] = cannot[j, i] = True
    return must


def _renumber(
    labels: NDArray[np.int64], video_id: NDArray[np.str_], min_faces: int
) -> NDArray[np.int64]:
    """Drop clusters under ``min_faces`` faces; number the rest 1.. by (distinct videos desc,
    faces desc, first face index) so ids are stable for the same input."""
    out = np.full(len(labels), UNASSIGNED, dtype=np.int64)
    stats = []
    kept = np.flatnonzero(labels >= 0)
    for _, idx in groups(labels[kept]):
        idx = kept[idx]
        if len(idx) < min_faces:
            continue
        stats.append((-len(np.unique(video_id[idx])), -len(idx), int(idx[0]), idx))
    for new_id, (*_, idx) in enumerate(sorted(stats, key=lambda r: r[:3]), start=1):
        out[idx] = new_id
    return out


def centroid_similarity(
    emb: NDArray[np.float32], cluster_id: NDArray[np.int64]
) -> NDArray[np.float64]:
    """(n,) cosine similarity of each face to its cluster's centroid; nan for unassigned."""
    sim = np.full(len(cluster_id), np.nan)
    kept = np.flatnonzero(cluster_id >= 1)
    for _, idx in groups(cluster_id[kept]):
        idx = kept[idx]
        cen = emb[idx].astype(np.float64).mean(axis=0)
        cen /= max(np.linalg.norm(cen), 1e-12)
        sim[idx] = emb[idx].astype(np.float64) @ cen
    return sim
