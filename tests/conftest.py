"""Shared fixtures: the real public files in ../shared/data and a workspace loaded from them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
HAVE_DATA = (DATA / "urban").is_dir()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason=f"real public files absent: {DATA}")

#: The ten first cities, as a user would type them, with the place GEOID the answer must be.
TEN_CITIES = {
    "Albuquerque, NM": "3502000",
    "Cincinnati, OH": "3915000",
    "Dayton, OH": "3921000",
    "Detroit city, Michigan": "2622000",
    "Lansing, MI": "2646000",
    "New Orleans, LA": "2255000",
    "Newark, NJ": "3451000",
    "Racine, WI": "5566000",
    "Rochester, NY": "3663000",
    "tulsa ok": "4075000",
}


@pytest.fixture(scope="session")
def real_workspace(tmp_path_factory):
    """A workspace with every source loaded from ../shared/data (read-only for tests)."""
    if not HAVE_DATA:
        pytest.skip(f"real public files absent: {DATA}")
    from upward import fetch
    from upward.sources import SOURCE_NAMES
    from upward.warehouse.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("real") / "ws")
    fetch(ws, list(SOURCE_NAMES), from_dir=DATA)
    return ws


@pytest.fixture(scope="session")
def real_warehouse(real_workspace):
    from upward.warehouse.store import Warehouse

    wh = Warehouse(real_workspace.warehouse_path, read_only=True)
    yield wh
    wh.close()


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed ``upward`` command as a user would, in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "upward", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
