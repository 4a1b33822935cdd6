"""The warehouse file is written in a storage format DuckDB 1.x clients open (issue: the
warehouse opens in the DuckDB clients people already have)."""

from pathlib import Path

import duckdb

from ingest.settings import WAREHOUSE_STORAGE_VERSION
from ingest.warehouse import store


def test_a_new_warehouse_is_written_for_duckdb_1x(tmp_path: Path):
    db = tmp_path / "warehouse.duckdb"
    store.connect(db, 512).close()
    assert store.storage_version(db) == WAREHOUSE_STORAGE_VERSION


def test_a_newer_format_is_rewritten_with_its_tables_and_views(tmp_path: Path):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))  # duckdb 2's default format, as older versions of ingest wrote
    con.execute("create schema raw")
    con.execute(
        "create table raw.faces as select range as id, [range, 1]::float[2] as e from range(3)"
    )
    # dbt's views name the catalog, which is the file's stem.
    con.execute("create view main.stg as select id from warehouse.raw.faces where id > 0")
    con.close()
    assert store.storage_version(db) == "v2.0.0"

    assert store.migrate_storage(db) == "v2.0.0"
    assert store.storage_version(db) == WAREHOUSE_STORAGE_VERSION
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from stg").fetchone() == (2,)
    assert con.execute("select e from raw.faces where id = 2").fetchone()[0] == (
        2.0,
        1.0,
    )  # arrays come back as tuples
    con.close()
    assert store.migrate_storage(db) is None  # nothing left to do
    assert not list(tmp_path.glob("*.migrating*"))


def test_connect_rewrites_an_old_warehouse_and_says_so(tmp_path: Path, capsys):
    db = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(db)).close()
    store.connect(db, 512).close()
    assert store.storage_version(db) == WAREHOUSE_STORAGE_VERSION
    assert "rewrote it in v1.4.0" in capsys.readouterr().err


def test_dbt_profile_writes_the_same_storage_version():
    """profiles.yml cannot import Python: its copy of the version is held to the one in
    ingest.settings, so a new file dbt creates opens in the same clients."""
    import yaml

    profile = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "dbt_project/profiles.yml").read_text()
    )
    outputs = next(iter(profile.values()))["outputs"]
    versions = {o["config_options"]["storage_compatibility_version"] for o in outputs.values()}
    assert versions == {WAREHOUSE_STORAGE_VERSION}
