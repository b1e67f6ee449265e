"""Census cartographic boundary tracts: real GeoJSON files, a real shapefile zip, broken inputs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapefile  # pyshp

from upward.core.errors import InputFileError
from upward.sources.base import DATASETS, datasets_of
from upward.sources.tiger import (
    TRACTS,
    clean_geometry,
    read_geometry_file,
    read_tracts,
    tract_geoid,
    tract_name,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "data"
GEOMETRY = SHARED / "geometry"
needs_data = pytest.mark.skipif(
    not GEOMETRY.is_dir(), reason=f"real data folder {GEOMETRY} is absent (../shared/data)"
)

COUNTIES = {
    "22071": ("orleans_la", 177),
    "26163": ("wayne_mi", 611),
    "26065": ("ingham_mi", 81),
    "34013": ("essex_nj", 210),
    "35001": ("bernalillo_nm", 153),
    "39061": ("hamilton_oh", 222),
    "39113": ("montgomery_oh", 153),
    "40143": ("tulsa_ok", 175),
    "55101": ("racine_wi", 44),
}


def county_file(fips: str) -> Path:
    return GEOMETRY / "county" / f"cb_2018_{fips}_tract_500k_{COUNTIES[fips][0]}.geojson"


def all_positions(geometry: dict) -> list[list[list[float]]]:
    """Rings of a (Multi)Polygon, flattened to a list of rings."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]


# ---------------------------------------------------------------- real GeoJSON files


@needs_data
@pytest.mark.realdata
@pytest.mark.parametrize("fips", sorted(COUNTIES))
def test_county_files(fips: str) -> None:
    tables = read_tracts(county_file(fips), "census.tracts:test")
    expected = COUNTIES[fips][1]
    geo = tables.geometry
    assert len(geo) == expected
    assert geo["geo_id"].map(lambda g: isinstance(g, str) and len(g) == 11 and g.isdigit()).all()
    assert geo["geo_id"].str.startswith(fips).all()
    assert geo["geo_id"].is_unique
    assert set(geo["vintage"]) == {"2018"}
    assert set(geo["source_id"]) == {"census.tracts:test"}

    tracts = tables.geographies[tables.geographies.geo_level == "tract"]
    counties = tables.geographies[tables.geographies.geo_level == "county"]
    assert len(tracts) == expected
    assert set(tracts["parent_geo_id"]) == {fips}
    assert set(tracts["state_fips"]) == {fips[:2]}
    assert tracts["name"].str.match(r"^Census Tract \d+(\.\d\d)?$").all()
    # The NAME property and the name derived from the tract code agree.
    assert (tracts["name"] == "Census Tract " + tracts["geo_id"].str[5:].map(tract_name)).all()
    assert tracts["population"].isna().all()
    assert counties[["geo_id", "name", "state_fips", "parent_geo_id", "vintage"]].values.tolist() == [
        [fips, None, fips[:2], fips[:2], "2018"]
    ]


@needs_data
@pytest.mark.realdata
def test_tulsa_names_and_geometry_match_source() -> None:
    path = county_file("40143")
    tables = read_tracts(path, "s")
    names = dict(zip(tables.geographies.geo_id, tables.geographies.name, strict=True))
    assert names["40143007000"] == "Census Tract 70"
    assert names["40143007310"] == "Census Tract 73.10"
    source = {f["properties"]["GEOID"]: f for f in json.loads(path.read_text())["features"]}
    for geo_id, text in zip(tables.geometry.geo_id, tables.geometry.geojson, strict=True):
        assert ", " not in text and ": " not in text  # compact
        ours = json.loads(text)
        theirs = source[geo_id]["geometry"]
        assert ours["type"] == theirs["type"]
        for a, b in zip(all_positions(ours), all_positions(theirs), strict=True):
            np.testing.assert_allclose(np.array(a), np.array(b), rtol=0, atol=5.0001e-7)
            assert all(len(repr(v).split(".")[-1]) <= 6 for point in a for v in point)


@needs_data
@pytest.mark.realdata
def test_wisconsin_state_file() -> None:
    path = GEOMETRY / "cb_2018_55_tract_500k.geojson"
    tables = read_tracts(path, "s")
    assert len(tables.geometry) == 1396
    assert tables.geometry["geo_id"].str.startswith("55").all()
    assert tables.geometry["geo_id"].str.len().eq(11).all()
    assert tables.geometry["geo_id"].str.startswith("55101").sum() == 44
    counties = tables.geographies[tables.geographies.geo_level == "county"]
    assert len(counties) == 72  # every Wisconsin county
    assert tables.notes == []
    # Rings are wound as RFC 7946 says (the exterior counter-clockwise).
    first = json.loads(tables.geometry.geojson.iloc[0])
    ring = np.array(all_positions(first)[0])
    area = np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1])
    assert area > 0


@needs_data
@pytest.mark.realdata
def test_dataset_declaration_finds_shared_file() -> None:
    assert DATASETS["census.tracts"] is TRACTS
    assert TRACTS in datasets_of("tracts")
    assert TRACTS.per_state
    assert TRACTS.url_for("55") == (
        "https://www2.census.gov/geo/tiger/GENZ2018/shp/cb_2018_55_tract_500k.zip"
    )
    assert (SHARED / TRACTS.local_names[0].format(state="55")).is_file()
    assert TRACTS.local_names[-1].format(state="40") == "cb_2018_40_tract_500k.zip"


# ---------------------------------------------------------------- the shapefile zip


def write_shapefile_zip(
    features: list[dict], zip_path: Path, *, prj: str | None = None, numeric_geoid: bool = False
) -> Path:
    """A zip like the Census Bureau's: .shp/.shx/.dbf/.prj/.cpg, written with pyshp."""
    folder = zip_path.parent / (zip_path.stem + "_parts")
    folder.mkdir()
    base = folder / "cb_2018_55_tract_500k"
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as writer:
        writer.field("STATEFP", "C", size=2)
        writer.field("COUNTYFP", "C", size=3)
        writer.field("TRACTCE", "C", size=6)
        writer.field("AFFGEOID", "C", size=20)
        if numeric_geoid:
            writer.field("GEOID", "N", size=11, decimal=0)
        else:
            writer.field("GEOID", "C", size=11)
        writer.field("NAME", "C", size=100)
        writer.field("LSAD", "C", size=2)
        writer.field("ALAND", "N", size=14, decimal=0)
        writer.field("AWATER", "N", size=14, decimal=0)
        for feature in features:
            p = feature["properties"]
            writer.shape(feature["geometry"])
            writer.record(
                p["STATEFP"], p["COUNTYFP"], p["TRACTCE"], p.get("AFFGEOID", ""),
                int(p["GEOID"]) if numeric_geoid else p["GEOID"],
                p["NAME"], p.get("LSAD", "CT"), p.get("ALAND", 0), p.get("AWATER", 0),
            )
    base.with_suffix(".prj").write_text(
        prj
        or 'GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID['
        '"GRS_1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["Degree",'
        "0.017453292519943295]]"
    )
    base.with_suffix(".cpg").write_text("UTF-8")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            archive.write(base.with_suffix(ext), base.name + ext)
    return zip_path


@needs_data
@pytest.mark.realdata
def test_shapefile_zip_matches_geojson(tmp_path: Path) -> None:
    source = county_file("55101")
    features = json.loads(source.read_text())["features"]
    zip_path = write_shapefile_zip(features, tmp_path / "cb_2018_55_tract_500k.zip")

    raw = read_geometry_file(zip_path)
    assert len(raw) == 44
    assert raw[0]["properties"]["GEOID"] == features[0]["properties"]["GEOID"]

    from_zip = read_tracts(zip_path, "s")
    from_json = read_tracts(source, "s")
    assert from_zip.geometry.geo_id.tolist() == from_json.geometry.geo_id.tolist()
    assert from_zip.geographies.equals(from_json.geographies)
    for a_text, b_text in zip(from_zip.geometry.geojson, from_json.geometry.geojson, strict=True):
        a, b = json.loads(a_text), json.loads(b_text)
        assert a["type"] == b["type"]
        rings_a, rings_b = all_positions(a), all_positions(b)
        assert len(rings_a) == len(rings_b)
        for ra, rb in zip(rings_a, rings_b, strict=True):
            np.testing.assert_allclose(np.array(ra), np.array(rb), rtol=0, atol=1e-6)


@needs_data
@pytest.mark.realdata
def test_zip_is_recognised_by_its_bytes_and_numeric_geoid_repaired(tmp_path: Path) -> None:
    features = json.loads(county_file("55101").read_text())["features"][:3]
    for f in features:  # pretend Alabama (01) so the numeric GEOID loses its leading zero
        f["properties"] = dict(f["properties"], STATEFP="01",
                               GEOID="01" + f["properties"]["GEOID"][2:])
    zip_path = write_shapefile_zip(features, tmp_path / "t.zip", numeric_geoid=True)
    disguised = tmp_path / "tracts.geojson"
    disguised.write_bytes(zip_path.read_bytes())
    tables = read_tracts(disguised, "s")
    assert tables.geometry.geo_id.tolist() == [f["properties"]["GEOID"] for f in features]
    assert tables.geometry.geo_id.str.startswith("01101").all()
    assert any("3 GEOID(s) repaired" in note for note in tables.notes)


@needs_data
@pytest.mark.realdata
def test_projected_prj_is_rejected(tmp_path: Path) -> None:
    features = json.loads(county_file("55101").read_text())["features"][:2]
    zip_path = write_shapefile_zip(
        features, tmp_path / "t.zip",
        prj='PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984"]]',
    )
    with pytest.raises(InputFileError, match="EPSG:4326") as info:
        read_tracts(zip_path, "s")
    assert str(zip_path) in str(info.value)
    assert "Web_Mercator" in str(info.value)


# ---------------------------------------------------------------- broken inputs (synthetic)


def square(x: float = -96.0, y: float = 36.0, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geoid: object = "40143007600", geometry: object = "square", **props: object) -> dict:
    properties: dict = {"STATEFP": "40", "COUNTYFP": "143", "TRACTCE": "007600", "NAME": "76"}
    if geoid is not None:
        properties["GEOID"] = geoid
    properties.update(props)
    return {
        "type": "Feature",
        "geometry": square() if geometry == "square" else geometry,
        "properties": {k: v for k, v in properties.items() if v is not None},
    }


def write_fc(tmp_path: Path, features: list, name: str = "t.geojson", **extra: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}))
    return path


def other_tract() -> dict:
    return feature("40143007700", square(-95.9), TRACTCE="007700", NAME="77")


def expect_error(path: Path, *, row: int | None, column: str | None, match: str) -> str:
    with pytest.raises(InputFileError, match=match) as info:
        read_tracts(path, "s")
    message = str(info.value)
    assert message.startswith(str(path))
    assert info.value.row == row
    assert info.value.column == column
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert repr(column) in message
    assert "What to do:" in message
    return message


def test_valid_small_file_and_name(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [feature(), other_tract()])
    tables = read_tracts(path, "s")
    assert tables.geometry.geo_id.tolist() == ["40143007600", "40143007700"]
    assert tables.geographies.name.tolist() == ["Census Tract 76", "Census Tract 77", None]
    assert tables.geographies.geo_level.tolist() == ["tract", "tract", "county"]


def test_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(feature()))
    expect_error(path, row=None, column=None, match="not a FeatureCollection.*'Feature'")
    path.write_text("[1, 2]")
    expect_error(path, row=None, column=None, match="not a FeatureCollection")


def test_empty_feature_collection(tmp_path: Path) -> None:
    expect_error(write_fc(tmp_path, []), row=None, column=None, match="has no features")


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "t.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature()]})[:-40])
    expect_error(path, row=None, column=None, match="not valid JSON.*truncated")


def test_item_that_is_not_a_feature(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [feature(), square()])
    expect_error(path, row=2, column=None, match="'Polygon', not a GeoJSON Feature")


def test_feature_without_geometry(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [other_tract(), feature(geometry=None)])
    expect_error(path, row=2, column="geometry", match="has no geometry")
    path = write_fc(tmp_path, [feature(geometry={"type": "Polygon", "coordinates": []})])
    expect_error(path, row=1, column="geometry", match="has no geometry")


def test_non_polygon_geometry(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [-96.0, 36.0]}
    path = write_fc(tmp_path, [other_tract(), feature(geometry=point)])
    expect_error(path, row=2, column="geometry", match="is a Point, not a Polygon or MultiPolygon")


def test_malformed_ring(tmp_path: Path) -> None:
    open_ring = {"type": "Polygon", "coordinates": [[[-96, 36], [-95.9, 36], [-95.9, 36.1],
                                                     [-96, 36.1]]]}
    path = write_fc(tmp_path, [feature(geometry=open_ring)])
    expect_error(path, row=1, column="geometry", match="not closed")
    text = {"type": "Polygon", "coordinates": [[["a", 36]] * 4]}
    path = write_fc(tmp_path, [feature(geometry=text)])
    expect_error(path, row=1, column="geometry", match="not a pair of finite numbers")


def test_projected_coordinates(tmp_path: Path) -> None:
    mercator = square(-10686671.0, 4311971.0, 500.0)  # Tulsa in EPSG:3857 metres
    path = write_fc(tmp_path, [other_tract(), feature(geometry=mercator)])
    message = expect_error(path, row=2, column="geometry", match="not in WGS84")
    assert "EPSG:4326" in message and "reproject" in message


def test_projected_crs_member(tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    path = write_fc(tmp_path, [feature()], crs=crs)
    message = expect_error(path, row=None, column=None, match="coordinate system")
    assert "EPSG:4326" in message
    ok = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(read_tracts(write_fc(tmp_path, [feature()], name="ok.geojson", crs=ok), "s").geometry) == 1


def test_geoid_missing_is_built_from_parts(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [feature(geoid=None), other_tract()])
    tables = read_tracts(path, "s")
    assert tables.geometry.geo_id.tolist() == ["40143007600", "40143007700"]
    assert tables.notes and "1 GEOID(s) repaired" in tables.notes[0]


def test_geoid_missing_without_parts(tmp_path: Path) -> None:
    bare = feature(geoid=None, STATEFP=None, COUNTYFP=None, TRACTCE=None)
    path = write_fc(tmp_path, [other_tract(), bare])
    expect_error(path, row=2, column="GEOID", match="no GEOID")


def test_geoid_wrong_length(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [other_tract(), feature("401430076", STATEFP=None)])
    expect_error(path, row=2, column="GEOID", match="'401430076' is not an 11-digit tract code")


def test_geoid_disagrees_with_parts(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [feature("40143007601")])
    expect_error(path, row=1, column="GEOID", match="disagrees with STATEFP")


def test_numeric_geoid_with_lost_leading_zero(tmp_path: Path) -> None:
    alabama = feature(1073000100, STATEFP="01", COUNTYFP="073", TRACTCE="000100", NAME="1")
    tables = read_tracts(write_fc(tmp_path, [alabama]), "s")
    assert tables.geometry.geo_id.tolist() == ["01073000100"]
    assert tables.geographies.parent_geo_id.tolist() == ["01073", "01"]
    assert tract_geoid({"GEOID": "1400000US40143007600"}, Path("f"), 1) == ("40143007600", True)


def test_duplicate_geoid(tmp_path: Path) -> None:
    path = write_fc(tmp_path, [feature(), other_tract(), feature()])
    expect_error(path, row=3, column="GEOID", match="40143007600 appears twice \\(features 1 and 3\\)")


def test_zip_without_shp(tmp_path: Path) -> None:
    path = tmp_path / "cb_2018_40_tract_500k.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no shapes here")
        archive.writestr("cb_2018_40_tract_500k.dbf", b"")
    expect_error(path, row=None, column=None, match="holds no shapefile \\(.shp\\).*readme.txt")


def test_zip_with_shp_but_no_dbf(tmp_path: Path) -> None:
    path = tmp_path / "t.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cb_2018_40_tract_500k.shp", b"\x00" * 100)
    expect_error(path, row=None, column=None, match="not its attribute table")


def test_named_zip_but_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "cb_2018_40_tract_500k.zip"
    path.write_text("<html>Service unavailable</html>")
    expect_error(path, row=None, column=None, match="not a zip archive")


def test_truncated_shapefile_in_zip(tmp_path: Path) -> None:
    whole = write_shapefile_zip([feature(), other_tract()], tmp_path / "whole.zip")
    path = tmp_path / "cut.zip"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[:200] if name.endswith(".shp") else data)
    expect_error(path, row=None, column=None, match="cb_2018_55_tract_500k.shp' looks truncated")
    assert len(read_tracts(whole, "s").geometry) == 2  # the uncut zip, from synthetic features


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "t.geojson"
    path.write_bytes(b"")
    expect_error(path, row=None, column=None, match="the file is empty")


def test_clean_geometry_rewinds_and_rounds() -> None:
    cw = {"type": "MultiPolygon", "coordinates": [[
        [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
        [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]],  # hole wound counter-clockwise
    ]]}
    out = clean_geometry(cw, Path("f"), 1)["coordinates"][0]
    assert out[0] == [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    assert out[1] == [[0.2, 0.2], [0.4, 0.4], [0.4, 0.2], [0.2, 0.2]]
    fine = {"type": "Polygon", "coordinates": [[[0.12345678, 0.0], [1, 0], [1, 1], [0.12345678, 0.0]]]}
    assert clean_geometry(fine, Path("f"), 1)["coordinates"][0][0] == [0.123457, 0.0]


def test_shapefile_cut_inside_its_header(tmp_path: Path) -> None:
    """Truncation is recognised from the header itself, whatever pyshp's own message says."""
    whole = write_shapefile_zip([feature()], tmp_path / "whole.zip")
    path = tmp_path / "cut.zip"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[:60] if name.endswith(".shp") else data)
    expect_error(path, row=None, column=None, match="shorter than its 100-byte header")
