"""The published evidence base: Hendren & Sprung-Keyser's (2020) program estimates as
interventions, studies and effects of the library (``upward fetch evidence --from DIR``).

Each program file of the source becomes an intervention; each paper cited for a program
becomes a study; each estimate row becomes an effect, with the file and line it comes from in
``source_location``. Rows go through the library's validation and its all-or-nothing add.

What is decided here, and said on every record it touches:

- **Never pooled, always shown**: a row that is not a causal effect (a program cost, a first
  stage, a descriptive input), a row without a standard error, with one ≤ 0, in dollars of an
  unstated year, or on an ambiguous source line carries ``not_pooled`` with the reason.
- **Units**: normalised where the file states them for a program reviewed by hand
  (percentage points → share 0–1, ``dollars (2015)`` → 2015 dollars); otherwise kept as written
  and marked ``unit_verified = False``.
- **Outcome domain** (``OUTCOME_DOMAINS`` of the metric catalog) from the estimate's name and
  description (:func:`outcome_domain`, declared rules, first match wins); None when no rule
  matches, and such effects are never matched to a barrier.
- **Population** from the program's category, with a few declared exceptions.
- **Design**: the file does not record it. Where the description says so (an RD effect, a
  threshold, a kink) or the program is a well-known lottery or randomised trial
  (:data:`RANDOMISED`), the study says which and why; otherwise it is entered as
  quasi-experimental, the weakest design that still claims a causal estimate, and says so.
- Several rows of the same estimate within one paper (branches of the source: samples,
  specifications, sites) become subgroups of that study, so they are never pooled as if they
  were independent studies.

Examples
--------
>>> outcome_domain("earn_effect_young", "Adult earnings effect of MTO experimental voucher")
'earnings'
>>> outcome_domain("enroll_4yr", "Enrollment in any 4-year college")
'postsecondary'
>>> normalised_unit("percentage points", reviewed=True)
('share (0-1)', 0.01, None, True, 'converted from percentage points (÷ 100)')
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from upward.core.errors import InputFileError
from upward.evidence.library import AddResult, EvidenceConflictError, EvidenceLibrary, content
from upward.evidence.schema import (
    POPULATIONS,
    Effect,
    Intervention,
    LibraryDocument,
    Study,
    slugify,
)
from upward.sources import policy_impacts as source
from upward.warehouse.workspace import Workspace

#: The source's program category → the library's policy area.
POLICY_AREA = {
    "job_training": "workforce", "education_k12": "education", "early_childhood": "education",
    "college": "education", "cash_transfer_tax_credit": "income", "housing": "housing",
    "health_insurance": "health", "nutrition": "income", "disability_insurance": "income",
    "unemployment_insurance": "income", "other": "income",
}
PROGRAM_TYPE_LABEL = {
    "job_training": "Job training", "education_k12": "K-12 education",
    "early_childhood": "Early childhood", "college": "College access and aid",
    "cash_transfer_tax_credit": "Cash transfers and tax credits", "housing": "Housing",
    "health_insurance": "Health insurance", "nutrition": "Nutrition",
    "disability_insurance": "Disability insurance",
    "unemployment_insurance": "Unemployment insurance", "other": "Top tax rate reforms",
}
#: Who a program's estimates are about, by category; exceptions in POPULATION_OF_PROGRAM.
POPULATION_OF_TYPE = {
    "job_training": "adults", "education_k12": "students", "early_childhood": "children",
    "college": "students", "cash_transfer_tax_credit": "low_income_families",
    "housing": "low_income_families", "health_insurance": "low_income_families",
    "nutrition": "low_income_families", "disability_insurance": "people_with_disabilities",
    "unemployment_insurance": "unemployed_workers", "other": "high_earners",
}
POPULATION_OF_PROGRAM = {
    "Job_Corps": "youth", "JTPA_Youth": "youth", "NSW_Youth": "youth", "YearUp": "youth",
    "medicare_intro": "older_adults", "medigap_tax": "older_adults",
    "MC_83": "children", "mc_preg_women": "children", "mc_state_exp": "children",
    "wic": "children", "hs_rd": "children", "head_start": "children",
}
#: Programs whose evaluations are lotteries or randomised trials (the program's own evaluation
#: design; the source file does not record designs). Everything else is entered as
#: quasi-experimental unless its description names a discontinuity.
RANDOMISED = {
    "Abecedarian": "rct", "Perry_Pre_School": "rct", "Job_Corps": "rct", "JTPA_Adult": "rct",
    "JTPA_Youth": "rct", "NSW_Adult_Women": "rct", "NSW_Ex_Addict": "rct",
    "NSW_Ex_Offender": "rct", "NSW_Youth": "rct", "MTO": "rct", "oregon_hi": "rct",
    "YearUp": "rct", "Work_Advance": "rct", "paycheck_plus": "rct", "wtw_all": "rct",
    "snap_info": "rct", "snap_assist": "rct", "nit": "rct", "hous_vou_chicago": "rct",
    "jobs_plus": "cluster_rct",
}
_DISCONTINUITY = re.compile(r"\bRD\b|regression discontinuity|threshold|kink|bw_selector",
                            re.IGNORECASE)
#: Programs whose rows were reviewed by hand against the source (README, "Hand review").
REVIEWED = frozenset({
    "Abecedarian", "adams_schol", "Adult_Pell", "afdc_max_ben", "afdc_term_limits", "Alaska_PFD",
    "AOTC_J_LK", "AOTC_J_UK", "AOTC_S_LK", "AOTC_S_UK", "AOTC_Sim_Inst", "Tuition_J_PE",
    "Tuition_J_PS", "Tuition_S_PE", "Tuition_S_PS", "CPC", "DI_Benefit_RK", "DI_Examiner",
    "DI_Judge", "DI_veterans", "ssi_judge", "eitc_86", "eitc_obra93", "EGTRRA01", "ERTA81",
    "OBRA93", "TRA86", "Job_Corps", "GeorgiaHOPE", "HOPE_Extended", "HOPE_LLC", "hs_rd", "MC_83",
    "mc_intro", "medigap_tax", "nit", "oregon_hi", "Perry_Pre_School", "pell_tn", "snap_assist",
    "snap_info", "snap_intro", "wic", "YearUp", "Work_Advance", "MTO", "hous_vou_chicago",
    "jobs_plus", "paycheck_plus", "ui_b", "ui_e", "wtw_all",
})
#: Outcome-domain rules over "name | description", first match wins (declared order matters:
#: "any_earn" is employment before "earn" is earnings; taxes and welfare before earnings).
DOMAIN_RULES: tuple[tuple[str, str], ...] = (
    ("taxable_income", r"\beti\b|elasticity of taxable"),
    ("employment", r"any_earn|employ|\blfp\b|lfp_|labor force|epop|part-time|\bpt_effect|\bsga"),
    ("public_assistance", r"welfare|afdc|tanf|snap_impact|ssdi|\bssi\b|pub_assist|public assist"),
    ("public_finance", r"\btax|_tax|fiscal|_fe\b|\bfe_|revenue|cost|spend|saving|payroll|wtp|"
                       r"willingness|moral_hazard|deduction|grant amount"),
    ("earnings", r"earning|\bearn_|_earn|^earn|wage|labor_income|income_effect|\by_19\d\d\b|"
                 r"after_bonus"),
    ("postsecondary", r"coll|enrol|univ|bach|\bba_|degree|credit|semester|attend|persist|"
                      r"withdraw|selective|tuition|assoc|cert_|\beffect_t_\d"),
    ("k12", r"hs_|high school|grade_retention|retention|special_educ|test score|\bscore"),
    ("justice", r"crim|arrest|jail|prison|incarc|juv|petition|convict"),
    ("health_coverage", r"insur|coverage|medicaid|uninsur"),
    ("health", r"mort|death|birth|weight|hospital|health|bw_|smok|maltreat|\bitt\b"),
    ("housing", r"homeless|\brent|housing|evict"),
    ("food_security", r"food|nutrition"),
    ("income", r"poverty|income|\bagi\b|consumption"),
)
LOWER_IS_BETTER = re.compile(r"crim|arrest|jail|prison|incarc|juv|petition|mort|death|poverty|"
                             r"retention|special_educ|maltreat|withdraw|uninsur|homeless",
                             re.IGNORECASE)
_UNVERIFIED = re.compile(r"not stated|from name|assumed", re.IGNORECASE)


def outcome_domain(name: str, description: str) -> str | None:
    """The outcome domain of an estimate from its name and description (:data:`DOMAIN_RULES`,
    first match wins); None when no rule matches.

    >>> outcome_domain("ETI", "Elasticity of taxable income (ETI)")
    'taxable_income'
    >>> outcome_domain("any_earn_y2_itt", "Percentage point increase in any earnings")
    'employment'
    >>> outcome_domain("zzz", "no words we know") is None
    True
    """
    text = f"{name} | {_short(description)}".lower()
    for domain, pattern in DOMAIN_RULES:
        if re.search(pattern, text):
            return domain
    return None


def _short(description: str) -> str:
    return description.split(" [source comment", 1)[0].strip()


def normalised_unit(units: str, *, reviewed: bool) -> tuple[str, float, int | None, bool, str]:
    """(unit, factor applied to value and SE, dollar year, verified, note) for a row's units.

    Units are normalised only where the file states them for a program reviewed by hand;
    otherwise they are kept as written and marked unverified.

    >>> normalised_unit("dollars (2015)", reviewed=True)
    ('2015 dollars', 1.0, 2015, True, '')
    >>> normalised_unit("share (0-1) (not stated)", reviewed=True)[3]
    False
    >>> normalised_unit("", reviewed=True)
    ('', 1.0, None, False, 'units not stated in the source')
    """
    text = units.strip()
    if not text:
        return "", 1.0, None, False, "units not stated in the source"
    verified = reviewed and not _UNVERIFIED.search(text)
    if not verified:
        note = ("units are a reading of the source, not verified"
                if reviewed else "units not reviewed by hand in the source extraction: unverified")
        year = _dollar_year(text)
        return text, 1.0, year, False, note
    if text.startswith("percentage points"):
        return "share (0-1)", 0.01, None, True, "converted from percentage points (÷ 100)"
    if text.startswith("share (0-1)"):
        return "share (0-1)", 1.0, None, True, ""
    year = _dollar_year(text)
    if year is not None and text.startswith("dollars"):
        rest = re.sub(r"^dollars\s*\(\d{4}\)\s*", "", text)
        return f"{year} dollars" + (f" {rest}" if rest else ""), 1.0, year, True, ""
    if text.startswith("dollars (PDV)"):
        return "dollars, present discounted value", 1.0, None, True, ""
    return text, 1.0, year, True, ""


def _dollar_year(text: str) -> int | None:
    found = re.search(r"dollars\s*\((\d{4})\)|\b(\d{4}) dollars|\b(\d{4}) USD", text)
    if not found:
        return None
    return int(next(g for g in found.groups() if g))


def _outcome_id(stata_local: str) -> str:
    return (re.sub(r"[^a-z0-9]+", "_", stata_local.lower()).strip("_") or "estimate")[:60]


def _subgroup(estimate_name: str, stata_local: str) -> str:
    suffix = estimate_name[len(stata_local):].lstrip("_") if estimate_name.startswith(
        stata_local) else estimate_name
    return (suffix or estimate_name)[:60]


def _design(program_id: str, rows: list) -> tuple[str, str]:
    if program_id in RANDOMISED:
        return RANDOMISED[program_id], (
            "randomised (a lottery or trial: the program's own evaluation design, entered by "
            "Upward; the source file does not record designs)")
    text = " ".join(f"{r.description} {r.condition}" for r in rows)
    if _DISCONTINUITY.search(text):
        return "rd", ("a discontinuity at an eligibility threshold or kink, as the source's "
                      "descriptions say")
    return "qed", ("design not recorded in the source file: entered as quasi-experimental, the "
                   "weakest design that still claims a causal estimate; check the paper")


#: The reasons an effect is never pooled, as the load report counts them.
REASON_KEYS = ("not a causal effect", "no standard error", "≤ 0", "dollar year not stated",
               "ambiguous source line")


def _reasons(row, dollar_unit_without_year: bool) -> list[str]:
    reasons = []
    if row.estimate_type != "causal_effect":
        reasons.append(f"not a causal effect ({row.estimate_type.replace('_', ' ')})")
    if math.isnan(row.se_num):
        extra = " (only a p-value range; see the notes)" if "runiform" in row.notes + \
            row.source_text else ""
        reasons.append("no standard error in the source" + extra)
    elif row.se_num <= 0:
        reasons.append(f"standard error {row.se_num:g} ≤ 0 in the source: not usable")
    if dollar_unit_without_year:
        reasons.append("dollar year not stated in the source: shown as written, not converted")
    if "AMBIGUOUS" in row.notes:
        reasons.append("ambiguous source line (see the notes)")
    return reasons


def effect_of(row, *, subgroup: str, population: str) -> dict:
    """One estimate row as an effect record (a dict for ``Effect``), with its reasons for
    never being pooled, if any.

    >>> row = SimpleNamespace(units="dollars (2015)", program_id="X", se_num=200.0, value_num=900.0,
    ...     notes="", description="Earnings effect", estimate_name="earn", condition="",
    ...     stata_local="earn_effect", table_ref="Table 2", source_path="p.do", source_line=7,
    ...     estimate_type="causal_effect")
    >>> e = effect_of(row, subgroup="all", population="")
    >>> e["domain"], e["unit"], e["dollar_year"], e["se"], e["not_pooled"]
    ('earnings', 'dollars (2015)', 2015, 200.0, '')
    """
    from upward.evidence.schema import is_dollar_unit

    unit, scale, year, verified, unit_note = normalised_unit(
        row.units, reviewed=row.program_id in REVIEWED)
    no_year = is_dollar_unit(unit) and year is None and not re.search(r"\d{4}", unit)
    reasons = _reasons(row, no_year)
    usable_se = not math.isnan(row.se_num) and row.se_num > 0
    description = _short(row.description) or row.estimate_name
    notes = "; ".join(x for x in (
        unit_note, row.notes, f"source condition: {row.condition}" if row.condition else "",
        f"estimate name in the source: {row.estimate_name}") if x)
    name_and_text = f"{row.stata_local} {description}"
    return {
        "outcome": _outcome_id(row.stata_local),
        "outcome_label": description[:300],
        "measure": "md",
        "estimate": row.value_num * scale,
        "se": row.se_num * scale if usable_se else None,
        "unit": unit,
        "dollar_year": year,
        "unit_verified": verified,
        "direction": "lower" if LOWER_IS_BETTER.search(name_and_text) else "higher",
        "subgroup": subgroup,
        "source_location": (f"{row.table_ref}; {row.source_path}:{row.source_line} at "
                            f"{source.COMMIT[:7]}"),
        "notes": notes[:2000],
        "domain": outcome_domain(row.stata_local, row.description),
        "population": population,
        "estimate_type": row.estimate_type,
        "not_pooled": "; ".join(reasons),
    }


@dataclass
class PublishedEvidence:
    """The published evidence as a library document, with counts for the load report.

    >>> p = PublishedEvidence(LibraryDocument(), 3, 2, 1, {"no standard error in the source": 1})
    >>> p.effects_pooled + p.effects_not_pooled == p.estimates
    True
    """

    document: LibraryDocument
    estimates: int
    effects_pooled: int
    effects_not_pooled: int
    reasons: dict[str, int] = field(default_factory=dict)


def build_document(estimates: pd.DataFrame, programs: pd.DataFrame, *,
                   path: Path | str = source.ESTIMATES_FILE) -> PublishedEvidence:
    """Interventions (one per program), studies (one per program and paper) and effects (one
    per estimate row) from the two tables of ``upward.sources.policy_impacts``.

    Two studies that would get the same id are an error naming both, as is an estimate whose
    program is not in the programs file.

    >>> est = pd.DataFrame([{c: "" for c in source.ESTIMATE_COLUMNS} | {
    ...     "program_id": "MTO", "program_name": "MTO", "domain": "housing",
    ...     "citation": "Chetty et al. (2016)", "estimate_name": "earn_effect_young",
    ...     "stata_local": "earn_effect_young", "description": "Adult earnings effect",
    ...     "value": "1624", "units": "dollars", "estimate_type": "causal_effect",
    ...     "value_num": 1624.0, "se_num": 662.0, "line": 2}])
    >>> prog = pd.DataFrame([{c: "" for c in source.PROGRAM_COLUMNS} | {
    ...     "program_id": "MTO", "program_name": "MTO", "domain": "housing"}])
    >>> e = build_document(est, prog).document.studies[0].effects[0]
    >>> e.domain, e.se, e.not_pooled
    ('earnings', 662.0, 'dollar year not stated in the source: shown as written, not converted')
    """
    by_program: dict[str, list] = {}
    for rec in estimates.to_dict("records"):
        by_program.setdefault(rec["program_id"], []).append(SimpleNamespace(**rec))
    known = set(programs["program_id"])
    unknown = sorted(set(by_program) - known)
    if unknown:
        raise InputFileError(path, f"program {unknown[0]!r} is not in {source.PROGRAMS_FILE}",
                             row=int(by_program[unknown[0]][0].line), column="program_id",
                             fix="use the two files of the same release")
    interventions, studies, owner = [], [], {}
    pooled = not_pooled = 0
    reasons: dict[str, int] = {}
    for prog in programs.itertuples(index=False):
        rows = by_program.get(prog.program_id, [])
        population = POPULATION_OF_PROGRAM.get(prog.program_id,
                                                POPULATION_OF_TYPE.get(prog.domain, "residents"))
        intervention = _intervention(prog, rows, population)
        interventions.append(intervention)
        design, why = _design(prog.program_id, rows)
        papers: dict[str, list] = {}
        for row in rows:
            papers.setdefault(row.citation, []).append(row)
        for citation, paper in papers.items():
            study_id = slugify(f"{prog.program_id} {citation}")
            if study_id in owner:
                raise InputFileError(path, f"two studies claim the id {study_id!r}: "
                                     f"{owner[study_id]} and {prog.program_id} / {citation}",
                                     row=int(paper[0].line), column="citation",
                                     fix="give the papers distinct citations")
            owner[study_id] = f"{prog.program_id} / {citation}"
            counts = Counter(_outcome_id(r.stata_local) for r in paper)
            effects = []
            for row in paper:
                repeated = counts[_outcome_id(row.stata_local)] > 1
                sub = _subgroup(row.estimate_name, row.stata_local) if repeated else "all"
                record = effect_of(row, subgroup=sub, population=population)
                if record["not_pooled"]:
                    not_pooled += 1
                    for key in REASON_KEYS:
                        if key in record["not_pooled"]:
                            reasons[key] = reasons.get(key, 0) + 1
                else:
                    pooled += 1
                effects.append(_validated(Effect, record, path, int(row.line)))
            first = paper[0]
            studies.append(Study(
                id=study_id, intervention_id=intervention.id,
                title=f"{prog.program_name}: {citation}", city="United States",
                design=design, design_detail=why, citation=first.reference or citation,
                url=first.url or None, effects=effects,
                notes=(f"Estimates as stated in the replication code of {source.CITATION} "
                       f"({source.REPOSITORY}, commit {source.COMMIT[:7]}); not re-checked "
                       "against the paper."),
            ))
    doc = LibraryDocument(interventions=interventions, studies=studies)
    return PublishedEvidence(doc, len(estimates), pooled, not_pooled, reasons)


def _validated(model, record: dict, path, line: int):
    from pydantic import ValidationError

    from upward.evidence.library import describe_validation_error

    try:
        return model.model_validate(record)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        raise InputFileError(path, message, row=line, column=where,
                             fix="correct the row (see the file's README)") from None


def _intervention(prog, rows: list, population: str) -> Intervention:
    citations = "; ".join(dict.fromkeys(r.citation for r in rows)) or prog.citations
    take = next(((r.value_num, f"{r.estimate_name} = {r.value} ({r.citation}, {r.table_ref})")
                 for r in rows if re.search(r"first_?stage", r.stata_local, re.IGNORECASE)
                 and r.estimate_type == "cost_or_first_stage" and 0 < r.value_num <= 1),
                (None, ""))
    costs = [r.estimate_name for r in rows if "cost" in r.stata_local.lower()
             and r.estimate_type == "cost_or_first_stage"]
    cost_note = ("cost per participant not known: the source's cost figures ("
                 + ", ".join(costs[:4]) + (" …" if len(costs) > 4 else "")
                 + ") state no dollar year; they are listed with the estimates"
                 if len(costs) else "cost per participant not stated in the source")
    urls = prog.header_urls.split()
    return Intervention(
        id=slugify(prog.program_id), name=prog.program_name,
        description=(f"{PROGRAM_TYPE_LABEL.get(prog.domain, prog.domain)} program evaluated in "
                     f"{citations}. Estimates from the replication code of Hendren & "
                     "Sprung-Keyser (2020)."),
        policy_area=POLICY_AREA.get(prog.domain, "income"),
        target_population=POPULATIONS[population],
        program_type=PROGRAM_TYPE_LABEL.get(prog.domain, prog.domain),
        cost_note=cost_note, take_up=take[0], take_up_source=take[1],
        mvpf_source="not loaded: the source computes MVPFs in its own code, not as stated "
                    "estimates",
        url=urls[0] if urls else None,
    )


def read_published(root: Path) -> tuple[PublishedEvidence, Path, str]:
    """Read and convert the two files under ``root`` (``../shared/data`` or the folder that
    holds them). Returns the evidence, the estimates file and the files' sha256.

    >>> read_published(Path("/nonexistent"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: /nonexistent: no policy_impacts_causal_estimates.csv ...
    """
    estimates_path, programs_path = source.locate(Path(root))
    estimates = source.read_estimates(estimates_path)
    programs = source.read_programs(programs_path)
    built = build_document(estimates, programs, path=estimates_path)
    return built, estimates_path, source.sha256_of(estimates_path, programs_path)


@dataclass
class FetchResult:
    """What ``upward fetch evidence`` did.

    >>> p = PublishedEvidence(LibraryDocument(), 3, 2, 1, {"no standard error in the source": 1})
    >>> print(FetchResult(AddResult(interventions=["a"], studies=["s"]), p, "0" * 64))
    evidence.policy_impacts: 3 estimates → 0 interventions, 0 studies; added 1 intervention(s), 1 study(ies). 2 effects can be pooled; 1 are shown but never pooled (1 no standard error in the source).
    """

    added: AddResult
    published: PublishedEvidence
    sha256: str

    def __str__(self) -> str:
        p = self.published
        reasons = ", ".join(f"{n} {k}" for k, n in sorted(p.reasons.items(), key=lambda kv:
                                                           -kv[1]))
        return (f"evidence.policy_impacts: {p.estimates} estimates → "
                f"{len(p.document.interventions)} interventions, {len(p.document.studies)} "
                f"studies; {self.added}. {p.effects_pooled} effects can be pooled; "
                f"{p.effects_not_pooled} are shown but never pooled ({reasons}).")


def fetch_evidence(workspace: Workspace, from_dir: Path | str, *,
                   by: str | None = None) -> FetchResult:
    """Load the published evidence into the workspace's library, all or nothing.

    Records loaded earlier from the same dataset are replaced when the file changed; a record
    of the same id that came from anywhere else is a conflict (nothing is written).

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> fetch_evidence(ws, "/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: /nonexistent: no policy_impacts_causal_estimates.csv ...
    """
    built, path, sha = read_published(Path(from_dir))
    library = EvidenceLibrary(workspace)
    current = library.document()
    mine = {r.id for r in [*built.document.interventions, *built.document.studies]}
    for record in [*current.interventions, *current.studies]:
        if record.id not in mine:
            continue
        ours = any(p.source_file == source.ESTIMATES_FILE for p in record.provenance)
        incoming = next((r for r in [*built.document.interventions, *built.document.studies]
                         if r.id == record.id and type(r) is type(record)), None)
        if not ours and (incoming is None or content(record) != content(incoming)):
            raise EvidenceConflictError(
                f"the library already holds a different record {record.id!r} that did not come "
                "from the published evidence", fix=f"rename or remove it (upward evidence remove "
                f"{record.id}) and fetch again")
    added = library.add(built.document, by=by or "upward fetch evidence", action="imported",
                        source_file=path, replace=True)
    return FetchResult(added, built, sha)
