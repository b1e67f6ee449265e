"""Disclosure control for anything Upward publishes.

* :mod:`upward.privacy.suppression` — the CMS cell-size rule (no count of 1–10 people is shown)
  with complementary suppression, and an LP audit of what an attacker can still infer:
  ``suppress_table``, ``suppress_statistics``, ``audit``, ``is_publishable``.
* :mod:`upward.privacy.noise` — optional differential privacy through OpenDP
  (``pip install "upward[privacy]"``): ``dp_count``, ``dp_mean`` and a ``PrivacyBudget`` ledger.
  Imported lazily, so suppression works without OpenDP.

Examples
--------
>>> import pandas as pd
>>> from upward.privacy import suppress_table
>>> s = suppress_table(pd.DataFrame({"a": [5, 50], "b": [50, 50]}), k=11)
>>> s.audit.passed
True
"""

from __future__ import annotations

from upward.privacy.suppression import (
    Audit,
    CellInterval,
    DisclosureTableError,
    SuppressedStatistics,
    SuppressedTable,
    audit,
    is_publishable,
    suppress_statistics,
    suppress_table,
)

_NOISE = ("BudgetExceededError", "DPRelease", "PrivacyBudget", "PrivacyUnavailableError",
          "dp_count", "dp_mean")


def __getattr__(name: str):
    """Noise functions on first use, so OpenDP is imported only when needed.

    >>> from upward import privacy
    >>> privacy.PrivacyBudget(1.0).remaining
    1.0
    """
    if name in _NOISE:
        from upward.privacy import noise

        return getattr(noise, name)
    raise AttributeError(f"module 'upward.privacy' has no attribute {name!r}")


__all__ = ["Audit", "CellInterval", "DisclosureTableError", "SuppressedStatistics",
           "SuppressedTable", "audit", "is_publishable", "suppress_statistics", "suppress_table",
           *_NOISE]
