"""Which container a file is, by its first bytes, before any decoder sees it.

FFmpeg (behind OpenCV) picks its demuxer by probing the content, not the name, and some of its
demuxers open other files or URLs: an HLS playlist (``#EXTM3U``) names segments, an ffconcat
script names files, an SDP description names network streams. A downloaded "video" must never
make the decoder read anything but itself, so only containers that hold their own media are
let through; everything else is refused with a reason naming what the bytes look like. (This
OpenCV build ignores OPENCV_FFMPEG_CAPTURE_OPTIONS' protocol and format whitelists, checked on
4.11, so the check cannot be left to FFmpeg.)
"""

from __future__ import annotations

from pathlib import Path

HEAD_BYTES = 1024  # bytes read to decide; every signature below sits in the first 400

# ISO base media (mp4, mov, 3gp, m4v): a box size then one of these top-level box types.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")
_TS_PACKET = 188  # bytes per MPEG transport stream packet, each starting with 0x47


def sniff_container(head: bytes) -> tuple[str | None, str]:
    """(container name, or None when refused; what the bytes look like). Pure function of the
    file's first bytes (``HEAD_BYTES`` of them are enough)."""
    if not head:
        return None, "an empty file"
    if len(head) >= 8 and head[4:8] in _ISO_BOXES:
        return "mp4", "an MP4/QuickTime file"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska", "a Matroska/WebM file"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi", "an AVI file"
    if head.startswith(b"FLV\x01"):
        return "flv", "an FLV file"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf", "an ASF/WMV file"
    if head.startswith(b"OggS"):
        return "ogg", "an Ogg file"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg", "an MPEG program stream"
    if len(head) > 2 * _TS_PACKET and all(
        head[i] == 0x47 for i in range(0, 3 * _TS_PACKET, _TS_PACKET) if i < len(head)
    ):
        return "mpegts", "an MPEG transport stream"
    return None, describe(head)


def _markup_text(head: bytes) -> bytes:
    """The head as lower-case text past a BOM, blank space and any leading comments
    (``<!-- -->``, ``<?xml ?>`` stays), so a page that starts with a comment reads as a page."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    while text.startswith(b"<!--"):
        end = text.find(b"-->")
        if end < 0:
            return b"<!--"  # a comment longer than the head: markup all the same
        text = text[end + 3 :].lstrip(b" \t\r\n")
    return text


def describe(head: bytes) -> str:
    """What a refused file looks like, for the reason a person reads."""
    text = _markup_text(head)
    if text.startswith(b"#extm3u") or b"#ext-x-" in text:
        return "an HLS/M3U playlist (it would make the decoder open other files or URLs)"
    if text.startswith((b"ffconcat", b"file ")):
        return "an ffconcat script (it would make the decoder open other files)"
    if text.startswith(b"v=0") and b"\nm=" in text:
        return "an SDP stream description (it would make the decoder open network streams)"
    if (
        text.startswith((b"[playlist]", b"<?xml", b"<asx", b"<smil", b"<mpd"))
        or b"<mpd" in text[:200]
    ):
        return "a playlist or manifest (it would make the decoder open other files or URLs)"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta")):
        return "an HTML page (a web page, not the video: use the video file's own URL)"
    if head.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (unzip it and list the video inside)"
    if head.startswith(b"\x1f\x8b"):
        return (
            "gzip-compressed data (a server that compresses without saying so, or a .gz "
            "file: decompress it and list the video)"
        )
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd-compressed data (decompress it and list the video)"
    if text.startswith((b"{", b"[")):
        return "JSON or other text"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head[:256]):
        return "a text file"
    return "bytes of no known video container (a damaged file, or not a video)"


def check_container(path: Path) -> str:
    """The container of a video file; raises ``ValueError`` with the reason when it is not one
    the decoder may open."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    name, looks = sniff_container(head)
    if name is None:
        raise ValueError(f"not a video container: the file is {looks}")
    return name
