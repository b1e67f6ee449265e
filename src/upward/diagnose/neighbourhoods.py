"""Neighbourhoods inside a city or county: the spread of tract outcomes, the tracts with the
lowest upward mobility, the share of children growing up in the nation's bottom-quintile
tracts, and spatial clustering (global and local Moran's I, permutation inference).

Tracts are the Opportunity Atlas tracts that ``tracts_inside`` matches to the geography (2010
definitions); their polygons come from the ``geometry`` table (the 2018 cartographic file, also
2010 definitions), matched on GEOID. Weights are Queen contiguity (polygons sharing at least one
boundary point), row-standardised; tracts without a neighbour (islands) are left out.

Examples
--------
>>> import shapely
>>> grid = [shapely.box(i, j, i + 1, j + 1) for i in range(4) for j in range(4)]
>>> m = global_moran([float(i >= 2) for i in range(4) for j in range(4)], grid)
>>> m.i > 0.5, m.p_sim < 0.05
(True, True)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import shapely
from esda.moran import Moran
from libpysal.weights import Queen, Rook, W
from statsmodels.stats.multitest import multipletests

from upward.core.errors import ConfigError
from upward.core.results import as_plain, json_ready
from upward.geo.resolve import GeoMatch
from upward.measure import frames
from upward.measure.profile import TractSpread, tract_spread, tracts_inside
from upward.sources import Publisher
from upward.warehouse.store import Warehouse

DISTRIBUTION_METRICS = ("kfr_dollars_p25", "kfr_top20_p25")
MIN_TRACTS = 8
QUINTILE = 0.2
PERCENTILE_RULE = ("20th percentile by linear interpolation between order statistics "
                   "(numpy 'linear', Hyndman–Fan type 7), over every US tract with a value")
#: esda's quadrant codes (PySAL scheme) and the labels of significant tracts.
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
LABELS = {"HH": "high-high cluster", "LL": "low-low cluster", "HL": "high-low outlier",
          "LH": "low-high outlier"}
NOT_SIGNIFICANT = "not significant"


@dataclass(frozen=True)
class LowTract:
    """One of the tracts with the lowest value of the metric.

    >>> LowTract("40143000100", "Downtown, Tulsa, OK", 18500.0, None).value
    18500.0
    """

    geo_id: str
    name: str | None
    value: float
    kid_count: float | None


@dataclass(frozen=True)
class BottomQuintileShare:
    """Share of children (or of tracts) in tracts in the bottom 20% of all US tracts.

    >>> s = BottomQuintileShare("kfr_dollars_p25", 24000.0, 70000, 300.0, 1000.0, 0.3, True, 12,
    ...                         "children weighted by kid_count")
    >>> s.share == s.numerator / s.denominator, s.weighted
    (True, True)
    """

    metric_id: str
    cutoff: float
    national_n: int
    numerator: float
    denominator: float
    share: float
    weighted: bool
    n_tracts: int
    method: str


@dataclass(frozen=True)
class GlobalMoran:
    """Global Moran's I. ``p_sim`` is esda's pseudo p-value (one-sided, in the direction of the
    observed I); ``p_clustered`` tests positive autocorrelation, (#{I_sim ≥ I} + 1) / (P + 1);
    ``p_two_sided`` = min(1, 2 p_sim); ``p_norm`` is two-sided under normality; ``clustered``
    is p_clustered ≤ 0.05 (positive autocorrelation, one-sided permutation test). Under the
    null, p_sim ≤ 0.05 happens about 10% of the time (either tail): test with the others.

    >>> import shapely
    >>> cells = [shapely.box(i, j, i + 1, j + 1) for i in range(4) for j in range(4)]
    >>> m = global_moran([float(i >= 2) for i in range(4) for j in range(4)], cells,
    ...                  permutations=99)
    >>> m.n, m.n_islands, m.criterion, m.permutations, m.clustered
    (16, 0, 'queen', 99, True)
    """

    n: int
    n_islands: int
    n_components: int
    i: float
    expected_i: float
    z_norm: float
    p_norm: float
    z_sim: float
    p_sim: float
    p_clustered: float
    p_two_sided: float
    permutations: int
    seed: int
    criterion: str
    clustered: bool


@dataclass(frozen=True)
class LocalTract:
    """A tract's local Moran's I, its FDR-adjusted q value and its cluster label.

    >>> t = LocalTract("40143000100", 18500.0, 1.2, 0.001, 0.01, "LL", "low-low cluster")
    >>> t.label == LABELS[t.quadrant]
    True
    """

    geo_id: str
    value: float
    ii: float
    p_sim: float
    q_value: float
    quadrant: str
    label: str


@dataclass(frozen=True)
class LocalMoran:
    """LISA for every tract with a neighbour, and the number of tracts per label.

    >>> import shapely
    >>> cells = [shapely.box(i, j, i + 1, j + 1) for i in range(6) for j in range(6)]
    >>> lisa = local_moran([float(i < 3) for i in range(6) for j in range(6)], cells,
    ...                    permutations=99)
    >>> len(lisa.tracts), lisa.alpha, sum(lisa.counts.values())
    (36, 0.05, 36)
    """

    tracts: tuple[LocalTract, ...]
    counts: dict[str, int]
    alpha: float
    method: str


@dataclass(frozen=True)
class NeighbourhoodReport:
    """The neighbourhood diagnosis of one geography. ``to_dict()`` is JSON-ready.

    >>> r = NeighbourhoodReport(GeoMatch("40143", "county", "Tulsa County", "40"),
    ...                         "kfr_dollars_p25", 0, 0, (), (), None, None, None)
    >>> r.to_dict()["geo"]["name"], r.moran, r.warnings
    ('Tulsa County', None, ())
    """

    geo: GeoMatch
    metric_id: str
    n_tracts: int
    n_without_geometry: int
    distribution: tuple[TractSpread, ...]
    lowest_tracts: tuple[LowTract, ...]
    bottom_quintile_share: BottomQuintileShare | None
    moran: GlobalMoran | None
    local: LocalMoran | None
    warnings: tuple[str, ...] = ()
    method: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN and infinities become None).

        >>> NeighbourhoodReport(GeoMatch("1", "state", "x", "01"), "m", 0, 0, (), (), None,
        ...                     None, None).to_dict()["n_tracts"]
        0
        """
        return json_ready(as_plain(self))


def contiguity_weights(polygons: Sequence[shapely.Geometry], *, criterion: str = "queen"
                       ) -> tuple[W | None, np.ndarray]:
    """Contiguity weights among the polygons that have a neighbour, with positional ids
    0…k−1 in input order, and the input positions kept (islands dropped). None when no
    polygon has a neighbour.

    >>> import shapely
    >>> w, kept = contiguity_weights([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
    ...                               shapely.box(5, 5, 6, 6)])
    >>> w.neighbors, kept.tolist()
    ({0: [1], 1: [0]}, [0, 1])
    """
    kinds = {"queen": Queen, "rook": Rook}
    if criterion not in kinds:
        raise ConfigError(f"criterion {criterion!r} is not a contiguity rule",
                          fix="use 'queen' or 'rook'")
    # Positional ids on purpose: a W built with string ids orders its rows by sorted id,
    # which silently misaligns values given in input order.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not fully connected": reported by the caller
        full = kinds[criterion].from_iterable(list(polygons), silence_warnings=True)
        kept = np.array([k for k in range(len(polygons)) if full.neighbors.get(k)], dtype=int)
        if len(kept) == 0:
            return None, kept
        new = {int(old): pos for pos, old in enumerate(kept)}
        neighbours = {new[k]: sorted(new[j] for j in full.neighbors[k]) for k in kept}
        w = W(neighbours, id_order=list(range(len(kept))), silence_warnings=True)
    w.transform = "r"
    return w, kept


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed numpy's global generator, which esda draws from (and reseeds), then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


#: Local p-values are doubled (two-sided) and FDR-adjusted over every tract, so they need
#: enough permutations for the smallest to pass: 2 / (9999 + 1) = 0.0002.
LOCAL_PERMUTATIONS = 9999


def _check(permutations: int) -> None:
    if permutations < 1:
        raise ConfigError(f"permutations={permutations}: the pseudo p-values need permutations",
                          fix="use at least 99 (999 is the default)")


def _prepare(values: Sequence[float], polygons: Sequence[shapely.Geometry], criterion: str,
             permutations: int) -> tuple[np.ndarray, W, np.ndarray]:
    _check(permutations)
    y = np.asarray(values, dtype=float)
    if len(y) != len(polygons):
        raise ValueError(f"{len(y)} values for {len(polygons)} polygons")
    if not np.isfinite(y).all():
        raise ValueError("values must be finite (drop tracts without a value first)")
    w, kept = contiguity_weights(polygons, criterion=criterion)
    if w is None or len(kept) < 3:
        raise ValueError("fewer than 3 polygons have a neighbour")
    if np.ptp(y[kept]) == 0:
        raise ValueError("the values are all equal: Moran's I is undefined")
    return y[kept], w, kept


def _global(y: np.ndarray, w: W, n_islands: int, criterion: str, permutations: int,
            seed: int) -> GlobalMoran:
    with _seeded(seed), np.errstate(divide="ignore", invalid="ignore"):
        m = Moran(y, w, transformation="r", permutations=permutations)
    p_clustered = float(((m.sim >= m.I).sum() + 1) / (permutations + 1))
    return GlobalMoran(int(m.n), n_islands, int(w.n_components), float(m.I), float(m.EI),
                       float(m.z_norm), float(m.p_norm), float(m.z_sim), float(m.p_sim),
                       p_clustered, min(1.0, 2 * float(m.p_sim)), permutations, seed, criterion,
                       p_clustered <= 0.05)


def global_moran(values: Sequence[float], polygons: Sequence[shapely.Geometry], *,
                 criterion: str = "queen", permutations: int = 999,
                 seed: int = 12345) -> GlobalMoran:
    """Global Moran's I of ``values`` on contiguity weights built from ``polygons`` (same
    order), row-standardised, islands dropped, with permutation inference.

    >>> import shapely
    >>> cells = [shapely.box(i, j, i + 1, j + 1) for i in range(6) for j in range(6)]
    >>> round(global_moran([(i + j) % 2 for i in range(6) for j in range(6)], cells,
    ...                    criterion="rook").i, 6)
    -1.0
    """
    y, w, kept = _prepare(values, polygons, criterion, permutations)
    return _global(y, w, len(polygons) - len(kept), criterion, permutations, seed)


def conditional_permutation_lisa(y: np.ndarray, w: W, permutations: int, seed: int
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local Moran's I with conditional-permutation pseudo p-values, as esda.Moran_Local
    computes them (row-standardised weights; each tract's neighbours redrawn from the other
    n − 1 values; p = (extremes in the observed direction + 1) / (permutations + 1); PySAL
    quadrant codes). Written in numpy because esda's numba kernels compile on first use in
    every process (25–70 s here), longer than the whole barriers report; tests check the
    statistics equal esda's.

    Returns (Is, p_sim, quadrant codes).

    >>> import shapely
    >>> from libpysal.weights import Queen
    >>> cells = [shapely.box(i, 0, i + 1, 1) for i in range(6)]
    >>> w = Queen.from_iterable(cells); w.transform = "r"
    >>> Is, p, q = conditional_permutation_lisa(np.arange(6.0), w, 99, 1)
    >>> [int(c) for c in q]
    [3, 3, 3, 1, 1, 1]
    """
    n = len(y)
    z = y - y.mean()
    m2 = (z * z).sum()
    w.transform = "r"
    neighbours = [np.asarray([w.id2i[j] for j in w.neighbors[w.id_order[i]]], dtype=int)
                  for i in range(n)]
    weights = [np.asarray(w.weights[w.id_order[i]], dtype=float) for i in range(n)]
    lag = np.array([z[nb] @ wt if len(nb) else 0.0 for nb, wt in zip(neighbours, weights,
                                                                       strict=True)])
    Is = (n - 1) * z * lag / m2
    k_max = max((len(nb) for nb in neighbours), default=0)
    rng = np.random.default_rng(seed)
    # One draw of k_max distinct indices from 0..n-2 per permutation, shared by every tract;
    # indices at or above tract i are shifted by one so that i is never its own neighbour.
    draws = rng.random((permutations, n - 1)).argsort(axis=1)[:, :k_max]
    p_sim = np.ones(n)
    for i in range(n):
        k = len(neighbours[i])
        if k == 0:
            continue
        idx = draws[:, :k]
        idx = idx + (idx >= i)
        sims = (n - 1) * z[i] * (z[idx] @ weights[i]) / m2
        larger = int((sims >= Is[i]).sum())
        larger = min(larger, permutations - larger)
        p_sim[i] = (larger + 1) / (permutations + 1)
    high, high_lag = z > 0, lag > 0
    q = np.select([high & high_lag, ~high & high_lag, ~high & ~high_lag], [1, 2, 3], 4)
    return Is, p_sim, q


def _local(y: np.ndarray, w: W, ids: Sequence[str], permutations: int, seed: int,
           alpha: float) -> LocalMoran:
    Is, p_sim, quadrants = conditional_permutation_lisa(y, w, permutations, seed)
    # esda's local p_sim is one-sided in the direction observed; doubled, it is two-sided, so
    # that BH across tracts holds its rate under the null.
    p = np.minimum(1.0, 2 * p_sim)
    q = multipletests(p, alpha=alpha, method="fdr_bh")[1]
    tracts = []
    for k, geo_id in enumerate(ids):
        quadrant = QUADRANTS[int(quadrants[k])]
        label = LABELS[quadrant] if q[k] <= alpha else NOT_SIGNIFICANT
        tracts.append(LocalTract(geo_id, float(y[k]), float(Is[k]), float(p[k]),
                                 float(q[k]), quadrant, label))
    counts = {label: sum(t.label == label for t in tracts)
              for label in [*LABELS.values(), NOT_SIGNIFICANT]}
    method = (f"local Moran's I (esda's statistic and conditional randomisation, in numpy), "
              f"{permutations} conditional permutations, "
              f"seed {seed}; pseudo p-values as esda computes them (one-sided, in the direction of the "
              f"observed Ii, as GeoDa maps them), doubled to two-sided and adjusted by Benjamini–Hochberg across the "
              f"{len(tracts)} tracts; labelled where q ≤ {alpha}")
    return LocalMoran(tuple(tracts), counts, alpha, method)


def local_moran(values: Sequence[float], polygons: Sequence[shapely.Geometry],
                ids: Sequence[str] | None = None, *, criterion: str = "queen",
                permutations: int = LOCAL_PERMUTATIONS, seed: int = 12345,
                alpha: float = 0.05) -> LocalMoran:
    """Local Moran's I (LISA) per polygon with a neighbour; labels where the
    Benjamini–Hochberg q value of the pseudo p-value is ≤ ``alpha``.

    >>> import shapely
    >>> cells = [shapely.box(i, j, i + 1, j + 1) for i in range(6) for j in range(6)]
    >>> lisa = local_moran([float(i < 3) for i in range(6) for j in range(6)], cells)
    >>> lisa.counts["low-low cluster"] > 0
    True
    """
    ids = [str(k) for k in range(len(polygons))] if ids is None else list(ids)
    y, w, kept = _prepare(values, polygons, criterion, permutations)
    return _local(y, w, [ids[k] for k in kept], permutations, seed, alpha)


def _geometry(wh: Warehouse, tracts: list[str]) -> pd.DataFrame:
    g = wh.table("geometry")
    rows = wh.frame(g.filter(g.geo_id.isin(tracts)).select("geo_id", "vintage", "geojson"))
    return rows.sort_values(["geo_id", "vintage"], ascending=[True, False]).drop_duplicates(
        "geo_id").set_index("geo_id")


def _geometry_states(wh: Warehouse) -> set[str]:
    def build() -> pd.DataFrame:
        g = wh.table("geometry")
        return wh.frame(g.select(state=g.geo_id.substr(0, 2)).distinct())

    return set(wh.cached("geometry_states", build)["state"])


def _names(wh: Warehouse, ids: list[str]) -> dict[str, str]:
    g = wh.table("geographies")
    atlas = frames.source_ids(wh, publishers=[Publisher.OPPORTUNITY_ATLAS])
    rows = wh.frame(g.filter((g.geo_level == "tract") & g.geo_id.isin(ids) & g.name.notnull()
                             & g.source_id.isin(atlas)).select("geo_id", "name"))
    return dict(zip(rows["geo_id"], rows["name"], strict=True))


def _bottom_quintile(values: pd.DataFrame, inside: pd.DataFrame, metric: str,
                     notes: list[str]) -> BottomQuintileShare:
    national = values[metric].dropna().to_numpy()
    cutoff = float(np.quantile(national, QUINTILE))
    v = inside[metric].dropna()
    low = v <= cutoff
    kids = inside["kid_count"].reindex(v.index) if "kid_count" in inside else None
    if kids is not None and kids.notna().any():
        has = kids.notna()
        if not has.all():
            notes.append(f"{int((~has).sum())} tracts with a value have no kid_count; "
                         "the bottom-quintile share leaves them out")
        num, den, weighted = float(kids[has & low].sum()), float(kids[has].sum()), True
        n = int(has.sum())
        how = ("children in the Atlas sample (kid_count, 1978–83 birth cohorts) in tracts at "
               "or below the national cutoff ÷ children in the geography's tracts")
    else:
        notes.append("no tract child counts (kid_count) loaded: the bottom-quintile share is "
                     "the unweighted share of tracts (upward fetch opportunity-atlas loads them)")
        num, den, weighted, n = float(low.sum()), float(len(v)), False, len(v)
        how = "tracts at or below the national cutoff ÷ tracts with a value (unweighted)"
    return BottomQuintileShare(metric, cutoff, len(national), num, den,
                               num / den if den else float("nan"), weighted, n,
                               f"{how}; cutoff: {PERCENTILE_RULE} ({len(national):,} tracts)")


def neighbourhoods(wh: Warehouse, geo: GeoMatch, *, metric: str = "kfr_dollars_p25",
                   permutations: int = 999, seed: int = 12345,
                   lowest: int = 10) -> NeighbourhoodReport:
    """The neighbourhood diagnosis of a city or county: tract spread, lowest tracts, share of
    children in US bottom-quintile tracts, global and local Moran's I of ``metric``.

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> r = neighbourhoods(wh, GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"))
    >>> r.moran is None, r.warnings[0].startswith("no tract outcomes")
    (True, True)
    """
    _check(permutations)
    # a pure function of the loaded data: computed once per open warehouse (a load clears it)
    key = f"neighbourhoods:{geo.geo_id}:{geo.geo_level}:{metric}:{permutations}:{seed}:{lowest}"
    return wh.cached(key, lambda: _neighbourhoods(wh, geo, metric, permutations, seed, lowest))


def _neighbourhoods(wh: Warehouse, geo: GeoMatch, metric: str, permutations: int, seed: int,
                    lowest: int) -> NeighbourhoodReport:
    values = frames.tract_values(wh)
    tracts, matched = tracts_inside(wh, geo)
    method: dict[str, str | None] = {"tracts": matched, "weights": None}
    empty = NeighbourhoodReport(geo, metric, len(tracts), 0, (), (), None, None, None, (), method)
    if values.empty:
        return replace(empty, warnings=("no tract outcomes loaded: run upward fetch "
                                        "opportunity-atlas",))
    if metric not in values.columns:
        raise ConfigError(f"metric {metric!r} has no tract values in the warehouse",
                          fix=f"use one of {', '.join(sorted(values.columns))}")
    if not tracts:
        return replace(empty, warnings=(f"no Opportunity Atlas tracts are matched to {geo.name} "
                                        f"({geo.geo_level}); ask for a city or county",))
    notes: list[str] = []
    inside = values.reindex(tracts)
    spread = tuple(s for s in tract_spread(wh, tracts) if s.metric_id in DISTRIBUTION_METRICS)
    ranked = inside[metric].dropna().sort_index().sort_values(kind="stable")
    names = _names(wh, list(ranked.index[:lowest]))
    kids = inside.get("kid_count", pd.Series(np.nan, index=inside.index))
    low = tuple(LowTract(t, names.get(t), float(v),
                         None if pd.isna(kids.get(t)) else float(kids[t]))
                for t, v in ranked.iloc[:lowest].items())
    share = _bottom_quintile(values, inside, metric, notes) if len(ranked) else None
    geometry = _geometry(wh, tracts)
    missing = [t for t in tracts if t not in geometry.index]
    if missing:
        absent = sorted({t[:2] for t in missing} - _geometry_states(wh))
        fix = "; ".join(f"no tract geometry loaded for state {s}: run upward fetch tracts "
                        f"--state {s}" for s in absent) or (
            "their GEOIDs are not in the loaded tract files (tract definitions differ?)")
        notes.append(f"{len(missing)} of the {len(tracts)} Atlas tracts have no geometry: {fix}")
    moran, lisa = _spatial(geo, ranked[ranked.index.isin(geometry.index)], geometry,
                           permutations, seed, notes, method)
    return NeighbourhoodReport(geo, metric, len(tracts), len(missing), spread, low, share,
                               moran, lisa, tuple(notes), method)


def _spatial(geo: GeoMatch, values: pd.Series, geometry: pd.DataFrame, permutations: int,
             seed: int, notes: list[str], method: dict
             ) -> tuple[GlobalMoran | None, LocalMoran | None]:
    ids = list(values.index)
    if len(ids) < MIN_TRACTS:
        notes.append(f"Moran's I needs at least {MIN_TRACTS} tracts with geometry and a "
                     f"{values.name} value; {geo.name} has {len(ids)}")
        return None, None
    w, kept = contiguity_weights(list(shapely.from_geojson(geometry.loc[ids, "geojson"])))
    y = values.to_numpy()[kept]
    if len(kept) < len(ids):
        islands = sorted(set(ids) - {ids[k] for k in kept})
        notes.append(f"{len(islands)} tracts have no neighbour among {geo.name}'s tracts and "
                     f"are left out of Moran's I: {', '.join(islands)}")
    if w is None or len(kept) < MIN_TRACTS or np.ptp(y) == 0:
        notes.append(f"Moran's I needs {MIN_TRACTS} contiguous tracts with differing values; "
                     f"{geo.name} has {len(kept)} tracts with a neighbour")
        return None, None
    vintages = ", ".join(sorted(set(geometry.loc[ids, "vintage"].dropna())))
    method["weights"] = (
        f"Queen contiguity (tracts sharing a boundary point) from the tract polygons of "
        f"vintage {vintages} (2010 definitions, matched on GEOID), among the geography's "
        f"tracts only; row-standardised; islands dropped; {permutations} permutations, "
        f"seed {seed}")
    local_permutations = max(permutations, LOCAL_PERMUTATIONS)
    lisa = _local(y, w, [ids[k] for k in kept], local_permutations, seed, 0.05)
    floor = 2 / (local_permutations + 1)
    if (lisa.counts[NOT_SIGNIFICANT] == len(kept) and floor > 0.05 / len(kept)
            and any(t.p_sim <= 0.05 for t in lisa.tracts)):
        notes.append(f"no tract is a significant local cluster, but with {local_permutations} "
                     f"permutations the smallest pseudo p-value ({floor:.4f}) cannot pass the "
                     f"Benjamini–Hochberg threshold of the first-ranked of {len(kept)} tracts "
                     f"({0.05 / len(kept):.5f}) alone: rerun with more permutations")
    return _global(y, w, len(ids) - len(kept), "queen", permutations, seed), lisa
