"""The embedder registry (ingest/embedders.py) is the one place that knows each embedder."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from ingest import embedders
from ingest.embedders import EMBEDDERS
from ingest.extract.embed import make_embedder, population_mean
from ingest.settings import ClusterSettings, EmbeddingSettings, Settings, cluster_settings_for


def test_dbt_vars_are_generated_from_the_registry():
    assert embedders.main([]) == 0, "run: python -m ingest.embedders --write"
    project = yaml.safe_load(embedders.DBT_PROJECT.read_text())
    assert project["vars"]["face_match_threshold"] == {
        s.name: s.face_match_threshold for s in EMBEDDERS.values()
    }


@pytest.mark.parametrize("name", list(EMBEDDERS))
def test_each_entry_builds_its_class_and_settings(name):
    spec = EMBEDDERS[name]
    model = make_embedder(dataclasses.replace(EmbeddingSettings(), embedder=name))
    assert (model.name, model.dim) == (name, spec.dim)  # built, not loaded: no weights needed
    mean = population_mean(name)  # None until estimated for a new embedder
    assert mean is None or mean.shape == (spec.dim,)
    cluster = cluster_settings_for(name)
    for key, value in spec.cluster.items():
        assert getattr(cluster, key) == value
    assert Settings().for_embedder(name).cluster == cluster


def test_an_unknown_embedder_says_which_exist():
    with pytest.raises(ValueError, match="use one of facenet, dlib, arcface"):
        embedders.spec("nope")


def test_with_overrides_sets_fields_by_name_and_keeps_none():
    s = Settings().with_overrides(
        embedder="dlib", cluster_threshold=0.4, frames_per_second=2.0, workers=None, device="cpu"
    )
    assert s.embedding.embedder == "dlib"
    assert s.cluster.cluster_threshold == 0.4
    assert s.cluster.track_threshold == cluster_settings_for("dlib").track_threshold
    assert s.sampling.frames_per_second == 2.0
    assert s.workers is None
    assert Settings().with_overrides().cluster == ClusterSettings()
    with pytest.raises(TypeError, match="no setting named"):
        Settings().with_overrides(clustr_threshold=0.4)
