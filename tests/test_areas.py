"""Custom areas: allocation to tracts, storage, bad input, and an area's profile with exact
margins from the demo city's replicate tables."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from shapely.geometry import box
from tests.conftest import run_cli

from upward.core.errors import InputFileError, UpwardError
from upward.geo.areas import AreaError, allocate, summarise
from upward.warehouse.store import Warehouse


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    from upward.demo.generate import write_demo_files
    from upward.demo.replicates import write_demo_replicates
    from upward.warehouse.ingest import fetch
    from upward.warehouse.replicates import add_replicates
    from upward.warehouse.workspace import Workspace

    root = tmp_path_factory.mktemp("areas")
    ws = Workspace.init(root / "ws")
    folder = root / "demo-data"
    write_demo_files(folder)
    out = write_demo_replicates(folder)
    fetch(ws, ["tracts"], from_dir=folder)
    add_replicates(ws, tables=None, state="99", from_dir=folder / "replicates")
    # The districts are stored here, not by a test, so that every test may run alone or first.
    from upward.warehouse.areas import add_areas

    added = add_areas(ws, "districts", out.districts)
    return SimpleNamespace(root=ws.root, ws=ws, districts=out.districts, added=added)


def _counts(ws) -> dict:
    with Warehouse(ws.ws.warehouse_path, read_only=True) as wh:
        return wh.counts()


def test_allocation_by_area_share_on_known_shapes():
    tracts = {"99001000100": box(0, 0, 1, 1), "99001000200": box(1, 0, 2, 1),
              "99001000300": box(5, 5, 6, 6)}
    a = allocate({"A": box(0, 0, 1.25, 1), "B": box(1.25, 0, 2, 1)}, tracts)
    w = {(r.name, r.tract_geoid): r.weight for r in a.itertuples()}
    assert w[("A", "99001000100")] == 1.0
    assert w[("A", "99001000200")] == pytest.approx(0.25, abs=1e-3)
    assert w[("B", "99001000200")] == pytest.approx(0.75, abs=1e-3)
    assert ("B", "99001000100") not in w
    s = summarise(a).set_index("name")
    assert (s.loc["A", "full"], s.loc["A", "split"]) == (1, 1)
    with pytest.raises(AreaError, match="outside every loaded tract"):
        allocate({"far": box(50, 50, 51, 51)}, tracts)


def test_demo_districts_partition_the_city(ws):
    from upward.warehouse.areas import add_areas, area_tract_weights

    s = ws.added
    assert list(s.summary["name"]) == ["District 1", "District 2", "District 3"]
    total = s.allocation.groupby("tract_geoid")["weight"].sum()
    city = [g for g in total.index if int(g[5:9]) <= 60]
    assert len(city) == 60 and set(total.index) == set(city)  # no suburban ring tract
    np.testing.assert_allclose(total.to_numpy(), 1.0, atol=0.02)
    assert (s.summary["split"] > 0).all() and (s.summary["full"] > 0).all()
    # population allocated (demo B01003): the three districts share the city's people
    from upward.warehouse.replicates import load_replicates

    pop = load_replicates(ws.ws, ["B01003"])["B01003"].cells.set_index("geo_id")["estimate"]
    assert s.summary["population"].sum() == pytest.approx(pop[city].sum(), rel=0.02)
    assert (s.summary["population_share_of_touched"] < 1).all()
    w = area_tract_weights(ws.ws, "District 2")
    assert list(w.columns) == ["area_id", "tract_geoid", "weight"]
    assert set(w["area_id"]) == {"area:districts:district-2"}
    with pytest.raises(AreaError, match="already stored"):
        add_areas(ws.ws, "districts", ws.districts)


def _fc(features, crs=None) -> str:
    fc = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = crs
    return json.dumps(fc)


def _feature(coords, name="X"):
    return {"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [coords]}}


SQUARE = [[-95.05, 35.99], [-95.0, 35.99], [-95.0, 36.02], [-95.05, 36.02], [-95.05, 35.99]]


@pytest.mark.parametrize("content, message", [
    (_fc([]), "no features"),
    (_fc([_feature([[-95.05, 35.99], [-95.0, 36.02], [-95.0, 35.99], [-95.05, 36.02],
                    [-95.05, 35.99]])]), "not valid.*Self-intersection"),
    (_fc([_feature(SQUARE)], {"type": "name", "properties": {"name": "EPSG:3857"}}),
     "not longitude/latitude"),
    (_fc([_feature([[10, 10], [11, 10], [11, 11], [10, 10]])]), "outside every loaded tract"),
    (_fc([{"type": "Feature", "properties": {"id": 1}, "geometry": _feature(SQUARE)["geometry"]}]),
     "no name or NAME"),
    (_fc([_feature(SQUARE, "A"), _feature(SQUARE, "A")]), "two features are named 'A'"),
])
def test_bad_polygon_files_are_refused_and_nothing_changes(ws, tmp_path, content, message):
    from upward.warehouse.areas import add_areas

    path = tmp_path / "areas.geojson"
    path.write_text(content)
    before = _counts(ws)
    with pytest.raises(UpwardError, match=message):
        add_areas(ws.ws, "bad", path)
    assert _counts(ws) == before


def test_geoid_lists_with_weights_and_bad_ids(ws, tmp_path):
    from upward.warehouse.areas import add_areas, remove_areas

    good = tmp_path / "plan.csv"
    good.write_text("GEOID,area,weight\n99001000100,North plan,1\n99001000200,North plan,0.5\n"
                    "99001000300,South plan,\n")
    s = add_areas(ws.ws, "plans", good)
    assert dict(zip(s.allocation["tract_geoid"], s.allocation["weight"], strict=True)) == {
        "99001000100": 1.0, "99001000200": 0.5, "99001000300": 1.0}
    assert set(s.allocation["weight_kind"]) == {"listed"}
    before = _counts(ws)
    for text, msg in [("GEOID\n99001000100\n99009999900\n", r"row 3.*not loaded tracts"),
                      ("GEOID\n9900100010X\n", r"row 2, column 'GEOID'"),
                      ("GEOID,weight\n99001000100,1.5\n", r"weight '1.5'"),
                      ("tract_name\nA\n", "no GEOID column")]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(InputFileError, match=msg):
            add_areas(ws.ws, "bad", bad)
    assert _counts(ws) == before
    assert remove_areas(ws.ws, "plans") > 0
    with pytest.raises(AreaError, match="no area set"):
        remove_areas(ws.ws, "plans")


def test_area_profile_exact_margins_and_comparison(ws):
    from upward.estimate.aggregate import Recipe, exact_estimate
    from upward.measure.areas import area_profile
    from upward.metrics import get_metric
    from upward.warehouse.areas import area_tract_weights
    from upward.warehouse.replicates import load_replicates

    p = area_profile(ws.ws, "District 3")
    by_id = {m.metric_id: m for m in p.metrics}
    assert len(by_id) == 9 and not p.unavailable
    m = by_id["acs_poverty_rate"]
    assert m.estimate.method.startswith("exact")
    w = area_tract_weights(ws.ws, "District 3")
    weights = dict(zip(w["tract_geoid"], w["weight"], strict=True))
    recipe = Recipe.from_dict(get_metric("acs_poverty_rate").recipe)
    direct = exact_estimate(recipe, load_replicates(ws.ws), weights)
    assert m.estimate.estimate == pytest.approx(direct.estimate)
    assert m.estimate.se == pytest.approx(direct.se)
    assert set(m.others) == {"District 1", "District 2"}
    assert m.difference_se > 0 and 0 <= m.p_value <= 1 and m.q_value >= m.p_value
    # the east side is poorer (demo generator): District 3 is behind on poverty
    assert m.behind is True
    assert by_id["acs_children_in_poverty"].difference is None  # counts are not compared
    frame = p.to_frame()
    assert {"estimate", "moe", "se", "cv", "reliability", "method"} <= set(frame.columns)
    assert json.loads(p.to_json())["metrics"][0]["estimate"]["moe"] > 0


def test_cli_areas_and_area_profile(ws):
    r = run_cli("areas", "list", "-w", str(ws.root))
    assert r.returncode == 0 and "District 3" in r.stdout
    r = run_cli("areas", "show", "District 1", "--csv", "-w", str(ws.root))
    assert r.returncode == 0 and r.stdout.startswith("area_id,name,tract_geoid,weight")
    r = run_cli("profile", "District 3", "--format", "csv", "-w", str(ws.root))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("metric_id,label,estimate,moe,se,cv,reliability")
    r = run_cli("barriers", "District 3", "--format", "json", "-w", str(ws.root))
    assert r.returncode == 0 and json.loads(r.stdout)["name"] == "District 3"
    r = run_cli("areas", "add", "x", str(ws.root / "nope.geojson"), "-w", str(ws.root))
    assert r.returncode != 0 and "no file" in r.stderr and "Traceback" not in r.stderr


def test_without_replicate_tables_an_area_uses_the_handbook_approximation(tmp_path,
                                                                          monkeypatch):
    """ACS tract tables fetched through the API connector (a local stand-in serving the demo
    county's B17020 estimates and margins) give the same district estimate as the replicate
    path, with the handbook's approximate margin, and say so."""
    from tests.support.census_server import FakeCensus, serve_census

    from upward.demo.generate import write_demo_files
    from upward.demo.replicates import write_demo_replicates
    from upward.estimate.aggregate import Recipe, exact_estimate
    from upward.measure.areas import area_profile
    from upward.metrics import get_metric
    from upward.sources.replicates import read_replicates
    from upward.warehouse.areas import add_areas, area_tract_weights
    from upward.warehouse.census import fetch_acs
    from upward.warehouse.ingest import fetch
    from upward.warehouse.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    folder = tmp_path / "demo-data"
    write_demo_files(folder)
    out = write_demo_replicates(folder)
    fetch(ws, ["tracts"], from_dir=folder)
    b17020 = read_replicates(next(p for p in out.files if p.name.startswith("B17020")))
    data: dict = {}
    for r in b17020.cells.itertuples():
        _, values = data.setdefault(r.geo_id, (r.name, {}))
        values[f"{r.variable}E"] = f"{r.estimate:.0f}"
        values[f"{r.variable}M"] = f"{r.moe:.0f}"
    fake = FakeCensus()
    fake.add_table(2023, "acs/acs5", "B17020",
                   {f"B17020_{k:03d}": f"line {k}" for k in range(1, 18)}, "tract", data)
    with serve_census(fake) as server:
        monkeypatch.setenv("UPWARD_CENSUS_API_URL", server.base_url)
        fetch_acs(ws, "B17020", geo="tract", state="99", county="001")
    add_areas(ws, "districts", out.districts)
    p = area_profile(ws, "District 2")
    m = {x.metric_id: x for x in p.metrics}["acs_poverty_rate"]
    assert m.estimate.method.startswith("approximation: proportion")
    assert "acs_median_household_income" in p.unavailable
    w = area_tract_weights(ws, "District 2")
    exact = exact_estimate(Recipe.from_dict(get_metric("acs_poverty_rate").recipe),
                           {"B17020": b17020}, dict(zip(w.tract_geoid, w.weight, strict=True)))
    assert m.estimate.estimate == pytest.approx(exact.estimate, rel=1e-9)
    assert m.estimate.se < exact.se  # covariances ignored: the approximation is too narrow here


def test_web_area_page_api_map_and_download(ws):
    from fastapi.testclient import TestClient

    from upward.web.app import create_app

    with TestClient(create_app(ws.ws)) as client:
        listed = client.get("/api/areas").json()
        assert {a["name"] for a in listed} >= {"District 1", "District 2", "District 3"}
        aid = "area:districts:district-3"
        profile = client.get(f"/api/areas/{aid}").json()
        assert profile["name"] == "District 3" and profile["metrics"][0]["estimate"]["moe"] > 0
        page = client.get(f"/areas/{aid}?metric=acs_broadband")
        assert page.status_code == 200
        assert "± MOE (90%)" in page.text and 'id="area-map"' in page.text
        assert "exact (replicates)" in page.text
        csv = client.get(f"/areas/{aid}/table.csv")
        assert csv.status_code == 200 and csv.text.startswith("metric_id,label,estimate,moe,se")
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(client.get(f"/areas/{aid}/table.xlsx").content))
        header = [c.value for c in book["data"][1]]
        assert header[:5] == ["metric_id", "label", "estimate", "moe", "se"]
        assert book["data"].max_row == len(profile["metrics"]) + 1
        assert "margin of error" in book["notes"]["B2"].value
        gj = client.get(f"/api/areas/{aid}/geometry").json()
        assert len(gj["features"]) == 3 and sum(f["properties"]["selected"]
                                                for f in gj["features"]) == 1
        assert client.get("/api/areas/area:districts:nowhere").status_code == 404


def test_area_map_names_are_readable_on_their_fills(ws):
    """Each district's name on the area map contrasts with its own Viridis fill: white on the
    dark end of the scale, ink on the light end (dark names on dark fills were unreadable)."""
    from upward.measure.areas import area_profile
    from upward.report.area import INK, ON_DARK, area_map
    from upward.warehouse.areas import area_geojson

    profile = area_profile(ws.ws, "District 3")
    metric = next(m for m in profile.metrics if m.metric_id == "acs_poverty_rate")
    fig = area_map(profile, metric, area_geojson(ws.ws, profile.area_id))
    choropleth, labels = fig.data[0], fig.data[1]
    colours = dict(zip(labels.text, labels.textfont.color, strict=True))
    by_value = sorted(zip(choropleth.z, choropleth.text, strict=True))
    # poverty: lower is better, so the scale is reversed and the highest rate is darkest
    assert colours[by_value[-1][1]] == ON_DARK and colours[by_value[0][1]] == INK


def test_area_report_summary_table_and_map(ws, tmp_path):
    """`upward report "District 3"` writes the area's report: summary sentences that agree
    with the profile, every measure with its margin, and a map of the set with the area
    outlined, each area named, and darker meaning worse."""
    import re

    from upward.measure.areas import area_profile
    from upward.report.area import summary_sentences

    out = tmp_path / "d3.html"
    r = run_cli("report", "District 3", "-o", str(out), "-w", str(ws.root))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    p = area_profile(ws.ws, "District 3")
    behind = [m for m in p.metrics if m.behind]
    assert behind  # the demo's District 3 is planted behind the rest of the city
    for sentence in summary_sentences(p):
        assert sentence.replace("'", "&#39;") in html
    summary = " ".join(summary_sentences(p))
    assert all(m.label.lower()[1:] in summary.lower() for m in behind)
    assert html.count('<th scope="row">') >= len(p.metrics)
    paths = re.findall(r'<path data-geo-id="(area:[^"]+)"[^>]*stroke-width="([\d.]+)"', html)
    assert {g for g, _ in paths} == {"area:districts:district-1", "area:districts:district-2",
                                     "area:districts:district-3"}
    assert dict(paths)["area:districts:district-3"] == "3"
    assert all(f">District {n}</text>" in html for n in (1, 2, 3))
    # Poverty (lower is better): the poorest district is drawn darkest.
    fills = dict(re.findall(r'data-geo-id="(area:[^"]+)" d="[^"]*" fill="([^"]+)"', html))
    poverty = next(m for m in p.metrics if m.metric_id == "acs_poverty_rate")
    values = {p.area_id: poverty.estimate.estimate, **{
        f"area:districts:{n.lower().replace(' ', '-')}": v for n, v in poverty.others.items()}}

    def lightness(colour: str) -> float:
        colour = colour.lstrip("#")
        return sum(int(colour[i:i + 2], 16) for i in (0, 2, 4))

    poorest = max(values, key=values.get)
    assert lightness(fills[poorest]) == min(lightness(c) for c in fills.values())


def test_area_api_on_an_empty_workspace_reveals_no_path(tmp_path):
    """#14.9 (found by Schemathesis): /api/areas and an area's geometry on a workspace with no
    warehouse answered 400 with the server's file path; they answer empty."""
    from fastapi.testclient import TestClient

    from upward.warehouse.workspace import Workspace
    from upward.web.app import create_app

    client = TestClient(create_app(Workspace.init(tmp_path / "ws")))
    listed = client.get("/api/areas")
    assert listed.status_code == 200 and listed.json() == []
    shapes = client.get("/api/areas/area:x:y/geometry")
    assert shapes.status_code == 200 and shapes.json()["features"] == []
    missing = client.get("/api/areas/area:x:y")
    assert missing.status_code == 404 and str(tmp_path) not in missing.text


def test_area_report_in_spanish(ws, tmp_path):
    """`upward report "District 3" --lang es`: the summary sentences, headings and table words
    are Spanish, numbers in Spanish notation, and the map keeps its labelled areas."""
    from upward.measure.areas import area_profile
    from upward.report.area import summary_sentences
    from upward.report.i18n import use_language

    out = tmp_path / "d3-es.html"
    r = run_cli("report", "District 3", "--lang", "es", "-o", str(out), "-w", str(ws.root))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert '<html lang="es">' in html
    assert '<h2 id="measures">Medidas</h2>' in html and "Cómo se obtuvieron estas cifras" in html
    p = area_profile(ws.ws, "District 3")
    with use_language("es"):
        sentences = summary_sentences(p)
    assert sentences[0].startswith("District 3 abarca ")
    assert any("rezagada respecto al resto de" in s for s in sentences)
    for sentence in sentences:
        assert sentence.replace("'", "&#39;") in html
    assert "American Community Survey measure" not in html and "significantly" not in html
    assert all(f">District {n}</text>" in html for n in (1, 2, 3))
