"""The warehouse schema as the dbt project declares it, read from dbt's manifest.

Each mart's ``.yml`` (and ``models/staging/__sources.yml`` for the raw tables) is the one place
its columns, types and descriptions are written. dbt compiles them into
``target/manifest.json``; the report exporter, the tests and the warehouse reference read them
from there, so none of them keeps a column list of its own.

Run: ``python -m ingest.warehouse.schema --out out/warehouse.md`` (``make warehouse-doc``)
writes every table and column as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
TARGET = DBT_PROJECT / "target"
# What dbt parse reads; a file here newer than the manifest makes the manifest stale.
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds", "tests")
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "SEND_ANONYMOUS_USAGE_STATS": "no",  # Evidence (reports/refresh.py runs its sources)
}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str | None  # as the .yml writes it; None where the column has no fixed type
    description: str


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    yml: str  # the file that declares it, relative to the dbt project
    contract: bool  # dbt refuses to build the table unless it matches ``columns``

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def run_dbt(
    *args: str,
    db: Path | None = None,
    project_dir: Path = DBT_PROJECT,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """dbt (this interpreter's) on ``project_dir``, from the repository root (where the profile's
    plugin module and relative paths resolve); ``db`` becomes INFLUENCER_LENS_DB."""
    env = {**os.environ, **TELEMETRY_OFF}
    if db is not None:
        env["INFLUENCER_LENS_DB"] = str(db)
    command = [sys.executable, "-W", "ignore::RuntimeWarning", "-m", "dbt.cli.main", *args]
    command += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    # Absolute: dbt reads a relative target path from the project folder, not from here.
    if target_dir is not None:
        command += ["--target-path", str(Path(target_dir).resolve())]
    if log_dir is not None:
        command += ["--log-path", str(Path(log_dir).resolve())]
    return subprocess.run(
        command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def _newest_input(project_dir: Path) -> float:
    paths = [project_dir / name for name in PROJECT_INPUTS]
    files = [p for p in paths if p.is_file()]
    files += [f for p in paths if p.is_dir() for f in p.rglob("*") if f.is_file()]
    return max((f.stat().st_mtime for f in files), default=0.0)


def manifest_path(project_dir: Path = DBT_PROJECT, target_dir: Path | None = None) -> Path:
    """The project's ``manifest.json``, written by ``dbt parse`` first when it is missing or
    older than a file of the project (an edited .yml is never read stale)."""
    target_dir = target_dir or project_dir / "target"
    manifest = target_dir / "manifest.json"
    if manifest.is_file() and manifest.stat().st_mtime >= _newest_input(project_dir):
        return manifest
    result = run_dbt("parse", project_dir=project_dir, target_dir=target_dir)
    if result.returncode != 0 or not manifest.is_file():
        raise RuntimeError(f"dbt parse failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return manifest


def load(manifest: Path | None = None) -> dict:
    """The parsed manifest (default: the project's, refreshed by ``manifest_path``)."""
    return json.loads((manifest or manifest_path()).read_text(encoding="utf-8"))


def _table(node: dict, yml: str) -> Table:
    """A model or source node of the manifest as a Table; columns in .yml order."""
    return Table(
        schema=node["schema"],
        name=node.get("alias") or node.get("identifier") or node["name"],
        description=node.get("description") or "",
        columns=tuple(
            Column(c["name"], c.get("data_type") or None, c.get("description") or "")
            for c in node.get("columns", {}).values()
        ),
        yml=yml,
        contract=bool(node.get("contract", {}).get("enforced")),
    )


def marts(manifest: dict) -> list[Table]:
    """The models under ``models/marts``, by file path (columns in .yml order, which a contract
    makes the table's order)."""
    nodes = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")
    ]
    return [
        _table(n, (n.get("patch_path") or "").split("://", 1)[-1])
        for n in sorted(nodes, key=lambda n: n["original_file_path"])
    ]


def sources(manifest: dict) -> list[Table]:
    """The source tables (schema ``raw``, written by ingest), in .yml order."""
    return [_table(s, s["original_file_path"]) for s in manifest["sources"].values()]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table_markdown(table: Table) -> list[str]:
    if table.contract:
        held = "an enforced dbt contract: a table that differs is not built"
    elif table.schema == "raw":
        held = "ingest/warehouse/store.py, which creates it (tests/test_warehouse_schema.py checks both agree)"
    else:
        held = "the `matches_declared_columns` test (no enforced contract)"
    lines = [
        f"### `{table.qualified}`",
        "",
        _cell(table.description),
        "",
        f"Declared in `dbt_project/{table.yml}`; held to it by {held}.",
        "",
        "| column | type | description |",
        "|---|---|---|",
    ]
    lines += [
        f"| {c.name} | {c.data_type or '(varies)'} | {_cell(c.description)} |"
        for c in table.columns
    ]
    return [*lines, ""]


def markdown(manifest: dict) -> str:
    """Every mart and raw table with its columns, types and descriptions."""
    lines = [
        "# Warehouse reference",
        "",
        "Generated from dbt's manifest by `python -m ingest.warehouse.schema` (`make "
        "warehouse-doc`): the columns below are the ones the models' .yml files declare. "
        "Do not edit; edit the .yml. How the tables fit together: docs/warehouse.md.",
        "",
        "## Schema `main`: the marts (dbt)",
        "",
    ]
    for table in marts(manifest):
        lines += _table_markdown(table)
    lines += ["## Schema `raw`: written only by ingest", ""]
    for table in sources(manifest):
        lines += _table_markdown(table)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.warehouse.schema",
        description="Write the warehouse's tables and columns, as the dbt models declare them, "
        "as markdown.",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help="dbt manifest.json (default: dbt_project/target/manifest.json, after `dbt parse` "
        "when missing or stale)",
    )
    parser.add_argument("--out", type=Path, help="markdown file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = markdown(load(args.manifest))
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"warehouse reference: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
