"""`upward report PLACE --brief`: the two-page briefing, and `--pdf` writing only the PDF
(#12), on the real public files."""

from __future__ import annotations

import shutil

import pytest
from tests.conftest import CHROMIUM, needs_data, run_cli

pytestmark = [needs_data, pytest.mark.realdata]
needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason=f"Chromium absent: {CHROMIUM}")


def test_brief_html_has_the_summary_and_key_numbers(real_workspace, tmp_path):
    out = tmp_path / "tulsa.html"
    done = run_cli("report", "Tulsa, OK", "--brief", "-o", str(out),
                   "-w", str(real_workspace.root))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "Briefing: Tulsa city, Oklahoma" in html and "In brief" in html
    assert html.count('class="evidence"') >= 3 and "<abbr title=" in html
    # the violent crime rate above 95% of cities reads as worse, in words and in colour
    row = html[html.index("Violent crimes per 100,000"):][:400]
    assert "standing-worse" in row and "worse than" in row
    assert list(tmp_path.iterdir()) == [out]


@needs_chromium
def test_brief_pdf_is_two_pages_and_alone(real_workspace, tmp_path):
    from upward.report.pdf import pdf_page_count

    out = tmp_path / "tulsa-brief.pdf"
    done = run_cli("report", "Tulsa, OK", "--brief", "--pdf", "-o", str(out),
                   "-w", str(real_workspace.root))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    assert 1 <= pdf_page_count(out) <= 2
    assert list(tmp_path.iterdir()) == [out]  # --pdf writes only the PDF
