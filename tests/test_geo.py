"""GEOIDs and place names."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from upward.core.errors import AmbiguousPlaceError, PlaceNotFoundError
from upward.geo.ids import GeoidError, compose_geoid, geo_level_of, repair_geoid
from upward.geo.resolve import base_name, resolve, split_state
from upward.geo.states import STATES


@pytest.mark.parametrize(("value", "level", "expected"), [
    (1001, "county", "01001"), ("1001", "county", "01001"), (1001.0, "county", "01001"),
    ("40143", "county", "40143"), (1073010100, "tract", "01073010100"),
    ("48121021524", "tract", "48121021524"), (1001, "zip", "01001"), (501, "zip", "00501"),
    ("4075000", "place", "4075000"), (103076, "place", "0103076"), (6, "state", "06"),
])
def test_repair_restores_lost_leading_zeros(value, level, expected):
    assert repair_geoid(value, level) == expected


@pytest.mark.parametrize(("value", "level"), [
    (101, "county"),            # two zeros lost: cannot tell 00101 from 10100
    (123456789, "tract"),       # 9 digits
    ("40-143", "county"),       # text
    (1001.5, "county"),         # a fraction
    (float("nan"), "county"),
    (123456789012, "tract"),    # too long
])
def test_repair_refuses_ambiguous_or_broken_codes(value, level):
    with pytest.raises(GeoidError):
        repair_geoid(value, level)


@given(st.sampled_from(STATES), st.integers(1, 999), st.integers(100, 999999))
def test_numeric_round_trip_of_any_tract(state, county, tract):
    geoid = compose_geoid(state.fips, county, tract, widths=(2, 3, 6))
    assert len(geoid) == 11 and geo_level_of(geoid) == "tract"
    assert repair_geoid(int(geoid), "tract") == geoid


GEOS = pd.DataFrame(
    [
        ("4075000", "place", "Tulsa city, Oklahoma", "40"),
        ("40143", "county", "Tulsa County, Oklahoma", "40"),
        ("2754880", "place", "Rochester city, Minnesota", "27"),
        ("3663000", "place", "Rochester city, New York", "36"),
        ("2669035", "place", "Rochester Hills city, Michigan", "26"),
        ("3651000", "place", "New York city, New York", "36"),
        ("2255000", "place", "New Orleans city, Louisiana", "22"),
        ("47037", "county", "Davidson County, Tennessee", "47"),
        ("4752006", "place", "Nashville-Davidson metropolitan government (balance), Tennessee", "47"),
    ],
    columns=["geo_id", "geo_level", "name", "state_fips"],
)


@pytest.mark.parametrize(("query", "geo_id"), [
    ("Tulsa city, Oklahoma", "4075000"), ("Tulsa, OK", "4075000"), ("tulsa ok", "4075000"),
    ("TULSA, oklahoma", "4075000"), ("4075000", "4075000"), ("Tulsa County, OK", "40143"),
    ("tulsa county", "40143"), ("40143", "40143"), ("Rochester, NY", "3663000"),
    ("rochester new york", "3663000"), ("Rochester MN", "2754880"), ("New York, NY", "3651000"),
    ("new orleans", "2255000"), ("Nashville-Davidson, TN", "4752006"),
])
def test_names_resolve(query, geo_id):
    assert resolve(query, GEOS).geo_id == geo_id


def test_ambiguous_name_lists_candidates_with_states():
    with pytest.raises(AmbiguousPlaceError) as err:
        resolve("Rochester", GEOS)
    text = str(err.value)
    assert "Minnesota" in text and "New York" in text and "Rochester Hills" not in text
    assert "2754880" in text and "3663000" in text


def test_unknown_name_suggests_close_matches():
    with pytest.raises(PlaceNotFoundError) as err:
        resolve("Tulssa, OK", GEOS)
    assert "Tulsa city, Oklahoma" in str(err.value)
    with pytest.raises(PlaceNotFoundError):
        resolve("9999999", GEOS)


def test_base_name_and_state_split():
    assert base_name("Rochester Hills city, Michigan") == "rochester hills"
    assert split_state("Newark, NJ")[1].fips == "34"
    assert split_state("Dayton")[1] is None
