"""The exhaustive check moved out of the tests: every place and county in the Urban Institute's
recent files has a profile (declared metrics with periods, a population for places, JSON that
parses). The tests check the ten cities and a fixed-seed sample.

    python -m bench all-profiles
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def run(data: Path) -> int:
    """Check every profile; print the failures and the time; return how many failed."""
    from upward import fetch
    from upward.sources import SOURCE_NAMES
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.profile_check import check_profile, published_ids

    places, counties = published_ids(data)
    print(f"all-profiles: {len(places)} places, {len(counties)} counties")
    ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    fetch(ws, list(SOURCE_NAMES), from_dir=data)
    failed = 0
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        start = time.perf_counter()
        for i, geo_id in enumerate(sorted(places | counties)):
            try:
                check_profile(wh, geo_id, is_place=geo_id in places, as_json=i % 50 == 0)
            except AssertionError as exc:
                failed += 1
                print(f"  FAILED {geo_id}: {exc}")
        seconds = time.perf_counter() - start
    n = len(places | counties)
    print(f"  {n - failed} of {n} profiles hold; {seconds:.1f} s, {1000 * seconds / n:.1f} ms each")
    return failed
