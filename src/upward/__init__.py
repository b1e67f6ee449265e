"""Upward: measure, diagnose, test and share what works for economic mobility.

Examples
--------
>>> import upward
>>> "profile" in upward.__all__
True
"""

from __future__ import annotations

from upward.diagnose.report import BarrierReport, barriers
from upward.errors import UpwardError
from upward.measure.profile import Profile, profile
from upward.metrics import all_metrics, get_metric
from upward.metrics.check import require_declared
from upward.warehouse import ingest
from upward.warehouse.workspace import Workspace

__version__ = "0.1.0"


def fetch(workspace: Workspace, sources: list[str], **options) -> list:
    """Load publishers' data into a workspace (see ``upward.warehouse.ingest.fetch``), rejecting
    files with metrics the catalog does not declare.

    >>> fetch  # doctest: +ELLIPSIS
    <function fetch at ...>
    """
    return ingest.fetch(workspace, sources, check=require_declared, **options)

__all__ = ["BarrierReport", "Profile", "UpwardError", "Workspace", "__version__", "all_metrics", "barriers", "fetch",
           "get_metric", "profile"]
