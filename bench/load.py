"""Loading ../shared/data (``upward fetch`` of the CSV sources into a new workspace) against
DuckDB's own ``read_csv`` of the very same files, in the same run.

    python -m bench load [ROUNDS]     # ROUNDS interleaved rounds (default 3), medians reported

Every side is warmed up once (imports, DuckDB's reader start-up, the file cache). The machine
may be busy, so the sides run interleaved, ROUNDS times, and the medians of wall and CPU time
are compared. The alternatives:

- DuckDB ``CREATE TABLE … AS SELECT * FROM read_csv(file)`` for each file, into an in-memory
  database (the issue's reference, #16), and into a new DuckDB file (the same kind of
  destination as the warehouse: written, compressed and checkpointed);
- ``pyarrow.csv.read_csv`` of the same files (parsing only, for reference).
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _cpu() -> float:
    """CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall s, CPU s) of one call."""
    wall, cpu = time.perf_counter(), _cpu()
    run()
    return time.perf_counter() - wall, _cpu() - cpu


def csv_files(names: list[str]) -> list[Path]:
    """The files ``upward fetch NAMES --from ../shared/data`` reads."""
    from upward.sources import datasets_of
    from upward.warehouse.ingest import locate_local

    return [f.path for n in names for d in datasets_of(n) for f in locate_local(d, DATA, None)]


def duckdb_read_csv(files: list[Path], database: str = ":memory:") -> None:
    """The alternative: DuckDB's own reader loading the same files into tables."""
    import duckdb

    con = duckdb.connect(database)
    for i, path in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?)", [str(path)])
    con.close()  # a database file is checkpointed (written and compressed) on close


def pyarrow_read_csv(files: list[Path]) -> None:
    import pyarrow.csv

    for path in files:
        pyarrow.csv.read_csv(path)


def _new_file() -> str:
    return str(Path(tempfile.mkdtemp()) / "t.duckdb")


def bench_load(rounds: int = 3) -> Path:
    """Print the medians of ``rounds`` interleaved rounds; return a workspace loaded with
    everything (CSV sources and tract GeoJSON) for the other benchmarks."""
    from upward import fetch
    from upward.sources import SOURCE_NAMES
    from upward.warehouse.workspace import Workspace

    csv_sources = [n for n in SOURCE_NAMES if n != "tracts"]
    files = csv_files(csv_sources)
    results: list = []

    def upward_load(names: list[str]) -> Path:
        ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
        results.extend(fetch(ws, names, from_dir=DATA))
        return ws.root

    sides: dict[str, Callable[[], object]] = {
        "upward": lambda: upward_load(csv_sources),
        "duck_memory": lambda: duckdb_read_csv(files),
        "duck_file": lambda: duckdb_read_csv(files, _new_file()),
        "pyarrow": lambda: pyarrow_read_csv(files),
    }
    # warm-ups: imports, DuckDB's extension and reader start-up, the file cache
    for p in files:
        p.read_bytes()
    upward_load(["crosswalks"])
    duckdb_read_csv(files[:1])
    pyarrow_read_csv(files[:1])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    rows = 0
    for _ in range(rounds):
        for name, run in sides.items():
            results.clear()
            times[name].append(_timed(run))
            rows = rows or sum(sum(r.rows.values()) for r in results)
    roots: list[Path] = []
    everything = _timed(lambda: roots.append(upward_load(list(SOURCE_NAMES))))

    def median(name: str) -> tuple[float, float]:
        return (statistics.median(t[0] for t in times[name]),
                statistics.median(t[1] for t in times[name]))

    def ratios(name: str) -> tuple[float, float]:
        """Median over rounds of upward / alternative, wall and CPU (same round)."""
        pairs = list(zip(times["upward"], times[name], strict=True))
        return (statistics.median(u[0] / a[0] for u, a in pairs),
                statistics.median(u[1] / a[1] for u, a in pairs))

    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"load: {len(files)} files of the CSV sources ({', '.join(csv_sources)}), "
          f"{size:.0f} MB, {rows:,} canonical rows; median of {rounds} interleaved rounds")
    print("                                                         wall s   CPU s")
    labels = {
        "upward": "upward fetch of the CSV sources (read, check, load)",
        "duck_memory": "DuckDB read_csv of the same files, in memory",
        "duck_file": "DuckDB read_csv of the same files, into a file",
        "pyarrow": "pyarrow.csv.read_csv of the same files (parse only)",
    }
    for name, label in labels.items():
        wall, cpu = median(name)
        print(f"  {label:53s} {wall:6.2f}  {cpu:6.2f}")
    print(f"  upward fetch, everything (CSV + tract GeoJSON), once    "
          f"{everything[0]:6.2f}  {everything[1]:6.2f}")
    for name in ("duck_memory", "duck_file", "pyarrow"):
        wall, cpu = ratios(name)
        goal = "  (goal: at most 2x)" if name == "duck_memory" else ""
        print(f"  ratio upward / {labels[name].split(' of ')[0]} "
              f"{'(' + name.split('_')[-1] + ')' if name.startswith('duck') else '':8s}"
              f" wall {wall:4.1f}x, CPU {cpu:4.1f}x{goal}")
    return roots[0]
