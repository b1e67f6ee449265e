"""Feed sync throughput: ``upward sync`` of a Socrata feed (paging, staging each page on disk,
checks, placement, one DuckDB transaction) against a plain httpx paging loop that only
downloads and parses the same pages from the same local server.

    python -m bench feeds [ROWS]

The server is the test portal on 127.0.0.1 (tests/support/feed_server.py) serving ROWS rows
(default 20,000) shaped like the recorded SODA rows in tests/data/feeds, 1,000 per page, with
points spread over Tulsa County; when ../shared/data holds the Tulsa County tracts, each
workspace has them loaded beforehand (not timed) so the sync places every point. One warm-up
of each, then the median of three runs of each, in the same process.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _rows(n: int) -> list[dict]:
    base = json.loads((REPO / "tests" / "data" / "feeds" / "socrata_bike_counts_page_1.json")
                      .read_text())
    out = []
    for i in range(n):
        r = base[i % len(base)]
        out.append({":id": f"row-{i:07d}", ":updated_at": f"2024-01-01T00:00:{i % 60:02d}."
                    f"{i:07d}Z", **r, "amount": str(100 + i % 900),
                    "latitude": f"{36.0 + (i % 400) / 1000:.6f}",
                    "longitude": f"{-96.0 + (i % 300) / 1000:.6f}"})
    return out


def _median(run, repeat: int = 3) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(n: int = 20000) -> None:
    import httpx
    from tests.support.feed_server import FakePortal, serve_portal

    from upward.warehouse.feeds import sync_feed

    rows = _rows(n)
    types = {k: "text" for k in rows[0]}
    portal = FakePortal(socrata={"bn12-chmk": rows}, socrata_types={"bn12-chmk": types})
    tmp = Path(tempfile.mkdtemp(prefix="upward-bench-feeds-"))
    try:
        with serve_portal(portal) as url:
            prepared = [_workspace(tmp / f"ws{i}", url) for i in range(4)]
            placed = []

            def upward_sync() -> None:
                result = sync_feed(prepared.pop(), "bench")
                assert result.total == n, result
                placed.append(n - sum(result.unplaced.values()))

            def httpx_loop() -> None:
                got: list[dict] = []
                with httpx.Client() as client:
                    offset = 0
                    while True:
                        page = client.get(f"{url}/resource/bn12-chmk.json",
                                          params={"$select": ":*, *", "$limit": 1000,
                                                  "$offset": offset,
                                                  "$order": ":updated_at, :id"}).json()
                        got.extend(page)
                        offset += len(page)
                        if len(page) < 1000:
                            break
                assert len(got) == n

            plain = _median(httpx_loop)
            ours = _median(upward_sync)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"feed sync of {n:,} rows in {n // 1000} pages from a local SODA server "
          "(median of 3 after a warm-up)")
    print(f"  plain httpx paging loop (download + parse): {plain:6.2f} s  {n / plain:9,.0f} rows/s")
    print(f"  upward sync (stage, check, place, load):    {ours:6.2f} s  {n / ours:9,.0f} rows/s")
    print(f"  ratio upward sync / plain loop: {ours / plain:.2f}x the time")
    print(f"  records placed in a tract per sync: {placed[-1]:,} of {n:,}")


def _workspace(root: Path, url: str):
    """A workspace declaring the bench feed, with Tulsa County's tracts loaded when available."""
    from upward.sources.tiger import read_tracts
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    ws = Workspace.init(root)
    with ws.settings_path.open("a") as f:
        f.write(f'\n[feeds.bench]\nplatform = "socrata"\nurl = "{url}"\n'
                'dataset = "bn12-chmk"\npage_size = 1000\nwithin = "40143"\n'
                'lon_column = "longitude"\nlat_column = "latitude"\namount_column = "amount"\n')
    tulsa = (REPO.parent / "shared" / "data" / "geometry" / "county"
             / "cb_2018_40143_tract_500k_tulsa_ok.geojson")
    if tulsa.is_file():
        with Warehouse(ws.warehouse_path) as wh:
            wh.load("census.tracts.40", read_tracts(tulsa, "census.tracts.40@b"),
                    {"source_id": "census.tracts.40@b", "dataset": "census.tracts.40",
                     "sha256": "b"})
    return Workspace.open(ws.root)
