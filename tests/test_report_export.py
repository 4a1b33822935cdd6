"""reports/export_warehouse.py: the report's own copy of the marts, faces and data docs.

The warehouse is reports/fixture_warehouse.py's (ingest.warehouse.store, then the real dbt build and
checks), built once per session (conftest.report_warehouse); each test works on a copy."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from expectations.dbt_results import DBT_COLUMNS
from expectations.runner import RESULT_COLUMNS
from ingest.warehouse import schema as warehouse_schema

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPORTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


export_warehouse = _load("export_warehouse")
fixture_warehouse = _load("fixture_warehouse")


@pytest.fixture()
def fixture_db(tmp_path: Path, report_warehouse: Path) -> Path:
    root = tmp_path / "fx"
    shutil.copytree(report_warehouse, root, ignore=shutil.ignore_patterns("dbt_project"))
    return root / "warehouse.duckdb"


@pytest.fixture()
def manifest(report_warehouse: Path) -> Path:
    return fixture_warehouse.manifest(report_warehouse)


def _run(tmp_path, db, root, manifest, data_docs=None):
    out = tmp_path / "site" / ".data" / "report.duckdb"
    static = tmp_path / "site" / "static"
    summary = export_warehouse.export(
        db, out, static, root, data_docs or tmp_path / "no_docs", manifest
    )
    return out, static, summary


def _columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe {table}").fetchall()]


def test_copies_marts_faces_and_docs(tmp_path, fixture_db, manifest):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.html").write_text("<p>results</p>")
    out, static, summary = _run(tmp_path, fixture_db, fixture_db.parent, manifest, docs)
    assert summary["missing"] == [] and summary["missing_columns"] == []
    assert summary["missing_faces"] == 0
    con = duckdb.connect(str(out), read_only=True)
    rows = con.execute(
        "select influencer_id, face_url, influencer_url from influencers order by influencer_id"
    ).fetchall()
    assert rows == [(i, f"/faces/{i}.jpg", f"/influencers/{i}") for i in fixture_warehouse.PEOPLE]
    assert con.execute("select count(*) from videos").fetchone()[0] == len(fixture_warehouse.VIDEOS)
    names = [
        r[0] for r in con.execute("select influencer_name from influencers order by 1").fetchall()
    ]
    assert names == sorted(fixture_warehouse.EXPECTED_NAMES)
    for i in fixture_warehouse.PEOPLE:
        assert (static / "faces" / f"{i}.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG
    # One thumbnail per video with a face (its largest face's crop), shrunk; none without.
    thumbs = con.execute(
        "select video_id, thumbnail_url, n_faces from videos order by row_number"
    ).fetchall()
    for vid, url, n_faces in thumbs:
        if n_faces:
            assert url == f"/thumbs/{vid}.jpg"
            with Image.open(static / "thumbs" / f"{vid}.jpg") as im:
                assert im.format == "JPEG" and max(im.size) <= export_warehouse.THUMB_PX
        else:
            assert url is None
    with Image.open(static / "faces" / "1.jpg") as im:
        assert max(im.size) <= export_warehouse.FACE_PX
    # the contact sheets' faces are shrunk too: a thousand videos ship a thousand of them
    sheet = [
        r[0] for r in con.execute("select distinct face_url from influencer_video_faces").fetchall()
    ]
    assert sheet and all(u.startswith("/faces/c/") and u.endswith(".jpg") for u in sheet)
    for url in sheet:
        with Image.open(static / url.lstrip("/")) as im:
            assert im.format == "JPEG" and max(im.size) <= export_warehouse.FACE_PX
    assert (static / "data_docs" / "index.html").read_text() == "<p>results</p>"
    statuses = {r[0] for r in con.execute("select distinct status from dbt_results").fetchall()}
    assert statuses == {"success", "pass"}  # the fixture's own dbt build, as the checks stored it
    assert con.execute("select count(*) from gx_results where not success").fetchone()[0] == 1


def test_report_tables_are_the_marts_the_manifest_declares(tmp_path, fixture_db, manifest):
    out, _static, _summary = _run(tmp_path, fixture_db, fixture_db.parent, manifest)
    marts = warehouse_schema.marts(warehouse_schema.load(manifest))
    assert {m.name for m in marts} >= {"influencers", "videos", "regression_metrics"}
    con = duckdb.connect(str(out), read_only=True)
    for mart in marts:
        expected = [
            # arrays (the centroid) travel as text: Evidence cannot carry them
            (c.name, c.data_type.upper() if c.data_type else "VARCHAR")
            for c in mart.columns
        ]
        if mart.name == "influencers":
            expected += [("face_url", "VARCHAR"), ("influencer_url", "VARCHAR")]
        if mart.name == "videos":
            expected += [("thumbnail_url", "VARCHAR")]
        if mart.name == "influencer_video_faces":
            expected += [("face_url", "VARCHAR")]
        if mart.name == "review_suggestions":
            expected += [("face_url", "VARCHAR"), ("other_face_url", "VARCHAR")]
        assert _columns(con, mart.name) == expected, mart.name


def test_missing_tables_become_empty_tables_with_columns(tmp_path, fixture_db, manifest):
    con = duckdb.connect(str(fixture_db))
    con.execute("drop table quality.dbt_results")
    con.execute("drop table quality.gx_results")
    con.execute("drop table regression_metrics")
    con.close()
    out, static, summary = _run(tmp_path, fixture_db, fixture_db.parent, manifest)
    assert set(summary["missing"]) == {
        "quality.dbt_results",
        "quality.gx_results",
        "main.regression_metrics",
    }
    declared = next(
        m
        for m in warehouse_schema.marts(warehouse_schema.load(manifest))
        if m.name == "regression_metrics"
    )
    con = duckdb.connect(str(out), read_only=True)
    assert _columns(con, "regression_metrics") == [
        (c.name, c.data_type.upper()) for c in declared.columns
    ]
    for table, columns in [("dbt_results", DBT_COLUMNS), ("gx_results", RESULT_COLUMNS)]:
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0
        assert [c for c, _ in _columns(con, table)] == columns
    assert con.execute("select count(*) from regression_metrics").fetchone()[0] == 0
    meta = con.execute("select missing_tables, has_data_docs from report_meta").fetchone()
    assert "quality.gx_results" in meta[0] and meta[1] is False
    assert "has not written" in (static / "data_docs" / "index.html").read_text()


def test_a_declared_column_an_older_warehouse_lacks_is_null(tmp_path, fixture_db, manifest):
    con = duckdb.connect(str(fixture_db))
    con.execute("alter table main.videos drop column decoded_share")
    con.close()
    out, _static, summary = _run(tmp_path, fixture_db, fixture_db.parent, manifest)
    assert summary["missing_columns"] == ["main.videos.decoded_share"]
    con = duckdb.connect(str(out), read_only=True)
    assert ("decoded_share", "DOUBLE") in _columns(con, "videos")
    assert con.execute("select count(decoded_share), count(*) from videos").fetchone() == (
        0,
        len(fixture_warehouse.VIDEOS),
    )


def test_missing_face_gets_placeholder(tmp_path, fixture_db, manifest):
    con = duckdb.connect(str(fixture_db), read_only=True)
    (face,) = con.execute(
        "select representative_face_path from influencers where influencer_id = 3"
    ).fetchone()
    con.close()
    (fixture_db.parent / face).unlink()
    out, _static, summary = _run(tmp_path, fixture_db, fixture_db.parent, manifest)
    assert summary["missing_faces"] == 1
    url = (
        duckdb.connect(str(out), read_only=True)
        .execute("select face_url from influencers where influencer_id = 3")
        .fetchone()[0]
    )
    assert url == export_warehouse.MISSING_FACE_URL
    assert (REPORTS / "static" / url.lstrip("/")).is_file()


def test_quality_stand_ins_have_the_checks_stage_columns():
    assert [c for c, _ in export_warehouse.QUALITY_TABLES["dbt_results"]] == DBT_COLUMNS
    assert [c for c, _ in export_warehouse.QUALITY_TABLES["gx_results"]] == RESULT_COLUMNS


def test_cli_refuses_a_missing_warehouse(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        export_warehouse.main(
            ["--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path / "r.duckdb")]
        )
    assert exc.value.code == 2
    assert "make build" in capsys.readouterr().err


@pytest.mark.parametrize("table", ["review_suggestions", "influencer_video_faces"])
def test_a_source_with_nothing_to_show_still_loads(tmp_path, fixture_db, manifest, table):
    """Evidence cannot load a source with no rows (the demo build stopped on an empty "Check
    these" table): the source sends one all-null row, which the pages skip."""
    con = duckdb.connect(str(fixture_db))
    con.execute(f"delete from {table}")
    con.close()
    out, _static, _summary = _run(tmp_path, fixture_db, fixture_db.parent, manifest)
    con = duckdb.connect(str(out), read_only=True)
    source = (REPORTS / "sources" / "warehouse" / f"{table}.sql").read_text()
    rows = con.execute(source).fetchall()
    assert len(rows) == 1 and all(v is None for v in rows[0])
    full = con.execute(f"select count(*) from {table}").fetchone()[0]
    assert full == 0  # and a table with rows sends them as they are (the browser tests)
