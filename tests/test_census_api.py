"""The Census Data API connector against a local server answering in the API's exact JSON.

The Orleans Parish payload is the real API answer in ../shared/data/acs (B19013_001E, ACS
2019–2023, 184 tracts, 9 of them the annotation value -666666666); the file carries no margins,
so the server answers margins of 10% of the estimate (synthetic, marked below) and the API's
-222222222 where the estimate is suppressed.
"""

from __future__ import annotations

import csv
import math

import duckdb
import pytest
from tests.conftest import DATA, run_cli
from tests.support.census_server import FakeCensus, serve_census

from upward.core.errors import DownloadError
from upward.sources.census_api import (
    MAX_VARIABLES,
    MOE_Z,
    CensusApi,
    CensusApiError,
    CensusKeyError,
    to_tables,
)

ORLEANS = DATA / "acs" / "orleans_la_b19013_acs5_2023_tract2020.csv"
needs_orleans = pytest.mark.skipif(not ORLEANS.is_file(), reason=f"real file absent: {ORLEANS}")


def _orleans() -> tuple[FakeCensus, dict[str, str]]:
    with ORLEANS.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    published = {r["GEOID"]: r["Median Household Income"] for r in rows}
    data = {}
    for r in rows:
        est = r["Median Household Income"]
        moe = "-222222222" if est.startswith("-") else str(round(int(est) * 0.1))  # synthetic
        data[r["GEOID"]] = (r["Tract Name"], {"B19013_001E": est, "B19013_001M": moe})
    api = FakeCensus()
    api.add_table(2023, "acs/acs5", "B19013", {
        "B19013_001": "Median household income in the past 12 months (in 2023 "
                      "inflation-adjusted dollars)"}, "tract", data,
        concept="Median Household Income in the Past 12 Months")
    return api, published


@needs_orleans
def test_orleans_tract_medians_come_back_exactly_and_suppressed_tracts_are_explained(tmp_path):
    fake, published = _orleans()
    with serve_census(fake) as server:
        api = CensusApi(server.base_url, cache_dir=tmp_path)
        t = api.table("B19013", geo="tract", state="22", county="071", year=2023)
    assert len(t.values) == len(published) == 184
    got = dict(zip(t.values["geo_id"], t.values["B19013_001"], strict=True))
    suppressed = {g for g, v in published.items() if v == "-666666666"}
    assert len(suppressed) == 9
    for geo_id, value in published.items():
        if geo_id in suppressed:
            assert math.isnan(got[geo_id])
        else:
            assert got[geo_id] == float(value)
    why = t.missing_explained("B19013_001")
    assert set(why["geo_id"]) == suppressed
    assert set(why["code"]) == {"-666666666"}
    assert why["reason"].str.contains("not computed").all()
    assert t.labelled().columns[2].startswith("Estimate!!Median household income")
    assert t.variables["concept"].iloc[0] == "Median Household Income in the Past 12 Months"
    obs = to_tables(t, "s").observations.set_index("geo_id")
    assert obs.loc["22071011600", "se"] == pytest.approx(round(216250 * 0.1) / MOE_Z)
    assert obs.loc["22071011600", "period"] == "2019-2023"
    assert obs.loc[sorted(suppressed)[0], "estimate"] != obs.loc[sorted(suppressed)[0], "estimate"]


@needs_orleans
def test_cli_fetch_acs_loads_observations_with_provenance_and_the_cache_answers_again(tmp_path):
    fake, published = _orleans()
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    with serve_census(fake) as server:
        env = {"UPWARD_CENSUS_API_URL": server.base_url, "CENSUS_API_KEY": "secret-key-123"}
        fake.key = "secret-key-123"
        r = run_cli("fetch", "acs", "--table", "B19013", "--geo", "tract", "--state", "22",
                    "--county", "071", "--year", "2023", "-w", str(ws), env=env)
        assert r.returncode == 0, r.stderr
        assert "9 missing" in r.stdout and "-666666666" in r.stdout
        asked = len(fake.requests)
        again = run_cli("fetch", "acs", "--table", "B19013", "--geo", "tract", "--state", "22",
                        "--county", "071", "-w", str(ws), env=env)
        assert again.returncode == 0 and "unchanged" in again.stdout
        assert len(fake.requests) == asked, "the second fetch must come from the cache"
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    rows = con.execute("select geo_id, estimate, se from observations "
                       "where metric_id = 'b19013_001'").fetchall()
    src = con.execute("select url, notes, sha256 from sources").fetchall()
    con.close()
    assert len(rows) == 184
    assert sum(e is None for _, e, _ in rows) == 9
    assert {g: e for g, e, _ in rows}["22071011700"] == float(published["22071011700"])
    url, notes, sha = src[0]
    assert url.startswith("http://127.0.0.1:") and "secret-key-123" not in url
    assert "9 × -666666666" in notes and len(sha) == 64
    for path in (ws / "cache").rglob("*"):
        if path.is_file():
            assert "secret-key-123" not in path.read_text(errors="ignore")


def _wide(n_vars: int) -> FakeCensus:
    labels = {f"B99999_{i:03d}": f"Line {i}" for i in range(1, n_vars + 1)}
    data = {f"40143{t:06d}": (f"Census Tract {t}", {
        **{f"B99999_{i:03d}E": str(100 * t + i) for i in range(1, n_vars + 1)},
        **{f"B99999_{i:03d}M": str(i) for i in range(1, n_vars + 1)}}) for t in (100, 200)}
    api = FakeCensus()
    api.add_table(2022, "acs/acs5", "B99999", labels, "tract", data)
    return api


def test_a_wide_table_is_asked_in_batches_of_at_most_50_variables_and_joined(tmp_path):
    fake = _wide(60)
    with serve_census(fake) as server:
        t = CensusApi(server.base_url).table("B99999", geo="tract", state="40", county="143",
                                             year=2022)
    data_requests = [p for p in fake.requests if "groups" not in p]
    assert len(data_requests) == 3  # 120 columns, NAME in each: 49 + 49 + 22
    from urllib.parse import parse_qs, urlsplit
    for p in data_requests:
        assert len(parse_qs(urlsplit(p).query)["get"][0].split(",")) <= MAX_VARIABLES
    assert t.values.shape == (2, 2 + 120)
    assert t.values.loc[1, "B99999_060"] == 200 * 100 + 60
    assert t.values.loc[0, "B99999_060_moe"] == 60


def test_rate_limit_is_retried_then_reported(tmp_path):
    fake = _wide(2)
    fake.rate_limit_first = 2
    with serve_census(fake) as server:
        t = CensusApi(server.base_url, backoff=0.01).table("B99999", geo="tract", state="40",
                                                           year=2022)
        assert len(t.values) == 2
        fake.rate_limit_first = 10**6
        with pytest.raises(DownloadError, match="rate limit") as info:
            CensusApi(server.base_url, retries=1, backoff=0.01).table(
                "B99999", geo="tract", state="40", year=2022, refresh=True)
    assert "CENSUS_API_KEY" in str(info.value)


def test_a_refused_key_html_pages_and_api_errors_are_clear(tmp_path):
    fake = _wide(2)
    fake.key = "right"
    with serve_census(fake) as server:
        with pytest.raises(CensusKeyError, match="refused the key") as info:
            CensusApi(server.base_url, key="wrong").table("B99999", geo="tract", state="40",
                                                         year=2022)
        assert "wrong" not in str(info.value)
        api = CensusApi(server.base_url, key="right")
        with pytest.raises(CensusApiError, match="no table 'B00000'"):
            api.table("B00000", geo="tract", state="40", year=2022)
        with pytest.raises(CensusApiError, match="unknown variable"):
            api.get_json("2022/acs/acs5", {"get": "NAME,NOPE_001E", "for": "state:*"})
        fake.html = True
        with pytest.raises(CensusApiError, match="HTML page"):
            api.table("B99999", geo="tract", state="40", year=2021)


def test_a_geography_with_no_rows_and_bad_options(tmp_path):
    from upward.core.errors import ConfigError
    from upward.sources.census_api import geography_clauses

    fake = _wide(2)
    with serve_census(fake) as server:
        t = CensusApi(server.base_url).table("B99999", geo="tract", state="41", year=2022)
    assert len(t.values) == 0
    with pytest.raises(ConfigError, match="needs --state"):
        geography_clauses("tract")
    with pytest.raises(ConfigError, match="needs --county"):
        geography_clauses("block group", state="40")
    with pytest.raises(ConfigError, match="not a geography"):
        geography_clauses("district", state="40")


def test_cli_errors_leave_the_warehouse_unchanged(tmp_path):
    fake = _wide(2)
    fake.key = "right"
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    with serve_census(fake) as server:
        env = {"UPWARD_CENSUS_API_URL": server.base_url, "CENSUS_API_KEY": "wrong"}
        r = run_cli("fetch", "acs", "--table", "B99999", "--state", "40", "--year", "2022",
                    "-w", str(ws), env=env)
    assert r.returncode != 0 and "refused the key" in r.stderr and "Traceback" not in r.stderr
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from observations").fetchone()[0] == 0
    con.close()


def test_block_groups_and_the_2020_census(tmp_path):
    fake = FakeCensus()
    fake.add_table(2022, "acs/acs5", "B01003", {"B01003_001": "Total"}, "block group", {
        "400430001001": ("Block Group 1", {"B01003_001E": "812", "B01003_001M": "*****"})})
    fake.groups[(2020, "dec/pl", "P1")] = {"variables": {
        "P1_001N": {"label": " !!Total:", "concept": "RACE", "predicateType": "int"},
        "P1_001NA": {"label": "Annotation of !!Total:", "predicateType": "string"}}}
    fake.rows[(2020, "dec/pl", "tract")] = {"40143000100": ("Census Tract 1", {"P1_001N": "4012"})}
    with serve_census(fake) as server:
        api = CensusApi(server.base_url)
        bg = api.table("B01003", geo="block group", state="40", county="043", year=2022)
        dec = api.table("P1", dataset="dec/pl", geo="tract", state="40", county="143",
                        year=2020)
    assert bg.values["geo_id"].tolist() == ["400430001001"]
    assert bg.values.loc[0, "B01003_001"] == 812 and math.isnan(bg.values.loc[0, "B01003_001_moe"])
    assert bg.annotations.loc[0, "code"] == "*****"  # a controlled total: no sampling error
    obs = to_tables(bg, "s").observations
    assert obs.loc[0, "geo_level"] == "block_group" and obs.loc[0, "bounds"] == "none"
    assert dec.variables["variable"].tolist() == ["P1_001N"]
    assert dec.values.loc[0, "P1_001N"] == 4012
    assert to_tables(dec, "s").observations.loc[0, "period"] == "2020"
