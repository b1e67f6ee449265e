"""The demo city's ACS Variance Replicate Estimate files and three council districts.

For every tract of the synthetic county, eight tables (total population, poverty by age, household income,
employment status, rent burden, vehicles, internet, educational attainment) are written in the
Census Bureau's replicate-file layout (``TBLID, GEOID, NAME, ORDER, TITLE, ESTIMATE, MOE, CME,
SE, Var_Rep1 … Var_Rep80``, zipped, title and universe rows first), so the exact-margin path runs
offline through the same reader as real files.

The replicates are generated with a **known covariance**: within a tract and table, the leaf
cells (those that are not totals) have variances ``(5·√(count + 4))²`` (tract margins of the
size real ACS tables show) and pairwise
correlation 0.2, and their 80 replicate deviations ``D`` are built so that ``4/80 · DᵀD`` equals
that covariance exactly (an orthonormal 80-column basis times its Cholesky factor). Totals are
sums of their leaves in every replicate, as in the Census's tables. Neighbouring tracts share a
common replicate component (about 0.3 correlation), which the handbook's √ΣMOE² ignores — the
demo shows by how much. Only the cells Upward's recipes read, and the totals they need, are
written. Replicates of small cells can be negative (real ones are not). Everything here is
invented (state FIPS 99).

Examples
--------
>>> import tempfile, pathlib
>>> out = write_demo_replicates(pathlib.Path(tempfile.mkdtemp()))
>>> sorted(p.name for p in out.files)[:2]
['B01003_99.csv.zip', 'B15003_99.csv.zip']
>>> out.districts.name
'demo_districts.geojson'
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from upward.demo.generate import COUNTY_GEO_ID, DEFAULT_SEED, STATE_FIPS, _build_world

__all__ = ["DEMO_TABLES", "DemoReplicates", "leaf_covariance", "write_demo_replicates"]

REPLICATE_FOLDER = "replicates"
YEAR = 2023
N_REP = 80
LEAF_RHO = 0.2
NEIGHBOUR_RHO = 0.3
INCOME_BOUNDS = (0, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000,
                 60_000, 75_000, 100_000, 125_000, 150_000, 200_000)

#: Table → (title, universe, {line: (label, parent line or None)}). Lines with children are
#: totals (the sum of their children).
DEMO_TABLES: dict[str, tuple[str, str, dict[int, tuple[str, int | None]]]] = {
    "B01003": ("Total Population", "Total population", {1: ("Total", None)}),
    "B17020": ("Poverty Status in the Past 12 Months by Age",
               "Population for whom poverty status is determined", {
        1: ("Total:", None), 2: ("Income in the past 12 months below poverty level:", 1),
        3: ("Under 6 years", 2), 4: ("6 to 11 years", 2), 5: ("12 to 17 years", 2),
        6: ("18 to 59 years", 2), 7: ("60 to 74 years", 2), 8: ("75 to 84 years", 2),
        9: ("85 years and over", 2),
        10: ("Income in the past 12 months at or above poverty level:", 1),
        11: ("Under 6 years", 10), 12: ("6 to 11 years", 10), 13: ("12 to 17 years", 10),
        14: ("18 to 59 years", 10), 15: ("60 to 74 years", 10), 16: ("75 to 84 years", 10),
        17: ("85 years and over", 10)}),
    "B19001": ("Household Income in the Past 12 Months", "Households", {
        1: ("Total:", None), **{k + 2: (label, 1) for k, label in enumerate(
            ["Less than $10,000"] + [f"${lo:,} to ${hi - 1:,}" for lo, hi in
                                     itertools.pairwise(INCOME_BOUNDS[1:])]
            + ["$200,000 or more"])}}),
    "B23025": ("Employment Status for the Population 16 Years and Over",
               "Population 16 years and over", {
        1: ("Total:", None), 2: ("In labor force:", 1), 3: ("Civilian labor force:", 2),
        4: ("Employed", 3), 5: ("Unemployed", 3), 6: ("Armed Forces", 2),
        7: ("Not in labor force", 1)}),
    "B25070": ("Gross Rent as a Percentage of Household Income in the Past 12 Months",
               "Renter-occupied housing units", {
        1: ("Total:", None), 2: ("Less than 10.0 percent", 1), 3: ("10.0 to 14.9 percent", 1),
        4: ("15.0 to 19.9 percent", 1), 5: ("20.0 to 24.9 percent", 1),
        6: ("25.0 to 29.9 percent", 1), 7: ("30.0 to 34.9 percent", 1),
        8: ("35.0 to 39.9 percent", 1), 9: ("40.0 to 49.9 percent", 1),
        10: ("50.0 percent or more", 1), 11: ("Not computed", 1)}),
    "B25044": ("Tenure by Vehicles Available", "Occupied housing units", {
        1: ("Total:", None), 2: ("Owner occupied:", 1), 3: ("No vehicle available", 2),
        4: ("1 vehicle available", 2), 5: ("2 vehicles available", 2),
        6: ("3 vehicles available", 2), 7: ("4 vehicles available", 2),
        8: ("5 or more vehicles available", 2), 9: ("Renter occupied:", 1),
        10: ("No vehicle available", 9), 11: ("1 vehicle available", 9),
        12: ("2 vehicles available", 9), 13: ("3 vehicles available", 9),
        14: ("4 vehicles available", 9), 15: ("5 or more vehicles available", 9)}),
    "B28002": ("Presence and Types of Internet Subscriptions in Household", "Households", {
        1: ("Total:", None), 2: ("With an Internet subscription:", 1),
        3: ("Dial-up alone", 2), 4: ("Broadband of any type", 2),
        12: ("Internet access without a subscription", 1), 13: ("No Internet access", 1)}),
    "B15003": ("Educational Attainment for the Population 25 Years and Over",
               "Population 25 years and over", {
        1: ("Total:", None), **{k: (label, 1) for k, label in enumerate([
            "No schooling completed", "Nursery school", "Kindergarten", "1st grade",
            "2nd grade", "3rd grade", "4th grade", "5th grade", "6th grade", "7th grade",
            "8th grade", "9th grade", "10th grade", "11th grade", "12th grade, no diploma",
            "Regular high school diploma", "GED or alternative credential",
            "Some college, less than 1 year", "Some college, 1 or more years, no degree",
            "Associate's degree", "Bachelor's degree", "Master's degree",
            "Professional school degree", "Doctorate degree"], start=2)}}),
}


@dataclass(frozen=True)
class DemoReplicates:
    """What :func:`write_demo_replicates` wrote.

    >>> r = DemoReplicates(Path("d"), (), Path("d/areas/demo_districts.geojson"), ("99001000100",))
    >>> r.districts.name, r.tracts
    ('demo_districts.geojson', ('99001000100',))
    """

    root: Path
    files: tuple[Path, ...]
    districts: Path
    tracts: tuple[str, ...]


def leaf_covariance(counts: np.ndarray) -> np.ndarray:
    """The known covariance of a table's leaf cells in one tract.

    >>> leaf_covariance(np.array([96.0, 0.0])).round(2).tolist()
    [[2500.0, 100.0], [100.0, 100.0]]
    """
    sd = 5.0 * np.sqrt(np.asarray(counts, dtype=float) + 4.0)
    corr = np.full((len(sd), len(sd)), LEAF_RHO)
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(sd, sd)


def _split(total: float, shares: list[float]) -> list[float]:
    s = np.asarray(shares, dtype=float)
    return list(np.round(total * s / s.sum()))


def _leaves(table: str, pop: float, a: float, rng: np.random.Generator) -> dict[int, float]:
    """Leaf counts of one tract (``a`` = advantage, higher is better off)."""
    clip = lambda x, lo, hi: min(max(x, lo), hi)  # noqa: E731
    if table == "B01003":
        return {1: round(pop)}
    if table == "B17020":
        p = clip(0.2 - 0.09 * a + 0.02 * rng.standard_normal(), 0.02, 0.6)
        ages = [0.075, 0.075, 0.075, 0.56, 0.13, 0.06, 0.025]
        rates = [min(p * 1.35, 0.9)] * 3 + [p, p * 0.8, p * 0.9, p * 0.9]
        base = 0.97 * pop
        out = {}
        for k, (share, rate) in enumerate(zip(ages, rates, strict=True)):
            out[3 + k] = round(base * share * rate)
            out[11 + k] = round(base * share * (1 - rate))
        return out
    households = pop / 2.4
    if table == "B19001":
        median = 52_000 * math.exp(0.35 * a + 0.08 * rng.standard_normal())
        edges = np.array([*INCOME_BOUNDS, np.inf])
        from scipy.stats import lognorm

        cdf = lognorm.cdf(edges, s=0.85, scale=median)
        return {k + 2: v for k, v in enumerate(_split(households, list(np.diff(cdf))))}
    if table == "B23025":
        p16 = 0.78 * pop
        lf = 0.63 * p16
        u = clip(0.065 - 0.025 * a + 0.01 * rng.standard_normal(), 0.01, 0.3)
        return {4: round(lf * (1 - u)), 5: round(lf * u), 6: round(0.002 * p16),
                7: round(p16 - lf)}
    if table == "B25070":
        renters = households * clip(0.45 - 0.1 * a, 0.15, 0.8)
        b = clip(0.47 - 0.1 * a + 0.03 * rng.standard_normal(), 0.15, 0.8)
        low = _split(renters * (1 - b) * 0.97, [0.12, 0.2, 0.24, 0.24, 0.2])
        high = _split(renters * b * 0.97, [0.25, 0.2, 0.25, 0.3])
        return {**{2 + k: v for k, v in enumerate(low)}, **{7 + k: v for k, v in enumerate(high)},
                11: round(renters * 0.03)}
    if table == "B25044":
        owners = households * clip(0.55 + 0.1 * a, 0.2, 0.85)
        renters = households - owners
        v = clip(0.1 - 0.05 * a + 0.01 * rng.standard_normal(), 0.01, 0.4)
        cars = [0.35, 0.4, 0.17, 0.06, 0.02]
        out = {3: round(owners * v * 0.4), 10: round(renters * min(v * 1.6, 0.8))}
        for k, v_ in enumerate(_split(owners - out[3], cars)):
            out[4 + k] = v_
        for k, v_ in enumerate(_split(renters - out[10], cars)):
            out[11 + k] = v_
        return out
    if table == "B28002":
        bb = clip(0.82 + 0.06 * a + 0.02 * rng.standard_normal(), 0.4, 0.97)
        return {3: round(0.003 * households), 4: round(bb * households),
                12: round(0.02 * households),
                13: round(households * (1 - bb - 0.023))}
    if table == "B15003":
        p25 = 0.66 * pop
        e = clip(0.3 + 0.12 * a + 0.03 * rng.standard_normal(), 0.05, 0.8)
        rest = [0.01, 0.001, 0.001] + [0.003] * 8 + [0.01, 0.01, 0.015, 0.02, 0.32, 0.05,
                                                      0.06, 0.16, 0.1]
        below = _split(p25 * (1 - e), rest)
        above = _split(p25 * e, [0.62, 0.27, 0.06, 0.05])
        return {**{2 + k: v for k, v in enumerate(below)}, **{22 + k: v for k, v in enumerate(above)}}
    raise KeyError(table)


def _orthonormal(rng: np.random.Generator, common: np.ndarray, k: int, rho: float) -> np.ndarray:
    z = math.sqrt(rho) * common[:, :k] + math.sqrt(1 - rho) * rng.standard_normal((N_REP, k))
    q, _ = np.linalg.qr(z)
    return q  # (80, k), qᵀq = I


def _table_rows(table: str, tracts, pops, advantages, rng, common) -> list[list[str]]:
    title, universe, lines = DEMO_TABLES[table]
    children: dict[int, list[int]] = {}
    for line, (_, parent) in lines.items():
        if parent is not None:
            children.setdefault(parent, []).append(line)
    leaves = [line for line in lines if line not in children]
    rows = []
    for geoid, pop, a in zip(tracts, pops, advantages, strict=True):
        counts = _leaves(table, pop, a, rng)
        leaf_counts = np.array([max(counts.get(line, 0.0), 0.0) for line in leaves])
        cov = leaf_covariance(leaf_counts)
        chol = np.linalg.cholesky(cov)
        q = _orthonormal(rng, common, len(leaves), NEIGHBOUR_RHO)
        dev = math.sqrt(20.0) * q @ chol.T  # 4/80 · devᵀdev = cov exactly
        value = {line: (leaf_counts[i], leaf_counts[i] + dev[:, i], cov[i, i])
                 for i, line in enumerate(leaves)}
        for line in sorted(children, reverse=True):  # parents after their children
            _total(line, value, children, leaves, cov)

        for line in sorted(lines):
            est, reps, var = value[line]
            se = math.sqrt(var)
            moe = round(1.645 * se)
            rows.append([table, f"1400000US{geoid}", f"Census Tract {int(geoid[5:]) / 100:g}; "
                         "Demo County (synthetic); Demo State (synthetic)", str(line),
                         lines[line][0], f"{est:.0f}", str(moe), f"+/-{moe}", f"{se:.2f}",
                         *(f"{r:.3f}" for r in reps)])
    return [[table, "", "", "", title, "", "", "", "", *[""] * N_REP],
            [table, "", "", "", f"Universe: {universe}", "", "", "", "", *[""] * N_REP], *rows]


def _total(line: int, value: dict, children: dict[int, list[int]], leaves: list[int],
           cov: np.ndarray) -> None:
    """Fill ``value[line]`` for a total: the sum of its children, in every replicate."""
    for c in children[line]:
        if c not in value:
            _total(c, value, children, leaves, cov)
    parts = [value[c] for c in children[line]]
    idx = [leaves.index(leaf) for leaf in _leaf_descendants(line, children)]
    var = float(np.sum(cov[np.ix_(idx, idx)]))
    value[line] = (sum(p[0] for p in parts), sum(p[1] for p in parts), var)


def _leaf_descendants(line: int, children: dict[int, list[int]]) -> list[int]:
    out = []
    for c in children.get(line, []):
        out.extend(_leaf_descendants(c, children) if c in children else [c])
    return out


def _districts(world) -> dict:
    from shapely.geometry import Polygon, box, mapping
    from shapely.ops import unary_union

    city = unary_union([Polygon(t.ring) for t in world.tracts if t.in_city]).buffer(0)
    minx, miny, maxx, maxy = city.bounds
    cuts = [minx, minx + (maxx - minx) * 0.37, minx + (maxx - minx) * 0.71, maxx]
    features = []
    for k in range(3):
        part = city.intersection(box(cuts[k], miny - 0.01, cuts[k + 1], maxy + 0.01))
        geom = mapping(part)
        features.append({"type": "Feature", "properties": {"name": f"District {k + 1}"},
                         "geometry": json.loads(json.dumps(geom))})
    return {"type": "FeatureCollection", "features": features}


def write_demo_replicates(out_dir: Path, *, seed: int = DEFAULT_SEED) -> DemoReplicates:
    """Write the demo county's replicate files and ``demo_districts.geojson`` under ``out_dir``.

    Files go to ``replicates/<year>/140/<TABLE>_99.csv.zip`` (the Census's layout) and
    ``areas/demo_districts.geojson``; each is written to a temporary name and moved into place.
    """
    world = _build_world(seed)
    rng = np.random.Generator(np.random.PCG64(seed + 17))
    tracts = [t for t in world.tracts]
    geoids = [t.geoid for t in tracts]
    pops = [t.kids * 4.4 for t in tracts]
    adv = [t.advantage for t in tracts]
    common = rng.standard_normal((N_REP, 32))
    root = Path(out_dir)
    folder = root / REPLICATE_FOLDER / str(YEAR) / "140"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    header = ["TBLID", "GEOID", "NAME", "ORDER", "TITLE", "ESTIMATE", "MOE", "CME", "SE",
              *(f"Var_Rep{r}" for r in range(1, N_REP + 1))]
    for table in DEMO_TABLES:
        rows = _table_rows(table, geoids, pops, adv, rng, common)
        text = io.StringIO()
        import csv

        w = csv.writer(text, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        path = folder / f"{table}_{STATE_FIPS}.csv.zip"
        tmp = path.with_suffix(".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo(f"{table}_{STATE_FIPS}.csv", date_time=(2024, 12, 12, 0, 0, 0))
            z.writestr(info, text.getvalue())
        os.replace(tmp, path)
        files.append(path)
    areas = root / "areas"
    areas.mkdir(parents=True, exist_ok=True)
    districts = areas / "demo_districts.geojson"
    tmp = districts.with_suffix(".tmp")
    tmp.write_text(json.dumps(_districts(world)), encoding="utf-8")
    os.replace(tmp, districts)
    assert all(g.startswith(COUNTY_GEO_ID) for g in geoids)
    return DemoReplicates(root, tuple(files), districts, tuple(geoids))
