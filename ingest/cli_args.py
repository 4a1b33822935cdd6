"""Arguments the ``ingest`` commands share (ingest.cli and ingest.people_cli both add them)."""

from __future__ import annotations

import argparse


def db_arg(p: argparse.ArgumentParser) -> None:
    """The warehouse option every command shares."""
    p.add_argument(
        "--db", default="data/warehouse.duckdb", help="DuckDB warehouse file (default: %(default)s)"
    )
