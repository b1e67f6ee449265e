"""The place report: one self-contained HTML file whose numbers are the profile's, whose map
has one shape per Tulsa tract, that Chromium draws offline and prints to a multi-page PDF, for
all ten cities and the demo city, and through ``upward report``.
"""

from __future__ import annotations

import re
import shutil

import pytest
from tests.conftest import TEN_CITIES, needs_data, run_cli

from upward.measure.profile import build_profile
from upward.measure.render import format_value
from upward.measure.series import tract_map
from upward.report import charts
from upward.report.page import render_page
from upward.report.pdf import ChromiumError, find_chromium, html_to_pdf, pdf_page_count, screenshot
from upward.report.place import render_place_report, write_place_report
from upward.report.svg import figure_svg

try:
    find_chromium()
    HAVE_CHROMIUM = True
except ChromiumError:
    HAVE_CHROMIUM = False
needs_chromium = pytest.mark.skipif(not HAVE_CHROMIUM,
                                    reason="no Chromium (apt-get install chromium or set "
                                           "UPWARD_CHROMIUM)")

EXTERNAL = re.compile(r"""<(?:script|img|iframe|source|audio|video|embed)[^>]*\ssrc=["']?(?:https?:)?//"""
                      r"""|<link[^>]*href=["']?(?:https?:)?//|url\(["']?(?:https?:)?//""", re.I)


def map_shapes(html: str, svg_id: str) -> list[str]:
    """The GEOIDs of the tract shapes drawn in the inline SVG ``svg_id`` of the page."""
    start = html.index(f'<svg id="{svg_id}"')
    svg = html[start:html.index("</svg>", start)]
    return re.findall(r'<path data-geo-id="(\d+)" d="M', svg)


@pytest.fixture(scope="module")
def tulsa_html(real_warehouse):
    return render_place_report(real_warehouse, "Tulsa, OK")


@needs_data
def test_tulsa_report_is_self_contained(tulsa_html):
    html = tulsa_html
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert EXTERNAL.search(html) is None
    # The charts and the map are inline SVG: no script to load, online or not, and a small file.
    assert "<script" not in html and len(html) < 1_500_000
    assert html.count('<figure class="chart"') >= 5 and '<svg id="tract-map"' in html
    for section in ("overview", "scorecard", "barriers", "neighbourhoods", "trends", "sources"):
        assert f'<h2 id="{section}">' in html
    assert "Synthetic data" not in html


@needs_data
def test_tulsa_map_has_one_location_per_tract_with_geometry(tulsa_html, real_warehouse):
    tmap = tract_map(real_warehouse, "4075000", "place")
    locations = map_shapes(tulsa_html, "tract-map")
    assert len(locations) == len(set(locations)) == tmap.n_tracts - len(tmap.missing_geometry)
    assert sorted(locations) == sorted(f["id"] for f in tmap.geojson["features"])
    assert len(locations) == tmap.n_mapped


@needs_data
def test_scorecard_numbers_are_the_profile_numbers(tulsa_html, real_warehouse):
    profile = build_profile(real_warehouse, "Tulsa, OK")
    rows = re.findall(r'<tr data-metric="([a-z0-9_]+)">\s*<th scope="row">[^<]*</th>\s*'
                      r'<td class="num" data-estimate="([^"]+)">([^<]+)</td>\s*'
                      r'<td class="num">([^<]+)</td>', tulsa_html)
    assert len(rows) == len(profile.metrics)
    for (metric_id, estimate, value, interval), m in zip(rows, profile.metrics, strict=True):
        assert metric_id == m.metric_id
        assert float(estimate) == m.estimate
        assert value.replace("&#39;", "'") == format_value(m.estimate, m.unit)
        expected = (f"{format_value(m.lb, m.unit)}–{format_value(m.ub, m.unit)}"
                    if m.lb is not None and m.ub is not None else "not published")
        assert interval == expected
    # Every scorecard row names its source release and gives the quality in words.
    assert tulsa_html.count('<abbr title="Urban Institute') == len(profile.metrics)
    assert "$64,739" in tulsa_html and "$61,375–$66,880" in tulsa_html


@needs_data
def test_barriers_and_sources_are_in_the_report(tulsa_html, real_warehouse):
    from upward.diagnose.report import build_barriers

    report = build_barriers(real_warehouse, "Tulsa, OK", include_drivers=False,
                            include_neighbourhoods=False)
    from html import escape

    for f in report.findings:
        assert escape(f.sentence) in tulsa_html
    for peer in report.peers.peers:
        assert escape(peer.name) in tulsa_html
    for dataset in ("urban.place_longitudinal@", "atlas.tract_kfr_dollars@", "census.tracts.40@"):
        assert dataset in tulsa_html
    # Moran's I as the neighbourhood diagnosis computes it (global, 999 permutations).
    assert "Global Moran&#39;s I = 0.64" in tulsa_html


@needs_data
@pytest.mark.slow
def test_all_ten_cities_render(real_warehouse, tmp_path):
    for city, geo_id in TEN_CITIES.items():
        path = write_place_report(real_warehouse, city, tmp_path / f"{geo_id}.html")
        html = path.read_text(encoding="utf-8")
        assert f"(GEOID {geo_id})" in html, city
        if city == "Rochester, NY":
            assert "Tract geometry is missing" in html and 'id="tract-map"' not in html
            assert "upward fetch tracts --state 36" in html
        else:
            assert 'id="tract-map"' in html, city


@needs_data
@needs_chromium
@pytest.mark.slow
def test_pdf_is_printed_with_chromium(tulsa_html, tmp_path):
    html = tmp_path / "tulsa.html"
    html.write_text(tulsa_html, encoding="utf-8")
    pdf = html_to_pdf(html, tmp_path / "tulsa.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_page_count(pdf) > 3 and pdf.stat().st_size > 100_000


@needs_data
@needs_chromium
@pytest.mark.slow
def test_the_map_draws_shapes_offline(real_warehouse, tmp_path):
    """Chromium (no network) screenshots the map alone, as the report draws it (inline SVG):
    the tracts must be painted in the colour scale."""
    pil = pytest.importorskip("PIL.Image")
    tmap = tract_map(real_warehouse, "4075000", "place")
    page = render_page("map", figure_svg(charts.choropleth(tmap), "m"), with_charts=False)
    path = tmp_path / "map.html"
    path.write_text(page, encoding="utf-8")
    image = pil.open(screenshot(path, tmp_path / "map.png", width=1000, height=800)).convert("RGB")
    # The map area, left of the colour bar.
    region = image.crop((0, 150, 700, 750))
    pixels = getattr(region, "get_flattened_data", region.getdata)()
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 25 or max(r, g, b) < 180)
    assert coloured > 0.08 * region.width * region.height


def test_missing_chromium_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setenv("UPWARD_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(ChromiumError, match="UPWARD_CHROMIUM"):
        find_chromium()
    monkeypatch.delenv("UPWARD_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ChromiumError, match="apt-get install chromium"):
        find_chromium()


# -- the demo city -------------------------------------------------------------------------------
@pytest.fixture
def demo_workspace(demo_copy):
    """A private copy of the demo workspace (the CLI test writes a report into it)."""
    return demo_copy


def test_demo_report_and_charts(demo_workspace):
    from upward.demo import CITY_GEO_ID
    from upward.warehouse.store import Warehouse

    with Warehouse(demo_workspace.warehouse_path, read_only=True) as wh:
        tmap = tract_map(wh, CITY_GEO_ID, "place")
        assert tmap.n_tracts > 0 and tmap.n_mapped == tmap.n_tracts
        fig = charts.choropleth(tmap)
        assert sum(len(t.locations) for t in fig.data if t.type == "choropleth") == tmap.n_mapped
        html = render_place_report(wh, CITY_GEO_ID)
    assert "Synthetic data" in html and EXTERNAL.search(html) is None
    assert len(map_shapes(html, "tract-map")) == tmap.n_mapped


@pytest.mark.slow
def test_cli_writes_the_demo_report_to_the_workspace(demo_workspace):
    done = run_cli("report", "9900100", "-w", str(demo_workspace.root))
    assert done.returncode == 0, done.stderr
    written = list(demo_workspace.reports_dir.glob("*.html"))
    assert [p.name for p in written] == ["demo-city-city-demo-state-synthetic.html"]
    assert "Synthetic data" in written[0].read_text(encoding="utf-8")


@needs_data
@pytest.mark.slow
def test_cli_tulsa_report(real_workspace, tmp_path):
    out = tmp_path / "x.html"
    done = run_cli("report", "Tulsa, OK", "-o", str(out), "-w", str(real_workspace.root))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "Tulsa city, Oklahoma" in html and 'id="tract-map"' in html
    bad = run_cli("report", "Nowhere, ZZ", "-w", str(real_workspace.root))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "Nowhere" in bad.stderr
