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

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd

from upward.sources.schema import empty


@dataclass
class Tables:
    """Canonical tables read from one file (any may be empty), with notes on what was repaired.

    >>> t = Tables(notes=["repaired one row"])
    >>> t.rows, list(t.observations.columns)[:2], t.notes
    (0, ['geo_id', 'geo_level'], ['repaired one row'])
    """

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


class Publisher(StrEnum):
    """Who publishes a dataset (the ``publisher`` of the ``sources`` table).

    Declared in the order in which their names for a geography are preferred when several
    datasets name the same one (see ``Dataset.names_rank``).

    >>> str(Publisher.URBAN), list(Publisher).index(Publisher.CENSUS)
    ('Urban Institute', 2)
    """

    URBAN = "Urban Institute"
    SOCIAL_CAPITAL_ATLAS = "Opportunity Insights and Meta (Social Capital Atlas)"
    CENSUS = "US Census Bureau"
    OPPORTUNITY_ATLAS = "Opportunity Insights — Opportunity Atlas"
    OPPORTUNITY_INSIGHTS = "Opportunity Insights"
    CITY_PORTAL = "City open-data portal"
    USASPENDING = "USAspending.gov (U.S. Department of the Treasury)"
    POLICY_IMPACTS = "Opportunity Insights — Policy Impacts (Hendren & Sprung-Keyser 2020)"


class Kind(StrEnum):
    """The kind of rows a dataset yields.

    >>> Kind("county outcomes") is Kind.COUNTY_OUTCOMES
    True
    """

    METRICS = "place and county metrics"
    COUNTY_OUTCOMES = "county outcomes"
    TRACT_OUTCOMES = "tract outcomes"
    TRACT_COVARIATES = "tract covariates"
    ZIP_OUTCOMES = "ZIP outcomes"
    CROSSWALK = "crosswalk"
    GEOMETRY = "geometry"
    TABLE_ESTIMATES = "Census table estimates"
    MICRODATA = "microdata records"
    FEED_RECORDS = "city feed records"
    FEDERAL_SPENDING = "federal spending by geography"
    EVIDENCE = "published causal estimates"


#: Kinds whose rows are tract observations (a place's tract spread and map draw on them).
TRACT_KINDS = frozenset({Kind.TRACT_OUTCOMES, Kind.TRACT_COVARIATES})

_RELEASE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Dataset:
    """One publisher file: where it is published, what it is called locally, how to read it,
    and the facts every other layer asks about it (publisher, label, release, kind of rows).

    ``url``, ``local_names`` and ``label`` may contain ``{state}`` (two-digit FIPS) for
    per-state files. ``local_names`` are tried in order under a ``--from`` folder: first the
    layout of ``../shared/data``, then the publisher's own file name. ``release`` is the
    publication year or date (``2025``, ``2024-06`` or ``2024-06-30``): when two releases give
    a value for the same geography, metric and period, the later release wins.
    ``short_label`` names the release in narrow table cells (``label`` when empty).
    ``own_loader`` marks a dataset loaded by its own command (``upward fetch acs --table …``,
    ``upward fetch pums``) rather than by reading whole files (:func:`source_names`).

    >>> d = DATASETS["atlas.county_outcomes"]
    >>> d.publisher is Publisher.OPPORTUNITY_ATLAS, d.kind is Kind.COUNTY_OUTCOMES
    (True, True)
    """

    key: str
    source: str
    publisher: Publisher
    title: str
    url: str
    local_names: tuple[str, ...]
    license: str
    reader: Reader
    per_state: bool = False
    notes: str = ""
    kind: Kind = field(kw_only=True)
    label: str = field(kw_only=True)
    release: str = field(kw_only=True)
    short_label: str = field(default="", kw_only=True)
    own_loader: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        if not _RELEASE.match(self.release):
            raise ValueError(f"dataset {self.key!r}: release {self.release!r} is not a year or "
                             "an ISO date (2025, 2025-06, 2025-06-30)")

    def url_for(self, state: str | None = None) -> str:
        """The download address, with the state filled in for per-state files.

        >>> d = Dataset("k", "s", Publisher.CENSUS, "t", "https://x/{state}.zip", (), "public",
        ...             Tables, True, kind=Kind.GEOMETRY, label="Tracts, state {state}",
        ...             release="2019")
        >>> d.url_for("40"), d.label_for("40")
        ('https://x/40.zip', 'Tracts, state 40')
        """
        return self.url.format(state=state) if self.per_state else self.url

    def label_for(self, state: str | None = None, *, short: bool = False) -> str:
        """The readable name of this release (of one state's file for per-state datasets).

        >>> DATASETS["urban.place_recent"].label_for(short=True)
        'Urban Institute, 2024 file'
        """
        text = (self.short_label or self.label) if short else self.label
        return text.format(state=state or "") if self.per_state else text

    @property
    def release_order(self) -> tuple[int, int, int]:
        """``release`` as (year, month, day), 0 where not given: later releases sort higher.

        >>> Dataset("k", "s", Publisher.URBAN, "t", "u", (), "l", Tables, kind=Kind.METRICS,
        ...         label="K", release="2024-06").release_order
        (2024, 6, 0)
        """
        parts = _RELEASE.match(self.release).groups()  # type: ignore[union-attr]
        return tuple(int(p or 0) for p in parts)  # type: ignore[return-value]

    @property
    def names_rank(self) -> int:
        """Whose name for a geography wins when several datasets name it: lower first, in the
        order ``Publisher`` declares its members.

        >>> Dataset("k", "s", Publisher.URBAN, "t", "u", (), "l", Tables, kind=Kind.METRICS,
        ...         label="K", release="2024").names_rank
        0
        """
        return list(Publisher).index(self.publisher)


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


def unregister(key: str) -> Dataset:
    """Remove a dataset from the registry (for tests that declare one of their own).

    >>> d = register(Dataset("test.x", "test", Publisher.URBAN, "t", "u", (), "l", Tables,
    ...                      kind=Kind.METRICS, label="X", release="2024"))
    >>> unregister("test.x") is d, "test.x" in DATASETS
    (True, False)
    """
    return DATASETS.pop(key)


def datasets_of(source: str) -> list[Dataset]:
    """The registered datasets of one source name (``urban``, ``opportunity-atlas`` …).

    >>> datasets_of("no-such-source")
    []
    """
    return [d for d in DATASETS.values() if d.source == source]


def source_names() -> tuple[str, ...]:
    """The source names ``upward fetch`` accepts: each registered dataset's ``source``, in the
    order the datasets were registered (the load order).

    >>> source_names()[:2]
    ('urban', 'opportunity-atlas')
    """
    return tuple(dict.fromkeys(d.source for d in DATASETS.values()))


def file_source_names() -> tuple[str, ...]:
    """The sources loaded by reading whole files (``upward fetch NAME --from DIR`` through
    ``warehouse.ingest``): every source none of whose datasets has its own loader.

    >>> "urban" in file_source_names()
    True
    """
    own = {d.source for d in DATASETS.values() if d.own_loader}
    return tuple(n for n in source_names() if n not in own)


def split_source_id(source_id: str) -> tuple[Dataset | None, str | None]:
    """The registered dataset a source id (``key@sha``, a dataset key, or a per-state
    ``key.SS@sha``) comes from, and the state of a per-state file; (None, None) if unknown.

    >>> d, state = split_source_id("census.tracts.40@0123456789ab")
    >>> d.key, state
    ('census.tracts', '40')
    >>> split_source_id("no.such@1")
    (None, None)
    """
    key = source_id.split("@", 1)[0]
    if key in DATASETS:
        return DATASETS[key], None
    stem, _, state = key.rpartition(".")
    found = DATASETS.get(stem)
    if found is not None and found.per_state and len(state) == 2 and state.isdigit():
        return found, state
    return None, None


def dataset_of(source_id: str) -> Dataset | None:
    """The registered dataset a source id comes from, None if it is not registered.

    >>> dataset_of("no.such@1") is None
    True
    """
    return split_source_id(source_id)[0]


def release_label(source_id: str, *, short: bool = False) -> str:
    """The readable name of the release a source id (or dataset key) comes from; the id's
    dataset part when the dataset is not registered.

    >>> release_label("not.registered@1")
    'not.registered'
    """
    found, state = split_source_id(source_id)
    return found.label_for(state, short=short) if found else source_id.split("@", 1)[0]


def source_ids_where(
    source_ids: Iterable[str],
    *,
    kinds: Iterable[Kind] | None = None,
    publishers: Iterable[Publisher] | None = None,
) -> list[str]:
    """The source ids among ``source_ids`` whose registered dataset is of one of ``kinds``
    and one of ``publishers`` (either may be None: any).

    >>> source_ids_where(["no.such@1"], kinds=[Kind.METRICS])
    []
    """
    kinds = None if kinds is None else set(kinds)
    publishers = None if publishers is None else set(publishers)
    out = []
    for source_id in source_ids:
        found = dataset_of(source_id)
        if found is None:
            continue
        if (kinds is None or found.kind in kinds) and (
                publishers is None or found.publisher in publishers):
            out.append(source_id)
    return out
