"""Real models on real photos: detection + both embedders' loading paths."""

import dataclasses
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from ingest.detect import (
    Detection,
    MtcnnDetector,
    clip_box,
    passes_quality,
    sharpness,
    square_crop,
    yaw_ratio,
)
from ingest.embed import DlibEmbedder, EmbedderUnavailable, FacenetEmbedder, dlib_box
from ingest.settings import ClusterSettings, DetectionSettings


def rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def photos(shared):
    a = sorted((shared / "faces" / "Tony_Blair").glob("*.jpg"))[:3]
    b = sorted((shared / "faces" / "Serena_Williams").glob("*.jpg"))[:2]
    return [rgb(p) for p in a], [rgb(p) for p in b]


@pytest.fixture(scope="module")
def detections(photos):
    det = MtcnnDetector(DetectionSettings())
    out = []
    for group in photos:
        out.append([max(det.detect([img], 960)[0], key=lambda d: d.score) for img in group])
    return out


def test_mtcnn_finds_one_frontal_face_per_photo(detections):
    for group in detections:
        for d in group:
            assert d.score > 0.95
            assert yaw_ratio(d.landmarks) < 0.8
            w = d.box[2] - d.box[0]
            assert 50 < w < 200


def test_dlib_same_person_closer_than_different(photos, detections):
    emb = DlibEmbedder()
    vecs = []
    for group, dets in zip(photos, detections):
        vecs.append(
            np.vstack(
                [emb.embed(img, d.box[None], d.landmarks[None]) for img, d in zip(group, dets)]
            )
        )
    a, b = vecs
    assert a.shape == (3, 128) and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    same = 1 - (a @ a.T)[np.triu_indices(3, 1)]
    diff = 1 - (a @ b.T)
    assert same.max() < diff.min()


def test_sharpness_reads_the_face_not_the_background(photos, detections):
    img, d = photos[0][0], detections[0][0]
    blurred = ClusterSettings().min_track_sharpness  # tracks below this are left out

    def gray_crop(image):
        return cv2.cvtColor(square_crop(image, d.box, 0.25, 112), cv2.COLOR_RGB2GRAY)

    levels = [
        sharpness(gray_crop(cv2.GaussianBlur(img, (0, 0), s) if s else img), 0.25)
        for s in (0, 1.5, 3, 5)
    ]
    assert levels == sorted(levels, reverse=True) and levels[0] > 10 * levels[-1]
    assert levels[0] > 100 and levels[-1] < blurred
    # A blurred face behind a sharp edge (someone's shoulder) is still a blurred face.
    crop = gray_crop(cv2.GaussianBlur(img, (0, 0), 5))
    crop[:, :12] = np.where(np.arange(112)[:, None] % 2 == 0, 0, 255)
    assert cv2.Laplacian(crop, cv2.CV_64F).var() > 10 * blurred  # the whole crop looks sharp
    assert sharpness(crop, 0.25) < blurred


def test_face_cut_by_the_frame_edge_is_sized_by_what_is_visible():
    s = DetectionSettings()
    eyes_nose_mouth = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float32)
    # MTCNN's box reaches 40 px past the left edge: 100 px wide, 60 px of it in the frame.
    det = Detection(np.array([-40, 10, 60, 110], np.float32), 0.999, eyes_nose_mouth - [40, -10])
    visible = clip_box(det.box, 640, 360)
    assert list(visible) == [0, 10, 60, 110]
    sharp_crop = np.random.default_rng(0).integers(0, 256, (112, 112), dtype=np.uint8)
    floor = dataclasses.replace(s, min_face_px=80.0)
    assert not passes_quality(det, visible, sharp_crop, 0.25, floor)[0]
    assert passes_quality(det, det.box, sharp_crop, 0.25, floor)[0]  # unclipped it would pass
    assert passes_quality(det, visible, sharp_crop, 0.25, s)[0]  # 60 px visible >= 50


def test_dlib_box_is_a_centred_square_of_the_longer_side():
    box = np.array([[10, 20, 50, 100]], dtype=np.float32)  # 40 wide, 80 tall, centre (30, 60)
    assert dlib_box(box, 0.9).tolist() == [[-6.0, 24.0, 66.0, 96.0]]
    assert dlib_box(box, 1.0).tolist() == [[-10.0, 20.0, 70.0, 100.0]]


def test_facenet_loads_weights_from_a_configured_file(tmp_path, photos, detections):
    """The real loading path, with a state_dict file (random init here: the trained weights
    cannot be downloaded offline)."""
    import torch
    from facenet_pytorch import InceptionResnetV1

    path = tmp_path / "facenet.pt"
    torch.save(InceptionResnetV1(pretrained=None).state_dict(), path)
    emb = FacenetEmbedder(str(path))
    img, d = photos[0][0], detections[0][0]
    v = emb.embed(img, d.box[None], d.landmarks[None])
    assert v.shape == (1, 512) and np.isclose(np.linalg.norm(v), 1, atol=1e-5)


def test_facenet_missing_weights_file_is_a_clear_error(tmp_path, photos, detections):
    emb = FacenetEmbedder(str(tmp_path / "nope.pt"))
    with pytest.raises(EmbedderUnavailable, match="FACENET_WEIGHTS"):
        emb.embed(photos[0][0], detections[0][0].box[None], detections[0][0].landmarks[None])


def test_facenet_without_weights_offline_fails_with_instructions(tmp_path, shared):
    """No weights file and no internet: the run stops with what to do, not a traceback."""
    csv = tmp_path / "v.csv"
    clip = shared / "videos" / "hieubkvn123__obama.mp4"
    csv.write_text(f"score,url\n1.0,{clip}\n")
    env = {"TORCH_HOME": str(tmp_path / "torch"), "PATH": "/usr/bin:/bin", "FACENET_WEIGHTS": ""}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest",
            "run",
            str(csv),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--embedder",
            "facenet",
            "--no-progress",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    if out.returncode == 0:  # a machine with internet: the hub download worked, and was used
        assert "ok: 1" in out.stdout
        return
    assert out.returncode == 2, out.stderr[-2000:]
    assert "FACENET_WEIGHTS" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_onnx_runtime_gives_torchs_vectors(shared, tmp_path):
    """The default CPU path runs FaceNet in ONNX Runtime, exported from the same weights."""
    import shutil

    from ingest.detect import MtcnnDetector
    from ingest.embed import FacenetEmbedder
    from ingest.settings import DetectionSettings, EmbeddingSettings

    weights = tmp_path / "facenet.pt"
    shutil.copy(EmbeddingSettings().facenet_weights, weights)  # the .onnx is written beside it
    photo = sorted((shared / "faces" / "Hans_Blix").glob("*.jpg"))[:3]
    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in photo]
    dets = [MtcnnDetector(DetectionSettings()).detect([im], 960)[0][0] for im in imgs]
    items = [(im, d.box[None], d.landmarks[None]) for im, d in zip(imgs, dets)]
    onnx = FacenetEmbedder(str(weights), runtime="onnx")
    via_onnx = onnx.embed_frames(items)
    assert onnx._session is not None and weights.with_suffix(".onnx").is_file()
    via_torch = FacenetEmbedder(str(weights), runtime="torch").embed_frames(items)
    assert np.abs(via_onnx - via_torch).max() < 1e-5
