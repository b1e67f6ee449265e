"""A pilot plan from the evidence: how many people (or clusters) a local pilot needs to detect
an intervention's pooled effect with 80% power, and an evaluation spec skeleton to run when its
data come in (``upward plan --from-evidence INTERVENTION --place PLACE``).

The sample size is the smallest n at which the minimum detectable effect of
``upward.evaluate.power`` (Bloom 1995 for individual randomisation; Bloom 2005 / PowerUp!
CRA2-2 for cluster randomisation, t-based) is at most the target effect: the pooled effect, or
the end of its prediction interval nearest zero (the smallest effect a new city can expect).
The outcome's standard deviation is needed: given, or for a share (0–1) outcome the largest a
share can have, 0.5 (a conservative n), and the plan says which.

Examples
--------
>>> n = individual_n(0.1, 0.5)
>>> n, rct_plan(n, sd=0.5).mde <= 0.1 < rct_plan(n - 2, sd=0.5).mde
(788, True)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from upward.core.atomic import atomic_write
from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.core.text import N_
from upward.evaluate.power import cluster_plan, rct_plan
from upward.evidence.meta import PooledEffect

TARGETS = ("pooled", "pi-low")
MAX_N = 10_000_000


def _smallest(ok, low: int, high: int) -> int:
    """The smallest integer in [low, high] for which ``ok`` holds (ok is monotone)."""
    if not ok(high):
        raise ConfigError(f"no pilot of up to {high:,} units reaches the target power",
                          fix="the target effect is too small to detect; choose a larger "
                              "effect or an outcome with less noise")
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    return low


def individual_n(effect: float, sd: float, *, share_treated: float = 0.5, r2: float = 0.0,
                 alpha: float = 0.05, power: float = 0.8) -> int:
    """People to randomise (both arms, even) so the MDE is at most ``effect``.

    Cohen (1988), Table 2.4.1: 64 per group detect d = 0.5 at 80% power, 5% two-sided.

    >>> individual_n(0.5, 1.0)
    128
    """
    effect = abs(effect)

    def ok(half: int) -> bool:
        return rct_plan(2 * half, sd=sd, share_treated=share_treated, r2=r2, alpha=alpha,
                        power=power).mde <= effect

    return 2 * _smallest(ok, 2, MAX_N // 2)


def clusters_n(effect: float, sd: float, cluster_size: float, icc: float, *,
               share_treated: float = 0.5, r2: float = 0.0, alpha: float = 0.05,
               power: float = 0.8) -> int:
    """Clusters of ``cluster_size`` people to randomise so the MDE is at most ``effect``.

    >>> clusters_n(cluster_plan(40, 20, 0.1).mde, 1.0, 20, 0.1)
    40
    """
    effect = abs(effect)
    return _smallest(lambda j: cluster_plan(j, cluster_size, icc, sd=sd,
                                            share_treated=share_treated, r2_individual=r2,
                                            alpha=alpha, power=power).mde <= effect + 1e-12,
                     3, MAX_N)


def is_share_unit(unit: str) -> bool:
    """Whether a unit is a share between 0 and 1 (an employment or enrolment rate).

    >>> is_share_unit("share (0-1)"), is_share_unit("2015 dollars")
    (True, False)
    """
    return bool(re.match(r"share\b|proportion|probability", unit.strip(), re.IGNORECASE))


def target_effect(pooled: PooledEffect, target: str) -> tuple[float, str]:
    """The effect to power the pilot for, and how it was chosen.

    >>> from upward.evidence.meta import pool
    >>> target_effect(pool([0.1], [0.02]), "pooled")[0]
    0.1
    >>> target_effect(pool([0.1], [0.02]), "pi-low")
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: the pooled effect rests on 1 study: it has no prediction interval. What to do: ...
    """
    if target not in TARGETS:
        raise ConfigError(f"--target {target!r} is not a target", fix="use pooled or pi-low")
    if target == "pooled":
        return pooled.estimate, "the pooled effect"
    if pooled.pi_low is None or pooled.pi_high is None:
        raise ConfigError(f"the pooled effect rests on {pooled.k} stud"
                          f"{'y' if pooled.k == 1 else 'ies'}: it has no prediction interval",
                          fix="power the pilot for the pooled effect (--target pooled)")
    near = pooled.pi_low if pooled.estimate > 0 else pooled.pi_high
    if near * pooled.estimate <= 0:
        raise ConfigError("the prediction interval includes zero: a new city may see no "
                          "effect, and no pilot can be powered to detect that",
                          fix="power the pilot for the pooled effect (--target pooled)")
    return near, "the end of the prediction interval nearest zero"


@dataclass
class PilotPlan(JsonReport):
    """How big a pilot must be to detect the target effect, and the plan behind it.

    >>> p = PilotPlan(intervention_id="x", intervention_name="X", outcome="employed",
    ...               outcome_label="Employed", unit="share (0-1)", place="Tulsa, OK",
    ...               target="the pooled effect", target_effect=0.05, sd=0.5, sd_basis="given",
    ...               design="rct", people=3142, clusters=None, cluster_size=None, icc=None,
    ...               power=0.8, alpha=0.05, mde=0.05, pooled_headline="Pooled effect 0.05")
    >>> p.lines()[:2]  # doctest: +NORMALIZE_WHITESPACE
    ['Pilot of X in Tulsa, OK: randomise 3,142 people (1,571 per arm) to detect the pooled
      effect (0.05 share (0-1) on Employed) with 80% power at 5% (two-sided).',
     'Outcome standard deviation: 0.5 (given).']
    """

    intervention_id: str
    intervention_name: str
    outcome: str
    outcome_label: str
    unit: str
    place: str
    target: str
    target_effect: float
    sd: float
    sd_basis: str
    design: str
    people: int
    clusters: int | None
    cluster_size: float | None
    icc: float | None
    power: float
    alpha: float
    mde: float
    pooled_headline: str
    eligible: float | None = None
    eligible_basis: str = ""
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The plan in plain sentences."""
        size = (f"{self.clusters:,} clusters of {self.cluster_size:g} people ({self.people:,} "
                f"people; ICC {self.icc:g})" if self.clusters else f"{self.people:,} people "
                f"({self.people // 2:,} per arm)")
        out = [f"Pilot of {self.intervention_name} in {self.place}: randomise {size} to detect "
               f"{self.target} ({self.target_effect:,.4g} {self.unit or 'outcome units'} on "
               f"{self.outcome_label}) with {self.power:.0%} power at {self.alpha:.0%} "
               "(two-sided).",
               f"Outcome standard deviation: {self.sd:,.4g} ({self.sd_basis}).",
               f"Evidence: {self.pooled_headline}"]
        if self.eligible is not None:
            out.append(f"Eligible people in {self.place}: about {self.eligible:,.0f} "
                       f"({self.eligible_basis}).")
            if self.people > self.eligible:
                out.append("The pilot needs more people than are eligible here: pool the pilot "
                           "with another city, or accept a larger detectable effect.")
        return out + [f"Note: {n}" for n in self.notes]


def plan_pilot(pooled: PooledEffect, *, intervention_id: str, intervention_name: str,
               outcome: str, outcome_label: str, unit: str, place: str,
               target: str = "pooled", sd: float | None = None, design: str = "rct",
               cluster_size: float = 20, icc: float = 0.05, r2: float = 0.0,
               share_treated: float = 0.5, alpha: float = 0.05, power: float = 0.8,
               eligible: float | None = None, eligible_basis: str = "") -> PilotPlan:
    """The pilot plan for one pooled effect (see the module docstring).

    >>> from upward.evidence.meta import pool
    >>> p = plan_pilot(pool([0.05], [0.01]), intervention_id="x", intervention_name="X",
    ...                outcome="employed", outcome_label="Employed", unit="share (0-1)",
    ...                place="Tulsa, OK")
    >>> p.people, p.sd_basis.startswith("the largest")
    (3142, True)
    """
    effect, basis = target_effect(pooled, target)
    notes: list[str] = []
    if sd is None:
        if not is_share_unit(unit):
            raise ConfigError(N_("the pilot size needs the standard deviation of {outcome!r} "
                                 "({unit})", outcome=outcome_label,
                                 unit=unit or N_("units not stated")),
                              fix="give it with --sd (for earnings, the control group's SD in "
                                  "the same dollars)")
        sd, sd_basis = 0.5, N_("the largest a share can have (0.5): a conservative size")
    else:
        if sd <= 0:
            raise ConfigError(f"--sd {sd:g} must be above 0", fix="give the outcome's SD")
        sd_basis = N_("given")
    if design == "rct":
        people, clusters = individual_n(effect, sd, share_treated=share_treated, r2=r2,
                                        alpha=alpha, power=power), None
        plan = rct_plan(people, sd=sd, share_treated=share_treated, r2=r2, alpha=alpha,
                        power=power)
    elif design == "cluster":
        clusters = clusters_n(effect, sd, cluster_size, icc, share_treated=share_treated, r2=r2,
                              alpha=alpha, power=power)
        people = math.ceil(clusters * cluster_size)
        plan = cluster_plan(clusters, cluster_size, icc, sd=sd, share_treated=share_treated,
                            r2_individual=r2, alpha=alpha, power=power)
    else:
        raise ConfigError(f"--design {design!r} is not a pilot design",
                          fix="use rct (people randomised) or cluster (groups randomised)")
    if pooled.k == 1:
        notes.append("the effect rests on one study; a pilot powered for it may be too small if "
                     "the effect here is smaller")
    return PilotPlan(
        intervention_id=intervention_id, intervention_name=intervention_name, outcome=outcome,
        outcome_label=outcome_label, unit=unit, place=place, target=basis,
        target_effect=effect, sd=sd, sd_basis=sd_basis, design=design, people=people,
        clusters=clusters, cluster_size=cluster_size if clusters else None,
        icc=icc if clusters else None, power=power, alpha=alpha, mde=plan.mde,
        pooled_headline=pooled.headline(), eligible=eligible, eligible_basis=eligible_basis,
        notes=notes)


def spec_skeleton(plan: PilotPlan) -> str:
    """An evaluation spec (YAML, ``upward evaluate``) for the pilot, with the columns to fill in
    marked TODO; it parses as an ``EvaluationSpec`` as written.

    >>> from upward.evidence.meta import pool
    >>> p = plan_pilot(pool([0.05], [0.01]), intervention_id="x", intervention_name="X",
    ...                outcome="employed", outcome_label="Employed", unit="share (0-1)",
    ...                place="Tulsa, OK")
    >>> "design: rct" in spec_skeleton(p)
    True
    """
    name = re.sub(r"[^a-z0-9]+", "-", f"{plan.intervention_id} {plan.place} pilot".lower()
                  ).strip("-")
    size = (f"{plan.clusters} clusters of {plan.cluster_size:g} people" if plan.clusters
            else f"{plan.people} people")
    lines = [
        f"# Evaluation spec skeleton written by Upward on "
        f"{datetime.now(UTC).date().isoformat()}: a pilot of {plan.intervention_name} in "
        f"{plan.place}.",
        f"# Powered ({plan.power:.0%}, alpha {plan.alpha:g}) to detect {plan.target}: "
        f"{plan.target_effect:.4g} {plan.unit or 'outcome units'} on {plan.outcome_label}, "
        f"with {size} randomised (outcome SD {plan.sd:.4g}, {plan.sd_basis}).",
        "# When the pilot's records come in, fill in the lines marked TODO and run:",
        f"#   upward evaluate {name}.yaml",
        f"name: {name}",
        "description: >-",
        f"  Pilot of {plan.intervention_name} in {plan.place} ({plan.design}), outcome "
        f"{plan.outcome} ({plan.outcome_label[:80]}).",
        "data: pilot.csv          # TODO: the pilot's records, one row per person",
        "design: rct",
        f"outcome: {plan.outcome}          # TODO: the outcome column",
        "treatment: treated       # TODO: the 0/1 column of assignment",
        "covariates: []           # baseline covariates, if any (they add power)",
    ]
    if plan.clusters:
        lines.append("cluster: cluster_id       # TODO: the randomised group of each person")
    lines += [f"alpha: {plan.alpha:g}", ""]
    return "\n".join(lines)


def write_spec(plan: PilotPlan, path: Path) -> Path:
    """Write the spec skeleton atomically (refusing to overwrite an existing file).

    >>> import tempfile, pathlib
    >>> p = PilotPlan(intervention_id="x", intervention_name="X", outcome="employed",
    ...               outcome_label="Employed", unit="share (0-1)", place="Tulsa, OK",
    ...               target="the pooled effect", target_effect=0.05, sd=0.5, sd_basis="given",
    ...               design="rct", people=3142, clusters=None, cluster_size=None, icc=None,
    ...               power=0.8, alpha=0.05, mde=0.05, pooled_headline="Pooled effect 0.05")
    >>> path = write_spec(p, pathlib.Path(tempfile.mkdtemp()) / "pilot.yaml")
    >>> path.read_text().splitlines()[4]
    'name: x-tulsa-ok-pilot'
    >>> write_spec(p, path)
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: ...already exists...
    """
    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path} already exists", fix="give another --spec path, or move it")
    atomic_write(path, spec_skeleton(plan))
    return path


def choose_outcome(library, intervention_id: str, outcome: str | None = None) -> tuple[str, str]:
    """The outcome to plan for: the one given, else the one with the most poolable studies
    (then verified units, then id); returns (outcome, how it was chosen).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = add_papers(ws)
    >>> from upward.evidence.library import EvidenceLibrary
    >>> choose_outcome(EvidenceLibrary(ws), "national-supported-work")[0]
    'earnings_annual'
    """
    if outcome:
        return outcome, "given"
    counts: dict[str, list] = {}
    for study in library.studies(intervention_id):
        for e in study.effects:
            if e.subgroup == "all" and e.poolable():
                counts.setdefault(e.outcome, []).append(e)
    if not counts:
        library.intervention(intervention_id)  # unknown id: the error lists the known ones
        raise ConfigError(f"no effect of {intervention_id!r} can be pooled",
                          fix=f"see why: upward evidence show {intervention_id}")
    best = sorted(counts, key=lambda o: (-len(counts[o]),
                                         not all(e.unit_verified for e in counts[o]), o))[0]
    return best, (f"the outcome with the most studies ({len(counts[best])}); choose another "
                  "with --outcome")


def plan_from_evidence(workspace, intervention_id: str, place: str, *,
                       outcome: str | None = None, target: str = "pooled",
                       sd: float | None = None, design: str = "rct", cluster_size: float = 20,
                       icc: float = 0.05, r2: float = 0.0, share_treated: float = 0.5,
                       alpha: float = 0.05, power: float = 0.8,
                       spec: Path | None = None) -> tuple[PilotPlan, Path]:
    """Plan a pilot of an intervention in a place from the library's pooled effect, and write
    the evaluation spec skeleton (default ``pilots/<name>.yaml`` in the workspace)."""
    from upward.evidence.library import EvidenceLibrary
    from upward.evidence.projection import pool_evidence
    from upward.evidence.recommend import Measured, eligible_count
    from upward.measure.profile import profile

    library = EvidenceLibrary(workspace).snapshot()
    intervention = library.intervention(intervention_id)
    outcome, how = choose_outcome(library, intervention_id, outcome)
    pooled = pool_evidence(library, intervention_id, outcome)
    prof = profile(place, workspace=workspace)
    measured = {m.metric_id: Measured(m.estimate, m.lb, m.ub, m.period, m.label)
                for m in prof.metrics}
    population = next((e.population for s in library.studies(intervention_id)
                       for e in s.effects if e.outcome == outcome and e.population), "")
    counted = eligible_count(population, prof.population, measured) if population else None
    plan = plan_pilot(pooled.pooled, intervention_id=intervention_id,
                      intervention_name=intervention.name, outcome=outcome,
                      outcome_label=pooled.outcome_label, unit=pooled.unit, place=prof.geo.name,
                      target=target, sd=sd, design=design, cluster_size=cluster_size, icc=icc,
                      r2=r2, share_treated=share_treated, alpha=alpha, power=power,
                      eligible=counted[0] if counted else None,
                      eligible_basis=counted[3] if counted else "")
    if how != "given":
        plan.notes.append(f"outcome: {outcome}, {how}")
    plan.notes.extend(pooled.notes)
    if spec is None:
        name = re.sub(r"[^a-z0-9]+", "-", f"{intervention_id} {prof.geo.name} pilot".lower()
                      ).strip("-")
        spec = workspace.root / "pilots" / f"{name}.yaml"
    return plan, write_spec(plan, spec)
