"""The self-contained HTML page every report is written into: inline CSS, plotly.js inlined
from the installed plotly package (no CDN, opens offline from disk), semantic landmarks.

Plotly's geo maps fetch a base-map TopoJSON file from cdn.plot.ly before they draw anything,
even when the base map is hidden and the shapes come from our own GeoJSON; offline the map
then stays blank. ``GEO_OFFLINE_JS`` (inlined before plotly.js) registers empty TopoJSON
topologies under the names plotly asks for, so the map draws from its GeoJSON alone. Pages that
draw maps with plotly elsewhere (the web app) should include it too.

Examples
--------
>>> html = render_page("Demo", "<p>Hello</p>")
>>> html.startswith("<!DOCTYPE html>") and "<main" in html and "Plotly" in html
True
"""

from __future__ import annotations

from functools import cache

import plotly.offline

from upward.report.templating import render

BASE_CSS = """
:root { --ink: #1b1f24; --muted: #4a5360; --line: #c9d1d9; --accent: #0b5cad; --bg: #ffffff;
        --good: #1a7f37; --warn: #8a5a00; --bad: #b3261e; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: var(--bg); margin: 0; line-height: 1.45; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 2px solid var(--accent); padding-top: 1rem; }
h1 { font-size: 1.8rem; margin: .4rem 0; } h2 { font-size: 1.35rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); } .small { font-size: .85rem; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .8rem;
         border: 1px solid currentColor; }
.q1 { color: var(--good); } .q2 { color: var(--warn); } .q3 { color: var(--bad); }
.failed { color: var(--bad); font-weight: 600; }
.chart { min-height: 22rem; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f2b705; outline-offset: 2px; }
details { margin: .5rem 0 1rem; }
nav.toc ol { columns: 2; padding-left: 1.2rem; margin: .3rem 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; }
.notice { border-left: 4px solid var(--warn); background: #fff8e5; padding: .5rem .8rem; }
.synthetic { border-left: 4px solid var(--bad); background: #fdecea; padding: .5rem .8rem;
             font-weight: 600; }
.source { color: var(--muted); font-size: .8rem; }
.findings li { margin: .35rem 0; }
/* Plain-language summary ("In brief") and national standing (issue #12) */
section.summary { border-left: 4px solid var(--accent); background: #f3f7fc; padding: .2rem 1rem .6rem;
                  margin: 1rem 0; }
section.summary h2 { margin-top: .6rem; }
section.summary p { font-size: 1.05rem; }
abbr[title] { text-decoration: underline dotted; cursor: help; }
dl.terms { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .3rem 0; }
dl.terms dt { font-weight: 600; } dl.terms dd { margin: 0; }
.standing-better { color: var(--good); } .standing-worse { color: var(--bad); }
.url { overflow-wrap: anywhere; word-break: break-all; max-width: 22rem; }
table.sources th[scope="row"] { max-width: 16rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: var(--muted); }
summary { cursor: pointer; color: var(--accent); }
.trend-up, .trend-down { font-weight: 600; }
@page { size: Letter; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; } table { font-size: 8.5pt; } .source { font-size: 7.5pt; }
  .chart { break-inside: avoid; } a { color: var(--ink); }
  header, main, footer { max-width: none; }
  nav.toc, .modebar-container { display: none; }
  h2 { break-after: avoid; } table { break-inside: auto; } tr { break-inside: avoid; }
}
"""

#: Empty base-map topologies for every scope plotly's geo maps may request (see module text).
GEO_OFFLINE_JS = (
    "window.PlotlyGeoAssets=window.PlotlyGeoAssets||{topojson:{}};"
    "window.PlotlyGeoAssets.topojson=window.PlotlyGeoAssets.topojson||{};"
    '["world","usa","europe","asia","africa","north-america","south-america"].forEach('
    "function(s){[\"110m\",\"50m\"].forEach(function(r){var n=s+\"_\"+r;"
    "if(!window.PlotlyGeoAssets.topojson[n]){window.PlotlyGeoAssets.topojson[n]="
    '{type:"Topology",objects:{},arcs:[]};}});});'
)


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped in the installed plotly package (several MB, cached).

    >>> "Plotly" in plotly_js()[:5000]
    True
    """
    return plotly.offline.get_plotlyjs()


def render_page(title: str, body: str, *, subtitle: str | None = None,
                footer: str = "", with_charts: bool = True, lang: str = "en") -> str:
    """A complete standalone HTML document around ``body`` (already HTML) from the
    ``page.html`` template; the title, subtitle and footer are text (escaped).

    >>> "<title>Tulsa</title>" in render_page("Tulsa", "", with_charts=False)
    True
    """
    script = (f"<script>{GEO_OFFLINE_JS}</script>\n<script>{plotly_js()}</script>"
              if with_charts else "")
    return render("page.html", lang=lang, title=title, subtitle=subtitle, css=BASE_CSS,
                  script=script, body=body, footer=footer) + "\n"
