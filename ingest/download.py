"""Fetch a video (http(s)://, file:// or a local path) into a content-addressed cache.

Downloads stream to a temp file with a size cap, then move to ``<cache>/blobs/<sha256>``. A small
index file per URL remembers which blob it resolved to, so a re-run skips the network. Failures
raise ``DownloadError`` with a reason a person can act on; callers record it and move on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ingest.settings import DownloadSettings


class DownloadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Fetched:
    path: Path  # local file holding the bytes (cache blob, or the user's own local file)
    sha256: str
    n_bytes: int
    from_cache: bool


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def local_path(url: str, base_dir: Path) -> Path | None:
    """The local file a URL names, or None for a network URL. Relative paths resolve against
    the CSV's folder."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("http", "https"):
        return None
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise DownloadError(f"unsupported URL scheme {parsed.scheme!r}: use http(s)://, file:// or a path")
    p = Path(url).expanduser()
    return p if p.is_absolute() else base_dir / p


def _index_path(cache_dir: Path, url: str) -> Path:
    return cache_dir / "urls" / hashlib.sha256(url.encode()).hexdigest()


def fetch(url: str, cache_dir: Path, settings: DownloadSettings, base_dir: Path) -> Fetched:
    """Return the video's bytes on local disk, downloading into the cache when needed."""
    lp = local_path(url, base_dir)
    if lp is not None:
        if not lp.is_file():
            raise DownloadError(f"local file not found: {lp}")
        size = lp.stat().st_size
        if size > settings.max_bytes:
            raise DownloadError(f"file is {size} bytes, over the {settings.max_bytes}-byte cap")
        return Fetched(lp, _sha256_file(lp), size, from_cache=False)

    index = _index_path(cache_dir, url)
    if index.is_file():
        sha = index.read_text().strip()
        blob = cache_dir / "blobs" / sha
        if blob.is_file():
            return Fetched(blob, sha, blob.stat().st_size, from_cache=True)

    host = urllib.parse.urlparse(url).netloc
    dead = _unreachable.get(host)
    if dead is not None and dead[0] >= _BREAKER_AFTER:
        raise DownloadError(f"{dead[1]} (host failed {dead[0]} times in this run; not retried)")
    attempt = 0
    while True:
        try:
            got = _download(url, cache_dir, settings, index)
            _unreachable.pop(host, None)
            return got
        except _Unreachable as exc:
            n = _unreachable.get(host, (0, ""))[0] + 1
            _unreachable[host] = (n, str(exc))
            raise DownloadError(str(exc)) from None
        except _Transient as exc:
            if attempt >= settings.retries:
                n = _unreachable.get(host, (0, ""))[0] + 1
                _unreachable[host] = (n, str(exc))
                raise DownloadError(f"{exc} (after {attempt + 1} attempts)") from None
            time.sleep(settings.backoff_s * (2**attempt))
            attempt += 1


# Per-process memory of hosts that could not be reached: a CSV of 268 URLs on one dead host
# should not cost 268 x (timeouts + retries). Cleared by any success on that host.
_unreachable: dict[str, tuple[int, str]] = {}
_BREAKER_AFTER = 3  # consecutive connection failures before a host is skipped


class _Unreachable(Exception):
    """Name resolution failed: retrying within seconds will not help."""


class _Transient(Exception):
    pass


def _download(url: str, cache_dir: Path, settings: DownloadSettings, index: Path) -> Fetched:
    (cache_dir / "blobs").mkdir(parents=True, exist_ok=True)
    index.parent.mkdir(parents=True, exist_ok=True)
    req = urllib.request.Request(url, headers={"User-Agent": "influencer-lens/0.1"})
    h = hashlib.sha256()
    n = 0
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir / "blobs", prefix=".part-")
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(
                req, timeout=settings.timeout_s
            ) as resp:
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                    raise DownloadError(
                        f"server says {declared} bytes, over the {settings.max_bytes}-byte cap"
                    )
                while chunk := resp.read(settings.chunk_bytes):
                    n += len(chunk)
                    if n > settings.max_bytes:
                        raise DownloadError(f"download exceeded the {settings.max_bytes}-byte cap")
                    h.update(chunk)
                    out.write(chunk)
        except urllib.error.HTTPError as exc:
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
            raise DownloadError(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, socket.gaierror):
                raise _Unreachable(f"cannot resolve host name ({exc.reason.strerror})") from None
            raise _Transient(f"cannot reach host: {exc.reason}") from None
        except OSError as exc:  # timeouts and resets mid-stream
            raise _Transient(f"network error: {exc}") from None
        if n == 0:
            raise DownloadError("server returned an empty body")
        sha = h.hexdigest()
        blob = cache_dir / "blobs" / sha
        shutil.move(str(tmp), blob)
        index.write_text(sha)
        return Fetched(blob, sha, n, from_cache=False)
    finally:
        if tmp.exists():
            tmp.unlink()
