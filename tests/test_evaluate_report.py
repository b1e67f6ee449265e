"""The evaluation HTML report: failed checks first, a chart and a table for every result
table, self-contained, and rendering without errors in Chromium with no network."""

from __future__ import annotations

import re

import pytest

from upward.evaluate.designs import TABLE_COLUMNS
from upward.evaluate.result import Check, EvaluationResult
from upward.report.evaluation import CHARTS, render_evaluation_report


def full_result() -> EvaluationResult:
    """A result carrying every table the contract defines, as the designs fill them."""
    tables = {
        "balance": [{"covariate": "age", "mean_treated": 38.2, "mean_control": 37.9,
                     "std_diff": 0.03, "std_diff_weighted": 0.01},
                    {"covariate": "earnings_baseline", "mean_treated": 2100.0,
                     "mean_control": 1800.0, "std_diff": 0.16, "std_diff_weighted": 0.04}],
        "event_study": [{"rel_time": k, "estimate": 0.1 * k if k >= 0 else 0.02 * k, "se": 0.1,
                         "ci_low": (0.1 * k if k >= 0 else 0.02 * k) - 0.2,
                         "ci_high": (0.1 * k if k >= 0 else 0.02 * k) + 0.2}
                        for k in range(-4, 5) if k != -1],
        "group_time": [{"cohort": c, "time": t, "att": 0.5 * (t >= c), "se": 0.2}
                       for c in (5, 7) for t in range(2, 10)],
        "donor_weights": [{"unit": "9f3a1c0de2b4a611", "weight": 0.62},
                          {"unit": "0b7e55aa19c2d3f0", "weight": 0.38},
                          {"unit": "c4d2e1f0a9b8c7d6", "weight": 0.0}],
        "synth_path": [{"time": t, "treated": 10 + t + (2 if t >= 6 else 0),
                        "synthetic": 10 + t} for t in range(1, 11)],
        "placebo": [{"unit": "9e9e9e9e9e9e9e9e", "rmspe_ratio": 6.1, "post_gap": 2.0},
                    {"unit": "0b7e55aa19c2d3f0", "rmspe_ratio": 1.2, "post_gap": 0.2}],
        "rd_bins": [{"x": x / 10, "y": 1 + x / 20 + (0.5 if x >= 0 else 0), "n": 40,
                     "side": "above" if x >= 0 else "below"} for x in range(-10, 10)],
        "overlap": [{"score_low": i / 10, "score_high": (i + 1) / 10, "n_treated": i * 3,
                     "n_control": (10 - i) * 3} for i in range(10)],
        "estimates": [{"method": "difference in means", "estimate": 480.0, "se": 150.0,
                       "ci_low": 186.0, "ci_high": 774.0},
                      {"method": "Lin (2013) adjustment", "estimate": 455.0, "se": 120.0,
                       "ci_low": 220.0, "ci_high": 690.0}],
        "attrition": [{"group": "treatment", "n_assigned": 1000, "n_observed": 910,
                       "rate": 0.09}, {"group": "control", "n_assigned": 1000,
                                       "n_observed": 930, "rate": 0.07}],
        "time_weights": [{"time": t, "weight": w} for t, w in ((3, 0.0), (4, 0.4), (5, 0.6))],
        "placebo_estimates": [{"unit": "0b7e55aa19c2d3f0", "estimate": 0.3},
                              {"unit": "c4d2e1f0a9b8c7d6", "estimate": -0.5}],
    }
    assert set(tables) == set(TABLE_COLUMNS)
    return EvaluationResult(
        "rct", "Lin (2013) regression adjustment", "earnings_q4", "ATE", 455.0, 120.0, 220.0,
        690.0, 0.0002, 1840, n_treated=910, n_control=930,
        checks=[Check("balance", True, "joint F test p = 0.41"),
                Check("attrition", False, "treated units lose 2 points more <b>follow-up</b>",
                      0.02, 0.03),
                Check("clusters", None, "no clusters")],
        warnings=["dates converted to quarters"], tables=tables,
        spec={"name": "job-training-earnings", "design": "rct", "treated_unit":
              "9e9e9e9e9e9e9e9e", "treatment_start": 6, "cutoff": 0.0, "running": "score"},
        cost={"cost_per_participant": 3200.0, "mvpf_text": "1.04", "inputs": [
            {"name": "cost_per_participant", "value": 3200.0, "unit": "dollars",
             "source": "spec"}], "sensitivity": [], "notes": ["fiscal externality 650"]})


def test_failed_checks_come_first_in_a_visible_box():
    html = render_evaluation_report(full_result())
    box = html.index('class="alert"')
    assert box < html.index("ATE on earnings_q4: 455")
    assert "1 assumption check(s) failed" in html
    # check text is escaped, not injected
    assert "<b>follow-up</b>" not in html and "&lt;b&gt;follow-up&lt;/b&gt;" in html
    checks = html[html.index('id="t-checks"'):]
    assert checks.index("FAILED") < checks.index("not informative") < checks.index("passed")


def test_every_table_has_a_chart_and_a_table_alternative():
    result = full_result()
    html = render_evaluation_report(result)
    for key in result.tables:
        section = re.search(rf'<section aria-labelledby="t-{key}">(.*?)</section>', html, re.S)
        assert section, key
        body = section.group(1)
        assert 'class="plotly-graph-div"' in body, key
        assert 'role="img"' in body and "<details" in body and "<table>" in body, key
    assert "cost_per_participant" in html and "1.04" in html
    assert "Specification" in html and "job-training-earnings" in html


def test_charts_draw_the_numbers_of_their_tables():
    result = full_result()
    love = CHARTS["balance"].draw(result.tables["balance"], result)
    assert list(love.data[0].x) == [0.03, 0.16] and list(love.data[1].x) == [0.01, 0.04]
    event = CHARTS["event_study"].draw(result.tables["event_study"], result)
    band = next(t for t in event.data if t.name == "pre-period 95% band")
    assert band.fill == "toself" and max(band.x) < 0
    donors = CHARTS["donor_weights"].draw(result.tables["donor_weights"], result)
    assert list(donors.data[0].y) == ["0b7e55aa19c2d3f0", "9f3a1c0de2b4a611"]  # zero dropped
    placebo = CHARTS["placebo"].draw(result.tables["placebo"], result)
    colours = list(placebo.data[0].marker.color)
    treated_at = list(placebo.data[0].y).index("9e9e9e9e9e9e9e9e")
    assert colours[treated_at] != colours[1 - treated_at]
    overlap = CHARTS["overlap"].draw(result.tables["overlap"], result)
    assert min(overlap.data[1].y) < 0 < max(overlap.data[0].y)


def test_report_without_tables_or_failures_is_still_complete():
    plain = EvaluationResult("did", "2×2", "rate", "ATT", 1.5, 0.5, 0.52, 2.48, 0.003, 120)
    html = render_evaluation_report(plain)
    assert 'class="alert"' not in html and "ATT on rate: 1.5" in html
    assert html.rstrip().endswith("</html>")


def test_report_is_self_contained():
    html = render_evaluation_report(full_result())
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    head, body = html.split("</head>", 1)
    assert "Plotly" in head  # plotly.js inlined, not fetched
    assert not re.findall(r"https?://", body)


@pytest.mark.xdist_group("browser")  # the session's one browser (tests/conftest.py)
def test_report_renders_offline_in_chromium(tmp_path, chromium):
    path = tmp_path / "report.html"
    result = full_result()
    path.write_text(render_evaluation_report(result), encoding="utf-8")
    errors, requests = [], []
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.route(re.compile(r"^https?://"), lambda route: route.abort())
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 10",
                               timeout=120_000)  # generous: CI may be busy
        drawn = page.locator(".js-plotly-plot").count()
        heading = page.locator("h1").inner_text()
    finally:
        context.close()
    assert errors == []
    assert drawn == len(result.tables)
    assert [u for u in requests if not u.startswith("file:")] == []
    assert heading == "Evaluation: job-training-earnings"
