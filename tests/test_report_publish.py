"""A site never shows what no longer exists (issue #46, "No stale site"): `make report` builds
beside the published site and swaps the new one in whole (reports/publish_site.py).

On a copy of the report's fixture warehouse: build the site; merge person 5 into person 1 as a
clustering would record it, rebuild the marts; start `make report` and kill it halfway: the
published site is byte for byte what it was; build again: nothing of person 5 survives (no page,
face or data file), person 5's old address says whom they were merged into, and no page exists
under a float id (`/influencers/5.0`); the merge answered the one suggestion, so the home page and
"Check these" read "Nothing left to check"."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from ingest.warehouse.schema import run_dbt
from tests.conftest import copy_report_project
from tests.test_report_browser import (
    REPO,
    _serve,
    make_report,
    report_command,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _merge_5_into_1(db: Path, project_dir: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("update raw.face_clusters set cluster_id = 1 where cluster_id = 5")
        con.execute("insert into raw.influencer_id_history values (5, 'merged_into', 1, now())")
        con.execute("delete from raw.review_candidates where 5 in (influencer_id, other_id)")
    finally:
        con.close()
    result = run_dbt("build", db=db, project_dir=project_dir)
    assert result.returncode == 0, result.stdout[-4000:]


def test_a_rebuild_swaps_the_site_whole_and_drops_a_merged_person(
    tmp_path, report_warehouse, report_site, browser
):
    if shutil.which("npm") is None:
        pytest.fail("npm not found: the report is built with Node.js/npm", pytrace=False)
    fx = tmp_path / "fx"
    shutil.copytree(report_warehouse, fx)
    db = fx / "warehouse.duckdb"
    # The session's site of the same warehouse is the one published before the merge.
    built_project, _, data_docs = report_site
    project = copy_report_project(built_project, tmp_path / "reports")
    build = project / "build"
    before = _tree(build)
    assert any(k.startswith("influencers/5") for k in before), sorted(before)[:20]
    assert "faces/5.jpg" in before
    assert not any("/5.0" in k or k.startswith("influencers/5.0") for k in before)

    _merge_5_into_1(db, fx / "dbt_project")

    # Killed halfway (during Evidence's build): the published site is as it was.
    proc = subprocess.Popen(
        report_command(project, db, fx, data_docs),
        cwd=REPO,
        env={**os.environ, "DO_NOT_TRACK": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started = time.time()
    deadline = time.monotonic() + 300
    manifest = project / ".evidence" / "template" / "static" / "data" / "manifest.json"
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.is_file() and manifest.stat().st_mtime > started:
            break  # the data is exported: Evidence's build comes next
        time.sleep(0.5)
    time.sleep(8)  # into bundling (about 45 s on 2 cores)
    assert proc.poll() is None, "make report ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _tree(build) == before

    build = make_report(project, db, fx, data_docs)
    after = _tree(build)
    assert "faces/5.jpg" not in after and "faces/1.jpg" in after
    pages5 = [k for k in after if k.startswith("influencers/5")]
    assert pages5 == ["influencers/5/index.html"], pages5
    notice = (build / "influencers" / "5" / "index.html").read_text()
    assert "id=merged-into" in notice and "href='/influencers/1'" in notice
    assert not any(".build-next" in str(p) for p in project.iterdir())
    # The merge answered the fixture's one suggestion: both pages say so (issue #45).
    with _serve(build) as base:
        page = browser.new_page()
        for path, where in (("/", "#check-these-link"), ("/check-these/", "#nothing-left")):
            page.goto(base + path, wait_until="networkidle")
            page.wait_for_selector(where, timeout=120_000)
            assert "Nothing left to check" in page.inner_text(where), path
        page.close()
    # One data folder per table (no hash folders of earlier builds), none holding person 5.
    folders = [p for p in (build / "data" / "warehouse" / "influencers").iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    con = duckdb.connect()
    n5 = con.execute(
        f"select count(*) from read_parquet('{folders[0].as_posix()}/*.parquet') "
        "where influencer_id = 5"
    ).fetchone()[0]
    con.close()
    assert n5 == 0
