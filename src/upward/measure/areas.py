"""A custom area's profile and barriers: ACS metrics with honest margins, compared with the
other areas of its set and with the whole set (the city, when the set covers it).

Each metric of the catalog that has a recipe is computed for the area from the workspace's
Variance Replicate Estimate tables when its table is loaded (exact SDR margins, covariances
included), otherwise from tract observations fetched with ``upward fetch acs`` (the ACS
handbook's approximations), otherwise listed as unavailable. The comparison with the city is the
area against the *rest* of the city (the city minus the area), so that the two are disjoint; with
replicates its SE is exact, from the replicate differences. Differences are tested two-sided and
the p-values adjusted for the number of metrics (Benjamini–Hochberg false discovery rate).

Examples
--------
>>> from upward.estimate.acs import AcsEstimate
>>> m = AreaMetric("acs_poverty_rate", "Poverty rate", "share", "lower", "percent",
...                AcsEstimate(0.2, 0.01, "exact"), None, {}, None, None, None, None)
>>> m.to_dict()["estimate"]["estimate"]
0.2
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from upward.core.errors import PlaceNotFoundError
from upward.estimate.acs import MOE_Z, AcsEstimate
from upward.estimate.aggregate import (
    EXACT,
    Recipe,
    approximate_from_cells,
    exact_estimate,
    replicate_values,
)
from upward.estimate.sdr import sdr_se
from upward.metrics import all_metrics
from upward.warehouse.areas import align_weights
from upward.warehouse.replicates import load_replicates
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

__all__ = ["AreaMetric", "AreaProfile", "area_profile", "find_area"]


@dataclass(frozen=True)
class AreaMetric:
    """One metric for an area: its estimate, the city's, the other areas', the difference.

    >>> from upward.estimate.acs import AcsEstimate
    >>> m = AreaMetric("acs_poverty_rate", "Poverty rate", "share", "lower", "percent",
    ...                AcsEstimate(0.25, 0.02, "exact"), AcsEstimate(0.18, 0.005, "exact"), {},
    ...                0.09, 0.012, 1e-12, 1e-11, True, True)
    >>> d = m.to_dict()
    >>> d["city"]["estimate"], d["difference"], d["behind"]
    (0.18, 0.09, True)
    """

    metric_id: str
    label: str
    unit: str
    direction: str
    format: str | None
    estimate: AcsEstimate
    city: AcsEstimate | None
    others: dict[str, float]
    difference: float | None
    difference_se: float | None
    p_value: float | None
    q_value: float | None
    significant: bool | None = None
    behind: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out = {k: getattr(self, k) for k in ("metric_id", "label", "unit", "direction",
                                             "format", "others", "difference", "difference_se",
                                             "p_value", "q_value", "significant", "behind")}
        out["estimate"] = self.estimate.to_dict()
        out["city"] = self.city.to_dict() if self.city else None
        return _clean(out)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.floating):
        return _clean(float(v))
    return v


@dataclass
class AreaProfile:
    """An area's ACS profile (``upward profile "District 3"``).

    >>> from upward.estimate.acs import AcsEstimate
    >>> m = AreaMetric("acs_poverty_rate", "Poverty rate", "share", "lower", "percent",
    ...                AcsEstimate(0.25, 0.02, "exact"), None, {}, None, None, None, None)
    >>> p = AreaProfile("d3", "District 3", "Council districts", 12, 10, 2, [m], [], 0.05)
    >>> p.display_rows()[0]["estimate"], p.display_rows()[0]["moe"]  # 90% MOE = 1.645 SE
    ('25.0%', '±3.3 pts')
    >>> p.to_markdown().splitlines()[0]
    '# District 3 (Council districts)'
    """

    area_id: str
    name: str
    set_name: str
    tracts: int
    tracts_full: int
    tracts_split: int
    metrics: list[AreaMetric]
    unavailable: list[str]
    alpha: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return _clean({"area_id": self.area_id, "name": self.name, "set": self.set_name,
                       "tracts": self.tracts, "tracts_full": self.tracts_full,
                       "tracts_split": self.tracts_split, "alpha": self.alpha,
                       "metrics": [m.to_dict() for m in self.metrics],
                       "unavailable": self.unavailable, "notes": self.notes})

    def to_json(self, indent: int | None = 2) -> str:
        """The profile as JSON."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: estimate, MOE, SE, CV, reliability, method, city, difference."""
        rows = []
        for m in self.metrics:
            e = m.estimate
            rows.append({"metric_id": m.metric_id, "label": m.label, "estimate": e.estimate,
                         "moe": e.moe, "se": e.se, "cv": e.cv, "reliability": e.reliability,
                         "method": e.method, "city": m.city.estimate if m.city else None,
                         "difference": m.difference, "difference_se": m.difference_se,
                         "p_value": m.p_value, "q_value": m.q_value,
                         "significant": m.significant, "behind": m.behind})
        return pd.DataFrame(rows)

    def to_csv(self) -> str:
        """The metric rows as CSV (margins kept)."""
        return self.to_frame().to_csv(index=False)

    def display_rows(self) -> list[dict[str, str]]:
        """One row of formatted text per metric, as every view shows it (terminal, Markdown,
        web): margins and differences in the metric's terms (shares in percentage points)."""
        return [{
            "label": m.label,
            "estimate": format_value(m.estimate.estimate, m.format),
            "moe": "±" + format_margin(m.estimate.moe, m.format),
            "cv": _pct(m.estimate.cv),
            "reliability": m.estimate.reliability,
            "city": format_value(m.city.estimate, m.format) if m.city else "",
            "difference": format_margin(m.difference, m.format, signed=True),
            "significant": ("behind" if m.behind else "yes") if m.significant else
            ("no" if m.significant is not None else ""),
            "method": "exact (replicates)" if m.estimate.method == EXACT else m.estimate.method,
        } for m in self.metrics]

    def to_markdown(self) -> str:
        """A short Markdown report."""
        lines = [f"# {self.name} ({self.set_name})", "",
                 f"{self.tracts} tracts ({self.tracts_full} wholly inside, "
                 f"{self.tracts_split} split).", "",
                 f"| metric | estimate | ± MOE (90%) | CV | reliability | all {self.set_name} | "
                 "vs the rest | significant | method |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['label']} | {r['estimate']} | {r['moe']} | {r['cv']} | "
                  f"{r['reliability']} | {r['city']} | {r['difference']} | {r['significant']} | "
                  f"{r['method']} |" for r in self.display_rows()]
        if self.unavailable:
            lines += ["", "Not computed (no table loaded): " + ", ".join(self.unavailable)]
        return "\n".join(lines + [""] + [f"- {n}" for n in self.notes]) + "\n"


def format_value(x: float | None, fmt: str | None) -> str:
    """A value as the area views show it: shares as percentages, dollars with a sign.

    >>> format_value(0.3104, "percent"), format_value(-1234.4, "dollars"), format_value(3.14159, None)
    ('31.0%', '-$1,234', '3.14')
    """
    if x is None or not math.isfinite(x):
        return ""
    if fmt == "percent":
        return f"{100 * x:.1f}%"
    if fmt == "dollars":
        return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.3g}"


def format_margin(x: float | None, fmt: str | None, *, signed: bool = False) -> str:
    """A margin or a difference in the metric's own terms: shares in percentage points.

    >>> format_margin(0.05, "percent", signed=True), format_margin(0.017, "percent")
    ('+5.0 pts', '1.7 pts')
    >>> format_margin(-9881.0, "dollars", signed=True), format_margin(812.0, "number", signed=True)
    ('−$9,881', '+812')
    """
    if x is None or not math.isfinite(x):
        return ""
    sign = ("+" if x > 0 else "−" if x < 0 else "") if signed else ("−" if x < 0 else "")
    size = abs(x)
    if fmt == "percent":
        return f"{sign}{100 * size:.1f} pts"
    if fmt == "dollars":
        return f"{sign}${size:,.0f}"
    return f"{sign}{size:,.0f}" if size >= 10 else f"{sign}{size:,.3g}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x is not None and math.isfinite(x) else ""


def find_area(workspace: Workspace, query: str) -> tuple[str, str, str] | None:
    """``(area_id, name, set title)`` of the stored area a query names, or None.

    >>> import tempfile, pathlib
    >>> find_area(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"), "District 3") is None
    True
    """
    if not workspace.warehouse_path.exists():
        return None
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        g = wh.frame(wh.table("geographies"))
        s = wh.sources()
    areas = g[g["geo_level"] == "area"].merge(s[["source_id", "title"]], on="source_id")
    q = query.strip()
    hit = areas[(areas["geo_id"] == q) | (areas["name"].str.lower() == q.lower())]
    if hit.empty:
        return None
    if len(hit) > 1:
        from upward.core.errors import AmbiguousPlaceError

        raise AmbiguousPlaceError(query, [f"{r.name} [{r.geo_id}]" for r in hit.itertuples()])
    r = hit.iloc[0]
    return r["geo_id"], r["name"], str(r["title"]).removeprefix("Custom areas: ")


def _weights(workspace: Workspace, area_id: str) -> tuple[dict, dict[str, dict], dict]:
    """The area's tract weights, every area of its set's, and the set's (the city's)."""
    set_key = area_id.split(":")[1]
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        c = wh.frame(wh.table("crosswalks"))
        g = wh.frame(wh.table("geographies"))
    names = dict(zip(g["geo_id"], g["name"], strict=False))
    c = c[c["to_geo_id"].str.startswith(f"area:{set_key}:")]
    by_area = {names.get(a, a): dict(zip(grp["from_geo_id"], grp["weight"], strict=True))
               for a, grp in c.groupby("to_geo_id")}
    city: dict[str, float] = {}
    for w in by_area.values():
        for t, x in w.items():
            city[t] = min(1.0, city.get(t, 0.0) + x)
    mine = dict(zip(c.loc[c["to_geo_id"] == area_id, "from_geo_id"],
                    c.loc[c["to_geo_id"] == area_id, "weight"], strict=True))
    return mine, by_area, city


def _table_tracts(workspace: Workspace, tables: dict) -> set[str]:
    """The tract GEOIDs the area's numbers will come from: the replicate tables', else the
    tract observations of ``upward fetch acs``."""
    present = {g for t in tables.values() for g in t.cells["geo_id"].unique() if len(g) == 11}
    if present:
        return present
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        o = wh.table("observations")
        acs = o.metric_id.re_search(r"^(b|c|s|dp)\d")
        ids = wh.frame(o.filter((o.geo_level == "tract") & acs).select("geo_id").distinct())
    return set(ids["geo_id"])


def _tract_cells(workspace: Workspace, recipe: Recipe) -> pd.DataFrame | None:
    """Tract observations of the recipe's variables (from ``upward fetch acs``), or None."""
    ids = [v.lower() for v in recipe.variables]
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        o = wh.table("observations")
        f = wh.frame(o.filter(o.metric_id.isin(ids) & (o.geo_level == "tract"))
                     .select("geo_id", "metric_id", "period", "estimate", "se"))
    if f.empty or set(f["metric_id"]) != set(ids):
        return None
    latest = f["period"].max()
    return f[f["period"] == latest]


def _approx_from_obs(recipe: Recipe, cells: pd.DataFrame, weights: dict, label: str
                     ) -> AcsEstimate:
    totals, moes = {}, {}
    for v in recipe.variables:
        sub = cells[cells["metric_id"] == v.lower()].set_index("geo_id")
        est = np.array([sub["estimate"].get(t, np.nan) for t in weights], dtype=float)
        se = np.array([sub["se"].get(t, np.nan) for t in weights], dtype=float)
        w = np.array(list(weights.values()), dtype=float)
        totals[v] = float(np.nansum(w * est))
        moes[v] = np.nan_to_num(w * se * MOE_Z)
    return approximate_from_cells(recipe, totals, moes, label=label)


def area_profile(workspace: Workspace, query: str, *, alpha: float = 0.05) -> AreaProfile:
    """Build the profile of the stored area that ``query`` names.

    >>> import tempfile, pathlib
    >>> area_profile(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"), "District 3")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: ...
    """
    from scipy.stats import norm
    from statsmodels.stats.multitest import multipletests

    found = find_area(workspace, query)
    if found is None:
        raise PlaceNotFoundError(f"no custom area is called {query!r}",
                                 fix="list the stored areas with: upward areas list")
    aid, name, set_name = found
    mine, by_area, city = _weights(workspace, aid)
    metrics = [m for m in all_metrics() if m.recipe]
    tables = load_replicates(workspace, sorted({m.recipe["table"].upper() for m in metrics}))
    out: list[AreaMetric] = []
    unavailable: list[str] = []
    notes: list[str] = []
    aligned, note = align_weights(workspace, {"mine": mine, "city": city,
                                              **{f"area:{n}": w for n, w in by_area.items()}},
                                  _table_tracts(workspace, tables))
    if note:
        notes.append(note)
    mine, city = aligned["mine"], aligned["city"]
    by_area = {n: aligned[f"area:{n}"] for n in by_area}
    rest = {t: city[t] - mine.get(t, 0.0) for t in city if city[t] - mine.get(t, 0.0) > 1e-9}
    for m in metrics:
        recipe = Recipe.from_dict(m.recipe, m.id)
        if recipe.table in tables:
            est = exact_estimate(recipe, tables, mine, label=m.label)
            city_est = exact_estimate(recipe, tables, city, label=m.label)
            others = {n: float(replicate_values(recipe, tables, w)[0])
                      for n, w in by_area.items() if n != name}
            diff = se = None
            if rest and recipe.kind != "sum":  # a count is not compared with the rest's
                d = replicate_values(recipe, tables, mine) - replicate_values(recipe, tables,
                                                                              rest)
                diff, se = float(d[0]), float(sdr_se(d[0], d[1:]))
        else:
            cells = _tract_cells(workspace, recipe)
            if cells is None:
                unavailable.append(m.id)
                continue
            est = _approx_from_obs(recipe, cells, mine, m.label)
            city_est = _approx_from_obs(recipe, cells, city, m.label)
            others = {n: _approx_from_obs(recipe, cells, w, m.label).estimate
                      for n, w in by_area.items() if n != name}
            diff = se = None
            if rest and recipe.kind != "sum":
                r = _approx_from_obs(recipe, cells, rest, m.label)
                diff = est.estimate - r.estimate
                se = math.hypot(est.se, r.se)  # disjoint areas, covariance ignored
        p = None
        if diff is not None and se and math.isfinite(se) and se > 0:
            p = float(2 * norm.sf(abs(diff) / se))
        out.append(AreaMetric(m.id, m.label, m.unit, m.direction, m.format, est, city_est,
                              others, diff, se, p, None))
    ps = [(i, a.p_value) for i, a in enumerate(out) if a.p_value is not None]
    if ps:
        reject, q, _, _ = multipletests([p for _, p in ps], alpha=alpha, method="fdr_bh")
        for (i, _), rj, qv in zip(ps, reject, q, strict=True):
            a = out[i]
            worse = (a.difference < 0) if a.direction == "higher" else (a.difference > 0) \
                if a.direction == "lower" else None
            out[i] = AreaMetric(**{**a.__dict__, "q_value": float(qv), "significant": bool(rj),
                                   "behind": bool(rj and worse) if worse is not None else None})
    if len(by_area) > 1:
        notes.append(f"compared with the rest of {set_name} (the {len(by_area)} areas' tracts "
                     f"minus {name}); p-values adjusted for {len(ps)} metrics "
                     f"(Benjamini–Hochberg, FDR {alpha:g})")
    n_full = sum(1 for w in mine.values() if w >= 1.0)
    return AreaProfile(aid, name, set_name, len(mine), n_full, len(mine) - n_full, out,
                       unavailable, alpha, notes)
