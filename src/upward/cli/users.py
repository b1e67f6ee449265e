"""`upward users add|list|disable|token`: the shared server's accounts, in its PostgreSQL
database (``--database``, else ``$UPWARD_DATABASE``, else ``[server] database`` in the
workspace's ``upward.toml``).

Examples
--------
>>> import typer
>>> from typer.testing import CliRunner
>>> app = typer.Typer()
>>> register(app)
>>> "disable" in CliRunner().invoke(app, ["users", "--help"]).output
True
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.markup import escape

from upward.cli.common import WorkspaceOption, console, err_console
from upward.core.errors import ConfigError

PASSWORD_ENV = "UPWARD_PASSWORD"
DATABASE_ENV = "UPWARD_DATABASE"

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="The server's PostgreSQL address, postgresql://USER@HOST:"
                 "PORT/DB (default: $UPWARD_DATABASE, else [server] database in upward.toml).",
                 show_default=False),
]


def resolve_database(option: str | None, workspace) -> str | None:
    """The database address: the option, else $UPWARD_DATABASE, else the workspace setting
    (``workspace`` is a path option or None; an unreadable workspace is simply skipped).

    >>> resolve_database("postgresql://u@h/db", None)
    'postgresql://u@h/db'
    """
    if option:
        return option
    if os.environ.get(DATABASE_ENV):
        return os.environ[DATABASE_ENV]
    from upward.core.errors import WorkspaceError
    from upward.warehouse.workspace import Workspace, resolve_workspace

    try:
        return Workspace.open(resolve_workspace(workspace)).settings.server.database
    except WorkspaceError:
        return None


def _engine(database: str | None, workspace):
    from upward.web.server.db import connect, migrate

    dsn = resolve_database(database, workspace)
    if not dsn:
        raise ConfigError("no server database is configured",
                          fix="give --database postgresql://USER@HOST:PORT/DB, set "
                          "$UPWARD_DATABASE, or add [server] database = \"…\" to upward.toml")
    engine = connect(dsn, pool_size=1)
    migrate(engine)
    return engine


def _password() -> str | None:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    return None


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group to the ``upward`` app.

    >>> register(typer.Typer())
    """
    users = typer.Typer(help="Accounts of the shared server. Example: upward users add ana "
                        "--tenant tulsa --role analyst --database postgresql://…",
                        no_args_is_help=True)
    app.add_typer(users, name="users")

    @users.command("add")
    def add(
        username: Annotated[str, typer.Argument(help="Lowercase user name, e.g. ana.lopez")],
        tenant: Annotated[str, typer.Option("--tenant", help="The city workspace (made when "
                                            "new), e.g. tulsa.")],
        role: Annotated[str, typer.Option("--role", help="viewer, analyst or admin.")]
        = "viewer",
        password_stdin: Annotated[bool, typer.Option(
            "--password-stdin", help="Read the password from standard input (else "
            "$UPWARD_PASSWORD, else a prompt).")] = False,
        database: DatabaseOption = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Add a user with a role in a city's workspace, or set an existing user's role there.

        Example: upward users add ana --tenant tulsa --role analyst
        """
        from upward.web.server.accounts import add_user, check_role, check_slug, check_username

        check_username(username)
        check_slug(tenant)
        check_role(role)
        engine = _engine(database, workspace)
        password = _password()
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        with engine.connect() as conn:
            from upward.web.server.accounts import user_by_name

            exists = user_by_name(conn, username) is not None
        if password is None and not exists:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        _created, message = add_user(engine, username, tenant=tenant, role=role,
                                     password=None if exists else password)
        console.print(escape(message), highlight=False)

    @users.command("list")
    def list_(
        tenant: Annotated[str | None, typer.Option("--tenant", help="Only this city's "
                                                   "members.")] = None,
        database: DatabaseOption = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """List users, their roles per workspace and live API tokens.

        Example: upward users list --tenant tulsa
        """
        from rich.table import Table

        from upward.web.server.accounts import list_users

        rows = list_users(_engine(database, workspace), tenant)
        table = Table("user", "roles", "status", "API tokens")
        for r in rows:
            roles = ", ".join(f"{t}: {role}" for t, role in sorted(r["roles"].items()))
            table.add_row(escape(r["username"]), escape(roles) or "—",
                          "disabled" if r["disabled"] else "active", str(r["tokens"]))
        console.print(table if rows else "no users yet")

    @users.command("disable")
    def disable(
        username: Annotated[str, typer.Argument(help="The user to disable.")],
        database: DatabaseOption = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Disable a user: no more logins; their sessions end and API tokens are revoked.

        Example: upward users disable ana
        """
        from upward.web.server.accounts import check_username, disable_user

        check_username(username)
        console.print(escape(disable_user(_engine(database, workspace), username)),
                      highlight=False)

    @users.command("token")
    def token(
        username: Annotated[str, typer.Argument(help="The user the token acts for.")],
        label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
        revoke: Annotated[int | None, typer.Option("--revoke", min=1, help="Revoke the "
                                                   "token with this id instead.")] = None,
        list_only: Annotated[bool, typer.Option("--list", help="List the user's tokens "
                                                "(ids and labels, never the tokens).")] = False,
        database: DatabaseOption = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Issue an API token for a user (printed once), list them, or revoke one.

        Example: upward users token ana --label notebook
        """
        from upward.web.server.accounts import (
            check_username,
            create_token,
            list_tokens,
            revoke_token,
        )

        check_username(username)
        engine = _engine(database, workspace)
        if revoke is not None:
            console.print(revoke_token(engine, revoke), highlight=False)
        elif list_only:
            for t in list_tokens(engine, username):
                console.print(f"{t['id']}  {escape(t['label'])}  {t['created_at']:%Y-%m-%d}  "
                              f"{'revoked' if t['revoked'] else 'live'}", highlight=False)
        else:
            token_id, secret = create_token(engine, username, label)
            err_console.print(f"API token {token_id} for {escape(username)} (shown once; "
                              "send it as 'Authorization: Bearer TOKEN'):", highlight=False)
            sys.stdout.write(secret + "\n")
