"""A plain-language summary of a place: three to five sentences generated from the findings.

The sentences say, in this order, where the place stands nationally (better or worse, by each
metric's direction), how children from low-income families fare as adults (Opportunity
Atlas), its largest barriers (the first findings of the barrier report), who is furthest
behind (the largest significant gap between groups) and where in the city (the tracts with the
lowest outcomes, and whether low values cluster). Each sentence names the evidence it comes
from (``evidence``: scorecard, outcomes, barriers, disparities, neighbourhoods), which each
renderer turns into a link. Jargon is defined in ``GLOSSARY`` and wrapped by the HTML
renderers in ``<abbr title>``.

Examples
--------
>>> s = Summary("Tulsa", [Sentence("Tulsa is a city.", "scorecard")])
>>> s.text()
'Tulsa is a city.'
>>> sorted(GLOSSARY)[:2]
['Moran’s I', 'kfr']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from upward.core.text import N_, english_list, ordinal
from upward.measure import frames
from upward.measure.groups import group_label
from upward.measure.profile import tracts_inside
from upward.measure.render import format_value
from upward.measure.standing import better_than, standing_class
from upward.warehouse.store import Warehouse

if TYPE_CHECKING:
    from upward.diagnose.report import BarrierReport

#: Terms a reader may not know, with the definition shown on hover (HTML) or as a footnote.
GLOSSARY = {
    "kfr": N_("Opportunity Atlas variable: a child's household income rank in adulthood "
              "(mid-30s), on a 0–100 national scale"),
    "p25": N_("children whose parents were at the 25th percentile of national income (a "
              "low-income family)"),
    "Moran’s I": N_("a measure of clustering from −1 to 1: above 0 means tracts with low "
                    "values sit next to tracts with low values"),
    "percentile": N_("the share of all values below this one, out of 100"),
    "peer": N_("a city or county chosen as comparable (size, poverty and income, region)"),
    "tract": N_("a Census tract: a neighbourhood of about 4,000 people"),
}

#: The groups of children the "who is furthest behind" sentence names, as its subject and
#: as the reference (``upward.measure.groups`` codes).
CHILDREN = {"black": N_("Black children"), "hisp": N_("Hispanic children"),
            "hispanic": N_("Hispanic children"), "white": N_("White children"),
            "asian": N_("Asian children"), "natam": N_("Native American children"),
            "other": N_("Other races children"), "female": N_("girls")}
REFERENCE_CHILDREN = {"black": N_("black children"), "hisp": N_("hispanic children"),
                      "hispanic": N_("hispanic children"), "white": N_("white children"),
                      "asian": N_("asian children"), "natam": N_("native american children"),
                      "other": N_("other races children"), "male": N_("boys")}

#: The headline tract outcome for "where in the city".
WHERE_METRIC = "kfr_dollars_p25"


@dataclass(frozen=True)
class Sentence:
    """One sentence and the evidence it comes from.

    >>> Sentence("Tulsa is a city.", "scorecard").evidence
    'scorecard'
    """

    text: str
    evidence: str


@dataclass
class Summary:
    """The summary of one place: its sentences and the glossary terms they use.

    >>> s = Summary("Tulsa", [Sentence("A.", "scorecard")], {"kfr": "income rank"})
    >>> len(s.sentences), s.terms["kfr"]
    (1, 'income rank')
    """

    place: str
    sentences: list[Sentence]
    terms: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The sentences as one paragraph.

        >>> Summary("x", [Sentence("A.", "scorecard"), Sentence("B.", "barriers")]).text()
        'A. B.'
        """
        return " ".join(s.text for s in self.sentences)

    def to_dict(self) -> dict:
        """JSON-ready.

        >>> Summary("x", [Sentence("A.", "scorecard")]).to_dict()["sentences"][0]["evidence"]
        'scorecard'
        """
        return {"place": self.place,
                "sentences": [{"text": s.text, "evidence": s.evidence} for s in self.sentences],
                "terms": dict(self.terms)}


def _short(name: str) -> str:
    return name.split(",")[0].removesuffix(" city").strip()


def _ordinal(x: float) -> str:
    """A rounded ordinal.

    >>> _ordinal(32.0), _ordinal(41.4), _ordinal(12.0), _ordinal(23.0)
    ('32nd', '41st', '12th', '23rd')
    """
    return str(ordinal(x))


def _list(items: list[str]) -> str:
    """Items joined as English (each still translatable: ``upward.core.text.english_list``).

    >>> _list(["a"]), _list(["a", "b"]), _list(["a", "b", "c"])
    ('a', 'a and b', 'a, b and c')
    >>> _list(["a, 1", "b", "c"])  # items with commas are separated by semicolons
    'a, 1; b; and c'
    """
    return english_list(items)


def _mobility(report: BarrierReport, outcomes: list) -> Sentence | None:
    where = report.county.name if report.county else report.geo.name
    found = {(o.metric_id, o.subgroup): o for o in outcomes}
    o = found.get(("kfr_p25", "all"))
    if o is None:
        return None
    return Sentence(N_(
        "Children from low-income families (p25) who grew up in {where} reached on average the "
        "{rank} percentile of US household income in their mid-30s (kfr), where 50 is the "
        "national middle.", where=where.split(',')[0], rank=ordinal(100 * o.estimate)),
        "outcomes")


def _barriers(report: BarrierReport) -> Sentence:
    city = report.geo.geo_level == "place"
    n_peers = len(report.peers.peers)
    if not report.findings:
        return Sentence(N_("No measure is significantly worse than its {n} peer cities or the "
                           "national middle.", n=n_peers) if city else
                        N_("No measure is significantly worse than its {n} peer counties or the "
                           "national middle.", n=n_peers), "barriers")
    gaps = {g.metric_id: g for g in report.gaps}
    worst = sorted(report.findings, key=lambda f: -f.score)[:3]
    parts = []
    for f in worst:
        g = gaps.get(f.metric_id)
        parts.append(N_("{label} ({value})", label=f.label,
                        value=format_value(g.estimate, g.unit)) if g is not None else f.label)
    n = len(report.findings)
    barriers = _list(parts)
    if n > len(worst):
        text = (N_("Its largest barriers, against its {n} peer cities and the nation, are "
                   "{barriers}; {all} measures in all are significantly worse.",
                   n=n_peers, barriers=barriers, all=n) if city else
                N_("Its largest barriers, against its {n} peer counties and the nation, are "
                   "{barriers}; {all} measures in all are significantly worse.",
                   n=n_peers, barriers=barriers, all=n))
    else:
        text = (N_("Its largest barriers, against its {n} peer cities and the nation, are "
                   "{barriers}.", n=n_peers, barriers=barriers) if city else
                N_("Its largest barriers, against its {n} peer counties and the nation, are "
                   "{barriers}.", n=n_peers, barriers=barriers))
    return Sentence(text, "barriers")


def _who(report: BarrierReport) -> Sentence | None:
    gaps = [d for d in report.disparities if d.metric_id == "kfr_p25" and d.p_value is not None
            and d.p_value < 0.05 and d.difference < 0]
    if not gaps:
        return None
    d = min(gaps, key=lambda x: x.difference)
    who = CHILDREN.get(d.group) or N_("{group} children", group=group_label(d.group))
    reference = REFERENCE_CHILDREN.get(d.reference) or N_(
        "{group} children", group=group_label(d.reference).lower())
    return Sentence(N_(
        "{who} from low-income families are furthest behind: they reached the {rank} "
        "percentile as adults, {points:.0f} points below {reference} ({reference_rank}).",
        who=who, rank=ordinal(100 * d.value), points=100 * abs(d.difference),
        reference=reference, reference_rank=ordinal(100 * d.reference_value)), "disparities")


def _where(wh: Warehouse, report: BarrierReport) -> Sentence | None:
    tracts, _ = tracts_inside(wh, report.geo)
    values = frames.tract_values(wh)
    if not tracts or values.empty or WHERE_METRIC not in values.columns:
        return None
    inside = values.reindex(tracts)[WHERE_METRIC].dropna()
    if len(inside) < 3:
        return None
    names = _tract_names(wh, list(inside.nsmallest(6).index))
    places = []
    for t in inside.nsmallest(6).index:
        label = (names.get(t) or "").split(",")[0].strip()
        if label and label != _short(report.geo.name) and label not in places \
                and "County" not in label:
            places.append(label)
        if len(places) == 2:
            break
    places = [_tract_label(p) for p in places]
    lowest = float(inside.min())
    where = (N_("in {places}", places=_list(places)) if places else
             N_("in tract {tract}", tract=inside.idxmin()))
    moran = (report.neighbourhoods or {}).get("moran") if report.neighbourhoods else None
    cluster = ""
    if moran and moran.get("clustered") and not math.isnan(moran.get("i", math.nan)):
        cluster = N_("; low-outcome tracts cluster together (Moran’s I {i:.2f})", i=moran["i"])
    return Sentence(N_(
        "Within {place}, children from low-income families did least well {where}, about "
        "{lowest} a year at 35, against {median} in the middle tract of {n}{cluster}.",
        place=_short(report.geo.name), where=where, lowest=format_value(lowest, "dollars"),
        median=format_value(float(inside.median()), "dollars"), n=len(inside),
        cluster=cluster), "neighbourhoods")


def _tract_label(name: str) -> str:
    """A tract's name, translatable when it is the Census's "Census Tract N".

    >>> _tract_label("Census Tract 20").template, _tract_label("Riverside")
    ('Census Tract {number}', 'Riverside')
    """
    number = name.removeprefix("Census Tract ").strip()
    return N_("Census Tract {number}", number=number) if name.startswith(
        "Census Tract ") and number else name


def _tract_names(wh: Warehouse, tracts: list[str]) -> dict[str, str]:
    g = wh.table("geographies")
    rows = wh.frame(g.filter((g.geo_level == "tract") & g.geo_id.isin(tracts)
                             & g.name.notnull()).select("geo_id", "name"))
    return dict(zip(rows["geo_id"], rows["name"], strict=True)) if not rows.empty else {}


def summarise(wh: Warehouse, report: BarrierReport, profile=None) -> Summary:
    """The summary of a barrier report (``profile`` gives the national standings and the
    county outcomes; the report's own profile data are used when it is None)."""
    from upward.measure.profile import build_profile

    profile = profile or build_profile(wh, report.geo.geo_id)
    metrics = [m for m in profile.metrics if m.direction in ("higher", "lower")]
    sentences: list[Sentence | None] = [
        _standing_from(report, metrics),
        _mobility(report, profile.atlas),
        _barriers(report),
        _who(report),
        _where(wh, report),
    ]
    kept = [s for s in sentences if s is not None]
    text = " ".join(s.text for s in kept)
    terms = {t: d for t, d in GLOSSARY.items() if t in text}
    return Summary(report.geo.name, kept, terms)


def _standing_from(report: BarrierReport, metrics: list) -> Sentence | None:
    classes = [standing_class(better_than(m.national_percentile, m.direction)) for m in metrics
               if m.quality != 3]
    known = [c for c in classes if c != "neutral"]
    if not known:
        return None
    better, worse = known.count("better"), known.count("worse")
    verdict = "better" if better > worse else "worse" if worse > better else "even"
    template = STANDING[verdict, "cities" if report.geo.geo_level == "place" else "counties"]
    return Sentence(N_(template, place=_short(report.geo.name), n=len(known), better=better,
                       worse=worse), "scorecard")


#: Where a place stands among US cities or counties (verdict, kind): the first sentence.
STANDING = {
    ("better", "cities"): N_(
        "{place} is more often among the better US cities: of {n} measures where higher or "
        "lower is better, it is in the best third on {better} and in the worst third on "
        "{worse}."),
    ("worse", "cities"): N_(
        "{place} is more often among the worse US cities: of {n} measures where higher or "
        "lower is better, it is in the best third on {better} and in the worst third on "
        "{worse}."),
    ("even", "cities"): N_(
        "{place} is as often among the better as the worse US cities: of {n} measures where "
        "higher or lower is better, it is in the best third on {better} and in the worst "
        "third on {worse}."),
    ("better", "counties"): N_(
        "{place} is more often among the better US counties: of {n} measures where higher or "
        "lower is better, it is in the best third on {better} and in the worst third on "
        "{worse}."),
    ("worse", "counties"): N_(
        "{place} is more often among the worse US counties: of {n} measures where higher or "
        "lower is better, it is in the best third on {better} and in the worst third on "
        "{worse}."),
    ("even", "counties"): N_(
        "{place} is as often among the better as the worse US counties: of {n} measures "
        "where higher or lower is better, it is in the best third on {better} and in the "
        "worst third on {worse}."),
}


def summary_frame(summary: Summary) -> pd.DataFrame:
    """The sentences as a table (for downloads).

    >>> summary_frame(Summary("x", [Sentence("A.", "scorecard")])).shape
    (1, 2)
    """
    return pd.DataFrame([{"sentence": s.text, "evidence": s.evidence}
                         for s in summary.sentences])
