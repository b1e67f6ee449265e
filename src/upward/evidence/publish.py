"""The published view of the evidence: what public pages, exports, bundles and the API may show.

Disclosure control, applied to every record before it leaves the workspace:

- **No cell from fewer than 11 people** (the CMS cell-size rule, ``upward.privacy``). Arm sizes
  go through ``upward.privacy.suppression.suppress_table`` with the study's total as margin, so
  a small arm is hidden together with enough other cells that it cannot be worked out. An
  effect whose analysis, treated group or control group has 1–10 people is withheld whole
  (estimate, interval, control mean), and so is a study's attrition when 1–10 people left an
  arm — the WWC verdict on it (low or high) is kept so ratings survive. Counts of other
  units (a study whose ``sample_unit`` is not "people": places, neighbourhoods, schools) are
  not counts of people and are shown.
- **No raw ids**: records carry no person-level data; hashed identifiers (long hex strings)
  are removed from check details, and the names of the staff who entered records are dropped
  from provenance (the workspace, the time and the bundle stay).

What was withheld is listed in ``disclosure_notes`` so readers know a number exists.

Examples
--------
>>> from upward.evidence.schema import Study
>>> s = Study(intervention_id="x", title="Small pilot", design="rct", evaluation_id="e1",
...     sample_size=60, arms=[{"name": "treatment", "n": 8}, {"name": "control", "n": 52}],
...     effects=[{"outcome": "y", "measure": "md", "estimate": 3.0, "se": 1.0, "n": 60,
...               "n_treated": 8, "n_control": 52}])
>>> view = published_study(s)
>>> view.study is None, view.withheld[-1]
(True, 'effect on y withheld: the treated group has fewer than 11 people')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.errors import UpwardError
from upward.evidence import money
from upward.evidence.library import EvidenceLibrary
from upward.evidence.schema import (
    MEASURE_LABELS,
    POLICY_AREAS,
    POPULATIONS,
    LibraryDocument,
    ProvenanceEntry,
    Study,
)
from upward.metrics.catalog import OUTCOME_DOMAINS
from upward.privacy.suppression import suppress_table

HASHED_ID = re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE)
SMALL_COUNT = re.compile(r"\b([1-9]|10)(\s+(?:of\s+\S+\s+)?(?:people|persons|participants|units|"
                         r"observations|cases|individuals|residents|treated|controls?|"
                         r"applicants|students|households))\b", re.IGNORECASE)


def is_small(count: int | None) -> bool:
    """A count of 1 to 10 people: never published (zeros identify no one and are shown).

    >>> [is_small(c) for c in (None, 0, 3, 10, 11)]
    [False, False, True, True, False]
    """
    return count is not None and 0 < count < MIN_CELL_SIZE


def scrub_text(text: str) -> str:
    """Remove hashed ids and small counts of people from free text (check details).

    >>> scrub_text("unit 3fa85f6457174562b3fc2c963f66afa6 dropped; 4 treated units lack controls")
    'unit [id removed] dropped; fewer than 11 treated units lack controls'
    """
    text = HASHED_ID.sub("[id removed]", text)
    return SMALL_COUNT.sub(lambda m: "fewer than 11" + m.group(2), text)


@dataclass
class PublishedStudy:
    """A study after disclosure control; ``study`` is None when nothing of it can be shown.

    >>> s = Study(intervention_id="x", title="Pilot", design="rct", evaluation_id="e1",
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 3.0, "se": 1.0, "n": 400}])
    >>> v = published_study(s)
    >>> v.study.effects[0].estimate, v.withheld
    (3.0, [])
    """

    study: Study | None
    withheld: list[str] = field(default_factory=list)


def _arm_sizes(study: Study) -> tuple[dict[str, int | None], int | None, list[str]]:
    """Arm sizes and the total after cell suppression with complementary cells."""
    named = [(a.name, a.n) for a in study.arms if a.n is not None]
    if not named:
        total = None if is_small(study.sample_size) else study.sample_size
        notes = ["sample size withheld (fewer than 11 people)"] if total != study.sample_size else []
        return {}, total, notes
    table = pd.DataFrame({"people": [n for _, n in named]}, index=[name for name, _ in named])
    suppressed = suppress_table(table, k=MIN_CELL_SIZE, with_margins=True)
    shown = suppressed.published
    sizes = {name: (None if pd.isna(shown.loc[name, "people"]) else int(shown.loc[name, "people"]))
             for name, _ in named}
    grand = shown.iloc[-1, -1]
    total = None if pd.isna(grand) else int(grand)
    if study.sample_size is not None and study.sample_size != sum(n for _, n in named):
        total = None if is_small(study.sample_size) or None in sizes.values() else study.sample_size
    notes = [f"size of arm {name!r} withheld ({suppressed.reasons.loc[name, 'people'].split(':')[0]}"
             " suppression)" for name, n in named if sizes[name] is None]
    if total is None and study.sample_size is not None:
        notes.append("total sample size withheld (it would reveal a small arm)")
    return sizes, total, notes


def published_study(study: Study) -> PublishedStudy:
    """The study as it may be shown publicly (see the module docstring for the rules).

    >>> s = Study(intervention_id="x", title="Pilot", design="rct", evaluation_id="e1",
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 3.0, "se": 1.0, "n": 400},
    ...                    {"outcome": "z", "measure": "md", "estimate": 1.0, "se": 1.0, "n": 7}])
    >>> v = published_study(s)
    >>> [e.outcome for e in v.study.effects], v.withheld
    (['y'], ['effect on z withheld: the analysis has fewer than 11 people'])
    """
    people = study.sample_unit == "people"
    withheld: list[str] = []
    data = study.model_dump(mode="json")
    hide_counts = False
    if people:
        sizes, total, notes = _arm_sizes(study)
        withheld += notes
        data["sample_size"] = total
        hide_attrition = None in sizes.values()
        for arm, original in zip(data["arms"], study.arms, strict=True):
            if original.name in sizes:
                arm["n"] = sizes[original.name]
            if original.n_analysed is None:
                continue
            lost = (original.n or 0) - original.n_analysed
            if arm["n"] is None or is_small(original.n_analysed) or is_small(lost):
                arm["n_analysed"] = None
                hide_attrition = True
        hide_counts = hide_attrition
        if hide_attrition and study.attrition_overall is not None:
            from upward.evidence.rating import wwc_low_attrition

            data["attrition_wwc_low"] = wwc_low_attrition(study.attrition_overall,
                                                          study.attrition_differential)
            data["attrition_overall"] = data["attrition_differential"] = None
            withheld.append("attrition rates withheld (they would reveal fewer than 11 people "
                            "leaving an arm); the WWC verdict on them is kept")
    effects = []
    for effect in data["effects"]:
        small = next((label for key, label in (("n", "analysis"), ("n_treated", "treated group"),
                                               ("n_control", "control group"))
                      if people and is_small(effect.get(key))), None)
        if small:
            withheld.append(f"effect on {effect['outcome']} withheld: the {small} has fewer than "
                            f"{MIN_CELL_SIZE} people")
            continue
        effects.append(effect)
    if hide_counts and effects:
        # Analysis sizes would reveal a hidden arm, or how many people left an arm.
        for effect in effects:
            effect["n"] = effect["n_treated"] = effect["n_control"] = None
        withheld.append("analysis sample sizes withheld (they would reveal a withheld count)")
    for check in data["checks"]:
        check["detail"] = scrub_text(check["detail"])
    data["provenance"] = [_public_provenance(p) for p in study.provenance]
    data["disclosure_notes"] = sorted(set(data.get("disclosure_notes", [])) | set(withheld))
    if not effects:
        return PublishedStudy(None, withheld)
    data["effects"] = effects
    return PublishedStudy(Study.model_validate(data), withheld)


def _public_provenance(entry: ProvenanceEntry) -> dict:
    return entry.model_dump(mode="json", exclude={"by"}) | {"by": "withheld"}


def published_document(doc: LibraryDocument) -> tuple[LibraryDocument, list[str]]:
    """A whole library after disclosure control, and what was withheld (study by study).

    >>> from upward.evidence.papers import papers_document as papers
    >>> view, notes = published_document(papers())
    >>> len(view.studies), notes
    (3, [])
    """
    studies, notes = [], []
    for s in doc.studies:
        view = published_study(s)
        notes += [f"{s.id}: {w}" for w in view.withheld]
        if view.study is not None:
            studies.append(view.study)
        else:
            notes.append(f"{s.id}: study withheld (no effect can be shown)")
    keep = {s.intervention_id for s in studies}
    interventions = [i.model_copy(update={"provenance": [ProvenanceEntry.model_validate(
        _public_provenance(p)) for p in i.provenance]}) for i in doc.interventions
        if i.id in keep or not any(s.intervention_id == i.id for s in doc.studies)]
    return LibraryDocument(interventions=interventions, studies=studies), notes


# Views for pages, the API and the command line ----------------------------------------------
def rating_dict(rating) -> dict:
    """A rating as JSON, with its one-line summary and explanation.

    >>> from upward.evidence.rating import Rating
    >>> rating_dict(Rating("essa", 3, "Tier 3", ["randomised"]))["summary"]
    'Tier 3: randomised'
    """
    return rating.to_dict() | {"summary": rating.summary(), "explanation": rating.explanation()}


def effect_dict(effect) -> dict:
    """An effect as JSON with its interval and p-value filled in when only one was given.

    >>> from upward.evidence.schema import Effect
    >>> round(effect_dict(Effect(outcome="y", measure="md", estimate=2.0, se=1.0))["ci_low"], 2)
    0.04
    """
    data = effect.model_dump(mode="json") | {"measure_label": MEASURE_LABELS[effect.measure],
                                             "favourable": effect.favourable()}
    if effect.se is None and effect.ci_low is None:  # shown, never pooled: no interval to give
        return data | {"ci_low": None, "ci_high": None, "se": None, "p": effect.p_value}
    low, high = effect.ci()
    return data | {"ci_low": low, "ci_high": high, "se": effect.standard_error(), "p": effect.p()}


def _views(library, published: bool) -> tuple[LibraryDocument, list[str]]:
    doc = library.document()
    return published_document(doc) if published else (doc, [])


def study_view(study: Study, intervention=None) -> dict:
    """A study as pages show it: its fields, effects with intervals, and its ratings.

    >>> s = Study(intervention_id="x", title="Pilot", design="rct", evaluation_id="e1",
    ...           effects=[{"outcome": "y", "measure": "md", "estimate": 3.0, "se": 1.0, "n": 400}])
    >>> v = study_view(s)
    >>> v["title"], v["design"], v["design_code"], "ratings" in v
    ('Pilot', 'Randomised controlled trial', 'rct', True)
    """
    from upward.evidence.rating import rate_study

    data = study.model_dump(mode="json")
    data["design"] = study.design_label()
    data["design_code"] = study.design
    data["effects"] = [effect_dict(e) for e in study.effects]
    data["ratings"] = {k: rating_dict(v) for k, v in
                       rate_study(study, intervention=intervention).items()}
    return data


def intervention_rows(library, *, policy_area: str | None = None, outcome: str | None = None,
                      max_tier: int | None = None, published: bool = True,
                      domain: str | None = None, population: str | None = None,
                      design: str | None = None, city: str | None = None,
                      max_cost: float | None = None, dollars_of: int | None = None,
                      query: str | None = None) -> list[dict]:
    """One row per intervention for the list page, the API and ``upward evidence list``: its
    studies, outcome domains, populations, designs, cost (in constant ``dollars_of`` dollars,
    default the latest CPI year) and intervention-level ratings, with filters: ``max_tier``
    keeps ESSA tiers up to it; ``domain`` keeps interventions with a poolable effect in that
    outcome domain; ``max_cost`` keeps those whose cost is known and at most that; ``city``
    and ``query`` match parts of the studies' cities and of the name or description.

    Unknown filter values are errors naming the filter (``FilterError``).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"); _ = add_papers(ws)
    >>> [r["id"] for r in intervention_rows(EvidenceLibrary(ws), policy_area="housing")]
    ['moving-to-opportunity']
    >>> intervention_rows(EvidenceLibrary(ws), domain="happiness")
    Traceback (most recent call last):
    ...
    upward.evidence.publish.FilterError: ...
    """
    from upward.evidence.rating import rate_intervention

    check_filters(domain=domain, population=population, design=design)
    year = dollars_of or money.latest_year()
    doc, _ = _views(library, published)
    rows = []
    for i in sorted(doc.interventions, key=lambda i: i.name.lower()):
        if policy_area and i.policy_area != policy_area:
            continue
        studies = [s for s in doc.studies if s.intervention_id == i.id]
        outcomes = sorted({e.outcome for s in studies for e in s.effects})
        if outcome and outcome not in outcomes:
            continue
        domains = sorted({e.domain for s in studies for e in s.effects
                          if e.domain and e.poolable()})
        populations = sorted({e.population for s in studies for e in s.effects if e.population})
        designs = sorted({s.design for s in studies})
        cities = sorted({s.city for s in studies if s.city})
        cost = (money.Dollars.of(i.cost_per_participant, i.cost_year, year)
                if i.cost_per_participant is not None else None)
        if domain and domain not in domains:
            continue
        if population and population not in populations:
            continue
        if design and design not in designs:
            continue
        if city and not any(city.lower() in c.lower() for c in cities):
            continue
        if max_cost is not None and (cost is None or cost.value is None
                                     or cost.value > max_cost):
            continue
        if query and query.lower() not in f"{i.name} {i.description} {i.id}".lower():
            continue
        ratings = rate_intervention(i, studies, outcome=outcome)
        if max_tier is not None and ratings["essa"].tier > max_tier:
            continue
        rows.append({
            "id": i.id, "name": i.name, "policy_area": i.policy_area,
            "policy_area_label": POLICY_AREAS[i.policy_area], "studies": len(studies),
            "outcomes": outcomes, "cities": cities, "domains": domains,
            "domain_labels": [OUTCOME_DOMAINS[d] for d in domains],
            "populations": populations, "designs": designs,
            "essa": ratings["essa"].label, "essa_tier": ratings["essa"].tier,
            "wwc": ratings["wwc"].label, "sptw": ratings["sptw"].label,
            "synthetic": any(s.synthetic for s in studies),
            "cost_per_participant": i.cost_per_participant, "cost_year": i.cost_year,
            "cost_constant": cost.value if cost else None, "dollars_of": year,
            "cost_text": cost.text() if cost else "not known",
            "program_type": i.program_type,
        })
    return rows


class FilterError(UpwardError):
    """A filter value the library does not know (domain, population or design).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> lib = EvidenceLibrary(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
    >>> intervention_rows(lib, design="astrology")
    Traceback (most recent call last):
    ...
    upward.evidence.publish.FilterError: ...
    """


def check_filters(*, domain: str | None = None, population: str | None = None,
                  design: str | None = None) -> None:
    """Refuse unknown filter values with the known ones.

    >>> check_filters(domain="earnings")
    >>> check_filters(domain="happiness")
    Traceback (most recent call last):
    ...
    upward.evidence.publish.FilterError: domain 'happiness' is not an outcome domain. What to do: use one of earnings, ...
    """
    from upward.evaluate.categories import STUDY_DESIGNS

    for name, value, known, what in (("domain", domain, OUTCOME_DOMAINS, "an outcome domain"),
                                     ("population", population, POPULATIONS, "a population"),
                                     ("design", design, STUDY_DESIGNS, "a study design")):
        if value and value not in known:
            raise FilterError(f"{name} {value!r} is not {what}",
                              fix=f"use one of {', '.join(known)}")


def intervention_detail(library, intervention_id: str, *, published: bool = True) -> dict:
    """An intervention with its studies (published view by default), outcomes and ratings.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"); _ = add_papers(ws)
    >>> d = intervention_detail(EvidenceLibrary(ws), "moving-to-opportunity")
    >>> d["intervention"]["name"], [s["id"] for s in d["studies"]]
    ('Moving to Opportunity (MTO) housing vouchers', ['mto-young-children-chk-2016'])
    """
    from upward.evidence.library import EvidenceNotFoundError
    from upward.evidence.rating import rate_intervention

    doc, notes = _views(library, published)
    found = next((i for i in doc.interventions if i.id == intervention_id), None)
    if found is None:
        library.intervention(intervention_id)  # raises with the list of ids when unknown
        raise EvidenceNotFoundError(f"intervention {intervention_id!r} has no publishable study",
                                    fix="see what disclosure control withheld: upward evidence "
                                    "export")
    studies = [s for s in doc.studies if s.intervention_id == intervention_id]
    outcomes: dict[str, str] = {}
    for s in studies:
        for e in s.effects:
            outcomes.setdefault(e.outcome, e.outcome_label or e.outcome)
    by_outcome = {o: {k: rating_dict(v) for k, v in
                      rate_intervention(found, studies, outcome=o).items()} for o in outcomes}
    return {
        "intervention": found.model_dump(mode="json") | {
            "policy_area_label": POLICY_AREAS[found.policy_area]},
        "ratings": {k: rating_dict(v) for k, v in rate_intervention(found, studies).items()},
        "ratings_by_outcome": by_outcome,
        "outcomes": outcomes,
        "studies": [study_view(s, found) for s in studies],
        "withheld": [n for n in notes if any(n.startswith(f"{s.id}:") for s in
                                             library.studies(intervention_id))],
        "published": published,
    }


def study_detail(library, study_id: str, *, published: bool = True) -> dict:
    """One study (published view by default) with its ratings.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"); _ = add_papers(ws)
    >>> d = study_detail(EvidenceLibrary(ws), "nsw-men-dehejia-wahba-1999")
    >>> d["study"]["effects"][0]["estimate"], sorted(d)
    (1794.0, [...])
    """
    from upward.evidence.library import EvidenceNotFoundError

    study = library.study(study_id)
    intervention = library.intervention(study.intervention_id)
    withheld: list[str] = []
    if published:
        view = published_study(study)
        withheld = view.withheld
        if view.study is None:
            raise EvidenceNotFoundError(f"study {study_id!r} cannot be shown: "
                                        + "; ".join(withheld),
                                        fix="it rests on fewer than 11 people")
        study = view.study
    view_data = study_view(study, intervention)
    return {"study": view_data, "ratings": view_data["ratings"], "withheld": withheld,
            "published": published}


class PublishedLibrary(EvidenceLibrary):
    """A read-only library that answers with the published view of a workspace's library (for
    pages, the API and projections made from them).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> _ = EvidenceLibrary(ws).add({"studies": [{"id": "pilot", "intervention_id": "x",
    ...     "title": "Pilot", "design": "rct", "evaluation_id": "e1", "effects": [
    ...     {"outcome": "z", "measure": "md", "estimate": 1.0, "se": 1.0, "n": 7}]}],
    ...     "interventions": [{"id": "x", "name": "Pilot X", "policy_area": "health"}]})
    >>> [s.id for s in EvidenceLibrary(ws).studies()], PublishedLibrary(ws).studies()
    (['pilot'], [])
    """

    def document(self) -> LibraryDocument:
        """The published view of the workspace's library."""
        return published_document(super().document())[0]

    def add(self, *args, **kwargs):
        """Refused: the published view is read-only."""
        raise UpwardError("the published view of the evidence library is read-only",
                          fix="add records with EvidenceLibrary or 'upward evidence add'")

    remove = import_file = add

    def snapshot(self) -> EvidenceLibrary:
        """The published view, read once (see ``EvidenceLibrary.snapshot``)."""
        from upward.evidence.library import LibrarySnapshot

        return LibrarySnapshot(self.workspace, self.document())
