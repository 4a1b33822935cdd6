import numpy as np
import pytest

from ingest.people.cluster import (
    FaceTable,
    center,
    centroid_similarity,
    cluster_faces,
    constrained_average_linkage,
    cosine_distances,
    tracks_within_video,
)
from ingest.settings import ClusterSettings


def unit(rng, n, d=16, around=None, spread=0.05):
    base = rng.normal(size=d) if around is None else around
    x = base + spread * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_average_linkage_matches_scipy_without_constraints():
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    d = cosine_distances(x)
    ours = constrained_average_linkage(d, 0.8)
    ref = fcluster(linkage(squareform(d, checks=False), "average"), 0.8, "distance")
    # same partition (labels may differ)
    pairs_ours = ours[:, None] == ours[None, :]
    pairs_ref = ref[:, None] == ref[None, :]
    assert (pairs_ours == pairs_ref).all()


def test_cannot_link_is_never_merged():
    d = np.array([[0, 0.01, 0.02], [0.01, 0, 0.01], [0.02, 0.01, 0]], dtype=float)
    cl = np.zeros((3, 3), dtype=bool)
    cl[0, 2] = cl[2, 0] = True
    labels = constrained_average_linkage(d, 1.0, cl)
    assert labels[0] != labels[2]
    assert len(set(labels)) == 2


def _blocks(within: list[float], cross: float) -> np.ndarray:
    """Distance matrix of groups of 3 items: ``within`` inside each group, ``cross`` between."""
    lab = np.repeat(np.arange(len(within)), 3)
    d = np.where(lab[:, None] == lab[None, :], np.asarray(within)[lab][:, None], cross)
    np.fill_diagonal(d, 0.0)
    return d


def test_ratio_test_keeps_two_tight_lookalike_groups_apart():
    # Two people, each seen three times very consistently (spread 0.05), 0.3 apart: under the
    # global threshold 0.5, so plain average linkage chains them into one "influencer".
    d = _blocks([0.05, 0.05], 0.3)
    assert len(set(constrained_average_linkage(d, 0.5))) == 1
    labels = constrained_average_linkage(d, 0.5, max_ratio=2.0, spread_prior=0.05)
    assert list(labels) == [0, 0, 0, 1, 1, 1]


def test_ratio_test_still_merges_one_loose_person():
    # One person across different photos: spread 0.25 inside, nothing else around.
    d = _blocks([0.25], 0.0)
    labels = constrained_average_linkage(d, 0.5, max_ratio=1.6, spread_prior=0.3)
    assert len(set(labels)) == 1
    # With a prior that makes single items look too tight, the same data stays split: the test
    # above is not passing by accident.
    assert len(set(constrained_average_linkage(d, 0.5, max_ratio=1.6, spread_prior=0.1))) > 1


def test_two_faces_in_one_frame_are_two_tracks():
    rng = np.random.default_rng(1)
    same = unit(rng, 4, spread=0.01)  # four near-identical faces...
    frames = np.array([0, 0, 1, 1])  # ...but two per frame: at least two people
    labels = tracks_within_video(
        frames, same, ClusterSettings(track_threshold=0.5, min_track_faces=1)
    )
    assert labels[0] != labels[1] and labels[2] != labels[3]


def test_cluster_faces_recovers_people_across_videos_and_numbers_by_videos():
    rng = np.random.default_rng(2)
    people = [rng.normal(size=32) for _ in range(3)]
    vids, frames, embs, truth = [], [], [], []
    layout = {"v1": [0], "v2": [0, 1], "v3": [1], "v4": [0, 2], "v5": [2]}
    for v, who in layout.items():
        for f in range(4):
            for p in who:
                vids.append(v)
                frames.append(f)
                embs.append(unit(rng, 1, 32, people[p], 0.15)[0])
                truth.append(p)
    t = FaceTable(np.array(vids), np.array(frames), np.stack(embs))
    s = ClusterSettings(
        track_threshold=0.3, cluster_threshold=0.6, min_track_faces=2, min_cluster_faces=3
    )
    c = cluster_faces(t, s)
    truth = np.array(truth)
    assert (c.cluster_id >= 1).all()
    for p in range(3):
        assert len(set(c.cluster_id[truth == p])) == 1
    assert len(set(c.cluster_id)) == 3
    # person 0 is in 3 videos: influencer 1
    assert set(c.cluster_id[truth == 0]) == {1}
    assert np.nanmin(c.centroid_similarity) > 0.5
    assert all(tid.startswith(v + ":") for tid, v in zip(c.track_id, vids))


def test_small_tracks_and_clusters_are_left_unassigned():
    rng = np.random.default_rng(3)
    a = unit(rng, 5, 16)
    b = unit(rng, 1, 16)  # one stray face
    t = FaceTable(np.array(["v"] * 6), np.arange(6), np.vstack([a, b]))
    c = cluster_faces(t, ClusterSettings(min_track_faces=2, min_cluster_faces=3))
    assert list(c.cluster_id) == [1, 1, 1, 1, 1, -1]
    assert c.track_id[5] is None and np.isnan(c.centroid_similarity[5])


def test_blurred_tracks_are_left_unassigned():
    rng = np.random.default_rng(5)
    person = rng.normal(size=16)
    emb = unit(rng, 8, 16, person, 0.1)  # one person, sharp in v1 and blurred in v2
    vids, frames = np.array(["v1"] * 4 + ["v2"] * 4), np.tile(np.arange(4), 2)
    sharp = np.array([300, 250, 200, 400, 20, 30, 60, 25], dtype=np.float32)  # v2 median 27.5
    s = ClusterSettings(min_track_sharpness=50.0, center=False)  # two tracks: nothing to centre on
    c = cluster_faces(FaceTable(vids, frames, emb, sharp), s)
    assert list(c.cluster_id) == [1] * 4 + [-1] * 4
    assert all(t is None for t in c.track_id[4:])
    # The same faces without sharpness (or with a sharp v2) form one influencer over both.
    assert list(cluster_faces(FaceTable(vids, frames, emb), s).cluster_id) == [1] * 8
    sharp[4:] = 80
    assert list(cluster_faces(FaceTable(vids, frames, emb, sharp), s).cluster_id) == [1] * 8


def test_center_spreads_a_shared_component():
    rng = np.random.default_rng(4)
    common = rng.normal(size=16) * 5
    x = unit(rng, 1, 16, common, 0)[0]
    a = unit(rng, 10, 16, common + rng.normal(size=16), 0.1)
    b = unit(rng, 10, 16, common + rng.normal(size=16), 0.1)
    xs = np.vstack([a, b])
    raw_gap = cosine_distances(xs)[:10, 10:].mean()
    cen_gap = cosine_distances(center(xs))[:10, 10:].mean()
    assert cen_gap > raw_gap
    assert x.shape == (16,)


def test_centroid_similarity_nan_for_unassigned():
    e = np.eye(3, dtype=np.float32)
    sim = centroid_similarity(e, np.array([1, 1, -1]))
    assert sim[0] == pytest.approx(sim[1]) and np.isnan(sim[2])


def test_two_shots_of_one_video_merge_in_stage_two_unless_that_is_turned_off():
    """One person in two shots of one video, 0.2 apart (cosine): stage 1 (0.1) keeps them as
    two tracks and stage 2 (0.5) joins them, as it would across two videos. With
    merge_within_video off they stay two influencers; a shared frame keeps them apart always."""
    rng = np.random.default_rng(12)
    a, b = np.eye(16)[0], 0.8 * np.eye(16)[0] + 0.6 * np.eye(16)[1]  # cosine 0.8
    emb = np.vstack([unit(rng, 4, 16, a, 0.01), unit(rng, 4, 16, b, 0.01)])
    frames = np.arange(8)  # never on screen together
    s = ClusterSettings(
        center=False, track_threshold=0.1, cluster_threshold=0.5, merge_ratio=float("inf")
    )
    assert s.merge_within_video
    one_video = FaceTable(np.array(["v"] * 8), frames, emb)
    assert list(cluster_faces(one_video, s).cluster_id) == [1] * 8
    apart = ClusterSettings(
        center=False,
        track_threshold=0.1,
        cluster_threshold=0.5,
        merge_ratio=float("inf"),
        merge_within_video=False,
    )
    assert list(cluster_faces(one_video, apart).cluster_id) == [1] * 4 + [2] * 4
    two_videos = FaceTable(np.array(["v1"] * 4 + ["v2"] * 4), frames, emb)
    assert list(cluster_faces(two_videos, apart).cluster_id) == [1] * 8
    together = FaceTable(np.array(["v"] * 8), np.tile(np.arange(4), 2), emb)
    assert list(cluster_faces(together, s).cluster_id) == [1] * 4 + [2] * 4


def test_the_ratio_test_leaves_the_shots_of_one_video_to_the_threshold():
    """Two single tracks 0.2 apart against a ratio test that allows 1.5 x 0.1 = 0.15: kept
    apart across two videos, joined as two shots of one video, unless the ratio test is asked
    to hold within a video too."""
    rng = np.random.default_rng(14)
    a, b = np.eye(16)[0], 0.8 * np.eye(16)[0] + 0.6 * np.eye(16)[1]
    emb = np.vstack([unit(rng, 4, 16, a, 0.01), unit(rng, 4, 16, b, 0.01)])
    frames = np.arange(8)
    s = ClusterSettings(
        center=False,
        track_threshold=0.1,
        cluster_threshold=0.5,
        merge_ratio=1.5,
        spread_prior=0.1,
        faceres_veto=0.0,
    )
    one_video = FaceTable(np.array(["v"] * 8), frames, emb)
    two_videos = FaceTable(np.array(["v1"] * 4 + ["v2"] * 4), frames, emb)
    assert list(cluster_faces(one_video, s).cluster_id) == [1] * 8
    assert list(cluster_faces(two_videos, s).cluster_id) == [1] * 4 + [2] * 4
    strict = ClusterSettings(
        center=False,
        track_threshold=0.1,
        cluster_threshold=0.5,
        merge_ratio=1.5,
        spread_prior=0.1,
        faceres_veto=0.0,
        ratio_test_within_video=True,
    )
    assert list(cluster_faces(one_video, strict).cluster_id) == [1] * 4 + [2] * 4


def test_veto_blocks_a_merge_its_second_distance_rejects_averaged_over_groups():
    """Three items dlib puts together. The second opinion lets a and b merge (0.1), then
    averages over the group: (ab, c) sits at (0.9 + 0.3) / 2 = 0.6, over a veto of 0.5."""
    d = np.full((3, 3), 0.1)
    np.fill_diagonal(d, 0.0)
    v = np.array([[0, 0.1, 0.9], [0.1, 0, 0.3], [0.9, 0.3, 0]], dtype=float)
    assert list(constrained_average_linkage(d, 0.5)) == [0, 0, 0]
    assert list(constrained_average_linkage(d, 0.5, veto_dist=v, veto_threshold=0.5)) == [0, 0, 1]
    assert list(constrained_average_linkage(d, 0.5, veto_dist=v, veto_threshold=0.65)) == [0, 0, 0]


def test_faceres_veto_keeps_apart_two_videos_whose_descriptors_disagree():
    """Two videos whose dlib faces match: one influencer, unless their faceres descriptors are
    far apart (then two); a veto of 0 turns the check off."""
    rng = np.random.default_rng(13)
    emb = unit(rng, 8, 16, rng.normal(size=16), 0.05)
    vids, frames = np.array(["v1"] * 4 + ["v2"] * 4), np.tile(np.arange(4), 2)
    e = np.eye(32)
    same = np.vstack([unit(rng, 8, 32, e[0], 0.01)])
    apart = np.vstack([unit(rng, 4, 32, e[0], 0.01), unit(rng, 4, 32, e[1], 0.01)])  # cosine 1
    s = ClusterSettings(center=False, faceres_veto=0.7)
    assert (
        list(cluster_faces(FaceTable(vids, frames, emb, descriptor=same), s).cluster_id) == [1] * 8
    )
    assert (
        list(cluster_faces(FaceTable(vids, frames, emb, descriptor=apart), s).cluster_id)
        == [1] * 4 + [2] * 4
    )
    off = ClusterSettings(center=False, faceres_veto=0.0)
    assert (
        list(cluster_faces(FaceTable(vids, frames, emb, descriptor=apart), off).cluster_id)
        == [1] * 8
    )


def _unit_rows(x):
    x = np.asarray(x, np.float64)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_faceres_describes_the_sharpest_faces_of_each_track():
    """Two people across four frames and a third person once: two faces of each track, the
    sharpest, and the lone face (its own track, though clustering drops it) are described."""
    from ingest.extract.faces import faces_to_describe

    rng = np.random.default_rng(1)
    people = _unit_rows(rng.normal(size=(3, 32)))
    emb = _unit_rows(people[[0, 1, 0, 1, 0, 1, 0, 1, 2]] + rng.normal(scale=0.02, size=(9, 32)))
    frames = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])
    sharp = np.array([5, 90, 80, 10, 70, 20, 60, 30, 1], np.float32)
    chosen = faces_to_describe(frames, emb, sharp, 2, ClusterSettings())
    assert chosen.tolist() == [False, True, True, False, True, False, False, True, True]
    assert faces_to_describe(frames, emb, sharp, 0, ClusterSettings()).all()
    assert faces_to_describe(frames[:0], emb[:0], sharp[:0], 2, ClusterSettings()).shape == (0,)


def test_a_face_faceres_did_not_describe_reads_its_videos_nearest_described_face():
    from ingest.people.cluster import fill_descriptors

    emb = _unit_rows([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.1, 0.9, 0], [1, 0, 0], [0, 0, 1]])
    desc = np.array([[1, 0], [np.nan, np.nan], [0, 1], [np.nan, np.nan], [0.6, 0.8], [1, 0]])
    desc = desc.astype(np.float32)
    video = np.array(["a", "a", "a", "a", "b", "b"])
    out = fill_descriptors(video, emb, desc)
    assert out.tolist() == [
        [1, 0],
        [1, 0],
        [0, 1],
        [0, 1],
        [0.6000000238418579, 0.800000011920929],
        [1, 0],
    ]
    assert np.isnan(desc[1]).all()  # the input is not changed
    # Video "b" never looks at video "a": a face there with no described face in its video
    # means the warehouse predates the descriptor, and then nothing is filled.
    desc[4] = np.nan
    desc[5] = np.nan
    assert fill_descriptors(video, emb, desc) is None
