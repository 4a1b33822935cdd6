"""Crafted media for the hostile-input suite: a tiny real video with a face, and an MP4 rewriter
that puts the index first (what "faststart" encoders do), so a cut file keeps a valid index."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2

# Boxes that only hold other boxes, down to the chunk offset tables.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def tiny_face_video(
    src: Path, out: Path, seconds: float = 3.0, fps: float = 10.0, width: int = 427
) -> Path:
    """The first ``seconds`` of a real clip, downscaled to ``width`` px and resampled to ``fps``,
    as an mp4v MP4: small enough to extract in a second, with a real face in it."""
    cap = cv2.VideoCapture(str(src))
    src_fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    step = max(int(round(src_fps / fps)), 1)
    frames = []
    i = 0
    while len(frames) < int(seconds * fps):
        ok, bgr = cap.read()
        if not ok:
            break
        if i % step == 0:
            h, w = bgr.shape[:2]
            frames.append(cv2.resize(bgr, (width, int(round(h * width / w / 2)) * 2)))
        i += 1
    cap.release()
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return out


def _boxes(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        yield pos, size, header, kind
        pos += size


def _shift_offsets(moov: bytearray, start: int, end: int, delta: int) -> None:
    for pos, size, header, kind in list(_boxes(bytes(moov), start, end)):
        if kind in _CONTAINERS:
            _shift_offsets(moov, pos + header, pos + size, delta)
        elif kind in (b"stco", b"co64"):
            body = pos + header + 4  # version + flags
            (count,) = struct.unpack(">I", moov[body : body + 4])
            width = 4 if kind == b"stco" else 8
            fmt = ">I" if kind == b"stco" else ">Q"
            for k in range(count):
                at = body + 4 + k * width
                (off,) = struct.unpack(fmt, moov[at : at + width])
                moov[at : at + width] = struct.pack(fmt, off + delta)


def faststart(data: bytes) -> bytes:
    """The same MP4 with its ``moov`` index moved before ``mdat`` (chunk offsets shifted)."""
    boxes = list(_boxes(data, 0, len(data)))
    moov = next(b for b in boxes if b[3] == b"moov")
    first_media = min(b[0] for b in boxes if b[3] == b"mdat")
    if moov[0] < first_media:
        return data
    moov_bytes = bytearray(data[moov[0] : moov[0] + moov[1]])
    _shift_offsets(moov_bytes, moov[2], len(moov_bytes), len(moov_bytes))
    rest = data[: moov[0]] + data[moov[0] + moov[1] :]
    return rest[:first_media] + bytes(moov_bytes) + rest[first_media:]
