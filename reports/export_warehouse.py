"""Copy the warehouse marts into the report's own DuckDB file and stage the site's static assets.

Evidence reads `reports/.data/report.duckdb` with its own (older) DuckDB, which cannot
open a file written by Python duckdb 2.x, so the marts are copied into a file written with
STORAGE_VERSION v1.4.0. The copy is thin: every dbt mart, with the columns its .yml declares (read
from dbt's manifest: this file lists none), only types Evidence cannot carry (DECIMAL, HUGEINT,
lists, structs) cast. All logic stays in dbt.

Also:
  * copies each influencer's representative face (`influencers.representative_face_path`, relative
    to --root) to `static/faces/<influencer_id>.jpg` and adds the column `face_url`;
  * copies the faces of the contact sheets and of "Check these" (`influencer_video_faces.face_path`,
    `review_suggestions.face_path` / `other_face_path`) to `static/faces/c/`, once each, shrunk
    like the representative faces, and adds `face_url` (and `other_face_url`);
  * copies each video's thumbnail (`videos.thumbnail_path`, a face crop ingest wrote) to
    `static/thumbs/<video_id>.jpg` and adds the column `thumbnail_url` (null without one);
    both kinds are shrunk to small JPEGs so the site stays light with thousands of videos;
  * copies the checks stage's static results (`out/data_docs/`) to `static/data_docs/`, or writes a
    placeholder page saying the checks have not run;
  * creates empty tables with the declared columns for any table that is missing (for example
    `quality.*` before the checks stage has run), and null columns for declared ones a warehouse
    built before they existed lacks, so the report still builds.

Run: .venv/bin/python reports/export_warehouse.py [--db data/warehouse.duckdb]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import os
import shutil
import sys
from pathlib import Path

import duckdb
from PIL import Image

from ingest.settings import WAREHOUSE_STORAGE_VERSION
from ingest.warehouse import schema as warehouse_schema

REPORT_DIR = Path(__file__).resolve().parent
REPO_ROOT = REPORT_DIR.parent
# Readable by @duckdb/node-api 1.4 (Evidence's duckdb plugin), like every warehouse we write.
STORAGE_VERSION = WAREHOUSE_STORAGE_VERSION
MISSING_FACE_URL = "/face-missing.svg"
# Longest side, in pixels, of the images the site ships: the pages show faces at most 128 px
# high and thumbnails at 64 px, so larger files would only cost download time.
FACE_PX = 128
THUMB_PX = 96
JPEG_QUALITY = 80

# Written by the checks stage (expectations/), not by dbt, so not in its manifest: these columns
# stand in for a table it has not written yet. tests/test_report_export.py holds the names to
# expectations' own lists.
QUALITY_TABLES: dict[str, list[tuple[str, str]]] = {
    "dbt_results": [
        ("unique_id", "VARCHAR"),
        ("resource_type", "VARCHAR"),
        ("status", "VARCHAR"),
        ("message", "VARCHAR"),
        ("failures", "BIGINT"),
        ("execution_time_s", "DOUBLE"),
        ("invocation_id", "VARCHAR"),
        ("generated_at", "TIMESTAMP"),
    ],
    "gx_results": [
        ("suite", "VARCHAR"),
        ("table_name", "VARCHAR"),
        ("check_name", "VARCHAR"),
        ("expectation", "VARCHAR"),
        ("column_name", "VARCHAR"),
        ("success", "BOOLEAN"),
        ("severity", "VARCHAR"),
        ("observed", "VARCHAR"),
        ("kwargs", "VARCHAR"),
        ("run_at", "TIMESTAMP"),
    ],
}


def report_tables(manifest: dict) -> list[tuple[str, str, list[tuple[str, str]] | None]]:
    """(schema, table, declared columns) of what the report gets: every dbt mart with the columns
    and types its .yml declares (a column of no fixed type, centroid, is VARCHAR: the copy casts
    arrays to text anyway), then quality.*, whose columns are whatever the checks stage wrote."""
    marts = [
        (t.schema, t.name, [(c.name, c.data_type or "VARCHAR") for c in t.columns])
        for t in warehouse_schema.marts(manifest)
    ]
    return [*marts, *(("quality", name, None) for name in QUALITY_TABLES)]


DATA_DOCS_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality results</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto;">
<h1>Data quality results</h1>
<p>The checks stage has not written its static results page yet ({src}).</p>
<p>Run <code>make build</code> (or <code>make gx report</code>) to produce it.</p>
<p><a href="/data-quality">Back to the report</a></p>
</body></html>
"""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cast_expr(column: str, dtype: str) -> str:
    """A select expression carrying `column` in a type Evidence understands."""
    t = dtype.upper()
    if t.startswith("DECIMAL") or t in ("HUGEINT", "UHUGEINT"):
        return f"CAST({_q(column)} AS DOUBLE) AS {_q(column)}"
    if (
        t.endswith("]")
        or t.startswith(("STRUCT", "MAP", "UNION"))
        or t in ("BLOB", "UUID", "INTERVAL", "JSON")
    ):
        return f"CAST({_q(column)} AS VARCHAR) AS {_q(column)}"
    return _q(column)


def _table_columns(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str
) -> list[tuple[str, str]]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _face_urls(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    folder: Path,
    columns: list[tuple[str, str, str]],
) -> int:
    """For each (table, path column, url column): copy every face image the column names
    (relative to ``root``), shrunk to FACE_PX, into ``folder`` under a name made from its path,
    each file once, and
    add the url column (MISSING_FACE_URL where the file is gone). Returns how many are gone."""
    folder.mkdir(parents=True, exist_ok=True)
    site = "/" + folder.relative_to(folder.parent.parent).as_posix()
    urls: dict[str, str] = {}
    for table, path_col, url_col in columns:
        for (rel,) in con.execute(
            f"SELECT DISTINCT {_q(path_col)} FROM rep.main.{_q(table)} "
            f"WHERE {_q(path_col)} IS NOT NULL"
        ).fetchall():
            if rel in urls:
                continue
            src = root / rel
            if src.is_file():
                name = hashlib.sha1(rel.encode()).hexdigest()[:16] + ".jpg"
                _small_jpeg(src, folder / name, FACE_PX)
                urls[rel] = f"{site}/{name}"
            else:
                urls[rel] = MISSING_FACE_URL
        con.execute(f"ALTER TABLE rep.main.{_q(table)} ADD COLUMN {_q(url_col)} VARCHAR")
    if urls:
        con.execute("CREATE TEMP TABLE face_url_map (rel VARCHAR, url VARCHAR)")
        con.executemany("INSERT INTO face_url_map VALUES (?, ?)", list(urls.items()))
        for table, path_col, url_col in columns:
            con.execute(
                f"UPDATE rep.main.{_q(table)} SET {_q(url_col)} = m.url FROM face_url_map m "
                f"WHERE m.rel = rep.main.{_q(table)}.{_q(path_col)}"
            )
    gone = sorted(rel for rel, url in urls.items() if url == MISSING_FACE_URL)
    if gone:
        print(f"export: {len(gone)} face images not found, e.g. {gone[0]!r}", file=sys.stderr)
    return len(gone)


def _small_jpeg(src: Path, dst: Path, px: int) -> None:
    """Write `src` to `dst` as a JPEG whose longest side is at most `px`."""
    with Image.open(src) as im:
        im = im.convert("RGB")
        im.thumbnail((px, px))
        im.save(dst, "JPEG", quality=JPEG_QUALITY, optimize=True)


def _copy_images(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    path_column: str,
    url_column: str,
    folder: Path,
    root: Path,
    px: int,
    missing_url: str | None,
) -> int:
    """Copy the image `path_column` (relative to `root`) of each row of rep.main.`table` to
    `folder/<key>.jpg`, shrunk to `px`, and set `url_column`; returns how many were not found
    (their url is `missing_url`). Rows whose path is null get `missing_url` silently."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    urls: list[tuple[str, object]] = []
    n_missing = 0
    for value, rel in con.execute(
        f"SELECT {_q(key)}, {_q(path_column)} FROM rep.main.{_q(table)}"
    ).fetchall():
        src = (root / rel) if rel else None
        name = f"{int(value) if isinstance(value, int) else value}.jpg"
        if src is not None and src.is_file():
            _small_jpeg(src, folder / name, px)
            urls.append((f"/{folder.name}/{name}", value))
            continue
        if rel:
            n_missing += 1
            print(f"export: {table} {value}: image not found ({rel!r})", file=sys.stderr)
        urls.append((missing_url, value))
    con.execute(f"ALTER TABLE rep.main.{_q(table)} ADD COLUMN {_q(url_column)} VARCHAR")
    if urls:
        con.executemany(
            f"UPDATE rep.main.{_q(table)} SET {_q(url_column)} = ? WHERE {_q(key)} = ?", urls
        )
    return n_missing


def export(
    db: Path,
    out: Path,
    static_dir: Path,
    root: Path,
    data_docs: Path,
    manifest_file: Path | None = None,
) -> dict:
    """Write `out` from `db`, with the marts' columns as dbt's manifest declares them (default:
    the project's, parsed again when stale); returns a summary."""
    manifest = warehouse_schema.load(manifest_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    for p in (tmp, tmp.with_name(tmp.name + ".wal")):
        p.unlink(missing_ok=True)

    con = duckdb.connect()
    have_db = db.exists()
    if have_db:
        con.execute(f"ATTACH '{db.as_posix()}' AS wh (READ_ONLY)")
    else:
        print(
            f"export: warehouse {db} not found; writing an empty report database", file=sys.stderr
        )
    con.execute(f"ATTACH '{tmp.as_posix()}' AS rep (STORAGE_VERSION '{STORAGE_VERSION}')")

    missing: list[str] = []
    missing_columns: list[str] = []
    counts: dict[str, int] = {}
    for schema, table, declared in report_tables(manifest):
        cols = _table_columns(con, "wh", schema, table) if have_db else []
        if cols and declared is not None:
            # the declared columns, in the declared order; one a stale warehouse lacks is null
            built = dict(cols)
            select = ", ".join(
                _cast_expr(c, built[c]) if c in built else f"CAST(NULL AS {t}) AS {_q(c)}"
                for c, t in declared
            )
            missing_columns += [f"{schema}.{table}.{c}" for c, _ in declared if c not in built]
        elif cols:
            select = ", ".join(_cast_expr(c, t) for c, t in cols)
        if cols:
            con.execute(
                f"CREATE TABLE rep.main.{_q(table)} AS "
                f"SELECT {select} FROM wh.{_q(schema)}.{_q(table)}"
            )
        else:
            missing.append(f"{schema}.{table}")
            coldefs = ", ".join(f"{_q(c)} {t}" for c, t in declared or QUALITY_TABLES[table])
            con.execute(f"CREATE TABLE rep.main.{_q(table)} ({coldefs})")
        counts[table] = con.execute(f"SELECT count(*) FROM rep.main.{_q(table)}").fetchone()[0]

    # Faces and video thumbnails: small copies next to the site, with their urls.
    n_missing_faces = _copy_images(
        con,
        "influencers",
        "influencer_id",
        "representative_face_path",
        "face_url",
        static_dir / "faces",
        root,
        FACE_PX,
        MISSING_FACE_URL,
    )
    # a null representative face is a missing face too (every influencer has faces)
    n_missing_faces += con.execute(
        "SELECT count(*) FROM rep.main.influencers WHERE representative_face_path IS NULL"
    ).fetchone()[0]
    _copy_images(
        con,
        "videos",
        "video_id",
        "thumbnail_path",
        "thumbnail_url",
        static_dir / "thumbs",
        root,
        THUMB_PX,
        None,
    )
    con.execute("ALTER TABLE rep.main.influencers ADD COLUMN influencer_url VARCHAR")
    con.execute(
        "UPDATE rep.main.influencers SET influencer_url = "
        "'/influencers/' || CAST(influencer_id AS VARCHAR)"
    )

    # Contact sheets and "Check these": each face they show, copied once, and its URL.
    n_missing_sheet_faces = _face_urls(
        con,
        root,
        static_dir / "faces" / "c",
        [
            ("influencer_video_faces", "face_path", "face_url"),
            ("review_suggestions", "face_path", "face_url"),
            ("review_suggestions", "other_face_path", "other_face_url"),
        ],
    )

    # Data docs (static results page of the checks stage).
    docs_target = static_dir / "data_docs"
    if docs_target.exists():
        shutil.rmtree(docs_target)
    have_docs = (data_docs / "index.html").is_file()
    if have_docs:
        shutil.copytree(data_docs, docs_target)
    else:
        docs_target.mkdir(parents=True)
        (docs_target / "index.html").write_text(
            DATA_DOCS_PLACEHOLDER.format(src=html.escape(str(data_docs))), encoding="utf-8"
        )

    con.execute(
        "CREATE TABLE rep.main.report_meta AS SELECT "
        "CAST(? AS TIMESTAMP) AS exported_at, ? AS source_db, ? AS missing_tables, "
        "? AS n_missing_faces, ? AS has_data_docs",
        [
            dt.datetime.now().replace(microsecond=0),
            str(db),
            ", ".join(missing),
            n_missing_faces,
            have_docs,
        ],
    )
    con.execute("DETACH rep")
    con.close()
    os.replace(tmp, out)
    return {
        "tables": counts,
        "missing": missing,
        "missing_columns": missing_columns,
        "missing_faces": n_missing_faces,
        "missing_sheet_faces": n_missing_sheet_faces,
        "data_docs": have_docs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Copy the warehouse marts (and quality results) into the report's own "
        "DuckDB file, readable by Evidence, and stage face images and data docs "
        "under the report's static assets."
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(os.environ.get("INFLUENCER_LENS_DB", REPO_ROOT / "data" / "warehouse.duckdb")),
        help="warehouse DuckDB (default: $INFLUENCER_LENS_DB or data/warehouse.duckdb)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPORT_DIR / ".data" / "report.duckdb",
        help="report database to write (default: %(default)s)",
    )
    parser.add_argument(
        "--static",
        type=Path,
        default=REPORT_DIR / "static",
        help="site static assets folder (default: %(default)s)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="folder that representative_face_path is relative to (default: the repository root)",
    )
    parser.add_argument(
        "--data-docs",
        type=Path,
        default=REPO_ROOT / "out" / "data_docs",
        help="static results of the checks stage (default: %(default)s)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help="dbt manifest.json declaring the marts' columns (default: "
        "dbt_project/target/manifest.json, after `dbt parse` when missing or stale)",
    )
    parser.add_argument(
        "--allow-missing-db",
        action="store_true",
        help="write an empty report database when --db does not exist",
    )
    args = parser.parse_args(argv)

    if not args.db.exists() and not args.allow_missing_db:
        parser.error(
            f"warehouse {args.db} not found: build it first (`make build`), or pass "
            "--allow-missing-db for an empty report"
        )
    summary = export(
        args.db.resolve(),
        args.out,
        args.static,
        args.root.resolve(),
        args.data_docs,
        args.manifest,
    )
    tables = ", ".join(f"{k}={v}" for k, v in summary["tables"].items())
    print(f"export: {args.out} ({tables})")
    if summary["missing"]:
        print(
            f"export: missing in the warehouse (empty in the report): "
            f"{', '.join(summary['missing'])}"
        )
    if summary["missing_columns"]:
        print(
            "export: columns the warehouse lacks (null in the report; rebuild it with `make "
            f"dbt`): {', '.join(summary['missing_columns'])}"
        )
    if not summary["data_docs"]:
        print(f"export: no {args.data_docs}/index.html; the report links to a placeholder")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
