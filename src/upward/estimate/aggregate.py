"""ACS estimates for any area from tract (or block-group) tables, with honest margins.

An area is a set of tracts with weights (1 for a tract wholly inside, its share for a split
one). A *recipe* says how a metric is built from a table's cells:

- ``sum``: Σ numerator cells (a count: children in poverty)
- ``proportion``: Σ numerator / Σ denominator, the numerator a subset (poverty rate)
- ``ratio``: the same without the subset relation (a mean: aggregate income / households)
- ``median``: interpolated median of a distribution table's cells, given interval bounds

A term may be subtracted by writing it ``-B25070_011``.

:func:`exact_estimate` computes the statistic on the full-sample estimates and on each of the
80 replicate estimates of the Variance Replicate Estimate tables, and takes the SDR standard
error (:func:`upward.estimate.sdr.sdr_se`): covariances between cells and between tracts are
included, and medians get a margin. :func:`approximate_estimate` applies the ACS handbook's
formulas to the same published MOEs, for comparison or where no replicate table exists.

Examples
--------
>>> r = Recipe.from_dict({"table": "B17020", "kind": "proportion",
...     "numerator": ["B17020_002"], "denominator": ["B17020_001"]})
>>> r.variables
['B17020_001', 'B17020_002']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError
from upward.estimate.acs import (
    MOE_Z,
    AcsEstimate,
    approx_proportion,
    approx_ratio,
    interpolated_median,
    moe_sum,
)
from upward.estimate.sdr import N_REPLICATES, sdr_se
from upward.sources.replicates import ReplicateTable

__all__ = ["KINDS", "Recipe", "aggregate_tables", "approximate_estimate",
           "approximate_from_cells", "area_cells", "exact_estimate", "replicate_values"]

KINDS = ("sum", "proportion", "ratio", "median")
EXACT = f"exact: successive-difference replication over the {N_REPLICATES} replicate estimates"


@dataclass(frozen=True)
class Recipe:
    """How a metric is computed from ACS cells (see the module docstring)."""

    table: str
    kind: str
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    distribution: tuple[str, ...] = ()
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    scale: float = 1.0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "recipe") -> Recipe:
        """Build and check a recipe from its catalog form.

        >>> Recipe.from_dict({"table": "X", "kind": "mean"})
        Traceback (most recent call last):
        ...
        upward.core.errors.ConfigError: recipe: kind 'mean' is not one of sum, proportion, ratio, median
        """
        kind = d.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        table = str(d.get("table", "")).upper()
        r = cls(table=table, kind=kind, numerator=tuple(d.get("numerator", ())),
                denominator=tuple(d.get("denominator", ())),
                distribution=tuple(d.get("distribution", ())),
                lower=tuple(float(x) for x in d.get("lower", ())),
                upper=tuple(float(x) for x in d.get("upper", ())),
                scale=float(d.get("scale", 1.0)))
        for term in (*r.numerator, *r.denominator, *r.distribution):
            if not term.lstrip("-").upper().startswith(table + "_"):
                raise ConfigError(f"{where}: term {term!r} is not a cell of table {table}")
        if kind in ("sum", "proportion", "ratio") and not r.numerator:
            raise ConfigError(f"{where}: a {kind} needs numerator cells")
        if kind in ("proportion", "ratio") and not r.denominator:
            raise ConfigError(f"{where}: a {kind} needs denominator cells")
        if kind == "median" and not (len(r.distribution) == len(r.lower) == len(r.upper) > 0):
            raise ConfigError(f"{where}: a median needs distribution cells and as many lower "
                              "and upper interval bounds")
        return r

    @property
    def variables(self) -> list[str]:
        """Every cell the recipe reads, sorted."""
        return sorted({t.lstrip("-").upper()
                       for t in (*self.numerator, *self.denominator, *self.distribution)})

    def _combine(self, terms: Sequence[str], cells: Mapping[str, np.ndarray]) -> np.ndarray:
        total = 0.0
        for t in terms:
            sign = -1.0 if t.startswith("-") else 1.0
            total = total + sign * cells[t.lstrip("-").upper()]
        return np.asarray(total, dtype=float)

    def evaluate(self, cells: Mapping[str, np.ndarray]) -> np.ndarray:
        """The statistic from cell values (each an array: estimate, then replicates).

        >>> r = Recipe.from_dict({"table": "T", "kind": "proportion", "numerator": ["T_002"],
        ...                       "denominator": ["T_001"]})
        >>> r.evaluate({"T_001": np.array([10.0, 20.0]), "T_002": np.array([5.0, 5.0])}).tolist()
        [0.5, 0.25]
        """
        if self.kind == "median":
            counts = np.stack([cells[v.upper()] for v in self.distribution], axis=-1)
            return np.asarray(interpolated_median(self.lower, self.upper, counts)) * self.scale
        num = self._combine(self.numerator, cells)
        if self.kind == "sum":
            return num * self.scale
        den = self._combine(self.denominator, cells)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den != 0, num / den, np.nan) * self.scale


def area_cells(tables: Mapping[str, ReplicateTable], weights: Mapping[str, float],
               variables: Sequence[str], *, with_moe: bool = True,
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]]:
    """Weighted sums over an area's tracts of each cell: estimate + 80 replicates, and MOEs.

    Returns ``(sums, moes, missing)``: ``sums[v]`` has shape ``(81,)``; ``moes[v]`` is the
    per-tract weighted MOE vector (for the approximations; empty without ``with_moe``);
    ``missing`` lists tracts of the area absent from a replicate table (they count as zero
    and are reported).
    """
    geo_ids = sorted(weights)
    w = np.array([weights[g] for g in geo_ids], dtype=float)
    sums: dict[str, np.ndarray] = {}
    moes: dict[str, np.ndarray] = {}
    missing: set[str] = set()
    by_table: dict[str, list[str]] = {}
    for v in variables:
        by_table.setdefault(v.split("_")[0], []).append(v)
    for table, wanted in by_table.items():
        if table not in tables:
            raise ConfigError(f"no replicate table {table} is loaded for {wanted[0]}",
                              fix=f"load {table}'s Variance Replicate Estimate file "
                              "(upward fetch replicates)")
        t = tables[table]
        cube, names, present = t.cube(geo_ids)
        missing.update(g for g, p in zip(geo_ids, present, strict=True) if not p)
        index = {n: i for i, n in enumerate(names)}
        for v in wanted:
            if v not in index:
                raise ConfigError(f"{v} is not in the replicate table {table} ({t.path})",
                                  fix="check the recipe's line numbers")
            sums[v] = w @ cube[:, index[v], :]
            if with_moe:
                moe_col = _moe_vector(t, v, geo_ids)
                moes[v] = w * np.where(np.isnan(moe_col), 0.0, moe_col)
    return sums, moes, sorted(missing)


def _moe_vector(t: ReplicateTable, variable: str, geo_ids: Sequence[str]) -> np.ndarray:
    sub = t.cells[t.cells["variable"] == variable]
    by_geo = dict(zip(sub["geo_id"], sub["moe"], strict=True))
    return np.array([by_geo.get(g, np.nan) for g in geo_ids], dtype=float)


def exact_estimate(recipe: Recipe, tables: Mapping[str, ReplicateTable],
                   weights: Mapping[str, float], *, label: str = "") -> AcsEstimate:
    """The recipe's value for an area and its exact SE from the replicate estimates.

    >>> import pandas as pd
    >>> cells = pd.DataFrame({"geo_id": ["1", "1"], "variable": ["T_001", "T_002"],
    ...                       "estimate": [100.0, 20.0], "moe": [10.0, 5.0]})
    >>> reps = np.vstack([np.r_[[102.0] * 40, [98.0] * 40], np.full(80, 20.0)])
    >>> t = ReplicateTable("T", cells, reps, "f")
    >>> r = Recipe.from_dict({"table": "T", "kind": "sum", "numerator": ["T_001"]})
    >>> e = exact_estimate(r, {"T": t}, {"1": 1.0})
    >>> e.estimate, e.se
    (100.0, 4.0)
    """
    sums, _, missing = area_cells(tables, weights, recipe.variables, with_moe=False)
    values = recipe.evaluate(sums)
    se = float(sdr_se(values[0], values[1:]))
    warnings = []
    if missing:
        warnings.append(f"{len(missing)} tract(s) of the area are not in the replicate tables "
                        f"and count as zero: {', '.join(missing[:5])}")
    if np.isnan(values[1:]).any() and not np.isnan(values[0]):
        warnings.append("the statistic is undefined on some replicates (a zero denominator or "
                        "a median in an open-ended interval); its SE is missing")
    return AcsEstimate(float(values[0]), se, EXACT, label, tuple(warnings))


def replicate_values(recipe: Recipe, tables: Mapping[str, ReplicateTable],
                     weights: Mapping[str, float]) -> np.ndarray:
    """The statistic on the full sample and each replicate: shape ``(81,)``.

    Differences between areas (a district minus the rest of the city) take their exact SE from
    the difference of these vectors.
    """
    sums, _, _ = area_cells(tables, weights, recipe.variables, with_moe=False)
    return recipe.evaluate(sums)


def approximate_estimate(recipe: Recipe, tables: Mapping[str, ReplicateTable],
                         weights: Mapping[str, float], *, label: str = "") -> AcsEstimate:
    """The same value with the ACS handbook's approximate SE from the replicate tables'
    published MOEs (no covariances). Medians have no approximation: SE NaN with a warning.
    """
    sums, moes, _ = area_cells(tables, weights, recipe.variables)
    return approximate_from_cells(recipe, {k: v[0] for k, v in sums.items()}, moes, label=label)


def approximate_from_cells(recipe: Recipe, totals: Mapping[str, float],
                           moes: Mapping[str, np.ndarray], *, label: str = "") -> AcsEstimate:
    """Handbook approximation from an area's cell totals and the weighted per-tract MOEs of
    each cell (``moes[v]``: one weighted MOE per tract).

    >>> r = Recipe.from_dict({"table": "T", "kind": "sum", "numerator": ["T_001"]})
    >>> e = approximate_from_cells(r, {"T_001": 30.0}, {"T_001": np.array([3.0, 4.0])})
    >>> e.estimate, round(e.moe, 6)
    (30.0, 5.0)
    """
    estimate = float(recipe.evaluate({k: np.asarray([v], dtype=float)
                                      for k, v in totals.items()})[0])
    if recipe.kind == "median":
        return AcsEstimate(estimate, float("nan"), "no approximation for a median of an "
                           "aggregate", label, ("an aggregated median's margin needs the "
                                                "replicate tables",))

    def total(terms: Sequence[str]) -> tuple[float, float]:
        est = sum((-1.0 if t.startswith("-") else 1.0) * totals[t.lstrip("-").upper()]
                  for t in terms)
        moe = moe_sum(np.concatenate([np.atleast_1d(moes[t.lstrip("-").upper()])
                                      for t in terms]))
        return float(est), moe

    x, moe_x = total(recipe.numerator)
    if recipe.kind == "sum":
        return AcsEstimate(x * recipe.scale, moe_x / MOE_Z * abs(recipe.scale),
                           "approximation: sum, √ΣMOE² (ACS handbook ch. 8)", label)
    y, moe_y = total(recipe.denominator)
    if y == 0:
        return AcsEstimate(float("nan"), float("nan"), "undefined: zero denominator", label)
    make = approx_proportion if recipe.kind == "proportion" else approx_ratio
    e = make(x, y, moe_x, moe_y, label=label)
    return AcsEstimate(e.estimate * recipe.scale, e.se * abs(recipe.scale), e.method, label,
                       e.warnings)


def aggregate_tables(tables: Mapping[str, ReplicateTable], weights: Mapping[str, float]
                     ) -> pd.DataFrame:
    """Every cell of every table summed over an area, with exact SDR margins.

    Returns ``table, variable, estimate, se, moe, cv, reliability, method, missing_tracts``,
    one row per cell (the area's count of that cell).

    >>> import pandas as pd
    >>> cells = pd.DataFrame({"geo_id": ["1", "2"], "variable": ["T_001", "T_001"],
    ...                       "estimate": [10.0, 20.0], "moe": [1.0, 1.0]})
    >>> reps = np.vstack([np.r_[[11.0] * 40, [9.0] * 40], np.full(80, 20.0)])
    >>> out = aggregate_tables({"T": ReplicateTable("T", cells, reps, "f")}, {"1": 1, "2": 0.5})
    >>> out[["variable", "estimate", "se"]].values.tolist()
    [['T_001', 20.0, 2.0]]
    """
    frames = []
    geo_ids = list(weights)
    w = np.fromiter(weights.values(), dtype=float, count=len(geo_ids))
    for name, t in tables.items():
        cube, variables, present = t.cube(geo_ids)
        sums = np.einsum("g,gcr->cr", w, cube)  # (cells, 81)
        se = sdr_se(sums[:, 0], sums[:, 1:])
        est = sums[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(est != 0, se / np.abs(est), np.nan)
        frames.append(pd.DataFrame({
            "table": name, "variable": variables, "estimate": est, "se": se,
            "moe": MOE_Z * se, "cv": cv,
            "reliability": np.select([cv <= 0.15, cv <= 0.30, cv > 0.30],
                                     ["reliable", "use with caution", "unreliable"], "unknown"),
            "method": EXACT, "missing_tracts": int((~present).sum())}))
    if not frames:
        return pd.DataFrame(columns=["table", "variable", "estimate", "se", "moe", "cv",
                                     "reliability", "method", "missing_tracts"])
    return pd.concat(frames, ignore_index=True)
