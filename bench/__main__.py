"""Benchmarks, each measured against a named alternative in the same run.

    python -m bench load [ROUNDS]   # load ../shared/data vs DuckDB's read_csv of the same CSVs
    python -m bench profile [WS]    # cold and warm profile latency for the ten cities
    python -m bench barriers [WS] [--quick]  # one city, then all 486 places (not with --quick)
    python -m bench report [WS]     # the Tulsa report's size: inline SVG vs plotly.js inlined
    python -m bench areas           # a 200-tract area over 20 replicate tables vs plain NumPy
    python -m bench cli             # upward --help, plan and an error path vs python -c pass
    python -m bench all-profiles    # every place's and county's profile holds (not in "all")
    python -m bench demo            # generating the demo city's files vs copying the same files
    python -m bench feeds [ROWS]    # upward sync of a local Socrata feed vs a plain httpx loop
    python -m bench linkage [N]     # linking N x N records (100,000) vs an exact-match DuckDB join
    python -m bench monitor [SIMS]  # repeated-look false alarms: confidence sequence vs naive CI
    python -m bench                 # all

``WS`` is a workspace already loaded from ../shared/data (else one is loaded first).

They read ../shared/data (next to the repository) and stop with a message when it is absent.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CITIES = ["Albuquerque, NM", "Cincinnati, OH", "Dayton, OH", "Detroit, MI", "Lansing, MI",
          "New Orleans, LA", "Newark, NJ", "Racine, WI", "Rochester, NY", "Tulsa, OK"]


def bench_load() -> Path:
    """``python -m bench load [ROUNDS]``: see ``bench/load.py``."""
    from bench.load import bench_load as run

    given = [a for a in sys.argv[2:] if a.isdigit()] if sys.argv[1:2] == ["load"] else []
    return run(int(given[0]) if given else 3)


def _rows_of_before(wh, name: str, geo_id: str, geo_level: str) -> pd.DataFrame:
    """The previous ``frames.rows_of`` (a positional gather of every column per lookup), kept
    here as the alternative the new one is measured against."""
    from upward.measure import frames

    builders = {"percentiles": frames.percentiles, "trends": frames.trends,
                "county_outcomes": frames.county_outcomes}
    frame = builders[name](wh)

    def build() -> dict:
        if frame.empty:
            return {}
        return frame.groupby(["geo_id", "geo_level"], sort=False).indices

    index = wh.cached(f"index-before:{name}", build)
    positions = index.get((geo_id, geo_level))
    return frame.iloc[positions] if positions is not None else frame.iloc[0:0]


@contextmanager
def _rows_of(implementation):
    """Run with ``frames.rows_of`` replaced (every caller looks it up on the module)."""
    from upward.measure import frames

    kept = frames.rows_of
    frames.rows_of = implementation
    try:
        yield
    finally:
        frames.rows_of = kept


def _warm_ms(run, names: list[str], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        for name in names:
            start = time.perf_counter()
            run(name)
            out.append((time.perf_counter() - start) * 1000)
    return out


def _workspace(root: Path | None) -> Path:
    given = [a for a in sys.argv[2:] if not a.startswith("--")]
    return root or (Path(given[0]) if given else bench_load())


def bench_profile(root: Path | None = None) -> None:
    """Cold (first, new process caches) and warm (cached frames) profile latency, with the
    current ``rows_of`` and with the previous one in the same run (both warmed up)."""
    from upward.measure import frames
    from upward.measure.profile import build_profile
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    ws = Workspace.open(_workspace(root))
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        start = time.perf_counter()
        build_profile(wh, CITIES[0])
        cold = time.perf_counter() - start
        results = {}
        for label, impl in (("before", _rows_of_before), ("now", frames.rows_of)):
            with _rows_of(impl):
                _warm_ms(lambda c: build_profile(wh, c), CITIES, 1)  # warm-up
                results[label] = _warm_ms(lambda c: build_profile(wh, c), CITIES, 5)
        tulsa = _warm_ms(lambda c: build_profile(wh, c), ["Tulsa, OK"] * 2, 5)[2:]
    now, before = statistics.median(results["now"]), statistics.median(results["before"])
    print(f"profile: cold (first in a session, builds caches) {cold * 1000:.0f} ms")
    print(f"  warm, ten cities x 5: median {now:.1f} ms, "
          f"p95 {sorted(results['now'])[int(0.95 * len(results['now'])) - 1]:.1f} ms; "
          f"Tulsa median {statistics.median(tulsa):.1f} ms (goal < 25 ms)")
    print(f"  same run with the previous rows_of: median {before:.1f} ms; "
          f"ratio now / previous = {now / before:.2f}")


def bench_barriers(root: Path | None = None) -> None:
    """Barriers latency: one city (cold and warm), then every place in one session; warm
    figures with the current and the previous ``rows_of`` in the same run."""
    from upward.diagnose.report import build_barriers
    from upward.measure import frames
    from upward.measure.profile import build_profile
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    ws = Workspace.open(_workspace(root))
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        start = time.perf_counter()
        build_barriers(wh, "Tulsa, OK")
        cold = time.perf_counter() - start
        warm = {}
        for label, impl in (("before", _rows_of_before), ("now", frames.rows_of)):
            with _rows_of(impl):
                _warm_ms(lambda c: build_barriers(wh, c), CITIES, 1)  # warm-up
                warm[label] = _warm_ms(lambda c: build_barriers(wh, c), CITIES, 1)
                warm[label + " Tulsa"] = _warm_ms(lambda c: build_barriers(wh, c),
                                                  ["Tulsa, OK"], 3)
        profile_ms = _warm_ms(lambda c: build_profile(wh, c), CITIES, 1)
        places = [] if "--quick" in sys.argv else frames_places(wh)
        start = time.perf_counter()
        for geo_id in places:
            build_barriers(wh, geo_id)
        all_s = time.perf_counter() - start
    w, pm = statistics.median(warm["now"]), statistics.median(profile_ms)
    print(f"barriers: one city cold (builds caches and the drivers model) {cold:.2f} s")
    print(f"  one city warm: median {w:.0f} ms over the ten cities, Tulsa "
          f"{statistics.median(warm['now Tulsa']):.0f} ms (goal < 250 ms); "
          f"warm profile {pm:.0f} ms (ratio barriers / profile = {w / pm:.1f}x)")
    print(f"  same run with the previous rows_of: median {statistics.median(warm['before']):.0f}"
          f" ms, Tulsa {statistics.median(warm['before Tulsa']):.0f} ms; ratio now / previous = "
          f"{w / statistics.median(warm['before']):.2f}")
    if places:
        print(f"  all {len(places)} places in one run (everything, spatial statistics "
              f"included): {all_s:.1f} s, {1000 * all_s / len(places):.0f} ms each")


def bench_cli() -> None:
    """Answer time of ``upward --help``, ``upward plan …`` and an error path, against the bare
    interpreter start (``python -c pass``) in the same run; each warmed up once, median of 5."""
    import subprocess

    entry = "import sys; from upward.cli.main import main; sys.argv[0] = 'upward'; main()"
    runs = {
        "python -c pass (interpreter start)": [sys.executable, "-c", "pass"],
        "upward --help": [sys.executable, "-c", entry, "--help"],
        "upward plan --design rct …": [sys.executable, "-c", entry, "plan", "--design", "rct",
                                       "--n", "2000", "--sd", "4200", "--r2", "0.3",
                                       "--effect", "500"],
        "upward profile X -w (not a workspace)": [sys.executable, "-c", entry, "profile", "X",
                                                  "-w", str(Path(tempfile.mkdtemp()) / "none")],
        "upward metrics show nosuch (unknown id)": [sys.executable, "-c", entry, "metrics",
                                                    "show", "nosuch"],
    }
    times = {}
    for label, cmd in runs.items():
        subprocess.run(cmd, capture_output=True)  # warm-up (file cache, .pyc)
        spent = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True)
            spent.append(time.perf_counter() - start)
        times[label] = statistics.median(spent)
    base = times["python -c pass (interpreter start)"]
    print("cli: median wall time of 5 runs (goal: under 1 s)")
    for label, t in times.items():
        print(f"  {label:40s} {t:6.2f} s  ({t / base:5.1f}x python -c pass)")


def bench_report(root: Path | None = None) -> None:
    """Size and build time of the Tulsa report with its charts as inline SVG, against the same
    report drawn by plotly.js inlined (the previous way), built in the same run."""
    from upward.report import charts, place
    from upward.report.page import render_page
    from upward.warehouse.store import Warehouse
    from upward.warehouse.workspace import Workspace

    ws = Workspace.open(_workspace(root))
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        place.render_place_report(wh, "Tulsa, OK")  # warm-up: caches
        start = time.perf_counter()
        svg = place.render_place_report(wh, "Tulsa, OK")
        svg_s = time.perf_counter() - start
        kept = place.figure_svg, place.render_page
        place.figure_svg = charts.figure_div
        place.render_page = lambda *a, **k: render_page(*a, **{**k, "with_charts": True})
        try:
            place.render_place_report(wh, "Tulsa, OK")  # warm-up: plotly.js read once
            start = time.perf_counter()
            plotly = place.render_place_report(wh, "Tulsa, OK")
            plotly_s = time.perf_counter() - start
        finally:
            place.figure_svg, place.render_page = kept
    a, b = len(svg.encode()), len(plotly.encode())
    print(f"report (Tulsa): inline SVG {a / 1e6:.2f} MB in {svg_s:.2f} s; with plotly.js "
          f"inlined {b / 1e6:.2f} MB in {plotly_s:.2f} s; size ratio {a / b:.3f} (goal < 1.5 MB)")


def frames_places(wh) -> list[str]:
    from upward.measure import frames

    geos = frames.named_geographies(wh)
    latest = frames.latest_values(wh)
    with_values = set(latest[latest.geo_level == "place"]["geo_id"])
    return sorted(g for g in geos[geos.geo_level == "place"]["geo_id"] if g in with_values)


def main(argv: list[str]) -> None:
    if argv[:1] == ["areas"]:  # synthetic tables: needs no shared data
        from bench.acs_areas import bench_areas

        bench_areas()
        return
    if argv[:1] == ["linkage"]:  # synthetic records with known truth: needs no shared data
        from bench.linkage import run as run_linkage

        run_linkage(int(argv[1]) if len(argv) > 1 else 100_000)
        return
    if argv[:1] == ["monitor"]:  # simulated pilots: needs no shared data
        from bench.monitor import run as run_monitor

        run_monitor(int(argv[1]) if len(argv) > 1 else 5000)
        return
    if argv[:1] == ["demo"]:  # needs no data
        from bench.demo import run

        run()
        return
    if argv[:1] == ["feeds"]:  # a local server: needs no data
        from bench.feeds import run as run_feeds

        run_feeds(int(argv[1]) if len(argv) > 1 else 20000)
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
    elif what == "cli":
        bench_cli()
    elif what == "report":
        bench_report()
    elif what == "all-profiles":
        from bench.all_profiles import run

        sys.exit(1 if run(DATA) else 0)
    elif what == "all":
        root = bench_load()
        bench_profile(root)
        bench_barriers(root)
        bench_report(root)
        bench_cli()
    else:
        sys.exit(f"unknown benchmark {what!r}: use load, profile, barriers, report, cli or all")


if __name__ == "__main__":
    main(sys.argv[1:])
