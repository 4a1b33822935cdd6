"""The published approaches, re-run faithfully for the side-by-side tables.

Both use dlib's HOG detector (upsample 1), 68-point landmarks and 128-d encodings
(unnormalised, as face_recognition returns them):
- the naive baseline: every 10th frame, DBSCAN eps 0.6, min_samples 1 over all faces;
- the first-5-frames approach: each video's first 5 frames, greedy matching at 0.6."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass
class BaselineFace:
    source: str
    frame_index: int
    box: tuple[float, float, float, float]
    encoding: np.ndarray  # (128,)


def _dlib_face_encoder():
    """dlib's HOG detector (upsample 1) with 68-point landmarks and the 128-d encoder, as the
    published approaches call them through face_recognition: rgb -> [(box, encoding)]."""
    import dlib
    import face_recognition_models as frm

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(frm.pose_predictor_model_location())
    encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def faces(rgb: np.ndarray) -> list[tuple[tuple[float, float, float, float], np.ndarray]]:
        out = []
        for r in detector(rgb, 1):
            enc = np.asarray(encoder.compute_face_descriptor(rgb, predictor(rgb, r), 1))
            out.append(
                ((float(r.left()), float(r.top()), float(r.right()), float(r.bottom())), enc)
            )
        return out

    return faces


def _frames(path: Path, keep, stop_after: int | None = None):
    """(index, rgb) of the decoded frames whose index ``keep`` accepts, sequentially."""
    cap = cv2.VideoCapture(str(path))
    try:
        i = 0
        while stop_after is None or i < stop_after:
            ok, bgr = cap.read()
            if not ok:
                break
            if keep(i):
                yield i, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()


def run_baseline(videos: list[tuple[str, Path]], every_nth: int = 10) -> tuple[list[tuple], float]:
    """videos: (source_url, local file). Returns rows (source_url, frame_index, x1, y1, x2, y2,
    cluster_id) like bench.evaluate expects, and the wall time in seconds."""
    from sklearn.cluster import DBSCAN

    t0 = time.perf_counter()
    encode = _dlib_face_encoder()
    faces: list[BaselineFace] = []
    for source, path in videos:
        for i, rgb in _frames(path, lambda i: i % every_nth == 0):
            faces += [BaselineFace(source, i, box, enc) for box, enc in encode(rgb)]
    if faces:
        labels = DBSCAN(eps=0.6, min_samples=1).fit_predict(np.stack([f.encoding for f in faces]))
    else:
        labels = np.zeros(0, dtype=int)
    rows = [(f.source, f.frame_index, *f.box, int(lab)) for f, lab in zip(faces, labels)]
    return rows, time.perf_counter() - t0


def greedy_match(encodings: list[np.ndarray], tolerance: float = 0.6) -> list[int]:
    """The published matcher: each face joins the known person nearest to it (Euclidean, over
    each person's first encoding) if within ``tolerance``, else becomes a new person; ids 0..
    in order of first appearance."""
    known: list[np.ndarray] = []
    out = []
    for enc in encodings:
        if known:
            d = np.linalg.norm(np.stack(known) - enc, axis=1)
            j = int(np.argmin(d))
            if d[j] <= tolerance:
                out.append(j)
                continue
        known.append(enc)
        out.append(len(known) - 1)
    return out


def run_first_frames(
    videos: list[tuple[str, Path]], n_frames: int = 5, tolerance: float = 0.6
) -> tuple[list[tuple], float]:
    """The published first-5-frames approach, faithfully: dlib HOG on each video's first
    ``n_frames`` frames only, dlib encodings, greedy matching at 0.6. Same rows and wall time
    as ``run_baseline``; people who appear later in a video are never seen."""
    t0 = time.perf_counter()
    encode = _dlib_face_encoder()
    faces: list[BaselineFace] = []
    for source, path in videos:
        for i, rgb in _frames(path, lambda i: True, stop_after=n_frames):
            faces += [BaselineFace(source, i, box, enc) for box, enc in encode(rgb)]
    labels = greedy_match([f.encoding for f in faces], tolerance)
    rows = [(f.source, f.frame_index, *f.box, lab) for f, lab in zip(faces, labels)]
    return rows, time.perf_counter() - t0
