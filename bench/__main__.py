"""Benchmarks, each measured against a named alternative in the same run.

    python -m bench load       # load all of ../shared/data vs pandas.read_csv of the same files
    python -m bench profile    # cold and warm profile latency for the ten cities
    python -m bench barriers   # barriers for one city, then for all 486 places in one run
    python -m bench all-profiles  # every place's and county's profile holds (not in "all")
    python -m bench demo       # generating the demo city's files vs copying the same files
    python -m bench            # all

They read ../shared/data (next to the repository) and stop with a message when it is absent.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CITIES = ["Albuquerque, NM", "Cincinnati, OH", "Dayton, OH", "Detroit, MI", "Lansing, MI",
          "New Orleans, LA", "Newark, NJ", "Racine, WI", "Rochester, NY", "Tulsa, OK"]


def _files() -> list[Path]:
    from upward.sources import DATASETS
    from upward.warehouse.ingest import locate_local

    return [f.path for d in DATASETS.values() for f in locate_local(d, DATA, None)]


def bench_load() -> Path:
    """Time a full load into a new workspace; compare with reading the same CSVs in pandas."""
    from upward import fetch
    from upward.sources import SOURCE_NAMES
    from upward.warehouse.workspace import Workspace

    files = _files()
    csvs = [p for p in files if p.suffix == ".csv"]
    start = time.perf_counter()
    for p in csvs:
        pd.read_csv(p, encoding="utf-8-sig", low_memory=False)
    pandas_s = time.perf_counter() - start

    ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    start = time.perf_counter()
    results = fetch(ws, list(SOURCE_NAMES), from_dir=DATA)
    upward_s = time.perf_counter() - start
    rows = sum(sum(r.rows.values()) for r in results)
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"load: {len(files)} files, {size:.0f} MB, {rows:,} canonical rows")
    print(f"  upward fetch (read, validate, normalise, load DuckDB): {upward_s:6.2f} s")
    print(f"  pandas.read_csv of the {len(csvs)} CSV files alone:           {pandas_s:6.2f} s")
    print(f"  ratio upward / pandas.read_csv: {upward_s / pandas_s:.1f}x "
          f"(upward also reads {len(files) - len(csvs)} GeoJSON files)")
    return ws.root


def bench_profile(root: Path | None = None) -> None:
    """Cold (first, new process caches) and warm (cached frames) profile latency."""
    from upward.measure.profile import build_profile
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    root = root or bench_load()
    ws = Workspace.open(root)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        start = time.perf_counter()
        build_profile(wh, CITIES[0])
        cold = time.perf_counter() - start
        warm = []
        for _ in range(5):
            for city in CITIES:
                start = time.perf_counter()
                build_profile(wh, city)
                warm.append(time.perf_counter() - start)
        start = time.perf_counter()
        pd.read_csv(DATA / "urban" / "mobility-metrics_place_recent.csv")
        read_one = time.perf_counter() - start
    warm_ms = sorted(w * 1000 for w in warm)
    print(f"profile: cold (first in a session, builds caches) {cold * 1000:.0f} ms")
    print(f"  warm: median {statistics.median(warm_ms):.1f} ms, "
          f"p95 {warm_ms[int(0.95 * len(warm_ms)) - 1]:.1f} ms over {len(warm_ms)} profiles")
    print(f"  reference: pandas.read_csv of the 486-row place file {read_one * 1000:.1f} ms; "
          f"ratio warm median / read_csv = {statistics.median(warm_ms) / (read_one * 1000):.2f}")


def bench_barriers(root: Path | None = None) -> None:
    """Barriers latency: one city (cold and warm), then every place in one session; the
    reference is the warm profile of the same city, which barriers builds on."""
    from upward.diagnose.report import build_barriers
    from upward.measure.profile import build_profile
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    root = root or bench_load()
    ws = Workspace.open(root)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        start = time.perf_counter()
        build_barriers(wh, "Tulsa, OK")
        cold = time.perf_counter() - start
        warm = []
        for city in CITIES:
            start = time.perf_counter()
            build_barriers(wh, city)
            warm.append(time.perf_counter() - start)
        profile_ms = []
        for city in CITIES:
            start = time.perf_counter()
            build_profile(wh, city)
            profile_ms.append(time.perf_counter() - start)
        places = frames_places(wh)
        start = time.perf_counter()
        for geo_id in places:
            build_barriers(wh, geo_id)
        all_s = time.perf_counter() - start
    w, pm = statistics.median(warm) * 1000, statistics.median(profile_ms) * 1000
    print(f"barriers: one city cold (builds caches and the drivers model) {cold:.2f} s")
    print(f"  one city warm: median {w:.0f} ms over the ten cities "
          f"(warm profile {pm:.0f} ms; ratio barriers / profile = {w / pm:.1f}x)")
    print(f"  all {len(places)} places in one run (everything, spatial statistics included): "
          f"{all_s:.1f} s, {1000 * all_s / len(places):.0f} ms each")


def frames_places(wh) -> list[str]:
    from upward.measure import frames

    geos = frames.named_geographies(wh)
    latest = frames.latest_values(wh)
    with_values = set(latest[latest.geo_level == "place"]["geo_id"])
    return sorted(g for g in geos[geos.geo_level == "place"]["geo_id"] if g in with_values)


def main(argv: list[str]) -> None:
    if argv[:1] == ["demo"]:  # needs no data
        from bench.demo import run

        run()
        return
    if not (DATA / "urban").is_dir():
        sys.exit(f"bench needs the real files in {DATA}")
    what = argv[0] if argv else "all"
    if what == "load":
        bench_load()
    elif what == "profile":
        bench_profile()
    elif what == "barriers":
        bench_barriers()
    elif what == "all-profiles":
        from bench.all_profiles import run

        sys.exit(1 if run(DATA) else 0)
    elif what == "all":
        root = bench_load()
        bench_profile(root)
        bench_barriers(root)
    else:
        sys.exit(f"unknown benchmark {what!r}: use load, profile, barriers or all")


if __name__ == "__main__":
    main(sys.argv[1:])
