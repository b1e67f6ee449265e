"""Text renderings of a barrier report: Rich tables for the terminal, a Markdown briefing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from upward.measure.render import _md_table, format_value

if TYPE_CHECKING:
    from upward.diagnose.report import BarrierReport


def _disparity_rows(r: BarrierReport) -> list[list[str]]:
    rows = []
    for d in r.disparities:
        ci = f"{d.lb:.3f} to {d.ub:.3f}" if d.lb is not None else "—"
        rows.append([f"{d.label} ({d.metric_id})", f"{d.group} vs {d.reference}",
                     f"{d.value:.3g}", f"{d.reference_value:.3g}", f"{d.difference:+.3g}", ci])
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
    return ("+" if value >= 0 else "−") + format_value(abs(value), unit)


def _trend_rows(r: BarrierReport) -> list[list[str]]:
    units = {g.metric_id: g.unit for g in r.gaps}
    return [[f"{t.label} ({t.metric_id})", f"{t.first_period}–{t.last_period}",
             _signed(t.change, units.get(t.metric_id, "")), t.verdict,
             _signed(t.peer_median_change, units.get(t.metric_id, "")),
             "yes" if t.diverges else "no"]
            for t in r.trends if t.verdict in ("improved", "worsened", "rose", "fell") or t.diverges]


def rich_tables(r: BarrierReport) -> list[Table]:
    """Terminal tables: findings by pillar, trends, disparities, neighbourhoods."""
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
    n = r.neighbourhoods
    if n and n.get("moran"):
        m = n["moran"]
        tn = Table(title="Neighbourhoods", header_style="bold")
        tn.add_column("Measure")
        tn.add_column("Value")
        tn.add_row("Global Moran's I (tract outcome)", f"{m.get('i', float('nan')):.3f}")
        tn.add_row("Permutation p (two-sided)", f"{m.get('p_two_sided', float('nan')):.3g}")
        share = n.get("bottom_quintile_share") or {}
        if share.get("share") is not None:
            tn.add_row("Children in the nation's bottom-fifth tracts", f"{100 * share['share']:.0f}%")
        tables.append(tn)
    return tables


def barriers_markdown(r: BarrierReport) -> str:
    """The report as Markdown."""
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
