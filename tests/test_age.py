"""The apparent-age model (ingest/age.py): the real faceres weights on real photos, and its
graph runner's refusals."""

import json

import cv2
import numpy as np
import pytest

from ingest.age import AgeEstimator, expected_age, load_graph, run_graph
from ingest.detect import MtcnnDetector
from ingest.embed import EmbedderUnavailable
from ingest.settings import DetectionSettings, EmbeddingSettings


def test_expected_age_is_the_mean_of_the_softmax_over_years():
    probs = np.zeros((2, 100), np.float32)
    probs[0, 30] = 1.0
    probs[1, [10, 50]] = 0.5
    assert expected_age(probs).tolist() == [30.0, 30.0]


def test_missing_model_is_a_clear_error(tmp_path):
    est = AgeEstimator(str(tmp_path / "nowhere"))
    with pytest.raises(EmbedderUnavailable, match="make models.*AGE_MODEL_DIR"):
        est.estimate(np.zeros((64, 64, 3), np.uint8), np.array([[8, 8, 56, 56]], np.float32))
    # no faces, no model needed
    assert est.estimate(np.zeros((64, 64, 3), np.uint8), np.zeros((0, 4), np.float32)).shape == (0,)


def test_graph_runner_refuses_an_op_it_does_not_know(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"")
    spec = {"modelTopology": {"node": [{"name": "input_1", "op": "Placeholder"},
                                       {"name": "y", "op": "Tanh", "input": ["input_1"]}]},
            "weightsManifest": [{"paths": ["w.bin"], "weights": []}]}  # fmt: skip
    (tmp_path / "m.json").write_text(json.dumps(spec))
    import torch

    with pytest.raises(ValueError, match="op Tanh"):
        run_graph(load_graph(tmp_path / "m.json"), torch.zeros(1, 3, 4, 4), ("y",))


@pytest.mark.slow
def test_faceres_tells_a_young_woman_from_an_old_man(shared):
    """Real weights (installed by `make models`) on ../shared/faces: median apparent ages of
    Scarlett Johansson (photos at about 20) and Hans Blix (about 75) land decades apart, and
    photos of one person agree better than that (though not by much: Blix reads 44-65)."""
    det = MtcnnDetector(DetectionSettings())
    est = AgeEstimator(EmbeddingSettings().age_model_dir)
    med = {}
    for who in ("Scarlett_Johansson", "Hans_Blix"):
        ages = []
        for path in sorted((shared / "faces" / who).glob("*.jpg"))[:8]:
            img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            d = max(det.detect([img], 960)[0], key=lambda d: d.score)
            ages.append(float(est.estimate(img, d.box[None])[0]))
        med[who] = np.median(ages)
        assert np.percentile(ages, 90) - np.percentile(ages, 10) < 20, (who, ages)
    assert 18 <= med["Scarlett_Johansson"] <= 40
    assert med["Hans_Blix"] - med["Scarlett_Johansson"] > 20, med
