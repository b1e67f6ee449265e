"""Downloads, embeds and readable maps through the app (FastAPI TestClient, demo workspace):

- every table of the place pages downloads as CSV, JSON and Excel with the same rows; the Excel
  workbook has a notes sheet (sources, field meanings, intervals, definitions); cells that a
  spreadsheet would run as a formula are neutralised in CSV and Excel;
- the map downloads as GeoJSON (the tract shapes with their values);
- every chart and map has an embed page, drawn on demand, that other sites may frame (and only
  it), with copy-ready embed code that works without JavaScript;
- the tract map draws the place's outline (the union of its tracts), hatching for tracts
  without an estimate (a legend entry, not a colour of the scale) and labelled tracts.
"""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from shapely.geometry import shape
from tests.support.web import DEMO_PLACE, app_for, demo_workspace

from upward.report.mapping import hatch_lines, outline, overlays
from upward.web.tables import PLACE_TABLES, Column, TableData

METRIC = "pctl_income_50"


@pytest.fixture(scope="module")
def demo():
    return TestClient(app_for(demo_workspace()), raise_server_exceptions=False)


def _url(name: str, fmt: str) -> str:
    query = f"?metric={METRIC}" if PLACE_TABLES[name].needs_metric else (
        "?metric=kfr_dollars_p25" if name == "tracts" else "")
    return f"/places/{DEMO_PLACE}/tables/{name}.{fmt}{query}"


@pytest.mark.parametrize("name", sorted(PLACE_TABLES))
def test_every_place_table_downloads_as_csv_json_and_excel(demo, name):
    as_json = demo.get(_url(name, "json")).json()
    rows = list(csv.DictReader(io.StringIO(demo.get(_url(name, "csv")).text)))
    response = demo.get(_url(name, "xlsx"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert '.xlsx"' in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    data = list(book["data"].values)
    assert list(data[0]) == as_json["fields"]
    assert len(data) - 1 == len(as_json["rows"]) == len(rows)
    for cells, row in zip(data[1:], as_json["rows"], strict=True):
        for field, cell in zip(as_json["fields"], cells, strict=True):
            value = row[field]
            if isinstance(value, float):
                assert cell == pytest.approx(value), (field, cell, value)
            elif value == "":
                assert cell in (None, ""), (field, cell)  # an empty text is an empty cell
            elif value is not None and not isinstance(value, list | dict):
                assert str(cell).lstrip("'") == str(value).lstrip("'"), (field, cell, value)
    notes = dict(book["notes"].values)
    assert notes["Table"] == as_json["caption"]
    assert "95% interval" in notes["Intervals"]
    assert any(k.startswith("Source: ") for k in notes), "the sources of the place's numbers"
    if "estimate" in as_json["fields"]:
        assert "published value" in notes["estimate"]
    if PLACE_TABLES[name].needs_metric:
        assert any(k.startswith("Definition: ") for k in notes)
    for sheet in book.worksheets:
        assert not [c.coordinate for r in sheet.iter_rows() for c in r if c.data_type == "f"]


def test_the_notes_sheet_is_spanish_under_es(demo):
    book = openpyxl.load_workbook(io.BytesIO(demo.get("/es" + _url("scorecard", "xlsx")).content))
    notes = dict(book["notes"].values)
    assert notes["Tabla"].startswith("Cuadro de indicadores") and "Intervalos" in notes


@pytest.mark.parametrize("bad", ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)",
                                 "=1+2"])
def test_formula_cells_are_neutralised_in_csv_and_excel(bad):
    table = TableData("t", "c", [Column("name", "Name"), Column("n", "N", "number")],
                      [{"name": bad, "n": -3.5}, {"name": "Tulsa", "n": 2}])
    first = next(csv.DictReader(io.StringIO(table.to_csv())))
    assert first["name"] == "'" + bad and first["n"] == "-3.5"
    sheet = openpyxl.load_workbook(io.BytesIO(table.to_xlsx([("note", bad)])))
    cell = sheet["data"]["A2"]
    assert cell.data_type == "s" and cell.value == "'" + bad
    assert sheet["data"]["B2"].value == -3.5
    assert sheet["notes"]["B1"].value == "'" + bad and sheet["notes"]["B1"].data_type == "s"


def test_the_map_downloads_as_geojson(demo):
    response = demo.get(_url("tracts", "geojson"))
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "application/geo+json")
    collection = json.loads(response.content)
    api = demo.get(f"/api/places/{DEMO_PLACE}/tracts?metric=kfr_dollars_p25").json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == api["n_mapped"] > 0
    values = {r["geo_id"]: r["estimate"] for r in demo.get(_url("tracts", "json")).json()["rows"]}
    for f in collection["features"]:
        assert shape(f["geometry"]).is_valid
        assert f["properties"]["estimate"] == values[f["id"]]
        assert f["properties"]["metric_id"] == "kfr_dollars_p25"
    assert collection["metric"]["unit"] == "dollars"
    page = BeautifulSoup(demo.get(f"/places/{DEMO_PLACE}/map").text, "html.parser")
    assert page.find("a", href=_url("tracts", "geojson"))
    other = demo.get(f"/places/{DEMO_PLACE}/tables/scorecard.geojson")
    assert other.status_code == 422 and "tract" in other.text


EMBEDS = [f"/embed/places/{DEMO_PLACE}/metrics/{METRIC}/{c}" for c in ("trend", "peers",
                                                                        "nation")] + [
    f"/embed/places/{DEMO_PLACE}/map?metric=kfr_dollars_p25"]


def test_embed_pages_draw_on_demand_and_only_they_may_be_framed():
    # a fresh app: nothing of the place has been drawn before the embed address is asked for
    from upward.web.app import create_app

    client = TestClient(create_app(demo_workspace()))
    for url in EMBEDS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-security-policy"] == "frame-ancestors *"
        assert "x-frame-options" not in response.headers
        soup = BeautifulSoup(response.text, "html.parser")
        assert soup.select_one(".js-plotly-plot, div[id]") is not None
        assert soup.select_one("header.site") is None, "no site chrome in an embed"
        assert soup.select_one("details.alternative table"), "the chart's table"
        assert soup.find("a", target="_blank")["href"].startswith("http")
    page = client.get(f"/places/{DEMO_PLACE}")
    assert page.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    bad = client.get(f"/embed/places/{DEMO_PLACE}/metrics/{METRIC}/pie")
    assert bad.status_code == 422


def test_metric_and_map_pages_offer_embed_code_without_javascript(demo):
    for page, n in ((f"/places/{DEMO_PLACE}/metrics/{METRIC}", 3),
                    (f"/places/{DEMO_PLACE}/map", 1)):
        soup = BeautifulSoup(demo.get(page).text, "html.parser")
        codes = soup.select("details.embed textarea.embed-code")
        assert len(codes) == n
        for code in codes:
            assert code.has_attr("readonly") and soup.find("label", attrs={"for": code["id"]})
            iframe = BeautifulSoup(code.get_text(), "html.parser").iframe
            assert iframe["src"].startswith("http://testserver/embed/places/")
            assert iframe["title"]
            assert demo.get(iframe["src"].replace("http://testserver", "")).status_code == 200
    spanish = BeautifulSoup(demo.get(f"/es/places/{DEMO_PLACE}/map").text, "html.parser")
    src = BeautifulSoup(spanish.select_one("textarea.embed-code").get_text(),
                        "html.parser").iframe["src"]
    assert src.startswith("http://testserver/es/embed/places/")


def test_two_squares_have_one_outline_and_hatching_stays_inside():
    left = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    right = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
    lon, lat = outline([left, right])
    assert lon.count(None) == 1, "one ring: the shared edge is not drawn"
    ring = [(x, y) for x, y in zip(lon, lat, strict=True) if x is not None]
    assert {(0, 0), (2, 0), (2, 1), (0, 1)} <= set(ring) and (1, 0.5) not in ring
    lon, lat = hatch_lines([left], spacing=0.1)
    points = [(x, y) for x, y in zip(lon, lat, strict=True) if x is not None]
    assert len(points) > 20 and all(-1e-9 <= x <= 1 + 1e-9 and -1e-9 <= y <= 1 + 1e-9
                                    for x, y in points)


def test_the_map_has_an_outline_hatched_no_data_and_labels():
    import pandas as pd

    squares = [{"type": "Feature", "id": f"4014300{i:02d}00", "geometry": {
        "type": "Polygon", "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]]}}
        for i in range(8)]
    values = pd.DataFrame({"geo_id": [f["id"] for f in squares],
                           "name": [f"Census Tract {i} — Place {i}, Tulsa, OK" for i in range(8)],
                           "estimate": [10.0, 20, 30, None, 50, 60, 70, 80]})
    traces = overlays({"type": "FeatureCollection", "features": squares}, values, str)
    names = [t.name for t in traces]
    assert names == ["No estimate (hatched)", "Outline (union of its tracts)",
                     "The 3 lowest and 3 highest tracts"]
    assert all(t.showlegend for t in traces)
    labels = list(traces[-1].text)
    assert labels == ["Place 0", "Place 1", "Place 2", "Place 5", "Place 6", "Place 7"]
    hatch = traces[0]
    xs = [x for x in hatch.lon if x is not None]
    assert xs and all(3 - 1e-9 <= x <= 4 + 1e-9 for x in xs), "hatching only the no-data tract"


def test_the_map_page_figure_carries_the_overlays(demo):
    html = demo.get(f"/places/{DEMO_PLACE}/map").text
    assert "Outline (union of its tracts)" in html and "scattergeo" in html
    assert "US dollars" in html, "the legend is in the metric's unit"
