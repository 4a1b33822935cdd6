"""DuckDB UDFs over the pipeline's own detector and embedder: find faces in image files from SQL.

- ``embed_face(path VARCHAR) -> FLOAT[d]``: the largest face of an image file, embedded as the
  pipeline embeds a face of a frame (``d`` = the warehouse's embedder: 512 for FaceNet, 128 for
  dlib); NULL, with a warning naming the file, when it is missing, unreadable or has no face.
- ``detect_faces(path VARCHAR) -> STRUCT(x1, y1, x2, y2, det_score, embedding FLOAT[d])[]``:
  every face, largest first; NULL (and a warning) when the file is missing or unreadable, an
  empty list when it has no face.

Both are Arrow-vectorised: DuckDB hands over a column of paths per chunk, each distinct path is
read once, images of one size are detected in one MTCNN batch. The models load on the first
call, once per registered connection, so connections (dbt runs) that never call them stay fast.

An image is treated like a sampled video frame: downscaled to ``sampling.max_side_px`` for
MTCNN, boxes clipped to the image, the embedder run on the full-size image with the box. So the
same picture gives the same embedding as the pipeline's face in it. Faces under
``detection.min_det_score`` are dropped as in the pipeline; the size, blur and profile filters
are not applied: they protect clustering from poor faces, and a user asking about one photo
wants an answer for it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from ingest.extract.detect import MtcnnDetector, clip_box
from ingest.extract.embed import Embedder, make_embedder
from ingest.settings import EmbedderName, Settings
from ingest.warehouse import store

log = logging.getLogger(__name__)


class FaceUdfWarning(UserWarning):
    """A path the UDF could not embed; the message names the file and the reason."""


@dataclass(frozen=True)
class ImageFace:
    box: NDArray[np.float32]  # (4,) x1, y1, x2, y2, image pixels
    det_score: float  # MTCNN probability in [0, 1]
    embedding: NDArray[np.float32]  # (d,) L2-normalised


def box_area(box: NDArray[np.float32]) -> float:
    """Area of an (x1, y1, x2, y2) box in square pixels; 0 for degenerate boxes."""
    return max(float(box[2] - box[0]), 0.0) * max(float(box[3] - box[1]), 0.0)


def read_rgb(path: str) -> tuple[NDArray[np.uint8] | None, str | None]:
    """(RGB image (H, W, 3), None) or (None, why not)."""
    p = Path(path).expanduser()
    if not p.is_file():
        return None, "file not found"
    try:
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # some truncated files raise instead of returning None
        return None, f"not a readable image ({exc})"
    if bgr is None or bgr.size == 0:
        return None, "not a readable image"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None


class ImageFaces:
    """Detects and embeds the faces of image files with the pipeline's models and settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.detector = MtcnnDetector(
            settings.detection, settings.device, runtime=settings.embedding.runtime
        )
        self.embedder: Embedder = make_embedder(settings.embedding, settings.device)
        # Every call runs on this one thread, whichever of DuckDB's threads calls the UDF. torch
        # started on one DuckDB thread and then used from another crashes the process (a
        # segfault in the first tensor op, most runs: tests/test_udf.py). One thread also keeps
        # the first call's load and ONNX export (a torch trace) from running twice at once, and
        # each model already spreads its work over the cores.
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="face-udf")

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def faces(self, paths: list[str]) -> list[list[ImageFace] | str]:
        """For each path its faces, largest first, or the reason it could not be read."""
        return self._thread.submit(self._faces, paths).result()

    def _faces(self, paths: list[str]) -> list[list[ImageFace] | str]:
        out: list[list[ImageFace] | str] = ["" for _ in paths]
        images: dict[int, NDArray[np.uint8]] = {}
        for i, path in enumerate(paths):
            rgb, why = read_rgb(path)
            if rgb is None:
                out[i] = why or "unreadable"
            else:
                images[i] = rgb
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, rgb in images.items():
            by_shape.setdefault(rgb.shape, []).append(i)
        batch = self.settings.detection.batch_frames
        for idx in by_shape.values():
            for start in range(0, len(idx), batch):
                chunk = idx[start : start + batch]
                try:
                    # Scaled as the pipeline scales frames, so a face gets the pipeline's box.
                    dets = self.detector.detect(
                        [images[i] for i in chunk],
                        self.settings.sampling.max_side_px,
                        self.settings.detection.min_face_px,
                    )
                except Exception as exc:  # one odd image must not fail the query
                    for i in chunk:
                        out[i] = f"detection failed ({type(exc).__name__}: {exc})"
                    continue
                for i, frame_dets in zip(chunk, dets):
                    out[i] = self._embed(images[i], frame_dets)
        return out

    def _embed(self, rgb: NDArray[np.uint8], dets) -> list[ImageFace] | str:
        h, w = rgb.shape[:2]
        kept = [
            (d, clip_box(d.box, w, h))
            for d in dets
            if d.score >= self.settings.detection.min_det_score
        ]
        kept = [(d, b) for d, b in kept if box_area(b) > 0]
        if not kept:
            return []
        kept.sort(key=lambda db: -box_area(db[1]))
        try:
            embs = self.embedder.embed(
                rgb, np.stack([b for _, b in kept]), np.stack([d.landmarks for d, _ in kept])
            )
        except Exception as exc:  # reported per file, like any other failure
            return f"embedding failed ({type(exc).__name__}: {exc})"
        return [ImageFace(b, float(d.score), e) for (d, b), e in zip(kept, embs)]


def _warn(function: str, path: str | None, reason: str) -> None:
    warnings.warn(f"{function}({path!r}): {reason}; returning NULL", FaceUdfWarning, stacklevel=2)


def _distinct_faces(model: ImageFaces, paths: list[str | None]) -> dict[str, list[ImageFace] | str]:
    distinct = sorted({p for p in paths if p is not None})
    return dict(zip(distinct, model.faces(distinct))) if distinct else {}


def embed_face_column(
    model: ImageFaces, paths: list[str | None]
) -> list[NDArray[np.float32] | None]:
    """The largest face's embedding per path, None (and a FaceUdfWarning) where there is none."""
    found = _distinct_faces(model, paths)
    out: list[NDArray[np.float32] | None] = []
    warned: set[str] = set()
    for p in paths:
        r = found.get(p) if p is not None else None
        if isinstance(r, list) and r:
            out.append(r[0].embedding)
            continue
        out.append(None)
        if p is not None and p not in warned:
            warned.add(p)
            _warn("embed_face", p, r if isinstance(r, str) else "no face found")
    return out


def detect_faces_column(model: ImageFaces, paths: list[str | None]) -> list[list[ImageFace] | None]:
    """Every face per path (largest first); None (and a warning) for missing/unreadable files."""
    found = _distinct_faces(model, paths)
    out: list[list[ImageFace] | None] = []
    warned: set[str] = set()
    for p in paths:
        r = found.get(p) if p is not None else None
        if isinstance(r, list):
            out.append(r)
            continue
        out.append(None)
        if p is not None and p not in warned:
            warned.add(p)
            _warn("detect_faces", p, r or "unreadable")
    return out


def register(
    con, settings: Settings | None = None, embedder: EmbedderName | None = None
) -> ImageFaces:
    """Register embed_face and detect_faces on a DuckDB connection; returns the (lazy) models.

    The embedder is, in order: ``embedder``, the warehouse's own (``warehouse_embedder``), the
    settings' default, so that embed_face compares with the stored embeddings."""
    import duckdb
    import pyarrow as pa

    s = settings or Settings()
    name = embedder or store.warehouse_embedder(con) or s.embedding.embedder
    s = s.for_embedder(name)
    model = ImageFaces(s)
    d = model.dim
    vec = pa.list_(pa.float32(), d)
    face = pa.struct(
        [
            ("x1", pa.float32()),
            ("y1", pa.float32()),
            ("x2", pa.float32()),
            ("y2", pa.float32()),
            ("det_score", pa.float32()),
            ("embedding", vec),
        ]
    )

    def embed_face(paths):  # pa.Array -> pa.Array (no annotations: DuckDB evaluates them)
        vecs = embed_face_column(model, paths.to_pylist())
        return pa.array([None if v is None else v.tolist() for v in vecs], type=vec)

    def detect_faces(paths):
        rows = detect_faces_column(model, paths.to_pylist())
        return pa.array(
            [
                None
                if fs is None
                else [
                    {
                        "x1": float(f.box[0]),
                        "y1": float(f.box[1]),
                        "x2": float(f.box[2]),
                        "y2": float(f.box[3]),
                        "det_score": f.det_score,
                        "embedding": f.embedding.tolist(),
                    }
                    for f in fs
                ]
                for fs in rows
            ],
            type=pa.list_(face),
        )

    vec_t = duckdb.sqltype(f"FLOAT[{d}]")
    face_t = duckdb.sqltype(
        f"STRUCT(x1 FLOAT, y1 FLOAT, x2 FLOAT, y2 FLOAT, det_score FLOAT, embedding FLOAT[{d}])[]"
    )
    for fn_name, fn, ret in (
        ("embed_face", embed_face, vec_t),
        ("detect_faces", detect_faces, face_t),
    ):
        with contextlib.suppress(duckdb.Error):
            con.remove_function(fn_name)
        # null_handling special: a NULL path reaches us (and comes back NULL) instead of
        # DuckDB guessing; exceptions are ours to turn into NULL + warning per file.
        con.create_function(
            fn_name, fn, [duckdb.sqltype("VARCHAR")], ret, type="arrow", null_handling="special"
        )
    log.debug("registered embed_face/detect_faces (%s, %d-d)", name, d)
    return model
