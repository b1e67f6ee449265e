"""`upward evaluate SPEC` and `upward plan`: impact estimates and pilot power.

Examples
--------
>>> import typer
>>> register(typer.Typer())
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``upward`` app.

    >>> register(typer.Typer())
    """
