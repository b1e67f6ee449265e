"""PUMS estimator at scale: six metrics by 500 areas × 5 race groups with 80 replicate weights,
Upward (Ibis on DuckDB) against svy and against a one-pass NumPy computation, in the same run,
each in its own process; Spark beside them (its JVM's memory is not in the Python process's).

Each contender first runs on 5,000 persons (warm-up: imports, engine start, code paths), then
Linux's peak resident set counter is reset (``/proc/self/clear_refs``), then it runs on the
full data: its peak memory is that run's peak resident set less the resident set before it
(neither the imports nor the warm-up count, nor can memory they left behind hide the run's).
Times are wall-clock seconds of that run; CPU seconds (all threads) are printed beside them, as
the machine may be shared.

    python -m bench.microdata                       # 200,000 persons (about a minute here)
    python -m bench.microdata --persons 3000000     # the issue's size
    python -m bench.microdata --no-svy --no-spark   # only Upward and NumPy
    python -m bench.microdata coverage [DRAWS]      # coverage of the 95% intervals on the demo

Goals (issue #11): ≥ 3× faster than svy, within 2× of NumPy, peak memory ≤ 1.5× the weight
matrix (N × 81 × 8 bytes), Spark's time reported. The estimates of the three are compared
(largest relative difference) so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

R = 80
AREAS, RACES = 500, 5
#: (name, kind, variable, universe) — six metrics as a city would ask for them
METRICS = [
    ("share_employed", "proportion", "employed", "adult"),
    ("share_digital_access", "proportion", "broadband", None),
    ("share_hs_degree", "proportion", "hs", "young"),
    ("mean_income", "mean", "income", "adult"),
    ("count_persons", "total", None, None),
    ("pctl_income_50", "quantile", "income", "adult"),
]


def make_data(n: int, path: Path, seed: int = 7) -> None:
    """Write N synthetic persons with PWGTP and PWGTP1…80 to Parquet."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(5, 60, n).round()
    frame = pd.DataFrame({
        "area": rng.integers(0, AREAS, n).astype("int32"),
        "race": rng.integers(0, RACES, n).astype("int32"),
        "employed": (rng.random(n) < 0.75).astype("float64"),
        "broadband": (rng.random(n) < 0.8).astype("float64"),
        "hs": (rng.random(n) < 0.9).astype("float64"),
        "income": rng.gamma(2.0, 25_000, n).round(),
        "adult": rng.random(n) < 0.6,
        "young": rng.random(n) < 0.3,
        "PWGTP": w,
    })
    f = 1 + 2 ** -1.5 * (rng.choice([-1.0, 1.0], (n, R)) - rng.choice([-1.0, 1.0], (n, R)))
    reps = pd.DataFrame((w[:, None] * f).round(), columns=[f"PWGTP{r}" for r in range(1, R + 1)])
    pd.concat([frame, reps], axis=1).to_parquet(path, index=False)


# ------------------------------------------------------------------------------------------------
# The contenders (each runs in a child process)
# ------------------------------------------------------------------------------------------------


def run_upward(path: str, engine: str) -> dict:
    from upward.estimate.engines import connect, read_table
    from upward.estimate.microdata import Statistic, estimate

    con = connect(engine)
    t = read_table(con, Path(path), "persons")
    out, seconds = {}, {}
    for name, kind, variable, universe in METRICS:
        start = time.perf_counter()
        stat = Statistic(kind, variable, q=0.5 if kind == "quantile" else None)
        r = estimate(t, stat, by=["area", "race"], where=universe, backend=con)
        out[name] = r[["area", "race", "estimate", "se"]]
        seconds[name] = time.perf_counter() - start
    return out, seconds


def run_numpy(path: str) -> dict:
    """One pass per metric: records sorted once by cell, sums by np.add.reduceat."""
    start = time.perf_counter()
    frame = pd.read_parquet(path)
    wcols = ["PWGTP", *[f"PWGTP{r}" for r in range(1, R + 1)]]
    cell_all = frame["area"].to_numpy() * RACES + frame["race"].to_numpy()
    out, seconds = {}, {"read": time.perf_counter() - start}
    for name, kind, variable, universe in METRICS:
        start = time.perf_counter()
        keep = frame[universe].to_numpy() if universe else np.ones(len(frame), bool)
        cell = cell_all[keep]
        order = np.argsort(cell, kind="stable")
        if kind == "quantile":
            y = frame[variable].to_numpy()[keep]
            order = np.lexsort((y, cell))
        cs = cell[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        w = frame[wcols].to_numpy()[keep][order]
        if kind == "quantile":
            ys = y[order]
            cum = np.cumsum(w, axis=0)
            ends = np.r_[starts[1:], len(cs)] - 1
            before = np.where(starts[:, None] > 0, cum[np.maximum(starts - 1, 0)], 0.0)
            totals = cum[ends] - before
            theta = np.empty((len(starts), R + 1))
            for k, (s, e) in enumerate(zip(starts, ends + 1, strict=True)):
                local = cum[s:e] - before[k]
                target = 0.5 * totals[k] * (1 - 1e-12)
                for j in range(R + 1):
                    theta[k, j] = ys[s + np.searchsorted(local[:, j], target[j])]
        else:
            yv = np.ones(len(cs)) if variable is None else frame[variable].to_numpy()[keep][order]
            num = np.add.reduceat(w * yv[:, None], starts, axis=0)
            theta = num if kind == "total" else num / np.add.reduceat(w, starts, axis=0)
        se = np.sqrt(4 / R * ((theta[:, 1:] - theta[:, :1]) ** 2).sum(1))
        out[name] = pd.DataFrame({"area": cs[starts] // RACES, "race": cs[starts] % RACES,
                                  "estimate": theta[:, 0], "se": se})
        seconds[name] = time.perf_counter() - start
    return out, seconds


def run_svy(path: str) -> dict:
    import polars as pl
    import svy

    start = time.perf_counter()
    data = pl.read_parquet(path).with_columns(
        (pl.col("area") * RACES + pl.col("race")).alias("cell"), pl.lit(1.0).alias("one"))
    sample = svy.Sample(data, svy.Design(wgt="PWGTP", rep_wgts=svy.SdrWgts(prefix="PWGTP",
                                                                              n_reps=R)))
    out, seconds = {}, {"read": time.perf_counter() - start}
    for name, kind, variable, universe in METRICS:
        start = time.perf_counter()
        where = pl.col(universe) if universe else None
        kw = {"by": "cell", "method": "replication", "where": where}
        if kind == "quantile":
            r = sample.estimation.quantile(variable, p=0.5, q_method="higher", **kw)
        elif kind == "total":
            r = sample.estimation.total("one", variance_center="estimate", **kw)
        else:
            r = sample.estimation.mean(variable, variance_center="estimate", **kw)
        f = r.to_polars().to_pandas()
        out[name] = pd.DataFrame({"area": f["cell"] // RACES, "race": f["cell"] % RACES,
                                  "estimate": f["est"], "se": f["se"]})
        seconds[name] = time.perf_counter() - start
    return out, seconds


def _status(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` figure of this process, in bytes (0 where /proc is absent)."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    """Reset Linux's peak resident set counter (VmHWM) to the current resident set."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(name: str, path: str, warm: str, queue) -> None:
    # the libraries each contender needs, imported before the baseline is read
    import duckdb  # noqa: F401
    import ibis  # noqa: F401
    import polars  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import upward.estimate.microdata  # noqa: F401
    if name == "svy":
        import svy  # noqa: F401
    fn = {"upward": lambda p: run_upward(p, "duckdb"), "spark": lambda p: run_upward(p, "spark"),
          "numpy": run_numpy, "svy": run_svy}[name]
    fn(warm)  # warm-up on a small file: lazy imports, engine start, code paths
    if _reset_peak():
        base = _status("VmRSS")
    else:  # no /proc: the peak so far (imports and warm-up included) is the baseline
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start, cpu = time.perf_counter(), _cpu()
    result, by_metric = fn(path)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    peak = (_status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) - base
    queue.put((name, seconds, cpu, peak, result, by_metric))


def _measure(name: str, path: Path, warm: Path) -> tuple:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, str(path), str(warm), queue))
    proc.start()
    got = queue.get()
    proc.join()
    return got[1:]


def _max_rel_diff(a: dict, b: dict, column: str) -> float:
    worst = 0.0
    for name in a:
        m = a[name].merge(b[name], on=["area", "race"], suffixes=("_a", "_b"))
        x, y = m[f"{column}_a"].to_numpy(float), m[f"{column}_b"].to_numpy(float)
        worst = max(worst, float(np.nanmax(np.abs(x - y) / np.maximum(np.abs(y), 1e-12))))
    return worst


def bench_scale(n: int, *, with_svy: bool, with_spark: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, warm = Path(tmp) / "persons.parquet", Path(tmp) / "warm.parquet"
        make_data(n, path)
        make_data(5_000, warm, seed=8)
        matrix = n * (R + 1) * 8
        print(f"{n:,} persons × {R} replicate weights; six metrics by {AREAS} areas × {RACES} "
              f"race groups; weight matrix {matrix / 2**20:,.0f} MiB")
        rows = {}
        for name in ("upward", "numpy", *(["svy"] if with_svy else []),
                     *(["spark"] if with_spark else [])):
            seconds, cpu, peak, result, by_metric = _measure(name, path, warm)
            rows[name] = (seconds, peak, result, cpu)
            print(f"  {name:7s} {seconds:8.2f} s ({cpu:7.2f} CPU s)   peak RSS above the "
                  f"libraries' {peak / 2**20:8,.0f} MiB ({peak / matrix:.2f}× the weight matrix)")
            print("          " + ", ".join(f"{k} {v:.2f}" for k, v in by_metric.items()),
                  flush=True)
        up = rows["upward"]
        print(f"upward vs numpy: {up[0] / rows['numpy'][0]:.2f}× the time, "
              f"{up[3] / rows['numpy'][3]:.2f}× the CPU time (goal ≤ 2); estimates "
              f"differ by at most {_max_rel_diff(up[2], rows['numpy'][2], 'estimate'):.1e} "
              f"(relative), SEs by {_max_rel_diff(up[2], rows['numpy'][2], 'se'):.1e}")
        if "svy" in rows:
            theirs = {k: v for k, v in rows["svy"][2].items() if k != "pctl_income_50"}
            ours = {k: up[2][k] for k in theirs}
            q = "pctl_income_50"
            print(f"svy vs upward: svy takes {rows['svy'][0] / up[0]:.1f}× the time, "
                  f"{rows['svy'][3] / up[3]:.1f}× the CPU time (goal ≥ 3); estimates differ by "
                  f"at most {_max_rel_diff(ours, theirs, 'estimate'):.1e}, SEs by "
                  f"{_max_rel_diff(ours, theirs, 'se'):.1e}; medians by "
                  f"{_max_rel_diff({q: up[2][q]}, {q: rows['svy'][2][q]}, 'estimate'):.1e} "
                  "(svy's median SE is Woodruff's, not compared)")
        if "spark" in rows:
            print(f"spark (local[1]): {rows['spark'][0] / up[0]:.1f}× DuckDB's time; estimates "
                  f"differ by at most {_max_rel_diff(rows['spark'][2], up[2], 'estimate'):.1e}, "
                  f"SEs by {_max_rel_diff(rows['spark'][2], up[2], 'se'):.1e}")
        print(f"upward peak memory: {up[1] / matrix:.2f}× the weight matrix (goal ≤ 1.5); "
              f"numpy's {rows['numpy'][1] / matrix:.2f}×")


def bench_coverage(draws: int) -> None:
    """Coverage of the 95% intervals of three demo metrics by PUMA over repeated samples."""
    import ibis

    from upward.demo import pums as demo
    from upward.estimate.expressions import parse
    from upward.estimate.microdata import Statistic, estimate
    from upward.sources.pums import combine

    pop = demo.population()
    truth = demo.population_values().set_index(["geo_id", "metric_id"]).value
    persons, households = [], []
    for d in range(draws):
        p, h = demo.draw_sample(pop, 5000 + d)
        md = combine(p, h, year=2023, span=5)
        persons.append(md.persons.assign(draw=d))
        households.append(md.households.assign(draw=d))
    con = ibis.duckdb.connect()
    pt = con.create_table("p", pd.concat(persons, ignore_index=True))
    ht = con.create_table("h", pd.concat(households, ignore_index=True))
    for metric, table, kind, var, q, universe, weight in (
        ("share_employed", pt, "proportion", "ESR in [1, 2, 4, 5]", None,
         "AGEP >= 25 and AGEP <= 54", "PWGTP"),
        ("share_digital_access", pt, "proportion", "HISPEED == 1", None, "in_household", "PWGTP"),
        ("share_hs_degree", pt, "proportion", "SCHL >= 16", None, "AGEP >= 19 and AGEP <= 20",
         "PWGTP"),
        ("pctl_income_20", ht, "quantile", "HINCP", 0.2, "in_household", "WGTP"),
        ("pctl_income_50", ht, "quantile", "HINCP", 0.5, "in_household", "WGTP"),
        ("pctl_income_80", ht, "quantile", "HINCP", 0.8, "in_household", "WGTP"),
    ):
        r = estimate(table, Statistic(kind, parse(var, table), q=q), by=["draw", "puma_id"],
                     weight=weight, where=parse(universe, table), backend=con)
        value = [truth[(g, metric)] for g in r.puma_id]
        inside = (r.lb <= value) & (value <= r.ub)
        rate = float(inside.mean())
        band = 1.96 * np.sqrt(0.95 * 0.05 / len(r))
        print(f"{metric:22s} coverage {rate:.3f} over {len(r)} intervals (nominal 0.95 ± "
              f"{band:.3f})")


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.microdata", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["scale", "coverage"], default="scale")
    parser.add_argument("draws", nargs="?", type=int, default=200,
                        help="coverage: number of demo samples (200)")
    parser.add_argument("--persons", type=int, default=200_000, help="scale: persons (200,000)")
    parser.add_argument("--no-svy", action="store_true", help="leave svy out")
    parser.add_argument("--no-spark", action="store_true", help="leave Spark out")
    args = parser.parse_args(argv)
    if args.what == "coverage":
        bench_coverage(args.draws)
        return
    bench_scale(args.persons, with_svy=not args.no_svy, with_spark=not args.no_spark)


if __name__ == "__main__":
    main(sys.argv[1:])
