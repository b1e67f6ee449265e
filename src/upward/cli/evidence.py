"""`upward evidence …`: the evidence library, pooling and projection.

Examples
--------
>>> import typer
>>> from typer.testing import CliRunner
>>> app = typer.Typer()
>>> register(app)
>>> CliRunner().invoke(app, ["evidence", "--help"]).exit_code
0
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from upward.cli.common import WorkspaceOption, console, emit_text, open_workspace
from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.errors import ConfigError, UpwardError

FORMATS = ("table", "json")
EXPORT_FORMATS = ("json", "csv", "bundle")

evidence_app = typer.Typer(
    help="The evidence library: what works, where, how well we know it.\n\n"
    "Example: upward evidence add-published && upward evidence pool national-supported-work "
    "--outcome earnings_annual",
    no_args_is_help=True,
)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table or json")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]


def _check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> None:
    if fmt not in allowed:
        raise ConfigError(f"--format {fmt!r} is not a format", fix=f"use one of {', '.join(allowed)}")


def _library(workspace: Path | None):
    from upward.evidence.library import EvidenceLibrary

    return EvidenceLibrary(open_workspace(workspace))


@evidence_app.command("add")
def add(
    file: Annotated[Path, typer.Argument(help="A JSON or CSV evidence file (docs/evidence.md), "
                                         "or with --evaluation a saved evaluation result.")],
    evaluation: Annotated[bool, typer.Option("--evaluation", help="FILE is an evaluation result "
                                             "(JSON from 'upward evaluate').")] = False,
    intervention: Annotated[str | None, typer.Option(
        "--intervention", help="With --evaluation: the intervention id it evaluates (default: "
        "made from the spec's name; a new id creates the intervention).")] = None,
    city: Annotated[str, typer.Option(help="With --evaluation: where it ran.")] = "",
    dollar_year: Annotated[int | None, typer.Option(
        "--dollar-year", help="With --evaluation: the year of the dollars of a money outcome "
        "and of the cost.")] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite records with the same id.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Add records from an evidence file (or an evaluation result) to the library.

    Example: upward evidence add studies.csv

    Example: upward evidence add --evaluation job-training-earnings --intervention job-training
    --city "Tulsa, OK" --dollar-year 2024
    """
    if evaluation:
        _from_evaluation(file, intervention, city=city, replace=replace, workspace=workspace,
                         dollar_year=dollar_year)
        return
    result = _library(workspace).import_file(file, replace=replace)
    console.print(str(result))


def _from_evaluation(ref: Path, intervention: str | None, *, workspace: Path | None,
                     replace: bool, **options) -> None:
    from upward.evaluate.run import load_evaluation
    from upward.evidence.from_evaluation import add_evaluation
    from upward.evidence.schema import slugify

    ws = open_workspace(workspace)
    if not intervention:
        r = load_evaluation(ref, ws)
        intervention = slugify(r.spec.get("name") or r.outcome)
        console.print(f"intervention: {intervention} (made from the evaluation's name; give "
                      "--intervention to choose)", highlight=False)
    result = add_evaluation(ws, ref, intervention_id=intervention, replace=replace, **options)
    console.print(str(result))


@evidence_app.command("from-evaluation")
def from_evaluation(
    result: Annotated[Path, typer.Argument(help="A saved evaluation: its JSON file or its name "
                                           "in the workspace.")],
    intervention: Annotated[str | None, typer.Option(
        "--intervention", help="The intervention id it evaluates (created when new; default: "
        "made from the evaluation's name).")] = None,
    study_id: Annotated[str | None, typer.Option(
        help="Study id; an existing study's id adds this outcome to it (one trial, several "
        "outcomes).")] = None,
    name: Annotated[str | None, typer.Option(help="Name of a new intervention.")] = None,
    policy_area: Annotated[str, typer.Option(help="Policy area of a new intervention.")] =
    "workforce",
    city: Annotated[str, typer.Option(help="Where it ran, e.g. 'Tulsa, OK'.")] = "",
    period: Annotated[str, typer.Option(help="When participants entered, e.g. 2024-2025.")] = "",
    sites: Annotated[int, typer.Option(help="Number of sites.")] = 1,
    follow_up_months: Annotated[float | None, typer.Option(help="Months from entry to the "
                                                           "outcome.")] = None,
    outcome_label: Annotated[str, typer.Option(help="The outcome as readers should see it.")] = "",
    unit: Annotated[str, typer.Option(help="Units of the effect, e.g. 'dollars per quarter'.")] =
    "",
    direction: Annotated[str, typer.Option(help="higher or lower: which way is better.")] =
    "higher",
    sample_unit: Annotated[str | None, typer.Option(
        help="What the units are when not people, e.g. neighbourhoods (counts of people are "
        f"suppressed below {MIN_CELL_SIZE} when published).")] = None,
    dollar_year: Annotated[int | None, typer.Option(
        "--dollar-year", help="The year of the dollars of a money outcome and of the cost.")] =
    None,
    domain: Annotated[str | None, typer.Option(
        "--domain", help="The outcome domain (earnings, employment, housing …: the metric "
        "catalog's); it links the study to barriers.")] = None,
    population: Annotated[str, typer.Option(
        "--population", help="Who took part (adults, youth, children …).")] = "",
    replace: Annotated[bool, typer.Option(help="Overwrite a study with the same id.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Turn an evaluation result into a study of the library, rated from its own checks.

    Example: upward evidence from-evaluation job-training-earnings --intervention job-training
    --city "Tulsa, OK"
    """
    _from_evaluation(result, intervention, workspace=workspace, replace=replace,
                     intervention_name=name, policy_area=policy_area, study_id=study_id,
                     city=city, period=period,
                     sites=sites, follow_up_months=follow_up_months,
                     outcome_label=outcome_label, unit=unit, direction=direction,
                     sample_unit=sample_unit, dollar_year=dollar_year, domain=domain,
                     population=population)


@evidence_app.command("add-published")
def add_published_cmd(workspace: WorkspaceOption = None) -> None:
    """Add the published studies that ship with Upward (NSW, MTO; see docs/evidence.md).

    Example: upward evidence add-published
    """
    from upward.evidence.papers import add_papers

    console.print(str(add_papers(open_workspace(workspace))))


@evidence_app.command("add-demo")
def add_demo_cmd(workspace: WorkspaceOption = None) -> None:
    """Add the demo city's pilot evaluations (after 'upward demo'), labelled synthetic.

    Example: upward demo -w demo-ws && upward evidence add-demo -w demo-ws
    """
    from upward.demo.evidence import add_demo_evaluations

    result = add_demo_evaluations(open_workspace(workspace))
    if result is None:
        raise UpwardError("the workspace has no demo pilot evaluations",
                          fix="run 'upward demo' in this workspace first")
    console.print(str(result))


@evidence_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A signed bundle (.bundle.json), or a JSON or CSV "
                                         "evidence file.")],
    trust: Annotated[list[str] | None, typer.Option(
        "--trust", help="Accept bundles signed by this key: its fingerprint, base64 public key "
        "or a file holding it. Repeatable.")] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite records with the same id.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import evidence: a bundle is verified (hash, signature, trusted signer) before anything
    is written.

    Example: upward evidence import tulsa.bundle.json --trust 1a2b3c4d:…
    """
    from upward.evidence.bundle import import_bundle, is_bundle

    ws = open_workspace(workspace)
    if is_bundle(file):
        console.print(str(import_bundle(ws, file, trust=trust or [], replace=replace)))
        return
    from upward.evidence.library import EvidenceLibrary

    console.print(str(EvidenceLibrary(ws).import_file(file, replace=replace)))


@evidence_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="json, csv or bundle (signed)")] =
    "json",
    output: OutputOption = None,
    intervention: Annotated[list[str] | None, typer.Option(
        "--intervention", help="Only this intervention (repeatable).")] = None,
    restricted: Annotated[bool, typer.Option(
        "--restricted", help="json/csv: every field as stored, without disclosure control (for "
        "your own backups; never publish it).")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Export the library: published-level JSON or CSV (disclosure control applied), or a
    signed bundle for another city.

    Example: upward evidence export --format bundle -o tulsa.bundle.json
    """
    from upward.evidence.library import EvidenceLibrary, document_to_csv
    from upward.evidence.publish import published_document

    _check_format(fmt, EXPORT_FORMATS)
    ws = open_workspace(workspace)
    if fmt == "bundle":
        from upward.evidence.bundle import export_bundle

        console.print(str(export_bundle(ws, output, interventions=intervention)))
        return
    doc = EvidenceLibrary(ws).document()
    if intervention:
        doc = doc.model_copy(update={
            "interventions": [i for i in doc.interventions if i.id in intervention],
            "studies": [s for s in doc.studies if s.intervention_id in intervention]})
    notes: list[str] = []
    if not restricted:
        doc, notes = published_document(doc)
    text = (doc.model_dump_json(indent=2, exclude_none=True) + "\n" if fmt == "json"
            else document_to_csv(doc))
    emit_text(text, output)
    for note in notes:
        console.print(f"[yellow]withheld[/]: {escape(note)}", highlight=False)


@evidence_app.command("list")
def list_cmd(
    policy_area: Annotated[str | None, typer.Option(help="Only this policy area.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Only interventions with this outcome.")] =
    None,
    rating: Annotated[str | None, typer.Option(
        help="Only interventions whose ESSA tier is at least this (1-4).")] = None,
    domain: Annotated[str | None, typer.Option(
        help="Only interventions with a poolable effect in this outcome domain (e.g. "
        "earnings, postsecondary).")] = None,
    population: Annotated[str | None, typer.Option(
        help="Only interventions studied for this population (e.g. youth, children).")] = None,
    design: Annotated[str | None, typer.Option(
        help="Only interventions with a study of this design (rct, cluster_rct, rd, qed …).")] =
    None,
    city: Annotated[str | None, typer.Option(help="Only interventions studied in this city "
                                             "(part of the name).")] = None,
    max_cost: Annotated[float | None, typer.Option(
        "--max-cost", help="Only interventions whose known cost per participant is at most "
        "this (constant dollars).")] = None,
    dollars_of: Annotated[int | None, typer.Option(
        "--dollars-of", help="Show costs in dollars of this year (default: latest CPI year).")] =
    None,
    fmt: FormatOption = "table",
    workspace: WorkspaceOption = None,
) -> None:
    """The interventions in the library, with their studies and ratings.

    Example: upward evidence list --policy-area workforce

    Example: upward evidence list --domain earnings --design rct
    """
    from upward.evidence.publish import intervention_rows

    _check_format(fmt)
    library = _library(workspace)
    rows = intervention_rows(library, policy_area=policy_area, outcome=outcome,
                             max_tier=_tier(rating), published=False, domain=domain,
                             population=population, design=design, city=city, max_cost=max_cost,
                             dollars_of=dollars_of)
    if fmt == "json":
        emit_text(json.dumps(rows, indent=2), None)
        return
    if not rows:
        if not library.document().interventions:
            console.print("The evidence library is empty. Load the published evidence with\n"
                          "  upward fetch evidence --from ../shared/data\n"
                          "or the studies that ship with Upward with\n"
                          "  upward evidence add-published", highlight=False)
        else:
            console.print("No intervention matches these filters (upward evidence list shows "
                          "them all).", highlight=False)
        return
    from rich.table import Table

    t = Table(title="Evidence library", header_style="bold")
    for h in ("id", "intervention", "area", "studies", "domains", "ESSA", "WWC (best)",
              "cost per participant"):
        t.add_column(h, overflow="fold")
    for r in rows:
        t.add_row(r["id"], r["name"], r["policy_area"], str(r["studies"]),
                  ", ".join(r["domains"]) or "—", r["essa"], r["wwc"], r["cost_text"])
    console.print(t)
    console.print(f"{len(rows)} intervention(s). Outcomes: upward evidence show ID",
                  highlight=False)


def _tier(rating: str | None) -> int | None:
    if rating is None:
        return None
    digits = "".join(ch for ch in rating if ch.isdigit())
    if not digits or not 1 <= int(digits) <= 4:
        raise ConfigError(f"--rating {rating!r} is not an ESSA tier",
                          fix="give 1 (strong), 2 (moderate), 3 (promising) or 4 (rationale)")
    return int(digits)


@evidence_app.command("show")
def show(
    record_id: Annotated[str, typer.Argument(help="An intervention id or a study id.")],
    fmt: FormatOption = "table",
    workspace: WorkspaceOption = None,
) -> None:
    """One intervention (its studies, effects and ratings) or one study.

    Example: upward evidence show national-supported-work
    """
    from upward.evidence.library import EvidenceNotFoundError
    from upward.evidence.publish import intervention_detail, study_detail

    _check_format(fmt)
    library = _library(workspace)
    try:
        detail = intervention_detail(library, record_id, published=False)
    except EvidenceNotFoundError:
        detail = study_detail(library, record_id, published=False)
    if fmt == "json":
        emit_text(json.dumps(detail, indent=2), None)
        return
    _print_detail(detail)


def _print_detail(detail: dict) -> None:
    from rich.table import Table

    if "study" in detail:
        s = detail["study"]
        console.print(f"[bold]{escape(s['title'])}[/] ({escape(s['id'])}) — "
                      f"{escape(str(s.get('city') or ''))} {escape(str(s.get('period') or ''))}")
        console.print(s.get("citation") or f"Upward evaluation {s.get('evaluation_id')}",
                      markup=False)
        for name, r in detail["ratings"].items():
            console.print(f"  {name.upper()}: {r['summary']}", highlight=False, markup=False)
        return
    i = detail["intervention"]
    console.print(f"[bold]{escape(i['name'])}[/] ({escape(i['id'])}) — {escape(i['policy_area'])}")
    if i.get("description"):
        console.print(i["description"], markup=False)
    for name, r in detail["ratings"].items():
        console.print(f"  {name.upper()}: {r['summary']}", highlight=False, markup=False)
    t = Table(header_style="bold")
    for h in ("study", "design", "outcome", "domain", "estimate", "95% CI", "unit", "n",
              "pooled?"):
        t.add_column(h, overflow="fold")
    for s in detail["studies"]:
        for e in s["effects"]:
            ci = ("—" if e["ci_low"] is None
                  else f"{e['ci_low']:,.4g} to {e['ci_high']:,.4g}")
            unit = (e.get("unit") or "not stated") + ("" if e.get("unit_verified", True)
                                                       else " (unverified)")
            t.add_row(s["id"], s["design"], e["outcome"] + (
                f" [{e['subgroup']}]" if e.get("subgroup", "all") != "all" else ""),
                e.get("domain") or "—", f"{e['estimate']:,.4g}", ci, unit,
                "" if e.get("n") is None else f"{e['n']:,}",
                "yes" if not e.get("not_pooled") else f"no: {e['not_pooled']}")
    console.print(t)
    console.print("Study ratings: upward evidence show STUDY_ID", highlight=False)


@evidence_app.command("pool")
def pool_cmd(
    intervention: Annotated[str, typer.Argument(help="The intervention id.")],
    outcome: Annotated[str, typer.Option("--outcome", help="The outcome id to pool.")],
    method: Annotated[str, typer.Option(help="REML, DL, PM, ML or FE.")] = "REML",
    hk: Annotated[bool, typer.Option("--hk", help="Hartung-Knapp-Sidik-Jonkman interval.")] =
    False,
    dollars_of: Annotated[int | None, typer.Option(
        "--dollars-of", help="Money in constant dollars of this year (CPI-U; default: the latest "
        "CPI year).")] = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Pool an intervention's studies on one outcome (random effects by default).

    Example: upward evidence pool national-supported-work --outcome earnings_annual --hk
    """
    from upward.evidence.money import latest_year
    from upward.evidence.projection import pool_evidence

    _check_format(fmt)
    result = pool_evidence(open_workspace(workspace), intervention, outcome, method=method,
                           hartung_knapp=hk, dollars_of=dollars_of or latest_year())
    if fmt == "json" or output:
        emit_text(result.to_json(), output)
        return
    from rich.table import Table

    console.print(result.headline(), highlight=False)
    t = Table(header_style="bold")
    for h in ("study", "estimate", "95% CI", "weight"):
        t.add_column(h, overflow="fold")
    for row in result.forest:
        t.add_row(row["study"], f"{row['estimate']:,.4g}",
                  f"{row['ci_low']:,.4g} to {row['ci_high']:,.4g}", f"{row['weight']:.1f}%")
    console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {escape(w)}", highlight=False)
    for x in result.excluded:
        console.print(f"[yellow]not pooled[/]: {escape(x)}", highlight=False)
    for note in result.notes:
        console.print(f"note: {escape(note)}", highlight=False)


@evidence_app.command("project")
def project_cmd(
    intervention: Annotated[str, typer.Argument(help="The intervention id.")],
    place: Annotated[str, typer.Option("--place", help="The city, e.g. 'Tulsa, OK'.")],
    outcome: Annotated[str, typer.Option("--outcome", help="The outcome id.")],
    eligible: Annotated[float | None, typer.Option(help="Number of eligible people.")] = None,
    share: Annotated[float | None, typer.Option(help="Eligible share of the place's population "
                                                "(from its profile).")] = None,
    share_metric: Annotated[str | None, typer.Option(
        help="A share metric of the profile; eligible = population × it.")] = None,
    complement: Annotated[bool, typer.Option(help="Use 1 − the share metric.")] = False,
    take_up: Annotated[float | None, typer.Option(
        help="Share of eligible people who take part (default: the study's first stage; "
        "needed when there is none).")] = None,
    take_up_range: Annotated[tuple[float, float] | None, typer.Option(
        help="Uncertain take-up: LOW HIGH.")] = None,
    cost: Annotated[float | None, typer.Option(help="Dollars per participant, of the --dollars-of "
                                               "year (default: the intervention's).")] = None,
    method: Annotated[str, typer.Option(help="Pooling method.")] = "REML",
    hk: Annotated[bool, typer.Option("--hk", help="Hartung-Knapp interval.")] = False,
    dollars_of: Annotated[int | None, typer.Option(
        "--dollars-of", help="Money in constant dollars of this year (default: the latest CPI "
        "year).")] = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """What would this intervention do here: the pooled effect on a place's eligible people,
    with the range for a new city (prediction interval) and the total cost.

    Example: upward evidence project national-supported-work --place "Tulsa, OK"
    --outcome earnings_annual --eligible 5000 --take-up 0.3
    """
    from upward.evidence.projection import project_in_place

    _check_format(fmt)
    result = project_in_place(open_workspace(workspace), intervention, outcome, place,
                              eligible=eligible, share=share, share_metric=share_metric,
                              complement=complement, take_up=take_up,
                              take_up_range=take_up_range, cost_per_participant=cost,
                              method=method, hartung_knapp=hk, dollars_of=dollars_of)
    if fmt == "json" or output:
        emit_text(result.to_json(), output)
        return
    for line in result.lines():
        console.print(line, highlight=False)


@evidence_app.command("key")
def key_cmd(workspace: WorkspaceOption = None) -> None:
    """This workspace's public signing key and fingerprint, for cities importing its bundles.

    Example: upward evidence key
    """
    import base64

    from upward.evidence.bundle import fingerprint, public_key_text

    text = public_key_text(open_workspace(workspace))
    console.print(f"public key: {text}\nfingerprint: {fingerprint(base64.b64decode(text))}",
                  highlight=False)


@evidence_app.command("trust")
def trust_cmd(
    key: Annotated[str, typer.Argument(help="A base64 public key, or a file holding one.")],
    name: Annotated[str, typer.Option(help="Whose key it is, e.g. 'City of Tulsa'.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Trust bundles signed by this key from now on.

    Example: upward evidence trust tulsa.pub --name "City of Tulsa"
    """
    from upward.evidence.bundle import trust_key

    entry = trust_key(open_workspace(workspace), key, name=name)
    console.print(f"trusted {entry.name}: {entry.fingerprint}", highlight=False)


@evidence_app.command("remove")
def remove_cmd(
    record_id: Annotated[str, typer.Argument(help="A study id, or an intervention id (removes "
                                             "its studies too).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a study or an intervention from the library.

    Example: upward evidence remove nsw-afdc-women-lalonde-1986
    """
    console.print(_library(workspace).remove(record_id))


def fetch_evidence_command(ws, from_dir: Path | None, report) -> str:
    """``upward fetch evidence --from DIR``: load the published estimates into the library."""
    from upward.evidence.policy_impacts import fetch_evidence

    if from_dir is None:
        raise ConfigError("the published evidence is read from a local copy",
                          fix="run: upward fetch evidence --from ../shared/data")
    report("reading evidence.policy_impacts")
    return str(fetch_evidence(ws, from_dir))


def register(app: typer.Typer) -> None:
    """Add the ``evidence`` command group to the ``upward`` app.

    >>> register(typer.Typer())
    """
    app.add_typer(evidence_app, name="evidence")
