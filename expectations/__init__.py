"""Great Expectations (GX Core 1.x) quality gates over the warehouse, defined as code.

Run: ``python -m expectations --db data/warehouse.duckdb`` (see ``--help``).

Tables are read from DuckDB into pandas and validated there (GX's SQL path through
duckdb_engine does not work with this stack). Results go to ``quality.gx_results``; dbt's
``run_results.json`` is parsed into ``quality.dbt_results``; a self-contained HTML page (no CDN
assets, viewable offline) is written to ``out/data_docs/index.html``.
"""

from expectations.suites import SUITES, TableCheck

__all__ = ["SUITES", "TableCheck"]
