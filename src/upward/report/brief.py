"""A two-page briefing of a place for leaders: the plain-language summary, the key numbers
(with intervals and national standing read as better or worse), the largest barriers, who is
furthest behind, where in the city, the peers and the sources, on two US Letter pages.

Examples
--------
>>> KEY_METRICS[0]
'pctl_income_50'
"""

from __future__ import annotations

from pathlib import Path

from upward.core.atomic import atomic_write
from upward.diagnose.report import build_barriers
from upward.diagnose.summary import summarise
from upward.measure import frames
from upward.measure.groups import group_label
from upward.measure.profile import build_profile, tracts_inside
from upward.measure.render import format_change_text, format_value, unit_of
from upward.measure.standing import better_than, standing_class
from upward.report import charts
from upward.report.i18n import current_language, localise_numbers, use_language
from upward.report.i18n import gettext as _
from upward.report.page import render_page
from upward.report.sentences import finding_sentence, standing_short
from upward.report.summary import summary_html
from upward.report.templating import render
from upward.warehouse.store import Warehouse

#: The headline metrics of a briefing, in this order, where the place has them.
KEY_METRICS = ("pctl_income_50", "pctl_income_20", "share_employed", "share_poverty_exposure",
               "share_hs_degree", "share_in_preschool", "share_digital_access",
               "ratio_high_low_ses_fb_friends", "rate_crime_violent")
MAX_FINDINGS = 5
MAX_TRACTS = 5
#: Where each summary sentence's evidence is in the briefing.
BRIEF_LINKS = {"scorecard": "#key-numbers", "outcomes": "#key-numbers",
               "barriers": "#brief-barriers", "disparities": "#brief-who",
               "neighbourhoods": "#brief-where"}

BRIEF_CSS = """
@page { size: Letter; margin: 11mm 12mm; }
body { font-size: 9pt; line-height: 1.28; }
header, main, footer { max-width: 100%; }
h1 { font-size: 1.45rem; } h2 { font-size: 1.08rem; margin: .65rem 0 .25rem; }
table { font-size: 1em; margin: .2rem 0 .4rem; }
th, td { padding: .1rem .3rem; }
p { margin: .3rem 0; }
section.summary p { font-size: .95rem; margin: .3rem 0; }
section.summary { padding: .1rem .8rem .4rem; margin: .4rem 0; }
section.summary h2 { margin-top: .3rem; }
dl.terms { grid-template-columns: max-content 1fr max-content 1fr; font-size: .78rem; }
header { padding-top: .2rem; } header p { margin: .1rem 0 .3rem; }
.brief-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.2rem; }
.page-two { break-inside: auto; }
ol.brief-findings li { margin: .15rem 0; }
footer { font-size: .75rem; }
.small { font-size: .9em; }
figure.brief-map { margin: .4rem 0 .2rem; break-inside: avoid; }
figure.brief-map figure.chart { margin: 0; min-height: 0; }
figure.brief-map figcaption { font-size: .9em; margin-top: .1rem; }
"""


def brief_context(wh: Warehouse, place: str, *, peers: list[str] | None = None,
                  k: int = 10, workspace=None) -> dict:
    """What the briefing shows, computed and formatted (``workspace``: where the ACS tables
    of the map's tract measures are, when the largest barrier has no tract values)."""
    from upward.report.brief_map import brief_map

    report = build_barriers(wh, place, peers=peers, k=k, include_drivers=False,
                            include_neighbourhoods=False)
    profile = build_profile(wh, place)
    geo = profile.geo
    summary = summarise(wh, report, profile)
    entries = {m.metric_id: m for m in profile.metrics}
    key = []
    for mid in KEY_METRICS:
        m = entries.get(mid)
        if m is None:
            continue
        t = m.trend
        key.append({
            "label": m.label, "value": format_value(m.estimate, m.unit),
            "interval": (f"{format_value(m.lb, m.unit)}–{format_value(m.ub, m.unit)}"
                         if m.lb is not None and m.ub is not None else ""),
            "period": m.period, "standing": standing_short(m.national_percentile, m.direction),
            "standing_class": standing_class(better_than(m.national_percentile, m.direction)),
            "trend": (f"{'▲' if t.change > 0 else '▼' if t.change < 0 else '='} "
                      + _("{change} since {year}").format(
                          change=localise_numbers(format_change_text(abs(t.change), m.unit)),
                          year=t.first_period)
                      + ("" if t.significant else " " + _("(not significant)")
                         if t.significant is False else "")) if t else "",
            "quality": _(charts.quality_word(m.quality))})
    who = [{"group": _(group_label(d.group)), "reference": _(group_label(d.reference)),
            "value": format_value(d.value, unit_of(d.metric_id)),
            "reference_value": format_value(d.reference_value, unit_of(d.metric_id)),
            "gap": format_value(d.difference, unit_of(d.metric_id)),
            "significant": d.p_value is not None and d.p_value < 0.05}
           for d in report.disparities if d.metric_id == "kfr_p25"]
    tracts, tract_method = tracts_inside(wh, geo)
    lowest = _lowest_tracts(wh, tracts)
    kind = "city" if geo.geo_level == "place" else "county"
    return {
        "title": _("Briefing: {name}").format(name=geo.name),
        "geo": geo, "kind": kind,
        "synthetic": "synthetic" in geo.name.lower(),
        "summary": summary_html(summary, BRIEF_LINKS),
        "key": key,
        "findings": [f.sentence if current_language() == "en" else finding_sentence(
            next(g for g in report.gaps if g.metric_id == f.metric_id), geo.geo_level)
            for f in report.findings[:MAX_FINDINGS]],
        "n_findings": len(report.findings),
        "who": who, "lowest": lowest, "tract_method": tract_method, "moran": None,
        "peers": [p.name for p in report.peers.peers], "peer_method": report.peers.method,
        "sources": sorted({charts.release_label(s["source_id"]) for s in profile.sources}),
        "county": profile.county,
        "map": brief_map(wh, geo, [f.metric_id for f in report.findings], workspace),
    }


def _lowest_tracts(wh: Warehouse, tracts: list[str]) -> list[dict]:
    values = frames.tract_values(wh)
    if not tracts or values.empty or "kfr_dollars_p25" not in values.columns:
        return []
    inside = values.reindex(tracts)
    low = inside["kfr_dollars_p25"].dropna().sort_index().sort_values(kind="stable")
    low = low.head(MAX_TRACTS)
    g = wh.table("geographies")
    names = wh.frame(g.filter((g.geo_level == "tract") & g.geo_id.isin(list(low.index))
                              & g.name.notnull()).select("geo_id", "name"))
    name_of = dict(zip(names["geo_id"], names["name"], strict=True)) if len(names) else {}
    kids = inside["kid_count"] if "kid_count" in inside.columns else None
    return [{"geo_id": t, "name": (name_of.get(t) or "").split(",")[0],
             "value": format_value(float(v), "dollars"),
             "kids": format_value(None if kids is None or kids.isna().get(t, True)
                                  else float(kids[t]), "count")}
            for t, v in low.items()]


def render_brief(wh: Warehouse, place: str, *, peers: list[str] | None = None,
                 k: int = 10, lang: str = "en", workspace=None) -> str:
    """The two-page briefing as one self-contained HTML document, in ``lang`` ("en" or
    "es")."""
    from upward.report.page import BASE_CSS

    with use_language(lang) as lang:
        context = brief_context(wh, place, peers=peers, k=k, workspace=workspace)
        body = render("brief.html", **context)
        page = render_page(context["title"], body,
                           subtitle=_("A two-page briefing from public data, generated by "
                                      "Upward"),
                           footer=_("Values are the publishers' own, with 95% intervals where "
                                    "published; 'better'/'worse' read each measure the way it "
                                    "is better. Full report: upward report PLACE."),
                           with_charts=False, lang=lang)
    return page.replace(BASE_CSS, BASE_CSS + BRIEF_CSS, 1)


def write_brief(wh: Warehouse, place: str, path: Path, **options) -> Path:
    """Render the briefing and write it to ``path`` atomically."""
    return atomic_write(path, render_brief(wh, place, **options), mode=0o644)
