"""Cell suppression for published tables of counts of people, and for tables of means/rates.

The rule is the CMS cell-size rule: a count of 1 to k − 1 people (k = 11: 1–10) is never
published. Zeros are published: a zero identifies no one, and CMS does not require hiding them
(pass ``suppress_zeros=True`` to hide them too). Because tables carry their margins (row, column
and grand totals computed from the true counts), hiding the small cells alone is not enough:
a hidden cell that is the only one in its row equals the row total minus the others.
**Complementary suppression** hides more cells so that nobody can work a small cell out.

How cells are chosen (``method``):

* ``"milp"`` (default): a small integer program (scipy.optimize.milp, HiGHS) chooses the set of
  cells that hides the fewest people subject to (a) every row, column and margin line with a
  hidden cell has at least two, and (b) in each line through a small cell, the other hidden cells
  leave it room to reach k. The chosen pattern is then audited (below); if the audit finds a
  cell still exposed, a cut (hide one more cell near it) is added and the program solved again;
  after ``MAX_CUT_ROUNDS`` rounds, or if HiGHS finds no solution in its time limit, the last
  pattern is finished greedily. The result therefore always passes the audit; it hides the
  fewest people among patterns satisfying (a)–(b) and the cuts, not necessarily overall.
* ``"greedy"``: starting from the small cells, repeatedly hide the smallest cell in a line of an
  exposed cell until the audit passes. Faster to explain, hides more.

**Audit.** For every hidden cell, linear programming (scipy.optimize.linprog) finds the smallest
and largest value it can take given everything published: all shown cells and margins, every
row/column equation, and non-negativity (hidden cells are ≥ 1 when zeros are published). A
table of counts with margins has a totally unimodular constraint matrix, so these LP bounds are
the integer bounds. A small cell is *protected* when its upper bound is at least k (nobody can
show it is small) and its interval is at least ``protection`` wide (default k − 1). The audit
models an attacker who knows the rule but not which hidden cells are small and which are
complementary (the published table does not say), and no outside information.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"employed": [40, 3, 25], "not employed": [60, 30, 45]},
...                  index=["North", "South", "East"])
>>> s = suppress_table(t, k=11)
>>> s.n_primary, s.n_complementary, s.audit.passed
(1, 3, True)
>>> print(s.to_display().to_string())
      employed not employed Total
North       40           60   100
South        *            *    33
East         *            *    70
Total       68          135   203
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, sparse

from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.errors import ConfigError, UpwardError

TOTAL = "Total"
METHODS = ("milp", "greedy")
MAX_CUT_ROUNDS = 60


class DisclosureTableError(UpwardError):
    """A table given for disclosure control is not a table of counts of people.

    >>> import pandas as pd
    >>> suppress_table(pd.DataFrame({"a": [0.5, 2]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.privacy.suppression.DisclosureTableError: row 0, column 'a': ... is not a count of people...
    """


# -- the table as a grid of cells with linear relations ------------------------------------


@dataclass(frozen=True)
class _Grid:
    """The table (with its margins, when published) as a flat vector of cells and lines.

    Each line is (members, total): the members sum to the total cell.
    """

    values: np.ndarray  # flat, int
    shape: tuple[int, int]
    lines: tuple[tuple[tuple[int, ...], int], ...]
    margins: bool

    def lines_of(self, cell: int) -> list[tuple[tuple[int, ...], int]]:
        return [line for line in self.lines if cell in line[0] or cell == line[1]]


def _grid(values: np.ndarray, margins: bool) -> _Grid:
    """Build the grid of an (R × C) table; with margins the grid is (R+1) × (C+1)."""
    r, c = values.shape
    if not margins:
        return _Grid(values.ravel().astype(np.int64), (r, c), (), False)
    full = np.zeros((r + 1, c + 1), dtype=np.int64)
    full[:r, :c] = values
    full[:r, c] = values.sum(axis=1)
    full[r, :c] = values.sum(axis=0)
    full[r, c] = values.sum()
    width = c + 1
    lines = []
    for i in range(r + 1):  # rows, and the row of column totals
        lines.append((tuple(i * width + j for j in range(c)), i * width + c))
    for j in range(c + 1):  # columns, and the column of row totals
        lines.append((tuple(i * width + j for i in range(r)), r * width + j))
    return _Grid(full.ravel(), (r + 1, c + 1), tuple(lines), True)


def _as_counts(table: pd.DataFrame, total_label: str) -> np.ndarray:
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise DisclosureTableError("the table to protect is empty or not a DataFrame",
                                   fix="pass a DataFrame of counts (rows × columns)")
    for axis, labels in (("row", table.index), ("column", table.columns)):
        if labels.has_duplicates:
            raise DisclosureTableError(f"the table has duplicate {axis} labels",
                                       fix=f"give each {axis} a distinct label")
        if total_label in labels:
            raise DisclosureTableError(
                f"the table already has a {axis} called {total_label!r}",
                fix="pass the table without margins; they are computed from the counts",
            )
    for col in table.columns:
        series = pd.to_numeric(table[col], errors="coerce")
        bad = series.isna() | (series < 0) | (series % 1 != 0)
        if bad.any():
            row = table.index[np.flatnonzero(bad.to_numpy())[0]]
            raise DisclosureTableError(
                f"row {row!r}, column {col!r}: {table.loc[row, col]!r} is not a count of people",
                fix="give whole numbers ≥ 0 in every cell (no blanks, no rates)",
            )
    return table.apply(pd.to_numeric).to_numpy(dtype=np.int64)


# -- audit: what can an attacker infer about each hidden cell? ---------------------------


def _intervals(grid: _Grid, hidden: np.ndarray, lower: int, cells: Sequence[int],
               skip_low=None) -> dict[int, tuple[float, float]]:
    """[min, max] of each cell in ``cells`` over every table consistent with what is shown.

    ``skip_low(cell, high)`` true: the minimum is not needed (left NaN), which halves the LPs
    while searching for a pattern.
    """
    hidden_idx = np.flatnonzero(hidden)
    col_of = {int(cell): n for n, cell in enumerate(hidden_idx)}
    rows, cols, vals, rhs = [], [], [], []
    for members, total in grid.lines:
        coef = {m: 1.0 for m in members}
        coef[total] = -1.0
        unknown = [(cell, a) for cell, a in coef.items() if hidden[cell]]
        if not unknown:
            continue
        known = sum(a * grid.values[cell] for cell, a in coef.items() if not hidden[cell])
        for cell, a in unknown:
            rows.append(len(rhs))
            cols.append(col_of[cell])
            vals.append(a)
        rhs.append(-known)
    n = hidden_idx.size
    a_eq = sparse.csr_array((vals, (rows, cols)), shape=(len(rhs), n)) if rhs else None
    b_eq = np.array(rhs, dtype=float) if rhs else None
    def solve(cell: int, sign: float) -> float:
        if a_eq is None:
            return lower if sign > 0 else math.inf
        objective = np.zeros(n)
        objective[col_of[cell]] = sign
        res = optimize.linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(lower, None),
                               method="highs")
        if res.status == 3:  # unbounded
            return math.inf
        if res.status != 0:  # pragma: no cover - the true table is always feasible
            raise RuntimeError(f"audit LP failed: {res.message}")
        return sign * res.fun

    out = {}
    for cell in map(int, cells):
        high = solve(cell, -1.0)
        high = high if math.isinf(high) else math.floor(high + 1e-7)
        if skip_low is not None and skip_low(cell, high):
            out[cell] = (math.nan, high)
            continue
        out[cell] = (math.ceil(solve(cell, 1.0) - 1e-7), high)
    return out


@dataclass(frozen=True)
class CellInterval:
    """What the published table reveals about one hidden cell.

    >>> import pandas as pd
    >>> s = suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]}))
    >>> c = s.audit.intervals[0]
    >>> (c.row, c.column, c.value, c.low, c.high, c.primary, c.protected)
    (0, 'a', 5, 1, 54, True, True)
    """

    row: object
    column: object
    value: int
    low: float
    high: float
    primary: bool
    protected: bool | None

    @property
    def width(self) -> float:
        """high − low (infinite when the cell has no upper bound).

        >>> CellInterval("a", "b", 3, 1, 12, True, True).width
        11
        """
        return self.high - self.low


@dataclass
class Audit:
    """Feasible intervals of every hidden cell, and whether every small cell is protected.

    ``shown_small`` lists small cells that were published (an audit of a hand-made table).

    >>> import pandas as pd
    >>> a = suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]})).audit
    >>> a.k, len(a.intervals), a.passed
    (11, 4, True)
    """

    k: int
    protection: float
    intervals: list[CellInterval]
    shown_small: list[tuple[object, object]] = field(default_factory=list)

    @property
    def failures(self) -> list[CellInterval]:
        """Small cells an attacker can pin down (upper bound < k or interval too narrow).

        >>> Audit(11, 10, []).failures
        []
        """
        return [c for c in self.intervals if c.primary and not c.protected]

    @property
    def passed(self) -> bool:
        """True when no small cell is shown and every hidden small cell is protected.

        >>> Audit(11, 10, []).passed
        True
        """
        return not self.failures and not self.shown_small

    def to_frame(self) -> pd.DataFrame:
        """One row per hidden cell: row, column, value, low, high, width, primary, protected.

        >>> list(Audit(11, 10, []).to_frame().columns)[:3]
        ['row', 'column', 'value']
        """
        cols = ["row", "column", "value", "low", "high", "width", "primary", "protected"]
        return pd.DataFrame([{**c.__dict__, "width": c.width} for c in self.intervals],
                            columns=cols)


def _is_primary(value: int, k: int, suppress_zeros: bool) -> bool:
    return (0 < value < k) or (suppress_zeros and value == 0)


def _protected(value: int, low: float, high: float, k: int, protection: float) -> bool:
    return high >= k and high - low >= protection


def _labels(grid: _Grid, index: Sequence, columns: Sequence, total_label: str):
    rows = [*index, total_label] if grid.margins else list(index)
    cols = [*columns, total_label] if grid.margins else list(columns)
    width = grid.shape[1]
    return lambda cell: (rows[cell // width], cols[cell % width])


def _audit_grid(grid: _Grid, hidden: np.ndarray, k: int, protection: float,
                suppress_zeros: bool, label, *, primary_only: bool = False) -> Audit:
    lower = 0 if suppress_zeros else 1
    cells = np.flatnonzero(hidden)
    skip_low = None
    if primary_only:
        cells = np.array([c for c in cells
                          if _is_primary(int(grid.values[c]), k, suppress_zeros)], dtype=int)

        def skip_low(cell: int, high: float) -> bool:
            # min ≤ true value, so the width test passes (or the cell fails) without the min
            return high < k or grid.values[cell] <= high - protection

    bounds = _intervals(grid, hidden, lower, cells, skip_low) if cells.size else {}
    intervals = []
    for cell in cells:
        value = int(grid.values[cell])
        low, high = bounds[int(cell)]
        primary = _is_primary(value, k, suppress_zeros)
        row, col = label(int(cell))
        ok = high >= k if math.isnan(low) else _protected(value, low, high, k, protection)
        intervals.append(CellInterval(row, col, value, low, high, primary, ok))
    shown = [label(int(c)) for c in np.flatnonzero(~hidden)
             if _is_primary(int(grid.values[c]), k, suppress_zeros)]
    return Audit(k, protection, intervals, shown)


# -- choosing the complementary cells ----------------------------------------------------


def _room_needed(value: int, k: int, protection: float, lower: int) -> float:
    return max(k - value, protection - (value - lower), 1)


def _milp(grid: _Grid, primary: np.ndarray, eligible: np.ndarray, k: int, protection: float,
          lower: int, cuts: list[np.ndarray]) -> np.ndarray | None:
    n = grid.values.size
    rows: list[np.ndarray] = []
    lo: list[float] = []
    for members, total in grid.lines:
        line = [*members, total]
        for e in line:  # hidden e ⇒ another hidden cell in the line
            a = np.zeros(n)
            a[line] = 1.0
            a[e] = -1.0
            rows.append(a)
            lo.append(0.0)
    big = float(k + protection)
    for p in np.flatnonzero(primary):
        for members, total in grid.lines_of(int(p)):
            if p == total:
                continue
            a = np.zeros(n)
            for m in members:
                if m != p:
                    a[m] = max(float(grid.values[m] - lower), 0.0)
            a[total] = big
            rows.append(a)
            lo.append(_room_needed(int(grid.values[p]), k, protection, lower))
    for cut in cuts:
        rows.append(cut.astype(float))
        lo.append(1.0)
    cost = grid.values.astype(float) + 1e-3  # fewest people hidden, then fewest cells
    fixed_low = primary.astype(float)
    fixed_high = np.where(eligible | primary, 1.0, 0.0)
    constraints = [optimize.LinearConstraint(np.vstack(rows), lo, np.inf)] if rows else []
    res = optimize.milp(cost, constraints=constraints, integrality=np.ones(n),
                        bounds=optimize.Bounds(fixed_low, fixed_high),
                        options={"time_limit": 30})
    if res.x is None:  # time limit without a solution (very large tables): caller goes greedy
        return None
    return res.x > 0.5


def _neighbourhood(grid: _Grid, cell: int, hidden: np.ndarray) -> set[int]:
    """Cells in the lines of ``cell`` and in the lines of the hidden cells of those lines."""
    near: set[int] = set()
    for members, total in grid.lines_of(cell):
        line = {*members, total}
        near |= line
        for other in line:
            if hidden[other]:
                for m2, t2 in grid.lines_of(other):
                    near |= {*m2, t2}
    return near


def _greedy_step(grid: _Grid, hidden: np.ndarray, eligible: np.ndarray,
                 failing: list[int]) -> bool:
    added = False
    for p in failing:
        for pool in (_line_cells(grid, p), _neighbourhood(grid, p, hidden),
                     set(range(grid.values.size))):
            candidates = [c for c in pool if eligible[c] and not hidden[c]]
            if candidates:
                best = min(candidates, key=lambda c: (grid.values[c], c))
                hidden[best] = True
                added = True
                break
    return added


def _line_cells(grid: _Grid, cell: int) -> set[int]:
    out: set[int] = set()
    for members, total in grid.lines_of(cell):
        out |= {*members, total}
    return out


def _choose(grid: _Grid, primary: np.ndarray, eligible: np.ndarray, k: int, protection: float,
            suppress_zeros: bool, method: str, label) -> tuple[np.ndarray, Audit, int]:
    """Hidden cells, the full audit of them, and the number of audit rounds it took."""
    hidden, rounds = _search(grid, primary, eligible, k, protection, suppress_zeros, method,
                             label)
    return hidden, _audit_grid(grid, hidden, k, protection, suppress_zeros, label), rounds


def _search(grid: _Grid, primary: np.ndarray, eligible: np.ndarray, k: int, protection: float,
            suppress_zeros: bool, method: str, label) -> tuple[np.ndarray, int]:
    lower = 0 if suppress_zeros else 1
    if not grid.margins:
        return primary.copy(), 0

    def check(hidden: np.ndarray) -> Audit:
        return _audit_grid(grid, hidden, k, protection, suppress_zeros, label,
                           primary_only=True)

    cuts: list[np.ndarray] = []
    rounds = 0
    if method == "milp":
        while rounds < MAX_CUT_ROUNDS:
            solution = _milp(grid, primary, eligible, k, protection, lower, cuts)
            if solution is None:
                hidden = primary.copy()
                break
            hidden = solution
            result = check(hidden)
            rounds += 1
            if result.passed:
                return hidden, rounds
            for failure in result.failures:
                cell = _cell_of(grid, failure, label)
                cut = np.zeros(grid.values.size, dtype=bool)
                cut[list(_neighbourhood(grid, cell, hidden))] = True
                cut &= eligible & ~hidden
                if not cut.any():
                    cut = eligible & ~hidden
                cuts.append(cut)
        # fall through: finish greedily from the last pattern
    else:
        hidden = primary.copy()
    while True:
        result = check(hidden)
        rounds += 1
        if result.passed:
            return hidden, rounds
        failing = [_cell_of(grid, f, label) for f in result.failures]
        if not _greedy_step(grid, hidden, eligible, failing):  # pragma: no cover
            raise RuntimeError("no cell left to hide, yet the table is not protected")


def _cell_of(grid: _Grid, interval: CellInterval, label) -> int:
    for cell in range(grid.values.size):
        if label(cell) == (interval.row, interval.column):
            return cell
    raise KeyError(interval)  # pragma: no cover


# -- public API ------------------------------------------------------------------------------


@dataclass
class SuppressedTable:
    """A table ready to publish, with what was hidden and why.

    ``published``: the counts (and margins) with hidden cells as ``<NA>`` (nullable Int64);
    ``mask``: True where hidden; ``reasons``: "primary: 7 < 11", "complementary" or "".

    >>> import pandas as pd
    >>> s = suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]}))
    >>> s.published.loc[0].tolist(), s.reasons.loc[0, "a"]
    ([<NA>, <NA>, 55], 'primary: 5 < 11')
    """

    published: pd.DataFrame
    mask: pd.DataFrame
    reasons: pd.DataFrame
    audit: Audit
    k: int
    protection: float
    method: str
    with_margins: bool
    suppress_zeros: bool
    rounds: int

    @property
    def n_primary(self) -> int:
        """Number of cells hidden because they are small.

        >>> import pandas as pd
        >>> suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]})).n_primary
        1
        """
        return int(self.reasons.map(lambda r: r.startswith("primary")).to_numpy().sum())

    @property
    def n_complementary(self) -> int:
        """Number of cells hidden only so that the small ones cannot be worked out.

        >>> import pandas as pd
        >>> suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]})).n_complementary
        3
        """
        return int((self.reasons == "complementary").to_numpy().sum())

    @property
    def hidden_people(self) -> int:
        """People in hidden interior cells (margins not counted): the information lost.

        >>> import pandas as pd
        >>> suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]})).hidden_people
        155
        """
        inner = self._interior()
        true = self.audit_values()
        return int(true.where(self.mask).loc[inner.index, inner.columns].sum().sum())

    def _interior(self) -> pd.DataFrame:
        if not self.with_margins:
            return self.mask
        return self.mask.iloc[:-1, :-1]

    def audit_values(self) -> pd.DataFrame:
        """The true counts (with margins) — for the publisher's own checks, never to publish.

        >>> import pandas as pd
        >>> int(suppress_table(pd.DataFrame({"a": [5, 50]})).audit_values().iloc[-1, -1])
        55
        """
        values = self.published.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        for c in self.audit.intervals:
            i = self.published.index.get_loc(c.row)
            j = self.published.columns.get_loc(c.column)
            values[i, j] = c.value
        return pd.DataFrame(values, index=self.published.index, columns=self.published.columns)

    def to_display(self, symbol: str = "*") -> pd.DataFrame:
        """The published table as text, hidden cells shown as ``symbol``.

        >>> import pandas as pd
        >>> suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]})).to_display().iloc[0, 0]
        '*'
        """
        return self.published.astype(object).where(~self.mask, symbol).map(str)


def suppress_table(table: pd.DataFrame, k: int = MIN_CELL_SIZE, *, with_margins: bool = True,
                   protection: float | None = None, method: str = "milp",
                   suppress_zeros: bool = False, total_label: str = TOTAL) -> SuppressedTable:
    """Hide small counts in a table of people and enough other cells to protect them.

    Parameters
    ----------
    table
        Rows × columns of counts of people, without margins.
    k
        Smallest count that may be shown (CMS: 11, so 1–10 are hidden).
    with_margins
        Publish row totals, column totals and the grand total (computed from the true counts;
        a small total is itself hidden).
    protection
        Minimum width of what an attacker can infer about a small cell (default k − 1).
    method
        "milp" (fewest people hidden) or "greedy".
    suppress_zeros
        Hide zero counts too (default: zeros are shown).

    >>> import pandas as pd
    >>> t = pd.DataFrame({"yes": [12, 4, 30], "no": [20, 25, 40]}, index=["A", "B", "C"])
    >>> s = suppress_table(t)
    >>> s.reasons.loc["B", "yes"], s.audit.passed
    ('primary: 4 < 11', True)
    """
    if not (isinstance(k, int | np.integer) and k >= 2):
        raise ConfigError(f"k = {k!r} must be a whole number ≥ 2", fix="use e.g. k=11 (CMS)")
    if method not in METHODS:
        raise ConfigError(f"suppression method {method!r} is not known",
                          fix=f"use one of {', '.join(METHODS)}")
    protection = float(k - 1 if protection is None else protection)
    if protection < 0:
        raise ConfigError(f"protection = {protection} must be ≥ 0", fix="use e.g. k - 1")
    values = _as_counts(table, total_label)
    grid = _grid(values, with_margins)
    label = _labels(grid, list(table.index), list(table.columns), total_label)
    primary = np.array([_is_primary(int(v), k, suppress_zeros) for v in grid.values])
    eligible = grid.values > 0 if not suppress_zeros else np.ones_like(primary)
    hidden, audit, rounds = _choose(grid, primary, eligible, k, protection, suppress_zeros,
                                    method, label)

    rows = [*table.index, total_label] if with_margins else list(table.index)
    cols = [*table.columns, total_label] if with_margins else list(table.columns)
    full = pd.DataFrame(grid.values.reshape(grid.shape), index=rows, columns=cols)
    mask = pd.DataFrame(hidden.reshape(grid.shape), index=rows, columns=cols)
    published = full.astype("Int64").mask(mask)
    reasons = pd.DataFrame("", index=rows, columns=cols)
    for cell in np.flatnonzero(hidden):
        r, c = divmod(int(cell), grid.shape[1])
        v = int(grid.values[cell])
        reasons.iat[r, c] = (f"primary: {v} < {k}" if primary[cell] else "complementary")
    return SuppressedTable(published, mask, reasons, audit, int(k), protection, method,
                           with_margins, suppress_zeros, rounds)


def audit(published: pd.DataFrame, table: pd.DataFrame, k: int = MIN_CELL_SIZE, *,
          protection: float | None = None, suppress_zeros: bool = False,
          total_label: str = TOTAL) -> Audit:
    """Audit a table someone intends to publish (hidden cells as NA) against the true counts.

    Margins are taken to be published when ``published`` has a ``total_label`` row and column.

    >>> import pandas as pd
    >>> true = pd.DataFrame({"a": [5, 50], "b": [50, 50]})
    >>> naive = true.astype("Int64").mask(true < 11)          # primary suppression only
    >>> naive.loc["Total"] = true.sum(); naive["Total"] = true.sum(axis=1).tolist() + [155]
    >>> audit(naive, true).passed
    False
    """
    protection = float(k - 1 if protection is None else protection)
    values = _as_counts(table, total_label)
    margins = total_label in published.index and total_label in published.columns
    grid = _grid(values, margins)
    label = _labels(grid, list(table.index), list(table.columns), total_label)
    expected_rows = [*table.index, total_label] if margins else list(table.index)
    expected_cols = [*table.columns, total_label] if margins else list(table.columns)
    try:
        shown = published.loc[expected_rows, expected_cols]
    except KeyError as exc:
        raise DisclosureTableError(
            f"the published table does not have the rows/columns of the true table ({exc})",
            fix="publish the same rows and columns, with margins labelled " f"{total_label!r}",
        ) from None
    hidden = shown.isna().to_numpy().ravel()
    full = grid.values
    shown_values = pd.to_numeric(shown.stack(future_stack=True), errors="coerce").to_numpy()
    mismatch = (~hidden) & (shown_values != full)
    if mismatch.any():
        r, c = label(int(np.flatnonzero(mismatch)[0]))
        raise DisclosureTableError(f"published cell ({r!r}, {c!r}) differs from the true count",
                                   fix="audit the table that will actually be published")
    return _audit_grid(grid, hidden, int(k), protection, suppress_zeros, label)


def is_publishable(published: pd.DataFrame, table: pd.DataFrame, k: int = MIN_CELL_SIZE, **options) -> bool:
    """True when ``published`` shows no small cell and every hidden small cell is protected.

    >>> import pandas as pd
    >>> true = pd.DataFrame({"a": [5, 50], "b": [50, 50]})
    >>> is_publishable(suppress_table(true).published, true)
    True
    """
    return audit(published, table, k, **options).passed


# -- tables of means and rates by group -------------------------------------------------------


@dataclass(frozen=True)
class ValueInterval:
    """What the published statistics reveal about one hidden value (a group's mean or rate).

    >>> import pandas as pd
    >>> f = pd.DataFrame({"n": [6, 120, 80, 206], "employed": [0.5, 0.6, 0.7, 0.63]},
    ...                  index=["a", "b", "c", "All"])
    >>> v = suppress_statistics(f, "n", ["employed"], total_row="All",
    ...                         bounds={"employed": (0, 1)}).intervals[0]
    >>> (v.row, v.column, v.value, v.low, v.high, v.protected)
    ('a', 'employed', 0.5, 0.0, 1.0, True)
    """

    row: object
    column: str
    value: float
    low: float
    high: float
    primary: bool
    protected: bool | None


@dataclass
class SuppressedStatistics:
    """A table of means/rates by group ready to publish.

    ``published`` has hidden values (and counts, unless ``suppress_counts=False``) as NA;
    ``reasons`` maps each row to "primary: 4 < 11", "complementary" or "".

    >>> import pandas as pd
    >>> f = pd.DataFrame({"n": [6, 120, 80, 206], "employed": [0.5, 0.6, 0.7, 0.63]},
    ...                  index=["a", "b", "c", "All"])
    >>> s = suppress_statistics(f, "n", ["employed"], total_row="All")
    >>> s.published["employed"].isna().tolist(), s.k
    ([True, False, True, False], 11)
    """

    published: pd.DataFrame
    mask: pd.DataFrame
    reasons: pd.Series
    intervals: list[ValueInterval]
    k: int
    total_row: object | None

    @property
    def passed(self) -> bool:
        """True when every hidden small-group value is protected.

        >>> import pandas as pd
        >>> f = pd.DataFrame({"n": [5, 40], "rate": [0.2, 0.5]}, index=["a", "b"])
        >>> suppress_statistics(f, "n", ["rate"]).passed
        True
        """
        return all(v.protected for v in self.intervals if v.primary)


def _value_interval(n: np.ndarray, hidden: np.ndarray, p: int, remainder: float,
                    bounds: tuple[float, float]) -> tuple[float, float]:
    """Range of group p's value given the hidden groups' values sum (weighted by n) to
    ``remainder``, each within ``bounds``."""
    lo, hi = bounds
    others = [j for j in np.flatnonzero(hidden) if j != p]
    if not others:
        value = remainder / n[p]
        return value, value
    if math.isinf(lo) or math.isinf(hi):
        return lo, hi
    low = (remainder - sum(n[j] * hi for j in others)) / n[p]
    high = (remainder - sum(n[j] * lo for j in others)) / n[p]
    return max(lo, low), min(hi, high)


def suppress_statistics(frame: pd.DataFrame, count_column: str, value_columns: Sequence[str],
                        k: int = MIN_CELL_SIZE, *, total_row: object | None = None,
                        bounds: dict[str, tuple[float, float]] | None = None,
                        protection: float = 0.5, suppress_counts: bool = True,
                        additive: bool = True) -> SuppressedStatistics:
    """Hide the values of groups of fewer than k people in a table of means or rates.

    With a ``total_row`` (the overall count and count-weighted mean), one hidden group's mean
    is recoverable: n_p·m_p = N·m_all − Σ n_g·m_g. So at least one more group (the smallest with
    k or more people) is hidden, and more until each small group's value can only be narrowed to
    an interval covering at least ``protection`` of its ``bounds`` (e.g. (0, 1) for rates); the
    audit assumes the attacker knows every group's count, even hidden ones. Set
    ``additive=False`` for statistics that are not count-weighted means (medians), where only
    the small groups are hidden.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"n": [6, 120, 80, 206], "employed": [0.5, 0.6, 0.7, 0.63]},
    ...                  index=["A", "B", "C", "All"])
    >>> s = suppress_statistics(f, "n", ["employed"], total_row="All", bounds={"employed": (0, 1)})
    >>> s.reasons.to_dict()
    {'A': 'primary: 6 < 11', 'B': '', 'C': 'complementary', 'All': ''}
    """
    missing = [c for c in [count_column, *value_columns] if c not in frame.columns]
    if missing:
        raise DisclosureTableError(f"the table has no column {missing[0]!r}",
                                   fix=f"name columns among {', '.join(map(str, frame.columns))}")
    if total_row is not None and total_row not in frame.index:
        raise DisclosureTableError(f"total_row {total_row!r} is not a row of the table",
                                   fix="give the label of the overall row, or None")
    counts = pd.to_numeric(frame[count_column], errors="coerce")
    bad = counts.isna() | (counts < 0) | (counts % 1 != 0)
    if bad.any():
        row = frame.index[np.flatnonzero(bad.to_numpy())[0]]
        raise DisclosureTableError(f"row {row!r}, column {count_column!r}: "
                                   f"{frame.loc[row, count_column]!r} is not a count of people",
                                   fix="give whole numbers ≥ 0")
    bounds = dict(bounds or {})
    groups = [r for r in frame.index if r != total_row]
    n = counts.loc[groups].to_numpy(dtype=float)
    primary = (n > 0) & (n < k)
    hidden = primary.copy()
    order = [int(i) for i in np.argsort(n, kind="stable") if not primary[i] and n[i] > 0]
    hide_total = False

    def intervals() -> list[ValueInterval]:
        out = []
        for col in value_columns:
            vals = pd.to_numeric(frame.loc[groups, col], errors="coerce").to_numpy(dtype=float)
            span = bounds.get(col, (-math.inf, math.inf))
            width_needed = protection * (span[1] - span[0])
            remainder = None
            if total_row is not None and additive and not hide_total:
                total = float(counts.loc[total_row]) * float(frame.loc[total_row, col])
                remainder = total - float(np.nansum(np.where(hidden, 0.0, n * vals)))
            for p in np.flatnonzero(hidden):
                if remainder is None:
                    low, high = span
                else:
                    low, high = _value_interval(n, hidden, int(p), remainder, span)
                ok = (high - low) >= width_needed if math.isfinite(width_needed) else (
                    math.isinf(high - low))
                out.append(ValueInterval(groups[p], col, float(vals[p]), float(low), float(high),
                                         bool(primary[p]), bool(ok) if primary[p] else None))
        return out

    def count_intervals() -> list[ValueInterval]:
        if not suppress_counts:
            return []
        if total_row is None or hide_total:
            return [ValueInterval(groups[p], count_column, float(n[p]), 1.0, math.inf, True,
                                  True) for p in np.flatnonzero(hidden & primary)]
        rest = float(counts.loc[total_row]) - float(n[~hidden].sum())
        m = int(hidden.sum())
        high = rest - (m - 1)
        return [ValueInterval(groups[p], count_column, float(n[p]), 1.0 if m > 1 else high,
                              high, True, high >= k and high - (1.0 if m > 1 else high) >= k - 1)
                for p in np.flatnonzero(hidden & primary)]

    result = intervals() + count_intervals()
    while any(v.primary and not v.protected for v in result):
        if order:
            hidden[order.pop(0)] = True
        elif not hide_total:
            hide_total = True
        else:  # with the total hidden nothing links the groups
            break
        result = intervals() + count_intervals()

    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    reasons = pd.Series("", index=frame.index, dtype=object)
    rows_hidden = [groups[i] for i in np.flatnonzero(hidden)]
    if hide_total:
        rows_hidden.append(total_row)
    for row in rows_hidden:
        mask.loc[row, list(value_columns)] = True
        if suppress_counts:
            mask.loc[row, count_column] = True
    for i in np.flatnonzero(hidden):
        reasons[groups[i]] = (f"primary: {int(n[i])} < {k}" if primary[i] else "complementary")
    if hide_total:
        reasons[total_row] = "complementary"
    published = frame.copy()
    for col in frame.columns:
        if mask[col].any():
            kind = "Int64" if col == count_column else "Float64"
            published[col] = pd.to_numeric(frame[col]).astype(kind).mask(mask[col])
    return SuppressedStatistics(published, mask, reasons, result, int(k), total_row)
