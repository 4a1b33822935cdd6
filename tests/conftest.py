import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("INFLUENCER_LENS_SHARED", ROOT.parent / "shared"))

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
    spec = importlib.util.spec_from_file_location(name, ROOT / "reports" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Path:
    """The folder of reports/fixture_warehouse.py's warehouse (ingest.warehouse.store, dbt build, checks;
    ~30 s), built once per session. Read it; to change it, copy it first."""
    root = tmp_path_factory.mktemp("report_warehouse")
    load_report_module("fixture_warehouse").build(root, shared / "faces")
    return root
