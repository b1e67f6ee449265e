"""County → commuting zone crosswalk (1990 commuting zones, as used by Opportunity Insights).

``cz_county_crosswalk.csv`` has one row per county: ``cz, state, county, czname`` with codes as
integers. Each row becomes a crosswalk row county→cz (weight 1, ``membership``, vintage 1990),
and each zone a ``cz`` geography (GEOID = the code zero-padded to 5 digits, named by czname).

Examples
--------
>>> COUNTY_CZ.key, COUNTY_CZ.source
('crosswalk.county_cz', 'crosswalks')
"""

from __future__ import annotations

from pathlib import Path

from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.opportunity_atlas import LICENSE, county_cz_tables
from upward.sources.readers import check_unique, composed_geoids, conform_file, read_delimited

SOURCE = "crosswalks"

_COPY = (
    "https://raw.githubusercontent.com/bendnorman/economic-opportunity/"
    "268546e9de8634f7c9ea07904792d59242b7d079/data/cz_county_crosswalk.csv"
)


def read_county_cz(path: Path, source_id: str) -> Tables:
    """Read a county→commuting-zone file (cz, state, county, czname) into crosswalk rows and
    cz geographies; every county must name its zone.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "cz_county_crosswalk.csv"
    >>> _ = path.write_text("cz,state,county,czname\\n35400,40,143,Tulsa\\n35400,40,113,Tulsa\\n")
    >>> t = read_county_cz(path, "crosswalks/test")
    >>> t.crosswalks[["from_geo_id", "to_geo_id", "weight"]].values.tolist()
    [['40143', '35400', 1.0], ['40113', '35400', 1.0]]
    >>> t.geographies[["geo_id", "geo_level", "name"]].values.tolist()
    [['35400', 'cz', 'Tulsa']]
    """
    frame = read_delimited(path, required=["cz", "state", "county", "czname"])
    county_ids = composed_geoids(frame, ["state", "county"], (2, 3), path)
    check_unique(frame.assign(geo_id=county_ids), ["geo_id"], path)
    # A county without a zone would say nothing in a file that exists to give zones.
    composed_geoids(frame, ["cz"], (5,), path)
    crosswalks, zones, _missing = county_cz_tables(frame, county_ids, path, source_id)
    return Tables(
        crosswalks=conform_file("crosswalks", crosswalks, path),
        geographies=conform_file("geographies", zones, path),
    )


COUNTY_CZ = register(
    Dataset(
        key="crosswalk.county_cz",
        source=SOURCE,
        publisher=Publisher.OPPORTUNITY_INSIGHTS,
        title="Counties to commuting zones (1990 definitions)",
        url=_COPY,
        local_names=("opportunity-insights/cz_county_crosswalk.csv", "cz_county_crosswalk.csv"),
        license=LICENSE,
        reader=read_county_cz,
        kind=Kind.CROSSWALK,
        label="Opportunity Insights, county to commuting zone crosswalk",
        release="2018",
        notes="Third-party copy (bendnorman/economic-opportunity, an Opportunity Insights data "
        "exercise) of the county–commuting zone crosswalk Opportunity Insights distributes as "
        "cty_cz_st_crosswalk.csv (3,138 counties, 741 zones; columns there: cty, county_name, "
        "cz, czname, state_fips, statename, stateabbrv). The same zones are in "
        "county_outcomes_simple.csv (atlas.county_outcomes), which also has 02158 (Kusilvak, "
        "AK) and 46102 (Oglala Lakota, SD); this file has neither them nor their pre-2015 codes "
        "02270 and 46113.",
    )
)
