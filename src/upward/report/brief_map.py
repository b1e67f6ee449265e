"""The briefing's map: the city's census tracts coloured by its largest barrier, drawn offline as
inline SVG (``upward.report.charts.choropleth`` → ``upward.report.svg``), with the city's
outline, hatched tracts without an estimate, a legend in the measure's units, and darker meaning
worse, as on the other maps.

A barrier is measured for the whole city (Urban Institute's place values); few of them are
published by tract. The map shows, in order of preference: the largest barrier itself where
its tracts have values; else the American Community Survey measure of the same thing
(``TRACT_STAND_INS``: median household income for an income percentile, the unemployment rate
for the employment rate …), computed for each tract from the loaded replicate tables or tract
estimates; else the Opportunity Atlas outcome of children from low-income families, the outcome
every barrier is read against. The caption says which, and why.

Examples
--------
>>> TRACT_STAND_INS["share_employed"]
'acs_unemployment_rate'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from upward.metrics import get_metric
from upward.report.i18n import gettext as _
from upward.warehouse.store import Warehouse

#: A barrier measured only for the whole city → the ACS tract measure of the same thing.
TRACT_STAND_INS = {
    "pctl_income_20": "acs_median_household_income",
    "pctl_income_50": "acs_median_household_income",
    "pctl_income_80": "acs_median_household_income",
    "share_employed": "acs_unemployment_rate",
    "share_digital_access": "acs_broadband",
    "share_poverty_exposure": "acs_poverty_rate",
    "share_affordable_30_ami": "acs_rent_burden",
    "share_affordable_available_30_ami": "acs_rent_burden",
}
#: Half of the city's tracts at least must have a value for a measure to be mapped.
MIN_COVERAGE = 0.5
#: Size of the briefing's map in SVG units (about CSS pixels: one column of the page), the
#: map's height at most; the legend is under it.
WIDTH, HEIGHT = 360, 220


@dataclass(frozen=True)
class BriefMap:
    """The map's SVG and the sentence under it.

    >>> BriefMap("<svg/>", "Darker tracts are worse.", "kfr_pooled_pooled_p25").metric_id
    'kfr_pooled_pooled_p25'
    """

    svg: str
    caption: str
    metric_id: str


def _acs_tract_values(workspace, metric_id: str, tracts: list[str]) -> pd.Series | None:
    """Each tract's value of an ACS recipe measure (replicate tables, else tract estimates)."""
    from upward.estimate.aggregate import Recipe, exact_estimate
    from upward.measure.areas import _approx_from_obs, _tract_cells
    from upward.warehouse.replicates import load_replicates

    m = get_metric(metric_id)
    recipe = Recipe.from_dict(m.recipe, m.id)
    tables = load_replicates(workspace, [recipe.table])
    cells = None if recipe.table in tables else _tract_cells(workspace, recipe)
    if recipe.table not in tables and cells is None:
        return None
    exact = recipe.table in tables
    held = set(tables[recipe.table].cells["geo_id"] if exact else cells["geo_id"])
    out = {}
    for t in (t for t in tracts if t in held):
        est = (exact_estimate(recipe, tables, {t: 1.0}).estimate if exact else
               _approx_from_obs(recipe, cells, {t: 1.0}, m.label).estimate)
        if math.isfinite(est):
            out[t] = est
    return pd.Series(out, dtype=float)


def _coverage(values: pd.Series | None, tracts: list[str]) -> float:
    return 0.0 if values is None or not tracts else values.reindex(tracts).notna().mean()


def brief_map(wh: Warehouse, geo, barrier_ids: list[str], workspace=None) -> BriefMap | None:
    """The map of ``geo``'s tracts for the first of ``barrier_ids`` that can be mapped (see the
    module), or None when no tract has a shape."""
    from upward.measure.series import DEFAULT_MAP_METRIC, MAP_METRICS, tract_map
    from upward.report import charts
    from upward.report.svg import figure_svg

    base = tract_map(wh, geo.geo_id, geo.geo_level, DEFAULT_MAP_METRIC)
    if not base.has_geometry:
        return None
    tracts = list(base.values["geo_id"])
    chosen = None
    for mid in barrier_ids:
        if mid in MAP_METRICS:
            own = tract_map(wh, geo.geo_id, geo.geo_level, mid)
            if _coverage(own.values.set_index("geo_id")["estimate"], tracts) >= MIN_COVERAGE:
                chosen = (mid, own, None)
                break
        stand_in = TRACT_STAND_INS.get(mid)
        if stand_in and workspace is not None:
            values = _acs_tract_values(workspace, stand_in, tracts)
            if _coverage(values, tracts) >= MIN_COVERAGE:
                chosen = (mid, _with_values(base, stand_in, values), stand_in)
                break
    if chosen is None:
        barrier = barrier_ids[0] if barrier_ids else None
        tmap, shown = base, DEFAULT_MAP_METRIC
        caption = (_("No tract values are loaded for the largest barrier ({barrier}); the "
                     "map shows the outcome the barriers are read against.").format(
                         barrier=_(get_metric(barrier).label)) if barrier else "")
    else:
        barrier, tmap, stand_in = chosen
        shown = stand_in or barrier
        caption = (_("The largest barrier, {barrier}, is published for the whole city only; "
                     "the map shows the closest tract measure (American Community "
                     "Survey).").format(barrier=_lower(_(get_metric(barrier).label)))
                   if stand_in else "")
    metric = get_metric(shown)
    fig = charts.choropleth(tmap, _(metric.label), metric.unit)
    if metric.direction == "lower":  # darker is worse: high values dark
        fig.update_traces(reversescale=True, selector={"type": "choropleth"})
    fig.update_layout(height=HEIGHT, title={"text": ""}, margin={"t": 10, "b": 10})
    svg = figure_svg(fig, "brief-map", label=_(
        "Map of {metric} by census tract in {name}").format(metric=_(metric.label),
                                                            name=geo.name),
                     width=WIDTH, legend_below=True)
    darker = (_("Darker tracts are worse; hatched tracts have no estimate.")
              if tmap.values["estimate"].isna().any() else _("Darker tracts are worse."))
    return BriefMap(svg, " ".join(x for x in (caption, darker) if x), shown)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _with_values(base, metric_id: str, values: pd.Series):
    """``base`` (a tract map: shapes, names) with another measure's values."""
    v = base.values.copy()
    v["estimate"] = v["geo_id"].map(values).astype(float)
    v["quality"] = pd.array([pd.NA] * len(v), dtype="Int64")
    features = [{**f, "properties": {**f["properties"], "estimate": (
        None if pd.isna(values.get(f["id"])) else float(values.get(f["id"])))}}
        for f in base.geojson["features"]]
    return replace(base, metric=get_metric(metric_id), values=v,
                   geojson={**base.geojson, "features": features})


__all__ = ["TRACT_STAND_INS", "BriefMap", "brief_map"]
