"""The server-rendered pages through the app (FastAPI TestClient): every page type answers for
the ten cities and the demo place, shows the numbers of the profile and the API, links each
table to CSV and JSON downloads that hold the same rows, works without JavaScript (plain GET
forms, tables for every chart), loads nothing from another host, and answers bad input with a
page that says what to do.
"""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from tests.conftest import TEN_CITIES, needs_data
from tests.support.web import DEMO_PLACE, app_for, demo_workspace

TULSA, ROCHESTER = "4075000", "3663000"


@pytest.fixture(scope="module")
def real(real_workspace):
    return TestClient(app_for(real_workspace), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def demo():
    return TestClient(app_for(demo_workspace()), raise_server_exceptions=False)


def _page(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == status, (url, response.text[:500])
    assert "text/html" in response.headers["content-type"]
    assert "Traceback" not in response.text
    return BeautifulSoup(response.text, "html.parser")


def _assert_well_formed(soup: BeautifulSoup) -> None:
    """Landmarks, a skip link, one h1, labelled inputs, and nothing from another host."""
    assert soup.html["lang"] == "en"
    skip = soup.select_one("a.skip-link")
    assert skip["href"] == "#main" and soup.select_one("main#main")
    assert len(soup.find_all("h1")) == 1
    for field in soup.select("input:not([type=hidden]), select"):
        assert soup.select_one(f"label[for='{field['id']}']"), field
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src")):
        for el in soup.find_all(tag):
            if el.get(attr):
                assert el[attr].startswith("/"), el
    for table in soup.find_all("table"):
        assert table.find("caption"), table.get("id")
        assert table.find("th", attrs={"scope": "col"})


def _download_links(soup: BeautifulSoup) -> list[str]:
    return [a["href"] for a in soup.select("p.downloads a")]


def _csv(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


# -- the ten cities and the demo place ---------------------------------------------------------
@needs_data
@pytest.mark.parametrize(("typed", "geo_id"), sorted(TEN_CITIES.items()))
def test_ten_cities_search_overview_and_map(real, typed, geo_id):
    response = real.get("/places", params={"q": typed}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/places/{geo_id}"
    overview = _page(real, f"/places/{geo_id}")
    _assert_well_formed(overview)
    profile = real.get(f"/api/places/{geo_id}/profile").json()
    rows = overview.select("#table-scorecard tr[data-key]")
    assert [r["data-key"] for r in rows] == [m["metric_id"] for m in profile["metrics"]]
    for row, entry in zip(rows, profile["metrics"], strict=True):
        assert float(row.select("td[data-value]")[0]["data-value"]) == entry["estimate"]
    shown = _page(real, f"/places/{geo_id}/map")
    _assert_well_formed(shown)
    tracts = real.get(f"/api/places/{geo_id}/tracts").json()
    assert bool(shown.select_one("#tract-map")) == (tracts["n_mapped"] > 0)
    assert len(shown.select("details.alternative tbody tr")) == tracts["n_tracts"]


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("geo_id", sorted(TEN_CITIES.values()))
def test_ten_cities_barriers(real, geo_id):
    page = _page(real, f"/places/{geo_id}/barriers")
    _assert_well_formed(page)
    report = real.get(f"/api/places/{geo_id}/barriers").json()
    sentences = [li.get_text(" ", strip=True) for li in page.select("ol.findings li")]
    assert len(sentences) == len(report["findings"])
    for finding in report["findings"]:
        assert any(s.startswith(finding["sentence"]) for s in sentences)
    peers = page.select("#table-peer_group tr[data-key]")
    assert [p["data-key"] for p in peers] == [p["geo_id"] for p in report["peers"]["peers"]]


def _assert_synthetic(page: BeautifulSoup) -> None:
    _assert_well_formed(page)
    assert "SYNTHETIC DATA" in page.select_one("p.synthetic").get_text()


@pytest.mark.slow
def test_demo_barriers_page(demo):
    """Slow only on first use in a process: esda compiles its local Moran kernels (numba)."""
    page = _page(demo, f"/places/{DEMO_PLACE}/barriers")
    _assert_synthetic(page)
    report = demo.get(f"/api/places/{DEMO_PLACE}/barriers").json()
    assert len(page.select("ol.findings li")) == len(report["findings"])
    assert len(page.select("#table-lowest_tracts tr[data-key]")) == len(
        report["neighbourhoods"]["lowest_tracts"])


def test_demo_place_pages(demo):
    for url in (f"/places/{DEMO_PLACE}", f"/places/{DEMO_PLACE}/map",
                f"/places/{DEMO_PLACE}/metrics/share_employed"):
        _assert_synthetic(_page(demo, url))
    tracts = demo.get(f"/api/places/{DEMO_PLACE}/tracts").json()
    page = _page(demo, f"/places/{DEMO_PLACE}/map?metric=kfr_top20_p25")
    assert page.select_one("#metric option[selected]")["value"] == "kfr_top20_p25"
    assert page.select_one("#tract-map") and tracts["n_mapped"] > 0


# -- the page types ---------------------------------------------------------------------------
@needs_data
def test_home_lists_every_city_and_searches_without_javascript(real):
    page = _page(real, "/")
    _assert_well_formed(page)
    form = page.select_one("form#search-form")
    assert form["action"] == "/places" and form["method"] == "get"
    assert form.select_one("input#q")["name"] == "q"
    links = {a["href"] for a in page.select(".states li a")}
    total = real.get("/api/places", params={"limit": 1}).json()["total"]
    assert len(links) == total == 486
    assert f"/places/{TULSA}" in links
    assert len(_csv(real, "/tables/places.csv?level=place")) == total
    counties = _csv(real, "/tables/places.csv?level=county")
    assert len(counties) > 3000 and {"geo_id", "name", "state"} <= set(counties[0])


@needs_data
def test_state_page_lists_cities_and_counties(real):
    page = _page(real, "/states/ok")
    _assert_well_formed(page)
    assert TULSA in [r["data-key"] for r in page.select("#table-places tr[data-key]")]
    assert len(page.select("table")) == 2


@needs_data
def test_overview_tables_download_as_csv_and_json(real):
    page = _page(real, f"/places/{TULSA}")
    links = _download_links(page)
    assert f"/places/{TULSA}/tables/scorecard.csv" in links
    profile = real.get(f"/api/places/{TULSA}/profile").json()
    rows = _csv(real, f"/places/{TULSA}/tables/scorecard.csv")
    assert [r["metric_id"] for r in rows] == [m["metric_id"] for m in profile["metrics"]]
    assert [float(r["estimate"]) for r in rows] == [m["estimate"] for m in profile["metrics"]]
    for link in links:
        if link.endswith(".json"):
            body = real.get(link).json()
            table = page.select_one(f"#table-{body['table']}")
            if table is not None:
                assert len(body["rows"]) == len(table.select("tbody tr:not(.group)"))


@needs_data
def test_metric_page_has_definition_charts_and_their_tables(real):
    page = _page(real, f"/places/{TULSA}/metrics/pctl_income_50")
    _assert_well_formed(page)
    text = page.get_text(" ", strip=True)
    assert "Household income at the 50th percentile" in text
    assert "Urban Institute" in text
    for chart in ("trend-chart", "peer-chart", "distribution-chart"):
        assert page.select_one(f"#{chart}"), chart
    assert len(page.select("details.alternative table")) == 3
    series = _csv(real, f"/places/{TULSA}/tables/series.csv?metric=pctl_income_50")
    latest = [r for r in series if r["period"] == "2023"]
    value = float(page.select_one("span.big")["data-value"])
    assert value in [float(r["estimate"]) for r in latest]
    nation = _csv(real, f"/places/{TULSA}/tables/distribution.csv?metric=pctl_income_50")
    assert len(nation) == 486
    assert [r["geo_id"] for r in nation if float(r["estimate"]) < value]  # not the lowest


@needs_data
@pytest.mark.parametrize("geo_id", [ROCHESTER, "36055"])  # the city and Monroe County, NY
def test_map_without_shapes_says_so_and_keeps_the_table(real, geo_id):
    page = _page(real, f"/places/{geo_id}/map")
    assert page.select_one("#tract-map") is None
    notice = page.select_one("#no-geometry").get_text(" ", strip=True)
    assert "No tract boundaries are loaded" in notice and "New York" in notice
    rows = _csv(real, f"/places/{geo_id}/tables/tracts.csv")
    assert len(rows) == len(page.select("details.alternative tbody tr")) > 100
    assert all(r["has_geometry"] == "False" for r in rows)


def test_catalog_metric_and_api_reference_pages(demo):
    catalog = _page(demo, "/metrics")
    _assert_well_formed(catalog)
    from upward.metrics import all_metrics

    assert len(catalog.select("#table-metrics tr[data-key]")) == len(all_metrics())
    assert len(_csv(demo, "/tables/metrics.csv")) == len(all_metrics())
    _assert_well_formed(_page(demo, "/metrics/kfr_p25"))
    docs = _page(demo, "/docs")
    _assert_well_formed(docs)
    assert docs.find("script") is None
    assert "/api/places/{geo_id}/tracts" in docs.get_text()


# -- bad input ------------------------------------------------------------------------------------
@needs_data
def test_unknown_place_page_suggests_the_closest_names(real):
    page = _page(real, "/places?q=Tusla", status=404)
    _assert_well_formed(page)
    assert f"/places/{TULSA}" in [a["href"] for a in page.select("ul.suggestions a")]
    page = _page(real, "/places/Tusla", status=404)
    assert f"/places/{TULSA}" in [a["href"] for a in page.select("ul.suggestions a")]
    json_error = real.get("/places/Tusla", headers={"Accept": "application/json"})
    assert json_error.status_code == 404
    assert TULSA in [s["geo_id"] for s in json_error.json()["error"]["suggestions"]]


@needs_data
def test_an_ambiguous_name_offers_a_choice_and_a_name_redirects(real):
    page = _page(real, "/places?q=Rochester")
    assert {a["href"] for a in page.select("ul.suggestions a")} == {"/places/2754880",
                                                                   f"/places/{ROCHESTER}"}
    response = real.get("/places/tulsa ok/map?metric=kir_p25", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"/places/{TULSA}/map?metric=kir_p25"


@pytest.mark.parametrize(("url", "status", "words"), [
    (f"/places/{DEMO_PLACE}/map?metric=share_employed", 422, "'metric'"),
    (f"/places/{DEMO_PLACE}/metrics/share_employd", 404, "share_employed"),
    (f"/places/{DEMO_PLACE}/tables/scorecard.parquet", 422, "'format'"),
    (f"/places/{DEMO_PLACE}/tables/nothing.csv", 422, "'table'"),
    (f"/places/{DEMO_PLACE}/tables/series.csv", 422, "'metric'"),
    ("/places/9999999", 404, "9999999"),
    ("/states/Atlantis", 422, "'state'"),
    ("/no/such/page", 404, "no page at /no/such/page"),
])
def test_bad_input_pages_say_what_is_wrong(demo, url, status, words):
    page = _page(demo, url, status=status)
    _assert_well_formed(page)
    assert words in page.get_text(" ", strip=True)
    assert "What to do" in page.get_text()


def test_empty_workspace_home_says_how_to_load_data(tmp_path):
    from upward.warehouse.workspace import Workspace
    from upward.web.app import create_app

    client = TestClient(create_app(Workspace.init(tmp_path / "ws")),
                        raise_server_exceptions=False)
    page = _page(client, "/")
    assert "No data loaded yet" in page.get_text() and "upward demo" in page.get_text()
    assert client.get("/places/4075000").status_code == 404


def test_serve_command_is_registered():
    from typer.testing import CliRunner

    from upward.cli.main import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
    assert "--workspace" in result.output


def test_serve_refuses_a_folder_that_is_not_a_workspace(tmp_path, monkeypatch, capsys):
    import sys

    from upward.cli.main import main

    monkeypatch.setattr(sys, "argv", ["upward", "serve", "--workspace", str(tmp_path / "no")])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code != 0
    err = capsys.readouterr().err
    assert "not an Upward workspace" in err and "Traceback" not in err


@pytest.mark.slow
def test_demo_serve_generates_the_city_and_serves_it(tmp_path):
    """`upward demo --serve` builds the demo workspace, then serves it: its place page, its
    evidence page and the API answer over real HTTP."""
    import os
    import subprocess
    import sys
    import time

    import httpx
    from tests.support.web import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "upward", "demo", "--serve", "--port", str(port),
         "-w", str(tmp_path / "demo"), "--format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        while True:  # until it serves or exits (a hang is ended by pytest-timeout)
            assert proc.poll() is None, "upward demo --serve exited before serving"
            try:
                if httpx.get(f"{base}/api/places?q=Demo", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        place = httpx.get(f"{base}/places/{DEMO_PLACE}", timeout=60)
        assert place.status_code == 200 and "Demo City" in place.text
        evidence = httpx.get(f"{base}/evidence", timeout=60)
        assert evidence.status_code == 200 and "SYNTHETIC" in evidence.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
