"""The warehouse frames a profile is built from, each computed once per open warehouse.

All reads are Ibis expressions (see ``upward.warehouse.store``); the results are cached on the
``Warehouse`` so that a second profile in the same session costs milliseconds.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.store import Warehouse
>>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
>>> latest_values(wh).empty
True
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import numpy as np
import pandas as pd

from upward.geo.resolve import base_name
from upward.geo.states import STATES_BY_ABBR
from upward.metrics.inference import two_sided_p
from upward.sources import Kind, Publisher, dataset_of, source_ids_where
from upward.warehouse.store import Warehouse

_DATED = r"^\d{4}$"
#: The city part of an Atlas tract name that names a county (or its equivalent) instead.
_COUNTY_PART = r"\b(?:county|parish|borough|census area)$"


def _whole_population(wh: Warehouse) -> ibis.Table:
    """Whole-population observations of places and counties that have a value."""
    obs = wh.table("observations")
    return obs.filter((obs.subgroup_type == "all") & obs.geo_level.isin(["place", "county"])
                      & obs.estimate.notnull())


def geographies(wh: Warehouse, levels: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (geo_id, geo_level) with the best name and the largest population known,
    for the given levels (all when empty).

    >>> import tempfile, pathlib
    >>> geographies(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).columns.tolist()
    ['geo_id', 'geo_level', 'name', 'state_fips', 'parent_geo_id', 'population']
    """

    def build() -> pd.DataFrame:
        t = wh.table("geographies")
        g = wh.frame(t.filter(t.geo_level.isin(list(levels))) if levels else t)
        if g.empty:
            return pd.DataFrame(columns=["geo_id", "geo_level", "name", "state_fips",
                                         "parent_geo_id", "population"])
        # Which dataset's name wins when several name the same geography: the registry says.
        ranks = {s: d.names_rank if (d := dataset_of(s)) else 99
                 for s in g["source_id"].unique()}
        rank = g["source_id"].map(ranks)
        g = g.assign(_rank=rank, _noname=g["name"].isna()).sort_values(["_noname", "_rank"])
        population = g.groupby(["geo_id", "geo_level"])["population"].max()
        first = g.drop_duplicates(["geo_id", "geo_level"]).set_index(["geo_id", "geo_level"])
        first["population"] = population
        first = first.reset_index()
        first["name"] = first["name"].fillna(first["geo_id"])
        return first[["geo_id", "geo_level", "name", "state_fips",
                                    "parent_geo_id", "population"]]

    return wh.cached(f"geographies:{','.join(levels)}", build)


def named_geographies(wh: Warehouse) -> pd.DataFrame:
    """The states, counties and places (what a person can ask a profile for), indexed by
    (geo_id, geo_level) as well as in columns.

    >>> import tempfile, pathlib
    >>> named_geographies(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).empty
    True
    """

    def build() -> pd.DataFrame:
        g = geographies(wh, ("state", "county", "place"))
        return g.set_index(["geo_id", "geo_level"], drop=False).sort_index()

    return wh.cached("named_geographies", build)


def latest_values(wh: Warehouse) -> pd.DataFrame:
    """For every place and county and metric, the whole-population observation of the latest
    period: a dated period (a year) beats an undated release label, later beats earlier.

    >>> import tempfile, pathlib
    >>> "estimate" in latest_values(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"))
    True
    """

    def build() -> pd.DataFrame:
        t = _whole_population(wh)
        dated = t.period.re_search(_DATED).cast("int8")
        t = t.mutate(_dated=dated, _release=release_rank(wh, t.source_id))
        # Same period in two releases: the later release (the registry's ``release``) wins,
        # which puts the longitudinal (2025) file before the recent (2024) one.
        window = ibis.window(
            group_by=[t.geo_id, t.geo_level, t.metric_id],
            order_by=[ibis.desc(t._dated), ibis.desc(t.period), ibis.desc(t._release),
                      t.source_id],
        )
        t = t.mutate(_rn=ibis.row_number().over(window)).filter(lambda x: x._rn == 0)
        return wh.frame(t.drop("_rn", "_dated", "_release"))

    return wh.cached("latest", build)


def percentiles(wh: Warehouse) -> pd.DataFrame:
    """Each latest value's national percentile among geographies of its level with a value for
    the same metric: 100 × (number below + half the number equal) ÷ number with a value.

    >>> import tempfile, pathlib
    >>> percentiles(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).empty
    True
    """

    def build() -> pd.DataFrame:
        latest = latest_values(wh)
        if latest.empty:
            return latest.assign(percentile=pd.Series(dtype=float), n=pd.Series(dtype=int))
        groups = latest.groupby(["geo_level", "metric_id"])["estimate"]
        below = groups.rank(method="min") - 1
        ties = groups.rank(method="max") - below
        n = groups.transform("count")
        return latest.assign(percentile=100 * (below + ties / 2) / n, n=n)

    return wh.cached("percentiles", build)


def trends(wh: Warehouse) -> pd.DataFrame:
    """For every place/county and metric: the first and last year it is published, the change,
    and a two-sided z-test of the change from the published 95% intervals
    (se = (ub − lb) / 3.92 for each year; the two years' samples taken as independent, which
    holds for ACS 5-year estimates at least five years apart).

    Only one release is used per trend: releases revise and rescale (the 2025 file halves
    economic connectedness), so a trend never joins values of two files. The release with the
    most years is taken (ties: the later release, as ``latest_values``).

    >>> import tempfile, pathlib
    >>> trends(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).empty
    True
    """

    def build() -> pd.DataFrame:
        t = _whole_population(wh)
        t = t.filter(t.period.re_search(_DATED))
        keys = [t.geo_id, t.geo_level, t.metric_id]
        per_source = t.group_by([*keys, t.source_id]).aggregate(
            n_periods=t.period.nunique(),
            first_period=t.period.min(),
            last_period=t.period.max(),
            first_estimate=t.estimate.argmin(t.period),
            last_estimate=t.estimate.argmax(t.period),
            first_se=t.se.argmin(t.period),
            last_se=t.se.argmax(t.period),
        )
        per_source = per_source.filter(per_source.n_periods >= 2)
        per_source = per_source.mutate(_release=release_rank(wh, per_source.source_id))
        best = ibis.window(group_by=["geo_id", "geo_level", "metric_id"],
                           order_by=[ibis.desc("n_periods"), ibis.desc("_release"), "source_id"])
        chosen = per_source.mutate(_rn=ibis.row_number().over(best)).filter(lambda x: x._rn == 0)
        out = wh.frame(chosen.drop("_rn", "_release"))
        out["change"] = out["last_estimate"] - out["first_estimate"]
        out["change_se"] = np.hypot(out["first_se"], out["last_se"])
        out["z"] = out["change"] / out["change_se"].where(out["change_se"] > 0)
        out["p_value"] = two_sided_p(out["z"].to_numpy(float))
        return out.drop(columns=["first_se", "last_se"])

    return wh.cached("trends", build)


def rows_of(wh: Warehouse, name: str, geo_id: str, geo_level: str) -> pd.DataFrame:
    """The rows of one geography in a cached frame (``percentiles``, ``trends`` or
    ``county_outcomes``), in the frame's order and with its index labels.

    The frame is sorted by geography once (stably) and each geography's rows are one slice of
    it, so a lookup copies nothing (Arrow-backed columns are sliced, not gathered row by row).

    >>> import tempfile, pathlib
    >>> rows_of(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "trends", "40143", "county").empty
    True
    """
    builders = {"percentiles": percentiles, "trends": trends, "county_outcomes": county_outcomes}

    def build() -> tuple[pd.DataFrame, dict[tuple[str, str], slice]]:
        frame = builders[name](wh)
        if frame.empty:
            return frame, {}
        groups = frame.groupby(["geo_id", "geo_level"], sort=True)
        codes = groups.ngroup().to_numpy()
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes[codes >= 0], minlength=groups.ngroups)
        ends = np.cumsum(counts)
        skipped = int((codes < 0).sum())  # rows without a geography sort first
        spans = {key: slice(skipped + int(end - n), skipped + int(end))
                 for key, end, n in zip(groups.size().index, ends, counts, strict=True)}
        return frame.iloc[order], spans

    ordered, spans = wh.cached(f"index:{name}", build)  # type: ignore[arg-type]
    span = spans.get((geo_id, geo_level))
    return ordered.iloc[span] if span is not None else ordered.iloc[0:0]


def county_outcomes(wh: Warehouse) -> pd.DataFrame:
    """Every county observation from the Opportunity Atlas and Social Capital Atlas, all
    subgroups.

    >>> import tempfile, pathlib
    >>> county_outcomes(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).empty
    True
    """

    def build() -> pd.DataFrame:
        obs = wh.table("observations")
        ids = source_ids(wh, kinds=[Kind.COUNTY_OUTCOMES])
        t = obs.filter((obs.geo_level == "county") & obs.source_id.isin(ids))
        return wh.frame(t)

    return wh.cached("county_outcomes", build)


def tract_values(wh: Warehouse) -> pd.DataFrame:
    """Whole-population tract observations, wide: one row per tract, one column per metric.

    >>> import tempfile, pathlib
    >>> tract_values(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).empty
    True
    """

    def build() -> pd.DataFrame:
        obs = wh.table("observations")
        t = obs.filter((obs.geo_level == "tract") & (obs.subgroup_type == "all"))
        long = wh.frame(t.select("geo_id", "metric_id", "estimate"))
        if long.empty:
            return pd.DataFrame()
        return long.pivot_table(index="geo_id", columns="metric_id", values="estimate",
                                aggfunc="first")

    return wh.cached("tracts", build)


def tracts_by_place(wh: Warehouse) -> dict[tuple[str, str], list[str]]:
    """Tracts grouped by the city their Opportunity Atlas name gives ("Neighborhood, City, ST"),
    keyed by (base name of the city, state FIPS).

    >>> import tempfile, pathlib
    >>> tracts_by_place(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"))
    {}
    """

    def build() -> dict[tuple[str, str], list[str]]:
        g = wh.table("geographies")
        atlas = source_ids(wh, publishers=[Publisher.OPPORTUNITY_ATLAS])
        names = wh.frame(
            g.filter((g.geo_level == "tract") & g.name.notnull()
                     & g.source_id.isin(atlas)).select("geo_id", "name")
        ).drop_duplicates("geo_id")
        # "Neighborhood, City, ST" or just "City, ST": the city is the part before the state.
        text = names["name"].str.rsplit(",", n=2)
        state = text.str[-1].str.strip()
        city = text.str[-2].str.strip()
        # "Racine County, WI" names the county a tract lies in, not a city: such a tract is
        # outside every city's limits (tract 55101001900, 13 km from Racine), so it is no
        # city's tract even though the county's base name equals the city's.
        keep = (city.notna() & state.isin(list(STATES_BY_ABBR))
                & ~city.fillna("").str.lower().str.contains(_COUNTY_PART))
        names = names[keep].assign(city=city[keep], st=state[keep])
        bases = {c: base_name(c) for c in names["city"].unique()}
        fips = {a: s.fips for a, s in STATES_BY_ABBR.items()}
        keys = list(zip(names["city"].map(bases), names["st"].map(fips), strict=True))
        out: dict[tuple[str, str], list[str]] = {}
        for key, geo_id in zip(keys, names["geo_id"], strict=True):
            out.setdefault(key, []).append(geo_id)
        return {k: sorted(v) for k, v in out.items()}

    return wh.cached("tracts_by_place", build)


def tracts_by_place_relationship(wh: Warehouse) -> dict[str, tuple[list[str], str]]:
    """Tracts assigned to places by a loaded tract-to-place relationship (``crosswalks`` rows
    from an 11-digit tract to a 7-digit place, e.g. the Census tract populations loaded with
    ``upward fetch pums``), keyed by place GEOID, with the source id that says so.

    >>> import tempfile, pathlib
    >>> tracts_by_place_relationship(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"))
    {}
    """

    def build() -> dict[str, tuple[list[str], str]]:
        c = wh.table("crosswalks")
        rows = wh.frame(c.filter((c.from_geo_id.length() == 11) & (c.to_geo_id.length() == 7)
                                 & (c.weight > 0)).select("from_geo_id", "to_geo_id", "source_id"))
        out: dict[str, tuple[list[str], str]] = {}
        for place, group in rows.groupby("to_geo_id"):
            out[str(place)] = (sorted(set(group["from_geo_id"])), str(group["source_id"].iloc[0]))
        return out

    return wh.cached("tracts_by_place_relationship", build)  # type: ignore[arg-type]


def tracts_by_county(wh: Warehouse) -> dict[str, list[str]]:
    """Tracts with outcomes, grouped by their county (the first five digits of the GEOID).

    >>> import tempfile, pathlib
    >>> tracts_by_county(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"))
    {}
    """

    def build() -> dict[str, list[str]]:
        values = tract_values(wh)
        out: dict[str, list[str]] = {}
        for geo_id in values.index:
            out.setdefault(geo_id[:5], []).append(geo_id)
        return out

    return wh.cached("tracts_by_county", build)  # type: ignore[arg-type]


def sources(wh: Warehouse) -> pd.DataFrame:
    """The provenance table, read once.

    >>> import tempfile, pathlib
    >>> sources(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).empty
    True
    """
    return wh.cached("sources", wh.sources)


def release_rank(wh: Warehouse, source_id: ibis.Value) -> ibis.Value:
    """An Ibis expression ranking each row's release by the registry's ``release``: later
    releases rank higher, so ``desc`` of it puts the latest first (0 for an unregistered id).

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> t = wh.table("observations")
    >>> wh.frame(t.select(r=release_rank(wh, t.source_id))).columns.tolist()
    ['r']
    """
    found = {s: d for s in sources(wh)["source_id"] if (d := dataset_of(s)) is not None}
    orders = sorted({d.release_order for d in found.values()})
    ranks = {s: orders.index(d.release_order) + 1 for s, d in found.items()}
    if not ranks:
        return ibis.literal(0, type="int32")
    return source_id.substitute(ranks, else_=0).cast("int32")


def source_ids(wh: Warehouse, *, kinds: Iterable[Kind] | None = None,
               publishers: Iterable[Publisher] | None = None) -> list[str]:
    """The loaded source ids whose registered dataset is of one of ``kinds`` and one of
    ``publishers`` (None: any), asked of the dataset registry rather than read from the ids.

    >>> import tempfile, pathlib
    >>> source_ids(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), kinds=[Kind.METRICS])
    []
    """
    return source_ids_where(sources(wh)["source_id"], kinds=kinds, publishers=publishers)
