"""The place report: one self-contained HTML file about a city or county — overview, the
scorecard by pillar, the barriers found against peers and the nation, the neighbourhood map,
trends of key metrics, county outcomes and the sources — its charts and map drawn as inline
SVG (``upward.report.svg``, no script), so it opens offline from disk, stays small, and prints
to PDF (``upward.report.pdf``).

Every number carries where it comes from (publisher and release), its period and its quality
grade in words; every chart has a table alternative.

Examples
--------
>>> from upward.warehouse.store import Warehouse
>>> with Warehouse("ws/warehouse.duckdb", read_only=True) as wh:  # doctest: +SKIP
...     html = render_place_report(wh, "Tulsa, OK")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from upward.core.atomic import atomic_write
from upward.core.text import N_, joined
from upward.diagnose.neighbourhoods import neighbourhoods
from upward.diagnose.report import BarrierReport, build_barriers
from upward.diagnose.summary import summarise
from upward.measure import frames
from upward.measure.profile import Profile, build_profile
from upward.measure.render import format_value
from upward.measure.series import (
    DEFAULT_MAP_METRIC,
    TractMap,
    metric_distribution,
    metric_series,
    peer_values,
    release_of,
    tract_map,
)
from upward.metrics import get_metric
from upward.report import charts
from upward.report.i18n import current_language, localise_numbers, use_language
from upward.report.i18n import gettext as _
from upward.report.page import render_page
from upward.report.sentences import finding_sentence
from upward.report.summary import summary_html
from upward.report.svg import figure_svg
from upward.report.templating import render
from upward.warehouse.store import Warehouse

#: Metrics whose trend the report draws when the place has one, in this order.
KEY_TREND_METRICS = ("pctl_income_50", "pctl_income_20", "share_employed", "share_hs_degree",
                     "share_debt_col", "share_poverty_exposure")
N_TRENDS = 4
#: Barrier findings drawn against the peers (the top ones by rank).
N_PEER_CHARTS = 3
N_DISPARITIES = 8


@dataclass(frozen=True)
class ChartBlock:
    """A chart in the report: its figure's HTML, a caption saying where the numbers come
    from, and its table alternative.

    >>> ChartBlock("c", "T", "<div></div>", "<table></table>", "from X").id
    'c'
    """

    id: str
    title: str
    figure: str
    table: str
    caption: str
    notes: tuple[str, ...] = field(default=())


#: Where each summary sentence's evidence is in the report.
REPORT_LINKS = {"scorecard": "#scorecard", "outcomes": "#county-outcomes",
                "barriers": "#barriers", "disparities": "#disparities",
                "neighbourhoods": "#neighbourhoods"}


def render_place_report(wh: Warehouse, place: str, *, peers: list[str] | None = None,
                        k: int = 10, lang: str = "en") -> str:
    """The report of a place or county as one self-contained HTML document.

    ``place`` is a name ("Tulsa, OK") or FIPS code; ``peers``/``k`` choose the comparison
    places as in ``upward barriers``; ``lang`` the language ("en" or "es").

    >>> import tempfile
    >>> render_place_report(Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb"), "Tulsa, OK")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: the warehouse holds no geographies yet. What to do: load data first: upward fetch urban … --from DIR, or upward demo
    """
    with use_language(lang) as lang:
        context = place_context(wh, place, peers=peers, k=k)
        body = render("place.html", **context)
        return render_page(context["title"], body, subtitle=localise_numbers(context["subtitle"]),
                           footer=context["footer"], with_charts=False, lang=lang)


def write_place_report(wh: Warehouse, place: str, path: Path, **options) -> Path:
    """Render the report and write it to ``path`` atomically (a temporary file renamed).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> write_place_report(Warehouse(root / "w.duckdb"), "Tulsa, OK", root / "t.html")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: the warehouse holds no geographies yet. What to do: load data first: upward fetch urban … --from DIR, or upward demo
    >>> (root / "t.html").exists()
    False
    """
    html = render_place_report(wh, place, **options)
    return atomic_write(path, html, mode=0o644)


def place_context(wh: Warehouse, place: str, *, peers: list[str] | None = None,
                  k: int = 10) -> dict:
    """Everything the place template shows, computed and formatted (see ``templates/``).

    >>> import tempfile
    >>> place_context(Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb"), "Tulsa, OK")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: the warehouse holds no geographies yet. What to do: load data first: upward fetch urban … --from DIR, or upward demo
    """
    # Neighbourhood statistics are computed here (global only): the barriers' local Moran's I
    # compiles esda's numba kernels, half a minute in every new process.
    report = build_barriers(wh, place, peers=peers, k=k, include_drivers=False,
                            include_neighbourhoods=False)
    profile = build_profile(wh, place)
    geo = profile.geo
    rows = charts.scorecard_table(profile)
    tmap = tract_map(wh, geo.geo_id, geo.geo_level, DEFAULT_MAP_METRIC)
    sources = _sources(wh, profile, tmap)
    synthetic = "synthetic" in geo.name.lower()
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    vintage = _vintage(rows, profile, tmap)
    return {
        "title": _("Upward mobility report: {name}").format(name=geo.name),
        "subtitle": _subtitle(profile, vintage),
        "footer": _("Generated by Upward on {generated} from the data loaded in the workspace. "
                    "Quality grades are the publishers' own: good = no substantial concerns, "
                    "caution = use with caution, weak = do not act on it.").format(
                        generated=generated),
        "geo": geo,
        "kind": "city" if geo.geo_level == "place" else "county",
        "synthetic": synthetic,
        "facts": _facts(wh, profile, vintage),
        "pillars": charts.scorecard_by_pillar(rows),
        "n_metrics": len(rows),
        "barriers": _barriers(wh, report, profile),
        "summary": summary_html(summarise(wh, report, profile), REPORT_LINKS),
        "map": _map_block(tmap, neighbourhood_stats(wh, tmap)),
        "trends": _trend_blocks(wh, profile),
        "county_outcomes": _county_outcomes(profile),
        "sources": sources,
        "generated": generated,
    }


# -- overview ----------------------------------------------------------------------------------
def _population(wh: Warehouse, profile: Profile) -> tuple[str, str]:
    g = wh.table("geographies")
    rows = wh.frame(g.filter((g.geo_id == profile.geo.geo_id)
                             & (g.geo_level == profile.geo.geo_level)
                             & g.population.notnull()).select("population", "source_id",
                                                              "vintage"))
    if rows.empty:
        return N_("not published in the loaded files"), ""
    best = rows.sort_values("population", ascending=False).iloc[0]
    release = charts.release_label(best["source_id"])
    source = (N_("{release}, {vintage}", release=release, vintage=best["vintage"])
              if pd.notna(best["vintage"]) else release)
    return f"{best['population']:,.0f}", source


def _vintage(rows: list[dict], profile: Profile, tmap: TractMap) -> list[str]:
    periods: dict[str, list[str]] = {}
    for r in rows:
        periods.setdefault(r["release"], []).append(r["period"])
    for o in profile.atlas + profile.social_capital:
        periods.setdefault(charts.release_label(o.source_id), []).append(o.period)
    out = []
    for release, ps in periods.items():
        years = sorted(set(ps))
        if len(years) > 1 and all(y.isdigit() for y in years):
            span = f"{years[0]}–{years[-1]}"
        else:
            span = ", ".join(years)
        out.append(N_("{release}: {span}", release=release, span=span))
    if tmap.has_geometry:
        out.append(N_("Census cartographic tract boundaries, {vintage} (2010 tract definitions)",
                      vintage=tmap.geometry_vintage))
    return out


def _subtitle(profile: Profile, vintage: list[str]) -> str:
    parts = [f"{profile.geo.geo_level.title()} {profile.geo.geo_id}"]
    if profile.county:
        parts.append(profile.county.name)
    if profile.population:
        parts.append(f"population {profile.population:,.0f}")
    return " · ".join(parts)


def _facts(wh: Warehouse, profile: Profile, vintage: list[str]) -> list[tuple[str, str, str]]:
    population, population_source = _population(wh, profile)
    geo = profile.geo
    facts = [(geo.geo_level.title(), N_("{name} (GEOID {geo_id})", name=geo.name,
                                        geo_id=geo.geo_id), "")]
    if profile.county:
        county = N_("{name} (GEOID {geo_id})", name=profile.county.name,
                    geo_id=profile.county.geo_id)
        facts.append(("County", county,
                      N_("the county holding most of the city's Opportunity Atlas tracts")))
    facts.append(("Population", population, population_source))
    facts.append(("Data vintage", joined("; ", vintage), ""))
    return facts


# -- barriers ----------------------------------------------------------------------------------
def _barriers(wh: Warehouse, report: BarrierReport, profile: Profile) -> dict:
    level = profile.geo.geo_level
    entries = {m.metric_id: m for m in profile.metrics}
    findings = []
    for f in report.findings:
        m = entries.get(f.metric_id)
        where = []
        if f.behind_peers:
            where.append("behind peers")
        if f.behind_nation:
            where.append("behind the nation")
        findings.append({
            "rank": f.rank, "label": f.label, "pillar": f.pillar,
            "sentence": f.sentence if current_language() == "en" else finding_sentence(
                next(g for g in report.gaps if g.metric_id == f.metric_id), level),
            "where": " and ".join(where), "score": f.score,
            "source": _source_line(m) if m else "",
            "quality": m.quality if m else None,
            "quality_word": charts.quality_word(m.quality if m else None),
        })
    blocks = []
    for f in report.findings[:N_PEER_CHARTS]:
        m = entries.get(f.metric_id)
        if m is None:
            continue
        blocks.append(_peer_block(wh, report, m, level))
    distribution = None
    if report.findings and report.findings[0].metric_id in entries:
        distribution = _distribution_block(wh, entries[report.findings[0].metric_id], level,
                                           profile.geo.name)
    changes = [t for t in report.trends if t.verdict in ("improved", "worsened")]
    return {
        "findings": findings,
        "peers": [p.name for p in report.peers.peers],
        "peer_method": report.peers.method,
        "alpha": report.alpha,
        "method": report.method,
        "warnings": report.warnings,
        "peer_charts": blocks,
        "distribution": distribution,
        "changes": [{"label": t.label, "verdict": t.verdict, "years":
                     f"{t.first_period}–{t.last_period}",
                     "change": charts.format_change(abs(t.change), entries[t.metric_id].unit)
                     if t.metric_id in entries else f"{t.change:.3g}",
                     "arrow": charts.TREND_ARROWS[(t.change > 0) - (t.change < 0)],
                     "source": _source_line(entries[t.metric_id]) if t.metric_id in entries
                     else ""} for t in changes],
        "disparities": _disparities(report),
    }


def _english(write, *args, **kwargs) -> str:
    """A number written the English way, as the parameters of an ``N_`` message are (the
    report writes it the reader's way when it translates the message)."""
    with use_language("en"):
        return write(*args, **kwargs)


def _source_line(m) -> str:
    return N_("Source: {release}, {period}; quality: {quality}",
              release=charts.release_label(m.source_id), period=m.period,
              quality=charts.quality_word(m.quality))


def _peer_block(wh: Warehouse, report: BarrierReport, m, level: str) -> ChartBlock:
    peers = peer_values(wh, report.peers.ids, level, m.metric_id)
    names = {p.geo_id: p.name for p in report.peers.peers}
    peers = peers.assign(name=peers["geo_id"].map(names).fillna(peers["name"]))
    fig = charts.peer_chart(m.estimate, peers, _("{metric}: {name} and its peers").format(
                                metric=_(m.label), name=report.geo.name),
                            m.unit, name=report.geo.name, lb=m.lb, ub=m.ub)
    table = charts.table_alternative(
        charts.peer_table(m.estimate, peers, m.unit, name=report.geo.name),
        _("{metric}: {name} and its peers").format(metric=_(m.label), name=report.geo.name))
    periods = sorted(set(peers["period"]) | {m.period})
    caption = N_("{source}. Peers: latest value of each, {periods}; bars are published 95% "
                 "intervals.", source=_source_line(m), periods=", ".join(periods))
    return ChartBlock(f"peer-{m.metric_id}", m.label, figure_svg(fig, f"peer-{m.metric_id}"),
                      table, caption)


def _distribution_block(wh: Warehouse, m, level: str, name: str) -> ChartBlock:
    values = metric_distribution(wh, m.metric_id, level)
    kind = "US cities" if level == "place" else "US counties"
    fig = charts.distribution_chart(values, m.estimate, _(m.label), m.unit, name=name, kind=kind,
                                    direction=m.direction)
    table = charts.table_alternative(
        charts.distribution_table(values, m.estimate, m.unit, name=name),
        (_("{metric}: where {name} sits among US cities") if level == "place" else
         _("{metric}: where {name} sits among US counties")).format(metric=_(m.label), name=name))
    releases = sorted({charts.release_label(s) for s in values["source_id"]})
    caption = N_("{source}. Distribution: the latest value of every one of {n:,} {kind} "
                 "({releases}).", source=_source_line(m), n=len(values), kind=kind,
                 releases="; ".join(releases))
    return ChartBlock(f"dist-{m.metric_id}", m.label,
                      figure_svg(fig, f"dist-{m.metric_id}"), table, caption)


def _disparities(report: BarrierReport) -> list[dict]:
    rows = sorted(report.disparities, key=lambda d: d.p_value if d.p_value is not None else 1)
    out = []
    for d in rows[:N_DISPARITIES]:
        unit = get_metric(d.metric_id).unit
        iv = (f"{charts.format_change(d.lb, unit)} to {charts.format_change(d.ub, unit)}"
              if d.lb is not None and d.ub is not None else "—")
        out.append({"label": d.label, "group": d.group, "reference": d.reference,
                    "value": format_value(d.value, unit),
                    "reference_value": format_value(d.reference_value, unit),
                    "difference": charts.format_change(d.difference, unit, signed=True),
                    "interval": iv,
                    "p": "< 0.001" if d.p_value is not None and d.p_value < 0.001
                    else (f"{d.p_value:.3f}" if d.p_value is not None else "—"),
                    "source": d.source})
    return out


# -- map -------------------------------------------------------------------------------------
def neighbourhood_stats(wh: Warehouse, tmap: TractMap) -> list[str]:
    """Sentences on the map's metric from the barriers report's neighbourhood diagnosis
    (upward.diagnose.neighbourhoods): the share of children in tracts in the nation's bottom
    fifth and global Moran's I of the mapped tracts.

    >>> import tempfile
    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.series import TractMap
    >>> tmap = TractMap(GeoMatch("40143", "county", "Tulsa County", "40"),
    ...                 get_metric("kfr_dollars_p25"), pd.DataFrame({"geo_id": []}), {}, (), None)
    >>> neighbourhood_stats(Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb"), tmap)
    []
    """
    metric = tmap.metric
    if tmap.n_tracts == 0 or metric.id not in frames.tract_values(wh).columns:
        return []
    report = neighbourhoods(wh, tmap.geo, metric=metric.id)
    out = []
    share = report.bottom_quintile_share
    if share is not None and metric.direction == "higher":
        values = {"share": 100 * share.share, "cutoff": _english(format_value, share.cutoff,
                                                                  metric.unit),
                  "n": share.national_n}
        out.append(N_("{share:.0f}% of the children in the Atlas sample grew up in tracts in the "
                      "nation's bottom fifth for this outcome (at or below {cutoff}, the 20th "
                      "percentile of {n:,} US tracts).", **values) if share.weighted else
                   N_("{share:.0f}% of the tracts are in tracts in the nation's bottom fifth for "
                      "this outcome (at or below {cutoff}, the 20th percentile of {n:,} US "
                      "tracts).", **values))
    m = report.moran
    if m is not None:
        verdict = (N_("neighbouring tracts have similar values (spatial clustering)")
                   if m.clustered else N_("no significant spatial clustering"))
        out.append(N_("Global Moran's I = {i:.2f} (permutation p = {p:.3f}, {permutations} "
                      "permutations, Queen contiguity, {n} tracts with a neighbour): {verdict}.",
                      i=m.i, p=m.p_clustered, permutations=m.permutations, n=m.n,
                      verdict=verdict))
    else:
        out += [f"{w}." for w in report.warnings if "Moran" in w]
    return out


def _map_block(tmap: TractMap, stats: list[str]) -> dict:
    metric = tmap.metric
    table = charts.table_alternative(
        charts.tract_table(tmap),
        _("{metric}: every tract of {name}").format(metric=_(metric.label), name=tmap.geo.name))
    notes = []
    if tmap.n_tracts == 0:
        notes.append(N_("The Opportunity Atlas files loaded have no tracts matched to {name}, so "
                        "there is no neighbourhood map.", name=tmap.geo.name))
    elif not tmap.has_geometry:
        states = sorted({t[:2] for t in tmap.missing_geometry})
        notes.append(N_(
            "Tract geometry is missing: none of the {n} tracts of {name} has a shape in this "
            "workspace (state {states}), so the map cannot be drawn. The tract values are in the "
            "table below. To add the shapes: upward fetch tracts --state {options}",
            n=tmap.n_tracts, name=tmap.geo.name, states=", ".join(states),
            options=" --state ".join(states)))
    elif tmap.missing_geometry:
        notes.append(N_("{missing} of the {n} tracts have no shape and are not on the map (they "
                        "are in the table).", missing=len(tmap.missing_geometry),
                        n=tmap.n_tracts))
    figure = ""
    if tmap.has_geometry:
        figure = figure_svg(charts.choropleth(tmap, _(metric.label)), "tract-map",
                            label=_("Map of {metric} by census tract in {name}").format(
                                metric=_(metric.label), name=tmap.geo.name))
    values = {"source": metric.source, "period": _tract_period(tmap),
              "quality": charts.NOT_GRADED}
    source = N_("Values: Opportunity Atlas tract file ({source}), {period}; quality: {quality}.",
                **values)
    if tmap.has_geometry:
        source = N_("Values: Opportunity Atlas tract file ({source}), {period}; quality: "
                    "{quality}. Shapes: US Census Bureau cartographic boundary file, {vintage} "
                    "(2010 tract definitions), matched on GEOID.", **values,
                    vintage=tmap.geometry_vintage)
    return {"metric": metric, "figure": figure, "table": table, "notes": notes,
            "stats": stats, "method": tmap.method or "", "source": source,
            "n_tracts": tmap.n_tracts, "n_mapped": tmap.n_mapped,
            "has_geometry": tmap.has_geometry}


def _tract_period(tmap: TractMap) -> str:
    periods = sorted(set(tmap.values["period"].dropna()))
    return ", ".join(periods) or "period not given"


# -- trends ----------------------------------------------------------------------------------
def _trend_blocks(wh: Warehouse, profile: Profile) -> list[ChartBlock]:
    with_trend = [m for m in profile.metrics if m.trend is not None and m.trend.n_periods >= 3]
    by_id = {m.metric_id: m for m in with_trend}
    chosen = [by_id[i] for i in KEY_TREND_METRICS if i in by_id]
    for m in sorted(with_trend, key=lambda m: (-(m.trend.significant or False),
                                               -m.trend.n_periods, m.metric_id)):
        if m not in chosen:
            chosen.append(m)
    blocks = []
    for m in chosen[:N_TRENDS]:
        series = metric_series(wh, profile.geo.geo_id, profile.geo.geo_level, m.metric_id)
        fig = charts.trend_chart(series, _(m.label), m.unit)
        table = charts.table_alternative(charts.trend_table(series, m.unit),
                                         _("{metric} in {name}, every published value").format(
                                             metric=_(m.label), name=profile.geo.name))
        t = m.trend
        releases = sorted({charts.release_label(s) for s in series["source_id"]})
        verdict = {True: N_("a significant change"), False: N_("not a significant change"),
                   None: N_("no interval published to test it")}[t.significant]
        caption = N_("Source: {releases}. Change {first}–{last}: {change}, {verdict} (z-test "
                     "from the published 95% intervals). Latest quality: {quality}; hollow "
                     "markers are values graded weak (do not act on them). Releases are drawn "
                     "separately, never joined.", releases="; ".join(releases),
                     first=t.first_period, last=t.last_period,
                     change=_english(charts.format_change, t.change, m.unit, signed=True),
                     verdict=verdict, quality=charts.quality_word(m.quality))
        blocks.append(ChartBlock(f"trend-{m.metric_id}", m.label,
                                 figure_svg(fig, f"trend-{m.metric_id}"), table, caption))
    return blocks


# -- county outcomes and sources -------------------------------------------------------------
def _county_outcomes(profile: Profile) -> list[dict]:
    out = []
    for o in profile.atlas + profile.social_capital:
        if o.subgroup_type != "all":
            continue
        unit = get_metric(o.metric_id).unit
        iv = (f"{format_value(o.lb, unit)}–{format_value(o.ub, unit)}"
              if o.lb is not None and o.ub is not None else "—")
        out.append({"label": o.label, "metric_id": o.metric_id,
                    "value": format_value(o.estimate, unit), "interval": iv,
                    "period": o.period, "source": charts.release_label(o.source_id),
                    "quality": charts.NOT_GRADED})
    return out


def _sources(wh: Warehouse, profile: Profile, tmap: TractMap) -> list[dict]:
    rows = {s["source_id"]: s for s in profile.sources}
    src = frames.sources(wh)
    for record in src[src["source_id"].isin(tmap.geometry_sources)].to_dict("records"):
        rows.setdefault(record["source_id"], record)
    out = []
    for s in sorted(rows.values(), key=lambda s: s["dataset"]):
        url = s.get("url") or ""
        out.append({"dataset": s["dataset"], "name": charts.release_label(s["dataset"]),
                    "publisher": s.get("publisher") or "", "title": s.get("title") or "",
                    "url": url, "link": url.startswith(("https://", "http://")),
                    "retrieved": (s.get("retrieved_at") or "")[:10],
                    "sha256": (s.get("sha256") or "")[:12], "license": s.get("license") or "",
                    "rows": s.get("rows"), "source_id": s["source_id"],
                    "release": release_of(s["source_id"])})
    return out
