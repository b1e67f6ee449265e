"""The rct design against published experiments and simulations with a known effect."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.designs import get_design
from upward.evaluate.designs.experiment import estimate_rct
from upward.evaluate.inference import randomization_test
from upward.evaluate.spec import EvaluationSpec

causaldata = pytest.importorskip("causaldata")

NSW_COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75"]


def rct(data: pd.DataFrame, **fields):
    spec = EvaluationSpec(data="program.csv", design="rct", **fields)
    design = get_design("rct")
    design.check_spec(spec)
    return design.estimate(data, spec)


@pytest.fixture(scope="module")
def nsw() -> pd.DataFrame:
    return causaldata.nsw_mixtape.load_pandas().data


def test_nsw_difference_in_means_matches_dehejia_wahba(nsw):
    # Dehejia & Wahba (1999, JASA) Table 3 / Cunningham, The Mixtape ch. 5: the NSW
    # experimental estimate on 1978 earnings is $1,794 with 185 treated and 260 controls.
    r = rct(nsw, outcome="re78", treatment="treat", options={"adjust": "none",
                                                              "permutations": 500})
    assert r.estimate == pytest.approx(1794.34, abs=0.5)
    assert (r.n_treated, r.n_control, r.n) == (185, 260, 445)
    hc2 = smf.ols("re78 ~ treat", nsw).fit(cov_type="HC2")  # statsmodels' own HC2
    assert r.se == pytest.approx(hc2.bse["treat"], rel=1e-6)
    assert r.ci_low < 1794.34 < r.ci_high and r.p_value < 0.01


def test_nsw_lin_adjusted_estimate_is_near_the_experimental_benchmark(nsw):
    r = rct(nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES,
            options={"permutations": 500})
    assert "Lin (2013)" in r.method
    assert abs(r.estimate - 1794.34) < 300  # Dehejia-Wahba's adjusted estimates: $1,672-1,794
    # Lin's estimator, computed independently: centred covariates interacted with treatment
    df = nsw.copy()
    for c in NSW_COVARIATES:
        df[c] = df[c] - df[c].mean()
    formula = "re78 ~ treat * (" + " + ".join(NSW_COVARIATES) + ")"
    lin = smf.ols(formula, df).fit(cov_type="HC2")
    assert r.estimate == pytest.approx(lin.params["treat"], rel=1e-8)
    assert r.se == pytest.approx(lin.bse["treat"], rel=1e-6)
    methods = [row["method"] for row in r.tables["estimates"]]
    assert methods[0].startswith("difference in means") and methods[1].startswith("Lin")


def test_nsw_balance_table_matches_dehejia_wahba_table_1(nsw):
    # Dehejia & Wahba (1999) Table 1, NSW experimental sample: no degree 0.71 treated vs 0.83
    # control, age 25.82 vs 25.05, schooling 10.35 vs 10.09 -- the one notable imbalance is
    # "no degree", so the balance check fails and says which covariate.
    r = rct(nsw, outcome="re78", treatment="treat", covariates=NSW_COVARIATES,
            options={"permutations": 0})
    rows = {row["covariate"]: row for row in r.tables["balance"]}
    assert rows["nodegree"]["mean_treated"] == pytest.approx(0.71, abs=0.005)
    assert rows["nodegree"]["mean_control"] == pytest.approx(0.83, abs=0.01)
    assert rows["age"]["mean_treated"] == pytest.approx(25.82, abs=0.005)
    assert rows["educ"]["mean_control"] == pytest.approx(10.09, abs=0.005)
    assert rows["nodegree"]["std_diff"] == pytest.approx(-0.30, abs=0.01)
    balance = next(c for c in r.checks if c.name == "balance")
    assert balance.passed is False and "nodegree" in balance.detail
    assert r.summary_lines()[0].startswith("CHECK FAILED — balance")


def test_thornton_cash_incentive_raises_learning_hiv_results():
    # Thornton (2008, AER 98(5)): about 34% of those offered no incentive learned their HIV
    # result vs 79% of those offered any incentive -- a 45 point effect; randomization was
    # individual, standard errors clustered by village. The outcome is missing for some
    # respondents, so the attrition check and table appear.
    th = causaldata.thornton_hiv.load_pandas().data
    th = th[th["any"].notna() & th["villnum"].notna()].reset_index(drop=True)
    r = rct(th, outcome="got", treatment="any", cluster="villnum",
            options={"permutations": 300})
    assert r.estimate == pytest.approx(0.789 - 0.339, abs=0.005)
    assert "CR1" in r.method and r.n_clusters > 100
    attrition = {row["group"]: row for row in r.tables["attrition"]}
    assert attrition["all"]["n_assigned"] == len(th)
    assert attrition["all"]["n_observed"] == int(th["got"].notna().sum())
    assert any(c.name == "attrition" and c.p_value is not None for c in r.checks)
    ri = next(c for c in r.checks if c.name == "randomization_inference")
    assert ri.p_value < 0.01 and "within cluster" in ri.detail


def test_randomization_p_value_equals_the_exact_enumeration():
    # 8 units, 4 treated: 70 possible assignments; the Monte Carlo p converges to the exact one
    y = np.array([3.1, 1.2, 4.0, 2.2, 0.5, 1.9, 0.3, 2.8])
    d = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    observed = y[d == 1].mean() - y[d == 0].mean()
    stats_ = []
    for treated in itertools.combinations(range(8), 4):
        mask = np.isin(np.arange(8), treated)
        stats_.append(y[mask].mean() - y[~mask].mean())
    exact = np.mean(np.abs(stats_) >= abs(observed) - 1e-12)
    test = randomization_test(y, d, 40_000, seed=5)
    assert test.p_value == pytest.approx(exact, abs=0.01)


def test_cluster_randomization_permutes_whole_clusters():
    rng = np.random.default_rng(2)
    clusters = np.repeat(np.arange(12), 5)
    d = np.repeat(rng.permutation(np.repeat([0, 1], 6)), 5)
    y = rng.normal(size=60) + np.repeat(rng.normal(size=12), 5)
    test = randomization_test(y, d, 200, seed=1, clusters=clusters)
    assert test.level == "cluster" and 0 < test.p_value <= 1


def test_differential_attrition_fails_the_check():
    rng = np.random.default_rng(4)
    n = 600
    df = pd.DataFrame({"d": np.repeat([0, 1], n // 2)})
    df["y"] = 1.0 * df.d + rng.normal(size=n)
    lost = rng.random(n) < np.where(df.d == 1, 0.30, 0.05)
    df.loc[lost, "y"] = np.nan
    r = rct(df, outcome="y", treatment="d", options={"permutations": 0})
    check = next(c for c in r.checks if c.name == "attrition")
    assert check.passed is False and check.p_value < 0.001
    rows = {row["group"]: row for row in r.tables["attrition"]}
    assert rows["treatment"]["rate"] == pytest.approx(lost[df.d == 1].mean())
    assert r.n == int((~lost).sum())


def test_very_few_clusters_fail_the_check_and_use_the_wild_bootstrap():
    rng = np.random.default_rng(6)
    g = np.repeat(np.arange(8), 25)
    df = pd.DataFrame({"school": g, "d": (g % 2).astype(int)})
    df["y"] = 0.5 * df.d + np.repeat(rng.normal(size=8), 25) + rng.normal(size=200)
    r = rct(df, outcome="y", treatment="d", cluster="school", options={"permutations": 200})
    check = next(c for c in r.checks if c.name == "clusters")
    assert check.passed is False and r.n_clusters == 8
    pytest.importorskip("wildboottest")
    assert "wild cluster bootstrap" in r.method
    assert r.p_value != pytest.approx(2 * 0.5) and 0 < r.p_value <= 1


@pytest.mark.parametrize(("fields", "error", "names"), [
    ({"treatment": "arm"}, InputFileError, "'arm'"),
    ({"treatment": "d", "options": {"adjust": "ols"}}, ConfigError, "options.adjust"),
    ({"treatment": "d", "options": {"adjust": "lin"}}, ConfigError, "covariates"),
    ({"treatment": "d", "options": {"permutations": -5}}, ConfigError, "options.permutations"),
    ({"treatment": "d", "options": {"se": "cluster"}}, ConfigError, "cluster"),
])
def test_bad_input_names_the_column_or_option(fields, error, names):
    df = pd.DataFrame({"d": [0, 1] * 10, "arm": ["a", "b"] * 10, "y": np.arange(20.0)})
    with pytest.raises(error, match=names):
        rct(df, outcome="y", **fields)


def test_unknown_option_is_rejected_by_the_registry():
    with pytest.raises(ConfigError, match="permutation"):
        get_design("rct").check_spec(EvaluationSpec(data="p.csv", design="rct", outcome="y",
                                                    treatment="d", options={"permutation": 9}))


def test_fast_path_gives_the_same_estimate(nsw):
    spec = EvaluationSpec(data="nsw.csv", design="rct", outcome="re78", treatment="treat",
                          covariates=NSW_COVARIATES, options={"permutations": 0})
    full, fast = estimate_rct(nsw, spec), estimate_rct(nsw, spec, diagnostics=False)
    assert (fast.estimate, fast.se, fast.ci_low) == (full.estimate, full.se, full.ci_low)


def test_lin_estimator_is_unbiased_and_covers_95_percent():
    # superpopulation simulation, unequal arms, effect heterogeneous in x (true ATE = 1.0):
    # Lin + HC2 intervals should cover about 95% of the time (300 draws: 95% ± 2.5 points)
    rng = np.random.default_rng(20261201)
    n, reps, truth = 120, 300, 1.0
    estimates, covered = [], 0
    for _ in range(reps):
        x = rng.normal(size=n)
        d = rng.permutation(np.r_[np.ones(40), np.zeros(n - 40)])
        y = 2 * x + d * (truth + 0.8 * x) + rng.normal(size=n) * (1 + 0.5 * d)
        spec = EvaluationSpec(data="sim.csv", design="rct", outcome="y", treatment="d",
                              covariates=["x"])
        r = estimate_rct(pd.DataFrame({"y": y, "d": d, "x": x}), spec, diagnostics=False)
        estimates.append(r.estimate)
        covered += r.ci_low <= truth <= r.ci_high
    assert abs(np.mean(estimates) - truth) < 3 * np.std(estimates) / np.sqrt(reps)
    assert 0.91 <= covered / reps <= 0.98
