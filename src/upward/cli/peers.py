"""`upward peers PLACE`: the peers a place's reports use, why, and how to change them.

Examples
--------
>>> import typer
>>> register(typer.Typer())
"""

from __future__ import annotations

from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, open_workspace


def register(app: typer.Typer) -> None:
    """Add ``peers`` to the ``upward`` app.

    >>> register(typer.Typer())
    """

    @app.command("peers")
    def peers(
        place: Annotated[str, typer.Argument(help="A name ('Tulsa, OK') or a FIPS code.")],
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="Save this peer for the workspace (name or FIPS); repeat for each. "
            "Every later report and page uses the saved peers.")] = None,
        clear: Annotated[bool, typer.Option(
            "--clear", help="Forget the saved peers: back to the automatic ones.")] = False,
        k: Annotated[int, typer.Option("--k", help="Number of automatic peers.")] = 10,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Show the peers of a place and why they were chosen; save your own with --set.

        Example: upward peers "Racine, WI" --set "Kenosha, WI" --set "Green Bay, WI" -w ws
        """
        from rich.table import Table

        from upward.diagnose.peers import (
            PEERS_FILE,
            given_peers,
            peers_for,
            save_peers,
        )
        from upward.geo.resolve import resolve
        from upward.measure import frames
        from upward.measure.render import fitted
        from upward.warehouse.store import Warehouse

        ws = open_workspace(workspace)
        path = ws.root / PEERS_FILE
        with Warehouse(ws.warehouse_path, read_only=True) as wh:
            target = resolve(place, frames.named_geographies(wh))
            if set_ or clear:
                chosen = given_peers(wh, target, list(set_)) if set_ else None
                save_peers(path, target.geo_id, chosen.ids if chosen else None)
                console.print(f"saved in {path}" if chosen else
                              f"forgot the saved peers of {target.name}")
            result = peers_for(wh, target, None, k)
        table = Table(title=f"Peers of {target.name}", caption=f"Chosen by: {result.method}",
                      header_style="bold")
        table.add_column("Peer")
        table.add_column(f"Why (figures of {target.name.split(',')[0]} in brackets)")
        for p in result.peers:
            table.add_row(p.name, p.why)
        console.print(fitted(console, table))
