"""dbt with the face UDF plugin on the fixture warehouse (tests/warehouse_fixture.py): the
centroid mart, and no known_people folder meaning no names and no face model loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.face_search import dbt_threshold

try:
    from tests import warehouse_fixture as wf
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import warehouse_fixture as wf


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wf.built_warehouse(tmp_path_factory.getbasetemp()) / "warehouse.duckdb"


def test_centroid_is_the_unit_mean_of_the_influencers_faces(db: Path):
    faces = wf.query(
        db,
        "select c.cluster_id, f.embedding from raw.faces f "
        "join raw.face_clusters c using (face_id) where c.cluster_id >= 1",
    )
    marts = wf.query(
        db,
        "select influencer_id, embedder, n_faces, centroid, typeof(centroid) t, "
        "same_person_threshold from main.influencer_embeddings",
    )
    assert sorted(marts["influencer_id"]) == [1, 2]
    for row in marts.itertuples():
        emb = np.stack(faces.loc[faces["cluster_id"] == row.influencer_id, "embedding"].to_list())
        mean = emb.mean(axis=0)
        np.testing.assert_allclose(row.centroid, mean / np.linalg.norm(mean), atol=1e-6)
        assert row.n_faces == len(emb) and row.embedder == "dlib"
        assert row.t == f"FLOAT[{wf.EMBEDDING_DIM}]"  # the warehouse's own size, here dlib's
        assert row.same_person_threshold == pytest.approx(dbt_threshold("dlib"))


def test_no_known_people_folder_means_no_names(db: Path):
    rows = wf.query(
        db, "select influencer_id, influencer_name, suggested_name from main.influencers"
    )
    assert rows["suggested_name"].isna().all()
    assert (rows["influencer_name"] == "Person " + rows["influencer_id"].astype(str)).all()
    assert (
        wf.query(db, "select count(*) n from intermediate.int_known_photos_embedded")["n"][0] == 0
    )


def test_models_can_call_the_udfs(db: Path, tmp_path: Path):
    """A dbt model's SQL (dbt show) calls embed_face and detect_faces through the plugin, at
    the warehouse's size; a missing file is NULL, not an error."""
    copy = wf.copy_warehouse(db.parent, tmp_path)
    result = wf.run_dbt(
        copy,
        tmp_path,
        "show",
        "--inline",
        "select typeof(embed_face('missing.jpg')) t, embed_face('missing.jpg') is null n, "
        "detect_faces('missing.jpg') is null d",
        check=True,
    )
    assert f"FLOAT[{wf.EMBEDDING_DIM}]" in result.stdout and "true" in result.stdout.lower()
