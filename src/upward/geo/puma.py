"""PUMAs and the geographies a city asks about: allocation factors and Urban's quality rule.

PUMS records are located only by PUMA (about 100,000 people each). An estimate for a place,
a county or a custom area gives each record its weight times an *allocation factor*: the share
of its PUMA's population that lives in the geography,

    afact(PUMA p, geography g) = Σ_{tract t in p} pop(t ∩ g) / Σ_{tract t in p} pop(t),

built from the Census tract-to-PUMA relationship file (tracts nest in PUMAs) and the population
of each tract (or of each tract part, for places and custom areas). Any geography made of tract
parts plugs in the same way: give :func:`allocation_factors` rows ``(tract, geo_id,
population)`` (a custom area of issue #10 gives its tract shares times tract populations).

Quality (our reading of the Urban Institute's rule for PUMS metrics): ``geo_share`` is the share
of the records used that actually live in the geography (Σ afact over the records ÷ records);
1 when at least 0.75, 2 when at least 0.35, else 3; and 3 whatever the share when the
unweighted count is below 30 (below 100 for a subgroup estimate).

Examples
--------
>>> import pandas as pd
>>> tp = pd.DataFrame({"tract": ["99001000100", "99001000200"], "puma_id": ["9900100"] * 2})
>>> parts = pd.DataFrame({"tract": ["99001000100", "99001000200"], "geo_id": ["9900100", None],
...                       "population": [3000.0, 1000.0]})
>>> tracts = pd.DataFrame({"tract": ["99001000100", "99001000200"], "population": [3000.0, 1000.0]})
>>> allocation_factors(tp, parts, tracts)[["puma_id", "geo_id", "afact"]].values.tolist()
[['9900100', '9900100', 0.75]]
>>> quality(0.8, 120, subgroup=True), quality(0.8, 50, subgroup=True), quality(0.5, 40)
(1, 3, 2)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import InputFileError, UpwardError

QUALITY_SHARE = (0.75, 0.35)
MIN_N = 30
MIN_N_SUBGROUP = 100


class PumaVintageError(UpwardError):
    """The PUMS release and the tract-to-PUMA crosswalk use different PUMA vintages.

    >>> issubclass(PumaVintageError, UpwardError)  # raised by check_vintage
    True
    """


def read_tract_puma_frame(path: Path) -> tuple[pd.DataFrame, int]:
    """Read a Census tract-to-PUMA file: ``tract`` (11 digits), ``puma_id`` (7), and the vintage.

    The vintage comes from the file name (``2010_Census_Tract_to_2010_PUMA``) or the column
    (``PUMA5CE`` with 2020 files, ``PUMA5CE`` too in 2010 files: the name decides).

    >>> read_tract_puma_frame(Path("nowhere.csv"))
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: nowhere.csv: the file does not exist. What to do: give the Census tract-to-PUMA relationship file
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "the file does not exist",
                             fix="give the Census tract-to-PUMA relationship file")
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    for col in ("STATEFP", "COUNTYFP", "TRACTCE", "PUMA5CE"):
        if col not in frame.columns:
            raise InputFileError(path, "a column of the Census relationship file is missing",
                                 column=col, fix="give the Census tract-to-PUMA file as published")
    m = re.search(r"(2010|2020)_PUMA", path.name)
    if not m:
        raise InputFileError(path, "the PUMA vintage (2010 or 2020) is not in the file name",
                             fix="keep the Census file name, e.g. "
                             "2020_Census_Tract_to_2020_PUMA.csv")
    tract = frame["STATEFP"].str.zfill(2) + frame["COUNTYFP"].str.zfill(3) + \
        frame["TRACTCE"].str.zfill(6)
    puma = frame["STATEFP"].str.zfill(2) + frame["PUMA5CE"].str.zfill(5)
    return pd.DataFrame({"tract": tract, "puma_id": puma}), int(m.group(1))


def allocation_factors(tract_puma: pd.DataFrame, parts: pd.DataFrame,
                       tract_population: pd.DataFrame) -> pd.DataFrame:
    """PUMA → geography allocation factors from tract parts weighted by population.

    Parameters
    ----------
    tract_puma : ``tract, puma_id`` (one row per tract).
    parts : ``tract, geo_id, population`` — the people of each tract living in each geography
        (rows with no ``geo_id`` are ignored).
    tract_population : ``tract, population`` — every tract's population.

    Returns
    -------
    pandas.DataFrame
        ``puma_id, geo_id, afact, population`` (people of the PUMA in the geography), one row
        per overlapping pair, sorted.

    >>> tract_puma = pd.DataFrame({"tract": ["t1", "t2"], "puma_id": ["p", "p"]})
    >>> people = pd.DataFrame({"tract": ["t1", "t2"], "population": [300.0, 100.0]})
    >>> parts = people.assign(geo_id=["city", None])  # t2 lies outside the city
    >>> allocation_factors(tract_puma, parts, people).values.tolist()
    [['p', 'city', 0.75, 300.0]]
    """
    pop = tract_population.groupby("tract", as_index=False)["population"].sum()
    tp = tract_puma.drop_duplicates("tract").merge(pop, on="tract", how="left")
    tp["population"] = tp["population"].fillna(0.0)
    puma_pop = tp.groupby("puma_id")["population"].sum()
    inside = parts.dropna(subset=["geo_id"]).merge(tract_puma.drop_duplicates("tract"),
                                                   on="tract", how="inner")
    agg = inside.groupby(["puma_id", "geo_id"], as_index=False)["population"].sum()
    denom = agg["puma_id"].map(puma_pop).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["afact"] = np.where(denom > 0, agg["population"].to_numpy(dtype=float) / denom, 0.0)
    agg = agg[agg["afact"] > 0]
    return agg[["puma_id", "geo_id", "afact", "population"]].sort_values(
        ["geo_id", "puma_id"]).reset_index(drop=True)


def county_parts(tract_population: pd.DataFrame) -> pd.DataFrame:
    """Tract parts for counties: each tract lies wholly in the county of its first 5 digits.

    >>> county_parts(pd.DataFrame({"tract": ["40143000100"], "population": [10.0]})).values.tolist()
    [['40143000100', '40143', 10.0]]
    """
    return pd.DataFrame({"tract": tract_population["tract"],
                         "geo_id": tract_population["tract"].str[:5],
                         "population": tract_population["population"]})


def check_vintage(pums_vintage: int, crosswalk_vintage: int, *, crosswalk: str, release: str
                  ) -> None:
    """Refuse to allocate PUMS records with a crosswalk of another PUMA vintage.

    >>> check_vintage(2020, 2010, crosswalk="2010_Census_Tract_to_2010_PUMA.txt",
    ...               release="ACS 2023 1-year")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.geo.puma.PumaVintageError: ACS 2023 1-year uses 2020 PUMAs but 2010_Census_Tract_to_2010_PUMA.txt relates tracts to 2010 PUMAs...
    """
    if pums_vintage != crosswalk_vintage:
        raise PumaVintageError(
            f"{release} uses {pums_vintage} PUMAs but {crosswalk} relates tracts to "
            f"{crosswalk_vintage} PUMAs",
            fix=f"load the {pums_vintage} tract-to-PUMA file "
            f"({pums_vintage}_Census_Tract_to_{pums_vintage}_PUMA) with upward fetch pums")


def quality(geo_share: float, n: int, *, subgroup: bool = False) -> int:
    """Urban's quality grade of a PUMS estimate (1 good, 2 use with caution, 3 do not act).

    >>> quality(1.0, 29), quality(1.0, 99, subgroup=True), quality(0.2, 5000)
    (3, 3, 3)
    """
    if n < (MIN_N_SUBGROUP if subgroup else MIN_N):
        return 3
    if geo_share >= QUALITY_SHARE[0]:
        return 1
    return 2 if geo_share >= QUALITY_SHARE[1] else 3
