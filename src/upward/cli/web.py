"""`upward serve`: the web application.

Examples
--------
>>> import typer
>>> from typer.testing import CliRunner
>>> app = typer.Typer()
>>> register(app)
>>> "--port" in CliRunner().invoke(app, ["--help"]).output
True
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from upward.cli.common import WorkspaceOption, err_console, open_workspace


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``upward`` app.

    >>> register(typer.Typer())
    """

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this "
                                               "computer only; 0.0.0.0: the network).")]
        = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
        workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
        database: Annotated[str | None, typer.Option(
            "--database", help="Run the shared server (accounts, roles, restricted data) on "
            "this PostgreSQL database: postgresql://USER@HOST:PORT/DB (default: "
            "$UPWARD_DATABASE, else [server] database in upward.toml; none: the single-user "
            "site).", show_default=False)] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Serve the web application (pages and JSON API) for a workspace.

        Example: upward serve --workspace ws --port 8000, then open http://127.0.0.1:8000

        Example: upward serve --database postgresql://upward@127.0.0.1:5432/upward
        """
        from upward.cli.users import resolve_database

        ws = open_workspace(workspace)
        serve_workspace(ws, host=host, port=port, workers=workers,
                        database=resolve_database(database, ws.root))


def is_loopback(host: str) -> bool:
    """Whether ``host`` only answers this computer.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_workspace(ws, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
                    database: str | None = None) -> None:
    """Run the web application for ``ws`` with uvicorn until interrupted (the shared server
    when ``database`` is given)."""
    import uvicorn

    if database:
        from upward.web.server.db import check_dsn

        check_dsn(database)
    err_console.print(f"Serving [bold]{escape(str(ws.root))}[/] at http://{host}:{port} "
                      "(API reference at /docs; Ctrl+C stops)")
    if database:
        err_console.print("Shared server: accounts and restricted data in PostgreSQL; sign in "
                          f"at http://{host}:{port}/login", highlight=False)
    if not is_loopback(host) and not database:
        err_console.print(
            f"[bold yellow]warning[/]: --host {escape(host)} makes this server reachable from "
            "the network, and it has no accounts: anyone who can reach it reads every page "
            "and table of this workspace. Serve on 127.0.0.1 behind a proxy with "
            "authentication, or publish only what is public.", highlight=False)
    if workers == 1:
        from upward.web.app import create_app

        uvicorn.run(create_app(ws, database=database), host=host, port=port,
                    log_level="info", proxy_headers=True)
        return
    import os

    # Several processes each build the app from the workspace named in the environment.
    os.environ["UPWARD_WORKSPACE"] = str(ws.root.resolve())
    if database:
        os.environ["UPWARD_DATABASE"] = database
    uvicorn.run("upward.web.app:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="info")
