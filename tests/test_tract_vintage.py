"""2010 ↔ 2020 tract conversion: the Census relationship file, and areas drawn on 2010 tracts
meeting tables on 2020 tracts (real Orleans Parish boundaries, relationship rows and ACS GEOIDs;
see tests/data/tract_relationship/README.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.conftest import DATA, HAVE_DATA, run_cli

from upward.core.errors import InputFileError
from upward.sources.tract_relationship import TO_2010, TO_2020, read_tract_relationship
from upward.warehouse.areas import align_weights, area_tract_weights
from upward.warehouse.workspace import Workspace

HERE = Path(__file__).parent / "data" / "tract_relationship"
ORLEANS = HERE / "tab20_tract20_tract10_st22.txt"


def test_each_tract_is_made_whole_by_its_pieces():
    rows = read_tract_relationship(ORLEANS, "rel@test").crosswalks
    to_2010 = rows[rows["weight_kind"] == TO_2010].groupby("from_geo_id")["weight"].sum()
    to_2020 = rows[rows["weight_kind"] == TO_2020].groupby("from_geo_id")["weight"].sum()
    # Every 2020 tract's land is the sum of its pieces; likewise every 2010 tract's.
    assert len(to_2010[to_2010.index.str.startswith("22071")]) == 184
    assert to_2010.round(9).eq(1.0).all()
    # The same for the 2010 tracts, but for water-only 9900, part of whose water the file
    # (trimmed to Orleans) does not hold, and Plaquemines's 502, here only for its Orleans piece.
    whole = to_2020[to_2020.index.str.startswith("22071") & (to_2020.index != "22071990000")]
    assert len(whole) == 176 and whole.round(9).eq(1.0).all()
    # A split: 2010 tract 17.35 was cut into 2020 tracts 17.52, 17.53, 17.56 and 17.57.
    split = rows[(rows["weight_kind"] == TO_2020) & (rows["from_geo_id"] == "22071001735")]
    assert sorted(split["to_geo_id"]) == ["22071001752", "22071001753", "22071001756",
                                          "22071001757"]


@pytest.mark.parametrize("change, message", [
    (lambda r: r.append(r[-1]), "appears twice"),
    (lambda r: r.__setitem__(1, r[1].replace("|22071000100|", "|2207100010|", 1)),
     "not an 11-digit tract GEOID"),
    (lambda r: r.__setitem__(2, r[2].replace("|18988|", "|-5|")), "below the possible minimum"),
])
def test_a_broken_relationship_file_names_its_line(tmp_path, change, message):
    lines = ORLEANS.read_text().splitlines()
    change(lines)
    bad = tmp_path / "tab20_tract20_tract10_st22.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=message) as caught:
        read_tract_relationship(bad, "rel@test")
    assert "tab20_tract20_tract10_st22.txt" in str(caught.value)


@pytest.fixture(scope="module")
def orleans(tmp_path_factory):
    """A workspace with Louisiana's 2010 tracts, the relationship file and the whole parish
    drawn as one area on those 2010 tracts."""
    if not HAVE_DATA:
        pytest.skip("../shared/data is absent")
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    root = tmp_path_factory.mktemp("orleans")
    ws = Workspace.init(root / "ws")
    assert run_cli("fetch", "tracts", "--from", str(DATA), "--state", "22",
                   "-w", str(ws.root)).returncode == 0
    county = json.loads((DATA / "geometry/county/cb_2018_22071_tract_500k_orleans_la.geojson")
                        .read_text())
    parish = unary_union([shape(f["geometry"]) for f in county["features"]]).buffer(0)
    area = root / "orleans.geojson"
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Orleans Parish"},
         "geometry": mapping(parish)}]}))
    assert run_cli("areas", "add", "parish", str(area), "-w", str(ws.root)).returncode == 0
    return ws


def _acs_2020_tracts() -> set[str]:
    with (DATA / "acs/orleans_la_b19013_acs5_2023_tract2020.csv").open(encoding="utf-8-sig") as f:
        return {row["GEOID"] for row in csv.DictReader(f)}


def test_an_area_on_2010_tracts_is_carried_onto_the_acs_2020_tracts(orleans):
    """Without the relationship, the 2023 ACS tracts that are new since 2010 count as zero and
    the note says so; with it, the whole parish covers every 2020 tract of the ACS file."""
    acs = _acs_2020_tracts()
    assert len(acs) == 184
    weights = dict(zip(*area_tract_weights(orleans, "parish")[["tract_geoid", "weight"]]
                       .to_numpy().T, strict=True))
    same, note = align_weights(orleans, {"parish": weights}, acs)
    assert same["parish"] == weights and "relationship" in note and "count as zero" in note

    assert run_cli("fetch", "tract-relationship", "--from", str(HERE), "--state", "22",
                   "-w", str(orleans.root)).returncode == 0
    carried, note = align_weights(orleans, {"parish": weights}, acs)
    on_2020 = carried["parish"]
    assert "carried onto 2020 tracts" in note
    assert set(on_2020) & acs == acs            # every ACS tract is reached
    inside = [on_2020[t] for t in acs if t != "22071990000"]  # 9900: water only
    assert min(inside) > 0.97 and max(inside) <= 1.0
    # The Plaquemines tract that took a sliver of Orleans's 2010 tract 6.12 gets a sliver.
    assert on_2020.get("22075050201", 0.0) < 0.01
