"""Differential privacy through OpenDP: noise of the certified scale, the privacy-loss bound on
neighbouring data sets checked empirically, and a budget ledger that refuses to overspend."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from upward.core.errors import ConfigError, UpwardError

pytest.importorskip("opendp", reason="OpenDP is an optional dependency (upward[privacy])")

from upward.privacy.noise import (
    BudgetExceededError,
    PrivacyBudget,
    PrivacyUnavailableError,
    dp_count,
    dp_mean,
    require_opendp,
)


def discrete_laplace_variance(scale: float) -> float:
    q = math.exp(-1 / scale)
    return 2 * q / (1 - q) ** 2


def test_count_noise_has_the_certified_scale_and_is_unbiased():
    releases = [dp_count(range(200), epsilon=0.5) for _ in range(2000)]
    assert releases[0].scale == pytest.approx(2.0, rel=1e-6)  # sensitivity 1 / ε
    assert releases[0].epsilon == pytest.approx(0.5, rel=1e-6)
    values = np.array([r.value for r in releases])
    assert values.mean() == pytest.approx(200, abs=0.3)  # MC SE ≈ 0.063
    assert values.var() == pytest.approx(discrete_laplace_variance(2.0), rel=0.2)
    assert np.mean(np.abs(values - 200) <= releases[0].accuracy) >= 0.94
    assert all(float(v).is_integer() for v in values)


def test_neighbouring_counts_are_indistinguishable_within_e_to_epsilon():
    # ε-DP: P(output = x | n) / P(output = x | n + 1) ≤ e^ε; for the discrete Laplace the bound
    # is attained at every x ≤ n. Estimate both distributions and compare near the centre.
    eps = 1.0
    a = np.array([dp_count(range(20), eps).value for _ in range(4000)])
    b = np.array([dp_count(range(21), eps).value for _ in range(4000)])
    for x in (19, 20):
        ratio = np.mean(b == x) / np.mean(a == x)
        assert ratio == pytest.approx(math.exp(-eps), rel=0.3)
    for x in range(14, 28):
        pa, pb = np.mean(a == x), np.mean(b == x)
        if min(pa, pb) > 0.08:  # ≥ 320 draws per bin: the ratio's MC SE is below 0.09
            assert max(pa / pb, pb / pa) <= math.exp(eps) * 1.4


def test_more_contributions_per_person_mean_more_noise():
    assert dp_count(range(50), 1.0, max_contributions=3).scale == pytest.approx(3.0, rel=1e-6)


def test_gaussian_count_needs_delta_and_charges_it():
    budget = PrivacyBudget(2.0, total_delta=1e-5)
    r = dp_count(range(500), 1.0, mechanism="gaussian", delta=1e-6, budget=budget)
    assert r.mechanism == "discrete gaussian" and r.delta == pytest.approx(1e-6)
    assert budget.spent_delta == pytest.approx(1e-6)
    values = np.array([dp_count(range(500), 1.0, mechanism="gaussian", delta=1e-6).value
                       for _ in range(500)])
    assert values.std() == pytest.approx(r.scale, rel=0.13)  # MC SE ≈ 0.032
    with pytest.raises(ConfigError, match="needs δ"):
        dp_count(range(5), 1.0, mechanism="gaussian")
    with pytest.raises(ConfigError, match="δ must be 0"):
        dp_count(range(5), 1.0, delta=1e-6)
    with pytest.raises(BudgetExceededError, match="δ"):
        dp_count(range(5), 0.1, mechanism="gaussian", delta=1e-4, budget=budget)


def test_mean_with_public_size_is_clamped_and_unbiased_inside_bounds():
    data = list(np.linspace(20_000, 40_000, 400))
    values = np.array([dp_mean(data, (0.0, 100_000.0), 1.0, size=400).value
                       for _ in range(400)])
    assert values.mean() == pytest.approx(30_000, abs=90)  # scale 250: MC SE ≈ 18
    outliers = [5e6] * 50
    r = dp_mean(outliers, (0.0, 100.0), 1.0, size=50)
    assert 0.0 <= r.value <= 100.0 and r.clamped_to == (0.0, 100.0)


def test_mean_without_size_splits_epsilon_between_sum_and_count():
    budget = PrivacyBudget(1.0)
    r = dp_mean(np.full(1000, 7.0), (0.0, 10.0), 1.0, budget=budget, what="mean wage")
    assert budget.spent == pytest.approx(1.0, rel=1e-6)
    assert budget.releases[0].mechanism == "laplace (sum and count)"
    assert abs(r.value - 7.0) <= r.accuracy


def test_budget_refuses_and_records_nothing():
    budget = PrivacyBudget(1.0)
    dp_count(range(100), 0.7, budget=budget, what="enrolled")
    with pytest.raises(BudgetExceededError, match=r"only 0\.3 of 1 is left") as err:
        dp_count(range(100), 0.5, budget=budget, what="completed")
    assert isinstance(err.value, UpwardError) and "larger budget" in str(err.value)
    assert [r.what for r in budget.releases] == ["enrolled"]
    assert budget.remaining == pytest.approx(0.3, rel=1e-6)
    ledger = budget.to_dict()
    assert ledger["releases"][0]["mechanism"] == "discrete laplace"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dp_count(range(5), 0.0), "ε must be positive"),
        (lambda: dp_count(range(5), 1.0, mechanism="exponential"), "not known"),
        (lambda: dp_mean([1.0, math.nan], (0.0, 1.0), 1.0), "missing values"),
        (lambda: dp_mean([1.0], (1.0, 0.0), 1.0), "low < high"),
        (lambda: dp_mean([1.0], (0.0, 1.0), 1.0, size=0), "size"),
        (lambda: PrivacyBudget(0.0), "total ε"),
        (lambda: dp_count(range(5), 1.0, max_contributions=0), "max_contributions"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_missing_opendp_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "opendp", None)
    monkeypatch.setitem(sys.modules, "opendp.prelude", None)
    with pytest.raises(PrivacyUnavailableError, match=r'pip install "upward\[privacy\]"'):
        require_opendp()
