"""From a barrier to an intervention: for each significant barrier of a place, the interventions
whose effects elsewhere are in the barrier's outcome domain, with what the evidence says and what
it would mean here (``upward recommend PLACE``, the page ``/places/{geoid}/recommend``).

How it decides, in the words the output uses:

- **Match**: a barrier is a metric (``upward.diagnose``); the metric catalog declares the
  outcome domains it measures. An intervention is a candidate for the barrier when one of its
  effects that can be pooled is in one of those domains. Nothing else is proposed.
- **Evidence**: the intervention's effects on that outcome are pooled (``pool_evidence``;
  random effects, REML) with the 95% confidence interval and, from three studies on, the
  prediction interval for a new city; its ESSA rating comes with the reasons. When an
  intervention has several outcomes in the domain, the one with the most studies is shown (a
  count the evidence backs) and the others are named.
- **Order**: by strength of evidence, never by effect size (effects on different outcomes,
  in different units, cannot be compared): first favourable effects whose interval excludes
  zero, then favourable ones whose interval includes zero, then effects whose units and sign
  the source does not state (so Upward cannot say which way is good), then those pointing the
  wrong way; within each, by ESSA tier, then number of studies, then name.
- **Here**: the eligible people are counted from the place's own measured values where Upward
  has a count for the intervention's population (:data:`POPULATION_COUNTS`, with the measured
  margin); take-up is the study's first stage when there is one, or the user's ``take_up``;
  otherwise the projection is stated per 1,000 participants, never for all eligible people.
  Money is in constant dollars of one year (CPI-U). Totals are rounded to the precision their
  range supports.
- **Pilot**: the people a local pilot needs to detect the pooled effect with 80% power
  (``upward.evidence.pilot``) where the outcome's spread is known (a share); otherwise the
  command that computes it once the SD is given.

Examples
--------
>>> POPULATION_COUNTS["children"][0].metric_id
'acs_children_in_poverty'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from upward.core.errors import UpwardError
from upward.core.results import JsonReport
from upward.core.text import N_, joined
from upward.evidence import money
from upward.evidence.library import EvidenceLibrary
from upward.evidence.pilot import plan_pilot
from upward.evidence.projection import pool_evidence
from upward.evidence.projection_math import project
from upward.evidence.schema import POPULATIONS, Effect, Intervention, Study
from upward.metrics.catalog import OUTCOME_DOMAINS, get_metric

ORDER_RULE = N_(
    "Listed by strength of evidence, not by size of effect (effects on different outcomes and "
    "in different units cannot be compared): first favourable pooled effects whose 95% "
    "interval excludes zero, then favourable effects whose interval includes zero, then effects "
    "whose units and sign the source does not state, then effects pointing the wrong way; "
    "within each, by ESSA tier, then number of studies, then name.")
STRENGTHS = {
    "clear": N_("favourable, and the 95% interval excludes zero"),
    "uncertain": N_("favourable, but the 95% interval includes zero"),
    "unverified": N_("units and sign not verified in the source, so whether it is favourable "
                     "is not known: read the study"),
    "against": N_("points the wrong way"),
}
PER_PARTICIPANTS = 1000


@dataclass(frozen=True)
class CountRecipe:
    """How to count a population in a place from one measured metric: the metric itself
    (``count``), population × it (``share``) or population × (1 − it) (``complement``).

    >>> recipe = POPULATION_COUNTS["adults"][1]
    >>> recipe.metric_id, recipe.how
    ('share_employed', 'complement')
    """

    metric_id: str
    how: str
    label: str


#: Where Upward can count an intervention's population in a place, first usable recipe wins.
POPULATION_COUNTS: dict[str, tuple[CountRecipe, ...]] = {
    "children": (CountRecipe("acs_children_in_poverty", "count", N_("children in poverty")),),
    "low_income_families": (CountRecipe("acs_poverty_rate", "share",
                                        N_("residents in poverty")),),
    "adults": (
        CountRecipe("acs_unemployment_rate", "share", N_("residents × the unemployment rate")),
        CountRecipe("share_employed", "complement",
                    N_("residents × the share of 25-54-year-olds not employed (the prime-age "
                       "rate applied to all residents: an upper bound)"))),
    "unemployed_workers": (
        CountRecipe("acs_unemployment_rate", "share",
                    N_("residents × the unemployment rate")),),
    "residents": (CountRecipe("", "population", N_("all residents")),),
}


@dataclass(frozen=True)
class Measured:
    """A measured value of the place (from its barrier report), with its 95% bounds.

    >>> m = Measured(0.12, 0.10, 0.14, "2019-2023", "Unemployment rate")
    >>> [round(x) for x in eligible_count("adults", 50_000.0, {"acs_unemployment_rate": m})[:3]]
    [6000, 5000, 7000]
    """

    estimate: float
    lb: float | None
    ub: float | None
    period: str
    label: str


def eligible_count(population_id: str, place_population: float | None,
                   measured: dict[str, Measured]) -> tuple[float, float | None, float | None,
                                                           str] | None:
    """(eligible, low, high, basis) for a population in a place, from the first recipe the
    place has the values for; None when Upward cannot count it there.

    >>> counted = eligible_count("adults", 1000.0, {"share_employed": Measured(
    ...     0.8, 0.78, 0.82, "2023", "Employment rate")})
    >>> [round(x) for x in counted[:3]]
    [200, 180, 220]
    >>> eligible_count("students", 1000.0, {}) is None
    True
    """
    for recipe in POPULATION_COUNTS.get(population_id, ()):
        if recipe.how == "population":
            if place_population is None:
                continue
            return place_population, None, None, N_("{who} ({n:,.0f})", who=recipe.label,
                                                    n=place_population)
        m = measured.get(recipe.metric_id)
        if m is None or (recipe.how != "count" and place_population is None):
            continue
        low, high = m.lb, m.ub
        if recipe.how == "count":
            value = m.estimate
        elif recipe.how == "share":
            value = place_population * m.estimate
            low, high = (None if b is None else place_population * b for b in (m.lb, m.ub))
        else:
            value = place_population * (1 - m.estimate)
            low, high = (None if b is None else place_population * (1 - b) for b in
                         (m.ub, m.lb))
        if low is not None and high is not None:
            basis = N_("{who}: {metric} {value:,.4g} ({period}), range from its 95% margin",
                       who=recipe.label, metric=m.label, value=m.estimate, period=m.period)
        else:
            basis = N_("{who}: {metric} {value:,.4g} ({period})", who=recipe.label,
                       metric=m.label, value=m.estimate, period=m.period)
        return value, low, high, basis
    return None


@dataclass
class Candidate:
    """One intervention proposed for one barrier, with its evidence and what it means here.

    >>> import tempfile, pathlib
    >>> from types import SimpleNamespace as NS
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> report = NS(geo=NS(name="Tulsa city, Oklahoma", geo_id="4075000"), gaps=[],
    ...             findings=[NS(metric_id="kir_p25", label="Adult income rank", sentence="")])
    >>> rec = recommend_for(report, EvidenceLibrary(ws), place_population=None, dollars_of=2020)
    >>> c = rec.barriers[0].candidates[0]
    >>> c.intervention_id, c.outcome, c.strength, c.k
    ('national-supported-work', 'earnings_annual', 'clear', 2)
    """

    intervention_id: str
    name: str
    outcome: str
    outcome_label: str
    domain: str
    unit: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    strength: str
    essa: str
    essa_tier: int
    rating_why: str
    designs: list[str]
    population: str
    cost: str
    mvpf: str
    take_up: float | None
    take_up_basis: str
    eligible: float | None
    eligible_low: float | None
    eligible_high: float | None
    eligible_basis: str
    projection: str
    pilot_people: int | None
    pilot: str
    other_outcomes: list[str] = field(default_factory=list)
    not_pooled: list[str] = field(default_factory=list)
    explanation: str = ""


@dataclass
class BarrierCandidates:
    """A barrier of the place and its candidate interventions.

    >>> b = BarrierCandidates("kfr_p25", "Upward mobility", "", ["income"], ["Income"], [],
    ...                       note="No intervention in the library matches.")
    >>> len(b.candidates), b.more, b.note
    (0, 0, 'No intervention in the library matches.')
    """

    metric_id: str
    label: str
    sentence: str
    domains: list[str]
    domain_labels: list[str]
    candidates: list[Candidate]
    more: int = 0
    note: str = ""


@dataclass
class Recommendation(JsonReport):
    """Candidate interventions for each significant barrier of a place.

    >>> r = Recommendation("Tulsa city, Oklahoma", "4075000", None, 2020, barriers=[])
    >>> r.lines()[0]
    'What has worked elsewhere for the barriers of Tulsa city, Oklahoma'
    >>> r.lines()[4]
    'No significant barrier: nothing to propose.'
    """

    place: str
    geo_id: str
    population: float | None
    dollars_of: int
    barriers: list[BarrierCandidates]
    order_rule: str = ORDER_RULE
    notes: list[str] = field(default_factory=list)
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(
        timespec="seconds"))

    def lines(self) -> list[str]:
        """The recommendation as plain lines for the terminal and Markdown."""
        out = [f"What has worked elsewhere for the barriers of {self.place}", "",
               self.order_rule, ""]
        if not self.barriers:
            out.append("No significant barrier: nothing to propose.")
        for b in self.barriers:
            out.append(f"## {b.label}")
            out.append(b.sentence)
            out.append("Outcome domains: " + (", ".join(b.domain_labels) or "none declared"))
            if not b.candidates:
                out.append(b.note or "No intervention in the library has a poolable effect in "
                           "these domains.")
            for i, c in enumerate(b.candidates, start=1):
                out.append(f"{i}. {c.name} ({c.intervention_id}) — {c.outcome_label}")
                out.append(f"   {c.explanation}")
                out.append(f"   Rating: {c.rating_why}")
                out.append(f"   Cost per participant: {c.cost}. MVPF: {c.mvpf}.")
                out.append(f"   Here: {c.projection}")
                out.append(f"   Pilot: {c.pilot}")
                if c.other_outcomes:
                    out.append(f"   Other outcomes in this domain: {', '.join(c.other_outcomes)}")
            if b.more:
                out.append(f"… and {b.more} more (--limit 0 shows all).")
            out.append("")
        return out + [f"Note: {n}" for n in self.notes]

    def to_markdown(self) -> str:
        """The lines as Markdown."""
        return "\n".join(self.lines()) + "\n"


def _num(x: float, low: float | None = None, high: float | None = None) -> str:
    value = money.round_to_interval(x, low, high)
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _value(x: float, unit: str, low: float | None = None, high: float | None = None) -> str:
    text = _num(x, low, high)
    if "dollar" in unit:
        return ("-$" if text.startswith("-") else "$") + text.lstrip("-")
    if unit.startswith("share"):
        scaled = [None if v is None else 100 * v for v in (low, high)]
        points = format(money.round_to_interval(100 * x, *scaled), ",.3g")
        return N_("{value} percentage points", value=points)
    return N_("{value} {unit}", value=text, unit=unit) if unit else N_(
        "{value} (units not stated)", value=text)


def _total(x: float, unit: str, low: float | None = None, high: float | None = None) -> str:
    """A total over participants: people for a share outcome, dollars, or the unit."""
    if unit.startswith("share"):
        return N_("{n} people", n=_num(x, low, high))
    return _value(x, unit, low, high)


def _pilot(p, intervention: Intervention, outcome: str, label: str, unit: str,
           place: str) -> tuple[int | None, str]:
    try:
        plan = plan_pilot(p, intervention_id=intervention.id, intervention_name=intervention.name,
                          outcome=outcome, outcome_label=label, unit=unit, place=place)
    except UpwardError as exc:
        command = (f"upward plan --from-evidence {intervention.id} --place \"{place}\" "
                   f"--outcome {outcome} --sd SD")
        return None, N_("{problem}: {command}", problem=exc.message, command=command)
    return plan.people, N_("{people:,} people randomised ({arm:,} per arm) detect the pooled "
                           "effect with 80% power ({basis})", people=plan.people,
                           arm=plan.people // 2, basis=plan.sd_basis)


def _candidate_outcomes(studies: list[Study], domains: set[str]) -> dict[str, list[Effect]]:
    found: dict[str, list[Effect]] = {}
    for s in studies:
        for e in s.effects:
            if e.subgroup == "all" and e.domain in domains and e.poolable():
                found.setdefault(e.outcome, []).append(e)
    return found


def _strength(favourable: bool, low: float, high: float, verified: bool = True) -> str:
    if not verified:
        return "unverified"
    if not favourable:
        return "against"
    return "clear" if low > 0 or high < 0 else "uncertain"


def _candidate(library: EvidenceLibrary, intervention: Intervention, studies: list[Study],
               outcome: str, domain: str, others: list[str], *, place: str,
               place_population: float | None, measured: dict[str, Measured], year: int,
               take_up: float | None) -> Candidate:
    pool = pool_evidence(library, intervention.id, outcome, dollars_of=year)
    p = pool.pooled
    effects = [e for s in studies for e in s.effects if e.outcome == outcome
               and e.subgroup == "all"]
    direction = effects[0].direction
    favourable = p.estimate > 0 if direction == "higher" else p.estimate < 0
    strength = _strength(favourable, p.ci_low, p.ci_high,
                         all(e.unit_verified for e in effects if e.poolable()))
    unit = pool.unit or ""
    population = next((e.population for e in effects if e.population), "")
    cost = (money.Dollars.of(intervention.cost_per_participant, intervention.cost_year, year)
            if intervention.cost_per_participant is not None else None)
    essa = pool.ratings["essa"]
    why = essa["label"]
    if essa.get("reasons"):
        why = N_("{label}: {reasons}", label=why, reasons=joined(", ", essa["reasons"]))
    if essa.get("not_higher"):
        why = N_("{rating}; not higher: {reasons}", rating=why,
                 reasons=joined("; ", essa["not_higher"]))
    basis = N_("given")
    if take_up is None and intervention.take_up is not None:
        take_up, basis = intervention.take_up, N_("the study's first stage ({source})",
                                                  source=intervention.take_up_source)
    counted = eligible_count(population, place_population, measured) if population else None
    interval = N_("prediction interval (a new city)") if p.pi_low is not None else \
        N_("confidence interval (too few studies for a new city's range)")
    if counted is not None and take_up is not None:
        eligible, e_low, e_high, e_basis = counted
        proj = project(p, eligible, take_up=take_up, unit=unit, draws=4000,
                       cost_per_participant=cost.value if cost and cost.value else None)
        total_low, total_high = proj.total_effect_low, proj.total_effect_high
        if e_low is not None and e_high is not None:
            lo = project(p, e_low, take_up=take_up, draws=4000)
            hi = project(p, e_high, take_up=take_up, draws=4000)
            total_low = min(total_low, lo.total_effect_low, hi.total_effect_low)
            total_high = max(total_high, lo.total_effect_high, hi.total_effect_high)
        projection = N_(
            "about {participants} participants ({take_up:.0%} take-up, {basis}) of {eligible} "
            "eligible ({eligible_basis}): total {total} (95% range {low} to {high}, from the "
            "{interval}{margin})",
            participants=_num(proj.participants, proj.participants_low, proj.participants_high),
            take_up=take_up, basis=basis, eligible=_num(eligible, e_low, e_high),
            eligible_basis=e_basis, total=_total(proj.total_effect, unit, total_low, total_high),
            low=_total(total_low, unit, total_low, total_high),
            high=_total(total_high, unit, total_low, total_high), interval=interval,
            margin=N_(" and the eligible count’s margin") if e_low is not None else "")
    else:
        proj = project(p, PER_PARTICIPANTS, take_up=1.0, unit=unit, draws=4000)
        lead = (N_("{n} eligible ({basis}); take-up not known (no first stage in its studies; "
                   "give --take-up)", n=_num(counted[0], counted[1], counted[2]),
                   basis=counted[3]) if counted else
                N_("Upward has no count of {population} in {place}", population=(
                    POPULATIONS[population].lower() if population in POPULATIONS
                    else N_("its population")), place=place))
        bounds = (proj.total_effect_low, proj.total_effect_high)
        projection = N_("{lead}. For every {per:,} participants: {total} (95% range {low} to "
                        "{high}, from the {interval})", lead=lead, per=PER_PARTICIPANTS,
                        total=_total(proj.total_effect, unit, *bounds),
                        low=_total(bounds[0], unit, *bounds),
                        high=_total(bounds[1], unit, *bounds), interval=interval)
    if strength != "clear":
        pilot_people, pilot = None, N_("none proposed: the evidence does not show a favourable "
                                       "effect a pilot could be powered to detect")
    else:
        pilot_people, pilot = _pilot(p, intervention, outcome, pool.outcome_label, unit, place)
    explanation = N_(
        "In {studies}, {outcome} changed by {effect} per participant (95% CI {low} to {high}"
        "{new_city}): {strength}.",
        studies=N_("1 study") if p.k == 1 else N_("{k} studies", k=p.k),
        outcome=pool.outcome_label[:120], effect=_value(p.estimate, unit, p.ci_low, p.ci_high),
        low=_value(p.ci_low, unit, p.ci_low, p.ci_high),
        high=_value(p.ci_high, unit, p.ci_low, p.ci_high),
        new_city=(N_("; a new city: {low} to {high}",
                     low=_value(p.pi_low, unit, p.pi_low, p.pi_high),
                     high=_value(p.pi_high, unit, p.pi_low, p.pi_high))
                  if p.pi_low is not None else N_("; too few studies for a new city's range")),
        strength=STRENGTHS[strength])
    if pool.notes:
        explanation = N_("{explanation} Note: {notes}.", explanation=explanation,
                         notes=joined("; ", pool.notes))
    return Candidate(
        intervention_id=intervention.id, name=intervention.name, outcome=outcome,
        outcome_label=pool.outcome_label, domain=domain, unit=unit, k=p.k, estimate=p.estimate,
        ci_low=p.ci_low, ci_high=p.ci_high, pi_low=p.pi_low, pi_high=p.pi_high,
        strength=strength, essa=essa["label"], essa_tier=int(essa["tier"]), rating_why=why,
        designs=sorted({s.design_label() for s in studies}),
        population=POPULATIONS.get(population, population),
        cost=cost.text() if cost else (intervention.cost_note or N_("not known")),
        mvpf=(N_("{mvpf:g} ({source})", mvpf=intervention.mvpf,
                 source=intervention.mvpf_source)
              if intervention.mvpf is not None else N_("not known")),
        take_up=take_up, take_up_basis=basis if take_up is not None else N_("not known"),
        eligible=counted[0] if counted else None, eligible_low=counted[1] if counted else None,
        eligible_high=counted[2] if counted else None,
        eligible_basis=counted[3] if counted else "", projection=projection,
        pilot_people=pilot_people, pilot=pilot, other_outcomes=others,
        not_pooled=pool.excluded, explanation=explanation,
    )


def _order(c: Candidate) -> tuple:
    return (list(STRENGTHS).index(c.strength), c.essa_tier, -c.k, c.name.lower())


def recommend_for(report, library: EvidenceLibrary, *, place_population: float | None,
                  dollars_of: int | None = None, take_up: float | None = None,
                  limit: int | None = None) -> Recommendation:
    """Candidates for each finding of a barrier report (``upward.diagnose.BarrierReport``)
    from ``library`` (a snapshot is fastest).

    >>> import tempfile, pathlib
    >>> from types import SimpleNamespace as NS
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> report = NS(geo=NS(name="Tulsa city, Oklahoma", geo_id="4075000"), gaps=[],
    ...             findings=[NS(metric_id="kir_p25", label="Adult income rank", sentence="")])
    >>> rec = recommend_for(report, EvidenceLibrary(ws), place_population=None, dollars_of=2020)
    >>> b = rec.barriers[0]
    >>> b.domains, [c.intervention_id for c in b.candidates]
    (['earnings'], ['national-supported-work', 'moving-to-opportunity'])
    """
    year = dollars_of or money.latest_year()
    library = library.snapshot()
    doc = library.document()
    measured = {g.metric_id: Measured(g.estimate, g.lb, g.ub, g.period, g.label)
                for g in report.gaps}
    by_intervention = {i.id: [s for s in doc.studies if s.intervention_id == i.id]
                       for i in doc.interventions}
    place = report.geo.name
    out: list[BarrierCandidates] = []
    for finding in report.findings:
        metric = get_metric(finding.metric_id)
        domains = set(metric.domains)
        candidates = []
        for intervention in doc.interventions:
            studies = by_intervention[intervention.id]
            found = _candidate_outcomes(studies, domains)
            if not found:
                continue
            ranked = sorted(found, key=lambda o: (-len(found[o]),
                                                  not all(e.unit_verified for e in found[o]), o))
            chosen = ranked[0]
            try:
                candidates.append(_candidate(
                    library, intervention, studies, chosen, found[chosen][0].domain,
                    [o for o in ranked[1:]], place=place, place_population=place_population,
                    measured=measured, year=year, take_up=take_up))
            except UpwardError:
                continue  # cannot be pooled on one scale: it stays out, as pool_evidence says
        candidates.sort(key=_order)
        more = max(0, len(candidates) - limit) if limit else 0
        note = "" if domains else N_("the catalog declares no outcome domain for this metric, "
                                     "so no intervention can be matched to it")
        out.append(BarrierCandidates(
            metric_id=finding.metric_id, label=finding.label, sentence=finding.sentence,
            domains=sorted(domains), domain_labels=[OUTCOME_DOMAINS[d] for d in sorted(domains)],
            candidates=candidates[:limit] if limit else candidates, more=more, note=note))
    notes = [N_("Money in {dollars}.", dollars=money.cpi_note(year)),
             N_("Candidates come from the evidence library: published estimates are as stated "
                "in their sources and not re-checked here; read each study before acting on "
                "it.")]
    if not doc.interventions:
        notes.append(N_("The evidence library is empty: upward fetch evidence --from "
                        "../shared/data"))
    return Recommendation(place=place, geo_id=report.geo.geo_id, population=place_population,
                          dollars_of=year, barriers=out, notes=notes)


def recommend(place: str, *, workspace, dollars_of: int | None = None,
              take_up: float | None = None, limit: int | None = None,
              alpha: float = 0.05) -> Recommendation:
    """Candidate interventions for each significant barrier of ``place`` (a workspace holding
    its data and an evidence library).

    >>> recommend("Tulsa, OK", workspace="ws")  # doctest: +SKIP
    """
    from upward.diagnose import barriers
    from upward.measure.profile import profile
    from upward.warehouse.workspace import Workspace, resolve_workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(
        Path(workspace) if workspace else resolve_workspace(None))
    report = barriers(place, workspace=ws, alpha=alpha, include_drivers=False,
                      include_neighbourhoods=False)
    population = profile(report.geo.geo_id, workspace=ws).population
    return recommend_for(report, EvidenceLibrary(ws), place_population=population,
                         dollars_of=dollars_of, take_up=take_up, limit=limit)
