"""The four feed connectors against a local portal answering with recorded real responses
(tests/data/feeds/README.md names each recording's origin).

Where a recording has fewer rows than a test pages through, further rows are made in the same
shape and are marked synthetic here.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from tests.support.feed_server import FakePortal, serve_portal

from upward.core.feedspec import FeedSpec
from upward.sources.arcgis import ArcGisFeed
from upward.sources.ckan import CkanFeed
from upward.sources.feeds import POINT_KEY, FeedError, JsonClient
from upward.sources.socrata import SocrataFeed
from upward.sources.usaspending import UsaSpendingFeed

DATA = Path(__file__).parent / "data" / "feeds"


def recorded(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def bike_rows() -> list[dict]:
    """The 41 recorded SODA rows; ``:id`` and ``:updated_at`` (the system fields Socrata adds
    for ``$select=:*``) are synthetic: the recording did not ask for them."""
    rows = recorded("socrata_bike_counts_page_1.json") + recorded(
        "socrata_bike_counts_page_2.json")
    return [{":id": f"row-{i:04d}", ":updated_at": r["date"] + "Z", **r}
            for i, r in enumerate(rows)]


BIKE_TYPES = {":id": "meta_data", ":updated_at": "meta_data", "id": "text",
              "date": "floating_timestamp", "counts": "text", "status": "text"}


def pull(feed, since=None):
    pages, offset, number = [], 0, 1
    while True:
        page = feed.page(offset, since, number)
        pages.append(page)
        if not page.more:
            return pages
        offset, number = page.next_offset, number + 1


def test_socrata_pages_with_limit_and_offset_and_returns_the_recorded_rows_exactly():
    portal = FakePortal(socrata={"bk12-cnts": bike_rows()}, socrata_types={"bk12-cnts": BIKE_TYPES})
    with serve_portal(portal) as url:
        spec = FeedSpec(platform="socrata", url=url, dataset="bk12-cnts", page_size=15)
        with JsonClient("portal") as client:
            pages = pull(SocrataFeed(spec, client))
    got = [r for p in pages for r in p.records]
    assert len(pages) == 3 and [len(p.records) for p in pages] == [15, 15, 11]
    recorded_rows = recorded("socrata_bike_counts_page_1.json") + recorded(
        "socrata_bike_counts_page_2.json")
    assert [{k: v for k, v in r.items() if not k.startswith(":")} for r in got] == recorded_rows
    assert got[-1]["date"] == "2016-10-02T01:45:00.000"
    assert pages[0].fields["date"] == "floating_timestamp"
    offsets = [q for q in portal.requests if "offset" in q]
    assert ["%24offset=0" in offsets[0], "%24offset=15" in offsets[1],
            "%24offset=30" in offsets[2]] == [True, True, True]


def test_socrata_incremental_pull_asks_only_rows_updated_after_the_watermark():
    rows = bike_rows()
    portal = FakePortal(socrata={"bk12-cnts": rows}, socrata_types={"bk12-cnts": BIKE_TYPES})
    with serve_portal(portal) as url:
        spec = FeedSpec(platform="socrata", url=url, dataset="bk12-cnts", page_size=100,
                        where="status = '0'")
        with JsonClient("portal") as client:
            pages = pull(SocrataFeed(spec, client), since=rows[30][":updated_at"])
    assert [r[":id"] for p in pages for r in p.records] == [r[":id"] for r in rows[31:]]
    asked = portal.requests[-1]
    assert "%3Aupdated_at+%3E+%27" in asked and "status+%3D+%270%27" in asked


def test_socrata_app_token_goes_in_the_header_never_the_address(monkeypatch):
    portal = FakePortal(socrata={"bk12-cnts": bike_rows()[:3]}, token="tok-123")
    monkeypatch.setenv("CITY_TOKEN", "tok-123")
    with serve_portal(portal) as url:
        spec = FeedSpec(platform="socrata", url=url, dataset="bk12-cnts",
                        app_token_env="CITY_TOKEN")
        with JsonClient("portal", headers=SocrataFeed.headers(spec)) as client:
            page = SocrataFeed(spec, client).page(0, None, 1)
        assert len(page.records) == 3 and "tok-123" not in page.url
        assert portal.tokens_seen == ["tok-123"]
        monkeypatch.setenv("CITY_TOKEN", "wrong")
        with JsonClient("the portal", retries=0, headers=SocrataFeed.headers(spec)) as client, \
                pytest.raises(FeedError, match="Invalid app_token"):
            SocrataFeed(spec, client).page(0, None, 1)


def arcgis_layer(n_synthetic: int, max_records: int) -> dict:
    """The recorded ZIP-code query answer (one real feature, Web Mercator) plus ``n_synthetic``
    copies with new OBJECTIDs and shifted points (synthetic) to page past maxRecordCount."""
    answer = recorded("arcgis_query_usa_zip_points.json")
    features = [answer["features"][0]]
    for i in range(n_synthetic):
        f = copy.deepcopy(answer["features"][0])
        f["attributes"]["OBJECTID"] = i + 2
        f["geometry"]["x"] += 1000.0 * (i + 1)
        features.append(f)
    envelope = {k: v for k, v in answer.items() if k != "features"}
    return {"description": {"maxRecordCount": max_records, "objectIdField": "OBJECTID",
                            "fields": answer["fields"], "geometryType": "esriGeometryPoint"},
            "envelope": envelope, "features": features,
            "answer_sr": answer["spatialReference"]}


def test_arcgis_pages_past_max_record_count_and_converts_web_mercator_to_wgs84():
    path = "/arcgis/rest/services/Zips/FeatureServer/0"
    portal = FakePortal(arcgis={path: arcgis_layer(4, 2)})
    with serve_portal(portal) as url:
        spec = FeedSpec(platform="arcgis", url=url + path, page_size=1000)
        with JsonClient("layer") as client:
            pages = pull(ArcGisFeed(spec, client))
    assert [len(p.records) for p in pages] == [2, 2, 1]
    assert [p.more for p in pages] == [True, True, False]
    first = pages[0].records[0]
    assert first["ZIP_CODE"] == "00501" and first["PO_NAME"] == "Holtsville"
    lon, lat = first[POINT_KEY]
    # back through the forward spherical Mercator (EPSG:3857) formulas to the recorded metres
    r = 6378137.0
    x = r * math.radians(lon)
    y = r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    assert x == pytest.approx(-8131340.553956478, abs=1e-6)
    assert y == pytest.approx(4985356.996949511, abs=1e-6)
    assert -73.1 < lon < -73.0 and 40.78 < lat < 40.85  # Holtsville, Long Island, NY
    queries = [q for q in portal.requests if "/query" in q]
    assert all("outSR=4326" in q and "resultRecordCount=2" in q for q in queries)
    assert ["resultOffset=0" in queries[0], "resultOffset=2" in queries[1],
            "resultOffset=4" in queries[2]] == [True, True, True]
    assert "Web Mercator" in pages[0].notes[0]


def test_arcgis_error_envelope_is_a_clear_error():
    portal = FakePortal()
    with serve_portal(portal) as url:
        spec = FeedSpec(platform="arcgis", url=url + "/arcgis/rest/services/No/FeatureServer/9")
        with JsonClient("layer", retries=0) as client, pytest.raises(
                FeedError, match=r"refused the layer description.*400 Invalid URL"):
            ArcGisFeed(spec, client).page(0, None, 1)


def ckan_portal() -> FakePortal:
    package = recorded("ckan_package_show_population.json")["result"]
    search = recorded("ckan_datastore_search_gdp.json")["result"]
    rid = package["resources"][0]["id"]
    return FakePortal(ckan_packages={package["name"]: package},
                      ckan_resources={rid: {"fields": search["fields"],
                                            "records": search["records"]}})


def test_ckan_resolves_a_package_to_its_datastore_resource_and_pages_datastore_search():
    portal = ckan_portal()
    search = recorded("ckan_datastore_search_gdp.json")["result"]
    with serve_portal(portal) as url:
        feed = CkanFeed(FeedSpec(platform="ckan", url=url, dataset="population", page_size=2),
                        retries=0)
        pages = pull(feed)
        feed.close()
    assert feed.resource["id"] == "bd9adb32-e96d-4002-8efb-688eae64b065"
    assert [len(p.records) for p in pages] == [2, 2, 1]
    assert [r for p in pages for r in p.records] == search["records"]
    assert pages[0].fields == {"_id": "int", "Country Name": "text", "Country Code": "text",
                               "Year": "float8", "Value": "float8"}
    assert any("/api/action/package_show" in q for q in portal.requests)


def test_ckan_retries_a_503_with_retry_after_and_refuses_an_html_page():
    portal = ckan_portal()
    portal.faults = {3: (503, {"Retry-After": "0"}, b"")}  # the first datastore_search
    with serve_portal(portal) as url:
        feed = CkanFeed(FeedSpec(platform="ckan", url=url, dataset="population"), retries=2,
                        backoff=0)
        assert len(pull(feed)[0].records) == 5
        feed.close()
        asked = len(portal.requests)
        portal.html_at = {asked + 1, asked + 2, asked + 3}
        feed = CkanFeed(FeedSpec(platform="ckan", url=url, dataset="population"), retries=2,
                        backoff=0)
        with pytest.raises(FeedError, match=r"HTML page.*Service Temporarily Unavailable"):
            feed.page(0, None, 1)
        feed.close()


def test_usaspending_reads_county_obligations_by_program():
    answer = recorded("usaspending_spending_by_geography_county.json")
    portal = FakePortal(usaspending={"14.871": answer["results"]})
    with serve_portal(portal) as url:
        spec = FeedSpec(platform="usaspending", url=url, state="SC",
                        program_numbers=["14.871", "93.558"], start_date="2018-10-01",
                        end_date="2020-09-30")
        with JsonClient("USAspending") as client:
            pages = pull(UsaSpendingFeed(spec, client))
    records = [r for p in pages for r in p.records]
    assert len(pages) == 2
    assert records[0] == {"record_id": "14.871:45001", "program": "14.871", "geo_id": "45001",
                          "geo_layer": "county", "display_name": "Charleston",
                          "amount": 550005.0, "population": 1, "per_capita": 550005.0}
    assert [r["geo_id"] for r in records] == ["45001", "53005"]  # 93.558 has no awards here


def test_usaspending_place_layer_filters_to_the_city_and_a_sync_stores_county_dollars(tmp_path):
    from upward.sources.usaspending import request_body
    from upward.warehouse.feeds import feed_records, sync_feed
    from upward.warehouse.workspace import Workspace

    place = FeedSpec(platform="usaspending", url="https://api.usaspending.gov", state="OK",
                     geo_layer="place", dataset="Tulsa", within="4075000")
    body = request_body(place, "all")
    assert body["geo_layer"] == "state"
    assert body["filters"]["place_of_performance_locations"] == [
        {"country": "USA", "state": "OK", "city": "Tulsa"}]
    answer = recorded("usaspending_spending_by_geography_county.json")
    portal = FakePortal(usaspending={"14.871": answer["results"]})
    with serve_portal(portal) as url:
        ws = Workspace.init(tmp_path / "ws")
        with ws.settings_path.open("a") as f:
            f.write(f'\n[feeds.federal]\nplatform = "usaspending"\nurl = "{url}"\n'
                    'state = "SC"\nprogram_numbers = ["14.871"]\nschedule = "weekly"\n')
        result = sync_feed(Workspace.open(ws.root), "federal")
        again = sync_feed(Workspace.open(ws.root), "federal")
    rows = feed_records(ws, "federal").sort_values("geo_id")
    assert result.total == again.total == 2 and result.unplaced == {}
    assert rows["geo_id"].tolist() == ["45001", "53005"]
    assert rows["geo_level"].tolist() == ["county", "county"]
    assert rows["amount"].tolist() == [550005.0, 5500.0]
    assert rows["program"].tolist() == ["14.871", "14.871"]


def test_ckan_package_without_datastore_downloads_its_csv_resource(tmp_path):
    """The recorded package_show with its resource marked not in the DataStore and its url
    pointed at a local CSV (made from the recorded datastore_search records: synthetic file)."""
    from tests.support.http_server import serve_directory

    search = recorded("ckan_datastore_search_gdp.json")["result"]
    folder = tmp_path / "files"
    folder.mkdir()
    lines = ["Country Name,Country Code,Year,Value"] + [
        f"{r['Country Name']},{r['Country Code']},{r['Year']},{r['Value']}"
        for r in search["records"]]
    (folder / "gdp.csv").write_text("\n".join(lines) + "\n")
    package = recorded("ckan_package_show_population.json")["result"]
    with serve_directory(folder) as files:
        package["resources"][0].update(datastore_active=False, format="CSV",
                                       url=files.url("gdp.csv"))
        portal = FakePortal(ckan_packages={package["name"]: package})
        with serve_portal(portal) as url:
            feed = CkanFeed(FeedSpec(platform="ckan", url=url, dataset="population",
                                     page_size=3), retries=0, cache_dir=tmp_path / "cache")
            pages = pull(feed)
            feed.close()
    rows = [r for p in pages for r in p.records]
    assert [len(p.records) for p in pages] == [3, 2]
    assert [r["Country Code"] for r in rows] == ["ARB"] * 5
    assert [float(r["Value"]) for r in rows] == [r["Value"] for r in search["records"]]
    assert [r["_id"] for r in rows] == [1, 2, 3, 4, 5]
