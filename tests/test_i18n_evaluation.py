"""The evaluation and monitor reports in Spanish (issue #12): `lang=` on the renderers and
`--lang es` on `upward evaluate`, `upward evaluations` and `upward monitor`; the English reports
keep their sentences; scorecard numbers are localised once (a ratio reads "0,842")."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from tests.conftest import run_cli

from upward.demo.pilot import write_monitored_pilot, write_pilot
from upward.evaluate.monitor import monitor
from upward.evaluate.run import run_evaluation
from upward.report.evaluation import render_evaluation_report, render_monitor_report
from upward.report.i18n import localise_numbers, use_language


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    return write_pilot(tmp_path_factory.mktemp("pilot"))


@pytest.fixture(scope="module")
def earnings(pilot):
    """The demo's job-training RCT with costs: checks, warnings-free, three tables, an MVPF."""
    return run_evaluation(pilot.study("job-training-earnings").spec_path, None,
                          save=False).result


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    pilot = write_monitored_pilot(tmp_path_factory.mktemp("monitored"), weeks=4)
    return monitor(pilot.spec_path, None, save=False)


def _english_elements(soup: BeautifulSoup) -> list[str]:
    return [el.get_text(" ", strip=True) for el in soup.select('body [lang="en"]')]


def _visible(soup: BeautifulSoup) -> str:
    for el in soup(["script", "style"]):
        el.decompose()
    return soup.get_text(" ", strip=True)


def test_the_spanish_evaluation_report_has_no_english_left(earnings):
    soup = BeautifulSoup(render_evaluation_report(earnings, lang="es"), "html.parser")
    assert soup.html["lang"] == "es"
    # every sentence the evaluate layer wrote has a translation; the data (outcome and
    # covariate names, spec keys and values) is shown as written, with no lang mark
    assert _english_elements(soup) == []
    headings = [h.get_text(strip=True) for h in soup.find_all("h2")]
    assert "Comprobaciones de supuestos" in headings
    assert "Estimaciones por método (intervalos del 95\xa0%)" in headings
    headline = soup.select_one("p.headline").get_text()
    assert headline.startswith("ATE sobre earnings_q4: ")
    assert "IC al 95\xa0%" in headline and re.search(r"n = 1\.\d{3}$", headline)
    status = [tr.find("td").get_text() for tr in
              soup.find("h2", id="t-checks").find_next("table").select("tbody tr")]
    assert status and set(status) <= {"superada", "NO SUPERADA", "no informativa"}
    names = {tr.select("td")[1].get_text() for tr in
             soup.find("h2", id="t-checks").find_next("table").select("tbody tr")}
    assert {"equilibrio", "pérdida de seguimiento"} <= names
    text = _visible(soup)
    for english in ("Assumption checks", "joint test of", "outcome missing for",
                    "difference in means", "standard errors", "Willingness to pay",
                    "passed", "Generated"):
        assert english not in text, english
    # numbers in the Spanish way: decimal commas in the estimate, interval and p; the
    # thousands of n with a point
    effect, _n = headline.split(", n = ")
    assert re.search(r"\d,\d", effect) and not re.search(r"\d\.\d", effect)


def test_the_english_evaluation_report_keeps_its_sentences(earnings):
    html = render_evaluation_report(earnings)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "en" and _english_elements(soup) == []
    headline = soup.select_one("p.headline").get_text()
    assert headline == earnings.headline()
    assert re.fullmatch(r"ATE on earnings_q4: [\d,.]+ \(95% CI -?[\d,.]+ to [\d,.]+\), "
                        r"p = [<\d.]+, n = 1,\d{3}", headline)
    text = _visible(soup)
    for sentence in ("Assumption checks", "joint test of the 4 covariates predicting "
                     "treatment: F = ", "of control units (difference ",
                     "Estimates by method (95% intervals)", "Cost and value",
                     "MVPF (willingness to pay ÷ net government cost)",
                     "Identifiers are keyed hashes"):
        assert sentence in text, sentence
    assert "Design: rct — " + earnings.method in text
    checks = [[td.get_text() for td in tr.select("td")] for tr in
              soup.find("h2", id="t-checks").find_next("table").select("tbody tr")]
    assert {row[0] for row in checks} <= {"passed", "FAILED", "not informative"}
    assert {row[1] for row in checks} >= {"balance", "attrition"}


def test_an_untranslated_detail_is_marked_english(earnings):
    """A result read back from JSON has plain strings: a detail without a catalog entry is
    shown in English, marked so."""
    from dataclasses import replace

    from upward.evaluate.result import Check

    odd = replace(earnings, checks=[Check("balance", True, "a detail nobody translated")])
    soup = BeautifulSoup(render_evaluation_report(odd, lang="es"), "html.parser")
    assert _english_elements(soup) == ["a detail nobody translated"]


def test_the_spanish_monitor_report_has_no_english_left(monitored):
    soup = BeautifulSoup(render_monitor_report(monitored, lang="es"), "html.parser")
    assert soup.html["lang"] == "es"
    assert _english_elements(soup) == []
    verdict = soup.select_one("#t-verdict").get_text()
    assert verdict in ("Suficientemente sólido para actuar",
                       "Todavía no es suficientemente sólido para actuar",
                       "No se muestra ningún efecto")
    assert soup.select_one("#t-verdict + p").get_text().startswith(
        ("Todavía no: el efecto está entre ", "Evidencia suficiente para actuar: "))
    text = _visible(soup)
    assert "La estimación, semana a semana" in text
    for english in ("Not yet", "Strong enough", "confidence sequence", "Spent to date",
                    "records have no outcome", "Generated"):
        assert english not in text, english
    head = soup.select_one("p.headline").get_text()
    assert head.startswith("ATE sobre ") and "secuencia de confianza al 95\xa0%" in head


def test_the_english_monitor_report_keeps_its_sentences(monitored):
    soup = BeautifulSoup(render_monitor_report(monitored), "html.parser")
    assert soup.select_one("p.headline").get_text() == monitored.headline()
    assert str(monitored.verdict).startswith(("Not yet: the effect is between ",
                                              "Strong enough to act: the program "))
    assert soup.find(string=re.compile("keep collecting|excludes zero"))


def test_evaluate_writes_the_report_in_spanish(pilot, tmp_path):
    out = tmp_path / "informe.html"
    shown = run_cli("evaluate", str(pilot.study("job-training-earnings").spec_path),
                    "--no-save", "-f", "html", "-o", str(out), "--lang", "es")
    assert shown.returncode == 0, shown.stderr
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert soup.html["lang"] == "es" and _english_elements(soup) == []
    bad = run_cli("evaluate", str(pilot.study("job-training-earnings").spec_path),
                  "--no-save", "-f", "html", "-o", str(out), "--lang", "fr")
    assert bad.returncode != 0 and "not a report language" in bad.stdout + bad.stderr
    terminal = run_cli("evaluate", str(pilot.study("job-training-earnings").spec_path),
                       "--no-save", "--lang", "es")
    assert terminal.returncode != 0
    assert "applies to the HTML report only" in terminal.stdout + terminal.stderr


def test_monitor_writes_the_report_in_spanish(tmp_path):
    out = tmp_path / "seguimiento.html"
    shown = run_cli("monitor", "--demo", "3", "-w", str(tmp_path / "ws"), "--no-save",
                    "-f", "html", "-o", str(out), "--lang", "es")
    assert shown.returncode == 0, shown.stderr
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert soup.html["lang"] == "es" and _english_elements(soup) == []


def test_scorecard_numbers_are_localised_once():
    """Regression: a ratio "0.842" showed as "0.842" in Spanish (and a rate of 2,690 as
    "2,690"): the scorecard rows were written in Spanish, then localised again by the page,
    which read the Spanish comma as an English thousands separator."""
    from upward.geo.resolve import GeoMatch
    from upward.measure.profile import MetricEntry, Profile
    from upward.report.charts import scorecard_table

    def entry(metric_id: str, unit: str, value: float, lb=None, ub=None) -> MetricEntry:
        return MetricEntry(metric_id, "X", "P", unit, "higher", value, lb, ub, None, "",
                           1, "2023", "urban", 0.5, 400)

    profile = Profile(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None, None,
                      [entry("a", "ratio", 0.842, 0.6012, 0.9013),
                       entry("b", "rate per 100,000", 2690.2),
                       entry("c", "dollars", 36700.0)], [], [], [], None, [])
    with use_language("es"):
        rows = {r["metric_id"]: r for r in scorecard_table(profile)}
        shown = {k: localise_numbers(r["value"]) for k, r in rows.items()}
        interval = localise_numbers(rows["a"]["interval"])
    assert shown == {"a": "0,842", "b": "2.690", "c": "36.700\xa0$"}
    assert interval == "0,601–0,901"
    english = {r["metric_id"]: r["value"] for r in scorecard_table(profile)}
    assert english == {"a": "0.842", "b": "2,690", "c": "$36,700"}


def test_the_spanish_web_scorecard_writes_ratios_with_a_comma():
    from fastapi.testclient import TestClient
    from tests.support.web import DEMO_PLACE, app_for, demo_workspace

    client = TestClient(app_for(demo_workspace()), raise_server_exceptions=False)
    soup = BeautifulSoup(client.get(f"/es/places/{DEMO_PLACE}").text, "html.parser")
    cells = {tr["data-key"]: tr.select("td")[0]
             for tr in soup.select("#table-scorecard tbody tr[data-key]")}
    ratios = [k for k in cells if k.startswith("ratio_") and cells[k].get("data-value")]
    assert ratios
    for key in ratios:
        value = float(cells[key]["data-value"])
        text = cells[key].get_text()
        if abs(value) < 10 and value != round(value):
            assert "," in text and "." not in text, (key, text)
