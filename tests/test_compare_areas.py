"""Compare places and custom areas together (#12) on the demo workspace with its districts and
replicate tables loaded: the SE of a district-minus-city difference against a direct
computation from the replicate files, the untested verdict of overlapping geographies without
replicates, and the command, API, page and downloads; the briefing's map."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run_cli

CITY, DISTRICT3, DISTRICT1 = "9900100", "area:districts:district-3", "area:districts:district-1"


@pytest.fixture(scope="module")
def ws(demo_module_copy):
    """The demo workspace with the demo districts and the demo replicate tables loaded."""
    from upward.warehouse.areas import add_areas
    from upward.warehouse.replicates import add_replicates

    ws = demo_module_copy
    add_replicates(ws, tables=None, state="99", from_dir=ws.root / "demo-data" / "replicates")
    add_areas(ws, "districts", ws.root / "demo-data" / "areas" / "demo_districts.geojson")
    return ws


@pytest.fixture(scope="module")
def client(ws):
    from fastapi.testclient import TestClient
    from tests.support.web import app_for

    return TestClient(app_for(ws))


def _raw_b17020(ws) -> pd.DataFrame:
    """The demo's B17020 replicate file as a plain frame (not through Upward's reader)."""
    path = next((ws.root / "demo-data" / "replicates").rglob("B17020_99.csv*"))
    with zipfile.ZipFile(path) as z:
        text = z.read(z.namelist()[0]).decode()
    df = pd.read_csv(io.StringIO(text), dtype={"GEOID": str})
    df["tract"] = df["GEOID"].str[-11:]
    return df


def _weights(ws, to_geo_id: str, kind: str) -> dict[str, float]:
    import duckdb

    with duckdb.connect(str(ws.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT from_geo_id, weight FROM crosswalks WHERE to_geo_id = ? AND "
                           "weight_kind = ?", [to_geo_id, kind]).fetchall()
    return {t: float(w) for t, w in rows}


def test_difference_se_of_a_district_inside_its_city_is_the_replicate_se(ws):
    """Poverty rate (B17020_002 / B17020_001), District 3 minus Demo City: the difference on
    the full sample and on each of the 80 replicates, computed here with numpy from the raw
    file, the district's area shares and the city's tracts (tract-to-place relationship);
    SE = √(4/80 · Σ (d_r − d₀)²) (Census, ACS design and methodology, ch. 12, successive
    difference replication). The independent-samples formula would be wrong here: the
    district's residents are in the city's sample too, which makes the true SE smaller."""
    from upward.measure.compare_areas import compare_geographies
    from upward.warehouse.store import Warehouse

    raw = _raw_b17020(ws)
    reps = [f"Var_Rep{r}" for r in range(1, 81)]

    def rate(weights: dict[str, float]) -> np.ndarray:
        def total(order: int) -> np.ndarray:
            rows = raw[(raw["ORDER"] == order) & raw["tract"].isin(weights)]
            w = rows["tract"].map(weights).to_numpy()[:, None]
            return (w * rows[["ESTIMATE", *reps]].to_numpy(dtype=float)).sum(axis=0)

        return total(2) / total(1)

    district = _weights(ws, DISTRICT3, "area_share")
    city = {t: 1.0 for t in _weights(ws, CITY, "population")}
    assert district and set(district) <= set(city)  # the district lies inside its city
    d = rate(district) - rate(city)
    expected_se = math.sqrt(4 / 80 * float(((d[1:] - d[0]) ** 2).sum()))

    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        result = compare_geographies(ws, wh, ["Demo City", "District 3"])
    row = next(r for r in result.rows if r.metric_id == "acs_poverty_rate")
    got = row.cells[1].difference
    assert got.estimate == pytest.approx(d[0], rel=1e-9)
    assert got.se == pytest.approx(expected_se, rel=1e-9)
    assert got.moe == pytest.approx(1.96 * expected_se, rel=1e-3)
    assert got.p_value is not None and got.q_value is not None
    independent = math.hypot(row.cells[0].se, row.cells[1].se)
    assert got.se < 0.9 * independent  # the overlap's covariance is taken into account
    assert any("District 3 lies inside Demo City (all 18 of its census tracts)" in w
               for w in result.warnings)


def test_overlapping_geographies_without_replicates_are_not_tested():
    """Tract estimates only (no replicate estimates of the difference): two geographies that
    share tracts get no test, with the reason; two disjoint ones are tested as independent."""
    from upward.geo.resolve import GeoMatch
    from upward.measure.compare import compare_profiles
    from upward.measure.compare_areas import OVERLAP_UNTESTED, Side, _differences
    from upward.measure.profile import MetricEntry, Profile

    def side(geo_id: str, level: str, value: float, tracts: list[str]) -> Side:
        entry = MetricEntry("acs_poverty_rate", "Poverty rate", "Rewarding Work", "share",
                            "lower", value, value - 0.02, value + 0.02, 0.01, "", 1,
                            "ACS 5-year", "acs-tracts", None, None)
        profile = Profile(GeoMatch(geo_id, level, geo_id, ""), None, None, [entry], [], [],
                          [], None, [])
        return Side(profile, level == "area", {t: 1.0 for t in tracts}, {})

    city = side("9900100", "place", 0.20, ["a", "b", "c", "d"])
    inside = side("area:x:inside", "area", 0.25, ["a", "b"])
    apart = side("area:x:apart", "area", 0.30, ["e", "f"])
    diffs, notes = _differences([city, inside, apart])
    assert diffs[("acs_poverty_rate", 1)].verdict == OVERLAP_UNTESTED
    assert diffs[("acs_poverty_rate", 1)].se is None
    assert ("acs_poverty_rate", 2) not in diffs  # left to the independent-samples test
    assert len(notes) == 1 and "lies inside" in notes[0] and "are not tested" in notes[0]
    result = compare_profiles([s.profile for s in (city, inside, apart)], differences=diffs)
    cells = result.rows[0].cells
    assert cells[1].difference.p_value is None
    assert cells[1].difference.verdict == OVERLAP_UNTESTED
    assert cells[2].difference.se == pytest.approx(math.hypot(0.01, 0.01))
    assert cells[2].difference.p_value is not None


def test_compare_command_mixes_places_and_areas(ws):
    done = run_cli("compare", "Demo City", "District 3", "District 1", "-f", "csv",
                   "-w", str(ws.root))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {r["geo_id"] for r in rows} == {CITY, DISTRICT3, DISTRICT1}
    poverty = {r["geo_id"]: r for r in rows if r["metric_id"] == "acs_poverty_rate"}
    assert poverty[CITY]["difference"] == ""  # the reference
    for geo in (DISTRICT3, DISTRICT1):
        r = poverty[geo]
        assert float(r["difference"]) == pytest.approx(float(r["estimate"])
                                                       - float(poverty[CITY]["estimate"]))
        assert 0 < float(r["difference_moe"]) < 0.05 and r["verdict"]
    table = run_cli("compare", "District 3", "Demo City", "-w", str(ws.root))
    assert table.returncode == 0, table.stderr
    words = " ".join(table.stdout.split())  # the terminal wraps the notes
    assert "Compared with District 3" in words
    assert "District 3 lies inside Demo City" in words
    as_json = run_cli("compare", "Demo City", "District 3", "-f", "json", "-w", str(ws.root))
    doc = json.loads(as_json.stdout)
    assert [p["geo_level"] for p in doc["places"]] == ["place", "area"]
    # a place outside the loaded ACS tables: said, not an empty column without a reason
    outside = run_cli("compare", "District 3", "Peerville 01", "-f", "json", "-w", str(ws.root))
    assert outside.returncode == 0, outside.stderr
    assert any("Peerville 01 has none of its census tracts in the loaded ACS tables" in w
               for w in json.loads(outside.stdout)["warnings"])
    wrong = run_cli("compare", "Demo City", "District 9", "-w", str(ws.root))
    assert wrong.returncode != 0
    assert "nor any custom area" in wrong.stderr and "upward areas list" in wrong.stderr


def test_compare_api_page_and_downloads_with_an_area(client):
    params = [("places", "Demo City"), ("places", "District 3")]
    api = client.get("/api/compare", params=params)
    assert api.status_code == 200, api.text
    doc = api.json()
    assert [p["geo_id"] for p in doc["places"]] == [CITY, DISTRICT3]
    page = client.get("/compare", params=params)
    assert page.status_code == 200
    assert "District 3" in page.text and "custom area" in page.text
    assert 'data-metric="acs_poverty_rate"' in page.text
    query = f"places={CITY}&places=area%3Adistricts%3Adistrict-3"
    assert f"/compare/table.csv?{query}" in page.text.replace("&amp;", "&")
    csv_text = client.get(f"/compare/table.csv?{query}")
    assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_text.text)))
    api_rows = {(r["metric_id"]): r for r in doc["rows"]}
    got = next(r for r in rows if r["metric_id"] == "acs_poverty_rate"
               and r["geo_id"] == DISTRICT3)
    cell = api_rows["acs_poverty_rate"]["cells"][1]
    assert float(got["estimate"]) == pytest.approx(cell["estimate"])
    assert float(got["difference_moe"]) == pytest.approx(cell["difference"]["moe"])
    xlsx = client.get(f"/compare/table.xlsx?{query}")
    assert xlsx.status_code == 200

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    notes = [" ".join(str(c) for c in row if c) for row in book.worksheets[-1].iter_rows(
        values_only=True)]
    assert len(book.worksheets) == 2
    assert any("replicate estimates of the difference" in n for n in notes)
    bad = client.get(f"/compare/table.pdf?{query}")
    assert bad.status_code == 422 and "xlsx" in bad.text
    one = client.get("/compare/table.csv", params={"places": "District 3"})
    assert one.status_code == 422
    # codes and area ids in one comma-separated value, as the API documents
    ids = client.get("/api/compare", params={"places": f"{CITY},{DISTRICT3}"})
    assert ids.status_code == 200 and ids.json()["rows"] == doc["rows"]
    unknown = client.get("/api/compare", params=[("places", "Demo City"), ("places", "District 9")])
    assert unknown.status_code == 404
    assert "nor any custom area" in unknown.json()["error"]["message"]
    twice = client.get("/compare", params=[("places", "District 3"), ("places", "District 3")])
    assert twice.status_code == 422 and "named twice" in twice.text
    assert '<form method="get" action="/compare"' in twice.text  # the form, to correct it


def test_brief_has_a_map_of_the_city_tracts(ws, tmp_path):
    """The briefing's map: one shape per tract of the city, in the units of the measure shown
    (an ACS stand-in for a barrier published for the whole city only), a legend, a caption,
    and the two Letter pages kept (also checked on the real data in
    tests/test_brief_report.py)."""
    out = tmp_path / "brief.html"
    done = run_cli("report", "Demo City", "--brief", "-o", str(out), "-w", str(ws.root))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    figure = html[html.index('<figure class="brief-map">'):]
    figure = figure[:figure.index("</figcaption></figure>")]
    shapes = figure.count("<path data-geo-id=")
    city = _weights(ws, CITY, "population")
    assert shapes == len(city)
    assert 'role="img"' in figure and "Map of " in figure
    assert "Outline (union of its tracts)" in figure and "The 3 lowest and 3 highest" in figure
    assert "(US dollars)" in figure or "%" in figure  # the colour bar's units
    assert "Darker tracts are worse" in figure
    # the map sits in "Where in the city", before the tract table
    where = html.index('id="brief-where"')
    assert where < html.index('class="brief-map"') < html.index("Tracts with the lowest")
    from upward.report.pdf import ChromiumError, find_chromium, html_to_pdf, pdf_page_count

    try:
        find_chromium()
    except ChromiumError as exc:  # no Chromium here: the HTML checks above still ran
        pytest.skip(f"no Chromium for the PDF: {exc}")
    pdf = html_to_pdf(out, tmp_path / "brief.pdf")
    assert 1 <= pdf_page_count(pdf) <= 2
