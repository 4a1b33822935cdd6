"""The corrections file as text: ``<db stem>.people.csv`` beside its warehouse.

Its first line, ``# warehouse: <uuid>``, binds it to the warehouse whose ids it uses; then a
header (``model.FIELDS``) and one row per correction. People open it in a spreadsheet and save
it again, so it is read the way the videos CSV is (``ingest.textfile``: UTF-8 with or without a
byte-order mark, UTF-16, cp1252; commas, semicolons or tabs; any line ends; every cell quoted;
rows padded with empty cells), the binding is found wherever a spreadsheet leaves it (a first
line, a quoted first cell, after a mark), and a write keeps the encoding, separator and line
ends it found. Every failure is one CorrectionsError naming the file and line."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest import textfile
from ingest.corrections.model import (
    FIELDS,
    OLD_FIELDS,
    Correction,
    CorrectionsError,
    check_together,
    from_cells,
)
from ingest.textfile import TextFormat

_IDENTITY = re.compile(r"#\s*warehouse:\s*([0-9A-Za-z-]+)")
DELIMITERS = (",", ";", "\t")


def file_for(db_path: Path) -> Path:
    """A warehouse's own corrections file: ``<db stem>.people.csv`` beside it, so a warehouse
    folder carries its corrections, and two warehouses in one folder do not share one."""
    return db_path.with_name(db_path.stem + ".people.csv")


# Where the one corrections file of the repository lived before each warehouse had its own
# (a dbt seed). Read only as a fallback (ingest.corrections.room.default_file).
LEGACY_FILE = Path("dbt_project/seeds/people.csv")


def identity_line(warehouse_id: str) -> str:
    """The file's first line: which warehouse its ids belong to. No comma or semicolon in it,
    so a spreadsheet keeps it in one cell whichever separator it splits on."""
    return (
        f"# warehouse: {warehouse_id} (ids are this warehouse's: "
        "`ingest people export` and `import` carry names to another)"
    )


@dataclass(frozen=True)
class CorrectionsFile:
    """A corrections file as read: its rows, the warehouse it is bound to (None: no binding
    line, from before warehouses had identities or lost in an editor), and how it was saved."""

    path: Path
    warehouse_id: str | None
    corrections: list[Correction]
    exists: bool = True
    fmt: TextFormat = field(default_factory=TextFormat)
    data: bytes = b""  # the bytes read, to tell whether someone saved it since


def _clean(cell: str) -> str:
    """A cell as meant: spreadsheets and editors leave marks, non-breaking spaces and tabs."""
    return cell.replace("\ufeff", "").strip()


def _header_match(cells: list[str]) -> tuple[str, ...] | None:
    got = [_clean(c).lower() for c in cells]
    while got and not got[-1]:
        got.pop()  # a spreadsheet pads rows to the widest one
    for fields in (FIELDS, OLD_FIELDS):
        if tuple(got) == fields:
            return fields
    return None


def _explain_header(path: str, line: int, cells: list[str]) -> CorrectionsError:
    raw = ",".join(cells)
    for c in cells:
        what = textfile.invisible_in(c.strip(" "))
        if what:
            return CorrectionsError(
                f"{path}:{line}: {what} in the header cell {c.strip()!r}; the header must be "
                f"{','.join(FIELDS)} (save the file again without it, or retype that cell)"
            )
    return CorrectionsError(f"{path}:{line}: header must be {','.join(FIELDS)}, got {raw}")


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number of the record's first line, cells) of every record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    start = 1
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CorrectionsError(f"line {reader.line_num}: cannot read it as CSV ({exc})") from None
    return out


def parse_text(text: str, path: str, encoding: str = "utf-8") -> CorrectionsFile:
    """The file's text -> its binding, format and corrections (checked on their own: known
    action, the fields it needs, one answer per question). Raises CorrectionsError naming the
    file and line."""
    newline = textfile.newline_of(text)
    marked = text.startswith("\ufeff")
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    # The first line that is not blank: the binding, or the header.
    k = next((i for i, ln in enumerate(lines) if ln.strip(' \t,;"')), None)
    if k is None:
        return CorrectionsFile(Path(path), None, [], fmt=TextFormat(encoding, newline))
    warehouse_id = None
    first = lines[k].strip()
    unquoted = first.lstrip('"').lstrip("\ufeff").strip()
    body_start = k
    if unquoted.startswith("#") or _IDENTITY.search(first[:80]):
        m = _IDENTITY.match(unquoted)
        if m is None:
            mark = textfile.invisible_in(first[: max(first.find("#"), 0) + 1])
            hint = f" ({mark} before it)" if mark else ""
            raise CorrectionsError(
                f"{path}:{k + 1}: a first line starting with # must be `# warehouse: <id>`"
                f"{hint}, got {first[:80]!r}"
            )
        warehouse_id = m.group(1)
        body_start = k + 1
    elif "warehouse:" in first and textfile.invisible_in(first.split("warehouse:")[0]):
        what = textfile.invisible_in(first.split("warehouse:")[0])
        raise CorrectionsError(
            f"{path}:{k + 1}: {what} before `# warehouse:`; save the file again without it"
        )
    body = "\n".join(lines[body_start:])
    # The separator: the one that makes the first non-blank line the header.
    head_idx = next((i for i, ln in enumerate(lines[body_start:]) if ln.strip()), None)
    if head_idx is None:
        fmt = TextFormat(encoding if not marked else "utf-8-sig", newline)
        return CorrectionsFile(Path(path), warehouse_id, [], fmt=fmt)
    head_line = lines[body_start + head_idx]
    delimiter = None
    fields = None
    for d in DELIMITERS:
        cells = next(csv.reader([head_line], delimiter=d), [])
        fields = _header_match(cells)
        if fields is not None:
            delimiter = d
            break
    if delimiter is None or fields is None:
        best = max(DELIMITERS, key=head_line.count)
        raise _explain_header(
            path, body_start + head_idx + 1, next(csv.reader([head_line], delimiter=best))
        )
    try:
        records = _records(body, delimiter)
    except CorrectionsError as exc:
        n, _, rest = str(exc).removeprefix("line ").partition(":")
        raise CorrectionsError(f"{path}:{body_start + int(n)}:{rest}") from None
    out: list[Correction] = []
    header_seen = False
    for n, cells in records:
        line = body_start + n
        where = f"{path}:{line}"
        if not any(_clean(c) for c in cells):
            continue
        if not header_seen:
            header_seen = True
            continue
        extra = [c for c in cells[len(fields) :] if _clean(c)]
        if extra:
            raise CorrectionsError(
                f"{where}: expected {len(fields)} fields ({','.join(fields)}), got {len(cells)}"
                + (" (a name with a comma needs quotes)" if delimiter == "," else "")
            )
        values = {f: _clean(c) for f, c in zip(fields, cells, strict=False)}
        for f in fields:
            values.setdefault(f, "")
        values.setdefault("face", "")
        values.setdefault("other_face", "")
        for f in ("action", "influencer_id", "other_id"):
            what = textfile.invisible_in(values[f])
            if what:
                raise CorrectionsError(f"{where}: {what} inside {f} {values[f]!r}")
        out.append(from_cells(values, where, line))
    check_together(out, path)
    enc = "utf-8-sig" if marked and encoding.startswith("utf-8") else encoding
    return CorrectionsFile(Path(path), warehouse_id, out, fmt=TextFormat(enc, newline, delimiter))


def read_file(path: Path) -> CorrectionsFile:
    """The corrections file; no corrections and no identity when there is none."""
    if not path.is_file():
        return CorrectionsFile(path, None, [], exists=False)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorrectionsError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text, encoding = textfile.decode(data)
    except textfile.NotTextError as exc:
        raise CorrectionsError(
            f"{path}: {exc}; a corrections file is a CSV (`ingest people --help`)"
        ) from None
    f = parse_text(text, str(path), encoding)
    return CorrectionsFile(path, f.warehouse_id, f.corrections, True, f.fmt, data)


def format_text(
    corrections: list[Correction], warehouse_id: str | None, delimiter: str = ","
) -> str:
    """The file's text ("\\n" line ends): the identity line (if any), header, rows in order."""
    buf = io.StringIO()
    if warehouse_id is not None:
        buf.write(identity_line(warehouse_id) + "\n")
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n", delimiter=delimiter)
    w.writeheader()
    w.writerows(c.row() for c in corrections)
    return buf.getvalue()


def write_file(
    path: Path,
    corrections: list[Correction],
    warehouse_id: str | None,
    fmt: TextFormat | None = None,
) -> str | None:
    """Rewrite the file atomically in ``fmt`` (default: the format it has now, else UTF-8 with
    commas), after checking it parses back, so what a command writes is always a file the
    next run accepts. Returns one line when the format changed (a name its encoding cannot
    hold), else None."""
    if fmt is None:
        fmt = read_file(path).fmt if path.is_file() else TextFormat()
    text = format_text(corrections, warehouse_id, fmt.delimiter)
    parse_text(text, str(path))
    written = textfile.write_atomic(path, text, fmt)
    if written != fmt:
        return (
            f"{path} was {fmt.describe()}, which cannot hold every name; "
            f"written as {written.describe()}"
        )
    return None
