"""Metrics: the catalog of declared metrics (and, later, the estimators that compute them).

Examples
--------
>>> from upward.metrics import get_metric
>>> get_metric("ec").predictor
'Economic connectedness'
"""

from __future__ import annotations

from upward.metrics.catalog import (
    CatalogError,
    Metric,
    all_metrics,
    get_metric,
    metric_ids,
    parse_catalog,
)

__all__ = ["CatalogError", "Metric", "all_metrics", "get_metric", "metric_ids", "parse_catalog"]
