"""Seconds from a click in `make review` to the updated page (issue #46), on the benchmark
corpus (100 videos, bench/corpora.py BENCH), in a real Chromium.

The bench's warehouse (``<work>/bench.duckdb``, ingested and built by `make bench`; built here
when missing) is copied, its report built with `make report` into a copy of reports/ (timed:
the full build this refresh saves), and served by reports/review_server.py. Then answers of
every kind are given with the pages' buttons: names, a contact-sheet face kept and one split
off, each "Check these" row (the first "maybe the same person" merged, the others dismissed).
They are answers for timing, not for accuracy: the copy is thrown away. Each answer is timed
from the click to the reloaded page showing its new figures; the server's own steps come from
its /api/state.

Run: `make bench-review` (also the last part of `make bench`); writes its block of
docs/benchmarks.md."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.corpora import BENCH, corpus, ingest
from ingest.corrections.file import file_for
from ingest.settings import Settings
from ingest.warehouse.schema import run_dbt

START = "<!-- review refresh: start -->"
END = "<!-- review refresh: end -->"
REPO = Path(__file__).resolve().parents[1]
MIN_ANSWERS = 10
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@dataclasses.dataclass
class Answer:
    kind: str  # what the button answered
    seconds: float  # click -> the reloaded page with its figures
    steps: dict[str, float]  # the server's refresh steps


@dataclasses.dataclass
class ReviewBench:
    n_videos: int
    n_influencers: int
    report_build_s: float  # `make report` in full, same run
    answers: list[Answer]

    @property
    def median_s(self) -> float:
        return statistics.median(a.seconds for a in self.answers)

    @property
    def max_s(self) -> float:
        return max(a.seconds for a in self.answers)


def _warehouse(faces: Path, work: Path, settings: Settings) -> Path:
    db = work / "bench.duckdb"
    if not db.is_file():
        csv = corpus(faces, work, BENCH) / "videos.csv"
        ingest(csv, db, settings)
        built = run_dbt("build", "--quiet", db=db.resolve(), target_dir=work / "dbt_target")
        if built.returncode != 0:
            raise RuntimeError(f"dbt build failed on {db}:\n{built.stdout[-4000:]}")
    return db


def _refresh_module():
    sys.path.insert(0, str(REPO / "reports"))
    import refresh

    return refresh


def run_review_bench(faces: Path, work: Path, settings: Settings) -> ReviewBench:
    import duckdb
    from playwright.sync_api import sync_playwright

    src = _warehouse(faces, work, settings)
    out = work / "review"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    db = out / "w.duckdb"
    shutil.copy2(src, db)
    if file_for(src).is_file():
        shutil.copy2(file_for(src), file_for(db))
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_videos = con.execute("select count(*) from videos").fetchone()[0]
        n_people = con.execute("select count(*) from influencers").fetchone()[0]
    finally:
        con.close()
    data_docs = out / "data_docs"
    data_docs.mkdir()
    (data_docs / "index.html").write_text("<!doctype html><title>checks</title><p>not run</p>")
    project = _refresh_module().project_copy(out / "reports")
    # Absolute: dbt reads a relative target path from the project folder.
    env = {**os.environ, "DBT_TARGET_PATH": str((out / "dbt_target").resolve())}
    t0 = time.perf_counter()
    subprocess.run(
        ["make", "--no-print-directory", "report", f"REPORT_DIR={project}", f"DB={db}"]
        + [f"FACES_ROOT={REPO}", f"DATA_DOCS={data_docs}"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    report_s = time.perf_counter() - t0
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "reports" / "review_server.py"), "--db", str(db)]
        + ["--report-dir", str(project), "--root", str(REPO), "--data-docs", str(data_docs)]
        + ["--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if "open http://" in line or line.startswith("error"):
                break
        if "open http://" not in line:
            raise RuntimeError(f"the review server did not start: {line}")
        base = line.split("open ", 1)[1].split("/check-these/")[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--headless", "--no-sandbox"]
            )
            try:
                answers = _answer(browser.new_page(), base, db)
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return ReviewBench(n_videos, n_people, report_s, answers)


def _answer(page, base: str, db: Path) -> list[Answer]:
    import json
    import urllib.request

    import duckdb

    def timed(kind: str, button, ready) -> None:
        """Click, then wait for the reloaded page to show ``ready`` (a selector, or a locator
        of what only the new figures show): what the user waits for."""
        t0 = time.perf_counter()
        with page.expect_navigation(wait_until="commit", timeout=120_000):
            button.click()
        if isinstance(ready, str):
            page.wait_for_selector(ready, timeout=60_000)
        else:
            ready.wait_for(timeout=60_000)
        secs = time.perf_counter() - t0
        page.wait_for_load_state("networkidle")
        with urllib.request.urlopen(f"{base}/api/state") as res:
            steps = json.load(res)["last"].get("seconds", {})
        done.append(Answer(kind, secs, steps))
        print(f"  review: {kind} in {secs:.1f} s", flush=True)

    done: list[Answer] = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        people = [
            r[0]
            for r in con.execute(
                "select influencer_id from influencers where n_videos >= 2 "
                "order by n_videos desc, influencer_id"
            ).fetchall()
        ]
    finally:
        con.close()
    # Names, then a contact-sheet face kept and one split off (two people with several videos).
    for k, iid in enumerate(people[:4]):
        page.goto(f"{base}/influencers/{iid}/", wait_until="networkidle")
        page.wait_for_selector("input.answer-name", timeout=60_000)
        name = f"Bench Person {k + 1}"
        page.fill("input.answer-name", name)
        timed("name", page.locator("button[data-answer=name]"), _heading(page, name))
        face = page.locator(".contact-face").first
        face.wait_for(timeout=60_000)
        if k == 1:
            timed("keep (contact sheet)", face.locator("button[data-answer=keep]"), ".contact-face")
        if k == 2:
            timed(
                "split (contact sheet)", face.locator("button[data-answer=split]"), ".contact-face"
            )
    # Check these: every row, until nothing is left or the answers are plenty.
    page.goto(f"{base}/check-these/", wait_until="networkidle")
    merged = False
    for _ in range(20):
        page.wait_for_selector("#nothing-left, .suggestion", timeout=60_000)
        if page.locator("#nothing-left").count() or len(done) >= 2 * MIN_ANSWERS:
            break
        row = page.locator(".suggestion").first
        same = "same-person" in (row.get_attribute("class") or "")
        kind = ("apart" if merged else "merge") if same else "keep"
        merged = merged or kind == "merge"
        timed(kind, row.locator(f"button[data-answer={kind}]"), "#nothing-left, .suggestion")
    # Too few rows to check: more names, until the answers are enough.
    for k, iid in enumerate(people[4:]):
        if len(done) >= MIN_ANSWERS:
            break
        page.goto(f"{base}/influencers/{iid}/", wait_until="networkidle")
        page.wait_for_selector("input.answer-name", timeout=60_000)
        name = f"Bench Person {k + 5}"
        page.fill("input.answer-name", name)
        timed("name", page.locator("button[data-answer=name]"), _heading(page, name))
    return done


def _heading(page, name: str):
    return page.get_by_role("heading", name=name, exact=True)


def block(r: ReviewBench) -> list[str]:
    steps = sorted({s for a in r.answers for s in a.steps})
    kinds: dict[str, list[float]] = {}
    for a in r.answers:
        kinds.setdefault(a.kind, []).append(a.seconds)
    lines = [
        f"### `make review`: from a click to the updated page ({r.n_videos} videos, "
        f"{r.n_influencers} influencers)",
        "",
        f"`make bench-review`, {dt.datetime.now():%Y-%m-%d %H:%M}, in Chromium on this machine: {len(r.answers)} answers "
        f"given with the pages' buttons, each timed from the click until the reloaded page shows "
        f"what the answer changed (the new name, contact sheet or list). **Median {r.median_s:.1f} s, slowest {r.max_s:.1f} s.** A full "
        f"`make report` of the same warehouse, in the same run: {r.report_build_s:.0f} s.",
        "",
        "| answer | answers | median s | max s |",
        "|---|---|---|---|",
    ]
    for kind, secs in kinds.items():
        lines.append(f"| {kind} | {len(secs)} | {statistics.median(secs):.1f} | {max(secs):.1f} |")
    lines += [
        "",
        "Where the time goes, median seconds per answer over the server's steps "
        "(reports/refresh.py): "
        + ", ".join(
            f"{s} {statistics.median(a.steps.get(s, 0.0) for a in r.answers):.2f}" for s in steps
        )
        + "; the rest is the browser loading the page and its data.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.creative import publish_block

    ap = argparse.ArgumentParser(prog="bench.review", description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    ap.add_argument("--work", type=Path, default=Path("data/bench"))
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = ap.parse_args(argv)
    settings = dataclasses.replace(
        Settings(), cache_dir=args.work / "cache_timed", faces_dir=args.work / "faces_timed"
    )
    r = run_review_bench(args.faces, args.work, settings)
    lines = block(r)
    print("\n".join(lines))
    publish_block(args.out, lines, START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
