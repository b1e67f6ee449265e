"""The report of a custom area (``upward report "District 3"``): one self-contained HTML page
(and PDF) with a plain-language summary, the area's ACS metrics with their margins, how it
compares with the rest of its set, a map of the set's areas, and how the numbers were made.

Examples
--------
>>> from upward.estimate.acs import AcsEstimate
>>> from upward.measure.areas import AreaMetric, AreaProfile
>>> poor = AreaMetric("acs_poverty_rate", "Poverty rate", "share", "lower", "percent",
...     AcsEstimate(0.31, 0.02, "exact"), AcsEstimate(0.22, 0.01, "exact"), {}, 0.12, 0.025,
...     1e-6, 2e-6, True, True)
>>> p = AreaProfile("area:d:3", "District 3", "districts", 18, 12, 6, [poor], [], 0.05)
>>> summary_sentences(p)[1]
'It is significantly behind the rest of districts on 1 of 1 measure: poverty rate (31.0%, against 22.0% for all districts).'
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from upward.core.atomic import atomic_write
from upward.estimate.aggregate import EXACT
from upward.measure.areas import AreaMetric, AreaProfile, area_profile, format_value
from upward.report.i18n import gettext as _
from upward.report.i18n import localise_numbers, ngettext, use_language
from upward.report.page import render_page
from upward.report.svg import figure_svg
from upward.report.templating import render
from upward.warehouse.areas import area_geojson
from upward.warehouse.workspace import Workspace

#: The metric the map shows when none differs significantly.
DEFAULT_MAP_METRIC = "acs_poverty_rate"


def _value(m: AreaMetric, x: float | None) -> str:
    return format_value(x, m.format)


def _named(metrics: list[AreaMetric], p: AreaProfile) -> str:
    parts = [_("{measure} ({value}, against {all} for all {areas})").format(
        measure=_lower_first(_(m.label)), value=localise_numbers(_value(m, m.estimate.estimate)),
        all=localise_numbers(_value(m, m.city.estimate)) if m.city else "—", areas=p.set_name)
        for m in metrics]
    return "; ".join(parts)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def summary_sentences(p: AreaProfile) -> list[str]:
    """Three to five plain sentences from the profile, in the current language: what was
    measured and how, where the area is significantly behind or ahead of the rest of its set,
    and what is too uncertain.

    >>> from upward.estimate.acs import AcsEstimate
    >>> poor = AreaMetric("acs_poverty_rate", "Poverty rate", "share", "lower", "percent",
    ...     AcsEstimate(0.31, 0.02, "exact"), AcsEstimate(0.22, 0.01, "exact"), {}, 0.12, 0.025,
    ...     1e-6, 2e-6, True, True)
    >>> s = summary_sentences(AreaProfile("area:d:3", "District 3", "districts", 18, 12, 6, [poor],
    ...                                   [], 0.05))
    >>> s[0]
    "District 3 covers 18 census tracts (12 wholly inside); 1 American Community Survey measure was computed for it, with the ACS handbook's approximate margins."
    >>> s[1].startswith("It is significantly behind the rest of districts on 1 of 1 measure")
    True
    """
    n = len(p.metrics)
    exact = sum(1 for m in p.metrics if m.estimate.method == EXACT)
    how = (_("all with exact margins from the Census's replicate tables") if exact == n else
           _("{exact} with exact margins from the Census's replicate tables, the others with "
             "the ACS handbook's approximations").format(exact=exact) if exact else
           _("with the ACS handbook's approximate margins"))
    out = [ngettext("{name} covers {tracts} census tracts ({full} wholly inside); {n} American "
                    "Community Survey measure was computed for it, {how}.",
                    "{name} covers {tracts} census tracts ({full} wholly inside); {n} American "
                    "Community Survey measures were computed for it, {how}.", n).format(
        name=p.name, tracts=p.tracts, full=p.tracts_full, n=n, how=how)]
    compared = [m for m in p.metrics if m.significant is not None]
    behind = [m for m in compared if m.behind]
    ahead = [m for m in compared if m.significant and m.behind is False]
    if behind:
        out.append(ngettext("It is significantly behind the rest of {areas} on {k} of {n} "
                            "measure: {named}.",
                            "It is significantly behind the rest of {areas} on {k} of {n} "
                            "measures: {named}.", len(compared)).format(
            areas=p.set_name, k=len(behind), n=len(compared), named=_named(behind, p)))
    if ahead:
        out.append(_("It is significantly ahead on {k}: {named}.").format(
            k=len(ahead), named=_named(ahead, p)))
    if compared and not behind and not ahead:
        out.append(_("On none of the {n} measures compared does it differ significantly from "
                     "the rest of {areas}.").format(n=len(compared), areas=p.set_name))
    weak = [_(m.label) for m in p.metrics if m.estimate.reliability == "unreliable"]
    if weak:
        out.append(localise_numbers(ngettext(
            "{n} estimate is too uncertain to act on (coefficient of variation above 30%): "
            "{names}.",
            "{n} estimates are too uncertain to act on (coefficient of variation above 30%): "
            "{names}.", len(weak)).format(n=len(weak), names=", ".join(weak))))
    return out


def area_map(p: AreaProfile, metric: AreaMetric, geojson: dict):
    """A choropleth of ``metric`` over the areas of ``p``'s set (the area itself outlined), or
    None when the set has no shapes (a GEOID list).

    >>> from upward.estimate.acs import AcsEstimate
    >>> poor = AreaMetric("acs_poverty_rate", "Poverty rate", "share", "lower", "percent",
    ...                   AcsEstimate(0.31, 0.02, "exact"), None, {"District 4": 0.2}, None, None,
    ...                   None, None)
    >>> p = AreaProfile("d3", "District 3", "districts", 18, 12, 6, [poor], [], 0.05)
    >>> def box(x):
    ...     return {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1],
    ...                                                 [x, 0]]]}
    >>> gj = {"type": "FeatureCollection", "features": [
    ...     {"id": "d3", "properties": {"name": "District 3"}, "geometry": box(0)},
    ...     {"id": "d4", "properties": {"name": "District 4"}, "geometry": box(1)}]}
    >>> fig = area_map(p, poor, gj)
    >>> list(fig.data[0].z), fig.layout.title.text
    ([0.31, 0.2], 'Poverty rate by area (districts)')
    >>> area_map(p, poor, {"type": "FeatureCollection", "features": []}) is None
    True
    """
    import plotly.graph_objects as go

    if not geojson["features"]:
        return None
    from shapely.geometry import shape

    values = {p.name: metric.estimate.estimate, **metric.others}
    ids = [f["id"] for f in geojson["features"]]
    names = [f["properties"]["name"] for f in geojson["features"]]
    percent = metric.format == "percent"
    z = [values.get(n) for n in names]
    centres = [shape(f["geometry"]).representative_point() for f in geojson["features"]]
    fig = go.Figure(go.Choropleth(
        geojson=geojson, locations=ids, featureidkey="id", z=z, text=names,
        customdata=[[n, format_value(v, metric.format)] for n, v in zip(names, z, strict=True)],
        colorscale="Viridis",
        # Darker is worse: for a metric where lower is better, high values are dark.
        reversescale=metric.direction == "lower",
        hovertemplate="<b>%{text}</b><br>%{z:" + (".1%" if percent else ",.3~g") +
        "}<extra></extra>",
        colorbar={"title": {"text": _(metric.label)}, "tickformat": ".0%" if percent else ",~g"},
        marker_line_width=[3 if i == p.area_id else 0.5 for i in ids]))
    fig.add_trace(go.Scattergeo(lon=[c.x for c in centres], lat=[c.y for c in centres],
                                text=names, mode="text", hoverinfo="skip", showlegend=False,
                                textfont={"color": label_colours(
                                    z, reverse=metric.direction == "lower"), "size": 13}))
    fig.update_geos(fitbounds="locations", visible=False)
    fig.update_layout(height=420, margin={"l": 0, "r": 0, "t": 30, "b": 0},
                      title={"text": _("{metric} by area ({areas})").format(
                          metric=_(metric.label), areas=p.set_name)})
    return fig


#: Text on the area map: dark ink or white, whichever contrasts more with the fill (WCAG
#: relative luminance); ink on the no-data grey.
INK, ON_DARK = "#111111", "#ffffff"


def label_colours(values: list, *, reverse: bool = False) -> list[str]:
    """A readable colour for each area's name over its Viridis fill (``reverse``: the scale
    runs dark at high values).

    >>> label_colours([0.1, 0.5, None, 0.9])
    ['#ffffff', '#111111', '#111111', '#111111']
    >>> label_colours([0.1, 0.9], reverse=True)
    ['#111111', '#ffffff']
    """
    from plotly.colors import sample_colorscale, unlabel_rgb

    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    colours = []
    for v in values:
        if v is None:
            colours.append(INK)
            continue
        position = 0.5 if high == low else (v - low) / (high - low)
        fill = unlabel_rgb(sample_colorscale("Viridis", [1 - position if reverse else position])[0])
        light = _luminance(fill)
        ink_contrast = (light + 0.05) / (_luminance((17, 17, 17)) + 0.05)
        white_contrast = 1.05 / (light + 0.05)
        colours.append(INK if ink_contrast >= white_contrast else ON_DARK)
    return colours


def _luminance(rgb) -> float:
    def linear(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(c)) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _map_metric(p: AreaProfile) -> AreaMetric | None:
    behind = [m for m in p.metrics if m.behind]
    return (behind[0] if behind else
            next((m for m in p.metrics if m.metric_id == DEFAULT_MAP_METRIC), None) or
            (p.metrics[0] if p.metrics else None))


def render_area_report(workspace: Workspace, query: str, *, lang: str = "en") -> str:
    """The report of the stored area ``query`` names (an area id, name or ``District 3``) as
    one self-contained HTML document, in ``lang`` ("en" or "es").

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> render_area_report(ws, "District 3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: no custom area is called 'District 3'...
    """
    with use_language(lang) as lang:
        p = area_profile(workspace, query)
        chosen = _map_metric(p)
        figure = ""
        if chosen is not None:
            fig = area_map(p, chosen, area_geojson(workspace, p.area_id))
            if fig is not None:
                figure = figure_svg(fig, "area-map", label=_(
                    "Map of {metric} for the areas of {areas}").format(
                        metric=_(chosen.label), areas=p.set_name))
        generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = render("area.html", p=p, rows=p.display_rows(), summary=summary_sentences(p),
                      chosen=chosen, figure=figure)
        return render_page(
            _("Upward area report: {name}").format(name=p.name), body,
            subtitle=_("Custom area of {areas} · American Community Survey").format(
                areas=p.set_name),
            footer=_("Generated by Upward on {date} from the data loaded in the "
                     "workspace.").format(date=generated), with_charts=False, lang=lang)


def write_area_report(workspace: Workspace, query: str, path: Path, *,
                      lang: str = "en") -> Path:
    """Render the area's report and write it to ``path`` atomically.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> write_area_report(ws, "District 3", ws.root / "d3.html")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: no custom area is called 'District 3'...
    >>> (ws.root / "d3.html").exists()
    False
    """
    return atomic_write(path, render_area_report(workspace, query, lang=lang), mode=0o644)
