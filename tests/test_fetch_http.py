"""`upward fetch` downloading over real HTTP from a local server that serves the real files,
including one that drops the connection halfway through every file."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import DATA, needs_data, run_cli
from tests.support.http_server import serve_directory

pytestmark = [needs_data]

FILES = {
    "urban.place_recent": "urban/mobility-metrics_place_recent.csv",
    "urban.county_recent": "urban/mobility-metrics_county_recent.csv",
    "urban.place_longitudinal": "urban/mobility-metrics_place_longitudinal.csv",
    "census.tracts": "geometry/cb_2018_{state}_tract_500k.geojson",
}


def _configure(ws, server) -> None:
    urls = ", ".join(f'"{k}" = "{server.url(v)}"' for k, v in FILES.items())
    text = (ws / "upward.toml").read_text()
    text = text.replace("urls = {}", f"urls = {{ {urls} }}").replace("backoff = 0.5", "backoff = 0.05")
    (ws / "upward.toml").write_text(text)


def test_fetch_downloads_resumes_records_provenance_and_caches(tmp_path):
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    with serve_directory(DATA, drop_after=200_000, drop_times=4) as server:
        _configure(ws, server)
        result = run_cli("fetch", "urban", "tracts", "--state", "55", "-w", str(ws))
        assert result.returncode == 0, result.stderr
        assert server.range_headers, "a dropped download should resume with a Range request"
        requests = server.requests

        sources = run_cli("profile", "Racine, WI", "--format", "json", "-w", str(ws))
        assert sources.returncode == 0, sources.stderr
        profile = json.loads(sources.stdout)
        by_dataset = {s["dataset"]: s for s in profile["sources"]}
        for key in ("urban.place_recent", "urban.place_longitudinal"):
            raw = (DATA / FILES[key]).read_bytes()
            assert by_dataset[key]["sha256"] == hashlib.sha256(raw).hexdigest()
            assert by_dataset[key]["url"].startswith("http://127.0.0.1:")
        assert list((ws / "cache").rglob("mobility-metrics_place_recent.csv"))

        again = run_cli("fetch", "urban", "tracts", "--state", "55", "-w", str(ws))
        assert again.returncode == 0 and "unchanged" in again.stdout
        assert server.requests == requests, "a second fetch must come from the cache"

    import duckdb

    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    tracts = con.execute("select count(*) from geometry where geo_id like '55%'").fetchone()[0]
    assert tracts == 1396


def test_tracts_without_a_state_online_is_a_clear_error(tmp_path):
    ws = tmp_path / "ws"
    run_cli("init", str(ws))
    result = run_cli("fetch", "tracts", "-w", str(ws))
    assert result.returncode != 0 and "--state" in result.stderr and "Traceback" not in result.stderr
