"""Cost-effectiveness and the MVPF of an evaluated program, with every input shown and a
sensitivity range.

Measures (all per participant, in dollars):

- **cost per participant**: ``cost_per_participant``; or ``total_cost`` ÷ participants; or,
  from a ``cost_column``, the mean cost of treated units minus the mean of control units (the
  cost of what the control group received anyway is not the program's).
- **cost per unit of outcome**: cost per participant ÷ |effect| (per dollar of earnings, per
  percentage point of employment …).
- **benefit–cost ratio**: effect × ``outcome_value`` ÷ cost per participant.
- **MVPF** (marginal value of public funds; Hendren & Sprung-Keyser 2020, QJE 135(3)):
  willingness to pay of the participants ÷ net cost to government, where net cost = program
  cost − fiscal externality (taxes gained and transfers saved). When the net cost is ≤ 0 and
  willingness to pay > 0 the program pays for itself: MVPF = ∞. ``willingness_to_pay`` is taken
  from the spec, else effect × ``outcome_value`` (for an earnings outcome, an
  ``outcome_value`` of 1 − tax rate makes it the after-tax earnings gain, as Hendren and
  Sprung-Keyser value job training).

The sensitivity range varies each input by ± ``sensitivity`` (default 25%) and the effect
between its confidence bounds, one at a time.

Examples
--------
>>> m = cost_measures(cost=5641, effect=None, willingness_to_pay=3635, fiscal_externality=951)
>>> round(m.mvpf, 2)  # WorkAdvance, Hendren & Sprung-Keyser (2020): 0.78
0.78
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.core.text import N_
from upward.evaluate.result import EvaluationResult
from upward.evaluate.spec import CostSpec, EvaluationSpec


@dataclass(frozen=True)
class CostInput:
    """One input of the analysis: its value and where it came from.

    >>> CostInput("cost_per_participant", 3200.0, "spec", "dollars").value
    3200.0
    """

    name: str
    value: float | None
    source: str
    unit: str


@dataclass(frozen=True)
class Measures:
    """The measures for one set of inputs.

    >>> cost_measures(cost=1000, effect=0.05).cost_per_unit_outcome
    20000.0
    """

    cost_per_participant: float
    effect: float | None
    cost_per_unit_outcome: float | None
    benefit_per_participant: float | None
    benefit_cost_ratio: float | None
    willingness_to_pay: float | None
    net_government_cost: float
    mvpf: float | None
    mvpf_text: str


@dataclass(frozen=True)
class SensitivityRow:
    """The measures with one input at its low and at its high value.

    >>> SensitivityRow("effect", 1.0, 2.0, None, None, None, None, None, None).input
    'effect'
    """

    input: str
    low: float
    high: float
    cost_per_unit_outcome_low: float | None
    cost_per_unit_outcome_high: float | None
    benefit_cost_ratio_low: float | None
    benefit_cost_ratio_high: float | None
    mvpf_low: float | None
    mvpf_high: float | None


@dataclass
class CostAnalysis(JsonReport):
    """Cost per participant, per unit of outcome, benefit–cost ratio and MVPF, with inputs and
    sensitivity. ``to_dict()`` is what ``EvaluationResult.cost`` holds (∞ is written as
    ``mvpf: null`` with ``mvpf_infinite: true``).

    >>> r = EvaluationResult("rct", "m", "earnings", "ATE", 800.0, 200.0, 408.0, 1192.0, 0.0001,
    ...                      1000, n_treated=500, n_control=500)
    >>> a = analyse_cost(r, CostSpec(cost_per_participant=2000, willingness_to_pay=900))
    >>> a.cost_per_participant, a.cost_per_unit_outcome, a.mvpf_text, a.to_dict()["mvpf_infinite"]
    (2000.0, 2.5, '0.45', False)
    """

    inputs: list[CostInput]
    n_participants: int | None
    total_cost: float | None
    cost_per_participant: float
    effect: float | None
    cost_per_unit_outcome: float | None
    benefit_per_participant: float | None
    benefit_cost_ratio: float | None
    willingness_to_pay: float | None
    net_government_cost: float
    mvpf: float | None
    mvpf_infinite: bool
    mvpf_text: str
    sensitivity_share: float
    sensitivity: list[SensitivityRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def cost_measures(*, cost: float, effect: float | None, willingness_to_pay: float | None = None,
                  fiscal_externality: float | None = None,
                  outcome_value: float | None = None) -> Measures:
    """The measures for one set of inputs (per participant, dollars).

    Year Up (Hendren & Sprung-Keyser 2020, policyimpacts.org): WTP $4,962 after-tax earnings +
    $6,614 stipends, cost $28,290, taxes gained $1,134 → MVPF 0.43.

    >>> round(cost_measures(cost=28290, effect=None, willingness_to_pay=4962 + 6614,
    ...                     fiscal_externality=1134).mvpf, 2)
    0.43
    >>> cost_measures(cost=100, effect=None, willingness_to_pay=50, fiscal_externality=150).mvpf_text
    '∞ (pays for itself)'
    """
    per_unit = cost / abs(effect) if effect not in (None, 0) else None
    benefit = effect * outcome_value if effect is not None and outcome_value is not None else None
    ratio = benefit / cost if benefit is not None and cost > 0 else None
    wtp = willingness_to_pay if willingness_to_pay is not None else benefit
    net = cost - (fiscal_externality or 0.0)
    mvpf, text = _mvpf(wtp, net)
    return Measures(cost, effect, per_unit, benefit, ratio, wtp, net, mvpf, text)


def _mvpf(wtp: float | None, net: float) -> tuple[float | None, str]:
    if wtp is None:
        return None, "not computed (give willingness_to_pay, or outcome_value)"
    if net > 0:
        value = wtp / net
        return value, f"{value:.2f}"
    if wtp > 0:
        return math.inf, "∞ (pays for itself)"
    return None, "undefined (net cost ≤ 0 and willingness to pay ≤ 0)"


def analyse_cost(result: EvaluationResult, cost: CostSpec, data: pd.DataFrame | None = None,
                 spec: EvaluationSpec | None = None) -> CostAnalysis:
    """The cost analysis of an evaluation result (attach ``.to_dict()`` to ``result.cost``).

    >>> r = EvaluationResult("rct", "m", "earnings", "ATE", 800.0, 200.0, 408.0, 1192.0, 0.0001,
    ...                      1000, n_treated=500, n_control=500)
    >>> a = analyse_cost(r, CostSpec(cost_per_participant=2000, outcome_value=0.9,
    ...                              fiscal_externality=150))
    >>> a.cost_per_unit_outcome, round(a.benefit_cost_ratio, 2), a.mvpf_text
    (2.5, 0.36, '0.39')
    """
    notes: list[str] = []
    per_participant, n, total, cost_inputs = _cost_per_participant(result, cost, data, spec, notes)
    effect = result.estimate
    inputs = [*cost_inputs,
              CostInput("effect", effect, N_("{estimand} estimated by {method}",
                                             estimand=result.estimand, method=result.method),
                        N_("{outcome} per participant", outcome=result.outcome))]
    for name, unit in (("outcome_value", N_("dollars per unit of {outcome}",
                                            outcome=result.outcome)),
                       ("willingness_to_pay", N_("dollars per participant")),
                       ("fiscal_externality", N_("dollars per participant"))):
        value = getattr(cost, name)
        if value is not None:
            inputs.append(CostInput(name, float(value), N_("spec"), unit))
    if cost.fiscal_externality is None:
        notes.append(N_("fiscal externality assumed 0 (no taxes gained or transfers saved)"))
    if cost.willingness_to_pay is None and cost.outcome_value is not None:
        notes.append(N_("willingness to pay = effect × outcome_value ({effect:,.4g} × "
                        "{value:,.4g}) per participant", effect=effect, value=cost.outcome_value))
    if effect is not None and effect <= 0:
        notes.append(N_("the estimate is not an improvement in the outcome (≤ 0); the cost "
                        "per unit of outcome is then the cost per unit of change, not achieved"))

    def measures(**changes) -> Measures:
        args = {"cost": per_participant, "effect": effect,
                "willingness_to_pay": cost.willingness_to_pay,
                "fiscal_externality": cost.fiscal_externality,
                "outcome_value": cost.outcome_value, **changes}
        return cost_measures(**args)

    base = measures()
    if per_participant == 0:
        notes.append(N_("the cost per participant is 0: a benefit–cost ratio, a cost per unit "
                        "of outcome and an MVPF have no finite value; check the cost inputs"))
    rows = _sensitivity(result, cost, per_participant, measures)
    return CostAnalysis(
        inputs=inputs, n_participants=n, total_cost=total,
        cost_per_participant=per_participant, effect=effect,
        cost_per_unit_outcome=base.cost_per_unit_outcome,
        benefit_per_participant=base.benefit_per_participant,
        benefit_cost_ratio=base.benefit_cost_ratio, willingness_to_pay=base.willingness_to_pay,
        net_government_cost=base.net_government_cost,
        mvpf=base.mvpf, mvpf_infinite=base.mvpf == math.inf, mvpf_text=base.mvpf_text,
        sensitivity_share=cost.sensitivity, sensitivity=rows, notes=notes,
    )


def _sensitivity(result: EvaluationResult, cost: CostSpec, per_participant: float,
                 measures) -> list[SensitivityRow]:
    share = cost.sensitivity
    varied: list[tuple[str, float, float, str]] = [
        ("cost_per_participant", per_participant * (1 - share), per_participant * (1 + share),
         "cost")]
    for name in ("willingness_to_pay", "fiscal_externality", "outcome_value"):
        value = getattr(cost, name)
        if value is not None:
            varied.append((name, value * (1 - share), value * (1 + share), name))
    if result.ci_low is not None and result.ci_high is not None:
        varied.append(("effect", result.ci_low, result.ci_high, "effect"))
    rows = []
    for name, low, high, argument in varied:
        lo, hi = measures(**{argument: low}), measures(**{argument: high})
        rows.append(SensitivityRow(
            name, low, high, lo.cost_per_unit_outcome, hi.cost_per_unit_outcome,
            lo.benefit_cost_ratio, hi.benefit_cost_ratio, lo.mvpf, hi.mvpf))
    return rows


def _cost_per_participant(result: EvaluationResult, cost: CostSpec, data: pd.DataFrame | None,
                          spec: EvaluationSpec | None, notes: list[str]):
    given = [k for k in ("cost_per_participant", "total_cost", "cost_column")
             if getattr(cost, k) is not None]
    if len(given) != 1:
        raise ConfigError(
            "cost: " + ("needs one of cost_per_participant, total_cost or cost_column"
                        if not given else f"gives {' and '.join(given)}; give only one"),
            fix="write for example  cost: {cost_per_participant: 3200}")
    n = result.n_treated
    if cost.cost_per_participant is not None:
        value = float(cost.cost_per_participant)
        inputs = [CostInput("cost_per_participant", value, N_("spec"),
                            N_("dollars per participant"))]
        return value, n, value * n if n else None, inputs
    if cost.total_cost is not None:
        if not n:
            raise ConfigError("cost: total_cost needs the number of participants, which this "
                              "design does not report",
                              fix="give cost_per_participant instead")
        value = float(cost.total_cost) / n
        inputs = [CostInput("total_cost", float(cost.total_cost), N_("spec"), N_("dollars")),
                  CostInput("participants", float(n), N_("treated units in the result"),
                            N_("units"))]
        return value, n, float(cost.total_cost), inputs
    return _from_cost_column(cost.cost_column, data, spec, notes)


def _from_cost_column(column: str, data: pd.DataFrame | None, spec: EvaluationSpec | None,
                      notes: list[str]):
    if data is None or spec is None or column not in data.columns:
        raise ConfigError(f"cost: cost_column {column!r} needs the program data",
                          fix="run the evaluation from a spec with its data")
    treated = _treated_units(data, spec)
    if spec.unit:
        per_unit = data.groupby(spec.unit, sort=False)[column].sum()
        flags = treated.groupby(data[spec.unit], sort=False).max().reindex(per_unit.index)
    else:
        per_unit, flags = data[column], treated
    flags = flags.astype(bool).to_numpy()
    treated_mean = float(per_unit[flags].mean()) if flags.any() else float("nan")
    control_mean = float(per_unit[~flags].mean()) if (~flags).any() else 0.0
    if not np.isfinite(treated_mean):
        raise ConfigError(f"cost: cost_column {column!r}: no treated units in the data",
                          fix="check the treatment column")
    n = int(flags.sum())
    value = treated_mean - control_mean
    if control_mean:
        notes.append(N_("cost per participant = mean cost of treated units ({treated:,.0f}) − "
                        "mean cost of control units ({control:,.0f})", treated=treated_mean,
                        control=control_mean))
    inputs = [CostInput("cost_column", value, N_("column '{column}': treated mean − control "
                                                  "mean", column=column),
                        N_("dollars per participant")),
              CostInput("participants", float(n), N_("treated units in the data"),
                        N_("units"))]
    return value, n, float(per_unit[flags].sum()), inputs


def _treated_units(data: pd.DataFrame, spec: EvaluationSpec) -> pd.Series:
    if spec.treatment and spec.treatment in data.columns:
        return data[spec.treatment].astype(float) > 0
    if spec.cohort and spec.cohort in data.columns:
        return data[spec.cohort].notna()
    raise ConfigError("cost: cost_column needs a treatment or cohort column to tell "
                      "participants apart", fix="add 'treatment:' or 'cohort:' to the spec")


@dataclass
class RunningCost(JsonReport):
    """Cost of a running (monitored) program so far: dollars spent to date, per participant
    enrolled, and per unit of outcome at the current estimate and over its interval.

    ``per_unit_outcome_range`` is None while the interval includes zero (the cost of a unit of
    outcome is then unbounded: the program may achieve nothing).

    >>> c = running_cost(50_000.0, 200, 25.0, 5.0, 45.0, source="spending.csv")
    >>> c.per_participant, c.per_unit_outcome, c.per_unit_outcome_range, c.source
    (250.0, 10.0, (5.555555555555555, 50.0), 'spending.csv')
    """

    spent_to_date: float | None
    participants: int
    per_participant: float | None
    per_unit_outcome: float | None
    per_unit_outcome_range: tuple[float, float] | None
    source: str


def running_cost(spent: float | None, participants: int, effect: float | None,
                 low: float | None = None, high: float | None = None, *,
                 source: str = "") -> RunningCost:
    """Cost to date, per participant and per unit of outcome (at the estimate, and at the ends
    of its interval when it excludes zero).

    >>> c = running_cost(120_000.0, 400, 50.0, 20.0, 80.0, source="costs.csv")
    >>> c.per_participant, c.per_unit_outcome, c.per_unit_outcome_range
    (300.0, 6.0, (3.75, 15.0))
    >>> running_cost(120_000.0, 400, 50.0, -10.0, 80.0).per_unit_outcome_range is None
    True
    """
    per = spent / participants if spent is not None and participants > 0 else None
    unit = (cost_measures(cost=per, effect=effect).cost_per_unit_outcome
            if per is not None and effect is not None else None)
    span = None
    if per is not None and low is not None and high is not None and (low > 0 or high < 0):
        ends = sorted(per / abs(v) for v in (low, high))
        span = (ends[0], ends[1])
    return RunningCost(spent, participants, per, unit, span, source)
