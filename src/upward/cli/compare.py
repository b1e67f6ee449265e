"""`upward compare A B …`: 2–6 places, counties or custom areas side by side, with the
significance of the differences from the first.

Examples
--------
>>> import typer
>>> register(typer.Typer())
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, open_workspace
from upward.core.errors import UpwardError

FORMATS = ("table", "json", "csv")


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the ``upward`` app.

    >>> register(typer.Typer())
    """

    @app.command("compare")
    def compare(
        places: Annotated[list[str], typer.Argument(
            help="2 to 6 places, counties or custom areas (names, FIPS codes or area ids); the "
                 "first is the reference.")],
        alpha: Annotated[float, typer.Option("--alpha", help="False discovery rate.")] = 0.05,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv")] = "table",
        output: Annotated[Path | None, typer.Option("--output", "-o",
                                                    help="Write to this file.")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Compare places and custom areas side by side: every metric with its 95% interval,
        and each one's difference from the first with its margin of error and significance (z
        test, Benjamini–Hochberg across the table). An area brings its ACS measures (tract sums
        with margins); an area inside a city is tested with the replicate estimates of the
        difference, not as an independent sample.

        Example: upward compare "Tulsa, OK" "Oklahoma City, OK" "Wichita, KS" -w ws

        Example: upward compare "District 3" "District 1" "Demo City" -w demo-ws
        """
        if fmt not in FORMATS:
            raise UpwardError(f"--format {fmt!r} is not a format",
                              fix=f"use one of {', '.join(FORMATS)}")
        ws = open_workspace(workspace)
        from upward.measure.compare import rich_table
        from upward.measure.compare_areas import compare_geographies
        from upward.measure.render import fitted
        from upward.warehouse.store import Warehouse

        with Warehouse(ws.warehouse_path, read_only=True) as wh, console.status("comparing…"):
            result = compare_geographies(ws, wh, list(places), alpha=alpha)
        if fmt == "table" and output is None:
            console.print(fitted(console, rich_table(result)))
            for w in result.warnings:
                console.print(f"[yellow]note:[/] {w}")
            return
        text = (result.to_json() if fmt == "json" else
                result.to_frame().to_csv(index=False) if fmt == "csv" else
                result.to_frame().to_string())
        emit_text(text, output)
