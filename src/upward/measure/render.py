"""Text renderings of a profile: Rich tables for the terminal and a Markdown briefing.

Examples
--------
>>> format_value(36700.4, "dollars"), format_value(0.4213, "share"), format_value(None, "share")
('$36,700', '42.1%', '—')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from upward.measure.groups import group_label
from upward.measure.standing import better_than, standing_class, standing_short

if TYPE_CHECKING:
    from upward.measure.profile import MetricEntry, Profile

QUALITY_WORDS = {1: "good", 2: "caution", 3: "weak"}
ARROWS = {True: "▲", False: "▼"}


def format_value(value: float | None, unit: str) -> str:
    """A value for people, by unit: dollars, shares as percents, others with sensible digits.

    >>> format_value(0.36, "rank"), format_value(312.3, "rate per 100,000")
    ('36.0', '312')
    >>> format_value(67900.0, "count"), format_value(47.19, "percentile rank")
    ('67,900', '47.2')
    """
    if value is None:
        return "—"
    if unit == "dollars":
        return f"${value:,.0f}"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "rank":  # a 0–1 rank, written on the same 0–100 scale as percentile ranks
        return f"{100 * value:.1f}"
    if unit == "percentile rank":
        return f"{value:.1f}"
    if unit in ("count", "people"):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def format_change_text(value: float, unit: str) -> str:
    """A change between two values: shares in percentage points ("pts"), others as values.

    >>> format_change_text(0.017, "share"), format_change_text(1500.0, "dollars")
    ('1.7 pts', '$1,500')
    """
    if unit == "share":
        return f"{100 * value:.1f} pts"
    return format_value(value, unit)


def unit_of(metric_id: str) -> str:
    """The catalog unit of a metric ("" when undeclared).

    >>> unit_of("atlas_count"), unit_of("no_such_metric")
    ('count', '')
    """
    from upward.metrics import get_metric, metric_ids

    return get_metric(metric_id).unit if metric_id in metric_ids() else ""


def interval(m: MetricEntry) -> str:
    """The 95% interval of an entry, or a dash.

    >>> from upward.measure.profile import MetricEntry, Profile
    >>> m = MetricEntry("share_employed", "Employed", "jobs", "share", "higher", 0.61, 0.58,
    ...                 0.64, None, "published", 1, "2021", "urban@1", 40.0, 486)
    >>> interval(m), interval(MetricEntry(**{**m.__dict__, "lb": None}))
    ('58.0%–64.0%', '—')
    """
    if m.lb is None or m.ub is None:
        return "—"
    return f"{format_value(m.lb, m.unit)}–{format_value(m.ub, m.unit)}"


def trend_text(m: MetricEntry) -> str:
    """Short trend: arrow, change and years, with '(n.s.)' when not significant.

    >>> from upward.measure.profile import MetricEntry, Trend
    >>> t = Trend("2014", 0.55, "2021", 0.61, 0.06, 0.02, 3.0, 0.003, True, 8)
    >>> m = MetricEntry("share_employed", "Employed", "jobs", "share", "higher", 0.61, 0.58,
    ...                 0.64, None, "published", 1, "2021", "urban@1", 40.0, 486, trend=t)
    >>> trend_text(m)
    '▲ 6.0 pts 2014–2021'
    """
    t = m.trend
    if t is None:
        return ""
    arrow = "▲" if t.change > 0 else ("▼" if t.change < 0 else "=")
    change = format_change_text(abs(t.change), m.unit)
    note = "" if t.significant else (" (n.s.)" if t.significant is False else " (no bounds)")
    return f"{arrow} {change} {t.first_period}–{t.last_period}{note}"


def trend_better(m: MetricEntry) -> bool | None:
    """Whether a significant trend is an improvement (True), a decline (False), or neither
    said (None: not significant, no bounds, or no better side).

    >>> from upward.measure.profile import MetricEntry, Trend
    >>> t = Trend("2014", 900.0, "2021", 1200.0, 300.0, 50.0, 6.0, 1e-9, True, 8)
    >>> m = MetricEntry("rate_crime_violent", "Violent crime", "G", "rate per 100,000",
    ...                 "lower", 1200.0, None, None, None, "none", 1, "2021", "u@1", 95.0, 400,
    ...                 trend=t)
    >>> trend_better(m)
    False
    """
    t = m.trend
    if t is None or not t.significant or t.change == 0 or m.direction not in ("higher",
                                                                               "lower"):
        return None
    return (t.change > 0) == (m.direction == "higher")


def metric_rows(p: Profile) -> list[list[str]]:
    """Rows of the metric table, shared by the terminal and Markdown renderings.

    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.profile import MetricEntry, Profile
    >>> m = MetricEntry("pctl_income_50", "Median household income", "Opportunity-rich", "dollars",
    ...                 "higher", 36700.0, 34400.0, 40800.0, None, "95% CI", 1, "2021", "urban",
    ...                 0.2, 486)
    >>> p = Profile(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None, None, [m],
    ...             [], [], [], None, [])
    >>> metric_rows(p)[0][1:4]
    ['Median household income (pctl_income_50)', '$36,700', '$34,400–$40,800']
    """
    rows = []
    for m in p.metrics:
        rows.append([
            m.pillar,
            f"{m.label} ({m.metric_id})",
            format_value(m.estimate, m.unit),
            interval(m),
            QUALITY_WORDS.get(m.quality, "—") if m.quality else "—",
            m.period,
            trend_text(m),
            format_value(m.county_estimate, m.unit) if p.county else "",
            standing_short(m.national_percentile, m.direction),
        ])
    return rows


HEADERS = ["Pillar", "Metric", "Value", "95% interval", "Quality", "Period", "Trend",
           "County", "US standing"]
STANDING_STYLES = {"better": "green", "worse": "red", "middle": "", "neutral": "dim"}


def rich_tables(p: Profile) -> list[Table]:
    """Rich tables for the terminal: metrics, county outcomes, tract spread.

    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.profile import Profile
    >>> p = Profile(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None, None, [],
    ...             [], [], [], None, [])
    >>> [t.title for t in rich_tables(p)]
    ['Tulsa city, Oklahoma [place 4075000]']
    """
    title = f"{p.geo.name} [{p.geo.geo_level} {p.geo.geo_id}]"
    if p.county:
        title += f" — county: {p.county.name}"
    t = Table(title=title, show_lines=False, header_style="bold")
    for h in HEADERS[1:]:
        t.add_column(h, overflow="fold", ratio=3 if h == "Metric" else None)
    previous = None
    for m, row in zip(p.metrics, metric_rows(p), strict=True):
        if row[0] != previous:
            t.add_section()
            t.add_row(f"[bold]{row[0]}[/]")
            previous = row[0]
        style = STANDING_STYLES[standing_class(better_than(m.national_percentile, m.direction))]
        standing = f"[{style}]{row[-1]}[/]" if style else row[-1]
        trend = row[6]
        better = trend_better(m)
        if trend and better is not None:
            trend = f"[{'green' if better else 'red'}]{trend} {'better' if better else 'worse'}[/]"
        t.add_row(f"{m.label} [dim]{m.metric_id}[/]", *row[2:6], trend, *row[7:-1], standing)
    tables = [t]
    outcomes = p.atlas + p.social_capital
    if outcomes:
        o = Table(title=f"Opportunity Atlas and Social Capital: {(p.county or p.geo).name}",
                  header_style="bold")
        for h in ("Outcome", "Group", "Value", "95% interval"):
            o.add_column(h)
        for x in outcomes:
            if x.subgroup_type not in ("all", "race"):
                continue
            unit = unit_of(x.metric_id)
            iv = (f"{format_value(x.lb, unit)}–{format_value(x.ub, unit)}"
                  if x.lb is not None and x.ub is not None else "—")
            o.add_row(f"{x.label} ({x.metric_id})", group_label(x.subgroup),
                      format_value(x.estimate, unit), iv)
        tables.append(o)
    if p.tracts:
        s = Table(title=f"Tract outcomes inside {p.geo.name}", header_style="bold",
                  caption=p.tract_method)
        for h in ("Outcome", "Tracts", "Min", "P10", "Median", "P90", "Max"):
            s.add_column(h)
        for x in p.tracts:
            unit = unit_of(x.metric_id) or ("dollars" if "dollars" in x.metric_id else "number")
            s.add_row(f"{x.label} ({x.metric_id})", str(x.n_tracts),
                      *(format_value(v, unit) for v in (x.min, x.p10, x.median, x.p90, x.max)))
        tables.append(s)
    return tables


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def esc(s: str) -> str:
        return str(s).replace("|", "\\|")

    lines = ["| " + " | ".join(map(esc, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines)


def profile_markdown(p: Profile) -> str:
    """The profile as a Markdown document.

    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.profile import Profile
    >>> p = Profile(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), 411000.0, None,
    ...             [], [], [], [], None, [])
    >>> profile_markdown(p).splitlines()[:4]
    ['# Mobility profile: Tulsa city, Oklahoma', '', '- Geography: place 4075000', '- Population: 411,000']
    """
    parts = [f"# Mobility profile: {p.geo.name}", ""]
    facts = [f"- Geography: {p.geo.geo_level} {p.geo.geo_id}"]
    if p.population:
        facts.append(f"- Population: {p.population:,.0f}")
    if p.county:
        facts.append(f"- County: {p.county.name} ({p.county.geo_id})")
    facts.append("- Quality: good = no substantial concerns, caution = use with caution, "
                 "weak = do not act on it (Urban Institute grades)")
    parts += facts + ["", "## Metrics", "", _md_table(HEADERS, metric_rows(p)), ""]
    if p.atlas or p.social_capital:
        rows = [[f"{o.label} ({o.metric_id})", group_label(o.subgroup),
                 format_value(o.estimate, unit_of(o.metric_id)), f"{o.se:.3g}" if o.se is not None else "—", o.period]
                for o in p.atlas + p.social_capital]
        parts += ["## County outcomes (Opportunity Atlas, Social Capital Atlas)", "",
                  _md_table(["Outcome", "Group", "Value", "SE", "Period"], rows), ""]
    if p.tracts:
        rows = [[f"{x.label} ({x.metric_id})", str(x.n_tracts), f"{x.min:.4g}", f"{x.p25:.4g}",
                 f"{x.median:.4g}", f"{x.p75:.4g}", f"{x.max:.4g}"] for x in p.tracts]
        parts += ["## Tract outcomes inside the geography", "", f"_{p.tract_method}_", "",
                  _md_table(["Outcome", "Tracts", "Min", "P25", "Median", "P75", "Max"], rows), ""]
    rows = [[s["dataset"], s["publisher"], s["url"], s["sha256"][:12], s["retrieved_at"]]
            for s in p.sources]
    parts += ["## Sources", "", _md_table(["Dataset", "Publisher", "From", "sha256", "Retrieved"],
                                          rows), ""]
    return "\n".join(parts)


def _plain(cell: object) -> str:
    return Text.from_markup(cell).plain if isinstance(cell, str) else (
        cell.plain if isinstance(cell, Text) else str(cell))


def _unbroken_width(table: Table) -> int:
    """The narrowest width at which no cell of the table breaks a word: each column as wide
    as its longest word, plus padding and borders.

    >>> _unbroken_width(Table("Metric", "Value"))  # (6 + 2) + (5 + 2) + 3 borders
    18
    """
    pad = table.padding[1] + table.padding[3] if len(table.padding) == 4 else 2
    total = 0
    for column in table.columns:
        words = [len(w) for cell in [column.header, *column.cells]
                 for w in _plain(cell).split()] or [0]
        total += max(max(words), column.min_width or 0) + pad
    return total + (len(table.columns) + 1 if table.box else 0)


def fitted(console: Console, renderable: RenderableType) -> RenderableType:
    """The renderable if it fits the console's width without breaking a word, else (for a
    table) the same cells stacked as "Header: value" lines, one block per row, which wrap at
    spaces only.

    >>> t = Table("Metric", "Value", "Trend", "Standing")
    >>> t.add_row("Violent crimes per 100,000", "3,012", "▲ 306 2021–2023", "worse than 95%")
    >>> import io
    >>> narrow = Console(width=30, record=True, color_system=None, file=io.StringIO())
    >>> narrow.print(fitted(narrow, t))
    >>> "Standing: worse than 95%" in narrow.export_text()
    True
    """
    if not isinstance(renderable, Table):
        return renderable
    if _unbroken_width(renderable) <= console.width:
        return renderable
    headers = [_plain(c.header) for c in renderable.columns]
    cells = [list(c.cells) for c in renderable.columns]
    blocks: list[RenderableType] = []
    if renderable.title:
        blocks.append(Text(str(renderable.title), style="bold"))
    for i in range(renderable.row_count):
        row = [cells[j][i] if i < len(cells[j]) else "" for j in range(len(headers))]
        first = Text.from_markup(row[0]) if isinstance(row[0], str) else Text(str(row[0]))
        lines = Text()
        lines.append_text(first)
        for h, value in zip(headers[1:], row[1:], strict=True):
            value_text = (Text.from_markup(value) if isinstance(value, str) else Text(str(value)))
            if value_text.plain.strip():
                lines.append(f"\n  {h}: ", style="dim")
                lines.append_text(value_text)
        blocks.append(lines)
    if renderable.caption:
        blocks.append(Text(str(renderable.caption), style="dim"))
    return Group(*blocks)
