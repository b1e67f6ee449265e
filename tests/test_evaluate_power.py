"""Power and minimum detectable effects, checked against textbook values, statsmodels and
simulations with a known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from upward.core.errors import ConfigError
from upward.evaluate.power import (
    ar1_change_variance,
    cluster_plan,
    clusters_needed,
    design_effect,
    did_plan,
    multiplier,
    power_at,
    rct_plan,
)


def test_mde_multiplier_is_2_8_for_80_percent_power_at_5_percent():
    # Bloom (1995), Evaluation Review 19(5), Table 1; Duflo, Glennerster & Kremer (2007) §4.1:
    # 1.96 + 0.84 = 2.80 for a two-sided 5% test with 80% power in large samples.
    assert multiplier(math.inf) == pytest.approx(2.80, abs=0.005)
    assert multiplier(math.inf, power=0.9) == pytest.approx(1.96 + 1.28, abs=0.005)
    # small samples need a larger multiplier (t quantiles)
    assert multiplier(10) > multiplier(30) > multiplier(1000) > multiplier(math.inf)


def test_cohen_64_per_group_detect_half_a_standard_deviation():
    # Cohen (1988), Statistical Power Analysis, Table 2.4.1: n = 64 per group for d = 0.50,
    # two-tailed alpha = .05, power = .80.
    assert rct_plan(128, effect=0.5).power == pytest.approx(0.80, abs=0.005)
    assert rct_plan(2 * 63, effect=0.5).power < 0.80 < rct_plan(2 * 65, effect=0.5).power


@pytest.mark.parametrize("n_per_group", [50, 100, 400, 2000])
def test_individual_mde_agrees_with_statsmodels(n_per_group):
    exact = TTestIndPower().solve_power(effect_size=None, nobs1=n_per_group, alpha=0.05,
                                        power=0.8)
    mde = rct_plan(2 * n_per_group).mde
    assert mde == pytest.approx(exact, rel=0.01)
    assert rct_plan(2 * n_per_group, effect=exact).power == pytest.approx(0.8, abs=0.006)


def test_covariates_and_allocation_scale_the_standard_error():
    base = rct_plan(1000, sd=5000)
    adjusted = rct_plan(1000, sd=5000, r2=0.36)
    assert adjusted.standard_error == pytest.approx(base.standard_error * 0.8)
    uneven = rct_plan(1000, sd=5000, share_treated=0.2)
    # P(1 − P) falls from 0.25 to 0.16: the standard error rises by 5/4
    assert uneven.standard_error == pytest.approx(base.standard_error * 1.25)
    assert rct_plan(1000, n_covariates=10).df == 988
    assert adjusted.mde == pytest.approx(adjusted.multiplier * adjusted.standard_error)


def test_power_curve_rises_from_alpha_through_the_target():
    plan = rct_plan(500, effect=0.2)
    powers = [row["power"] for row in plan.curve]
    assert powers == sorted(powers)
    assert powers[0] == pytest.approx(0.05, abs=1e-9)
    at_mde = next(r["power"] for r in plan.curve if r["effect"] == pytest.approx(plan.mde))
    assert at_mde == pytest.approx(0.8, abs=0.002)
    assert 0.2 in [r["effect"] for r in plan.curve]


def test_design_effect_matches_a_published_sample_size_table():
    # Table 2 of "…cluster randomised…" BMC Psychology 4:48 (2016), doi:10.1186/s40359-016-0155-y:
    # ICC 0.05, 24 pupils per school → DEFF 2.15; 260 children (Altman) × 2.15 = 559 in 23 schools.
    assert design_effect(24, 0.05) == pytest.approx(2.15)
    assert round(260 * design_effect(24, 0.05)) == 559
    assert clusters_needed(260, 24, 0.05) == 23


def test_cluster_plan_without_clustering_is_the_individual_plan():
    one = cluster_plan(400, 1, 0.0)
    assert one.standard_error == pytest.approx(rct_plan(400).standard_error)
    plan = cluster_plan(40, 25, 0.1)
    individual_se = rct_plan(40 * 25).standard_error
    assert plan.standard_error == pytest.approx(individual_se * math.sqrt(plan.design_effect))
    assert plan.df == 38 and plan.design_effect == pytest.approx(3.4)
    covariates = cluster_plan(40, 25, 0.1, r2_cluster=0.5, r2_individual=0.5,
                              n_cluster_covariates=1)
    assert covariates.mde < plan.mde and covariates.df == 37


def test_cluster_mde_has_its_power_in_simulated_cluster_trials():
    """Known truth: simulate cluster-randomised trials with the planned ICC and effect = MDE,
    analyse cluster means with a t test (J − 2 df), and count rejections."""
    n_clusters, size, icc = 30, 20, 0.15
    plan = cluster_plan(n_clusters, size, icc)
    rng = np.random.default_rng(42)
    sims = 4000
    treated = np.repeat([1, 0], n_clusters // 2)
    cluster_effects = rng.normal(0, math.sqrt(icc), (sims, n_clusters))
    person_noise = rng.normal(0, math.sqrt(1 - icc), (sims, n_clusters, size)).mean(axis=2)
    means = cluster_effects + person_noise + plan.mde * treated
    t = stats.ttest_ind(means[:, treated == 1], means[:, treated == 0], axis=1).statistic
    rejected = np.abs(t) > stats.t(n_clusters - 2).ppf(0.975)
    assert rejected.mean() == pytest.approx(0.80, abs=3 * math.sqrt(0.16 / sims) + 0.01)


def test_ar1_change_variance_matches_direct_simulation():
    rng = np.random.default_rng(0)
    rho, n_pre, n_post = 0.7, 4, 6
    e = np.empty((200_000, n_pre + n_post))
    e[:, 0] = rng.standard_normal(len(e))
    for t in range(1, e.shape[1]):
        e[:, t] = rho * e[:, t - 1] + math.sqrt(1 - rho**2) * rng.standard_normal(len(e))
    change = e[:, n_pre:].mean(axis=1) - e[:, :n_pre].mean(axis=1)
    assert change.var() == pytest.approx(ar1_change_variance(n_pre, n_post, rho), rel=0.02)
    assert ar1_change_variance(3, 3, 0.0) == pytest.approx(2 / 3)


def test_did_simulation_has_the_right_size_and_agrees_with_the_analytic_mde():
    plan = did_plan(60, 12, 6, rho=0.8, sd=2.0, n_sims=2000, seed=7, effect=1.0)
    mc = 3 * math.sqrt(0.05 * 0.95 / 2000)
    assert plan.checks["size"] == pytest.approx(0.05, abs=mc)  # true null rejected 5%
    assert plan.checks["se_simulated"] == pytest.approx(plan.checks["se_analytic"], rel=0.05)
    assert plan.mde == pytest.approx(plan.checks["mde_analytic"], rel=0.06)
    # Bertrand, Duflo & Mullainathan (2004): ignoring serial correlation over-rejects badly
    assert plan.checks["naive_size"] > 0.15
    powers = [row["power"] for row in plan.curve]
    assert powers == sorted(powers)
    analytic = power_at(1.0, plan.checks["se_analytic"], plan.df)
    assert plan.power == pytest.approx(analytic, abs=0.04)


def test_did_is_reproducible_and_serial_correlation_matters():
    a = did_plan(40, 10, 5, rho=0.5, n_sims=500, seed=3)
    b = did_plan(40, 10, 5, rho=0.5, n_sims=500, seed=3)
    assert a.to_dict() == b.to_dict()
    independent = did_plan(40, 10, 5, rho=0.0, n_sims=500, seed=3)
    persistent = did_plan(40, 10, 5, rho=0.9, n_sims=500, seed=3)
    # With persistent errors, averaging more periods helps less, but differencing removes
    # more: the analytic change variance tells which way, and the simulation follows it.
    order = np.sign(ar1_change_variance(5, 5, 0.9) - ar1_change_variance(5, 5, 0.0))
    assert np.sign(persistent.mde - independent.mde) == order


@pytest.mark.parametrize("call, message", [
    (lambda: rct_plan(2), "--n 2 must be greater than 2"),
    (lambda: rct_plan(100, r2=1.2), "--r2 1.2"),
    (lambda: rct_plan(100, alpha=1.5), "--alpha 1.5"),
    (lambda: cluster_plan(20, 10, 1.5), "--icc 1.5"),
    (lambda: did_plan(30, 10, 10), "--pre-periods 10"),
    (lambda: did_plan(30, 10, 5, rho=1.0), "--rho 1.0"),
    (lambda: did_plan(30, 10, 5, n_sims=10), "--sims 10"),
])
def test_impossible_plans_are_refused(call, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        call()
