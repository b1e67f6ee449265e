"""Data behind the charts and maps of a place: a metric's values over time, its national
distribution, the values of named peers, and the tract map (values and shapes).

Everything reads the warehouse through Ibis or the cached frames of ``upward.measure.frames``,
so the report and the web application draw the same numbers the profile prints.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.store import Warehouse
>>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
>>> metric_series(wh, "4075000", "place", "pctl_income_50").columns.tolist()
['period', 'estimate', 'lb', 'ub', 'quality', 'source_id', 'release', 'bounds', 'dated']
>>> list(MAP_METRICS)[:3]
['kfr_dollars_p25', 'kfr_top20_p25', 'kir_p25']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from upward.core.errors import ConfigError, PlaceNotFoundError
from upward.geo.resolve import GeoMatch
from upward.measure import frames
from upward.measure.profile import tracts_inside
from upward.metrics import Metric, all_metrics, get_metric
from upward.sources import Publisher, dataset_of
from upward.warehouse.store import Warehouse

SERIES_COLUMNS = ["period", "estimate", "lb", "ub", "quality", "source_id", "release", "bounds",
                  "dated"]
DISTRIBUTION_COLUMNS = ["geo_id", "name", "estimate", "lb", "ub", "quality", "period",
                        "source_id", "percentile"]
TRACT_COLUMNS = ["geo_id", "name", "estimate", "quality", "period", "source_id", "has_geometry"]

#: Tract metrics a map can show, in the order a menu offers them: the Opportunity Atlas
#: outcomes first, then the context the catalog declares at tract level.
_MAP_ORDER = ("kfr_dollars_p25", "kfr_top20_p25", "kir_p25", "hhinc_mean2000", "kid_count")
MAP_METRICS: dict[str, Metric] = {
    m.id: m for m in sorted((m for m in all_metrics() if "tract" in m.geo_levels
                             and m.id in _MAP_ORDER), key=lambda m: _MAP_ORDER.index(m.id))
}
DEFAULT_MAP_METRIC = "kfr_dollars_p25"


def release_of(source_id: str) -> str:
    """The dataset part of a source id (the release a value comes from).

    >>> release_of("urban.place_longitudinal@537d60920463")
    'urban.place_longitudinal'
    """
    return source_id.split("@", 1)[0]


def metric_series(wh: Warehouse, geo_id: str, geo_level: str, metric_id: str) -> pd.DataFrame:
    """Every whole-population value of one metric for one geography, from every release,
    sorted by release then period.

    Releases are kept apart (column ``source_id`` and its dataset, ``release``): the Urban
    Institute's 2024 "recent" file and its 2025 longitudinal file differ in method for some
    metrics, so a chart draws one line per release and never joins them. ``dated`` is True for
    a year period ("2021"), False for labels like "1978-1983 birth cohorts".

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> metric_series(wh, "4075000", "place", "pctl_income_50").empty
    True
    """
    obs = wh.table("observations")
    t = obs.filter((obs.geo_id == geo_id) & (obs.geo_level == geo_level)
                   & (obs.metric_id == metric_id) & (obs.subgroup_type == "all")
                   & obs.estimate.notnull())
    rows = wh.frame(t.select("period", "estimate", "lb", "ub", "quality", "source_id", "bounds"))
    rows["release"] = rows["source_id"].map(release_of) if len(rows) else pd.Series(dtype=str)
    rows["dated"] = rows["period"].str.fullmatch(r"\d{4}") if len(rows) else pd.Series(dtype=bool)
    rows["quality"] = rows["quality"].astype("Int64")
    return rows.sort_values(["source_id", "period"]).reset_index(drop=True)[SERIES_COLUMNS]


def trend_release(series: pd.DataFrame) -> str | None:
    """The source id a trend is read from: the release with the most dated periods (ties: the
    later release in the registry, then the lower source id), the rule of ``frames.trends``.
    None when no release has two years.

    >>> s = pd.DataFrame({"source_id": ["a@1", "a@1", "b@2"], "period": ["2014", "2021", "2021"],
    ...                   "dated": [True, True, True]})
    >>> trend_release(s)
    'a@1'
    """
    dated = series[series["dated"].astype(bool)]
    counts = dated.groupby("source_id")["period"].nunique()
    counts = counts[counts >= 2]
    if counts.empty:
        return None
    def later_first(source_id: str) -> tuple[int, ...]:
        found = dataset_of(source_id)
        return tuple(-x for x in found.release_order) if found else (0, 0, 0)

    return str(sorted(counts.items(), key=lambda kv: (-kv[1], later_first(kv[0]), kv[0]))[0][0])


def metric_distribution(wh: Warehouse, metric_id: str, geo_level: str) -> pd.DataFrame:
    """The latest value of every geography of ``geo_level`` for one metric (the national
    distribution a city is placed in), with names and national percentiles.

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> metric_distribution(wh, "pctl_income_50", "place").columns.tolist()[:4]
    ['geo_id', 'name', 'estimate', 'lb']
    """
    latest = frames.percentiles(wh)
    if latest.empty:
        return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)
    rows = latest[(latest["metric_id"] == metric_id) & (latest["geo_level"] == geo_level)]
    names = frames.named_geographies(wh)
    names = names[names["geo_level"] == geo_level].set_index("geo_id")["name"]
    out = rows.assign(name=rows["geo_id"].map(names).fillna(rows["geo_id"]),
                      quality=rows["quality"].astype("Int64"))
    return out.sort_values("estimate").reset_index(drop=True)[DISTRIBUTION_COLUMNS]


def peer_values(wh: Warehouse, geo_ids: list[str], geo_level: str, metric_id: str
                ) -> pd.DataFrame:
    """The latest values of the named geographies (a peer group) for one metric, in the
    order given; geographies without a value are left out.

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> peer_values(wh, ["1271000"], "place", "pctl_income_50").empty
    True
    """
    dist = metric_distribution(wh, metric_id, geo_level).set_index("geo_id")
    present = [g for g in geo_ids if g in dist.index]
    return dist.loc[present].reset_index()[DISTRIBUTION_COLUMNS]


@dataclass(frozen=True)
class TractMap:
    """The tracts of a place or county for a map: values, shapes and what is missing.

    ``values`` has one row per tract inside the geography (columns ``TRACT_COLUMNS``), the
    tracts ``upward.measure.profile.tracts_inside`` matches (the profile's tracts). ``geojson``
    is a FeatureCollection of the tracts that have a shape, each feature's ``id`` the 11-digit
    GEOID, properties ``name``, ``estimate``, ``quality``; rings follow RFC 7946 (exterior
    counter-clockwise). ``missing_geometry`` lists the tracts without a shape.

    >>> from upward.metrics import get_metric
    >>> m = TractMap(GeoMatch("40143", "county", "Tulsa County", "40"), get_metric("kir_p25"),
    ...              pd.DataFrame({"geo_id": ["40143000100", "40143000200"]}),
    ...              {"type": "FeatureCollection", "features": [{"id": "40143000100"}]},
    ...              ("40143000200",), "tracts whose GEOID starts with the county code")
    >>> m.n_tracts, m.n_mapped, m.has_geometry
    (2, 1, True)
    """

    geo: GeoMatch
    metric: Metric
    values: pd.DataFrame
    geojson: dict
    missing_geometry: tuple[str, ...]
    method: str | None
    geometry_vintage: str | None = None
    geometry_sources: tuple[str, ...] = field(default=())

    @property
    def n_tracts(self) -> int:
        """Tracts inside the geography (with or without a shape).

        >>> empty_map(GeoMatch("1", "county", "X", "01"), get_metric("kfr_p25")).n_tracts
        0
        """
        return len(self.values)

    @property
    def n_mapped(self) -> int:
        """Tracts that have a shape (the features of ``geojson``).

        >>> empty_map(GeoMatch("1", "county", "X", "01"), get_metric("kfr_p25")).n_mapped
        0
        """
        return len(self.geojson["features"])

    @property
    def has_geometry(self) -> bool:
        """True when at least one tract has a shape.

        >>> empty_map(GeoMatch("1", "county", "X", "01"), get_metric("kfr_p25")).has_geometry
        False
        """
        return self.n_mapped > 0


def empty_map(geo: GeoMatch, metric: Metric) -> TractMap:
    """A map with no tracts (a geography the Atlas does not cover).

    >>> empty_map(GeoMatch("1", "county", "X", "01"), get_metric("kfr_p25")).geojson["type"]
    'FeatureCollection'
    """
    return TractMap(geo, metric, pd.DataFrame(columns=TRACT_COLUMNS),
                    {"type": "FeatureCollection", "features": []}, (), None)


def geography(wh: Warehouse, geo_id: str, geo_level: str) -> GeoMatch:
    """The loaded geography with this id and level; PlaceNotFoundError otherwise.

    >>> import tempfile, pathlib
    >>> geography(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "40143", "county")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: no county 40143 is loaded. What to do: load data first (upward fetch … or upward demo), or check the GEOID
    """
    geos = frames.named_geographies(wh)
    key = (geo_id, geo_level)
    if geos.empty or key not in geos.index:
        raise PlaceNotFoundError(f"no {geo_level} {geo_id} is loaded",
                                 fix="load data first (upward fetch … or upward demo), or check "
                                     "the GEOID")
    row = geos.loc[key]
    return GeoMatch(geo_id, geo_level, str(row["name"]), str(row["state_fips"]))


def tract_map(wh: Warehouse, geo_id: str, geo_level: str,
              metric_id: str = DEFAULT_MAP_METRIC) -> TractMap:
    """Values and shapes of the tracts inside a place or county for one tract metric
    (``MAP_METRICS``).

    Tract names join the Census name and the Opportunity Atlas neighbourhood name
    ("Census Tract 25 — Downtown, Tulsa, OK"). Shapes come from the ``geometry`` table,
    matched on GEOID (2018 cartographic boundaries, 2010 tract definitions, like the Atlas).

    >>> import tempfile, pathlib
    >>> tract_map(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "40143", "county",
    ...           "share_employed")
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: metric 'share_employed' is not a tract metric for the map. What to do: use one of kfr_dollars_p25, kfr_top20_p25, kir_p25, hhinc_mean2000, kid_count
    """
    if metric_id not in MAP_METRICS:
        raise ConfigError(f"metric {metric_id!r} is not a tract metric for the map",
                          fix=f"use one of {', '.join(MAP_METRICS)}")
    metric = get_metric(metric_id)
    geo = geography(wh, geo_id, geo_level)
    tracts, method = tracts_inside(wh, geo)
    if not tracts:
        return empty_map(geo, metric)
    values = _tract_values(wh, tracts, metric_id)
    shapes = _shapes(wh, tracts)
    values["has_geometry"] = values["geo_id"].isin(shapes.index)
    features = []
    for row in values[values["has_geometry"]].itertuples(index=False):
        features.append({
            "type": "Feature",
            "id": row.geo_id,
            "properties": {"name": row.name, "estimate": _plain(row.estimate),
                           "quality": _plain(row.quality)},
            "geometry": json.loads(shapes.at[row.geo_id, "geojson"]),
        })
    vintages = sorted(set(shapes["vintage"].dropna()))
    return TractMap(
        geo=geo,
        metric=metric,
        values=values,
        geojson={"type": "FeatureCollection", "features": features},
        missing_geometry=tuple(values.loc[~values["has_geometry"], "geo_id"]),
        method=method,
        geometry_vintage=", ".join(vintages) or None,
        geometry_sources=tuple(sorted(set(shapes["source_id"]))),
    )


def _plain(value):
    return None if value is None or value is pd.NA or pd.isna(value) else value.item() \
        if hasattr(value, "item") else value


def _tract_values(wh: Warehouse, tracts: list[str], metric_id: str) -> pd.DataFrame:
    obs = wh.table("observations")
    t = obs.filter((obs.geo_level == "tract") & (obs.metric_id == metric_id)
                   & (obs.subgroup_type == "all") & obs.geo_id.isin(tracts))
    found = wh.frame(t.select("geo_id", "estimate", "quality", "period", "source_id"))
    found = found.drop_duplicates("geo_id").set_index("geo_id")
    out = pd.DataFrame({"geo_id": tracts}).join(found, on="geo_id")
    out["quality"] = out["quality"].astype("Int64")
    out["name"] = out["geo_id"].map(_tract_names(wh, tracts)).fillna(out["geo_id"])
    return out[TRACT_COLUMNS[:-1]]


def _tract_names(wh: Warehouse, tracts: list[str]) -> dict[str, str]:
    g = wh.table("geographies")
    rows = wh.frame(g.filter((g.geo_level == "tract") & g.geo_id.isin(tracts) & g.name.notnull())
                    .select("geo_id", "name", "source_id"))
    publisher = rows["source_id"].map(lambda s: d.publisher if (d := dataset_of(s)) else None)
    census = rows[publisher == Publisher.CENSUS].drop_duplicates("geo_id")
    atlas = rows[publisher == Publisher.OPPORTUNITY_ATLAS].drop_duplicates("geo_id")
    names = dict(zip(census["geo_id"], census["name"], strict=True))
    for geo_id, name in zip(atlas["geo_id"], atlas["name"], strict=True):
        names[geo_id] = f"{names[geo_id]} — {name}" if geo_id in names else name
    return names


def _shapes(wh: Warehouse, tracts: list[str]) -> pd.DataFrame:
    g = wh.table("geometry")
    rows = wh.frame(g.filter(g.geo_id.isin(tracts)).select("geo_id", "vintage", "geojson",
                                                            "source_id"))
    # Several vintages of one tract: the latest.
    rows = rows.sort_values("vintage", ascending=False).drop_duplicates("geo_id")
    return rows.set_index("geo_id")
