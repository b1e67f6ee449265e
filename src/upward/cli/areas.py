"""`upward areas add NAME FILE | list | show AREA | remove NAME`: custom areas.

Examples
--------
>>> import typer
>>> register(typer.Typer())
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upward.cli.common import WorkspaceOption, console, emit_text, open_workspace


def _allocation_table(area_set) -> None:
    from rich.table import Table

    t = Table(title=f"Allocation of {area_set.name} to tracts", header_style="bold")
    for h in ("area", "tracts", "wholly inside", "split", "surface covered",
              "population allocated", "share of touched tracts' population"):
        t.add_column(h)
    for r in area_set.summary.itertuples():
        cover = f"{r.surface_covered:.1%}" if r.surface_covered == r.surface_covered and \
            r.surface_covered is not None else "—"
        pop = f"{r.population:,.0f}" if r.population is not None else "—"
        share = f"{r.population_share_of_touched:.1%}" \
            if r.population_share_of_touched is not None else "—"
        t.add_row(str(r.name), str(r.tracts), str(r.full), str(r.split), cover, pop, share)
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add the ``areas`` command group to the ``upward`` app.

    >>> register(typer.Typer())
    """
    areas_app = typer.Typer(help="Custom areas (districts, neighbourhoods, service areas). "
                            "Example: upward areas add districts districts.geojson",
                            no_args_is_help=True)
    app.add_typer(areas_app, name="areas")

    @areas_app.command("add")
    def add(
        name: Annotated[str, typer.Argument(help="Name of the set of areas ('districts').")],
        file: Annotated[Path, typer.Argument(help="GeoJSON or zipped shapefile of polygons "
                                             "(one feature per area), or a CSV of tract / "
                                             "block-group GEOIDs with optional area and "
                                             "weight columns.")],
        name_property: Annotated[str | None, typer.Option(
            "--name-property", help="The feature property that names each area "
            "(default: name, NAME, district …).")] = None,
        vintage: Annotated[str | None, typer.Option(
            "--vintage", help="Tract boundary vintage to allocate to (default: the latest "
            "loaded).")] = None,
        replace: Annotated[bool, typer.Option(help="Replace a stored set of this name.")] = False,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Add a set of areas, allocate them to tracts and show the allocation.

        Example: upward areas add districts demo-ws/demo-data/areas/demo_districts.geojson
        """
        from upward.warehouse.areas import add_areas

        ws = open_workspace(workspace)
        s = add_areas(ws, name, file, name_property=name_property, vintage=vintage,
                      replace=replace)
        _allocation_table(s)
        for n in s.notes:
            console.print(f"[yellow]note[/]: {n}")

    @areas_app.command("list")
    def list_(workspace: WorkspaceOption = None) -> None:
        """List the stored areas.

        Example: upward areas list
        """
        from rich.table import Table

        from upward.warehouse.areas import list_areas

        t = Table(title="Custom areas", header_style="bold")
        for h in ("set", "area", "id", "tracts", "vintage"):
            t.add_column(h)
        for r in list_areas(open_workspace(workspace)).itertuples():
            t.add_row(r.set, r.name, r.area_id, str(r.tracts), str(r.vintage))
        console.print(t)

    @areas_app.command("show")
    def show(
        area: Annotated[str, typer.Argument(help="An area name, id, or a set name.")],
        csv: Annotated[bool, typer.Option("--csv", help="Print the tract weights as CSV.")
                       ] = False,
        workspace: WorkspaceOption = None,
    ) -> None:
        """Show an area's tracts and weights.

        Example: upward areas show "District 3"
        """
        from upward.warehouse.areas import show_areas

        s = show_areas(open_workspace(workspace), area)
        if csv:
            emit_text(s.allocation.drop(columns="area_share").to_csv(index=False), None)
            return
        _allocation_table(s)

    @areas_app.command("remove")
    def remove(
        name: Annotated[str, typer.Argument(help="The set name given to `areas add`.")],
        workspace: WorkspaceOption = None,
    ) -> None:
        """Remove a stored set of areas.

        Example: upward areas remove districts
        """
        from upward.warehouse.areas import remove_areas

        n = remove_areas(open_workspace(workspace), name)
        console.print(f"removed {name} ({n} rows)")
