"""Face detection with facenet-pytorch's MTCNN (weights ship in its wheel), plus quality filters.

Detection is separate from embedding: this module returns boxes, scores and landmarks in
source-frame pixels; ``ingest.extract.embed`` turns them into vectors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from ingest.settings import DEFAULT_MTCNN_ONNX_DIR, DetectionSettings


@dataclass(frozen=True)
class Detection:
    box: NDArray[np.float32]  # (4,) x1, y1, x2, y2 in source pixels
    score: float  # MTCNN probability in [0, 1]
    landmarks: NDArray[np.float32]  # (5, 2) eyes, nose, mouth corners; source pixels


class MtcnnDetector:
    """Loads MTCNN lazily on the given torch device and detects faces in batches of frames.

    ``runtime`` "onnx" (CPU only) runs its three networks in ONNX Runtime, exported once into
    ``onnx_dir``; facenet-pytorch's own code still builds the pyramid, crops and suppresses, so
    the boxes are the same. Where the export cannot be made, torch runs them."""

    def __init__(
        self,
        settings: DetectionSettings,
        device: str = "cpu",
        runtime: str = "torch",
        onnx_dir: Path = DEFAULT_MTCNN_ONNX_DIR,
    ) -> None:
        self.settings = settings
        self.device = device
        self.runtime = runtime
        self.onnx_dir = onnx_dir
        self._model = None

    def _load(self):
        if self._model is None:
            from facenet_pytorch import MTCNN

            model = MTCNN(
                keep_all=True,
                min_face_size=self.settings.mtcnn_min_face_px,
                thresholds=list(self.settings.mtcnn_thresholds),
                post_process=False,
                device=self.device,
            )
            if self.runtime == "onnx" and self.device == "cpu":
                _onnx_nets(model, self.onnx_dir)
            self._model = model
        return self._model

    def detect(
        self, frames: list[NDArray[np.uint8]], max_side_px: int, floor_px: float = 0.0
    ) -> list[list[Detection]]:
        """Detect faces in equally sized RGB frames (each (H, W, 3)); one list per frame. Faces
        under ``floor_px`` (pixels, 0 = all) may be missed: see ``detection_scale``."""
        if not frames:
            return []
        import torch

        h, w = frames[0].shape[:2]
        scale = detection_scale(h, w, max_side_px, floor_px, self.settings.floor_detect_px)
        if scale < 1.0:
            size = (int(round(w * scale)), int(round(h * scale)))
            small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
        else:
            small = frames
        model = self._load()
        with torch.inference_mode():
            boxes, probs, points = model.detect(np.stack(small), landmarks=True)
        out: list[list[Detection]] = []
        for b, p, pts in zip(boxes, probs, points):
            dets: list[Detection] = []
            if b is not None:
                for bi, pi, li in zip(b, p, pts):
                    if pi is None:
                        continue
                    dets.append(
                        Detection(
                            box=(np.asarray(bi, dtype=np.float32) / scale),
                            score=float(pi),
                            landmarks=(np.asarray(li, dtype=np.float32) / scale),
                        )
                    )
            out.append(dets)
        return out


# Each MTCNN stage: its input side (None: any, the pyramid's P-net) and its outputs' names.
_NETS = {
    "pnet": (None, ["reg", "probs"]),
    "rnet": (24, ["reg", "probs"]),
    "onet": (48, ["reg", "landmarks", "probs"]),
}


def _onnx_nets(model, folder: Path) -> None:
    """Swap ``model``'s P-, R- and O-net for ONNX Runtime sessions where each can be exported;
    a net that cannot stays torch. Convolution, pooling and PReLU are most of MTCNN's time on
    CPU, and take two thirds of it there (docs/decisions.md)."""
    import facenet_pytorch
    import torch

    from ingest.extract import onnxrt

    weights = Path(facenet_pytorch.__file__).parent / "data"
    for name, (side, outputs) in _NETS.items():
        net = getattr(model, name)
        example = torch.zeros(2, 3, side or 64, side or 96)
        # The pyramid's levels are of every size: P-net's height and width stay free.
        dynamic = None
        if side is None:
            dynamic = {n: {0: "n", 2: "h", 3: "w"} for n in ["image", *outputs]}

        def make(path: Path, net=net, example=example, outputs=outputs, dynamic=dynamic) -> None:
            onnxrt.export(net, example, path, ["image"], outputs, dynamic)

        session = onnxrt.session(folder / f"mtcnn_{name}.onnx", make, weights / f"{name}.pt")
        if session is not None:
            setattr(model, name, _ort_net(net, session))


def _ort_net(net, session):
    """An MTCNN stage run by ONNX Runtime, called as facenet-pytorch calls the torch one: a
    module (so MTCNN holds it), torch tensors in and out, ``parameters`` giving the dtype."""
    import torch

    class OrtNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):
            outs = session.run(None, {"image": x.contiguous().numpy()})
            return tuple(torch.from_numpy(o) for o in outs)

    return OrtNet()


def detection_scale(
    height: int, width: int, max_side_px: int, floor_px: float, floor_detect_px: float
) -> float:
    """The factor (<= 1) frames are resized by before MTCNN: the longer side at most
    ``max_side_px``, and a face of ``floor_px`` source pixels drawn ``floor_detect_px`` pixels
    tall, no smaller (floor_px 0: only the first rule)."""
    scale = min(1.0, max_side_px / max(height, width))
    if floor_px > 0:
        scale = min(scale, floor_detect_px / floor_px)
    return scale


def clip_box(box: NDArray[np.float32], width: int, height: int) -> NDArray[np.float32]:
    """Clamp a box to the frame; MTCNN boxes may poke outside at the edges."""
    return np.array(
        [
            min(max(box[0], 0.0), width),
            min(max(box[1], 0.0), height),
            min(max(box[2], 0.0), width),
            min(max(box[3], 0.0), height),
        ],
        dtype=np.float32,
    )


def yaw_ratio(landmarks: NDArray[np.float32]) -> float:
    """How far the nose sits from the eyes' midpoint, in half eye-distances: ~0 frontal, ~1 profile."""
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    half = float(np.linalg.norm(right_eye - left_eye)) / 2.0
    if half < 1e-6:
        return float("inf")
    mid = (left_eye + right_eye) / 2.0
    axis = (right_eye - left_eye) / (2.0 * half)
    return abs(float(np.dot(nose - mid, axis))) / half


# Share of the face box's side, around its centre, that sharpness is measured on: eyes, nose and
# mouth, not hair or the background, whose edges (a sharp shoulder in front of a blurred face)
# otherwise read as detail.
SHARPNESS_FACE_SHARE = 0.6


def sharpness(gray_crop: NDArray[np.uint8], margin: float) -> float:
    """Variance of the Laplacian over the centre of the face: low for motion-blurred or
    out-of-focus faces. ``gray_crop`` (s, s) comes from ``square_crop`` with ``margin``."""
    n = gray_crop.shape[0]
    side = n / (1.0 + 2.0 * margin) * SHARPNESS_FACE_SHARE
    a = int(round((n - side) / 2))
    b = max(int(round((n + side) / 2)), a + 3)
    return float(cv2.Laplacian(gray_crop[a:b, a:b].astype(np.float64), cv2.CV_64F).var())


def square_crop(
    rgb: NDArray[np.uint8], box: NDArray[np.float32], margin: float, size: int
) -> NDArray[np.uint8]:
    """A square crop around the box with a margin, padded with black at frame edges, resized to
    (size, size, 3). Stays RGB: callers that write with OpenCV must convert."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1.0 + 2 * margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    sx1, sy1 = int(round(cx - side / 2)), int(round(cy - side / 2))
    sx2, sy2 = sx1 + max(int(round(side)), 1), sy1 + max(int(round(side)), 1)
    h, w = rgb.shape[:2]
    pad = max(0, -sx1, -sy1, sx2 - w, sy2 - h)
    src = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0) if pad else rgb
    crop = src[sy1 + pad : sy2 + pad, sx1 + pad : sx2 + pad]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def passes_quality(
    det: Detection,
    box: NDArray[np.float32],
    crop_gray: NDArray[np.uint8],
    margin: float,
    s: DetectionSettings,
) -> tuple[bool, float]:
    """(keep?, sharpness). Drops low-score, tiny, blurred and profile faces, which embed poorly
    and are what chains different people together. ``box`` (4,) is ``det.box`` clipped to the
    frame (``clip_box``): a face cut by the frame edge is as big as what is visible, and that
    is the box stored. ``crop_gray`` comes from ``square_crop`` with ``margin``."""
    sharp = sharpness(crop_gray, margin)
    x1, y1, x2, y2 = box
    short_side = min(x2 - x1, y2 - y1)
    keep = (
        det.score >= s.min_det_score
        and short_side >= s.min_face_px
        and sharp >= s.min_sharpness
        and yaw_ratio(det.landmarks) <= s.max_yaw_ratio
    )
    return keep, sharp
