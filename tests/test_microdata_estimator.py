"""The PUMS estimator against svy (the maintained survey package) and a direct NumPy computation.

svy is told the design the ACS publishes: full-sample weight plus 80 successive-difference
replicate weights, variance 4/80 · Σ(θ_r − θ)² centred on the full-sample estimate
(``variance_center="estimate"``). The NumPy computations are written here from the definitions.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pytest
from tests.conftest import DATA

from upward.core.errors import ConfigError, InputFileError
from upward.estimate.microdata import Statistic, estimate
from upward.estimate.sdr import sdr_se
from upward.sources.pums import read_replicate_csv

svy = pytest.importorskip("svy")
R = 80
LOUISVILLE = DATA / "pums" / "lou_pums_microdata_ky_2019acs5_80rows.csv"


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 600
    w = rng.uniform(20, 120, n)
    frame = pd.DataFrame({
        "g": rng.choice(["a", "b", "c"], n),
        "y": rng.gamma(2.0, 20_000, n).round(),
        "x": rng.uniform(1, 5, n),
        "flag": rng.random(n) < 0.3,
        "PWGTP": w,
    })
    # replicate factors in the SDR range 1 ± 2^-1.5 · (±1 ∓ 1)
    factors = 1 + 2 ** -1.5 * (rng.choice([-1, 1], (n, R)) - rng.choice([-1, 1], (n, R)))
    for r in range(R):
        frame[f"PWGTP{r + 1}"] = w * factors[:, r]
    frame["flag01"] = frame["flag"].astype(float)
    return frame


def _sample(frame: pd.DataFrame):
    data = pl.from_pandas(frame.drop(columns=["flag"]))
    design = svy.Design(wgt="PWGTP", rep_wgts=svy.SdrWgts(prefix="PWGTP", n_reps=R))
    return svy.Sample(data, design)


def _weights(frame: pd.DataFrame) -> np.ndarray:
    return frame[["PWGTP", *[f"PWGTP{r}" for r in range(1, R + 1)]]].to_numpy()


def _numpy(frame, fn) -> tuple[float, float]:
    """θ and its SDR SE from fn(weights column) applied to the full sample and each replicate."""
    w = _weights(frame)
    thetas = np.array([fn(w[:, k]) for k in range(R + 1)])
    se = float(np.sqrt(4 / R * np.sum((thetas[1:] - thetas[0]) ** 2)))
    return float(thetas[0]), se


def _ours(frame, stat, by=()):
    return estimate(ibis.memtable(frame), stat, by=list(by))


def test_mean_by_group_matches_svy_and_numpy(records):
    ours = _ours(records, Statistic("mean", "y"), by=["g"])
    theirs = _sample(records).estimation.mean("y", by="g", method="replication",
                                               variance_center="estimate").to_polars()
    theirs = theirs.to_pandas().sort_values("g").reset_index(drop=True)
    np.testing.assert_allclose(ours.estimate, theirs.est, rtol=1e-12)
    np.testing.assert_allclose(ours.se, theirs.se, rtol=1e-9)
    for g, row in ours.set_index("g").iterrows():
        sub = records[records.g == g]
        est, se = _numpy(sub, lambda w, s=sub: np.sum(w * s.y) / np.sum(w))
        assert row.estimate == pytest.approx(est, rel=1e-12)
        assert row.se == pytest.approx(se, rel=1e-9)
        assert row.n == len(sub)
        w0 = sub.PWGTP.to_numpy()
        assert row.n_eff == pytest.approx(w0.sum() ** 2 / (w0 ** 2).sum())
        assert row.cv == pytest.approx(row.se / row.estimate)
        assert row.lb == pytest.approx(row.estimate - 1.959963984540054 * row.se)


def test_total_matches_svy_and_numpy(records):
    ours = _ours(records, Statistic("total", "y"))
    theirs = _sample(records).estimation.total("y", method="replication",
                                                variance_center="estimate").to_polars()
    assert ours.estimate[0] == pytest.approx(theirs["est"][0], rel=1e-12)
    assert ours.se[0] == pytest.approx(theirs["se"][0], rel=1e-9)
    est, se = _numpy(records, lambda w: np.sum(w * records.y))
    assert (ours.estimate[0], ours.se[0]) == pytest.approx((est, se), rel=1e-12)


def test_proportion_matches_svy_and_numpy(records):
    ours = _ours(records, Statistic("proportion", "flag"))
    theirs = _sample(records).estimation.prop("flag01", method="replication",
                                               variance_center="estimate").to_polars()
    yes = theirs.filter(pl.col("flag01") == 1.0)
    assert ours.estimate[0] == pytest.approx(yes["est"][0], rel=1e-12)
    assert ours.se[0] == pytest.approx(yes["se"][0], rel=1e-9)
    est, se = _numpy(records, lambda w: np.sum(w * records.flag) / np.sum(w))
    assert (ours.estimate[0], ours.se[0]) == pytest.approx((est, se), rel=1e-12)


def test_ratio_matches_svy_and_numpy(records):
    ours = _ours(records, Statistic("ratio", "y", "x"), by=["g"])
    theirs = _sample(records).estimation.ratio("y", "x", by="g", method="replication",
                                                variance_center="estimate").to_polars()
    theirs = theirs.to_pandas().sort_values("g").reset_index(drop=True)
    np.testing.assert_allclose(ours.estimate, theirs.est, rtol=1e-12)
    np.testing.assert_allclose(ours.se, theirs.se, rtol=1e-9)
    sub = records[records.g == "b"]
    est, se = _numpy(sub, lambda w: np.sum(w * sub.y) / np.sum(w * sub.x))
    row = ours.set_index("g").loc["b"]
    assert (row.estimate, row.se) == pytest.approx((est, se), rel=1e-12)


@pytest.mark.parametrize("q", [0.2, 0.5, 0.8])
def test_quantile_point_matches_svy_and_replicates_match_numpy(records, q):
    ours = _ours(records, Statistic("quantile", "y", q=q), by=["g"])
    for g, row in ours.set_index("g").iterrows():
        sub = records[records.g == g]
        # svy's q_method="higher" is the lower inverse of the weighted CDF: min{y: F(y) >= q}
        theirs = _sample(sub).estimation.quantile("y", p=q, method="replication",
                                                   q_method="higher").to_polars()
        assert row.estimate == theirs["est"][0]
        order = np.argsort(sub.y.to_numpy(), kind="stable")
        y = sub.y.to_numpy()[order]

        def quantile(w, y=y, order=order):
            cdf = np.cumsum(w[order]) / np.sum(w)
            return y[np.argmax(cdf >= q * (1 - 1e-12))]

        est, se = _numpy(sub, quantile)
        assert row.estimate == est
        assert row.se == pytest.approx(se, rel=1e-12)
        # svy's SE is Woodruff's (through the CDF), a different method: same order of size
        assert 0.3 < row.se / theirs["se"][0] < 3


def test_se_formula_is_the_shared_sdr_one(records):
    ours = _ours(records, Statistic("mean", "y"))
    w = _weights(records)
    thetas = (w * records.y.to_numpy()[:, None]).sum(0) / w.sum(0)
    assert ours.se[0] == pytest.approx(float(sdr_se(thetas[0], thetas[1:])), rel=1e-12)


def test_factor_multiplies_every_weight(records):
    half = records.assign(af=0.5)
    a = _ours(records, Statistic("total", "y"))
    b = estimate(ibis.memtable(half), Statistic("total", "y"), factor="af")
    assert b.estimate[0] == pytest.approx(a.estimate[0] / 2)
    assert b.se[0] == pytest.approx(a.se[0] / 2)
    assert b.n_alloc[0] == pytest.approx(len(records) / 2)


@pytest.mark.skipif(not LOUISVILLE.exists(), reason=f"real public file absent: {LOUISVILLE}")
def test_louisville_svrep_file_through_reader_and_estimator_matches_svy():
    # 80 adults of the ACS 2015-19 5-year PUMS for Louisville with their real replicate weights
    # (svrep's lou_pums_microdata; ../shared/data/SOURCES.md).
    frame = read_replicate_csv(LOUISVILLE)
    frame["AGE"] = frame["AGE"].astype(float)
    frame["female"] = (frame["SEX"] == "Female").astype(float)
    frame["hs"] = (frame["EDUC_ATTAINMENT"] == "High school or beyond").astype(float)
    assert len(frame) == 80
    sample = svy.Sample(pl.from_pandas(frame), svy.Design(
        wgt="PWGTP", rep_wgts=svy.SdrWgts(prefix="PWGTP", n_reps=R)))
    checks = [
        (Statistic("mean", "AGE"), sample.estimation.mean(
            "AGE", method="replication", variance_center="estimate")),
        (Statistic("total", "female"), sample.estimation.total(
            "female", method="replication", variance_center="estimate")),
        (Statistic("proportion", "hs"), sample.estimation.mean(
            "hs", method="replication", variance_center="estimate")),
        (Statistic("ratio", "female", "hs"), sample.estimation.ratio(
            "female", "hs", method="replication", variance_center="estimate")),
    ]
    for stat, theirs in checks:
        ours = estimate(ibis.memtable(frame), stat)
        t = theirs.to_polars()
        assert ours.estimate[0] == pytest.approx(t["est"][0], rel=1e-12), stat.label
        assert ours.se[0] == pytest.approx(t["se"][0], rel=1e-9), stat.label
    by_race = estimate(ibis.memtable(frame), Statistic("mean", "AGE"), by=["RACE_ETHNICITY"])
    t = sample.estimation.mean("AGE", by="RACE_ETHNICITY", method="replication",
                               variance_center="estimate").to_polars().to_pandas()
    t = t.sort_values("RACE_ETHNICITY").reset_index(drop=True)
    np.testing.assert_allclose(by_race.estimate, t.est, rtol=1e-12)
    np.testing.assert_allclose(by_race.se, t.se, rtol=1e-9, atol=1e-12)
    med = estimate(ibis.memtable(frame), Statistic("quantile", "AGE", q=0.5))
    t = sample.estimation.quantile("AGE", p=0.5, method="replication",
                                   q_method="higher").to_polars()
    assert med.estimate[0] == t["est"][0]


def test_bad_options_name_the_option(records):
    with pytest.raises(ConfigError, match=r"quantile q=1\.0 is outside \(0, 1\)"):
        Statistic("quantile", "y", q=1.0)
    with pytest.raises(ConfigError, match=r"quantile q=0\.0"):
        Statistic("quantile", "y", q=0.0)
    with pytest.raises(ConfigError, match="grouping column 'county' is not a column"):
        _ours(records, Statistic("mean", "y"), by=["county"])
    with pytest.raises(ConfigError, match="weight column 'PWGTP80' is not a column"):
        _ours(records.drop(columns=["PWGTP80"]), Statistic("mean", "y"))


def test_text_replicate_column_is_refused_naming_file_row_column(tmp_path):
    path = tmp_path / "lou.csv"
    frame = pd.DataFrame({"PWGTP": [1.0, 2.0], **{f"PWGTP{r}": [1.0, 2.0] for r in range(1, 81)}})
    frame["PWGTP17"] = ["1.0", "twelve"]
    frame.to_csv(path, index=False)
    with pytest.raises(InputFileError, match=r"lou\.csv, row 3, column 'PWGTP17'"):
        read_replicate_csv(path)


def _lower_quantile(y: np.ndarray, w: np.ndarray, q: float) -> float:
    """min{v : Σ_{y ≤ v} w ≥ q · Σ w}, value by value (ties together), straight from the definition."""
    values = np.unique(y)
    running = np.array([w[y <= v].sum() for v in values])
    hit = np.flatnonzero(running >= q * w.sum() * (1 - 1e-12))
    return float(values[hit[0]]) if len(hit) else float("nan")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantile_passes_match_the_definition_with_ties_negative_weights_and_null_groups(seed):
    # the two aggregation passes (value ranges, then values inside the ranges that matter) must
    # give exactly the definition's answer, also where a replicate weight is negative (the
    # running total goes down) and where many records share a value
    from upward.estimate.quantiles import replicate_quantiles

    rng = np.random.default_rng(seed)
    n, k = 400, 4
    frame = pd.DataFrame({"g": rng.choice(["a", "b", None], n), "_f": 1.0,
                          "_y": rng.choice([0.0, 5.0, 7.5, 10.0], n) if seed == 0
                          else rng.gamma(2.0, 10.0, n).round()})
    for j in range(k):
        w = rng.integers(0, 6, n).astype(float)
        w[rng.random(n) < (0.15 if seed else 0.0)] *= -1
        frame[f"_w{j}"] = w
    q = [0.5, 0.2, 0.8][seed]
    got = replicate_quantiles(ibis.memtable(frame), ["g"], k, q, lambda e: e.to_pyarrow())
    assert got["g"].tolist()[:2] == ["a", "b"] and pd.isna(got["g"].iloc[2])
    for row in got.to_dict("records"):
        sub = frame[frame.g.isna()] if pd.isna(row["g"]) else frame[frame.g == row["g"]]
        assert row["_n"] == len(sub)
        for j in range(k):
            want = _lower_quantile(sub._y.to_numpy(), sub[f"_w{j}"].to_numpy(), q)
            assert row[f"_q{j}"] == want or (np.isnan(want) and np.isnan(row[f"_q{j}"]))
