"""One CSV row -> its outcome: fetch, extract (cached), never raise for bad input.

A pure function of the row, the settings and the content-addressed caches, so the local process
pool (ingest.pipeline.runner) and Ray actors (ingest.pipeline.engine_ray) map it unchanged."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.extract.download import DownloadError, fetch, from_cache
from ingest.extract.embed import EmbedderUnavailable
from ingest.extract.faces import (
    ExtractionHead,
    VideoExtraction,
    extract_video,
    load_extraction,
    load_head,
    save_extraction,
)
from ingest.extract.video import DecodeError
from ingest.pipeline.csvin import VideoRow
from ingest.settings import Settings


@dataclass
class Outcome:
    """What processing one CSV row produced (picklable: crosses the process pool)."""

    row: VideoRow
    status: str
    error: str | None = None
    sha256: str | None = None
    head: ExtractionHead | None = None  # set when extraction succeeded
    # Where the faces are: the cache file, read back only when the video is written, so a run
    # holds no thumbnails in memory while it waits for the warehouse, and a re-run with nothing
    # new reads none. In memory only where the cache could not be written.
    cache: Path | None = None
    extraction: VideoExtraction | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def with_faces(self) -> Outcome:
        """The same outcome carrying its faces in memory, for a writer on another machine."""
        return dataclasses.replace(self, extraction=self.faces(), cache=None)

    def faces(self) -> VideoExtraction | None:
        """The extraction with its faces, or None for a row without one."""
        if self.extraction is not None or self.cache is None:
            return self.extraction
        return load_extraction(self.cache)


MAX_REASON_CHARS = 500


def one_line(reason: str) -> str:
    """A reason as one line a table cell and a summary can show: no line breaks (OpenCV's and
    some servers' messages span several), no runs of blanks, at most MAX_REASON_CHARS."""
    text = re.sub(r"\s*[\r\n]+\s*", " / ", reason.strip())
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def process_row(row: VideoRow, settings: Settings, base_dir: Path) -> Outcome:
    """Fetch and extract one video. Pure apart from the content-addressed caches; never raises
    for bad input: every failure becomes a status with a one-line reason."""
    out = _process_row(row, settings, base_dir)
    if out.error is not None:
        out = dataclasses.replace(out, error=one_line(out.error))
    return out


def _process_row(row: VideoRow, settings: Settings, base_dir: Path) -> Outcome:
    if row.reject_reason:
        return Outcome(row, "rejected", row.reject_reason)
    assert row.source_url is not None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        got = fetch(row.source_url, settings.cache_dir / "downloads", settings.download, base_dir)
    except DownloadError as exc:
        return Outcome(row, "download_failed", str(exc))
    except Exception as exc:  # never let one URL stop the run
        return Outcome(row, "download_failed", f"{type(exc).__name__}: {exc}")
    timings["download"] = time.perf_counter() - t0
    cache = _extraction_cache(got.sha256, settings)
    if cache.is_file():
        try:
            return _done(row, got.sha256, load_head(cache), timings, cache=cache)
        except Exception:
            cache.unlink(missing_ok=True)  # unreadable cache entry: recompute
    try:
        x = extract_video(got.path, settings)
    except DecodeError as exc:
        return Outcome(row, "decode_failed", str(exc), got.sha256, timings=timings)
    except EmbedderUnavailable:
        raise  # a setup problem, not a bad video: stop with the message
    except Exception as exc:
        return Outcome(
            row, "decode_failed", f"{type(exc).__name__}: {exc}", got.sha256, timings=timings
        )
    timings.update(x.timings)
    try:
        save_extraction(x, cache)
    except OSError:  # a full or read-only disk: the faces travel in memory instead
        return _done(row, got.sha256, ExtractionHead.of(x), timings, extraction=x)
    return _done(row, got.sha256, ExtractionHead.of(x), timings, cache=cache)


def _extraction_cache(sha256: str, settings: Settings) -> Path:
    return settings.cache_dir / "extract" / f"{sha256}_{settings.extraction_hash()}.npz"


def cached_outcome(row: VideoRow, settings: Settings, base_dir: Path) -> Outcome | None:
    """The outcome of a row whose video and extraction are both cached, found without the
    network or a model; None when it needs a worker."""
    if row.source_url is None:
        return None
    try:
        got = from_cache(
            row.source_url, settings.cache_dir / "downloads", settings.download, base_dir
        )
        cache = None if got is None else _extraction_cache(got.sha256, settings)
        if got is None or not cache.is_file():
            return None
        return _done(row, got.sha256, load_head(cache), {}, cache=cache)
    except Exception:  # an unreadable file or cache entry: the worker records what is wrong
        return None


def _done(row, sha, head: ExtractionHead, timings, cache=None, extraction=None) -> Outcome:
    status = "ok" if head.n_faces else "no_faces"
    return Outcome(row, status, None, sha, head, cache, extraction, timings)


def _one_thread_each() -> None:
    """Pool initializer: a worker per core already fills the machine; torch's and OpenCV's own
    thread pools in every worker only fight over the same cores (measured: ten times slower)."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
