"""End to end on real models: synthesized labelled videos served over HTTP without file
extensions, plus broken rows -> ingest -> dbt build -> marts group exactly the right videos."""

import csv
import functools
import http.server
import os
import subprocess
import threading
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from bench.evaluate import evaluate, faces_with_clusters
from ingest.demo.synth import SynthConfig, read_truth, synthesize
from ingest.pipeline.runner import run
from ingest.settings import Settings
from ingest.warehouse.schema import run_dbt

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    synthesize(
        shared / "faces",
        root,
        SynthConfig(n_videos=8, n_identities=3, n_two_person=1, n_empty=1, seed=5),
    )
    (root / "videos" / "corrupt").write_bytes(os.urandom(50_000))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    videos, _ = read_truth(root)
    rows = [(v.score, f"{base}/videos/{v.name}") for v in videos]
    rows += [
        (1.0, f"{base}/videos/missing"),  # 404
        (1.0, f"{base}/videos/corrupt"),  # not a video
        ("n/a", f"{base}/videos/{videos[0].name}?again"),  # non-numeric score
        (videos[1].score, f"{base}/videos/{videos[1].name}"),  # duplicate row
    ]
    csv_path = root / "input.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Performance Score", "video_url"])
        w.writerows(rows)
    yield root, csv_path, videos
    server.shutdown()


@pytest.fixture(scope="module")
def warehouse(served, tmp_path_factory):
    _, csv_path, _ = served
    work = tmp_path_factory.mktemp("wh")
    db = work / "warehouse.duckdb"
    settings = Settings(cache_dir=work / "cache", faces_dir=work / "faces")
    first = run(csv_path, db, settings, progress=False)
    second = run(csv_path, db, settings, progress=False)
    proc = run_dbt("build", db=db, target_dir=work / "target", log_dir=work / "logs")
    assert proc.returncode == 0, proc.stdout[-4000:]
    return db, first, second


def test_statuses_and_reasons(warehouse, served):
    db, first, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    rows = dict(
        con.execute(
            "select regexp_extract(source_url, '[^/]+$'), status || ': ' || coalesce(error, '') "
            "from raw.videos"
        ).fetchall()
    )
    con.close()
    assert rows["missing"].startswith("download_failed: HTTP 404")
    assert rows["corrupt"].startswith("decode_failed:")
    assert any(v.startswith("rejected: performance score is not a number") for v in rows.values())
    assert first.statuses["rejected"] == 2  # bad score + duplicate URL
    assert first.statuses["ok"] == 7 and first.statuses["no_faces"] == 1


def test_rerun_is_idempotent_and_incremental(warehouse):
    db, first, second = warehouse
    assert second.n_skipped == first.statuses["ok"] + first.statuses["no_faces"]
    con = duckdb.connect(str(db), read_only=True)
    n_videos, n_faces, n_clusters = con.execute(
        "select (select count(*) from raw.videos), (select count(*) from raw.faces), "
        "(select count(*) from raw.face_clusters)"
    ).fetchone()
    con.close()
    assert n_videos == 12
    assert n_faces == first.n_faces == second.n_faces == n_clusters


def test_rerun_where_every_row_is_skipped(served, tmp_path):
    """A re-run whose last row is an unchanged video (nothing left to write) must finish."""
    root, _, videos = served
    csv_path = tmp_path / "ok_only.csv"
    csv_path.write_text(
        "score,path\n" + "".join(f"{v.score},{root / 'videos' / v.name}\n" for v in videos[:3])
    )
    settings = Settings(cache_dir=tmp_path / "cache", faces_dir=tmp_path / "faces")
    run(csv_path, tmp_path / "w.duckdb", settings, progress=False)
    again = run(csv_path, tmp_path / "w.duckdb", settings, progress=False)
    assert again.n_skipped == 3


def test_marts_group_exactly_the_right_videos(warehouse, served):
    db, _, _ = warehouse
    _, _, videos = served
    truth = defaultdict(set)
    score = {v.name: v.score for v in videos}
    for v in videos:
        for p in v.people:
            truth[p].add(v.name)
    con = duckdb.connect(str(db), read_only=True)
    got = defaultdict(set)
    for iid, url in con.execute(
        "select influencer_id, source_url from main.influencer_videos"
    ).fetchall():
        got[iid].add(url.rsplit("/", 1)[-1])
    infl = {
        r[0]: r[1:]
        for r in con.execute(
            "select influencer_id, n_videos, avg_performance, representative_face_path "
            "from main.influencers"
        ).fetchall()
    }
    con.close()
    assert sorted(map(sorted, got.values())) == sorted(map(sorted, truth.values()))
    for iid, vids in got.items():
        n_videos, avg, face = infl[iid]
        assert n_videos == len(vids)
        assert avg == pytest.approx(sum(score[v] for v in vids) / len(vids))
        assert Path(face).is_file()


def test_clustering_quality_floor(warehouse, served):
    """The small version of `make bench`: fails when BCubed F falls under the floor."""
    db, _, _ = warehouse
    root, _, _ = served
    report = evaluate(root, faces_with_clusters(db))
    assert report.bcubed_f >= 0.95, report
    assert report.n_influencers == report.n_people
    assert report.n_unnamed_clusters == 0  # no cluster of faces the truth does not name
    assert report.videos_person_no_face == 0


def test_face_thumbnails_keep_their_colours(warehouse):
    """Thumbnails are written RGB-correct: the representative crop matches the frame pixels."""
    import numpy as np
    from PIL import Image

    db, _, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    path, _, fi, x1, y1, x2, y2 = con.execute(
        "select crop_path, source_url, frame_index, x1, y1, x2, y2 from raw.faces "
        "join raw.videos using (video_id) order by det_score desc limit 1"
    ).fetchone()
    con.close()
    crop = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    centre = crop[40:72, 40:72].reshape(-1, 3).mean(axis=0)  # the face, RGB
    import cv2

    cache = list(Path(path).parents[2].glob("cache/downloads/blobs/*"))
    assert cache
    for blob in cache:
        cap = cv2.VideoCapture(str(blob))
        cap.set(cv2.CAP_PROP_POS_FRAMES, fi)
        ok, bgr = cap.read()
        cap.release()
        if not ok:
            continue
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(float)
        cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2)
        half = int((x2 - x1) / 7)
        frame_centre = rgb[cy - half : cy + half, cx - half : cx + half].reshape(-1, 3).mean(axis=0)
        if np.abs(frame_centre - centre).max() < 20:
            # red and blue channels in the same order as the source
            assert np.sign(centre[0] - centre[2]) == np.sign(frame_centre[0] - frame_centre[2])
            return
    pytest.fail("no source frame matched the thumbnail's colours (colour swap?)")


def test_faceres_describes_the_sharpest_two_faces_of_every_track(warehouse):
    """faceres (apparent age, the veto's descriptor) ran on the two sharpest faces of each
    track, no fewer where the track has them, and on no other face: both NULL together."""
    db, _, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    tracks = con.execute(
        """
        select c.track_id, count(*) as n, count(f.age_years) as aged,
               count(f.faceres_descriptor) as described,
               min(f.sharpness) filter (where f.age_years is not null) as sharpest_min,
               max(f.sharpness) filter (where f.age_years is null) as rest_max
        from raw.faces f join raw.face_clusters c using (face_id)
        where c.track_id is not null group by 1
        """
    ).fetchall()
    lo, hi, n_aged, n = con.execute(
        "select min(age_years), max(age_years), count(age_years), count(*) from raw.faces"
    ).fetchone()
    con.close()
    assert len(tracks) > 5 and 0 < lo <= hi < 100 and 0 < n_aged < n
    for _, n_faces, aged, described, sharpest_min, rest_max in tracks:
        assert aged == described == min(2, n_faces)
        assert rest_max is None or rest_max <= sharpest_min


def test_described_faces_carry_a_unit_faceres_descriptor(warehouse):
    """The descriptor the veto compares is unit length where stored, and not one constant
    vector (two faces of different people differ)."""
    db, _, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "select faceres_descriptor from raw.faces where faceres_descriptor is not null"
    ).fetchall()
    con.close()
    import numpy as np

    x = np.array([r[0] for r in rows], dtype=np.float64)
    assert x.shape == (len(rows), 1024) and len(rows) > 0
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    assert (1 - x @ x.T).max() > 0.1


def readme_queries() -> list[str]:
    """The SQL blocks of the README's "Query the warehouse" section, as a user would paste them."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Query the warehouse", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0].strip() for block in section.split("```sql\n")[1:]]


def test_warehouse_opens_in_the_duckdb_1x_cli(warehouse):
    """The file users are told to query opens read-only in the DuckDB CLI 1.x from PyPI (`make
    duckdb-cli`), after ingest and dbt have both written it, and the README's queries run."""
    db, _, _ = warehouse
    cli = Path(os.environ.get("DUCKDB_CLI", ROOT / ".tools" / "duckdb-cli" / "bin" / "duckdb"))
    if not cli.is_file():
        pytest.fail(f"no DuckDB CLI at {cli}: run `make duckdb-cli` (make test does)")
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1."), version.stdout
    queries = readme_queries()
    assert len(queries) >= 3
    for query in queries:
        out = subprocess.run(
            [cli, "-readonly", "-csv", str(db), "-c", query],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0 and "Error" not in out.stderr, (query, out.stderr)
        assert len(out.stdout.strip().splitlines()) >= 2, (query, out.stdout)  # header + rows
