import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "ingest", "--help"],
        ["-m", "ingest", "run", "--help"],
        ["-m", "ingest", "recluster", "--help"],
        ["-m", "ingest", "demo", "--help"],
        ["-m", "ingest", "export-csv", "--help"],
        ["-m", "ingest", "migrate-storage", "--help"],
        ["-m", "ingest", "sql", "--help"],
        ["-m", "tools.known_people", "--help"],
        ["-m", "bench.face_search", "--help"],
        ["-m", "ingest", "people", "--help"],
        *[
            ["-m", "ingest", "people", c, "--help"]
            for c in (
                "list",
                "show",
                "name",
                "merge",
                "split",
                "hide",
                "unhide",
                "bind",
                "export",
                "import",
            )
        ],
        ["-m", "bench", "--help"],
        ["-m", "bench.lookalikes", "--help"],
        ["-m", "bench.population_mean", "--help"],
        ["-m", "bench.creative", "--help"],
        ["-m", "bench.growth", "--help"],
        ["-m", "bench.floors", "--help"],
        ["-m", "bench.chance", "--help"],
        ["-m", "bench.margin", "--help"],
        ["-m", "bench.review_faceres", "--help"],
        ["-m", "bench.scale", "--help"],
        ["-m", "tools.facenet_weights", "--help"],
        ["-m", "expectations", "--help"],
    ],
)
def test_every_command_has_help(args):
    out = subprocess.run(
        [sys.executable, *args], check=False, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


def test_missing_csv_is_a_clear_error_not_a_traceback(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest",
            "run",
            str(tmp_path / "nope.csv"),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--no-progress",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2
    assert "CSV not found" in out.stderr and "Traceback" not in out.stderr


def test_unreachable_dataset_ends_with_a_summary(shared, tmp_path):
    """The real task's CSV: every URL is unreachable offline -> 268 download_failed, no crash."""
    import duckdb

    db = tmp_path / "w.duckdb"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest",
            "run",
            str(shared / "datasets" / "fuelgrowth_videos.csv"),
            "--db",
            str(db),
            "--no-progress",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    assert "download_failed: 268" in out.stdout
    con = duckdb.connect(str(db), read_only=True)
    n, with_reason = con.execute(
        "select count(*), count(error) from raw.videos where status = 'download_failed'"
    ).fetchone()
    con.close()
    assert n == with_reason == 268


@pytest.mark.parametrize(
    ("flags", "expected"),
    [([], None), (["--merge-within-video"], True), (["--no-merge-within-video"], False)],
)
def test_cluster_flags_reach_the_settings(flags, expected):
    from ingest.cli import _settings, build_parser
    from ingest.settings import ClusterSettings

    args = build_parser().parse_args(["recluster", "--faceres-veto", "0.65", *flags])
    cs = _settings(args).cluster
    assert cs.merge_within_video is (
        ClusterSettings().merge_within_video if expected is None else expected
    )
    assert cs.faceres_veto == 0.65


def test_each_embedder_gets_its_own_calibrated_settings():
    """Cosine distances differ per embedder: --embedder dlib must not run at FaceNet's
    thresholds (stage 1 at 0.5 would merge everyone dlib sees in a video)."""
    from ingest.cli import _settings, build_parser
    from ingest.settings import DLIB_CLUSTER, ClusterSettings, Settings

    parse = build_parser().parse_args
    assert Settings().embedding.embedder == "facenet"
    assert _settings(parse(["recluster"])).cluster == ClusterSettings()
    dlib = _settings(parse(["recluster", "--embedder", "dlib"])).cluster
    assert dlib == DLIB_CLUSTER and dlib.track_threshold < ClusterSettings().track_threshold
    # A flag still overrides the embedder's default.
    assert (
        _settings(
            parse(["recluster", "--embedder", "dlib", "--track-threshold", "0.2"])
        ).cluster.track_threshold
        == 0.2
    )


def test_a_warehouse_keeps_its_embedder_unless_one_is_asked_for(tmp_path):
    """A bare `ingest recluster` on an ArcFace warehouse clusters ArcFace's faces at ArcFace's
    settings; FaceNet is the default only for a new warehouse."""
    import duckdb

    from ingest.cli import _settings, build_parser
    from ingest.settings import ARCFACE_CLUSTER, ClusterSettings
    from ingest.warehouse.store import warehouse_embedder

    parse = build_parser().parse_args
    db = tmp_path / "w.duckdb"
    assert _settings(parse(["recluster", "--db", str(db)])).embedding.embedder == "facenet"
    con = duckdb.connect(str(db))
    con.execute("create schema raw; create table raw.faces (embedder varchar)")
    con.execute("insert into raw.faces values ('arcface'), ('arcface')")
    assert warehouse_embedder(con) == "arcface"
    con.close()
    s = _settings(parse(["recluster", "--db", str(db)]))
    assert s.embedding.embedder == "arcface" and s.cluster == ARCFACE_CLUSTER
    assert ARCFACE_CLUSTER.merge_ratio == float("inf") and ARCFACE_CLUSTER.faceres_veto == 0
    s = _settings(parse(["recluster", "--db", str(db), "--embedder", "facenet"]))
    assert s.embedding.embedder == "facenet" and s.cluster == ClusterSettings()


def test_recluster_for_another_embedder_stops_before_touching_the_faces(tmp_path):
    """Connecting for another embedding size would drop the faces: it stops first, exit 2."""
    import duckdb
    import warehouse_fixture as wf

    db = wf.write_raw(tmp_path / "warehouse.duckdb")  # dlib faces, clustered
    count = "select count(*) from raw.faces"
    before = duckdb.connect(str(db), read_only=True).execute(count).fetchone()[0]
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", "recluster", "--db", str(db), "--embedder", "facenet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "holds dlib faces" in proc.stderr and "--embedder dlib" in proc.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(count).fetchone()[0] == before > 0
    assert con.execute("select count(*) from raw.face_clusters").fetchone()[0] > 0
