"""`upward recommend PLACE` and `upward plan --from-evidence`: from a place's barriers to the
interventions that moved the same outcomes elsewhere, and to the pilot that would test one here.

Examples
--------
>>> import typer
>>> from typer.testing import CliRunner
>>> app = typer.Typer()
>>> register(app)
>>> CliRunner().invoke(app, ["--help"]).exit_code
0
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, open_workspace
from upward.core.errors import ConfigError

FORMATS = ("table", "json", "md")


def recommend_cmd(
    place: Annotated[str, typer.Argument(help="A city or county: 'Tulsa, OK' or a FIPS code.")],
    take_up: Annotated[float | None, typer.Option(
        "--take-up", help="Share of eligible people who would take part (default: each "
        "study's first stage; without one, effects are stated per 1,000 participants).")] = None,
    dollars_of: Annotated[int | None, typer.Option(
        "--dollars-of", help="Money in constant dollars of this year (default: the latest CPI "
        "year).")] = None,
    limit: Annotated[int, typer.Option(
        "--limit", help="Candidates shown per barrier (0: all).")] = 5,
    alpha: Annotated[float, typer.Option("--alpha", help="False discovery rate of the barrier "
                                         "tests.")] = 0.05,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or md")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] =
    None,
    workspace: WorkspaceOption = None,
) -> None:
    """Candidate interventions for each significant barrier of a place: pooled effect, rating
    and why, cost, what it would mean here, and the size of a pilot.

    Example: upward recommend "Tulsa, OK"

    Example: upward recommend "Tulsa, OK" --take-up 0.3 --format md -o tulsa-what-works.md
    """
    from upward.evidence.recommend import recommend

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not a format", fix=f"use one of {', '.join(FORMATS)}")
    if take_up is not None and not 0 < take_up <= 1:
        raise ConfigError(f"--take-up {take_up:g} must be above 0 and at most 1",
                          fix="give a share, e.g. --take-up 0.3")
    ws = open_workspace(workspace)
    with console.status("finding the barriers and the evidence…"):
        result = recommend(place, workspace=ws, dollars_of=dollars_of, take_up=take_up,
                           limit=limit or None, alpha=alpha)
    if fmt == "json":
        emit_text(result.to_json(), output)
    elif fmt == "md" or output:
        emit_text(result.to_markdown(), output)
    else:
        for line in result.lines():
            console.print(line, highlight=False, markup=False)


def plan_from_evidence_command(intervention: str, place: str | None, *, outcome: str | None,
                               target: str, sd: float | None, design: str, cluster_size: float,
                               icc: float, r2: float, share: float, alpha: float, power: float,
                               spec: Path | None, fmt: str, output: Path | None,
                               workspace: Path | None) -> None:
    """``upward plan --from-evidence INTERVENTION --place PLACE`` (called by the plan command)."""
    from upward.evidence.pilot import plan_from_evidence

    if not place:
        raise ConfigError("--from-evidence needs --place", fix="add --place \"Tulsa, OK\"")
    if design not in ("rct", "cluster"):
        raise ConfigError(f"--design {design!r} is not a pilot design for --from-evidence",
                          fix="use rct (people randomised) or cluster (groups randomised)")
    ws = open_workspace(workspace)
    plan, path = plan_from_evidence(ws, intervention, place, outcome=outcome, target=target,
                                    sd=sd, design=design, cluster_size=cluster_size, icc=icc,
                                    r2=r2, share_treated=share, alpha=alpha, power=power,
                                    spec=spec)
    if fmt == "json":
        emit_text(plan.to_json(), output)
    else:
        emit_text("\n".join(plan.lines()) + "\n", output)
    console.print(f"wrote the evaluation spec skeleton {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``recommend`` to the ``upward`` app.

    >>> register(typer.Typer())
    """
    app.command("recommend")(recommend_cmd)
