"""The pages in a real headless Chromium in English and Spanish, at a desktop width and at a
phone's (390×844): axe-core finds no serious or critical violation in either language, the
scorecard reflows into cards on a phone (no sideways scrolling), the map draws its outline,
hatching and labels, the Excel download opens, and an embed page is drawn inside an iframe of
another page. A screenshot of each page, width and language is saved in
test-artifacts/screenshots/ (i18n-*.png).
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from tests.conftest import needs_data
from tests.support.browser import AXE, BLOCKING, BROWSER_MARKS, SCREENSHOTS
from tests.support.web import DEMO_PLACE, app_for, demo_workspace, live_server

TULSA = "4075000"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = [*BROWSER_MARKS]

pytest.importorskip("playwright.sync_api")

#: One page of each kind the brief names (overview, barriers, map, metric with its charts,
#: the catalog, and the two kinds of embed) and the compare, recommend and spending pages,
#: served from the demo workspace.
PAGES = {
    "overview": f"/places/{DEMO_PLACE}",
    "barriers": f"/places/{DEMO_PLACE}/barriers",
    "map": f"/places/{DEMO_PLACE}/map",
    "metric": f"/places/{DEMO_PLACE}/metrics/pctl_income_50",
    "catalog": "/metrics",
    "embed-map": f"/embed/places/{DEMO_PLACE}/map",
    "embed-peers": f"/embed/places/{DEMO_PLACE}/metrics/pctl_income_50/peers",
    "compare": f"/compare?places={DEMO_PLACE}&places=9935100",
    "recommend": f"/places/{DEMO_PLACE}/recommend",
    "spending": f"/places/{DEMO_PLACE}/spending",
}


@pytest.fixture(scope="module")
def site():
    with live_server(app_for(demo_workspace())) as base:
        yield base


@pytest.fixture(scope="module", params=sorted(WIDTHS))
def context(request, chromium):
    phone = request.param == "phone"
    context = chromium.new_context(viewport=WIDTHS[request.param], accept_downloads=True,
                                   is_mobile=phone, has_touch=phone)
    context.set_default_timeout(120_000)
    context.set_default_navigation_timeout(240_000)
    context.width_name = request.param
    yield context
    context.close()


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"] if v["impact"] in BLOCKING]


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"i18n-{name}.png"), full_page=True)


def _drawn(page) -> None:
    if page.locator(".js-plotly-plot").count():
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot')]"
            ".every(d => d.querySelector('.main-svg'))")


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("kind", sorted(PAGES))
def test_pages_pass_axe_in_both_languages_and_widths(context, site, kind, lang):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        prefix = "/es" if lang == "es" else ""
        page.goto(site + prefix + PAGES[kind])
        _drawn(page)
        assert page.get_attribute("html", "lang") == lang
        _shot(page, f"{kind}-{lang}-{context.width_name}")
        violations = _axe(page)
        assert not violations, violations
        if context.width_name == "phone" and not kind.startswith("embed"):
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390 + 1, f"{kind}: the page scrolls sideways on a phone ({width}px)"
        assert not errors, errors
    finally:
        page.close()


def test_the_scorecard_reflows_into_cards_on_a_phone(context, site):
    page = context.new_page()
    try:
        page.goto(f"{site}/es/places/{DEMO_PLACE}")
        row = page.locator("#table-scorecard tr[data-key]").first
        display = row.evaluate("r => getComputedStyle(r).display")
        cell = row.locator("td").first
        label = cell.evaluate("c => getComputedStyle(c, '::before').content")
        if context.width_name == "phone":
            assert display == "block" and "Valor" in label
            assert row.bounding_box()["width"] <= 390
        else:
            assert display == "table-row" and label in ("none", "normal")
    finally:
        page.close()


def test_the_map_shows_outline_hatching_labels_and_unit(context, site):
    page = context.new_page()
    try:
        page.goto(f"{site}/places/{DEMO_PLACE}/map")
        _drawn(page)
        legend = page.locator("#tract-map .legend").text_content()
        assert "Outline (union of its tracts)" in legend
        assert page.locator("#tract-map .scattergeo").count() >= 2
        assert "US dollars" in page.locator("#tract-map .colorbar").text_content()
        assert page.locator("#tract-map .scattergeo text").count() >= 1, "tract labels"
    finally:
        page.close()


def test_the_excel_download_opens(context, site, tmp_path):
    if context.width_name == "phone":
        pytest.skip("one download is enough (desktop)")
    page = context.new_page()
    try:
        page.goto(f"{site}/es/places/{DEMO_PLACE}")
        with page.expect_download() as info:
            page.click(f"#block-scorecard a[href='/es/places/{DEMO_PLACE}/tables/scorecard.xlsx']")
        download = info.value
        assert download.suggested_filename == f"{DEMO_PLACE}_scorecard.xlsx"
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        book = openpyxl.load_workbook(io.BytesIO(target.read_bytes()))
        assert book.sheetnames == ["data", "notes"]
        assert book["data"].max_row > 10 and "Intervalos" in dict(book["notes"].values)
    finally:
        page.close()


def test_an_embed_draws_inside_another_page(context, site):
    page = context.new_page()
    try:
        page.goto(f"{site}/places/{DEMO_PLACE}/metrics/pctl_income_50")
        page.locator("details.embed summary").first.click()
        code = page.locator("textarea.embed-code").first
        assert code.get_attribute("readonly") is not None
        snippet = code.input_value()
        assert snippet.startswith("<iframe src=\"http://") and "/embed/places/" in snippet
        page.set_content(f"<!DOCTYPE html><html lang='en'><title>host</title>"
                         f"<main><h1>Another site</h1>{snippet}</main></html>")
        frame = page.frame_locator("iframe")
        frame.locator(".js-plotly-plot .main-svg").first.wait_for()
        _shot(page, f"embed-in-iframe-{context.width_name}")
    finally:
        page.close()


@needs_data
def test_tulsa_in_spanish_on_a_phone_and_desktop(context, real_workspace):
    with live_server(app_for(real_workspace)) as base:
        page = context.new_page()
        try:
            for name, path in (("overview", f"/es/places/{TULSA}"),
                               ("map", f"/es/places/{TULSA}/map")):
                page.goto(base + path)
                _drawn(page)
                _shot(page, f"tulsa-{name}-es-{context.width_name}")
                assert not _axe(page)
        finally:
            page.close()
