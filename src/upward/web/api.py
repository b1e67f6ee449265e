"""The JSON API under ``/api``: places (search and list), the metric catalog, a place's
profile, barriers, metric series and tracts (values and GeoJSON). The schema is at
``/openapi.json`` and its reference page at ``/docs``.

Profiles and barrier reports are the documented report objects (``docs/profile.schema.json``,
``docs/barriers.schema.json``), exactly what ``upward profile --format json`` prints.

Examples
--------
>>> sorted(r.path for r in router.routes)[:3]
['/api/compare', '/api/metrics', '/api/metrics/{metric_id}']
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from upward.core.results import json_ready
from upward.geo.resolve import GeoMatch
from upward.geo.states import state_for
from upward.metrics import all_metrics, get_metric
from upward.metrics.catalog import Metric
from upward.web.data import Suggestion, WebData
from upward.web.errors import ParameterError

#: The error answers every endpoint may give (the body is the error object of upward.web.errors).
ERROR_RESPONSES = {
    300: {"description": "A name fits several places: error.suggestions lists them"},
    404: {"description": "Unknown place or metric: error.suggestions has the closest"},
    422: {"description": "A parameter cannot be used: error.parameter names it"},
    503: {"description": "The workspace holds no data yet"},
}
router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)

GeoId = Annotated[str, Path(pattern=r"^\d{5}(\d{2})?$",
                            description="Place GEOID (7 digits) or county GEOID (5 digits)",
                            examples=["4075000"])]
Level = Literal["place", "county"]


class PlaceSummary(BaseModel):
    """A place or county in a list.

    >>> s = PlaceSummary(geo_id="4075000", geo_level="place", name="Tulsa city, Oklahoma", state="OK",
    ...                  url="/places/4075000", api="/api/places/4075000")
    >>> s.model_dump()["api"]
    '/api/places/4075000'
    """

    geo_id: str
    geo_level: str
    name: str
    state: str
    url: str
    api: str


class PlaceList(BaseModel):
    """A page of places: total matches, results from offset.

    >>> PlaceList(total=0, offset=0, limit=50, results=[]).model_dump()
    {'total': 0, 'offset': 0, 'limit': 50, 'results': []}
    """

    total: int
    offset: int
    limit: int
    results: list[PlaceSummary]


class PlaceDetail(PlaceSummary):
    """One place with its population and the addresses of its reports.

    >>> d = PlaceDetail(geo_id="4075000", geo_level="place", name="Tulsa city, Oklahoma", state="OK",
    ...                 url="/places/4075000", api="/api/places/4075000", state_fips="40",
    ...                 population=411000.0, links={"barriers": "/places/4075000/barriers"})
    >>> d.population, sorted(d.links)
    (411000.0, ['barriers'])
    """

    state_fips: str
    population: float | None
    links: dict[str, str]


def data_of(request: Request) -> WebData:
    """The app's shared ``WebData``.

    >>> from types import SimpleNamespace
    >>> app = SimpleNamespace(state=SimpleNamespace(data="the app's WebData"))
    >>> data_of(Request({"type": "http", "app": app}))
    "the app's WebData"
    """
    return request.app.state.data


def state_fips(state: str | None) -> str | None:
    """A ``state`` parameter (FIPS, postal code or name) as a FIPS code; 422 if unknown.

    >>> state_fips("ok"), state_fips(None)
    ('40', None)
    """
    if state is None or not state.strip():
        return None
    found = state_for(state)
    if found is None:
        raise ParameterError("state", f"{state!r} is not a state",
                             fix="give a two-digit FIPS code (40), a postal code (OK) or a name")
    return found.fips


def _summary(s: Suggestion) -> PlaceSummary:
    return PlaceSummary(geo_id=s.geo_id, geo_level=s.geo_level, name=s.name, state=s.state,
                        url=s.url, api=f"/api/places/{s.geo_id}")


@router.get("/places", response_model=PlaceList, summary="Search or list places")
def places(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description=(
        "Search text: a name ('Tulsa'), a name and state ('tulsa ok'), or the start of a "
        "code. Without it, every loaded place (or county) with published values."))] = None,
    level: Annotated[Level | None, Query(description="place or county")] = None,
    state: Annotated[str | None, Query(description="State FIPS, postal code or name")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Results per page")] = 50,
    offset: Annotated[int, Query(ge=0, description="Results to skip")] = 0,
) -> PlaceList:
    """Places and counties: a search when q is given (cities first, larger first), else the
    list of places (or counties with level=county) by state and name."""
    data = data_of(request)
    fips = state_fips(state)
    if q is not None and q.strip():
        found = data.search(q, limit=offset + limit, level=level, state=fips)
        total = len(found)
        results = found[offset:offset + limit]
    else:
        frame = data.places(level or "place", fips)
        total = len(frame)
        page = frame.iloc[offset:offset + limit]
        results = [Suggestion(r.geo_id, r.geo_level, r.name, r.state)
                   for r in page.itertuples(index=False)]
    return PlaceList(total=total, offset=offset, limit=limit,
                     results=[_summary(s) for s in results])


@router.get("/resolve", response_model=PlaceDetail, summary="Resolve a name to one place")
def resolve_place(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200,
                            description="What a person typed: 'Tulsa, OK', 'tulsa ok', "
                                        "'Hamilton County, OH' or a FIPS code")],
) -> PlaceDetail:
    """The one place or county a name means; 404 with suggestions when none fits, 300 with the
    candidates when several do."""
    data = data_of(request)
    return _detail(data, data.resolve(q))


@router.get("/places/{geo_id}", response_model=PlaceDetail, summary="One place")
def place(request: Request, geo_id: GeoId) -> PlaceDetail:
    """A place or county by GEOID, with the addresses of its reports."""
    data = data_of(request)
    return _detail(data, data.place(geo_id))


def _detail(data: WebData, geo: GeoMatch) -> PlaceDetail:
    g = data.geographies()
    row = g[(g["geo_id"] == geo.geo_id) & (g["geo_level"] == geo.geo_level)].iloc[0]
    population = None if row["population"] != row["population"] else float(row["population"])
    base = f"/api/places/{geo.geo_id}"
    return PlaceDetail(
        geo_id=geo.geo_id, geo_level=geo.geo_level, name=geo.name, state=row["state"],
        state_fips=geo.state_fips, population=population, url=f"/places/{geo.geo_id}",
        api=base, links={"profile": f"{base}/profile", "barriers": f"{base}/barriers",
                         "tracts": f"{base}/tracts", "page": f"/places/{geo.geo_id}"})


@router.get("/metrics", response_model=list[Metric], summary="The metric catalog")
def metrics() -> list[Metric]:
    """Every declared metric: definition, unit, direction, source and citation."""
    return all_metrics()


@router.get("/metrics/{metric_id}", response_model=Metric, summary="One metric")
def metric(metric_id: str) -> Metric:
    """One declared metric; 404 with the closest ids when it is not declared."""
    return get_metric(metric_id)


@router.get("/places/{geo_id}/profile", summary="A place's mobility profile",
            description="The profile object of docs/profile.schema.json.")
def profile(request: Request, geo_id: GeoId) -> dict:
    """Every metric's latest value with bounds, quality, trend, county value and national
    percentile; the county's Opportunity Atlas and Social Capital outcomes; tract spread."""
    data = data_of(request)
    geo = data.place(geo_id)
    return data.memo(("profile.json", geo.geo_id), lambda: data.profile(geo).to_dict())


@router.get("/places/{geo_id}/barriers", summary="A place's barriers",
            description="The barrier report of docs/barriers.schema.json.")
def barriers(request: Request, geo_id: GeoId) -> dict:
    """Where the place falls significantly behind its peers and the nation, for whom, and
    where (peers: the 10 nearest; false discovery rate 0.05)."""
    data = data_of(request)
    geo = data.place(geo_id)
    return data.memo(("barriers.json", geo.geo_id), lambda: data.barriers(geo).to_dict())


@router.get("/places/{geo_id}/summary", summary="A place's plain-language summary",
            description="Three to five sentences generated from the findings, each with the "
                        "evidence it comes from, and the definitions of the terms used.")
def summary(request: Request, geo_id: GeoId) -> dict:
    """The summary shown at the top of the place page."""
    data = data_of(request)
    geo = data.place(geo_id)
    found = data.summary(geo)
    if found is None:
        raise ParameterError("geo_id", f"no peers can be chosen for {geo.name}, so there are "
                             "no findings to summarise", fix="load the Urban Institute files")
    return found.to_dict()


@router.get("/compare", summary="Places side by side",
            description="2 to 6 places, counties or custom areas: every metric with its 95% "
                        "interval, and each one's difference from the first with its margin of "
                        "error, z test and Benjamini–Hochberg q-value across the table. A custom "
                        "area brings its ACS measures; a difference between geographies that "
                        "overlap (a district and its city) takes its SE from the replicate "
                        "estimates of the difference, or is left untested without them.")
def compare(
    request: Request,
    places: Annotated[list[str], Query(description=(
        "Repeat for each place or area (a name such as 'Tulsa, OK' or 'District 3', a FIPS "
        "code or an area id), or give FIPS codes and area ids separated by commas; the first "
        "is the reference"))],
    alpha: Annotated[float, Query(gt=0, lt=1, description="False discovery rate")] = 0.05,
) -> dict:
    """The comparison object: places, rows (one per metric, a cell per place), method."""
    from upward.measure.compare import MAX_PLACES, MIN_PLACES

    data = data_of(request)
    geos = data.places_of(places)
    if not MIN_PLACES <= len(geos) <= MAX_PLACES:
        raise ParameterError("places", f"{len(geos)} places given",
                             fix=f"name {MIN_PLACES} to {MAX_PLACES} places or areas")
    return data.memo(("compare.json", alpha, *[g.geo_id for g in geos]),
                     lambda: data.compare(geos, alpha).to_dict())


@router.get("/places/{geo_id}/metrics/{metric_id}", summary="One metric for one place")
def metric_series(request: Request, geo_id: GeoId, metric_id: str) -> dict:
    """Every published value of the metric for the place (by release and year), the values
    of its peers, and the national distribution's quantiles with the place's percentile."""
    from upward.web.tables import distribution, peers, series

    data = data_of(request)
    geo = data.place(geo_id)
    m = get_metric(metric_id)
    nation = distribution(data, geo, m).frame()["estimate"].astype(float)
    quantiles = ({f"p{int(q * 100)}": float(v) for q, v in
                  nation.quantile([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]).items()}
                 if len(nation) else {})
    entry = next((e for e in data.profile(geo).metrics if e.metric_id == m.id), None)
    return json_ready({
        "geo": {"geo_id": geo.geo_id, "geo_level": geo.geo_level, "name": geo.name},
        "metric": m.to_dict(),
        "latest": None if entry is None else {
            "estimate": entry.estimate, "lb": entry.lb, "ub": entry.ub,
            "quality": entry.quality, "period": entry.period,
            "national_percentile": entry.national_percentile, "national_n": entry.national_n},
        "series": series(data, geo, m).to_dict()["rows"],
        "peers": peers(data, geo, m).to_dict()["rows"],
        "national": {"n": len(nation), "quantiles": quantiles},
    })


@router.get("/places/{geo_id}/tracts", summary="A place's tracts: values and GeoJSON",
            response_class=JSONResponse)
def tracts(
    request: Request,
    geo_id: GeoId,
    metric: Annotated[str, Query(description="A tract metric (see the map page's menu)")]
    = "kfr_dollars_p25",
) -> Response:
    """The tracts inside the place for one tract metric: one value per tract, and a GeoJSON
    FeatureCollection of those with a shape (feature id = 11-digit GEOID)."""
    data = data_of(request)
    geo = data.place(geo_id)
    m = map_metric(metric)
    # The encoded answer is kept per (place, metric); WebData drops it when the warehouse
    # file changes. Encoding the GeoJSON was most of each request's time.
    body = data.memo(("tracts.json", geo.geo_id, geo.geo_level, m.id),
                     lambda: _tracts_json(data, geo, m.id))
    return Response(body, media_type="application/json")


def _tracts_json(data: WebData, geo: GeoMatch, metric_id: str) -> bytes:
    """The tracts answer encoded as FastAPI's JSONResponse encodes (compact UTF-8)."""
    tract_map = data.tract_map(geo, metric_id)
    content = json_ready({
        "geo": {"geo_id": geo.geo_id, "geo_level": geo.geo_level, "name": geo.name},
        "metric": tract_map.metric.to_dict(),
        "n_tracts": tract_map.n_tracts,
        "n_mapped": tract_map.n_mapped,
        "missing_geometry": list(tract_map.missing_geometry),
        "method": tract_map.method,
        "geometry_vintage": tract_map.geometry_vintage,
        "values": tract_map.values.astype(object).where(tract_map.values.notna(), None)
        .to_dict("records"),
        "geojson": tract_map.geojson,
    })
    return json.dumps(content, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode("utf-8")


def map_metric(metric_id: str):
    """A ``metric`` parameter naming a tract metric of the map; 422 otherwise.

    >>> map_metric("kir_p25").id
    'kir_p25'
    """
    from upward.measure.series import MAP_METRICS

    if metric_id not in MAP_METRICS:
        raise ParameterError("metric", f"{metric_id!r} is not a tract metric the map can show",
                             fix=f"use one of {', '.join(MAP_METRICS)}")
    return MAP_METRICS[metric_id]


__all__ = ["router"]
