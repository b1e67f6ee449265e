"""The shared server in a real headless Chromium with JavaScript off (every page works without
it): an analyst signs in, uploads a program file, previews and loads it, runs an evaluation and
reads the result; an admin publishes it; a viewer then sees it. axe-core checks each page (no
serious or critical violation); screenshots go to test-artifacts/screenshots/server-*.png."""

from __future__ import annotations

import pytest
from tests.support.browser import AXE, BROWSER_MARKS, SCREENSHOTS
from tests.support.server import PASSWORD, make_server, pilot_csv
from tests.support.web import live_server

pytestmark = [*BROWSER_MARKS]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("browser"))
    with live_server(server.app) as base:
        yield base


def _context(chromium, javascript: bool):
    context = chromium.new_context(viewport={"width": 1280, "height": 900},
                                   java_script_enabled=javascript)
    context.set_default_timeout(120_000)
    return context


def _check(page, name: str) -> list[dict]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"server-{name}.png"), full_page=True)
    # axe runs in a context of its own with JavaScript on, over the same HTML
    html = page.content()
    checker = page.context.browser.new_context()
    try:
        p = checker.new_page()
        p.set_content(html)
        p.add_script_tag(path=str(AXE))
        result = p.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        checker.close()
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit] >> text=Sign in")


def test_an_analyst_evaluates_in_the_browser_and_a_viewer_sees_it_once_published(
        chromium, site, tmp_path):
    violations = {}
    context = _context(chromium, javascript=False)
    page = context.new_page()
    page.goto(f"{site}/login")
    violations["login"] = _check(page, "login")
    _sign_in(page, site, "ana")
    violations["account"] = _check(page, "account")
    page.goto(f"{site}/t/tulsa/programs")
    violations["programs"] = _check(page, "programs")
    data = tmp_path / "pilot.csv"
    data.write_bytes(pilot_csv(200, marker="browser"))
    page.set_input_files("#file", str(data))
    page.click("text=Upload and preview")
    assert "Load this file" in page.inner_text("main")
    violations["preview"] = _check(page, "preview")
    page.click("text=Load this file")
    page.fill("#name", "browser-pilot")
    page.select_option("#design", "rct")
    page.fill("#f-outcome", "y")
    page.fill("#f-treatment", "treated")
    violations["evaluate-form"] = _check(page, "evaluate-form")
    page.click("text=Run the evaluation")
    assert "ATE on y" in page.inner_text("main")
    violations["evaluation"] = _check(page, "evaluation")
    evaluation = page.url
    context.close()

    viewer = _context(chromium, javascript=False)
    v = viewer.new_page()
    _sign_in(v, site, "vic")
    assert v.goto(evaluation).status == 404
    admin = _context(chromium, javascript=False)
    a = admin.new_page()
    _sign_in(a, site, "adm")
    a.goto(evaluation)
    a.click("text=Publish to viewers")
    a.goto(f"{site}/t/tulsa/admin")
    violations["admin"] = _check(a, "admin")
    assert "browser-pilot" in v.goto(f"{site}/t/tulsa").text() or \
        "browser-pilot" in v.inner_text("main")
    violations["tenant"] = _check(v, "tenant")
    assert v.goto(evaluation).status == 200
    anonymous = _context(chromium, javascript=False).new_page()
    anonymous.goto(evaluation)
    assert anonymous.url.startswith(f"{site}/login")
    admin.close()
    viewer.close()
    assert {k: x for k, x in violations.items() if x} == {}
