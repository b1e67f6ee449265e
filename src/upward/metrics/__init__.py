"""Metrics: the catalog of declared metrics (and, later, the estimators that compute them).

Examples
--------
>>> from upward.metrics import get_metric
>>> get_metric("ec").predictor
'Economic connectedness'
"""

from __future__ import annotations

from upward.metrics.catalog import (
    OUTCOME_DOMAINS,
    CatalogError,
    Metric,
    all_metrics,
    domain_label,
    get_metric,
    metric_ids,
    metrics_in_domain,
    parse_catalog,
)

__all__ = ["OUTCOME_DOMAINS", "CatalogError", "Metric", "all_metrics", "domain_label",
           "get_metric", "metric_ids", "metrics_in_domain", "parse_catalog"]
