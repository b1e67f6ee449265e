"""Static SVG of the report's charts, so a report file needs no plotly.js (about 5 MB).

The charts are built once, as Plotly figures (``upward.report.charts``), and the web app
draws them with plotly.js served from the installed package. A report written to a file
draws the same figures as inline SVG instead: title, axes with units and ticks, legend,
the same colours, intervals and reference lines, and a tooltip (``<title>``) on every point
and tract. The subset of Plotly drawn is what the charts use: scatter (lines, markers, filled
bands, error bars), histograms, bars, vertical and horizontal reference lines, annotations,
and choropleth maps of GeoJSON shapes (Mercator, fitted to the shapes) with a colour bar.

Examples
--------
>>> import plotly.graph_objects as go
>>> fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="a"), layout={"title": {"text": "T"}})
>>> svg = figure_svg(fig, "c1")
>>> svg.startswith('<figure class="chart"') and "<svg" in svg and ">T</text>" in svg
True
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from html import escape

import numpy as np

from upward.report.i18n import gettext as _
from upward.report.i18n import localise_numbers

WIDTH = 760
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif"'
INK, MUTED, AXIS, GRID = "#1b1f24", "#4a5360", "#6e7781", "#eaeef2"
DEFAULT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


def figure_svg(fig, div_id: str, *, label: str | None = None, width: int = WIDTH,
               legend_width: int = 150, legend_below: bool = False) -> str:
    """One figure as a ``<figure>`` holding an inline ``<svg id=div_id>`` (``role="img"``,
    labelled by the chart's title). A map may be drawn ``width`` wide with its legend
    ``legend_width`` wide on its right, or with ``legend_below`` under it: then the map takes
    the whole width, as tall as its shapes need (the layout's height at most).

    >>> import plotly.graph_objects as go
    >>> 'id="p1"' in figure_svg(go.Figure(go.Bar(x=[1], y=["a"], orientation="h")), "p1")
    True
    """
    layout = fig.layout
    title = layout.title.text if layout.title and layout.title.text else ""
    title = title.replace("<br>", " ")  # a title wrapped for the browser is one line here
    name = label or title or div_id
    height = int(layout.height or 380)
    if any(t.type == "choropleth" for t in fig.data) and legend_below:
        body, height = _map_legend_below(fig, height, width)
    elif any(t.type == "choropleth" for t in fig.data):  # a map may be drawn narrower
        body = _map(fig, height, width, legend_width)
    else:
        body, width = _cartesian(fig, height), WIDTH
    heading = _text(12, 22, title, size=15, weight="600") if title else ""
    return (f'<figure class="chart" data-chart="{escape(div_id)}">'
            f'<svg id="{escape(div_id)}" role="img" aria-label="{escape(str(name))}" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
            f'{FONT} font-size="12" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(str(name))}</title>{heading}{body}</svg></figure>")


# -- numbers ------------------------------------------------------------------------------------
_FORMAT = re.compile(r"^(?P<currency>\$)?(?P<comma>,)?(?:\.(?P<precision>\d+))?(?P<trim>~)?"
                     r"(?P<kind>[%fdg])?$")


def d3_format(value: float, spec: str | None) -> str:
    """A number written with the subset of d3-format the charts use (``$,.0f``, ``.0%``,
    ``,.3~g``, ``d``, ``.2f``).

    >>> d3_format(64739.4, "$,.0f"), d3_format(0.256, ".0%"), d3_format(1234.5, ",.3~g")
    ('$64,739', '26%', '1,230')
    """
    match = _FORMAT.match(spec or "")
    if match is None or not spec:
        return f"{value:,.4g}"
    comma = "," if match["comma"] else ""
    precision = match["precision"]
    kind = match["kind"] or "g"
    if kind == "%":
        text = f"{abs(value) * 100:{comma}.{precision or 0}f}%"
    elif kind == "d":
        text = f"{round(abs(value)):{comma}d}"
    elif kind == "f":
        text = f"{abs(value):{comma}.{precision or 6}f}"
    else:
        # significant digits written in fixed notation (d3 would switch to 1.23e+3)
        rounded = float(f"{abs(value):.{precision or 6}g}")
        text = f"{rounded:{comma}.6f}".rstrip("0").rstrip(".")
    sign = "−" if value < 0 and float(re.sub(r"[^0-9.]", "", text) or 0) != 0 else ""
    return f"{sign}{'$' if match['currency'] else ''}{text}"


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten).

    >>> nice_ticks(0.13, 0.92)
    [0.2, 0.4, 0.6000000000000001, 0.8]
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    return [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]


# -- cartesian charts ------------------------------------------------------------------------
class _Axis:
    """A numeric or categorical axis mapped onto [start, end] pixels."""

    def __init__(self, values: list, start: float, end: float, *, spec=None,
                 categories: Sequence[str] | None = None, zero: bool = False,
                 integer_ticks: bool = False) -> None:
        self.start, self.end, self.spec = start, end, spec
        self.categories = list(categories) if categories is not None else None
        if self.categories is not None:
            return
        finite = [float(v) for v in values if v is not None and _finite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if zero:
            low = min(low, 0.0)
        pad = (high - low) * 0.06 or abs(high) * 0.1 or 1.0
        self.low = low if zero and low == 0 else low - pad
        self.high = high + pad
        self.integer_ticks = integer_ticks

    def __call__(self, value) -> float:
        if self.categories is not None:
            k = self.categories.index(str(value))
            band = (self.end - self.start) / max(1, len(self.categories))
            return self.start + band * (k + 0.5)
        return self.start + (float(value) - self.low) / (self.high - self.low) * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        if self.categories is not None:
            return [(self(c), c) for c in self.categories]
        if self.integer_ticks and self.high - self.low <= 16:
            values = list(range(math.ceil(self.low), math.floor(self.high) + 1))
        else:
            values = nice_ticks(self.low, self.high)
        return [(self(v), d3_format(v, self.spec)) for v in values]


def _cartesian(fig, height: int) -> str:
    layout = fig.layout
    traces = [t for t in fig.data if t.visible is not False]
    bars = [_histogram(t) if t.type == "histogram" else None for t in traces]
    horizontal = any(t.type == "bar" and t.orientation == "h" for t in traces)
    xs, ys = [], []
    for t, hist in zip(traces, bars, strict=True):
        if hist is not None:
            xs += [hist[0][0], hist[0][-1]]
            ys += [0, *hist[1]]
            continue
        tx, ty = list(t.x or []), list(t.y or [])
        xs += tx + _error_ends(tx, t.error_x)
        ys += ty + _error_ends(ty, t.error_y)
        if t.type == "bar":
            (xs if horizontal else ys).append(0)
    for shape in layout.shapes or ():
        if shape.xref == "x":
            xs += [shape.x0, shape.x1]
        if shape.yref == "y":
            ys += [shape.y0, shape.y1]
    y_categories = _categories(ys, layout.yaxis)
    x_categories = _categories(xs, layout.xaxis)
    legend = _legend_items(fig, traces)
    left = 24 + (max((len(str(c)) for c in y_categories), default=0) * 6.6 if y_categories
                 else 62)
    left = min(max(left, 70), 300)
    placed = _legend_layout(legend, left - 40)
    rows = len({y for _, _, y in placed})
    bottom = 56 + 22 * rows + (4 if rows else 0)
    top = 48
    x_axis = _Axis(xs, left, WIDTH - 24, spec=layout.xaxis.tickformat, categories=x_categories,
                   zero=any(t.type in ("bar", "histogram") for t in traces) and not x_categories
                   and horizontal, integer_ticks=layout.xaxis.dtick == 1)
    y_axis = _Axis(ys, height - bottom, top, spec=layout.yaxis.tickformat,
                   categories=y_categories,
                   zero=any(t.type == "histogram" or (t.type == "bar" and not horizontal)
                            for t in traces))
    out = [_grid(x_axis, y_axis, layout)]
    for k, (t, hist) in enumerate(zip(traces, bars, strict=True)):
        colour = _colour(t, k)
        if hist is not None:
            out.append(_histogram_bars(t, hist, x_axis, y_axis, colour))
        elif t.type == "bar":
            out.append(_bars(t, x_axis, y_axis, colour, horizontal))
        else:
            out.append(_scatter(t, x_axis, y_axis, colour))
    out += [_shape(s, x_axis, y_axis) for s in layout.shapes or ()]
    out += [_annotation(a, x_axis, y_axis) for a in layout.annotations or ()]
    out.append(_axis_titles(layout, x_axis, y_axis, height, bottom, legend))
    if placed:
        out.append(_legend(placed, height - 10 - 22 * (rows - 1)))
    return "".join(out)


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _categories(values: list, axis) -> list[str] | None:
    if not any(isinstance(v, str) for v in values):
        return None
    order = list(axis.categoryarray) if axis.categoryarray else []
    seen = [str(v) for v in dict.fromkeys(values) if isinstance(v, str)]
    return order + [v for v in seen if v not in order]


def _error_ends(centres: list, error) -> list[float]:
    if error is None or error.array is None:
        return []
    plus = list(error.array)
    minus = list(error.arrayminus) if error.arrayminus is not None else plus
    out = []
    for c, p, m in zip(centres, plus, minus, strict=False):
        if _finite(c) and _finite(p):
            out.append(float(c) + float(p))
        if _finite(c) and _finite(m):
            out.append(float(c) - float(m))
    return out


def _histogram(trace) -> tuple[np.ndarray, np.ndarray] | None:
    if trace.type != "histogram":
        return None
    values = np.asarray([v for v in trace.x or [] if _finite(v)], dtype=float)
    if not len(values):
        return np.array([0.0, 1.0]), np.array([0])
    counts, edges = np.histogram(values, bins=int(trace.nbinsx or 30))
    return edges, counts


def _colour(trace, k: int) -> str:
    for part in (trace.marker, getattr(trace, "line", None)):
        colour = getattr(part, "color", None) if part is not None else None
        if isinstance(colour, str):
            return colour
    return DEFAULT_COLOURS[k % len(DEFAULT_COLOURS)]


def _grid(x_axis: _Axis, y_axis: _Axis, layout) -> str:
    out = []
    x0, x1, y0, y1 = x_axis.start, x_axis.end, y_axis.start, y_axis.end
    for pos, text in y_axis.ticks():
        if y_axis.categories is None:
            out.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{pos:.1f}" y2="{pos:.1f}" '
                       f'stroke="{GRID}"/>')
        out.append(_text(x0 - 8, pos + 4, text, anchor="end", fill=MUTED))
    for pos, text in x_axis.ticks():
        if x_axis.categories is None:
            out.append(f'<line x1="{pos:.1f}" x2="{pos:.1f}" y1="{y1:.1f}" y2="{y0:.1f}" '
                       f'stroke="{GRID}"/>')
        out.append(_text(pos, y0 + 18, text, anchor="middle", fill=MUTED))
    out.append(f'<path d="M{x0:.1f},{y1:.1f}V{y0:.1f}H{x1:.1f}" fill="none" stroke="{AXIS}"/>')
    return "".join(out)


def _scatter(trace, x_axis: _Axis, y_axis: _Axis, colour: str) -> str:
    xs, ys = list(trace.x or []), list(trace.y or [])
    points = [(x_axis(x), y_axis(y)) for x, y in zip(xs, ys, strict=False)
              if (x_axis.categories is not None or _finite(x))
              and (y_axis.categories is not None or _finite(y))]
    mode = trace.mode or ("lines+markers" if len(points) < 20 else "lines")
    out = []
    if trace.fill == "toself" and points:
        fill = trace.fillcolor or colour
        out.append(f'<polygon points="{_points(points)}" fill="{fill}" stroke="none"/>')
        return "".join(out)
    line = trace.line
    if "lines" in mode and len(points) > 1 and not (line is not None and line.width == 0):
        dash = ' stroke-dasharray="6 4"' if line is not None and line.dash in ("dash", "dot") else ""
        width = line.width if line is not None and line.width else 2
        out.append(f'<polyline points="{_points(points)}" fill="none" stroke="{colour}" '
                   f'stroke-width="{width}"{dash}/>')
    out.append(_error_bars(trace.error_x, xs, ys, x_axis, y_axis, horizontal=True))
    out.append(_error_bars(trace.error_y, xs, ys, x_axis, y_axis, horizontal=False))
    if "markers" in mode:
        marker = trace.marker
        size = float(marker.size) if marker is not None and isinstance(marker.size, int | float) \
            else 8.0
        symbols = marker.symbol if marker is not None else None
        edge = marker.line.color if marker is not None and marker.line and marker.line.color \
            else colour
        custom = list(trace.customdata) if trace.customdata is not None else []
        for k, (x, y) in enumerate(zip(xs, ys, strict=False)):
            if not ((x_axis.categories is not None or _finite(x))
                    and (y_axis.categories is not None or _finite(y))):
                continue
            symbol = symbols[k] if isinstance(symbols, list | tuple) else (symbols or "circle")
            tip = _tip(trace, x, y, x_axis, y_axis, custom[k] if k < len(custom) else None)
            out.append(_marker(x_axis(x), y_axis(y), size, str(symbol), colour, edge, tip))
    return "".join(out)


def _tip(trace, x, y, x_axis: _Axis, y_axis: _Axis, custom) -> str:
    if y_axis.categories is not None:
        return f"{y}: {d3_format(float(x), x_axis.spec)}"
    head = f"{trace.name}, " if trace.name else ""
    text = f"{head}{x}: {d3_format(float(y), y_axis.spec)}"
    if custom is not None and len(custom) >= 2:
        text += f" ({_('95% interval')} {custom[0]}; {_('Quality')} {custom[1]})"
    return text


def _marker(x: float, y: float, size: float, symbol: str, colour: str, edge: str,
            tip: str) -> str:
    r = size / 2
    hollow = symbol.endswith("-open")
    fill = "white" if hollow else colour
    stroke = colour if hollow else edge
    if symbol.startswith("diamond"):
        shape = (f'<polygon points="{x:.1f},{y - r * 1.2:.1f} {x + r * 1.2:.1f},{y:.1f} '
                 f'{x:.1f},{y + r * 1.2:.1f} {x - r * 1.2:.1f},{y:.1f}"')
    elif symbol.startswith("square"):
        shape = f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{size:.1f}" height="{size:.1f}"'
    else:
        shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"'
    return (f'{shape} fill="{fill}" stroke="{stroke}" stroke-width="{2 if hollow else 1}">'
            f"<title>{escape(localise_numbers(tip))}</title></{shape[1:shape.index(' ')]}>")


def _error_bars(error, xs, ys, x_axis: _Axis, y_axis: _Axis, *, horizontal: bool) -> str:
    if error is None or error.array is None:
        return ""
    plus = list(error.array)
    minus = list(error.arrayminus) if error.arrayminus is not None else plus
    colour = error.color or AXIS
    width = error.thickness or 1.2
    out = []
    for x, y, p, m in zip(xs, ys, plus, minus, strict=False):
        if not (_finite(p) and _finite(m)):
            continue
        if horizontal:
            a, b, c = x_axis(float(x) - float(m)), x_axis(float(x) + float(p)), y_axis(y)
            out.append(f'<path d="M{a:.1f},{c:.1f}H{b:.1f}M{a:.1f},{c - 4:.1f}V{c + 4:.1f}'
                       f'M{b:.1f},{c - 4:.1f}V{c + 4:.1f}" stroke="{colour}" '
                       f'stroke-width="{width}" fill="none"/>')
        else:
            a, b, c = y_axis(float(y) - float(m)), y_axis(float(y) + float(p)), x_axis(x)
            out.append(f'<path d="M{c:.1f},{a:.1f}V{b:.1f}M{c - 4:.1f},{a:.1f}H{c + 4:.1f}'
                       f'M{c - 4:.1f},{b:.1f}H{c + 4:.1f}" stroke="{colour}" '
                       f'stroke-width="{width}" fill="none"/>')
    return "".join(out)


def _histogram_bars(trace, hist, x_axis: _Axis, y_axis: _Axis, colour: str) -> str:
    edges, counts = hist
    name = trace.name or "count"
    out = []
    for left, right, n in zip(edges[:-1], edges[1:], counts, strict=True):
        if n == 0:
            continue
        a, b = x_axis(left), x_axis(right)
        top, base = y_axis(n), y_axis(0)
        tip = (f"{d3_format(left, x_axis.spec)} to {d3_format(right, x_axis.spec)}: "
               f"{int(n)} {name}")
        out.append(f'<rect x="{a:.1f}" y="{top:.1f}" width="{max(b - a - 0.6, 0.5):.1f}" '
                   f'height="{base - top:.1f}" fill="{colour}"><title>{escape(localise_numbers(tip))}</title></rect>')
    return "".join(out)


def _bars(trace, x_axis: _Axis, y_axis: _Axis, colour: str, horizontal: bool) -> str:
    out = []
    for x, y in zip(list(trace.x or []), list(trace.y or []), strict=False):
        if horizontal:
            if not _finite(x):
                continue
            a, b, c = x_axis(0), x_axis(x), y_axis(y)
            band = (y_axis.start - y_axis.end) / max(1, len(y_axis.categories or [1])) * 0.7
            out.append(f'<rect x="{min(a, b):.1f}" y="{c - band / 2:.1f}" '
                       f'width="{abs(b - a):.1f}" height="{band:.1f}" fill="{colour}">'
                       f"<title>{escape(f'{y}: {x:.3g}')}</title></rect>")
        else:
            if not _finite(y):
                continue
            a, b, c = y_axis(0), y_axis(y), x_axis(x)
            band = (x_axis.end - x_axis.start) / max(1, len(x_axis.categories or list(trace.x)))
            out.append(f'<rect x="{c - band * 0.35:.1f}" y="{min(a, b):.1f}" '
                       f'width="{band * 0.7:.1f}" height="{abs(b - a):.1f}" fill="{colour}">'
                       f"<title>{escape(f'{x}: {y:.3g}')}</title></rect>")
    return "".join(out)


def _position(value, ref: str | None, axis: _Axis) -> float:
    if ref in ("paper",) or (ref or "").endswith("domain"):
        return axis.start + float(value) * (axis.end - axis.start)
    return axis(value)


def _shape(shape, x_axis: _Axis, y_axis: _Axis) -> str:
    if shape.type != "line":
        return ""
    x0, x1 = _position(shape.x0, shape.xref, x_axis), _position(shape.x1, shape.xref, x_axis)
    y0, y1 = _position(shape.y0, shape.yref, y_axis), _position(shape.y1, shape.yref, y_axis)
    line = shape.line
    colour = line.color if line is not None and line.color else AXIS
    width = line.width if line is not None and line.width else 1.5
    dash = ' stroke-dasharray="6 4"' if line is not None and line.dash in ("dash", "dot") else ""
    return (f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y0:.1f}" y2="{y1:.1f}" stroke="{colour}" '
            f'stroke-width="{width}"{dash}/>')


def _annotation(note, x_axis: _Axis, y_axis: _Axis) -> str:
    if not note.text:
        return ""
    x = _position(note.x if note.x is not None else 0.5, note.xref, x_axis) + (note.xshift or 0)
    y = _position(note.y if note.y is not None else 0.5, note.yref, y_axis) - (note.yshift or 0)
    anchor = {"left": "start", "right": "end"}.get(note.xanchor or "center", "middle")
    if note.yanchor == "top":
        y += 13
    elif note.yanchor == "bottom":
        y -= 4
    else:
        y += 4
    colour = note.font.color if note.font and note.font.color else INK
    text = re.sub(r"<[^>]+>", " ", str(note.text))
    width = 6.8 * len(text)  # keep the note inside the chart: flip it to the other side
    if anchor == "start" and x + width > WIDTH - 8:
        anchor, x = "end", x - 2 * (note.xshift or 0)
    elif anchor == "end" and x - width < 8:
        anchor, x = "start", x - 2 * (note.xshift or 0)
    return _text(x, y, text, anchor=anchor, fill=colour, halo=True)


def _axis_titles(layout, x_axis: _Axis, y_axis: _Axis, height: int, bottom: int,
                 legend: list) -> str:
    out = []
    x_title = layout.xaxis.title.text if layout.xaxis.title else None
    y_title = layout.yaxis.title.text if layout.yaxis.title else None
    if x_title:
        out.append(_text((x_axis.start + x_axis.end) / 2, y_axis.start + 40, x_title,
                         anchor="middle", fill=INK))
    if y_title:
        mid = (y_axis.start + y_axis.end) / 2
        out.append(f'<text x="14" y="{mid:.1f}" transform="rotate(-90 14 {mid:.1f})" '
                   f'text-anchor="middle" fill="{INK}">{escape(str(y_title))}</text>')
    return "".join(out)


def _legend_items(fig, traces) -> list[tuple[str, str, str]]:
    if fig.layout.showlegend is False:
        return []
    items = [(t.name, (t.fillcolor or _colour(t, k)) if t.fill == "toself" else _colour(t, k),
              "band" if t.fill == "toself" else
              ("line" if t.mode and "lines" in t.mode and "markers" not in t.mode else "dot"))
             for k, t in enumerate(traces) if t.name and t.showlegend is not False]
    return items if len(items) > 1 or fig.layout.showlegend else []


def _legend_layout(items: list[tuple[str, str, str]], x0: float
                   ) -> list[tuple[tuple[str, str, str], float, int]]:
    """Each legend item with its x and its row, wrapping at the chart's width."""
    placed, x, row = [], x0, 0
    for item in items:
        width = 36 + 6.6 * len(item[0])
        if x + width > WIDTH - 10 and x > x0:
            x, row = x0, row + 1
        placed.append((item, x, row))
        x += width + 14
    return placed


def _legend(placed: list[tuple[tuple[str, str, str], float, int]], top: float) -> str:
    out = []
    for (name, colour, kind), x, row in placed:
        y = top + 22 * row
        if kind == "band":
            out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="18" height="10" '
                       f'fill="{colour}"/>')
        elif kind == "line":
            out.append(f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y - 4:.1f}" y2="{y - 4:.1f}" '
                       f'stroke="{colour}" stroke-width="2.5"/>')
        else:
            out.append(f'<circle cx="{x + 9:.1f}" cy="{y - 4:.1f}" r="5" fill="{colour}"/>')
        out.append(_text(x + 24, y, name, fill=INK))
    return "".join(out)


# -- maps ------------------------------------------------------------------------------------
def _map_shapes(fig) -> tuple[list, tuple | None]:
    """Each tract's (id, rings, colour, tooltip, outline width), and the colour bar's
    (scale, low, high, tick format, title) if the map has one."""
    traces = [t for t in fig.data if t.type == "choropleth"]
    shapes: list[tuple[str, list, str, str, float]] = []
    colourbar = None
    for trace in traces:
        features = {str(f.get("id")): f for f in (trace.geojson or {}).get("features", [])}
        z = [float(v) for v in trace.z] if trace.z is not None else []
        scale = [(float(p), c) for p, c in trace.colorscale]
        if trace.reversescale:
            scale = [(1 - p, c) for p, c in reversed(scale)]
        finite = [v for v in z if math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        custom = list(trace.customdata) if trace.customdata is not None else []
        widths = trace.marker.line.width if trace.marker and trace.marker.line else None
        widths = list(widths) if isinstance(widths, list | tuple) else []
        for k, geo_id in enumerate(trace.locations or []):
            feature = features.get(str(geo_id))
            if feature is None:
                continue
            share = (z[k] - low) / (high - low) if high > low and k < len(z) else 0.5
            colour = _interpolate(scale, share)
            info = custom[k] if k < len(custom) else [geo_id, "", ""]
            tip = (f"{info[0]} (GEOID {geo_id}): {info[1]}; quality: {info[2]}"
                   if len(info) >= 3 else ": ".join(str(x) for x in info))
            width = float(widths[k]) if k < len(widths) and widths[k] is not None else 0.5
            shapes.append((str(geo_id), _rings(feature.get("geometry") or {}), colour, tip,
                           width))
        if trace.showscale is not False and len(set(c for _, c in scale)) > 1:
            title = trace.colorbar.title.text if trace.colorbar and trace.colorbar.title else ""
            colourbar = (scale, low, high, trace.colorbar.tickformat if trace.colorbar else None,
                         title or "")
    return shapes, colourbar


def _bounds(shapes: list) -> tuple[float, float, float, float] | None:
    """The shapes' Mercator bounds (x_min, y_min, x_max, y_max), None without points."""
    points = [p for _, rings, _, _, _ in shapes for ring in rings for p in ring]
    if not points:
        return None
    xy = np.array([_mercator(lon, lat) for lon, lat in points])
    (x_min, y_min), (x_max, y_max) = xy.min(axis=0), xy.max(axis=0)
    return float(x_min), float(y_min), float(x_max), float(y_max)


def _projection(bounds, left: float, top: float, right: float, bottom: float):
    """Longitude/latitude → SVG units, the bounds fitted and centred in the box."""
    x_min, y_min, x_max, y_max = bounds
    scale = min((right - left) / max(x_max - x_min, 1e-9), (bottom - top) / max(y_max - y_min, 1e-9))
    dx = left + ((right - left) - scale * (x_max - x_min)) / 2
    dy = top + ((bottom - top) - scale * (y_max - y_min)) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        x, y = _mercator(lon, lat)
        return dx + (x - x_min) * scale, dy + (y_max - y) * scale

    return project


def _draw_shapes(shapes: list, project) -> list[str]:
    out = []
    # Thick outlines (a highlighted shape) are drawn last, in ink, so no neighbour covers them.
    for geo_id, rings, colour, tip, width in sorted(shapes, key=lambda shape: shape[4] > 1):
        d = "".join(_ring_path([project(lon, lat) for lon, lat in ring]) for ring in rings)
        stroke = INK if width > 1 else "white"
        out.append(f'<path data-geo-id="{escape(geo_id)}" d="{d}" fill="{colour}" '
                   f'fill-rule="evenodd" stroke="{stroke}" stroke-width="{width:g}">'
                   f"<title>{escape(localise_numbers(tip))}</title></path>")
    return out


def _map(fig, height: int, width: int = WIDTH, bar: int = 150) -> str:
    traces = [t for t in fig.data if t.type == "choropleth"]
    top, bottom, left = 40, height - 10, 10
    right = width - bar
    shapes, colourbar = _map_shapes(fig)
    bounds = _bounds(shapes)
    if bounds is None:
        return ""
    project = _projection(bounds, left, top, right, bottom)
    out = _draw_shapes(shapes, project)
    overlays = [t for t in fig.data if t.type == "scattergeo"]
    out += _overlays(overlays, project)
    bar_at = len(out)
    if any(t.showscale is False for t in traces):
        grey = _interpolate([(float(p), c) for p, c in traces[0].colorscale], 0)
        name = next((t.name for t in traces if t.showscale is False), None) or "no estimate"
        out.append(f'<rect x="{right + 20}" y="{bottom - 40}" width="14" height="14" '
                   f'fill="{grey}"/>' + _text(right + 40, bottom - 29, name, fill=INK))
    y = bottom - 62
    for t in (o for o in overlays if o.showlegend is not False and o.name):
        # the name wrapped to the legend's width (about 5.5 units a character at size 10)
        lines = _wrap_words(str(t.name), max(12, int((bar - 45) / 5.5)))
        y -= 12 * (len(lines) - 1)
        colour = (t.line.color if t.line and t.line.color else INK)
        mark = (f'<line x1="{right + 20}" y1="{y - 4}" x2="{right + 34}" y2="{y - 4}" '
                f'stroke="{colour}" stroke-width="2"/>' if "lines" in (t.mode or "") else
                f'<circle cx="{right + 27}" cy="{y - 4}" r="4" fill="white" stroke="{INK}"/>')
        out.append(mark + "".join(_text(right + 40, y + 12 * i, line, fill=INK, size=10)
                                  for i, line in enumerate(lines)))
        y -= 20
    if colourbar is not None:  # above the legend's lines, however many they wrap to
        length = min(bottom - top - 120, y + 8 - (top + 30))
        out.insert(bar_at, _colour_bar(*colourbar, x=right + 20, top=top + 30,
                                       length=max(length, 40)))
    return "".join(out)


def _map_legend_below(fig, max_height: int, width: int) -> tuple[str, int]:
    """A map the whole ``width`` wide and as tall as its shapes need (``max_height`` at
    most), its legend under it: the colour bar across, then the other keys in a row that
    wraps. Returns the SVG body and its height."""
    shapes, colourbar = _map_shapes(fig)
    bounds = _bounds(shapes)
    if bounds is None:
        return "", 40
    left, right, top = 6, width - 6, 6
    x_min, y_min, x_max, y_max = bounds
    aspect = (y_max - y_min) / max(x_max - x_min, 1e-9)
    bottom = top + min(max((right - left) * aspect, 90), max_height)
    project = _projection(bounds, left, top, right, bottom)
    out = _draw_shapes(shapes, project)
    overlays = [t for t in fig.data if t.type == "scattergeo"]
    out += _overlays(overlays, project, (0, width))
    y = bottom + 18
    if colourbar is not None:
        scale, low, high, spec, title = colourbar
        title = re.sub(r"<[^>]+>", " ", re.sub(r"<br\s*/?>", " ", title))
        for line in _wrap_words(title, int((right - left) / 7.4)):  # bold, size 12
            out.append(_text(left, y, line, fill=INK, weight="600"))
            y += 14
        stops = "".join(f'<stop offset="{100 * p:.1f}%" stop-color="{c}"/>' for p, c in scale)
        length = min(right - left - 30, 300)
        x0 = left + 4
        out.append(f'<defs><linearGradient id="colour-scale-across" x1="0" y1="0" x2="1" '
                   f'y2="0">{stops}</linearGradient></defs>'
                   f'<rect x="{x0}" y="{y - 8:.1f}" width="{length}" height="12" '
                   f'fill="url(#colour-scale-across)"/>')
        for value in nice_ticks(low, high, 4):
            x = x0 + (value - low) / ((high - low) or 1) * length
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 4:.1f}" y2="{y + 8:.1f}" '
                       f'stroke="{AXIS}"/>'
                       + _text(x, y + 20, d3_format(value, spec), anchor="middle", fill=MUTED))
        y += 40
    keys = []  # (draw the key's mark at x with its text's baseline at y, name)
    traces = [t for t in fig.data if t.type == "choropleth"]
    if any(t.showscale is False for t in traces):
        grey = _interpolate([(float(p), c) for p, c in traces[0].colorscale], 0)
        name = next((t.name for t in traces if t.showscale is False), None) or "no estimate"
        keys.append((lambda x, y, c=grey: f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" '
                     f'height="12" fill="{c}"/>', name))
    for t in (o for o in overlays if o.showlegend is not False and o.name):
        colour = (t.line.color if t.line and t.line.color else INK)
        if "lines" in (t.mode or ""):
            keys.append((lambda x, y, c=colour: f'<line x1="{x:.1f}" y1="{y - 4:.1f}" '
                         f'x2="{x + 14:.1f}" y2="{y - 4:.1f}" stroke="{c}" stroke-width="2"/>',
                         str(t.name)))
        else:
            keys.append((lambda x, y: f'<circle cx="{x + 7:.1f}" cy="{y - 4:.1f}" r="4" '
                         f'fill="white" stroke="{INK}"/>', str(t.name)))
    x = left
    for mark, name in keys:
        need = 22 + 6.2 * len(name)
        if x > left and x + need > right:
            x, y = left, y + 18
        out.append(mark(x, y) + _text(x + 20, y, name, fill=INK))
        x += need + 14
    return "".join(out), int(y + 10)


def _overlays(traces, project, span: tuple[float, float] | None = None) -> list[str]:
    """Lines (outline, hatching) and labelled points drawn over a map (``Scattergeo``); a
    point's label is kept inside ``span`` (the map's left and right), if given."""
    out = []
    for t in traces:
        lon, lat = list(t.lon or []), list(t.lat or [])
        if "lines" in (t.mode or ""):
            width = t.line.width if t.line and t.line.width else 1
            colour = t.line.color if t.line and t.line.color else INK
            path, pen = [], "M"
            for x, y in zip(lon, lat, strict=True):
                if x is None or y is None:
                    pen = "M"
                    continue
                px, py = project(x, y)
                path.append(f"{pen}{px:.1f},{py:.1f}")
                pen = "L"
            if path:
                out.append(f'<path d="{"".join(path)}" fill="none" stroke="{colour}" '
                           f'stroke-width="{width:g}"/>')
        if t.mode == "text":  # names alone (an area map's labels), larger, no marker
            for x, y, label in zip(lon, lat, list(t.text or []), strict=False):
                px, py = project(float(x), float(y))
                out.append(f'<text x="{px:.1f}" y="{py:.1f}" text-anchor="middle" '
                           f'font-size="13" font-weight="600" fill="{INK}" stroke="white" '
                           f'stroke-width="3" paint-order="stroke">{escape(str(label))}</text>')
        elif "text" in (t.mode or ""):
            placed: list[tuple[float, float, float, float]] = []
            for x, y, label in zip(lon, lat, list(t.text or []), strict=False):
                px, py = project(x, y)
                half, tx = 2.9 * len(str(label)), px  # about 5.8 units a character at 10
                if span is not None:
                    tx = min(max(px, span[0] + half), span[1] - half)
                # above the point, else below it if that overlaps a label already placed
                for ty in (py - 6, py + 15):
                    box = (tx - half, ty - 9, tx + half, ty + 2)
                    if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3]
                               and b[1] < box[3] for b in placed):
                        break
                placed.append(box)
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="white" '
                           f'stroke="{INK}" stroke-width="1.2"/>'
                           + _text(tx, ty, label, anchor="middle", size=10, halo=True))
    return out


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, 85.0), -85.0)
    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _rings(geometry: dict) -> list[list]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def _ring_path(points: list[tuple[float, float]]) -> str:
    """A closed path through the points, at 0.1 px, leaving out points that repeat at that
    resolution (the shapes stay exact to the eye and the file stays small)."""
    out, last = [], None
    for x, y in points:
        here = (round(x, 1), round(y, 1))
        if here != last:
            out.append(f"{here[0]:g},{here[1]:g}")
            last = here
    return f"M{'L'.join(out)}Z" if len(out) > 2 else ""


def _interpolate(scale: list[tuple[float, str]], share: float) -> str:
    share = min(max(share, 0.0), 1.0)
    for (p0, c0), (p1, c1) in itertools.pairwise(scale):
        if p0 <= share <= p1:
            t = 0 if p1 == p0 else (share - p0) / (p1 - p0)
            a, b = _rgb(c0), _rgb(c1)
            return "#" + "".join(f"{round(u + (v - u) * t):02x}" for u, v in zip(a, b, strict=True))
    return scale[-1][1]


def _rgb(colour: str) -> tuple[int, int, int]:
    if colour.startswith("#"):
        return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
    parts = re.findall(r"[\d.]+", colour)
    return int(float(parts[0])), int(float(parts[1])), int(float(parts[2]))


def _colour_bar(scale, low: float, high: float, spec, title: str, *, x: float, top: float,
                length: float) -> str:
    stops = "".join(f'<stop offset="{100 * p:.1f}%" stop-color="{c}"/>' for p, c in scale)
    out = [f'<defs><linearGradient id="colour-scale" x1="0" y1="1" x2="0" y2="0">{stops}'
           f"</linearGradient></defs>"]
    lines = [w for part in re.split(r"<br\s*/?>", title)
             for w in _wrap_words(re.sub(r"<[^>]+>", "", part), 18)]
    for k, line in enumerate(lines):
        out.append(_text(x, top - 30 + 14 * k, line, fill=INK))
    shift = 14 * max(0, len(lines) - 2)
    top += shift
    length -= shift
    out.append(f'<rect x="{x}" y="{top:.1f}" width="14" height="{length:.1f}" '
               f'fill="url(#colour-scale)"/>')
    for value in nice_ticks(low, high, 5):
        y = top + length - (value - low) / ((high - low) or 1) * length
        out.append(f'<line x1="{x + 14}" x2="{x + 18}" y1="{y:.1f}" y2="{y:.1f}" stroke="{AXIS}"/>')
        out.append(_text(x + 21, y + 4, d3_format(value, spec), fill=MUTED))
    return "".join(out)


# -- text --------------------------------------------------------------------------------------
def _wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _text(x: float, y: float, text, *, anchor: str = "start", fill: str = INK,
          size: int | None = None, weight: str | None = None, halo: bool = False) -> str:
    extra = (f' font-size="{size}"' if size else "") + (f' font-weight="{weight}"' if weight
                                                        else "")
    if halo:
        extra += ' paint-order="stroke" stroke="white" stroke-width="3"'
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(localise_numbers(str(text)))}</text>")


__all__ = ["d3_format", "figure_svg", "nice_ticks"]
