"""`ingest sql`: the warehouse with the face UDFs loaded (ingest.warehouse.udf), for one query or a prompt."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TextIO

PROMPT, MORE = "sql> ", "...> "


def statements(lines: list[str]) -> tuple[list[str], str]:
    """Complete statements (ending in ';') found in ``lines``, and the unfinished rest."""
    text = "\n".join(lines)
    done: list[str] = []
    quote = None
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == ";":
            stmt = text[start:i].strip()
            if stmt:
                done.append(stmt)
            start = i + 1
    return done, text[start:].strip()


def run_query(con, query: str, out: TextIO) -> bool:
    """Run one query and print its result; False (and the error on stderr) when it fails."""
    import duckdb

    try:
        rel = con.sql(query)
    except duckdb.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    if rel is not None:
        try:
            print(str(rel), file=out, end="")  # DuckDB's own table rendering
        except duckdb.Error as exc:  # relations run lazily: errors can surface here
            print(f"error: {exc}", file=sys.stderr)
            return False
    return True


def connect(db: Path, write: bool):
    """The warehouse with embed_face and detect_faces registered (models load on first call)."""
    import duckdb

    from ingest.warehouse.udf import register

    con = duckdb.connect(str(db), read_only=not write)
    register(con)
    return con


def interactive(con, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401 - line editing and history for input()
    print(
        "Influencer Lens SQL (embed_face, detect_faces loaded); end statements with ';', "
        "Ctrl-D to quit.",
        file=out,
    )
    pending: list[str] = []
    while True:
        try:
            line = input(MORE if pending else PROMPT) if inp is sys.stdin else inp.readline()
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return 0
        if inp is not sys.stdin and line == "":
            return 0
        pending.append(line.rstrip("\n"))
        done, rest = statements(pending)
        for stmt in done:
            run_query(con, stmt, out)
        pending = [rest] if rest else []
