"""Fetch a video (http(s)://, file:// or a local path) into a content-addressed cache.

Downloads stream to a temp file with a size cap, then move to ``<cache>/blobs/<sha256>``. A small
index file per URL remembers which blob it resolved to, so a re-run skips the network. Failures
raise ``DownloadError`` with a reason a person can act on; callers record it and move on.

A body sent with ``Content-Encoding`` (gzip, deflate; br where a brotli decoder is installed) is
decoded while it streams, asked for or not (some CDNs compress regardless): the cache holds,
and the hash names, the video's own bytes. A full cache disk is ``CacheFull``: a local problem,
never retried as a network one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.settings import DownloadSettings


class DownloadError(RuntimeError):
    pass


# The start of every reason for a full cache disk: the runner stops early on it, and a re-run
# tries such rows again (it says nothing about the URL).
CACHE_FULL = "no space left on the cache disk"
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class CacheFull(DownloadError):
    """The download cache's disk is full (or over quota)."""


def _cache_write_error(exc: OSError, cache_dir: Path) -> DownloadError:
    """The reason for a failed write to the cache: a full disk named as such."""
    if exc.errno in _FULL_ERRNOS:
        try:
            free = f"{shutil.disk_usage(cache_dir).free / 2**20:.1f} MiB free"
        except OSError:
            free = "free space unknown"
        return CacheFull(
            f"{CACHE_FULL} ({cache_dir}, {free}): free space there or point --cache-dir at "
            "another disk, then run again"
        )
    return DownloadError(
        f"cannot write the download cache {cache_dir}: {exc.strerror or exc}; check that "
        "folder or point --cache-dir elsewhere"
    )


class _CacheWrite(Exception):
    """A write to the cache failed (not the network): carries the OSError."""

    def __init__(self, exc: OSError):
        super().__init__(str(exc))
        self.exc = exc


@dataclass(frozen=True)
class Fetched:
    path: Path  # local file holding the bytes (cache blob, or the user's own local file)
    sha256: str
    n_bytes: int
    from_cache: bool


def sha256_file(path: Path) -> str:
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
        raise DownloadError(
            f"unsupported URL scheme {parsed.scheme!r}: use http(s)://, file:// or a path"
        )
    p = Path(url).expanduser()
    return p if p.is_absolute() else base_dir / p


def from_cache(
    url: str, cache_dir: Path, settings: DownloadSettings, base_dir: Path
) -> Fetched | None:
    """The video's bytes without touching the network: a local file that is there and within
    the size cap, or a URL downloaded before; None otherwise."""
    lp = local_path(url, base_dir)
    if lp is not None:
        if not lp.is_file() or lp.stat().st_size > settings.max_bytes:
            return None
        return Fetched(lp, sha256_file(lp), lp.stat().st_size, from_cache=False)
    index = _index_path(cache_dir, url)
    if index.is_file():
        sha = index.read_text().strip()
        blob = cache_dir / "blobs" / sha
        if blob.is_file():
            return Fetched(blob, sha, blob.stat().st_size, from_cache=True)
    return None


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
        return Fetched(lp, sha256_file(lp), size, from_cache=False)
    got = from_cache(url, cache_dir, settings, base_dir)
    if got is not None:
        return got
    index = _index_path(cache_dir, url)

    try:
        net_url = iri_to_uri(url)
    except ValueError as exc:
        raise DownloadError(f"malformed URL: {exc}") from None
    host = urllib.parse.urlparse(net_url).netloc
    dead = _unreachable.get(host)
    if dead is not None and dead[0] >= _BREAKER_AFTER:
        raise DownloadError(f"{dead[1]} (host failed {dead[0]} times in this worker; not retried)")
    attempt = 0
    # One deadline over every attempt: a URL never holds the run longer than this (plus one
    # connect), however the server behaves.
    deadline = time.monotonic() + settings.deadline_s
    while True:
        try:
            got = _download(net_url, cache_dir, settings, index, deadline)
            _unreachable.pop(host, None)
            return got
        except _CacheWrite as exc:
            raise _cache_write_error(exc.exc, cache_dir) from None
        except OSError as exc:  # creating the cache folders or temp file, moving the blob
            raise _cache_write_error(exc, cache_dir) from None
        except _Unreachable as exc:
            n = _unreachable.get(host, (0, ""))[0] + 1
            _unreachable[host] = (n, str(exc))
            raise DownloadError(str(exc)) from None
        except _Transient as exc:
            # Server errors and timeouts say something about one URL, not the host: they
            # never count toward skipping it.
            wait = settings.backoff_s * (2**attempt)
            if attempt >= settings.retries or time.monotonic() + wait >= deadline:
                raise DownloadError(f"{exc} (after {attempt + 1} attempts)") from None
            time.sleep(wait)
            attempt += 1


def iri_to_uri(url: str) -> str:
    """The URL as bytes on the wire: a non-ASCII host in IDNA, other non-ASCII characters
    percent-encoded as UTF-8 (what browsers send); characters already escaped stay as they are."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = parts.netloc
    if not host.isascii():
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"host name {host!r} cannot be encoded: {exc}") from None
        netloc = netloc.replace(host, ascii_host)
    safe = "/:@!$&'()*+,;=-._~%"
    return urllib.parse.urlunsplit(
        (
            parts.scheme,
            netloc,
            urllib.parse.quote(parts.path, safe=safe),
            urllib.parse.quote(parts.query, safe=safe + "?"),
            urllib.parse.quote(parts.fragment, safe=safe + "?"),
        )
    )


# Per-process memory of hosts that could not be reached: a CSV of 268 URLs on one dead host
# should not cost 268 x (timeouts + retries). Cleared by any success on that host.
_unreachable: dict[str, tuple[int, str]] = {}
_BREAKER_AFTER = 3  # consecutive host-level failures (DNS, refused, TLS) before a host is skipped


class _Unreachable(Exception):
    """The host itself failed (name resolution, refused connection, TLS): retrying within
    seconds will not help, and its other URLs will fail the same way."""


class _Transient(Exception):
    pass


def _host_error(reason: object) -> str | None:
    """A reason a person can act on when the error is about the host, else None."""
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host name ({reason.strerror})"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused by the host"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error with the host: {getattr(reason, 'reason', None) or reason}"
    return None


def _brotli_module():
    """An importable brotli decoder module, or None (none is a dependency of this project)."""
    for name in ("brotli", "brotlicffi"):
        try:
            return __import__(name)
        except ImportError:
            continue
    return None


_PIECE = 1 << 20  # decoded bytes produced per step, so a small bomb never fills memory at once


class _Decoder:
    """Undo one Content-Encoding while the body streams: ``feed`` yields decoded pieces,
    ``finish`` checks the compressed stream ended where the body did."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._zlib = None
        self._br = None
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = None  # zlib-wrapped or raw: decided by the first bytes
        elif encoding == "br":
            mod = _brotli_module()
            if mod is None:
                raise DownloadError(
                    "the server sent the body brotli-compressed (Content-Encoding: br) and no "
                    "brotli decoder is installed here (`pip install brotli` adds one); or fetch "
                    "the video from a URL that serves it uncompressed"
                )
            self._br = mod.Decompressor()
        else:
            raise DownloadError(
                f"the server sent the body compressed as {encoding!r} (Content-Encoding), "
                "which this tool cannot decode (it reads gzip, deflate and br); fetch the "
                "video from a URL that serves it uncompressed"
            )

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        try:
            if self._br is not None:
                yield self._br.process(chunk)
                return
            if self._zlib is None:  # deflate: RFC 9110 says zlib-wrapped; some send it raw
                wrapped = (
                    len(chunk) >= 2
                    and chunk[0] & 0x0F == 8
                    and (chunk[0] << 8 | chunk[1]) % 31 == 0
                )
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data = chunk
            while data:
                yield self._zlib.decompress(data, _PIECE)
                data = self._zlib.unconsumed_tail
        except Exception as exc:  # zlib.error, brotli.error
            raise DownloadError(
                f"the body is {self.encoding}-compressed (Content-Encoding: {self.encoding}) "
                f"but does not decompress ({exc}): the server sent it damaged; try again later "
                "or fetch the video from another URL"
            ) from None

    def finish(self) -> bytes:
        if self._zlib is not None:
            if not self._zlib.eof and self.encoding != "deflate":
                raise _Transient(
                    f"the {self.encoding}-compressed body ended before the end of its "
                    "compressed stream (cut short)"
                )
            return self._zlib.flush()
        return b""


def _decoder(headers) -> _Decoder | None:
    """The decoder for a response's Content-Encoding; None for none or identity."""
    names = [
        e.strip().lower()
        for e in (headers.get("Content-Encoding") or "").split(",")
        if e.strip() and e.strip().lower() != "identity"
    ]
    if not names:
        return None
    if len(names) > 1:
        raise DownloadError(
            f"the server compressed the body {len(names)} times over (Content-Encoding: "
            f"{', '.join(names)}); fetch the video from a URL that serves it uncompressed"
        )
    return _Decoder(names[0])


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte (a nearly full disk takes part of a write before refusing the rest)."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except OSError as exc:
            raise _CacheWrite(exc) from None


def _set_read_timeout(resp, seconds: float) -> None:
    """Shorten the socket timeout of an open response so no single read outlives the deadline."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))


def _download(
    url: str, cache_dir: Path, settings: DownloadSettings, index: Path, deadline: float
) -> Fetched:
    """One attempt. The bytes count as the video only when the whole body arrived (its declared
    length, or a clean end of a chunked body) within the deadline; only then are they cached."""
    (cache_dir / "blobs").mkdir(parents=True, exist_ok=True)
    index.parent.mkdir(parents=True, exist_ok=True)
    req = urllib.request.Request(
        url, headers={"User-Agent": "influencer-lens/0.1", "Accept-Encoding": "identity"}
    )
    h = hashlib.sha256()
    n = 0  # bytes received (compressed, when the server compressed)
    size = 0  # bytes of the video itself, decoded
    fd, tmp_name = tempfile.mkstemp(dir=cache_dir / "blobs", prefix=".part-")
    tmp = Path(tmp_name)
    decoder: _Decoder | None = None

    def keep(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > settings.max_bytes:
            raise DownloadError(f"download exceeded the {settings.max_bytes}-byte cap")
        h.update(data)
        _write_all(fd, data)

    try:
        try:
            with urllib.request.urlopen(
                req, timeout=max(min(settings.timeout_s, deadline - time.monotonic()), 0.01)
            ) as resp:
                declared = resp.headers.get("Content-Length")
                declared_n = int(declared) if declared and declared.strip().isdigit() else None
                if declared_n is not None and declared_n > settings.max_bytes:
                    raise DownloadError(
                        f"server says {declared} bytes, over the {settings.max_bytes}-byte cap"
                    )
                decoder = _decoder(resp.headers)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _Transient(
                            f"download took over the {settings.deadline_s:g} s deadline "
                            f"({n} bytes received)"
                        )
                    _set_read_timeout(resp, min(settings.timeout_s, left))
                    # read1: whatever has arrived (up to a chunk), so a trickling server is
                    # checked against the deadline between reads instead of filling a chunk.
                    chunk = resp.read1(settings.chunk_bytes)
                    if not chunk:
                        break
                    n += len(chunk)
                    if decoder is None:
                        keep(chunk)
                    else:
                        for piece in decoder.feed(chunk):
                            keep(piece)
                if declared_n is not None and n != declared_n:
                    raise _Transient(f"download ended short: {n} of {declared_n} bytes")
                if decoder is not None:
                    keep(decoder.finish())
        except urllib.error.HTTPError as exc:
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
            raise DownloadError(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            host = _host_error(exc.reason)
            if host:
                raise _Unreachable(host) from None
            if isinstance(exc.reason, str):  # urllib's own refusals: scheme, redirect loop
                raise DownloadError(f"cannot download: {exc.reason}") from None
            raise _Transient(f"cannot reach host: {exc.reason}") from None
        except http.client.IncompleteRead as exc:
            more = (
                "the body was cut mid-chunk"
                if exc.expected is None
                else (f"{exc.expected} more bytes expected")
            )
            raise _Transient(
                f"download ended short: {len(exc.partial) + n} bytes, {more}"
            ) from None
        except http.client.HTTPException as exc:  # malformed response, bad chunking
            raise _Transient(f"broken HTTP response: {type(exc).__name__} {exc}") from None
        except ssl.SSLError as exc:
            raise _Unreachable(_host_error(exc) or str(exc)) from None
        except TimeoutError:
            if time.monotonic() >= deadline - 0.05:
                raise _Transient(
                    f"download took over the {settings.deadline_s:g} s deadline "
                    f"({n} bytes received)"
                ) from None
            raise _Transient(f"no data for {settings.timeout_s:g} s ({n} bytes received)") from None
        except OSError as exc:  # resets mid-stream
            raise _Transient(f"network error: {exc}") from None
        if size == 0:
            raise DownloadError(
                "server returned an empty body"
                + (f" (after undoing its {decoder.encoding} compression)" if decoder else "")
            )
        sha = h.hexdigest()
        blob = cache_dir / "blobs" / sha
        shutil.move(str(tmp), blob)
        index.write_text(sha)
        return Fetched(blob, sha, size, from_cache=False)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
        if tmp.exists():
            tmp.unlink()
