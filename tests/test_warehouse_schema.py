"""ingest.warehouse.schema: the schema as dbt's manifest declares it, and what checks it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ingest.warehouse import schema as warehouse_schema
from ingest.warehouse import store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def manifest() -> dict:
    # the project's own, re-parsed when a file of the project is newer (as the exporter does)
    return warehouse_schema.load(warehouse_schema.manifest_path())


@pytest.mark.parametrize("embedding_dim", [128, 512])
def test_sources_yml_agrees_with_the_tables_ingest_creates(
    manifest: dict, tmp_path: Path, embedding_dim: int
):
    con = store.connect(tmp_path / "warehouse.duckdb", embedding_dim)
    try:
        created = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    declared = warehouse_schema.sources(manifest)
    assert {t.name for t in declared} == {table for table, _, _ in created}
    for table in declared:
        columns = [(c, t) for name, c, t in created if name == table.name]
        assert [c for c, _ in columns] == [c.name for c in table.columns], table.name
        for column, (_, data_type) in zip(table.columns, columns):
            # the one raw column without a declared type: its size is the embedder's
            expected = column.data_type or f"FLOAT[{embedding_dim}]"
            assert data_type == expected.upper(), (table.name, column.name)


def test_docs_name_every_table_and_link_only_files_that_exist(manifest: dict):
    text = (ROOT / "docs" / "warehouse.md").read_text()
    for table in warehouse_schema.marts(manifest):
        assert f"({'../dbt_project/' + table.yml})" in text, table.name
    for table in warehouse_schema.sources(manifest):
        assert f"`{table.qualified}`" in text, table.qualified
    for link in re.findall(r"\]\((\.\./[^)]+)\)", text):
        assert (ROOT / "docs" / link).resolve().is_file(), link


def test_markdown_has_every_column_with_its_type(manifest: dict):
    text = warehouse_schema.markdown(manifest)
    tables = warehouse_schema.marts(manifest) + warehouse_schema.sources(manifest)
    for table in tables:
        assert f"### `{table.qualified}`" in text
        for column in table.columns:
            assert f"| {column.name} | {column.data_type or '(varies)'} |" in text, column


def test_cli_writes_the_reference(manifest: dict, tmp_path: Path, capsys):
    out = tmp_path / "warehouse.md"
    path = warehouse_schema.manifest_path()
    assert warehouse_schema.main(["--manifest", str(path), "--out", str(out)]) == 0
    assert out.read_text() == warehouse_schema.markdown(manifest)
    assert str(out) in capsys.readouterr().out


def test_a_mart_column_added_in_sql_and_yml_reaches_the_manifest(tmp_path: Path):
    """An edited .yml is never read stale: manifest_path parses again."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        warehouse_schema.DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    before = warehouse_schema.load(warehouse_schema.manifest_path(project))
    videos = next(t for t in warehouse_schema.marts(before) if t.name == "videos")
    assert "is_short" not in [c.name for c in videos.columns]
    sql = project / "models" / "marts" / "videos.sql"
    sql.write_text(
        sql.read_text().replace(
            "        videos.decoded_share\n",
            "        videos.decoded_share,\n        videos.duration_s < 60 as is_short\n",
        )
    )
    yml = project / "models" / "marts" / "videos.yml"
    yml.write_text(
        yml.read_text().replace(
            "\nunit_tests:",
            "      - name: is_short\n        data_type: boolean\n"
            "        description: Under a minute.\n\nunit_tests:",
        )
    )
    after = warehouse_schema.load(warehouse_schema.manifest_path(project))
    videos = next(t for t in warehouse_schema.marts(after) if t.name == "videos")
    assert videos.columns[-1] == warehouse_schema.Column("is_short", "boolean", "Under a minute.")
    assert "| is_short | boolean | Under a minute. |" in warehouse_schema.markdown(after)


def test_dbt_writes_a_relative_target_where_the_caller_stands(tmp_path: Path, monkeypatch):
    """make bench passes data/bench/dbt_target: it must land there, not inside dbt_project/
    (where the SQL linter then reads dbt's compiled files)."""
    monkeypatch.chdir(tmp_path)
    rel = Path("data") / "dbt_target"
    proc = warehouse_schema.run_dbt("parse", target_dir=rel, log_dir=Path("data") / "dbt_logs")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / rel / "manifest.json").is_file()
    assert not (warehouse_schema.DBT_PROJECT / rel).exists()
