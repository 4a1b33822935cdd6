"""dbt-duckdb plugin: registers the face UDFs (``ingest.warehouse.udf``) on dbt's DuckDB connection, so
dbt models can call ``embed_face(path)`` and ``detect_faces(path)``.

Named under ``plugins:`` in dbt_project/profiles.yml. Registration is cheap: the face models
load only when a query first calls a UDF, so dbt runs that never do stay fast."""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # embedder: force one ("facenet" / "arcface" / "dlib"); by default the warehouse's own (raw.faces).
        self.embedder = plugin_config.get("embedder") or None

    def configure_connection(self, conn) -> None:
        from ingest.warehouse.udf import register

        register(conn, embedder=self.embedder)
