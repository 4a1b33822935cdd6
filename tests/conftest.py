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
