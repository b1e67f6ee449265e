"""Census Bureau 2020 ↔ 2010 census tract relationship files.

The ACS tabulates 2019 and earlier releases on 2010 census tracts and 2020 onward on 2020
tracts, and the cartographic boundary files up to 2019 draw 2010 tracts. A district drawn on
2010 boundaries therefore has to be carried onto 2020 tracts before it meets a 2023 table. The
Census's relationship file (``tab20_tract20_tract10_st{SS}.txt``, pipe-delimited, one row per
piece where a 2020 tract and a 2010 tract overlap) gives the land area of every piece
(``AREALAND_PART``) and of both tracts, which is what the conversion needs.

Each piece becomes two crosswalk rows, one per direction, weighted by the share of the *source*
tract's land in the piece (water for a tract with no land, which holds nobody):

* ``tract2010_to_tract2020`` from the 2010 tract to the 2020 tract, weight
  ``AREALAND_PART / AREALAND_TRACT_10`` (apportions a 2010 count onto 2020 tracts);
* ``tract2020_to_tract2010`` from the 2020 tract to the 2010 tract, weight
  ``AREALAND_PART / AREALAND_TRACT_20`` (how much of the 2020 tract each 2010 tract makes).

Layout: https://www2.census.gov/geo/pdfs/maps-data/data/rel2020/tract/explanation_tab20_tract20_tract10.pdf

Examples
--------
>>> TRACT_RELATIONSHIP.key, TRACT_RELATIONSHIP.source, TRACT_RELATIONSHIP.per_state
('census.tract_relationship', 'tract-relationship', True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import InputFileError
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.readers import conform_file, numeric, read_delimited

SOURCE = "tract-relationship"
#: Weight kinds of the two directions (``crosswalks.weight_kind``).
TO_2020 = "tract2010_to_tract2020"
TO_2010 = "tract2020_to_tract2010"
COLUMNS = ("GEOID_TRACT_20", "GEOID_TRACT_10", "AREALAND_TRACT_20", "AREALAND_TRACT_10",
           "AREAWATER_TRACT_20", "AREAWATER_TRACT_10", "AREALAND_PART", "AREAWATER_PART")


def _geoids(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    ids = frame[column].str.strip()
    bad = ~ids.str.fullmatch(r"\d{11}")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(path, f"{ids.iloc[i]!r} is not an 11-digit tract GEOID",
                             row=i + 2, column=column,
                             fix="give the Census file as published (GEOIDs as text)")
    return ids


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (part / whole).where(whole > 0)


def relationship_weights(frame: pd.DataFrame) -> pd.DataFrame:
    """Both directions' weights from parsed relationship rows (numbers already parsed):
    ``from_geo_id, to_geo_id, weight, weight_kind``; pieces with no area are dropped.

    >>> rows = pd.DataFrame({"GEOID_TRACT_20": ["22071000617", "22071000617"],
    ...     "GEOID_TRACT_10": ["22071000611", "22071000617"],
    ...     "AREALAND_TRACT_20": [1201874.0] * 2, "AREALAND_TRACT_10": [2025079.0, 1196863.0],
    ...     "AREAWATER_TRACT_20": [277641.0] * 2, "AREAWATER_TRACT_10": [1136955.0, 275481.0],
    ...     "AREALAND_PART": [2382.0, 1196863.0], "AREAWATER_PART": [941.0, 275481.0]})
    >>> w = relationship_weights(rows)
    >>> w[w.weight_kind == "tract2020_to_tract2010"].weight.round(4).tolist()
    [0.002, 0.9958]
    """
    land_10 = _share(frame["AREALAND_PART"], frame["AREALAND_TRACT_10"])
    water_10 = _share(frame["AREAWATER_PART"], frame["AREAWATER_TRACT_10"])
    land_20 = _share(frame["AREALAND_PART"], frame["AREALAND_TRACT_20"])
    water_20 = _share(frame["AREAWATER_PART"], frame["AREAWATER_TRACT_20"])
    to_2020 = pd.DataFrame({
        "from_geo_id": frame["GEOID_TRACT_10"], "to_geo_id": frame["GEOID_TRACT_20"],
        "weight": land_10.where(frame["AREALAND_TRACT_10"] > 0, water_10),
        "weight_kind": TO_2020})
    to_2010 = pd.DataFrame({
        "from_geo_id": frame["GEOID_TRACT_20"], "to_geo_id": frame["GEOID_TRACT_10"],
        "weight": land_20.where(frame["AREALAND_TRACT_20"] > 0, water_20),
        "weight_kind": TO_2010})
    both = pd.concat([to_2020, to_2010], ignore_index=True)
    return both[both["weight"].fillna(0) > 0].reset_index(drop=True)


def read_tract_relationship(path: Path, source_id: str) -> Tables:
    """Read a 2020 ↔ 2010 tract relationship file (state or national) into crosswalk rows in
    both directions (see the module notes); two rows for the same pair of tracts, a GEOID that
    is not 11 digits, or an area that is not a non-negative number is an error naming the line.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tab20_tract20_tract10_st40.txt"
    >>> _ = path.write_text("|".join(COLUMNS) + "\\n"
    ...                     "40143000100|40143000100|300|400|0|0|300|0\\n"
    ...                     "40143000200|40143000100|100|400|0|0|100|0\\n")
    >>> t = read_tract_relationship(path, "tract-relationship/test")
    >>> t.crosswalks[["from_geo_id", "to_geo_id", "weight", "weight_kind"]].values.tolist()
    [['40143000100', '40143000100', 0.75, 'tract2010_to_tract2020'], ['40143000100', '40143000200', 0.25, 'tract2010_to_tract2020'], ['40143000100', '40143000100', 1.0, 'tract2020_to_tract2010'], ['40143000200', '40143000100', 1.0, 'tract2020_to_tract2010']]
    """
    frame = read_delimited(path, required=COLUMNS)
    pieces = pd.DataFrame({c: _geoids(frame, c, path) for c in COLUMNS[:2]})
    for column in COLUMNS[2:]:
        pieces[column] = numeric(frame, column, path, lower=0, what="an area in square metres")
    twice = pieces.duplicated(["GEOID_TRACT_20", "GEOID_TRACT_10"])
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        raise InputFileError(path, f"the pair {pieces.iloc[i]['GEOID_TRACT_20']} / "
                             f"{pieces.iloc[i]['GEOID_TRACT_10']} appears twice", row=i + 2,
                             fix="give the Census file as published")
    weights = relationship_weights(pieces)
    weights["vintage"] = "2020"
    weights["source_id"] = source_id
    notes = []
    dropped = len(pieces) * 2 - len(weights)
    if dropped:
        notes.append(f"{dropped} piece direction(s) with no land or water area were left out")
    return Tables(crosswalks=conform_file("crosswalks", weights, path), notes=notes)


TRACT_RELATIONSHIP = register(
    Dataset(
        key="census.tract_relationship",
        source=SOURCE,
        publisher=Publisher.CENSUS,
        title="2020 census tracts to 2010 census tracts relationship file",
        url="https://www2.census.gov/geo/docs/maps-data/data/rel2020/tract/"
        "tab20_tract20_tract10_st{state}.txt",
        local_names=("crosswalks/tab20_tract20_tract10_st{state}.txt",
                     "tab20_tract20_tract10_st{state}.txt"),
        license="Public domain (U.S. Census Bureau)",
        reader=read_tract_relationship,
        per_state=True,
        kind=Kind.CROSSWALK,
        label="Census Bureau, 2020 to 2010 tract relationship, state {state}",
        release="2020",
        notes="Pieces of 2020 and 2010 tracts with their land and water areas; used to carry "
        "areas drawn on 2010 boundaries onto the 2020 tracts of ACS 2020+ tables.",
    )
)
