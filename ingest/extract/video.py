"""Decode a video and sample frames evenly by time across its whole length (OpenCV)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from ingest.extract.container import check_container
from ingest.settings import SamplingSettings


class DecodeError(RuntimeError):
    pass


@dataclass(frozen=True)
class VideoMeta:
    fps: float  # frames per second
    n_frames: int  # as the container declares it
    width: int  # pixels
    height: int  # pixels
    duration_s: float  # seconds


@dataclass(frozen=True)
class Frame:
    index: int  # source frame index
    timestamp_s: float
    rgb: NDArray[np.uint8]  # (height, width, 3), RGB order


def sample_frame_indices(meta: VideoMeta, s: SamplingSettings) -> NDArray[np.int64]:
    """Frame indices at the centres of equal time slots covering the whole video.

    n = duration * rate rounded up (so the rate is a floor), at least min_frames, at most
    max_frames if set (a long video then gets a coarser grid instead of losing its end), and
    never more than the frames that exist."""
    if meta.n_frames <= 0:
        return np.zeros(0, dtype=np.int64)
    n = int(np.ceil(meta.duration_s * s.frames_per_second - 1e-9))
    if s.max_frames is not None:
        n = min(s.max_frames, n)
    n = max(s.min_frames, n)
    n = min(n, meta.n_frames)
    slots = (np.arange(n) + 0.5) * (meta.n_frames / n)
    return np.unique(np.clip(np.floor(slots).astype(np.int64), 0, meta.n_frames - 1))


def _open(path: Path) -> cv2.VideoCapture:
    """FFmpeg on exactly this file: an absolute path (never read as a protocol or an image
    pattern by OpenCV's other backends), of a container that names no other files."""
    return cv2.VideoCapture(str(path.resolve()), cv2.CAP_FFMPEG)


def probe(path: Path) -> VideoMeta:
    try:
        check_container(path)
    except ValueError as exc:
        raise DecodeError(str(exc)) from None
    except OSError as exc:
        raise DecodeError(f"cannot read the file: {exc.strerror or exc}") from None
    cap = _open(path)
    try:
        if not cap.isOpened():
            raise DecodeError("OpenCV cannot open the file as a video (corrupt or not a video)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    finally:
        cap.release()
    if fps <= 0 or n <= 0 or w <= 0 or h <= 0:
        raise DecodeError(f"unreadable video header (fps={fps}, frames={n}, size={w}x{h})")
    return VideoMeta(fps=fps, n_frames=n, width=w, height=h, duration_s=n / fps)


def iter_frames(path: Path, indices: NDArray[np.int64], fps: float) -> Iterator[Frame]:
    """Yield the requested frames in order. Decodes sequentially (grab without retrieve for the
    skipped ones): seeking is unreliable across codecs, and sampled frames are dense enough."""
    wanted = {int(i) for i in indices}
    last = int(indices[-1]) if len(indices) else -1
    cap = _open(path)
    try:
        i = 0
        while i <= last:
            if not cap.grab():
                break  # container claimed more frames than it holds; keep what we got
            if i in wanted:
                ok, bgr = cap.retrieve()
                if ok and bgr is not None:
                    yield Frame(i, i / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            i += 1
    finally:
        cap.release()
