"""The server-rendered pages: home (search and the list of places), a state's places and
counties, a place's overview (scorecard), one metric for a place, its barriers, its
neighbourhood map, the metric catalog and the API reference; and the CSV/JSON download of every
table a page shows.

Pages are complete without JavaScript (forms are plain GET forms, every chart has a table);
scripts add the type-ahead and draw the charts.

Examples
--------
>>> sorted(r.path for r in router.routes if "tables" in r.path)
['/places/{geo_id}/tables/{filename}', '/tables/{filename}']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from upward.core.errors import UpwardError
from upward.geo.resolve import GeoMatch
from upward.geo.states import STATES_BY_FIPS
from upward.metrics import Metric, all_metrics, get_metric
from upward.report.i18n import N_, current_language
from upward.report.i18n import gettext as _
from upward.report.sentences import standing_text
from upward.report.summary import summary_html
from upward.web.api import data_of, map_metric, state_fips
from upward.web.data import AmbiguousQueryError, WebData
from upward.web.errors import ParameterError
from upward.web.tables import (
    FORMATS,
    PLACE_TABLES,
    SITE_TABLES,
    Column,
    TableData,
    place_table,
)
from upward.web.templating import render, render_page

router = APIRouter(include_in_schema=False)

#: The sections of a place, in the order of its sub-navigation.
PLACE_SECTIONS = (("overview", "Overview", ""), ("barriers", "Barriers", "/barriers"),
                  ("recommend", N_("What works"), "/recommend"), ("map", "Neighbourhood map", "/map"))
SYNTHETIC_STATE = "99"


def _place_context(data: WebData, geo: GeoMatch, section: str) -> dict:
    state = STATES_BY_FIPS.get(geo.state_fips)
    return {
        "geo": geo, "section": section, "sections": PLACE_SECTIONS,
        "population": data.index()[(geo.geo_id, geo.geo_level)]["population"],
        "state": state, "synthetic": geo.state_fips == SYNTHETIC_STATE,
        "kind": "city" if geo.geo_level == "place" else "county",
    }


def _cached_body(request: Request, name: str, build: Callable[[], dict]) -> str:
    """A page's HTML rendered once per address and language: the workspace is read-only while
    the app serves it, so the same address always shows the same page."""
    data = data_of(request)
    key = ("page", name, current_language(), str(request.base_url), request.url.path,
           request.url.query)
    return data.memo(key, lambda: render_page(request, name, build()))


def _cached_page(request: Request, name: str, build: Callable[[], dict]) -> HTMLResponse:
    return HTMLResponse(_cached_body(request, name, build))


def _canonical(data: WebData, geo_id: str, request: Request) -> GeoMatch | RedirectResponse:
    """The place of a path segment; a name is redirected to the page of its GEOID."""
    geo = data.place(geo_id)
    if geo.geo_id != geo_id:
        target = request.url.path.replace(f"/places/{geo_id}", f"/places/{geo.geo_id}", 1)
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(target + query, status_code=307)
    return geo


@router.get("/")
def home(request: Request):
    """Search, and every loaded place with published values, grouped by state."""
    data = data_of(request)
    if not data.has_data():
        return render(request, "home.html", {"has_data": False, "by_state": [],
                                             "workspace": data.workspace.root})
    return _cached_page(request, "home.html", lambda: _home_context(data))


def _home_context(data: WebData) -> dict:
    places = data.places("place")
    counties = data.places("county")
    by_state = []
    county_counts = counties.groupby("state_fips").size().to_dict()
    states = sorted(set(places["state_fips"]) | set(counties["state_fips"]),
                    key=lambda f: STATES_BY_FIPS[f].name if f in STATES_BY_FIPS else f)
    grouped = {f: rows for f, rows in places.groupby("state_fips")}
    for fips in states:
        rows = grouped.get(fips)
        by_state.append({
            "fips": fips, "state": STATES_BY_FIPS.get(fips),
            "places": [] if rows is None else rows.sort_values("name").to_dict("records"),
            "n_counties": county_counts.get(fips, 0)})
    return {"has_data": True, "by_state": by_state, "n_places": len(places),
            "n_counties": len(counties)}


@router.get("/places")
def find_place(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="A place name or code")] = None,
):
    """A plain search form's target: one match → its page; several → a choice; none → 404
    with the closest names."""
    data = data_of(request)
    if q is None or not q.strip():
        return RedirectResponse("/", status_code=303)
    try:
        geo = data.resolve(q)
    except AmbiguousQueryError as exc:
        return render(request, "choose.html", {"query": q, "choices": exc.suggestions})
    return RedirectResponse(f"/places/{geo.geo_id}", status_code=303)


@router.get("/states/{state}")
def state_page(request: Request, state: str):
    """The places and counties of one state."""
    data = data_of(request)
    fips = state_fips(state)
    tables = [SITE_TABLES["places"](data, "place", fips),
              SITE_TABLES["places"](data, "county", fips)]
    for t in tables:
        t.group = None
    return render(request, "state.html", {"state": STATES_BY_FIPS[fips], "tables": tables})


def _summary_links(geo: GeoMatch) -> dict[str, str]:
    """Where each summary sentence's evidence is on the site."""
    base = f"/places/{geo.geo_id}"
    return {"scorecard": "#scorecard-heading", "outcomes": "#outcomes-heading",
            "barriers": f"{base}/barriers#findings-heading",
            "disparities": f"{base}/barriers#disparities-heading",
            "neighbourhoods": f"{base}/barriers#where-heading"}


@router.get("/places/{geo_id}")
def place_overview(request: Request, geo_id: str):
    """The scorecard of a place: every metric by pillar, with quality, trend and position."""
    data = data_of(request)
    geo = _canonical(data, geo_id, request)
    if isinstance(geo, RedirectResponse):
        return geo

    def build() -> dict:
        report = data.gaps(geo)
        summary = data.summary(geo)
        return {**_place_context(data, geo, "overview"),
                "summary": summary_html(summary, _summary_links(geo)) if summary else None,
                "profile": data.profile(geo),
                "scorecard": place_table("scorecard", data, geo),
                "outcomes": place_table("county_outcomes", data, geo),
                "spread": place_table("tract_spread", data, geo),
                "sources": place_table("sources", data, geo),
                "peers": report.peers if report else None}

    return _cached_page(request, "place.html", build)


@router.get("/places/{geo_id}/metrics/{metric_id}")
def metric_page(request: Request, geo_id: str, metric_id: str):
    """One metric for a place: definition and source, trend, peers, national distribution."""
    data = data_of(request)
    geo = _canonical(data, geo_id, request)
    if isinstance(geo, RedirectResponse):
        return geo
    metric = get_metric(metric_id)

    def build() -> dict:
        from upward.web.embeds import CHARTS, absolute, embed_path

        entry = next((m for m in data.profile(geo).metrics if m.metric_id == metric.id), None)
        series = place_table("series", data, geo, metric)
        peers = place_table("peers", data, geo, metric)
        nation = place_table("distribution", data, geo, metric)
        figures = _metric_figures(data, geo, metric, entry, data.series(geo, metric.id), peers,
                                  nation)
        context = _place_context(data, geo, "metric")
        standing = (standing_text(entry.national_percentile, entry.direction,
                                  entry.national_n,
                                  "cities" if context.get("kind") == "city" else "counties")
                    if entry is not None else "")
        return {**context, "metric": metric, "entry": entry, "standing": standing,
                "figures": figures, "series": series, "peers": peers, "nation": nation,
                "with_charts": bool(figures),
                "embeds": {c: absolute(request, embed_path(geo.geo_id, metric.id, c))
                           for c in CHARTS}}

    return _cached_page(request, "metric.html", build)


def metric_figures(data: WebData, geo: GeoMatch, metric: Metric) -> dict:
    """The charts of a metric page (``trend``, ``peers``, ``nation``: each a dict of its
    ``div``, table alternative and caption), or an empty dict when the place has no value."""
    entry = next((m for m in data.profile(geo).metrics if m.metric_id == metric.id), None)
    return _metric_figures(data, geo, metric, entry, data.series(geo, metric.id),
                           place_table("peers", data, geo, metric),
                           place_table("distribution", data, geo, metric))


def _metric_figures(data: WebData, geo: GeoMatch, metric: Metric, entry, series_frame,
                    peers: TableData, nation: TableData) -> dict:
    from upward.report import charts

    figures = {}
    if entry is not None:
        short = geo.name.split(",")[0]
        kind = "US cities" if geo.geo_level == "place" else "US counties"
        label = _(metric.label)
        others = peers.frame()
        others = others[~others["is_target"].astype(bool)]
        nation_frame = nation.frame()
        figures = {
            "trend": _figure(_trend_chart(series_frame, metric),
                             "trend-chart", charts.trend_table(series_frame, metric.unit),
                             _("{metric} in {name}, every published value").format(
                                 metric=label, name=short)),
            "peers": _figure(charts.peer_chart(entry.estimate, others, label,
                                               metric.unit, name=short, lb=entry.lb,
                                               ub=entry.ub),
                             "peer-chart", charts.peer_table(entry.estimate, others,
                                                             metric.unit, name=short),
                             _("{metric}: {name} and its peers").format(metric=label,
                                                                        name=short)),
            "nation": _figure(charts.distribution_chart(nation_frame, entry.estimate,
                                                        label, metric.unit, name=short,
                                                        kind=kind, direction=metric.direction),
                              "distribution-chart",
                              charts.distribution_table(nation_frame, entry.estimate,
                                                        metric.unit, name=short),
                              (_("{metric}: where {name} sits among US cities")
                               if geo.geo_level == "place" else
                               _("{metric}: where {name} sits among US counties")).format(
                                   metric=label, name=short)),
        }
    return figures


def _trend_chart(series, metric: Metric):
    from upward.report.charts import trend_chart

    return trend_chart(series, _(metric.label), metric.unit)


def _figure(fig, div_id: str, table, caption: str) -> dict:
    from upward.report.charts import figure_div, table_alternative

    return {"div": figure_div(fig, div_id), "table": table_alternative(table, caption),
            "caption": caption}


@router.get("/places/{geo_id}/barriers")
def barriers_page(request: Request, geo_id: str):
    """The plain-language findings: where the place falls behind, for whom, and where."""
    data = data_of(request)
    geo = _canonical(data, geo_id, request)
    if isinstance(geo, RedirectResponse):
        return geo
    names = ("findings", "peer_group", "trends", "disparities", "lowest_tracts", "drivers",
             "gaps")

    def build() -> dict:
        return {**_place_context(data, geo, "barriers"), "report": data.barriers(geo),
                "tables": {n: place_table(n, data, geo) for n in names}}

    return _cached_page(request, "barriers.html", build)


@router.post("/places/{geo_id}/peers")
async def save_peers_form(request: Request, geo_id: str):
    """Save the peers a city team chose (one name or FIPS code per line; empty: automatic),
    then show the barriers again. POST only; no accounts yet, so no CSRF token."""
    from upward.core.errors import UpwardError
    from upward.diagnose.peers import PEERS_FILE, save_peers

    data = data_of(request)
    geo = data.place(geo_id)
    form = await request.form()
    text = str(form.get("peers") or "")
    names = [line.strip() for line in text.splitlines() if line.strip()]
    ids = []
    for name in names:
        try:
            found = data.place(name) if name.isdigit() else data.resolve(name)
        except UpwardError as exc:
            raise ParameterError("peers", f"{name!r}: {exc}",
                                 fix="write one place per line, as the search box finds it"
                                 ) from None
        if found.geo_level != geo.geo_level or found.geo_id == geo.geo_id:
            raise ParameterError("peers", f"{name!r} is not another {geo.geo_level}",
                                 fix=f"name other {geo.geo_level}s than {geo.name}")
        ids.append(found.geo_id)
    save_peers(data.workspace.root / PEERS_FILE, geo.geo_id, ids or None)
    return RedirectResponse(f"/places/{geo.geo_id}/barriers#peers-heading", status_code=303)


@router.get("/places/{geo_id}/map")
def map_page(
    request: Request,
    geo_id: str,
    metric: Annotated[str, Query(description="A tract metric")] = "kfr_dollars_p25",
):
    """The tracts of a place coloured by a tract outcome, with a table of every tract."""
    data = data_of(request)
    geo = _canonical(data, geo_id, request)
    if isinstance(geo, RedirectResponse):
        return geo
    chosen = map_metric(metric)
    return _cached_page(request, "map.html", lambda: _map_context(data, geo, chosen, request))


def _map_context(data: WebData, geo: GeoMatch, chosen: Metric, request: Request) -> dict:
    from upward.measure.series import MAP_METRICS
    from upward.report.charts import choropleth, figure_div, table_alternative, tract_table
    from upward.web.embeds import absolute, embed_path

    tract_map = data.tract_map(geo, chosen.id)
    label = _(chosen.label)
    figure = None
    if tract_map.has_geometry:
        figure = figure_div(choropleth(tract_map, label), "tract-map",
                            label=_("Map of {metric} by census tract in {name}").format(
                                metric=label, name=geo.name))
    missing_states = sorted({t[:2] for t in tract_map.missing_geometry})
    return {
        **_place_context(data, geo, "map"),
        "metric": chosen, "metrics": list(MAP_METRICS.values()), "tract_map": tract_map,
        "figure": figure, "missing_states": [STATES_BY_FIPS.get(s, s) for s in missing_states],
        "alternative": table_alternative(tract_table(tract_map),
                                         _("{metric}: every tract of {name}").format(
                                             metric=label, name=geo.name)),
        "embed_url": absolute(request, embed_path(geo.geo_id, chosen.id)),
        "tracts": place_table("tracts", data, geo, chosen), "with_charts": figure is not None,
        "values": tract_map.values["estimate"].dropna().astype(float)}


def _split(filename: str) -> tuple[str, str]:
    name, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise ParameterError("format", f"{filename!r} does not end in a download format",
                             fix=f"end the address with one of {', '.join('.' + f for f in FORMATS)}")
    return name, fmt


def _download(table: TableData, fmt: str, stem: str, notes: Callable[[], list] | None = None,
              geojson: Callable[[], dict] | None = None) -> Response:
    if fmt == "geojson":
        if geojson is None:
            raise ParameterError("format", _("only the tract table is a map"),
                                 fix=_("download tracts.geojson, or this table as CSV, JSON or "
                                       "Excel"))
        body = json.dumps(geojson(), allow_nan=False)
    elif fmt == "xlsx":
        body = table.to_xlsx(notes() if notes else _table_notes(table))
    else:
        body = table.to_csv() if fmt == "csv" else table.to_json()
    return Response(body, media_type=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


def _table_notes(table: TableData, metrics: list[Metric] = (), sources: TableData | None = None,
                 where: str = "") -> list[tuple[str, str]]:
    """The notes sheet of an Excel download: what the table is, where its numbers come from,
    what the fields and intervals mean, and each metric's definition."""
    from datetime import UTC, datetime

    from upward.web.tables import FIELD_MEANINGS

    notes = [(_("Table"), table.caption)]
    if where:
        notes.append((_("Place"), where))
    notes.append((_("Made by"), _("Upward, {date}").format(
        date=datetime.now(UTC).strftime("%Y-%m-%d"))))
    if table.note:
        notes.append((_("Note"), _(table.note)))
    notes.append((_("Intervals"), _(
        "lb and ub bound the 95% interval the publisher gives (a 95% confidence interval unless "
        "the bounds field says otherwise); an empty cell means no interval is published. "
        "Two values whose intervals overlap may still differ; the barrier tests on the site "
        "say which differences are significant.")))
    for f in table.fields:
        if f in FIELD_MEANINGS:
            notes.append((f, _(FIELD_MEANINGS[f])))
    for m in metrics:
        notes.append((_("Definition: {label}").format(label=_(m.label)),
                      f"{_(m.definition)} [{m.id}; {_('Unit')}: {_(m.unit)}; "
                      f"{m.source}; {m.citation}]"))
    for r in (sources.rows if sources is not None else []):
        notes.append((_("Source: {dataset}").format(dataset=r.get("dataset") or ""),
                      "; ".join(str(r[k]) for k in ("publisher", "url", "retrieved_at", "sha256",
                                                    "license") if r.get(k))))
    return notes


def _metrics_of(table: TableData, metric: Metric | None) -> list[Metric]:
    if metric is not None:
        return [metric]
    ids = list(dict.fromkeys(r.get("metric_id") or r.get("id") for r in table.rows
                             if r.get("metric_id") or r.get("id")))
    out = []
    for i in ids:
        try:
            out.append(get_metric(i))
        except UpwardError:
            continue
    return out


@router.get("/places/{geo_id}/tables/{filename}")
def place_table_download(
    request: Request,
    geo_id: str,
    filename: str,
    metric: Annotated[str | None, Query(description="The metric of a metric table")] = None,
):
    """A table of a place's pages as CSV or JSON (``scorecard.csv``, ``series.json?metric=…``)."""
    data = data_of(request)
    name, fmt = _split(filename)
    if name not in PLACE_TABLES:
        raise ParameterError("table", f"{name!r} is not a table of the place pages",
                             fix=f"use one of {', '.join(PLACE_TABLES)}")
    geo = data.place(geo_id)
    chosen: Metric | None = None
    if metric is not None:
        chosen = map_metric(metric) if name == "tracts" else get_metric(metric)
    table = place_table(name, data, geo, chosen)
    suffix = f"_{chosen.id}" if chosen is not None else ""
    geojson = None
    if name == "tracts":
        from upward.measure.series import DEFAULT_MAP_METRIC, MAP_METRICS

        m = chosen or MAP_METRICS[DEFAULT_MAP_METRIC]
        geojson = lambda: tract_geojson(data.tract_map(geo, m.id), m)  # noqa: E731
    return _download(table, fmt, f"{geo.geo_id}_{name}{suffix}", notes=lambda: _table_notes(
        table, _metrics_of(table, chosen), place_table("sources", data, geo),
        f"{geo.name} ({geo.geo_id})"), geojson=geojson)


def tract_geojson(tract_map, metric: Metric) -> dict:
    """The map as a GeoJSON FeatureCollection: each tract's shape with its value, bounds,
    quality and the metric (a tract without a shape is left out and listed in
    ``missing_geometry``).

    >>> import pandas as pd
    >>> from types import SimpleNamespace as NS
    >>> from upward.metrics.catalog import get_metric
    >>> tract_map = NS(
    ...     values=pd.DataFrame({"geo_id": ["40143000100"], "estimate": [0.41], "lb": [0.38],
    ...                          "ub": [0.44]}),
    ...     geojson={"features": [{"id": "40143000100",
    ...                            "geometry": {"type": "Point", "coordinates": [-95.99, 36.15]}}]},
    ...     geo=NS(geo_id="4075000", name="Tulsa city, Oklahoma"),
    ...     missing_geometry=["40143000200"], geometry_vintage="2020")
    >>> g = tract_geojson(tract_map, get_metric("kfr_p25"))
    >>> g["features"][0]["properties"]["estimate"], g["features"][0]["properties"]["metric_id"]
    (0.41, 'kfr_p25')
    >>> g["missing_geometry"], g["place"]["geo_id"]
    (['40143000200'], '4075000')
    """
    values = {str(r["geo_id"]): r for r in tract_map.values.to_dict("records")}
    features = []
    for f in tract_map.geojson.get("features", []):
        r = values.get(str(f.get("id")), {})
        props = {k: _json_value(r.get(k)) for k in ("geo_id", "name", "estimate", "lb", "ub",
                                                     "quality", "period", "source_id")
                 if k in r}
        features.append({"type": "Feature", "id": f.get("id"), "geometry": f.get("geometry"),
                         "properties": {**props, "metric_id": metric.id,
                                        "metric": _(metric.label), "unit": metric.unit}})
    return {"type": "FeatureCollection", "features": features,
            "metric": {"id": metric.id, "label": _(metric.label), "unit": metric.unit,
                       "definition": _(metric.definition)},
            "place": {"geo_id": tract_map.geo.geo_id, "name": tract_map.geo.name},
            "missing_geometry": list(tract_map.missing_geometry),
            "geometry_vintage": tract_map.geometry_vintage}


def _json_value(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


@router.get("/tables/{filename}")
def site_table_download(
    request: Request,
    filename: str,
    level: Annotated[str | None, Query(pattern="^(place|county)$")] = None,
    state: Annotated[str | None, Query(max_length=40)] = None,
):
    """The metric catalog (``metrics.csv``) or a place list (``places.csv?level=county``)."""
    name, fmt = _split(filename)
    if name not in SITE_TABLES:
        raise ParameterError("table", f"{name!r} is not a site table",
                             fix=f"use one of {', '.join(SITE_TABLES)}")
    table = SITE_TABLES[name](data_of(request), level, state_fips(state))
    return _download(table, fmt, name, notes=lambda: _table_notes(
        table, _metrics_of(table, None) if name == "metrics" else []))


def _comparison_table(result) -> TableData:
    """The comparison as a downloadable table: one row per metric and place or area."""
    frame = result.to_frame()
    return TableData("compare", _("Compared with {name}").format(name=result.places[0]["name"]),
                     [Column(c, c) for c in frame.columns],
                     frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))


@router.get("/compare/table.{fmt}")
def compare_download(
    request: Request,
    fmt: str,
    places: Annotated[list[str], Query(max_length=200)],
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
):
    """The comparison as CSV, JSON or Excel (a notes sheet: method, overlaps, fields)."""
    from upward.measure.compare import MAX_PLACES, MIN_PLACES

    if fmt not in ("csv", "json", "xlsx"):
        raise ParameterError("format", f"{fmt!r} is not a download format",
                             fix="use csv, json or xlsx")
    data = data_of(request)
    geos = data.places_of(places)
    if not MIN_PLACES <= len(geos) <= MAX_PLACES:
        raise ParameterError("places", f"{len(geos)} places given",
                             fix=f"name {MIN_PLACES} to {MAX_PLACES} places or areas")
    result = data.compare(geos, alpha)
    table = _comparison_table(result)

    def notes() -> list[tuple[str, str]]:
        out = _table_notes(table)
        out.append((_("Method"), _(result.method)))
        out += [(_("Note"), _(w)) for w in result.warnings]
        out.append(("difference", _("the value minus the first column's value, in the "
                                    "metric's unit")))
        out.append(("difference_moe", _("95% margin of error of the difference")))
        out.append(("q_value", _("Benjamini–Hochberg adjusted p-value across the table")))
        return out

    return _download(table, fmt, "compare", notes=notes)


@router.get("/compare")
def compare_page(
    request: Request,
    places: Annotated[list[str] | None, Query(max_length=200)] = None,
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
):
    """2–6 places or custom areas side by side, with the significance of their differences
    from the first."""
    from urllib.parse import urlencode

    from upward.measure.compare import MAX_PLACES, MIN_PLACES, display_rows, short_name
    from upward.web.data import UnknownPlaceError

    data = data_of(request)
    given = [p for p in (places or []) if p.strip()]
    context: dict = {"given": given + [""] * max(0, MAX_PLACES - len(given)),
                     "min_places": MIN_PLACES, "max_places": MAX_PLACES, "comparison": None,
                     "problem": None}
    if given:
        try:
            geos = data.places_of(given)
        except (UnknownPlaceError, AmbiguousQueryError) as exc:
            context["problem"] = str(exc)
            return render(request, "compare.html", context, status_code=404)
        if not MIN_PLACES <= len(geos) <= MAX_PLACES:
            context["problem"] = _("{n} places given: name {low} to {high}.").format(
                n=len(geos), low=MIN_PLACES, high=MAX_PLACES)
            return render(request, "compare.html", context, status_code=422)
        try:
            result = data.compare(geos, alpha)
        except UpwardError as exc:  # the same place twice, an area without ACS tables …
            context["problem"] = str(exc)
            return render(request, "compare.html", context, status_code=422)
        rows = display_rows(result)
        pillars: dict[str, list[dict]] = {}
        for r in rows:
            pillars.setdefault(r["pillar"], []).append(r)
        query = urlencode([("places", g.geo_id) for g in geos] + (
            [("alpha", f"{alpha:g}")] if alpha != 0.05 else []))
        context.update(comparison=result, pillars=pillars,
                       heads=[short_name(p["name"]) for p in result.places],
                       api=str(request.url).replace("/compare", "/api/compare", 1),
                       download=f"/compare/table.{{fmt}}?{query}",
                       has_area=any(g.geo_level == "area" for g in geos))
    return render(request, "compare.html", context)


@router.get("/metrics")
def metrics_page(request: Request):
    """The metric catalog."""
    return render(request, "metrics.html", {"catalog": SITE_TABLES["metrics"](None)})


@router.get("/metrics/{metric_id}")
def metric_info(request: Request, metric_id: str):
    """One metric's definition, source and citation."""
    metric = get_metric(metric_id)
    return render(request, "metric_info.html", {"metric": metric,
                                                "all_metrics": all_metrics()})


@router.get("/docs")
def api_reference(request: Request):
    """The API reference, written from the OpenAPI schema (works offline, no script)."""
    schema = request.app.openapi()
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "description": p.get("description") or p.get("schema", {}).get(
                           "description", ""),
                       "type": _schema_type(p.get("schema", {}))}
                      for p in op.get("parameters", [])]
            responses = [(code, r.get("description", ""))
                         for code, r in sorted(op.get("responses", {}).items())]
            operations.append({"method": method.upper(), "path": path,
                               "summary": op.get("summary", ""),
                               "description": op.get("description", ""), "params": params,
                               "responses": responses,
                               "anchor": op.get("operationId", path)})
    return render(request, "docs.html", {"schema": schema, "operations": operations})


def _schema_type(schema: dict) -> str:
    if "anyOf" in schema:
        return " or ".join(_schema_type(s) for s in schema["anyOf"] if s.get("type") != "null")
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type", "")
    limits = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "maxLength", "pattern")
              if k in schema]
    return kind + (f" ({'; '.join(limits)})" if limits else "")


__all__ = ["PLACE_SECTIONS", "router"]
