"""Evidence pages and API (FastAPI TestClient) over a demo workspace holding the published
studies and the demo city's pilot evaluations: lists, filters, forest plots with table
alternatives, pooling, projection onto a place, and disclosure control on every response."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
try:
    from upward.web.app import create_app
except ImportError as exc:  # pragma: no cover - until the web app lands
    pytest.skip(f"upward.web.app is not available: {exc}", allow_module_level=True)

from fastapi.testclient import TestClient

from upward.evidence.library import EvidenceLibrary
from upward.evidence.projection import pool_evidence

SMALL_ESTIMATE = 4321.5


@pytest.fixture(scope="module")
def site(demo_module_copy):
    """The published studies, the demo pilots' evaluations (a copy of the workspace ``upward
    demo`` makes, which enters both in its library) and a study of 7 treated people."""
    ws = demo_module_copy
    EvidenceLibrary(ws).add({"studies": [{
        "id": "tiny-pilot", "intervention_id": "national-supported-work", "title": "Tiny pilot",
        "design": "rct", "city": "Smallville", "evaluation_id": "e-tiny",
        "arms": [{"name": "treatment", "n": 7}, {"name": "control", "n": 40}],
        "effects": [{"outcome": "earnings_annual", "measure": "md", "estimate": SMALL_ESTIMATE,
                     "se": 900.0, "n": 47, "n_treated": 7, "n_control": 40}]}]})
    with TestClient(create_app(ws)) as client:
        yield ws, client


def test_list_page_and_filters(site):
    _, client = site
    page = client.get("/evidence")
    assert page.status_code == 200
    for name in ("National Supported Work", "Moving to Opportunity", "Demo City job-training"):
        assert name in page.text
    housing = client.get("/evidence", params={"policy_area": "housing"})
    assert "Moving to Opportunity" in housing.text and "Supported Work" not in housing.text
    assert client.get("/evidence", params={"policy_area": "space"}).status_code == 422
    api = client.get("/api/evidence", params={"outcome": "earnings_annual"}).json()
    assert [r["id"] for r in api] == ["national-supported-work"]


def test_intervention_page_has_forest_plot_table_and_pooled_effect(site):
    ws, client = site
    page = client.get("/evidence/national-supported-work").text
    assert 'id="forest-0"' in page and '<details class="alternative">' in page
    assert "Table of the chart" in page and "/static/plotly.min.js" in page
    expected = pool_evidence(EvidenceLibrary(ws), "national-supported-work", "earnings_annual")
    shown = float(re.search(r'data-outcome="earnings_annual" data-estimate="([^"]+)"', page)[1])
    # The tiny pilot is withheld from the published view, so the page pools the two papers.
    assert expected.pooled.k == 3
    assert shown == pytest.approx(client.get(
        "/api/evidence/national-supported-work/pool",
        params={"outcome": "earnings_annual"}).json()["pooled"]["estimate"])
    assert shown == pytest.approx(1160, abs=1)


def test_demo_intervention_is_labelled_synthetic_and_pools_its_pilot(site):
    _, client = site
    page = client.get("/evidence/demo-job-training").text
    assert "SYNTHETIC DATA" in page
    assert "Meets WWC standards without reservations" in page


def test_projection_form_with_a_number(site):
    _, client = site
    page = client.get("/evidence/national-supported-work", params={
        "place": "Tulsa, OK", "outcome": "earnings_annual", "eligible": "5000",
        "take_up": "0.3", "cost": "8000"}).text
    assert "1,500 participants" in page and "cost $12,000,000" in page
    failed = client.get("/evidence/national-supported-work",
                        params={"place": "Tulsa, OK", "outcome": "earnings_annual"})
    assert failed.status_code == 200 and 'role="alert"' in failed.text


@pytest.mark.slow
def test_projection_from_the_demo_city_profile(demo_copy):
    """Eligible people = the demo city's population × (1 − its employment rate), as the
    profile reports them (in a copy of the workspace ``upward demo`` made: the demo city, its
    pilots' evaluations and the published studies)."""
    from upward.measure.profile import profile

    ws = demo_copy
    client = TestClient(create_app(ws))
    prof = profile("9900100", workspace=ws)
    employed = prof.entry("share_employed")
    api = client.get("/api/evidence/demo-job-training/project", params={
        "outcome": "earnings_q4", "place": "9900100", "share_metric": "share_employed",
        "complement": "true", "take_up": "0.1"}).json()
    assert api["eligible_population"] == pytest.approx(prof.population * (1 - employed.estimate))
    assert api["geo_id"] == "9900100" and "1 − " in api["eligible_basis"]
    # the demo's 2024 cost, in constant dollars of the latest CPI year
    from upward.evidence.money import to_constant

    assert api["cost_per_participant"] == pytest.approx(to_constant(3200.0, 2024))
    assert "$3,200 in 2024 dollars" in api["cost_basis"]
    failed = client.get("/evidence/national-supported-work",
                        params={"place": "Nowhere at all", "outcome": "earnings_annual",
                                "share_metric": "share_employed"})
    assert failed.status_code == 200 and 'role="alert"' in failed.text


def test_api_endpoints_and_errors(site):
    _, client = site
    detail = client.get("/api/evidence/moving-to-opportunity").json()
    assert detail["studies"][0]["effects"][0]["estimate"] == 1624.0
    assert "essa" in detail["ratings_by_outcome"]["adult_earnings_children"]
    study = client.get("/api/evidence/studies/nsw-men-dehejia-wahba-1999").json()
    assert study["ratings"]["wwc"]["label"] == "Does not meet WWC standards"
    assert client.get("/api/evidence/schema").json()["title"] == "LibraryDocument"
    missing = client.get("/api/evidence/nope")
    assert missing.status_code == 404 and "national-supported-work" in missing.json()["error"][
        "fix"]
    assert client.get("/evidence/nope").status_code == 404
    bad = client.get("/api/evidence/national-supported-work/pool",
                     params={"outcome": "earnings_annual", "method": "magic"})
    assert bad.status_code == 422
    assert "Meets WWC standards without reservations" in client.get("/evidence/ratings").text


def test_no_response_shows_the_study_of_seven_people(site):
    _, client = site
    urls = ["/evidence", "/evidence/national-supported-work", "/api/evidence",
            "/api/evidence/national-supported-work",
            "/api/evidence/national-supported-work/pool?outcome=earnings_annual"]
    for url in urls:
        text = client.get(url).text
        assert "4321.5" not in text and "4,322" not in text and "Tiny pilot" not in text, url
    assert client.get("/api/evidence/studies/tiny-pilot").status_code == 404
