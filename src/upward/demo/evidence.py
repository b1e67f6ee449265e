"""The demo city's pilot evaluations in the evidence library: which intervention and study each
synthetic pilot (``upward.demo.pilot``) becomes, and :func:`add_demo_evaluations`, which adds
the latest saved run of each, labelled synthetic.

Examples
--------
>>> sorted({s.intervention_id for s in DEMO_STUDIES.values()})[:2]
['demo-job-training', 'demo-neighbourhood-employment']
"""

from __future__ import annotations

from dataclasses import dataclass

from upward.evidence.from_evaluation import merge_studies, study_from_evaluation
from upward.evidence.schema import Intervention, Study


@dataclass(frozen=True)
class DemoStudy:
    """How one of the demo city's synthetic pilots enters the library.

    >>> s = DEMO_STUDIES["job-training-earnings"]
    >>> s.intervention_id, s.unit, s.follow_up_months, s.domain
    ('demo-job-training', 'dollars per quarter', 12, 'earnings')
    """

    intervention_id: str
    intervention_name: str
    description: str
    outcome_label: str
    unit: str
    follow_up_months: float | None
    study_title: str
    sample_unit: str = "people"
    domain: str | None = None


#: The demo pilots (upward.demo.pilot), by spec name.
DEMO_STUDIES: dict[str, DemoStudy] = {
    "job-training-earnings": DemoStudy(
        "demo-job-training", "Demo City job-training program (SYNTHETIC)",
        "Invented by Upward's demo: a job-training program offered by lottery.",
        "Quarterly earnings, four quarters after assignment", "dollars per quarter", 12,
        "Job-training lottery pilot", domain="earnings"),
    "job-training-employment": DemoStudy(
        "demo-job-training", "Demo City job-training program (SYNTHETIC)",
        "Invented by Upward's demo: a job-training program offered by lottery.",
        "Employed four quarters after assignment", "share employed", 12,
        "Job-training lottery pilot", domain="employment"),
    "neighbourhood-rollout": DemoStudy(
        "demo-neighbourhood-employment", "Demo City neighbourhood employment program (SYNTHETIC)",
        "Invented by Upward's demo: a place-based employment program rolled out in waves.",
        "Employment rate", "percentage points", None, "Neighbourhood rollout",
        "neighbourhoods", domain="employment"),
    # One study per intervention: the savings-coaching pilot enters with its doubly robust
    # estimate (matching and IPW on the same records would count the same people three times).
    # The synthetic-control pilot stays out: an effect enters the library with a standard
    # error or interval, and placebo inference gives neither.
    "rental-assistance-rd": DemoStudy(
        "demo-rental-assistance", "Demo City rental assistance (SYNTHETIC)",
        "Invented by Upward's demo: rental assistance for households above a need-score cutoff.",
        "Rent arrears six months later", "dollars of arrears", 6, "Rental assistance by need score",
        domain="housing"),
    "savings-coaching-aipw": DemoStudy(
        "demo-savings-coaching", "Demo City savings coaching (SYNTHETIC)",
        "Invented by Upward's demo: voluntary financial coaching.",
        "Savings twelve months later", "dollars of savings", 12, "Voluntary savings coaching",
        domain="wealth"),
}
DEMO_CITY = "Demo City (synthetic)"
#: The year of the demo pilots' dollars (they ran in 2024).
DEMO_DOLLAR_YEAR = 2024


def add_demo_evaluations(workspace, *, by: str | None = None):
    """Add the demo city's saved pilot evaluations (``upward demo``) to the library, labelled
    synthetic; the latest run of each pilot is used. Returns the AddResult (None when the
    workspace has no demo evaluations).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> add_demo_evaluations(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")) is None
    True
    """
    from upward.evaluate.run import list_evaluations, load_evaluation
    from upward.evidence.library import AddResult, EvidenceLibrary
    from upward.evidence.schema import LibraryDocument

    latest = {}
    for saved in list_evaluations(workspace):
        for name in DEMO_STUDIES:
            if saved.name.startswith(f"{name}-"):
                latest[name] = saved
    if not latest:
        return None
    library = EvidenceLibrary(workspace)
    known = {i.id for i in library.interventions()}
    interventions: dict[str, Intervention] = {}
    studies: dict[str, Study] = {}
    for name, saved in sorted(latest.items()):
        demo = DEMO_STUDIES[name]
        result = load_evaluation(saved.path, workspace)
        study = study_from_evaluation(
            result, intervention_id=demo.intervention_id, study_id=f"{demo.intervention_id}-pilot",
            title=demo.study_title, city=DEMO_CITY, period="2024",
            follow_up_months=demo.follow_up_months, outcome_label=demo.outcome_label,
            unit=demo.unit, evaluator="Upward demo", synthetic=True,
            sample_unit=demo.sample_unit, path=saved.path, dollar_year=DEMO_DOLLAR_YEAR,
            intervention_name=demo.intervention_name, domain=demo.domain)
        earlier = studies.get(study.id)
        studies[study.id] = merge_studies(earlier, study) if earlier else study
        cost = (result.cost or {}).get("cost_per_participant")
        current = interventions.get(demo.intervention_id)
        if demo.intervention_id not in known and (current is None or (
                current.cost_per_participant is None and cost is not None)):
            interventions[demo.intervention_id] = Intervention(
                id=demo.intervention_id, name=demo.intervention_name,
                description=demo.description, policy_area="workforce",
                cost_per_participant=cost, cost_year=DEMO_DOLLAR_YEAR if cost is not None else None,
                logic_model="Synthetic: the demo generator builds the effect in.")
    result = library.add(LibraryDocument(interventions=list(interventions.values()),
                                         studies=list(studies.values())), by=by or "upward demo",
                         action="from_evaluation", replace=True)
    return result if isinstance(result, AddResult) else None
