"""Read the users' videos CSV into typed rows; bad rows are kept with a reason, never fatal."""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ingest import textfile
from ingest.errors import IngestError

SCORE_NAMES = ("performance", "performancescore", "score", "perf", "performance_score")
URL_NAMES = ("videourl", "url", "path", "video", "videopath", "link", "videolink", "file")


class CsvError(IngestError, ValueError):
    """The CSV as a whole cannot be used (missing file, no header, no URL column)."""


@dataclass(frozen=True)
class VideoRow:
    video_id: str
    row_number: int  # 1-based data row (the header is row 0)
    source_url: str | None
    performance_raw: str | None
    performance_score: float | None
    reject_reason: str | None  # None = row is fine to process


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def find_columns(header: list[str]) -> tuple[int | None, int]:
    """Return (score column index or None, url column index); names match case-, space- and
    underscore-insensitively."""
    normed = [_norm(h) for h in header]
    score_names = {_norm(n) for n in SCORE_NAMES}
    url_names = {_norm(n) for n in URL_NAMES}
    score_idx = next((i for i, n in enumerate(normed) if n in score_names), None)
    url_idx = next((i for i, n in enumerate(normed) if n in url_names), None)
    if url_idx is None:
        url_idx = next((i for i, n in enumerate(normed) if "url" in n), None)
    if score_idx is None:
        score_idx = next(
            (i for i, n in enumerate(normed) if "performance" in n or "score" in n), None
        )
    if url_idx is None:
        raise CsvError(
            f"no video URL column in header {header!r}; name one of: Video URL, url, path"
        )
    return score_idx, url_idx


def parse_score(text: str | None) -> float | None:
    """Parse a score; None for missing, non-numeric, NaN or infinite values."""
    if text is None:
        return None
    t = text.strip()
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")  # decimal comma, as some spreadsheets export
    if not t:
        return None
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def url_id(url: str) -> str:
    return "v_" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]


# Longest URL kept. Browsers and servers stop near 8 KB-64 KB; anything longer is a broken cell
# (a pasted blob), rejected with a reason so the rest of the file still reads.
MAX_URL_CHARS = 65_536
_CONTROL = re.compile(r"[\x00-\x1f]")  # one regex, not a loop a character (50,000 rows)
# The csv module's own per-field cap (131,072 by default) raises mid-file and loses every row
# after it; fields are instead capped by the checks above, on a file that already fits memory.
_FIELD_LIMIT = 1 << 30


def decode_csv_bytes(data: bytes) -> str:
    """The CSV's text (ingest.textfile.decode: UTF-8, UTF-16/32, cp1252). Raises ``CsvError``
    for a file that is binary, not text."""
    try:
        return textfile.decode(data)[0]
    except textfile.NotTextError as exc:
        msg = str(exc).replace("not text (", "not a text CSV (")
        raise CsvError(msg) from None


def read_videos_csv(path: Path) -> list[VideoRow]:
    """Read every data row. Missing URL, non-numeric score, over-long URL and repeated URL are
    rejected with a reason; the first occurrence of a URL keeps the plain id so re-runs map to
    the same rows. A file that cannot be used as a whole raises ``CsvError``."""
    if not path.exists():
        raise CsvError(f"CSV not found: {path}")
    if not path.is_file():
        raise CsvError(f"not a file: {path}")
    try:
        text = decode_csv_bytes(path.read_bytes())
    except OSError as exc:
        raise CsvError(f"cannot read the CSV {path}: {exc.strerror or exc}") from None
    csv.field_size_limit(_FIELD_LIMIT)
    fh = io.StringIO(text, newline="")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(fh, dialect)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvError(f"cannot parse the CSV header of {path}: {exc}") from None
    if not header or not any(h.strip() for h in header):
        raise CsvError(f"CSV is empty: {path}")
    score_idx, url_idx = find_columns(header)
    if score_idx is None:
        raise CsvError(
            f"no performance score column in header {header!r}; name one of: Performance, "
            "Performance Score, score"
        )
    rows: list[VideoRow] = []
    seen: dict[str, tuple[int, int]] = {}  # url -> (occurrences so far, first row)
    n = 0
    while True:
        n += 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # one malformed line; the reader goes on with the next
            rows.append(VideoRow(f"row_{n}", n, None, None, None, f"unparseable CSV line: {exc}"))
            continue
        if not any(cell.strip() for cell in rec):
            continue  # blank line
        url = rec[url_idx].strip() if url_idx < len(rec) else ""
        raw = rec[score_idx].strip() if score_idx < len(rec) else None
        score = parse_score(raw)
        reason = None
        if not url:
            vid = f"row_{n}"
            reason = "missing video URL"
        elif len(url) > MAX_URL_CHARS or _CONTROL.search(url):
            vid = f"row_{n}"
            reason = (
                f"video URL is {len(url)} characters, over the {MAX_URL_CHARS} limit"
                if len(url) > MAX_URL_CHARS
                else "video URL holds control characters"
            )
            url = url[:200] + "..." if len(url) > 200 else url
        else:
            k, first = seen.get(url, (0, n))
            seen[url] = (k + 1, first)
            vid = url_id(url) if k == 0 else f"{url_id(url)}_dup{k}"
            if k:
                reason = f"duplicate URL: same as row {first}"
        if reason is None and score is None:
            reason = f"performance score is not a number: {raw!r}"
        rows.append(VideoRow(vid, n, url or None, raw, score, reason))
    return rows
