"""Per-video extraction: a pure function from (video file, settings) to faces with embeddings.

Nothing here touches DuckDB, so it runs in a process pool today and on a distributed engine
tomorrow. Results are cached as .npz by (content hash, extraction settings hash)."""

from __future__ import annotations

import dataclasses
import io
import time
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from ingest.extract.age import DESCRIPTOR_DIM, AgeEstimator, faceres_crop
from ingest.extract.detect import MtcnnDetector, clip_box, passes_quality, square_crop
from ingest.extract.embed import Embedder, make_embedder
from ingest.extract.video import DecodeError, VideoMeta, iter_frames, probe, sample_frame_indices
from ingest.people.cluster import tracks_within_video
from ingest.settings import ClusterSettings, Settings


@dataclass
class Faces:
    """Faces kept in one video; n rows, aligned across arrays."""

    frame_index: NDArray[np.int64]  # (n,)
    timestamp_s: NDArray[np.float64]  # (n,)
    boxes: NDArray[np.float32]  # (n, 4) x1, y1, x2, y2 source pixels
    det_score: NDArray[np.float32]  # (n,)
    landmarks: NDArray[np.float32]  # (n, 5, 2) source pixels
    sharpness: NDArray[np.float32]  # (n,)
    embeddings: NDArray[np.float32]  # (n, d) L2-normalised
    crops: NDArray[np.uint8]  # (n, crop_px, crop_px, 3) RGB thumbnails
    # faceres's, for the faces it describes (``faces_to_describe``); nan for the others
    age: NDArray[np.float32]  # (n,) apparent age, years
    descriptor: NDArray[np.float32]  # (n, 1024) faceres descriptor, L2-normalised

    def __len__(self) -> int:
        return len(self.frame_index)

    @staticmethod
    def empty(dim: int, crop_px: int) -> Faces:
        return Faces(
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros((0, 5, 2), np.float32),
            np.zeros(0, np.float32),
            np.zeros((0, dim), np.float32),
            np.zeros((0, crop_px, crop_px, 3), np.uint8),
            np.zeros(0, np.float32),
            np.zeros((0, DESCRIPTOR_DIM), np.float32),
        )


@dataclass
class VideoExtraction:
    meta: VideoMeta
    embedder: str
    sample_interval_s: float  # seconds of video each sampled frame stands for
    n_frames_sampled: int
    faces: Faces
    # Share of the planned sample frames that decoded (0-1); under 1 the file ends early or is
    # damaged past that point, so its faces cover only part of the video. None: cached before
    # this was measured.
    decoded_share: float | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step


class _Models:
    """Per-process lazily loaded models, so a pool worker loads each once."""

    detector: MtcnnDetector | None = None
    embedder: Embedder | None = None
    age: AgeEstimator | None = None
    key: tuple | None = None


def _models(settings: Settings) -> tuple[MtcnnDetector, Embedder, AgeEstimator]:
    key = (settings.detection, settings.embedding, settings.device)
    if _Models.key != key:
        _Models.detector = MtcnnDetector(
            settings.detection, settings.device, runtime=settings.embedding.runtime
        )
        _Models.embedder = make_embedder(settings.embedding, settings.device)
        _Models.age = AgeEstimator(
            settings.embedding.age_model_dir, settings.device, runtime=settings.embedding.runtime
        )
        _Models.key = key
    assert _Models.detector is not None and _Models.embedder is not None
    assert _Models.age is not None
    return _Models.detector, _Models.embedder, _Models.age


@dataclass(frozen=True)
class FaceRow:
    """One kept face of a video, before the video's faces are stacked into ``Faces``."""

    frame_index: int
    timestamp_s: float
    box: NDArray[np.float32]  # (4,) clipped to the frame
    det_score: float
    landmarks: NDArray[np.float32]  # (5, 2)
    sharpness: float
    embedding: NDArray[np.float32]  # (d,)
    crop: NDArray[np.uint8]  # (crop_px, crop_px, 3)
    # faceres's, set once the video's faces are grouped (``_describe``); nan: not described
    age: float = float("nan")
    descriptor: NDArray[np.float32] | None = None  # (DESCRIPTOR_DIM,)
    faceres_crop: NDArray[np.uint8] | None = None  # (224, 224, 3) what faceres reads, until then


def stack_faces(rows: list[FaceRow], dim: int, crop_px: int) -> Faces:
    """The rows as one ``Faces`` (column arrays); ``Faces.empty`` for none."""
    if not rows:
        return Faces.empty(dim, crop_px)
    return Faces(
        np.asarray([r.frame_index for r in rows], np.int64),
        np.asarray([r.timestamp_s for r in rows], np.float64),
        np.stack([r.box for r in rows]).astype(np.float32),
        np.asarray([r.det_score for r in rows], np.float32),
        np.stack([r.landmarks for r in rows]).astype(np.float32),
        np.asarray([r.sharpness for r in rows], np.float32),
        np.stack([r.embedding for r in rows]).astype(np.float32),
        np.stack([r.crop for r in rows]).astype(np.uint8),
        np.asarray([r.age for r in rows], np.float32),
        np.stack([r.descriptor for r in rows]).astype(np.float32),
    )


def _faces_of_batch(
    batch: list, meta: VideoMeta, settings: Settings, timings: dict[str, float]
) -> list[FaceRow]:
    """Detect, filter and embed the faces of a batch of frames: each network sees the batch's
    faces together, one forward pass each."""
    detector, embedder, _ = _models(settings)
    det_s = settings.detection
    crop_px, margin = settings.embedding.crop_px, settings.embedding.crop_margin
    t0 = time.perf_counter()
    dets = detector.detect([f.rgb for f in batch], settings.sampling.max_side_px, det_s.min_face_px)
    timings["detect"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    kept = []  # (frame, detection, clipped box, crop, sharpness)
    for frame, frame_dets in zip(batch, dets):
        for d in frame_dets:
            box = clip_box(d.box, meta.width, meta.height)
            crop = square_crop(frame.rgb, box, margin, crop_px)
            ok, sharp = passes_quality(
                d, box, cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), margin, det_s
            )
            if ok:
                kept.append((frame, d, box, crop, sharp))
    if not kept:
        timings["embed"] += time.perf_counter() - t0
        return []
    by_frame = [list(g) for _, g in groupby(kept, key=lambda k: k[0].index)]
    boxes = [np.stack([k[2] for k in g]) for g in by_frame]
    embs = embedder.embed_frames(
        [(g[0][0].rgb, b, np.stack([k[1].landmarks for k in g])) for g, b in zip(by_frame, boxes)]
    )
    timings["embed"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    out = [
        FaceRow(
            frame.index,
            frame.timestamp_s,
            box,
            d.score,
            d.landmarks,
            sharp,
            emb,
            crop,
            faceres_crop=faceres_crop(frame.rgb, box),
        )
        for (frame, d, box, crop, sharp), emb in zip(kept, embs)
    ]
    timings["age"] += time.perf_counter() - t0
    return out


def faces_to_describe(
    frame_index: NDArray[np.int64],
    emb: NDArray[np.float32],
    sharpness: NDArray[np.float32],
    per_track: int,
    s: ClusterSettings,
) -> NDArray[np.bool_]:
    """(n,) which of one video's faces faceres describes: the ``per_track`` sharpest of each
    track (every face is in one: tracks clustering drops count too), or all for 0. A track's
    faceres centroid needs only a few faces (`make bench-per-track`); its FaceNet one needs
    every face, so FaceNet still runs on all."""
    n = len(frame_index)
    if per_track <= 0 or n == 0:
        return np.ones(n, dtype=bool)
    every = dataclasses.replace(s, min_track_faces=1, min_track_sharpness=0.0)
    labels = tracks_within_video(frame_index, emb, every)
    chosen = np.zeros(n, dtype=bool)
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        chosen[members[np.argsort(-sharpness[members], kind="stable")[:per_track]]] = True
    return chosen


def _describe(kept: list[FaceRow], settings: Settings, timings: dict[str, float]) -> list[FaceRow]:
    """The video's faces with faceres's age and descriptor where ``faces_to_describe`` says
    (nan elsewhere: stored as NULL)."""
    if not kept:
        return []
    _, _, age_model = _models(settings)
    t0 = time.perf_counter()
    chosen = faces_to_describe(
        np.asarray([k.frame_index for k in kept], np.int64),
        np.stack([k.embedding for k in kept]),
        np.asarray([k.sharpness for k in kept], np.float32),
        settings.embedding.faceres_per_track,
        settings.cluster,
    )
    out = age_model.estimate_crops(np.stack([k.faceres_crop for k, c in zip(kept, chosen) if c]))
    age = np.full(len(kept), np.nan, np.float32)
    desc = np.full((len(kept), DESCRIPTOR_DIM), np.nan, np.float32)
    age[chosen], desc[chosen] = out.age, out.descriptor
    timings["age"] += time.perf_counter() - t0
    return [
        dataclasses.replace(k, age=float(a), descriptor=d, faceres_crop=None)
        for k, a, d in zip(kept, age, desc)
    ]


def extract_video(path: Path, settings: Settings) -> VideoExtraction:
    """Sample frames across the whole video, detect, filter and embed faces. Raises
    ``DecodeError`` when the file cannot be decoded."""
    _, embedder, _ = _models(settings)  # loaded before decoding: a missing model stops first
    timings = {"decode": 0.0, "detect": 0.0, "embed": 0.0, "age": 0.0}
    meta = probe(path)
    indices = sample_frame_indices(meta, settings.sampling)
    kept: list[FaceRow] = []
    n_sampled = 0
    batch: list = []
    t_dec = time.perf_counter()
    for frame in iter_frames(path, indices, meta.fps):
        timings["decode"] += time.perf_counter() - t_dec
        n_sampled += 1
        batch.append(frame)
        if len(batch) >= settings.detection.batch_frames:
            kept += _faces_of_batch(batch, meta, settings, timings)
            batch = []
        t_dec = time.perf_counter()
    if batch:
        kept += _faces_of_batch(batch, meta, settings, timings)
    if n_sampled == 0:
        raise DecodeError("no frame could be decoded")
    rows = _describe(kept, settings, timings)
    return VideoExtraction(
        meta=meta,
        embedder=embedder.name,
        sample_interval_s=meta.duration_s / max(len(indices), 1),
        n_frames_sampled=n_sampled,
        faces=stack_faces(rows, embedder.dim, settings.embedding.crop_px),
        decoded_share=n_sampled / max(len(indices), 1),
        timings=timings,
    )


def save_extraction(x: VideoExtraction, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    f = x.faces
    # Built in memory, written in one go: on a full disk numpy's zip writer, failing half-way,
    # fails again when collected (a traceback on stderr); this way the write fails once, here.
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        meta=np.array(
            [
                x.meta.fps,
                x.meta.n_frames,
                x.meta.width,
                x.meta.height,
                x.meta.duration_s,
                x.sample_interval_s,
                x.n_frames_sampled,
            ],
            dtype=np.float64,
        ),
        embedder=np.array(x.embedder),
        frame_index=f.frame_index,
        timestamp_s=f.timestamp_s,
        boxes=f.boxes,
        det_score=f.det_score,
        landmarks=f.landmarks,
        sharpness=f.sharpness,
        embeddings=f.embeddings,
        crops=f.crops,
        age=f.age,
        descriptor=f.descriptor,
        decoded_share=np.array(np.nan if x.decoded_share is None else x.decoded_share),
    )
    try:
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def load_extraction(path: Path) -> VideoExtraction:
    with np.load(path) as z:
        fps, n, w, h, dur, interval, n_sampled = z["meta"].tolist()
        faces = Faces(
            z["frame_index"],
            z["timestamp_s"],
            z["boxes"],
            z["det_score"],
            z["landmarks"],
            z["sharpness"],
            z["embeddings"],
            z["crops"],
            z["age"],
            z["descriptor"],
        )
        return VideoExtraction(
            meta=VideoMeta(fps=fps, n_frames=int(n), width=int(w), height=int(h), duration_s=dur),
            embedder=str(z["embedder"]),
            sample_interval_s=interval,
            n_frames_sampled=int(n_sampled),
            faces=faces,
            decoded_share=_decoded_share(z),
        )


def _decoded_share(z) -> float | None:
    """The cached share, None for caches written before it was measured."""
    if "decoded_share" not in z.files:
        return None
    v = float(z["decoded_share"])
    return None if np.isnan(v) else v


@dataclass(frozen=True)
class ExtractionHead:
    """What a run needs to know of an extraction before writing it, without its faces."""

    n_faces: int
    embedder: str
    decoded_share: float | None

    @staticmethod
    def of(x: VideoExtraction) -> ExtractionHead:
        return ExtractionHead(len(x.faces), x.embedder, x.decoded_share)


def load_head(path: Path) -> ExtractionHead:
    """The head of a cached extraction. An .npz reads its members one by one, so the thumbnails
    and vectors stay on disk: a re-run with nothing new reads a few bytes per video."""
    with np.load(path) as z:
        return ExtractionHead(len(z["frame_index"]), str(z["embedder"]), _decoded_share(z))
