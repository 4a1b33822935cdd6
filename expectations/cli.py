"""python -m expectations: run the GX suites, store results, write the HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

from expectations.dbt_results import parse_run_results
from expectations.html import write_page
from expectations.runner import failed_rows, validate, warned_rows
from expectations.suites import SUITES

DEFAULT_RUN_RESULTS = Path("dbt_project/target/run_results.json")
DEFAULT_DOCS = Path("out/data_docs")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m expectations",
        description=(
            "Validate the Influencer Lens warehouse with Great Expectations suites (raw tables "
            "and dbt marts). Writes quality.gx_results and quality.dbt_results into the "
            "warehouse and a static results page. Exits 1 when a critical expectation fails."
        ),
    )
    parser.add_argument("--db", required=True, help="DuckDB warehouse file")
    parser.add_argument(
        "--suite",
        action="append",
        choices=sorted(SUITES),
        help="suite to run (repeatable; default: all)",
    )
    parser.add_argument(
        "--dbt-run-results",
        type=Path,
        default=DEFAULT_RUN_RESULTS,
        help=f"dbt run_results.json to load into quality.dbt_results "
        f"(default: {DEFAULT_RUN_RESULTS}; skipped when missing)",
    )
    parser.add_argument(
        "--docs-dir",
        type=Path,
        default=DEFAULT_DOCS,
        help=f"where index.html goes (default: {DEFAULT_DOCS})",
    )
    parser.add_argument(
        "--no-store", action="store_true", help="do not write the quality.* tables (read-only run)"
    )
    return parser


def store(db_path: str, gx_results: pd.DataFrame, dbt_results: pd.DataFrame | None) -> None:
    con = duckdb.connect(db_path)
    try:
        con.execute("create schema if not exists quality")
        con.register("gx_frame", gx_results)
        con.execute("create or replace table quality.gx_results as select * from gx_frame")
        if dbt_results is not None:
            con.register("dbt_frame", dbt_results)
            con.execute("create or replace table quality.dbt_results as select * from dbt_frame")
    finally:
        con.close()


def summary(gx_results: pd.DataFrame) -> str:
    failed = failed_rows(gx_results)
    warned = warned_rows(gx_results)
    n_passed = len(gx_results) - len(failed) - len(warned)
    lines = [
        f"gx: {len(gx_results)} expectations, {n_passed} passed, "
        f"{len(failed)} failed, {len(warned)} warnings"
    ]
    for label, frame in (("FAILED", failed), ("WARNING", warned)):
        for row in frame.itertuples(index=False):
            lines.append(
                f"  {label} suite={row.suite} table={row.table_name} check={row.check_name} "
                f"column={row.column_name} expectation={row.expectation} {row.kwargs}\n"
                f"      observed: {row.observed}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not Path(args.db).exists():
        print(f"gx: no warehouse at {args.db}", file=sys.stderr)
        return 2
    outcome = validate(args.db, args.suite)
    dbt_results = None
    if args.dbt_run_results and args.dbt_run_results.exists():
        dbt_results = parse_run_results(args.dbt_run_results)
    if not args.no_store:
        store(args.db, outcome.results, dbt_results)
    page = write_page(args.docs_dir, outcome.results, dbt_results, args.db)
    print(summary(outcome.results))
    print(f"gx: results page {page}")
    return 1 if len(outcome.failures) else 0
