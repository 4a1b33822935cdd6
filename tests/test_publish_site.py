"""reports/publish_site.py on its own (fast): the swap leaves one whole site, never a mix, and
a merged-away person's address names whom they were merged into, through later merges."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import load_report_module

publish_site = load_report_module("publish_site")


def _site(root: Path, pages: dict[str, str]) -> Path:
    for rel, text in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


def _warehouse(db: Path) -> Path:
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    con.execute(
        "create table raw.influencer_id_history (influencer_id integer, event varchar, "
        "other_id integer, recorded_at timestamp)"
    )
    con.execute(
        "insert into raw.influencer_id_history values (5, 'merged_into', 7, '2026-01-01'), "
        "(7, 'merged_into', 1, '2026-01-02'), (9, 'merged_into', 2, '2026-01-03'), "
        "(2, 'merged_into', 3, '2026-01-04')"
    )
    con.execute("create table main.influencers (influencer_id integer, influencer_name varchar)")
    # 2 came back (its videos returned); 3 is current too
    con.execute("insert into main.influencers values (1, 'Ana <b>'), (2, 'Bo'), (3, 'Cy')")
    con.close()
    return db


def test_merged_away_follows_later_merges_and_skips_people_who_are_back(tmp_path):
    got = publish_site.merged_away(_warehouse(tmp_path / "w.duckdb"))
    assert got == {5: (1, "Ana <b>"), 7: (1, "Ana <b>"), 9: (2, "Bo")}


@pytest.mark.parametrize("exchange", [True, False])
def test_the_new_site_replaces_the_old_whole(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(publish_site, "exchange", lambda a, b: False)
    site = _site(tmp_path / "build", {"index.html": "old", "influencers/5/index.html": "Person 5"})
    new = _site(tmp_path / ".build-next", {"index.html": "new"})
    pages = _pages(tmp_path / "pages")
    n = publish_site.publish(new, site, _warehouse(tmp_path / "w.duckdb"), pages)
    assert n == 3 and not new.exists() and not (tmp_path / "build.old").exists()
    files = _files(site)
    # Every address of a current person, and every page, has the new shell.
    for page in ("index.html", "check-these/index.html", "influencers/index.html"):
        assert files[page] == "new", page
    assert all(files[f"influencers/{i}/index.html"] == "new" for i in (1, 2, 3))
    notice = files["influencers/5/index.html"]
    assert "merged into <a href='/influencers/1'>Ana &lt;b&gt; (Id 1)</a>" in notice
    assert set(files) == {
        "index.html",
        "check-these/index.html",
        "influencers/index.html",
        *(f"influencers/{i}/index.html" for i in (1, 2, 3, 5, 7, 9)),
    }


def test_an_unfinished_build_is_never_published(tmp_path):
    site = _site(tmp_path / "build", {"index.html": "old"})
    new = _site(tmp_path / ".build-next", {"influencers/1/index.html": "half"})
    with pytest.raises(SystemExit, match="holds no built site"):
        publish_site.publish(new, site, None)
    assert _files(site) == {"index.html": "old"}


def _pages(root: Path) -> Path:
    for rel in (
        "index.md",
        "check-these.md",
        "influencers/index.md",
        "influencers/[influencer_id].md",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("# page")
    return root


def test_every_address_gets_the_shell_one_per_current_person(tmp_path):
    pages = _pages(tmp_path / "pages")
    got = publish_site.routes(pages, [1, 3])
    assert sorted(got) == ["", "check-these", "influencers", "influencers/1", "influencers/3"]


def _sources(root: Path, rows: dict[str, bytes]) -> Path:
    files = []
    for table, data in rows.items():
        (root / "warehouse" / table).mkdir(parents=True)
        (root / "warehouse" / table / f"{table}.parquet").write_bytes(data)
        files.append(f"static/data/warehouse/{table}/{table}.parquet")
    (root / "manifest.json").write_text(json.dumps({"renderedFiles": {"warehouse": files}}))
    return root


def test_a_refresh_keeps_the_bundle_and_replaces_data_faces_and_pages(tmp_path):
    pages = _pages(tmp_path / "pages")
    db = _warehouse(tmp_path / "w.duckdb")  # people 1, 2, 3 now; 5, 7, 9 merged away
    site = _site(
        tmp_path / "build",
        {
            "index.html": "<head>shell</head>",
            "_app/immutable/app.js": "bundle",
            "influencers/4/index.html": "<head>shell</head>",  # a person gone since
            "faces/4.jpg": "old face",
            "data/warehouse/influencers/abc/influencers.parquet": "old",
            "data/manifest.json": "{}",
        },
    )
    static = _site(tmp_path / "static", {"faces/1.jpg": "face 1", "thumbs/v.jpg": "t"})
    sources = _sources(tmp_path / "sources", {"influencers": b"new rows"})
    n = publish_site.refresh(site, sources, static, db, pages)
    files = _files(site)
    assert n == 3
    assert (
        files["_app/immutable/app.js"] == "bundle" and files["index.html"] == "<head>shell</head>"
    )
    assert "faces/4.jpg" not in files and "influencers/4/index.html" not in files
    assert files["faces/1.jpg"] == "face 1" and files["thumbs/v.jpg"] == "t"
    assert files["influencers/1/index.html"] == "<head>shell</head>"
    assert "merged-into" in files["influencers/5/index.html"]
    digest = hashlib.md5(b"new rows").hexdigest()
    assert files[f"data/warehouse/influencers/{digest}/influencers.parquet"] == "new rows"
    manifest = json.loads(files["data/manifest.json"])
    assert manifest["renderedFiles"]["warehouse"] == [
        f"static/data/warehouse/influencers/{digest}/influencers.parquet"
    ]
    assert not (tmp_path / ".refresh-next").exists()


def test_a_refresh_that_fails_leaves_the_site_as_it_was(tmp_path):
    pages = _pages(tmp_path / "pages")
    site = _site(tmp_path / "build", {"index.html": "<head>shell</head>", "faces/1.jpg": "f"})
    before = _files(site)
    with pytest.raises(FileNotFoundError):
        publish_site.refresh(site, tmp_path / "no-sources", tmp_path / "static", None, pages)
    assert _files(site) == before
