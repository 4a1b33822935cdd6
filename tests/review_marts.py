"""The "Check these" marts on a real warehouse, for the end-to-end tests of answering them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.warehouse.schema import run_dbt


def build_review_marts(db: Path, work: Path) -> None:
    """dbt build of review_suggestions and what it reads, with the tests whose models are all
    built here."""
    result = run_dbt(
        "build",
        "--select",
        "+review_suggestions",
        "--indirect-selection",
        "cautious",
        db=db,
        target_dir=work / "target",
        log_dir=work / "logs",
    )
    assert result.returncode == 0, result.stdout[-4000:]


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
