"""What would this do here: pool an intervention's studies on one outcome, then apply the pooled
effect to a place's eligible population.

``pool_evidence`` gathers the library's effects of an intervention on an outcome, puts them on
one scale (``upward.evidence.effect_sizes``; effects that cannot be converted are listed as
excluded, never silently dropped) and pools them (``upward.evidence.meta.pool``).
``project_in_place`` takes the eligible population from the user, or from the place's profile
(``upward.measure.profile``: its population × a share metric of the catalog, or × a given
share), and projects with ``upward.evidence.projection_math.project``, whose range for a new
city comes from the prediction interval, with the total cost from the intervention's cost per
participant.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> from upward.evidence.papers import add_papers
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
>>> _ = add_papers(ws)
>>> p = pool_evidence(ws, "national-supported-work", "earnings_annual")
>>> p.pooled.k, round(p.pooled.estimate)
(2, 1160)
>>> proj = project_in_place(ws, "national-supported-work", "earnings_annual", "Tulsa, OK",
...                         eligible=2000, take_up=0.25, cost_per_participant=9000)
>>> round(proj.projection.participants), round(proj.projection.total_cost)
(500, 4500000)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from upward.core.errors import ConfigError, UpwardError
from upward.core.results import JsonReport
from upward.core.text import N_
from upward.evidence import effect_sizes, money
from upward.evidence.library import EvidenceLibrary
from upward.evidence.meta import PooledEffect, forest_table, pool
from upward.evidence.projection_math import Projection, project
from upward.evidence.rating import rate_intervention, rate_study
from upward.evidence.schema import is_dollar_unit
from upward.warehouse.workspace import Workspace

MEASURE_ORDER = tuple(effect_sizes.MEASURES)


@dataclass
class EvidencePool(JsonReport):
    """An intervention's pooled effect on one outcome, with the studies in it and out of it.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> p = pool_evidence(ws, "national-supported-work", "earnings_annual")
    >>> p.measure, len(p.studies), p.excluded
    ('md', 2, [])
    >>> p.headline()[:58]
    'National Supported Work (NSW) demonstration — Annual earni'
    """

    intervention_id: str
    intervention_name: str
    outcome: str
    outcome_label: str
    measure: str
    unit: str
    studies: list[dict]
    excluded: list[str]
    pooled: PooledEffect
    forest: list[dict]
    ratings: dict[str, dict]
    warnings: list[str] = field(default_factory=list)
    dollar_year: int | None = None
    notes: list[str] = field(default_factory=list)

    def headline(self) -> str:
        """One line: the intervention, the outcome, the pooled effect."""
        return f"{self.intervention_name} — {self.outcome_label}: {self.pooled.headline()}"


def _as_library(source: Workspace | EvidenceLibrary) -> EvidenceLibrary:
    return source if isinstance(source, EvidenceLibrary) else EvidenceLibrary(source)


def _in_dollars_of(effect, year: int | None) -> tuple[float, float, str]:
    """(estimate, se, unit) of an effect, money converted to ``year`` dollars (CPI-U)."""
    est, se, unit = effect.pooling_estimate(), effect.standard_error(), effect.unit
    if (year is None or effect.dollar_year is None or effect.measure != "md"
            or not is_dollar_unit(unit)):
        return est, se, unit
    f = money.factor(effect.dollar_year, year)
    unit = re.sub(rf"\b{effect.dollar_year}\b", str(year), unit, count=1) if str(
        effect.dollar_year) in unit else f"{year} dollars ({unit})"
    return est * f, se * f, unit


def pool_evidence(source: Workspace | EvidenceLibrary, intervention_id: str, outcome: str, *,
                  method: str = "REML", hartung_knapp: bool = False, alpha: float = 0.05,
                  subgroup: str = "all", measure: str | None = None,
                  dollars_of: int | None = None) -> EvidencePool:
    """Pool every study of ``intervention_id`` that reports ``outcome``.

    ``measure`` is the scale to pool on (default: the one most studies report). Effects that
    cannot be pooled (no SE, not a causal effect, dollars of an unstated year: see
    ``Effect.not_pooled``) are listed in ``excluded`` with the reason. Money is pooled in
    constant dollars of ``dollars_of`` (CPI-U, ``upward.evidence.money``); without it, in the
    effects' own dollar year when they share one, else in the latest of their years.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> p = pool_evidence(ws, "national-supported-work", "earnings_annual", method="DL")
    >>> p.pooled.method, p.pooled.k, p.outcome_label
    ('DL', 2, 'Annual earnings')
    >>> pool_evidence(ws, "national-supported-work", "no_such_outcome")
    Traceback (most recent call last):
    ...
    upward.evidence.library.EvidenceNotFoundError: no study of 'national-supported-work' reports outcome 'no_such_outcome'...
    """
    library = _as_library(source)
    intervention = library.intervention(intervention_id)
    every = library.effects(intervention_id, outcome, subgroup=subgroup)
    pairs = [(s, e) for s, e in every if e.poolable()]
    kept_out = [f"{s.id}: {e.not_pooled}" for s, e in every if not e.poolable()]
    if not pairs:
        raise ConfigError(f"no effect of {intervention_id!r} on {outcome!r} can be pooled",
                          fix="; ".join(kept_out))
    years = sorted({e.dollar_year for _, e in pairs
                    if e.dollar_year and e.measure == "md" and is_dollar_unit(e.unit)})
    target_year = dollars_of or (years[-1] if len(years) > 1 else None)
    notes = []
    if target_year is not None and years and years != [target_year]:
        notes.append(N_("money in {dollars} (from {years} dollars)",
                        dollars=money.cpi_note(target_year), years=", ".join(map(str, years))))
    converted = [_in_dollars_of(e, target_year) for _, e in pairs]
    raw = [(s, e.model_copy(update={"unit": c[2]}),
            effect_sizes.EffectSize(e.pooling_measure(), c[0], c[1], n1=e.n_treated,
                                    n2=e.n_control, baseline=e.baseline_risk))
           for (s, e), c in zip(pairs, converted, strict=True)]
    counts = Counter(es.measure for _, _, es in raw)
    target = measure or max(counts, key=lambda m: (counts[m], -MEASURE_ORDER.index(m)))
    effect_sizes.get_measure(target)
    kept, excluded = [], list(kept_out)
    for study, effect, es in raw:
        try:
            kept.append((study, effect, effect_sizes.convert(es, target)))
        except UpwardError as exc:
            excluded.append(f"{study.id}: {exc.message}")
    if not kept:
        raise ConfigError(f"no effect of {intervention_id!r} on {outcome!r} can be put on the "
                          f"{target} scale", fix="; ".join(excluded) or "choose another measure")
    labels = [f"{s.title}" + (f" ({s.city})" if s.city else "") for s, _, _ in kept]
    pooled = pool([c.estimate for _, _, c in kept], [c.se for _, _, c in kept], method=method,
                  hartung_knapp=hartung_knapp, alpha=alpha, labels=labels, measure=target)
    warnings = list(pooled.warnings)
    units = sorted({e.unit for _, e, _ in kept if e.unit})
    if target in ("md", "rd") and len(units) > 1:
        warnings.append(N_("the studies report in different units ({units}): check that they "
                           "measure the same thing before reading the pooled value",
                           units="; ".join(units)))
    if any(s.synthetic for s, _, _ in kept):
        warnings.append(N_("includes synthetic demonstration studies"))
    studies = []
    for (study, effect, common), weight in zip(kept, pooled.weights, strict=True):
        rating = rate_study(study, outcome=outcome, intervention=intervention)
        studies.append({
            "id": study.id, "title": study.title, "city": study.city, "period": study.period,
            "design": study.design_label(), "estimate": common.estimate, "se": common.se,
            "weight": weight, "n": effect.n, "unit": effect.unit, "synthetic": study.synthetic,
            "wwc": rating["wwc"].label, "essa": rating["essa"].label,
            "sptw": rating["sptw"].label, "citation": study.citation,
        })
    body = rate_intervention(intervention, [s for s, _, _ in kept], outcome=outcome)
    label = pairs[0][1].outcome_label or outcome
    return EvidencePool(
        intervention_id=intervention_id, intervention_name=intervention.name, outcome=outcome,
        outcome_label=label, measure=target, unit="; ".join(units), studies=studies,
        excluded=excluded, pooled=pooled,
        forest=forest_table(pooled, natural=effect_sizes.get_measure(target).log_scale),
        ratings={k: v.to_dict() for k, v in body.items()}, warnings=warnings,
        dollar_year=target_year if years else None, notes=notes,
    )


@dataclass(frozen=True)
class EligibleSource:
    """How to count the eligible people of a place (a declared choice, one at a time).

    >>> sorted(ELIGIBLE_SOURCES), ELIGIBLE_SOURCES["given"].description
    (['given', 'metric', 'share'], 'a number the user gives (--eligible)')
    """

    name: str
    description: str


ELIGIBLE_SOURCES = {s.name: s for s in (
    EligibleSource("given", "a number the user gives (--eligible)"),
    EligibleSource("share", "the place's population × a share the user gives (--share)"),
    EligibleSource("metric", "the place's population × a share metric from its profile "
                   "(--share-metric, or 1 − it with --complement)"),
)}


@dataclass
class PlaceProjection(JsonReport):
    """A pooled effect projected onto one place.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> proj = project_in_place(ws, "national-supported-work", "earnings_annual", "Tulsa, OK",
    ...                         eligible=2000, take_up=0.25, cost_per_participant=9000)
    >>> proj.k, proj.eligible_basis, proj.lines()[2]
    (2, 'given', 'Take-up: 25% (given)')
    """

    place: str
    geo_id: str | None
    intervention_id: str
    intervention_name: str
    outcome: str
    outcome_label: str
    eligible_population: float
    eligible_basis: str
    take_up: float
    cost_per_participant: float | None
    cost_basis: str
    pooled_headline: str
    k: int
    projection: Projection
    warnings: list[str] = field(default_factory=list)
    take_up_basis: str = "given"
    dollar_year: int | None = None

    def headline(self) -> str:
        """One line for readers."""
        p = self.projection
        level = f"{100 * (1 - p.alpha):g}%"

        def each(x: float) -> str:  # to the precision the range for a new city supports
            return f"{money.round_to_interval(x, p.effect_low, p.effect_high):+,.4g}"

        def total(x: float) -> str:
            return f"{money.round_to_interval(x, p.total_effect_low, p.total_effect_high):+,.0f}"

        text = (f"{self.intervention_name} in {self.place}: {p.participants:,.0f} participants; "
                f"{self.outcome_label} {each(p.effect_per_participant)} each on average "
                f"({level} range for a new city {each(p.effect_low)} to {each(p.effect_high)}); "
                f"total {total(p.total_effect)} ({total(p.total_effect_low)} to "
                f"{total(p.total_effect_high)})"
                + (f", {self.dollar_year} dollars" if self.dollar_year else ""))
        if p.total_cost is not None:
            text += f"; cost ${p.total_cost:,.0f}"
        return text

    def lines(self) -> list[str]:
        """The projection as short lines: inputs first, then the result and the warnings."""
        p = self.projection
        out = [self.headline(),
               f"Eligible people: {self.eligible_population:,.0f} ({self.eligible_basis})",
               f"Take-up: {self.take_up:.0%} ({self.take_up_basis})",
               "Cost per participant: "
               + (f"${self.cost_per_participant:,.0f} ({self.cost_basis})"
                  if self.cost_per_participant is not None else "not known"),
               f"Pooled from {self.k} stud{'y' if self.k == 1 else 'ies'}: {self.pooled_headline}",
               f"Probability the total effect is positive: {p.probability_positive:.0%}",
               f"Range basis: {p.interval_basis} interval ({p.method})"]
        return out + [f"Warning: {w}" for w in self.warnings + list(p.warnings)]


def eligible_from(prof, *, share: float | None = None, share_metric: str | None = None,
                  complement: bool = False) -> tuple[float, str]:
    """Eligible people from a place's profile (``upward.measure.profile.Profile``): its
    population × ``share``, or × a share metric's value (1 − it with ``complement``).
    Returns (eligible, how it was computed).

    >>> from types import SimpleNamespace
    >>> prof = SimpleNamespace(population=400_000, geo=SimpleNamespace(name="Tulsa city, OK"))
    >>> eligible_from(prof, share=0.05)
    (20000.0, 'population 400,000 × 0.05')
    """
    if prof.population is None:
        raise ConfigError(f"the profile of {prof.geo.name} has no population",
                          fix="give the number of eligible people with --eligible")
    if share_metric:
        try:
            entry = prof.entry(share_metric)
        except KeyError:
            shares = [m.metric_id for m in prof.metrics if m.unit == "share"]
            raise ConfigError(f"--share-metric {share_metric!r} is not in the profile of "
                              f"{prof.geo.name}", fix=f"use one of {', '.join(shares)}") from None
        if entry.unit != "share" or not 0 <= entry.estimate <= 1:
            raise ConfigError(f"{share_metric!r} is not a share between 0 and 1",
                              fix="choose a metric whose unit is 'share' (upward metrics)")
        value = 1 - entry.estimate if complement else entry.estimate
        label = f"{'1 − ' if complement else ''}{entry.label} ({entry.estimate:.3f}, {entry.period})"
        return prof.population * value, f"population {prof.population:,.0f} × {label}"
    if share is None or not 0 < share <= 1:
        raise ConfigError(f"--share {share!r} must be between 0 and 1",
                          fix="give the share of residents who are eligible, e.g. 0.05")
    return prof.population * share, f"population {prof.population:,.0f} × {share:g}"


def project_in_place(source: Workspace | EvidenceLibrary, intervention_id: str, outcome: str,
                     place: str, *,
                     eligible: float | None = None, share: float | None = None,
                     share_metric: str | None = None, complement: bool = False,
                     take_up: float | None = None,
                     take_up_range: tuple[float, float] | None = None,
                     cost_per_participant: float | None = None, method: str = "REML",
                     hartung_knapp: bool = False, baseline: float | None = None,
                     outcome_sd: float | None = None, alpha: float = 0.05,
                     seed: int = 20240601, eligible_basis: str = "given",
                     geo_id: str | None = None,
                     dollars_of: int | None = None) -> PlaceProjection:
    """Project an intervention's pooled effect on ``outcome`` onto ``place``.

    Eligible people: ``eligible`` if given (``eligible_basis`` says where it came from), else
    the place's population (from its profile in the workspace's warehouse) × ``share`` or × the
    ``share_metric`` value (1 − it with ``complement``). Take-up: the given share, else the
    intervention's (its study's first stage); never assumed to be 100%. Cost: the given cost
    per participant (in ``dollars_of`` dollars), else the intervention's, converted to
    ``dollars_of`` dollars (CPI-U; default the latest year). ``source`` is a workspace or a
    library (e.g. the published view).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> proj = project_in_place(ws, "national-supported-work", "earnings_annual", "Tulsa, OK",
    ...                         eligible=1000, take_up=0.5)
    >>> proj.projection.participants, proj.cost_per_participant
    (500.0, None)
    """
    given = [x is not None for x in (eligible, share, share_metric)]
    if sum(given) != 1:
        raise ConfigError("say how many people are eligible: give exactly one of --eligible N, "
                          "--share S or --share-metric METRIC",
                          fix="e.g. --eligible 12000, or --share-metric share_employed "
                              "--complement (population × share not employed)")
    library = _as_library(source)
    year = dollars_of or money.latest_year()
    evidence = pool_evidence(library, intervention_id, outcome, method=method,
                             hartung_knapp=hartung_knapp, alpha=alpha, dollars_of=year)
    intervention = library.intervention(intervention_id)
    take_up_basis = "given"
    if take_up is None and take_up_range is None:
        if intervention.take_up is None:
            raise ConfigError(f"take-up of {intervention.name} is not known (no first stage in "
                              "its studies)", fix="say what share of eligible people would take "
                              "part: --take-up 0.3 (or --take-up-range 0.2 0.4)")
        take_up = intervention.take_up
        take_up_basis = f"the study's first stage: {intervention.take_up_source}"
    elif take_up is None:
        take_up = sum(take_up_range) / 2
    name, basis = place, eligible_basis
    if eligible is not None:
        if eligible < 0:
            raise ConfigError(f"--eligible {eligible:g} is negative", fix="give a count ≥ 0")
    else:
        from upward.measure.profile import profile

        prof = profile(place, workspace=library.workspace)
        eligible, basis = eligible_from(prof, share=share, share_metric=share_metric,
                                        complement=complement)
        geo_id, name = prof.geo.geo_id, prof.geo.name
    cost_basis = f"given, {year} dollars"
    if cost_per_participant is None and intervention.cost_per_participant is not None:
        cost = money.Dollars.of(intervention.cost_per_participant, intervention.cost_year, year)
        cost_per_participant = cost.value
        cost_basis = f"the intervention's record: {cost.text()}"
    result = project(evidence.pooled, eligible, take_up=take_up, take_up_range=take_up_range,
                     cost_per_participant=cost_per_participant, baseline=baseline,
                     outcome_sd=outcome_sd, unit=evidence.unit, alpha=alpha, seed=seed)
    return PlaceProjection(
        place=name, geo_id=geo_id, intervention_id=intervention_id,
        intervention_name=intervention.name, outcome=outcome, outcome_label=evidence.outcome_label,
        eligible_population=float(eligible), eligible_basis=basis, take_up=result.take_up,
        cost_per_participant=cost_per_participant,
        cost_basis=cost_basis if cost_per_participant is not None else "",
        pooled_headline=evidence.pooled.headline(), k=evidence.pooled.k, projection=result,
        warnings=evidence.warnings, take_up_basis=take_up_basis,
        dollar_year=evidence.dollar_year,
    )
