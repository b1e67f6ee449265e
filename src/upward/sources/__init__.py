"""Connectors, one module per publisher; importing this package registers every dataset.

Examples
--------
>>> "urban.place_recent" in DATASETS
True
"""

from __future__ import annotations

from upward.sources import urban  # noqa: F401  (registers datasets)
from upward.sources.base import (
    DATASETS,
    TRACT_KINDS,
    Dataset,
    Kind,
    Publisher,
    Tables,
    dataset_of,
    datasets_of,
    file_source_names,
    release_label,
    source_ids_where,
    source_names,
)

# Registration order is load order (``source_names``): Atlas, Social Capital, crosswalks, tracts.
for _module in ("opportunity_atlas", "social_capital", "commuting_zones", "tiger", "census_api",
                "pums", "tract_relationship", "feeds", "policy_impacts"):
    try:  # pragma: no cover - a connector module missing is a packaging error
        __import__(f"upward.sources.{_module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"upward.sources.{_module}":
            raise

#: The built-in sources loaded from whole files, in load order (``upward fetch NAME --from DIR``;
#: ``acs``, ``pums`` and ``evidence`` have loaders of their own; ``source_names()`` lists every
#: source).
SOURCE_NAMES = file_source_names()

__all__ = ["DATASETS", "SOURCE_NAMES", "TRACT_KINDS", "Dataset", "Kind", "Publisher", "Tables",
           "dataset_of", "datasets_of", "file_source_names", "release_label", "source_ids_where",
           "source_names"]
