"""Review suggestions: where a clustering may be wrong, for a person to check (issue #37).

Pure, typed functions (no I/O). The clustering is precision-first: when unsure it keeps two
groups apart, so its likely mistakes are splits, and the few wrong merges that remain must be
easy to see. Two kinds of suggestion, both measured in the units stage 2 of the clustering
decides in (``ingest.people.cluster``: average-linkage cosine distance between centred track
centroids), so "close to merging" means what it says:

* ``same_person``: two influencers that came close to merging: their linkage distance is
  within ``ReviewSettings.same_band`` of ``cluster_threshold``, or within the wider
  ``fragment_band`` when they appear in the same videos but never in the same frame (the
  fragments of a multi-shot video look exactly like that). Two influencers on screen in one
  frame are two people and are never suggested. Ranked by how far past the threshold they
  sit, fragments first.
* ``two_people``: a video whose tracks of an influencer sit far from the rest of that
  influencer (leave-one-video-out linkage distance above ``split_cut``): the look of a wrong
  merge, since average linkage lets in a stranger close to the group's mean while its own
  faces stay far from each of the others.

Each suggestion carries the signals its chance of being right is estimated from; with the
shipped model of the embedder (ingest.people.chance) each gets that chance, the list is ranked
by it, and rows under the model's floor are marked not shown (the page lists them on request).

Hand corrections (``ingest.corrections``) are answers: a pair a split or a "different"
answer keeps apart is not suggested again, nor is a video that a merge or a "one person"
answer tied to its person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ingest.people.chance import ChanceModel
from ingest.people.cluster import Clustering, FaceTable, center, groups
from ingest.settings import ClusterSettings, ReviewSettings
from ingest.vectors import l2_normalize

Kind = Literal["same_person", "two_people"]


@dataclass(frozen=True)
class Candidate:
    """One suggestion. ``distance``: centred average-linkage cosine distance (same_person:
    between the two influencers; two_people: between the video's tracks and the rest of the
    influencer's). ``faceres_distance``: the same over the faceres descriptors (None without).
    ``kept_apart_by`` (same_person): which test of stage 2 kept them apart: ``threshold``,
    ``ratio``, ``veto`` or ``order`` (every test passes now, but the order of merges decided
    otherwise)."""

    kind: Kind
    influencer_id: int
    other_id: int | None
    video_id: str | None
    distance: float
    faceres_distance: float | None
    n_shared_videos: int
    kept_apart_by: str | None
    rank: int  # 1 = most likely, per kind
    # What the chance is estimated from (ingest.people.chance: names and units).
    signals: Mapping[str, float | None] = field(default_factory=dict, compare=False)
    chance: float | None = None  # P(the suggestion is right); None without a fitted model
    shown: bool = True  # at or above the model's floor: listed by default


@dataclass(frozen=True)
class Tracks:
    """Stage 2's view of a clustering: one row per track (faces with a track id)."""

    vectors: NDArray[np.float64]  # (t, d) centred, unit length, as stage 2 compares them
    descriptors: NDArray[np.float64] | None  # (t, k) centred faceres centroids, or None
    influencer: NDArray[np.int64]  # (t,) influencer id, -1 for tracks left out
    video: NDArray[np.str_]  # (t,)
    face_px: NDArray[np.float64] | None = None  # (t,) median shorter box side, px
    sharpness: NDArray[np.float64] | None = None  # (t,) median sharpness


def track_view(
    faces: FaceTable,
    clustering: Clustering,
    s: ClusterSettings,
    prior_mean: NDArray[np.float32] | None = None,
    descriptor_prior: NDArray[np.float32] | None = None,
) -> Tracks:
    """Rebuild the track centroids stage 2 clustered (every track, assigned or not, weighs in
    the centring mean as it did there) from the faces and their track ids."""
    has = np.array([t is not None for t in clustering.track_id], dtype=bool)
    names, idx = np.unique(clustering.track_id[has].astype(str), return_inverse=True)
    t = len(names)
    emb = faces.embeddings[has].astype(np.float64)
    sums = np.zeros((t, emb.shape[1]))
    np.add.at(sums, idx, emb)
    vectors = l2_normalize(sums)
    if s.center:
        vectors = center(vectors, prior_mean, s.center_prior_weight)
    descriptors = None
    if faces.descriptor is not None:
        dsum = np.zeros((t, faces.descriptor.shape[1]))
        np.add.at(dsum, idx, faces.descriptor[has].astype(np.float64))
        descriptors = l2_normalize(dsum)
        if s.center:
            descriptors = center(descriptors, descriptor_prior, s.center_prior_weight)
    influencer = np.full(t, -1, dtype=np.int64)
    influencer[idx] = clustering.cluster_id[has]
    video = np.empty(t, dtype=object)
    video[idx] = faces.video_id[has]
    return Tracks(
        np.asarray(vectors, np.float64),
        None if descriptors is None else np.asarray(descriptors, np.float64),
        influencer,
        video.astype(str),
        _track_medians(faces.face_px, has, idx, t),
        _track_medians(faces.sharpness, has, idx, t),
    )


def _track_medians(
    x: NDArray[np.float32] | None, has: NDArray[np.bool_], idx: NDArray[np.int64], t: int
) -> NDArray[np.float64] | None:
    """(t,) the median of ``x`` (n,) over each track's faces, or None without ``x``."""
    if x is None:
        return None
    out = np.full(t, np.nan)
    vals = np.asarray(x, np.float64)[has]
    for k, rows in groups(idx):
        out[int(k)] = float(np.median(vals[rows]))
    return out


def _median(x: NDArray[np.float64] | None, rows: NDArray[np.int64]) -> float | None:
    """The median of the known values of ``x`` at ``rows``; None when none is known."""
    known = np.array([]) if x is None else x[rows][np.isfinite(x[rows])]
    return float(np.median(known)) if len(known) else None


def _log(x: float | None, plus: float = 0.0) -> float | None:
    return None if x is None or x + plus <= 0 else float(np.log(x + plus))


def linkage_distances(
    sums: NDArray[np.float64], counts: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(k, k) average-linkage cosine distance between groups of unit vectors, each given by
    the sum of its members (k, d) and their count (k,): the mean over member pairs of
    1 - x.y is 1 - S_a.S_b / (n_a n_b). The diagonal is 0."""
    d = 1.0 - (sums @ sums.T) / np.outer(counts, counts)
    np.fill_diagonal(d, 0.0)
    return d


def close_pairs(
    sums: NDArray[np.float64], counts: NDArray[np.float64], reach: float, rows: int = 2048
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """(i, j, distance) of the group pairs i < j at most ``reach`` apart in
    ``linkage_distances``, computed ``rows`` groups at a time: this runs at every clustering,
    and a (k, k) matrix of a corpus's people would not fit where the clustering itself does."""
    found_i, found_j, found_d = [], [], []
    for lo in range(0, len(sums), rows):
        d = 1.0 - (sums[lo : lo + rows] @ sums.T) / np.outer(counts[lo : lo + rows], counts)
        i, j = np.nonzero(d <= reach)
        keep = j > i + lo
        found_i.append(i[keep] + lo)
        found_j.append(j[keep])
        found_d.append(d[i[keep], j[keep]])
    if not found_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


def spreads(
    sums: NDArray[np.float64], counts: NDArray[np.float64], prior: float, prior_weight: float
) -> NDArray[np.float64]:
    """(k,) each group's spread as stage 2's ratio test sees it: the mean distance between its
    members, shrunk toward ``prior`` with ``prior_weight`` pseudo-pairs."""
    pairs = counts * (counts - 1) / 2
    within = pairs - (np.einsum("ij,ij->i", sums, sums) - counts) / 2
    return (within + prior_weight * prior) / (pairs + prior_weight)


def _pairs_on_one_frame(
    faces: FaceTable, cluster_id: NDArray[np.int64]
) -> tuple[set[tuple[int, int]], dict[tuple[int, int], int]]:
    """(influencer pairs seen in one frame, videos shared by each pair), pairs as (low, high)."""
    together: set[tuple[int, int]] = set()
    videos_of: dict[int, set[str]] = defaultdict(set)
    kept = np.flatnonzero(cluster_id >= 1)
    for i in kept:
        videos_of[int(cluster_id[i])].add(str(faces.video_id[i]))
    keys = np.char.add(
        np.char.add(faces.video_id[kept].astype(str), "#"), faces.frame_index[kept].astype(str)
    )
    for _, rows in groups(keys):
        ids = sorted({int(x) for x in cluster_id[kept[rows]]})
        together.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    by_video: dict[str, set[int]] = defaultdict(set)
    for iid, vids in videos_of.items():
        for v in vids:
            by_video[v].add(iid)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for ids_in_video in by_video.values():
        ids = sorted(ids_in_video)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                shared[(a, b)] += 1
    return together, dict(shared)


def _answered(
    cluster_id: NDArray[np.int64],
    video_id: NDArray[np.str_],
    tied: Sequence[NDArray[np.int64]],
    cannot_link: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]],
) -> tuple[set[tuple[int, int]], set[tuple[int, str]]]:
    """(influencer pairs a hand split or a "different" answer keeps apart, (influencer, video)
    a merge or a "one person" answer ties to its influencer), from the corrections' face-row
    groups (ingest.corrections.apply.Plan)."""
    apart: set[tuple[int, int]] = set()
    for left, right in cannot_link:
        a_ids = {int(x) for x in cluster_id[left] if x >= 1}
        b_ids = {int(x) for x in cluster_id[right] if x >= 1}
        apart.update((min(a, b), max(a, b)) for a in a_ids for b in b_ids if a != b)
    answered: set[tuple[int, str]] = set()
    for g in tied:
        g = np.asarray(g, dtype=np.int64)
        answered.update(
            (int(i), str(v)) for i, v in zip(cluster_id[g], video_id[g], strict=True) if i >= 1
        )
    return apart, answered


def _group_sums(
    x: NDArray[np.float64], labels: NDArray[np.int64], k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x)
    return sums, np.bincount(labels, minlength=k).astype(np.float64)


def same_person_candidates(
    tracks: Tracks,
    together: set[tuple[int, int]],
    shared: dict[tuple[int, int], int],
    apart: set[tuple[int, int]],
    s: ClusterSettings,
    r: ReviewSettings,
) -> list[Candidate]:
    """Influencer pairs that came close to merging (module docstring), most likely first."""
    kept = tracks.influencer >= 1
    ids, lab = np.unique(tracks.influencer[kept], return_inverse=True)
    if len(ids) < 2:
        return []
    sums, counts = _group_sums(tracks.vectors[kept], lab, len(ids))
    spread = spreads(sums, counts, s.spread_prior, s.spread_prior_weight)
    dsums = None
    if tracks.descriptors is not None:
        dsums, _ = _group_sums(tracks.descriptors[kept], lab, len(ids))
    px = tracks.face_px[kept] if tracks.face_px is not None else None
    sharp = tracks.sharpness[kept] if tracks.sharpness is not None else None
    px_of: dict[int, float | None] = {}
    sharp_of: dict[int, float | None] = {}
    for g, rows in groups(lab):
        px_of[int(g)], sharp_of[int(g)] = _median(px, rows), _median(sharp, rows)
    reach = s.cluster_threshold + max(r.same_band, r.fragment_band)
    out: list[tuple[float, Candidate]] = []
    for i, j, dist in zip(*close_pairs(sums, counts, reach)):
        a, b = int(ids[i]), int(ids[j])
        if (a, b) in together or (a, b) in apart:
            continue
        d, n_shared = float(dist), shared.get((a, b), 0)
        band = r.fragment_band if n_shared else r.same_band
        if d > s.cluster_threshold + band:
            continue
        fd = None
        if dsums is not None:
            fd = 1.0 - float(dsums[i] @ dsums[j]) / (counts[i] * counts[j])
        if d > s.cluster_threshold:
            why = "threshold"
        elif (not n_shared or s.ratio_test_within_video) and d > s.merge_ratio * max(
            spread[i], spread[j]
        ):
            why = "ratio"
        elif fd is not None and s.faceres_veto > 0 and fd > s.faceres_veto:
            why = "veto"
        else:
            why = "order"
        # The one with more tracks stays (its id is the one people have seen more of).
        keep, other = (a, b) if counts[i] >= counts[j] else (b, a)
        small = j if counts[i] >= counts[j] else i
        signals = {
            "margin": d - s.cluster_threshold,
            "ratio": d / max(spread[i], spread[j], 1e-6),
            "faceres": fd,
            "shared": float(np.log1p(n_shared)),
            "tracks": float(np.log(counts[small])),
            "face_px": _log(_min(px_of[int(i)], px_of[int(j)])),
            "sharp": _log(_min(sharp_of[int(i)], sharp_of[int(j)]), 1.0),
        }
        score = d - s.cluster_threshold - (r.fragment_bonus if n_shared else 0.0)
        out.append(
            (score, Candidate("same_person", keep, other, None, d, fd, n_shared, why, 0, signals))
        )
    out.sort(key=lambda sc: (sc[0], sc[1].influencer_id, sc[1].other_id))
    per_person: dict[int, int] = defaultdict(int)
    listed: list[Candidate] = []
    for _, c in out:
        if r.max_per_person and max(per_person[c.influencer_id], per_person[c.other_id]) >= (
            r.max_per_person
        ):
            continue
        per_person[c.influencer_id] += 1
        per_person[c.other_id] += 1
        listed.append(c)
    return [replace(c, rank=k) for k, c in enumerate(listed, start=1)]


def _min(a: float | None, b: float | None) -> float | None:
    known = [x for x in (a, b) if x is not None]
    return min(known) if known else None


def two_people_candidates(
    tracks: Tracks, tied: set[tuple[int, str]], r: ReviewSettings
) -> list[Candidate]:
    """Videos whose tracks of an influencer sit far from the rest of it (module docstring),
    farthest first."""
    out: list[Candidate] = []
    for iid, rows in groups(tracks.influencer):
        if iid < 1:
            continue
        vids, lab = np.unique(tracks.video[rows], return_inverse=True)
        if len(vids) < 2:
            continue
        sums, counts = _group_sums(tracks.vectors[rows], lab, len(vids))
        dsums = None
        if tracks.descriptors is not None:
            dsums, _ = _group_sums(tracks.descriptors[rows], lab, len(vids))
        total, n = sums.sum(axis=0), counts.sum()
        spread = float(spreads(total[None, :], np.array([n]), 0.0, 0.0)[0]) if n > 1 else 0.0
        for v in range(len(vids)):
            if (int(iid), str(vids[v])) in tied:
                continue
            rest = n - counts[v]
            d = 1.0 - float(sums[v] @ (total - sums[v])) / (counts[v] * rest)
            if d <= r.split_cut:
                continue
            fd = None
            if dsums is not None:
                fd = 1.0 - float(dsums[v] @ (dsums.sum(axis=0) - dsums[v])) / (counts[v] * rest)
            in_video = rows[lab == v]
            signals = {
                "margin": d - r.split_cut,
                "ratio": d / max(spread, 1e-6),
                "faceres": fd,
                "tracks": float(np.log(counts[v])),
                "videos": float(np.log(len(vids))),
                "face_px": _log(_median(tracks.face_px, in_video)),
                "sharp": _log(_median(tracks.sharpness, in_video), 1.0),
            }
            out.append(
                Candidate("two_people", int(iid), None, str(vids[v]), d, fd, 0, None, 0, signals)
            )
    out.sort(key=lambda c: (-c.distance, c.influencer_id, c.video_id))
    return [replace(c, rank=k) for k, c in enumerate(out, start=1)]


def review_candidates(
    faces: FaceTable,
    clustering: Clustering,
    s: ClusterSettings,
    r: ReviewSettings,
    prior_mean: NDArray[np.float32] | None = None,
    descriptor_prior: NDArray[np.float32] | None = None,
    tied: Sequence[NDArray[np.int64]] = (),
    cannot_link: Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]] = (),
    model: ChanceModel | None = None,
) -> list[Candidate]:
    """Every suggestion for ``clustering`` of ``faces`` (clustered at ``s`` with these priors
    and hand corrections: ``cannot_link`` as ``cluster_faces`` took them, ``tied`` the face
    rows whose video a correction answered): same_person pairs, then two_people videos, each
    with its chance under ``model`` (ingest.people.chance.model_for the embedder) and ranked by
    it; without a model, ranked by distance. A question a correction answered is not asked."""
    if not len(clustering.cluster_id) or not (clustering.cluster_id >= 1).any():
        return []
    tracks = track_view(faces, clustering, s, prior_mean, descriptor_prior)
    together, shared = _pairs_on_one_frame(faces, clustering.cluster_id)
    apart, answered = _answered(clustering.cluster_id, faces.video_id, tied, cannot_link)
    return [
        *with_chance(same_person_candidates(tracks, together, shared, apart, s, r), model),
        *with_chance(two_people_candidates(tracks, answered, r), model),
    ]


def with_chance(found: list[Candidate], model: ChanceModel | None) -> list[Candidate]:
    """``found`` (one kind, ranked) with each one's chance and whether it clears the floor,
    re-ranked by chance (ties keep their order); unchanged without a model for the kind."""
    if not found or model is None or found[0].kind not in model.kinds:
        return found
    m = model.kinds[found[0].kind]
    chance = [m.chance(c.signals) for c in found]
    scored = [replace(c, chance=p, shown=p >= m.floor) for c, p in zip(found, chance, strict=True)]
    scored.sort(key=lambda c: (-(c.chance or 0.0), c.rank))
    return [replace(c, rank=k) for k, c in enumerate(scored, start=1)]
