"""``upward areas``: add, list, show and remove custom areas in the workspace.

A *set* of areas (the city's council districts) comes from one file: a GeoJSON or zipped
shapefile of polygons, one feature per area named by a property, or a CSV of tract (or block
group) GEOIDs with an optional ``area`` column and optional ``weight``. The file is read and
checked, each area is allocated to the loaded tracts (``upward.geo.areas.allocate``), and the set
is stored in one transaction as dataset ``areas.<set>``: ``geographies`` rows (level ``area``),
``crosswalks`` rows tract → area with ``weight_kind`` ``area_share`` or ``listed``, and the
areas' ``geometry`` for maps. A bad file changes nothing.

Examples
--------
>>> dataset_of("Council districts")
'areas.council-districts'
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from upward.core.errors import InputFileError
from upward.geo.areas import AreaError, allocate, area_id, check_polygon, slug, summarise
from upward.sources.base import Tables
from upward.sources.schema import conform
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

__all__ = ["AreaSet", "add_areas", "align_weights", "area_geojson", "area_tract_weights",
           "dataset_of", "list_areas", "remove_areas", "show_areas"]

NAME_PROPERTIES = ("name", "NAME", "Name", "district", "DISTRICT", "District", "label", "LABEL")


def dataset_of(set_name: str) -> str:
    """The warehouse dataset key of an area set.

    >>> dataset_of("Neighbourhood plans 2024")
    'areas.neighbourhood-plans-2024'
    """
    return f"areas.{slug(set_name)}"


@dataclass(frozen=True)
class AreaSet:
    """A stored set of areas: its allocation rows and per-area summary.

    >>> alloc = pd.DataFrame({"area_id": ["area:d:north"], "name": ["North"],
    ...                       "tract_geoid": ["40143000100"], "weight": [1.0]})
    >>> s = AreaSet("districts", dataset_of("districts"), alloc, pd.DataFrame())
    >>> s.dataset, s.notes
    ('areas.districts', ())
    """

    name: str
    dataset: str
    allocation: pd.DataFrame  # area_id, name, tract_geoid, weight, weight_kind, vintage
    summary: pd.DataFrame
    notes: tuple[str, ...] = ()


def _tract_geometry(wh: Warehouse, vintage: str | None) -> tuple[dict, str]:
    from shapely.geometry import shape

    geo = wh.frame(wh.table("geometry"))
    geo = geo[geo["geo_id"].str.fullmatch(r"\d{11}")]
    if geo.empty:
        raise AreaError("no tract boundaries are loaded, so polygons cannot be allocated",
                        fix="load the county's tracts first: upward fetch tracts --state NN "
                        "(or give a CSV of tract GEOIDs)")
    vintages = sorted(geo["vintage"].dropna().unique())
    use = vintage or vintages[-1]
    if use not in vintages:
        raise AreaError(f"no tract boundaries of vintage {use} are loaded (loaded: "
                        f"{', '.join(vintages)})", fix="load that vintage or pick a loaded one")
    geo = geo[geo["vintage"] == use].drop_duplicates("geo_id")
    return {g: shape(json.loads(j)) for g, j in zip(geo["geo_id"], geo["geojson"],
                                                      strict=True)}, use


def _known_tracts(wh: Warehouse) -> set[str]:
    g = wh.frame(wh.table("geographies").select("geo_id", "geo_level"))
    known = set(g.loc[g["geo_level"] == "tract", "geo_id"])
    geom = wh.frame(wh.table("geometry").select("geo_id"))
    return known | set(geom["geo_id"][geom["geo_id"].str.fullmatch(r"\d{11}")])


def _read_polygons(path: Path, name_property: str | None) -> tuple[dict, dict]:
    from upward.sources.tiger import read_geometry_file

    features = read_geometry_file(path)
    areas, geojson = {}, {}
    for row, feature in enumerate(features, start=1):
        props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        keys = (name_property,) if name_property else NAME_PROPERTIES
        name = next((str(props[k]).strip() for k in keys if k in props and props[k] not in
                     (None, "")), None)
        if name is None:
            raise InputFileError(path, f"the feature has no {' or '.join(keys[:3])} property "
                                 f"(its properties are {sorted(props)[:6]})",
                                 fix="name each area in a property and pass --name-property "
                                 "PROPERTY", row=row)
        if name in areas:
            raise InputFileError(path, f"two features are named {name!r}",
                                 fix="give each area its own name (merge the polygons of one "
                                 "area into a MultiPolygon)", row=row)
        try:
            areas[name] = check_polygon(feature.get("geometry"), f"{path}, feature {row}")
        except AreaError as exc:
            raise InputFileError(path, exc.message.split(": ", 2)[-1], fix=exc.fix or "",
                                 row=row) from None
        geojson[name] = feature.get("geometry")
    return areas, geojson


def _read_geoid_list(path: Path, set_name: str) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise InputFileError(path, "the CSV has no rows", fix="one GEOID per row, header first")
    header = {h.strip().lower(): h for h in rows[0]}
    col = next((header[k] for k in ("geoid", "geo_id", "tract", "block_group", "fips")
                if k in header), None)
    if col is None:
        raise InputFileError(path, f"no GEOID column among {list(rows[0])}",
                             fix="name the column GEOID (11-digit tracts or 12-digit block "
                             "groups)", row=1)
    name_col = next((header[k] for k in ("area", "name", "district") if k in header), None)
    weight_col = header.get("weight")
    out = []
    for i, r in enumerate(rows, start=2):
        g = (r.get(col) or "").strip()
        if not g.isdigit() or len(g) not in (10, 11, 12):
            raise InputFileError(path, f"{g!r} is not a tract (11 digits) or block group (12 "
                                 "digits) GEOID", fix="write GEOIDs as text with their leading "
                                 "zero", row=i, column=col)
        if len(g) == 10:
            g = g.zfill(11)
        w = 1.0
        if weight_col and (r.get(weight_col) or "").strip():
            try:
                w = float(r[weight_col])
            except ValueError:
                w = float("nan")
            if not 0 < w <= 1:
                raise InputFileError(path, f"weight {r[weight_col]!r} is not in (0, 1]",
                                     fix="give the share of the tract in the area", row=i,
                                     column=weight_col)
        name = (r.get(name_col) or "").strip() if name_col else set_name
        out.append({"name": name or set_name, "tract_geoid": g, "weight": w, "row": i})
    frame = pd.DataFrame(out)
    dup = frame.duplicated(["name", "tract_geoid"])
    if dup.any():
        r = frame[dup].iloc[0]
        raise InputFileError(path, f"{r.tract_geoid} is listed twice for {r['name']!r}",
                             fix="list each GEOID once per area", row=int(r.row))
    return frame


def _is_polygon_file(path: Path) -> bool:
    from upward.sources.tiger import is_zip

    if path.suffix.lower() in (".csv", ".txt"):
        return False
    return is_zip(path) or path.read_bytes()[:200].lstrip().startswith(b"{")


def add_areas(workspace: Workspace, set_name: str, path: Path, *,
              name_property: str | None = None, vintage: str | None = None,
              replace: bool = False) -> AreaSet:
    """Read, allocate and store a set of areas (all or nothing).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> ws = Workspace.init(root / "ws")
    >>> _ = (root / "d.csv").write_text("tract,area\\n40143000100,North\\n40143000200,South\\n")
    >>> added = add_areas(ws, "districts", root / "d.csv")
    >>> added.allocation[["name", "tract_geoid", "weight_kind"]].values.tolist()
    [['North', '40143000100', 'listed'], ['South', '40143000200', 'listed']]
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "there is no file at this path", fix="check the path")
    dataset = dataset_of(set_name)
    with Warehouse(workspace.warehouse_path) as wh:
        existing = wh.sources()
        if dataset in set(existing["dataset"]) and not replace:
            raise AreaError(f"an area set {set_name!r} is already stored",
                            fix="pass --replace to replace it, or choose another name")
        notes: list[str] = []
        if _is_polygon_file(path):
            polygons, geojson = _read_polygons(path, name_property)
            tracts, used = _tract_geometry(wh, vintage)
            alloc = allocate(polygons, tracts)
            alloc["weight_kind"] = "area_share"
        else:
            listed = _read_geoid_list(path, set_name)
            known = _known_tracts(wh)
            if known:
                unknown = listed[~listed["tract_geoid"].str[:11].isin(known)]
                if len(unknown):
                    first = unknown.iloc[0]
                    raise InputFileError(
                        path, f"{len(unknown)} GEOID(s) are not loaded tracts, first "
                        f"{first.tract_geoid}", fix="check the GEOIDs (2020 or 2010 tracts?) "
                        "or load the county's tracts", row=int(first.row))
            else:
                notes.append("no tracts are loaded: the GEOIDs were not checked")
            alloc = listed.drop(columns="row").assign(area_share=float("nan"),
                                                      weight_kind="listed")
            geojson = {}
            used = vintage or "2020"
        alloc["area_id"] = [area_id(set_name, n) for n in alloc["name"]]
        alloc["vintage"] = used
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        source_id = f"{dataset}@{sha[:12]}"
        tables = _tables(alloc, geojson, set_name, source_id)
        provenance = {
            "source_id": source_id, "dataset": dataset, "publisher": "user file",
            "title": f"Custom areas: {set_name}", "url": path.resolve().as_uri(),
            "retrieved_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sha256": sha, "rows": tables.rows, "license": "as provided by the user",
            "notes": "; ".join(notes)}
        wh.load(dataset, tables, provenance)  # replaces a previous copy in one transaction
        wh.checkpoint()
        population = _tract_population(wh, workspace)
    summary = summarise(alloc, population)
    return AreaSet(set_name, dataset, alloc[["area_id", "name", "tract_geoid", "weight",
                                             "weight_kind", "vintage", "area_share"]],
                   summary, tuple(notes))


def _tables(alloc: pd.DataFrame, geojson: dict, set_name: str, source_id: str) -> Tables:
    cross = pd.DataFrame({"from_geo_id": alloc["tract_geoid"], "to_geo_id": alloc["area_id"],
                          "weight": alloc["weight"], "weight_kind": alloc["weight_kind"],
                          "vintage": alloc["vintage"], "source_id": source_id})
    firsts = alloc.groupby("area_id", sort=True).first()
    geos = pd.DataFrame({
        "geo_id": firsts.index, "geo_level": "area", "name": firsts["name"].to_numpy(),
        "state_fips": firsts["tract_geoid"].str[:2].to_numpy(), "parent_geo_id": None,
        "population": None, "vintage": firsts["vintage"].to_numpy(), "source_id": source_id})
    geometry = pd.DataFrame([
        {"geo_id": area_id(set_name, n), "vintage": alloc["vintage"].iloc[0],
         "geojson": json.dumps(g, separators=(",", ":")), "source_id": source_id}
        for n, g in geojson.items()], columns=["geo_id", "vintage", "geojson", "source_id"])
    return Tables(crosswalks=conform("crosswalks", cross), geographies=conform("geographies", geos),
                  geometry=conform("geometry", geometry))


def _tract_population(wh: Warehouse, workspace: Workspace) -> dict[str, float] | None:
    """Tract populations: ACS B01003 from the API (observations) or its replicate table."""
    from upward.warehouse.replicates import load_replicates

    obs = wh.table("observations")
    pop = wh.frame(obs.filter((obs.metric_id == "b01003_001") & (obs.geo_level == "tract"))
                   .select("geo_id", "estimate"))
    if not pop.empty:
        return dict(zip(pop["geo_id"], pop["estimate"], strict=False))
    tables = load_replicates(workspace, ["B01003"])
    if "B01003" not in tables:
        return None
    c = tables["B01003"].cells
    c = c[c["variable"] == "B01003_001"]
    return dict(zip(c["geo_id"], c["estimate"], strict=False))


def area_tract_weights(workspace: Workspace, area: str | None = None) -> pd.DataFrame:
    """Area ← tract allocation weights: ``area_id, tract_geoid, weight`` (for any consumer, e.g.
    PUMS allocation through a tract → PUMA factor table). ``area`` is an area id, an area name
    or a set name; all areas when None.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> Warehouse(ws.warehouse_path).close()
    >>> area_tract_weights(ws).columns.tolist()
    ['area_id', 'tract_geoid', 'weight']
    >>> area_tract_weights(ws, "North")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: no custom area or area set is called 'North'. What to do: add areas first: upward areas add NAME FILE
    """
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        c = wh.frame(wh.table("crosswalks"))
        g = wh.frame(wh.table("geographies"))
    c = c[c["to_geo_id"].str.startswith("area:")]
    out = c.rename(columns={"to_geo_id": "area_id", "from_geo_id": "tract_geoid"})[
        ["area_id", "tract_geoid", "weight"]]
    if area is not None:
        ids = _match_areas(g, area)
        out = out[out["area_id"].isin(ids)]
    return out.sort_values(["area_id", "tract_geoid"]).reset_index(drop=True)


def _match_areas(geographies: pd.DataFrame, query: str) -> list[str]:
    areas = geographies[geographies["geo_level"] == "area"]
    q = query.strip()
    for test in (areas["geo_id"] == q, areas["name"].str.lower() == q.lower()):
        if test.any():
            return sorted(areas.loc[test, "geo_id"])
    try:
        s = slug(q)
    except AreaError:
        s = ""
    in_set = areas["geo_id"].str.split(":").str[1] == s
    if in_set.any():
        return sorted(areas.loc[in_set, "geo_id"])
    from upward.core.errors import PlaceNotFoundError

    names = sorted(set(areas["name"]))
    raise PlaceNotFoundError(f"no custom area or area set is called {query!r}",
                             fix=("stored areas: " + ", ".join(names[:12])) if names else
                             "add areas first: upward areas add NAME FILE")


def list_areas(workspace: Workspace) -> pd.DataFrame:
    """Every stored area: ``set, area_id, name, tracts, vintage`` (none before any load).

    >>> import tempfile
    >>> list_areas(Workspace.init(Path(tempfile.mkdtemp()) / "ws")).columns.tolist()
    ['set', 'area_id', 'name', 'tracts', 'vintage']
    """
    if not workspace.warehouse_path.exists():
        return pd.DataFrame(columns=["set", "area_id", "name", "tracts", "vintage"])
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        c = wh.frame(wh.table("crosswalks"))
        g = wh.frame(wh.table("geographies"))
        s = wh.sources()
    areas = g[g["geo_level"] == "area"].merge(s[["source_id", "dataset", "title"]],
                                             on="source_id")
    counts = c[c["to_geo_id"].str.startswith("area:")].groupby("to_geo_id").size()
    return pd.DataFrame({
        "set": areas["title"].str.removeprefix("Custom areas: "), "area_id": areas["geo_id"],
        "name": areas["name"], "tracts": areas["geo_id"].map(counts).fillna(0).astype(int),
        "vintage": areas["vintage"]}).sort_values(["set", "name"]).reset_index(drop=True)


def show_areas(workspace: Workspace, query: str) -> AreaSet:
    """The allocation and summary of an area (or of every area of a set).

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> Warehouse(ws.warehouse_path).close()
    >>> show_areas(ws, "District 3")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: no custom area or area set is called 'District 3'. What to do: add areas first: upward areas add NAME FILE
    """
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        c = wh.frame(wh.table("crosswalks"))
        g = wh.frame(wh.table("geographies"))
        population = _tract_population(wh, workspace)
    ids = _match_areas(g, query)
    names = dict(zip(g["geo_id"], g["name"], strict=False))
    a = c[c["to_geo_id"].isin(ids)].rename(columns={"to_geo_id": "area_id",
                                                   "from_geo_id": "tract_geoid"})
    a = a.assign(name=a["area_id"].map(names), area_share=float("nan"))
    alloc = a[["area_id", "name", "tract_geoid", "weight", "weight_kind", "vintage",
               "area_share"]].sort_values(["name", "tract_geoid"]).reset_index(drop=True)
    return AreaSet(query, "", alloc, summarise(alloc.drop(columns="area_share"), population))


def remove_areas(workspace: Workspace, set_name: str) -> int:
    """Remove a stored area set; the number of rows removed.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> Warehouse(ws.warehouse_path).close()
    >>> remove_areas(ws, "districts")
    Traceback (most recent call last):
    ...
    upward.geo.areas.AreaError: no area set 'districts' is stored. What to do: see the stored sets with: upward areas list
    """
    dataset = dataset_of(set_name)
    with Warehouse(workspace.warehouse_path) as wh:
        if dataset not in set(wh.sources()["dataset"]):
            raise AreaError(f"no area set {set_name!r} is stored",
                            fix="see the stored sets with: upward areas list")
        n = wh.remove(dataset)
        wh.checkpoint()
    return n


def _relationship_pieces(workspace: Workspace) -> dict[str, list[tuple[str, str, float]]]:
    """The loaded tract relationship as pieces per target vintage (see geo.tract_vintage)."""
    from upward.sources.tract_relationship import TO_2010, TO_2020

    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        c = wh.table("crosswalks")
        rows = wh.frame(c.filter(c.weight_kind.isin([TO_2010, TO_2020]))
                        .select("from_geo_id", "to_geo_id", "weight", "weight_kind"))
    # Rows from a tract of vintage V say how that tract is made of the other vintage's tracts.
    return {vintage: list(zip(sub["from_geo_id"], sub["to_geo_id"], sub["weight"],
                              strict=True))
            for vintage, kind in (("2020", TO_2010), ("2010", TO_2020))
            for sub in [rows[rows["weight_kind"] == kind]] if not sub.empty}


def align_weights(workspace: Workspace, weight_sets: dict[str, dict[str, float]],
                  present: set[str]) -> tuple[dict[str, dict[str, float]], str | None]:
    """Put area weights on the tract vintage of the tables that will be summed (``present``:
    the tract GEOIDs they hold). Weights whose tracts are all there pass unchanged; otherwise
    they are carried to the other vintage through the loaded Census tract relationship when
    that covers the tables better. Returns the weight sets and a note saying what was done, or
    what is missing.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> weights = {"area:d:north": {"40143000100": 1.0, "40143000200": 0.5}}
    >>> align_weights(ws, weights, {"40143000100", "40143000200"})  # every tract present
    ({'area:d:north': {'40143000100': 1.0, '40143000200': 0.5}}, None)
    """
    from upward.geo.tract_vintage import carry_weights, coverage

    every = {t: w for ws in weight_sets.values() for t, w in ws.items()}
    before = coverage(every, present)
    if before >= 0.999 or not present:
        return weight_sets, None
    share = f"{1 - before:.0%}"
    pieces = _relationship_pieces(workspace)
    best, best_cover, best_vintage = weight_sets, before, None
    if pieces:  # the tables' vintage: the one whose tracts they hold most of
        vintage = max(pieces, key=lambda v: len(present & {new for new, _, _ in pieces[v]}))
        carried = {k: carry_weights(ws, pieces[vintage]) for k, ws in weight_sets.items()}
        cover = coverage({t: w for ws in carried.values() for t, w in ws.items()}, present)
        if cover > before:
            best, best_cover, best_vintage = carried, cover, vintage
    if best_vintage is None:
        fix = ("load the Census 2020–2010 tract relationship (upward fetch tract-relationship "
               "--state SS) to carry the area onto the tables' tracts" if not pieces else
               "check that the tables and the area cover the same county")
        return weight_sets, (f"{share} of the area's tract weight is on tracts the tables do "
                             f"not have (another tract vintage?); those count as zero — {fix}")
    return best, (f"the area was drawn on tracts of another vintage than the tables': its "
                  f"weights were carried onto {best_vintage} tracts by land area (Census "
                  f"2020–2010 tract relationship file), covering {best_cover:.1%} of them")


def area_geojson(workspace: Workspace, area_id: str) -> dict:
    """A GeoJSON FeatureCollection of every area of ``area_id``'s set (``properties``: area_id,
    name, selected) from the stored shapes; no features for a set given as a GEOID list.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> ws = Workspace.init(root / "ws")
    >>> area_geojson(ws, "area:districts:north")
    {'type': 'FeatureCollection', 'features': []}
    """
    set_key = area_id.split(":")[1] if area_id.count(":") == 2 else ""
    if not workspace.warehouse_path.exists():
        return {"type": "FeatureCollection", "features": []}
    with Warehouse(workspace.warehouse_path, read_only=True) as wh:
        g = wh.frame(wh.table("geometry"))
        names = wh.frame(wh.table("geographies"))
    g = g[g["geo_id"].str.startswith(f"area:{set_key}:")]
    label = dict(zip(names["geo_id"], names["name"], strict=False))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.geo_id,
         "properties": {"area_id": r.geo_id, "name": label.get(r.geo_id, r.geo_id),
                        "selected": r.geo_id == area_id},
         "geometry": json.loads(r.geojson)} for r in g.itertuples()]}
