"""An evaluation, declared: which data, which design, which columns.

Specs are YAML files (``upward evaluate spec.yaml``) or built in Python. Unknown keys are an
error, so a typo never silently changes the analysis.

Examples
--------
>>> s = EvaluationSpec(data="pilot.csv", design="rct", outcome="earnings", treatment="treated")
>>> s.covariates
[]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CostSpec(BaseModel):
    """Costs and benefits for cost-effectiveness and the MVPF (all in dollars).

    ``cost_per_participant`` or ``total_cost`` (or a ``cost_column`` in the data);
    ``willingness_to_pay`` per participant (benefit to participants, in dollars) and
    ``fiscal_externality`` per participant (government savings or extra taxes, in dollars)
    for the MVPF; ``sensitivity`` is the ± share each input is varied by (default 0.25).

    >>> CostSpec(total_cost=50_000, willingness_to_pay=900).sensitivity
    0.25
    >>> CostSpec(total_cost=-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for CostSpec...
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    cost_per_participant: float | None = Field(None, ge=0)
    total_cost: float | None = Field(None, ge=0)
    cost_column: str | None = None
    willingness_to_pay: float | None = None
    fiscal_externality: float | None = None
    outcome_value: float | None = Field(None, description="Dollar value of one unit of outcome.")
    sensitivity: float = Field(0.25, ge=0, le=1)


class MonitorSpec(BaseModel):
    """A monitored (running) evaluation: ``data:`` is then a folder that grows by one file a
    week (or any batch), re-estimated at every refresh with an anytime-valid confidence
    sequence (docs/monitoring.md).

    ``plan`` is a JSON file written by ``upward plan --format json -o plan.json`` (its ``n`` is
    the planned enrolment and its ``share_treated`` the assignment share, unless given here);
    ``enrolment_weeks`` spreads the planned enrolment evenly over that many looks; ``costs`` is
    a CSV of spending with columns ``week`` (a look's file name without suffix, or its number
    from 1) and ``spent`` (dollars). Paths are relative to the spec file.

    >>> MonitorSpec(plan="plan.json", enrolment_weeks=12).pattern
    '*.csv'
    """

    model_config = ConfigDict(extra="forbid")
    pattern: str = Field("*.csv", description="Which files of the folder are weekly data.")
    week_column: str | None = Field(None, description="A column numbering the week of each "
                                    "record; by default each file is one week, in name order.")
    plan: Path | None = None
    planned_enrolment: int | None = Field(None, gt=0)
    enrolment_weeks: int | None = Field(None, gt=0)
    assignment_share: float | None = Field(None, gt=0, lt=1)
    costs: Path | None = None


class LinkSpec(BaseModel):
    """Outcomes from another file, linked to the roster (``data:``) by probabilistic record
    linkage (docs/linkage.md): ``fields`` maps each compared roster column to its kind
    (``name``, ``date``, ``text`` or ``exact``); ``outcome_fields`` renames those whose name
    differs in the outcome file; ``columns`` are the outcome columns brought over;
    ``threshold`` is the match probability a link needs (or ``auto``: the best estimated F1).

    >>> LinkSpec(outcomes="wages.csv", fields={"surname": "name"}, columns=["wage"]).threshold
    0.9
    """

    model_config = ConfigDict(extra="forbid")
    outcomes: Path
    fields: dict[str, str]
    outcome_fields: dict[str, str] = Field(default_factory=dict)
    columns: list[str]
    threshold: float | Literal["auto"] = 0.9


class EvaluationSpec(BaseModel):
    """One evaluation. Columns are names in the data file; ``data`` is relative to the spec.

    >>> s = EvaluationSpec(data="pilot.csv", design="rct", outcome="earnings", treatment="offered")
    >>> s.design, s.alpha, s.covariates
    ('rct', 0.05, [])
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str | None = None
    description: str | None = None
    data: Path
    design: str
    outcome: str
    treatment: str | None = Field(None, description="0/1 treated indicator (group, or unit-period "
                                  "for panel designs).")
    unit: str | None = None
    time: str | None = None
    post: str | None = Field(None, description="0/1 post-period indicator (2×2 DiD).")
    cohort: str | None = Field(None, description="First treated period per unit; empty or 0 for "
                               "never treated (staggered designs).")
    treatment_start: Any = Field(None, description="First treated period when it is the same for "
                                 "every treated unit (DiD, synthetic control).")
    treated_unit: str | None = Field(None, description="The treated unit (synthetic control).")
    running: str | None = None
    cutoff: float | None = None
    covariates: list[str] = Field(default_factory=list)
    cluster: str | None = None
    weights: str | None = None
    alpha: float = Field(0.05, gt=0, lt=1)
    seed: int = 20261201
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="Design-specific options (see docs/evaluate.md).")
    cost: CostSpec | None = None
    monitor: MonitorSpec | None = None
    link: LinkSpec | None = None

    def columns(self) -> list[str]:
        """Every data column the spec names.

        >>> EvaluationSpec(data="x.csv", design="rct", outcome="y", treatment="d",
        ...                covariates=["age"]).columns()
        ['y', 'd', 'age']
        """
        named = [self.outcome, self.treatment, self.unit, self.time, self.post, self.cohort,
                 self.running, *self.covariates, self.cluster, self.weights]
        if self.cost and self.cost.cost_column:
            named.append(self.cost.cost_column)
        seen: list[str] = []
        for c in named:
            if c and c not in seen:
                seen.append(c)
        return seen
