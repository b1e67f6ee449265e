"""What a connector is: a declared dataset of one publisher, read into canonical tables.

Each publisher module declares its datasets as ``Dataset`` objects and registers them; the
``fetch`` pipeline finds a dataset's file (downloaded from ``url`` or found under a local folder
by ``local_names``), calls its ``reader``, and hands the ``Tables`` to the warehouse.

Examples
--------
>>> t = Tables()
>>> sorted(t.frames())
['crosswalks', 'geographies', 'geometry', 'observations']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from upward.sources.schema import empty


@dataclass
class Tables:
    """Canonical tables read from one file (any may be empty), with notes on what was repaired."""

    observations: pd.DataFrame = field(default_factory=lambda: empty("observations"))
    geographies: pd.DataFrame = field(default_factory=lambda: empty("geographies"))
    crosswalks: pd.DataFrame = field(default_factory=lambda: empty("crosswalks"))
    geometry: pd.DataFrame = field(default_factory=lambda: empty("geometry"))
    notes: list[str] = field(default_factory=list)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The four data tables by name.

        >>> list(Tables().frames())[0]
        'observations'
        """
        return {
            "observations": self.observations,
            "geographies": self.geographies,
            "crosswalks": self.crosswalks,
            "geometry": self.geometry,
        }

    @property
    def rows(self) -> int:
        """Total rows across the tables.

        >>> Tables().rows
        0
        """
        return sum(len(f) for f in self.frames().values())


#: A reader takes the file's path and the source_id its rows must carry.
Reader = Callable[[Path, str], Tables]


@dataclass(frozen=True)
class Dataset:
    """One publisher file: where it is published, what it is called locally, how to read it.

    ``url`` and ``local_names`` may contain ``{state}`` (two-digit FIPS) for per-state files.
    ``local_names`` are tried in order under a ``--from`` folder: first the layout of
    ``../shared/data``, then the publisher's own file name.
    """

    key: str
    source: str
    publisher: str
    title: str
    url: str
    local_names: tuple[str, ...]
    license: str
    reader: Reader
    per_state: bool = False
    notes: str = ""

    def url_for(self, state: str | None = None) -> str:
        """The download address, with the state filled in for per-state files.

        >>> d = Dataset("k", "s", "P", "t", "https://x/{state}.zip", (), "public", Tables, True)
        >>> d.url_for("40")
        'https://x/40.zip'
        """
        return self.url.format(state=state) if self.per_state else self.url


DATASETS: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add a dataset to the registry (module import time); keys are unique.

    >>> isinstance(DATASETS, dict)
    True
    """
    if dataset.key in DATASETS:
        raise ValueError(f"dataset {dataset.key!r} is declared twice")
    DATASETS[dataset.key] = dataset
    return dataset


def datasets_of(source: str) -> list[Dataset]:
    """The registered datasets of one source name (``urban``, ``opportunity-atlas`` …).

    >>> datasets_of("no-such-source")
    []
    """
    return [d for d in DATASETS.values() if d.source == source]
