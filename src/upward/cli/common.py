"""What every command module shares: the consoles, the ``--workspace`` option, opening the
workspace and writing a text result to a file or stdout.

Examples
--------
>>> emit_text("done", None)
done
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: $UPWARD_WORKSPACE, "
                 "else ./upward-workspace).", show_default=False),
]


def open_workspace(option: Path | None, *, create: bool = False):
    """The workspace named by ``--workspace`` (or the default), created when ``create``.

    >>> import tempfile
    >>> open_workspace(Path(tempfile.mkdtemp()) / "ws", create=True).settings_path.name
    'upward.toml'
    """
    from upward.warehouse.workspace import Workspace, resolve_workspace

    root = resolve_workspace(option)
    return Workspace.init(root) if create else Workspace.open(root)


def emit_text(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` (saying so) or to stdout.

    >>> emit_text("hello", None)
    hello
    """
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
