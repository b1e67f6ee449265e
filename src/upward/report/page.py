"""The self-contained HTML page every report is written into: inline CSS, plotly.js inlined
from the installed plotly package (no CDN, opens offline from disk), semantic landmarks.

Examples
--------
>>> html = render_page("Demo", "<p>Hello</p>")
>>> html.startswith("<!DOCTYPE html>") and "<main" in html and "Plotly" in html
True
"""

from __future__ import annotations

from functools import cache
from html import escape

import plotly.offline

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
@media print { .chart { break-inside: avoid; } a { color: var(--ink); } }
"""


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped in the installed plotly package (several MB, cached).

    >>> "Plotly" in plotly_js()[:5000]
    True
    """
    return plotly.offline.get_plotlyjs()


def render_page(title: str, body: str, *, subtitle: str | None = None,
                footer: str = "", with_charts: bool = True, lang: str = "en") -> str:
    """A complete standalone HTML document around ``body`` (already-escaped HTML).

    >>> "<title>Tulsa</title>" in render_page("Tulsa", "", with_charts=False)
    True
    """
    script = f"<script>{plotly_js()}</script>" if with_charts else ""
    sub = f'<p class="muted">{escape(subtitle)}</p>' if subtitle else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{BASE_CSS}</style>\n{script}\n</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>{sub}</header>\n<main>\n{body}\n</main>\n"
        f'<footer class="small muted"><p>{footer}</p></footer>\n</body>\n</html>\n'
    )
