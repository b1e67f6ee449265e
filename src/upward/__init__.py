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
    "UpwardError": "upward.errors",
    "Profile": "upward.measure.profile",
    "profile": "upward.measure.profile",
    "all_metrics": "upward.metrics",
    "get_metric": "upward.metrics",
    "Workspace": "upward.warehouse.workspace",
    "EvaluationSpec": "upward.evaluate.spec",
    "EvaluationResult": "upward.evaluate.result",
    "evaluate": "upward.evaluate.run",
}


def fetch(workspace, sources: list[str], **options) -> list:
    """Load publishers' data into a workspace (see ``upward.warehouse.ingest.fetch``), rejecting
    files with metrics the catalog does not declare.
    """
    from upward.metrics.check import require_declared
    from upward.warehouse import ingest

    return ingest.fetch(workspace, sources, check=require_declared, **options)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'upward' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = sorted([*_EXPORTS, "__version__", "fetch"])
