"""Stage-2 clustering without a distance matrix: exact average linkage over candidate pairs.

``ingest.people.cluster.constrained_average_linkage`` holds an (n, n) matrix and rescans it after every
merge: memory grows as n^2 and time about as n^3, so some 25k tracks no longer fit a 24 GB
machine. Here the matrix is never built:

* With L2-normalised rows and unit weights (stage 2 clusters centred, re-normalised track
  centroids, one weight each), the mean pairwise cosine distance between groups A and B is
  ``1 - S_A . S_B / (|A| |B|)``, S being the sum of a group's rows. A group keeps its sum, so
  every distance, the ratio test's spreads and the faceres veto stay exact.
* A merge needs a mean distance <= the threshold, so some member pair is within the threshold
  too: candidate pairs are the item pairs within the threshold (each item's k nearest, by exact
  blocked search or a faiss index for large n), and two groups are candidates when any of their
  members are. Merges happen in the dense path's order (closest allowed pair first), so the
  result is the dense one unless an item has more than k neighbours within the threshold and
  a needed pair falls outside all of them (tests/test_cluster_graph.py checks equality).
* Cannot-links are kept per group as small separable rules (``GroupRule``): a group's set of
  videos, explicit track pairs. Each can be dropped on its own. The set of videos also tells
  when two groups share a video, which the ratio test leaves alone.

Memory O(n d + n k), time about O(n k d log n) for the merges plus the neighbour search."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ingest.settings import ClusterSettings
from ingest.vectors import l2_normalize

Find = Callable[[int], int]


class GroupRule(Protocol):
    """A cannot-link rule over groups. Groups are named by a member item (the union-find root).
    Monotone: once two groups may not merge, no larger groups holding them may either."""

    def allowed(self, a: int, b: int, find: Find) -> bool: ...

    def merge(self, into: int, other: int) -> None: ...


class DistinctVideos:
    """Two groups never merge if they share a video (ClusterSettings.merge_within_video off):
    a group carries its set of videos."""

    def __init__(self, video: NDArray[np.int64]):
        self.video = video
        self.sets: dict[int, set[int]] = {}

    def _of(self, g: int) -> set[int]:
        return self.sets.get(g) or {int(self.video[g])}

    def allowed(self, a: int, b: int, find: Find) -> bool:
        return self._of(a).isdisjoint(self._of(b))

    def merge(self, into: int, other: int) -> None:
        x, y = self.sets.pop(into, None), self.sets.pop(other, None)
        x = x if x is not None else {int(self.video[into])}
        y = y if y is not None else {int(self.video[other])}
        if len(x) < len(y):
            x, y = y, x
        x |= y
        self.sets[into] = x


class CannotLinkPairs:
    """Explicit item-level cannot-links (tracks sharing a frame, a user's correction): two
    groups never merge if any member of one is cannot-linked to any member of the other."""

    def __init__(self, pairs: Iterable[tuple[int, int]]):
        self.partners: dict[int, set[int]] = {}
        for a, b in pairs:
            if a != b:
                self.partners.setdefault(int(a), set()).add(int(b))
                self.partners.setdefault(int(b), set()).add(int(a))

    def allowed(self, a: int, b: int, find: Find) -> bool:
        pa, pb = self.partners.get(a, ()), self.partners.get(b, ())
        if len(pa) > len(pb):
            pa, b = pb, a
        return all(find(p) != b for p in pa)

    def merge(self, into: int, other: int) -> None:
        y = self.partners.pop(other, None)
        if not y:
            return
        x = self.partners.get(into)
        if x is None or len(x) < len(y):
            x, y = y, (x or set())
        x |= y
        self.partners[into] = x


def knn_pairs(
    x: NDArray[np.float32],
    k: int,
    radius: float,
    ann_min_items: int = 50_000,
    block_floats: int = 1 << 25,
    queries: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    """Each row's ``k`` nearest rows of ``x`` (n, d) (L2-normalised) by cosine, kept if within
    ``radius`` cosine distance; only the rows ``queries`` look (default: all). Returns unique
    pairs (i, j) with i < j and their distances. Exact blocked search up to
    ``ann_min_items`` rows (``block_floats``: floats per block of the similarity matrix, i.e.
    its memory), a faiss IVF index above."""
    n = len(x)
    q = np.arange(n, dtype=np.int64) if queries is None else np.asarray(queries, dtype=np.int64)
    if n < 2 or len(q) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=np.float32)
    kk = min(k + 1, n)  # +1: a row finds itself
    x = np.ascontiguousarray(x, dtype=np.float32)
    if n >= ann_min_items:
        sim, nbr = _faiss_knn(x, x[q], kk)
    else:
        sim = np.empty((len(q), kk), dtype=np.float32)
        nbr = np.empty((len(q), kk), dtype=np.int64)
        step = max(1, block_floats // n)
        for lo in range(0, len(q), step):
            s = x[q[lo : lo + step]] @ x.T
            idx = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
            nbr[lo : lo + step] = idx
            sim[lo : lo + step] = np.take_along_axis(s, idx, axis=1)
    rows = np.repeat(q, nbr.shape[1])
    cols, dist = nbr.ravel(), (1.0 - sim.ravel()).astype(np.float32)
    keep = (cols >= 0) & (cols != rows) & (dist <= radius)
    i, j, dist = rows[keep], cols[keep], dist[keep]
    i, j = np.minimum(i, j), np.maximum(i, j)
    _, first = np.unique(i * n + j, return_index=True)
    return i[first], j[first], dist[first]


def _faiss_knn(
    x: NDArray[np.float32], queries: NDArray[np.float32], k: int
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Approximate kNN of ``queries`` among ``x`` by inner product: IVF with 4 sqrt(n) lists, 16
    probed. One person's tracks sit close together, so they share a list or a neighbouring
    one."""
    import faiss

    n, d = x.shape
    nlist = max(1, int(4 * np.sqrt(n)))
    quant = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    train = x[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
    index.cp.niter = 10
    index.train(train)
    index.add(x)
    index.nprobe = min(nlist, 16)
    sim, nbr = index.search(queries, k)
    return sim, nbr


def graph_average_linkage(
    x: NDArray[np.float32],
    pairs: tuple[NDArray[np.int64], NDArray[np.int64]],
    threshold: float,
    rules: Sequence[GroupRule] = (),
    max_ratio: float = np.inf,
    spread_prior: float = 0.0,
    spread_prior_weight: float = 1.0,
    veto_x: NDArray[np.float32] | None = None,
    veto_threshold: float = np.inf,
    must_link: Iterable[tuple[int, int]] = (),
    overwrite: bool = False,
    ratio_exempt: DistinctVideos | None = None,
) -> NDArray[np.int64]:
    """``constrained_average_linkage`` on cosine distances of ``x`` (n, d) (L2-normalised rows,
    unit weights), with candidate merges restricted to groups joined by a pair of ``pairs``
    (i, j) and cannot-links as ``rules``. ``veto_x`` (n, k) L2-normalised: the second opinion,
    averaged over the two groups the same way. ``must_link`` item pairs are merged first,
    whatever the distances and rules say (a user's correction outranks the model).
    ``overwrite``: ``x`` and ``veto_x`` (float32) become the group sums instead of copies.
    ``ratio_exempt``: the groups' videos; two groups that share one skip the ratio test (the
    dense path's ``ratio_exempt``). Returns (n,) labels 0..k-1, numbered like the dense path (by each group's first item)."""
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    s = np.asarray(x, dtype=np.float32) if overwrite else np.array(x, dtype=np.float32)
    v = None if veto_x is None else np.array(veto_x, dtype=np.float32, copy=not overwrite)
    cnt = np.ones(n, dtype=np.int64)
    spread_sum = np.zeros(n)
    parent = np.arange(n)

    def find(a: int) -> int:
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return int(root)

    # Item-level neighbours (CSR) seed each group's neighbour set on its first merge.
    pi, pj = np.asarray(pairs[0], dtype=np.int64), np.asarray(pairs[1], dtype=np.int64)
    both_i, both_j = np.concatenate([pi, pj]), np.concatenate([pj, pi])
    order = np.argsort(both_i, kind="stable")
    nb_col = both_j[order]
    nb_ptr = np.searchsorted(both_i[order], np.arange(n + 1))
    nbrs: dict[int, set[int]] = {}

    def neighbours(g: int) -> set[int]:
        got = nbrs.get(g)
        return got if got is not None else set(nb_col[nb_ptr[g] : nb_ptr[g + 1]].tolist())

    def dist(a: int, b: int) -> float:
        return 1.0 - float(s[a].astype(np.float64) @ s[b]) / (cnt[a] * cnt[b])

    def merge(a: int, b: int, d_ab: float) -> int:
        if a > b:
            a, b = b, a
        spread_sum[a] += spread_sum[b] + d_ab * cnt[a] * cnt[b]
        s[a] += s[b]
        if v is not None:
            v[a] += v[b]
        cnt[a] += cnt[b]
        parent[b] = a
        for r in rules:
            r.merge(a, b)
        if ratio_exempt is not None:
            ratio_exempt.merge(a, b)
        na, nb = neighbours(a), neighbours(b)
        nbrs.pop(b, None)
        if len(na) < len(nb):
            na, nb = nb, na
        nbrs[a] = {find(c) for c in na | nb} - {a}
        return a

    grown = []
    for a, b in must_link:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            grown.append(merge(ra, rb, dist(ra, rb)))

    # Singleton pairs are consumed from a sorted array (no per-pair Python objects); pairs of
    # grown groups go through a heap, stamped with both sizes so stale entries are skipped.
    d0 = np.empty(len(pi))
    for lo in range(0, len(pi), 1 << 16):  # chunks: (pairs, d) rows would not fit at 1M tracks
        a, b = pi[lo : lo + (1 << 16)], pj[lo : lo + (1 << 16)]
        d0[lo : lo + len(a)] = 1.0 - np.einsum("ij,ij->i", s[a].astype(np.float64), s[b])
    keep = d0 <= threshold
    pi, pj, d0 = pi[keep], pj[keep], d0[keep]
    o = np.lexsort((pj, pi, d0))
    pi, pj, d0 = pi[o], pj[o], d0[o]
    p0 = 0
    heap: list[tuple[float, int, int, int, int]] = []

    def push_neighbours(g: int) -> None:
        others = np.fromiter({find(c) for c in neighbours(g)} - {g}, dtype=np.int64)
        if len(others) == 0:
            return
        dd = 1.0 - (s[others].astype(np.float64) @ s[g]) / (cnt[others] * cnt[g])
        for c, dc in zip(others[dd <= threshold].tolist(), dd[dd <= threshold].tolist()):
            lo, hi = (g, c) if g < c else (c, g)
            heapq.heappush(heap, (dc, lo, hi, int(cnt[lo]), int(cnt[hi])))

    # Groups that must-links grew meet their neighbours through the heap: the sorted array
    # holds singleton pairs only.
    for g in {find(a) for a in grown}:
        push_neighbours(g)
    prior = spread_prior_weight * spread_prior

    def spread(g: int) -> float:
        pairs_g = cnt[g] * (cnt[g] - 1) / 2
        return (spread_sum[g] + prior) / (pairs_g + spread_prior_weight)

    while True:
        if p0 < len(d0) and (not heap or (d0[p0], pi[p0], pj[p0]) < heap[0][:3]):
            d_ab, a, b = float(d0[p0]), int(pi[p0]), int(pj[p0])
            p0 += 1
            if parent[a] != a or parent[b] != b or cnt[a] != 1 or cnt[b] != 1:
                continue
        elif heap:
            d_ab, a, b, ca, cb = heapq.heappop(heap)
            if parent[a] != a or parent[b] != b or cnt[a] != ca or cnt[b] != cb:
                continue
        else:
            break
        if d_ab > threshold:
            break
        if (
            np.isfinite(max_ratio)
            and d_ab > max_ratio * max(spread(a), spread(b))
            and (ratio_exempt is None or ratio_exempt.allowed(a, b, find))
        ):
            continue  # reconsidered when a or b grows: the new group re-pushes its neighbours
        if v is not None and np.isfinite(veto_threshold):
            d_v = 1.0 - float(v[a].astype(np.float64) @ v[b]) / (cnt[a] * cnt[b])
            if d_v > veto_threshold:
                continue
        if not all(r.allowed(a, b, find) for r in rules):
            continue  # rules are monotone: this pair stays blocked
        push_neighbours(merge(a, b, d_ab))
    roots = np.array([find(a) for a in range(n)], dtype=np.int64)
    first = np.full(n, n, dtype=np.int64)
    np.minimum.at(first, roots, np.arange(n))
    _, out = np.unique(first[roots], return_inverse=True)
    return out.astype(np.int64)


def cluster_tracks_graph(
    centroids: NDArray[np.float32],
    s: ClusterSettings,
    video: NDArray[np.int64],
    cannot_pairs: Iterable[tuple[int, int]] = (),
    must_link: Iterable[tuple[int, int]] = (),
    prior_mean: NDArray[np.float32] | None = None,
    descriptors: NDArray[np.float32] | None = None,
    descriptor_prior: NDArray[np.float32] | None = None,
    overwrite: bool = False,
    known: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """``ingest.people.cluster.cluster_tracks`` (agglomerative) for any number of tracks: centroids
    (t, d), each track's video as an integer code (t,), explicit track-level cannot-link and
    must-link pairs.
    Two tracks of one video are kept apart unless ``s.merge_within_video`` (then pass the
    pairs that share a frame in ``cannot_pairs``). ``overwrite``: centroids and descriptors
    (float32) are centred in place and consumed, halving peak memory.

    ``known`` (t,): between full re-clusterings, new tracks join existing people. Tracks with
    a label >= 0 keep their groups as they are (merged first, like must-links); only the
    tracks marked -1 look for candidates, so the neighbour search costs new x all, not all x
    all. Returns (t,) labels."""
    t = len(centroids)
    if t == 0:
        return np.zeros(0, dtype=np.int64)
    x = center_lean(centroids, prior_mean, s.center_prior_weight, s.center, overwrite)
    rules: list[GroupRule] = []
    if not s.merge_within_video:
        rules.append(DistinctVideos(np.asarray(video)))
    cannot = CannotLinkPairs(cannot_pairs)
    if cannot.partners:
        rules.append(cannot)
    veto = None
    if descriptors is not None and s.faceres_veto > 0:
        veto = center_lean(
            descriptors, descriptor_prior, s.center_prior_weight, s.center, overwrite
        )
    queries = None
    if known is not None:
        known = np.asarray(known, dtype=np.int64)
        queries = np.flatnonzero(known < 0)
        order = np.flatnonzero(known >= 0)
        order = order[np.argsort(known[order], kind="stable")]
        same = known[order[1:]] == known[order[:-1]]
        must_link = [*zip(order[:-1][same].tolist(), order[1:][same].tolist()), *must_link]
    i, j, _ = knn_pairs(
        x, s.graph_neighbours, s.cluster_threshold, s.ann_min_tracks, queries=queries
    )
    return graph_average_linkage(
        x,
        (i, j),
        s.cluster_threshold,
        rules,
        max_ratio=s.merge_ratio,
        spread_prior=s.spread_prior,
        spread_prior_weight=s.spread_prior_weight,
        veto_x=veto,
        veto_threshold=s.faceres_veto if veto is not None else np.inf,
        must_link=must_link,
        overwrite=True,
        ratio_exempt=None
        if s.ratio_test_within_video or not s.merge_within_video
        else DistinctVideos(np.asarray(video)),
    )


def center_lean(
    x: NDArray[np.float32],
    prior: NDArray[np.float32] | None,
    prior_weight: float,
    subtract: bool = True,
    overwrite: bool = False,
    chunk: int = 65_536,
) -> NDArray[np.float32]:
    """``ingest.people.cluster.center`` (or only re-normalising rows, ``subtract`` False) into a
    float32 array (``x`` itself if ``overwrite`` and float32), in chunks: a float64 copy of a
    million 1024-d descriptors is 8 GB."""
    mu = np.zeros(x.shape[1])
    if subtract:
        mu = x.mean(axis=0, dtype=np.float64)
        if prior is not None and prior_weight > 0:
            mu = (len(x) * mu + prior_weight * prior.astype(np.float64)) / (len(x) + prior_weight)
    inplace = overwrite and x.dtype == np.float32 and x.flags.writeable
    out = x if inplace else np.empty(x.shape, dtype=np.float32)
    for lo in range(0, len(x), chunk):
        out[lo : lo + chunk] = l2_normalize(x[lo : lo + chunk].astype(np.float64) - mu)
    return out


def shared_frame_pairs(
    tracks_of_video: Sequence[Sequence[int]], frames_of: Sequence[set]
) -> list[tuple[int, int]]:
    """Pairs of tracks of one video seen in a common frame: two people on screen at once."""
    return [
        (a, b)
        for group in tracks_of_video
        for i, a in enumerate(group)
        for b in group[i + 1 :]
        if frames_of[a] & frames_of[b]
    ]
