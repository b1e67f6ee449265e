"""The plain-language summary and the compare page in headless Chromium (#12), desktop width,
with axe checks and screenshots (test-artifacts/screenshots/), on the real public files."""

from __future__ import annotations

from tests.conftest import needs_data
from tests.support.browser import BROWSER_MARKS
from tests.test_web_browser import TULSA, _axe, _shot, browser, page, real_site  # noqa: F401

pytestmark = [*BROWSER_MARKS, needs_data]


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
