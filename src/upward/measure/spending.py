"""Spending tied to places and programs: dollars per resident by tract and custom area, beside
the mobility metrics, and dollars per participant and per outcome for each program.

Reads the records ``upward sync`` stored (``feed_records``: each placed in a tract or kept with
the reason it could not be). Records that could not be placed are never dropped from the
totals: :func:`spending_summary` reports them by feed and reason, with their dollars, and every
table carries the unplaced dollars in its notes.

Dollars per resident use the tract population of the ACS (B01003, ``upward fetch acs --table
B01003``) when loaded; a custom area's dollars and residents are the tract values weighted by the
share of each tract inside the area (``upward.warehouse.areas.area_tract_weights``) — dollars of a
tract the area splits are apportioned by area, an approximation the notes state.

Examples
--------
>>> per_unit(1000.0, 4)
250.0
>>> per_unit(1000.0, 0) is None
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from upward.core.text import N_, joined
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

__all__ = ["SpendingTable", "per_unit", "program_costs", "spending_by_area",
           "spending_by_tract", "spending_summary"]

POPULATION_METRIC = "b01003_001"


def per_unit(dollars: float | None, units: float | None) -> float | None:
    """Dollars per unit, None when there are no units (never a division by zero).

    >>> per_unit(5000.0, 8), per_unit(None, 8), per_unit(5000.0, None)
    (625.0, None, None)
    """
    if dollars is None or units is None or not units or math.isnan(float(units)):
        return None
    return float(dollars) / float(units)


@dataclass
class SpendingTable:
    """A spending table and what the reader must know about it.

    >>> t = SpendingTable(pd.DataFrame({"tract": ["40143000100"], "dollars": [1200.0]}),
    ...                   notes=["$300 could not be placed"])
    >>> t.to_records(), t.notes
    ([{'tract': '40143000100', 'dollars': 1200.0}], ['$300 could not be placed'])
    """

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_records(self) -> list[dict]:
        """Rows as dicts (NaN as None), for JSON and templates.

        >>> SpendingTable(pd.DataFrame({"a": [float("nan")]})).to_records()
        [{'a': None}]
        """
        frame = self.rows.astype(object).where(self.rows.notna(), None)
        return frame.to_dict(orient="records")


def _records(wh: Warehouse, feeds: list[str] | None) -> pd.DataFrame:
    cols = ["feed", "record_id", "geo_id", "geo_level", "unplaced", "amount", "program",
            "participant", "outcome"]
    if not wh.has_table("feed_records"):
        return pd.DataFrame(columns=cols)
    frame = wh.sql(f"SELECT {', '.join(cols)} FROM feed_records")
    if feeds:
        frame = frame[frame["feed"].isin(feeds)]
    return frame


def _populations(wh: Warehouse) -> dict[str, float]:
    obs = wh.table("observations")
    pop = wh.frame(obs.filter((obs.metric_id == POPULATION_METRIC) & (obs.geo_level == "tract"))
                   .select("geo_id", "period", "estimate"))
    if pop.empty:
        return {}
    pop = pop.sort_values("period").drop_duplicates("geo_id", keep="last")
    return dict(zip(pop["geo_id"], pop["estimate"].astype(float), strict=True))


def spending_summary(ws: Workspace, feeds: list[str] | None = None) -> pd.DataFrame:
    """Per feed: records, dollars, and how many (and which dollars) were not placed, by reason.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> Warehouse(ws.warehouse_path).close()
    >>> spending_summary(ws).empty
    True
    """
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        rec = _records(wh, feeds)
    if rec.empty:
        return pd.DataFrame(columns=["feed", "placed", "reason", "records", "dollars"])
    rec = rec.assign(placed=rec["unplaced"].isna(),
                     reason=rec["unplaced"].fillna("placed in a tract"))
    out = (rec.groupby(["feed", "placed", "reason"], dropna=False)
           .agg(records=("record_id", "size"), dollars=("amount", "sum")).reset_index())
    return out.sort_values(["feed", "placed", "reason"], ascending=[True, False, True]
                           ).reset_index(drop=True)


def _unplaced_note(rec: pd.DataFrame) -> list[str]:
    lost = rec[rec["unplaced"].notna()]
    if lost.empty:
        return []
    by = lost.groupby("unplaced").agg(n=("record_id", "size"), d=("amount", "sum"))
    parts = [N_("{n:,} {why} ({dollars})", n=int(r.n), why=why,
                dollars=f"${(r.d or 0):,.0f}") for why, r in by.iterrows()]
    n, dollars = len(lost), f"${lost['amount'].sum():,.0f}"
    if n == 1:
        return [N_("1 record ({dollars}) is not in any tract and not in these rows: {why}",
                   dollars=dollars, why=joined("; ", parts))]
    return [N_("{n:,} records ({dollars}) are not in any tract and not in these rows: {why}",
               n=n, dollars=dollars, why=joined("; ", parts))]


def spending_by_tract(ws: Workspace, feeds: list[str] | None = None, *,
                      metric_id: str | None = None, tracts: list[str] | None = None
                      ) -> SpendingTable:
    """Dollars, records and dollars per resident in each tract, with a mobility metric's latest
    value beside them when ``metric_id`` is given (``kfr_dollars_p25`` …); with ``tracts``,
    exactly those tracts (zero dollars where nothing was placed).

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> Warehouse(ws.warehouse_path).close()
    >>> spending_by_tract(ws, tracts=["40143000100"]).rows[["geo_id", "dollars"]].values.tolist()
    [['40143000100', 0.0]]
    """
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        rec = _records(wh, feeds)
        pops = _populations(wh)
        metric = None
        if metric_id:
            obs = wh.table("observations")
            metric = wh.frame(obs.filter((obs.metric_id == metric_id) &
                                         (obs.geo_level == "tract"))
                              .select("geo_id", "period", "estimate"))
    placed = rec[(rec["geo_level"] == "tract") & rec["geo_id"].notna()]
    rows = (placed.groupby("geo_id").agg(dollars=("amount", "sum"),
                                         records=("record_id", "size")).reset_index())
    if tracts is not None:
        rows = rows.set_index("geo_id").reindex(tracts).rename_axis("geo_id").reset_index()
        rows["records"] = rows["records"].fillna(0).astype(int)
        rows["dollars"] = rows["dollars"].fillna(0.0)
    rows["residents"] = rows["geo_id"].map(pops)
    rows["dollars_per_resident"] = [per_unit(d, p) for d, p in
                                    zip(rows["dollars"], rows["residents"], strict=True)]
    notes = _unplaced_note(rec)
    if not pops:
        notes.append(N_("no tract population is loaded, so dollars per resident are blank: "
                        "run upward fetch acs --table B01003 --geo tract --state SS --county "
                        "CCC"))
    if metric is not None:
        latest = metric.sort_values("period").drop_duplicates("geo_id", keep="last")
        rows[metric_id] = rows["geo_id"].map(dict(zip(latest["geo_id"], latest["estimate"],
                                                      strict=True)))
    return SpendingTable(rows.sort_values("geo_id").reset_index(drop=True), notes)


def spending_by_area(ws: Workspace, feeds: list[str] | None = None,
                     area: str | None = None) -> SpendingTable:
    """Dollars and dollars per resident in each custom area (``upward areas add``).

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> Warehouse(ws.warehouse_path).close()
    >>> spending_by_area(ws).rows.empty
    True
    """
    from upward.warehouse.areas import area_tract_weights

    tract = spending_by_tract(ws, feeds).rows.set_index("geo_id")
    weights = area_tract_weights(ws, area)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        pops = _populations(wh)
        g = wh.frame(wh.table("geographies"))
    names = dict(zip(g["geo_id"], g["name"], strict=False))
    rows = []
    for area_id, part in weights.groupby("area_id"):
        w = part.set_index("tract_geoid")["weight"]
        dollars = float((w * tract["dollars"].reindex(w.index).fillna(0.0)).sum())
        pop_known = [t for t in w.index if t in pops]
        residents = float(sum(w[t] * pops[t] for t in pop_known)) if pop_known else None
        rows.append({"area_id": area_id, "name": names.get(area_id, area_id),
                     "tracts": len(w), "dollars": dollars, "residents": residents,
                     "dollars_per_resident": per_unit(dollars, residents)})
    frame = pd.DataFrame(rows, columns=["area_id", "name", "tracts", "dollars", "residents",
                                        "dollars_per_resident"])
    notes = ["an area's dollars are its tracts' dollars weighted by the share of each tract "
             "inside it (records in a split tract are apportioned by area)"]
    return SpendingTable(frame, notes)


def program_costs(ws: Workspace, feeds: list[str] | None = None) -> SpendingTable:
    """Per program: dollars, participants (distinct participant ids, else records), outcomes
    (the sum of the outcome column), dollars per participant and per outcome.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "w")
    >>> Warehouse(ws.warehouse_path).close()
    >>> list(program_costs(ws).rows.columns)[-2:]
    ['dollars_per_participant', 'dollars_per_outcome']
    """
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        rec = _records(wh, feeds)
    rec = rec[rec["program"].notna()]
    rows = []
    notes: list[str] = []
    for (feed, program), part in rec.groupby(["feed", "program"]):
        has_ids = part["participant"].notna().any()
        participants = part["participant"].nunique() if has_ids else len(part)
        outcomes = part["outcome"].sum() if part["outcome"].notna().any() else None
        dollars = float(part["amount"].sum())
        rows.append({"feed": feed, "program": program, "dollars": dollars,
                     "participants": int(participants), "outcomes": outcomes,
                     "dollars_per_participant": per_unit(dollars, participants),
                     "dollars_per_outcome": per_unit(dollars, outcomes)})
        if not has_ids:
            notes.append(f"{feed}/{program}: no participant column, so each record counts as "
                         "one participant")
    frame = pd.DataFrame(rows, columns=["feed", "program", "dollars", "participants",
                                        "outcomes", "dollars_per_participant",
                                        "dollars_per_outcome"])
    return SpendingTable(frame, notes)
