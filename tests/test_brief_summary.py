"""The plain-language summary and the 80-column terminal (#12), on the real public files."""

from __future__ import annotations

import io
import re

import pytest
from tests.conftest import needs_data

pytestmark = [needs_data, pytest.mark.realdata]


@pytest.fixture(scope="module")
def tulsa(real_warehouse):
    from upward.diagnose.report import build_barriers
    from upward.diagnose.summary import summarise
    from upward.measure.profile import build_profile

    report = build_barriers(real_warehouse, "Tulsa, OK", include_drivers=False)
    profile = build_profile(real_warehouse, "Tulsa, OK")
    return report, profile, summarise(real_warehouse, report, profile)


def test_summary_sentences_come_from_the_findings(tulsa):
    report, profile, summary = tulsa
    assert 3 <= len(summary.sentences) <= 5
    evidence = [s.evidence for s in summary.sentences]
    assert evidence[0] == "scorecard" and "barriers" in evidence
    barriers = next(s.text for s in summary.sentences if s.evidence == "barriers")
    assert report.findings and report.findings[0].label in barriers
    # who is furthest behind: the most negative significant Atlas gap, in words
    worst = min((d for d in report.disparities if d.metric_id == "kfr_p25"
                 and d.p_value is not None and d.p_value < 0.05), key=lambda d: d.difference)
    who = next(s.text for s in summary.sentences if s.evidence == "disparities")
    assert who.startswith({"black": "Black", "hisp": "Hispanic"}.get(worst.group, "?"))
    assert f"{100 * abs(worst.difference):.0f} points" in who
    # where: the city's lowest tract value, in dollars
    where = next(s.text for s in summary.sentences if s.evidence == "neighbourhoods")
    low = {x.metric_id: x for x in profile.tracts}["kfr_dollars_p25"].min
    assert f"${low:,.0f}" in where
    assert {"kfr", "p25"} <= set(summary.terms)


def test_summary_html_links_every_sentence_and_defines_jargon(tulsa):
    from upward.report.summary import summary_html

    _, _, summary = tulsa
    links = {k: f"#{k}" for k in ("scorecard", "outcomes", "barriers", "disparities",
                                  "neighbourhoods")}
    html = str(summary_html(summary, links))
    assert html.count('class="evidence"') == len(summary.sentences)
    assert re.search(r'<abbr title="[^"<]+">kfr</abbr>', html)
    assert "<abbr title=\"children whose parents" in html
    assert html.count("<abbr") == len(summary.terms)  # first use only; never nested


def _render(width: int, renderables) -> str:
    from rich.console import Console

    from upward.measure.render import fitted

    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    for r in renderables:
        console.print(fitted(console, r))
    return console.export_text()


def test_terminal_fits_80_columns_without_splitting_words(tulsa):
    from upward.diagnose.render import rich_tables as barrier_tables
    from upward.diagnose.render import summary_panel
    from upward.measure.render import rich_tables

    report, profile, summary = tulsa
    text = _render(80, [summary_panel(summary), *barrier_tables(report), *rich_tables(profile)])
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(re.findall(r"[A-Za-z]{4,}", text))
    for m in profile.metrics:
        for word in re.findall(r"[A-Za-z]{4,}", m.label):
            assert word in words, (m.label, word)  # a split word would be missing whole
    for s in summary.sentences:
        for word in re.findall(r"[A-Za-z]{4,}", s.text):
            assert word in words, word
    assert "worse than" in text and "Lowest tracts" in text


def test_barriers_terminal_keeps_the_neighbourhood_block_without_geometry(real_warehouse):
    """#12.6: Rochester has no tract geometry in the shared files (NY is absent), so Moran's I
    cannot be computed; the block still shows, with the lowest tracts and the reason."""
    from upward.diagnose.render import rich_tables as barrier_tables
    from upward.diagnose.report import build_barriers

    report = build_barriers(real_warehouse, "Rochester, NY")
    assert report.neighbourhoods and not report.neighbourhoods.get("moran")
    text = _render(120, barrier_tables(report))
    assert "Neighbourhoods" in text and "Lowest tracts" in text
    assert "no tract geometry loaded for state 36" in text
    assert "Drivers of" in text
    lowest = report.neighbourhoods["lowest_tracts"][0]["geo_id"]
    assert lowest in text
    findings = text.split("Trends")[0]
    numbers = [int(n) for n in re.findall(r"^│\s+(\d{1,2}) │", findings, flags=re.M)]
    assert numbers == list(range(1, len(report.findings) + 1))  # numbered in display order
