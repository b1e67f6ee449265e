"""Custom areas on the web: ``/areas`` (the list), ``/areas/{area_id}`` (an area's ACS metrics
with exact or approximate margins, compared with the rest of its set, and a map of the set's
areas coloured by a metric), ``/areas/{area_id}/table.csv|json`` (the download, margins kept),
and the JSON API ``/api/areas``, ``/api/areas/{area_id}``, ``/api/areas/{area_id}/geometry``.

Examples
--------
>>> sorted(r.path for r in router.routes)[:2]
['/api/areas', '/api/areas/{area_id}']
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from upward.measure.areas import AreaProfile, area_profile
from upward.web.errors import ParameterError
from upward.web.templating import render

router = APIRouter()
AREA_ID = r"^area:[a-z0-9-]+:[a-z0-9-]+$"


def _workspace(request: Request):
    return request.app.state.workspace


def _profile(request: Request, area_id: str) -> AreaProfile:
    return area_profile(_workspace(request), area_id)  # unknown: PlaceNotFoundError, a 404


@router.get("/api/areas", tags=["api"], summary="The stored custom areas")
def api_areas(request: Request) -> list[dict]:
    """Every custom area: set, id, name, number of tracts, tract vintage."""
    from upward.warehouse.areas import list_areas

    return list_areas(_workspace(request)).to_dict(orient="records")


@router.get("/api/areas/{area_id}", tags=["api"], summary="A custom area's ACS profile",
            responses={404: {"description": "No stored area has this id or name"}})
def api_area(request: Request, area_id: str) -> JSONResponse:
    """The area's metrics with estimate, SE, MOE, CV, reliability and method, the city's and
    the other areas' values, and the difference from the rest of the set."""
    return JSONResponse(_profile(request, area_id).to_dict())


@router.get("/api/areas/{area_id}/geometry", tags=["api"],
            summary="GeoJSON of an area's set, with each area's tract weights")
def api_area_geometry(request: Request, area_id: str) -> JSONResponse:
    """A FeatureCollection of every area of the set (the requested one flagged)."""
    return JSONResponse(_geojson(request, area_id))


def _geojson(request: Request, area_id: str) -> dict:
    from upward.warehouse.areas import area_geojson

    return area_geojson(_workspace(request), area_id)


@router.get("/areas/{area_id}/table.{fmt}", include_in_schema=False)
def area_download(request: Request, area_id: str, fmt: str) -> Response:
    """The area's metrics as CSV, JSON or Excel (a notes sheet says what the margins are),
    margins, CV, reliability and method included."""
    if fmt not in ("csv", "json", "xlsx"):
        raise ParameterError("format", f"{fmt!r} is not a download format",
                             fix="use csv, json or xlsx")
    p = _profile(request, area_id)
    stem = area_id.replace(":", "_")
    if fmt == "xlsx":
        body, kind = _area_workbook(p), XLSX
    else:
        body, kind = ((p.to_csv(), "text/csv") if fmt == "csv" else
                      (p.to_json(), "application/json"))
    return Response(body, media_type=kind,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _area_workbook(p: AreaProfile) -> bytes:
    from upward.web.tables import Column, TableData

    frame = p.to_frame()
    table = TableData(p.area_id, f"ACS measures for {p.name} ({p.set_name})",
                      [Column(c, c) for c in frame.columns], frame.to_dict(orient="records"))
    notes = [("Area", f"{p.name} ({p.set_name}): {p.tracts} census tracts, {p.tracts_full} "
                      "wholly inside"),
             ("Margins", "moe: 90% margin of error (the Census Bureau's convention); se: "
                         "standard error; cv: se ÷ estimate (above 30% unreliable); method: "
                         "exact from the 80 replicate estimates, or the ACS handbook's "
                         "approximation"),
             ("Comparison", "difference and difference_se: the area minus the rest of its set; "
                            f"q_value: Benjamini–Hochberg across the measures (FDR {p.alpha:g})"),
             *[(f"Note {i}", note) for i, note in enumerate(p.notes, start=1)]]
    return table.to_xlsx(notes)


@router.get("/areas/{area_id}", include_in_schema=False)
def area_page(request: Request, area_id: str,
              metric: Annotated[str, Query(description="Metric of the map")] = "acs_poverty_rate"):
    """An area's page: metrics table, map of the set, downloads."""
    p = _profile(request, area_id)
    chosen = next((m for m in p.metrics if m.metric_id == metric), p.metrics[0] if p.metrics
                  else None)
    figure = None
    if chosen is not None:
        figure = _map(request, p, chosen)
    rows = p.display_rows()
    return render(request, "area.html", {"p": p, "rows": rows, "figure": figure,
                                         "metrics": p.metrics, "chosen": chosen})


def _map(request: Request, p: AreaProfile, chosen) -> str | None:
    from upward.report.area import area_map
    from upward.report.charts import figure_div

    fig = area_map(p, chosen, _geojson(request, p.area_id))
    from upward.report.i18n import gettext as _

    label = _("Map of {metric} for the areas of {areas}").format(metric=_(chosen.label),
                                                                  areas=p.set_name)
    return figure_div(fig, "area-map", label=label) if fig is not None else None


__all__ = ["router"]
