"""Connectors, one module per publisher; importing this package registers every dataset.

Examples
--------
>>> "urban.place_recent" in DATASETS
True
"""

from __future__ import annotations

from upward.sources import urban  # noqa: F401  (registers datasets)
from upward.sources.base import DATASETS, Dataset, Tables, datasets_of

for _module in ("opportunity_atlas", "commuting_zones", "social_capital", "tiger", "pums"):
    try:  # pragma: no cover - a connector module missing is a packaging error
        __import__(f"upward.sources.{_module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"upward.sources.{_module}":
            raise

#: The names ``upward fetch`` accepts, in load order.
SOURCE_NAMES = ("urban", "opportunity-atlas", "social-capital", "crosswalks", "tracts")

__all__ = ["DATASETS", "SOURCE_NAMES", "Dataset", "Tables", "datasets_of"]
