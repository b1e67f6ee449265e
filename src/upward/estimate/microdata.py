"""Weighted estimates from survey microdata with replicate weights, written once through Ibis.

One expression per estimator computes the full-sample estimate and the 80 replicate estimates
in a single pass over the records, on whatever Ibis backend holds the table: DuckDB (the
default) or Spark (:mod:`upward.estimate.engines`). The variance is the successive-difference
replication formula of :mod:`upward.estimate.sdr`, centred on the full-sample estimate.

Estimators
----------
``total``       Σ w·y
``mean``        Σ w·y / Σ w
``proportion``  Σ w·[y true] / Σ w (y a boolean expression or 0/1 column)
``ratio``       Σ w·y / Σ w·x
``quantile``    the weighted quantile ``min{y : F(y) ≥ q}``, F the weighted distribution
                function (the "lower" inverse; for each replicate with its own weights)

Every row of the result carries ``estimate, se, lb, ub`` (95%, normal), ``cv`` (se ÷ |estimate|),
``n`` (unweighted records), ``n_eff`` (Kish: (Σw)² / Σw²) and ``n_alloc`` (Σ factor: the
records' share in the geography). An optional ``factor`` column multiplies every weight (the
PUMA → geography allocation factor).

Examples
--------
>>> import ibis, pandas as pd
>>> df = pd.DataFrame({"g": ["a", "a", "b"], "y": [1.0, 3.0, 5.0], "W": [1.0, 1.0, 2.0],
...                    **{f"W{r}": [1.0, 1.0, 2.0] for r in range(1, 81)}})
>>> est = estimate(ibis.memtable(df), Statistic("mean", "y"), by=["g"], weight="W")
>>> est[["g", "estimate", "se", "n"]].to_dict("records")
[{'g': 'a', 'estimate': 2.0, 'se': 0.0, 'n': 2}, {'g': 'b', 'estimate': 5.0, 'se': 0.0, 'n': 1}]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis import _
from ibis.expr.types import Table, Value

from upward.core.errors import ConfigError
from upward.estimate.quantiles import replicate_quantiles
from upward.estimate.sdr import N_REPLICATES, sdr_se

KINDS = ("total", "mean", "proportion", "ratio", "quantile")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Statistic:
    """What to estimate: a kind, the variable, and for ratios the denominator, for quantiles q.

    ``variable`` and ``denominator`` are column names, or Ibis expressions built with
    ``ibis._`` (a deferred expression such as ``_.ESR.isin([1, 2])``).

    Examples
    --------
    >>> Statistic("quantile", "HINCP", q=0.5).label
    'quantile(HINCP, 0.5)'
    >>> Statistic("quantile", "HINCP", q=1.5)
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: quantile q=1.5 is outside (0, 1). What to do: give a probability strictly between 0 and 1, e.g. 0.5 for the median
    """

    kind: str
    variable: object = None
    denominator: object = None
    q: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown estimator {self.kind!r}", fix=f"use one of {', '.join(KINDS)}")
        if self.kind == "quantile" and (self.q is None or not 0.0 < float(self.q) < 1.0):
            raise ConfigError(f"quantile q={self.q} is outside (0, 1)",
                              fix="give a probability strictly between 0 and 1, e.g. 0.5 "
                              "for the median")
        if self.kind == "ratio" and self.denominator is None:
            raise ConfigError("a ratio needs a denominator", fix="pass denominator=COLUMN")
        if self.kind != "total" and self.variable is None:
            raise ConfigError(f"{self.kind} needs a variable", fix="pass variable=COLUMN")

    @property
    def label(self) -> str:
        """A readable name of the statistic.

        >>> Statistic("ratio", "a", "b").label
        'ratio(a, b)'
        """
        if self.name:
            return self.name
        v = self.variable if isinstance(self.variable, str) else "expr"
        if self.kind == "ratio":
            d = self.denominator if isinstance(self.denominator, str) else "expr"
            return f"ratio({v}, {d})"
        if self.kind == "quantile":
            return f"quantile({v}, {self.q:g})"
        return f"{self.kind}({v})"


def replicate_columns(prefix: str, n: int = N_REPLICATES) -> list[str]:
    """The replicate weight column names ``prefix1 … prefixN``.

    >>> replicate_columns("PWGTP")[:2], len(replicate_columns("PWGTP"))
    (['PWGTP1', 'PWGTP2'], 80)
    """
    return [f"{prefix}{r}" for r in range(1, n + 1)]


def _resolve(table: Table, value: object) -> Value:
    if isinstance(value, str):
        return table[value]
    if isinstance(value, int | float):
        return ibis.literal(float(value))
    return value.resolve(table) if hasattr(value, "resolve") else table.bind(value)[0]


def check_columns(table: Table, columns: Sequence[str], *, what: str, where: str = "the data") -> None:
    """Raise a :class:`ConfigError` naming the first column of ``columns`` that ``table`` lacks.

    >>> check_columns(ibis.table({"a": "int64"}, name="t"), ["b"], what="grouping column")
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: grouping column 'b' is not a column of the data. What to do: use one of: a
    """
    have = set(table.columns)
    for c in columns:
        if c not in have:
            listing = ", ".join(sorted(have)[:40])
            raise ConfigError(f"{what} {c!r} is not a column of {where}", fix=f"use one of: {listing}")


def estimate(
    table: Table,
    statistic: Statistic,
    *,
    by: Sequence[str] = (),
    weight: str = "PWGTP",
    replicate_prefix: str | None = None,
    n_replicates: int = N_REPLICATES,
    factor: str | None = None,
    where: object = None,
    backend: object = None,
) -> pd.DataFrame:
    """Estimate ``statistic`` by the ``by`` columns, with SDR standard errors.

    Parameters
    ----------
    table : ibis Table
        Records with the full-sample weight ``weight`` and replicates ``{prefix}1…{prefix}80``.
    statistic : Statistic
    by : column names to group by (none: one row for everything).
    weight, replicate_prefix : the full-sample weight and the replicate prefix (default: weight).
    factor : optional column multiplying every weight (allocation factor).
    where : optional boolean expression (column name or ``ibis._`` expression) selecting rows.
    backend : the Ibis backend to execute on (default: the table's own, or DuckDB for memtables).

    Returns
    -------
    pandas.DataFrame
        ``by…, estimate, se, lb, ub, cv, n, n_eff``, sorted by ``by``.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "W": [1.0] * 4,
    ...                    **{f"W{r}": [1.0, 1.0, 1.0, 1.0 + (r % 2)] for r in range(1, 81)}})
    >>> r = estimate(ibis.memtable(df), Statistic("total", "y"), weight="W")
    >>> float(r.estimate[0]), round(float(r.se[0]), 4)  # √(4/80 · 40 · 4²)
    (10.0, 5.6569)
    """
    prefix = replicate_prefix or weight
    reps = replicate_columns(prefix, n_replicates)
    by = list(by)
    check_columns(table, by, what="grouping column")
    check_columns(table, [weight, *reps, *([factor] if factor else [])], what="weight column")
    if where is not None:
        table = table.filter(_resolve(table, where))
    weights = [weight, *reps]
    if statistic.kind == "quantile":
        out = _quantile(table, statistic, by, weights, factor, backend)
    elif statistic.kind == "proportion":
        out = _execute(_proportion(table, statistic, by, weights, factor), backend)
    else:
        w = _weigher(table, factor)
        y = _numerator(table, statistic)
        x = _denominator(table, statistic)
        aggs = _base(table, weight, factor)
        for i, col in enumerate(weights):
            aggs[f"_t{i}"] = (w(col) * y if y is not None else w(col)).sum()
            if statistic.kind in ("mean", "ratio"):
                aggs[f"_d{i}"] = (w(col) * x if x is not None else w(col)).sum()
        expr = table.group_by(by).aggregate(**aggs) if by else table.aggregate(**aggs)
        out = _execute(expr, backend)
    if by:
        out = out.sort_values(by, kind="stable").reset_index(drop=True)
    return _finish(out, statistic, by, len(weights))


def _weigher(table: Table, factor: str | None):
    """A function from a weight column's name to the weight (times the factor, if any)."""
    f = table[factor].cast("float64") if factor else None

    def w(col: str) -> Value:
        v = table[col].cast("float64")
        return v * f if f is not None else v

    return w


def _base(table: Table, weight: str, factor: str | None) -> dict[str, Value]:
    """Records, Σ w, Σ w² and Σ factor of the full-sample weight."""
    w = _weigher(table, factor)(weight)
    return {"_n": table.count(), "_sw": w.sum(), "_sw2": (w * w).sum(),
            "_sf": table[factor].cast("float64").sum() if factor
            else table.count().cast("float64")}


def _numerator(table: Table, s: Statistic) -> Value | None:
    """The variable multiplying the weights in the numerator (None: the weights alone)."""
    if s.variable is None:
        return None
    return _resolve(table, s.variable).cast("float64")


def _denominator(table: Table, s: Statistic) -> Value | None:
    """The variable multiplying the weights in the denominator (None: the weights alone)."""
    if s.kind == "ratio":
        return _resolve(table, s.denominator).cast("float64")
    return None


def _proportion(table: Table, s: Statistic, by: list[str], weights: list[str],
                factor: str | None) -> Table:
    """Σ w over the records where the variable holds and over all, for every weight column.

    The records are grouped by the variable as well, so each weight column is summed once
    (rather than summed twice, once multiplied by a 0/1 column); an outer aggregation over
    those few rows adds them up. A record whose variable is null counts in the denominator
    only, as it does in ``Σ w · [y true] / Σ w``."""
    t = table.mutate(_yes=_resolve(table, s.variable).cast("bool"))
    w = _weigher(t, factor)
    inner = t.group_by([*by, "_yes"]).aggregate(
        **_base(t, weights[0], factor), **{f"_d{i}": w(c).sum() for i, c in enumerate(weights)})
    aggs = {"_n": inner["_n"].sum().fill_null(0), "_sw": inner["_sw"].sum(),
            "_sw2": inner["_sw2"].sum(), "_sf": inner["_sf"].sum()}
    for i in range(len(weights)):
        d = inner[f"_d{i}"]
        aggs[f"_t{i}"] = d.sum(where=inner["_yes"]).fill_null(0.0)
        aggs[f"_d{i}"] = d.sum()
    return inner.group_by(by).aggregate(**aggs) if by else inner.aggregate(**aggs)


def _quantile(table: Table, s: Statistic, by: list[str], weights: list[str],
              factor: str | None, backend: object) -> pd.DataFrame:
    y = _resolve(table, s.variable).cast("float64")
    w = _weigher(table, factor)
    cols = {"_y": y, "_f": table[factor].cast("float64") if factor else ibis.literal(1.0)}
    cols.update({f"_w{i}": w(col) for i, col in enumerate(weights)})
    t = table.select(*by, **cols).filter(_["_y"].notnull())
    return replicate_quantiles(t, by, len(weights), float(s.q),
                               lambda expr: _execute_arrow(expr, backend))


def _execute(expr: Table, backend: object) -> pd.DataFrame:
    """Run ``expr`` and return pandas through Arrow (much quicker than Ibis's per-column
    pandas conversion for the ~160 columns of a replicate aggregation)."""
    return _execute_arrow(expr, backend).to_pandas()


def _execute_arrow(expr: Table, backend: object) -> pa.Table:
    if backend is None:
        try:
            return expr.to_pyarrow()
        except Exception as exc:  # memtables without a bound backend run on DuckDB
            if "backend" not in str(exc).lower():
                raise
            from upward.estimate.engines import connect

            backend = connect("duckdb")
    return backend.to_pyarrow(expr)


def _finish(out: pd.DataFrame, s: Statistic, by: list[str], k: int) -> pd.DataFrame:
    if s.kind == "quantile":
        theta = out[[f"_q{i}" for i in range(k)]].to_numpy(dtype=float)
    else:
        num = out[[f"_t{i}" for i in range(k)]].to_numpy(dtype=float)
        if s.kind == "total":
            theta = num
        else:
            den = out[[f"_d{i}" for i in range(k)]].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                theta = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    est = theta[:, 0]
    se = sdr_se(est, theta[:, 1:])
    sw = out["_sw"].to_numpy(dtype=float)
    sw2 = out["_sw2"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est != 0, se / np.abs(est), np.nan)
        n_eff = np.where(sw2 > 0, sw * sw / sw2, 0.0)
    result = out[by].copy() if by else pd.DataFrame(index=range(len(out)))
    result["statistic"] = s.label
    result["estimate"] = est
    result["se"] = se
    result["lb"] = est - Z95 * se
    result["ub"] = est + Z95 * se
    result["cv"] = cv
    result["n"] = out["_n"].astype("int64").to_numpy()
    result["n_eff"] = n_eff
    result["n_alloc"] = out["_sf"].to_numpy(dtype=float)
    return result.reset_index(drop=True)
