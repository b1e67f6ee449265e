"""Embeddable charts: every chart of a metric page and every tract map has an address that
returns a page with only the chart (its title, its table alternative and a source line), drawn
on demand for any place, for an ``<iframe>`` on another site.

Only these pages may be framed by other sites: ``FramePolicyMiddleware`` sends
``Content-Security-Policy: frame-ancestors *`` on ``/embed/…`` and ``frame-ancestors 'self'``
(with ``X-Frame-Options: SAMEORIGIN``) on every other page.

Examples
--------
>>> sorted(r.path for r in router.routes)
['/embed/places/{geo_id}/map', '/embed/places/{geo_id}/metrics/{metric_id}/{chart}']
>>> embed_path("4075000", "pctl_income_50", "trend")
'/embed/places/4075000/metrics/pctl_income_50/trend'
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from upward.metrics import get_metric
from upward.report.i18n import current_language
from upward.report.i18n import gettext as _
from upward.web.api import data_of, map_metric
from upward.web.errors import ParameterError
from upward.web.language import localised, split_prefix
from upward.web.templating import language_links

router = APIRouter(include_in_schema=False)

#: The charts of a metric page that can be embedded.
CHARTS = ("trend", "peers", "nation")


def embed_path(geo_id: str, metric_id: str | None = None, chart: str = "map") -> str:
    """The address of an embeddable chart (``chart="map"``: the tract map of ``metric_id``).

    >>> embed_path("4075000", "kfr_dollars_p25"), embed_path("4075000", "pctl_income_50", "peers")
    ('/embed/places/4075000/map?metric=kfr_dollars_p25', '/embed/places/4075000/metrics/pctl_income_50/peers')
    """
    if chart == "map":
        return f"/embed/places/{geo_id}/map" + (f"?metric={metric_id}" if metric_id else "")
    return f"/embed/places/{geo_id}/metrics/{metric_id}/{chart}"


def absolute(request: Request, path: str) -> str:
    """``path`` as a full address on this site, in the request's language (for embed code
    that is pasted into other sites).

    >>> from upward.report.i18n import use_language
    >>> request = Request({"type": "http", "scheme": "https", "server": ("upward.example.gov", 443),
    ...                    "path": "/", "headers": []})
    >>> with use_language("es"):
    ...     absolute(request, "/embed/places/4075000/map")
    'https://upward.example.gov/es/embed/places/4075000/map'
    """
    return str(request.base_url).rstrip("/") + localised(path, current_language())


def _page(request: Request, context: dict) -> HTMLResponse:
    from upward.web.pages import _cached_body

    others = language_links(request)
    body = _cached_body(request, "embed.html", lambda: {
        **context, "other_language": others[0] if others else None})
    return HTMLResponse(body)


@router.get("/embed/places/{geo_id}/metrics/{metric_id}/{chart}")
def embed_metric_chart(request: Request, geo_id: str, metric_id: str, chart: str):
    """One chart of a metric page (``trend``, ``peers`` or ``nation``) for an iframe."""
    from upward.web.pages import metric_figures

    if chart not in CHARTS:
        raise ParameterError("chart", _("{chart} is not a chart of the metric page").format(
            chart=repr(chart)), fix=_("use one of {charts}").format(charts=", ".join(CHARTS)))
    data = data_of(request)
    geo = data.place(geo_id)
    metric = get_metric(metric_id)

    def build() -> dict:
        figures = metric_figures(data, geo, metric)
        f = figures.get(chart)
        return {"caption": f["caption"] if f else f"{_(metric.label)}: {geo.name}",
                "figure": f["div"] if f else None, "table": f["table"] if f else None,
                "note": _(metric.definition) if f else _(
                    "No value of this metric is published for {name}.").format(name=geo.name),
                "source": f"{metric.publisher} ({metric.source})", "is_map": False,
                "page_url": absolute(request, f"/places/{geo.geo_id}/metrics/{metric.id}")}

    return _page(request, build())


@router.get("/embed/places/{geo_id}/map")
def embed_map(
    request: Request,
    geo_id: str,
    metric: Annotated[str, Query(description="A tract metric")] = "kfr_dollars_p25",
):
    """The tract map of a place (with its legend, outline and labels) for an iframe."""
    from upward.web.pages import _map_context

    data = data_of(request)
    geo = data.place(geo_id)
    chosen = map_metric(metric)
    context = _map_context(data, geo, chosen, request)
    label = _(chosen.label)
    return _page(request, {
        "caption": _("{label}, by census tract: {name}").format(label=label, name=geo.name),
        "figure": context["figure"], "table": context["alternative"], "is_map": True,
        "note": _("Darker is lower, yellow is higher; hatched tracts have no estimate; the black "
                  "line is the outline of the place (the union of its tracts)."),
        "source": "Opportunity Insights, Opportunity Atlas; U.S. Census Bureau tract boundaries",
        "page_url": absolute(request, f"/places/{geo.geo_id}/map?metric={chosen.id}")})


class FramePolicyMiddleware:
    """ASGI middleware: the embed pages may be framed by any site, the rest only by this one.

    >>> from starlette.applications import Starlette
    >>> from starlette.responses import PlainTextResponse
    >>> from starlette.routing import Route
    >>> from starlette.testclient import TestClient
    >>> app = Starlette(routes=[Route("/{path:path}", lambda request: PlainTextResponse("ok"))])
    >>> client = TestClient(FramePolicyMiddleware(app))
    >>> client.get("/embed/places/1/map").headers["content-security-policy"]
    'frame-ancestors *'
    >>> client.get("/places/1").headers["x-frame-options"]
    'SAMEORIGIN'
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embeddable = split_prefix(scope["path"])[1].startswith("/embed/")

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if embeddable:
                    headers.append((b"content-security-policy", b"frame-ancestors *"))
                else:
                    headers += [(b"content-security-policy", b"frame-ancestors 'self'"),
                                (b"x-frame-options", b"SAMEORIGIN")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)


__all__ = ["CHARTS", "FramePolicyMiddleware", "absolute", "embed_path", "router"]
