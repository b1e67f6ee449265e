"""Bench: an area aggregate of 20 replicate tables over 200 tracts, exact margins included.

    python -m bench areas

Upward's path (``upward.estimate.aggregate.aggregate_tables``: tract lookup, weighting, the 80
replicate sums and SDR margins for every cell, returned as a labelled frame) is timed warm
against a plain NumPy computation of the same sums and margins on arrays already laid out in
memory (``einsum`` + ``sqrt(4/80 Σ (X_r − X)²)``), measured in the same run after warm-ups.
The data are synthetic tables in the Census's replicate layout (20 tables × 12 cells × 250
tracts); the two answers are checked to agree before anything is timed.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

N_TABLES, N_CELLS, N_TRACTS, N_AREA = 20, 12, 250, 200


def _tables(rng: np.random.Generator):
    from upward.sources.replicates import ReplicateTable

    geo = [f"99001{k:06d}" for k in range(N_TRACTS)]
    tables, dense = {}, {}
    for t in range(N_TABLES):
        name = f"B9{t:04d}"
        est = rng.poisson(300, size=(N_TRACTS, N_CELLS)).astype(float)
        reps = est[..., None] + rng.normal(0, 25, size=(N_TRACTS, N_CELLS, 80))
        cells = pd.DataFrame({
            "geo_id": np.repeat(geo, N_CELLS),
            "variable": [f"{name}_{c + 1:03d}" for c in range(N_CELLS)] * N_TRACTS,
            "estimate": est.ravel(), "moe": 41.0})
        tables[name] = ReplicateTable(name, cells, reps.reshape(-1, 80), "synthetic")
        dense[name] = np.concatenate([est[..., None], reps], axis=2)  # (tracts, cells, 81)
    return geo, tables, dense


def _numpy(dense: dict, w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = []
    for arr in dense.values():
        sums = np.einsum("g,gcr->cr", w, arr[rows])
        out.append(np.sqrt(4 / 80 * np.sum((sums[:, 1:] - sums[:, :1]) ** 2, axis=1)))
    return np.concatenate(out)


def _time(fn, repeat: int = 7) -> float:
    for _ in range(2):  # warm-ups
        fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_areas() -> None:
    from upward.estimate.aggregate import aggregate_tables

    rng = np.random.default_rng(10)
    geo, tables, dense = _tables(rng)
    rows = np.sort(rng.choice(N_TRACTS, N_AREA, replace=False))
    weights = {geo[i]: float(w) for i, w in zip(rows, rng.uniform(0.1, 1.0, N_AREA),
                                                  strict=True)}
    w = np.array([weights[geo[i]] for i in rows])
    start = time.perf_counter()
    ours = aggregate_tables(tables, weights)  # cold: lays each table out once
    cold_s = time.perf_counter() - start
    plain = _numpy(dense, w, rows)
    np.testing.assert_allclose(ours["se"].to_numpy(), plain, rtol=1e-9)
    upward_s = _time(lambda: aggregate_tables(tables, weights))
    numpy_s = _time(lambda: _numpy(dense, w, rows))
    print(f"areas: {N_AREA}-tract area, {N_TABLES} tables × {N_CELLS} cells, 80 replicates "
          f"({len(ours)} exact margins)")
    print(f"  upward aggregate_tables, cold (first area):  {cold_s * 1000:8.1f} ms")
    print(f"  upward aggregate_tables (warm, median of 7): {upward_s * 1000:8.1f} ms")
    print(f"  plain NumPy on pre-laid-out arrays:          {numpy_s * 1000:8.1f} ms")
    print(f"  ratio upward / NumPy: {upward_s / numpy_s:.1f}x "
          "(upward also finds each tract in the tables and labels the result)")
