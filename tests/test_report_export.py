"""reports/export_warehouse.py: the report's own copy of the marts, faces and data docs (fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pytest

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPORTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


export_warehouse = _load("export_warehouse")
fixture_warehouse = _load("fixture_warehouse")


@pytest.fixture()
def fixture_db(tmp_path, shared):
    return fixture_warehouse.build(tmp_path / "fx", shared / "faces")


def _run(tmp_path, db, root, data_docs=None):
    out = tmp_path / "site" / ".data" / "report.duckdb"
    static = tmp_path / "site" / "static"
    summary = export_warehouse.export(db, out, static, root, data_docs or tmp_path / "no_docs")
    return out, static, summary


def test_copies_marts_faces_and_docs(tmp_path, fixture_db):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.html").write_text("<p>results</p>")
    out, static, summary = _run(tmp_path, fixture_db, fixture_db.parent, docs)
    assert summary["missing"] == [] and summary["missing_faces"] == 0
    con = duckdb.connect(str(out), read_only=True)
    rows = con.execute(
        "select influencer_id, face_url, influencer_url from influencers order by influencer_id"
    ).fetchall()
    assert rows == [(i, f"/faces/{i}.jpg", f"/influencers/{i}") for i in fixture_warehouse.PEOPLE]
    assert con.execute("select count(*) from videos").fetchone()[0] == len(fixture_warehouse.VIDEOS)
    for i in fixture_warehouse.PEOPLE:
        assert (static / "faces" / f"{i}.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG
    assert (static / "data_docs" / "index.html").read_text() == "<p>results</p>"


def test_missing_tables_become_empty_tables_with_columns(tmp_path, fixture_db):
    con = duckdb.connect(str(fixture_db))
    con.execute("drop table quality.dbt_results")
    con.execute("drop table quality.gx_results")
    con.execute("drop table regression_metrics")
    con.close()
    out, static, summary = _run(tmp_path, fixture_db, fixture_db.parent)
    assert set(summary["missing"]) == {
        "quality.dbt_results",
        "quality.gx_results",
        "main.regression_metrics",
    }
    con = duckdb.connect(str(out), read_only=True)
    for table, column in [
        ("dbt_results", "status"),
        ("gx_results", "severity"),
        ("regression_metrics", "cv_r2"),
    ]:
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0
        cols = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        assert column in cols
    meta = con.execute("select missing_tables, has_data_docs from report_meta").fetchone()
    assert "quality.gx_results" in meta[0] and meta[1] is False
    assert "has not written" in (static / "data_docs" / "index.html").read_text()


def test_missing_face_gets_placeholder(tmp_path, fixture_db):
    (fixture_db.parent / "data" / "faces" / "George_Clooney.jpg").unlink()
    out, _static, summary = _run(tmp_path, fixture_db, fixture_db.parent)
    assert summary["missing_faces"] == 1
    url = (
        duckdb.connect(str(out), read_only=True)
        .execute("select face_url from influencers where influencer_id = 3")
        .fetchone()[0]
    )
    assert url == export_warehouse.MISSING_FACE_URL
    assert (REPORTS / "static" / url.lstrip("/")).is_file()


def test_cli_refuses_a_missing_warehouse(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        export_warehouse.main(
            ["--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path / "r.duckdb")]
        )
    assert exc.value.code == 2
    assert "make build" in capsys.readouterr().err
