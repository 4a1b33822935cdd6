"""Real models on real photos: detection + both embedders' loading paths."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ingest.extract.detect import (
    Detection,
    MtcnnDetector,
    clip_box,
    passes_quality,
    sharpness,
    square_crop,
    yaw_ratio,
)
from ingest.extract.embed import DlibEmbedder, EmbedderUnavailable, FacenetEmbedder, dlib_box
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

    from ingest.extract.detect import MtcnnDetector
    from ingest.extract.embed import FacenetEmbedder
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


@pytest.mark.slow
def test_mtcnn_in_onnx_runtime_finds_torchs_boxes(shared, tmp_path):
    """The default CPU path runs MTCNN's three networks in ONNX Runtime, exported on first use
    into its folder; on real frames (a batch of a real clip, photos of two people) it finds the
    same faces as torch, with the same boxes, scores and landmarks."""
    from ingest.extract.video import iter_frames, probe, sample_frame_indices
    from ingest.settings import SamplingSettings

    clip = sorted((shared / "videos").glob("*.mp4"))[0]
    meta = probe(clip)
    frames = [
        f.rgb for f in iter_frames(clip, sample_frame_indices(meta, SamplingSettings()), meta.fps)
    ]
    photos = [rgb(p) for p in sorted((shared / "faces" / "Hans_Blix").glob("*.jpg"))[:3]]
    batches = [frames[:8], photos]
    torch_det = MtcnnDetector(DetectionSettings(), runtime="torch")
    onnx_det = MtcnnDetector(DetectionSettings(), runtime="onnx", onnx_dir=tmp_path)
    for batch, floor in zip(batches, (50.0, 0.0)):
        a = torch_det.detect(batch, 960, floor)
        b = onnx_det.detect(batch, 960, floor)
        assert sum(map(len, a)) > 0
        assert [len(x) for x in a] == [len(x) for x in b]
        for da, db in zip([d for f in a for d in f], [d for f in b for d in f]):
            assert np.abs(da.box - db.box).max() < 1e-2
            assert np.abs(da.landmarks - db.landmarks).max() < 1e-2
            assert abs(da.score - db.score) < 1e-5
    assert type(onnx_det._load().pnet).__name__ == "OrtNet"
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == [
        "mtcnn_onet.onnx",
        "mtcnn_pnet.onnx",
        "mtcnn_rnet.onnx",
    ]


def test_align_112_puts_the_five_landmarks_on_the_arcface_template():
    """Dots drawn at landmarks of a tilted, shifted, larger face land on the template."""
    from ingest.extract.embed import ARCFACE_TEMPLATE, align_112

    angle, scale, shift = np.deg2rad(20), 2.5, np.array([140.0, 90.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (ARCFACE_TEMPLATE @ rot.T + shift).astype(np.float32)
    img = np.zeros((480, 640, 3), np.uint8)
    for i, (x, y) in enumerate(landmarks):
        cv2.circle(img, (round(x), round(y)), 4, (50 * (i + 1), 255, 0), -1)
    out = align_112(img, landmarks)
    assert out.shape == (112, 112, 3)
    n, labels, _, centroids = cv2.connectedComponentsWithStats((out[..., 1] > 128).astype(np.uint8))
    assert n == 6  # background + five dots
    for k in range(1, n):
        i = round(float(out[..., 0][labels == k].mean()) / 50) - 1  # which landmark, by colour
        assert np.abs(centroids[k] - ARCFACE_TEMPLATE[i]).max() < 1.0


def test_arcface_loads_an_onnx_file_from_a_configured_path(tmp_path, photos, detections):
    """The real loading path, with an ONNX file of the right shape (random weights here: the
    trained ones are opt-in, `make models-arcface`)."""
    import torch

    from ingest.extract.embed import ArcfaceEmbedder

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 8, stride=8), torch.nn.Flatten(), torch.nn.Linear(8 * 14 * 14, 512)
    ).eval()
    path = tmp_path / "arc.onnx"
    torch.onnx.export(
        net,
        torch.zeros(2, 3, 112, 112),
        str(path),
        input_names=["x"],
        dynamic_axes={"x": {0: "n"}},
    )
    emb = ArcfaceEmbedder(str(path))
    imgs = [photos[0][0], photos[1][0]]
    ds = [detections[0][0], detections[1][0]]
    v = emb.embed_frames([(img, d.box[None], d.landmarks[None]) for img, d in zip(imgs, ds)])
    assert v.shape == (2, 512) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)


def test_arcface_without_weights_says_how_to_get_them(photos, detections):
    from ingest.extract.embed import ArcfaceEmbedder

    d = detections[0][0]
    with pytest.raises(EmbedderUnavailable, match="make models-arcface"):
        ArcfaceEmbedder(None).embed(photos[0][0], d.box[None], d.landmarks[None])


def test_arcface_trained_weights_tell_two_people_apart(photos, detections):
    """Where `make models-arcface` has run: one person's photos closer than another's."""
    from ingest.extract.embed import ArcfaceEmbedder
    from ingest.settings import EmbeddingSettings

    weights = EmbeddingSettings().arcface_weights
    if weights is None or not Path(weights).is_file():
        pytest.skip("opt-in weights not installed (make models-arcface INSIGHTFACE_LICENSE=accept)")
    emb = ArcfaceEmbedder(weights)
    a = [
        emb.embed(img, d.box[None], d.landmarks[None])[0]
        for img, d in zip(photos[0], detections[0])
    ]
    b = [
        emb.embed(img, d.box[None], d.landmarks[None])[0]
        for img, d in zip(photos[1], detections[1])
    ]
    same = min(float(x @ y) for i, x in enumerate(a) for y in a[i + 1 :])
    other = max(float(x @ y) for x in a for y in b)
    assert same > other + 0.2


def test_a_file_that_is_not_an_arcface_model_stops_before_any_video(tmp_path, photos, detections):
    """Raised as EmbedderUnavailable, the run's setup check: not a failure of every video."""
    import torch

    from ingest.extract.embed import ArcfaceEmbedder

    d = detections[0][0]
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(EmbedderUnavailable, match="cannot load arcface weights"):
        ArcfaceEmbedder(str(junk)).embed(photos[0][0], d.box[None], d.landmarks[None])
    wrong = tmp_path / "wrong.onnx"  # a model, but 160 px in and 128-d out
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 2, 160), torch.nn.Flatten(), torch.nn.Linear(2, 128)
    )
    torch.onnx.export(net.eval(), torch.zeros(1, 3, 160, 160), str(wrong), input_names=["x"])
    with pytest.raises(EmbedderUnavailable, match="not an ArcFace-style model"):
        ArcfaceEmbedder(str(wrong)).embed(photos[0][0], d.box[None], d.landmarks[None])


def test_another_arcface_file_is_another_extraction(tmp_path):
    """Cached embeddings of one ArcFace-style model are never served for another."""
    from ingest.settings import EmbeddingSettings, Settings

    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(b"model a")
    b.write_bytes(b"model b")

    def key(path, embedder="arcface"):
        emb = EmbeddingSettings(embedder=embedder, arcface_weights=str(path))
        return Settings(embedding=emb).extraction_hash()

    assert key(a) != key(b) and key(a) == key(a)
    assert key(a, "facenet") == key(b, "facenet")  # only arcface reads the file
