"""The Jinja2 environment of the web pages: the templates folder, the filters that write values
for people (the same ``format_value`` the terminal and the reports use), and the cell renderers
of the page tables, one per column kind.

Examples
--------
>>> from upward.web.tables import Column
>>> str(render_cell(Column("estimate", "Value", "value"), {"estimate": 0.5, "unit": "share"}))
'<td class="num" data-value="0.5">50.0%</td>'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from upward.measure.render import format_value
from upward.report.charts import ordinal

TEMPLATES_DIR = Path(__file__).parent / "templates"
DASH = "—"


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value) -> str:
    if _missing(value):
        return DASH
    v = float(value)
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _signed(value, unit: str) -> str:
    if _missing(value):
        return DASH
    return ("+" if value >= 0 else "−") + format_value(abs(float(value)), unit)


def _p_value(value) -> str:
    if _missing(value):
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _interval(row: dict) -> str:
    lb, ub = row.get("lb"), row.get("ub")
    if _missing(lb) or _missing(ub):
        return DASH
    unit = row.get("unit", "")
    return f"{format_value(float(lb), unit)}–{format_value(float(ub), unit)}"


def _ci(row: dict) -> str:
    lo = row.get("ci_low", row.get("lb"))
    hi = row.get("ci_high", row.get("ub"))
    if _missing(lo) or _missing(hi):
        return DASH
    return f"{_number(lo)} to {_number(hi)}"


def _td(text, *, value=None, numeric: bool = False, header: bool = False,
        css: str = "") -> Markup:
    tag = "th" if header else "td"
    attrs = ' scope="row"' if header else ""
    classes = " ".join(c for c in ("num" if numeric else "", css) if c)
    if classes:
        attrs += f' class="{classes}"'
    if value is not None and not _missing(value):
        attrs += f' data-value="{escape(repr(float(value)) if isinstance(value, float) else value)}"'
    return Markup(f"<{tag}{attrs}>{text}</{tag}>")


def _link(row: dict, text: str) -> Markup:
    url = row.get("url")
    return Markup(f'<a href="{escape(url)}">{escape(text)}</a>') if url else escape(text)


def _quality(row: dict, key: str) -> Markup:
    word = row.get(key) or "not graded"
    grade = row.get("quality")
    css = f"q{int(grade)}" if not _missing(grade) else "q0"
    return Markup(f'<span class="badge {css}">{escape(word)}</span>')


def _trend(row: dict, key: str) -> Markup:
    text = row.get(key) or ""
    if not text:
        return Markup(DASH)
    meaning = row.get("trend_meaning")
    extra = f' <span class="small muted">({escape(meaning)})</span>' if meaning else ""
    return Markup(f"{escape(text)}{extra}")


def _peers(row: dict, key: str) -> str:
    better, n = row.get(key), row.get("peer_n")
    if _missing(better) or not n:
        return DASH
    return f"{int(better)} of {int(n)} do better"


def _percentile(row: dict, key: str) -> str:
    value = row.get(key)
    if _missing(value):
        return DASH
    text = ordinal(float(value)) if not isinstance(value, str) else value
    n = row.get("national_n")
    return f"{text} of {int(n):,}" if n and not _missing(n) and text != DASH else text


def _place(row: dict, key: str) -> Markup:
    link = _link(row, str(row.get(key) or DASH))
    return Markup(f"<strong>{link} (this place)</strong>") if row.get("is_target") else link


#: How each column kind writes a cell: (column, row) → (inner HTML or text, data-value).
CELLS: dict[str, Callable] = {
    "text": lambda c, r: (escape(DASH if _missing(r.get(c.key)) else str(r.get(c.key))), None),
    "code": lambda c, r: (Markup(f"<code>{escape(str(r.get(c.key) or DASH))}</code>"), None),
    "link": lambda c, r: (_link(r, str(r.get(c.key) or DASH)), None),
    "place": lambda c, r: (_place(r, c.key), None),
    "value": lambda c, r: (format_value(None if _missing(r.get(c.key)) else float(r[c.key]),
                                        r.get("unit", "")), r.get(c.key)),
    "shown": lambda c, r: (escape(r.get(c.key) or DASH), r.get(c.raw or c.key)),
    "number": lambda c, r: (_number(r.get(c.key)), r.get(c.key)),
    "count": lambda c, r: (DASH if _missing(r.get(c.key)) else f"{float(r[c.key]):,.0f}",
                           r.get(c.key)),
    "signed": lambda c, r: (_signed(r.get(c.key), r.get("unit", "")), r.get(c.key)),
    "beta": lambda c, r: (DASH if _missing(r.get(c.key)) else f"{float(r[c.key]):+.2f}",
                          r.get(c.key)),
    "p": lambda c, r: (_p_value(r.get(c.key)), r.get(c.key)),
    "bool": lambda c, r: ({True: "yes", False: "no"}.get(r.get(c.key), DASH), None),
    "interval": lambda c, r: (_interval(r), None),
    "ci": lambda c, r: (_ci(r), None),
    "quality": lambda c, r: (_quality(r, c.key), r.get("quality")),
    "trend": lambda c, r: (_trend(r, c.key), r.get("trend_change")),
    "peers": lambda c, r: (_peers(r, c.key), r.get(c.key)),
    "percentile": lambda c, r: (_percentile(r, c.key),
                                r.get("percentile") if not isinstance(r.get(c.key), float)
                                else r.get(c.key)),
}


def render_cell(column, row: dict) -> Markup:
    """One table cell (``<td>``, or ``<th scope="row">`` for the row-header column).

    >>> from upward.web.tables import Column
    >>> str(render_cell(Column("n", "N", "count"), {"n": None}))
    '<td class="num">—</td>'
    """
    text, value = CELLS[column.kind](column, row)
    return _td(text if isinstance(text, Markup) else escape(text), value=value,
               numeric=column.numeric, header=column.header)


def fmt(value, unit: str = "") -> str:
    """Jinja filter: a value for people, by catalog unit.

    >>> fmt(36700.4, "dollars"), fmt(None)
    ('$36,700', '—')
    """
    return format_value(None if _missing(value) else float(value), unit)


def plural(n: int, word: str, many: str | None = None) -> str:
    """Jinja filter: "1 tract", "132 tracts".

    >>> plural(1, "tract"), plural(1200, "county", "counties")
    ('1 tract', '1,200 counties')
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def make_templates() -> Jinja2Templates:
    """The app's templates, with the filters and globals the pages use.

    >>> make_templates().env.filters["fmt"](0.25, "share")
    '25.0%'
    """
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters.update(fmt=fmt, plural=plural, ordinal=lambda p: ordinal(
        None if _missing(p) else float(p)))
    env.globals.update(render_cell=render_cell, math=math)
    return templates


def render(request: Request, name: str, context: dict | None = None, *,
           status_code: int = 200):
    """Render a template of the app in ``request`` with ``context``."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)


__all__ = ["CELLS", "TEMPLATES_DIR", "fmt", "make_templates", "plural", "render", "render_cell"]
