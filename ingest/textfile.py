"""Text files as people save them: spreadsheets write cp1252 or UTF-16, add a byte-order mark,
end lines with CRLF. Both CSVs a user hands us (the videos CSV, a warehouse's corrections file)
are read through here, so they accept the same files; the corrections file is also written
back through here, in the encoding it was found in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError


class NotTextError(IngestError, ValueError):
    """Bytes that are not text in any encoding a spreadsheet writes."""


@dataclass(frozen=True)
class TextFormat:
    """How a file was saved, so that writing it back keeps it so."""

    encoding: str = "utf-8"  # a Python codec; "utf-8-sig" and "utf-16" write their mark
    newline: str = "\n"
    delimiter: str = ","

    def describe(self) -> str:
        enc = {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 with a byte-order mark",
            "utf-16": "UTF-16",
            "utf-16-le": "UTF-16 (little-endian, no mark)",
            "utf-16-be": "UTF-16 (big-endian, no mark)",
            "utf-32": "UTF-32",
            "cp1252": "Windows-1252",
            "latin-1": "Latin-1",
        }.get(self.encoding, self.encoding)
        sep = {",": "commas", ";": "semicolons", "\t": "tabs"}.get(self.delimiter, "?")
        ends = "CRLF" if self.newline == "\r\n" else "LF"
        return f"{enc}, {sep}, {ends} line ends"


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode(data: bytes) -> tuple[str, str]:
    """(text, codec) of a file's bytes. UTF-8 (with or without BOM) and UTF-16/32 with a BOM
    are taken as such; UTF-16 without one is recognised by its NUL bytes; other bytes that are
    not UTF-8 are read as cp1252, what spreadsheets export as "CSV" (latin-1 decodes every
    byte, so cp1252's gaps fall back to it). Raises NotTextError for binary data."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise NotTextError(
                    f"the file starts like {enc} but is not valid {enc}: {exc}"
                ) from None
    head = data[:65536]
    # UTF-16 without a BOM: every other byte NUL in ASCII text.
    if head and head.count(b"\x00") * 3 > len(head):
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if all(c.isprintable() or c in "\r\n\t" for c in text[:4096]):
                return text, enc
    enc = "utf-8"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        enc = "cp1252"
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            enc = "latin-1"
            text = data.decode(enc)
    # Over 1 in 20 characters a control character: binary (random bytes give about 1 in 9); a
    # stray NUL in a text CSV stays a bad cell of one row.
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\r\n\t")
    if controls * 20 > max(len(text[:65536]), 1):
        raise NotTextError("the file is binary, not text (control characters throughout)")
    return text, enc


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


# Characters a user cannot see in a cell, named in error messages.
INVISIBLE = {
    "\ufeff": "a byte-order mark",
    "\u00a0": "a non-breaking space",
    "\u202f": "a narrow non-breaking space",
    "\u200b": "a zero-width space",
    "\t": "a tab",
    "\r": "a carriage return",
}


def invisible_in(text: str) -> str | None:
    """The first invisible character of ``text``, named ("a byte-order mark"), or None."""
    for ch in text:
        if ch in INVISIBLE:
            return INVISIBLE[ch]
    return None


def write_atomic(path: Path, text: str, fmt: TextFormat) -> TextFormat:
    """Write ``text`` (lines ending in "\\n") to ``path`` in ``fmt``: the new bytes go to a file
    beside it, flushed to disk, then take its place in one rename, so a crash at any point
    leaves the old file or the new one, never half of either. When a character cannot be
    written in ``fmt``'s encoding (a name outside cp1252), the file is written as UTF-8 with a
    byte-order mark instead, which spreadsheets open as UTF-8. Returns the format written."""
    body = text.replace("\n", fmt.newline) if fmt.newline != "\n" else text
    try:
        data = body.encode(fmt.encoding)
    except UnicodeEncodeError:
        fmt = TextFormat("utf-8-sig", fmt.newline, fmt.delimiter)
        data = body.encode(fmt.encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return fmt
