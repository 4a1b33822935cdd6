"""The faceres model (ingest/extract/age.py): apparent age and descriptor from the real weights on real
photos, and its graph runner's refusals."""

import json

import cv2
import numpy as np
import pytest

from ingest.extract.age import DESCRIPTOR_DIM, AgeEstimator, expected_age, load_graph, run_graph
from ingest.extract.detect import MtcnnDetector
from ingest.extract.embed import EmbedderUnavailable
from ingest.settings import DetectionSettings, EmbeddingSettings


def test_expected_age_is_the_mean_of_the_softmax_over_years():
    probs = np.zeros((2, 100), np.float32)
    probs[0, 30] = 1.0
    probs[1, [10, 50]] = 0.5
    assert expected_age(probs).tolist() == [30.0, 30.0]


def test_missing_model_is_a_clear_error(tmp_path):
    est = AgeEstimator(str(tmp_path / "nowhere"))
    with pytest.raises(EmbedderUnavailable, match=r"make models.*AGE_MODEL_DIR"):
        est.estimate(np.zeros((64, 64, 3), np.uint8), np.array([[8, 8, 56, 56]], np.float32))
    # no faces, no model needed
    out = est.estimate(np.zeros((64, 64, 3), np.uint8), np.zeros((0, 4), np.float32))
    assert out.age.shape == (0,) and out.descriptor.shape == (0, DESCRIPTOR_DIM)


def test_graph_runner_refuses_an_op_it_does_not_know(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"")
    spec = {
        "modelTopology": {
            "node": [
                {"name": "input_1", "op": "Placeholder"},
                {"name": "y", "op": "Tanh", "input": ["input_1"]},
            ]
        },
        "weightsManifest": [{"paths": ["w.bin"], "weights": []}],
    }
    (tmp_path / "m.json").write_text(json.dumps(spec))
    import torch

    with pytest.raises(ValueError, match="op Tanh"):
        run_graph(load_graph(tmp_path / "m.json"), torch.zeros(1, 3, 4, 4), ("y",))


def faceres_of_photos(shared, who: str, n: int) -> list:
    """faceres on the most likely face of each of ``who``'s first ``n`` photos (real weights,
    installed by `make models`)."""
    det = MtcnnDetector(DetectionSettings())
    est = AgeEstimator(EmbeddingSettings().age_model_dir)
    out = []
    for path in sorted((shared / "faces" / who).glob("*.jpg"))[:n]:
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        d = max(det.detect([img], 960)[0], key=lambda d: d.score)
        out.append(est.estimate(img, d.box[None]))
    return out


@pytest.mark.slow
def test_faceres_tells_a_young_woman_from_an_old_man(shared):
    """Real weights (installed by `make models`) on ../shared/faces: median apparent ages of
    Scarlett Johansson (photos at about 20) and Hans Blix (about 75) land decades apart, and
    photos of one person agree better than that (though not by much: Blix reads 44-65)."""
    med = {}
    for who in ("Scarlett_Johansson", "Hans_Blix"):
        ages = [float(o.age[0]) for o in faceres_of_photos(shared, who, 8)]
        med[who] = np.median(ages)
        assert np.percentile(ages, 90) - np.percentile(ages, 10) < 20, (who, ages)
    assert 18 <= med["Scarlett_Johansson"] <= 40
    assert med["Hans_Blix"] - med["Scarlett_Johansson"] > 20, med


@pytest.mark.slow
def test_faceres_descriptor_places_a_persons_photos_nearer_each_other_than_strangers(shared):
    """Real weights on ../shared/faces: unit-length descriptors, and for two men of one age
    whom dlib puts close together (Hans Blix and John Ashcroft), each one's photos sit nearer
    to their own centroid than to the other's."""
    desc = {
        who: np.stack([o.descriptor[0] for o in faceres_of_photos(shared, who, 6)])
        for who in ("Hans_Blix", "John_Ashcroft")
    }
    allrows = np.vstack(list(desc.values()))
    assert allrows.shape == (12, DESCRIPTOR_DIM)
    assert np.allclose(np.linalg.norm(allrows, axis=1), 1.0, atol=1e-5)
    mean = allrows.mean(axis=0)  # centred, as clustering uses them

    def cos(a, b):
        return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))

    for who, x in desc.items():
        other = next(v for w, v in desc.items() if w != who)
        wins = 0
        for i, r in enumerate(x):
            own = np.delete(x, i, axis=0).mean(axis=0)  # leave the photo out of its own centroid
            wins += cos(r - mean, own - mean) > cos(r - mean, other.mean(axis=0) - mean)
        assert wins >= 5, (who, wins)


@pytest.mark.slow
def test_onnx_runtime_gives_the_graph_runners_outputs(shared, tmp_path):
    """The default CPU path runs faceres in ONNX Runtime, exported from the torch graph runner."""
    import shutil

    model_dir = tmp_path / "faceres"
    shutil.copytree(
        EmbeddingSettings().age_model_dir, model_dir, ignore=shutil.ignore_patterns("*.onnx")
    )
    photos = sorted((shared / "faces" / "Hans_Blix").glob("*.jpg"))[:4]
    crops = np.stack([cv2.resize(cv2.imread(str(p))[:, :, ::-1], (224, 224)) for p in photos])
    onnx = AgeEstimator(str(model_dir), runtime="onnx")
    a = onnx.estimate_crops(crops)
    assert onnx._session is not None and (model_dir / "faceres.onnx").is_file()
    b = AgeEstimator(str(model_dir), runtime="torch").estimate_crops(crops)
    assert np.abs(a.age - b.age).max() < 1e-3
    assert np.abs(a.descriptor - b.descriptor).max() < 1e-5
