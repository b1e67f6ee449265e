"""Evidence ratings: every declared rule, the WWC attrition boundary, intervention-level
ratings, and studies made from evaluation results (rated from their own checks)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upward.core.errors import ConfigError
from upward.evaluate.result import Check, EvaluationResult
from upward.evidence.from_evaluation import study_from_evaluation
from upward.evidence.rating import (
    CRITERIA,
    RULES,
    WWC_BOUNDARY,
    rate_intervention,
    rate_study,
    rules_of,
    wwc_low_attrition,
    wwc_max_differential,
)
from upward.evidence.schema import Intervention, Study

INTERVENTION = Intervention(id="x", name="X program", policy_area="workforce")


def study(**extra) -> Study:
    """A large, multi-site, low-attrition RCT with a significant effect sustained 24 months;
    each test changes what its rule needs."""
    base = {"id": "s", "intervention_id": "x", "title": "A study", "design": "rct",
            "citation": "c", "sample_size": 1240, "sites": 3, "attrition_overall": 0.10,
            "attrition_differential": 0.02,
            "effects": [{"outcome": "earnings", "measure": "md", "estimate": 900.0, "se": 300.0,
                         "follow_up_months": 24}]}
    return Study.model_validate(base | extra)


def labels(s: Study, **kw) -> dict[str, str]:
    return {k: v.label for k, v in rate_study(s, **kw).items()}


# -- the WWC attrition boundary (Standards Handbook v4.1, Table II.1) ----------------------------
def test_attrition_boundary_matches_the_handbook_table():
    assert len(WWC_BOUNDARY["cautious"]) == 58 and len(WWC_BOUNDARY["optimistic"]) == 66
    assert wwc_max_differential(0.0) == 0.057
    assert wwc_max_differential(0.0, "optimistic") == 0.10
    assert wwc_max_differential(0.10) == 0.063
    assert wwc_max_differential(0.30) == 0.041
    assert wwc_max_differential(0.30, "optimistic") == 0.082
    assert wwc_max_differential(0.57) == 0.0
    assert wwc_max_differential(0.58) is None
    assert wwc_max_differential(0.65, "optimistic") == 0.003
    assert wwc_max_differential(0.66, "optimistic") is None
    assert wwc_low_attrition(None, 0.01) is None


@given(st.integers(0, 65))
def test_optimistic_boundary_is_never_stricter_than_cautious(percent):
    cautious = wwc_max_differential(percent / 100)
    optimistic = wwc_max_differential(percent / 100, "optimistic")
    assert optimistic is not None
    assert cautious is None or cautious <= optimistic


def test_every_framework_ends_in_a_catch_all_and_names_only_declared_criteria():
    for framework in ("wwc", "essa", "sptw"):
        rules = rules_of(framework)
        assert rules[-1].requires == ()
        assert [r.tier for r in rules] == list(range(1, len(rules) + 1))
    assert {c for r in RULES for c in r.requires} <= set(CRITERIA)


# -- WWC -----------------------------------------------------------------------------------------
def test_wwc_randomised_low_attrition_meets_without_reservations():
    r = rate_study(study())["wwc"]
    assert r.label == "Meets WWC standards without reservations"
    assert "low attrition (10% overall, 2.0 points differential)" in r.reasons


def test_wwc_high_attrition_rct_needs_baseline_equivalence():
    high = dict(attrition_overall=0.30, attrition_differential=0.06)
    r = rate_study(study(**high))["wwc"]
    assert r.label == "Does not meet WWC standards"
    assert any("high attrition" in x and "4.1 points" in x for x in r.reasons)
    assert labels(study(**high), boundary="optimistic")["wwc"].endswith("without reservations")
    shown = study(**high, baseline=[{"covariate": "age", "std_diff": 0.04}])
    assert labels(shown)["wwc"] == "Meets WWC standards with reservations"


@pytest.mark.parametrize("diff, adjusted, expected", [
    (0.04, False, "Meets WWC standards with reservations"),
    (0.12, True, "Meets WWC standards with reservations"),
    (0.12, False, "Does not meet WWC standards"),
    (0.26, True, "Does not meet WWC standards"),
])
def test_wwc_quasi_experiment_baseline_equivalence(diff, adjusted, expected):
    s = study(design="qed", baseline=[{"covariate": "age", "std_diff": -diff},
                                      {"covariate": "educ", "std_diff": 0.01}],
              baseline_adjusted=adjusted)
    r = rate_study(s)["wwc"]
    assert r.label == expected
    if diff > 0.25:
        assert "baseline difference of 0.26 SD on age (above 0.25)" in r.reasons


def test_wwc_panel_design_shows_comparability_with_passed_pre_trends_and_fails_without():
    passed = study(design="qed", checks=[{"name": "pre_trends", "passed": True}])
    r = rate_study(passed)["wwc"]
    assert r.label == "Meets WWC standards with reservations"
    assert "comparability shown (pre_trends passed)" in r.reasons
    failed = study(design="qed", checks=[{"name": "pre_trends", "passed": False}])
    assert "failed check: pre_trends" in rate_study(failed)["wwc"].reasons


def test_wwc_failed_design_check_blocks_an_rct_but_inference_checks_do_not():
    assert labels(study(checks=[{"name": "overlap", "passed": False}]))["wwc"] == \
        "Does not meet WWC standards"
    inference = study(checks=[{"name": "randomization_inference", "passed": False},
                              {"name": "balance", "passed": False}])
    assert labels(inference)["wwc"] == "Meets WWC standards without reservations"


def test_wwc_descriptive_and_correlational_designs_do_not_meet():
    for design in ("descriptive", "correlational"):
        assert labels(study(design=design))["wwc"] == "Does not meet WWC standards"


def test_withheld_attrition_rates_keep_their_wwc_verdict():
    s = study(attrition_overall=None, attrition_differential=None, attrition_wwc_low=True)
    assert labels(s)["wwc"].endswith("without reservations")
    assert labels(s, boundary="optimistic")["wwc"].endswith("without reservations")
    strict = study(attrition_overall=None, attrition_differential=None, attrition_wwc_low=False)
    assert labels(strict, boundary="optimistic")["wwc"] == "Does not meet WWC standards"


def test_unknown_boundary_is_a_config_error():
    with pytest.raises(ConfigError, match="cautious or optimistic"):
        rate_study(study(), boundary="liberal")


# -- ESSA ----------------------------------------------------------------------------------------
def test_essa_tier_1_strong():
    r = rate_study(study())["essa"]
    assert r.label == "Tier 1 — strong evidence"
    assert {"n = 1,240", "3 sites"} <= set(r.reasons)


def test_essa_tier_2_moderate_quasi_experiment():
    s = study(design="qed", baseline=[{"covariate": "age", "std_diff": 0.03}])
    r = rate_study(s)["essa"]
    assert r.label == "Tier 2 — moderate evidence"
    assert r.reasons[0] == "quasi-experimental"


def test_essa_one_site_or_small_sample_is_tier_3_and_says_why():
    one = rate_study(study(design="qed", sites=1,
                           baseline=[{"covariate": "age", "std_diff": 0.03}]))["essa"]
    assert one.label == "Tier 3 — promising evidence"
    assert one.summary().endswith("n = 1,240, one site")
    assert one.not_higher == ["one site"]
    small = rate_study(study(sample_size=200))["essa"]
    assert small.tier == 3 and "n = 200 (under 350)" in small.not_higher


def test_essa_tier_3_correlational_needs_statistical_controls():
    assert labels(study(design="correlational", baseline_adjusted=True))["essa"].startswith(
        "Tier 3")
    assert labels(study(design="correlational"))["essa"] == "Not rated"


def test_essa_tier_4_rationale_and_not_rated():
    null = study(effects=[{"outcome": "earnings", "measure": "md", "estimate": 100, "se": 300}])
    with_logic = INTERVENTION.model_copy(update={"logic_model": "Training raises skills."})
    assert labels(null, intervention=with_logic)["essa"] == "Tier 4 — demonstrates a rationale"
    assert labels(null, intervention=INTERVENTION)["essa"] == "Not rated"


def test_essa_unfavourable_significant_effect_is_not_evidence_of_benefit():
    harm = study(effects=[{"outcome": "jail", "measure": "md", "estimate": 0.05, "se": 0.01,
                           "direction": "lower"}])
    assert labels(harm)["essa"] == "Not rated"


def test_essa_intervention_level_meets_sample_and_sites_together():
    def qed(city, n):
        return study(id=f"s-{city}", design="qed", city=city, sites=1, sample_size=n,
                     baseline=[{"covariate": "age", "std_diff": 0.02}])
    pair = [qed("tulsa", 200), qed("dayton", 200)]
    assert all(rate_study(s)["essa"].tier == 3 for s in pair)
    body = rate_intervention(INTERVENTION, pair)["essa"]
    assert body.label == "Tier 2 — moderate evidence"
    assert "n = 400 together" in body.reasons
    harm = qed("racine", 500).model_copy(update={"effects": [
        pair[0].effects[0].model_copy(update={"estimate": -900.0})]})
    overridden = rate_intervention(INTERVENTION, [*pair, harm])["essa"]
    assert overridden.tier == 3
    assert any("overridden" in x for x in overridden.not_higher)


# -- Social Programs That Work -------------------------------------------------------------------
def test_sptw_top_tier_large_multi_site_rct():
    assert labels(study())["sptw"] == "Top Tier"


def test_sptw_near_top_tier_single_site():
    r = rate_study(study(sites=1))["sptw"]
    assert r.label == "Near Top Tier" and r.not_higher == ["one site"]


def test_sptw_suggestive_short_follow_up_or_not_significant():
    short = study(effects=[{"outcome": "earnings", "measure": "md", "estimate": 900, "se": 300,
                            "follow_up_months": 6}])
    r = rate_study(short)["sptw"]
    assert r.label == "Suggestive Tier"
    assert "follow-up of 6 months (under 12)" in r.not_higher
    weak = study(effects=[{"outcome": "earnings", "measure": "md", "estimate": 300, "se": 300,
                           "follow_up_months": 24}])
    assert labels(weak)["sptw"] == "Suggestive Tier"


def test_sptw_not_in_a_tier_for_quasi_experiments():
    assert labels(study(design="qed"))["sptw"] == "Not in a tier"


def test_sptw_top_tier_needs_replication_in_another_place():
    def trial(city):
        return study(id=f"t-{city.lower()}", city=city, sites=1, sample_size=400)
    assert rate_intervention(INTERVENTION, [trial("Tulsa"), trial("Dayton")])["sptw"].label == \
        "Top Tier"
    same = rate_intervention(INTERVENTION, [trial("Tulsa"), trial("Tulsa").model_copy(
        update={"id": "t-tulsa-2"})])["sptw"]
    assert same.label == "Near Top Tier"
    assert same.not_higher == ["needs a replication RCT in another place"]


def test_intervention_without_studies_on_the_outcome():
    r = rate_intervention(INTERVENTION, [study()], outcome="employment")
    assert r["essa"].label == "Not rated" and "no studies on employment" in r["essa"].reasons


# -- from evaluation results ---------------------------------------------------------------------
def _result(design="rct", **extra) -> EvaluationResult:
    base = dict(design=design, method="m", outcome="earnings", estimand="ATE", estimate=800.0,
                se=250.0, ci_low=310.0, ci_high=1290.0, p_value=0.0014, n=1600,
                n_treated=800, n_control=800)
    return EvaluationResult(**(base | extra))


def test_evaluation_attrition_table_gives_the_wwc_attrition():
    r = _result(tables={"attrition": [
        {"group": "treatment", "n_assigned": 1000, "n_observed": 800, "rate": 0.2},
        {"group": "control", "n_assigned": 1000, "n_observed": 880, "rate": 0.12},
        {"group": "all", "n_assigned": 2000, "n_observed": 1680, "rate": 0.16}]},
        checks=[Check("attrition", False, "differs")])
    s = study_from_evaluation(r, intervention_id="x", city="Tulsa, OK")
    assert s.attrition_overall == pytest.approx(0.16)
    assert s.attrition_differential == pytest.approx(0.08)
    assert [(a.name, a.n, a.n_analysed) for a in s.arms] == [("treatment", 1000, 800),
                                                             ("control", 1000, 880)]
    assert s.sample_size == 2000
    assert rate_study(s)["wwc"].label == "Does not meet WWC standards"


def test_evaluation_failed_pre_trends_keeps_a_did_from_meeting_standards():
    passed = study_from_evaluation(_result("did", checks=[Check("pre_trends", True, "p = 0.6")]),
                                   intervention_id="x")
    failed = study_from_evaluation(_result("did", checks=[Check("pre_trends", False, "p = .01")]),
                                   intervention_id="x")
    assert passed.design == "qed"
    assert rate_study(passed)["wwc"].label == "Meets WWC standards with reservations"
    assert rate_study(failed)["wwc"].label == "Does not meet WWC standards"


def test_evaluation_weighting_design_uses_weighted_balance():
    r = _result("ipw", tables={"balance": [
        {"covariate": "age", "std_diff": 0.4, "std_diff_weighted": 0.03}]})
    s = study_from_evaluation(r, intervention_id="x")
    assert s.baseline[0].std_diff == 0.03 and s.baseline_adjusted
    assert rate_study(s)["wwc"].label == "Meets WWC standards with reservations"


def test_evaluation_cluster_and_unknown_designs_and_missing_uncertainty():
    clustered = _result(spec={"cluster": "school"})
    assert study_from_evaluation(clustered, intervention_id="x").design == "cluster_rct"
    with pytest.raises(ConfigError, match="no study design for the evidence library"):
        study_from_evaluation(_result("tarot"), intervention_id="x")
    with pytest.raises(ConfigError, match="standard error"):
        study_from_evaluation(_result(se=None, ci_low=None, ci_high=None), intervention_id="x")


def test_every_registered_design_has_a_study_design():
    from upward.evaluate.categories import STUDY_DESIGNS
    from upward.evaluate.designs import DESIGNS

    for name, design in DESIGNS.items():
        assert design.evidence.study_design in STUDY_DESIGNS, name
        assert design.evidence.units in ("people", "places"), name


def test_real_evaluation_of_the_nsw_experiment_becomes_a_rated_study(tmp_path):
    """The rct design on the public Dehejia-Wahba file reproduces $1,794 (DW 1999, Table 3)
    and enters the library rated from the evaluation's own checks."""
    causaldata = pytest.importorskip("causaldata", reason="causaldata (dev dependency) absent")
    from upward.evaluate.run import evaluate
    from upward.evaluate.spec import EvaluationSpec

    d = causaldata.nsw_mixtape.load_pandas().data.reset_index(drop=True)
    d["person"] = [f"p{i}" for i in range(len(d))]
    d[["person", "treat", "re78"]].to_csv(tmp_path / "nsw.csv", index=False)
    spec = EvaluationSpec(data=tmp_path / "nsw.csv", design="rct", outcome="re78",
                          treatment="treat", unit="person")
    result = evaluate(spec, save=False)
    s = study_from_evaluation(result, intervention_id="national-supported-work",
                              city="multi-site", sites=10)
    assert s.effects[0].estimate == pytest.approx(1794.34, abs=0.01)
    assert s.attrition_overall == 0.0
    ratings = rate_study(s)
    assert ratings["wwc"].label == "Meets WWC standards without reservations"
    assert ratings["essa"].label == "Tier 1 — strong evidence"


def test_regression_discontinuity_with_passed_manipulation_and_covariate_checks():
    r = _result("rd", checks=[Check("manipulation", True, "density test p = 0.4"),
                              Check("covariates", True, "no jump"),
                              Check("bandwidth", True, "stable")])
    s = study_from_evaluation(r, intervention_id="x")
    assert s.design == "rd"
    rating = rate_study(s)
    assert rating["wwc"].label == "Meets WWC standards with reservations"
    assert rating["sptw"].label == "Suggestive Tier"
    moved = _result("rd", checks=[Check("manipulation", False, "density jumps")])
    assert rate_study(study_from_evaluation(moved, intervention_id="x"))["wwc"].label == \
        "Does not meet WWC standards"
