"""Replicate tables, exact area margins and the ACS handbook's approximations.

The demo replicate files are generated with a known covariance (upward.demo.replicates); the
exact aggregate is checked against an independent NumPy computation that reads the zipped CSV
with pandas, and the approximation's error against the exact margin is measured and shown.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import InputFileError
from upward.demo.replicates import DEMO_TABLES, leaf_covariance, write_demo_replicates
from upward.estimate.acs import (
    AcsEstimate,
    approx_proportion,
    approx_sum,
    interpolated_median,
    moe_proportion,
    moe_ratio,
    reliability_of,
)
from upward.estimate.aggregate import Recipe, approximate_estimate, exact_estimate
from upward.sources.replicates import COLUMNS, REP_COLUMNS, read_replicates


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = write_demo_replicates(tmp_path_factory.mktemp("vre"))
    tables = {p.name.split("_")[0]: read_replicates(p) for p in out.files}
    return out, tables


def _file(out, table: str):
    return next(p for p in out.files if p.name.startswith(table + "_"))


def _raw(path) -> pd.DataFrame:
    """The file as a plain pandas frame (independent of the reader)."""
    with zipfile.ZipFile(path) as z:
        text = z.read(z.namelist()[0]).decode()
    df = pd.read_csv(io.StringIO(text), dtype={"GEOID": str})
    return df[df["GEOID"].notna()].reset_index(drop=True)


def test_demo_replicates_have_the_declared_covariance_exactly(demo):
    out, tables = demo
    t = tables["B23025"]
    tract = out.tracts[5]
    leaves = [4, 5, 6, 7]
    rows = t.cells.index[(t.cells.geo_id == tract)
                         & t.cells.variable.isin([f"B23025_{k:03d}" for k in leaves])]
    est = t.cells.loc[rows, "estimate"].to_numpy()
    dev = t.replicates[rows].T - est  # (80, 4)
    sdr_cov = 4 / 80 * dev.T @ dev
    np.testing.assert_allclose(sdr_cov, leaf_covariance(est), rtol=1e-4, atol=1e-3)
    # a total is the sum of its leaves in every replicate
    total = t.cells.index[(t.cells.geo_id == tract) & (t.cells.variable == "B23025_001")][0]
    np.testing.assert_allclose(t.replicates[total], t.replicates[rows].sum(axis=0), atol=0.01)


def test_area_aggregate_equals_an_independent_numpy_computation(demo):
    out, tables = demo
    rng = np.random.default_rng(3)
    chosen = sorted(rng.choice(out.tracts, 25, replace=False))
    weights = {g: float(w) for g, w in zip(chosen, rng.uniform(0.2, 1.0, 25), strict=True)}
    recipe = Recipe.from_dict({"table": "B17020", "kind": "proportion",
                               "numerator": ["B17020_003", "B17020_004", "B17020_005"],
                               "denominator": ["B17020_003", "B17020_004", "B17020_005",
                                               "B17020_011", "B17020_012", "B17020_013"]})
    got = exact_estimate(recipe, tables, weights)

    raw = _raw(_file(out, "B17020"))
    raw["geo"] = raw["GEOID"].str.split("US").str[1]
    raw = raw[raw["geo"].isin(chosen)]
    w = raw["geo"].map(weights).to_numpy()
    values = raw[["ESTIMATE", *REP_COLUMNS]].to_numpy(float) * w[:, None]
    order = raw["ORDER"].to_numpy()
    num = values[np.isin(order, [3, 4, 5])].sum(axis=0)
    den = values[np.isin(order, [3, 4, 5, 11, 12, 13])].sum(axis=0)
    ratio = num / den
    se = math.sqrt(4 / 80 * np.sum((ratio[1:] - ratio[0]) ** 2))
    assert got.estimate == pytest.approx(ratio[0], rel=1e-12)
    assert got.se == pytest.approx(se, rel=1e-10)
    assert got.method.startswith("exact: successive-difference replication")
    assert got.moe == pytest.approx(1.645 * se)


def test_the_approximation_error_against_the_exact_margin_is_shown(demo):
    out, tables = demo
    city = [g for g in out.tracts if int(g[5:9]) <= 60]
    recipe = Recipe.from_dict({"table": "B17020", "kind": "sum",
                               "numerator": ["B17020_003", "B17020_004", "B17020_005"]})
    rows = []
    for k in range(3):
        part = city[k * 20:(k + 1) * 20]
        weights = dict.fromkeys(part, 1.0)
        exact = exact_estimate(recipe, tables, weights)
        approx = approximate_estimate(recipe, tables, weights)
        assert exact.estimate == approx.estimate
        rows.append((exact.se, approx.se, approx.se / exact.se - 1))
    print("\nchildren in poverty, 20-tract areas: exact SE, √ΣMOE² SE, relative error")
    for r in rows:
        print(f"  {r[0]:8.1f} {r[1]:8.1f} {r[2]:+.1%}")
    # The demo's cells are positively correlated within tables and between neighbouring
    # tracts: ignoring the covariances understates the margin of every area.
    assert all(approx < exact for exact, approx, _ in rows)


def test_medians_from_the_distribution_and_their_replicate_margin(demo):
    out, tables = demo
    lines = DEMO_TABLES["B19001"][2]
    lower = [0, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 60_000,
             75_000, 100_000, 125_000, 150_000, 200_000]
    upper = [*lower[1:], float("inf")]
    recipe = Recipe.from_dict({"table": "B19001", "kind": "median",
                               "distribution": [f"B19001_{k:03d}" for k in range(2, 18)],
                               "lower": lower, "upper": upper})
    assert len(lines) == 17
    weights = dict.fromkeys(out.tracts[:30], 1.0)
    e = exact_estimate(recipe, tables, weights)
    raw = _raw(_file(out, "B19001"))
    raw = raw[raw["GEOID"].str.split("US").str[1].isin(weights)]
    counts = raw[raw["ORDER"] > 1].groupby("ORDER")["ESTIMATE"].sum().to_numpy()
    cum = np.cumsum(counts)
    k = int(np.searchsorted(cum, counts.sum() / 2))
    below = cum[k - 1] if k else 0.0
    expect = lower[k] + (counts.sum() / 2 - below) / counts[k] * (upper[k] - lower[k])
    assert e.estimate == pytest.approx(expect)
    assert 0 < e.se < e.estimate
    assert approximate_estimate(recipe, tables, weights).warnings


def test_interpolated_median_open_ended_and_empty():
    assert math.isnan(interpolated_median([0, 10], [10, float("inf")], [1, 5]))
    assert math.isnan(interpolated_median([0, 10], [10, 20], [0, 0]))


# The ACS handbook's worked examples: U.S. Census Bureau, "Understanding and Using American
# Community Survey Data: What All Data Users Need to Know" (2018), ch. 8 "Calculating Measures of
# Error for Derived Estimates": Table 8.1 (never-married females, Fairfax County, Arlington
# County and Alexandria city, VA), Table 8.4 (females 15 and over, same counties), Table 8.5
# (never-married males), and the product example (owner-occupied units in the US × share in
# single-unit detached structures). Figures as published there, as quoted by the tests of
# datadesk/census-data-aggregator (test.py, test_*_ch8) and, for the proportion's inputs
# (203,119 ± 5,070 of 630,498 ± 831), by the PRB ACS Data Users Group forum, thread 1429.
NEVER_MARRIED_FEMALES = [(135_173, 3_860), (43_104, 2_642), (24_842, 1_957)]
FEMALES_15_PLUS = [(466_037, 391), (97_360, 572), (67_101, 459)]
NEVER_MARRIED_MALES = [(156_720, 4_222), (44_613, 2_819), (25_507, 2_259)]


def test_handbook_chapter_8_worked_examples():
    from upward.estimate.acs import approx_product, approx_ratio

    females = approx_sum(*zip(*NEVER_MARRIED_FEMALES, strict=True))
    assert females.estimate == 203_119 and round(females.moe) == 5_070  # Table 8.1
    total = approx_sum(*zip(*FEMALES_15_PLUS, strict=True))
    assert total.estimate == 630_498 and round(total.moe) == 831
    p = approx_proportion(203_119, total.estimate, 5_070, total.moe)  # Table 8.4
    assert round(p.estimate, 3) == 0.322 and round(p.moe, 3) == 0.008
    males = approx_sum(*zip(*NEVER_MARRIED_MALES, strict=True))
    r = approx_ratio(males.estimate, 203_119, males.moe, 5_070)  # Table 8.5
    assert round(r.estimate, 3) == 1.117 and round(r.moe, 3) == 0.039
    owners = approx_product(74_506_512, 0.824, 228_238, 0.001)  # product example
    assert round(owners.estimate) == 61_393_366 and round(owners.moe) == 202_289


def test_handbook_formulas_and_reliability_flags():
    # ACS handbook ch. 8: proportion MOE = (1/Y)·√(MOE_X² − p²·MOE_Y²); the ratio formula
    # when the radicand is negative (inputs of the handbook's proportion example, above).
    x, y, mx, my = 203_119, 630_498, 5_070, 831
    p = x / y
    assert moe_proportion(x, y, mx, my) == pytest.approx(
        math.sqrt(mx**2 - p**2 * my**2) / y)
    assert moe_proportion(x, y, mx, my) < moe_ratio(x, y, mx, my)
    e = approx_proportion(x, y, mx, my)
    assert e.cv == pytest.approx(e.se / p) and e.reliability == "reliable"
    # radicand negative: falls back to the ratio formula and says so
    fallback = approx_proportion(10, 20, 1, 8)
    assert fallback.moe == pytest.approx(moe_ratio(10, 20, 1, 8)) and fallback.warnings
    assert approx_sum([1, 2, 3], [3, 4, 12]).moe == pytest.approx(13.0)
    assert [reliability_of(c) for c in (0.15, 0.150001, 0.3, 0.31)] == [
        "reliable", "use with caution", "use with caution", "unreliable"]
    assert AcsEstimate(0.0, 1.0, "m").reliability == "unknown"


def _write(tmp_path, text: str, name: str = "B01003_99.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bad_replicate_files_are_named_with_row_and_column(tmp_path):
    head = ",".join(COLUMNS + REP_COLUMNS)
    good = "B01003,1400000US99001000100,T,1,Total,100,16,+/-16,9.7," + ",".join(["101"] * 80)
    cut = good.rsplit(",", 30)[0]
    with pytest.raises(InputFileError, match=r"row 3.*cut short"):
        read_replicates(_write(tmp_path, f"{head}\n{good}\n{cut}"))
    bad = good.replace(",101,101,", ",101,n/a,", 1)
    with pytest.raises(InputFileError, match=r"row 2, column 'Var_Rep\d+'.*'n/a'"):
        read_replicates(_write(tmp_path, f"{head}\n{bad}\n"))
    with pytest.raises(InputFileError, match="Var_Rep80"):
        read_replicates(_write(tmp_path, head.rsplit(",", 1)[0] + "\n"))
    z = tmp_path / "B01003_99.csv.zip"
    z.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError, match="damaged"):
        read_replicates(z)
    with pytest.raises(InputFileError, match="appears twice"):
        read_replicates(_write(tmp_path, f"{head}\n{good}\n{good}\n"))
