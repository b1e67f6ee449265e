"""The spending page beside the tract map: the demo city's tracts with spending records synced
from a local Socrata feed (synthetic records at known tracts' representative points), as HTML
(with the unplaced records shown), as JSON, and in Chromium with axe-core.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import CHROMIUM, REPO
from tests.support.browser import AXE
from tests.support.built import copy_build
from tests.support.feed_server import FakePortal, serve_portal
from tests.support.web import DEMO_PLACE, app_for, live_server

from upward.warehouse.feeds import sync_feed, tract_polygons
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace


@cache
def spending_demo() -> tuple[Workspace, dict[str, float]]:
    """A copy of the demo workspace with one synced spending feed; the dollars each tract
    should show."""
    from tests.conftest import demo_build

    from upward.measure.series import tract_map

    root = Path(tempfile.mkdtemp(prefix="upward-feeds-web-")) / "ws"
    ws = Workspace.open(copy_build(demo_build() / "ws", root))
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        polygons = tract_polygons(wh)
        tracts = sorted(tract_map(wh, DEMO_PLACE, "place").values["geo_id"])
    truth: dict[str, float] = {}
    rows = []
    for i, tract in enumerate(tracts[:6]):
        p = polygons[tract].representative_point()
        truth[tract] = 5000.0 * (i + 1)
        rows.append({":id": f"row-{i}", ":updated_at": f"2024-03-{i + 1:02d}T00:00:00.000Z",
                     "amount": str(5000 * (i + 1)), "program": "youth jobs",
                     "lat": f"{p.y:.6f}", "lon": f"{p.x:.6f}"})
    rows.append({":id": "row-far", ":updated_at": "2024-04-01T00:00:00.000Z", "amount": "750",
                 "program": "youth jobs", "lat": "0.5", "lon": "0.5"})
    portal = FakePortal(socrata={"sp3n-d001": rows},
                        socrata_types={"sp3n-d001": {k: "text" for k in rows[0]}})
    with serve_portal(portal) as url:
        with ws.settings_path.open("a") as f:
            f.write(f'\n[feeds.grants]\nplatform = "socrata"\nurl = "{url}"\n'
                    'dataset = "sp3n-d001"\nlon_column = "lon"\nlat_column = "lat"\n'
                    'amount_column = "amount"\nprogram_column = "program"\n')
        ws = Workspace.open(ws.root)
        sync_feed(ws, "grants")
    return ws, truth


def test_spending_page_and_api_show_each_tracts_dollars_and_the_unplaced_record():
    ws, truth = spending_demo()
    client = TestClient(app_for(ws))
    api = client.get(f"/api/places/{DEMO_PLACE}/spending?metric=kfr_dollars_p25")
    assert api.status_code == 200
    body = api.json()
    got = {t["geo_id"]: t["dollars"] for t in body["tracts"] if t["records"]}
    assert got == pytest.approx(truth)
    assert body["unplaced"] == [{"feed": "grants", "placed": False,
                                 "reason": "outside the city", "records": 1, "dollars": 750.0}]
    page = client.get(f"/places/{DEMO_PLACE}/spending")
    assert page.status_code == 200
    html = page.text
    assert "Records not placed in a tract" in html and "outside the city" in html
    assert "$30,000" in html and "youth jobs" in html and 'id="spending-map"' in html
    assert f'href="/places/{DEMO_PLACE}/spending?metric=' in client.get(
        f"/places/{DEMO_PLACE}/map").text


@pytest.mark.xdist_group("browser")
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")
@pytest.mark.skipif(not AXE.exists(), reason=f"axe-core missing at {AXE}: run 'npm ci'")
def test_spending_page_has_no_serious_accessibility_violation(chromium):
    ws, _ = spending_demo()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        with live_server(app_for(ws)) as base:
            page.goto(f"{base}/places/{DEMO_PLACE}/spending", timeout=240_000)
            page.wait_for_selector("#spending-map .main-svg", timeout=120_000)
            shots = REPO / "test-artifacts" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "spending.png"), full_page=True)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    serious = [(v["id"], v["help"]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []
