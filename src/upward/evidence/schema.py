"""The evidence schema: interventions, the studies that evaluated them and the effects they found.

Records are pydantic models with unknown keys forbidden, so a typo in an imported file is an
error rather than a silently dropped field. ``LibraryDocument`` is the file format of imports,
exports and the stored library; its JSON Schema is ``docs/evidence.schema.json``
(``python -m upward.evidence.schema > docs/evidence.schema.json`` writes it).

Examples
--------
>>> e = Effect(outcome="earnings_annual", measure="md", estimate=1794.0, se=633.0, n=445)
>>> round(e.standard_error(), 1), e.ci()[0] < 1794 < e.ci()[1]
(633.0, True)
>>> Effect(outcome="earnings_annual", measure="md", estimate=1.0)
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Effect
...
"""

from __future__ import annotations

import json
import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats

from upward.evaluate.categories import STUDY_DESIGNS
from upward.metrics.catalog import OUTCOME_DOMAINS

SCHEMA_VERSION = "1.0"
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"

#: Policy areas an intervention can belong to, with the label pages show.
POLICY_AREAS: dict[str, str] = {
    "workforce": "Jobs and training",
    "housing": "Housing and neighborhoods",
    "education": "Education",
    "income": "Income support and assets",
    "health": "Health",
    "justice": "Public safety and justice",
    "family": "Children and families",
    "transportation": "Transportation",
    "civic": "Civic life and social capital",
}
PolicyArea = Literal["workforce", "housing", "education", "income", "health", "justice", "family",
                     "transportation", "civic"]

#: A study's design is one of the study-design categories the design registry declares
#: (``upward.evaluate.categories.STUDY_DESIGNS``: label, and the kind the rating rules use).
StudyDesign = Literal[tuple(STUDY_DESIGNS)]  # type: ignore[valid-type]

#: Effect measures as entered. ``rr``/``or`` are ratios on their natural scale (CI on the same
#: scale); the library pools them as logs (``log_rr``/``log_or``, upward.evidence.effect_sizes).
MEASURE_LABELS: dict[str, str] = {
    "md": "Mean difference (outcome units)",
    "smd": "Standardised mean difference",
    "rd": "Risk difference",
    "rr": "Risk ratio",
    "or": "Odds ratio",
    "log_rr": "Log risk ratio",
    "log_or": "Log odds ratio",
}
EffectMeasure = Literal["md", "smd", "rd", "rr", "or", "log_rr", "log_or"]
NATURAL_RATIOS = {"rr": "log_rr", "or": "log_or"}

#: Who an effect was measured for (``Effect.population``), with the label pages show.
POPULATIONS: dict[str, str] = {
    "children": "Young children and their families",
    "students": "Students (school or college age)",
    "youth": "Youth and young adults",
    "adults": "Adults with low earnings",
    "low_income_families": "Low-income families",
    "unemployed_workers": "Unemployed workers",
    "people_with_disabilities": "People with disabilities",
    "older_adults": "Older adults",
    "high_earners": "High earners (top tax rates)",
    "residents": "All residents",
}
#: What kind of number an effect row is; only causal effects are ever pooled.
ESTIMATE_TYPES: dict[str, str] = {
    "causal_effect": "causal effect",
    "cost_or_first_stage": "program cost, benefit-cost component or first stage",
    "descriptive_input": "descriptive input (mean, baseline rate, sample size)",
    "p_value_of_underlying_outcome": "p-value of an underlying outcome",
}
EstimateType = Literal["causal_effect", "cost_or_first_stage", "descriptive_input",
                       "p_value_of_underlying_outcome"]
_DOLLARS = re.compile(r"dollar|\$|\busd\b", re.IGNORECASE)
_PER_DOLLAR = re.compile(r"per \$\s?1\b|per dollar", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def is_dollar_unit(unit: str) -> bool:
    """Whether a unit is an amount of money (a ratio per dollar is not).

    >>> is_dollar_unit("2015 dollars per year"), is_dollar_unit("dollars per $1 of benefits")
    (True, False)
    """
    return bool(_DOLLARS.search(unit or "")) and not _PER_DOLLAR.search(unit or "")


def year_in(text: str) -> int | None:
    """The first year (1800-2099) written in a text, e.g. a unit; None when there is none.

    >>> year_in("dollars (2015)"), year_in("dollars per quarter")
    (2015, None)
    """
    found = _YEAR.search(text or "")
    return int(found.group(1)) if found else None


def slugify(text: str) -> str:
    """A record id made from a name: lower case, dashes, at most 80 characters.

    >>> slugify("Year Up (PACE evaluation), 2018")
    'year-up-pace-evaluation-2018'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug or "record")[:80].rstrip("-")


class Record(BaseModel):
    """Base of every evidence record: unknown keys are errors, strings are stripped.

    >>> Intervention(id="nsw", name="  Supported Work ", policy_area="workforce").name
    'Supported Work'
    >>> Intervention(id="nsw", name="Supported Work", policy_area="workforce", colour="red")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Intervention
    colour
      Extra inputs are not permitted ...
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class ProvenanceEntry(Record):
    """One step in a record's history: who entered or imported it, from where, when.

    >>> ProvenanceEntry(action="entered", by="analyst", at="2026-01-05T10:00:00+00:00").action
    'entered'
    """

    action: Literal["entered", "imported", "from_evaluation", "published_study", "bundle"]
    by: str = Field(description="The person or process that did it.")
    at: str = Field(description="When (ISO 8601, UTC).")
    source_file: str | None = Field(None, description="The file it came from (name only).")
    origin_workspace: str | None = Field(None, description="Id of the workspace it came from.")
    origin_name: str | None = Field(None, description="Name (city) of the workspace it came from.")
    bundle_sha256: str | None = None
    signer_fingerprint: str | None = None


class Intervention(Record):
    """A program or policy that studies evaluate.

    >>> Intervention(id="nsw", name="National Supported Work", policy_area="workforce").policy_area
    'workforce'
    """

    id: str | None = Field(None, pattern=ID_PATTERN,
                           description="Short lower-case id; made from the name when absent.")
    name: str = Field(min_length=2, max_length=200)
    description: str = ""
    policy_area: PolicyArea
    target_population: str = ""
    components: list[str] = Field(default_factory=list)
    cost_per_participant: float | None = Field(None, ge=0, description="Dollars per participant.")
    cost_year: int | None = Field(None, ge=1900, le=2100, description="Dollar year of the cost.")
    cost_note: str = Field("", description="What the cost covers and where it comes from.")
    mvpf: float | None = Field(None, description="Marginal value of public funds, where known.")
    mvpf_source: str = ""
    take_up: float | None = Field(None, gt=0, le=1, description="Share of those offered the "
                                  "program who take part (the study's first stage).")
    take_up_source: str = ""
    program_type: str = Field("", description="The publisher's program category.")
    logic_model: str | None = Field(None, description="Why it should work (the rationale ESSA "
                                    "Tier 4 asks for).")
    url: str | None = None
    provenance: list[ProvenanceEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cost_has_year(self) -> Intervention:
        if self.cost_per_participant is not None and self.cost_year is None:
            raise ValueError("a dollar figure needs its year: give cost_year (the year of the "
                             "dollars of cost_per_participant)")
        return self


class Arm(Record):
    """A study arm and how many were randomised or assigned to it.

    >>> Arm(name="treatment", n=185, n_analysed=180).n_analysed
    180
    """

    name: str
    n: int | None = Field(None, ge=0, description="People randomised or assigned to the arm.")
    n_analysed: int | None = Field(None, ge=0, description="People whose outcome was observed.")
    description: str = ""


class BaselineDifference(Record):
    """A baseline characteristic's standardised difference between the groups (treated −
    comparison, in pooled SDs; Hedges' g or the Cox index for a binary characteristic).

    >>> BaselineDifference(covariate="age", std_diff=-0.12).std_diff
    -0.12
    """

    covariate: str
    std_diff: float


class StudyCheck(Record):
    """An assumption check the study ran (pre-trends, overlap, manipulation …); ``passed`` is
    None when it could not be run.

    >>> c = StudyCheck(name="pre-trends", passed=None, detail="fewer than two pre-periods")
    >>> c.passed is None, c.detail
    (True, 'fewer than two pre-periods')
    """

    name: str
    passed: bool | None = None
    detail: str = ""


class Effect(Record):
    """One effect on one outcome. Needs a standard error or a confidence interval.

    ``direction`` is the direction of benefit (higher earnings are better, lower jail rates
    are better); ``estimate``/``ci`` are on the measure's own scale (ratios as ratios).

    >>> e = Effect(outcome="employed", measure="rd", estimate=0.05, ci_low=0.01, ci_high=0.09)
    >>> round(e.standard_error(), 4), e.favourable(), e.poolable()
    (0.0204, True, True)
    """

    outcome: str = Field(pattern=r"^[a-z0-9_]{1,60}$",
                         description="Outcome id shared across studies, e.g. earnings_annual.")
    outcome_label: str = ""
    measure: EffectMeasure
    estimate: float
    se: float | None = Field(None, gt=0)
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = Field(0.95, gt=0, lt=1)
    p_value: float | None = Field(None, ge=0, le=1)
    follow_up_months: float | None = Field(None, ge=0)
    n: int | None = Field(None, ge=0, description="People in the analysis of this outcome.")
    n_treated: int | None = Field(None, ge=0)
    n_control: int | None = Field(None, ge=0)
    control_mean: float | None = None
    baseline_risk: float | None = Field(None, gt=0, lt=1, description="Control-group risk, for "
                                        "converting ratios.")
    unit: str = Field("", description="Units of the estimate, e.g. '1982 dollars per year'.")
    direction: Literal["higher", "lower"] = "higher"
    subgroup: str = "all"
    estimand: str = ""
    source_location: str = Field("", description="Where in the paper: table, page.")
    notes: str = ""
    domain: str | None = Field(None, description="Outcome domain (upward.metrics.catalog."
                               "OUTCOME_DOMAINS), which links it to barriers.")
    population: str = Field("", description="Who it was measured for (POPULATIONS).")
    dollar_year: int | None = Field(None, ge=1900, le=2100, description="Year of the dollars "
                                    "when the unit is money (read from the unit when it says).")
    unit_verified: bool = Field(True, description="False when the source does not state the "
                                "units and they are a reading of the text.")
    estimate_type: EstimateType = "causal_effect"
    not_pooled: str = Field("", description="Why the effect is shown but never pooled; empty "
                            "when it can be pooled.")

    @model_validator(mode="after")
    def _needs_uncertainty(self) -> Effect:
        if self.domain is not None and self.domain not in OUTCOME_DOMAINS:
            raise ValueError(f"outcome domain {self.domain!r} is not in the metric catalog: use "
                             f"one of {', '.join(OUTCOME_DOMAINS)}")
        if self.population and self.population not in POPULATIONS:
            raise ValueError(f"population {self.population!r} is not known: use one of "
                             f"{', '.join(POPULATIONS)}")
        if self.estimate_type != "causal_effect" and not self.not_pooled:
            object.__setattr__(self, "not_pooled", f"not a causal effect (a "
                               f"{ESTIMATE_TYPES[self.estimate_type]})")
        if self.dollar_year is not None and not is_dollar_unit(self.unit):
            object.__setattr__(self, "dollar_year", None)  # not money: no dollar year
        if is_dollar_unit(self.unit) and self.dollar_year is None:
            object.__setattr__(self, "dollar_year", year_in(self.unit))
            if self.dollar_year is None and not self.not_pooled:
                raise ValueError(f"a dollar figure needs its year: the unit {self.unit!r} names "
                                 "no year; give dollar_year (e.g. 2015) or write it in the unit "
                                 "('2015 dollars')")
        has_ci = self.ci_low is not None and self.ci_high is not None
        if self.se is None and not has_ci and not self.not_pooled:
            raise ValueError("give the standard error (se) or both ci_low and ci_high (or say "
                             "why the effect is not pooled, not_pooled)")
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("give both ci_low and ci_high, or neither")
        if has_ci:
            if not self.ci_low <= self.estimate <= self.ci_high:
                raise ValueError(f"the estimate {self.estimate} is outside its interval "
                                 f"[{self.ci_low}, {self.ci_high}]")
            if self.measure in NATURAL_RATIOS and self.ci_low <= 0:
                raise ValueError("a ratio's interval must be above 0")
        if self.measure in NATURAL_RATIOS and self.estimate <= 0:
            raise ValueError("a ratio must be above 0 (enter log ratios as log_rr or log_or)")
        return self

    def poolable(self) -> bool:
        """Whether the effect can enter a pooled estimate: a causal effect with an SE or CI.

        >>> Effect(outcome="y", measure="md", estimate=1.0, not_pooled="no SE").poolable()
        False
        """
        return not self.not_pooled and (self.se is not None or self.ci_low is not None)

    def pooling_measure(self) -> str:
        """The scale this effect is pooled on (ratios as logs).

        >>> Effect(outcome="employed", measure="rr", estimate=1.2, ci_low=1.0, ci_high=1.44
        ...        ).pooling_measure()
        'log_rr'
        """
        return NATURAL_RATIOS.get(self.measure, self.measure)

    def pooling_estimate(self) -> float:
        """The estimate on the pooling scale.

        >>> Effect(outcome="employed", measure="rr", estimate=1.0, se=0.1).pooling_estimate()
        0.0
        """
        return math.log(self.estimate) if self.measure in NATURAL_RATIOS else self.estimate

    def standard_error(self) -> float:
        """The SE on the pooling scale: as given, else from the interval (width / 2z, on the log
        scale for ratios).

        >>> e = Effect(outcome="earnings_annual", measure="md", estimate=2.0, ci_low=0.04,
        ...            ci_high=3.96)
        >>> round(e.standard_error(), 3)
        1.0
        """
        if self.se is not None:
            return self.se
        if self.ci_low is None or self.ci_high is None:
            raise ValueError(f"effect on {self.outcome!r} has no standard error: "
                             f"{self.not_pooled or 'none given'}")
        z = float(stats.norm.ppf(0.5 + self.ci_level / 2))
        low, high = self.ci_low, self.ci_high
        if self.measure in NATURAL_RATIOS:
            low, high = math.log(low), math.log(high)
        return (high - low) / (2 * z)

    def ci(self, level: float | None = None) -> tuple[float, float]:
        """The interval on the measure's own scale: as given (at its level), else normal.

        >>> Effect(outcome="y", measure="md", estimate=0.0, se=1.0).ci()[1] > 1.95
        True
        """
        level = level or self.ci_level
        if self.ci_low is not None and self.ci_high is not None and level == self.ci_level:
            return self.ci_low, self.ci_high
        z = float(stats.norm.ppf(0.5 + level / 2))
        est, se = self.pooling_estimate(), self.standard_error()
        low, high = est - z * se, est + z * se
        if self.measure in NATURAL_RATIOS:
            return math.exp(low), math.exp(high)
        return low, high

    def p(self) -> float:
        """The two-sided p-value: as reported, else from the estimate and its SE.

        >>> round(Effect(outcome="y", measure="md", estimate=1.96, se=1.0).p(), 3)
        0.05
        """
        if self.p_value is not None:
            return self.p_value
        return float(2 * stats.norm.sf(abs(self.pooling_estimate() / self.standard_error())))

    def favourable(self) -> bool:
        """Whether the estimate points in the direction of benefit.

        >>> Effect(outcome="jail", measure="rr", estimate=0.8, se=0.1, direction="lower"
        ...        ).favourable()
        True
        """
        sign = self.pooling_estimate()
        return sign > 0 if self.direction == "higher" else sign < 0


class Study(Record):
    """One evaluation of an intervention: where, when, how, by whom, and what it found.

    Needs a ``citation`` (published work) or an ``evaluation_id`` (an Upward evaluation).
    Attrition rates are proportions (0.12 for 12%); ``attrition_differential`` is the absolute
    difference between the arms' attrition rates.

    >>> s = Study(intervention_id="nsw", title="NSW men", design="rct", citation="Dehejia & Wahba (1999)",
    ...           effects=[{"outcome": "earnings_annual", "measure": "md", "estimate": 1794, "se": 633}])
    >>> s.id, s.design_label(), s.effect("earnings_annual").estimate
    (None, 'Randomised controlled trial', 1794.0)
    """

    id: str | None = Field(None, pattern=ID_PATTERN,
                           description="Short lower-case id; made from the title when absent.")
    intervention_id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=2, max_length=300)
    city: str = Field("", description="Where it ran, e.g. 'Tulsa, OK', or 'multi-site'.")
    state: str = ""
    period: str = Field("", description="When participants entered, e.g. '1975-1977'.")
    design: StudyDesign
    design_detail: str = ""
    sample_size: int | None = Field(None, ge=0, description="People randomised or assigned.")
    sample_unit: str = "people"
    arms: list[Arm] = Field(default_factory=list)
    attrition_overall: float | None = Field(None, ge=0, le=1)
    attrition_differential: float | None = Field(None, ge=0, le=1)
    attrition_wwc_low: bool | None = Field(None, description="Whether attrition is low by the "
                                           "WWC cautious boundary; kept when the rates are "
                                           "withheld for disclosure control.")
    baseline: list[BaselineDifference] = Field(default_factory=list)
    baseline_adjusted: bool = Field(False, description="Whether the impact estimates adjust for "
                                    "the baseline characteristics.")
    checks: list[StudyCheck] = Field(default_factory=list)
    sites: int | None = Field(None, ge=1)
    evaluator: str = ""
    citation: str = ""
    url: str | None = None
    evaluation_id: str | None = None
    replication_of: str | None = Field(None, pattern=ID_PATTERN)
    synthetic: bool = Field(False, description="True for invented demonstration data.")
    effects: list[Effect] = Field(min_length=1)
    notes: str = ""
    disclosure_notes: list[str] = Field(default_factory=list, description="What publication "
                                        "withheld, and why (cells of fewer than 11 people).")
    provenance: list[ProvenanceEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_source(self) -> Study:
        if not self.citation and not self.evaluation_id:
            raise ValueError("give a citation (the published study) or an evaluation_id (the "
                             "Upward evaluation it came from)")
        return self

    @field_validator("checks")
    @classmethod
    def _unique_checks(cls, checks: list[StudyCheck]) -> list[StudyCheck]:
        names = [c.name for c in checks]
        if len(names) != len(set(names)):
            raise ValueError("each check name may appear once")
        return checks

    def effect(self, outcome: str, subgroup: str = "all") -> Effect | None:
        """The study's effect on ``outcome`` (for ``subgroup``), or None.

        >>> s = Study(intervention_id="x", title="A pilot", design="rct", citation="Doe 2024",
        ...           effects=[Effect(outcome="y", measure="md", estimate=1.0, se=0.5)])
        >>> s.effect("y").estimate
        1.0
        """
        for e in self.effects:
            if e.outcome == outcome and e.subgroup == subgroup:
                return e
        return None

    def design_label(self) -> str:
        """The design as pages show it.

        >>> Study(intervention_id="x", title="A pilot", design="rd", citation="Doe 2024",
        ...       effects=[Effect(outcome="y", measure="md", estimate=1.0, se=0.5)]).design_label()
        'Regression discontinuity'
        """
        return STUDY_DESIGNS[self.design].label

    def max_baseline_difference(self) -> float | None:
        """The largest absolute standardised baseline difference, None when none is recorded.

        >>> Study(intervention_id="x", title="A pilot", design="qed", citation="Doe 2024",
        ...       baseline=[{"covariate": "age", "std_diff": -0.2}, {"covariate": "educ",
        ...       "std_diff": 0.1}], effects=[{"outcome": "y", "measure": "md", "estimate": 1,
        ...       "se": 1}]).max_baseline_difference()
        0.2
        """
        return max((abs(b.std_diff) for b in self.baseline), default=None)


class LibraryDocument(Record):
    """An evidence file: interventions and studies (the format of imports, exports, storage).

    >>> LibraryDocument().schema_version
    '1.0'
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    interventions: list[Intervention] = Field(default_factory=list)
    studies: list[Study] = Field(default_factory=list)


def json_schema() -> dict:
    """The JSON Schema of an evidence file (``docs/evidence.schema.json`` holds this).

    >>> json_schema()["title"]
    'LibraryDocument'
    """
    schema = _without_examples(LibraryDocument.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _without_examples(node):
    """The schema with each description cut before its docstring's ``>>>`` example (the
    examples are for Python readers, not for the people who write evidence files)."""
    if isinstance(node, dict):
        return {k: (v.split("\n\n>>>")[0].rstrip() if k == "description" and isinstance(v, str)
                    else _without_examples(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_examples(v) for v in node]
    return node


def json_schema_text() -> str:
    """The schema as the text of ``docs/evidence.schema.json``.

    >>> json_schema_text().startswith("{")
    True
    """
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(json_schema_text(), end="")
