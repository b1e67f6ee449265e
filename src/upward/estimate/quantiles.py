"""Weighted quantiles for the full sample and every replicate at once, in two aggregation passes.

The quantile of weight column ``j`` in a cell is ``min{y : C_j(y) ≥ q · T_j}``, where
``C_j(y) = Σ_{y_i ≤ y} w_ij`` is the running weight total and ``T_j`` the cell's total (the
"lower" inverse of the weighted distribution function). Running totals row by row need a window
sum per weight column over every record, which engines do slowly (81 window sums over a sort).
Plain GROUP BY sums are what engines do fast, so:

1. the values are cut into ``B`` ranges at approximate quantiles of ``y`` over all cells (one
   cheap query; the cut points only decide how much work the second pass has, never the
   answer), a range being a non-decreasing function of ``y``: a value never straddles two;
2. a GROUP BY sums the weight columns by cell and range; cumulated over the ranges these give
   the running totals at every range's end, hence the range in which each of the 81 running
   totals first reaches ``q · T_j`` (when a range holds a negative weight the running total can
   go up and down inside it, so such ranges before that one are searched too);
3. a second GROUP BY sums the weights by value inside only those ranges (a join with the small
   table of them); cumulated from the total before the range they give each quantile exactly.

Both passes are Ibis expressions, so they run on DuckDB and Spark alike; the bookkeeping of
steps 2 and 3 is NumPy on aggregated rows. The comparison with the target allows a relative
slack of ``1e-12`` for sums added in a different order by different engines.

Examples
--------
>>> import ibis, pandas as pd
>>> t = ibis.memtable(pd.DataFrame({"g": ["a"] * 4 + ["b"], "_y": [4.0, 1.0, 3.0, 2.0, 7.0],
...                                 "_f": 1.0, "_w0": [1.0, 1.0, 1.0, 1.0, 2.0],
...                                 "_w1": [0.0, 2.0, 1.0, 1.0, 2.0]}))
>>> r = replicate_quantiles(t, ["g"], 2, 0.5, lambda e: e.to_pyarrow())
>>> r[["g", "_q0", "_q1", "_n"]].to_dict("records")
[{'g': 'a', '_q0': 2.0, '_q1': 1.0, '_n': 4}, {'g': 'b', '_q0': 7.0, '_q1': 7.0, '_n': 1}]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.expr.types import BooleanValue, NumericValue, Table

#: Relative slack when comparing a running weight sum with q × total (sums differ by engine order).
CDF_SLACK = 1e-12
#: Most value ranges per cell (the first pass's rows are at most cells × this).
MAX_RANGES = 256


def replicate_quantiles(t: Table, by: list[str], k: int, q: float,
                        execute: Callable[[Table], pa.Table]) -> pd.DataFrame:
    """The ``q`` quantile of ``_y`` under each weight column ``_w0 … _w{k-1}``, by ``by``.

    Parameters
    ----------
    t : ibis Table
        Columns ``by…``, ``_y`` (float, no nulls), ``_f`` (allocation factor) and the weights
        ``_w0 … _w{k-1}`` (already multiplied by the factor).
    by : grouping columns (none: one cell).
    k : number of weight columns.
    q : the probability, in (0, 1).
    execute : runs an Ibis expression and returns Arrow.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``by…``, ``_q0 … _q{k-1}`` (NaN where no value reaches the target),
        ``_n`` (records), ``_sw`` (Σ w0), ``_sw2`` (Σ w0²), ``_sf`` (Σ factor). Without ``by``
        one row even when there are no records.

    Examples
    --------
    Ties count together, and a negative replicate weight is honoured (the running total of
    ``_w1`` is 2, 1, 3 at y = 1, 2, 3, so it first reaches half of 3 at y = 1):

    >>> t = ibis.memtable(pd.DataFrame({"_y": [1.0, 1.0, 2.0, 3.0], "_f": 1.0,
    ...                                 "_w0": [1.0, 1.0, 1.0, 1.0], "_w1": [1.0, 1.0, -1.0, 2.0]}))
    >>> r = replicate_quantiles(t, [], 2, 0.5, lambda e: e.to_pyarrow())
    >>> r[["_q0", "_q1", "_n", "_sw"]].to_dict("records")
    [{'_q0': 1.0, '_q1': 1.0, '_n': 4, '_sw': 4.0}]
    """
    w = [f"_w{i}" for i in range(k)]
    edges = _cut_points(t, by, execute)
    t = t.mutate(_b=_range_of(t["_y"], edges))
    negative = _any([t[c] < 0 for c in w])
    sums = {f"_s{i}": t[c].sum() for i, c in enumerate(w)}
    first = t.group_by([*by, "_b"]).aggregate(
        **sums, _neg=negative.any(), _n=t.count(), _sf=t["_f"].sum(),
        _sw2=(t["_w0"] * t["_w0"]).sum())
    ranges = execute(first)
    cell, keys = _cells(ranges, by)
    n_cells, n_ranges = len(keys) if by else 1, len(edges) + 1
    b = _numpy(ranges, "_b").astype(np.int64)
    # the sums laid out by cell and range (absent ranges hold 0, which changes no sum), then
    # cumulated in place over the ranges: the running totals at each range's largest value
    closing = np.zeros((n_cells, n_ranges, k))
    for i in range(k):
        closing[cell, b, i] = np.nan_to_num(_numpy(ranges, f"_s{i}"))
    np.cumsum(closing, axis=1, out=closing)
    neg = np.zeros((n_cells, n_ranges), dtype=bool)
    neg[cell, b] = np.nan_to_num(_numpy(ranges, "_neg").astype(float)).astype(bool)
    present = np.zeros((n_cells, n_ranges), dtype=bool)
    present[cell, b] = True
    out = keys.to_pandas() if by else pd.DataFrame(index=range(n_cells))
    for col in ("_n", "_sf", "_sw2"):
        out[col] = np.bincount(cell, np.nan_to_num(_numpy(ranges, col).astype(float)),
                               minlength=n_cells)
    out["_n"] = out["_n"].astype("int64")
    out["_sw"] = closing[:, -1, 0]
    del ranges
    targets = closing[:, -1, :] * q * (1 - CDF_SLACK)
    reached = closing >= targets[:, None, :]
    reached &= present[:, :, None]
    last = np.where(reached.any(axis=1), reached.argmax(axis=1), n_ranges)  # cells × k
    del reached
    index = np.arange(n_ranges)[None, :, None]
    candidate = (index == last[:, None, :]) | (neg[:, :, None] & (index < last[:, None, :]))
    candidate &= present[:, :, None]
    quantiles = np.full((n_cells, k), np.nan)
    pick_cell, pick_range = np.nonzero(candidate.any(axis=2))
    if len(pick_cell):
        before = np.where((pick_range > 0)[:, None], closing[pick_cell, pick_range - 1], 0.0)
        _second_pass(t, by, w, keys, pick_cell, pick_range, before,
                     closing[pick_cell, pick_range], candidate[pick_cell, pick_range], targets,
                     quantiles, execute)
    for i in range(k):
        out[f"_q{i}"] = quantiles[:, i]
    return out


def _numpy(table: pa.Table, column: str) -> np.ndarray:
    """One column of an Arrow table as NumPy (nulls as NaN)."""
    return table.column(column).to_numpy(zero_copy_only=False)


def _cut_points(t: Table, by: list[str], execute: Callable[[Table], pa.Table]) -> list[float]:
    """About ``√(2 · records per cell)`` ranges, cut at approximate quantiles of ``y``.

    One query gives the records, the distinct values of each grouping column (their product
    bounds the number of cells) and ``y``'s approximate quantiles on a fine grid, of which
    every so many are kept."""
    grid = [i / MAX_RANGES for i in range(1, MAX_RANGES)]
    aggs = {"_n": t.count(), "_e": t["_y"].approx_quantile(grid)}
    aggs.update({f"_c{i}": t[c].approx_nunique() for i, c in enumerate(by)})
    row = execute(t.aggregate(**aggs)).to_pylist()[0]
    cells = math.prod(max(int(row[f"_c{i}"] or 0), 1) for i in range(len(by)))
    n = min(MAX_RANGES, max(1, round(math.sqrt(2 * (row["_n"] or 0) / cells))))
    if n == 1:
        return []
    step = MAX_RANGES / n
    keep = {round(step * i) - 1 for i in range(1, n)}
    got = [e for i, e in enumerate(row["_e"] or []) if i in keep and e is not None]
    edges = np.unique(np.asarray(got, dtype=float))
    return [float(e) for e in edges[np.isfinite(edges)]]


def _any(conditions: list[BooleanValue]) -> BooleanValue:
    """``a | b | …`` as a balanced tree (engines evaluate it faster than a 81-argument LEAST)."""
    if len(conditions) == 1:
        return conditions[0]
    mid = len(conditions) // 2
    return _any(conditions[:mid]) | _any(conditions[mid:])


def _range_of(y: NumericValue, edges: list[float], low: int = 0) -> NumericValue:
    """How many of the sorted ``edges`` are ≤ ``y`` (a balanced tree of comparisons)."""
    if not edges:
        return ibis.literal(low, type="int32")
    mid = len(edges) // 2
    return ibis.ifelse(y >= edges[mid], _range_of(y, edges[mid + 1:], low + mid + 1),
                       _range_of(y, edges[:mid], low))


def _cells(ranges: pa.Table, by: list[str]) -> tuple[np.ndarray, pa.Table | None]:
    """The cell number of each first-pass row and the cells' keys (sorted, nulls last)."""
    if not by:
        return np.zeros(ranges.num_rows, dtype=np.int64), None
    keys = ranges.select(by).to_pandas()
    cell = keys.groupby(by, sort=True, dropna=False).ngroup().to_numpy()
    first = np.full(cell.max() + 1 if len(cell) else 0, -1, dtype=np.int64)
    first[cell[::-1]] = np.arange(len(cell))[::-1]
    return cell, ranges.select(by).take(pa.array(first))


def _second_pass(t: Table, by: list[str], w: list[str], keys: pa.Table | None,
                 pick_cell: np.ndarray, pick_range: np.ndarray, before: np.ndarray,
                 closing: np.ndarray, wanted: np.ndarray, targets: np.ndarray,
                 quantiles: np.ndarray, execute: Callable[[Table], pa.Table]) -> None:
    """Sum the weights by value inside the picked ranges and read off each quantile.

    ``before`` and ``closing`` are the first pass's running totals before and at the end of
    each picked range (rows in cell, then range order): the running total at a range's largest
    value is taken from the first pass, so that the two passes agree on which range reaches the
    target whatever order the engine added in."""
    marks = {"_id": pa.array(np.arange(len(pick_cell))), "_kb": pa.array(pick_range,
                                                                         type=pa.int32())}
    if by:
        picked = keys.take(pa.array(pick_cell))
        marks.update({f"_k{i}": picked.column(c) for i, c in enumerate(by)})
    m = ibis.memtable(pa.table(marks))
    match = [t["_b"] == m["_kb"], *[t[c].identical_to(m[f"_k{i}"]) for i, c in enumerate(by)]]
    rows = t.join(m, match)
    values = rows.group_by(["_id", "_y"]).aggregate(
        **{f"_s{i}": rows[c].sum() for i, c in enumerate(w)})
    got = execute(values)
    ids = _numpy(got, "_id").astype(np.int64)
    y = _numpy(got, "_y").astype(float)
    if not len(ids):
        return
    order = np.lexsort((y, ids))  # by picked range (so by cell, range), then value
    ids, y = ids[order], y[order]
    s = np.empty((len(ids), len(w)), order="F")
    for i in range(len(w)):
        s[:, i] = np.nan_to_num(_numpy(got, f"_s{i}"))[order]
    del got
    # running totals within each picked range, from the total before it (cumulated in place)
    bounds = np.r_[0, np.flatnonzero(ids[1:] != ids[:-1]) + 1, len(ids)]
    for lo, hi in pairwise(bounds.tolist()):
        np.cumsum(s[lo:hi], axis=0, out=s[lo:hi])
    running = s
    ends = np.r_[ids[1:] != ids[:-1], True]
    cells = pick_cell[ids]
    starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
    rank = np.arange(len(ids))
    for i in range(len(w)):
        r = running[:, i] + before[ids, i]
        r[ends] = closing[ids[ends], i]
        hit = (r >= targets[cells, i]) & wanted[ids, i]
        # rows are in (range, value) order within a cell: the first hit is the smallest value
        earliest = np.minimum.reduceat(np.where(hit, rank, len(ids)), starts)
        found = earliest < len(ids)
        quantiles[cells[starts], i] = np.where(found, y[np.minimum(earliest, len(ids) - 1)],
                                               np.nan)
