"""The Ray engine on a simulated two-node cluster (ray.cluster_utils.Cluster: two worker nodes of
one CPU each, each with its own cache directory, and a head that only schedules, as in
docs/scale.md) builds the warehouse the local engine builds: people, faces and thumbnails."""

import dataclasses
import subprocess
import sys

import duckdb
import numpy as np
import pytest

from ingest.demo.synth import SynthConfig, synthesize
from ingest.pipeline.engine_ray import NODE_CACHE_ENV, n_actors, node_settings, worker_env
from ingest.pipeline.runner import run
from ingest.settings import SamplingSettings, Settings


def test_one_actor_per_cluster_cpu_unless_workers_say_otherwise():
    assert n_actors(None, 8.0) == 8
    assert n_actors(1, 8.0) == 1
    assert n_actors(3, 8.0) == 3
    assert n_actors(None, 0.0) == 1


def _tables(db):
    con = duckdb.connect(str(db), read_only=True)
    videos = con.execute(
        "select video_id, status, error, n_faces from raw.videos order by video_id"
    ).fetchall()
    faces = con.execute(
        "select f.video_id, f.frame_index, f.x1, f.y1, f.x2, f.y2, f.embedding, "
        "f.age_years, c.cluster_id from raw.faces f join raw.face_clusters c using (face_id) "
        "order by f.video_id, f.frame_index, f.x1"
    ).df()
    con.close()
    return videos, faces


def test_a_node_started_with_its_own_cache_keeps_it_there(monkeypatch, tmp_path):
    s = Settings(cache_dir=tmp_path / "driver")
    monkeypatch.delenv(NODE_CACHE_ENV, raising=False)
    assert node_settings(s) == s
    monkeypatch.setenv(NODE_CACHE_ENV, str(tmp_path / "node"))
    assert node_settings(s).cache_dir == tmp_path / "node"
    assert node_settings(s).extraction_hash() == s.extraction_hash()


def _thumbnails(faces_dir):
    """Every face thumbnail, by its path under faces_dir, as pixels."""
    import cv2

    return {
        str(p.relative_to(faces_dir)): cv2.imread(str(p)).astype(int)
        for p in sorted(faces_dir.rglob("*.jpg"))
    }


@pytest.mark.slow
def test_ray_engine_on_two_nodes_equals_the_local_engine(shared, tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    synthesize(
        shared / "faces",
        tmp_path / "corpus",
        SynthConfig(n_videos=5, n_identities=3, n_two_person=1, n_empty=1, seed=7),
    )
    with (tmp_path / "corpus" / "videos.csv").open("a") as fh:
        fh.write("1.0,videos/missing.mp4\n")  # a bad row is recorded by both engines alike
    csv = tmp_path / "corpus" / "videos.csv"

    def settings(name, **kw):
        # Separate caches: the Ray run must extract, not read the local run's results.
        # A coarse frame grid keeps the test short; both engines use the same one.
        return Settings(
            cache_dir=tmp_path / name / "cache",
            faces_dir=tmp_path / name / "faces",
            sampling=SamplingSettings(frames_per_second=1.0, max_frames=12),
            **kw,
        )

    local = run(csv, tmp_path / "local.duckdb", settings("local"), progress=False)
    # The head only schedules (num_cpus 0); each worker node has one CPU and its own cache,
    # as each machine of a real cluster has its own disk.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    node_caches = [tmp_path / f"node_{n}" / "cache" for n in ("a", "b")]
    for cache in node_caches:
        cluster.add_node(num_cpus=1, env_vars={NODE_CACHE_ENV: str(cache)})
    try:
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, runtime_env=worker_env(), log_to_driver=False)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 3
        remote = run(csv, tmp_path / "ray.duckdb", settings("ray", engine="ray"), progress=False)
    finally:
        ray.shutdown()
        cluster.shutdown()
    # both nodes extracted videos into their own caches, none into the driver's
    for cache in node_caches:
        assert any(cache.glob("extract/*.npz")), f"node cache {cache} holds no extraction"
    driver_cache = tmp_path / "ray" / "cache"
    assert not driver_cache.exists() or not any(driver_cache.rglob("*.npz"))
    assert remote.statuses == local.statuses and local.statuses["ok"] >= 3
    assert local.statuses["download_failed"] == 1
    assert remote.timings.get("detect", 0) > 0  # extracted on the workers, not read from a cache
    assert remote.n_influencers == local.n_influencers >= 2
    lv, lf = _tables(tmp_path / "local.duckdb")
    rv, rf = _tables(tmp_path / "ray.duckdb")
    assert rv == lv
    assert len(rf) == len(lf) > 0
    cols = ["video_id", "frame_index"]
    assert (rf[cols] == lf[cols]).all().all()
    boxes = ["x1", "y1", "x2", "y2"]
    np.testing.assert_allclose(rf[boxes].to_numpy(float), lf[boxes].to_numpy(float), atol=0.5)
    cos = np.einsum("ij,ij->i", np.stack(rf["embedding"]), np.stack(lf["embedding"]))
    assert cos.min() > 0.999
    np.testing.assert_allclose(rf["age_years"], lf["age_years"], atol=0.5)
    assert (rf["cluster_id"] == lf["cluster_id"]).all()
    # the thumbnails the writer made from the faces that came back over the network
    lt, rt = _thumbnails(tmp_path / "local" / "faces"), _thumbnails(tmp_path / "ray" / "faces")
    assert sorted(rt) == sorted(lt) and len(lt) > 0
    assert max(np.abs(rt[k] - lt[k]).mean() for k in lt) < 2.0  # JPEG of the same crop


def test_ray_engine_without_a_reachable_cluster_stops_before_writing(tmp_path):
    pytest.importorskip("ray", reason="make install-ray")
    csv = tmp_path / "v.csv"
    csv.write_text("score,url\n1.0,a.mp4\n")
    db = tmp_path / "w.duckdb"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest",
            "run",
            str(csv),
            "--db",
            str(db),
            "--engine",
            "ray",
            "--address",
            "ray://127.0.0.1:9",
            "--no-progress",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "Ray cluster" in out.stderr
    assert not db.exists()


def test_settings_carry_the_engine_without_changing_the_extraction_hash():
    s = Settings()
    r = dataclasses.replace(s, engine="ray", ray_address="10.0.0.1:6379")
    assert r.extraction_hash() == s.extraction_hash()
