"""Chart builders shared by the HTML reports and the web application: Plotly figures with
titles, unit-labelled axes and a colour-blind-safe palette, the scorecard rows, and the
accessible HTML around them (a ``<div>`` per figure, a ``<table>`` alternative per chart).

Colours are the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
under the common colour-vision deficiencies; maps use Cividis (Nuñez, Anderton & Renslow 2018,
PLoS ONE 13(7): e0199239), a sequential scale designed to read the same under deuteranopia.
No figure loads anything from the network: maps are drawn without a tile or base layer.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"period": ["2014", "2023"], "estimate": [0.5, 0.6], "lb": [0.45, 0.55],
...                   "ub": [0.55, 0.65], "quality": [1, 1], "source_id": ["u@1", "u@1"],
...                   "release": ["u", "u"], "bounds": ["ci95", "ci95"], "dated": [True, True]})
>>> fig = trend_chart(s, "Employment rate", "share")
>>> fig.layout.yaxis.tickformat, fig.layout.title.text
('.0%', 'Employment rate')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from upward.measure.render import QUALITY_WORDS
from upward.measure.series import TractMap, trend_release
from upward.measure.standing import better_than, standing_class
from upward.metrics import get_metric
from upward.report.i18n import current_language, format_value, localise_numbers, use_language
from upward.report.i18n import gettext as _
from upward.report.sentences import standing_short
from upward.report.templating import render
from upward.sources import release_label as registry_release_label

#: Okabe–Ito colours by role.
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, YELLOW = (
    "#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#F0E442")
GREY, DARK = "#8c8c8c", "#1b1f24"
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW)
MAP_SCALE = "Cividis"
NO_DATA = "#d9d9d9"

QUALITY_TEXT = {1: "good (no substantial concerns)", 2: "caution (use with caution)",
                3: "weak (do not act on it)"}
NOT_GRADED = "not graded by the publisher"

TEMPLATE = go.layout.Template(layout=go.Layout(
    font={"family": "system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif",
          "size": 13, "color": DARK},
    colorway=list(PALETTE),
    paper_bgcolor="white",
    plot_bgcolor="white",
    hovermode="closest",
    hoverlabel={"align": "left"},
    title={"x": 0, "xanchor": "left", "font": {"size": 16}},
    xaxis={"showline": True, "linecolor": "#6e7781", "ticks": "outside", "gridcolor": "#eaeef2",
           "automargin": True, "zeroline": False},
    yaxis={"showline": True, "linecolor": "#6e7781", "ticks": "outside", "gridcolor": "#eaeef2",
           "automargin": True, "zeroline": False},
    legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
    margin={"l": 60, "r": 20, "t": 60, "b": 60},
))


@dataclass(frozen=True)
class UnitStyle:
    """How values of one catalog unit are written on an axis and in a hover label (d3
    formats) and what the axis says.

    >>> s = UNIT_STYLES["share"]
    >>> s.tick, unit_style("no such unit") == UnitStyle("value", ",.3~g", ",.3~g")
    ('.0%', True)
    """

    axis: str
    tick: str
    hover: str


UNIT_STYLES: dict[str, UnitStyle] = {
    "share": UnitStyle("percent", ".0%", ".1%"),
    "dollars": UnitStyle("US dollars", "$,.0f", "$,.0f"),
    "rank": UnitStyle("income rank (0–1)", ".2f", ".3f"),
    "percentile rank": UnitStyle("percentile rank (0–100)", ".0f", ".1f"),
    "rate per 100,000": UnitStyle("per 100,000 people", ",.0f", ",.0f"),
    "per 10,000": UnitStyle("per 10,000 people", ",.1f", ",.1f"),
    "ratio": UnitStyle("ratio", ".2f", ".3f"),
    "index": UnitStyle("index", ",.3~g", ",.3~g"),
    "count": UnitStyle("count", ",.0f", ",.0f"),
    "people": UnitStyle("people", ",.0f", ",.0f"),
    "grade levels per year": UnitStyle("grade levels per year", ".2f", ".2f"),
}
_DEFAULT_STYLE = UnitStyle("value", ",.3~g", ",.3~g")

TREND_ARROWS = {1: "▲", -1: "▼", 0: "="}


def unit_style(unit: str) -> UnitStyle:
    """The axis and hover formats of a catalog unit (a neutral style for unknown units).

    >>> unit_style("dollars").tick, unit_style("no such unit").axis
    ('$,.0f', 'value')
    """
    return UNIT_STYLES.get(unit, _DEFAULT_STYLE)


def quality_word(quality) -> str:
    """The word for a quality grade, with its meaning, for people (not only a colour).

    >>> quality_word(2), quality_word(None)
    ('caution (use with caution)', 'not graded by the publisher')
    """
    if quality is None or quality is pd.NA or (isinstance(quality, float) and math.isnan(quality)):
        return NOT_GRADED
    return QUALITY_TEXT.get(int(quality), NOT_GRADED)


def release_label(release: str, *, short: bool = False) -> str:
    """A readable name of a release (a source id or dataset key), from the dataset registry;
    ``short`` for narrow table cells.

    >>> release_label("urban.place_recent@1")
    'Urban Institute, most recent values (2024 release)'
    >>> release_label("census.tracts.40@1"), release_label("urban.place_recent@1", short=True)
    ('US Census Bureau, tract boundaries, state 40', 'Urban Institute, 2024 file')
    """
    return registry_release_label(release, short=short)


def format_change(value: float | None, unit: str, *, signed: bool = False) -> str:
    """A difference between two values of a unit: shares in percentage points, others as
    ``format_value`` writes them.

    >>> format_change(-0.0123, "share"), format_change(0.05, "share", signed=True)
    ('-1.2 pts', '+5.0 pts')
    >>> format_change(1500.0, "dollars", signed=True)
    '+$1,500'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else (
        "-" if value < 0 else "")
    if unit == "share":
        return f"{sign}{100 * abs(value):.1f} pts"
    return f"{sign}{format_value(abs(value), unit)}"


def _base(fig: go.Figure, title: str, x_title: str | None, y_title: str | None,
          height: int) -> go.Figure:
    fig.update_layout(template=TEMPLATE, title={"text": title}, height=height,
                      xaxis_title=x_title, yaxis_title=y_title)
    return fig


# -- trend -----------------------------------------------------------------------------------
def trend_chart(series: pd.DataFrame, label: str, unit: str) -> go.Figure:
    """A metric over time: the trend release as a line with its 95% interval as a band, other
    releases as separate markers (never joined to it). Quality-3 values ("do not act on it")
    are drawn hollow; the hover says every value's quality in words.

    ``series`` is ``upward.measure.series.metric_series`` output; undated periods are left out.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"period": ["2014", "2021", "2021"], "estimate": [1.0, 2.0, 2.1],
    ...     "lb": [0.5, 1.5, None], "ub": [1.5, 2.5, None], "quality": [1, 3, 1],
    ...     "source_id": ["a@1", "a@1", "b@2"], "release": ["a", "a", "b"],
    ...     "bounds": ["ci95", "ci95", "none"], "dated": [True, True, True]})
    >>> [t.name for t in trend_chart(s, "X", "ratio").data]
    ['95% interval', 'a', 'b']
    """
    style = unit_style(unit)
    fig = go.Figure()
    dated = series[series["dated"].astype(bool)] if len(series) else series
    main = trend_release(dated) if len(dated) else None
    order = sorted(dated["source_id"].unique(), key=lambda s: (s != main, s)) if len(dated) else []
    for k, source_id in enumerate(order):
        rows = dated[dated["source_id"] == source_id].sort_values("period")
        years = rows["period"].astype(int).tolist()
        colour = PALETTE[k % len(PALETTE)]
        name = release_label(source_id)
        bounded = rows.dropna(subset=["lb", "ub"])
        if source_id == main and len(bounded) >= 2:
            fig.add_trace(go.Scatter(
                x=bounded["period"].astype(int).tolist() + bounded["period"].astype(int).tolist()[::-1],
                y=bounded["ub"].tolist() + bounded["lb"].tolist()[::-1],
                fill="toself", fillcolor="rgba(0,114,178,0.18)", line={"width": 0},
                mode="lines",
                hoverinfo="skip", name=_("95% interval"), showlegend=True))
        weak = rows["quality"].astype("Float64").fillna(0).eq(3).tolist()
        fig.add_trace(go.Scatter(
            x=years, y=rows["estimate"].tolist(), name=name,
            mode="lines+markers" if source_id == main else "markers",
            line={"color": colour, "width": 2.5},
            marker={"color": colour, "size": 8 if source_id == main else 10,
                    "symbol": ["circle-open" if w else
                               ("circle" if source_id == main else "diamond") for w in weak],
                    "line": {"width": 2, "color": colour}},
            customdata=[[_interval_text(r.lb, r.ub, unit), _(quality_word(r.quality)), name]
                        for r in rows.itertuples(index=False)],
            hovertemplate=(f"%{{x}}: %{{y:{style.hover}}}<br>{_('95% interval')}: "
                           f"%{{customdata[0]}}<br>{_('Quality')}: %{{customdata[1]}}"
                           "<br>%{customdata[2]}<extra></extra>"),
        ))
    _base(fig, label, _("Year"), _(style.axis), 400)
    fig.update_layout(yaxis_tickformat=style.tick, xaxis={"dtick": 1, "tickformat": "d"},
                      legend={"y": -0.28}, margin={"b": 100})
    if not order:
        _no_data(fig, _("No yearly values published for this metric"))
    return fig


def _interval_text(lb, ub, unit: str) -> str:
    if lb is None or ub is None or pd.isna(lb) or pd.isna(ub):
        return _("not published")
    return f"{format_value(float(lb), unit)}–{format_value(float(ub), unit)}"


def _english(write, *args, **kwargs) -> str:
    """Numbers written the English way, for text every page and report localises once when it
    shows it (``localise_numbers``, the templates' ``num`` filter): text localised twice reads
    a Spanish "0,842" as an English thousands separator and writes "0.842" back."""
    with use_language("en"):
        return write(*args, **kwargs)


def _no_data(fig: go.Figure, text: str) -> None:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font={"size": 14, "color": "#4a5360"})


def trend_table(series: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The table alternative of a trend chart: one row per value, formatted for people (the
    English way: ``table_alternative`` writes the numbers in the page's language once).

    >>> import pandas as pd
    >>> s = pd.DataFrame({"period": ["2021"], "estimate": [0.5], "lb": [0.4], "ub": [0.6],
    ...     "quality": [2], "source_id": ["a@1"], "release": ["a"], "bounds": ["ci95"],
    ...     "dated": [True]})
    >>> trend_table(s, "share").iloc[0].tolist()
    ['2021', '50.0%', '40.0%–60.0%', 'caution (use with caution)', 'a']
    """
    rows = [[r.period, _english(format_value, float(r.estimate), unit),
             _english(_interval_text, r.lb, r.ub, unit),
             quality_word(r.quality), release_label(r.source_id)]
            for r in series.sort_values(["period", "source_id"]).itertuples(index=False)]
    return pd.DataFrame(rows, columns=["Period", "Value", "95% interval", "Quality", "Release"])


# -- peers -----------------------------------------------------------------------------------
def peer_chart(value: float, peers: pd.DataFrame, label: str, unit: str, *,
               name: str = "This city", lb: float | None = None,
               ub: float | None = None) -> go.Figure:
    """The city against its peers, a dot plot sorted by value: peers in grey with their 95%
    intervals where published, the city as a larger vermillion diamond, the peer median as a
    dashed line.

    ``peers`` has columns ``name`` and ``estimate`` (and optionally ``lb``, ``ub``), e.g.
    ``upward.measure.series.peer_values`` for the ids of ``upward.diagnose.peers.choose_peers``.

    >>> import pandas as pd
    >>> p = pd.DataFrame({"name": ["A", "B"], "estimate": [1.0, 3.0]})
    >>> fig = peer_chart(2.0, p, "X", "ratio", name="Tulsa")
    >>> list(fig.data[1].y)
    ['Tulsa']
    """
    style = unit_style(unit)
    peers = peers.sort_values("estimate")
    fig = go.Figure()
    has_bounds = {"lb", "ub"} <= set(peers.columns) and peers[["lb", "ub"]].notna().any().any()
    error = None
    if has_bounds:
        error = {"type": "data", "symmetric": False, "color": GREY, "thickness": 1.2,
                 "array": (peers["ub"] - peers["estimate"]).tolist(),
                 "arrayminus": (peers["estimate"] - peers["lb"]).tolist()}
    fig.add_trace(go.Scatter(
        x=peers["estimate"].tolist(), y=peers["name"].tolist(), mode="markers", name="Peers",
        marker={"color": GREY, "size": 10}, error_x=error,
        hovertemplate=f"%{{y}}: %{{x:{style.hover}}}<extra></extra>"))
    city_error = None
    if lb is not None and ub is not None:
        city_error = {"type": "data", "symmetric": False, "array": [ub - value],
                      "arrayminus": [value - lb], "color": VERMILLION, "thickness": 1.6}
    fig.add_trace(go.Scatter(
        x=[value], y=[name], mode="markers", name=name, error_x=city_error,
        marker={"color": VERMILLION, "size": 15, "symbol": "diamond",
                "line": {"color": DARK, "width": 1}},
        hovertemplate=f"%{{y}}: %{{x:{style.hover}}}<extra></extra>"))
    if len(peers):
        median = float(np.median(peers["estimate"]))
        fig.add_vline(x=median, line={"dash": "dash", "color": BLUE, "width": 1.5},
                      annotation_text=_("peer median"), annotation_position="top")
    n = len(peers) + 1
    _base(fig, label, _(style.axis), None, max(260, 110 + 30 * n))
    fig.update_layout(xaxis_tickformat=style.tick, showlegend=False,
                      yaxis={"categoryorder": "array",
                             "categoryarray": _dot_order(peers, value, name)})
    return fig


def _dot_order(peers: pd.DataFrame, value: float, name: str) -> list[str]:
    names = list(peers["name"]) + [name]
    values = list(peers["estimate"]) + [value]
    return [n for _, n in sorted(zip(values, names, strict=True), key=lambda p: p[0])]


def peer_table(value: float, peers: pd.DataFrame, unit: str, *, name: str = "This city"
               ) -> pd.DataFrame:
    """The table alternative of a peer chart, sorted by value, the city marked.

    >>> import pandas as pd
    >>> peer_table(2.0, pd.DataFrame({"name": ["A"], "estimate": [1.0]}), "ratio",
    ...            name="Tulsa")["Place"].tolist()
    ['Tulsa (this city)', 'A']
    """
    rows = [(float(r.estimate), r.name, _english(_interval_text, getattr(r, "lb", None),
                                                 getattr(r, "ub", None), unit))
            for r in peers.itertuples(index=False)]
    rows.append((float(value), f"{name} (this city)", ""))
    rows.sort(key=lambda r: -r[0])
    return pd.DataFrame([[n, _english(format_value, v, unit), i] for v, n, i in rows],
                        columns=["Place", "Value", "95% interval"])


# -- national distribution ---------------------------------------------------------------------
def national_percentile(values: Iterable[float], value: float) -> float:
    """100 × (number below + half the number equal) ÷ number, the profile's rule.

    >>> national_percentile([1, 2, 3, 4], 3)
    62.5
    """
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    return float(100 * ((v < value).sum() + (v == value).sum() / 2) / len(v)) if len(v) else math.nan


def distribution_chart(values, city_value: float, label: str, unit: str, *,
                       name: str = "This city", kind: str = "US cities",
                       direction: str = "context") -> go.Figure:
    """The national distribution of a metric (histogram) with the city marked by a line and
    its percentile.

    ``values`` is an array or a frame with an ``estimate`` column (``metric_distribution``).

    >>> fig = distribution_chart([1, 2, 2, 3, 4], 3.0, "X", "ratio", name="Tulsa")
    >>> fig.layout.annotations[0].text
    'Tulsa: 3 → 70th percentile'
    >>> distribution_chart([1, 2, 2, 3, 4], 3.0, "X", "ratio", name="Tulsa",
    ...                    direction="lower").layout.annotations[0].text
    'Tulsa: 3 → 70th percentile (worse than 70%)'
    """
    style = unit_style(unit)
    v = values["estimate"] if isinstance(values, pd.DataFrame) else pd.Series(values)
    v = pd.to_numeric(v, errors="coerce").dropna()
    fig = go.Figure(go.Histogram(
        x=v.tolist(), nbinsx=30, name=kind, marker={"color": SKY, "line": {"color": "white",
                                                                          "width": 0.5}},
        hovertemplate=f"%{{x}}<br>%{{y}} {kind}<extra></extra>"))
    pct = national_percentile(v, city_value)
    text = _("{name}: {value} → {percentile} percentile").format(
        name=name, value=format_value(city_value, unit), percentile=_ordinal(pct))
    if direction in ("higher", "lower"):
        text += f" ({standing_short(pct, direction)})"
    fig.add_vline(x=city_value, line={"color": VERMILLION, "width": 3})
    right = len(v) > 0 and city_value > float(v.median())
    fig.add_annotation(x=city_value, y=0.98, yref="paper", text=text, showarrow=False,
                       xanchor="right" if right else "left", yanchor="top",
                       xshift=-6 if right else 6, bgcolor="rgba(255,255,255,0.85)",
                       font={"color": DARK})
    _base(fig, f"{label}: {len(v):,} {_(kind)}", _(style.axis),
          _("number of {kind}").format(kind=_(kind)), 360)
    fig.update_layout(xaxis_tickformat=style.tick, showlegend=False, bargap=0.02)
    return fig


def _ordinal(p: float) -> str:
    if p is None or math.isnan(p):
        return "—"
    n = round(p)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ordinal(p: float | None) -> str:
    """A percentile as an ordinal, rounded ("75th", "1st", "—" when unknown).

    >>> ordinal(74.6), ordinal(1.2), ordinal(12.0), ordinal(None)
    ('75th', '1st', '12th', '—')
    """
    return _ordinal(math.nan if p is None else p)


def distribution_table(values, city_value: float, unit: str, *, name: str = "This city"
                       ) -> pd.DataFrame:
    """The table alternative of a distribution chart: deciles and the city's percentile.

    >>> distribution_table(list(range(11)), 5.0, "count", name="X").iloc[-1].tolist()
    ['X', '5', '50th']
    """
    v = values["estimate"] if isinstance(values, pd.DataFrame) else pd.Series(values)
    v = pd.to_numeric(v, errors="coerce").dropna()
    rows = [[f"{q}th percentile of {len(v):,}" if q not in (0, 100) else
             ("lowest" if q == 0 else "highest"),
             _english(format_value, float(v.quantile(q / 100)), unit),
             f"{q}th" if q not in (0, 100) else ""] for q in (0, 10, 25, 50, 75, 90, 100)]
    rows.append([name, _english(format_value, city_value, unit),
                 ordinal(national_percentile(v, city_value))])
    return pd.DataFrame(rows, columns=["Where", "Value", "Percentile"])


# -- map -------------------------------------------------------------------------------------
def d3_winding(geojson: dict) -> dict:
    """A copy of a FeatureCollection with rings wound the way d3-geo (and so Plotly's geo maps)
    reads them: exterior rings clockwise, holes counter-clockwise, the reverse of RFC 7946.
    A ring wound the RFC way is read by d3 as the whole globe minus the polygon.

    >>> ring = [[0, 0], [1, 0], [1, 1], [0, 0]]  # counter-clockwise
    >>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": "1",
    ...       "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    >>> d3_winding(fc)["features"][0]["geometry"]["coordinates"][0]
    [[0, 0], [1, 1], [1, 0], [0, 0]]
    """

    def orient(polygon: list) -> list:
        out = []
        for k, ring in enumerate(polygon):
            xy = np.asarray(ring, dtype=float)
            area = float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))
            clockwise = area < 0
            out.append(ring if clockwise == (k == 0) else ring[::-1])
        return out

    features = []
    for f in geojson["features"]:
        g = f.get("geometry") or {}
        if g.get("type") == "Polygon":
            g = {**g, "coordinates": orient(g["coordinates"])}
        elif g.get("type") == "MultiPolygon":
            g = {**g, "coordinates": [orient(p) for p in g["coordinates"]]}
        features.append({**f, "geometry": g})
    return {**geojson, "features": features}


def choropleth(tract_map: TractMap, label: str | None = None, unit: str | None = None
               ) -> go.Figure:
    """The tracts of a place or county coloured by a tract metric, on their own shapes with no
    tiles or base map (works offline), fitted to the tracts. Tracts with a shape but no value
    are drawn in light grey ("no estimate"). Hover: tract name, GEOID, value, quality.

    >>> from upward.measure.series import empty_map
    >>> from upward.geo.resolve import GeoMatch
    >>> fig = choropleth(empty_map(GeoMatch("1", "county", "X County", "01"),
    ...                            get_metric("kfr_dollars_p25")))
    >>> fig.layout.annotations[0].text
    'No tract shapes are loaded for X County'
    """
    metric = tract_map.metric
    label = label or metric.label
    unit = unit or metric.unit
    style = unit_style(unit)
    geojson = d3_winding(tract_map.geojson)
    values = tract_map.values[tract_map.values["has_geometry"]] if tract_map.n_tracts else \
        tract_map.values
    with_value = values[values["estimate"].notna()]
    without = values[values["estimate"].isna()]
    fig = go.Figure()

    def custom(rows: pd.DataFrame) -> list[list[str]]:
        return [[r.name, format_value(float(r.estimate), unit) if pd.notna(r.estimate)
                 else _("no estimate"), _(quality_word(r.quality))]
                for r in rows.itertuples(index=False)]

    hover = ("<b>%{customdata[0]}</b><br>GEOID %{location}<br>" + escape(label)
             + ": %{customdata[1]}<br>" + _("Quality") + ": %{customdata[2]}<extra></extra>")
    if len(without):
        fig.add_trace(go.Choropleth(
            geojson=geojson, featureidkey="id", locations=without["geo_id"].tolist(),
            z=[0] * len(without), colorscale=[[0, NO_DATA], [1, NO_DATA]], showscale=False,
            name=_("no estimate"), customdata=custom(without), hovertemplate=hover,
            marker={"line": {"color": "white", "width": 0.4}}))
    if len(with_value):
        fig.add_trace(go.Choropleth(
            geojson=geojson, featureidkey="id", locations=with_value["geo_id"].tolist(),
            z=with_value["estimate"].astype(float).tolist(), colorscale=MAP_SCALE,
            name=label, customdata=custom(with_value), hovertemplate=hover,
            marker={"line": {"color": "white", "width": 0.4}},
            # under the map (not beside it), so a phone's narrow screen keeps the map wide
            colorbar={"title": {"text": _wrap(f"{label} ({_(style.axis)})", 40), "side": "top"},
                      "tickformat": style.tick, "thickness": 12, "len": 0.9,
                      "orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.02,
                      "yanchor": "top"}))
    if tract_map.has_geometry:
        from upward.report.mapping import overlays

        fig.add_traces(overlays(geojson, values, lambda v: format_value(v, unit)))
        fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0})
    title = _wrap(_("{label}, by census tract: {name}").format(label=label,
                                                                 name=tract_map.geo.name), 40)
    _base(fig, title, None, None, 680)
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator",
                    bgcolor="white")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 70, "b": 150})
    if not tract_map.has_geometry:
        _no_data(fig, _("No tract shapes are loaded for {name}").format(name=tract_map.geo.name))
    return fig


def _wrap(text: str, width: int = 22) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(escape(x) for x in lines)


def tract_table(tract_map: TractMap) -> pd.DataFrame:
    """The table alternative of the map: every tract inside, lowest value first.

    >>> from upward.measure.series import empty_map
    >>> from upward.geo.resolve import GeoMatch
    >>> tract_table(empty_map(GeoMatch("1", "county", "X", "01"),
    ...                       get_metric("kfr_dollars_p25"))).columns.tolist()
    ['Tract', 'GEOID', 'Value', 'Quality', 'Shape']
    """
    unit = tract_map.metric.unit
    rows = tract_map.values.sort_values("estimate", na_position="last")
    out = [[r.name, r.geo_id,
            _english(format_value, float(r.estimate), unit) if pd.notna(r.estimate)
            else "no estimate", quality_word(r.quality), "yes" if r.has_geometry else "missing"]
           for r in rows.itertuples(index=False)]
    return pd.DataFrame(out, columns=["Tract", "GEOID", "Value", "Quality", "Shape"])


# -- scorecard -------------------------------------------------------------------------------
_TREND_MEANINGS = {
    # (direction, sign of the change) → words, for a significant change
    ("higher", 1): "improving", ("higher", -1): "worsening",
    ("lower", 1): "worsening", ("lower", -1): "improving",
}


def _trend_meaning(m) -> str:
    t = m.trend
    if t is None:
        return ""
    if t.significant is None:
        return "no interval published"
    if not t.significant:
        return "no significant change"
    sign = int(np.sign(t.change))
    if m.direction == "parity" and m.declared:
        parity = get_metric(m.metric_id).parity_value or 0.0
        closer = abs(t.last_estimate - parity) < abs(t.first_estimate - parity)
        return "closer to parity" if closer else "further from parity"
    return _TREND_MEANINGS.get((m.direction, sign), "rising" if sign > 0 else "falling")


def scorecard_table(profile) -> list[dict]:
    """The scorecard rows of a profile, one plain dict per metric, in the profile's order
    (by pillar): raw numbers and the words shown to people, so the report and the web pages
    print the same thing. Numbers are written the English way (``value``, ``interval``,
    ``trend_text``, ``county_value``): the page or report writes them the reader's way once,
    as it shows them (``localise_numbers``).

    Keys: pillar, metric_id, label, unit, direction, estimate, value, lb, ub, interval,
    quality, quality_word, period, source_id, release, release_short, publisher, trend_arrow, trend_text,
    trend_meaning, percentile, percentile_text, national_n, county_estimate, county_value.

    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.profile import MetricEntry, Profile
    >>> m = MetricEntry("pctl_income_50", "Median household income", "Opportunity-rich", "dollars",
    ...                 "higher", 36700.0, 34400.0, 40800.0, None, "95% CI", 1, "2021", "urban",
    ...                 0.2, 486)
    >>> p = Profile(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None, None, [m],
    ...             [], [], [], None, [])
    >>> row = scorecard_table(p)[0]
    >>> row["value"], row["interval"], row["quality_word"], row["percentile"]
    ('$36,700', '$34,400–$40,800', 'good', 0.2)
    """
    publishers = {s["source_id"]: s.get("publisher") for s in profile.sources}
    rows = []
    for m in profile.metrics:
        t = m.trend
        arrow = TREND_ARROWS[int(np.sign(t.change))] if t else ""
        trend_text = ""
        if t:
            trend_text = (f"{arrow} {_english(format_change, abs(t.change), m.unit)} "
                          f"{t.first_period}–{t.last_period}")
        rows.append({
            "pillar": m.pillar,
            "metric_id": m.metric_id,
            "label": m.label,
            "unit": m.unit,
            "direction": m.direction,
            "estimate": m.estimate,
            "value": _english(format_value, m.estimate, m.unit),
            "lb": m.lb,
            "ub": m.ub,
            "interval": (_english(_interval_text, m.lb, m.ub, m.unit)
                         if m.lb is not None and m.ub is not None and not pd.isna(m.lb)
                         and not pd.isna(m.ub) else _("not published")),
            "quality": m.quality,
            "quality_word": QUALITY_WORDS.get(m.quality, "not graded") if m.quality else
            "not graded",
            "period": m.period,
            "source_id": m.source_id,
            "release": release_label(m.source_id),
            "release_short": release_label(m.source_id, short=True),
            "publisher": publishers.get(m.source_id) or "",
            "trend_arrow": arrow,
            "trend_text": trend_text,
            "trend_meaning": _trend_meaning(m),
            "percentile": better_than(m.national_percentile, m.direction)
            if m.direction in ("higher", "lower") else m.national_percentile,
            "raw_percentile": m.national_percentile,
            "percentile_text": standing_short(m.national_percentile, m.direction),
            "standing": standing_class(better_than(m.national_percentile, m.direction)),
            "national_n": m.national_n,
            "county_estimate": m.county_estimate,
            "county_value": _english(format_value, m.county_estimate, m.unit)
            if m.county_estimate is not None else "",
        })
    return rows


def scorecard_by_pillar(rows: list[dict]) -> dict[str, list[dict]]:
    """Scorecard rows grouped by pillar, keeping their order.

    >>> scorecard_by_pillar([{"pillar": "A", "x": 1}, {"pillar": "B"}, {"pillar": "A"}])["A"]
    [{'pillar': 'A', 'x': 1}, {'pillar': 'A'}]
    """
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["pillar"], []).append(r)
    return out


# -- HTML --------------------------------------------------------------------------------------
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def figure_div(fig: go.Figure, div_id: str, *, label: str | None = None) -> str:
    """The HTML of one figure: a ``<div>`` that draws it with the page's plotly.js (not
    included), inside a ``role="figure"`` wrapper labelled by the chart's title.

    >>> html = figure_div(go.Figure(layout={"title": {"text": "Income"}}), "c1")
    >>> 'id="c1"' in html and 'aria-label="Income"' in html and "<script" in html
    True
    """
    title = label or (fig.layout.title.text if fig.layout.title and fig.layout.title.text
                      else div_id)
    height = fig.layout.height or 380
    if current_language() == "es":
        fig = go.Figure(fig).update_layout(separators=",.")  # decimal comma, point thousands
    inner = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                        config=PLOTLY_CONFIG, default_width="100%",
                        default_height=f"{height}px")
    return render("_figure.html", role="figure", label=str(title), inner=inner)


def table_alternative(df: pd.DataFrame, caption: str, *, row_headers: bool = True,
                      numeric: Iterable[str] = ("Value", "95% interval", "Percentile")) -> str:
    """An accessible HTML table of a frame: ``<caption>``, column headers with
    ``scope="col"``, and the first column as row headers (``scope="row"``). Every cell is
    escaped; missing values print as a dash.

    >>> import pandas as pd
    >>> print(table_alternative(pd.DataFrame({"Year": ["2021"], "Value": ["$1"]}), "Income"))
    <table>
    <caption>Income</caption>
    <thead><tr><th scope="col">Year</th><th scope="col" class="num">Value</th></tr></thead>
    <tbody>
    <tr><th scope="row">2021</th><td class="num">$1</td></tr>
    </tbody>
    </table>
    """
    cols = [str(c) for c in df.columns]
    shown = {c: _(c) for c in cols}  # headers and words in the page's language
    rows = [[(shown[c], "—" if v is None or (isinstance(v, float) and math.isnan(v))
              else localise_numbers(_(str(v))))
             for c, v in zip(cols, row, strict=True)] for row in df.itertuples(index=False)]
    return render("_table.html", columns=[shown[c] for c in cols], rows=rows, caption=caption,
                  numeric={shown.get(c, c) for c in numeric}, row_headers=row_headers)

