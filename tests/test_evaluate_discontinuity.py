"""Regression discontinuity: rdrobust's own Senate example, Lee, Moretti & Butler (2004) and
Manacorda, Miguel & Vigorito (2011) as reproduced in textbooks, McCrary's density test, and
simulations with a known effect."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.designs import DESIGNS, TABLE_COLUMNS
from upward.evaluate.designs.discontinuity import estimate_rd, mccrary_test
from upward.evaluate.spec import EvaluationSpec

causaldata = pytest.importorskip("causaldata")


@pytest.fixture(scope="module")
def senate() -> pd.DataFrame:
    import rdrobust

    return pd.read_csv(os.path.join(os.path.dirname(rdrobust.__file__), "data",
                                    "rdrobust_RDsenate.csv"))


@pytest.fixture(scope="module")
def senate_result(senate):
    spec = EvaluationSpec(data="senate.csv", design="rd", outcome="vote", running="margin",
                          cutoff=0)
    return estimate_rd(senate, spec)


def test_senate_matches_rdrobust_published_example(senate_result):
    """Calonico, Cattaneo, Farrell & Titiunik (2017, Stata Journal 17(2), the rdrobust
    article; also Cattaneo, Frandsen & Titiunik 2015): U.S. Senate incumbency, vote share on
    the margin of victory, local linear, triangular kernel, mserd: h = 17.754, b = 28.028,
    conventional estimate 7.414 (SE 1.459), robust 95% CI [4.094, 10.919], 360 + 323
    effective observations."""
    r = senate_result
    assert r.estimate == pytest.approx(7.414, abs=5e-4)
    assert r.ci_low == pytest.approx(4.094, abs=1e-3)
    assert r.ci_high == pytest.approx(10.919, abs=1e-3)
    assert (r.n_control, r.n_treated) == (360, 323)
    assert "h = 17.75" in r.method and "robust bias-corrected" in r.method
    assert r.estimand == "ATE at the cutoff" and r.library.startswith("rdrobust")
    assert r.p_value < 1e-4


def test_senate_checks_and_tables(senate_result):
    r = senate_result
    checks = {c.name: c for c in r.checks}
    # no sorting at the cutoff in close Senate races (the McCrary test does not reject)
    assert checks["manipulation"].passed is True and checks["manipulation"].p_value > 0.05
    assert checks["covariates"].passed is None
    assert checks["bandwidth"].passed is True
    methods = [row["method"] for row in r.tables["estimates"]]
    assert [m.split(" =")[0] for m in methods] == ["h/2", "h", "2h"]
    bins = pd.DataFrame(r.tables["rd_bins"])
    assert set(bins.columns) == set(TABLE_COLUMNS["rd_bins"])
    assert set(bins.side) == {"below", "above"}
    assert bins.n.sum() == 1297  # every observation with an outcome is in a bin
    assert (bins[bins.side == "below"].x < 0).all() and (bins[bins.side == "above"].x >= 0).all()
    assert any("left out" in w for w in r.warnings)  # 93 Senate races without an outcome


@pytest.fixture(scope="module")
def lmb() -> pd.DataFrame:
    return causaldata.close_elections_lmb.load_pandas().data


@pytest.mark.parametrize(("outcome", "published"), [("score", 21.28), ("democrat", 0.48)])
def test_lee_moretti_butler_table_1(lmb, outcome, published):
    """Lee, Moretti & Butler (2004, QJE) Table I, as replicated in Cunningham's Mixtape (ch. 6,
    "Replicating LMB"): within 0.48-0.52 of the previous Democratic vote share, the ADA score
    jumps by 21.28 and the probability of a Democrat winning next time by 0.48 — a difference
    in means (p = 0, uniform kernel, h = 0.02), standard errors clustered by district id."""
    spec = EvaluationSpec(data="lmb.csv", design="rd", outcome=outcome,
                          running="lagdemvoteshare", cutoff=0.5, cluster="id",
                          options={"p": 0, "kernel": "uniform", "bandwidth": 0.02})
    r = estimate_rd(lmb, spec)
    assert r.estimate == pytest.approx(published, abs=0.005)
    assert r.n == 915 and r.n_clusters is not None and "CR1" in r.method


@pytest.fixture(scope="module")
def transfers() -> pd.DataFrame:
    return causaldata.gov_transfers.load_pandas().data


@pytest.mark.parametrize(("p", "published"), [(1, 0.0999), (2, 0.0929)])
def test_manacorda_miguel_vigorito_in_the_effect(transfers, p, published):
    """Huntington-Klein, The Effect (2021), ch. 20: Uruguay's PANES transfers (Manacorda,
    Miguel & Vigorito 2011) raised support for the government; on the book's data (income
    within 0.02 of the eligibility threshold) the linear fit with separate slopes gives
    0.0999 (its regression table; the same 0.0998519 appears in Stata) and the quadratic
    0.093. Participation is decided by income below the cutoff: the design reads the treated
    side from the data and reports treated minus untreated."""
    spec = EvaluationSpec(data="gt.csv", design="rd", outcome="Support",
                          running="Income_Centered", cutoff=0, treatment="Participation",
                          options={"p": p, "kernel": "uniform", "bandwidth": 0.02})
    r = estimate_rd(transfers, spec)
    assert r.estimate == pytest.approx(published, abs=5e-4)
    assert r.estimand == "ATE at the cutoff"
    assert r.n_treated == 1127 and r.n_control == 821  # participants are below the cutoff


def test_transfers_covariate_check_flags_jumps(transfers):
    """At the MSE-optimal bandwidth (h = 0.0052) age jumps at the threshold (robust p = 0.02,
    below 0.05/2): the check fails and its failure is shown before the estimate."""
    spec = EvaluationSpec(data="gt.csv", design="rd", outcome="Support",
                          running="Income_Centered", cutoff=0, treatment="Participation",
                          covariates=["Education", "Age"])
    r = estimate_rd(transfers, spec)
    covs = next(c for c in r.checks if c.name == "covariates")
    assert "Education" in covs.detail and "Age" in covs.detail
    assert covs.passed is False and covs.p_value < 0.025
    assert r.summary_lines()[0].startswith("CHECK FAILED — covariates")


def _sharp(rng, n=1000, effect=1.0):
    x = rng.uniform(-1, 1, n)
    y = 0.5 * x + 0.8 * x ** 2 + effect * (x >= 0) + rng.normal(0, 0.4, n)
    return pd.DataFrame({"x": x, "y": y, "age": 40 + 5 * x + rng.normal(size=n)})


def test_robust_interval_coverage_simulation():
    """A curved conditional mean with a jump of 1: over 120 samples the conventional estimate
    is unbiased (within 3 Monte Carlo SEs) and the robust bias-corrected interval covers 1 at
    close to 95% (binomial 99% band around 0.95)."""
    rng = np.random.default_rng(2024)
    spec = EvaluationSpec(data="sim.csv", design="rd", outcome="y", running="x", cutoff=0)
    results = [estimate_rd(_sharp(rng), spec) for _ in range(120)]
    est = np.array([r.estimate for r in results])
    cover = np.mean([r.ci_low <= 1.0 <= r.ci_high for r in results])
    assert abs(est.mean() - 1.0) < 3 * est.std(ddof=1) / np.sqrt(len(est))
    assert abs(cover - 0.95) <= 2.58 * np.sqrt(0.95 * 0.05 / len(est))


def test_fuzzy_design_recovers_complier_effect():
    """Take-up jumps from 20% to 80% at the cutoff and the effect on takers is 2: the fuzzy
    design reports a LATE near 2, the first stage near 0.6, and the reduced form would be
    1.2 (what fuzzy: false gives)."""
    rng = np.random.default_rng(7)
    n = 6000
    x = rng.uniform(-1, 1, n)
    d = (rng.random(n) < np.where(x >= 0, 0.8, 0.2)).astype(int)
    y = 0.3 * x + 2.0 * d + rng.normal(0, 0.5, n)
    df = pd.DataFrame({"x": x, "d": d, "y": y})
    spec = EvaluationSpec(data="sim.csv", design="rd", outcome="y", running="x", cutoff=0,
                          treatment="d")
    r = estimate_rd(df, spec)
    assert r.estimand.startswith("LATE") and "fuzzy" in r.method
    assert r.ci_low < 2.0 < r.ci_high and abs(r.estimate - 2.0) < 0.3
    first = next(row for row in r.tables["estimates"] if row["method"].startswith("first"))
    assert first["estimate"] == pytest.approx(0.6, abs=0.1)
    assert next(c for c in r.checks if c.name == "first_stage").passed is True
    itt = estimate_rd(df, spec.model_copy(update={"options": {"fuzzy": False}}))
    assert itt.estimand.startswith("ITT") and itt.estimate == pytest.approx(1.2, abs=0.2)


def test_treated_below_flips_sign():
    rng = np.random.default_rng(3)
    df = _sharp(rng, n=3000, effect=-1.0)  # y jumps down going up: treated below gain 1
    spec = EvaluationSpec(data="sim.csv", design="rd", outcome="y", running="x", cutoff=0,
                          options={"treated_side": "below"})
    r = estimate_rd(df, spec)
    assert r.estimate == pytest.approx(1.0, abs=0.25) and r.ci_low < r.ci_high


def test_covariate_jump_fails_check():
    rng = np.random.default_rng(4)
    df = _sharp(rng, n=3000)
    df["age"] += 3 * (df.x >= 0)
    spec = EvaluationSpec(data="sim.csv", design="rd", outcome="y", running="x", cutoff=0,
                          covariates=["age"])
    r = estimate_rd(df, spec)
    assert next(c for c in r.checks if c.name == "covariates").passed is False
    adjusted = estimate_rd(df, spec.model_copy(update={"options": {"adjust_covariates": True}}))
    assert "covariate-adjusted" in adjusted.method


def test_mccrary_size_and_power():
    """Smooth running variable: the test rejects at 5% in at most 10% of 200 samples; with half
    of those just below the cutoff moved just above it rejects in every sample."""
    rng = np.random.default_rng(8)
    null, moved = [], []
    for _ in range(200):
        x = rng.normal(size=2000)
        null.append(mccrary_test(x, 0.3).p_value < 0.05)
        movers = (x > 0.1) & (x < 0.3) & (rng.random(2000) < 0.5)
        moved.append(mccrary_test(np.where(movers, 0.6 - x, x), 0.3).p_value < 0.05)
    assert np.mean(null) <= 0.10
    assert np.mean(moved) == 1.0


def test_manipulated_running_variable_fails_check():
    rng = np.random.default_rng(9)
    df = _sharp(rng, n=4000)
    movers = (df.x > -0.2) & (df.x < 0) & (rng.random(len(df)) < 0.6)
    df.loc[movers, "x"] = -df.loc[movers, "x"]
    r = estimate_rd(df, EvaluationSpec(data="sim.csv", design="rd", outcome="y",
                                       running="x", cutoff=0))
    assert r.failed_checks()[0].name == "manipulation"
    assert r.summary_lines()[0].startswith("CHECK FAILED — manipulation")


@pytest.mark.parametrize(("options", "words"), [
    ({"p": 7}, "options: p"),
    ({"kernel": "gaussian"}, "kernel"),
    ({"bandwidth": -1}, "bandwidth"),
    ({"bwselect": "best"}, "bwselect"),
    ({"bins": 1}, "bins"),
    ({"fuzzy": True}, "fuzzy true needs treatment"),
    ({"treated_side": "left"}, "treated_side"),
])
def test_bad_options(options, words):
    df = _sharp(np.random.default_rng(1), n=500)
    spec = EvaluationSpec(data="sim.csv", design="rd", outcome="y", running="x", cutoff=0,
                          options=options)
    with pytest.raises(ConfigError, match=words):
        estimate_rd(df, spec)


def test_bad_data():
    df = _sharp(np.random.default_rng(1), n=500)
    spec = EvaluationSpec(data="sim.csv", design="rd", outcome="y", running="x", cutoff=5)
    with pytest.raises(InputFileError, match="below the cutoff 5") as err:
        estimate_rd(df, spec)
    assert "column 'x'" in str(err.value)
    bad = spec.model_copy(update={"cutoff": 0, "treatment": "d"})
    with pytest.raises(InputFileError, match="0 or 1"):
        estimate_rd(df.assign(d=3), bad)
    few = df[df.x < 0].copy()
    few = pd.concat([few, df[df.x >= 0].head(2)])
    with pytest.raises(InputFileError, match="rdrobust cannot estimate"):
        estimate_rd(few, spec.model_copy(update={"cutoff": 0}))


def test_registered():
    assert DESIGNS["rd"].estimate is estimate_rd
    assert "bandwidth" in DESIGNS["rd"].options


def test_runs_from_a_yaml_spec(tmp_path):
    """A spec file and a CSV, as a user writes them, through upward.evaluate.run."""
    from upward.evaluate.run import evaluate

    _sharp(np.random.default_rng(12), n=1500).to_csv(tmp_path / "scores.csv", index=False)
    (tmp_path / "rd.yaml").write_text(
        "data: scores.csv\ndesign: rd\noutcome: y\nrunning: x\ncutoff: 0\n"
        "covariates: [age]\noptions:\n  bins: 10\n")
    r = evaluate(tmp_path / "rd.yaml", save=False)
    assert r.design == "rd" and r.ci_low < 1.0 < r.ci_high
    assert len([b for b in r.tables["rd_bins"] if b["side"] == "above"]) == 10
