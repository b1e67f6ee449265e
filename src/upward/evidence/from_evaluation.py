"""An Upward evaluation result → a study and its effect for the evidence library.

The study's rating then comes from the evaluation's own checks: the attrition table gives the
overall and differential attrition (WWC boundary), the balance table the baseline standardised
differences (weighted ones for weighting designs), and the design checks (pre-trends, pre-period
fit, manipulation, overlap …) are kept as the study's checks, so a failed pre-trends test keeps
a difference-in-differences study from meeting the standards.

Examples
--------
>>> from upward.evaluate.result import Check, EvaluationResult
>>> r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 1200.0, 400.0,
...     416.0, 1984.0, 0.003, 800, n_treated=400, n_control=400,
...     checks=[Check("attrition", True, "ok"), Check("balance", True, "ok")],
...     tables={"attrition": [
...         {"group": "treatment", "n_assigned": 420, "n_observed": 400, "rate": 0.0476},
...         {"group": "control", "n_assigned": 415, "n_observed": 400, "rate": 0.0361}],
...         "balance": [{"covariate": "age", "std_diff": 0.03}]})
>>> s = study_from_evaluation(r, intervention_id="job-training", city="Tulsa, OK",
...                           evaluation_id="pilot-2025")
>>> s.design, round(s.attrition_overall, 3), round(s.attrition_differential, 4)
('rct', 0.042, 0.0115)
>>> from upward.evidence.rating import rate_study
>>> rate_study(s)["wwc"].label
'Meets WWC standards without reservations'
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from upward.core.errors import ConfigError
from upward.evaluate.categories import STUDY_DESIGNS
from upward.evaluate.result import EvaluationResult
from upward.evidence.schema import Arm, Effect, Intervention, Study, StudyCheck, slugify

# Each design's study design and the units it compares by default come from the design
# registry (``Design.evidence``). Counts of people are suppressed below 11 when published; a
# synthetic control compares places. Panel designs default to people (the safe choice): pass
# ``sample_unit="neighbourhoods"`` (or similar) when the units are places.


def _design_of(name: str):
    from upward.evaluate.designs import DESIGNS

    return DESIGNS.get(name)


def as_result(result: EvaluationResult | dict) -> EvaluationResult:
    """An EvaluationResult from itself or from its ``to_dict()``.

    >>> as_result({"design": "rct", "method": "m", "outcome": "y", "estimand": "ATE",
    ...            "estimate": 1.0, "se": 0.5, "ci_low": 0.0, "ci_high": 2.0, "p_value": 0.05,
    ...            "n": 50}).design
    'rct'
    """
    if isinstance(result, EvaluationResult):
        return result
    from upward.evaluate.run import result_from_dict

    return result_from_dict(result)


def evaluation_id_of(result: EvaluationResult, path: Path | None = None) -> str:
    """The id that links a study to its evaluation: the saved file's name, else a content hash.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10)
    >>> evaluation_id_of(r, Path("evaluations/pilot-20250101T000000Z.json"))
    'pilot-20250101T000000Z'
    """
    if path is not None:
        return Path(path).stem
    digest = hashlib.sha256(json.dumps(result.to_dict(), sort_keys=True).encode()).hexdigest()
    return f"evaluation-{digest[:12]}"


def _attrition(result: EvaluationResult) -> tuple[float | None, float | None, list[Arm]]:
    rows = [r for r in result.tables.get("attrition", []) if r.get("group") != "all"]
    if len(rows) < 2:
        return None, None, []
    assigned = sum(int(r["n_assigned"]) for r in rows)
    observed = sum(int(r["n_observed"]) for r in rows)
    rates = [1 - int(r["n_observed"]) / int(r["n_assigned"]) for r in rows if r["n_assigned"]]
    arms = [Arm(name=str(r["group"]), n=int(r["n_assigned"]), n_analysed=int(r["n_observed"]))
            for r in rows]
    overall = 1 - observed / assigned if assigned else None
    return overall, max(rates) - min(rates), arms


def _baseline(result: EvaluationResult) -> list[dict]:
    design = _design_of(result.design)
    weighted = design is not None and design.weighted_balance
    out = []
    for row in result.tables.get("balance", []):
        value = row.get("std_diff_weighted") if weighted else None
        value = row.get("std_diff") if value is None else value
        if value is not None and value == value:  # skip NaN
            out.append({"covariate": str(row["covariate"]), "std_diff": round(float(value), 4)})
    return out


def study_from_evaluation(result: EvaluationResult | dict, *, intervention_id: str,
                          evaluation_id: str | None = None, study_id: str | None = None,
                          title: str | None = None, city: str = "", state: str = "",
                          period: str = "", sites: int = 1, follow_up_months: float | None = None,
                          outcome_label: str = "", unit: str = "", direction: str = "higher",
                          evaluator: str = "", synthetic: bool = False,
                          sample_unit: str | None = None, path: Path | None = None,
                          dollar_year: int | None = None,
                          intervention_name: str | None = None, domain: str | None = None,
                          population: str = "") -> Study:
    """The study (with one effect) that an evaluation result makes.

    A money outcome needs the year of its dollars (``dollar_year``, or a year in ``unit``).
    The study is titled by its design and intervention (never by the spec file's name).

    >>> r = EvaluationResult("rct", "difference in means", "employed", "ATE", 0.06, 0.02, 0.02,
    ...                      0.10, 0.003, 800, n_treated=400, n_control=400)
    >>> s = study_from_evaluation(r, intervention_id="job-training", evaluation_id="pilot-2025",
    ...                           unit="share (0-1)")
    >>> s.title, s.sample_size, s.effects[0].estimate, s.effects[0].se
    ('Randomised controlled trial of job training', 800, 0.06, 0.02)
    """
    r = as_result(result)
    registered = _design_of(r.design)
    if registered is None:
        raise ConfigError(f"evaluation design {r.design!r} has no study design for the evidence "
                          "library", fix="register the design with its evidence category "
                          "(upward.evaluate.designs.register, Design.evidence)")
    if r.se is None and (r.ci_low is None or r.ci_high is None):
        raise ConfigError(f"the evaluation of {r.outcome!r} has no standard error or interval",
                          fix="re-run the evaluation with an inference method that gives one")
    design, unit_kind = registered.evidence.study_design, registered.evidence.units
    if design == "rct" and r.spec.get("cluster"):
        design = "cluster_rct"
    overall, differential, arms = _attrition(r)
    groups = (r.n_treated + r.n_control if r.n_treated is not None and r.n_control is not None
              else None)
    evaluation_id = evaluation_id or evaluation_id_of(r, path)
    try:
        effect = _effect(r, outcome_label=outcome_label, follow_up_months=follow_up_months,
                         unit=unit, direction=direction, evaluation_id=evaluation_id,
                         dollar_year=dollar_year, domain=domain, population=population)
    except ValidationError as exc:
        raise ConfigError(f"the evaluation of {r.outcome!r} cannot enter the library: "
                          + exc.errors()[0]["msg"].removeprefix("Value error, "),
                          fix="give the year of the dollars with --dollar-year (e.g. "
                              "--dollar-year 2024), a known --domain and --population") from None
    checks = [StudyCheck(name=c.name, passed=c.passed, detail=c.detail) for c in r.checks]
    what = STUDY_DESIGNS[design].label
    about = intervention_name or intervention_id.replace("-", " ")
    return Study(
        id=study_id or slugify(f"{intervention_id} {city or r.outcome} {evaluation_id}"),
        intervention_id=intervention_id,
        title=title or f"{what} of {about}{' in ' + city if city else ''}",
        city=city, state=state, period=period, design=design,
        design_detail=f"{r.method} (Upward design {r.design!r})",
        sample_size=sum(a.n or 0 for a in arms) or groups or r.n,
        sample_unit=sample_unit or unit_kind,
        arms=arms, attrition_overall=None if overall is None else round(overall, 6),
        attrition_differential=None if differential is None else round(differential, 6),
        baseline=_baseline(r), baseline_adjusted=bool(r.spec.get("covariates"))
        or registered.weighted_balance,
        checks=checks, sites=sites, evaluator=evaluator or "Upward evaluation",
        evaluation_id=evaluation_id, synthetic=synthetic, effects=[effect],
    )


def _effect(r: EvaluationResult, *, outcome_label: str, follow_up_months: float | None,
            unit: str, direction: str, evaluation_id: str, dollar_year: int | None,
            domain: str | None, population: str) -> Effect:
    return Effect(
        outcome=slugify(r.outcome).replace("-", "_")[:60], outcome_label=outcome_label or r.outcome,
        measure="md", estimate=r.estimate, se=r.se,
        ci_low=r.ci_low if r.se is None else None, ci_high=r.ci_high if r.se is None else None,
        ci_level=1 - r.alpha, p_value=r.p_value, follow_up_months=follow_up_months, n=r.n,
        n_treated=r.n_treated, n_control=r.n_control, unit=unit, direction=direction,
        estimand=r.estimand, source_location=f"Upward evaluation {evaluation_id} ({r.method})",
        notes="; ".join(r.warnings), dollar_year=dollar_year, domain=domain,
        population=population,
    )


def intervention_for_evaluation(result: EvaluationResult | dict, *, intervention_id: str,
                                name: str | None = None, policy_area: str = "workforce",
                                description: str = "",
                                cost_year: int | None = None) -> Intervention:
    """A new intervention record for an evaluation's program, with its cost when the
    evaluation has one.

    A cost needs the year of its dollars (``cost_year``); without one the cost is left out
    and the record says so.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, 0.5, None, None, None, 10,
    ...                      cost={"cost_per_participant": 2500.0})
    >>> intervention_for_evaluation(r, intervention_id="pilot", cost_year=2024).cost_year
    2024
    >>> intervention_for_evaluation(r, intervention_id="pilot").cost_note
    'cost per participant 2500 left out: the year of its dollars was not given (--dollar-year)'
    """
    r = as_result(result)
    cost = (r.cost or {}).get("cost_per_participant")
    note = ""
    if cost is not None and cost_year is None:
        note = (f"cost per participant {cost:g} left out: the year of its dollars was not given "
                "(--dollar-year)")
        cost = None
    return Intervention(id=intervention_id, name=name or r.spec.get("name") or intervention_id,
                        description=description or r.spec.get("description") or "",
                        policy_area=policy_area, cost_per_participant=cost,
                        cost_year=cost_year if cost is not None else None, cost_note=note)


def add_evaluation(workspace, ref: str | Path, *, intervention_id: str,
                   intervention_name: str | None = None, policy_area: str = "workforce",
                   by: str | None = None, replace: bool = False, **study_options):
    """Add a saved evaluation (a JSON path, or a saved name in the workspace) to the library,
    creating the intervention when the library does not have it yet.

    >>> import json, tempfile
    >>> from upward.warehouse.workspace import Workspace
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> r = EvaluationResult("rct", "difference in means", "employed", "ATE", 0.06, 0.02, 0.02,
    ...                      0.10, 0.003, 800, n_treated=400, n_control=400)
    >>> path = ws.root / "pilot.json"
    >>> _ = path.write_text(json.dumps(r.to_dict()))
    >>> print(add_evaluation(ws, path, intervention_id="job-training",
    ...                      intervention_name="Job training", unit="share (0-1)"))
    added 1 intervention(s), 1 study(ies)
    """
    from upward.evaluate.run import load_evaluation
    from upward.evidence.library import EvidenceLibrary, EvidenceNotFoundError

    path = Path(ref)
    result = load_evaluation(ref, workspace)
    if not path.is_file():
        path = next((s.path for s in reversed(_saved(workspace)) if s.name.startswith(str(ref))),
                    None)
    library = EvidenceLibrary(workspace)
    known = {i.id: i.name for i in library.interventions()}
    study = study_from_evaluation(result, intervention_id=intervention_id, path=path,
                                  intervention_name=known.get(intervention_id, intervention_name),
                                  **study_options)
    existing = next((s for s in library.studies(intervention_id) if s.id == study.id), None)
    if existing is not None:  # another outcome of the same study: add its effect
        study = merge_studies(existing, study)
        replace = True
    interventions = []
    try:
        library.intervention(intervention_id)
    except EvidenceNotFoundError:
        interventions.append(intervention_for_evaluation(
            result, intervention_id=intervention_id, name=intervention_name,
            policy_area=policy_area, cost_year=study_options.get("dollar_year")))
    from upward.evidence.schema import LibraryDocument

    return library.add(LibraryDocument(interventions=interventions, studies=[study]), by=by,
                       action="from_evaluation", source_file=path, replace=replace)


def merge_studies(first: Study, other: Study) -> Study:
    """One study with the effects (and checks) of two evaluations of the same trial, e.g. its
    earnings and its employment outcomes; an effect on the same outcome and subgroup is
    replaced by ``other``'s.

    >>> a = Study(intervention_id="x", title="Trial", design="rct", evaluation_id="e1",
    ...           effects=[{"outcome": "earnings", "measure": "md", "estimate": 1, "se": 1}])
    >>> b = a.model_copy(update={"evaluation_id": "e2", "effects": [a.effects[0].model_copy(
    ...     update={"outcome": "employed"})]})
    >>> [e.outcome for e in merge_studies(a, b).effects], merge_studies(a, b).evaluation_id
    (['earnings', 'employed'], 'e1; e2')
    """
    keys = {(e.outcome, e.subgroup) for e in other.effects}
    effects = [e for e in first.effects if (e.outcome, e.subgroup) not in keys] + other.effects
    names = {c.name for c in other.checks}
    checks = [c for c in first.checks if c.name not in names] + other.checks
    ids = [i for i in (first.evaluation_id or "").split("; ") if i]
    if other.evaluation_id and other.evaluation_id not in ids:
        ids.append(other.evaluation_id)
    return first.model_copy(update={"effects": effects, "checks": checks,
                                    "evaluation_id": "; ".join(ids) or None})


def _saved(workspace):
    from upward.evaluate.run import list_evaluations

    return list_evaluations(workspace)
