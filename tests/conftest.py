import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("INFLUENCER_LENS_SHARED", ROOT.parent / "shared"))

# Debian's chromium for the browser tests (`make browser-deps`); playwright's own browsers are
# never downloaded.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "faces").is_dir():
        pytest.fail(f"test data not found at {SHARED} (set INFLUENCER_LENS_SHARED)")
    return SHARED


def load_report_module(name: str):
    """A module of reports/ (a folder of scripts, not a package)."""
    key = f"reports_{name}"  # the name reports/refresh.py's `sibling` gives it
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "reports" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Path:
    """The folder of reports/fixture_warehouse.py's warehouse (ingest.warehouse.store, dbt build, checks;
    ~30 s), built once per session. Read it; to change it, copy it first."""
    root = tmp_path_factory.mktemp("report_warehouse")
    load_report_module("fixture_warehouse").build(root, shared / "faces")
    return root


@pytest.fixture(scope="session")
def report_site(tmp_path_factory: pytest.TempPathFactory, report_warehouse: Path):
    """(report project, its built site, data docs) of `make report` on the fixture warehouse,
    built once per session (~90 s). Read it; to rebuild, copy the project first
    (``copy_report_project``)."""
    from tests.test_report_browser import _require_tools, make_report, report_project

    _require_tools()
    tmp = tmp_path_factory.mktemp("report")
    data_docs = tmp / "data_docs"
    data_docs.mkdir()
    (data_docs / "index.html").write_text(
        "<!doctype html><title>GX results</title><p id=marker>fixture data docs</p>"
    )
    project = report_project(tmp)
    build = make_report(project, report_warehouse / "warehouse.duckdb", report_warehouse, data_docs)
    return project, build, data_docs


def copy_report_project(project: Path, dest: Path) -> Path:
    """A copy of a built report project (its site included) that can be rebuilt on its own,
    still sharing reports/node_modules."""
    shutil.copytree(project, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def real_clips_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One extraction cache for the tests that ingest the shared real clips: the first
    extracts them with the real models, the others read what it cached."""
    return tmp_path_factory.mktemp("real_clips_cache")


# Milliseconds a page waits for an element or a condition. Playwright's 30 s is short when the
# other test worker holds both cores; speed is measured in the benches, never here.
PAGE_WAIT_MS = 120_000


class _Browser:
    """A browser whose pages wait PAGE_WAIT_MS."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **kwargs):
        page = self._browser.new_page(**kwargs)
        page.set_default_timeout(PAGE_WAIT_MS)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="module")
def browser():
    """Headless chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield _Browser(b)
        finally:
            b.close()


# Under pytest-xdist (`make test` runs two workers) a module's tests run together on one worker,
# so its module fixtures are built once; so do all the modules that read one of these session
# builds (a minute or more each).
_SHARED_BUILDS = {
    "report_warehouse": "report",
    "report_site": "report",
    "real_clips_cache": "real_clips",
}


# tryfirst: pytest-xdist reads the xdist_group marks in its own hook of this name.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        groups = {_SHARED_BUILDS[f] for f in item.fixturenames if f in _SHARED_BUILDS}
        if len(groups) > 1:
            raise pytest.UsageError(f"{item.nodeid} reads builds of two groups: {groups}")
        group = groups.pop() if groups else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
