"""reports/publish_site.py on its own (fast): the swap leaves one whole site, never a mix, and
a merged-away person's address names whom they were merged into, through later merges."""

from __future__ import annotations

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
    new = _site(tmp_path / ".build-next", {"index.html": "new", "influencers/1/index.html": "Ana"})
    n = publish_site.publish(new, site, _warehouse(tmp_path / "w.duckdb"))
    assert n == 3 and not new.exists() and not (tmp_path / "build.old").exists()
    files = _files(site)
    assert files["index.html"] == "new" and files["influencers/1/index.html"] == "Ana"
    notice = files["influencers/5/index.html"]
    assert "merged into <a href='/influencers/1'>Ana &lt;b&gt; (Id 1)</a>" in notice
    assert set(files) == {
        "index.html",
        "influencers/1/index.html",
        "influencers/5/index.html",
        "influencers/7/index.html",
        "influencers/9/index.html",
    }


def test_an_unfinished_build_is_never_published(tmp_path):
    site = _site(tmp_path / "build", {"index.html": "old"})
    new = _site(tmp_path / ".build-next", {"influencers/1/index.html": "half"})
    with pytest.raises(SystemExit, match="holds no built site"):
        publish_site.publish(new, site, None)
    assert _files(site) == {"index.html": "old"}
