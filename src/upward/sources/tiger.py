"""Census Bureau cartographic boundary files: census tracts, 2018 vintage, 1:500,000, per state.

The publisher's file is a zipped shapefile (``cb_2018_SS_tract_500k.zip``: ``.shp``, ``.shx``,
``.dbf``, ``.prj``); copies converted to GeoJSON are common too. The reader accepts both, deciding
by the file's bytes (a zip archive starts with ``PK``), not by its name. Tracts are those of the
2010 Census (the 2018 vintage still uses 2010 tract definitions).

Out come ``geometry`` rows (one compact GeoJSON geometry per tract, coordinates rounded to 6
decimals — about 0.1 m — and rings wound as RFC 7946 says: exterior counter-clockwise, holes
clockwise) and ``geographies`` rows for the tracts and for the counties they lie in.

Examples
--------
>>> tract_name("007601"), tract_name("007600")
('76.01', '76')
>>> TRACTS.url_for("40")
'https://www2.census.gov/geo/tiger/GENZ2018/shp/cb_2018_40_tract_500k.zip'
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from upward.core.errors import InputFileError
from upward.geo.ids import GeoidError, compose_geoid, repair_geoid
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.schema import conform

PUBLISHER = Publisher.CENSUS
LICENSE = "US Census Bureau, public domain"
VINTAGE = "2018"
URL = "https://www2.census.gov/geo/tiger/GENZ2018/shp/cb_2018_{state}_tract_500k.zip"

#: Decimals kept in coordinates (1e-6 degree is about 0.1 m).
DECIMALS = 6

#: The first bytes of a zip archive (local file header; empty archive).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

POLYGON_TYPES = ("Polygon", "MultiPolygon")

#: CRS names a GeoJSON ``crs`` member may carry for longitude/latitude in degrees.
_GEOGRAPHIC_CRS = re.compile(r"CRS84|CRS83|EPSG:{1,2}(4326|4269|4267)\b", re.IGNORECASE)

_REPROJECT = (
    "reproject the file to WGS84 longitude/latitude (EPSG:4326), e.g. "
    "ogr2ogr -t_srs EPSG:4326 out.geojson in.shp, or use the Census Bureau's original file"
)
_REDOWNLOAD = "download it again (upward fetch … --refresh) or use the Census Bureau's original file"


def is_zip(path: Path) -> bool:
    """Whether the file's first bytes are those of a zip archive (whatever its name).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.geojson"
    >>> _ = p.write_bytes(b'{"type": "FeatureCollection"}')
    >>> is_zip(p)
    False
    """
    with Path(path).open("rb") as handle:
        return handle.read(4) in ZIP_MAGIC


def read_geometry_file(path: Path) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection or of a zipped shapefile, as GeoJSON dicts.

    Checks the container only (a FeatureCollection with at least one feature; a zip holding
    a ``.shp`` and its ``.dbf``); each feature is checked by ``read_tracts``. A shapefile's
    shapes become GeoJSON geometries (``shape.__geo_interface__``) and its records properties;
    a null shape becomes ``geometry: None``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.geojson"
    >>> ring = [[-96.0, 36.0], [-95.9, 36.0], [-95.9, 36.1], [-96.0, 36.0]]
    >>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
    ...       "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"GEOID": "40143007600"}}]}
    >>> _ = p.write_text(json.dumps(fc))
    >>> [f["properties"]["GEOID"] for f in read_geometry_file(p)]
    ['40143007600']
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "there is no file at this path", fix="check the path")
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty", fix=_REDOWNLOAD)
    if is_zip(path):
        return _read_shapefile_zip(path)
    if path.suffix.lower() == ".zip":
        raise InputFileError(
            path,
            "the file is named .zip but is not a zip archive (its first bytes are not 'PK')",
            fix=_REDOWNLOAD + "; the download may have returned an error page",
        )
    return _read_geojson(path)


def _read_geojson(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise InputFileError(
            path, "the file is neither a zip archive nor UTF-8 text (GeoJSON)", fix=_REDOWNLOAD
        ) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path,
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            + (" (it looks truncated)" if exc.pos >= len(raw.rstrip()) - 1 else ""),
            fix=_REDOWNLOAD,
        ) from None
    kind = data.get("type") if isinstance(data, dict) else type(data).__name__
    if kind != "FeatureCollection":
        raise InputFileError(
            path,
            f"the GeoJSON is not a FeatureCollection (its type is {kind!r})",
            fix="give a GeoJSON FeatureCollection with one Feature per tract, or the zipped shapefile",
        )
    crs = data.get("crs")
    if crs is not None:
        name = json.dumps(crs)
        if not _GEOGRAPHIC_CRS.search(name):
            raise InputFileError(
                path,
                f"the GeoJSON declares the coordinate system {name}, not longitude/latitude "
                "(WGS84)",
                fix=_REPROJECT,
            )
    features = data.get("features")
    if not isinstance(features, list):
        raise InputFileError(
            path,
            "the FeatureCollection has no 'features' list",
            fix="give a GeoJSON FeatureCollection with one Feature per tract",
        )
    if not features:
        raise InputFileError(
            path,
            "the FeatureCollection has no features",
            fix="give the state's tract file; this one is empty (was it filtered to nothing?)",
        )
    return features


def _read_shapefile_zip(path: Path) -> list[dict[str, Any]]:
    import shapefile  # pyshp

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(path, f"the zip archive cannot be opened ({exc})", fix=_REDOWNLOAD) from None
    with archive:
        members = {name.lower(): name for name in archive.namelist() if not name.endswith("/")}
        shp = _pick_shp(path, sorted(n for n in members if n.endswith(".shp")), list(members.values()))
        stem = shp[:-4]
        if stem + ".dbf" not in members:
            raise InputFileError(
                path,
                f"the zip holds {members[shp]!r} but not its attribute table {stem}.dbf, "
                "which carries GEOID",
                fix=_REDOWNLOAD,
            )
        try:
            parts = {
                ext: io.BytesIO(archive.read(members[stem + ext]))
                for ext in (".shp", ".shx", ".dbf", ".cpg", ".prj")
                if stem + ext in members
            }
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputFileError(path, f"the zip archive is damaged ({exc})", fix=_REDOWNLOAD) from None
    if ".prj" in parts:
        prj = parts.pop(".prj").getvalue().decode("latin-1", errors="replace").strip()
        if prj.upper().startswith("PROJCS"):
            match = re.match(r'PROJCS\["([^"]*)"', prj, re.IGNORECASE)
            raise InputFileError(
                path,
                f"the shapefile is in a projected coordinate system "
                f"({match.group(1) if match else prj[:60]}), not longitude/latitude (WGS84)",
                fix=_REPROJECT,
            )
    _check_shp_length(path, members[shp], parts[".shp"].getvalue())
    try:
        with warnings.catch_warnings():
            # pyshp warns, and reads on, when the .shp header's size disagrees with the file's.
            warnings.simplefilter("error", shapefile.PossiblyCorruptFileHeader)
            reader = shapefile.Reader(
                shp=parts[".shp"],
                shx=parts.get(".shx"),
                dbf=parts[".dbf"],
                cpg=parts.get(".cpg"),
                encodingErrors="replace",
            )
            with reader:
                shapes = reader.shapes()
                records = reader.records()
    except shapefile.PossiblyCorruptFileHeader as exc:
        raise InputFileError(
            path, f"the shapefile {members[shp]!r} looks truncated ({exc})", fix=_REDOWNLOAD
        ) from None
    except (shapefile.ShapefileException, struct.error, ValueError, EOFError) as exc:
        raise InputFileError(
            path, f"the shapefile {members[shp]!r} cannot be read ({exc})", fix=_REDOWNLOAD
        ) from None
    if len(shapes) != len(records):
        raise InputFileError(
            path,
            f"the shapefile has {len(shapes)} shapes but its .dbf has {len(records)} records",
            fix=_REDOWNLOAD,
        )
    if not shapes:
        raise InputFileError(
            path, f"the shapefile {members[shp]!r} has no shapes", fix=_REDOWNLOAD
        )
    features = []
    for shape, record in zip(shapes, records, strict=True):
        features.append(
            {"type": "Feature", "geometry": _shape_geometry(shape), "properties": record.as_dict()}
        )
    return features


def _check_shp_length(path: Path, member: str, shp: bytes) -> None:
    """Refuse a ``.shp`` shorter than the length its own header declares.

    The ESRI header stores the file length in 16-bit words, big-endian, at byte 24; checking it
    here makes truncation an Upward error whatever the installed pyshp says about it.
    """
    if len(shp) < 100:
        raise InputFileError(
            path,
            f"the shapefile {member!r} looks truncated ({len(shp)} bytes, shorter than its "
            "100-byte header)",
            fix=_REDOWNLOAD,
        )
    declared = struct.unpack(">i", shp[24:28])[0] * 2
    if declared > len(shp):
        raise InputFileError(
            path,
            f"the shapefile {member!r} looks truncated (its header declares {declared:,} bytes, "
            f"the file has {len(shp):,})",
            fix=_REDOWNLOAD,
        )


def _pick_shp(path: Path, shps: list[str], names: list[str]) -> str:
    if not shps:
        listing = ", ".join(names[:8]) + (" …" if len(names) > 8 else "") if names else "nothing"
        raise InputFileError(
            path,
            f"the zip archive holds no shapefile (.shp); it holds {listing}",
            fix="give the Census Bureau's cb_2018_SS_tract_500k.zip, or its GeoJSON conversion",
        )
    if len(shps) == 1:
        return shps[0]
    tracts = [s for s in shps if "tract" in Path(s).name]
    if len(tracts) == 1:
        return tracts[0]
    raise InputFileError(
        path,
        f"the zip archive holds several shapefiles ({', '.join(shps)}) and it is not clear "
        "which one has the tracts",
        fix="give a zip with the one tract shapefile",
    )


def _shape_geometry(shape: Any) -> dict[str, Any] | None:
    import shapefile  # pyshp

    if shape.shapeType == shapefile.NULL:
        return None
    try:
        return shape.__geo_interface__
    except shapefile.GeoJSON_Error:
        return {"type": shapefile.SHAPETYPE_LOOKUP.get(shape.shapeType, "unknown"), "coordinates": None}


def clean_geometry(geometry: object, path: Path, row: int) -> dict[str, Any]:
    """Check a (Multi)Polygon, round its coordinates and wind its rings as RFC 7946 says.

    ``row`` is the feature's number (1-based) for the error message. Rejects a missing or
    empty geometry, other geometry types, malformed rings, and coordinates outside longitude
    [-180, 180] / latitude [-90, 90] (a projected file).

    >>> ring = [[-96.0, 36.0], [-96.0, 36.1], [-95.9, 36.1], [-96.0, 36.0]]
    >>> clean_geometry({"type": "Polygon", "coordinates": [ring]}, Path("f"), 1)["coordinates"]
    [[[-96.0, 36.0], [-95.9, 36.1], [-96.0, 36.1], [-96.0, 36.0]]]
    """
    if geometry is None or (isinstance(geometry, dict) and not geometry.get("coordinates")
                            and geometry.get("type") in POLYGON_TYPES):
        raise InputFileError(
            path,
            "the feature has no geometry",
            fix="every tract needs its boundary polygon; use the Census Bureau's original file",
            row=row,
            column="geometry",
        )
    kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
    if kind not in POLYGON_TYPES:
        raise InputFileError(
            path,
            f"the geometry is a {kind}, not a Polygon or MultiPolygon",
            fix="give the tract boundary file (polygons), not points or lines",
            row=row,
            column="geometry",
        )
    coordinates = geometry["coordinates"]
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, Sequence) or isinstance(polygons, str) or not polygons:
        raise _malformed(path, row, f"the {kind} has no polygons")
    out = [_polygon(polygon, path, row) for polygon in polygons]
    return {"type": kind, "coordinates": out[0] if kind == "Polygon" else out}


def _polygon(polygon: object, path: Path, row: int) -> list[list[list[float]]]:
    if not isinstance(polygon, Sequence) or isinstance(polygon, str) or not polygon:
        raise _malformed(path, row, "a polygon has no rings")
    rings = []
    for number, ring in enumerate(polygon):
        points = _ring(ring, path, row)
        # RFC 7946: the exterior ring counter-clockwise, holes clockwise.
        area = _signed_area(points)
        if (number == 0 and area < 0) or (number > 0 and area > 0):
            points.reverse()
        rings.append(points)
    return rings


def _ring(ring: object, path: Path, row: int) -> list[list[float]]:
    fast = _ring_fast(ring)
    if fast is not None:
        return fast
    return _ring_checked(ring, path, row)


def _ring_fast(ring: object) -> list[list[float]] | None:
    """The common case in one numpy pass; None sends the ring to the checks that explain."""
    try:
        array = np.asarray(ring, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.ndim != 2 or array.shape[0] < 4 or array.shape[1] < 2:
        return None
    xy = array[:, :2]
    if not (np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all()
            and (np.abs(xy[:, 1]) <= 90).all()):
        return None
    if any(isinstance(v, bool) for p in ring[:1] for v in p):  # type: ignore[index]
        return None
    points = np.round(xy, DECIMALS)
    if not (points[0] == points[-1]).all():
        return None
    return points.tolist()


def _ring_checked(ring: object, path: Path, row: int) -> list[list[float]]:
    if not isinstance(ring, Sequence) or isinstance(ring, str) or len(ring) < 4:
        raise _malformed(path, row, "a ring has fewer than 4 positions")
    points = []
    for position in ring:
        if not isinstance(position, Sequence) or isinstance(position, str) or len(position) < 2:
            raise _malformed(path, row, f"{position!r} is not a [longitude, latitude] position")
        x, y = position[0], position[1]
        if not (_is_number(x) and _is_number(y)):
            raise _malformed(path, row, f"{list(position)!r} is not a pair of finite numbers")
        if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
            raise InputFileError(
                path,
                f"the coordinate ({x:g}, {y:g}) is outside longitude [-180, 180] / latitude "
                "[-90, 90]: the file is not in WGS84 longitude/latitude (it looks projected)",
                fix=_REPROJECT,
                row=row,
                column="geometry",
            )
        points.append([round(float(x), DECIMALS), round(float(y), DECIMALS)])
    if points[0] != points[-1]:
        raise _malformed(path, row, "a ring is not closed (its last position differs from its first)")
    return points


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _signed_area(points: list[list[float]]) -> float:
    xy = np.asarray(points, dtype=float)
    return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def _malformed(path: Path, row: int, problem: str) -> InputFileError:
    return InputFileError(
        path,
        f"the geometry is malformed: {problem}",
        fix="repair the geometry or use the Census Bureau's original file",
        row=row,
        column="geometry",
    )


def geometry_json(geometry: dict[str, Any]) -> str:
    """Compact JSON text of a geometry (no spaces).

    >>> geometry_json({"type": "Point", "coordinates": [1.5, 2.0]})
    '{"type":"Point","coordinates":[1.5,2.0]}'
    """
    return json.dumps(geometry, separators=(",", ":"))


def tract_name(tractce: str) -> str:
    """The tract's name from its 6-digit code: '007601' → '76.01', '007600' → '76'.

    >>> tract_name("980000")
    '9800'
    """
    base, suffix = int(tractce[:4]), tractce[4:]
    return f"{base}.{suffix}" if suffix != "00" else str(base)


def tract_geoid(properties: dict[str, Any], path: Path, row: int) -> tuple[str, bool]:
    """The feature's 11-digit tract GEOID and whether it had to be repaired.

    Repairs a GEOID written as a number that lost its leading zero, an AFF-style
    ``1400000US…`` id, and a missing GEOID from STATEFP + COUNTYFP + TRACTCE (property names
    are matched case-insensitively). A GEOID that disagrees with those parts is an error.

    >>> tract_geoid({"GEOID": 1073000100}, Path("f"), 1)
    ('01073000100', True)
    >>> tract_geoid({"STATEFP": "40", "COUNTYFP": "143", "TRACTCE": "007600"}, Path("f"), 1)
    ('40143007600', True)
    """
    props = {str(k).upper(): v for k, v in properties.items()}
    raw = props.get("GEOID")
    composed = _composed(props, path, row)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if composed is None:
            raise InputFileError(
                path,
                "the feature has no GEOID, nor STATEFP, COUNTYFP and TRACTCE to build it from",
                fix="give each feature its 11-digit tract GEOID (use the Census Bureau's file)",
                row=row,
                column="GEOID",
            )
        return composed, True
    text = str(raw).strip()
    aff = re.fullmatch(r"1400000US(\d{11})", text)
    try:
        geoid = aff.group(1) if aff else repair_geoid(raw, "tract")
    except GeoidError as exc:
        raise InputFileError(
            path,
            f"GEOID {raw!r} is not an 11-digit tract code ({exc})",
            fix="give the tract GEOID as 11 digits: state 2, county 3, tract 6 (e.g. 40143007600)",
            row=row,
            column="GEOID",
        ) from None
    if composed is not None and composed != geoid:
        raise InputFileError(
            path,
            f"GEOID {geoid} disagrees with STATEFP + COUNTYFP + TRACTCE = {composed}",
            fix="correct the GEOID or the code columns; use the Census Bureau's original file",
            row=row,
            column="GEOID",
        )
    return geoid, geoid != text


def _composed(props: dict[str, Any], path: Path, row: int) -> str | None:
    parts = [props.get(k) for k in ("STATEFP", "COUNTYFP", "TRACTCE")]
    if any(p is None or (isinstance(p, str) and not p.strip()) for p in parts):
        return None
    try:
        return compose_geoid(*parts, widths=(2, 3, 6))
    except GeoidError as exc:
        raise InputFileError(
            path,
            f"STATEFP/COUNTYFP/TRACTCE {parts!r} do not form a tract code ({exc})",
            fix="give STATEFP as 2 digits, COUNTYFP as 3 and TRACTCE as 6",
            row=row,
            column="TRACTCE",
        ) from None


def _display_name(properties: dict[str, Any], geoid: str) -> str:
    props = {str(k).upper(): v for k, v in properties.items()}
    lsad, name, county = props.get("NAMELSAD"), props.get("NAME"), props.get("NAMELSADCO")
    if isinstance(lsad, str) and lsad.strip():
        text = lsad.strip()
    elif isinstance(name, str) and name.strip():
        text = f"Census Tract {name.strip()}"
    else:
        text = f"Census Tract {tract_name(geoid[5:])}"
    if isinstance(county, str) and county.strip():
        text += f", {county.strip()}"
    return text


def read_tracts(path: Path, source_id: str, *, vintage: str = VINTAGE) -> Tables:
    """Read a tract boundary file (GeoJSON or zipped shapefile) into canonical tables.

    Returns ``geometry`` (geo_id, vintage, compact GeoJSON geometry) and ``geographies`` for
    each tract (name "Census Tract 76", parent the county) and each county present. Every
    problem is an ``InputFileError`` naming the file, the feature (``row``, 1-based) and the
    property.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.geojson"
    >>> ring = [[-96.0, 36.0], [-95.9, 36.0], [-95.9, 36.1], [-96.0, 36.0]]
    >>> f = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
    ...      "properties": {"GEOID": "40143007600", "NAME": "76"}}
    >>> _ = p.write_text(json.dumps({"type": "FeatureCollection", "features": [f]}))
    >>> t = read_tracts(p, "src")
    >>> t.geographies[["geo_id", "geo_level", "name"]].values.tolist()
    [['40143007600', 'tract', 'Census Tract 76'], ['40143', 'county', None]]
    """
    path = Path(path)
    features = read_geometry_file(path)
    seen: dict[str, int] = {}
    geometry_rows: list[dict[str, Any]] = []
    tract_rows: list[dict[str, Any]] = []
    repaired = 0
    for row, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            kind = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            raise InputFileError(
                path,
                f"the item is a {kind!r}, not a GeoJSON Feature",
                fix="give one Feature (geometry + properties) per tract",
                row=row,
            )
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise InputFileError(
                path, "the feature's properties are not an object", fix="give GEOID in properties",
                row=row, column="properties",
            )
        geoid, was_repaired = tract_geoid(properties, path, row)
        repaired += was_repaired
        if geoid in seen:
            raise InputFileError(
                path,
                f"GEOID {geoid} appears twice (features {seen[geoid]} and {row})",
                fix="remove the duplicate feature; each tract may appear once",
                row=row,
                column="GEOID",
            )
        seen[geoid] = row
        geometry = clean_geometry(feature.get("geometry"), path, row)
        geometry_rows.append(
            {"geo_id": geoid, "vintage": vintage, "geojson": geometry_json(geometry),
             "source_id": source_id}
        )
        tract_rows.append(
            {"geo_id": geoid, "geo_level": "tract", "name": _display_name(properties, geoid),
             "state_fips": geoid[:2], "parent_geo_id": geoid[:5], "population": None,
             "vintage": vintage, "source_id": source_id}
        )
    counties = sorted({geoid[:5] for geoid in seen})
    county_rows = [
        {"geo_id": c, "geo_level": "county", "name": None, "state_fips": c[:2],
         "parent_geo_id": c[:2], "population": None, "vintage": vintage, "source_id": source_id}
        for c in counties
    ]
    notes = []
    if repaired:
        notes.append(
            f"{path.name}: {repaired} GEOID(s) repaired (leading zero restored, AFF id shortened, "
            "or built from STATEFP + COUNTYFP + TRACTCE)"
        )
    return Tables(
        geometry=conform("geometry", pd.DataFrame(geometry_rows)),
        geographies=conform("geographies", pd.DataFrame(tract_rows + county_rows)),
        notes=notes,
    )


TRACTS = register(
    Dataset(
        key="census.tracts",
        source="tracts",
        publisher=PUBLISHER,
        title="Cartographic boundary file, census tracts (2010 definitions), 2018, 1:500,000",
        url=URL,
        local_names=(
            "geometry/cb_2018_{state}_tract_500k.geojson",
            "cb_2018_{state}_tract_500k.geojson",
            "cb_2018_{state}_tract_500k.json",
            "cb_2018_{state}_tract_500k.zip",
        ),
        license=LICENSE,
        reader=read_tracts,
        kind=Kind.GEOMETRY,
        label="US Census Bureau, tract boundaries, state {state}",
        release="2018",
        per_state=True,
        notes="Geometry in WGS84/NAD83 longitude/latitude, rounded to 6 decimals; rings wound "
        "per RFC 7946. Tract names have no county part: the file carries no county name.",
    )
)
