"""The web application in a real headless Chromium (Playwright), served by uvicorn on loopback
from the real-data workspace and the demo workspace.

A person searches for Tulsa (with the type-ahead, and with the plain form with JavaScript
off), reads its scorecard (the numbers equal the API's profile), opens the map (one drawn shape
per tract with a shape, a hover label and a legend), downloads a table as CSV, and gets around
with the keyboard alone. axe-core (node_modules/axe-core, ``npm ci``) checks every page type:
no serious or critical violation is allowed. A screenshot of each page is saved in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv

import httpx
import pytest
from tests.conftest import needs_data
from tests.support.browser import AXE, BLOCKING, BROWSER_MARKS, SCREENSHOTS
from tests.support.web import DEMO_PLACE, app_for, demo_workspace, live_server

TULSA, ROCHESTER = "4075000", "3663000"

# one worker runs these modules: one browser and one served app per site per session
pytestmark = [*BROWSER_MARKS]

sync_api = pytest.importorskip("playwright.sync_api")


def _context(chromium, **options):
    context = chromium.new_context(viewport={"width": 1280, "height": 900},
                                   accept_downloads=True, **options)
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(240_000)
    return context


@pytest.fixture(scope="session")
def browser(chromium):
    context = _context(chromium)
    yield context
    context.close()


@pytest.fixture(scope="session")
def real_site(real_workspace):
    with live_server(app_for(real_workspace)) as base:
        yield base


@pytest.fixture(scope="session")
def demo_site():
    """The workspace ``upward demo`` makes (this process's copy, never changed by a test):
    the demo city, its pilots' evaluations and the published studies in the library."""
    with live_server(app_for(demo_workspace())) as base:
        yield base


@pytest.fixture(scope="session")
def evidence_site(demo_site):
    """The evidence pages are served from the demo workspace, which holds the library."""
    return demo_site


@pytest.fixture
def page(browser):
    page = browser.new_page()
    failures: list[str] = []
    # A type-ahead request still in flight when the page navigates is aborted (ERR_ABORTED):
    # that is the browser leaving the page, not a failure.
    page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
            else failures.append(f"{r.url}: {r.failure}"))
    page.on("pageerror", lambda e: failures.append(f"script error: {e}"))
    yield page
    page.close()
    assert not failures, failures


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in BLOCKING]


def _charts_drawn(page) -> None:
    if page.locator(".chart").count():
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart .js-plotly-plot')]"
            ".every(d => d.querySelector('.main-svg'))")


# -- search ---------------------------------------------------------------------------------------
@needs_data
def test_type_ahead_finds_tulsa(page, real_site):
    page.goto(real_site + "/")
    box = page.locator("#q")
    box.press_sequentially("Tuls", delay=40)
    first = page.locator("#q-listbox [role=option]").first
    first.wait_for()
    assert "Tulsa city, Oklahoma" in first.inner_text()
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "q-listbox-0"
    with page.expect_navigation():
        box.press("Enter")
    assert page.url == f"{real_site}/places/{TULSA}"
    _shot(page, "search-type-ahead")


@needs_data
def test_plain_search_form_works_without_javascript(chromium, real_site):
    context = _context(chromium, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(real_site + "/")
        page.fill("#q", "tulsa ok")
        with page.expect_navigation():
            page.click("#search-form button[type=submit]")
        assert page.url == f"{real_site}/places/{TULSA}"
        assert page.locator("#table-scorecard tr[data-key]").count() > 30
        _shot(page, "place-without-javascript")
    finally:
        context.close()


# -- the numbers ---------------------------------------------------------------------------------
@needs_data
def test_scorecard_on_the_page_equals_the_api_profile(page, real_site):
    profile = httpx.get(f"{real_site}/api/places/{TULSA}/profile", timeout=240).json()
    page.goto(f"{real_site}/places/{TULSA}")
    shown = page.eval_on_selector_all(
        "#table-scorecard tr[data-key]",
        "rows => rows.map(r => [r.dataset.key, r.querySelector('td[data-value]').dataset.value,"
        " r.querySelector('td[data-value]').innerText])")
    from upward.measure.render import format_value

    assert [k for k, _, _ in shown] == [m["metric_id"] for m in profile["metrics"]]
    for (_, value, text), m in zip(shown, profile["metrics"], strict=True):
        assert float(value) == m["estimate"]
        assert text == format_value(m["estimate"], m["unit"])


@needs_data
def test_map_draws_one_shape_per_tract_with_hover_and_legend(page, real_site):
    tracts = httpx.get(f"{real_site}/api/places/{TULSA}/tracts", timeout=240).json()
    page.goto(f"{real_site}/places/{TULSA}/map")
    shapes = page.locator("#tract-map path.choroplethlocation")
    shapes.first.wait_for()
    assert shapes.count() == tracts["n_mapped"] == tracts["n_tracts"] == 132
    assert page.locator("#tract-map .colorbar").count() == 1
    box = shapes.nth(60).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator("#tract-map .hoverlayer .hovertext")
    label.first.wait_for()
    text = label.first.text_content()
    assert "GEOID" in text and "$" in text
    _shot(page, "map-tulsa")


@needs_data
def test_scorecard_downloads_as_csv(page, real_site, tmp_path):
    page.goto(f"{real_site}/places/{TULSA}")
    with page.expect_download() as info:
        page.click(f"#block-scorecard a[href='/places/{TULSA}/tables/scorecard.csv']")
    download = info.value
    assert download.suggested_filename == f"{TULSA}_scorecard.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    profile = httpx.get(f"{real_site}/api/places/{TULSA}/profile", timeout=60).json()
    assert [float(r["estimate"]) for r in rows] == [m["estimate"] for m in profile["metrics"]]
    assert {r["pillar"] for r in rows} == {m["pillar"] for m in profile["metrics"]}


# -- keyboard -------------------------------------------------------------------------------------
def _focused(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {tag: e.tagName, id: e.id, href: e.getAttribute('href') || '',"
        " text: (e.innerText || '').trim(), outline: s.outlineStyle + ' ' + s.outlineWidth}; }")


@needs_data
def test_keyboard_alone_reaches_the_search_box_and_a_link(page, real_site):
    page.goto(real_site + "/")
    page.keyboard.press("Tab")
    skip = _focused(page)
    assert skip["text"] == "Skip to main content" and skip["outline"].split()[0] != "none"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    page.keyboard.press("Tab")
    box = _focused(page)
    assert box["id"] == "q" and box["outline"].split()[0] != "none"
    page.keyboard.type("tulsa ok")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{real_site}/places/{TULSA}"
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if "/metrics/" in focused["href"]:
            break
    else:
        pytest.fail("60 presses of Tab never reached a metric link of the scorecard")
    assert focused["outline"].split()[0] != "none"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{real_site}{focused['href']}"


# -- accessibility of every page type --------------------------------------------------------------
REAL_PAGES = {
    "home": "/",
    "state": "/states/40",
    "place": f"/places/{TULSA}",
    "metric": f"/places/{TULSA}/metrics/pctl_income_50",
    "map": f"/places/{TULSA}/map",
    "map-no-geometry": f"/places/{ROCHESTER}/map",
    "choose": "/places?q=Rochester",
    "not-found": "/places?q=Tusla",
    "bad-parameter": f"/places/{TULSA}/map?metric=share_employed",
    "catalog": "/metrics",
    "metric-info": "/metrics/kfr_p25",
    "api-reference": "/docs",
}
DEMO_PAGES = {
    "demo-place": f"/places/{DEMO_PLACE}",
    "demo-map": f"/places/{DEMO_PLACE}/map",
    "demo-metric": f"/places/{DEMO_PLACE}/metrics/share_employed",
}
EVIDENCE_PAGES = {  # page: (path, text the page must show)
    "evidence-list": ("/evidence", "National Supported Work"),
    "evidence-filtered": ("/evidence?policy_area=workforce", "National Supported Work"),
    "evidence-ratings": ("/evidence/ratings", "How evidence ratings are decided"),
    "evidence-intervention": ("/evidence/national-supported-work", "Dehejia"),
    "evidence-demo-pilot": ("/evidence/demo-job-training", "SYNTHETIC"),
    "evidence-searched": ("/evidence?domain=earnings&design=rct&q=supported",
                          "National Supported Work"),
}
SLOW_PAGES = {  # the first barrier report in a process compiles esda's kernels (numba)
    "barriers": f"/places/{TULSA}/barriers",
    "demo-barriers": f"/places/{DEMO_PLACE}/barriers",
    "demo-recommend": f"/places/{DEMO_PLACE}/recommend",
}


def _check_page(page, base: str, name: str, path: str) -> list[dict]:
    page.goto(base + path)
    _charts_drawn(page)
    _shot(page, name)
    return _axe(page)


@needs_data
@pytest.mark.parametrize("name", sorted(REAL_PAGES))
def test_no_serious_accessibility_violation(page, real_site, name):
    assert _check_page(page, real_site, name, REAL_PAGES[name]) == []


@pytest.mark.parametrize("name", sorted(DEMO_PAGES))
def test_no_serious_accessibility_violation_demo(page, demo_site, name):
    assert _check_page(page, demo_site, name, DEMO_PAGES[name]) == []


@pytest.mark.parametrize("name", sorted(EVIDENCE_PAGES))
def test_no_serious_accessibility_violation_evidence(page, evidence_site, name):
    path, text = EVIDENCE_PAGES[name]
    assert _check_page(page, evidence_site, name, path) == []
    assert text in page.inner_text("main")


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_PAGES))
def test_no_serious_accessibility_violation_barriers(page, real_site, demo_site, name):
    base = demo_site if name.startswith("demo") else real_site
    violations = _check_page(page, base, name, SLOW_PAGES[name])
    assert violations == []
    assert page.locator("ol.findings li, ol.candidates li").count() > 0 or \
        "No metric is significantly" in page.inner_text("main")
