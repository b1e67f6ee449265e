"""The plain-language summary and the compare page in headless Chromium (#12), desktop width,
with axe checks and screenshots (test-artifacts/screenshots/), on the real public files; the
compare page with a district and its city, and the briefing with its map, on the demo
workspace with its districts and replicate tables."""

from __future__ import annotations

import pytest
from tests.conftest import needs_data, run_cli
from tests.support.browser import BROWSER_MARKS
from tests.test_web_browser import TULSA, _axe, _shot, browser, page, real_site  # noqa: F401

pytestmark = [*BROWSER_MARKS]


@pytest.fixture(scope="module")
def area_workspace(tmp_path_factory):
    """A copy of the demo workspace with the demo districts and replicate tables loaded."""
    from tests.conftest import demo_build
    from tests.support.built import copy_build

    from upward.warehouse.areas import add_areas
    from upward.warehouse.replicates import add_replicates
    from upward.warehouse.workspace import Workspace

    ws = Workspace.open(copy_build(demo_build() / "ws", tmp_path_factory.mktemp("areas") / "ws"))
    add_replicates(ws, tables=None, state="99", from_dir=ws.root / "demo-data" / "replicates")
    add_areas(ws, "districts", ws.root / "demo-data" / "areas" / "demo_districts.geojson")
    return ws


@pytest.fixture(scope="module")
def area_site(area_workspace):
    from tests.support.web import app_for, live_server

    with live_server(app_for(area_workspace)) as base:
        yield base


@needs_data
def test_place_page_opens_with_the_summary(page, real_site):  # noqa: F811
    page.goto(f"{real_site}/places/{TULSA}")
    summary = page.locator("section.summary")
    assert summary.count() == 1
    # the summary comes before the scorecard, and every sentence links to its evidence
    order = page.evaluate("() => [...document.querySelectorAll('section.summary, "
                          "#scorecard-heading')].map(e => e.tagName)")
    assert order[0] == "SECTION"
    sentences = summary.locator(".summary-sentence")
    assert 3 <= sentences.count() <= 5
    assert summary.locator("a.evidence").count() == sentences.count()
    assert summary.locator("abbr[title]").count() >= 2
    assert "worse than" in page.locator("#table-scorecard").inner_text()
    assert _axe(page) == []
    _shot(page, "place-summary-desktop")
    with page.expect_navigation():
        summary.locator("a.evidence[href*='barriers']").first.click()
    assert "/barriers" in page.url


@needs_data
def test_compare_page_with_the_form_and_the_table(page, real_site):  # noqa: F811
    page.goto(f"{real_site}/compare")
    assert _axe(page) == []
    page.fill("#place-1", "Tulsa, OK")
    page.fill("#place-2", "Oklahoma City, OK")
    page.fill("#place-3", "Wichita, KS")
    with page.expect_navigation():
        page.click(".compare-form button[type=submit]")
    assert "places=Tulsa" in page.url
    tables = page.locator("table.compare")
    assert tables.count() >= 3
    text = tables.first.inner_text()
    assert "Tulsa" in text and "Oklahoma City" in text and "Wichita" in text
    assert page.locator("table.compare td .standing-better, table.compare td "
                        ".standing-worse").count() > 0
    assert _axe(page) == []
    _shot(page, "compare-desktop")


def test_compare_page_with_a_district_and_its_city(page, area_site, tmp_path):  # noqa: F811
    page.goto(f"{area_site}/compare")
    page.fill("#place-1", "Demo City")
    page.fill("#place-2", "District 3")
    page.fill("#place-3", "District 1")
    with page.expect_navigation():
        page.click(".compare-form button[type=submit]")
    heads = page.locator("table.compare").first.locator("thead th").all_inner_texts()
    assert [h.split(" (")[0] for h in heads[1:]] == ["Demo City", "District 3", "District 1"]
    notices = page.locator("p.notice").all_inner_texts()
    assert any("District 3 lies inside Demo City" in n for n in notices)
    # the method is one click away, and every pillar's table has the same column widths
    assert not page.locator("details.method p").first.is_visible()
    page.click("details.method summary")
    assert "replicate estimates" in page.locator("details.method").inner_text()
    widths = page.evaluate("() => [...document.querySelectorAll('table.compare')].map(t => "
                           "[...t.querySelectorAll('thead th')].map(th => "
                           "Math.round(th.getBoundingClientRect().width)))")
    assert len(widths) >= 2 and all(w == widths[0] for w in widths)
    assert _axe(page) == []
    _shot(page, "compare-area-desktop")
    with page.expect_download() as download:
        page.click("a[href^='/compare/table.csv']")
    saved = tmp_path / "compare.csv"
    download.value.save_as(saved)
    assert "area:districts:district-3" in saved.read_text(encoding="utf-8")


def test_brief_map_is_readable_in_the_browser(page, area_workspace, tmp_path):  # noqa: F811
    """The briefing's map at Letter width, as printed: the map at least 300 px wide (a column
    of the page), every tract drawn, the legend's text at least 9 px, and no axe violation."""
    out = tmp_path / "brief.html"
    done = run_cli("report", "Demo City", "--brief", "-o", str(out),
                   "-w", str(area_workspace.root))
    assert done.returncode == 0, done.stderr
    page.set_viewport_size({"width": 726, "height": 973})  # Letter less the page's margins
    page.emulate_media(media="print")
    try:
        page.goto(out.as_uri())
        box = page.locator("svg#brief-map").bounding_box()
        assert box["width"] >= 300 and box["height"] >= 150
        assert page.locator("svg#brief-map path[data-geo-id]").count() > 50
        sizes = page.evaluate("() => [...document.querySelectorAll('svg#brief-map text')]"
                              ".map(t => t.getBoundingClientRect().height)")
        assert sizes and min(sizes) >= 9
        assert _axe(page) == []
        _shot(page, "brief-demo-print")
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 900})
