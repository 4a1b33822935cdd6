"""Influencer Lens ingest: CSV of videos -> faces -> people -> DuckDB schema raw.

Parts (docs/architecture.md): settings, embedders (the registry), errors; extract/, people/,
warehouse/, pipeline/, stats/, demo/; the CLI (cli, people_cli)."""
