"""Spending beside the mobility map: ``/places/{geo_id}/spending`` (the place's tracts coloured
by dollars per resident from the synced city feeds, a table with the chosen mobility metric in
the next column, the records that could not be placed, and cost per participant and outcome by
program) and its JSON ``/api/places/{geo_id}/spending``.

Examples
--------
>>> sorted(r.path for r in router.routes)
['/api/places/{geo_id}/spending', '/places/{geo_id}/spending']
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from upward.report.i18n import gettext as _
from upward.web.api import data_of, map_metric
from upward.web.templating import render

router = APIRouter()


def _spending(request: Request, geo_id: str, metric: str) -> dict:
    from upward.measure.spending import program_costs, spending_by_tract, spending_summary

    data = data_of(request)
    geo = data.place(geo_id)
    chosen = map_metric(metric)
    tract_map = data.tract_map(geo, chosen.id)
    ws = request.app.state.workspace
    tracts = list(tract_map.values["geo_id"]) if tract_map.n_tracts else []
    table = spending_by_tract(ws, metric_id=chosen.id, tracts=tracts)
    names = dict(zip(tract_map.values.get("geo_id", []), tract_map.values.get("name", []),
                     strict=False))
    rows = table.rows.assign(name=table.rows["geo_id"].map(names))
    summary = spending_summary(ws)
    return {"geo": geo, "metric": chosen, "tract_map": tract_map, "rows": rows,
            "notes": table.notes, "unplaced": summary[~summary["placed"]] if len(summary)
            else summary, "programs": program_costs(ws).rows}


@router.get("/api/places/{geo_id}/spending", tags=["api"],
            summary="Dollars per resident in a place's tracts, beside a mobility metric")
def api_spending(request: Request, geo_id: str,
                 metric: Annotated[str, Query(description="A tract metric")] = "kfr_dollars_p25"
                 ) -> JSONResponse:
    """Each tract's dollars, records, residents and dollars per resident from the synced feeds,
    with the metric's value; the unplaced records by feed and reason; programs' unit costs."""
    s = _spending(request, geo_id, metric)
    clean = s["rows"].astype(object).where(s["rows"].notna(), None)
    return JSONResponse({"geo_id": s["geo"].geo_id, "metric": s["metric"].id,
                         "tracts": clean.to_dict(orient="records"), "notes": s["notes"],
                         "unplaced": s["unplaced"].astype(object).to_dict(orient="records"),
                         "programs": s["programs"].astype(object).where(
                             s["programs"].notna(), None).to_dict(orient="records")})


@router.get("/places/{geo_id}/spending", include_in_schema=False)
def spending_page(request: Request, geo_id: str,
                  metric: Annotated[str, Query(description="A tract metric")] = "kfr_dollars_p25"):
    """The spending map and table of a place."""
    from upward.measure.series import MAP_METRICS
    from upward.report.charts import choropleth, figure_div
    from upward.web.pages import PLACE_SECTIONS, _place_context

    s = _spending(request, geo_id, metric)
    data = data_of(request)
    figure = None
    tm = s["tract_map"]
    rows = s["rows"]
    placed = rows[rows["records"] > 0]
    has_pop = rows["residents"].notna().any()
    if tm.has_geometry and len(placed):
        column = "dollars_per_resident" if has_pop else "dollars"
        values = tm.values.drop(columns=["estimate"]).merge(
            rows[["geo_id", column]].rename(columns={column: "estimate"}), on="geo_id",
            how="left").assign(quality=None)
        label = _("Dollars per resident") if has_pop else _("Dollars")
        figure = figure_div(choropleth(replace(tm, values=values), label=label, unit="dollars"),
                            "spending-map",
                            label=(_("Map of dollars per resident from the city's feeds by "
                                     "census tract in {name}") if has_pop else
                                   _("Map of dollars from the city's feeds by census tract in "
                                     "{name}")).format(name=s["geo"].name))
    context = {**_place_context(data, s["geo"], "map"), **s, "sections": PLACE_SECTIONS,
               "figure": figure, "metrics": list(MAP_METRICS.values()),
               "with_charts": figure is not None, "has_pop": has_pop,
               "table_rows": rows.sort_values("dollars", ascending=False).to_dict("records")}
    return render(request, "spending.html", context)


__all__ = ["router"]
