"""Open the warehouse for writing when another process may hold it.

DuckDB lets one process write a file, or any number read it, never both; a second opener gets
an IO error naming the holder's PID. A run therefore reads the CSV, downloads and extracts
first, and only then opens the warehouse, waiting for a holder to finish; if it is still held
after the wait the run stops with one line that names the process and what to do.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from ingest.errors import IngestError

T = TypeVar("T")

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<prog>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseError(IngestError, RuntimeError):
    """The warehouse cannot be opened for writing (a setup problem: nothing was written)."""


def lock_holder(message: str) -> str | None:
    """'PROGRAM (PID n)' from DuckDB's lock error, or None when the error is not a lock."""
    m = _LOCK_RE.search(message)
    if m is None:
        return "another process" if "Could not set lock" in message else None
    return f"{m['prog']} (PID {m['pid']})"


def open_with_wait(opener: Callable[[], T], db_path: Path, wait_s: float, poll_s: float = 0.5) -> T:
    """``opener()``, retried while another process holds the warehouse, for up to ``wait_s``
    seconds. Raises ``WarehouseError`` with one line a person can act on."""
    give_up = time.monotonic() + max(wait_s, 0.0)
    while True:
        try:
            return opener()
        except duckdb.Error as exc:
            msg = str(exc)
            holder = lock_holder(msg)
            if holder is None:
                raise WarehouseError(
                    f"cannot open the warehouse {db_path}: {_first_line(msg)}"
                ) from None
            if time.monotonic() >= give_up:
                raise WarehouseError(
                    f"the warehouse {db_path} is in use by {holder}; waited {wait_s:g} s. Close "
                    "that program (a notebook or DuckDB CLI holding it open, or another "
                    "`ingest run`), or raise --lock-wait, then run again"
                ) from None
            time.sleep(poll_s)
        except OSError as exc:
            raise WarehouseError(
                f"cannot open the warehouse {db_path}: {exc.strerror or exc}"
            ) from None


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else msg
