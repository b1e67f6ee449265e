"""Text renderings of a barrier report: Rich tables for the terminal, a Markdown briefing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from upward.measure.groups import group_label
from upward.measure.render import _md_table, format_change_text, format_value, unit_of

if TYPE_CHECKING:
    from upward.diagnose.report import BarrierReport


def summary_panel(summary) -> Panel:
    """The plain-language summary for the terminal: numbered sentences, each naming the table
    below that holds its evidence, and the definitions of the terms it uses as footnotes.

    >>> from types import SimpleNamespace as NS
    >>> s = NS(place="Tulsa", terms={"peers": "similar cities"},
    ...        sentences=[NS(text="Incomes trail the peers.", evidence="barriers")])
    >>> panel = summary_panel(s)
    >>> panel.title, panel.renderable.plain.splitlines()[0]
    ('In brief: Tulsa', '1. Incomes trail the peers. [findings below]')
    """
    lines = Text()
    for i, s in enumerate(summary.sentences, start=1):
        lines.append(f"{i}. {s.text} ", style="")
        lines.append(f"[{EVIDENCE_TABLES.get(s.evidence, s.evidence)}]\n", style="dim")
    for term, definition in summary.terms.items():
        lines.append(f"\n{term}: ", style="bold dim")
        lines.append(definition, style="dim")
    return Panel(lines, title=f"In brief: {summary.place}", title_align="left")


#: The terminal table (or command) holding each summary sentence's evidence.
EVIDENCE_TABLES = {"scorecard": "upward profile", "outcomes": "upward profile",
                   "barriers": "findings below", "disparities": "disparities below",
                   "neighbourhoods": "neighbourhoods below"}


def _disparity_rows(r: BarrierReport) -> list[list[str]]:
    rows = []
    for d in r.disparities:
        unit = unit_of(d.metric_id)
        ci = (f"{_signed(d.lb, unit)} to {_signed(d.ub, unit)}" if d.lb is not None
              and d.ub is not None else "—")
        rows.append([f"{d.label} ({d.metric_id})",
                     f"{group_label(d.group)} vs {group_label(d.reference)}",
                     format_value(d.value, unit), format_value(d.reference_value, unit),
                     _signed(d.difference, unit), ci])
    return rows


TREND_HEADERS = ["Metric", "Years", "Change", "Verdict", "Peer median change", "Diverges"]
DISPARITY_HEADERS = ["Metric", "Groups", "Group", "Reference", "Gap", "95% CI"]


def _table(title: str, headers: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title, header_style="bold")
    for h in headers:
        table.add_column(h)
    for row in rows:
        table.add_row(*row)
    return table


def _signed(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return ("+" if value >= 0 else "−") + format_change_text(abs(value), unit)


def _trend_rows(r: BarrierReport) -> list[list[str]]:
    units = {g.metric_id: g.unit for g in r.gaps}
    return [[f"{t.label} ({t.metric_id})", f"{t.first_period}–{t.last_period}",
             _signed(t.change, units.get(t.metric_id, "")), t.verdict,
             _signed(t.peer_median_change, units.get(t.metric_id, "")),
             "yes" if t.diverges else "no"]
            for t in r.trends if t.verdict in ("improved", "worsened", "rose", "fell") or t.diverges]


def rich_tables(r: BarrierReport) -> list[Table]:
    """Terminal tables: findings by pillar, trends, disparities, neighbourhoods.

    >>> from upward.diagnose.peers import Peer, PeerSet
    >>> from upward.diagnose.report import BarrierReport
    >>> from upward.geo.resolve import GeoMatch
    >>> r = BarrierReport(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None,
    ...                   PeerSet("given", (Peer("4055000", "place", "Oklahoma City, OK", None),),
    ...                           ()), 0.05, [], [], [], [], None, None, ["a note"], {})
    >>> [(t.title, t.caption) for t in rich_tables(r)]
    [('Barriers: Tulsa city, Oklahoma', 'Peers: Oklahoma City'), ('Notes', None)]
    """
    peers = ", ".join(p.name.split(",")[0] for p in r.peers.peers)
    t = Table(title=f"Barriers: {r.geo.name}", caption=f"Peers: {peers}", header_style="bold")
    t.add_column("#", justify="right")
    t.add_column("Finding", ratio=4, overflow="fold")
    t.add_column("Behind", no_wrap=True)
    for pillar, findings in r.by_pillar().items():
        t.add_section()
        t.add_row("", f"[bold]{pillar}[/]", "")
        for f in findings:
            behind = "/".join(x for x, y in (("peers", f.behind_peers), ("US", f.behind_nation)) if y)
            t.add_row(str(f.rank), f"{f.sentence} [dim]{f.metric_id}[/]", behind)
    if not r.findings:
        t.add_row("", "No metric is significantly worse than the peers or the nation.", "")
    tables = [t]
    for title, headers, rows in (("Trends", TREND_HEADERS, _trend_rows(r)),
                                 ("Disparities between groups", DISPARITY_HEADERS,
                                  _disparity_rows(r))):
        if rows:
            tables.append(_table(title, headers, rows))
    tables += _neighbourhood_tables(r)
    tables += _driver_tables(r)
    if r.warnings:
        w = Table(title="Notes", header_style="bold", show_header=False)
        w.add_column("Note", overflow="fold")
        for note in r.warnings:
            w.add_row(note)
        tables.append(w)
    return tables


def barriers_markdown(r: BarrierReport) -> str:
    """The report as Markdown.

    >>> from upward.diagnose.peers import Peer, PeerSet
    >>> from upward.diagnose.report import BarrierReport
    >>> from upward.geo.resolve import GeoMatch
    >>> r = BarrierReport(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None,
    ...                   PeerSet("given", (Peer("4055000", "place", "Oklahoma City, OK", None),),
    ...                           ()), 0.05, [], [], [], [], None, None, [], {})
    >>> barriers_markdown(r).splitlines()[:3]
    ['# Barriers to mobility: Tulsa city, Oklahoma', '', 'Peers (given): Oklahoma City, OK']
    """
    parts = [f"# Barriers to mobility: {r.geo.name}", "",
             f"Peers ({r.peers.method}): " + "; ".join(p.name for p in r.peers.peers), "",
             f"Findings are metrics significantly worse than the peer median or the national "
             f"median (false discovery rate {r.alpha:g}); quality-3 values are never findings.", ""]
    for pillar, findings in r.by_pillar().items():
        parts += [f"## {pillar}", ""]
        parts += [f"{f.rank}. {f.sentence} (`{f.metric_id}`)" for f in findings]
        parts.append("")
    if not r.findings:
        parts += ["No metric is significantly worse than the peers or the nation.", ""]
    rows = [[g.label, g.metric_id, format_value(g.estimate, g.unit),
             format_value(g.peer_median, g.unit), format_value(g.national_median, g.unit),
             f"{g.peer_q:.3f}" if g.peer_q is not None else "—",
             f"{g.national_q:.3f}" if g.national_q is not None else "—",
             "yes" if g.finding else ""] for g in r.gaps]
    parts += ["## Every metric", "", _md_table(["Metric", "id", "Value", "Peer median",
                                                "US median", "q (peers)", "q (US)", "Finding"],
                                               rows), ""]
    if _trend_rows(r):
        parts += ["## Trends", "", _md_table(TREND_HEADERS, _trend_rows(r)), ""]
    if r.disparities:
        parts += ["## Disparities", "", _md_table(DISPARITY_HEADERS, _disparity_rows(r)), ""]
    if r.drivers and r.drivers.get("interpretation"):
        parts += ["## Drivers (associations, not causes)", ""]
        parts += [f"- {s}" for s in r.drivers["interpretation"]]
        parts.append("")
    if r.warnings:
        parts += ["## Notes", ""] + [f"- {w}" for w in r.warnings] + [""]
    return "\n".join(parts)


def _neighbourhood_tables(r: BarrierReport) -> list[Table]:
    """The neighbourhood block: always shown when it was computed, with the lowest tracts and
    the reason for anything missing (Moran's I without tract geometry, say)."""
    n = r.neighbourhoods
    if not n:
        return []
    tn = Table(title=f"Neighbourhoods ({n.get('n_tracts', 0)} tracts)", header_style="bold")
    tn.add_column("Measure", overflow="fold")
    tn.add_column("Value", overflow="fold")
    for s in n.get("distribution") or []:
        unit = unit_of(s["metric_id"])
        tn.add_row(f"{s['label']}: lowest / median / highest tract",
                   " / ".join(format_value(s[k], unit) for k in ("min", "median", "max")))
    share = n.get("bottom_quintile_share") or {}
    if share.get("share") is not None:
        tn.add_row("Children in the nation's bottom-fifth tracts", f"{100 * share['share']:.0f}%")
    m = n.get("moran")
    if m:
        tn.add_row("Global Moran's I (clustering of tract outcomes, −1 to 1)",
                   f"{m.get('i', float('nan')):.3f}")
        tn.add_row("Permutation p (two-sided)", f"{m.get('p_two_sided', float('nan')):.3g}")
    else:
        tn.add_row("Global Moran's I (clustering of tract outcomes)", "not computed (see notes)")
    tables = [tn]
    low = n.get("lowest_tracts") or []
    if low:
        unit = unit_of(n.get("metric_id", ""))
        tl = Table(title="Lowest tracts", header_style="bold")
        tl.add_column("Tract", no_wrap=True)
        tl.add_column("Name", overflow="fold")
        tl.add_column("Value", justify="right")
        tl.add_column("Children", justify="right")
        for t in low:
            tl.add_row(t["geo_id"], t.get("name") or "—", format_value(t["value"], unit),
                       format_value(t.get("kid_count"), "count"))
        tables.append(tl)
    notes = n.get("warnings") or []
    if notes:
        nt = Table(title="Neighbourhood notes", show_header=False)
        nt.add_column("Note", overflow="fold")
        for note in notes:
            nt.add_row(note)
        tables.append(nt)
    return tables


def _driver_tables(r: BarrierReport) -> list[Table]:
    """The drivers the report computed (associations, not causes)."""
    d = r.drivers
    if not d or not d.get("drivers"):
        return []
    td = Table(title=f"Drivers of {d.get('outcome_label', 'the outcome')} "
                     "(associations, not causes)", header_style="bold",
               caption=d.get("caveat") or None)
    td.add_column("Predictor", overflow="fold")
    td.add_column("Beta", justify="right")
    td.add_column("95% CI", justify="right", no_wrap=True)
    td.add_column("Signif.")
    for x in d["drivers"]:
        td.add_row(x["label"], f"{x['beta']:+.2f}", f"{x['ci_low']:+.2f} to {x['ci_high']:+.2f}",
                   "yes" if x["significant"] else "no")
    return [td]
