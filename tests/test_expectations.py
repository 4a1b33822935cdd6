"""GX suites (expectations/) over the fixture warehouse: clean passes, each corruption bites."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from expectations.cli import main as gx_main
from expectations.dbt_results import parse_run_results
from expectations.runner import describe_observed, validate

try:
    from tests import warehouse_fixture as wf
except ImportError:
    import warehouse_fixture as wf


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wf.built_warehouse(tmp_path_factory.getbasetemp())


def _failed(results: pd.DataFrame) -> pd.DataFrame:
    return results[~results["success"]]


def test_clean_warehouse_passes_with_one_documented_warning(built: Path, tmp_path: Path):
    db = wf.copy_warehouse(built, tmp_path)
    outcome = validate(str(db))
    assert len(outcome.results) > 40
    assert outcome.failures.empty, outcome.failures.to_dict("records")
    # v_f: an ok video whose faces are all cluster -1 -> warning, not failure
    warnings = outcome.warnings
    assert len(warnings) == 1
    assert warnings.iloc[0]["column_name"] == "n_influencers"
    assert "v_f" in warnings.iloc[0]["observed"]
    # GX's own severities: its default, critical, everywhere but on that one expectation
    assert outcome.results["severity"].value_counts().to_dict() == {
        "critical": len(outcome.results) - 1,
        "warning": 1,
    }


def test_cli_stores_results_and_writes_an_offline_page(built: Path, tmp_path: Path, capsys):
    db = wf.copy_warehouse(built, tmp_path)
    docs = tmp_path / "docs"
    rc = gx_main(
        [
            "--db",
            str(db),
            "--dbt-run-results",
            str(built / "target" / "run_results.json"),
            "--docs-dir",
            str(docs),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "0 failed, 1 warnings" in out
    gx_rows = wf.query(db, "select * from quality.gx_results")
    assert {
        "suite",
        "table_name",
        "expectation",
        "column_name",
        "success",
        "observed",
        "run_at",
    } <= set(gx_rows.columns)
    assert set(gx_rows["suite"]) == {"raw", "marts"}
    dbt_rows = wf.query(db, "select * from quality.dbt_results")
    assert {"unique_id", "resource_type", "status", "message", "failures"} <= set(dbt_rows.columns)
    assert {"model", "test", "unit_test", "seed"} <= set(dbt_rows["resource_type"])
    page = (docs / "index.html").read_text()
    assert "expect_column_values_to_be_unique" in page and "dbt build" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_parse_run_results(built: Path):
    frame = parse_run_results(built / "target" / "run_results.json")
    assert frame["unique_id"].is_unique
    assert set(frame["status"]) <= {"success", "pass"}
    assert (frame["resource_type"] == "model").sum() == 33


CORRUPTIONS = {
    # name: (SQL on the raw tables ingest.warehouse.store wrote, table, column, expectation)
    "duplicate video id": (
        [
            # same URL twice, unsuffixed id: only a table without ingest's primary key takes it
            "create or replace table raw.videos as select * from raw.videos",
            "insert into raw.videos select * replace (8 as row_number) from raw.videos "
            "where video_id = 'v_a'",
        ],
        "raw.videos",
        "video_id",
        "expect_column_values_to_be_unique",
    ),
    "det_score 1.5": (
        ["update raw.faces set det_score = 1.5 where face_id = 'v_a_f3_0'"],
        "raw.faces",
        "det_score",
        "expect_column_values_to_be_between",
    ),
    "embedding not unit norm": (
        [
            "update raw.faces set embedding = [2 * x for x in embedding::float[]]"
            f"::float[{wf.EMBEDDING_DIM}] where face_id = 'v_b_f0_0'"
        ],
        "raw.faces",
        "embedding_norm",
        "expect_column_values_to_be_between",
    ),
    "box past the right edge": (
        ["update raw.faces set x2 = 1280 + 50.0 where face_id = 'v_c_f0_0'"],
        "raw.faces",
        "right_overhang_px",
        "expect_column_values_to_be_between",
    ),
    "unknown status": (
        ["update raw.videos set status = 'exploded', error = 'boom' where video_id = 'v_g'"],
        "raw.videos",
        "status",
        "expect_column_values_to_be_in_set",
    ),
    "ok video without a numeric score": (
        ["update raw.videos set performance_score = null where video_id = 'v_a'"],
        "raw.videos",
        "performance_score",
        "expect_column_values_to_not_be_null",
    ),
    "cluster id 0": (
        ["update raw.face_clusters set cluster_id = 0 where face_id = 'v_a_f0_0'"],
        "raw.face_clusters",
        "cluster_id",
        "expect_column_values_to_not_be_in_set",
    ),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_raw_suite_catches(name: str, tmp_path: Path):
    corruption, table, column, expectation = CORRUPTIONS[name]
    db = wf.write_raw(tmp_path / "warehouse.duckdb", *corruption)
    failed = _failed(validate(str(db), ["raw"]).results)
    hits = failed[
        (failed["table_name"] == table)
        & (failed["column_name"] == column)
        & (failed["expectation"] == expectation)
    ]
    assert len(hits) == 1, failed[["table_name", "column_name", "expectation", "observed"]]
    assert len(failed) == 1, failed[["table_name", "column_name", "expectation", "observed"]]


def test_embedding_length_must_be_128_or_512(tmp_path: Path):
    db = wf.write_raw(tmp_path / "warehouse.duckdb")
    wf.execute(
        db,
        "alter table raw.faces alter embedding type float[]",
        "update raw.faces set embedding = embedding[1:64] where face_id = 'v_a_f0_0'",
    )
    failed = _failed(validate(str(db), ["raw"]).results)
    assert failed["column_name"].tolist() == ["embedding_length", "embedding_norm"], failed


def test_mart_suite_catches_avg_outside_min_max_and_cli_exits_nonzero(
    built: Path, tmp_path: Path, capsys
):
    db = wf.copy_warehouse(built, tmp_path)
    wf.execute(
        db,
        "update main.influencers set avg_performance = max_performance + 1 where influencer_id = 2",
    )
    rc = gx_main(["--db", str(db), "--suite", "marts", "--docs-dir", str(tmp_path / "docs")])
    assert rc == 1
    out = capsys.readouterr().out
    assert "FAILED suite=marts table=main.influencers" in out
    assert "column=max_minus_avg" in out and "observed: 1 of 2 rows unexpected" in out
    assert re.search(r'"influencer_id": "?2"?', out), out
    stored = wf.query(db, "select * from quality.gx_results where not success")
    assert set(stored["column_name"]) == {"max_minus_avg", "n_influencers"}


def test_missing_mart_is_a_failure_not_a_crash(tmp_path: Path):
    db = wf.write_raw(tmp_path / "warehouse.duckdb")  # raw only, dbt never ran
    failed = _failed(validate(str(db), ["marts"]).results)
    assert len(failed) > 0 and failed["observed"].str.startswith("could not read").all()


def test_describe_observed():
    assert describe_observed({"observed_value": 3}) == "3"
    text = describe_observed(
        {"unexpected_count": 2, "element_count": 9, "partial_unexpected_list": [1.5, 2.0]}
    )
    assert text == "2 of 9 rows unexpected, e.g. [1.5, 2.0]"
    assert json.loads(describe_observed({"observed_value": [1, 2]})) == [1, 2]
    # The page shows words, never null, NaN or None (#48).
    for value in (None, float("nan"), float("inf")):
        text = describe_observed({"observed_value": value})
        assert not {"null", "NaN", "nan", "None", "Infinity", "inf"} & set(text.split()), text
    assert "None" not in describe_observed({"unexpected_count": 0, "element_count": None})
