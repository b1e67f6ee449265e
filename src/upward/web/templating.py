"""The Jinja2 environment of the web pages: the templates folder, the filters that write values
for people (the same ``format_value`` the terminal and the reports use), and the cell renderers
of the page tables, one per column kind.

Examples
--------
>>> from upward.web.tables import Column
>>> str(render_cell(Column("estimate", "Value", "value"), {"estimate": 0.5, "unit": "share"}))
'<td data-label="Value" class="num" data-value="0.5">50.0%</td>'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from upward.report.charts import ordinal
from upward.report.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    N_,
    current_language,
    format_decimal,
    format_value,
    gettext,
    localise_numbers,
    ngettext,
    tr,
)
from upward.report.i18n import gettext as _
from upward.web.language import localise_links

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
        return format_decimal(v, "#,##0")
    return format_decimal(v, "@##")


def _signed(value, unit: str) -> str:
    if _missing(value):
        return DASH
    return ("+" if value >= 0 else "−") + format_value(abs(float(value)), unit)


def _p_value(value) -> str:
    if _missing(value):
        return DASH
    return "< " + format_decimal(0.001, "0.000") if value < 0.001 else format_decimal(value, "0.000")


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
    return _("{low} to {high}").format(low=_number(lo), high=_number(hi))


def _td(text, *, value=None, numeric: bool = False, header: bool = False,
        css: str = "", label: str = "") -> Markup:
    tag = "th" if header else "td"
    attrs = ' scope="row"' if header else ""
    if label:  # the column's header, shown beside the value when a narrow screen stacks cells
        attrs += f' data-label="{escape(label)}"'
    classes = " ".join(c for c in ("num" if numeric else "", css) if c)
    if classes:
        attrs += f' class="{classes}"'
    if value is not None and not _missing(value):
        attrs += f' data-value="{escape(repr(float(value)) if isinstance(value, float) else value)}"'
    return Markup(f"<{tag}{attrs}>{text}</{tag}>")


def _link(row: dict, text: str) -> Markup:
    url = row.get("url")
    text = _(text)
    return Markup(f'<a href="{escape(url)}">{escape(text)}</a>') if url else escape(text)


def _quality(row: dict, key: str) -> Markup:
    word = _(row.get(key) or "not graded")
    grade = row.get("quality")
    css = f"q{int(grade)}" if not _missing(grade) else "q0"
    return Markup(f'<span class="badge {css}">{escape(word)}</span>')


def _trend(row: dict, key: str) -> Markup:
    text = row.get(key) or ""
    if not text:
        return Markup(DASH)
    meaning = row.get("trend_meaning")
    extra = f' <span class="small muted">({escape(_(meaning))})</span>' if meaning else ""
    return Markup(f"{escape(localise_numbers(text))}{extra}")


def _peers(row: dict, key: str) -> str:
    better, n = row.get(key), row.get("peer_n")
    if _missing(better) or not n:
        return DASH
    return _("{better} of {n} do better").format(better=int(better), n=int(n))


def _percentile(row: dict, key: str) -> str:
    value = row.get(key)
    if _missing(value):
        return DASH
    number = row.get("percentile") if isinstance(value, str) else value
    if isinstance(value, str) and (current_language() == DEFAULT_LANGUAGE or _missing(number)):
        text = value  # the words the layers below wrote (English)
    elif isinstance(value, str) and not _missing(row.get("raw_percentile")):
        # the same standing in the reader's language: better or worse than a share, never a
        # bare percentile that hides which way is better
        from upward.report.sentences import standing_short

        text = standing_short(float(row["raw_percentile"]), row.get("direction", ""))
    else:
        text = ordinal_text(float(number))
    n = row.get("national_n")
    if n and not _missing(n) and text != DASH:
        return _("{percentile} of {n}").format(percentile=text, n=format_decimal(int(n), "#,##0"))
    return text


def ordinal_text(p: float | None) -> str:
    """A percentile as people say it in the current language: "75th" in English; the number
    in Spanish, where the word "percentil" comes before it.

    >>> from upward.report.i18n import use_language
    >>> ordinal_text(74.6), ordinal_text(None)
    ('75th', '—')
    >>> with use_language("es"):
    ...     ordinal_text(74.6)
    '75'
    """
    if _missing(p):
        return DASH
    if current_language() == DEFAULT_LANGUAGE:
        return ordinal(float(p))
    return f"{round(float(p))}"


def _place(row: dict, key: str) -> Markup:
    link = _link(row, str(row.get(key) or DASH))
    if row.get("is_target"):
        return Markup(f"<strong>{link} ({escape(_('this place'))})</strong>")
    return link


#: The parts of a peer's ``why`` (``upward.diagnose.peers.why_peer``) and the Census regions.
WHY_PARTS = (("population ", N_("population")), ("median income ", N_("median income")),
             ("20th-percentile income ", N_("20th-percentile income")))
REGIONS = (N_("Northeast"), N_("Midwest"), N_("South"), N_("West"), N_("Unknown"))


def why_text(text: str | None) -> str:
    """Why a place is a peer (written in English by ``upward.diagnose.peers``) in the page's
    language: the words translated, the numbers in its notation.

    >>> from upward.report.i18n import use_language
    >>> with use_language("es"):
    ...     why_text("population 380,000 (400,000); same region (South)")
    'población 380.000 (400.000); misma región (Sur)'
    """
    import re

    if _missing(text) or not text:
        return DASH
    if current_language() == DEFAULT_LANGUAGE:
        return str(text)
    out = []
    for part in str(text).split("; "):
        same = re.fullmatch(r"same region \((.+)\)", part)
        other = re.fullmatch(r"region (.+) \((.+)\)", part)
        if same:
            part = _("same region ({region})").format(region=_(same.group(1)))
        elif other:
            part = _("region {region} ({theirs})").format(region=_(other.group(1)),
                                                        theirs=_(other.group(2)))
        else:
            for prefix, words in WHY_PARTS:
                if part.startswith(prefix):
                    part = f"{_(words)} {part[len(prefix):]}"
                    break
        out.append(part)
    return localise_numbers("; ".join(out))


#: How each column kind writes a cell: (column, row) → (inner HTML or text, data-value).
CELLS: dict[str, Callable] = {
    "text": lambda c, r: (escape(DASH if _missing(r.get(c.key))
                                 else localise_numbers(str(r.get(c.key)))), None),
    "words": lambda c, r: (escape(DASH if _missing(r.get(c.key)) else _(str(r.get(c.key)))),
                           None),
    "why": lambda c, r: (escape(why_text(r.get(c.key))), None),
    "code": lambda c, r: (Markup(f"<code>{escape(str(r.get(c.key) or DASH))}</code>"), None),
    "link": lambda c, r: (_link(r, str(r.get(c.key) or DASH)), None),
    "place": lambda c, r: (_place(r, c.key), None),
    "value": lambda c, r: (format_value(None if _missing(r.get(c.key)) else float(r[c.key]),
                                        r.get("unit", "")), r.get(c.key)),
    "shown": lambda c, r: (escape(localise_numbers(r.get(c.key)) or DASH), r.get(c.raw or c.key)),
    "number": lambda c, r: (_number(r.get(c.key)), r.get(c.key)),
    "count": lambda c, r: (DASH if _missing(r.get(c.key))
                           else format_decimal(float(r[c.key]), "#,##0"),
                           r.get(c.key)),
    "signed": lambda c, r: (_signed(r.get(c.key), r.get("unit", "")), r.get(c.key)),
    "beta": lambda c, r: (DASH if _missing(r.get(c.key))
                          else format_decimal(float(r[c.key]), "+0.00;-0.00"),
                          r.get(c.key)),
    "p": lambda c, r: (_p_value(r.get(c.key)), r.get(c.key)),
    "bool": lambda c, r: ({True: _("yes"), False: _("no")}.get(r.get(c.key), DASH), None),
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
    '<td data-label="N" class="num">—</td>'
    """
    text, value = CELLS[column.kind](column, row)
    return _td(text if isinstance(text, Markup) else escape(text), value=value,
               numeric=column.numeric, header=column.header, label=column.label)


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
    return f"{format_decimal(n, '#,##0')} {_(word if n == 1 else (many or word + 's'))}"


def make_templates() -> Jinja2Templates:
    """The app's templates, with the filters and globals the pages use.

    >>> make_templates().env.filters["fmt"](0.25, "share")
    '25.0%'
    """
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(gettext, ngettext, newstyle=False)
    env.filters.update(fmt=fmt, plural=plural, ordinal=ordinal_text,
                       num=lambda text: localise_numbers(str(text)),
                       number=lambda v, pattern="#,##0": DASH
        if _missing(v) else format_decimal(float(v), pattern))
    env.globals.update(render_cell=render_cell, math=math, current_language=current_language,
                       language_links=language_links, tr=tr, finding_text=finding_text, N_=N_)
    return templates


def finding_text(report, finding) -> str:
    """A barrier finding's sentence in the page's language (``upward.report.sentences``).

    >>> from types import SimpleNamespace
    >>> finding = SimpleNamespace(metric_id="pctl_income_50",
    ...                           sentence="Median household income is $36,700 (2021).")
    >>> finding_text(SimpleNamespace(gaps=[]), finding)  # English: the report's own sentence
    'Median household income is $36,700 (2021).'
    """
    if current_language() == DEFAULT_LANGUAGE:
        return finding.sentence
    from upward.report.sentences import finding_sentence

    gap = next((g for g in report.gaps if g.metric_id == finding.metric_id), None)
    return finding_sentence(gap, report.geo.geo_level) if gap is not None else \
        tr(finding.sentence)


def language_links(request: Request) -> list[dict]:
    """The language switch of a page: this page in each other language.

    >>> from starlette.requests import Request
    >>> scope = {"type": "http", "path": "/metrics", "query_string": b"", "headers": [],
    ...          "state": {"lang": "en"}}
    >>> language_links(Request(scope))
    [{'lang': 'es', 'name': 'Español', 'href': '/es/metrics'}]
    """
    here = current_language()
    query = f"?{request.url.query}" if request.url.query else ""
    return [{"lang": lang, "name": LANGUAGE_NAMES[lang], "href": f"/{lang}{request.url.path}"
             + query} for lang in LANGUAGES if lang != here]


def render_page(request: Request, name: str, context: dict) -> str:
    """The HTML of a template in the request's language, its site links in that language.

    >>> import re
    >>> from types import SimpleNamespace
    >>> from upward.web.errors import Problem
    >>> app = SimpleNamespace(state=SimpleNamespace(templates=make_templates()))
    >>> request = Request({"type": "http", "app": app, "path": "/x", "query_string": b"",
    ...                    "headers": [], "scheme": "http", "server": ("testserver", 80)})
    >>> html = render_page(request, "error.html", {"problem": Problem(404, "Not found", "no page")})
    >>> re.search(r"<title>(.*?)</title>", html).group(1)
    'Not found · Upward'
    """
    templates: Jinja2Templates = request.app.state.templates
    html = templates.get_template(name).render({**context, "request": request})
    return localise_links(html, current_language())


def render(request: Request, name: str, context: dict | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    """Render a template of the app in ``request`` with ``context``.

    >>> from types import SimpleNamespace
    >>> from upward.web.errors import Problem
    >>> app = SimpleNamespace(state=SimpleNamespace(templates=make_templates()))
    >>> request = Request({"type": "http", "app": app, "path": "/x", "query_string": b"",
    ...                    "headers": [], "scheme": "http", "server": ("testserver", 80)})
    >>> r = render(request, "error.html", {"problem": Problem(404, "Not found", "no page")},
    ...            status_code=404)
    >>> r.status_code, r.media_type
    (404, 'text/html')
    """
    return HTMLResponse(render_page(request, name, context or {}), status_code=status_code)


__all__ = ["CELLS", "DEFAULT_LANGUAGE", "TEMPLATES_DIR", "finding_text", "fmt", "language_links",
           "make_templates", "plural", "render", "render_cell", "render_page", "tr"]
