"""``upward fetch acs``: one Census Data API table for a set of geographies into the warehouse.

The table is fetched (or read from the request cache), checked and turned into canonical
observations before anything is written; the load replaces the previous copy of the same
request in one transaction.

Examples
--------
>>> dataset_key("B17020", "acs5", "tract", "40", "143", 2023)
'census-api.acs5.b17020.tract.40143.2023'
"""

from __future__ import annotations

from upward.sources.census_api import (
    LICENSE,
    PUBLISHER,
    AcsTable,
    api_from_settings,
    dataset_for,
    to_tables,
)
from upward.warehouse.store import LoadResult, Warehouse
from upward.warehouse.workspace import Workspace


def dataset_key(table: str, dataset: str, geo: str, state: str | None, county: str | None,
                year: int) -> str:
    """The warehouse dataset key of one request (one table, geography, year).

    >>> dataset_key("B19013", "acs/acs5", "county", "40", None, 2022)
    'census-api.acs.acs5.b19013.county.40.2022'
    >>> dataset_key("B01003", "acs5", "state", None, None, 2023)
    'census-api.acs5.b01003.state.us.2023'
    """
    where = (state or "us") + (county or "")
    return (f"census-api.{dataset.replace('/', '.')}.{table.lower()}."
            f"{geo.replace(' ', '_')}.{where}.{year}")


def fetch_acs(workspace: Workspace, table: str, *, geo: str, state: str | None = None,
              county: str | None = None, year: int = 2023, dataset: str | None = None,
              refresh: bool = False) -> tuple[LoadResult, AcsTable]:
    """Fetch one table from the Census Data API and load it.

    Returns the load result and the table (values, labels, reasons for missing values).
    """
    api = api_from_settings(workspace)
    t = api.table(table, geo=geo, state=state, county=county, year=year, dataset=dataset,
                  refresh=refresh)
    key = dataset_key(t.table, dataset_for(table, dataset), geo, state, county, year)
    source_id = f"{key}@{t.sha256[:12]}"
    tables = to_tables(t, source_id)
    provenance = {
        "source_id": source_id, "dataset": key, "publisher": PUBLISHER,
        "title": f"{t.table} ({t.variables['concept'].iloc[0] if len(t.variables) else ''}), "
                 f"{t.dataset} {year}, {geo}",
        "url": t.url, "retrieved_at": t.retrieved_at, "sha256": t.sha256, "rows": tables.rows,
        "license": LICENSE, "notes": " ".join(tables.notes),
    }
    with Warehouse(workspace.warehouse_path) as wh:
        result = wh.load(key, tables, provenance)
        wh.checkpoint()
    return result, t
