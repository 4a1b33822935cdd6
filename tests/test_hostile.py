"""Hostile input and faults: every CSV row recorded with a status and reason, nothing lost, no
traceback. A local HTTP server on 127.0.0.1 serves crafted responses; every case's CSV also
holds one good video, which must still come out `ok`. Ingest runs in-process with the real
models (loaded once). `make reliability` writes the case table to docs/reliability.md
(RELIABILITY_OUT)."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import gzip
import hashlib
import io
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from ingest import cli
from ingest.extract import download
from ingest.extract.container import sniff_container
from ingest.extract.download import iri_to_uri
from ingest.pipeline.csvin import CsvError, decode_csv_bytes, read_videos_csv
from ingest.pipeline.runner import run
from ingest.settings import DownloadSettings, Settings
from ingest.warehouse.lock import lock_holder
from tests.hostile_media import faststart, tiny_face_video

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- pure functions (fast)


@pytest.mark.parametrize(
    "head, name",
    [
        (b"\x00\x00\x00\x18ftypmp42", "mp4"),
        (b"\x00\x00\x00\x08free\x00\x00\x00\x08mdat", "mp4"),
        (b"\x1a\x45\xdf\xa3\x01\x00", "matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"#EXTM3U\n#EXTINF:10,\n/etc/passwd\n", None),
        (b"\xef\xbb\xbf  #EXTM3U\n", None),
        (b"ffconcat version 1.0\nfile /etc/hosts\n", None),
        (b"v=0\no=- 0 0 IN IP4 127.0.0.1\nm=video 5004 RTP/AVP 96\n", None),
        (b"<?xml version='1.0'?><MPD>", None),
        (b"<!DOCTYPE html><html>", None),
        (b"\xff\xd8\xff\xe0JFIF", None),
        (b"", None),
    ],
)
def test_sniff_container_lets_through_only_self_contained_media(head, name):
    assert sniff_container(head)[0] == name


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html>",
        b"<!-- share page -->\n<!DOCTYPE html><html>",
        b"\xef\xbb\xbf\r\n<!-- a -->  <!-- b -->\n<html><body>",
        b"<!-- a comment longer than the head " + b"x" * 2000,
    ],
)
def test_html_is_html_with_or_without_a_leading_comment_or_bom(head):
    assert sniff_container(head[:1024])[1].startswith("an HTML page")


def test_reasons_are_one_line():
    from ingest.pipeline.process import one_line

    assert one_line("OpenCV(4.11) error:\n  cannot open\r\n\n  in function x") == (
        "OpenCV(4.11) error: / cannot open / in function x"
    )
    assert len(one_line("x" * 5000)) == 500


def test_sniff_names_what_a_playlist_would_do():
    assert "HLS" in sniff_container(b"#EXTM3U\n")[1]
    assert "ffconcat" in sniff_container(b"ffconcat version 1.0\n")[1]


@pytest.mark.parametrize(
    "enc", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252"]
)
def test_decode_csv_bytes_reads_spreadsheet_encodings(enc):
    text = "Performance;Video URL\n1,5;http://h/vidéo – clip\n"  # noqa: RUF001 - a real title's dash
    if enc == "cp1252" or enc.startswith("utf-16-") or enc == "utf-8":
        data = text.encode(enc)
    else:
        data = text.encode(enc)  # with its BOM
    assert decode_csv_bytes(data).lstrip("\ufeff") == text


def test_decode_csv_bytes_refuses_binary():
    with pytest.raises(CsvError, match="binary"):
        decode_csv_bytes(bytes(range(256)) * 40)


def test_iri_to_uri_percent_encodes_once():
    assert iri_to_uri("http://host/vidéo?q=ü") == "http://host/vid%C3%A9o?q=%C3%BC"
    assert iri_to_uri("http://host/a%20b") == "http://host/a%20b"
    assert iri_to_uri("http://bücher.example/x").startswith("http://xn--bcher-kva.example/")


def test_lock_holder_reads_duckdbs_message():
    msg = (
        'IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in '
        "/usr/bin/python3.11 (PID 4242). However, you would be able to ..."
    )
    assert lock_holder(msg) == "/usr/bin/python3.11 (PID 4242)"
    assert lock_holder("IO Error: not a valid DuckDB database file") is None


def test_faststart_keeps_the_video_decodable(tmp_path, shared):
    import cv2

    src = tiny_face_video(shared / "videos" / "1ZLAB__face.mp4", tmp_path / "a.mp4")
    fs = faststart(src.read_bytes())
    assert fs[4:8] == b"ftyp" and fs.index(b"moov") < fs.index(b"mdat")
    (tmp_path / "b.mp4").write_bytes(fs)
    cap = cv2.VideoCapture(str(tmp_path / "b.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 30


# ---------------------------------------------------------------- the crafted server


@dataclass
class Media:
    good: bytes  # a 3 s, 426x240 MP4 with one frontal face
    good_path: Path  # the same bytes on local disk (what a playlist would point at)


def _send(
    h: BaseHTTPRequestHandler,
    body: bytes,
    ctype: str = "video/mp4",
    length: int | None = None,
    status: int = 200,
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body) if length is None else length))
    h.end_headers()
    h.wfile.write(body)


def _encoded(h: BaseHTTPRequestHandler, body: bytes, encoding: str) -> None:
    """A body sent with a Content-Encoding the client did not ask for (it asks for identity)."""
    h.send_response(200)
    h.send_header("Content-Type", "video/mp4")
    h.send_header("Content-Encoding", encoding)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


# Shared with the server: where the /fill route fills a small disk, and what each counted
# route was asked for.
FILL: dict = {}
HITS: dict[str, int] = {}


def _fill(h: BaseHTTPRequestHandler) -> None:
    """Another program filling the disk while the run downloads: leaves FILL['leave'] bytes."""
    if not FILL:
        _send(h, b"gone", "text/plain", status=404)
        return
    folder = FILL["folder"]
    free = shutil.disk_usage(folder).free
    with (folder / "filler").open("ab") as fh:
        fh.write(b"\0" * max(free - FILL["leave"], 0))
    _send(h, b"gone", "text/plain", status=404)


def _counted(h: BaseHTTPRequestHandler, body: bytes) -> None:
    HITS[h.path] = HITS.get(h.path, 0) + 1
    _send(h, body)


def _raw_deflate(data: bytes) -> bytes:
    z = zlib.compressobj(wbits=-15)
    return z.compress(data) + z.flush()


def _routes(m: Media) -> dict:
    good = m.good
    fs = faststart(good)

    def trickle(h, with_length: bool):
        h.send_response(200)
        if with_length:
            h.send_header("Content-Length", str(len(good)))
        h.end_headers()
        for b in good:
            h.wfile.write(bytes([b]))
            h.wfile.flush()
            time.sleep(0.2)

    def stall(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(good)))
        h.end_headers()
        h.wfile.write(good[:1000])
        h.wfile.flush()
        time.sleep(6)

    def chunked_cut(h):
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        half = good[: len(good) // 2]
        h.wfile.write(f"{len(good):x}\r\n".encode() + half)
        h.wfile.flush()
        h.close_connection = True

    def reset(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(good)))
        h.end_headers()
        h.wfile.write(good[: len(good) // 3])
        h.wfile.flush()
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True

    def hangup(h):
        h.close_connection = True  # no status line at all

    def short(h):
        _send(h, good[: len(good) // 2], length=len(good))
        h.close_connection = True

    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n{m.good_path}\n#EXT-X-ENDLIST\n"
    return {
        "/good": lambda h: _send(h, good),
        "/vid%C3%A9o": lambda h: _send(h, good),
        "/trickle": lambda h: trickle(h, True),
        "/trickle-endless": lambda h: trickle(h, False),
        "/stall": stall,
        "/short": short,
        "/chunked-cut": chunked_cut,
        "/reset": reset,
        "/hangup": hangup,
        "/503": lambda h: _send(h, b"busy", "text/plain", status=503),
        "/hls": lambda h: _send(h, playlist.encode(), "application/vnd.apple.mpegurl"),
        "/hls-bom": lambda h: _send(h, b"\xef\xbb\xbf\n" + playlist.encode(), "video/mp4"),
        "/hls-file-url": lambda h: _send(
            h, playlist.replace(str(m.good_path), m.good_path.as_uri()).encode()
        ),
        "/concat": lambda h: _send(h, f"ffconcat version 1.0\nfile '{m.good_path}'\n".encode()),
        "/sdp": lambda h: _send(
            h,
            b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\n"
            b"t=0 0\nm=video 5004 RTP/AVP 96\n",
        ),
        "/dash": lambda h: _send(
            h,
            f"<?xml version='1.0'?><MPD><Period><AdaptationSet>"
            f"<BaseURL>{m.good_path.as_uri()}</BaseURL></AdaptationSet>"
            "</Period></MPD>".encode(),
        ),
        "/cut30-index-first": lambda h: _send(h, fs[: int(len(fs) * 0.3)]),
        "/cut30-index-last": lambda h: _send(h, good[: int(len(good) * 0.3)]),
        "/html": lambda h: _send(h, b"<!DOCTYPE html><html><body>login</body></html>", "text/html"),
        "/random": lambda h: _send(h, hashlib.sha512(b"x").digest() * 400),
        "/gzip": lambda h: _encoded(h, gzip.compress(good), "gzip"),
        "/deflate": lambda h: _encoded(h, zlib.compress(good), "deflate"),
        "/deflate-raw": lambda h: _encoded(h, _raw_deflate(good), "deflate"),
        "/br": lambda h: _encoded(h, hashlib.sha512(b"br").digest() * 100, "br"),
        "/gzip-broken": lambda h: _encoded(h, gzip.compress(good)[:10] + b"\xff" * 500, "gzip"),
        "/gzip-unsaid": lambda h: _send(h, gzip.compress(good)),
        "/html-comment": lambda h: _send(
            h,
            b"<!-- generated by the share page -->\n<!DOCTYPE html><html><body>x</body></html>",
            "text/html",
        ),
        "/html-bom": lambda h: _send(
            h, b"\xef\xbb\xbf\r\n  <html><head><title>x</title></head></html>", "text/html"
        ),
        "/fill": _fill,
        "/counted": lambda h: _counted(h, good),
        "/to-file": lambda h: (
            h.send_response(302),
            h.send_header("Location", m.good_path.as_uri()),
            h.send_header("Content-Length", "0"),
            h.end_headers(),
        ),
    }


@pytest.fixture(scope="module")
def media(shared, tmp_path_factory) -> Media:
    d = tmp_path_factory.mktemp("media")
    p = tiny_face_video(shared / "videos" / "1ZLAB__face.mp4", d / "good.mp4")
    return Media(p.read_bytes(), p)


@pytest.fixture(scope="module")
def server(media):
    routes = _routes(media)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            fn = routes.get(path) or routes.get("/" + path.strip("/").split("/")[0])
            if fn is None:
                _send(self, b"not found", "text/plain", status=404)
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                fn(self)  # the client may give up, as it should

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def warm(server, work) -> None:
    """Models loaded and the good video extracted once, so case timings are the cases' own."""
    _ingest_case(work, "warm-up", [], server + "/good")


def _settings(work: Path, **kw) -> Settings:
    # Short limits so slow-server cases take seconds: 1 s without data, 3 s per URL.
    dl = DownloadSettings(timeout_s=1.0, deadline_s=3.0, retries=2, backoff_s=0.05)
    # One worker process: the models load once for the whole suite, not per case, and the host
    # breaker counts failures per worker process.
    kw.setdefault("workers", 1)
    return Settings(
        download=dl, cache_dir=work / "cache", faces_dir=work / "faces", lock_wait_s=1.0, **kw
    )


# ---------------------------------------------------------------- recording outcomes

RESULTS: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    out = os.environ.get("RELIABILITY_OUT")
    if out and RESULTS:
        Path(out).write_text(render_report(RESULTS))


def render_report(results: list[dict]) -> str:
    n = len(results)
    passing = sum(r["passed"] is True for r in results)
    skipped = sum(r["passed"] is None for r in results)
    lost = sum(r["lost"] for r in results)
    lines = [
        "# Reliability: hostile input and faults",
        "",
        "Written by `make reliability` (tests/test_hostile.py) from the outcomes it observed; "
        "do not edit by hand. Every case's CSV also holds one good video, which must come out "
        "`ok`; a row is lost when the CSV holds it and `raw.videos` does not (setup errors stop "
        "before writing anything: their rows are not lost, no run happened).",
        "",
        f"**{n} cases, {passing} passing, {skipped} skipped, {lost} rows lost.** "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        "| case | input | expected | observed | good row | rows in CSV / written | pass |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        obs = re.sub(r"(file://)?/[^ '\"]*?/pytest-\d+/", "<tmp>/", r["observed"])
        obs = obs.replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {r['case']} | {r['input']} | {r['expected']} | {obs[:220]} | {r['good']} | "
            f"{r['n_csv']} / {r['n_written']} | {_verdict(r['passed'])} |"
        )
    if FIGURES:
        lines += [
            "",
            "## 50,000 rows",
            "",
            "The CSV of the 50,000-row case: 50,000 URLs on a closed local port (each fails at "
            "once, as a dead host does) and one good video. Measured by the suite, running "
            "`python -m ingest run` in a child process with `--workers 1` (the suite's setting; "
            "the good video's extraction cached by the warm-up, so no model loads); peak memory "
            "is the child's maximum resident set (VmHWM).",
            "",
            "| measure | target | observed | met |",
            "|---|---|---|---|",
        ]
        for name, target, value, unit, met in FIGURES:
            lines.append(
                f"| {name} | {target} | {value:.1f} {unit} | {'yes' if met else '**NO**'} |"
            )
    return "\n".join(lines) + "\n"


def _verdict(passed: bool | None) -> str:
    return "skipped" if passed is None else ("yes" if passed else "**NO**")


# (measure, target, value, unit, met) of the 50,000-row case, for the report.
FIGURES: list[tuple[str, str, float, str, bool]] = []


def _record(case, what, expected, observed, good, n_csv, n_written, passed):
    lost = max(n_csv - n_written, 0) if n_written is not None else 0
    RESULTS.append(
        {
            "case": case,
            "input": what,
            "expected": expected,
            "observed": observed,
            "good": good,
            "n_csv": n_csv,
            "n_written": "-" if n_written is None else n_written,
            "lost": lost,
            "passed": passed,
        }
    )


def _write_csv(path: Path, urls: list[str], good_url: str, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(["Performance Score", "Video URL"])
        for i, u in enumerate(urls):
            w.writerow([f"{i + 1}.5", u])
        w.writerow(["9.0", good_url])
    return path


def _ingest_case(
    work: Path, name: str, urls: list[str], good_url: str, settings=None, encoding: str = "utf-8"
):
    download._unreachable.clear()  # each case starts with no host marked dead
    d = work / name
    d.mkdir()
    csv_path = _write_csv(d / "videos.csv", urls, good_url, encoding)
    db = d / "w.duckdb"
    t0 = time.monotonic()
    summary = run(csv_path, db, settings or _settings(work), progress=False)
    took = time.monotonic() - t0
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "select row_number, status, coalesce(error, ''), decoded_share "
        "from raw.videos order by row_number"
    ).fetchall()
    con.close()
    return summary, rows, took


# (case, input, hostile URL paths, expected status of each hostile row, reason fragment)
HTTP_CASES = [
    ("non-ASCII URL", "`http://host/vidéo` (sent percent-encoded)", ["/vidéo"], "ok", ""),
    (
        "1 byte per 0.2 s",
        "server trickles a body with a Content-Length",
        ["/trickle"],
        "download_failed",
        "deadline",
    ),
    (
        "endless trickle",
        "no Content-Length, 1 byte per 0.2 s for ever",
        ["/trickle-endless"],
        "download_failed",
        "deadline",
    ),
    ("stall", "1,000 bytes, then silence", ["/stall"], "download_failed", "bytes received"),
    (
        "short body",
        "Content-Length larger than the body",
        ["/short"],
        "download_failed",
        "ended short",
    ),
    ("chunked cut", "chunked body cut mid-chunk", ["/chunked-cut"], "download_failed", "short"),
    ("reset mid-body", "TCP reset after a third of the body", ["/reset"], "download_failed", ""),
    (
        "hang-up before headers",
        "the server closes without a status line",
        ["/hangup"],
        "download_failed",
        "Remote end closed",
    ),
    (
        "three 503s, then a good URL",
        "three URLs answering 503 on the good URL's host",
        ["/503/a", "/503/b", "/503/c"],
        "download_failed",
        "HTTP 503",
    ),
    ("HLS playlist", "an m3u8 naming a local video file", ["/hls"], "decode_failed", "HLS"),
    (
        "HLS with BOM",
        "the same playlist after a BOM and a blank line, served as video/mp4",
        ["/hls-bom"],
        "decode_failed",
        "HLS",
    ),
    (
        "HLS with file:// URL",
        "a playlist naming the local file as file://",
        ["/hls-file-url"],
        "decode_failed",
        "HLS",
    ),
    (
        "ffconcat script",
        "an ffconcat file naming a local video",
        ["/concat"],
        "decode_failed",
        "ffconcat",
    ),
    ("SDP description", "an SDP naming an RTP stream", ["/sdp"], "decode_failed", "SDP"),
    ("DASH manifest", "an MPD naming a local file", ["/dash"], "decode_failed", "manifest"),
    (
        "mp4 cut at 30%, index first",
        "faststart MP4, first 30% of the bytes",
        ["/cut30-index-first"],
        "ok",
        "",
    ),
    (
        "mp4 cut at 30%, index last",
        "plain MP4, first 30% (no index)",
        ["/cut30-index-last"],
        "decode_failed",
        "cannot open",
    ),
    ("HTML page", "a login page with status 200", ["/html"], "decode_failed", "HTML"),
    ("random bytes", "25 KB of noise", ["/random"], "decode_failed", "no known video"),
    (
        "HTML after a comment",
        "a page whose first line is `<!-- ... -->`",
        ["/html-comment"],
        "decode_failed",
        "HTML page",
    ),
    (
        "HTML after a BOM",
        "a page after a UTF-8 BOM and blanks",
        ["/html-bom"],
        "decode_failed",
        "HTML",
    ),
    ("gzip body", "the video sent with Content-Encoding: gzip, unasked", ["/gzip"], "ok", ""),
    (
        "deflate body",
        "the video sent zlib-wrapped, Content-Encoding: deflate",
        ["/deflate"],
        "ok",
        "",
    ),
    (
        "raw deflate body",
        "the video sent raw-deflated, Content-Encoding: deflate",
        ["/deflate-raw"],
        "ok",
        "",
    ),
    (
        "brotli body",
        "Content-Encoding: br (no brotli decoder in this venv)",
        ["/br"],
        "download_failed",
        "brotli",
    ),
    (
        "broken gzip",
        "Content-Encoding: gzip over bytes that do not decompress",
        ["/gzip-broken"],
        "download_failed",
        "does not decompress",
    ),
    (
        "gzip without saying so",
        "a gzip file sent as video/mp4, no Content-Encoding",
        ["/gzip-unsaid"],
        "decode_failed",
        "gzip-compressed",
    ),
    (
        "redirect to file://",
        "302 to the local video's file:// URL",
        ["/to-file"],
        "download_failed",
        "",
    ),
    ("404", "a missing URL", ["/nothing-here"], "download_failed", "HTTP 404"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "case, what, paths, status, reason", HTTP_CASES, ids=[c[0] for c in HTTP_CASES]
)
def test_http_case(case, what, paths, status, reason, server, media, work, warm):
    urls = [server + p for p in paths]
    summary, rows, took = _ingest_case(work, f"c{len(RESULTS)}", urls, server + "/good")
    *hostile, good = rows
    observed = "; ".join(f"{s}: {e}" if e else s for _, s, e, _ in hostile)
    ok = (
        len(rows) == len(urls) + 1
        and good[1] == "ok"
        and all(h[1] == status and reason in h[2] and "\n" not in h[2] for h in hostile)
        # The deadline is 3 s a URL: a hang (a trickle of 71 KB at 5 B/s is 4 hours) shows
        # here; the bound is loose because the run also clusters and writes, on shared cores.
        and (took < 60 or status == "ok")
    )
    if case.endswith("body") and status == "ok":  # compressed: cached and hashed decoded
        sha = hashlib.sha256(media.good).hexdigest()
        index = work / "cache" / "downloads" / "urls" / hashlib.sha256(urls[0].encode()).hexdigest()
        ok = ok and index.read_text() == sha
        observed += f" (cached and hashed as the decoded video: {index.read_text() == sha})"
    if case.startswith("mp4 cut at 30%, index first"):
        share = hostile[0][3]
        observed += f" (decoded_share {share:.2f}; summary lists it as partly decoded)"
        ok = ok and share is not None and share < 0.5 and bool(summary.partial)
    _record(
        case,
        what,
        f"{status}" + (f" ({reason})" if reason else ""),
        observed,
        good[1],
        len(urls) + 1,
        len(rows),
        ok,
    )
    assert ok, (rows, took)


@pytest.mark.slow
def test_short_body_is_never_cached(server, work):
    url = server + "/short"
    _ingest_case(work, "short-twice-1", [url], server + "/good")
    index = work / "cache" / "downloads" / "urls" / hashlib.sha256(url.encode()).hexdigest()
    ok = not index.exists() and not list((work / "cache" / "downloads" / "blobs").glob(".part-*"))
    _record(
        "short body, not cached",
        "the short body again, cache checked",
        "no cache entry for the URL, no partial file",
        "cache index present" if index.exists() else "no cache entry",
        "ok",
        2,
        2,
        ok,
    )
    assert ok


@pytest.mark.slow
def test_refused_connections_trip_the_breaker_for_that_host_only(server, work):
    dead = f"http://127.0.0.1:{_closed_port()}"
    urls = [f"{dead}/{k}" for k in range(4)]
    _, rows, _ = _ingest_case(work, "refused", urls, server + "/good")
    *hostile, good = rows
    ok = (
        len(rows) == 5
        and good[1] == "ok"
        and all("connection refused" in h[2] for h in hostile[:3])
        and "host failed 3 times in this worker" in hostile[3][2]
    )
    _record(
        "refused x4",
        "four URLs on a closed port",
        "download_failed; the 4th skipped (host failed 3 times)",
        "; ".join(h[2] for h in hostile),
        good[1],
        5,
        len(rows),
        ok,
    )
    assert ok


def _local_playlist(server: str, media: Media, work: Path) -> str:
    pl = work / "local.m3u8"
    pl.write_text(f"#EXTM3U\n#EXTINF:3.0,\n{media.good_path}\n#EXT-X-ENDLIST\n")
    return str(pl)


# (case, input, the hostile row's URL from (server, media, work), status, reason fragment)
SINGLE_ROW_CASES = [
    (
        "TLS failure",
        "https:// to a plain-HTTP port",
        lambda srv, m, w: srv.replace("http://", "https://") + "/good",
        "download_failed",
        "TLS",
    ),
    (
        "local playlist path",
        "a CSV path to an .m3u8 on disk naming a video",
        _local_playlist,
        "decode_failed",
        "HLS",
    ),
    (
        "URL of 140,000 characters",
        "over the csv module's 131,072 field limit",
        lambda srv, m, w: srv + "/good?" + "a" * 140_000,
        "rejected",
        "characters",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "case, what, make_url, status, reason", SINGLE_ROW_CASES, ids=[c[0] for c in SINGLE_ROW_CASES]
)
def test_single_row_case(case, what, make_url, status, reason, server, media, work):
    url = make_url(server, media, work)
    _, rows, _ = _ingest_case(work, f"c{len(RESULTS)}", [url], server + "/good")
    ok = len(rows) == 2 and rows[0][1] == status and reason in rows[0][2] and rows[1][1] == "ok"
    _record(
        case,
        what,
        f"{status} ({reason})",
        f"{rows[0][1]}: {rows[0][2]}",
        rows[1][1],
        2,
        len(rows),
        ok,
    )
    assert ok, rows


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-16-le", "utf-8-sig"])
def test_csv_encodings(encoding, server, work):
    _, rows, _ = _ingest_case(
        work, f"enc-{encoding}", [server + "/vidéo"], server + "/good", encoding=encoding
    )
    ok = [r[1] for r in rows] == ["ok", "ok"]
    _record(
        f"CSV in {encoding}",
        "a URL with é in a CSV so encoded",
        "both rows ok",
        ", ".join(r[1] for r in rows),
        rows[-1][1],
        2,
        len(rows),
        ok,
    )
    assert ok


@pytest.mark.slow
def test_stray_nul_byte_rejects_its_row_only(server, work):
    d = work / "nul"
    d.mkdir()
    csv_path = d / "v.csv"
    csv_path.write_bytes(f"score,url\n1,{server}/go\x00od\n2,{server}/good\n".encode())
    rows = read_videos_csv(csv_path)
    summary = run(csv_path, d / "w.duckdb", _settings(work), progress=False)
    ok = summary.statuses == {"rejected": 1, "ok": 1} and "control" in rows[0].reject_reason
    _record(
        "stray NUL byte",
        "a NUL inside one URL cell",
        "that row rejected",
        rows[0].reject_reason or "",
        "ok" if summary.statuses["ok"] else "lost",
        2,
        summary.n_rows,
        ok,
    )
    assert ok


# ---------------------------------------------------------------- setup problems: exit 2


def _cli(args: list[str], capsys) -> tuple[int, str]:
    rc = cli.main(
        ["run", *args, "--no-progress", "--download-deadline", "3", "--download-timeout", "1"]
    )
    return rc, capsys.readouterr().err


def _setup_case(case, what, rc, err, db: Path, ok_extra=True):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    ok = (
        rc == 2
        and len(lines) == 1
        and lines[0].startswith("error:")
        and "Traceback" not in err
        and ok_extra
    )
    _record(
        case, what, "exit 2, one line, nothing written", f"exit {rc}: {lines[:1]}", "-", 0, None, ok
    )
    return ok


@pytest.mark.slow
@pytest.mark.parametrize(
    "case, content",
    [
        ("CSV without a score column", b"Video URL,Title\nhttp://127.0.0.1:9/a,x\n"),
        ("binary file as the CSV", bytes(range(256)) * 64),
        ("empty CSV", b""),
    ],
)
def test_unusable_csv_stops_before_writing(case, content, work, capsys):
    d = work / f"setup-{len(RESULTS)}"
    d.mkdir()
    (d / "v.csv").write_bytes(content)
    db = d / "w.duckdb"
    rc, err = _cli([str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys)
    assert _setup_case(case, "the file as given", rc, err, db, not db.exists()), err


@pytest.mark.slow
def test_not_a_duckdb_file_is_a_setup_error(server, work, capsys):
    d = work / "notdb"
    d.mkdir()
    db = d / "w.duckdb"
    db.write_bytes(b"hello" * 1000)
    _write_csv(d / "v.csv", [], server + "/good")
    rc, err = _cli([str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys)
    assert _setup_case(
        "--db is not a DuckDB file",
        "5 KB of text at the warehouse path",
        rc,
        err,
        db,
        db.read_bytes() == b"hello" * 1000,
    ), err


def _hold(db: Path, read_only: bool, seconds: float) -> subprocess.Popen:
    """Another process holding the warehouse (a notebook reading it, or a second run)."""
    code = (
        f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only={read_only}); "
        f"print('held', flush=True); time.sleep({seconds}); c.close()"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


@pytest.mark.slow
@pytest.mark.parametrize("read_only", [True, False], ids=["reader", "writer"])
def test_warehouse_held_by_another_process(read_only, server, work, capsys):
    d = work / f"held-{read_only}"
    d.mkdir()
    db = d / "w.duckdb"
    duckdb.connect(str(db)).close()
    held_url = server + f"/vidéo?held={read_only}"  # a URL no other case downloads
    csv_path = _write_csv(d / "v.csv", [held_url], server + "/good")
    holder = _hold(db, read_only, 600)  # until killed below
    try:
        rc, err = _cli(
            [
                str(csv_path),
                "--db",
                str(db),
                "--cache-dir",
                str(work / "cache"),
                "--lock-wait",
                "1",
            ],
            capsys,
        )
    finally:
        holder.kill()
        holder.wait()
    index = hashlib.sha256(held_url.encode()).hexdigest()
    downloaded = (work / "cache" / "downloads" / "urls" / index).is_file()
    who = "a read-only reader" if read_only else "another writer (a second run)"
    ok = _setup_case(
        f"warehouse held by {who}",
        "held throughout; --lock-wait 1",
        rc,
        err,
        db,
        f"PID {holder.pid}" in err and downloaded,
    )
    RESULTS[-1]["observed"] += " (CSV read and videos downloaded before waiting)"
    assert ok, err


@pytest.mark.slow
def test_run_waits_for_a_holder_that_lets_go(server, work):
    d = work / "wait"
    d.mkdir()
    db = d / "w.duckdb"
    duckdb.connect(str(db)).close()
    holder = _hold(db, False, 2)
    try:
        s = dataclasses.replace(_settings(work), lock_wait_s=30)
        csv_path = _write_csv(d / "v.csv", [], server + "/good")
        summary = run(csv_path, db, s, progress=False)
    finally:
        holder.wait()
    ok = summary.statuses == {"ok": 1}
    _record(
        "a second writer for 2 s",
        "another process writes for 2 s; lock wait 30 s",
        "waits, then ok",
        str(dict(summary.statuses)),
        "ok" if ok else "lost",
        1,
        summary.n_rows,
        ok,
    )
    assert ok


# ---------------------------------------------------------------- the corrections file (#51)

# Three real clips of one person each; each case writes the same corrections saved another way.
CORRECTION_CLIPS = {
    "hieubkvn123__biden.mp4": "José Müller",
    "hieubkvn123__stanwin.mp4": 'Ana "the host", Lda',
    "emotion-morphing__obama.mp4": None,  # hidden
}


@pytest.fixture(scope="module")
def people_base(shared, work) -> dict:
    """A warehouse of CORRECTION_CLIPS (real models, 4 frames a clip), and each clip's person."""
    d = work / "people-base"
    d.mkdir()
    csv_path = d / "videos.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Performance", "Video URL"])
        for i, clip in enumerate(CORRECTION_CLIPS):
            w.writerow([f"{i + 1}.0", str((shared / "videos" / clip).resolve())])
    db = d / "w.duckdb"
    s = dataclasses.replace(_settings(work), people_file=d / "w.people.csv")
    s = s.with_overrides(max_frames=4)
    run(csv_path, db, s, progress=False)
    con = duckdb.connect(str(db), read_only=True)
    who = dict(
        con.execute(
            "select regexp_extract(v.source_url, '[^/]+$'), min(c.cluster_id) from raw.videos v "
            "join raw.faces f using (video_id) join raw.face_clusters c using (face_id) "
            "where c.cluster_id >= 1 group by 1"
        ).fetchall()
    )
    wid = con.execute("select warehouse_id from raw.warehouse_meta").fetchone()[0]
    con.close()
    assert set(who) == set(CORRECTION_CLIPS) and len(set(who.values())) == 3, who
    return {"csv": csv_path, "db": db, "wid": wid, "who": who}


def _corrections_rows(who: dict) -> list[list[str]]:
    rows = []
    for clip, name in CORRECTION_CLIPS.items():
        iid = str(who[clip])
        rows.append(["name", iid, "", "", name] if name else ["hide", iid, "", "", ""])
    return rows


def _corrections_text(base: dict, sep: str = ",", quote_all: bool = False, bound=True) -> str:
    buf = io.StringIO()
    w = csv.writer(
        buf, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else 0
    )
    w.writerow(["action", "influencer_id", "other_id", "video_id", "name"])
    w.writerows(_corrections_rows(base["who"]))
    line = (
        f"# warehouse: {base['wid']} (ids are this warehouse's: `ingest people export` and "
        "`import` carry names to another)\n"
    )
    return (line if bound else "") + buf.getvalue()


def _saved(base: dict) -> dict:
    """case -> (input description, bytes, expected: 'applied' or a fragment of the one line)."""
    plain = _corrections_text(base)
    quoted_binding = (
        '"'
        + plain.splitlines()[0]
        + '",,,,\n'
        + _corrections_text(base, quote_all=True, bound=False)
    )
    return {
        "UTF-8, CRLF line ends": (
            "the plain file",
            plain.replace("\n", "\r\n").encode(),
            "applied",
        ),
        "cp1252 from a Windows spreadsheet": ("names with é, ü", plain.encode("cp1252"), "applied"),
        "UTF-16": ("as Excel's Unicode text", plain.encode("utf-16"), "applied"),
        "UTF-8 with a byte-order mark": ("Excel's CSV UTF-8", plain.encode("utf-8-sig"), "applied"),
        "semicolons (European spreadsheet)": (
            "cp1252, ; between cells",
            _corrections_text(base, ";").encode("cp1252"),
            "applied",
        ),
        "every cell quoted": (
            "the binding a quoted first cell padded with empty cells",
            quoted_binding.replace("\n", "\r\n").encode("utf-8-sig"),
            "applied",
        ),
        "empty lines": (
            "an empty row in the middle, empty lines at the end",
            plain.replace("\nhide", "\n,,,,\n\nhide").encode() + b"\n\n\n",
            "applied",
        ),
        "the binding line lost": (
            "semicolons, no `# warehouse:` line",
            _corrections_text(base, ";", bound=False).encode("cp1252"),
            "ingest people bind",
        ),
        "an invisible character before the binding": (
            "a zero-width space before `# warehouse:`",
            ("\u200b" + plain).encode(),
            "a zero-width space",
        ),
        "not text at all": ("random bytes", bytes(range(256)) * 8, "binary, not text"),
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "UTF-8, CRLF line ends",
        "cp1252 from a Windows spreadsheet",
        "UTF-16",
        "UTF-8 with a byte-order mark",
        "semicolons (European spreadsheet)",
        "every cell quoted",
        "empty lines",
        "the binding line lost",
        "an invisible character before the binding",
        "not text at all",
    ],
)
def test_corrections_file_as_saved_by_an_editor(case, people_base, work, capsys):
    what, data, expected = _saved(people_base)[case]
    d = work / f"people-{len(RESULTS)}"
    d.mkdir()
    db = d / "w.duckdb"
    shutil.copyfile(people_base["db"], db)
    file = d / "w.people.csv"
    file.write_bytes(data)
    before = db.read_bytes()
    args = [str(people_base["csv"]), "--db", str(db), "--cache-dir", str(work / "cache")]
    args += ["--faces-dir", str(d / "faces"), "--max-frames", "4", "--workers", "1"]
    capsys.readouterr()
    rc = cli.main(["run", *args, "--no-progress"])
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    con = duckdb.connect(str(db), read_only=True)
    applied = sorted(
        con.execute("select action, influencer_id, name from raw.people_corrections").fetchall(),
        key=str,
    )
    n_written = con.execute("select count(*) from raw.videos").fetchone()[0]
    con.close()
    want = sorted(
        ((r[0], int(r[1]), r[4] or None) for r in _corrections_rows(people_base["who"])), key=str
    )
    if expected == "applied":
        ok = rc == 0 and applied == want and "Traceback" not in err
        observed = f"exit {rc}; {len(applied)} corrections applied" + (
            ", names as written" if applied == want else f": {applied}"
        )
        if case == "cp1252 from a Windows spreadsheet" and ok:
            # Anchored by the run, in the encoding it was found in, and read back the same.
            again = file.read_bytes()
            ok = again != data and "José Müller" in again.decode("cp1252")
            observed += "; file anchored, still cp1252" if ok else "; file not kept in cp1252"
    else:
        ok = (
            rc == 2
            and len(errors) == 1
            and expected in errors[0]
            and "Traceback" not in err
            and db.read_bytes() == before
            and file.read_bytes() == data
        )
        observed = f"exit {rc}: {errors[:1]}"
        if case == "the binding line lost" and ok:
            rc2 = cli.main(["people", "bind", "--db", str(db)])
            rc3 = cli.main(["run", *args, "--no-progress"])
            con = duckdb.connect(str(db), read_only=True)
            rows = con.execute("select action, influencer_id, name from raw.people_corrections")
            again = sorted(rows.fetchall(), key=str)
            con.close()
            ok = rc2 == 0 and rc3 == 0 and again == want
            observed += f"; after `ingest people bind`: exit {rc3}, {len(again)} applied"
    _record(
        f"corrections file: {case}",
        what,
        "the same corrections applied"
        if expected == "applied"
        else "exit 2, one line with file (and line), nothing written",
        observed,
        "-",
        len(CORRECTION_CLIPS),
        n_written,
        ok,
    )
    assert ok, (observed, err[-2000:])


# ---------------------------------------------------------------- the warehouse and the disk


def _unique_url(server: str, tag: str) -> str:
    """A URL no other case downloads, so its cache entry tells whether this case fetched."""
    return f"{server}/vidéo?case={urllib.parse.quote(tag)}"


def _fetched(work: Path, url: str) -> bool:
    index = work / "cache" / "downloads" / "urls" / hashlib.sha256(url.encode()).hexdigest()
    return index.is_file()


def _good_warehouse(server: str, work: Path, name: str) -> tuple[Path, Path]:
    """A warehouse holding the good video, written by a real run: (its folder, its path)."""
    d = work / name
    d.mkdir()
    db = d / "w.duckdb"
    run(_write_csv(d / "first.csv", [], server + "/good"), db, _settings(work), progress=False)
    return d, db


@pytest.mark.slow
def test_cut_short_warehouse_stops_before_any_download(server, work, capsys):
    d, db = _good_warehouse(server, work, "cut")
    data = db.read_bytes()
    db.write_bytes(data[: len(data) * 2 // 3])  # copied while being written
    cut = db.read_bytes()
    url = _unique_url(server, "cut")
    _write_csv(d / "v.csv", [url], server + "/good")
    rc, err = _cli([str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys)
    ok = _setup_case(
        "warehouse cut short",
        "the last third of a real warehouse file cut off",
        rc,
        err,
        db,
        db.read_bytes() == cut and not _fetched(work, url) and "cut short" in err,
    )
    RESULTS[-1]["observed"] += " (file unchanged, nothing downloaded)"
    assert ok, err


@pytest.mark.slow
def test_another_programs_duckdb_file_is_refused(server, work, capsys):
    d = work / "foreign"
    d.mkdir()
    db = d / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table sales as select 1 as id, 9.5 as amount")
    con.close()
    before = db.read_bytes()
    url = _unique_url(server, "foreign")
    _write_csv(d / "v.csv", [url], server + "/good")
    rc, err = _cli([str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys)
    ok = _setup_case(
        "--db is another program's DuckDB file",
        "a DuckDB file holding main.sales",
        rc,
        err,
        db,
        db.read_bytes() == before and not _fetched(work, url) and "another program" in err,
    )
    assert ok, err


def _stale_wal(db: Path) -> None:
    """Leave beside ``db`` a WAL from an earlier state of it (what a restore of the file
    without its log, or a copy taken mid-write, leaves)."""
    con = duckdb.connect(str(db))
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("set checkpoint_threshold = '1TB'")
    con.execute("create table raw.scratch (a integer)")
    con.close()
    wal = Path(f"{db}.wal")
    old = wal.read_bytes()
    con = duckdb.connect(str(db))
    con.execute("drop table raw.scratch")
    con.execute("checkpoint")
    con.close()
    wal.write_bytes(old)


@pytest.mark.slow
def test_stale_wal_is_moved_aside_and_the_run_goes_on(server, work, capsys):
    d, db = _good_warehouse(server, work, "stalewal")
    _stale_wal(db)
    wal = Path(f"{db}.wal")
    wal_bytes = wal.read_bytes()
    with pytest.raises(duckdb.Error, match="WAL"):  # what every reader met before
        duckdb.connect(str(db), read_only=True)
    _write_csv(d / "v.csv", [server + "/404-stale"], server + "/good")
    rc, err = _cli([str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys)
    aside = sorted(d.glob("w.duckdb.wal.stale-*"))
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select status from raw.videos order by row_number").fetchall()
    con.close()
    ok = (
        rc == 0
        and len(aside) == 1
        and aside[0].read_bytes() == wal_bytes
        and "moved it aside" in err
        and [r[0] for r in rows] == ["download_failed", "ok"]
    )
    _record(
        "stale write-ahead log",
        "a .wal from an earlier state beside a real warehouse",
        "the log moved aside to a dated file (kept), the run goes on",
        f"exit {rc}; {[ln for ln in err.splitlines() if ln.startswith('note')][:1]}; "
        f"kept as {aside[0].name if aside else 'nothing'}",
        rows[-1][0] if rows else "lost",
        2,
        len(rows),
        ok,
    )
    assert ok, err


@contextlib.contextmanager
def small_disk(path: Path, size: str, read_only: bool = False):
    """A filesystem of ``size`` mounted at ``path`` (tmpfs: needs root). Skips the test, saying
    why, where mounting is not possible; a full disk is never faked."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    try:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        why = r.stderr.strip() or f"exit {r.returncode}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        r, why = None, str(exc)
    if r is None or r.returncode != 0:
        reason = f"cannot mount a small filesystem here ({why}); run the suite as root"
        print(f"SKIP: {reason}", file=sys.stderr)
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@contextlib.contextmanager
def _skip_record(case: str, what: str, expected: str):
    """A case skipped for want of a small filesystem still shows in the report, as skipped."""
    try:
        yield
    except pytest.skip.Exception as exc:
        _record(case, what, expected, f"skipped: {exc}", "-", 0, None, None)
        raise


@pytest.mark.slow
def test_unwritable_folder_stops_before_any_download(server, work, capsys):
    case, what = "--db on a read-only disk", "the warehouse's folder mounted read-only"
    expected = "exit 2, one line, nothing written"
    d = work / "rofs"
    with contextlib.ExitStack() as stack:
        stack.enter_context(_skip_record(case, what, expected))
        mnt = stack.enter_context(small_disk(d / "mnt", "1m", read_only=True))
        url = _unique_url(server, "rofs")
        _write_csv(d / "v.csv", [url], server + "/good")
        db = mnt / "w.duckdb"
        rc, err = _cli(
            [str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys
        )
        ok = _setup_case(case, what, rc, err, db, not _fetched(work, url) and "cannot write" in err)
    assert ok, err


@pytest.mark.slow
def test_full_disk_before_the_run_stops_it_before_any_download(server, work, capsys):
    case, what = "warehouse disk already full", "2 MiB disk with 100 KB free"
    d = work / "fullbefore"
    with contextlib.ExitStack() as stack:
        stack.enter_context(_skip_record(case, what, "exit 2, one line, nothing written"))
        mnt = stack.enter_context(small_disk(d / "mnt", "2m"))
        (mnt / "filler").write_bytes(b"\0" * (shutil.disk_usage(mnt).free - 100_000))
        url = _unique_url(server, "fullbefore")
        _write_csv(d / "v.csv", [url], server + "/good")
        db = mnt / "w.duckdb"
        rc, err = _cli(
            [str(d / "v.csv"), "--db", str(db), "--cache-dir", str(work / "cache")], capsys
        )
        ok = _setup_case(
            case,
            what,
            rc,
            err,
            db,
            not _fetched(work, url) and "disk full" in err and not db.exists(),
        )
    assert ok, err


def _statuses(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [
            r[0]
            for r in con.execute("select status from raw.videos order by row_number").fetchall()
        ]
    finally:
        con.close()


@pytest.mark.slow
def test_disk_filling_during_the_run_is_reported_and_the_rerun_resumes(server, work, capsys):
    case = "warehouse disk fills during the run"
    what = "16 MiB disk; another program fills it mid-run, leaving 256 KiB; then space is freed"
    d = work / "fullduring"
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            _skip_record(
                case, what, "exit 2 'disk full' + path; committed rows kept; re-run resumes"
            )
        )
        mnt = stack.enter_context(small_disk(d / "mnt", "16m"))
        db = mnt / "w.duckdb"
        dead = f"http://127.0.0.1:{_closed_port()}"
        first = [f"{dead}/first/{k}" for k in range(50)]
        download._unreachable.clear()
        s = dataclasses.replace(_settings(work), faces_dir=d / "faces")
        run(_write_csv(d / "first.csv", first, server + "/good"), db, s, progress=False)
        committed = _statuses(db)
        # The second CSV: the same rows, then a URL whose request fills the disk, then 3,000
        # new dead URLs of 1,500 characters (about 5 MB to write: more than is left).
        FILL.update(folder=mnt, leave=256 * 1024)
        more = [server + "/fill"] + [f"{dead}/{k}/{'x' * 1500}" for k in range(3000)]
        csv2 = _write_csv(d / "second.csv", first + more, server + "/good")
        download._unreachable.clear()
        args = [
            str(csv2),
            "--db",
            str(db),
            "--cache-dir",
            str(work / "cache"),
            "--faces-dir",
            str(d / "faces"),
        ]
        rc, err = _cli(args, capsys)
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        kept = _statuses(db)
        FILL.clear()
        (mnt / "filler").unlink()  # the user frees space
        download._unreachable.clear()
        rc2, err2 = _cli(args, capsys)
        after = _statuses(db)
        n_csv = len(first) + len(more) + 1
        ok = (
            rc == 2
            and len(lines) == 1
            and "disk full" in lines[0]
            and str(db) in lines[0]
            and "Traceback" not in err
            and kept == committed
            and rc2 == 0
            and len(after) == n_csv
            and after[-1] == "ok"
        )
        _record(
            case,
            what,
            "exit 2 'disk full' + path; committed rows kept; re-run resumes",
            f"exit {rc}: {lines[:1]}; rows kept {len(kept)} of {len(committed)}; "
            f"after freeing space: exit {rc2}, {len(after)} rows",
            after[-1] if after else "lost",
            n_csv,
            len(after),
            ok,
        )
    assert ok, (err, err2)


@pytest.mark.slow
def test_full_cache_disk_is_named_never_retried_and_stops_the_run(server, media, work, capsys):
    case = "cache disk full"
    what = "the download cache on a 1 MiB disk with 20 KB free; 5 URLs of a 71 KB video"
    expected = "'no space left on the cache disk', 1 request a URL, stops after 3"
    d = work / "cachefull"
    with contextlib.ExitStack() as stack:
        stack.enter_context(_skip_record(case, what, expected))
        mnt = stack.enter_context(small_disk(d / "mnt", "1m"))
        (mnt / "filler").write_bytes(b"\0" * (shutil.disk_usage(mnt).free - 20_000))
        urls = [f"{server}/counted/{k}" for k in range(5)]
        HITS.clear()
        csv_path = d / "v.csv"
        with csv_path.open("w", newline="") as fh:  # the good video first: a local file
            w = csv.writer(fh)
            w.writerow(["Performance Score", "Video URL"])
            w.writerow(["9.0", str(media.good_path)])
            w.writerows([f"{k}.5", u] for k, u in enumerate(urls))
        db = d / "w.duckdb"
        download._unreachable.clear()
        rc = cli.main(
            ["run", str(csv_path), "--db", str(db), "--cache-dir", str(mnt), "--no-progress"]
            + ["--workers", "1"]
        )
        err = capsys.readouterr().err
        con = duckdb.connect(str(db), read_only=True)
        rows = con.execute("select status, error from raw.videos order by row_number").fetchall()
        con.close()
        hostile = rows[1:]
        ok = (
            rc == 2
            and len(rows) == 6
            and rows[0][0] == "ok"
            and all(
                s == "download_failed" and e.startswith("no space left on the cache disk")
                for s, e in hostile
            )
            and all("not tried" in e for _, e in hostile[3:])
            and all("not tried" not in e for _, e in hostile[:3])
            and sum(HITS.values()) == 3
            and "Traceback" not in err
        )
        _record(
            case,
            what,
            expected,
            f"exit {rc}; {hostile[0][1]}; requests: {sum(HITS.values())} for 3 tried; "
            f"rows 5-6: {hostile[-1][1][:90]}",
            rows[0][0] if rows else "lost",
            6,
            len(rows),
            ok,
        )
    assert ok, (rows, HITS, err)


# The child's own peak: VmHWM starts afresh at exec, where ru_maxrss keeps the high-water mark
# of the process it was forked from (this one, models loaded).
_PEAK = (
    "import re, sys\n"
    "from ingest import cli\n"
    "rc = cli.main(sys.argv[1:])\n"
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]\n"
    "print('PEAK_KB', hwm, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def _timed_run(args: list[str]) -> tuple[int, float, float, str]:
    """`python -m ingest run ARGS` in a child process: (exit code, seconds, peak MiB, output)."""
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-c", _PEAK, "run", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    took = time.monotonic() - t0
    peak = re.search(r"PEAK_KB (\d+)", p.stderr)
    return p.returncode, took, int(peak[1]) / 1024 if peak else float("nan"), p.stdout + p.stderr


@pytest.mark.slow
def test_fifty_thousand_rows(server, work, warm):
    case = "50,000 rows"
    what = "50,000 URLs on a closed port and one good video; then the same CSV again"
    d = work / "fifty"
    d.mkdir()
    dead = f"http://127.0.0.1:{_closed_port()}"
    csv_path = _write_csv(d / "v.csv", [f"{dead}/v/{k}" for k in range(50_000)], server + "/good")
    db = d / "w.duckdb"
    args = [str(csv_path), "--db", str(db), "--cache-dir", str(work / "cache")]
    args += ["--faces-dir", str(d / "faces"), "--workers", "1", "--no-progress"]
    rc1, t1, m1, err1 = _timed_run(args)
    rc2, t2, m2, err2 = _timed_run(args)
    con = duckdb.connect(str(db), read_only=True)
    n, n_failed, good = con.execute(
        "select count(*), count(*) filter (status = 'download_failed'), "
        "max(status) filter (row_number = 50001) from raw.videos"
    ).fetchall()[0]
    runs = con.execute("select n_rows, n_download_failed from raw.ingest_runs").fetchall()
    con.close()
    FIGURES[:] = [
        ("first run", "< 60 s", t1, "s", t1 < 60),
        ("re-run", "< 10 s", t2, "s", t2 < 10),
        ("peak memory, first run", "< 1024 MiB", m1, "MiB", m1 < 1024),
        ("peak memory, re-run", "< 1024 MiB", m2, "MiB", m2 < 1024),
    ]
    ok = (
        rc1 == 0
        and rc2 == 0
        and n == 50_001
        and n_failed == 50_000
        and good == "ok"
        and runs == [(50_001, 50_000)] * 2
        and "50000 rows failed on an earlier run and were not tried again" in err2
    )
    _record(
        case,
        what,
        "every row recorded; the re-run keeps the recorded failures (figures below)",
        f"exit {rc1}, {rc2}; {n} rows, {n_failed} download_failed; first run {t1:.1f} s, "
        f"re-run {t2:.1f} s, peak {max(m1, m2):.0f} MiB",
        good or "lost",
        50_001,
        n,
        ok,
    )
    assert ok, (err1[-2000:], err2[-2000:])
