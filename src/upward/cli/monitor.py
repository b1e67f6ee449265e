"""`upward monitor SPEC`: refresh a monitored (running) evaluation; `upward monitor --demo N`
writes the demo city's monitored pilot after N weeks and refreshes it.

Examples
--------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> sorted(c.name for c in app.registered_commands)
['monitor']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, err_console, open_workspace
from upward.core.errors import UpwardError

MONITOR_FORMATS = ("table", "json", "html")


def run_monitor(spec: Path | None, workspace, *, demo: int | None = None,
                fmt: str = "table", output: Path | None = None, save: bool = True,
                lang: str = "en") -> None:
    """Refresh the monitored evaluation of ``spec`` (or of the demo pilot after ``demo``
    weeks) and print or write it in ``fmt`` (the HTML report in ``lang``)."""
    from upward.cli.evaluate import check_lang
    from upward.evaluate.monitor import monitor

    if fmt not in MONITOR_FORMATS:
        raise UpwardError(f"--format {fmt!r} is not a format",
                          fix=f"use one of {', '.join(MONITOR_FORMATS)}")
    if fmt == "html" and output is None:
        raise UpwardError("--format html needs --output FILE", fix="add for example -o monitor.html")
    check_lang(lang, fmt)
    ws = open_workspace(workspace, create=True)
    if demo is not None:
        from upward.demo.pilot import MONITOR_FOLDER, PILOT_FOLDER, write_monitored_pilot
        from upward.demo.run import DEMO_FOLDER

        if spec is not None:
            raise UpwardError("give a SPEC or --demo, not both",
                              fix="drop --demo to refresh your own spec")
        pilot = write_monitored_pilot(ws.root / DEMO_FOLDER / PILOT_FOLDER / MONITOR_FOLDER,
                                      weeks=demo)
        spec = pilot.spec_path
        err_console.print(f"SYNTHETIC demo pilot: {demo} of {pilot.weeks_planned} weeks written "
                          f"to {pilot.weekly} (true effect ${pilot.true_effect:,.0f})",
                          highlight=False)
    if spec is None:
        raise UpwardError("no spec given", fix="run 'upward monitor SPEC.yaml' (or --demo 4)")
    with err_console.status("re-estimating…"):
        result = monitor(spec, ws, save=save)
    if fmt == "json":
        emit_text(result.to_json(), output)
    elif fmt == "html":
        from upward.report.evaluation import render_monitor_report

        emit_text(render_monitor_report(result, lang=lang), output)
    else:
        _print(result)
    if save:
        from upward.evaluate.monitor import monitor_path

        err_console.print(f"saved {monitor_path(ws, result.name)}", highlight=False)


def _print(result) -> None:
    from rich.table import Table

    from upward.evaluate.render import fmt

    level = round(100 * (1 - result.alpha))
    console.print(("[bold green]" if result.act else "[bold yellow]") + result.verdict + "[/]")
    console.print(result.headline(), highlight=False)
    t = Table(title=f"Estimate path ({level}% confidence sequence, valid at every look)",
              header_style="bold", title_justify="left")
    for h in ("look", "enrolled", "planned", "estimate", "sequence", "ordinary CI (one look)",
              "spent to date"):
        t.add_column(h, justify="left" if h == "look" else "right")
    for look in result.looks:
        t.add_row(look.label, f"{look.enrolled:,}",
                  f"{look.planned_to_date:,}" if look.planned_to_date else "—",
                  fmt(look.estimate), f"{fmt(look.lower)} to {fmt(look.upper)}",
                  f"{fmt(look.fixed_lower)} to {fmt(look.fixed_upper)}",
                  fmt(look.spent_to_date) if look.spent_to_date is not None else "—")
    console.print(t)
    if result.cost is not None:
        c = result.cost
        span = c.per_unit_outcome_range
        console.print(f"Cost to date {fmt(c.spent_to_date)}: {fmt(c.per_participant)} per "
                      f"participant, {fmt(c.per_unit_outcome)} per unit of {result.outcome} "
                      + (f"({fmt(span[0])} to {fmt(span[1])} over the sequence)" if span
                         else "(unbounded while the sequence includes zero)"), highlight=False)
    for note in result.notes:
        console.print(f"Note: {note}", style="dim", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``upward monitor`` to the app.

    >>> register(typer.Typer())
    """

    @app.command("monitor")
    def monitor_cmd(
        spec: Annotated[Path | None, typer.Argument(
            help="A spec with a 'monitor:' section (docs/monitoring.md).")] = None,
        demo: Annotated[int | None, typer.Option(
            "--demo", help="Write the demo city's SYNTHETIC monitored pilot after this many "
            "weeks (1-12) and refresh it.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or html")] = "table",
        output: Annotated[Path | None, typer.Option("--output", "-o",
                                                    help="Write to this file.")] = None,
        save: Annotated[bool, typer.Option(help="Save the path in the workspace.")] = True,
        lang: Annotated[str, typer.Option(
            "--lang", help="Language of the HTML report: en (English) or es (Spanish).")] = "en",
        workspace: WorkspaceOption = None,
    ) -> None:
        """Refresh a running program's evaluation: re-estimate with an anytime-valid confidence
        sequence, show the path, enrolment against the plan and cost to date, and say whether
        the evidence is strong enough to act.

        Example: upward monitor --demo 6 -w ws -f html -o monitor.html
        """
        run_monitor(spec, workspace, demo=demo, fmt=fmt, output=output, save=save, lang=lang)
