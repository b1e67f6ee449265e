"""From barriers to interventions (``upward recommend``) and to a pilot plan (``upward plan
--from-evidence``), on the demo city, whose barriers are planted (low incomes, concentrated
poverty, few affordable units, low employment) and whose strengths are planted too (preschool,
learning, civic life): the interventions proposed are those whose effects are in the barriers'
outcome domains, and nothing from unrelated domains."""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.conftest import run_cli

from upward.core.errors import ConfigError
from upward.diagnose import barriers
from upward.evaluate.power import rct_plan
from upward.evaluate.spec import EvaluationSpec
from upward.evidence.library import EvidenceLibrary
from upward.evidence.meta import pool
from upward.evidence.pilot import individual_n, plan_from_evidence, plan_pilot
from upward.evidence.recommend import STRENGTHS, recommend_for
from upward.metrics import get_metric

DEMO = "9900100"


def _study(i: int, iid: str, outcome: str, domain: str, estimate: float, se: float,
           design: str = "rct", unit: str = "share (0-1)", population: str = "adults") -> dict:
    return {"id": f"{iid}-{i}", "intervention_id": iid, "title": f"{iid} study {i}",
            "design": design, "citation": f"Test study {i} (2020)", "sample_size": 2000,
            "attrition_overall": 0.05, "attrition_differential": 0.01, "sites": 3,
            "effects": [{"outcome": outcome, "measure": "md", "estimate": estimate, "se": se,
                         "unit": unit, "domain": domain, "population": population}]}


EMPLOYMENT = (0.04, 0.05, 0.03, 0.045, 0.035)  # five studies: a prediction interval above 0
#: Interventions in every kind of domain: those of the planted barriers and unrelated ones.
LIBRARY = {
    "interventions": [
        {"id": "t-employment", "name": "T employment program", "policy_area": "workforce",
         "logic_model": "work experience", "take_up": 0.5, "take_up_source": "first stage, T1"},
        {"id": "t-employment-weak", "name": "T employment pilot (one QED)",
         "policy_area": "workforce", "cost_per_participant": 9000, "cost_year": 2015},
        {"id": "t-housing", "name": "T housing voucher", "policy_area": "housing"},
        {"id": "t-preschool", "name": "T preschool", "policy_area": "education"},
        {"id": "t-tutoring", "name": "T tutoring", "policy_area": "education"},
        {"id": "t-civic", "name": "T civic clubs", "policy_area": "civic"},
    ],
    "studies": [
        *[_study(i, "t-employment", "employed", "employment", e, 0.01)
          for i, e in enumerate(EMPLOYMENT)],
        _study(0, "t-employment-weak", "employed", "employment", 0.20, 0.05, design="qed"),
        *[_study(i, "t-housing", "stably_housed", "housing", e, 0.02,
                 population="low_income_families") for i, e in enumerate((0.10, 0.08))],
        _study(0, "t-preschool", "kindergarten_ready", "early_learning", 0.3, 0.05,
               population="children"),
        _study(0, "t-tutoring", "math_score", "k12", 0.2, 0.04, unit="standard deviations",
               population="students"),
        _study(0, "t-civic", "volunteering", "civic", 0.1, 0.02, population="residents"),
    ],
}
UNRELATED = {"t-preschool": "early_learning", "t-tutoring": "k12", "t-civic": "civic",
             "t-housing": "housing"}


@pytest.fixture(scope="module")
def demo(demo_module_copy):
    EvidenceLibrary(demo_module_copy).add(LIBRARY)
    report = barriers(DEMO, workspace=demo_module_copy, include_drivers=False,
                      include_neighbourhoods=False)
    from upward.measure.profile import profile

    population = profile(DEMO, workspace=demo_module_copy).population
    return demo_module_copy, report, population


@pytest.mark.slow
def test_recommend_proposes_only_interventions_in_the_barriers_domains(demo):
    ws, report, population = demo
    found = {f.metric_id for f in report.findings}
    # the planted barriers are found, and the planted strengths are not barriers
    assert {"pctl_income_20", "share_employed"} <= found
    assert not found & {"share_in_preschool", "rate_learning",
                        "count_membership_associations_per_10k"}
    barrier_domains = {d for m in found for d in get_metric(m).domains}
    assert not barrier_domains & set(UNRELATED.values())
    rec = recommend_for(report, EvidenceLibrary(ws), place_population=population)
    proposed = set()
    for b in rec.barriers:
        domains = set(get_metric(b.metric_id).domains)
        for c in b.candidates:
            assert c.domain in domains, (b.metric_id, c.intervention_id, c.domain)
            proposed.add(c.intervention_id)
    assert not proposed & set(UNRELATED)
    employment = next(b for b in rec.barriers if b.metric_id == "share_employed")
    ids = [c.intervention_id for c in employment.candidates]
    assert {"t-employment", "t-employment-weak"} <= set(ids)
    # the demo pilots and the shipped papers are in the library too, tagged by domain
    income = next(b for b in rec.barriers if b.metric_id == "pctl_income_20")
    assert "national-supported-work" in {c.intervention_id for c in income.candidates}


@pytest.mark.slow
def test_order_is_by_strength_of_evidence_never_by_effect_size(demo):
    ws, report, population = demo
    rec = recommend_for(report, EvidenceLibrary(ws), place_population=population)
    employment = next(b for b in rec.barriers if b.metric_id == "share_employed")
    by_id = {c.intervention_id: c for c in employment.candidates}
    strong, weak = by_id["t-employment"], by_id["t-employment-weak"]
    assert weak.estimate > strong.estimate  # the bigger effect …
    assert strong.essa_tier < weak.essa_tier  # … has the weaker evidence, so comes later
    ids = [c.intervention_id for c in employment.candidates]
    assert ids.index("t-employment") < ids.index("t-employment-weak")
    keys = [(list(STRENGTHS).index(c.strength), c.essa_tier, -c.k, c.name.lower())
            for c in employment.candidates]
    assert keys == sorted(keys)
    assert "not by size of effect" in rec.order_rule


@pytest.mark.slow
def test_candidate_evidence_projection_and_pilot(demo):
    ws, report, population = demo
    rec = recommend_for(report, EvidenceLibrary(ws), place_population=population)
    employment = next(b for b in rec.barriers if b.metric_id == "share_employed")
    c = next(c for c in employment.candidates if c.intervention_id == "t-employment")
    pooled = pool(list(EMPLOYMENT), [0.01] * 5, method="REML")
    assert c.k == 5 and c.estimate == pytest.approx(pooled.estimate)
    assert c.pi_low == pytest.approx(pooled.pi_low) and c.strength == "clear"
    # take-up from the first stage; eligible from the measured employment rate, with margins
    assert c.take_up == 0.5 and "first stage" in c.take_up_basis
    employed = next(g for g in report.gaps if g.metric_id == "share_employed")
    assert c.eligible == pytest.approx(population * (1 - employed.estimate))
    assert c.eligible_low == pytest.approx(population * (1 - employed.ub))
    assert "people" in c.projection and "margin" in c.projection
    assert c.pilot_people == individual_n(pooled.estimate, 0.5)
    # no first stage and no take-up: a projection per 1,000 participants, never for everyone
    weak = next(c for c in employment.candidates if c.intervention_id == "t-employment-weak")
    assert weak.take_up is None and "For every 1,000 participants" in weak.projection
    # with a take-up given, every candidate projects for the place
    given = recommend_for(report, EvidenceLibrary(ws), place_population=population,
                          take_up=0.2)
    weak = next(c for b in given.barriers for c in b.candidates
                if c.intervention_id == "t-employment-weak")
    assert weak.take_up == 0.2 and "20% take-up" in weak.projection
    # a cost with its year is shown in constant dollars
    weak = next(c for c in employment.candidates if c.intervention_id == "t-employment-weak")
    assert f"({rec.dollars_of} dollars; $9,000 in 2015 dollars)" in weak.cost


@pytest.mark.slow
def test_recommend_command_page_and_api(demo):
    ws, _, _ = demo
    out = run_cli("recommend", DEMO, "-f", "json", "--limit", "0", "-w", str(ws.root))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    ids = {c["intervention_id"] for b in doc["barriers"] for c in b["candidates"]}
    assert "t-employment" in ids and not ids & set(UNRELATED)
    text = run_cli("recommend", DEMO, "-w", str(ws.root))
    assert "not by size of effect" in text.stdout and "T employment program" in text.stdout
    from upward.web.app import create_app

    client = TestClient(create_app(ws))
    page = client.get(f"/places/{DEMO}/recommend")
    assert page.status_code == 200 and "T employment program" in page.text
    assert 'href="/places/9900100/recommend"' in client.get(f"/places/{DEMO}/barriers").text
    api = client.get(f"/api/places/{DEMO}/recommend", params={"take_up": "0.3"}).json()
    assert {c["intervention_id"] for b in api["barriers"] for c in b["candidates"]} == ids
    assert client.get(f"/places/{DEMO}/recommend", params={"take_up": "2"}).status_code == 422


@pytest.mark.slow
def test_plan_from_evidence_writes_a_spec_the_evaluator_reads(demo, tmp_path):
    ws, _, _ = demo
    spec = tmp_path / "pilot.yaml"
    plan, path = plan_from_evidence(ws, "t-employment", DEMO, spec=spec)
    pooled = pool(list(EMPLOYMENT), [0.01] * 5)
    assert plan.people == individual_n(pooled.estimate, 0.5) and path == spec
    parsed = EvaluationSpec(**yaml.safe_load(spec.read_text()))
    assert parsed.design == "rct" and parsed.outcome == "employed"
    low, _ = plan_from_evidence(ws, "t-employment", DEMO, target="pi-low",
                                spec=tmp_path / "low.yaml")
    assert low.target_effect == pytest.approx(pooled.pi_low) and low.people > plan.people
    cluster, _ = plan_from_evidence(ws, "t-employment", DEMO, design="cluster",
                                    cluster_size=25, icc=0.05, spec=tmp_path / "c.yaml")
    assert cluster.clusters and cluster.people == cluster.clusters * 25
    assert cluster.people > plan.people  # clustering costs power
    assert "cluster:" in (tmp_path / "c.yaml").read_text()
    with pytest.raises(ConfigError, match="already exists"):
        plan_from_evidence(ws, "t-employment", DEMO, spec=spec)
    out = run_cli("plan", "--from-evidence", "t-employment", "--place", DEMO, "--spec",
                  str(tmp_path / "cli.yaml"), "-w", str(ws.root))
    assert out.returncode == 0, out.stderr
    assert f"randomise {plan.people:,} people" in out.stdout and (tmp_path / "cli.yaml").exists()
    needs_sd = run_cli("plan", "--from-evidence", "national-supported-work", "--place", DEMO,
                       "--spec", str(tmp_path / "nsw.yaml"), "-w", str(ws.root))
    assert needs_sd.returncode != 0 and "--sd" in needs_sd.stderr


def test_sample_size_is_the_smallest_that_reaches_the_target_power():
    # Cohen (1988), Table 2.4.1: 64 per group detect d = 0.5 at 80% power, 5% two-sided.
    assert individual_n(0.5, 1.0) == 128
    n = individual_n(0.03, 0.5)
    assert rct_plan(n, sd=0.5).mde <= 0.03 < rct_plan(n - 2, sd=0.5).mde
    # close to the normal approximation n = 4 (z.975 + z.8)² sd² / δ²
    from scipy.stats import norm

    approx = 4 * (norm.ppf(0.975) + norm.ppf(0.8)) ** 2 * 0.25 / 0.03**2
    assert abs(n - approx) / approx < 0.01


def test_a_pilot_needs_a_spread_and_an_effect_it_can_detect():
    one = pool([1200.0], [400.0])
    with pytest.raises(ConfigError, match="standard deviation"):
        plan_pilot(one, intervention_id="x", intervention_name="X", outcome="earnings",
                   outcome_label="Earnings", unit="2015 dollars", place="Tulsa, OK")
    with pytest.raises(ConfigError, match="no prediction interval"):
        plan_pilot(one, intervention_id="x", intervention_name="X", outcome="earnings",
                   outcome_label="Earnings", unit="2015 dollars", place="Tulsa, OK",
                   sd=8000, target="pi-low")
    spread = pool([0.2, -0.1, 0.3, 0.0], [0.05] * 4)
    with pytest.raises(ConfigError, match="includes zero"):
        plan_pilot(spread, intervention_id="x", intervention_name="X", outcome="y",
                   outcome_label="Y", unit="share (0-1)", place="Tulsa, OK", target="pi-low")
    given = plan_pilot(one, intervention_id="x", intervention_name="X", outcome="earnings",
                       outcome_label="Earnings", unit="2015 dollars", place="Tulsa, OK",
                       sd=8000)
    assert given.people == individual_n(1200.0, 8000.0) and given.sd_basis == "given"
