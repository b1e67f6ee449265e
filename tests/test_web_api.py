"""The JSON API against the publishers' own files (read here with the csv and json modules,
not through Upward), the report schemas in docs/, and the error contract.

Published figures used: the Urban Institute's place file (mobility-metrics_place_longitudinal,
2025 release) for Tulsa's median household income in 2023, and the Opportunity Atlas tract
file (tract_kfr_rP_gP_p25, "Household_Income_at_Age_35_rP_gP_p25") for Tulsa's tracts, with the
Census Bureau's 2018 cartographic tract boundaries (cb_2018_40_tract_500k) for their shapes.
"""

from __future__ import annotations

import csv
import json
import threading

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient
from tests.conftest import DATA, REPO, TEN_CITIES, needs_data
from tests.support.web import DEMO_PLACE, app_for, demo_workspace, live_server

from upward.measure.profile import build_profile
from upward.warehouse.store import Warehouse
from upward.web.app import create_app, plotly_bundle

TULSA = "4075000"


@pytest.fixture(scope="module")
def real(real_workspace):
    return TestClient(app_for(real_workspace), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def demo():
    return TestClient(app_for(demo_workspace()), raise_server_exceptions=False)


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


# -- places -----------------------------------------------------------------------------------
@needs_data
def test_search_puts_the_city_first_then_its_county(real):
    results = real.get("/api/places", params={"q": "Tulsa"}).json()["results"]
    assert [r["geo_id"] for r in results[:2]] == [TULSA, "40143"]
    assert results[0]["url"] == f"/places/{TULSA}"
    narrowed = real.get("/api/places", params={"q": "tulsa ok", "level": "county"}).json()
    assert [r["geo_id"] for r in narrowed["results"]] == ["40143"]


@needs_data
@pytest.mark.parametrize(("typed", "geo_id"), sorted(TEN_CITIES.items()))
def test_resolve_the_ten_cities(real, typed, geo_id):
    body = real.get("/api/resolve", params={"q": typed}).json()
    assert body["geo_id"] == geo_id
    assert body["links"]["profile"] == f"/api/places/{geo_id}/profile"


@needs_data
def test_place_list_is_every_urban_place_once_across_pages(real):
    with open(DATA / "urban" / "mobility-metrics_place_recent.csv", newline="",
              encoding="utf-8-sig") as handle:
        published = {r["state"].zfill(2) + r["place"].zfill(5) for r in csv.DictReader(handle)}
    first = real.get("/api/places", params={"limit": 200}).json()
    assert first["total"] == len(published) == 486
    seen = []
    for offset in range(0, first["total"], 200):
        page = real.get("/api/places", params={"limit": 200, "offset": offset}).json()
        seen += [r["geo_id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) and set(seen) == published


@needs_data
def test_state_filter_accepts_fips_postal_code_and_name(real):
    lists = [real.get("/api/places", params={"state": s, "limit": 500}).json()
             for s in ("40", "ok", "Oklahoma")]
    assert lists[0] == lists[1] == lists[2]
    assert {r["state"] for r in lists[0]["results"]} == {"OK"}
    assert TULSA in {r["geo_id"] for r in lists[0]["results"]}


# -- profile, barriers, tracts --------------------------------------------------------------
@needs_data
def test_profile_equals_the_urban_institute_file(real):
    with open(DATA / "urban" / "mobility-metrics_place_longitudinal.csv", newline="",
              encoding="utf-8-sig") as handle:
        row = next(r for r in csv.DictReader(handle)
                   if r["state"].zfill(2) == "40" and r["place"].zfill(5) == "75000"
                   and r["year"] == "2023")
    body = real.get(f"/api/places/{TULSA}/profile").json()
    entry = next(m for m in body["metrics"] if m["metric_id"] == "pctl_income_50")
    assert entry["period"] == "2023"
    assert entry["estimate"] == pytest.approx(float(row["pctl_income_50"]))
    assert entry["lb"] == pytest.approx(float(row["pctl_income_50_lb"]))
    assert entry["ub"] == pytest.approx(float(row["pctl_income_50_ub"]))


@needs_data
def test_profile_follows_its_schema_and_equals_the_library(real, real_warehouse):
    profile = real.get(f"/api/places/{TULSA}/profile").json()
    jsonschema.validate(profile, json.loads((REPO / "docs" / "profile.schema.json").read_text()))
    direct = build_profile(real_warehouse, TULSA).to_dict()
    assert [m["estimate"] for m in profile["metrics"]] == [m["estimate"] for m in direct["metrics"]]


@needs_data
@pytest.mark.slow
def test_barriers_follow_their_schema(real):
    """Slow only on first use in a process: esda compiles its local Moran kernels (numba)."""
    barriers = real.get(f"/api/places/{TULSA}/barriers").json()
    jsonschema.validate(barriers,
                        json.loads((REPO / "docs" / "barriers.schema.json").read_text()))
    assert barriers["geo"]["geo_id"] == TULSA and len(barriers["peers"]["peers"]) == 10


def _atlas_tracts(city: str, state: str) -> dict[str, float]:
    out = {}
    with open(DATA / "opportunity-insights" / "tract_kfr_rP_gP_p25.csv", newline="",
              encoding="utf-8-sig") as handle:
        for r in csv.DictReader(handle):
            parts = [p.strip() for p in r["Name"].rsplit(",", 2)]
            if len(parts) >= 2 and parts[-2] == city and parts[-1] == state:
                value = r["Household_Income_at_Age_35_rP_gP_p25"]
                out[r["tract"].zfill(11)] = float(value) if value not in ("", "NA") else None
    return out


@needs_data
def test_tracts_are_the_atlas_tracts_of_the_city_with_their_shapes(real):
    expected = _atlas_tracts("Tulsa", "OK")
    shapes = json.loads((DATA / "geometry" / "cb_2018_40_tract_500k.geojson").read_text())
    with_shape = {f["properties"]["GEOID"] for f in shapes["features"]} & set(expected)
    body = real.get(f"/api/places/{TULSA}/tracts").json()
    values = {v["geo_id"]: v["estimate"] for v in body["values"]}
    assert body["n_tracts"] == len(values) == len(expected) == 132
    for geo_id, value in expected.items():
        assert values[geo_id] == pytest.approx(value)
    features = body["geojson"]["features"]
    assert body["n_mapped"] == len(features) == len(with_shape)
    assert {f["id"] for f in features} == with_shape
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


@needs_data
def test_rochester_has_tract_values_but_no_shapes(real):
    body = real.get("/api/places/3663000/tracts", params={"metric": "kfr_top20_p25"}).json()
    assert body["n_tracts"] == len(_atlas_tracts("Rochester", "NY")) > 100
    assert body["n_mapped"] == 0 and body["geojson"]["features"] == []
    assert sorted(body["missing_geometry"]) == sorted(v["geo_id"] for v in body["values"])


@needs_data
def test_metric_endpoint_places_the_city_in_the_nation(real):
    body = real.get(f"/api/places/{TULSA}/metrics/pctl_income_50").json()
    assert body["latest"]["period"] == "2023"
    assert body["national"]["n"] == body["latest"]["national_n"] == 486
    q = body["national"]["quantiles"]
    assert q["p0"] <= q["p25"] <= body["latest"]["estimate"] <= q["p75"] <= q["p100"]
    assert {p["geo_id"] for p in body["peers"]} >= {TULSA}
    assert len(body["series"]) >= 9


# -- demo ---------------------------------------------------------------------------------------
def test_demo_place_is_listed_and_mapped(demo):
    results = demo.get("/api/places", params={"q": "demo"}).json()["results"]
    assert DEMO_PLACE in [r["geo_id"] for r in results]
    tracts = demo.get(f"/api/places/{DEMO_PLACE}/tracts").json()
    assert tracts["n_tracts"] > 10 and tracts["n_mapped"] == tracts["n_tracts"]
    profile = demo.get(f"/api/places/{DEMO_PLACE}/profile").json()
    assert profile["geo"]["name"].endswith("(synthetic)")


def test_catalog(demo):
    from upward.metrics import all_metrics

    body = demo.get("/api/metrics").json()
    assert [m["id"] for m in body] == [m.id for m in all_metrics()]
    assert demo.get("/api/metrics/share_employed").json()["unit"] == "share"


# -- errors --------------------------------------------------------------------------------------
def test_unknown_codes_and_names_are_404_with_suggestions(demo):
    body = _error(demo.get("/api/places/9900199/profile"), 404)
    assert "9900199" in body["message"]
    assert DEMO_PLACE in [s["geo_id"] for s in body["suggestions"]]
    body = _error(demo.get("/api/resolve", params={"q": "Demoo"}), 404)
    assert DEMO_PLACE in [s["geo_id"] for s in body["suggestions"]]
    body = _error(demo.get("/api/metrics/share_employd"), 404)
    assert "share_employed" in body["fix"]


@needs_data
def test_an_ambiguous_name_lists_the_candidates(real):
    body = _error(real.get("/api/resolve", params={"q": "Rochester"}), 300)
    assert {s["geo_id"] for s in body["suggestions"]} == {"2754880", "3663000"}
    assert "Rochester, NY" in body["fix"]


@pytest.mark.parametrize(("url", "parameter"), [
    ("/api/places?limit=abc", "limit"),
    ("/api/places?limit=0", "limit"),
    ("/api/places?offset=-1", "offset"),
    ("/api/places?level=city", "level"),
    ("/api/places?state=Atlantis", "state"),
    ("/api/places/tulsa/profile", "geo_id"),
    (f"/api/places/{DEMO_PLACE}/tracts?metric=share_employed", "metric"),
    ("/api/resolve", "q"),
])
def test_malformed_parameters_are_422_naming_the_parameter(demo, url, parameter):
    body = _error(demo.get(url), 422)
    assert body["parameter"] == parameter
    assert repr(parameter) in body["message"]


def test_a_server_error_sends_no_traceback():
    app = create_app(demo_workspace())

    def broken() -> dict:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/api/broken", broken)
    app.add_api_route("/broken", broken)
    client = TestClient(app, raise_server_exceptions=False)
    for url in ("/api/broken", "/broken"):
        response = client.get(url)
        assert response.status_code == 500
        assert "secret internal detail" not in response.text
        assert "Traceback" not in response.text and "RuntimeError" not in response.text
    assert client.get("/api/broken").json()["error"]["error_id"]
    assert "Something went wrong" in client.get("/broken").text


def test_openapi_schema_and_offline_reference(demo):
    schema = demo.get("/openapi.json").json()
    assert {"/api/places", "/api/resolve", "/api/metrics", "/api/places/{geo_id}/profile",
            "/api/places/{geo_id}/barriers", "/api/places/{geo_id}/tracts"} <= set(schema["paths"])
    page = demo.get("/docs").text
    for path in schema["paths"]:
        assert path in page
    assert "cdn" not in page.lower() and "<script" not in page


def test_plotly_is_served_from_the_installed_package(demo):
    response = demo.get("/static/plotly.min.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert response.content == plotly_bundle().read_bytes()


def test_concurrent_requests_on_a_cold_app_agree_with_sequential_ones():
    """Eight threads ask a freshly started server for profiles at once (one DuckDB connection
    behind a lock); every answer equals the one a single client gets afterwards."""
    ws = demo_workspace()
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        expected = build_profile(wh, DEMO_PLACE).to_dict()["metrics"]
    urls = [f"/api/places/{DEMO_PLACE}/profile", "/api/places?q=demo", "/api/metrics",
            f"/api/places/{DEMO_PLACE}/tracts"] * 2
    answers: dict[int, httpx.Response] = {}
    with live_server(create_app(ws)) as base:
        barrier = threading.Barrier(len(urls))

        def call(i: int, url: str) -> None:
            barrier.wait()
            answers[i] = httpx.get(base + url, timeout=120)

        threads = [threading.Thread(target=call, args=(i, u)) for i, u in enumerate(urls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        again = {u: httpx.get(base + u, timeout=60).json() for u in set(urls)}
    assert all(r.status_code == 200 for r in answers.values())
    for i, url in enumerate(urls):
        assert answers[i].json() == again[url]
    assert answers[0].json()["metrics"] == expected
