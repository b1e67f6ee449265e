"""Effect sizes: checked against Borenstein et al. (2009) worked examples, metafor's escalc() on
the BCG trials, and simulations where the true standardised difference is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from upward.core.errors import ConfigError
from upward.evidence.effect_sizes import (
    CONVERSIONS,
    MEASURES,
    EffectSize,
    convert,
    from_evaluation,
    from_means,
    hedges_j,
    log_odds_ratio,
    log_or_to_smd,
    log_risk_ratio,
    risk_difference,
    smd_from_mean_difference,
    smd_to_log_or,
    to_common_scale,
)

# Colditz et al. (1994), as the dat.bcg data set of the metafor R package:
# (trial, author, tpos, tneg, cpos, cneg)
BCG = [
    (1, "Aronson", 4, 119, 11, 128),
    (2, "Ferguson & Simes", 6, 300, 29, 274),
    (3, "Rosenthal et al", 3, 228, 11, 209),
    (4, "Hart & Sutherland", 62, 13536, 248, 12619),
    (5, "Frimodt-Moller et al", 33, 5036, 47, 5761),
    (6, "Stein & Aronson", 180, 1361, 372, 1079),
    (7, "Vandiviere et al", 8, 2537, 10, 619),
    (8, "TPT Madras", 505, 87886, 499, 87892),
    (9, "Coetzee & Berjak", 29, 7470, 45, 7232),
    (10, "Rosenthal et al", 17, 1699, 65, 1600),
    (11, "Comstock et al", 186, 50448, 141, 27197),
    (12, "Comstock & Webster", 5, 2493, 3, 2338),
    (13, "Comstock et al", 27, 16886, 29, 17825),
]

# metafor, escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg): yi and vi
BCG_LOG_RR = [
    (-0.8893, 0.3256), (-1.5854, 0.1946), (-1.3481, 0.4154), (-1.4416, 0.0200),
    (-0.2175, 0.0512), (-0.7861, 0.0069), (-1.6209, 0.2230), (0.0120, 0.0040),
    (-0.4694, 0.0564), (-1.3713, 0.0730), (-0.3394, 0.0124), (0.4459, 0.5325),
    (-0.0173, 0.0714),
]


def test_hedges_g_matches_borenstein_worked_example():
    # Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, pp. 27-28:
    # X1 = 103, X2 = 100, S1 = 5.5, S2 = 4.5, n = 50 each → S_within = 5.0249, d = 0.5970,
    # V_d = 0.0418, J = 0.9923, g = 0.5924, V_g = 0.0411, SE_g = 0.2028.
    g = from_means(103, 5.5, 50, 100, 4.5, 50)
    assert hedges_j(98) == pytest.approx(0.9923, abs=1e-4)
    assert g.estimate == pytest.approx(0.5924, abs=1e-4)
    assert g.variance == pytest.approx(0.0411, abs=1e-4)
    assert g.se == pytest.approx(0.2028, abs=1e-4)
    assert g.estimate / hedges_j(98) == pytest.approx(0.5970, abs=1e-4)
    assert g.measure == "smd" and (g.n1, g.n2) == (50, 50)


def test_smd_from_unadjusted_difference_equals_from_means():
    # The SE of an unadjusted difference, S_within·√(1/n1 + 1/n2), gives back the same g.
    s_within = math.sqrt((49 * 5.5**2 + 49 * 4.5**2) / 98)
    se = s_within * math.sqrt(1 / 50 + 1 / 50)
    g1 = smd_from_mean_difference(3.0, se, None, 50, 50)
    g2 = smd_from_mean_difference(3.0, se, s_within, 50, 50)
    ref = from_means(103, 5.5, 50, 100, 4.5, 50)
    for g in (g1, g2):
        assert g.estimate == pytest.approx(ref.estimate, rel=1e-12)
        assert g.se == pytest.approx(ref.se, rel=1e-12)


def test_adjusted_difference_keeps_its_precision():
    # A covariate-adjusted estimate with half the raw SE yields a smaller SE of g.
    raw = smd_from_mean_difference(3.0, 1.0, 5.0, 50, 50)
    adjusted = smd_from_mean_difference(3.0, 0.5, 5.0, 50, 50)
    assert adjusted.estimate == raw.estimate
    assert adjusted.se < raw.se


@pytest.mark.parametrize(("row", "expected"), list(zip(BCG, BCG_LOG_RR, strict=True)))
def test_log_risk_ratio_matches_metafor_escalc(row, expected):
    _, _, tpos, tneg, cpos, cneg = row
    e = log_risk_ratio(tpos, tpos + tneg, cpos, cpos + cneg)
    assert e.estimate == pytest.approx(expected[0], abs=5e-5)
    assert e.variance == pytest.approx(expected[1], abs=5e-5)
    assert e.baseline == pytest.approx(cpos / (cpos + cneg))


def test_log_odds_ratio_and_zero_cell_correction():
    # Aronson: ln(4·128 / (119·11)) and 1/4 + 1/119 + 1/11 + 1/128.
    e = log_odds_ratio(4, 123, 11, 139)
    assert e.estimate == pytest.approx(math.log(4 * 128 / (119 * 11)), rel=1e-12)
    assert e.variance == pytest.approx(1 / 4 + 1 / 119 + 1 / 11 + 1 / 128, rel=1e-12)
    # One empty cell: 0.5 added to all four (metafor's add=1/2, to="only0").
    z = log_odds_ratio(0, 20, 5, 20)
    assert z.estimate == pytest.approx(math.log(0.5 * 15.5 / (20.5 * 5.5)), rel=1e-12)
    assert z.variance == pytest.approx(1 / 0.5 + 1 / 20.5 + 1 / 5.5 + 1 / 15.5, rel=1e-12)
    rr = log_risk_ratio(0, 20, 5, 20)
    assert rr.estimate == pytest.approx(math.log((0.5 / 21) / (5.5 / 21)), rel=1e-12)


def test_ratio_refused_when_it_carries_no_information():
    with pytest.raises(ConfigError, match="no events in either group"):
        log_risk_ratio(0, 30, 0, 30)
    with pytest.raises(ConfigError, match="every person"):
        log_odds_ratio(30, 30, 30, 30)
    with pytest.raises(ConfigError, match="between 0 and its group size"):
        log_risk_ratio(31, 30, 2, 30)


def test_risk_difference_variance():
    e = risk_difference(30, 100, 20, 100)
    assert e.estimate == pytest.approx(0.10)
    assert e.variance == pytest.approx(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    assert risk_difference(0, 50, 0, 50).se > 0  # both zero: corrected variance, exact estimate


def test_chinn_conversion_recovers_latent_smd_in_simulation():
    # A latent logistic outcome shifted by Δ, dichotomised at a threshold: ln OR = Δ/s exactly,
    # so ln OR·√3/π equals the latent SMD (Chinn 2000). Check on a large simulated sample.
    rng = np.random.default_rng(7)
    n, shift = 200_000, 0.6
    treated = rng.logistic(shift, 1.0, n)
    control = rng.logistic(0.0, 1.0, n)
    latent = from_means(treated.mean(), treated.std(ddof=1), n, control.mean(),
                        control.std(ddof=1), n)
    a, c = int((treated > 0.3).sum()), int((control > 0.3).sum())
    converted = log_or_to_smd(log_odds_ratio(a, n, c, n))
    assert converted.estimate == pytest.approx(latent.estimate, abs=0.015)
    assert converted.estimate == pytest.approx(shift * math.sqrt(3) / math.pi, abs=0.015)
    assert smd_to_log_or(converted).estimate == pytest.approx(
        log_odds_ratio(a, n, c, n).estimate, rel=1e-12)


def test_ratio_conversions_with_baseline_agree_with_counts():
    # With the control risk known, RR → OR is exact for the point estimate.
    a, n1, c, n2 = 30, 200, 60, 200
    rr, odds = log_risk_ratio(a, n1, c, n2), log_odds_ratio(a, n1, c, n2)
    assert convert(rr, "log_or").estimate == pytest.approx(odds.estimate, rel=1e-12)
    assert convert(odds, "log_rr").estimate == pytest.approx(rr.estimate, rel=1e-12)
    assert convert(rr, "rd").estimate == pytest.approx(a / n1 - c / n2, rel=1e-12)
    # Delta method with the baseline held fixed: se(RD) = p0·RR·se(ln RR). It leaves out the
    # control arm's sampling noise, so it is smaller than the SE computed from the counts.
    p0, ratio = c / n2, (a / n1) / (c / n2)
    assert convert(rr, "rd").se == pytest.approx(p0 * ratio * rr.se, rel=1e-12)
    assert convert(rr, "rd").se < risk_difference(a, n1, c, n2).se


def test_impossible_conversions_are_refused_with_reasons():
    with pytest.raises(ConfigError, match="needs the control group's risk"):
        convert(EffectSize("log_rr", -0.5, 0.2), "smd")
    with pytest.raises(ConfigError, match="needs the outcome's SD"):
        convert(EffectSize("md", 300.0, 100.0), "smd")
    with pytest.raises(ConfigError, match="effects are on different scales"):
        to_common_scale([EffectSize("smd", 0.2, 0.1), EffectSize("log_or", 0.2, 0.1)])
    with pytest.raises(ConfigError, match="not known"):
        EffectSize("cohens_q", 0.2, 0.1)
    with pytest.raises(ConfigError, match="positive standard error"):
        EffectSize("smd", 0.2, 0.0)


def test_registry_declares_every_measure_used_by_conversions():
    for source, target in CONVERSIONS:
        assert source in MEASURES and target in MEASURES
    assert MEASURES["log_rr"].log_scale and MEASURES["log_rr"].null == 0.0
    assert MEASURES["md"].absolute and not MEASURES["smd"].absolute


def test_effect_ci_and_p_value():
    e = EffectSize("log_rr", math.log(0.5), 0.2)
    low, high = e.ci(0.05, natural=True)
    assert low == pytest.approx(0.5 * math.exp(-1.959964 * 0.2), rel=1e-6)
    assert high == pytest.approx(0.5 * math.exp(1.959964 * 0.2), rel=1e-6)
    assert e.natural() == pytest.approx(0.5)
    assert EffectSize("md", 1.959964, 1.0).p_value == pytest.approx(0.05, abs=1e-6)


def test_from_evaluation_result():
    from upward.evaluate.result import EvaluationResult

    r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 1200.0, 400.0,
                         416.0, 1984.0, 0.003, 800, n_treated=400, n_control=400)
    md = from_evaluation(r)
    assert (md.measure, md.estimate, md.se, md.n1) == ("md", 1200.0, 400.0, 400)
    g = from_evaluation(r, "smd", sd_pooled=6000.0)
    assert g.estimate == pytest.approx(hedges_j(798) * 0.2)
    with pytest.raises(ConfigError, match="needs the outcome's SD"):
        from_evaluation(r, "smd")
    no_se = EvaluationResult("rd", "local linear", "earnings", "LATE", 1.0, None, None, None,
                             None, 100)
    with pytest.raises(ConfigError, match="no standard error"):
        from_evaluation(no_se)
