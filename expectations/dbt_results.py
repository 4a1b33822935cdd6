"""Parse dbt's target/run_results.json into one row per node run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

DBT_COLUMNS = [
    "unique_id",
    "resource_type",
    "status",
    "message",
    "failures",
    "execution_time_s",
    "invocation_id",
    "generated_at",
]


def parse_run_results(path: Path) -> pd.DataFrame:
    """Rows of ``run_results.json``; resource_type is the unique_id prefix (model, test, ...)."""
    data: dict[str, Any] = json.loads(Path(path).read_text())
    metadata = data.get("metadata", {})
    rows = [
        {
            "unique_id": result.get("unique_id"),
            "resource_type": str(result.get("unique_id", "")).split(".", 1)[0],
            "status": result.get("status"),
            "message": result.get("message"),
            "failures": result.get("failures"),
            "execution_time_s": result.get("execution_time"),
            "invocation_id": metadata.get("invocation_id"),
            "generated_at": pd.to_datetime(metadata.get("generated_at"), utc=True).tz_localize(None)
            if metadata.get("generated_at")
            else None,
        }
        for result in data.get("results", [])
    ]
    frame = pd.DataFrame(rows, columns=DBT_COLUMNS)
    frame["failures"] = pd.array(frame["failures"].tolist(), dtype="Int64")
    return frame
