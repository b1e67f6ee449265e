"""Upward: measure, diagnose, test and share what works for economic mobility.

Examples
--------
>>> import upward
>>> "profile" in upward.__all__
True
"""

from __future__ import annotations

from upward.errors import UpwardError
from upward.measure.profile import Profile, profile
from upward.metrics import all_metrics, get_metric
from upward.warehouse.ingest import fetch
from upward.warehouse.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["Profile", "UpwardError", "Workspace", "__version__", "all_metrics", "fetch",
           "get_metric", "profile"]
