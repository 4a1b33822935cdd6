"""The real dbt project against the fixture warehouse (tests/warehouse_fixture.py).

One ``dbt build`` per session (~10 s); every expected number below is computed by hand from
the fixture table in warehouse_fixture's docstring.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.warehouse import schema as warehouse_schema

try:
    from tests import warehouse_fixture as wf
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import warehouse_fixture as wf

T90_DF1 = 6.313752  # Student t, 0.95 quantile, 1 df (scipy.stats.t.ppf(0.95, 1))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wf.built_warehouse(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def db(built: Path) -> Path:
    return built / "warehouse.duckdb"


def _by(frame, key):
    return frame.set_index(key).to_dict("index")


def test_build_ran_models_tests_and_unit_tests(built: Path):
    results = json.loads((built / "target" / "run_results.json").read_text())["results"]
    kinds: dict[str, int] = {}
    for result in results:
        assert result["status"] in ("success", "pass"), result
        kind = result["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["model"] == 33
    assert kinds["unit_test"] >= 7
    assert kinds["test"] >= 60


def test_marts_are_built_as_their_yml_declares(built: Path, db: Path):
    """Columns, order and types of every mart are the ones its .yml declares (read from the
    build's manifest, not listed here)."""
    marts = wf.marts(built)
    assert {m.name for m in marts} >= {"influencers", "influencer_videos", "videos"}
    for mart in marts:
        actual = wf.query(
            db,
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = '{mart.schema}' and table_name = '{mart.name}' "
            "order by ordinal_position",
        )
        assert actual["column_name"].tolist() == [c.name for c in mart.columns], mart.name
        for column, data_type in zip(mart.columns, actual["data_type"]):
            if column.data_type is not None:
                assert data_type == column.data_type.upper(), (mart.name, column.name)
    schemas = set(
        wf.query(db, "select distinct table_schema from information_schema.tables")["table_schema"]
    )
    assert {"raw", "staging", "intermediate", "main"} <= schemas


def test_every_mart_column_has_a_type_and_sql_marts_a_contract(built: Path):
    for mart in wf.marts(built):
        untyped = [c.name for c in mart.columns if c.data_type is None]
        # centroid: FLOAT[512] or FLOAT[128] by embedder, the one column with no fixed type
        assert untyped == (["centroid"] if mart.name == "influencer_embeddings" else []), mart
        assert all(c.description for c in mart.columns), mart.name
    contracted = {m.name for m in wf.marts(built) if m.contract}
    # all but the Python model (dbt cannot enforce a contract there) and influencer_embeddings
    assert contracted == {m.name for m in wf.marts(built)} - {
        "regression_fit",
        "what_works_comparisons",
        "what_works_coefficients",
        "influencer_embeddings",
    }


def test_a_yml_that_disagrees_with_the_table_fails_the_build(built: Path, tmp_path: Path):
    """Both guards bite: the enforced contract (SQL) and matches_declared_columns (Python)."""
    db = wf.copy_warehouse(built, tmp_path)
    project = tmp_path / "dbt_project"
    shutil.copytree(
        warehouse_schema.DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    for yml, old, new in [
        (
            "videos.yml",
            "      - name: fps\n        data_type: double",
            "      - name: fps\n        data_type: float",
        ),
        (
            "regression/regression_fit.yml",
            "      - name: cv_r2\n        data_type: double",
            "      - name: cv_r2\n        data_type: float",
        ),
    ]:
        path = project / "models" / "marts" / yml
        text = path.read_text()
        assert old in text, yml
        path.write_text(text.replace(old, new))
    result = warehouse_schema.run_dbt(
        "build",
        "--select",
        "videos",
        "regression_fit",
        "--exclude",
        "test_type:unit",
        db=db,
        project_dir=project,
    )
    assert result.returncode != 0
    assert "This model has an enforced contract that failed" in result.stdout
    assert "| fps " in result.stdout and "data type mismatch" in result.stdout
    failed = _failed_tests(project)
    assert len(failed) == 1, failed
    assert "matches_declared_columns_regression_fit" in next(iter(failed)), failed


def test_influencer_averages_are_per_video_not_per_face(db: Path):
    rows = _by(wf.query(db, "select * from main.influencers"), "influencer_id")
    assert set(rows) == {1, 2}  # cluster -1 is nobody
    one, two = rows[1], rows[2]
    # influencer 1: v_a (10 faces, score 1.0) and v_b (1 face, 3.0) -> 2.0, not 13/11
    assert one["avg_performance"] == pytest.approx(2.0)
    assert one["n_videos"] == 2 and one["n_faces"] == 11
    assert one["median_performance"] == pytest.approx(2.0)
    assert one["std_performance"] == pytest.approx(2**0.5)
    assert (one["min_performance"], one["max_performance"]) == (1.0, 3.0)
    # t-interval, n = 2: mean +- t(0.95, 1) * s / sqrt(2) = 2 +- t
    assert one["ci90_low"] == pytest.approx(2.0 - T90_DF1, abs=1e-5)
    assert one["ci90_high"] == pytest.approx(2.0 + T90_DF1, abs=1e-5)
    assert two["avg_performance"] == pytest.approx(4.0)


def test_on_screen_time_and_share(db: Path):
    rows = _by(wf.query(db, "select * from main.influencers"), "influencer_id")
    # influencer 1: 10 frames * 1 s in v_a + 1 frame * 1 s in v_b = 11 s of 10 + 4 s
    assert rows[1]["seconds_on_screen"] == pytest.approx(11.0)
    assert rows[1]["screen_share"] == pytest.approx(11 / 14)
    # influencer 2: 2 frames * 1 s in v_b + 1 frame * 0.5 s in v_c = 2.5 s of 4 + 5 s
    assert rows[2]["seconds_on_screen"] == pytest.approx(2.5)
    assert rows[2]["screen_share"] == pytest.approx(2.5 / 9)


def test_empirical_bayes_shrinkage_and_rank(db: Path):
    rows = _by(wf.query(db, "select * from main.influencers"), "influencer_id")
    # prior mean over distinct videos v_a, v_b, v_c = 3; pooled within variance 2;
    # var of means (2, 4) = 2, minus 2 * mean(1/2) -> between 1;
    # shrunk = 3 + 1 * (avg - 3) / (1 + 2 / 2)
    assert rows[1]["shrunk_avg_performance"] == pytest.approx(2.5)
    assert rows[2]["shrunk_avg_performance"] == pytest.approx(3.5)
    assert rows[2]["performance_rank"] == 1 and rows[1]["performance_rank"] == 2
    assert rows[1]["prior_mean_performance"] == pytest.approx(3.0)


def test_representative_face_and_first_last_video(db: Path):
    rows = _by(wf.query(db, "select * from main.influencers"), "influencer_id")
    assert rows[1]["representative_face_id"] == "v_a_f9_0"  # similarity 0.89
    # v_b_f1_0 and v_c_f0_0 tie on similarity 0.92: higher det_score wins
    assert rows[2]["representative_face_id"] == "v_c_f0_0"
    assert rows[2]["representative_face_path"] == f"{db.parent}/crops/v_c/v_c_f0_0.jpg"
    assert (rows[1]["first_video_id"], rows[1]["last_video_id"]) == ("v_a", "v_b")
    assert (rows[2]["first_video_id"], rows[2]["last_video_id"]) == ("v_b", "v_c")


def test_influencer_videos_roles_and_counts(db: Path):
    frame = wf.query(db, "select * from main.influencer_videos")
    rows = {(r.influencer_id, r.video_id): r for r in frame.itertuples()}
    assert set(rows) == {(1, "v_a"), (1, "v_b"), (2, "v_b"), (2, "v_c")}
    assert rows[(2, "v_b")].role == "lead" and rows[(1, "v_b")].role == "co-star"
    assert rows[(1, "v_a")].n_faces == 10 and rows[(1, "v_a")].seconds_on_screen == 10.0
    # face box 600 px tall in a 1280 px frame
    assert rows[(2, "v_b")].face_height_ratio == pytest.approx(600 / 1280)


def test_videos_mart(db: Path):
    rows = _by(wf.query(db, "select * from main.videos"), "video_id")
    assert len(rows) == 7
    assert rows["v_a"]["orientation"] == "horizontal"
    assert rows["v_b"]["orientation"] == "vertical"
    assert rows["v_f"]["orientation"] == "square"
    assert rows["v_d"]["orientation"] is None
    assert rows["v_b"]["n_influencers"] == 2 and rows["v_b"]["lead_influencer_id"] == 2
    assert rows["v_f"]["n_influencers"] == 0 and rows["v_f"]["n_unassigned_faces"] == 2
    assert rows["v_e"]["status"] == "rejected"


def test_regression_features_and_small_data_note(db: Path):
    features = _by(wf.query(db, "select * from main.regression_features"), "video_id")
    assert set(features) == {"v_a", "v_b", "v_c", "v_f", "v_g"}  # ok/no_faces with a score
    # leave-one-out: the lead's other videos only
    assert features["v_a"]["lead_loo_mean"] == pytest.approx(3.0)  # influencer 1: v_b
    assert features["v_b"]["lead_loo_mean"] == pytest.approx(5.0)  # influencer 2: v_c
    assert features["v_c"]["lead_loo_mean"] == pytest.approx(3.0)  # influencer 2: v_b
    assert features["v_b"]["is_vertical"] == 1
    metrics = wf.query(db, "select * from main.regression_metrics")
    assert sorted(metrics["model"]) == ["baseline", "model"]
    assert metrics["cv_r2"].isna().all()
    assert metrics["note"].str.startswith("not fitted: 5 videos").all()
    results = wf.query(db, "select * from main.regression_results")
    assert len(results) == 5 and results["predicted"].isna().all()


def test_regression_fits_when_enough_videos(built: Path, tmp_path: Path):
    db = wf.copy_warehouse(built, tmp_path)
    result = wf.run_dbt(
        db,
        tmp_path,
        "run",
        "--select",
        "regression_fit+",
        "--vars",
        "{regression_min_videos: 4, regression_k_folds: 2}",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    results = wf.query(db, "select * from main.regression_results")
    assert results["predicted"].notna().all() and set(results["fold"]) == {1, 2}
    metrics = _by(wf.query(db, "select * from main.regression_metrics"), "model")
    assert metrics["model"]["n_folds"] == 2 and metrics["model"]["cv_mae"] >= 0
    assert "small sample" in metrics["model"]["note"]
    coefficients = wf.query(db, "select * from main.regression_coefficients")
    assert coefficients["coefficient"].notna().all()


def _failed_tests(work_dir: Path) -> dict[str, int]:
    results = json.loads((work_dir / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["failures"] for r in results if r["status"] == "fail"}


def test_source_tests_catch_duplicate_ids_and_bad_scores(built: Path, tmp_path: Path):
    db = wf.copy_warehouse(built, tmp_path)
    wf.execute(
        db,
        "create table raw.faces_copy as select * from raw.faces",
        "insert into raw.faces_copy select * from raw.faces where face_id = 'v_c_f0_0'",
        "update raw.faces_copy set det_score = 1.5 where face_id = 'v_a_f3_0'",
        "drop table raw.faces",
        "alter table raw.faces_copy rename to faces",
        "update raw.videos set status = 'exploded' where video_id = 'v_g'",
    )
    result = wf.run_dbt(db, tmp_path, "test", "--select", "source:raw")
    assert result.returncode != 0
    failed = _failed_tests(tmp_path)
    assert any("source_unique_raw_faces_face_id" in t for t in failed), failed
    assert any("is_between_raw_faces_det_score" in t for t in failed), failed
    assert any("accepted_values_raw_videos_status" in t for t in failed), failed
    assert len(failed) == 3, failed


def test_mart_tests_catch_an_average_outside_min_max(built: Path, tmp_path: Path):
    db = wf.copy_warehouse(built, tmp_path)
    wf.execute(
        db,
        "update main.influencers set avg_performance = max_performance + 1 where influencer_id = 1",
        "update main.influencer_videos set screen_share = 1.5 where video_id = 'v_a'",
    )
    result = wf.run_dbt(
        db,
        tmp_path,
        "test",
        "--select",
        "influencers",
        "influencer_videos",
        "--exclude",
        "test_type:unit",
    )
    assert result.returncode != 0
    failed = _failed_tests(tmp_path)
    assert any("expression_is_true_influencers_avg_performance_between" in t for t in failed), (
        failed
    )
    assert any("is_between_influencer_videos_screen_share" in t for t in failed), failed
