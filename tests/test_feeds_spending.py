"""Spending tied to places: records from a Socrata and an ArcGIS feed placed in the real Tulsa
County tracts (Census cartographic boundaries in ../shared/data), unplaced ones counted with
their reason, dollars per resident by tract and custom area beside a mobility metric, and
dollars per participant and per outcome by program.

The spending records, populations and the metric values are synthetic, built so the truth is
known: each record's point is the representative point of a chosen tract.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import DATA, run_cli
from tests.support.feed_server import FakePortal, serve_portal

from upward.geo.placement import NOT_LONLAT, OUTSIDE, place_points
from upward.measure.spending import (
    program_costs,
    spending_by_area,
    spending_by_tract,
    spending_summary,
)
from upward.sources.base import Tables
from upward.sources.schema import conform
from upward.sources.tiger import read_tracts
from upward.warehouse.feeds import sync_feed, tract_polygons
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

TULSA = DATA / "geometry" / "county" / "cb_2018_40143_tract_500k_tulsa_ok.geojson"
pytestmark = pytest.mark.skipif(not TULSA.is_file(), reason=f"real file absent: {TULSA}")
LAYER = "/arcgis/rest/services/Contracts/FeatureServer/0"


def tulsa_workspace(tmp_path) -> tuple[Workspace, dict]:
    ws = Workspace.init(tmp_path / "ws")
    with Warehouse(ws.warehouse_path) as wh:
        wh.load("census.tracts.40", read_tracts(TULSA, "census.tracts.40@t"),
                {"source_id": "census.tracts.40@t", "dataset": "census.tracts.40",
                 "sha256": "t"})
        polygons = tract_polygons(wh, "40143")
    return ws, polygons


def observations(metric: str, values: dict[str, float], source_id: str) -> pd.DataFrame:
    n = len(values)
    return conform("observations", pd.DataFrame({
        "geo_id": list(values), "geo_level": "tract", "metric_id": metric, "period": "2023",
        "subgroup_type": "all", "subgroup": "all", "estimate": list(values.values()),
        "lb": np.nan, "ub": np.nan, "se": np.nan, "quality": pd.array([pd.NA] * n, "Int8"),
        "bounds": "none", "source_id": source_id}))


def test_strtree_placement_agrees_with_testing_every_polygon(tmp_path):
    _, polygons = tulsa_workspace(tmp_path)
    rng = np.random.default_rng(15)
    xs = rng.uniform(-96.3, -95.7, 400)
    ys = rng.uniform(35.9, 36.45, 400)
    got, why = place_points(list(xs), list(ys), polygons)
    from shapely.geometry import Point

    for x, y, tract, reason in zip(xs, ys, got, why, strict=True):
        inside = sorted(g for g, poly in polygons.items() if poly.intersects(Point(x, y)))
        assert tract == (inside[0] if inside else None)
        assert (reason == OUTSIDE) == (not inside)
    assert 100 < sum(t is not None for t in got) < 400


def test_socrata_and_arcgis_spending_placed_in_tracts_per_resident_area_and_program(tmp_path):
    ws, polygons = tulsa_workspace(tmp_path)
    assert len(polygons) == 175  # Tulsa County, 2010 tracts (../shared/data/SOURCES.md)
    chosen = sorted(polygons)[::15]  # 12 tracts
    truth: dict[str, float] = {}
    rows = []
    for i, tract in enumerate(chosen):
        p = polygons[tract].representative_point()
        amount = 1000.0 * (i + 1)
        truth[tract] = truth.get(tract, 0.0) + amount
        rows.append({":id": f"row-{i}", ":updated_at": f"2024-01-{i + 1:02d}T00:00:00.000Z",
                     "grant_id": f"G{i}", "amount": f"{amount:.2f}",
                     "program": "jobs" if i % 2 == 0 else "housing",
                     "participant": f"P{i // 2}",
                     "employed": "1" if i % 3 == 0 else "0",
                     "latitude": f"{p.y:.6f}", "longitude": f"{p.x:.6f}"})
    bad = [("row-okc", "-97.516400", "35.467600", 500.0),       # Oklahoma City: outside Tulsa
           ("row-proj", "567713.4009", "161405.7836", 700.0),   # state-plane feet, not lon/lat
           ("row-none", "", "", 900.0)]
    for rid, lon, lat, amount in bad:
        rows.append({":id": rid, ":updated_at": "2024-02-01T00:00:00.000Z", "grant_id": rid,
                     "amount": f"{amount:.2f}", "program": "jobs", "participant": "PX",
                     "employed": "0", "latitude": lat, "longitude": lon})
    types = {k: "text" for k in rows[0]}
    contracts = []
    for j, tract in enumerate(sorted(polygons)[3::40]):  # 5 tracts, in WGS84 (outSR=4326)
        p = polygons[tract].representative_point()
        contracts.append({"attributes": {"OBJECTID": j + 1, "VENDOR": f"V{j}",
                                         "AMOUNT": 250.0 * (j + 1)},
                          "geometry": {"x": p.x, "y": p.y}})
        truth[tract] = truth.get(tract, 0.0) + 250.0 * (j + 1)
    layer = {"description": {"maxRecordCount": 2, "objectIdField": "OBJECTID",
                             "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
                                        {"name": "VENDOR", "type": "esriFieldTypeString"},
                                        {"name": "AMOUNT", "type": "esriFieldTypeDouble"}]},
             "envelope": {"objectIdFieldName": "OBJECTID", "geometryType": "esriGeometryPoint",
                          "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
                                     {"name": "VENDOR", "type": "esriFieldTypeString"},
                                     {"name": "AMOUNT", "type": "esriFieldTypeDouble"}]},
             "features": contracts}
    portal = FakePortal(socrata={"gr4n-ts01": rows}, socrata_types={"gr4n-ts01": types},
                        arcgis={LAYER: layer})
    pops = {t: 1000.0 + 10 * k for k, t in enumerate(sorted(polygons))}
    with Warehouse(ws.warehouse_path) as wh:
        wh.load("test.population", Tables(observations=observations("b01003_001", pops,
                                                                     "test.population@1")),
                {"source_id": "test.population@1", "dataset": "test.population", "sha256": "1"})
        kfr = {t: 30000.0 + k for k, t in enumerate(sorted(polygons))}
        wh.load("test.kfr", Tables(observations=observations("kfr_dollars_p25", kfr,
                                                              "test.kfr@1")),
                {"source_id": "test.kfr@1", "dataset": "test.kfr", "sha256": "1"})
    with serve_portal(portal) as url:
        with ws.settings_path.open("a") as f:
            f.write(f"""
[feeds.grants]
platform = "socrata"
url = "{url}"
dataset = "gr4n-ts01"
lon_column = "longitude"
lat_column = "latitude"
within = "40143"
amount_column = "amount"
program_column = "program"
participant_column = "participant"
outcome_column = "employed"
schedule = "daily"

[feeds.contracts]
platform = "arcgis"
url = "{url}{LAYER}"
within = "40143"
amount_column = "AMOUNT"
schedule = "weekly"
""")
        ws = Workspace.open(ws.root)
        grants = sync_feed(ws, "grants")
        contracts_result = sync_feed(ws, "contracts")
        r = run_cli("spending", "--by", "tract", "-w", str(ws.root))
    assert grants.unplaced == {OUTSIDE: 1, NOT_LONLAT: 1, "no coordinates": 1}
    assert contracts_result.total == 5 and contracts_result.pages == 3
    table = spending_by_tract(ws, metric_id="kfr_dollars_p25")
    got = dict(zip(table.rows["geo_id"], table.rows["dollars"], strict=True))
    assert got == pytest.approx(truth)
    row = table.rows.set_index("geo_id").loc[chosen[1]]
    assert row["dollars_per_resident"] == pytest.approx(truth[chosen[1]] / pops[chosen[1]])
    assert row["kfr_dollars_p25"] == kfr[chosen[1]]
    assert "3 records ($2,100) are not in any tract" in table.notes[0]
    summary = spending_summary(ws)
    lost = summary[~summary["placed"]].set_index("reason")
    assert lost.loc[OUTSIDE, "dollars"] == 500.0 and lost["records"].sum() == 3
    total_sent = sum(float(r["amount"]) for r in rows) + sum(250.0 * (j + 1) for j in range(5))
    assert summary["dollars"].sum() == pytest.approx(total_sent)  # nothing dropped
    assert r.returncode == 0, r.stderr
    assert "not placed — grants: 1 record ($500): outside the city" in r.stdout

    # a custom area made of two of the tracts: its dollars are theirs, its residents theirs
    from shapely.geometry import mapping
    from shapely.ops import unary_union

    from upward.warehouse.areas import add_areas

    pair = [chosen[0], chosen[1]]
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "District 1"},
         "geometry": mapping(unary_union([polygons[t] for t in pair]))}]}
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(geojson))
    add_areas(ws, "districts", path)
    area = spending_by_area(ws).rows.iloc[0]
    assert area["dollars"] == pytest.approx(truth[pair[0]] + truth[pair[1]], rel=1e-9)
    assert area["residents"] == pytest.approx(pops[pair[0]] + pops[pair[1]], rel=1e-9)

    programs = program_costs(ws, ["grants"]).rows.set_index("program")
    jobs = [r for r in rows if r["program"] == "jobs"]
    dollars = sum(float(r["amount"]) for r in jobs)
    people = len({r["participant"] for r in jobs})
    outcomes = sum(float(r["employed"]) for r in jobs)
    assert programs.loc["jobs", "dollars"] == pytest.approx(dollars)
    assert programs.loc["jobs", "participants"] == people
    assert programs.loc["jobs", "dollars_per_participant"] == pytest.approx(dollars / people)
    assert programs.loc["jobs", "dollars_per_outcome"] == pytest.approx(dollars / outcomes)
