"""Upward: measure, diagnose, test and share what works for economic mobility.

The names below load on first use, so ``import upward`` (and every ``upward`` command) stays
quick.

Examples
--------
>>> import upward
>>> "profile" in upward.__all__ and "evaluate" in upward.__all__
True
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "BarrierReport": "upward.diagnose.report",
    "barriers": "upward.diagnose.report",
    "UpwardError": "upward.core.errors",
    "Profile": "upward.measure.profile",
    "profile": "upward.measure.profile",
    "all_metrics": "upward.metrics",
    "get_metric": "upward.metrics",
    "Workspace": "upward.warehouse.workspace",
    "EvaluationSpec": "upward.evaluate.spec",
    "EvaluationResult": "upward.evaluate.result",
    "evaluate": "upward.evaluate.run",
    "fetch": "upward.warehouse.ingest",
}


#: Submodules reachable as attributes after ``import upward`` (``upward.microdata.estimate``).
_SUBMODULES = frozenset({"microdata"})


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"upward.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'upward' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = sorted([*_EXPORTS, "__version__"])
