"""`upward sync [NAME…] [--full] [--watch]`, `upward feeds`, `upward spending`: city feeds.

Examples
--------
>>> import typer
>>> register(typer.Typer())
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, err_console, open_workspace

#: Longest sleep of ``upward sync --watch`` between looks at the schedule (seconds).
WATCH_TICK = 60.0


def _money(value) -> str:
    if value is None or value != value:
        return "—"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def _print_results(results) -> int:
    from upward.sources.feeds import FeedError

    failed = 0
    for name, result in results:
        if isinstance(result, FeedError):
            failed += 1
            err_console.print(f"[bold red]{name}[/]: {result}", highlight=False, markup=False)
        else:
            console.print(str(result), highlight=False, markup=False)
    return failed


def register(app: typer.Typer) -> None:
    """Add ``sync``, ``feeds`` and ``spending`` to the ``upward`` app.

    >>> register(typer.Typer())
    """

    @app.command()
    def sync(
        names: Annotated[list[str] | None, typer.Argument(
            help="Feeds to sync (names under [feeds.NAME] in upward.toml); all when none.")
        ] = None,
        full: Annotated[bool, typer.Option(
            "--full", help="Pull the whole feed again instead of what changed since the "
            "last sync.")] = False,
        watch: Annotated[bool, typer.Option(
            "--watch", help="Keep running: sync each feed when its schedule says it is due.")
        ] = False,
        cycles: Annotated[int | None, typer.Option(
            "--cycles", hidden=True, help="Stop --watch after this many looks (tests).")] = None,
        tick: Annotated[float, typer.Option(
            "--tick", hidden=True, help="Seconds between looks of --watch.")] = WATCH_TICK,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Pull what changed in the city's data feeds and load it all or nothing.

        Example: upward sync permits

        Example: upward sync --watch
        """
        from upward.core.errors import ConfigError
        from upward.warehouse.feeds import sync_feeds

        ws = open_workspace(workspace)
        if not ws.settings.feeds:
            raise ConfigError(f"no feeds are declared in {ws.settings_path}",
                              fix="add a [feeds.NAME] table (see docs/feeds.md)")
        if not watch:
            with console.status("syncing…") as status:
                results = sync_feeds(ws, names or None, full=full, progress=status.update)
            if _print_results(results):
                raise typer.Exit(1)
            return
        looks = 0
        console.print(f"watching {', '.join(names or sorted(ws.settings.feeds))} "
                      "(Ctrl-C to stop)")
        while cycles is None or looks < cycles:
            looks += 1
            _print_results(sync_feeds(ws, names or None, due_only=True))
            if cycles is not None and looks >= cycles:
                break
            time.sleep(tick)

    @app.command()
    def feeds(workspace: WorkspaceOption = None) -> None:
        """List the declared feeds: rows, unplaced records, last sync, age and alarms.

        Example: upward feeds
        """
        from rich.table import Table

        from upward.warehouse.feeds import feed_status

        ws = open_workspace(workspace)
        status = feed_status(ws)
        if status.empty:
            console.print("No feeds are declared (add [feeds.NAME] to upward.toml).")
            return
        t = Table(title="City data feeds", header_style="bold")
        for h in ("feed", "platform", "rows", "not placed", "last sync", "age", "schedule",
                  "alarm"):
            t.add_column(h)
        for r in status.itertuples():
            alarm = f"[bold red]{r.alarm.upper()}[/]: {r.reason}" if r.alarm else "ok"
            t.add_row(r.feed, r.platform, "—" if r.rows is None or r.rows != r.rows
                      else f"{int(r.rows):,}",
                      "—" if r.unplaced is None or r.unplaced != r.unplaced
                      else f"{int(r.unplaced):,}", r.last_success or "never", r.age, r.schedule,
                      alarm)
        console.print(t)

    @app.command()
    def spending(
        by: Annotated[str, typer.Option(
            "--by", help="tract, area or program.")] = "tract",
        feed: Annotated[list[str] | None, typer.Option(
            "--feed", help="Only these feeds (repeatable); all when none.")] = None,
        metric: Annotated[str, typer.Option(
            "--metric", help="--by tract: the mobility metric shown beside the dollars.")
        ] = "kfr_dollars_p25",
        area: Annotated[str | None, typer.Option(
            "--area", help="--by area: an area set, area name or id.")] = None,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="Write CSV here instead of printing a table.")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Spending by tract, custom area or program, with unplaced records counted.

        Dollars per resident by tract (beside a mobility metric) or by custom area, or dollars
        per participant and per outcome by program.

        Example: upward spending --by tract --metric kfr_dollars_p25

        Example: upward spending --by program
        """
        from rich.table import Table

        from upward.core.errors import ConfigError
        from upward.measure.spending import (
            program_costs,
            spending_by_area,
            spending_by_tract,
            spending_summary,
        )

        ws = open_workspace(workspace)
        if by == "tract":
            table = spending_by_tract(ws, feed, metric_id=metric)
        elif by == "area":
            table = spending_by_area(ws, feed, area)
        elif by == "program":
            table = program_costs(ws, feed)
        else:
            raise ConfigError(f"--by {by!r} is not tract, area or program",
                              fix="use --by tract, --by area or --by program")
        if output is not None:
            emit_text(table.rows.to_csv(index=False), output)
            return
        t = Table(title=f"Spending by {by}", header_style="bold")
        for col in table.rows.columns:
            t.add_column(col.replace("_", " "))
        for row in table.rows.itertuples(index=False):
            t.add_row(*[_money(v) if ("dollar" in c and isinstance(v, int | float)) or
                        (c == "dollars") else ("—" if v is None or v != v else
                                               f"{v:,.0f}" if isinstance(v, float) else str(v))
                        for c, v in zip(table.rows.columns, row, strict=True)])
        console.print(t)
        summary = spending_summary(ws, feed)
        for r in summary[~summary["placed"]].itertuples():
            console.print(f"not placed — {r.feed}: {r.records:,} record"
                          f"{'s' if r.records != 1 else ''} ({_money(r.dollars)}): "
                          f"{r.reason}", highlight=False, markup=False)
        for note in table.notes:
            console.print(f"note: {note}", highlight=False, markup=False)
