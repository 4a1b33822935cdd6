"""Read the users' videos CSV into typed rows; bad rows are kept with a reason, never fatal."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

SCORE_NAMES = ("performance", "performancescore", "score", "perf", "performance_score")
URL_NAMES = ("videourl", "url", "path", "video", "videopath", "link", "videolink", "file")


class CsvError(ValueError):
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


def read_videos_csv(path: Path) -> list[VideoRow]:
    """Read every data row. Missing URL, non-numeric score and repeated URL are rejected with a
    reason; the first occurrence of a URL keeps the plain id so re-runs map to the same rows."""
    if not path.exists():
        raise CsvError(f"CSV not found: {path}")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(fh, dialect)
        header = next(reader, None)
        if not header:
            raise CsvError(f"CSV is empty: {path}")
        score_idx, url_idx = find_columns(header)
        rows: list[VideoRow] = []
        seen: dict[str, tuple[int, int]] = {}  # url -> (occurrences so far, first row)
        for n, rec in enumerate(reader, start=1):
            if not any(cell.strip() for cell in rec):
                continue  # blank line
            url = rec[url_idx].strip() if url_idx < len(rec) else ""
            raw = rec[score_idx].strip() if score_idx is not None and score_idx < len(rec) else None
            score = parse_score(raw)
            reason = None
            if not url:
                vid = f"row_{n}"
                reason = "missing video URL"
            else:
                k, first = seen.get(url, (0, n))
                seen[url] = (k + 1, first)
                vid = url_id(url) if k == 0 else f"{url_id(url)}_dup{k}"
                if k:
                    reason = f"duplicate URL: same as row {first}"
            if reason is None and score is None:
                reason = (
                    "no performance column in the CSV"
                    if score_idx is None
                    else f"performance score is not a number: {raw!r}"
                )
            rows.append(VideoRow(vid, n, url or None, raw, score, reason))
    return rows
