"""Refresh the published report after an answer, without bundling it again (`make review`).

A full `make report` spends most of its minute bundling JavaScript that does not depend on the
data. The site renders in the browser from the data files its ``data/manifest.json`` lists
(reports/svelte.config.js), so an answer only needs what depends on people:

1. ``recluster``: the faces already in the warehouse clustered again under its corrections file
   (ingest.pipeline.runner.recluster_warehouse; nothing is extracted);
2. ``dbt``: `dbt build` of the models downstream of the tables a clustering writes, their data
   tests included (unit tests test the SQL, not the data: `make build` runs them), in this
   process with the project parsed once;
3. ``export``: reports/export_warehouse.py (the report's own DuckDB file, faces, thumbnails);
4. ``sources``: `evidence sources` (the parquet files the pages query);
5. ``publish``: a new site from the published one with the new data and pages, swapped in whole
   (reports/publish_site.py ``refresh``).

The checks stage (Great Expectations) is not re-run: the data-quality page says which build it
checked. Each step's wall time is kept, for the page and for `make bench`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPORT_DIR = Path(__file__).resolve().parent
REPO = REPORT_DIR.parent
DBT_PROJECT = REPO / "dbt_project"
# What a clustering rewrites (ingest.warehouse.store): everything downstream depends on people.
PEOPLE_TABLES = (
    "face_clusters",
    "influencer_id_history",
    "review_candidates",
    "people_corrections",
)
DBT_FLAGS = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--quiet"]


def sibling(name: str):
    """A script of reports/ (a folder of scripts, not a package) as a module."""
    key = f"reports_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPORT_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[key]


# Not copied into a copy of the report project: installed or generated there.
COPY_IGNORE = (
    "node_modules",
    "build",
    ".build-next",
    ".refresh-next",
    ".evidence",
    ".data",
    "*.duckdb",
    "*.duckdb.wal",
    "*.tmp",
    "faces",
    "thumbs",
    "data_docs",
)


def project_copy(dest: Path) -> Path:
    """A copy of reports/ at ``dest`` sharing its node_modules (`make report REPORT_DIR=dest`
    builds there; the tests and the bench build their sites so, leaving reports/build alone)."""
    import shutil

    shutil.copytree(REPORT_DIR, dest, ignore=shutil.ignore_patterns(*COPY_IGNORE))
    (dest / "node_modules").symlink_to(REPORT_DIR / "node_modules", target_is_directory=True)
    return dest


class RefreshError(RuntimeError):
    """A step failed; the published site is as it was before the step that failed."""


@dataclass
class Refreshed:
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall seconds
    influencers: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def _close_dbt_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB connection open in the process between invocations; the
    export and the next clustering open the warehouse themselves, which DuckDB refuses while
    another connection of the same process holds it with other settings."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


@dataclass
class Refresher:
    """Everything one warehouse's report needs to refresh; heavy parts load on first use."""

    db: Path
    report_dir: Path = REPORT_DIR
    faces_root: Path = REPO  # the folder the warehouse's face paths are relative to
    data_docs: Path = REPO / "out" / "data_docs"
    ingest_args: list[str] = field(default_factory=list)  # `make build`'s INGEST_ARGS
    _dbt: object | None = None

    @property
    def site(self) -> Path:
        return self.report_dir / "build"

    def _settings(self):
        from ingest.cli import recluster_settings

        # What `make build` clustered with: the warehouse's embedder and corrections file, and
        # the same INGEST_ARGS.
        return recluster_settings(self.db, self.ingest_args)

    def recluster(self) -> tuple[int, list[str]]:
        from ingest.pipeline.runner import recluster_warehouse

        _, k, _, stale, notes = recluster_warehouse(self.db, self._settings())
        return k, [*notes, *(f"matching nothing now: {s}" for s in stale)]

    def dbt(self) -> None:
        from ingest.warehouse.schema import TELEMETRY_OFF

        os.environ.update(TELEMETRY_OFF)
        os.environ["INFLUENCER_LENS_DB"] = str(self.db)
        here = Path.cwd()
        os.chdir(REPO)  # where the profile's plugin module and relative paths resolve
        try:
            runner = self.dbt_runner()
            select = [f"source:raw.{t}+" for t in PEOPLE_TABLES]
            res = runner.invoke(
                ["build", "--select", *select, "--exclude", "resource_type:unit_test", *DBT_FLAGS]
            )
        finally:
            os.chdir(here)
            _close_dbt_duckdb()
        if not res.success:
            failed = [
                f"{r.node.name} ({r.status})"
                for r in getattr(res.result, "results", None) or []
                if str(r.status) in ("error", "fail")
            ]
            why = ", ".join(failed) or str(res.exception)
            raise RefreshError(f"dbt build failed: {why}; run `make dbt` to see it whole")

    def dbt_runner(self):
        """dbt with the project parsed once, on the first refresh (a second or two saved on
        each later one). Not earlier: a build after a parse made before the clustering wrote
        fails in DuckDB ("Nested schemas ... storage versions"), measured 2026-12-07."""
        if self._dbt is None:
            from dbt.cli.main import dbtRunner

            here = Path.cwd()
            os.chdir(REPO)
            try:
                parsed = dbtRunner().invoke(["parse", *DBT_FLAGS])
            finally:
                os.chdir(here)
            if not parsed.success:
                raise RefreshError(f"dbt parse failed: {parsed.exception}")
            self._dbt = dbtRunner(manifest=parsed.result)
        return self._dbt

    def export(self) -> None:
        sibling("export_warehouse").export(
            self.db,
            self.report_dir / ".data" / "report.duckdb",
            self.report_dir / "static",
            self.faces_root.resolve(),
            self.data_docs,
            None,
        )

    def sources(self) -> None:
        from ingest.warehouse.schema import TELEMETRY_OFF

        proc = subprocess.run(
            ["npm", "run", "--silent", "sources"],
            cwd=self.report_dir,
            env={**os.environ, **TELEMETRY_OFF},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            raise RefreshError("evidence sources failed: " + " / ".join(tail))

    def publish(self) -> None:
        sibling("publish_site").refresh(
            self.site,
            self.report_dir / ".evidence" / "template" / "static" / "data",
            self.report_dir / "static",
            self.db,
            self.report_dir / "pages",
        )

    def refresh(self) -> Refreshed:
        """Steps 1-5 of the module docstring, timed; raises RefreshError on the first failure."""
        out = Refreshed()

        def step(name: str, fn):
            t0 = time.perf_counter()
            try:
                return fn()
            finally:
                out.seconds[name] = time.perf_counter() - t0

        out.influencers, out.notes = step("recluster", self.recluster)
        step("dbt", self.dbt)
        step("export", self.export)
        step("sources", self.sources)
        step("publish", self.publish)
        return out
