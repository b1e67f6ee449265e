"""Evidence ratings from declared rules, in the spirit of three published frameworks.

- **WWC** — What Works Clearinghouse group-design standards (Standards Handbook v4.1 / v5.0):
  a randomised study with low attrition (the WWC attrition boundary, Table II.1 of v4.1) meets
  the standards without reservations; a randomised study with high attrition, or a
  quasi-experimental one, can meet them with reservations when baseline equivalence is shown
  (every |standardised difference| ≤ 0.25, with statistical adjustment for any above 0.05).
- **ESSA** — the evidence tiers of the Every Student Succeeds Act, as read by the U.S.
  Department of Education's non-regulatory guidance "Using Evidence to Strengthen Education
  Investments" (2016): Tier 1 strong (a well-designed and well-implemented experimental study),
  Tier 2 moderate (quasi-experimental), both with a statistically significant favourable
  effect, a large sample (≥ 350) and more than one site; Tier 3 promising (a correlational
  study with statistical controls for selection); Tier 4 demonstrates a rationale.
- **SPTW** — Social Programs That Work (Arnold Ventures, formerly the Coalition for
  Evidence-Based Policy): Top Tier needs sizable, sustained effects in well-conducted RCTs
  *replicated* across sites (two RCTs in different sites, or one multi-site RCT); Near Top
  Tier meets everything but replication; Suggestive Tier has favourable RCT findings limited
  by short follow-up, significance or other factors.

These are Upward's operational readings, not the organisations' own reviews: each framework is
a table of ``Rule`` objects, tried from the highest tier down, each naming the ``Criterion``
objects it needs. A rating returns its tier with the reasons it was given and what kept it
from the tier above, e.g. "Tier 3 — promising evidence: randomised, …; not Tier 2: one site".
Thresholds that the frameworks leave to judgement are declared here: statistical significance
is p < 0.05 (two-sided); "sustained" is a follow-up of at least 12 months.

Examples
--------
>>> from upward.evidence.schema import Study
>>> s = Study(intervention_id="x", title="A trial", design="rct", citation="Doe (2024)",
...           sample_size=1240, sites=3, attrition_overall=0.10, attrition_differential=0.02,
...           effects=[{"outcome": "earnings", "measure": "md", "estimate": 900, "se": 300,
...                     "follow_up_months": 24}])
>>> print(rate_study(s)["essa"].summary())
Tier 1 — strong evidence: randomised, meets WWC standards without reservations, statistically significant favourable effect on earnings (p = 0.0027), n = 1,240, 3 sites
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from upward.core.results import JsonReport
from upward.core.text import N_, joined
from upward.evaluate.categories import STUDY_DESIGNS
from upward.evidence.schema import Effect, Intervention, Study

#: Checks an Upward evaluation runs that the rules read some other way: balance and attrition
#: through their numbers (baseline differences, attrition rates); the others are about the
#: precision of inference, not the design's validity, and appear as warnings only.
CHECKS_RATED_ELSEWHERE = frozenset({"balance", "attrition", "randomization_inference", "clusters"})
#: Checks that, when passed, show the comparison group is comparable in a design without
#: baseline balance tables: parallel pre-trends (difference-in-differences, event studies), a
#: close pre-period fit (synthetic control), no manipulation of the running variable and
#: continuous covariates at the cutoff (regression discontinuity, Upward's check "covariates").
COMPARABILITY_CHECKS = frozenset({"pre_trends", "pre_fit", "density", "manipulation",
                                  "covariates", "covariate_continuity"})

SIGNIFICANCE = 0.05
LARGE_SAMPLE = 350
SUSTAINED_MONTHS = 12
BASELINE_NO_ADJUSTMENT = 0.05
BASELINE_LIMIT = 0.25

# WWC attrition boundary: Standards Handbook v4.1, Table II.1 (unchanged in v5.0). For each
# overall attrition rate (percent, 0, 1, …, 65) the highest differential attrition (percentage
# points) that still counts as low attrition, under the cautious and the optimistic assumption
# about how attrition relates to the outcome. Beyond the last value every study has high
# attrition (the cautious boundary ends at 57% overall).
WWC_BOUNDARY = {
    "cautious": (
        5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6.0, 5.9, 5.9,
        5.8, 5.7, 5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3, 4.1, 4.0, 3.8, 3.6,
        3.5, 3.3, 3.2, 3.1, 2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2.0, 1.8, 1.6, 1.5, 1.3, 1.2, 1.0,
        0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0.0,
    ),
    "optimistic": (
        10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9, 10.9, 10.8,
        10.8, 10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4, 9.2, 9.0, 8.8, 8.6, 8.4,
        8.2, 8.0, 7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3, 6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6,
        4.4, 4.2, 3.9, 3.7, 3.5, 3.2, 3.0, 2.8, 2.6, 2.3, 2.1, 1.9, 1.6, 1.4, 1.1, 0.9, 0.7,
        0.5, 0.3,
    ),
}


def wwc_max_differential(overall: float, boundary: str = "cautious") -> float | None:
    """The highest differential attrition (a proportion) that is still low attrition at this
    overall attrition (a proportion), or None when no differential is low enough.

    >>> wwc_max_differential(0.10), wwc_max_differential(0.10, "optimistic")
    (0.063, 0.109)
    >>> wwc_max_differential(0.60) is None
    True
    """
    table = WWC_BOUNDARY[boundary]
    percent = round(overall * 100)
    if percent >= len(table):
        return None
    return round(table[percent] / 100, 4)


def wwc_low_attrition(overall: float | None, differential: float | None,
                      boundary: str = "cautious") -> bool | None:
    """Whether attrition is low by the WWC boundary; None when either rate is unknown.

    >>> wwc_low_attrition(0.30, 0.06), wwc_low_attrition(0.30, 0.06, "optimistic")
    (False, True)
    """
    if overall is None or differential is None:
        return None
    limit = wwc_max_differential(overall, boundary)
    return limit is not None and differential <= limit + 1e-9


@dataclass(frozen=True)
class Facts:
    """What the rules look at, read from a study (and the outcome being rated).

    >>> from upward.evidence.schema import Study
    >>> s = Study(intervention_id="x", title="A trial", design="rct", citation="c",
    ...           sample_size=800, attrition_overall=0.10, attrition_differential=0.02,
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 1, "se": 0.4}])
    >>> f = facts_of(s)
    >>> f.family == "randomised", f.attrition_low, f.n, round(f.p_value, 4)
    (True, True, 800, 0.0124)
    """

    design: str
    family: str
    n: int | None
    sites: int | None
    attrition_overall: float | None
    attrition_differential: float | None
    attrition_low: bool | None
    boundary: str
    baseline_max: float | None
    baseline_worst: str | None
    baseline_adjusted: bool
    failed_checks: tuple[str, ...]
    passed_checks: tuple[str, ...]
    comparability_shown: tuple[str, ...]
    outcome: str | None
    favourable: bool | None
    significant_favourable: bool
    significant_unfavourable: bool
    p_value: float | None
    follow_up_months: float | None
    has_rationale: bool
    wwc_tier: int | None = None


def _attrition_low(study: Study, boundary: str) -> bool | None:
    low = wwc_low_attrition(study.attrition_overall, study.attrition_differential, boundary)
    if low is not None or study.attrition_wwc_low is None:
        return low
    # Rates withheld for disclosure control: the stored verdict is on the cautious boundary,
    # which is stricter than the optimistic one.
    if boundary == "cautious" or study.attrition_wwc_low:
        return study.attrition_wwc_low
    return None


def _rated_effects(study: Study, outcome: str | None) -> list[Effect]:
    usable = [e for e in study.effects if e.poolable()]  # never rate on a row without an SE
    if outcome is None:
        return [e for e in usable if e.subgroup == "all"] or usable
    return [e for e in usable if e.outcome == outcome and e.subgroup == "all"]


def facts_of(study: Study, *, outcome: str | None = None, intervention: Intervention | None = None,
             boundary: str = "cautious") -> Facts:
    """The facts of ``study`` the rules use. With ``outcome`` the effect on that outcome is
    rated; without, the study's best effect (significant and favourable if any is).

    >>> from upward.evidence.schema import Study
    >>> s = Study(intervention_id="x", title="A study", design="qed", citation="c",
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 1, "se": 0.4}])
    >>> facts_of(s).significant_favourable
    True
    """
    effects = _rated_effects(study, outcome)
    good = [e for e in effects if e.favourable() and e.p() < SIGNIFICANCE]
    bad = [e for e in effects if not e.favourable() and e.p() < SIGNIFICANCE]
    chosen = min(good, key=lambda e: e.p()) if good else (
        min(effects, key=lambda e: e.p()) if effects else None)
    worst = max(study.baseline, key=lambda b: abs(b.std_diff), default=None)
    n = study.sample_size
    if n is None and chosen is not None:
        n = chosen.n
    follow = max((e.follow_up_months for e in good if e.follow_up_months is not None),
                 default=chosen.follow_up_months if chosen is not None else None)
    return Facts(
        design=study.design,
        family=STUDY_DESIGNS[study.design].kind,
        n=n,
        sites=study.sites,
        attrition_overall=study.attrition_overall,
        attrition_differential=study.attrition_differential,
        attrition_low=_attrition_low(study, boundary),
        boundary=boundary,
        baseline_max=abs(worst.std_diff) if worst else None,
        baseline_worst=worst.covariate if worst else None,
        baseline_adjusted=study.baseline_adjusted,
        failed_checks=tuple(c.name for c in study.checks
                            if c.passed is False and c.name not in CHECKS_RATED_ELSEWHERE),
        passed_checks=tuple(c.name for c in study.checks
                            if c.passed is True and c.name not in CHECKS_RATED_ELSEWHERE),
        comparability_shown=tuple(c.name for c in study.checks
                                  if c.passed is True and c.name in COMPARABILITY_CHECKS),
        outcome=(chosen.outcome_label or chosen.outcome) if chosen is not None else outcome,
        favourable=chosen.favourable() if chosen is not None else None,
        significant_favourable=bool(good),
        significant_unfavourable=bool(bad),
        p_value=chosen.p() if chosen is not None else None,
        follow_up_months=follow,
        has_rationale=bool(intervention and intervention.logic_model),
    )


@dataclass(frozen=True)
class Criterion:
    """A named condition with the phrase a rating gives when it holds and when it does not.

    >>> from upward.evidence.schema import Study
    >>> f = facts_of(Study(intervention_id="x", title="A trial", design="rct", citation="c",
    ...                    sample_size=200, effects=[{"outcome": "y", "measure": "md",
    ...                                               "estimate": 1, "se": 0.4}]))
    >>> large = CRITERIA["large_sample"]
    >>> large.test(f), str(large.unmet(f))
    (False, 'n = 200 (under 350)')
    """

    name: str
    test: Callable[[Facts], bool]
    met: Callable[[Facts], str]
    unmet: Callable[[Facts], str]


def _p(p: float | None) -> str:
    if p is None:
        return N_("p not known")
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.2g}" if p < 0.01 else f"p = {p:.3f}"


def _attrition(f: Facts) -> str:
    if f.attrition_overall is None or f.attrition_differential is None:
        return N_("rates withheld for privacy; the WWC verdict on them is kept")
    return N_("{overall:.0%} overall, {differential:.1f} points differential",
              overall=f.attrition_overall, differential=100 * f.attrition_differential)


def _unmet_attrition(f: Facts) -> str:
    if f.attrition_low is None:
        return N_("attrition not reported")
    if f.attrition_overall is None:
        return N_("high attrition ({attrition})", attrition=_attrition(f))
    limit = wwc_max_differential(f.attrition_overall, f.boundary)
    boundary = BOUNDARIES.get(f.boundary, f.boundary)
    bound = (N_("the WWC {boundary} boundary allows {limit:.1f} points", boundary=boundary,
                limit=100 * limit) if limit is not None
             else N_("no differential is low at that overall rate ({boundary} boundary)",
                     boundary=boundary))
    return N_("high attrition ({attrition}; {bound})", attrition=_attrition(f), bound=bound)


#: The WWC attrition boundaries, as the reasons name them.
BOUNDARIES = {"cautious": N_("cautious"), "optimistic": N_("optimistic")}


def _baseline_ok(f: Facts) -> bool:
    if f.baseline_max is None:
        return bool(f.comparability_shown) and not f.failed_checks
    return f.baseline_max <= BASELINE_NO_ADJUSTMENT or (
        f.baseline_max <= BASELINE_LIMIT and f.baseline_adjusted)


def _met_baseline(f: Facts) -> str:
    if f.baseline_max is None:
        return N_("comparability shown ({checks} passed)", checks=", ".join(
            f.comparability_shown))
    if f.baseline_max > BASELINE_NO_ADJUSTMENT:
        return N_("baseline equivalence shown (largest difference {sd:.2f} SD, adjusted)",
                  sd=f.baseline_max)
    return N_("baseline equivalence shown (largest difference {sd:.2f} SD)", sd=f.baseline_max)


def _unmet_baseline(f: Facts) -> str:
    if f.baseline_max is None:
        return N_("baseline equivalence not shown")
    if f.baseline_max > BASELINE_LIMIT:
        return N_("baseline difference of {sd:.2f} SD on {covariate} (above {limit})",
                  sd=f.baseline_max, covariate=f.baseline_worst, limit=BASELINE_LIMIT)
    return N_("baseline differences up to {sd:.2f} SD without statistical adjustment (needed "
              "above {limit})", sd=f.baseline_max, limit=BASELINE_NO_ADJUSTMENT)


def _family_phrase(f: Facts) -> str:
    return {"randomised": N_("randomised"), "quasi": N_("quasi-experimental"),
            "discontinuity": N_("regression discontinuity"), "correlational": N_("correlational"),
            "descriptive": N_("descriptive")}[f.family]


def _sites(f: Facts) -> str:
    if f.sites is None:
        return N_("number of sites not reported")
    return N_("one site") if f.sites == 1 else N_("{n} sites", n=f.sites)


def _n(f: Facts) -> str:
    return N_("sample size not reported") if f.n is None else N_("n = {n:,}", n=f.n)


#: Every condition a rule can name.
CRITERIA: dict[str, Criterion] = {c.name: c for c in (
    Criterion("randomised", lambda f: f.family == "randomised",
              lambda f: N_("randomised"),
              lambda f: N_("not randomised ({design})", design=_family_phrase(f))),
    Criterion("comparison_design", lambda f: f.family in ("randomised", "quasi", "discontinuity"),
              _family_phrase,
              lambda f: N_("no comparison-group design ({design})", design=_family_phrase(f))),
    Criterion("randomised_or_discontinuity",
              lambda f: f.family in ("randomised", "discontinuity"), _family_phrase,
              lambda f: N_("neither randomised nor a discontinuity ({design})",
                           design=_family_phrase(f))),
    Criterion("controls_for_selection",
              lambda f: f.family in ("randomised", "quasi", "discontinuity")
              or (f.family == "correlational" and f.baseline_adjusted),
              lambda f: (N_("{design}, with statistical controls", design=_family_phrase(f))
                         if f.family == "correlational" else _family_phrase(f)),
              lambda f: N_("no statistical controls for selection bias")),
    Criterion("low_attrition", lambda f: f.attrition_low is True,
              lambda f: N_("low attrition ({attrition})", attrition=_attrition(f)),
              _unmet_attrition),
    Criterion("baseline_equivalent", _baseline_ok, _met_baseline, _unmet_baseline),
    Criterion("checks_pass", lambda f: not f.failed_checks,
              lambda f: (N_("checks passed: {checks}", checks=", ".join(f.passed_checks))
                         if f.passed_checks else ""),
              lambda f: N_("failed check: {checks}", checks=", ".join(f.failed_checks))),
    Criterion("significant_favourable", lambda f: f.significant_favourable,
              lambda f: N_("statistically significant favourable effect on {outcome} ({p})",
                           outcome=f.outcome, p=_p(f.p_value)),
              lambda f: (N_("no statistically significant favourable effect on {outcome} ({p})",
                            outcome=f.outcome, p=_p(f.p_value)) if f.outcome else
                         N_("no statistically significant favourable effect"))),
    Criterion("favourable", lambda f: bool(f.favourable),
              lambda f: N_("favourable effect on {outcome} ({p})", outcome=f.outcome,
                           p=_p(f.p_value)),
              lambda f: N_("no favourable effect")),
    Criterion("sustained", lambda f: (f.follow_up_months or 0) >= SUSTAINED_MONTHS,
              lambda f: N_("sustained {months:g} months after entry",
                           months=f.follow_up_months),
              lambda f: (N_("follow-up not reported") if f.follow_up_months is None else
                         N_("follow-up of {months:g} months (under {needed})",
                            months=f.follow_up_months, needed=SUSTAINED_MONTHS))),
    Criterion("large_sample", lambda f: f.n is not None and f.n >= LARGE_SAMPLE, _n,
              lambda f: _n(f) if f.n is None else N_("{n} (under {needed})", n=_n(f),
                                                      needed=LARGE_SAMPLE)),
    Criterion("multi_site", lambda f: (f.sites or 0) >= 2, _sites, _sites),
    Criterion("wwc_without", lambda f: f.wwc_tier == 1,
              lambda f: N_("meets WWC standards without reservations"),
              lambda f: N_("does not meet WWC standards without reservations")),
    Criterion("wwc_with", lambda f: f.wwc_tier is not None and f.wwc_tier <= 2,
              lambda f: (N_("meets WWC standards with reservations") if f.wwc_tier == 2 else
                         N_("meets WWC standards")),
              lambda f: N_("does not meet WWC standards")),
    Criterion("rationale", lambda f: f.has_rationale,
              lambda f: N_("a documented rationale (logic model)"),
              lambda f: N_("no documented rationale")),
)}


@dataclass(frozen=True)
class Rule:
    """One tier of a framework: its rank (1 = highest), label and the criteria it needs.

    >>> top = rules_of("essa")[0]
    >>> top.tier, top.label, top.requires[:2]
    (1, 'Tier 1 — strong evidence', ('randomised', 'wwc_without'))
    """

    framework: str
    tier: int
    label: str
    requires: tuple[str, ...]
    note: str = ""


FRAMEWORKS = {
    "wwc": "What Works Clearinghouse standards",
    "essa": "ESSA evidence tiers",
    "sptw": "Social Programs That Work",
}

#: The rules, highest tier first within each framework. A study gets the first tier whose
#: criteria all hold; the last rule of each framework needs nothing.
RULES: tuple[Rule, ...] = (
    Rule("wwc", 1, "Meets WWC standards without reservations",
         ("randomised", "low_attrition", "checks_pass")),
    Rule("wwc", 2, "Meets WWC standards with reservations",
         ("comparison_design", "baseline_equivalent", "checks_pass"),
         "a randomised study with high (or unreported) attrition, or a quasi-experimental one"),
    Rule("wwc", 3, "Does not meet WWC standards", ()),
    Rule("essa", 1, "Tier 1 — strong evidence",
         ("randomised", "wwc_without", "significant_favourable", "large_sample", "multi_site")),
    Rule("essa", 2, "Tier 2 — moderate evidence",
         ("comparison_design", "wwc_with", "significant_favourable", "large_sample",
          "multi_site")),
    Rule("essa", 3, "Tier 3 — promising evidence",
         ("controls_for_selection", "significant_favourable")),
    Rule("essa", 4, "Tier 4 — demonstrates a rationale", ("rationale",)),
    Rule("essa", 5, "Not rated", ()),
    Rule("sptw", 1, "Top Tier",
         ("randomised", "low_attrition", "checks_pass", "significant_favourable", "sustained",
          "large_sample", "multi_site"),
         "one large multi-site RCT; two single-site RCTs are rated at the intervention level"),
    Rule("sptw", 2, "Near Top Tier",
         ("randomised", "low_attrition", "checks_pass", "significant_favourable", "sustained"),
         "meets the Top Tier standard in one site; needs a replication RCT"),
    Rule("sptw", 3, "Suggestive Tier", ("randomised_or_discontinuity", "favourable")),
    Rule("sptw", 4, "Not in a tier", ()),
)

#: Facts always stated in a rating's reasons when no criterion already stated them.
CONTEXT = ("comparison_design", "large_sample", "multi_site")


@dataclass
class Rating(JsonReport):
    """A framework's tier for a study or an intervention, with the reasons.

    >>> r = Rating("sptw", 2, "Near Top Tier", ["randomised"], ["one site"])
    >>> r.tier, r.to_dict()["not_higher"]
    (2, ['one site'])
    """

    framework: str
    tier: int
    label: str
    reasons: list[str]
    not_higher: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The tier and its reasons on one line.

        >>> Rating("essa", 3, "Tier 3 — promising evidence", ["randomised"]).summary()
        'Tier 3 — promising evidence: randomised'
        """
        return (N_("{label}: {reasons}", label=self.label, reasons=joined(", ", self.reasons))
                if self.reasons else self.label)

    def explanation(self) -> str:
        """The summary plus what kept it from the tier above.

        >>> Rating("essa", 3, "Tier 3", ["randomised"], ["one site"]).explanation()
        'Tier 3: randomised; not higher: one site'
        """
        text = self.summary()
        return (N_("{rating}; not higher: {reasons}", rating=text,
                   reasons=joined("; ", self.not_higher)) if self.not_higher else text)


def rules_of(framework: str) -> list[Rule]:
    """A framework's rules, highest tier first.

    >>> [r.tier for r in rules_of("wwc")]
    [1, 2, 3]
    """
    return sorted((r for r in RULES if r.framework == framework), key=lambda r: r.tier)


def apply_rules(framework: str, facts: Facts) -> Rating:
    """The first rule of ``framework`` whose criteria all hold, with its reasons.

    >>> f = facts_of(Study(intervention_id="x", title="A study", design="descriptive", citation="c",
    ...     effects=[{"outcome": "y", "measure": "md", "estimate": 1, "se": 1}]))
    >>> apply_rules("wwc", f).label
    'Does not meet WWC standards'
    """
    rules = rules_of(framework)
    for index, rule in enumerate(rules):
        if all(CRITERIA[c].test(facts) for c in rule.requires):
            if rule.requires:
                reasons = [CRITERIA[c].met(facts) for c in rule.requires]
                reasons += [CRITERIA[c].met(facts) if CRITERIA[c].test(facts)
                            else CRITERIA[c].unmet(facts)
                            for c in CONTEXT if c not in rule.requires]
                above = rules[index - 1] if index else None
                not_higher = ([CRITERIA[c].unmet(facts) for c in above.requires
                               if not CRITERIA[c].test(facts)] if above else [])
            else:  # the catch-all: say what every higher tier lacked
                reasons = [_family_phrase(facts)] + [
                    CRITERIA[c].unmet(facts) for higher in rules[:index]
                    for c in higher.requires if not CRITERIA[c].test(facts)]
                not_higher = []
            return Rating(framework, rule.tier, rule.label, _dedupe(reasons), _dedupe(not_higher),
                          [rule.label])
    raise AssertionError(f"framework {framework!r} has no catch-all rule")  # pragma: no cover


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out


def rate_study(study: Study, *, outcome: str | None = None,
               intervention: Intervention | None = None,
               boundary: str = "cautious") -> dict[str, Rating]:
    """The study's rating in every framework (WWC first: the others use it).

    ``boundary`` is the WWC attrition boundary: "cautious" (the default; for interventions
    that may affect who stays in the study) or "optimistic".

    >>> s = Study(intervention_id="x", title="A study", design="qed", citation="c", sample_size=1240,
    ...           sites=1, baseline=[{"covariate": "age", "std_diff": 0.12}],
    ...           baseline_adjusted=True,
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 1, "se": 0.4}])
    >>> r = rate_study(s)
    >>> r["wwc"].label
    'Meets WWC standards with reservations'
    >>> print(r["essa"].explanation())
    Tier 3 — promising evidence: quasi-experimental, statistically significant favourable effect on y (p = 0.012), n = 1,240, one site; not higher: one site
    """
    if boundary not in WWC_BOUNDARY:
        from upward.core.errors import ConfigError

        raise ConfigError(f"attrition boundary {boundary!r} is not known",
                          fix="use cautious or optimistic")
    facts = facts_of(study, outcome=outcome, intervention=intervention, boundary=boundary)
    wwc = apply_rules("wwc", facts)
    facts = _with_wwc(facts, wwc.tier)
    return {"wwc": wwc, "essa": apply_rules("essa", facts), "sptw": apply_rules("sptw", facts)}


def _with_wwc(facts: Facts, tier: int) -> Facts:
    from dataclasses import replace

    return replace(facts, wwc_tier=tier)


# Intervention level -------------------------------------------------------------------
@dataclass(frozen=True)
class StudyRated:
    """A study with its facts and ratings, the unit the intervention-level rules count.

    >>> from upward.evidence.schema import Study
    >>> s = Study(intervention_id="x", title="A trial", design="rct", citation="c",
    ...           sample_size=800, sites=2, attrition_overall=0.10, attrition_differential=0.02,
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 1, "se": 0.4,
    ...                     "follow_up_months": 24}])
    >>> rated = StudyRated(s, facts_of(s), rate_study(s))
    >>> rated.facts.sites, rated.ratings["sptw"].label
    (2, 'Top Tier')
    """

    study: Study
    facts: Facts
    ratings: dict[str, Rating]


def _qualifying(rated: Sequence[StudyRated], wwc_max: int) -> list[StudyRated]:
    return [r for r in rated if r.facts.wwc_tier is not None and r.facts.wwc_tier <= wwc_max
            and r.facts.significant_favourable]


def _place(study: Study) -> str:
    return (study.city or study.id or "").strip().lower()


def _essa_body(rated: Sequence[StudyRated], tier: int) -> tuple[bool, list[str], list[str]]:
    """ESSA Tiers 1–2 across studies: several studies may together meet the large-sample and
    multi-site requirements (2016 guidance); an equally rigorous significant unfavourable
    finding overrides."""
    wwc_max = 1 if tier == 1 else 2
    design_ok = [r for r in _qualifying(rated, wwc_max)
                 if tier == 2 or r.facts.family == "randomised"]
    if not design_ok:
        return False, [], []
    n = sum(r.facts.n or 0 for r in design_ok)
    # Sites are counted once per place: two studies in one city are one site more, not two.
    per_place: dict[str, int] = {}
    for r in design_ok:
        place = _place(r.study)
        per_place[place] = max(per_place.get(place, 0), r.facts.sites or 1)
    sites = sum(per_place.values())
    overriding = [r for r in rated if r.facts.wwc_tier is not None
                  and r.facts.wwc_tier <= wwc_max and r.facts.significant_unfavourable]
    k = len(design_ok)
    if tier == 1:
        studies = (N_("1 study meeting WWC standards without reservations with a significant "
                      "favourable effect") if k == 1 else
                   N_("{k} studies meeting WWC standards without reservations with a "
                      "significant favourable effect", k=k))
    else:
        studies = (N_("1 study meeting WWC standards with a significant favourable effect")
                   if k == 1 else
                   N_("{k} studies meeting WWC standards with a significant favourable effect",
                      k=k))
    reasons = [studies, N_("n = {n:,} together", n=n),
               N_("1 site together") if sites == 1 else N_("{n} sites together", n=sites)]
    problems = []
    if n < LARGE_SAMPLE:
        problems.append(N_("n = {n:,} together (under {needed})", n=n, needed=LARGE_SAMPLE))
    if sites < 2:
        problems.append(N_("one site"))
    if overriding:
        problems.append(N_("overridden by a significant unfavourable finding in {studies}",
                           studies=", ".join(r.study.id or "" for r in overriding)))
    return not problems, reasons, problems


def rate_intervention(intervention: Intervention, studies: Sequence[Study], *,
                      outcome: str | None = None, boundary: str = "cautious") -> dict[str, Rating]:
    """The intervention's rating in each framework from all its studies (on ``outcome``).

    WWC rates studies, so the intervention shows its best-rated study and the count; ESSA
    Tiers 1–2 may be met by several studies together; SPTW Top Tier is reached by one large
    multi-site RCT or by two Near-Top-Tier RCTs in different places.

    >>> from upward.evidence.schema import Intervention, Study
    >>> i = Intervention(id="x", name="X program", policy_area="workforce")
    >>> def trial(city):
    ...     return Study(intervention_id="x", title=f"Trial in {city}", design="rct",
    ...         citation="c", city=city, sites=1, sample_size=400, attrition_overall=0.1,
    ...         attrition_differential=0.01, effects=[{"outcome": "y", "measure": "md",
    ...         "estimate": 2, "se": 0.5, "follow_up_months": 24}])
    >>> rate_study(trial("Tulsa, OK"))["sptw"].label
    'Near Top Tier'
    >>> rate_intervention(i, [trial("Tulsa, OK"), trial("Dayton, OH")])["sptw"].label
    'Top Tier'
    """
    rated = []
    for s in studies:
        if outcome is not None and s.effect(outcome) is None:
            continue
        ratings = rate_study(s, outcome=outcome, intervention=intervention, boundary=boundary)
        facts = _with_wwc(facts_of(s, outcome=outcome, intervention=intervention,
                                   boundary=boundary), ratings["wwc"].tier)
        rated.append(StudyRated(s, facts, ratings))
    if not rated:
        none = [N_("no studies on {outcome}", outcome=outcome) if outcome else
                N_("no studies")]
        return {"wwc": Rating("wwc", 3, "No studies rated", none),
                "essa": Rating("essa", 4 if intervention.logic_model else 5,
                               "Tier 4 — demonstrates a rationale" if intervention.logic_model
                               else "Not rated", none),
                "sptw": Rating("sptw", 4, "Not in a tier", none)}
    return {"wwc": _wwc_body(rated), "essa": _essa(rated), "sptw": _sptw(rated)}


def _best(rated: Sequence[StudyRated], framework: str) -> StudyRated:
    return min(rated, key=lambda r: r.ratings[framework].tier)


def _wwc_body(rated: Sequence[StudyRated]) -> Rating:
    best = _best(rated, "wwc")
    meets = sum(1 for r in rated if r.ratings["wwc"].tier <= 2)
    reasons = [N_("{meets} of 1 study meet the standards", meets=meets) if len(rated) == 1 else
               N_("{meets} of {n} studies meet the standards", meets=meets, n=len(rated)),
               N_("best: {study} ({rating})", study=best.study.id,
                  rating=best.ratings["wwc"].summary())]
    return Rating("wwc", best.ratings["wwc"].tier, best.ratings["wwc"].label, reasons,
                  best.ratings["wwc"].not_higher, [r.study.id or "" for r in rated])


def _essa(rated: Sequence[StudyRated]) -> Rating:
    best = _best(rated, "essa")
    study_tier = best.ratings["essa"]
    missing: list[str] = []
    for tier, label in ((1, "Tier 1 — strong evidence"), (2, "Tier 2 — moderate evidence")):
        if study_tier.tier <= tier:
            break
        ok, reasons, problems = _essa_body(rated, tier)
        if ok:
            return Rating("essa", tier, label, reasons, missing,
                          [r.study.id or "" for r in rated])
        missing = missing or problems
    return Rating("essa", study_tier.tier, study_tier.label,
                  [N_("best: {study} ({rating})", study=best.study.id,
                      rating=study_tier.summary())],
                  missing or study_tier.not_higher, [r.study.id or "" for r in rated])


def _sptw(rated: Sequence[StudyRated]) -> Rating:
    best = _best(rated, "sptw")
    near = [r for r in rated if r.ratings["sptw"].tier <= 2]
    places = {_place(r.study) for r in near}
    if best.ratings["sptw"].tier > 1 and len(near) >= 2 and len(places) >= 2:
        return Rating("sptw", 1, "Top Tier",
                      [N_("{n} well-conducted RCTs with sizable sustained effects in {places} "
                          "different places (replicated)", n=len(near), places=len(places))],
                      [],
                      [r.study.id or "" for r in near])
    not_higher = list(best.ratings["sptw"].not_higher)
    if best.ratings["sptw"].tier == 2:
        not_higher = [N_("needs a replication RCT in another place")]
    return Rating("sptw", best.ratings["sptw"].tier, best.ratings["sptw"].label,
                  [N_("best: {study} ({rating})", study=best.study.id,
                      rating=best.ratings["sptw"].summary())], not_higher,
                  [r.study.id or "" for r in rated])
