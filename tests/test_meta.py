"""Meta-analysis and projection: checked against metafor's published analysis of the BCG vaccine
trials and against simulations with a known pooled effect."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import optimize, stats

from upward.core.errors import ConfigError
from upward.evidence.effect_sizes import EffectSize, log_risk_ratio
from upward.evidence.meta import FOREST_COLUMNS, forest_table, pool, pool_effects
from upward.evidence.projection_math import project

# Colditz et al. (1994), JAMA 271:698-702, as metafor's dat.bcg: (tpos, tneg, cpos, cneg).
BCG = [
    (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
    (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892),
    (29, 7470, 45, 7232), (17, 1699, 65, 1600), (186, 50448, 141, 27197),
    (5, 2493, 3, 2338), (27, 16886, 29, 17825),
]


@pytest.fixture(scope="module")
def bcg():
    effects = [log_risk_ratio(a, a + b, c, c + d) for a, b, c, d in BCG]
    return np.array([e.estimate for e in effects]), np.array([e.se for e in effects])


def test_reml_matches_metafor_bcg(bcg):
    # metafor: rma(yi, vi, data = dat) → estimate -0.7145, se 0.1798, z -3.9744,
    # CI -1.0669 to -0.3622; tau^2 0.3132 (SE 0.1664); I^2 92.22%; H^2 12.86; Q(12) 152.2330.
    p = pool(*bcg, method="REML", measure="log_rr")
    assert p.estimate == pytest.approx(-0.7145, abs=1e-4)
    assert p.se == pytest.approx(0.1798, abs=1e-4)
    assert p.z_or_t == pytest.approx(-3.9744, abs=1e-3)
    assert (p.ci_low, p.ci_high) == (pytest.approx(-1.0669, abs=1e-4),
                                     pytest.approx(-0.3622, abs=1e-4))
    assert p.tau2 == pytest.approx(0.3132, abs=1e-4)
    assert p.tau2_se == pytest.approx(0.1664, abs=1e-4)
    assert p.i2 == pytest.approx(92.22, abs=0.01)
    assert p.h2 == pytest.approx(12.86, abs=0.01)
    assert p.q == pytest.approx(152.2330, abs=1e-3)
    assert p.q_df == 12 and p.q_p < 1e-4 and p.p_value < 1e-4


def test_prediction_interval_matches_metafor_predict(bcg):
    # metafor: predict(res, transf = exp) → pred 0.4894, ci 0.3441-0.6962, pi 0.1546-1.5490
    # (a normal-quantile interval); the t(k-2) interval of Higgins et al. (2009) is wider.
    normal = pool(*bcg, method="REML", pi_dist="normal")
    assert math.exp(normal.estimate) == pytest.approx(0.4894, abs=1e-4)
    assert math.exp(normal.ci_low) == pytest.approx(0.3441, abs=1e-4)
    assert math.exp(normal.ci_high) == pytest.approx(0.6962, abs=1e-4)
    assert math.exp(normal.pi_low) == pytest.approx(0.1546, abs=1e-4)
    assert math.exp(normal.pi_high) == pytest.approx(1.5490, abs=1e-4)
    t = pool(*bcg, method="REML")
    half = stats.t.ppf(0.975, 11) * math.sqrt(t.tau2 + t.se**2)
    assert t.pi_df == 11 and t.pi_high - t.estimate == pytest.approx(half, rel=1e-12)
    assert t.pi_low < normal.pi_low and t.pi_high > normal.pi_high


def test_dl_and_fixed_effect_match_metafor_bcg(bcg):
    # metafor: method="DL" → estimate -0.7141 (se 0.1787), tau^2 0.3088, I^2 92.12%;
    # method="FE" → estimate -0.4303 (se 0.0405), z -10.6247, CI -0.5097 to -0.3509.
    dl = pool(*bcg, method="DL")
    assert dl.estimate == pytest.approx(-0.7141, abs=1e-4)
    assert dl.se == pytest.approx(0.1787, abs=1e-4)
    assert dl.tau2 == pytest.approx(0.3088, abs=1e-4)
    assert dl.i2 == pytest.approx(92.12, abs=0.01)
    fe = pool(*bcg, method="FE")
    assert fe.estimate == pytest.approx(-0.4303, abs=1e-4)
    assert fe.se == pytest.approx(0.0405, abs=1e-4)
    assert fe.z_or_t == pytest.approx(-10.6247, abs=1e-3)
    assert (fe.ci_low, fe.ci_high) == (pytest.approx(-0.5097, abs=1e-4),
                                       pytest.approx(-0.3509, abs=1e-4))
    assert fe.tau2 == 0 and fe.i2 == pytest.approx(dl.i2)  # DL's I² is Q-based too


def test_reml_is_the_maximum_of_the_restricted_likelihood(bcg):
    y, s = bcg
    v = s**2

    def neg_restricted_loglik(tau2):
        w = 1 / (v + tau2)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + tau2)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    best = optimize.minimize_scalar(neg_restricted_loglik, bounds=(0, 10), method="bounded",
                                    options={"xatol": 1e-10})
    assert pool(y, s, method="REML").tau2 == pytest.approx(best.x, abs=1e-6)


def test_paule_mandel_solves_its_estimating_equation(bcg):
    y, s = bcg
    p = pool(y, s, method="PM")
    w = 1 / (s**2 + p.tau2)
    mu = np.sum(w * y) / np.sum(w)
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(len(y) - 1, rel=1e-8)
    assert p.estimate == pytest.approx(mu)


def test_hartung_knapp_scales_the_variance_and_uses_t(bcg):
    y, s = bcg
    wald = pool(y, s, method="REML")
    hk = pool(y, s, method="REML", hartung_knapp=True)
    w = 1 / (s**2 + wald.tau2)
    factor = np.sum(w * (y - wald.estimate) ** 2) / (len(y) - 1)
    assert hk.hk and hk.df == 12
    assert hk.estimate == pytest.approx(wald.estimate)
    assert hk.se == pytest.approx(wald.se * math.sqrt(factor), rel=1e-12)
    crit = stats.t.ppf(0.975, 12)
    assert hk.ci_high - hk.estimate == pytest.approx(crit * hk.se, rel=1e-12)
    assert hk.p_value == pytest.approx(2 * stats.t.sf(abs(hk.z_or_t), 12), rel=1e-12)
    assert hk.ci_high - hk.ci_low > wald.ci_high - wald.ci_low


def test_hk_adhoc_never_narrower_than_wald():
    # Homogeneous studies: the HK factor is below 1 and the plain HK interval can be narrower.
    y, s = [0.10, 0.11, 0.10, 0.12], [0.1, 0.1, 0.1, 0.1]
    wald = pool(y, s, method="DL")
    adhoc = pool(y, s, method="DL", hartung_knapp=True, hk_adhoc=True)
    assert adhoc.se == pytest.approx(wald.se)
    assert pool(y, s, method="DL", hartung_knapp=True).se < wald.se


def test_homogeneous_studies_have_zero_tau2_and_i2():
    p = pool([0.2, 0.21, 0.19], [0.1, 0.1, 0.1], method="REML")
    assert p.tau2 == 0.0 and p.i2 == 0.0
    assert p.estimate == pytest.approx(0.2)


def test_few_studies_are_flagged():
    one = pool([0.3], [0.1])
    assert one.pi_low is None and one.q is None and any("one study" in w for w in one.warnings)
    two = pool([0.3, 0.5], [0.1, 0.1])
    assert two.pi_low is None and any("at least 3 studies" in w for w in two.warnings)
    with pytest.raises(ConfigError, match="Hartung"):
        pool([0.3], [0.1], hartung_knapp=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimates": [0.1, 0.2], "ses": [0.1]}, "standard errors"),
        ({"estimates": [0.1, math.nan], "ses": [0.1, 0.1]}, "finite estimate"),
        ({"estimates": [0.1, 0.2], "ses": [0.1, 0.0]}, "Study 2"),
        ({"estimates": [], "ses": []}, "no studies"),
        ({"estimates": [0.1], "ses": [0.1], "method": "Bayes"}, "not known"),
        ({"estimates": [0.1], "ses": [0.1], "alpha": 1.5}, "alpha"),
    ],
)
def test_bad_inputs_are_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        pool(**kwargs)


def test_forest_table_and_json(bcg):
    labels = [f"Trial {i}" for i in range(1, 14)]
    p = pool(*bcg, labels=labels, measure="log_rr")
    rows = forest_table(p, natural=True)
    assert [r["study"] for r in rows[:-1]] == labels
    assert all(tuple(r) == FOREST_COLUMNS for r in rows)
    assert sum(r["weight"] for r in rows[:-1]) == pytest.approx(100.0)
    assert rows[-1]["kind"] == "pooled" and rows[-1]["estimate"] == pytest.approx(0.4894, abs=1e-4)
    assert rows[0]["ci_low"] < rows[0]["estimate"] < rows[0]["ci_high"]
    with pytest.raises(ConfigError, match="forest_table got"):
        forest_table(p, labels=labels[:3])
    data = json.loads(p.to_json())
    assert data["k"] == 13 and data["method"] == "REML" and len(data["weights"]) == 13
    assert "prediction interval" in p.headline()


def test_pool_effects_converts_first():
    effects = [EffectSize("smd", 0.2, 0.1), EffectSize("log_or", 0.5, 0.2)]
    p = pool_effects(effects, target="smd", method="FE")
    assert p.measure == "smd"
    with pytest.raises(ConfigError, match="different scales"):
        pool_effects(effects)


def _simulate(k, mu, tau, rng, reps, **options):
    cover_ci = cover_pi = 0
    for _ in range(reps):
        v = rng.uniform(0.01, 0.2, k)
        theta = rng.normal(mu, tau, k)
        y = rng.normal(theta, np.sqrt(v))
        p = pool(y, np.sqrt(v), **options)
        cover_ci += p.ci_low <= mu <= p.ci_high
        new = rng.normal(mu, tau)
        cover_pi += p.pi_low <= new <= p.pi_high
    return cover_ci / reps, cover_pi / reps


def test_simulated_coverage_k20_near_nominal():
    # Known truth: mu = 0.3, tau = 0.5, k = 20 studies (I² around 70%). 800 replications: MC SE
    # of a 95% coverage ≈ 0.008. REML-Wald CIs under-cover slightly; t(k-2) prediction intervals
    # are near nominal when heterogeneity is substantial (Partlett & Riley 2017, Stat Med 36).
    ci, pi = _simulate(20, 0.3, 0.5, np.random.default_rng(1), 600, method="REML")
    assert 0.915 <= ci <= 0.975
    assert 0.92 <= pi <= 0.975


def test_prediction_interval_under_covers_with_mild_heterogeneity():
    # The other side of Partlett & Riley (2017): with I² around 50% τ² is often underestimated
    # and the interval is too short. Documented, and pinned here so a change is noticed.
    _, pi = _simulate(20, 0.3, 0.3, np.random.default_rng(1), 600, method="REML")
    assert 0.87 <= pi < 0.94


def test_hartung_knapp_covers_better_with_few_studies():
    # k = 5 with heterogeneity: Wald intervals under-cover (IntHout, Ioannidis & Borm 2014);
    # HK is close to nominal.
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    wald, _ = _simulate(5, 0.2, 0.4, rng_a, 800, method="DL")
    hk, _ = _simulate(5, 0.2, 0.4, rng_b, 800, method="DL", hartung_knapp=True)
    assert wald < 0.93
    assert hk > wald + 0.02
    assert 0.92 <= hk <= 0.98


# -- projection ------------------------------------------------------------------------------


def test_projection_interval_is_the_prediction_interval_times_people(bcg):
    y = np.array([0.04, 0.07, 0.02, 0.05, 0.09, 0.03, 0.06])
    s = np.array([0.01, 0.015, 0.012, 0.02, 0.018, 0.01, 0.011])
    pooled = pool(y, s, measure="rd")
    p = project(pooled, 20_000, take_up=0.25, cost_per_participant=1500, draws=200_000, seed=5)
    people = 5000
    assert p.participants == people
    assert p.total_effect == pytest.approx(people * pooled.estimate)
    assert p.interval_basis == "prediction"
    # t(k-2) draws with scale √(τ² + se²): quantiles equal the analytic prediction interval.
    assert p.total_effect_low == pytest.approx(people * pooled.pi_low, rel=0.02)
    assert p.total_effect_high == pytest.approx(people * pooled.pi_high, rel=0.02)
    # The CI alone would have claimed much more certainty.
    assert p.total_effect_ci_high - p.total_effect_ci_low < p.total_effect_high - p.total_effect_low
    assert p.total_cost == pytest.approx(people * 1500)
    assert p.cost_per_unit == pytest.approx(1500 / pooled.estimate)
    again = project(pooled, 20_000, take_up=0.25, cost_per_participant=1500, draws=200_000,
                    seed=5)
    assert again.total_effect_low == p.total_effect_low  # seeded


def test_projection_take_up_range_and_ratio_measures(bcg):
    pooled = pool(*bcg, measure="log_rr")
    p = project(pooled, 10_000, take_up_range=(0.2, 0.6), baseline=0.05, draws=100_000, seed=2)
    assert p.take_up == pytest.approx(0.4)
    assert p.participants_low == pytest.approx(10_000 * (0.2 + 0.025 * 0.4), rel=0.01)
    assert p.participants_high == pytest.approx(10_000 * (0.2 + 0.975 * 0.4), rel=0.01)
    # EffectSize per participant = baseline·(RR − 1): cases prevented are negative.
    assert p.effect_per_participant == pytest.approx(0.05 * (math.exp(pooled.estimate) - 1))
    assert p.total_effect < 0 and p.total_effect_high > 0  # a new city may see no benefit
    with pytest.raises(ConfigError, match="baseline"):
        project(pooled, 10_000)
    with pytest.raises(ConfigError, match="outcome's SD"):
        project(pool([0.2, 0.3, 0.1], [0.1, 0.1, 0.1], measure="smd"), 1000)
    with pytest.raises(ConfigError, match="take_up"):
        project(pooled, 10_000, take_up=1.5, baseline=0.05)


def test_projection_with_one_study_says_its_range_is_sampling_only():
    p = project(pool([300.0], [100.0], measure="md"), 1000, take_up=0.5, draws=50_000, seed=1)
    assert p.interval_basis == "confidence"
    assert any("understates" in w for w in p.warnings)
    assert p.total_effect_low == pytest.approx(500 * (300 - 1.96 * 100), rel=0.03)
    json.loads(p.to_json())


def test_projection_covers_the_true_effect_in_new_cities():
    # Known truth: city effects ~ N(0.05, 0.02²). Pool 12 cities, project onto a 13th; its true
    # total effect must fall inside the projected 90% range about 90% of the time.
    rng = np.random.default_rng(11)
    hits, reps = 0, 400
    for _ in range(reps):
        theta = rng.normal(0.05, 0.02, 13)
        se = rng.uniform(0.005, 0.02, 12)
        pooled = pool(rng.normal(theta[:12], se), se, measure="rd", alpha=0.10)
        p = project(pooled, 8000, take_up=0.5, draws=4000, seed=int(rng.integers(1 << 30)))
        hits += p.total_effect_low <= 4000 * theta[12] <= p.total_effect_high
    assert 0.85 <= hits / reps <= 0.95


def test_cost_per_unit_follows_the_direction_of_the_effect():
    # A program that reduces jail stays: cost per stay avoided is positive and has a range.
    pooled = pool([-0.05, -0.03, -0.06, -0.04, -0.05], [0.01] * 5, measure="rd")
    p = project(pooled, 1000, take_up=0.5, cost_per_participant=2000, seed=3)
    assert p.total_effect < 0
    assert p.cost_per_unit == pytest.approx(1_000_000 / abs(p.total_effect))
    assert 0 < p.cost_per_unit_low < p.cost_per_unit < p.cost_per_unit_high
    uncertain = project(pool([0.01, -0.02, 0.04], [0.02] * 3, measure="rd"), 1000,
                        cost_per_participant=100, seed=3)
    assert uncertain.cost_per_unit_high is None
    assert any("no upper bound" in w for w in uncertain.warnings)


def test_dl_pm_and_hk_agree_with_statsmodels(bcg):
    # statsmodels' combine_effects: method_re="chi2" is DerSimonian-Laird, "iterated" is
    # Paule-Mandel; sd_eff_w_re_hksj is the Hartung-Knapp-Sidik-Jonkman SE.
    from statsmodels.stats.meta_analysis import combine_effects

    y, s = bcg
    for method, sm_name in (("DL", "chi2"), ("PM", "iterated")):
        ref = combine_effects(y, s**2, method_re=sm_name)
        ours = pool(y, s, method=method)
        hk = pool(y, s, method=method, hartung_knapp=True)
        assert ours.tau2 == pytest.approx(ref.tau2, rel=1e-8)
        assert ours.estimate == pytest.approx(ref.mean_effect_re, rel=1e-8)
        assert ours.se == pytest.approx(ref.sd_eff_w_re, rel=1e-8)
        assert hk.se == pytest.approx(ref.sd_eff_w_re_hksj, rel=1e-8)
        assert ours.q == pytest.approx(ref.q, rel=1e-10)
