"""Validate the warehouse with the suites in ``expectations.suites``; collect one row per expectation."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.suites import SUITES, TableCheck

RESULT_COLUMNS = [
    "suite",
    "table_name",
    "check_name",
    "expectation",
    "column_name",
    "success",
    "severity",
    "observed",
    "kwargs",
    "run_at",
]

# the severity column holds GX's values; only a failed ``critical`` expectation fails the run
CRITICAL = FailureSeverity.CRITICAL.value


@dataclass(frozen=True)
class Outcome:
    results: pd.DataFrame  # RESULT_COLUMNS

    @property
    def failures(self) -> pd.DataFrame:
        return failed_rows(self.results)

    @property
    def warnings(self) -> pd.DataFrame:
        return warned_rows(self.results)


def failed_rows(results: pd.DataFrame) -> pd.DataFrame:
    """Failed ``critical`` expectations: these fail the run."""
    return results[~results["success"] & (results["severity"] == CRITICAL)]


def warned_rows(results: pd.DataFrame) -> pd.DataFrame:
    """Failed expectations of a lower severity: reported, the run still passes."""
    return results[~results["success"] & (results["severity"] != CRITICAL)]


def _context() -> Any:
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    # no tqdm progress bars in the logs
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _short(value: Any, limit: int = 300) -> str:
    if value is None:
        return "no value (nothing to measure: the column is empty)"
    if isinstance(value, float) and not math.isfinite(value):
        return "not a number (nothing to measure)"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_observed(result: dict[str, Any]) -> str:
    """A readable observed value from a GX result dict."""
    if "observed_value" in result:
        return _short(result["observed_value"])
    if "unexpected_count" in result:
        count = result.get("unexpected_count") or 0
        total = result.get("element_count")
        examples = result.get("partial_unexpected_index_list") or []
        if not examples or not isinstance(examples[0], dict):
            examples = result.get("partial_unexpected_list") or []
        text = f"{count} of {total if total is not None else 'the'} rows unexpected"
        if count:
            text += f", e.g. {_short(examples[:5], 200)}"
        return text
    return _short(result) if result else ""


def _row(
    check: TableCheck,
    expectation_type: str,
    kwargs: dict[str, Any],
    success: bool,
    severity: FailureSeverity,
    observed: str,
    run_at: datetime,
) -> dict[str, Any]:
    column = kwargs.get("column")
    if column is None and "column_list" in kwargs:
        column = ",".join(kwargs["column_list"])
    shown = {k: v for k, v in kwargs.items() if k not in ("batch_id", "column", "column_list")}
    return {
        "suite": check.suite,
        "table_name": check.table,
        "check_name": check.name,
        "expectation": expectation_type,
        "column_name": column,
        "success": bool(success),
        "severity": FailureSeverity(severity).value,
        "observed": observed,
        "kwargs": _short(shown, 1000),
        "run_at": run_at,
    }


def validate(db_path: str, suites: list[str] | None = None) -> Outcome:
    """Run the suites (default: all) against the DuckDB file at ``db_path``."""
    run_at = datetime.now(timezone.utc).replace(tzinfo=None)
    context = _context()
    source = context.data_sources.add_pandas("warehouse")
    rows: list[dict[str, Any]] = []
    con = duckdb.connect(db_path, read_only=True)
    try:
        for suite_name in suites or list(SUITES):
            for index, check in enumerate(SUITES[suite_name]()):
                try:
                    frame = con.execute(check.query).df()
                except duckdb.Error as exc:
                    message = f"could not read: {str(exc).splitlines()[0]}"
                    for expectation in check.checks:
                        config = expectation.configuration
                        rows.append(
                            _row(
                                check,
                                config.type,
                                dict(config.kwargs),
                                False,
                                config.severity,
                                message,
                                run_at,
                            )
                        )
                    continue
                asset = source.add_dataframe_asset(name=f"{suite_name}_{index}")
                batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
                    batch_parameters={"dataframe": frame}
                )
                gx_suite = gx.ExpectationSuite(name=f"{suite_name}.{check.name}")
                for expectation in check.checks:
                    gx_suite.add_expectation(expectation)
                result_format: dict[str, Any] = {"result_format": "SUMMARY"}
                if check.id_column and check.id_column in frame.columns:
                    result_format["unexpected_index_column_names"] = [check.id_column]
                result = batch.validate(gx_suite, result_format=result_format)
                for expectation_result in result.results:
                    config = expectation_result.expectation_config
                    info = expectation_result.exception_info or {}
                    if info.get("raised_exception"):
                        observed = f"error: {_short(info.get('exception_message', ''))}"
                    else:
                        observed = describe_observed(dict(expectation_result.result or {}))
                    rows.append(
                        _row(
                            check,
                            config.type,
                            dict(config.kwargs),
                            expectation_result.success,
                            config.severity,
                            observed,
                            run_at,
                        )
                    )
    finally:
        con.close()
    return Outcome(pd.DataFrame(rows, columns=RESULT_COLUMNS))
