"""The ``upward`` command.

Examples
--------
>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["--help"]).exit_code
0
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from upward.cli import areas as areas_commands
from upward.cli import compare as compare_commands
from upward.cli import evaluate as evaluate_commands
from upward.cli import evidence as evidence_commands
from upward.cli import feeds as feeds_commands
from upward.cli import link as link_commands
from upward.cli import microdata as microdata_commands
from upward.cli import monitor as monitor_commands
from upward.cli import peers as peers_commands
from upward.cli import recommend as recommend_commands
from upward.cli import report as report_commands
from upward.cli import users as users_commands
from upward.cli import web as web_commands
from upward.cli.common import WorkspaceOption, console, emit_text, err_console
from upward.cli.common import open_workspace as _workspace
from upward.core.errors import UpwardError

app = typer.Typer(
    name="upward",
    help="Upward: measure, diagnose, test and share what works for economic mobility.\n\n"
    "Example: upward init ws && upward fetch urban opportunity-atlas social-capital "
    "--from ../shared/data --workspace ws && upward profile 'Tulsa, OK' --workspace ws",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
metrics_app = typer.Typer(help="The metric catalog. Example: upward metrics show share_employed",
                          invoke_without_command=True)
app.add_typer(metrics_app, name="metrics")
# Each command module adds its commands to the app (evaluate/plan; serve; report; evidence).
COMMAND_MODULES = (evaluate_commands, web_commands, report_commands, evidence_commands,
                   areas_commands, microdata_commands, feeds_commands, monitor_commands,
                   link_commands, recommend_commands, users_commands, compare_commands,
                   peers_commands)

@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to create.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Make a workspace folder: upward.toml, warehouse.duckdb, cache/, reports/.

    Example: upward init ws
    """
    from upward.warehouse.store import Warehouse

    ws = _workspace(directory or workspace, create=True)
    with Warehouse(ws.warehouse_path):
        pass
    console.print(f"Workspace ready at [bold]{ws.root}[/]")


@app.command()
def fetch(
    sources: Annotated[list[str], typer.Argument(
        help="urban, opportunity-atlas, social-capital, crosswalks, tracts, tract-relationship, "
        "pums, replicates, evidence (published program estimates), or acs (with --table)")],
    from_dir: Annotated[Path | None, typer.Option(
        "--from", help="Read local copies from this folder (laid out like ../shared/data, or "
        "with the publishers' file names) instead of downloading.")] = None,
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="Two-digit state FIPS for per-state files (tracts); repeatable.")] = None,
    refresh: Annotated[bool, typer.Option(help="Download again even if cached.")] = False,
    allow_shrink: Annotated[bool, typer.Option(
        "--allow-shrink", help="Replace loaded data even with a file that has fewer rows "
        "(refused otherwise: an empty or cut file, usually).")] = False,
    table: Annotated[str | None, typer.Option(
        "--table", help="acs: the table id (B17020, S1701, DP03, P1 …).")] = None,
    geo: Annotated[str, typer.Option(
        "--geo", help="acs: state, county, place, tract, 'block group' or zcta.")] = "tract",
    county: Annotated[str | None, typer.Option(
        "--county", help="acs: three-digit county code within --state.")] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help="acs, replicates: the release year (default 2023); pums: the release "
        "year (default: newest; 2019 onward).")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="acs: acs5 (default), acs1, dec/pl or dec/dhc; subject (S…) and "
        "profile (DP…) tables are found from the table id.")] = None,
    span: Annotated[int, typer.Option("--span", help="pums: 1- or 5-year release.")] = 5,
    workspace: WorkspaceOption = None,
) -> None:
    """Load publishers' data into the workspace, from their sites or from local copies.

    Example: upward fetch urban opportunity-atlas social-capital --from ../shared/data

    Example: upward fetch acs --table B17020 --geo tract --state 40 --county 143 --year 2023

    Example: upward fetch pums --state 40 --year 2023

    Example: upward fetch evidence --from ../shared/data
    """
    from upward import fetch as run_fetch
    from upward.geo.ids import repair_geoid

    ws = _workspace(workspace)
    if "acs" in sources:
        _fetch_acs(ws, sources, table, geo, state, county, year or 2023, dataset, refresh)
        return
    if "replicates" in sources:
        _fetch_replicates(ws, sources, table, state, year or 2023, from_dir, refresh)
        return
    states = None
    if state:
        try:
            states = [repair_geoid(s, "state") for s in state]
        except ValueError as exc:
            raise UpwardError(f"--state {state}: {exc}",
                              fix="give a two-digit FIPS code, e.g. 40") from None
    with console.status("fetching…") as status:
        def report(message: str) -> None:
            status.update(message)
            if message.startswith("[yellow]"):
                console.print(message)

        rest = [s for s in sources if s not in ("pums", "evidence")]
        results = [] if not rest else run_fetch(
            ws, rest, from_dir=from_dir, states=states,
            refresh=refresh, report=report, allow_shrink=allow_shrink)
        if "evidence" in sources:
            results.append(evidence_commands.fetch_evidence_command(ws, from_dir, report))
        if "pums" in sources:
            results += microdata_commands.fetch_pums_command(
                ws, states=states, year=year, span=span, from_dir=from_dir, refresh=refresh,
                report=report)
    for r in results:
        console.print(f"  {r}")


def _fetch_acs(ws, sources, table, geo, state, county, year, dataset, refresh) -> None:
    from upward.warehouse.census import fetch_acs

    if sources != ["acs"]:
        raise UpwardError("acs is fetched on its own", fix="run `upward fetch acs --table …` "
                          "separately from the other sources")
    if not table:
        raise UpwardError("upward fetch acs needs --table", fix="add --table B17020 (or another "
                          "table id)")
    if state and len(state) > 1:
        raise UpwardError("upward fetch acs takes one --state", fix="run it once per state")
    with console.status(f"asking the Census Data API for {table}…"):
        result, t = fetch_acs(ws, table, geo=geo, state=state[0] if state else None,
                              county=county, year=year, dataset=dataset, refresh=refresh)
    console.print(f"  {result}")
    console.print(f"  {t.table}: {len(t.variables)} variables × {len(t.values)} {geo} rows "
                  f"({t.dataset} {year})", highlight=False)
    missing = t.annotations[t.annotations["column"] == "E"] if len(t.annotations) else None
    if missing is not None and len(missing):
        for (code, reason), n in missing.groupby(["code", "reason"]).size().items():
            console.print(f"  [yellow]{n} missing[/] ({code}): {reason}", highlight=False)


def _fetch_replicates(ws, sources, table, state, year, from_dir, refresh) -> None:
    from upward.warehouse.replicates import add_replicates

    if sources != ["replicates"] or not state or len(state) != 1:
        raise UpwardError("upward fetch replicates takes one --state and no other source",
                          fix="run e.g. `upward fetch replicates --table B17020 --state 40`")
    tables = [t.strip() for t in table.split(",")] if table else None
    with console.status("reading Variance Replicate Estimate tables…"):
        got = add_replicates(ws, tables=tables, state=state[0], year=year, from_dir=from_dir,
                             refresh=refresh)
    for t in got:
        console.print(f"  {t.table}: {len(t.geo_ids)} geographies × "
                      f"{t.cells['variable'].nunique()} cells, 80 replicates", highlight=False)


@app.command()
def profile(
    place: Annotated[str, typer.Argument(help="A name ('Tulsa city, Oklahoma', 'Tulsa, OK') "
                                          "or a FIPS code (4075000).")],
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="table, json, csv or md")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write to this file.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """A place's or county's mobility profile.

    Example: upward profile "Tulsa city, Oklahoma" --format json
    """
    formats = ("table", "json", "csv", "md")
    if fmt not in formats:
        raise UpwardError(f"--format {fmt!r} is not a format", fix=f"use one of {', '.join(formats)}")
    ws = _workspace(workspace)  # a wrong workspace is reported before the slow imports
    if _emit_area(ws, place, fmt, output):
        return
    from upward.measure.profile import profile as build

    p = build(place, workspace=ws)
    _emit_profile(p, fmt, output)


def _emit_area(ws, place: str, fmt: str, output: Path | None, alpha: float = 0.05) -> bool:
    """A custom area's profile/barriers (True), or False when ``place`` is not an area."""
    from upward.measure.areas import area_profile, find_area

    if find_area(ws, place) is None:
        return False
    p = area_profile(ws, place, alpha=alpha)
    if fmt == "table" and output is None:
        from rich.markup import escape
        from rich.table import Table

        t = Table(title=f"{p.name} ({p.set_name}): {p.tracts} tracts, {p.tracts_full} wholly "
                  f"inside", header_style="bold")
        for h in ("metric", "estimate", "± MOE 90%", "CV", "reliability", f"all {p.set_name}",
                  "vs the rest", "significant", "method"):
            t.add_column(h, overflow="fold")
        for r in p.display_rows():
            significant = "[red]behind[/]" if r["significant"] == "behind" else r["significant"]
            t.add_row(escape(r["label"]), r["estimate"], r["moe"], r["cv"], r["reliability"],
                      r["city"], r["difference"], significant, r["method"])
        console.print(t)
        for n in p.notes:
            console.print(f"  {n}", highlight=False)
        if p.unavailable:
            console.print(f"  not computed (table not loaded): {', '.join(p.unavailable)}",
                          highlight=False)
        return True
    text = {"json": p.to_json, "csv": p.to_csv}.get(fmt, p.to_markdown)()
    emit_text(text, output)
    return True


def _emit_profile(p, fmt: str, output: Path | None) -> None:
    from upward.measure.render import fitted, rich_tables

    if fmt == "table" and output is None:
        for t in rich_tables(p):
            console.print(fitted(console, t))
        return
    text = {"json": p.to_json, "csv": p.to_csv, "md": p.to_markdown}.get(fmt, p.to_markdown)()
    emit_text(text, output)


@app.command()
def barriers(
    place: Annotated[str, typer.Argument(help="A name ('Tulsa, OK') or a FIPS code.")],
    peers: Annotated[list[str] | None, typer.Option(
        "--peers", help="A comparison place (name or FIPS); repeat for several. Default: the "
        "k nearest by population, racial composition and region.")] = None,
    k: Annotated[int, typer.Option("--k", help="Number of automatic peers.")] = 10,
    alpha: Annotated[float, typer.Option("--alpha", help="False discovery rate.")] = 0.05,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or md")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Where a place falls significantly behind its peers and the nation, for whom, and where.

    Example: upward barriers "Detroit, MI" --peers "Cleveland, OH" --peers "Milwaukee, WI"
    """
    formats = ("table", "json", "md")
    if fmt not in formats:
        raise UpwardError(f"--format {fmt!r} is not a format", fix=f"use one of {', '.join(formats)}")
    ws = _workspace(workspace)  # a wrong workspace is reported before the slow imports
    if _emit_area(ws, place, fmt, output, alpha):
        return
    from upward.diagnose.render import rich_tables as barrier_tables
    from upward.diagnose.report import barriers as build

    if fmt == "table" and output is None:
        from upward.diagnose.render import summary_panel
        from upward.diagnose.summary import summarise
        from upward.warehouse.store import Warehouse

        with Warehouse(ws.warehouse_path, read_only=True) as wh, console.status("diagnosing…"):
            report = build(place, warehouse=wh, peers=peers or None, k=k, alpha=alpha)
            summary = summarise(wh, report)
        from upward.measure.render import fitted

        console.print(summary_panel(summary))
        for t in barrier_tables(report):
            console.print(fitted(console, t))
        return
    with console.status("diagnosing…"):
        report = build(place, workspace=ws, peers=peers or None, k=k, alpha=alpha)
    emit_text(report.to_json() if fmt == "json" else report.to_markdown(), output)


@metrics_app.callback()
def metrics_list(ctx: typer.Context) -> None:
    """List every declared metric.

    Example: upward metrics
    """
    if ctx.invoked_subcommand:
        return
    from rich.table import Table

    from upward.metrics import all_metrics

    t = Table(title="Metric catalog", header_style="bold")
    for h in ("id", "label", "pillar", "unit", "direction", "publisher"):
        t.add_column(h)
    for m in all_metrics():
        t.add_row(m.id, m.label, m.pillar, m.unit, m.direction, m.publisher)
    console.print(t)


@metrics_app.command("show")
def metrics_show(metric_id: Annotated[str, typer.Argument(help="A metric id.")]) -> None:
    """Explain one metric: definition, unit, direction, source, citation.

    Example: upward metrics show pctl_income_20
    """
    from upward.metrics import get_metric

    m = get_metric(metric_id)
    for key, value in m.to_dict().items():
        console.print(f"[bold]{key}[/]: {value}")


@app.command("sources")
def sources_cmd(workspace: WorkspaceOption = None) -> None:
    """What is loaded, from where, with sha256 and row counts.

    Example: upward sources
    """
    from rich.table import Table

    from upward.warehouse.store import Warehouse

    ws = _workspace(workspace)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        src = wh.sources()
    t = Table(title=f"Loaded datasets in {ws.root}", header_style="bold")
    for h in ("dataset", "rows", "sha256", "retrieved", "from"):
        t.add_column(h, overflow="fold")
    for r in src.itertuples():
        t.add_row(r.dataset, f"{r.rows:,}", r.sha256[:12], r.retrieved_at, r.url)
    console.print(t)


@app.command()
def demo(
    workspace: WorkspaceOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, csv or md")] = "table",
    serve: Annotated[bool, typer.Option("--serve", help="Then serve the demo workspace in the "
                                        "web application.")] = False,
    host: Annotated[str, typer.Option(help="With --serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="With --serve: port.")] = 8000,
) -> None:
    """Offline: generate the synthetic demo city, load it through the real connectors, print
    its profile, evaluate its synthetic pilots (known true effects) and print each estimate
    next to the truth, enter them and the published studies in the evidence library, and with
    --serve open it all in the web application.

    Example: upward demo --workspace demo-ws --serve
    """
    from upward.demo.run import run_demo, run_demo_pilot
    from upward.evaluate.render import fmt as number

    ws = _workspace(workspace, create=True)
    with console.status("generating and loading the synthetic demo city…"):
        p, results = run_demo(ws)
    for r in results:
        err_console.print(f"  {r}")
    err_console.print("[bold yellow]SYNTHETIC DATA[/]: the demo city is invented by Upward; "
                      "it is not a real place.")
    _emit_profile(p, fmt, None)
    with console.status("evaluating the demo city's synthetic pilots…"):
        pilots = run_demo_pilot(ws)
    # Keep stdout machine-readable for --format json/csv/md: the pilot summary goes to stderr.
    out = console if fmt == "table" else err_console
    out.print("\n[bold]Synthetic pilots[/] (known true effects; specs in "
              f"{ws.root / 'demo-data' / 'pilot'}):", highlight=False)
    for e in pilots:
        if e.result is None:
            out.print(f"  {e.study.name}: skipped ({e.skipped})", highlight=False)
            continue
        out.print(f"  {e.study.name} ({e.study.design}): {e.result.headline()}", highlight=False)
        out.print(f"    true effect {number(e.study.true_effect)} ({e.study.unit}); "
                  f"{e.verdict}", highlight=False)
        for c in e.result.failed_checks():
            out.print(f"    [red]check failed — {c.name}[/]: {c.detail}", highlight=False)
    _demo_evidence(ws, out)
    if serve:
        from upward.cli.web import serve_workspace

        serve_workspace(ws, host=host, port=port)


def _demo_evidence(ws, out) -> None:
    from upward.demo.evidence import add_demo_evaluations
    from upward.evidence.papers import add_papers

    add_papers(ws)
    added = add_demo_evaluations(ws)
    out.print(f"\n[bold]Evidence library[/]: the published studies and "
              f"{'the demo pilots' if added else 'no demo pilots'} are in {ws.evidence_dir} "
              "(upward evidence list).", highlight=False)


for _module in COMMAND_MODULES:
    _module.register(app)


def main() -> None:
    """Entry point: run the app, print user errors without a traceback, exit non-zero."""
    from rich.markup import escape

    try:
        app()
    except UpwardError as exc:
        # The message may quote user text with brackets: print it literally, never as markup.
        err_console.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a defect of Upward's: say so plainly, without a traceback
        if os.environ.get("UPWARD_DEBUG"):
            raise
        err_console.print(
            f"[bold red]error[/]: Upward failed unexpectedly ({type(exc).__name__}: "
            f"{escape(str(exc)[:300])}). What to do: run again with "
            "UPWARD_DEBUG=1 to see the traceback, and report it with the command you ran.",
            highlight=False, soft_wrap=True)
        sys.exit(70)
