"""Printing a report to PDF (and to a PNG screenshot) with headless Chromium.

The reports draw their charts with plotly.js, so the printer must run JavaScript: headless
Chromium does (WeasyPrint does not). Chromium runs with a fresh profile folder, no network
services, and a virtual-time budget so the charts have drawn before the page is printed.
The browser is ``$UPWARD_CHROMIUM`` when set, else ``chromium`` / ``chromium-browser`` /
``google-chrome`` on the PATH, else ``/usr/bin/chromium``.

Examples
--------
>>> html_to_pdf("reports/tulsa.html", "reports/tulsa.pdf")  # doctest: +SKIP
PosixPath('reports/tulsa.pdf')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from upward.core.errors import UpwardError

ENV_VAR = "UPWARD_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")
#: Milliseconds of virtual time Chromium lets scripts run before printing: plotly draws in
#: well under a second, maps included.
VIRTUAL_TIME_MS = 15000
TIMEOUT_S = 180
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--run-all-compositor-stages-before-draw",
)


class ChromiumError(UpwardError):
    """Chromium is missing or failed to print the page.

    >>> html = Path(tempfile.mkdtemp()) / "report.html"
    >>> _ = html.write_text("<p>Report</p>")
    >>> saved = os.environ.get("UPWARD_CHROMIUM")
    >>> os.environ["UPWARD_CHROMIUM"] = "/no/such/chromium"
    >>> html_to_pdf(html, html.with_suffix(".pdf"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.report.pdf.ChromiumError: $UPWARD_CHROMIUM is /no/such/chromium, which is not an executable file. ...
    >>> if saved is None: del os.environ["UPWARD_CHROMIUM"]
    ... else: os.environ["UPWARD_CHROMIUM"] = saved
    """


def find_chromium() -> str:
    """The Chromium executable to use; ChromiumError naming the fix when there is none.

    >>> import os
    >>> saved = os.environ.get("UPWARD_CHROMIUM")
    >>> os.environ["UPWARD_CHROMIUM"] = "/no/such/chromium"
    >>> find_chromium()
    Traceback (most recent call last):
    ...
    upward.report.pdf.ChromiumError: $UPWARD_CHROMIUM is /no/such/chromium, which is not an executable file. What to do: point UPWARD_CHROMIUM at a Chromium or Chrome binary, or unset it to use chromium from the PATH (Debian/Ubuntu: apt-get install chromium)
    >>> if saved is None: del os.environ["UPWARD_CHROMIUM"]
    ... else: os.environ["UPWARD_CHROMIUM"] = saved
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ChromiumError(
            f"${ENV_VAR} is {configured}, which is not an executable file",
            fix=f"point {ENV_VAR} at a Chromium or Chrome binary, or unset it to use chromium "
                "from the PATH (Debian/Ubuntu: apt-get install chromium)")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumError(
        "no Chromium browser found to print the PDF (looked for $UPWARD_CHROMIUM, "
        + ", ".join(CANDIDATES) + ")",
        fix="install it (Debian/Ubuntu: apt-get install chromium) or set UPWARD_CHROMIUM to "
            "a Chromium or Chrome binary; the HTML report does not need it")


def _run(html_path: Path, output_flag: str, out_path: Path, extra: tuple[str, ...] = (),
         timeout: float = TIMEOUT_S) -> Path:
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise ChromiumError(f"{html_path} does not exist", fix="render the HTML report first")
    out_path = Path(out_path).resolve()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="upward-chromium-") as profile:
        partial = Path(profile) / f"out{out_path.suffix}"
        command = [browser, *FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={VIRTUAL_TIME_MS}", *extra,
                   f"{output_flag}={partial}", html_path.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"Chromium did not finish printing {html_path} in {timeout:.0f} s",
                                fix="try again on a less busy machine") from None
        except OSError as exc:
            raise ChromiumError(f"cannot run {browser}: {exc}",
                                fix=f"reinstall Chromium or set {ENV_VAR}") from None
        if not partial.is_file() or partial.stat().st_size == 0:
            tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
            raise ChromiumError(f"Chromium wrote no output for {html_path} (exit code "
                                f"{done.returncode}): {tail}",
                                fix=f"check that {browser} runs headless on this machine")
        shutil.move(str(partial), out_path)
    return out_path


def html_to_pdf(html_path: Path | str, pdf_path: Path | str, *,
                timeout: float = TIMEOUT_S) -> Path:
    """Print an HTML file to PDF with headless Chromium (US Letter, no browser header or
    footer, backgrounds printed). The PDF appears whole or not at all.

    >>> html_to_pdf("missing.html", "x.pdf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.report.pdf.ChromiumError: .../missing.html does not exist. What to do: render the HTML report first
    """
    out = _run(Path(html_path), "--print-to-pdf", Path(pdf_path),
               ("--no-pdf-header-footer", "--print-to-pdf-no-header"), timeout)
    with out.open("rb") as f:
        if f.read(5) != b"%PDF-":
            out.unlink(missing_ok=True)
            raise ChromiumError(f"Chromium's output for {html_path} is not a PDF",
                                fix="check the Chromium installation")
    return out


def screenshot(html_path: Path | str, png_path: Path | str, *, width: int = 1280,
               height: int = 4000, timeout: float = TIMEOUT_S) -> Path:
    """A PNG of the page as a browser window of ``width`` × ``height`` pixels shows it (for
    checking a report by eye).

    >>> screenshot("missing.html", "x.png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.report.pdf.ChromiumError: .../missing.html does not exist. What to do: render the HTML report first
    """
    return _run(Path(html_path), "--screenshot", Path(png_path),
                (f"--window-size={width},{height}",), timeout)


def pdf_page_count(pdf_path: Path | str) -> int:
    """The number of pages of a PDF, counted from its page objects (``/Type /Page``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.pdf"
    >>> _ = p.write_bytes(b"%PDF-1.4 /Type /Pages /Type /Page /Type/Page")
    >>> pdf_page_count(p)
    2
    """
    import re

    data = Path(pdf_path).read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
