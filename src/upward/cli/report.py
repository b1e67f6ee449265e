"""`upward report PLACE`: a self-contained HTML (or PDF) report.

Examples
--------
>>> import typer
>>> register(typer.Typer())
>>> report_filename("Tulsa city, Oklahoma")
'tulsa-city-oklahoma.html'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, open_workspace


def report_filename(name: str) -> str:
    """The default file name of a place's report, from its name.

    >>> report_filename("Demo City city, Demo State (synthetic)")
    'demo-city-city-demo-state-synthetic.html'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{slug or 'report'}.html"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``upward`` app.

    >>> register(typer.Typer())
    """

    @app.command("report")
    def report(
        place: Annotated[str, typer.Argument(help="A name ('Tulsa, OK', 'Tulsa city, "
                                              "Oklahoma') or a FIPS code (4075000).")],
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="File to write (a name ending in .pdf writes only the "
            "PDF). Default: the workspace's reports/ folder.", show_default=False)] = None,
        pdf: Annotated[bool, typer.Option(
            "--pdf", help="Write only the PDF, printed with headless Chromium "
            "($UPWARD_CHROMIUM or chromium on the PATH).")] = False,
        brief: Annotated[bool, typer.Option(
            "--brief", help="Write the two-page briefing (summary, key numbers, largest "
            "barriers, who and where) instead of the full report.")] = False,
        peers: Annotated[list[str] | None, typer.Option(
            "--peers", help="A comparison place (name or FIPS); repeat for several. "
            "Default: the k nearest.")] = None,
        k: Annotated[int, typer.Option("--k", help="Number of automatic peers.")] = 10,
        lang: Annotated[str, typer.Option(
            "--lang", help="Language of the report: en (English) or es (Spanish).")] = "en",
        workspace: WorkspaceOption = None,
    ) -> None:
        """Write a place's or county's report: scorecard, barriers, neighbourhood map,
        trends and sources in one HTML file that opens offline; --brief writes the two-page
        briefing; --pdf writes only the PDF.

        Example: upward report "Tulsa, OK" --brief --pdf -o tulsa-brief.pdf
        """
        import tempfile

        from upward.geo.resolve import resolve
        from upward.measure import frames
        from upward.report.brief import write_brief
        from upward.report.place import write_place_report
        from upward.warehouse.store import Warehouse

        if lang not in ("en", "es"):
            raise typer.BadParameter(f"{lang!r} is not a report language: use en or es",
                                     param_hint="--lang")
        ws = open_workspace(workspace)
        if output is not None and output.suffix.lower() == ".pdf":
            pdf = True
        from upward.measure.areas import find_area

        if find_area(ws, place) is not None:
            if brief:  # the area report is short already: its summary, measures and map
                console.print("note: a custom area has no separate two-page briefing; writing "
                              "its area report (summary, measures with margins, map)")
            _write_area_report(ws, place, output, pdf=pdf, lang=lang)
            return
        with Warehouse(ws.warehouse_path, read_only=True) as wh:
            geos = frames.named_geographies(wh)
            if geos.empty:
                from upward.core.errors import PlaceNotFoundError

                raise PlaceNotFoundError(
                    "the warehouse holds no geographies yet",
                    fix="load data first: upward fetch urban … --from DIR, or upward demo")
            geo = resolve(place, geos)
            name = report_filename(geo.name if lang == "en" else f"{geo.name} {lang}")
            if brief:
                name = name.removesuffix(".html") + "-brief.html"
            target = output or ws.reports_dir / name
            if pdf:
                target = target.with_suffix(".pdf")
            write = write_brief if brief else write_place_report
            what = "briefing" if brief else "report"
            with tempfile.TemporaryDirectory(prefix="upward-report-") as scratch:
                html_path = Path(scratch) / name if pdf else target.with_suffix(".html")
                with console.status(f"writing the {what} of {geo.name}…"):
                    path = write(wh, geo.geo_id, html_path, peers=peers or None, k=k,
                                 lang=lang, **({"workspace": ws} if brief else {}))
                if not pdf:
                    console.print(f"wrote {path}")
                    return
                from upward.report.pdf import html_to_pdf

                with console.status("printing to PDF with Chromium…"):
                    printed = html_to_pdf(path, target)
        console.print(f"wrote {printed}")


def _write_area_report(ws, query: str, output: Path | None, *, pdf: bool,
                       lang: str = "en") -> None:
    import tempfile

    from upward.measure.areas import find_area
    from upward.report.area import write_area_report

    _, name, _ = find_area(ws, query)
    target = output or ws.reports_dir / report_filename(name if lang == "en" else
                                                        f"{name} {lang}")
    if not pdf:
        with console.status(f"writing the report of {name}…"):
            path = write_area_report(ws, query, target.with_suffix(".html"), lang=lang)
        console.print(f"wrote {path}")
        return
    from upward.report.pdf import html_to_pdf

    with tempfile.TemporaryDirectory(prefix="upward-report-") as scratch:
        with console.status(f"writing the report of {name}…"):
            path = write_area_report(ws, query, Path(scratch) / report_filename(name),
                                     lang=lang)
        with console.status("printing to PDF with Chromium…"):
            printed = html_to_pdf(path, target.with_suffix(".pdf"))
    console.print(f"wrote {printed}")
