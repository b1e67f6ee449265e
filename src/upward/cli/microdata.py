"""`upward microdata estimate|table`: metrics and tabulations from PUMS microdata.

Only typer is imported at start-up; the estimators load when a command runs.

Examples
--------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["microdata", "--help"]).exit_code
0
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, open_workspace

FORMATS = ("table", "json", "csv")


def _check_format(fmt: str) -> None:
    from upward.core.errors import ConfigError

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not a format", fix="use table, json or csv")


def _emit(result, fmt: str, output: Path | None, title: str) -> None:
    if fmt == "table" and output is None:
        from rich.table import Table

        t = Table(title=f"{title} — {result.release}, engine {result.engine}",
                  header_style="bold")
        frame = result.frame
        for col in frame.columns:
            t.add_column(col, justify="right" if frame[col].dtype.kind in "fi" else "left")
        for row in frame.itertuples(index=False):
            t.add_row(*[_fmt(v) for v in row])
        console.print(t)
        for note in result.notes:
            console.print(f"[yellow]note[/]: {note}")
        return
    emit_text(result.to_json() if fmt == "json" else result.to_csv(), output)


def _fmt(v) -> str:
    if isinstance(v, float):
        if v != v:
            return "—"
        return f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}"
    return str(v)


def register(app: typer.Typer) -> None:
    """Add the ``microdata`` command group to the ``upward`` app.

    >>> register(typer.Typer())
    """
    micro = typer.Typer(help="Metrics and tabulations from Census PUMS microdata, with "
                        "replicate-weight intervals. Example: upward microdata estimate "
                        "--metric share_employed --geo place --by race", no_args_is_help=True)
    app.add_typer(micro, name="microdata")

    @micro.command("estimate")
    def estimate_cmd(
        metric: Annotated[str, typer.Option("--metric", "-m", help="A metric with a PUMS "
                                            "recipe, e.g. share_employed, pctl_income_50.")],
        geo: Annotated[str, typer.Option("--geo", help="place, county, area (the custom areas), puma or state.")
                       ] = "county",
        by: Annotated[list[str] | None, typer.Option(
            "--by", help="race, sex, age, disability, tenure or a PUMS column; repeatable.")
        ] = None,
        where: Annotated[str | None, typer.Option("--where", help='Extra condition, e.g. '
                                                   '"ST=40".')] = None,
        engine: Annotated[str | None, typer.Option(
            "--engine", help="duckdb or spark (default: the workspace's [microdata] engine).")
        ] = None,
        year: Annotated[int | None, typer.Option("--year", help="Release year "
                                                 "(default: newest stored).")] = None,
        store: Annotated[bool, typer.Option("--store", help="Store as observations, so "
                                            "profile and barriers use them.")] = False,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")
                       ] = "table",
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this "
                                                    "file.")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Estimate a mobility metric from PUMS for every place or county, by group.

        Example: upward microdata estimate --metric share_employed --geo place --by race
        """
        from upward.microdata import estimate

        _check_format(fmt)
        with console.status("estimating…"):
            result = estimate(metric, geo=geo, by=by, where=where, engine=engine, year=year,
                              store=store, workspace=open_workspace(workspace))
        _emit(result, fmt, output, metric)
        if store:
            console.print(f"stored {len(result.frame)} observations of {metric}")

    @micro.command("table")
    def table_cmd(
        rows: Annotated[str, typer.Option("--rows", help="Row variable, e.g. AGEP_band.")],
        cols: Annotated[str | None, typer.Option("--cols", help="Column variable, e.g. "
                                                 "RAC1P.")] = None,
        where: Annotated[str | None, typer.Option("--where", help='Condition, e.g. "ST=40".')
                         ] = None,
        records: Annotated[str, typer.Option("--records", help="persons or households.")
                           ] = "persons",
        engine: Annotated[str | None, typer.Option("--engine", help="duckdb or spark.")
                          ] = None,
        year: Annotated[int | None, typer.Option("--year", help="Release year.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")
                       ] = "table",
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this "
                                                    "file.")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """A weighted tabulation with margins ("All"), each cell with SE and 95% bounds.

        Example: upward microdata table --rows AGEP_band --cols RAC1P --where "ST=40"
        """
        from upward.microdata import table

        _check_format(fmt)
        with console.status("tabulating…"):
            result = table(rows, cols, where=where, records=records, engine=engine, year=year,
                           workspace=open_workspace(workspace))
        _emit(result, fmt, output, f"{records} by {rows}" + (f" × {cols}" if cols else ""))


def fetch_pums_command(workspace, *, states, year, span, from_dir, refresh, report) -> list[str]:
    """Run ``upward fetch pums`` (called by ``upward fetch`` when ``pums`` is named).
    """
    from upward.warehouse.microdata import fetch_pums

    return fetch_pums(workspace, states=states, year=year, span=span, from_dir=from_dir,
                      refresh=refresh, report=report)
