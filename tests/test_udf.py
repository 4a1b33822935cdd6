"""The face UDFs (ingest/warehouse/udf.py) from SQL, on real photos and a real synthesized video."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import cv2
import duckdb
import numpy as np
import pytest
import yaml

from bench import OPT_IN
from bench.face_search import (
    ALWAYS,
    DBT_PROJECT,
    dbt_threshold,
    photo_vs_centroid,
    pick_threshold,
)
from ingest.settings import EmbedderName, Settings
from ingest.warehouse.sql_shell import statements
from ingest.warehouse.udf import FaceUdfWarning, read_rgb, register

ROOT = Path(__file__).resolve().parents[1]


# ---- pure parts (fast) -------------------------------------------------------------------


def test_statements_split_on_semicolons_outside_quotes():
    done, rest = statements(["select 1;", "select 'a;b'", "; select 2"])
    assert done == ["select 1", "select 'a;b'"]
    assert rest == "select 2"


def test_read_rgb_says_why(tmp_path: Path):
    assert read_rgb(str(tmp_path / "missing.jpg")) == (None, "file not found")
    (tmp_path / "text.jpg").write_text("not an image")
    img, why = read_rgb(str(tmp_path / "text.jpg"))
    assert img is None and why.startswith("not a readable image")


def test_photo_vs_centroid_and_threshold_rule():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    emb = np.concatenate([c + 0.3 * rng.normal(size=(4, 16)) for c in centres])
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    labels = np.repeat(np.array(["a", "b", "c"]), 4)
    same, strangers, best = photo_vs_centroid(emb, labels)
    assert same.shape == (12,) and strangers.shape == (12, 2)
    assert same.min() > best.max()  # well separated people
    t = pick_threshold(strangers, 0.0)
    assert t > strangers.max() and t - 0.01 <= strangers.max() + 1e-9
    assert pick_threshold(np.array([[0.2, 0.4]]), 0.5) == 0.21  # half may pass: 0.4 does


def test_dbt_threshold_is_the_calibrated_one():
    """The var the SQL uses is, for each embedder, the threshold docs/face_search.md derived."""
    doc = (ROOT / "docs" / "face_search.md").read_text()
    rows = re.findall(r"^\| (\w+) \| \d+ of \d+ \| \*\*([0-9.]+)\*\* \| ([^|]+) \|", doc, re.M)
    measured = {name for name, _, _ in rows}
    assert measured >= set(ALWAYS), doc
    for name in set(OPT_IN) - measured:  # measured only where its weights are installed
        assert f"| {name} | not measured" in doc, name
    for name, derived, words in rows:
        assert dbt_threshold(name) == pytest.approx(float(derived)), name
        assert "(matches)" in words, name


def test_dbt_var_has_a_threshold_for_every_embedder():
    """A missing key would leave that embedder's warehouses naming nobody."""
    var = yaml.safe_load(DBT_PROJECT.read_text())["vars"]["face_match_threshold"]
    assert set(var) == set(get_args(EmbedderName))


def test_dbt_threshold_per_embedder_or_one_for_all(tmp_path: Path):
    project = tmp_path / "dbt_project.yml"
    project.write_text("vars:\n  face_match_threshold: {facenet: 0.59, arcface: 0.25}\n")
    assert dbt_threshold("arcface", project) == 0.25
    assert dbt_threshold("dlib", project) is None
    project.write_text("vars:\n  face_match_threshold: 0.5\n")
    assert dbt_threshold("arcface", project) == 0.5


# ---- the real models (slow) --------------------------------------------------------------


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    register(c, embedder="facenet")
    yield c
    c.close()


@pytest.mark.slow
def test_a_persons_photos_are_nearer_each_other_than_strangers(con, shared):
    people = ["Andre_Agassi", "Gloria_Macapagal_Arroyo", "Jennifer_Aniston"]
    rows = con.execute(
        "select regexp_extract(file, '([^/]+)/[^/]+$', 1) as person, embed_face(file) as e "
        "from glob(?) where person in (select unnest(?)) "
        "qualify row_number() over (partition by person order by file) <= 4",
        [str(shared / "faces" / "*" / "*.jpg"), people],
    ).fetchall()
    assert len(rows) == 12 and all(e is not None for _, e in rows)
    labels = np.array([p for p, _ in rows])
    emb = np.asarray([e for _, e in rows], dtype=np.float32)
    assert emb.shape[1] == 512
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    sim = emb @ emb.T
    np.fill_diagonal(sim, -np.inf)
    nearest = labels[sim.argmax(axis=1)]
    assert (nearest == labels).all()
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    diff = labels[:, None] != labels[None, :]
    assert sim[same].mean() > sim[diff].mean() + 0.3


_FRESH_PROCESS = """
import sys, warnings
import duckdb, cv2, numpy as np
from ingest.warehouse.udf import register

warnings.simplefilter("ignore")
con = duckdb.connect()
# The progress bar stays on, as in a user's shell: the queries then run on DuckDB's threads.
register(con, embedder="facenet")  # torch is not even imported yet
photos, wall = sys.argv[1], sys.argv[2]
cv2.imwrite(wall, np.full((240, 320, 3), 128, np.uint8))
con.execute(f"select embed_face(file) from glob('{photos}') limit 12").fetchall()
one = con.execute(f"select min(file) from glob('{photos}')").fetchone()[0]
for _ in range(5):
    con.execute("select embed_face(?)", [wall]).fetchall()
    con.execute("select detect_faces(p) from (select unnest(?) as p)", [[wall, one]]).fetchall()
print("done")
"""


@pytest.mark.slow
def test_a_fresh_process_survives_duckdbs_threads(tmp_path: Path, shared):
    """A user's session: the first query starts torch on one of DuckDB's threads and later ones
    run on others. Without the UDF's own thread, most such runs died of a segfault."""
    photos = str(shared / "faces" / "Andre_Agassi" / "*.jpg")
    for _ in range(2):  # without it, four runs in five crashed here: two make a miss rare
        run = subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS, photos, str(tmp_path / "wall.png")],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        assert run.returncode == 0 and run.stdout.strip().endswith("done"), run.stderr[-3000:]


@pytest.mark.slow
def test_null_and_a_warning_naming_the_file(con, tmp_path: Path, shared):
    missing = tmp_path / "missing.jpg"
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 128, np.uint8))
    good = min((shared / "faces" / "Andre_Agassi").glob("*.jpg"))
    for path, reason in (
        (missing, "file not found"),
        (text, "not a readable image"),
        (blank, "no face found"),
    ):
        with pytest.warns(FaceUdfWarning, match=re.escape(f"embed_face('{path}'): {reason}")):
            assert con.execute("select embed_face(?)", [str(path)]).fetchone()[0] is None
    # one bad row does not fail the others
    with pytest.warns(FaceUdfWarning):
        got = con.execute(
            "select p, embed_face(p) is null from (select unnest(?) as p) order by p",
            [[str(good), str(missing), None]],
        ).fetchall()
    assert dict(got) == {str(good): False, str(missing): True, None: True}
    # detect_faces: every face; an empty list for no face, NULL for an unreadable file
    with pytest.warns(FaceUdfWarning, match="detect_faces"):
        faces = dict(
            con.execute(
                "select p, detect_faces(p) from (select unnest(?) as p)",
                [[str(good), str(blank), str(text)]],
            ).fetchall()
        )
    assert faces[str(blank)] == [] and faces[str(text)] is None
    (face,) = faces[str(good)]
    assert face["det_score"] >= Settings().detection.min_det_score
    assert 0 <= face["x1"] < face["x2"] <= 250 and len(face["embedding"]) == 512
    assert np.allclose(
        face["embedding"], con.execute("select embed_face(?)", [str(good)]).fetchone()[0]
    )


@pytest.mark.slow
def test_embed_face_equals_the_pipelines_embedding_of_the_same_face(con, shared, tmp_path):
    """A frame of a real (synthesized) video: the pipeline's stored embedding of its face and
    embed_face of the frame saved losslessly agree within 1e-4."""
    from ingest.demo.synth import SynthConfig, synthesize
    from ingest.extract.faces import extract_video
    from ingest.extract.video import iter_frames, probe

    synthesize(
        shared / "faces",
        tmp_path,
        SynthConfig(
            n_videos=1,
            n_identities=1,
            n_two_person=0,
            n_empty=0,
            seed=3,
            min_duration_s=2.0,
            max_duration_s=2.5,
        ),
    )
    video = next((tmp_path / "videos").iterdir())
    x = extract_video(video, Settings(cache_dir=tmp_path / "c", faces_dir=tmp_path / "f"))
    frames, counts = np.unique(x.faces.frame_index, return_counts=True)
    single = frames[counts == 1]
    assert len(single) >= 2
    meta = probe(video)
    checked = 0
    for frame in iter_frames(video, single[:3], meta.fps):
        png = tmp_path / f"frame_{frame.index}.png"
        cv2.imwrite(str(png), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
        got = np.asarray(con.execute("select embed_face(?)", [str(png)]).fetchone()[0])
        stored = x.faces.embeddings[x.faces.frame_index == frame.index][0]
        assert np.abs(got - stored).max() < 1e-4
        checked += 1
    assert checked == len(single[:3])
