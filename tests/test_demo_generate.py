"""The demo city generator: publisher formats, determinism, labels, bounds, geometry, and that
the synthetic city has the structure its profile is meant to show."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from upward.core.errors import ConfigError
from upward.demo import CITY_GEO_ID, COUNTY_GEO_ID, DEMO_FILES, DemoManifest, write_demo_files
from upward.demo.generate import (
    HEADERS,
    PLACE_LONGITUDINAL,
    TRACT_GEOMETRY,
    TRACT_KFR,
    TRACT_TOP20,
    URBAN,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_data = pytest.mark.skipif(
    not (DATA / "urban").is_dir(), reason=f"real public files absent: {DATA} (headers are compared to them)"
)
CSV_FILES = [f for f in DEMO_FILES if f.endswith(".csv")]
URBAN_FILES = list(URBAN)
RECENT_FILES = [f for f in URBAN_FILES if f != PLACE_LONGITUDINAL]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return write_demo_files(tmp_path_factory.mktemp("demo") / "data")


def _rows(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _header(path: Path) -> list[str]:
    first = path.read_bytes().decode("utf-8-sig").splitlines()[0]
    return next(csv.reader([first]))


def _layout(path: Path) -> tuple[bool, bool, bool]:
    """(UTF-8 BOM, CRLF line ends, ends with a newline) of a file."""
    raw = path.read_bytes()
    return raw.startswith(b"\xef\xbb\xbf"), b"\r\n" in raw, raw.endswith(b"\n")


def _sha(root: Path) -> dict[str, str]:
    return {rel: hashlib.sha256((root / rel).read_bytes()).hexdigest() for rel in DEMO_FILES}


# ---- layout and the real files -----------------------------------------------------------------


def test_manifest_lists_every_file(demo: DemoManifest) -> None:
    assert demo.city_geo_id == CITY_GEO_ID == "9900100"
    assert demo.county_geo_id == COUNTY_GEO_ID == "99001"
    assert demo.city_name == "Demo City city"
    assert demo.seed == 2024
    assert [p.relative_to(demo.root).as_posix() for p in demo.files] == list(DEMO_FILES)
    assert all(p.is_file() and p.stat().st_size > 0 for p in demo.files)
    assert not list(demo.root.rglob("*.partial"))


@needs_data
@pytest.mark.realdata
@pytest.mark.parametrize("rel", CSV_FILES)
def test_header_and_layout_equal_the_real_files(demo: DemoManifest, rel: str) -> None:
    real, ours = DATA / rel, demo.root / rel
    assert _header(ours) == _header(real)
    # the header line itself, quoting included (the tract kfr download quotes its header)
    assert ours.read_bytes().splitlines()[0] == real.read_bytes().splitlines()[0]
    assert _layout(ours) == _layout(real), "BOM / CRLF / final newline differ from the real file"


@needs_data
@pytest.mark.realdata
def test_geometry_properties_equal_the_real_files(demo: DemoManifest) -> None:
    real = json.loads((DATA / "geometry" / "cb_2018_40_tract_500k.geojson").read_text())
    ours = json.loads((demo.root / TRACT_GEOMETRY).read_text())
    real_props = real["features"][0]["properties"]
    for feature in ours["features"]:
        props = feature["properties"]
        assert list(props) == list(real_props)
        assert [type(v) for v in props.values()] == [type(v) for v in real_props.values()]
    assert set(ours) == set(real) == {"type", "features"}
    # the real state files put one feature on each line
    assert (demo.root / TRACT_GEOMETRY).read_text().count("\n") == len(ours["features"]) + 1


@needs_data
@pytest.mark.realdata
@pytest.mark.parametrize("rel", CSV_FILES)
def test_values_lie_in_the_real_files_range(demo: DemoManifest, rel: str) -> None:
    real = _rows(DATA / rel)
    for column, values in _numeric_columns(_rows(demo.root / rel)).items():
        codes = ("state", "county", "place", "zip", "cz", "tract", "year", "par_pctile")
        sizes = ("pop2018", "num_below_p50", "population", "kid_pooled_n", "kid_white_n", "kid_black_n")
        if column in codes + sizes or column.startswith("count_homeless") or column.endswith(
            ("_count", "_se", "_lb", "_ub")
        ):
            continue  # codes; sizes and margins that depend on the synthetic populations
        known = [float(r[column]) for r in real if _number(r[column])]
        assert known, column
        assert min(known) <= min(values) and max(values) <= max(known), column


def _number(text: str) -> bool:
    return bool(re.fullmatch(r"-?(\d+\.?\d*|\.\d+)(e[-+]\d+)?", text))


def _numeric_columns(rows: list[dict[str, str]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for column in rows[0]:
        cells = [r[column] for r in rows if r[column] not in ("", "NA")]
        if cells and all(_number(c) for c in cells):
            out[column] = [float(c) for c in cells]
    return out


# ---- determinism and speed ---------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = write_demo_files(tmp_path / "a")
    b = write_demo_files(tmp_path / "b", seed=2024)
    assert _sha(a.root) == _sha(b.root)
    c = write_demo_files(tmp_path / "c", seed=7)
    differ = {rel for rel, h in _sha(c.root).items() if h != _sha(a.root)[rel]}
    assert differ >= {f for f in CSV_FILES if "cz_county" not in f}


def test_rewriting_replaces_files_in_place(tmp_path: Path) -> None:
    first = _sha(write_demo_files(tmp_path).root)
    (tmp_path / "notes.txt").write_text("mine")
    assert _sha(write_demo_files(tmp_path).root) == first
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seed_is_refused(tmp_path: Path, seed: object) -> None:
    with pytest.raises(ConfigError, match="seed"):
        write_demo_files(tmp_path, seed=seed)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


# ---- labelled as synthetic ---------------------------------------------------------------------


def test_every_file_is_labelled_synthetic(demo: DemoManifest) -> None:
    readme = (demo.root / "README-SYNTHETIC.txt").read_text()
    assert "SYNTHETIC" in readme and "not" in readme.lower() and "Upward" in readme
    for rel in URBAN_FILES:
        for row in _rows(demo.root / rel):
            assert row["state"] == "99" and row["state_name"] == "Demo State (synthetic)"
            name = row.get("place_name") or row["county_name"]
            # peers keep the publisher's "… city" form; the state name labels their rows
            assert "Demo" in name or "(synthetic)" in name or re.fullmatch(r"Peerville \d\d city", name)
    for row in _rows(demo.root / "opportunity-insights/social_capital_county.csv"):
        assert row["county_name"].endswith(", Demo State (synthetic)")
    for row in _rows(demo.root / "opportunity-insights/cz_county_crosswalk.csv"):
        assert "Demo" in row["czname"] or "(synthetic)" in row["czname"]
    for row in _rows(demo.root / TRACT_KFR):
        assert row["tract"].startswith("99") and (row["Name"] == "" or row["Name"].endswith(", ZZ"))


def test_geography_counts(demo: DemoManifest) -> None:
    places = _rows(demo.root / "urban/mobility-metrics_place_recent.csv")
    counties = _rows(demo.root / "urban/mobility-metrics_county_recent.csv")
    assert len(places) == 41 and len(counties) == 61
    city = [r for r in places if r["state"] + r["place"] == CITY_GEO_ID]
    assert [r["place_name"] for r in city] == ["Demo City city"]
    assert any(r["county_name"] == "Demo County (synthetic)" and r["county"] == "001" for r in counties)
    tracts = _rows(demo.root / TRACT_KFR)
    in_city = [r for r in tracts if r["Name"].endswith(", Demo City, ZZ")]
    assert len(in_city) == 60 and len(tracts) == 96
    assert all(re.fullmatch(r"[^,]+, Demo City, ZZ", r["Name"]) for r in in_city)


# ---- Urban Institute formats -------------------------------------------------------------------


def test_urban_fips_quality_and_na_spelling(demo: DemoManifest) -> None:
    for rel in URBAN_FILES:
        raw = (demo.root / rel).read_text()
        assert ",," not in raw and not raw.startswith("\ufeff") and '"' not in raw
        assert not re.search(r"(^|,)(nan|NaN|None|inf)(,|$)", raw, re.M)
        words = rel == PLACE_LONGITUDINAL
        for row in _rows(demo.root / rel):
            assert re.fullmatch(r"\d{2}", row["state"])
            assert re.fullmatch(r"\d{5}" if "place" in row else r"\d{3}", row.get("place") or row["county"])
            for column, cell in row.items():
                if column.endswith("_quality") and column != "index_air_quality":
                    allowed = {"Strong", "Marginal", "Weak", "NA"} if words else {"1", "2", "3", "NA"}
                    assert cell in allowed, (rel, column, cell)


def test_recent_files_have_every_metric(demo: DemoManifest) -> None:
    for rel in RECENT_FILES:
        rows = _rows(demo.root / rel)
        for column in URBAN[rel]:
            assert all(r[column] != "NA" for r in rows), (rel, column)
        qualities = [c for c in HEADERS[rel] if c.endswith("_quality") and c != "index_air_quality"]
        assert all(r[c] != "NA" for r in rows for c in qualities)


def test_house_value_ratios_are_text(demo: DemoManifest) -> None:
    patterns = {
        "urban/mobility-metrics_place_recent.csv": r"\d{1,3}\.\d%:\d{1,3}\.\d%",
        "urban/mobility-metrics_county_recent.csv": r"\d{1,3}\.\d%:\d{1,3}\.\d%",
        PLACE_LONGITUDINAL: r"[01]\.\d{3}:[01]\.\d{3}",
    }
    for rel, pattern in patterns.items():
        rows = _rows(demo.root / rel)
        columns = [c for c in HEADERS[rel] if c.endswith("_house_value_households")]
        assert len(columns) == 4
        for row in rows:
            cells = [row[c] for c in columns]
            if cells == ["NA"] * 4:
                continue
            assert all(re.fullmatch(pattern, c) for c in cells), cells
            value_shares = [float(c.split(":")[0].rstrip("%")) for c in cells]
            assert sum(value_shares) == pytest.approx(100 if "%" in cells[0] else 1, rel=0.01)
    county = _rows(demo.root / "urban/mobility-metrics_county_recent.csv")
    assert all(re.fullmatch(r"\d+:1", r["ratio_population_pc_physician"]) for r in county)


def test_longitudinal_years_subgroups_and_2020(demo: DemoManifest) -> None:
    rows = _rows(demo.root / PLACE_LONGITUDINAL)
    assert sorted({r["year"] for r in rows}) == [str(y) for y in range(2014, 2024)]
    assert len(rows) == 41 * 10
    keys = [(r["year"], r["state"], r["place"]) for r in rows]
    assert keys == sorted(keys)
    for r in rows:
        expected = ("NA", "NA") if r["year"] == "2020" else ("tenure", "All")
        assert (r["subgroup_type"], r["subgroup"]) == expected
        assert re.fullmatch(r"\d+", r["population"])
    in_2020 = [r for r in rows if r["year"] == "2020"]
    acs = ["pctl_income_20", "share_employed", "share_affordable_80_ami", "share_hs_degree",
           "ratio_white_nh_house_value_households", "pctl_income_20_lb", "share_employed_quality"]  # fmt: skip
    assert all(r[c] == "NA" for r in in_2020 for c in acs)
    # …while the 2020 rows of other sources keep their values, as in the real file
    assert all(r["count_homeless"] != "NA" and r["share_election_turnout"] != "NA" for r in in_2020)
    # as in the real files, the longitudinal connectedness is half the recent file's
    recent = {r["place"]: float(r["ratio_high_low_ses_fb_friends"])
              for r in _rows(demo.root / "urban/mobility-metrics_place_recent.csv")}  # fmt: skip
    for r in rows:
        if r["year"] == "2022":
            assert float(r["ratio_high_low_ses_fb_friends"]) == pytest.approx(recent[r["place"]] / 2)
    # a metric appears only in the years the publisher has it
    for column, r in URBAN[PLACE_LONGITUDINAL].items():
        have = {row["year"] for row in rows if row[column] != "NA"}
        assert have == {str(y) for y in r.years}, column


def test_bounds_are_ordered(demo: DemoManifest) -> None:
    checked = 0
    for rel in URBAN_FILES:
        for row in _rows(demo.root / rel):
            for column in HEADERS[rel]:
                if not column.endswith("_lb"):
                    continue
                base = column[:-3]
                est, lb, ub = row[base], row[column], row[base + "_ub"]
                if "NA" in (est, lb, ub):
                    assert est == "NA" or lb == ub == "NA"  # the county file has no debt bounds
                    continue
                e, low, high = float(est), float(lb), float(ub)
                if base == "count_homeless":  # exact counts: bounds often equal the count
                    assert low <= e <= high
                else:
                    assert low < e < high, (rel, base, row)
                checked += 1
    assert checked > 1000


# ---- Opportunity Insights formats --------------------------------------------------------------


def test_tract_web_downloads(demo: DemoManifest) -> None:
    kfr = (demo.root / TRACT_KFR).read_bytes()
    assert kfr.startswith(b'\xef\xbb\xbf"tract","Name","Household_Income_at_Age_35_rP_gP_p25"\n')
    assert not kfr.endswith(b"\n")
    top = (demo.root / TRACT_TOP20).read_bytes()
    assert top.startswith(b"\xef\xbb\xbftract,Name,Frac._in_Top_20%_Based_on_Household_Income")
    for rel, value_pattern in ((TRACT_KFR, r"\d{4,6}"), (TRACT_TOP20, r"0(\.\d{1,4})?|1")):
        lines = (demo.root / rel).read_bytes().decode("utf-8-sig").splitlines()[1:]
        values = []
        for line in lines:
            m = re.fullmatch(r'(99001\d{6}),("[^"]+, ZZ"|),(.*)', line)
            assert m, line
            if m.group(3):
                assert re.fullmatch(value_pattern, m.group(3)), line
                values.append(float(m.group(3)))
            else:
                assert not values or line == lines[-1], "blank values come last"
        assert values == sorted(values, reverse=True)


def test_stata_style_numbers_and_integer_codes(demo: DemoManifest) -> None:
    rows = _rows(demo.root / "opportunity-insights/county_outcomes_simple.csv")
    assert len(rows) == 61
    assert {r["state"] for r in rows} == {"99"}
    assert rows[0]["county"] == "1" and all(re.fullmatch(r"[1-9]\d*", r["county"]) for r in rows)
    assert re.fullmatch(r"\.\d+", rows[0]["kfr_pooled_pooled_p25"])
    assert all(r["kfr_black_pooled_p25"] == "" or r["kfr_black_pooled_p25"].startswith(".") for r in rows)
    sc = _rows(demo.root / "opportunity-insights/social_capital_county.csv")
    ours = {r["county"]: r for r in sc}
    assert "99001" in ours and all(re.fullmatch(r"99\d{3}", k) for k in ours)
    # the two files agree where the publishers' files agree
    outcomes = {str(99000 + int(r["county"])): r for r in rows}
    urban = {"99" + r["county"]: r for r in _rows(demo.root / "urban/mobility-metrics_county_recent.csv")}
    for code, r in ours.items():
        assert r["num_below_p50"] == outcomes[code]["pooled_pooled_count"]
        assert float(r["ec_county"]) == float(urban[code]["ratio_high_low_ses_fb_friends"])
    zips = _rows(demo.root / "opportunity-insights/social_capital_zip.csv")
    assert all(99951 <= int(r["zip"]) <= 99999 for r in zips)
    collapse = _rows(demo.root / "opportunity-insights/tract_collapse.csv")
    assert {(r["state"], r["county"]) for r in collapse} == {("99", "1")}
    national = _rows(demo.root / "opportunity-insights/national_collapse.csv")
    assert len(national) == 1000 and {r["kid_race"] for r in national} >= {"White", "Black"}


# ---- geometry ----------------------------------------------------------------------------------


def _features(demo: DemoManifest) -> list[dict]:
    return json.loads((demo.root / TRACT_GEOMETRY).read_text())["features"]


def test_geojson_is_one_closed_polygon_per_tract(demo: DemoManifest) -> None:
    features = _features(demo)
    geoids = [f["properties"]["GEOID"] for f in features]
    assert len(geoids) == len(set(geoids)) == 96
    tract_file = {r["tract"] for r in _rows(demo.root / TRACT_KFR)}
    collapse = {"99" + r["county"].zfill(3) + r["tract"].zfill(6)
                for r in _rows(demo.root / "opportunity-insights/tract_collapse.csv")}  # fmt: skip
    assert set(geoids) == tract_file == collapse
    for f in features:
        p = f["properties"]
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Polygon"
        assert p["GEOID"] == p["STATEFP"] + p["COUNTYFP"] + p["TRACTCE"] and len(p["GEOID"]) == 11
        assert p["AFFGEOID"] == "1400000US" + p["GEOID"] and p["LSAD"] == "CT"
        assert p["NAME"] == str(int(p["TRACTCE"][:4])) + ("" if p["TRACTCE"][4:] == "00" else "." + p["TRACTCE"][4:])
        assert p["ALAND"] > 0 and p["AWATER"] >= 0
        (ring,) = f["geometry"]["coordinates"]
        assert len(ring) >= 4 and ring[0] == ring[-1]
        xy = np.array(ring)
        assert ((xy[:, 0] > -96) & (xy[:, 0] < -94) & (xy[:, 1] > 35) & (xy[:, 1] < 37)).all()
        signed = np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]) / 2
        assert signed > 0  # exterior rings counter-clockwise, as in the real files


def _inside(ring: np.ndarray, points: np.ndarray) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    result = np.zeros(len(points), dtype=bool)
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            result ^= crosses & (x < (x2 - x1) * (y - y1) / (y2 - y1) + x1)
    return result


def test_polygons_tile_without_overlap(demo: DemoManifest) -> None:
    rings = [np.array(f["geometry"]["coordinates"][0]) for f in _features(demo)]
    lo, hi = np.vstack(rings).min(axis=0), np.vstack(rings).max(axis=0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 151)[1:-1], np.linspace(lo[1], hi[1], 151)[1:-1])
    points = np.c_[gx.ravel(), gy.ravel()]
    cover = sum(_inside(r, points).astype(int) for r in rings)
    assert cover.max() == 1  # no point in two tracts
    assert (cover == 1).mean() > 0.9  # and the mosaic has no holes worth the name


# ---- the story the demo city is built to tell -------------------------------------------------


def test_demo_city_is_weak_and_strong_where_intended(demo: DemoManifest) -> None:
    places = _rows(demo.root / "urban/mobility-metrics_place_recent.csv")

    def percentile(column: str) -> float:
        values = np.array([float(r[column]) for r in places])
        city = next(float(r[column]) for r in places if r["place"] == "00100")
        return float((values < city).mean())

    assert percentile("pctl_income_20") < 0.15
    assert percentile("share_poverty_exposure") > 0.8
    assert percentile("share_in_preschool") > 0.75
    assert percentile("count_membership_associations_per_10k") > 0.75


def test_demo_city_has_significant_trends(demo: DemoManifest) -> None:
    rows = [r for r in _rows(demo.root / PLACE_LONGITUDINAL) if r["place"] == "00100"]
    for column in ("share_employed", "share_poverty_exposure"):
        pairs = [(int(r["year"]), float(r[column])) for r in rows if r[column] != "NA"]
        fit = stats.linregress(*zip(*pairs, strict=True))
        assert fit.slope > 0 and fit.pvalue < 0.01, (column, fit)


def test_tract_outcomes_cluster_east_west(demo: DemoManifest) -> None:
    """Moran's I of tract income with rook-style neighbours (tracts sharing a polygon edge)."""
    values = {r["tract"]: float(r["Household_Income_at_Age_35_rP_gP_p25"])
              for r in _rows(demo.root / TRACT_KFR) if r["Household_Income_at_Age_35_rP_gP_p25"]}  # fmt: skip
    features = [f for f in _features(demo) if f["properties"]["GEOID"] in values]
    edges = [{frozenset(map(tuple, pair)) for pair in zip(f["geometry"]["coordinates"][0][:-1],
                                                         f["geometry"]["coordinates"][0][1:], strict=True)}
             for f in features]  # fmt: skip
    n = len(features)
    w = np.array([[float(i != j and bool(edges[i] & edges[j])) for j in range(n)] for i in range(n)])
    assert (w.sum(axis=1) >= 2).all()
    x = np.array([values[f["properties"]["GEOID"]] for f in features])
    z = x - x.mean()
    moran = n / w.sum() * (z @ w @ z) / (z @ z)
    assert moran > 0.3
    lon = np.array([np.mean(np.array(f["geometry"]["coordinates"][0])[:, 0]) for f in features])
    assert stats.spearmanr(lon, x).statistic < -0.5  # the east side is poorer
