"""``upward sync``: pull what changed in each declared feed, place it, load it all or nothing.

A sync of feed NAME:

1. reads the feed's state (``feed_state``: watermark, fields, last success) — refusing when the
   machine's clock is behind the last successful sync;
2. pulls pages since the watermark (or the whole feed for platforms without update stamps),
   writing each page to ``cache/feeds/NAME/pending/`` atomically — a killed pull resumes from
   the pages already there;
3. checks the batch: declared columns present (a changed schema is refused, an added column is
   noted), no record id twice (pulled once more if so: offset paging over a feed that changed
   mid-pull repeats rows), update stamps not older than the watermark;
4. places each record in a tract (``upward.geo.placement``), keeping unplaced ones with the
   reason;
5. in ONE warehouse transaction upserts the records (``feed_records``), replaces the feed's
   provenance row (``sources``, dataset ``feeds.NAME``) and its state — so the data, the
   provenance and the watermark move together or not at all — then clears the staged pages.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
>>> feed_status(ws).empty
True
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from upward.core.atomic import atomic_write
from upward.core.errors import ConfigError
from upward.core.feedspec import FeedSpec, check_name
from upward.core.locks import file_lock
from upward.core.text import N_
from upward.geo.placement import check_tracts, place_points
from upward.sources.feeds import (
    POINT_KEY,
    FeedClockError,
    FeedDuplicateError,
    FeedError,
    FeedSchemaError,
    JsonClient,
    Page,
)
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

__all__ = ["CLOCK_TOLERANCE", "SyncResult", "feed_records", "feed_status", "sync_feed",
           "sync_feeds", "tract_polygons"]

#: How far the machine's clock may be behind the last sync before a sync is refused.
CLOCK_TOLERANCE = timedelta(minutes=5)
#: A feed is stale when its last success is older than this many scheduled intervals.
STALE_AFTER = 2.0

RECORD_COLUMNS = pa.schema([
    ("feed", pa.string()), ("record_id", pa.string()), ("updated_at", pa.string()),
    ("geo_id", pa.string()), ("geo_level", pa.string()), ("lon", pa.float64()),
    ("lat", pa.float64()), ("unplaced", pa.string()), ("amount", pa.float64()),
    ("program", pa.string()), ("participant", pa.string()), ("outcome", pa.float64()),
    ("record", pa.string()), ("source_id", pa.string()),
])
_TYPES = {pa.string(): "VARCHAR", pa.float64(): "DOUBLE", pa.int64(): "BIGINT"}
STATE_COLUMNS = pa.schema([
    ("feed", pa.string()), ("platform", pa.string()), ("watermark", pa.string()),
    ("last_attempt_at", pa.string()), ("last_success_at", pa.string()),
    ("fields", pa.string()), ("schema_note", pa.string()), ("rows", pa.int64()),
    ("unplaced", pa.int64()), ("last_error", pa.string()), ("source_id", pa.string()),
])


def _ddl() -> list[str]:
    out = []
    for name, schema in (("feed_records", RECORD_COLUMNS), ("feed_state", STATE_COLUMNS)):
        cols = ", ".join(f'"{f.name}" {_TYPES[f.type]}' for f in schema)
        out.append(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    return out


def ensure_tables(wh: Warehouse) -> None:
    """Create the feed tables if missing.

    >>> import tempfile, pathlib
    >>> with Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb") as wh:
    ...     ensure_tables(wh)
    ...     len(wh.sql("SELECT * FROM feed_records"))
    0
    """
    for statement in _ddl():
        wh.execute(statement)


@dataclass
class SyncResult:
    """What one sync did.

    >>> print(SyncResult("permits", "socrata", 2, 1500, 40, 12000, {"no coordinates": 3},
    ...                  "2026-01-05T10:00:00Z"))
    permits: 1,500 records received in 2 pages; 12,000 stored; not placed in a tract: 3 no coordinates
    """

    feed: str
    platform: str
    pages: int
    received: int
    changed: int
    total: int
    unplaced: dict[str, int]
    watermark: str | None
    schema_note: str | None = None
    resumed_pages: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        bits = [f"{self.feed}: {self.received:,} record{'s' if self.received != 1 else ''} "
                f"received in {self.pages} page{'s' if self.pages != 1 else ''}",
                f"{self.total:,} stored"]
        if self.resumed_pages:
            bits.append(f"resumed after {self.resumed_pages} staged page(s)")
        if self.unplaced:
            bits.append("not placed in a tract: " + ", ".join(
                f"{n:,} {why}" for why, n in sorted(self.unplaced.items())))
        if self.schema_note:
            bits.append(f"schema changed: {self.schema_note}")
        return "; ".join(bits)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def connector_for(spec: FeedSpec, ws: Workspace):
    """The connector object of a feed's platform, with the workspace's retry settings.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> spec = FeedSpec(platform="arcgis", url="https://x.gov/arcgis/rest/services/A/FeatureServer/0")
    >>> connector_for(spec, ws).query_url
    'https://x.gov/arcgis/rest/services/A/FeatureServer/0/query'
    """
    d = ws.settings.download
    what = f"the {spec.platform} feed at {spec.url}"
    if spec.platform == "ckan":
        from upward.sources.ckan import CkanFeed

        return CkanFeed(spec, retries=d.retries, backoff=d.backoff, timeout=d.timeout,
                        cache_dir=ws.cache_dir)
    headers = {}
    if spec.platform == "socrata":
        from upward.sources.socrata import SocrataFeed

        headers = SocrataFeed.headers(spec)
    client = JsonClient(what, retries=d.retries, backoff=d.backoff, timeout=d.timeout,
                        headers=headers)
    if spec.platform == "socrata":
        return SocrataFeed(spec, client)
    if spec.platform == "arcgis":
        from upward.sources.arcgis import ArcGisFeed

        return ArcGisFeed(spec, client)
    from upward.sources.usaspending import UsaSpendingFeed

    return UsaSpendingFeed(spec, client)


def _close(conn: Any) -> None:
    closer = getattr(conn, "close", None) or getattr(getattr(conn, "client", None), "close", None)
    if closer:
        closer()


def _state(wh: Warehouse, name: str) -> dict[str, Any] | None:
    rows = wh.sql("SELECT * FROM feed_state WHERE feed = ?", [name])
    if rows.empty:
        return None
    return {c: (None if pd.isna(v) else v) for c, v in rows.iloc[0][STATE_COLUMNS.names].items()}


def _staging(ws: Workspace, name: str) -> Path:
    return ws.cache_dir / "feeds" / name / "pending"


def _pull(conn: Any, folder: Path, key: dict[str, Any], since: str | None,
          progress: Callable[[str], None] | None) -> tuple[list[Page], int]:
    """All pages of one pull, resuming from staged pages made with the same ``key``."""
    manifest = folder / "manifest.json"
    staged: list[Page] = []
    if manifest.is_file():
        try:
            same = json.loads(manifest.read_text(encoding="utf-8")) == key
        except ValueError:
            same = False
        if same:
            for path in sorted(folder.glob("page-*.json")):
                try:
                    staged.append(Page.from_json(json.loads(path.read_text(encoding="utf-8"))))
                except (ValueError, TypeError):
                    break  # a page file is whole or absent (atomic writes); stop at a bad one
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if not staged:
        shutil.rmtree(folder, ignore_errors=True)
        atomic_write(manifest, json.dumps(key, sort_keys=True))
    resumed = len(staged)
    pages = list(staged)
    while not pages or pages[-1].more:
        offset = pages[-1].next_offset if pages else 0
        number = len(pages) + 1
        page = conn.page(offset, since, number)
        if page.more and not page.records:
            raise FeedError(f"page {number} of {page.url} is empty but says more rows follow",
                            fix="the portal is misbehaving; try again later")
        atomic_write(folder / f"page-{number:05d}.json", json.dumps(page.to_json()))
        pages.append(page)
        if progress:
            progress(f"page {number}: {sum(len(p.records) for p in pages):,} records")
    return pages, resumed


def _required(spec: FeedSpec, conn: Any) -> list[str]:
    cols = list(spec.fields)
    for name in ("tract_column", "lon_column", "lat_column", "point_column", "address_column",
                 "amount_column", "program_column", "participant_column", "outcome_column"):
        value = getattr(spec, name)
        if value:
            cols.append(value)
    if conn.platform != "usaspending":
        for value in (conn.id_column, conn.updated_column):
            if value:
                cols.append(value)
    return list(dict.fromkeys(cols))


def _fields_of(pages: list[Page]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for page in pages:
        for k, v in page.fields.items():
            fields.setdefault(k, v)
    return fields


def _schema_note(old: dict[str, str] | None, new: dict[str, str]) -> str | None:
    if not old or not new:
        return None
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    retyped = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    if retyped:
        parts.append("type changed " + ", ".join(f"{k} {old[k]}→{new[k]}" for k in retyped))
    return "; ".join(parts) or None


def tract_polygons(wh: Warehouse, within: str | None = None) -> dict[str, Any]:
    """The loaded tract boundaries (latest vintage) as shapely shapes, optionally only those in
    a county (5-digit prefix) or place (7 digits, through the tract → place crosswalk) — empty
    when none are loaded.

    >>> import tempfile, pathlib
    >>> with Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb") as wh:
    ...     tract_polygons(wh, "40143")
    {}
    """
    from shapely.geometry import shape

    geo = wh.frame(wh.table("geometry"))
    geo = geo[geo["geo_id"].str.fullmatch(r"\d{11}")]
    if geo.empty:
        return {}
    geo = geo[geo["vintage"] == sorted(geo["vintage"].dropna().unique())[-1]]
    if within and len(within) == 5:
        geo = geo[geo["geo_id"].str.startswith(within)]
    elif within and len(within) == 7:
        cw = wh.frame(wh.table("crosswalks"))
        inside = set(cw.loc[cw["to_geo_id"] == within, "from_geo_id"])
        geo = geo[geo["geo_id"].isin(inside)]
    geo = geo.drop_duplicates("geo_id")
    return {g: shape(json.loads(j)) for g, j in zip(geo["geo_id"], geo["geojson"], strict=True)}


def _point_of(value: Any) -> tuple[Any, Any]:
    """(lon, lat) from a GeoJSON point, a Socrata location ({latitude, longitude}) or text.

    >>> _point_of({"type": "Point", "coordinates": [-95.99, 36.15]})
    (-95.99, 36.15)
    >>> _point_of({"latitude": "36.15", "longitude": "-95.99", "human_address": "{}"})
    ('-95.99', '36.15')
    >>> _point_of("not a point")
    (None, None)
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, None
    if isinstance(value, dict):
        if value.get("type") == "Point" and isinstance(value.get("coordinates"), list):
            c = value["coordinates"]
            return (c[0], c[1]) if len(c) >= 2 else (None, None)
        if "latitude" in value and "longitude" in value:
            return value.get("longitude"), value.get("latitude")
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    return None, None


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "").replace("$", ""))
    except ValueError:
        return None


def _frame(name: str, spec: FeedSpec, conn: Any, records: list[dict[str, Any]],
           polygons: dict[str, Any], source_id: str) -> tuple[pd.DataFrame, Counter, list[str]]:
    notes: list[str] = []
    n = len(records)
    ids = [str(r.get(conn.id_column)) for r in records]
    updated = [None if conn.updated_column is None or r.get(conn.updated_column) is None
               else str(r.get(conn.updated_column)) for r in records]
    geo_id: list[str | None] = [None] * n
    level: list[str | None] = [None] * n
    lons: list[Any] = [None] * n
    lats: list[Any] = [None] * n
    kind = spec.place_kind
    if kind == "tract":
        city = set(polygons) if polygons else None
        geo_id, why = check_tracts([r.get(spec.tract_column) for r in records], city)
        level = ["tract" if g else None for g in geo_id]
    elif kind in ("coordinates", "point", "geometry"):
        if kind == "coordinates":
            lons = [r.get(spec.lon_column) for r in records]
            lats = [r.get(spec.lat_column) for r in records]
        else:
            key = spec.point_column if kind == "point" else POINT_KEY
            pairs = [_point_of(r.get(key)) for r in records]
            lons = [p[0] for p in pairs]
            lats = [p[1] for p in pairs]
        if polygons:
            geo_id, why = place_points(lons, lats, polygons)
        else:
            geo_id = [None] * n
            why = ["no tract boundaries loaded (upward fetch tracts)"] * n
        level = ["tract" if g else None for g in geo_id]
    elif spec.platform == "usaspending":
        geo_id = [r.get("geo_id") for r in records]
        level = [r.get("geo_layer") for r in records]
        why = [None if g else "no geography in the answer" for g in geo_id]
    elif kind == "address":
        why = ["address only (no geocoder)"] * n
    else:
        why = [N_("the feed declares no place, address, coordinates or tract column")] * n
    amount_col = spec.amount_column or ("amount" if spec.platform == "usaspending" else None)
    program_col = spec.program_column or ("program" if spec.platform == "usaspending" else None)
    amounts = [_number(r.get(amount_col)) if amount_col else None for r in records]
    if amount_col:
        bad = sum(1 for r, a in zip(records, amounts, strict=True)
                  if a is None and r.get(amount_col) not in (None, ""))
        if bad:
            notes.append(f"{bad:,} values of {amount_col!r} are not numbers (kept as missing)")
    frame = pd.DataFrame({
        "feed": name, "record_id": ids, "updated_at": updated, "geo_id": geo_id,
        "geo_level": level,
        "lon": [_number(v) for v in lons], "lat": [_number(v) for v in lats],
        "unplaced": why, "amount": amounts,
        "program": [None if program_col is None or r.get(program_col) is None
                    else str(r.get(program_col)) for r in records],
        "participant": [None if not spec.participant_column
                        or r.get(spec.participant_column) is None
                        else str(r.get(spec.participant_column)) for r in records],
        "outcome": [_number(r.get(spec.outcome_column)) if spec.outcome_column else None
                    for r in records],
        "record": [json.dumps(r if POINT_KEY not in r else
                              {k: v for k, v in r.items() if k != POINT_KEY}, default=str)
                   for r in records],
        "source_id": source_id,
    })
    return frame, Counter(w for w in why if w), notes


def sync_feed(ws: Workspace, name: str, *, full: bool = False,
              progress: Callable[[str], None] | None = None,
              now: Callable[[], datetime] = _now) -> SyncResult:
    """Pull feed ``name`` (declared in ``upward.toml``) and load it all or nothing.

    Raises :class:`~upward.sources.feeds.FeedError` (and subclasses) for a feed that cannot be
    loaded; the previous data, provenance and watermark stay as they were.

    >>> import tempfile, pathlib
    >>> sync_feed(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"), "permits")
    Traceback (most recent call last):
    upward.core.errors.ConfigError: no feed 'permits' in ... (declared: none). What to do: add a [feeds.permits] table (see docs/feeds.md)
    """
    check_name(name)
    spec = ws.settings.feeds.get(name)
    if spec is None:
        known = ", ".join(sorted(ws.settings.feeds)) or "none"
        raise ConfigError(f"no feed {name!r} in {ws.settings_path} (declared: {known})",
                          fix=f"add a [feeds.{name}] table (see docs/feeds.md)")
    with file_lock(ws.root / ".locks" / f"feed-{name}.lock", timeout=0):
        return _sync_locked(ws, name, spec, full, progress, now)


def _record_error(ws: Workspace, name: str, spec: FeedSpec, message: str, when: str) -> None:
    with Warehouse(ws.warehouse_path) as wh:
        ensure_tables(wh)
        state = _state(wh, name) or {c: None for c in STATE_COLUMNS.names}
        state.update(feed=name, platform=spec.platform, last_attempt_at=when,
                     last_error=message[:500])
        with wh.transaction() as con:
            con.execute("DELETE FROM feed_state WHERE feed = ?", [name])
            wh.append("feed_state", pa.Table.from_pylist([state], schema=STATE_COLUMNS))


def _sync_locked(ws: Workspace, name: str, spec: FeedSpec, full: bool,
                 progress: Callable[[str], None] | None,
                 now: Callable[[], datetime]) -> SyncResult:
    started = now()
    with Warehouse(ws.warehouse_path) as wh:
        ensure_tables(wh)
        state = _state(wh, name)
        polygons = tract_polygons(wh, spec.within) if spec.place_kind in (
            "coordinates", "point", "geometry", "tract") else {}
    last = _parse(state.get("last_success_at")) if state else None
    if last is not None and started < last - CLOCK_TOLERANCE:
        raise FeedClockError(
            f"feed {name}: this machine's clock says {_stamp(started)}, before the last "
            f"successful sync at {_stamp(last)}; nothing was pulled",
            fix="correct the system clock (timedatectl / NTP) and run upward sync again")
    conn = connector_for(spec, ws)
    try:
        return _sync_with(ws, name, spec, conn, state, polygons, full, progress, started)
    except FeedError as exc:
        if isinstance(exc, FeedSchemaError | FeedDuplicateError | FeedClockError):
            shutil.rmtree(_staging(ws, name), ignore_errors=True)
        _record_error(ws, name, spec, str(exc), _stamp(started))
        raise
    finally:
        _close(conn)


def _sync_with(ws: Workspace, name: str, spec: FeedSpec, conn: Any, state: dict | None,
               polygons: dict, full: bool, progress, started: datetime) -> SyncResult:
    incremental = bool(conn.incremental) and not full
    since = state.get("watermark") if (state and incremental) else None
    key = {"feed": name, "since": since, "incremental": incremental,
           "spec": json.loads(spec.model_dump_json()),
           "state_source": state.get("source_id") if state else None}
    folder = _staging(ws, name)
    for attempt in (1, 2):
        pages, resumed = _pull(conn, folder, key, since, progress)
        records = [r for p in pages for r in p.records]
        if conn.id_column is None:
            conn.id_column = "OBJECTID"
        missing_id = next((i for i, r in enumerate(records) if r.get(conn.id_column) in
                           (None, "")), None)
        fields = _fields_of(pages)
        need = _required(spec, conn)
        absent = [c for c in need if fields and c not in fields and not (
            records and all(c in r for r in records[:50]))]
        if absent:
            raise FeedSchemaError(
                f"feed {name}: the {spec.platform} feed no longer has the column"
                f"{'s' if len(absent) > 1 else ''} {', '.join(map(repr, absent))} that "
                f"upward.toml names (it has {', '.join(sorted(fields)[:15])}"
                f"{' …' if len(fields) > 15 else ''}); nothing was loaded",
                fix="the publisher changed the dataset: update the column names under "
                f"[feeds.{name}] in upward.toml, then run upward sync {name} --full")
        if missing_id is not None:
            raise FeedSchemaError(
                f"feed {name}: record {missing_id + 1} has no id in column "
                f"{conn.id_column!r}; nothing was loaded",
                fix=f"set id_column under [feeds.{name}] to a column that identifies records")
        counts = Counter(str(r.get(conn.id_column)) for r in records)
        dupes = [k for k, c in counts.items() if c > 1]
        if not dupes:
            break
        shutil.rmtree(folder, ignore_errors=True)
        if attempt == 2:
            where = [i // max(1, len(pages[0].records) or 1) + 1 for i, r in enumerate(records)
                     if str(r.get(conn.id_column)) == dupes[0]]
            raise FeedDuplicateError(
                f"feed {name}: record id {dupes[0]!r} (column {conn.id_column!r}) came "
                f"{counts[dupes[0]]} times (pages {', '.join(map(str, where))}), and "
                f"{len(dupes)} id{'s' if len(dupes) > 1 else ''} in all, even after pulling "
                "again; nothing was loaded",
                fix=f"if {conn.id_column!r} is not unique in this dataset, set id_column under "
                f"[feeds.{name}] to one that is; if the portal was being updated, try later")
        if progress:
            progress("the same record came twice (the feed changed while paging); pulling again")
    watermark = since
    if incremental and conn.updated_column:
        stamps = [str(r.get(conn.updated_column)) for r in records
                  if r.get(conn.updated_column) not in (None, "")]
        if since:
            older = [s for s in stamps if _older(s, since)]
            if older:
                raise FeedClockError(
                    f"feed {name}: {len(older)} record(s) answered for "
                    f"{conn.updated_column} > {since!r} carry an older stamp (e.g. {older[0]!r}): "
                    "the feed's clock went backwards or the filter was ignored; nothing was "
                    "loaded",
                    fix=f"run upward sync {name} --full to pull the whole feed again")
        if stamps:
            watermark = max(stamps, key=_sort_key)
    fields = _fields_of(pages)
    old_fields = json.loads(state["fields"]) if state and state.get("fields") else None
    note = _schema_note(old_fields, fields) if fields else None
    digest = hashlib.sha256("".join(p.body_sha for p in pages).encode()).hexdigest()
    source_id = f"feeds.{name}@{digest[:12]}"
    frame, unplaced, notes = _frame(name, spec, conn, records, polygons, source_id)
    for page in pages:
        notes.extend(n for n in page.notes if n not in notes)
    with Warehouse(ws.warehouse_path) as wh:
        ensure_tables(wh)
        arrow = pa.Table.from_pandas(frame, schema=RECORD_COLUMNS, preserve_index=False)
        with wh.single_threaded(), wh.transaction() as con:
            before = con.execute("SELECT count(*) FROM feed_records WHERE feed = ?",
                                 [name]).fetchone()[0]
            if not incremental:
                con.execute("DELETE FROM feed_records WHERE feed = ?", [name])
            elif len(frame):
                con.register("incoming_ids", pa.table({"record_id": arrow["record_id"]}))
                try:
                    con.execute("DELETE FROM feed_records WHERE feed = ? AND record_id IN "
                                "(SELECT record_id FROM incoming_ids)", [name])
                finally:
                    con.unregister("incoming_ids")
            if len(frame):
                wh.append("feed_records", arrow)
            total, unplaced_all = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE unplaced IS NOT NULL) FROM feed_records "
                "WHERE feed = ?", [name]).fetchone()
            when = _stamp(started)
            record = {"feed": name, "platform": spec.platform, "watermark": watermark,
                      "last_attempt_at": when, "last_success_at": when,
                      "fields": json.dumps(fields or old_fields or {}, sort_keys=True),
                      "schema_note": note or (state.get("schema_note") if state and not fields
                                              else None),
                      "rows": int(total), "unplaced": int(unplaced_all), "last_error": None,
                      "source_id": source_id}
            con.execute("DELETE FROM feed_state WHERE feed = ?", [name])
            wh.append("feed_state", pa.Table.from_pylist([record], schema=STATE_COLUMNS))
            from upward.sources.base import DATASETS
            from upward.sources.schema import TABLES

            registered = DATASETS.get(f"feeds.{spec.platform}") or DATASETS.get(
                "usaspending.geography")
            prov = {"source_id": source_id, "publisher": str(registered.publisher),
                    "dataset": f"feeds.{name}", "url": pages[0].url if pages else spec.url,
                    "retrieved_at": when, "sha256": digest, "rows": int(total),
                    "license": registered.license,
                    "notes": "; ".join([f"{spec.platform} feed, {int(unplaced_all):,} records not "
                                        "placed in a tract", *notes])[:2000]}
            con.execute("DELETE FROM sources WHERE dataset = ?", [f"feeds.{name}"])
            wh.append("sources", pa.Table.from_pylist([prov], schema=TABLES["sources"]))
        changed = int(total) - int(before) if not incremental else len(frame)
    shutil.rmtree(folder, ignore_errors=True)
    return SyncResult(feed=name, platform=spec.platform, pages=len(pages),
                      received=len(records), changed=changed, total=int(total),
                      unplaced=dict(unplaced), watermark=watermark, schema_note=note,
                      resumed_pages=resumed, notes=notes)


def _sort_key(stamp: str) -> tuple[int, float | str]:
    try:
        return (0, float(stamp))
    except ValueError:
        return (1, stamp)


def _older(stamp: str, since: str) -> bool:
    return _sort_key(stamp) < _sort_key(since)


def sync_feeds(ws: Workspace, names: list[str] | None = None, *, full: bool = False,
               due_only: bool = False, progress: Callable[[str], None] | None = None,
               now: Callable[[], datetime] = _now) -> list[tuple[str, SyncResult | FeedError]]:
    """Sync several feeds (all declared when ``names`` is empty); one failing does not stop the
    others. With ``due_only``, only feeds whose schedule says a sync is due.

    >>> import tempfile, pathlib
    >>> sync_feeds(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
    []
    """
    chosen = names or sorted(ws.settings.feeds)
    status = feed_status(ws, now=now).set_index("feed") if due_only else None
    out: list[tuple[str, SyncResult | FeedError]] = []
    for name in chosen:
        if status is not None and name in status.index and not bool(status.loc[name, "due"]):
            continue
        try:
            out.append((name, sync_feed(ws, name, full=full, progress=progress, now=now)))
        except FeedError as exc:
            out.append((name, exc))
    return out


def feed_status(ws: Workspace, *, now: Callable[[], datetime] = _now) -> pd.DataFrame:
    """One row per declared feed: platform, rows, unplaced, last success, age, schedule, due,
    and the alarm (``stale``, ``schema changed``, ``error``) with its reason.

    >>> import tempfile
    >>> from upward.warehouse.workspace import Settings
    >>> spec = FeedSpec(platform="socrata", url="https://data.example.gov", dataset="abcd-1234",
    ...                 schedule="daily", lon_column="longitude", lat_column="latitude")
    >>> ws = Workspace(Path(tempfile.mkdtemp()), Settings(feeds={"permits": spec}))
    >>> feed_status(ws)[["feed", "due", "alarm", "reason"]].values.tolist()
    [['permits', True, 'never synced', 'run upward sync permits']]
    """
    states: dict[str, dict] = {}
    if ws.warehouse_path.exists():
        with Warehouse(ws.warehouse_path, read_only=True) as wh:
            if wh.has_table("feed_state"):
                for row in wh.sql("SELECT * FROM feed_state").to_dict(orient="records"):
                    states[row["feed"]] = {c: (None if pd.isna(v) else v)
                                           for c, v in row.items()}
    rows = []
    current = now()
    for name, spec in sorted(ws.settings.feeds.items()):
        st = states.get(name, {})
        last = _parse(st.get("last_success_at"))
        age = (current - last).total_seconds() if last else None
        interval = spec.interval_seconds
        alarm, why = "", ""
        if st.get("last_error") and (not last or (_parse(st.get("last_attempt_at")) or last)
                                     > last):
            alarm, why = "error", st["last_error"]
        elif last is None:
            alarm, why = "never synced", f"run upward sync {name}"
        elif age is not None and age < -CLOCK_TOLERANCE.total_seconds():
            alarm, why = "clock", "the last sync is in the future: check the system clock"
        elif age is not None and age > STALE_AFTER * interval:
            alarm, why = "stale", (f"last success {_age_text(age)} ago; schedule "
                                   f"{spec.schedule}")
        elif st.get("schema_note"):
            alarm, why = "schema changed", st["schema_note"]
        rows.append({"feed": name, "platform": spec.platform, "rows": st.get("rows"),
                     "unplaced": st.get("unplaced"), "last_success": st.get("last_success_at"),
                     "age": _age_text(age) if age is not None else "—",
                     "schedule": spec.schedule,
                     "due": last is None or age is None or age >= interval,
                     "alarm": alarm, "reason": why})
    return pd.DataFrame(rows, columns=["feed", "platform", "rows", "unplaced", "last_success",
                                       "age", "schedule", "due", "alarm", "reason"])


def _age_text(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def feed_records(ws: Workspace, name: str | None = None) -> pd.DataFrame:
    """The stored records of one feed (all feeds when None), without the raw record JSON.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> Warehouse(ws.warehouse_path).close()
    >>> len(feed_records(ws, "permits"))
    0
    """
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        if not wh.has_table("feed_records"):
            return pd.DataFrame(columns=[f for f in RECORD_COLUMNS.names if f != "record"])
        cols = ", ".join(f for f in RECORD_COLUMNS.names if f != "record")
        if name is None:
            return wh.sql(f"SELECT {cols} FROM feed_records")
        return wh.sql(f"SELECT {cols} FROM feed_records WHERE feed = ?", [name])

