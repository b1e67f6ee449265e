"""Cost-effectiveness and the MVPF, checked against Hendren & Sprung-Keyser (2020)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError
from upward.evaluate.cost import analyse_cost, cost_measures
from upward.evaluate.result import EvaluationResult
from upward.evaluate.spec import CostSpec, EvaluationSpec


def _result(estimate=500.0, ci=(200.0, 800.0), n_treated=400) -> EvaluationResult:
    return EvaluationResult("rct", "difference in means", "earnings", "ATE", estimate, 150.0,
                            ci[0], ci[1], 0.001, 2 * n_treated, n_treated=n_treated,
                            n_control=n_treated)


@pytest.mark.parametrize("program, wtp, cost, fiscal, published", [
    # Hendren & Sprung-Keyser (2020, QJE), as documented in the Policy Impacts library:
    # WorkAdvance: WTP $3,635 after-tax earnings; cost $5,641; taxes $11 + $940 of other
    # training costs avoided → 3,635 / (5,641 − 11 − 940) = 0.78.
    ("WorkAdvance", 3635, 5641, 11 + 940, 0.78),
    # Year Up: WTP $4,962 after-tax earnings + $6,614 stipends; cost $28,290; taxes $1,134 → 0.43.
    ("Year Up", 4962 + 6614, 28290, 1134, 0.43),
    # JTPA adults (Bloom et al. 1997 pooled): WTP $1,504, net cost $1,093 → 1.38.
    ("JTPA adults", 1504, 1093, 0, 1.38),
])
def test_mvpf_matches_hendren_and_sprung_keyser(program, wtp, cost, fiscal, published):
    m = cost_measures(cost=cost, effect=None, willingness_to_pay=wtp, fiscal_externality=fiscal)
    assert round(m.mvpf, 2) == published, program
    assert m.net_government_cost == cost - fiscal


def test_programs_that_pay_for_themselves_have_infinite_mvpf():
    m = cost_measures(cost=1000, effect=None, willingness_to_pay=300, fiscal_externality=1200)
    assert m.mvpf == math.inf and m.mvpf_text.startswith("∞")
    undefined = cost_measures(cost=1000, effect=None, willingness_to_pay=-50,
                              fiscal_externality=1200)
    assert undefined.mvpf is None and undefined.mvpf_text.startswith("undefined")
    analysis = analyse_cost(_result(), CostSpec(cost_per_participant=1000,
                                                willingness_to_pay=300, fiscal_externality=1200))
    doc = json.loads(analysis.to_json())
    assert doc["mvpf"] is None and doc["mvpf_infinite"] is True


def test_cost_per_outcome_and_benefit_cost_ratio_with_every_input_shown():
    a = analyse_cost(_result(), CostSpec(cost_per_participant=2500, outcome_value=3.0,
                                         fiscal_externality=250))
    assert a.cost_per_unit_outcome == pytest.approx(2500 / 500)
    assert a.benefit_per_participant == pytest.approx(1500)
    assert a.benefit_cost_ratio == pytest.approx(0.6)
    assert a.willingness_to_pay == pytest.approx(1500)  # effect × outcome_value
    assert a.mvpf == pytest.approx(1500 / 2250)
    assert a.total_cost == pytest.approx(2500 * 400)
    names = [i.name for i in a.inputs]
    assert names == ["cost_per_participant", "effect", "outcome_value", "fiscal_externality"]
    assert any("effect × outcome_value" in n for n in a.notes)


def test_sensitivity_varies_each_input_and_the_effect_at_its_bounds():
    a = analyse_cost(_result(), CostSpec(cost_per_participant=2000, outcome_value=2.0,
                                         sensitivity=0.2))
    rows = {r.input: r for r in a.sensitivity}
    assert set(rows) == {"cost_per_participant", "outcome_value", "effect"}
    cost = rows["cost_per_participant"]
    assert (cost.low, cost.high) == pytest.approx((1600, 2400))
    assert cost.mvpf_low == pytest.approx(1000 / 1600) and cost.mvpf_high == pytest.approx(1000 / 2400)
    effect = rows["effect"]
    assert (effect.low, effect.high) == (200.0, 800.0)
    assert effect.cost_per_unit_outcome_low == pytest.approx(2000 / 200)
    assert effect.benefit_cost_ratio_high == pytest.approx(800 * 2 / 2000)
    assert "fiscal externality assumed 0" in " ".join(a.notes)


def test_total_cost_is_spread_over_participants():
    a = analyse_cost(_result(n_treated=250), CostSpec(total_cost=500_000))
    assert a.cost_per_participant == pytest.approx(2000)
    assert a.n_participants == 250
    no_count = EvaluationResult("synthetic_control", "m", "y", "ATT", 1.0, None, None, None,
                                None, 10)
    with pytest.raises(ConfigError, match="needs the number of participants"):
        analyse_cost(no_count, CostSpec(total_cost=500_000))


def test_cost_column_is_treated_mean_minus_control_mean_per_unit():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"person": np.repeat(np.arange(100).astype(str), 2),
                         "treated": np.repeat(rng.permutation([1] * 50 + [0] * 50), 2),
                         "y": rng.normal(size=200)})
    data["spent"] = np.where(data["treated"] == 1, 1500.0, 100.0)  # per row; 2 rows per person
    spec = EvaluationSpec(data="p.csv", design="rct", outcome="y", treatment="treated",
                          unit="person", cost={"cost_column": "spent"})
    a = analyse_cost(_result(n_treated=50), spec.cost, data, spec)
    assert a.cost_per_participant == pytest.approx(3000 - 200)
    assert a.n_participants == 50
    assert a.total_cost == pytest.approx(50 * 3000)


def test_one_cost_source_is_required():
    with pytest.raises(ConfigError, match="needs one of cost_per_participant"):
        analyse_cost(_result(), CostSpec(outcome_value=1.0))
    with pytest.raises(ConfigError, match="give only one"):
        analyse_cost(_result(), CostSpec(cost_per_participant=1, total_cost=100))


def test_an_effect_that_is_not_an_improvement_is_said_so():
    a = analyse_cost(_result(estimate=-120.0, ci=(-400.0, 160.0)),
                     CostSpec(cost_per_participant=900, outcome_value=1.0))
    assert a.cost_per_unit_outcome == pytest.approx(900 / 120)
    assert a.benefit_cost_ratio < 0 and a.mvpf < 0
    assert any("not an improvement" in n for n in a.notes)
