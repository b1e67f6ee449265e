"""Neighbourhoods: Moran's I against an independent numpy computation on synthetic grids, its
size under the null, the demo city's designed clustering, and Tulsa and Detroit on real files.

The national bottom-quintile cutoff is the 20th percentile by linear interpolation between
order statistics (Hyndman–Fan type 7, numpy's default): h = (n − 1) · 0.2, then
x[⌊h⌋] + (h − ⌊h⌋) · (x[⌊h⌋ + 1] − x[⌊h⌋]) over the sorted non-empty values. The test
recomputes it that way from the raw CSV with the csv module.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from tests.conftest import DATA, needs_data

from upward.core.errors import ConfigError
from upward.diagnose.neighbourhoods import (
    NOT_SIGNIFICANT,
    contiguity_weights,
    global_moran,
    local_moran,
    neighbourhoods,
)
from upward.geo.resolve import resolve
from upward.measure import frames
from upward.warehouse.store import Warehouse

OI = DATA / "opportunity-insights"


# -- synthetic grids, no warehouse ----------------------------------------------------------------
def lattice(nx: int, ny: int, order: np.ndarray | None = None) -> tuple[list, list]:
    """Unit squares of an nx × ny grid (optionally shuffled) and their (column, row)."""
    cells = [(i, j) for i in range(nx) for j in range(ny)]
    if order is not None:
        cells = [cells[k] for k in order]
    return [shapely.box(i, j, i + 1, j + 1) for i, j in cells], cells


def reference_w(polygons: list, criterion: str) -> np.ndarray:
    """Binary contiguity from shapely predicates: rook = a shared edge of positive length,
    queen = any shared boundary point; then row-standardised."""
    n = len(polygons)
    b = np.zeros((n, n))
    for a in range(n):
        for c in range(n):
            if a != c and polygons[a].intersects(polygons[c]):
                shared = polygons[a].intersection(polygons[c])
                b[a, c] = 1.0 if criterion == "queen" or shared.length > 0 else 0.0
    keep = b.sum(axis=1) > 0
    b = b[np.ix_(keep, keep)]
    return b / b.sum(axis=1, keepdims=True), keep


def reference_moran(values, w: np.ndarray) -> tuple[float, float]:
    """I = n / S0 · zᵀWz / zᵀz and its z under normality (Cliff & Ord)."""
    y = np.asarray(values, dtype=float)
    z = y - y.mean()
    n, s0 = len(y), w.sum()
    i = n / s0 * (z @ w @ z) / (z @ z)
    s1 = 0.5 * ((w + w.T) ** 2).sum()
    s2 = ((w.sum(axis=0) + w.sum(axis=1)) ** 2).sum()
    ei = -1 / (n - 1)
    vi = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n * n - 1) * s0 * s0) - ei * ei
    return i, (i - ei) / math.sqrt(vi)


@pytest.mark.parametrize("criterion", ["queen", "rook"])
@pytest.mark.parametrize("pattern", ["checkerboard", "split", "random"])
def test_global_moran_matches_numpy(criterion: str, pattern: str) -> None:
    rng = np.random.default_rng(7)
    order = rng.permutation(36)  # shuffled input order: W rows must follow the input
    polygons, cells = lattice(6, 6, order)
    values = {"checkerboard": [float((i + j) % 2) for i, j in cells],
              "split": [float(i >= 3) + 0.1 * rng.standard_normal() for i, j in cells],
              "random": list(rng.standard_normal(36))}[pattern]
    m = global_moran(values, polygons, criterion=criterion, permutations=199)
    w, _ = reference_w(polygons, criterion)
    i, z = reference_moran(values, w)
    assert m.i == pytest.approx(i, abs=1e-12)
    assert m.z_norm == pytest.approx(z, rel=1e-9)
    assert m.expected_i == pytest.approx(-1 / 35)
    assert (m.n, m.n_islands) == (36, 0)
    if pattern == "checkerboard" and criterion == "rook":
        assert m.i == pytest.approx(-1.0)
        assert m.p_sim <= 0.01 and not m.clustered
    if pattern == "checkerboard" and criterion == "queen":
        assert -0.3 < m.i < 0  # diagonal neighbours share the colour
    if pattern == "split":
        assert m.i > 0.7 and m.clustered and m.p_clustered <= 0.01


def test_islands_are_dropped_and_counted() -> None:
    polygons, cells = lattice(5, 5)
    values = [float(i) for i, j in cells]
    far = [*polygons, shapely.box(50, 50, 51, 51)]
    m_far = global_moran([*values, 100.0], far, permutations=99)
    m = global_moran(values, polygons, permutations=99)
    assert (m_far.n, m_far.n_islands) == (25, 1)
    assert m_far.i == pytest.approx(m.i)
    w, kept = contiguity_weights(far)
    assert w.n == 25 and kept.tolist() == list(range(25))


def test_seed_fixes_p_and_leaves_global_rng_alone() -> None:
    polygons, _ = lattice(6, 6)
    values = list(np.random.default_rng(3).standard_normal(36))
    np.random.seed(99)
    before = np.random.random()
    np.random.seed(99)
    a = global_moran(values, polygons, permutations=199, seed=5)
    b = global_moran(values, polygons, permutations=199, seed=5)
    assert a == b
    assert local_moran(values, polygons, seed=5) == local_moran(values, polygons, seed=5)
    assert np.random.random() == before


def test_bad_inputs_are_refused() -> None:
    polygons, _ = lattice(3, 3)
    with pytest.raises(ValueError, match="all equal"):
        global_moran([1.0] * 9, polygons)
    with pytest.raises(ValueError, match="finite"):
        global_moran([1.0] * 8 + [math.nan], polygons)
    with pytest.raises(ValueError, match="8 values for 9"):
        global_moran([1.0] * 8, polygons)
    with pytest.raises(ConfigError, match="permutations=0"):
        global_moran(list(range(9)), polygons, permutations=0)
    with pytest.raises(ConfigError, match="'bishop'"):
        global_moran(list(range(9)), polygons, criterion="bishop")


def test_null_rejection_rate() -> None:
    """iid values on a 10 × 10 grid: the 5% tests reject about 5% of the time."""
    polygons, _ = lattice(10, 10)
    rng = np.random.default_rng(20240611)
    results = [global_moran(rng.standard_normal(100), polygons, permutations=199, seed=k)
               for k in range(200)]
    clustered = np.mean([m.p_clustered <= 0.05 for m in results])
    two_sided = np.mean([m.p_two_sided <= 0.05 for m in results])
    assert 0.01 <= clustered <= 0.10, clustered
    assert 0.01 <= two_sided <= 0.10, two_sided
    assert abs(np.mean([m.i for m in results]) + 1 / 99) < 0.01


def test_local_moran_finds_both_halves() -> None:
    polygons, cells = lattice(8, 8)
    rng = np.random.default_rng(11)
    values = [float(i >= 4) + 0.2 * rng.standard_normal() for i, j in cells]
    lisa = local_moran(values, polygons, [f"{i}-{j}" for i, j in cells], seed=1)
    labels = {t.geo_id: t.label for t in lisa.tracts}
    west = [labels[f"{i}-{j}"] for i, j in cells if i <= 1]
    east = [labels[f"{i}-{j}"] for i, j in cells if i >= 6]
    # two-sided local p values, FDR over all 64 cells: most of each outer band is found, and
    # never with the wrong label
    assert west.count("low-low cluster") >= 6 and "high-high cluster" not in west
    assert east.count("high-high cluster") >= 6 and "low-low cluster" not in east
    assert sum(lisa.counts.values()) == 64
    assert all((t.q_value <= 0.05) == (t.label != NOT_SIGNIFICANT) for t in lisa.tracts)


# -- the demo city -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_warehouse(demo_module_copy):
    wh = Warehouse(demo_module_copy.warehouse_path, read_only=True)
    yield wh
    wh.close()


def report_for(wh: Warehouse, place: str, **kwargs):
    return neighbourhoods(wh, resolve(place, frames.named_geographies(wh)), **kwargs)


def centroid_x(wh: Warehouse) -> dict[str, float]:
    g = wh.frame(wh.table("geometry"))
    return dict(zip(g["geo_id"], shapely.get_x(shapely.centroid(
        shapely.from_geojson(g["geojson"].tolist()))), strict=True))


def test_demo_city(demo_warehouse: Warehouse) -> None:
    r = report_for(demo_warehouse, "9900100")
    assert r.moran is not None and r.moran.i > 0.2 and r.moran.p_sim < 0.05 and r.moran.clustered
    assert r.n_tracts == 60 and r.n_without_geometry == 0
    x = centroid_x(demo_warehouse)
    middle = float(np.median([x[t.geo_id] for t in r.local.tracts]))
    ll = [t.geo_id for t in r.local.tracts if t.label == "low-low cluster"]
    hh = [t.geo_id for t in r.local.tracts if t.label == "high-high cluster"]
    assert ll and all(x[t] > middle for t in ll)  # the poorer east side
    assert hh and all(x[t] < middle for t in hh)
    values = [t.value for t in r.lowest_tracts]
    assert len(values) == 10 and values == sorted(values)
    assert all(t.name and t.kid_count for t in r.lowest_tracts)
    assert {s.metric_id for s in r.distribution} == {"kfr_dollars_p25", "kfr_top20_p25"}
    for s in r.distribution:
        assert s.min <= s.p10 <= s.p25 <= s.median <= s.p75 <= s.p90 <= s.max
    share = r.bottom_quintile_share
    assert share.weighted and 0 < share.share < 1
    assert share.share == pytest.approx(share.numerator / share.denominator)
    assert "Queen" in r.method["weights"] and r.method["tracts"]
    json.dumps(r.to_dict(), allow_nan=False)


def test_demo_other_metric_and_errors(demo_warehouse: Warehouse) -> None:
    r = report_for(demo_warehouse, "9900100", metric="kfr_top20_p25", lowest=3,
                   permutations=99)
    assert r.metric_id == "kfr_top20_p25" and len(r.lowest_tracts) == 3
    assert r.moran.permutations == 99
    with pytest.raises(ConfigError, match="no_such_metric"):
        report_for(demo_warehouse, "9900100", metric="no_such_metric")


# -- real data -----------------------------------------------------------------------------------
def csv_cutoff(path: Path, column: str) -> tuple[float, int]:
    """Type-7 20th percentile of the non-empty values of one column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        x = sorted(float(row[column]) for row in csv.DictReader(handle) if row[column].strip())
    h = (len(x) - 1) * 0.2
    lo = math.floor(h)
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]), len(x)


def csv_share(city: str, st: str, cutoff: float) -> float:
    """Children (kid_pooled_n) in the city's Atlas tracts at or below the cutoff, from the
    raw files: the city is the part of the Atlas name before the state."""
    with (OI / "tract_kfr_rP_gP_p25.csv").open(encoding="utf-8-sig", newline="") as handle:
        value = {row["tract"].zfill(11): float(row["Household_Income_at_Age_35_rP_gP_p25"])
                 for row in csv.DictReader(handle)
                 if row["Household_Income_at_Age_35_rP_gP_p25"].strip()
                 and [p.strip() for p in row["Name"].rsplit(",", 2)][-2:] == [city, st]}
    with (OI / "tract_collapse.csv").open(newline="") as handle:
        kids = {f"{int(r['state']):02d}{int(r['county']):03d}{int(r['tract']):06d}":
                float(r["kid_pooled_n"]) for r in csv.DictReader(handle) if r["kid_pooled_n"]}
    inside = [t for t in value if t in kids]
    return sum(kids[t] for t in inside if value[t] <= cutoff) / sum(kids[t] for t in inside)


@needs_data
@pytest.mark.realdata
@pytest.mark.parametrize(("place", "city", "st"),
                         [("4075000", "Tulsa", "OK"), ("2622000", "Detroit", "MI")])
def test_real_cities(real_warehouse: Warehouse, place: str, city: str, st: str) -> None:
    r = report_for(real_warehouse, place)
    assert r.n_tracts > 50 and r.n_without_geometry == 0
    m = r.moran
    assert m is not None and m.n > 50
    assert m.i > 0.2 and m.p_sim < 0.05 and m.clustered and m.z_norm > 5
    share = r.bottom_quintile_share
    assert 0 < share.share < 1 and share.weighted
    cutoff, n = csv_cutoff(OI / "tract_kfr_rP_gP_p25.csv", "Household_Income_at_Age_35_rP_gP_p25")
    assert share.cutoff == pytest.approx(cutoff, rel=1e-12) and share.national_n == n
    assert share.share == pytest.approx(csv_share(city, st, cutoff), rel=1e-9)
    values = [t.value for t in r.lowest_tracts]
    assert values == sorted(values) and all(t.kid_count for t in r.lowest_tracts)


@needs_data
@pytest.mark.realdata
def test_real_top20_cutoff_and_missing_geometry(real_warehouse: Warehouse) -> None:
    r = report_for(real_warehouse, "4075000", metric="kfr_top20_p25", permutations=99)
    cutoff, _ = csv_cutoff(OI / "tract_kfr_top20_rP_gP_p25.csv",
                           "Frac._in_Top_20%_Based_on_Household_Income_rP_gP_p25")
    assert r.bottom_quintile_share.cutoff == pytest.approx(cutoff, rel=1e-12)
    rochester = report_for(real_warehouse, "3663000", permutations=99)  # NY: no geometry file
    assert rochester.moran is None and rochester.n_without_geometry == rochester.n_tracts
    assert any("upward fetch tracts --state 36" in w for w in rochester.warnings)
    assert rochester.bottom_quintile_share is not None


@pytest.mark.slow
def test_numpy_lisa_equals_esda_moran_local() -> None:
    """Upward's conditional-permutation LISA gives esda.Moran_Local's statistics, quadrants
    and (within Monte Carlo error) pseudo p-values."""
    import shapely
    from esda.moran import Moran_Local
    from libpysal.weights import Queen

    from upward.diagnose.neighbourhoods import conditional_permutation_lisa

    rng = np.random.default_rng(7)
    cells = [shapely.box(i, j, i + 1, j + 1) for i in range(12) for j in range(12)]
    values = np.array([i + j + rng.normal(0, 4) for i in range(12) for j in range(12)])
    w = Queen.from_iterable(cells)
    w.transform = "r"
    Is, p, q = conditional_permutation_lisa(values, w, 999, 3)
    ref = Moran_Local(values, w, transformation="r", permutations=999, seed=3,
                      keep_simulations=False)
    np.testing.assert_allclose(Is, ref.Is, rtol=1e-10)
    assert list(q) == list(ref.q)
    mc_error = 4 * np.sqrt(ref.p_sim * (1 - ref.p_sim) / 999) + 0.004
    assert np.all(np.abs(p - ref.p_sim) <= mc_error)
