"""Published CSV cells that a spreadsheet would run as a formula are neutralised.

A cell starting ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets ("CSV injection"; OWASP). Text cells that start so get a
leading apostrophe, which spreadsheets show as plain text; numbers (``-3.5``) are left alone, so
a download still parses to the same numbers. :func:`restore_text` undoes it on re-import.
"""

from __future__ import annotations

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as it can be written to a published CSV cell.

    Examples
    --------
    >>> spreadsheet_safe('=HYPERLINK("http://x","click")')
    '\\'=HYPERLINK("http://x","click")'
    >>> spreadsheet_safe("-12.5"), spreadsheet_safe(-3), spreadsheet_safe("Tulsa")
    ('-12.5', -3, 'Tulsa')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def restore_text(text: str) -> str:
    """Undo :func:`spreadsheet_safe` on a text cell read back from a published CSV.

    >>> restore_text("'=1+2"), restore_text("'quoted"), restore_text("plain")
    ('=1+2', "'quoted", 'plain')
    """
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text
