"""Disclosure constants, written once: every layer that publishes or suppresses imports them.

Examples
--------
>>> MIN_CELL_SIZE
11
"""

from __future__ import annotations

#: The smallest count of people a published cell may show (the CMS cell-size rule: counts of
#: 1 to 10 are never shown, nor can they be worked out from totals).
MIN_CELL_SIZE = 11
