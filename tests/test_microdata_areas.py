"""PUMS metrics for custom areas: records are allocated from PUMAs to the areas of
``upward areas`` through tract populations, like places and counties."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def ws(demo_module_copy):
    ws = demo_module_copy
    districts = ws.root / "demo-data" / "areas" / "demo_districts.geojson"
    assert run_cli("areas", "add", "districts", str(districts), "-w", str(ws.root)).returncode == 0
    return ws


def test_the_areas_of_a_partition_share_out_the_city(ws):
    """The demo's districts partition the city, so for every PUMA their allocation factors add
    up to the city's."""
    from upward.microdata import _factors
    from upward.warehouse.microdata import find_release

    release = find_release(ws, None, None)
    areas, _ = _factors(ws, release, "area")
    city, _ = _factors(ws, release, "place")
    city = city[city["geo_id"] == "9900100"].set_index("puma_id")["afact"]
    summed = areas.groupby("puma_id")["afact"].sum()
    assert set(areas["geo_id"]) == {f"area:districts:district-{n}" for n in (1, 2, 3)}
    assert len(city) == 3 and sorted(summed.index) == sorted(city.index)
    assert np.allclose(summed.reindex(city.index).to_numpy(), city.to_numpy(), atol=1e-9)


def test_estimate_by_area_and_group_from_the_cli(ws):
    r = run_cli("microdata", "estimate", "--metric", "share_employed", "--geo", "area",
                "--by", "race", "-f", "csv", "-w", str(ws.root))
    assert r.returncode == 0, r.stderr
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0])[:7] == ["geo_id", "name", "geo_level", "subgroup_type", "subgroup",
                                 "estimate", "se"]
    assert {row["name"] for row in rows} == {"District 1", "District 2", "District 3"}
    assert len(rows) == 3 * len({row["subgroup"] for row in rows}) >= 9
    for row in rows:
        assert 0 < float(row["estimate"]) < 1 and 0 < float(row["se"]) < 0.1
