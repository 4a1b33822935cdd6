"""The naive published approach, re-run faithfully for the side-by-side table.

Every 10th frame, dlib HOG detector (upsample 1), 68-point landmarks, 128-d dlib encodings
(unnormalised, as face_recognition returns them), DBSCAN eps 0.6, min_samples 1 over all faces."""

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


def run_baseline(videos: list[tuple[str, Path]], every_nth: int = 10) -> tuple[list[tuple], float]:
    """videos: (source_url, local file). Returns rows (source_url, frame_index, x1, y1, x2, y2,
    cluster_id) like bench.evaluate expects, and the wall time in seconds."""
    import dlib
    import face_recognition_models as frm
    from sklearn.cluster import DBSCAN

    t0 = time.perf_counter()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(frm.pose_predictor_model_location())
    encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    faces: list[BaselineFace] = []
    for source, path in videos:
        cap = cv2.VideoCapture(str(path))
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            if i % every_nth == 0:
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                for r in detector(rgb, 1):
                    enc = np.asarray(encoder.compute_face_descriptor(rgb, predictor(rgb, r), 1))
                    box = (float(r.left()), float(r.top()), float(r.right()), float(r.bottom()))
                    faces.append(BaselineFace(source, i, box, enc))
            i += 1
        cap.release()
    if faces:
        labels = DBSCAN(eps=0.6, min_samples=1).fit_predict(np.stack([f.encoding for f in faces]))
    else:
        labels = np.zeros(0, dtype=int)
    rows = [(f.source, f.frame_index, *f.box, int(lab)) for f, lab in zip(faces, labels)]
    return rows, time.perf_counter() - t0
