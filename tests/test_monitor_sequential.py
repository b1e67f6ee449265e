"""Confidence sequences (evaluate/sequential.py): the boundary's formula and tuning, and
simulations with known truth showing that repeated weekly looks keep the false-alarm rate at
or below the nominal level with the CS, while reading the fixed-sample interval every week
does not (Armitage, McPherson & Rowe 1969; Waudby-Smith et al. 2021, Section 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from upward.core.errors import ConfigError
from upward.evaluate.sequential import (
    aipw_pseudo_outcomes,
    confidence_sequence,
    conjmix_margin,
    fixed_margin,
    optimal_rho2,
    repeated_look_errors,
)


def test_margin_is_the_published_formula():
    # Waudby-Smith et al. (2021), Theorem 2.2; drconfseq R/asymptotic_confseq.R
    # (std_conjmix_margin): sqrt(2 (t rho2 + 1) / (t^2 rho2) * log(sqrt(t rho2 + 1) / alpha)).
    t, rho2, alpha = 250.0, 0.004, 0.1
    by_hand = math.sqrt(2 * (t * rho2 + 1) / (t ** 2 * rho2)
                        * math.log(math.sqrt(t * rho2 + 1) / alpha))
    assert float(conjmix_margin(t, rho2, alpha)) == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_rho_minimises_the_width_at_t_opt(alpha):
    best = minimize_scalar(lambda r: float(conjmix_margin(800, r, alpha)),
                           bounds=(1e-7, 1.0), method="bounded", options={"xatol": 1e-10})
    assert optimal_rho2(800, alpha) == pytest.approx(best.x, rel=1e-3)
    # The approximation (-2 log a + log(-2 log a + 1)) / t_opt is close to the exact optimum.
    approx = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / 800
    assert optimal_rho2(800, alpha) == pytest.approx(approx, rel=0.1)


def test_cs_is_wider_than_the_fixed_interval_and_shrinks():
    t = np.array([50, 100, 400, 1600])
    cs = conjmix_margin(t, optimal_rho2(400))
    assert np.all(cs > fixed_margin(t))
    assert np.all(np.diff(cs) < 0)


def test_running_mean_and_sd_match_numpy():
    x = np.random.default_rng(5).normal(3.0, 2.0, 300)
    cs = confidence_sequence(x, times=[10, 150, 300], t_opt=300)
    assert cs.estimate[1] == pytest.approx(x[:150].mean())
    assert cs.sd[2] == pytest.approx(x.std(ddof=1))
    assert cs.fixed_upper[2] - cs.estimate[2] == pytest.approx(1.959964 * x.std(ddof=1) / math.sqrt(300),
                                                               rel=1e-5)


def test_pseudo_outcomes_are_unbiased_for_the_effect():
    # Known truth: effect 2.0 on a covariate-driven outcome; the pseudo-outcomes' mean is the
    # AIPW estimate, within a few standard errors of 2.0 over many records.
    rng = np.random.default_rng(11)
    n = 6000
    x = rng.normal(size=n)
    d = (rng.random(n) < 0.3).astype(float)
    y = 5 + 3 * x + 2.0 * d + rng.normal(size=n)
    batch = np.repeat(np.arange(20), n // 20)
    phi = aipw_pseudo_outcomes(y, d, batch, 0.3, covariates=x)
    assert abs(phi.mean() - 2.0) < 4 * phi.std() / math.sqrt(n)
    # Covariates fitted on earlier weeks make the sequence narrower than without them.
    plain = aipw_pseudo_outcomes(y, d, batch, 0.3)
    assert phi[n // 20:].std() < 0.6 * plain[n // 20:].std()


def test_repeated_looks_keep_the_error_rate_with_the_cs_but_not_the_naive_test():
    # 400 null pilots, 12 weekly looks of 50 records each (seeded). Nominal 5%; the binomial
    # SE of an estimated rate near 5% over 400 runs is about 1.1 points, so 8% is a tolerance
    # of nearly 3 SE. Reading the fixed-sample CI every week must exceed the nominal level.
    r = repeated_look_errors(400, weeks=12, per_week=50, alpha=0.05, seed=2026)
    assert r.cs_error <= 0.08
    assert r.naive_error >= 0.12
    assert r.naive_error > r.cs_error + 0.05


def test_bad_inputs_are_refused():
    with pytest.raises(ConfigError, match="alpha"):
        optimal_rho2(100, 1.5)
    with pytest.raises(ConfigError, match="increasing"):
        confidence_sequence([1.0, 2.0], times=[2, 1], t_opt=2)
    with pytest.raises(ConfigError, match="share"):
        aipw_pseudo_outcomes(np.ones(2), np.array([0, 1]), np.array([1, 1]), 1.0)
    with pytest.raises(ConfigError, match="finite"):
        confidence_sequence([1.0, float("nan")], t_opt=2)
