"""A place's (or county's) mobility profile: every metric's latest value with its bounds,
quality, trend, county value and national percentile; the county's Opportunity Atlas and Social
Capital outcomes; and the spread of tract outcomes inside it.

Examples
--------
>>> import upward
>>> p = upward.profile("Tulsa city, Oklahoma")  # doctest: +SKIP
>>> p.to_frame().loc["pctl_income_50", "estimate"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from upward.core.errors import PlaceNotFoundError
from upward.core.results import JsonReport, as_plain, json_ready
from upward.core.text import N_
from upward.geo.resolve import GeoMatch, base_name, resolve
from upward.measure import frames
from upward.metrics import get_metric, metric_ids
from upward.sources import TRACT_KINDS, Publisher, dataset_of
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

SCHEMA_VERSION = "1.0"
TRACT_METRICS = ("kfr_dollars_p25", "kfr_top20_p25", "kir_p25")
ATLAS_METRICS = ("kfr_p25", "jail_p25", "atlas_count")


def _num(x: object) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    return float(x)


@dataclass(frozen=True)
class Trend:
    """Change between the first and last year a metric is published for the geography.

    ``significant`` tests the change against its standard error, from the two 95% intervals
    (se = (ub − lb) / 3.92, independent samples); None when the publisher gives no bounds.

    >>> t = Trend("2015", 0.50, "2021", 0.56, 0.06, 0.02, 3.0, 0.0027, True, 7)
    >>> t.significant, round(t.last_estimate - t.first_estimate, 2) == t.change
    (True, True)
    """

    first_period: str
    first_estimate: float
    last_period: str
    last_estimate: float
    change: float
    change_se: float | None
    z: float | None
    p_value: float | None
    significant: bool | None
    n_periods: int


@dataclass(frozen=True)
class MetricEntry:
    """One metric in a profile.

    >>> m = MetricEntry("pctl_income_50", "Median household income", "Opportunity-rich", "dollars",
    ...                 "higher", 36700.0, 34400.0, 40800.0, None, "95% CI", 1, "2021", "urban",
    ...                 0.2, 486)
    >>> m.county_estimate, m.trend, m.declared
    (None, None, True)
    """

    metric_id: str
    label: str
    pillar: str
    unit: str
    direction: str
    estimate: float
    lb: float | None
    ub: float | None
    se: float | None
    bounds: str
    quality: int | None
    period: str
    source_id: str
    national_percentile: float | None
    national_n: int | None
    county_estimate: float | None = None
    county_period: str | None = None
    county_quality: int | None = None
    trend: Trend | None = None
    declared: bool = True


@dataclass(frozen=True)
class Outcome:
    """An Opportunity Atlas or Social Capital value for the county, by subgroup.

    >>> o = Outcome("kfr_p25", "Income rank", "race", "Black", 0.33, 0.01, 0.31, 0.35, "1978-83",
    ...             "opportunity_atlas")
    >>> o.subgroup_type, o.ub - o.lb > 0
    ('race', True)
    """

    metric_id: str
    label: str
    subgroup_type: str
    subgroup: str
    estimate: float
    se: float | None
    lb: float | None
    ub: float | None
    period: str
    source_id: str


@dataclass(frozen=True)
class TractSpread:
    """The distribution of one tract outcome over the tracts inside the geography.

    >>> s = TractSpread("kfr_dollars_p25", "Household income", 40, 18000, 21000, 24000, 27000,
    ...                 31000, 35000, 52000, 28100)
    >>> s.min <= s.p10 <= s.median <= s.p90 <= s.max
    True
    """

    metric_id: str
    label: str
    n_tracts: int
    min: float
    p10: float
    p25: float
    median: float
    p75: float
    p90: float
    max: float
    mean: float


@dataclass
class Profile(JsonReport):
    """A mobility profile. ``to_frame()``, ``to_json()``, ``to_markdown()``, ``to_csv()``.

    >>> p = Profile(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), 411000.0, None,
    ...             [MetricEntry("pctl_income_50", "Median household income", "Opportunity-rich",
    ...                          "dollars", "higher", 36700.0, 34400.0, 40800.0, None, "95% CI", 1,
    ...                          "2021", "urban", 0.2, 486)], [], [], [], None, [])
    >>> p.entry("pctl_income_50").estimate, p.to_frame().loc["pctl_income_50", "period"]
    (36700.0, '2021')
    >>> p.to_csv().splitlines()[0].split(",")[:3]
    ['metric_id', 'label', 'pillar']
    """

    geo: GeoMatch
    population: float | None
    county: GeoMatch | None
    metrics: list[MetricEntry]
    atlas: list[Outcome]
    social_capital: list[Outcome]
    tracts: list[TractSpread]
    tract_method: str | None
    sources: list[dict]
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: str = SCHEMA_VERSION

    def entry(self, metric_id: str) -> MetricEntry:
        """The entry of one metric."""
        for m in self.metrics:
            if m.metric_id == metric_id:
                return m
        raise KeyError(f"{metric_id!r} is not in the profile of {self.geo.name}")

    def to_frame(self) -> pd.DataFrame:
        """One row per metric, indexed by metric id, trend flattened into ``trend_*`` columns."""
        rows = []
        for m in self.metrics:
            row = {k: v for k, v in as_plain(m).items() if k != "trend"}
            t = m.trend
            row.update(
                trend_first_period=t.first_period if t else None,
                trend_last_period=t.last_period if t else None,
                trend_change=t.change if t else None,
                trend_p_value=t.p_value if t else None,
                trend_significant=t.significant if t else None,
            )
            rows.append(row)
        return pd.DataFrame(rows).set_index("metric_id") if rows else pd.DataFrame()

    def to_csv(self) -> str:
        """The metric table as CSV text (cells a spreadsheet would run as formulas neutralised)."""
        from upward.privacy.spreadsheet import spreadsheet_safe

        return self.to_frame().map(spreadsheet_safe).to_csv()

    def to_markdown(self) -> str:
        """A Markdown briefing: metrics by pillar, county outcomes, tract spread, sources."""
        from upward.measure.render import profile_markdown

        return profile_markdown(self)


def profile(place: str, *, workspace: Workspace | Path | str | None = None,
            warehouse: Warehouse | None = None) -> Profile:
    """The mobility profile of a place or county, from the workspace's warehouse.

    ``place`` is a name ("Tulsa city, Oklahoma", "Tulsa, OK", "tulsa ok") or a FIPS code.
    Pass an open ``warehouse`` to reuse its caches across many profiles.

    >>> profile("Tulsa, OK", workspace="upward-workspace")  # doctest: +SKIP
    """
    if warehouse is not None:
        return build_profile(warehouse, place)
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(
        Path(workspace) if workspace else _default_workspace())
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        return build_profile(wh, place)


def _default_workspace() -> Path:
    from upward.warehouse.workspace import resolve_workspace

    return resolve_workspace(None)


def build_profile(wh: Warehouse, place: str) -> Profile:
    """Assemble a profile from an open warehouse.

    >>> import tempfile, pathlib
    >>> build_profile(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "Tulsa, OK")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: the warehouse holds no geographies yet. What to do: load data first: upward fetch urban … --from DIR, or upward demo
    """
    geos = frames.named_geographies(wh)
    if geos.empty:
        raise PlaceNotFoundError("the warehouse holds no geographies yet",
                                 fix="load data first: upward fetch urban … --from DIR, or upward demo")
    geo = resolve(place, geos)
    tracts, method = tracts_inside(wh, geo)
    county = _county_of(geo, tracts, geos)
    metrics = _metric_entries(wh, geo, county)
    atlas, social = _county_outcomes(wh, county or geo)
    spread = tract_spread(wh, tracts)
    used = {m.source_id for m in metrics} | {o.source_id for o in atlas + social}
    src = frames.sources(wh)
    sources = src[src["source_id"].isin(used | _tract_sources(wh, tracts))].to_dict("records")
    return Profile(
        geo=geo,
        population=_num(geos.loc[(geo.geo_id, geo.geo_level), "population"]),
        county=county,
        metrics=metrics,
        atlas=atlas,
        social_capital=social,
        tracts=spread,
        tract_method=method,
        sources=[json_ready(s) for s in sources],
    )


def _tract_sources(wh: Warehouse, tracts: list[str]) -> set[str]:
    if not tracts:
        return set()
    return set(frames.source_ids(wh, kinds=TRACT_KINDS))


def _metric_entries(wh: Warehouse, geo: GeoMatch, county: GeoMatch | None) -> list[MetricEntry]:
    mine = frames.rows_of(wh, "percentiles", geo.geo_id, geo.geo_level)
    declared = metric_ids()
    county_rows = ({r.metric_id: r for r in frames.rows_of(
        wh, "percentiles", county.geo_id, "county").itertuples(index=False)} if county else {})
    trends = {r.metric_id: _trend(r) for r in
              frames.rows_of(wh, "trends", geo.geo_id, geo.geo_level).itertuples(index=False)}
    out = []
    for row in mine.itertuples(index=False):
        meta = get_metric(row.metric_id) if row.metric_id in declared else None
        c = county_rows.get(row.metric_id)
        out.append(
            MetricEntry(
                metric_id=row.metric_id,
                label=meta.label if meta else row.metric_id,
                pillar=meta.pillar if meta else "Undeclared",
                unit=meta.unit if meta else "",
                direction=meta.direction if meta else "context",
                estimate=float(row.estimate),
                lb=_num(row.lb),
                ub=_num(row.ub),
                se=_num(row.se),
                bounds=row.bounds,
                quality=None if pd.isna(row.quality) else int(row.quality),
                period=row.period,
                source_id=row.source_id,
                national_percentile=_num(row.percentile),
                national_n=int(row.n),
                county_estimate=_num(c.estimate) if c is not None else None,
                county_period=c.period if c is not None else None,
                county_quality=(None if c is None or pd.isna(c.quality) else int(c.quality)),
                trend=trends.get(row.metric_id),
                declared=meta is not None,
            )
        )
    order = {m: i for i, m in enumerate(sorted(declared))}
    return sorted(out, key=lambda m: (m.pillar, order.get(m.metric_id, 10**6), m.metric_id))


def _trend(row) -> Trend:
    p = _num(row.p_value)
    return Trend(str(row.first_period), float(row.first_estimate), str(row.last_period),
                 float(row.last_estimate), float(row.change), _num(row.change_se), _num(row.z),
                 p, (p < 0.05) if p is not None else None, int(row.n_periods))


def tracts_inside(wh: Warehouse, geo: GeoMatch) -> tuple[list[str], str | None]:
    """The tracts with Opportunity Atlas outcomes inside a place or county, and how they were
    matched (a county by GEOID prefix; a city by the city its Atlas tract names give).

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> tracts_inside(wh, GeoMatch("40143", "county", "Tulsa County, Oklahoma", "40"))
    ([], 'tracts whose GEOID starts with the county code')
    >>> tracts_inside(wh, GeoMatch("40", "state", "Oklahoma", "40"))
    ([], None)
    """
    if geo.geo_level == "county":
        return (frames.tracts_by_county(wh).get(geo.geo_id, []),
                N_("tracts whose GEOID starts with the county code"))
    if geo.geo_level == "place":
        related = frames.tracts_by_place_relationship(wh).get(geo.geo_id)
        if related:
            with_outcomes = set(frames.tract_values(wh).index)
            ids = [t for t in related[0] if t in with_outcomes]
            if ids:
                return ids, N_("tracts assigned to the city by the tract-to-place relationship "
                               "loaded from {source} (official Census geography)",
                               source=related[1])
        ids = frames.tracts_by_place(wh).get((base_name(geo.name), geo.state_fips), [])
        return ids, N_("tracts whose Opportunity Atlas name gives this city; tracts named after "
                       "the county are left out (no tract-to-place relationship or city "
                       "boundary is loaded, so the match is by name; tracts are 2010 "
                       "definitions)")
    return [], None


def _county_of(geo: GeoMatch, tracts: list[str], geos: pd.DataFrame) -> GeoMatch | None:
    if geo.geo_level == "county":
        return None
    if not tracts:
        return None
    code = pd.Series([t[:5] for t in tracts]).mode().iloc[0]
    if (code, "county") not in geos.index:
        return GeoMatch(code, "county", code, code[:2])
    r = geos.loc[(code, "county")]
    return GeoMatch(code, "county", r["name"], r["state_fips"])


def _county_outcomes(wh: Warehouse, county: GeoMatch) -> tuple[list[Outcome], list[Outcome]]:
    if county.geo_level != "county":
        return [], []
    rows = frames.rows_of(wh, "county_outcomes", county.geo_id, "county")
    atlas, social = [], []
    declared = metric_ids()
    publisher = {s: d.publisher if (d := dataset_of(s)) else None
                 for s in rows["source_id"].unique()}
    for r in rows.itertuples(index=False):
        is_atlas = publisher[r.source_id] == Publisher.OPPORTUNITY_ATLAS
        is_sca = publisher[r.source_id] == Publisher.SOCIAL_CAPITAL_ATLAS
        if not (is_atlas or is_sca):
            continue
        label = get_metric(r.metric_id).label if r.metric_id in declared else r.metric_id
        o = Outcome(r.metric_id, label, r.subgroup_type, r.subgroup, float(r.estimate),
                    _num(r.se), _num(r.lb), _num(r.ub), r.period, r.source_id)
        (atlas if is_atlas else social).append(o)
    key = lambda o: (o.metric_id, o.subgroup_type != "all", o.subgroup_type, o.subgroup)  # noqa: E731
    return sorted(atlas, key=key), sorted(social, key=key)


def tract_spread(wh: Warehouse, tracts: list[str]) -> list[TractSpread]:
    """Min, deciles, quartiles, median, max and mean of each tract outcome over ``tracts``.

    >>> import tempfile, pathlib
    >>> tract_spread(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), ["40143000100"])
    []
    """
    values = frames.tract_values(wh)
    if not tracts or values.empty:
        return []
    inside = values.reindex(tracts)
    declared = metric_ids()
    out = []
    for metric in TRACT_METRICS:
        if metric not in inside.columns:
            continue
        v = inside[metric].dropna()
        if v.empty:
            continue
        q = v.quantile([0.1, 0.25, 0.5, 0.75, 0.9])
        out.append(TractSpread(metric, get_metric(metric).label if metric in declared else metric,
                               len(v), float(v.min()), float(q[0.1]), float(q[0.25]),
                               float(q[0.5]), float(q[0.75]), float(q[0.9]), float(v.max()),
                               float(v.mean())))
    return out
