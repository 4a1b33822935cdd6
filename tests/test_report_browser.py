"""The built report in a real headless Chromium.

Builds the Evidence site with `make report` from a small fixture warehouse (reports/fixture_warehouse.py:
ingest.warehouse.store, dbt build and the checks on made-up videos of real face photos from ../shared/faces,
or $INFLUENCER_LENS_SHARED/faces, in a temp folder) into a temp copy of reports/ (the
real reports/build is left alone), serves it on 127.0.0.1 and checks, in Debian's `chromium`:
the leaderboard lists the expected influencers, every image loads, each influencer page opens
(also by clicking a leaderboard row), the other pages render, the data-docs link works, there are
no console errors and no request leaves 127.0.0.1; the leaderboard's controls, the compare page
(people from the address) and the videos page's person filter work; every page fits a 1280 px
screen and a 390 px phone (#48). Screenshots go to test-artifacts/, and the README's
docs/img/leaderboard.png and docs/img/what-works.png are written here. A second site, of a
1,000-video, 300-person warehouse, logs how long a filter takes and the site's size (not gated).

Needs: `chromium` (`make browser-deps`, i.e. `apt-get install -y chromium`), the Python
`playwright` package (dev extra; its own browsers are never downloaded), node/npm.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CHROMIUM, PAGE_WAIT_MS, load_report_module

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
NOT_WORDS = re.compile(r"\b(?:nan|NaN|undefined|null|Infinity|None)\b")
REPORTS = REPO / "reports"
ARTIFACTS = REPO / "test-artifacts"
DOCS_IMG = REPO / "docs" / "img"  # figures the README shows, written by these tests


def _require_tools() -> None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"chromium not found at {CHROMIUM}: the report's browser test needs Debian's "
            "chromium. Install it with `make browser-deps` (or `sudo apt-get install -y "
            "chromium`), or point $CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    if importlib.util.find_spec("playwright") is None:
        pytest.fail(
            "the Python package `playwright` is missing: install the dev extra "
            "(`.venv/bin/pip install -e '.[dev]'`); never run `playwright install`, "
            "the test uses the system chromium.",
            pytrace=False,
        )
    if shutil.which("npm") is None:
        pytest.fail(
            "npm not found: the report is built with Node.js/npm (apt-get install -y nodejs npm).",
            pytrace=False,
        )


def _load_fixture_module():
    spec = importlib.util.spec_from_file_location(
        "fixture_warehouse", REPORTS / "fixture_warehouse.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


HIDDEN = _load_fixture_module().HIDDEN  # ids hidden by hand in the fixture


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _expected_people(db: Path) -> list[tuple]:
    """(influencer_id, name, n_videos) of every influencer: ranked ones in rank order, hidden
    ones last (not ranked)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select influencer_id, influencer_name, n_videos from influencers "
            "order by is_hidden, performance_rank, influencer_id"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def site(report_site, report_warehouse):
    """Serve the report of the fixture warehouse; yield (base_url, expected influencers)."""
    _, build, _ = report_site
    expected = _expected_people(report_warehouse / "warehouse.duckdb")
    with _serve(build) as base:
        yield base, expected


def _build_site(tmp: Path, db: Path, fx_root: Path, data_docs: Path) -> Path:
    """`make report` of a copy of reports/ (sharing its node_modules) under `tmp`, from `db`
    whose faces lie under `fx_root`; returns the built site's folder."""
    return make_report(report_project(tmp), db, fx_root, data_docs)


def report_project(tmp: Path) -> Path:
    """A copy of reports/ under `tmp` sharing its node_modules (installed first)."""
    env = {**os.environ, "SEND_ANONYMOUS_USAGE_STATS": "no", "DO_NOT_TRACK": "1"}
    subprocess.run(
        ["make", "--no-print-directory", "reports/node_modules/.installed"],
        cwd=REPO,
        env=env,
        check=True,
    )
    return load_report_module("refresh").project_copy(tmp / "reports")


def report_command(project: Path, db: Path, fx_root: Path, data_docs: Path) -> list[str]:
    return [
        "make",
        "--no-print-directory",
        "report",
        f"REPORT_DIR={project}",
        f"DB={db}",
        f"FACES_ROOT={fx_root}",
        f"DATA_DOCS={data_docs}",
    ]


def make_report(project: Path, db: Path, fx_root: Path, data_docs: Path) -> Path:
    """`make report` into `project`; returns its built site's folder."""
    env = {**os.environ, "SEND_ANONYMOUS_USAGE_STATS": "no", "DO_NOT_TRACK": "1"}
    proc = subprocess.run(
        report_command(project, db, fx_root, data_docs),
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"make report failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
            f"{proc.stderr[-4000:]}",
            pytrace=False,
        )
    build = project / "build"
    assert (build / "index.html").is_file()
    return build


@contextlib.contextmanager
def _serve(build: Path) -> Iterator[str]:
    """Serve `build` on 127.0.0.1; yields the base url."""
    handler = functools.partial(_QuietHandler, directory=str(build))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def has_count(locator, n: int, timeout: float = PAGE_WAIT_MS) -> None:
    """Wait for exactly n matches: a page's rows come from queries that can still be running
    after the network went quiet, so one count read at once can be early."""
    from playwright.sync_api import expect

    expect(locator).to_have_count(n, timeout=timeout)


class PageWatch:
    """A page that records console errors, page errors and requests leaving the server."""

    def __init__(self, browser, base: str, width: int = 1400, height: int = 1000):
        self.base = base
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("request", self._request)
        self.page.on("requestfailed", self._failed)

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(f"console.error: {msg.text}")

    def _request(self, req):
        if not req.url.startswith(self.base) and not req.url.startswith(("data:", "blob:")):
            self.external.append(req.url)

    def _failed(self, req):
        # Navigating away cancels the previous page's pending fetches (ERR_ABORTED): harmless.
        if req.failure and "ERR_ABORTED" not in req.failure:
            self.failed.append(f"{req.url}: {req.failure}")

    def goto(self, path: str):
        self.page.goto(self.base + path, wait_until="networkidle")
        self.settle()

    def settle(self):
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_function(
            "() => Array.from(document.images).every(i => i.complete)", timeout=PAGE_WAIT_MS
        )

    def tables(self):
        """The visible tables (Evidence's DataTable also renders a hidden copy of each)."""
        return self.page.locator("table:visible")

    def broken_images(self) -> list[str]:
        """Images that failed to load. An image the page added after the last ``settle`` (the
        pages render from in-browser queries, not from the network) is waited for first: one
        still loading is not broken, one that failed is complete with no width."""
        self.page.wait_for_function(
            "() => Array.from(document.images).every(i => i.complete)", timeout=PAGE_WAIT_MS
        )
        return self.page.eval_on_selector_all(
            "img", "els => els.filter(i => !(i.naturalWidth > 0)).map(i => i.src)"
        )

    def face_images(self) -> list[tuple[str, int]]:
        return self.page.eval_on_selector_all(
            "img[src*='/faces/']", "els => els.map(i => [i.getAttribute('src'), i.naturalWidth])"
        )

    def assert_clean(self):
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)
        assert not self.failed, "failed requests:\n" + "\n".join(self.failed)
        assert not self.external, "requests left the site (needs internet?):\n" + "\n".join(
            self.external
        )
        # A missing number is a word with its reason, never a programming language's (#48).
        text = self.page.inner_text("body")
        words = sorted({m.group(0) for m in NOT_WORDS.finditer(text)})
        assert not words, f"{self.page.url} shows {words}"


def test_overview_leaderboard_faces_and_navigation(site, browser):
    base, expected = site
    w = PageWatch(browser, base)
    w.goto("/")
    page = w.page

    # Headline figures.
    body = page.inner_text("body")
    for title in ("Videos in the CSV", "Failed downloads", "Influencers shown", "Their videos"):
        assert title in body

    # Leaderboard: the expected influencers, in rank order, each with a face that loads.
    table = w.tables().first
    table.wait_for()
    rows = table.locator("tr:has(td)")
    ranked = [e for e in expected if e[0] not in HIDDEN]
    has_count(rows, len(ranked))  # hidden people are not on the leaderboard
    names = [rows.nth(i).inner_text() for i in range(rows.count())]
    for (_, name, _), row_text in zip(ranked, names):
        assert name in row_text, (name, row_text)
    assert "Barack Obama" in names[0] + names[1] + names[2]  # names given by hand
    faces = w.face_images()
    assert {src for src, _ in faces} >= {f"/faces/{iid}.jpg" for iid, _, _ in ranked}, faces
    assert all(width > 0 for _, width in faces), faces
    assert w.broken_images() == []

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report_overview.png"), full_page=True)

    # Clicking the top leaderboard row opens that influencer's page.
    top_id, top_name, _ = expected[0]
    rows.first.click()
    page.wait_for_url(f"{base}/influencers/{top_id}**")
    w.settle()
    page.get_by_role("heading", name=top_name, exact=True).wait_for()
    assert w.broken_images() == []
    w.assert_clean()
    page.close()


def test_every_influencer_page(site, browser):
    base, expected = site
    w = PageWatch(browser, base)
    for iid, name, n_videos in expected:
        w.goto(f"/influencers/{iid}")
        page = w.page
        page.get_by_role("heading", name=name, exact=True).wait_for()
        faces = w.face_images()
        assert faces and faces[0][0] == f"/faces/{iid}.jpg" and faces[0][1] > 0, faces
        assert w.broken_images() == []
        # Every video of the influencer is listed (the videos table, after the BigValues).
        body = page.inner_text("body")
        assert "Appears together with" in body
        video_rows = w.tables().first.locator("tr:has(td)")
        has_count(video_rows, n_videos)
        if iid == expected[0][0]:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report_influencer.png"), full_page=True)
    # Fixture: influencers 1 and 2 share one video (co-appearances by name).
    w.goto("/influencers/1")
    together = w.tables().nth(1).inner_text()
    assert "Person 2" in together, together
    for iid in HIDDEN:
        w.goto(f"/influencers/{iid}")
        w.page.locator("#hidden-note").wait_for()
    w.assert_clean()
    w.page.close()


# What each page must say (beside fitting the screen): checked at 1280 px.
TEXTS = {
    "/videos": ["Failures", "download_failed", "HTTP 404 Not Found", "rejected"],
    "/regression": [
        "Cross-validated R²",
        "Lead elsewhere",
        "lead's average in their other videos",
        "Predicted vs actual",
        "than the average does",  # the verdict against the baseline, at the top (#48)
    ],
    "/what-works": [
        "Across all videos: with against without",
        "Within each person's own videos",
        "Benjamini-Hochberg",
        # plain names from the labels seed, never the column names
        "A face in the first 2 seconds",
        "Time in close-up",
        "Lead looks at the camera",
        "Cuts per 10 seconds",
        "A named person is in it",
    ],
    "/data-quality": [
        "dbt tests",
        "Great Expectations",
        "expect_column_values_to_be_unique",
        "videos[ok with faces]",  # the one warning: video 13's faces belong to nobody
    ],
    "/influencers": ["Barack Obama", "Person 2", "George Clooney", "Person 4", "hidden"],
    "/hidden": ["Hidden people", "Person 4"],
    "/compare?ids={a},{b}": ["Compare people", "People to compare"],
}


# Every page of the site, at a laptop's width and a phone's (#48).
PAGES = (
    "/",
    "/influencers",
    "/influencers/{a}",
    "/compare?ids={a},{b}",
    "/what-works",
    "/regression",
    "/videos",
    "/check-these",
    "/hidden",
    "/data-quality",
)
# What sticks out of the screen, what sticks out of its table's box, and whether each box
# whose table is wider than it says so (the layout's data-scrolls, reports/pages/+layout.svelte).
FIT_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const boxed = (el) => el.closest('.scrollbox') !== null;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 1 || r.left < -1) && !boxed(el)) {
      wide.push(`${el.tagName}.${String(el.className.baseVal ?? el.className).slice(0, 40)}`
        + ` ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  const boxes = Array.from(document.querySelectorAll('.scrollbox')).map((b) => ({
    overflow: b.scrollWidth > b.clientWidth + 1, scrolls: b.dataset.scrolls ?? null,
    mask: getComputedStyle(b).maskImage, width: b.scrollWidth, box: b.clientWidth }));
  return { doc: document.documentElement.scrollWidth, vw, wide: wide.slice(0, 10), boxes };
}"""


def _pages_fit(
    browser, base: str, width: int, ids: list[int], texts: dict[str, list[str]] | None = None
) -> None:
    """No page is wider than the screen; at 1280 px every table fits its box; at a phone's
    width a table wider than its box fades at the edge (its box scrolls) until scrolled to
    the end. No page shows a programming language's word for a missing number, a broken image
    or a console error; each says its ``texts``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    w = PageWatch(browser, base, width=width, height=900)
    for path in PAGES:
        w.goto(path.format(a=ids[0], b=ids[1]))
        # networkidle can come before the queries answer: wait for the page's content (a page
        # with nothing to list, such as nobody hidden, has no rows: go on after the wait)
        with contextlib.suppress(PlaywrightTimeout):
            w.page.wait_for_selector(
                "table:visible tr:has(td), .suggestion, #nothing-left", timeout=PAGE_WAIT_MS
            )
        w.page.wait_for_timeout(300)  # the layout marks boxes on the next animation frame
        if texts is not None and path in texts:
            body = w.page.inner_text("body")
            missing = [t for t in texts[path] if t not in body]
            assert not missing, (path, missing, body[:2000])
        assert w.broken_images() == [], path
        fit = w.page.evaluate(FIT_JS)
        where = f"{path} at {width} px"
        assert fit["doc"] <= fit["vw"], (where, fit["doc"], fit["wide"])
        assert not fit["wide"], (where, fit["wide"])
        for box in fit["boxes"]:
            if width >= 1280:
                assert not box["overflow"], (where, "a table scrolls", box)
            elif box["overflow"]:
                assert box["scrolls"] == "more" and "gradient" in box["mask"], (where, box)
        w.assert_clean()
    if width < 1280:
        # the fade goes once the box is scrolled to its last column
        w.goto("/what-works")
        box = w.page.locator(".scrollbox[data-scrolls='more']").first
        box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        has_count(w.page.locator(".scrollbox[data-scrolls='end']"), 1)
    w.page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_the_screen(site, browser, width):
    base, expected = site
    texts = TEXTS if width == 1280 else None
    _pages_fit(browser, base, width, [e[0] for e in expected[:2]], texts)


def test_what_works_answers_in_one_story(site, browser, report_warehouse):
    """Issue #48: the answer, the prediction's verdict, then each feature with what was found
    and the smallest effect the corpus could see, as the marts hold them; the README's
    screenshot of the page is written here."""
    base, _ = site
    con = duckdb.connect(str(report_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        names = ("what_works_coefficients", "what_works_comparisons")
        marts = {
            n: con.execute(f"select label, detectable_effect, finding from main.{n}").fetchall()
            for n in names
        }
        verdicts = {n: con.execute(f"select verdict from main.{n}").fetchall() for n in names}
    finally:
        con.close()
    w = PageWatch(browser, base, width=1280, height=900)
    w.goto("/what-works")
    headings = w.page.locator("h2").all_inner_texts()
    assert headings[:3] == [
        "1. Which features go with higher scores",
        "2. How sure we are",
        "3. How well it predicts a new video",
    ], headings
    said = {v for rows in verdicts.values() for (v,) in rows}
    answer = w.page.inner_text("#what-works-answer")
    if said & {"higher scores", "lower scores"}:
        assert "go with a different score after the correction:" in answer, answer
    elif "no large effect" in said:
        assert "No feature goes with a different score" in answer, answer
    else:
        assert "Too few videos to tell" in answer, answer
    # the prediction's verdict in words, at the top
    assert "than the average does" in w.page.inner_text("#prediction-verdict")
    tables = w.tables()
    for k, name in enumerate(("what_works_coefficients", "what_works_comparisons")):
        rows = tables.nth(k).locator("tr:has(td)")
        has_count(rows, len(marts[name]))
        shown = {r.split("\t")[0]: r for r in rows.all_inner_texts()}
        for label, detectable, finding in marts[name]:
            row = shown[label]
            assert finding in row, (name, label, row)
            smallest = "not tested" if detectable is None else f"±{detectable:.2f}"
            assert row.rstrip().endswith(smallest), (name, label, row)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    # the top of the page: the answer, the prediction verdict and the first table
    top = {"x": 0, "y": 0, "width": 1280, "height": 1500}
    w.page.screenshot(path=str(DOCS_IMG / "what-works.png"), full_page=True, clip=top)
    w.assert_clean()
    w.page.close()


def test_data_docs_link_opens(site, browser):
    base, _ = site
    w = PageWatch(browser, base)
    w.goto("/data-quality")
    link = w.page.locator("#data-docs-link")
    assert link.get_attribute("href") == "/data_docs/index.html"
    link.click()
    w.page.wait_for_url(f"{base}/data_docs/index.html")
    assert w.page.inner_text("#marker") == "fixture data docs"
    w.assert_clean()
    w.page.close()


def test_contact_sheet_shows_one_face_from_each_video(site, browser):
    """Issue #37: every person's page shows a face from each of their videos, named by file
    name with the full path on hover, with its CSV row, score and role."""
    base, expected = site
    w = PageWatch(browser, base)
    for iid, _, n_videos in expected:
        w.goto(f"/influencers/{iid}")
        faces = w.page.locator("#contact-sheet figure.contact-face")
        has_count(faces, n_videos)
        widths = faces.locator("img").evaluate_all("els => els.map(i => i.naturalWidth)")
        assert widths and all(x > 0 for x in widths), widths
    w.goto("/influencers/1")
    first = w.page.locator("#contact-sheet figure.contact-face").first
    name = first.locator("figcaption").first
    assert name.inner_text() == "clip1"
    assert name.get_attribute("title").startswith("https://videos.example.com/clip1 ")
    assert "Row 1 · 0.910 · lead" in first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "report_contact_sheet.png"), full_page=True)
    w.assert_clean()
    w.page.close()


def _visible_rows(w: PageWatch, n: int | None = None, timeout: float = PAGE_WAIT_MS) -> int:
    """Data rows of the first visible table, once there are `n` of them (no table: 0)."""
    js = """n => {
        const t = Array.from(document.querySelectorAll('table'))
            .find(t => t.offsetParent !== null);
        const rows = t ? t.querySelectorAll('tr:has(td)').length : 0;
        return n === null ? true : rows === n;
    }"""
    w.page.wait_for_function(js, arg=n, timeout=timeout)
    return w.page.evaluate(
        """() => { const t = Array.from(document.querySelectorAll('table'))
            .find(t => t.offsetParent !== null);
          return t ? t.querySelectorAll('tr:has(td)').length : 0; }"""
    )


def _timed(w: PageWatch, action, n_rows: int) -> float:
    """Seconds from `action()` until the first table shows `n_rows` rows."""
    t0 = time.perf_counter()
    action()
    _visible_rows(w, n_rows)
    return time.perf_counter() - t0


def _slider_to(w: PageWatch, index: int, presses: int, key: str = "ArrowRight") -> None:
    thumb = w.page.locator("#leaderboard-controls [role=slider]").nth(index)
    thumb.focus()
    for _ in range(presses):
        thumb.press(key)


def test_leaderboard_controls(site, browser):
    base, expected = site
    w = PageWatch(browser, base)
    w.goto("/")
    ranked = [e for e in expected if e[0] not in HIDDEN]
    assert _visible_rows(w, len(ranked)) == len(ranked)

    # Typing a name leaves that person's row only; the headline counts follow.
    name_box = w.page.get_by_placeholder("Type part of a name")
    latency = _timed(w, lambda: name_box.fill("obama"), 1)
    print(f"\nleaderboard name filter ({len(expected)} people): {latency * 1000:.0f} ms")
    assert "Barack Obama" in w.tables().first.locator("tr:has(td)").first.inner_text()
    _timed(w, lambda: name_box.fill(""), len(ranked))

    # The minimum-videos slider removes people with fewer videos.
    min_videos = 3
    keep = [e for e in ranked if e[2] >= min_videos]
    assert 0 < len(keep) < len(ranked)  # the fixture has people on both sides
    _timed(w, lambda: _slider_to(w, 0, min_videos - 1), len(keep))
    text = w.tables().first.inner_text()
    for _, name, n_videos in ranked:
        assert (name in text) == (n_videos >= min_videos), (name, text)

    # The leaderboard with its controls, for the README (docs/img/leaderboard.png).
    w.page.get_by_role("heading", name="Leaderboard").scroll_into_view_if_needed()
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=str(DOCS_IMG / "leaderboard.png"))

    # Show hidden people: the hidden ones join (with the slider back at 1).
    _timed(w, lambda: _slider_to(w, 0, min_videos - 1, "ArrowLeft"), len(ranked))
    w.page.get_by_role("button", name="Show hidden people").click()
    _visible_rows(w, len(expected))
    w.assert_clean()
    w.page.close()


def test_check_these_lists_the_planted_split(site, browser):
    """Issue #37: the home page counts the suggestions and links to "Check these", which shows
    the fixture's planted split (influencer 5 is a second look of 1) with both faces and the
    commands of both answers (merge, apart)."""
    base, _ = site
    w = PageWatch(browser, base)
    w.goto("/")
    link = w.page.locator("#check-these-link a")
    assert link.inner_text() == "1 suggestion to check"
    link.click()
    w.page.wait_for_url(f"{base}/check-these**")
    w.settle()
    found = w.page.locator("#same-person .suggestion")
    # networkidle can come before duckdb-wasm has answered the page's queries (SPA): wait on
    # the rows themselves.
    has_count(found, 1)
    text = found.first.inner_text()
    assert "Barack Obama" in text and "Person 5" in text, text
    command = found.first.locator("code.command").inner_text()
    assert command.startswith(".venv/bin/ingest people merge 1 5 --db "), command
    dismiss = found.first.locator("code.dismiss-command").inner_text()
    assert dismiss.startswith(".venv/bin/ingest people apart 1 5 --db "), dismiss
    links = found.first.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert set(links) == {"/influencers/1", "/influencers/5"}, links  # never /influencers/5.0
    assert not w.page.locator("#nothing-left").is_visible()
    srcs = found.first.locator("img").evaluate_all(
        "els => els.map(i => [i.getAttribute('src'), i.naturalWidth])"
    )
    assert [s for s, _ in srcs] == ["/faces/c/" + s.split("/faces/c/")[1] for s, _ in srcs]
    assert len(srcs) == 2 and all(width > 0 for _, width in srcs), srcs
    assert w.page.locator("#no-two-people").is_visible()
    # The static site takes no answers: no buttons, the commands only (`make review` adds them).
    assert w.page.locator(".answer, button.answer-btn").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "report_check_these.png"), full_page=True)
    w.assert_clean()
    w.page.close()


def test_compare_two_people_from_the_address(site, browser):
    base, expected = site
    a, b = expected[0][0], expected[1][0]
    w = PageWatch(browser, base)
    w.goto(f"/compare?ids={a},{b}")
    cards = w.page.locator(".compare-card")
    cards.nth(1).wait_for()
    assert cards.count() == 2
    ids = {cards.nth(i).get_attribute("data-influencer-id") for i in range(2)}
    assert ids == {str(a), str(b)}
    body = w.page.inner_text("body")
    for _, name, _ in expected[:2]:
        assert name in body
    faces = {src for src, width in w.face_images() if width > 0}
    assert {f"/faces/{a}.jpg", f"/faces/{b}.jpg"} <= faces, faces
    assert w.broken_images() == []
    assert f"ids={a},{b}" in w.page.url or f"ids={a}%2C{b}" in w.page.url
    # Fixture: influencers 1 and 2 share CSV row 3.
    w.goto("/compare?ids=1,2")
    w.page.locator(".compare-card").nth(1).wait_for()
    shared = w.page.locator("h2:has-text('Videos they share') ~ div table:visible").first
    assert "3" in shared.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    w.page.screenshot(path=str(ARTIFACTS / "report_compare.png"), full_page=True)
    w.assert_clean()
    w.page.close()


def test_videos_filter_by_person(site, browser, report_warehouse):

    base, _ = site
    con = duckdb.connect(str(report_warehouse / "warehouse.duckdb"), read_only=True)
    person_id, name = 2, "Person 2"
    rows = {
        r[0]
        for r in con.execute(
            "select row_number from influencer_videos where influencer_id = ?", [person_id]
        ).fetchall()
    }
    n_all = con.execute("select count(*) from videos").fetchone()[0]
    w = PageWatch(browser, base)
    w.goto("/videos")
    table = w.page.locator("h2:has-text('All videos') ~ div table:visible").first
    table.wait_for()
    shown = "n => document.querySelector('#videos-shown')?.innerText.startsWith(n + ' ')"
    # A user picks once the page has counted every video: its filters are set up by then.
    w.page.wait_for_function(shown, arg=n_all)
    try:
        w.page.get_by_role("combobox", name="Person").click()
        w.page.get_by_role("option", name=f"{name} (id {person_id})").click()
        w.page.wait_for_function(shown, arg=len(rows))
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        w.page.screenshot(path=str(ARTIFACTS / "videos_filter_failed.png"), full_page=True)
        raise
    has_count(table.locator("tr:has(td)"), len(rows))  # the table re-renders last
    cells = table.locator("tr:has(td)").all_inner_texts()
    assert len(cells) == len(rows) < n_all, cells
    assert all(name in c for c in cells), cells
    assert w.broken_images() == []
    w.assert_clean()
    w.page.close()


SCALE = (1000, 300)  # videos, people of the warehouse the filter latency is measured on


@pytest.fixture(scope="module")
def large_site(tmp_path_factory, shared):
    """The report of a made-up 1,000-video, 300-person warehouse (fixture_warehouse --scale);
    yields (base_url, [(influencer_id, name, n_videos)])."""
    _require_tools()
    tmp = tmp_path_factory.mktemp("report_large")
    fx_root = tmp / "warehouse"
    db = _load_fixture_module().build(fx_root, shared / "faces", scale=SCALE)
    expected = _expected_people(db)
    build = _build_site(tmp, db, fx_root, fx_root / "data_docs")
    size = sum(f.stat().st_size for f in build.rglob("*") if f.is_file())
    parts = {
        p: sum(f.stat().st_size for f in (build / p).rglob("*") if f.is_file())
        for p in ("_app", "faces", "thumbs", "data")
    }
    print(
        f"\nsite of {SCALE[0]} videos, {SCALE[1]} people: {size / 1e6:.1f} MB ("
        + ", ".join(f"{p} {n / 1e6:.1f} MB" for p, n in parts.items())
        + ")"
    )
    with _serve(build) as base:
        yield base, expected


@pytest.mark.scale
@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_the_screen_at_scale(large_site, browser, width):
    """Issue #48, on the 1,000-video site: the same fit as on the small one."""
    base, expected = large_site
    _pages_fit(browser, base, width, [e[0] for e in expected[:2]])


@pytest.mark.scale
def test_filters_stay_responsive_at_scale(large_site, browser):
    """Logs how long a filter takes to apply on a 1,000-video, 300-person site (not gated:
    speed is measured, not asserted; the issue's target is under 1 s)."""
    base, expected = large_site
    ranked = [e for e in expected if e[0] not in HIDDEN]
    w = PageWatch(browser, base)
    w.goto("/")
    n_first = min(50, len(ranked))  # the leaderboard shows 50 rows a page
    _visible_rows(w, n_first)
    name = ranked[0][1]
    matches = [e for e in ranked if name.lower() in e[1].lower()]
    box = w.page.get_by_placeholder("Type part of a name")
    typed = _timed(w, lambda: box.fill(name), min(len(matches), 50))
    cleared = _timed(w, lambda: box.fill(""), n_first)
    keep = [e for e in ranked if e[2] >= 3]
    slid = _timed(w, lambda: _slider_to(w, 0, 2), min(len(keep), 50))
    print(
        f"\nfilter latency, {SCALE[0]} videos / {SCALE[1]} people: name search {typed * 1000:.0f} "
        f"ms, clearing it {cleared * 1000:.0f} ms, min-videos slider {slid * 1000:.0f} ms"
    )
    w.assert_clean()
    w.page.close()
