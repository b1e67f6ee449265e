"""Census ACS Public Use Microdata Sample (PUMS): person and housing files, 1- and 5-year.

The Census Bureau publishes one zip per state and record type, ``csv_p{st}.zip`` (persons) and
``csv_h{st}.zip`` (housing units), ``{st}`` the lower-case postal code, each holding one CSV
``psam_p{FIPS}.csv`` / ``psam_h{FIPS}.csv`` (https://www2.census.gov/programs-surveys/acs/data/
pums/). This module reads them (the CSV, or the zip), checks them, joins persons to their
housing unit by ``SERIALNO``, applies the inflation factors (``ADJINC`` to income amounts,
``ADJHSG`` to housing-cost amounts, both stored as integers scaled by 10⁶), decodes the
documented codes used by the mobility metrics (PUMS Data Dictionary) into readable columns,
and keeps the 80 replicate weights ``PWGTP1…80`` / ``WGTP1…80``.

Decoded columns (person table; the household table carries its householder's)
-------------------------------------------------------------------------------
``race``        Urban Institute categories: "Black, non-Hispanic", "Hispanic", "White,
                non-Hispanic", "Other races and ethnicities" (HISP ≠ 1 is Hispanic, else RAC1P)
``sex_label``   "Male" / "Female" (SEX 1/2)
``age_band``    "Under 18", "18-24", "25-54", "55-64", "65 and over" (AGEP)
``disability``  "With a disability" / "Without a disability" (DIS 1/2)
``tenure``      "Owner" (TEN 1, 2) / "Renter" (TEN 3, 4); empty outside households
``in_household`` housing unit (TYPEHUGQ, or TYPE before 2020, = 1)
``puma_id``     state FIPS + 5-digit PUMA (7 characters); ``puma_vintage`` 2010 or 2020

Examples
--------
>>> pums_url(2023, 1, "40", "p")
'https://www2.census.gov/programs-surveys/acs/data/pums/2023/1-Year/csv_pok.zip'
>>> puma_vintage(2021, 5), puma_vintage(2022, 1)
(2010, 2020)
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from upward.core.errors import ConfigError, InputFileError
from upward.geo.states import STATES_BY_FIPS
from upward.sources.base import Dataset, Kind, Publisher, Tables, register

N_REPLICATES = 80  # replicate weights of every ACS PUMS file (PWGTP1…80, WGTP1…80)
PUMS_BASE = "https://www2.census.gov/programs-surveys/acs/data/pums"
FIRST_YEAR = 2019
SPANS = (1, 5)

PERSON_WEIGHTS = ["PWGTP", *[f"PWGTP{r}" for r in range(1, N_REPLICATES + 1)]]
HOUSING_WEIGHTS = ["WGTP", *[f"WGTP{r}" for r in range(1, N_REPLICATES + 1)]]

#: Columns every file must have (besides the weights and a PUMA column).
PERSON_REQUIRED = ("SERIALNO", "SPORDER", "ST", "ADJINC", "AGEP", "SEX", "RAC1P", "HISP")
HOUSING_REQUIRED = ("SERIALNO", "ST", "ADJINC", "ADJHSG", "NP")
#: Columns kept when present (names changed in 2020: TYPE → TYPEHUGQ, ACCESS → ACCESSINET).
PERSON_OPTIONAL = ("ESR", "SCHL", "SCHG", "SCH", "DIS", "PINCP", "WAGP", "POVPIP", "RELSHIPP",
                   "RELP")
HOUSING_OPTIONAL = ("TYPEHUGQ", "TYPE", "TEN", "HINCP", "FINCP", "ACCESSINET", "ACCESS",
                    "HISPEED", "GRPIP", "OCPIP", "GRNTP", "SMOCP", "VALP")
PUMA_COLUMNS = ("PUMA", "PUMA10", "PUMA20")
#: Dollar amounts and their adjustment factor (PUMS Data Dictionary, "ADJINC", "ADJHSG").
INCOME_AMOUNTS = ("PINCP", "WAGP", "HINCP", "FINCP")
HOUSING_AMOUNTS = ("GRNTP", "SMOCP", "VALP")

RACES = ("Black, non-Hispanic", "Hispanic", "White, non-Hispanic", "Other races and ethnicities")
AGE_BANDS = ((0, 17, "Under 18"), (18, 24, "18-24"), (25, 54, "25-54"), (55, 64, "55-64"),
             (65, 200, "65 and over"))
RAC1P_LABELS = {1: "White alone", 2: "Black or African American alone",
                3: "American Indian alone", 4: "Alaska Native alone",
                5: "American Indian and Alaska Native tribes specified",
                6: "Asian alone", 7: "Native Hawaiian and Other Pacific Islander alone",
                8: "Some Other Race alone", 9: "Two or More Races"}

#: The grouping columns a metric can be broken down by, and the decoded column behind each.
SUBGROUPS = {"race": "race", "sex": "sex_label", "age": "age_band", "disability": "disability",
             "tenure": "tenure"}


def pums_url(year: int, span: int, state: str, kind: str, base: str = PUMS_BASE) -> str:
    """The Census Bureau's address of one state's person (``p``) or housing (``h``) zip
    (``base`` replaces the Census's folder for a mirror).

    >>> pums_url(2022, 5, "21", "h")
    'https://www2.census.gov/programs-surveys/acs/data/pums/2022/5-Year/csv_hky.zip'
    """
    check_release(year, span)
    st = STATES_BY_FIPS[state].abbr.lower()
    return f"{base.rstrip('/')}/{year}/{span}-Year/csv_{kind}{st}.zip"


def check_release(year: int, span: int) -> None:
    """Reject a release this reader does not know (before 2019, or a span other than 1 or 5).

    >>> check_release(2018, 1)
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: --year 2018: PUMS releases before 2019 are not supported. What to do: use --year 2019 or later
    """
    if year < FIRST_YEAR:
        raise ConfigError(f"--year {year}: PUMS releases before {FIRST_YEAR} are not supported",
                          fix=f"use --year {FIRST_YEAR} or later")
    if span not in SPANS:
        raise ConfigError(f"--span {span} is not a PUMS span", fix="use 1 or 5")


def puma_vintage(year: int, span: int) -> int:
    """The PUMA vintage of a release: 2020 PUMAs from the 2022 releases on, 2010 before.

    >>> puma_vintage(2023, 5)
    2020
    """
    return 2020 if year >= 2022 else 2010


# ------------------------------------------------------------------------------------------------
# Reading one file
# ------------------------------------------------------------------------------------------------


def _open_text(path: Path, kind: str) -> tuple[bytes, str]:
    """The CSV bytes of a psam file, or of the psam member inside a Census zip."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist()
                           if re.fullmatch(rf"(?:.*/)?psam_{kind}\d\d\.csv", n, re.I)]
                if not members:
                    raise InputFileError(path, f"the zip holds no psam_{kind}NN.csv",
                                         fix="give the Census PUMS zip (csv_p??.zip / "
                                         "csv_h??.zip) or the CSV itself")
                return zf.read(members[0]), f"{path.name}!{members[0]}"
        except zipfile.BadZipFile:
            raise InputFileError(path, "not a zip file (truncated download?)",
                                 fix="download the file again") from None
    return path.read_bytes(), path.name


def _first_bad_row(data: bytes, width: int) -> tuple[int, int]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    for line, row in enumerate(reader, start=1):
        if len(row) != width:
            return line, len(row)
    return 0, width


def read_psam(path: Path, kind: str) -> pd.DataFrame:
    """Read and check one person (``kind='p'``) or housing (``'h'``) file, CSV or zip.

    Checks: the required columns, a PUMA column, the full-sample and 80 replicate weights,
    numeric weights, no row cut short. Errors name the file, the line and the column.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "psam_p99.csv"
    >>> _ = p.write_text("SERIALNO,SPORDER,ST,PUMA\\n1,1,99,00100\\n")
    >>> read_psam(p, "p")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: ...psam_p99.csv, column 'ADJINC': a required column is missing...
    """
    data, label = _open_text(Path(path), kind)
    where = Path(path).parent / label
    header = next(csv.reader(io.StringIO(data[:65536].decode("utf-8-sig", errors="replace"))))
    header = [h.strip() for h in header]
    required = PERSON_REQUIRED if kind == "p" else HOUSING_REQUIRED
    weights = PERSON_WEIGHTS if kind == "p" else HOUSING_WEIGHTS
    for col in (*required, *weights):
        if col not in header:
            what = "a weight column" if col in weights else "a required column"
            raise InputFileError(where, f"{what} is missing", column=col,
                                 fix="give the complete Census PUMS file (all 80 replicate "
                                 "weights are needed for standard errors)")
    pumas = [c for c in PUMA_COLUMNS if c in header]
    if not pumas:
        raise InputFileError(where, "no PUMA column (PUMA, PUMA10 or PUMA20)", column="PUMA",
                             fix="give the complete Census PUMS file")
    optional = PERSON_OPTIONAL if kind == "p" else HOUSING_OPTIONAL
    keep = [c for c in dict.fromkeys((*required, *pumas, *optional, *weights)) if c in header]
    text_cols = {"SERIALNO", "ST", *pumas}
    types = {c: (pa.string() if c in text_cols else pa.float64()) for c in keep}
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            convert_options=pacsv.ConvertOptions(include_columns=keep, column_types=types,
                                                 strings_can_be_null=False, null_values=[""]),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "columns" in msg and "Expected" in msg:
            line, got = _first_bad_row(data, len(header))
            raise InputFileError(where, f"the row has {got} fields, the header {len(header)}: "
                                 "the file is cut short or damaged", row=line or None,
                                 fix="download the file again (or unzip it again)") from None
        _raise_bad_value(where, data, header, keep, text_cols, msg)
        raise
    frame = table.to_pandas()
    for col in weights:
        blank = frame[col].isna()
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputFileError(where, "the weight is blank", row=i + 2, column=col,
                                 fix="every record needs its weight and 80 replicate weights; "
                                 "give the file as the Census Bureau publishes it")
    return frame


def _raise_bad_value(where: Path, data: bytes, header: list[str], keep: list[str],
                     text_cols: set[str], msg: str) -> None:
    frame = pd.read_csv(io.BytesIO(data), usecols=keep, dtype=str, keep_default_na=False)
    for col in keep:
        if col in text_cols:
            continue
        values = frame[col].str.strip()
        bad = values.ne("") & pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(where, f"value {values.iloc[i]!r} is not a number", row=i + 2,
                                 column=col, fix="the PUMS weights and codes are numbers; give "
                                 "the file as the Census Bureau publishes it")
    raise InputFileError(where, f"cannot be read: {msg}", fix="give the Census PUMS file")


def read_replicate_csv(path: Path, *, weight: str = "PWGTP", prefix: str | None = None,
                       n_replicates: int = N_REPLICATES) -> pd.DataFrame:
    """Read any CSV of records with a weight and its replicate weights, checking the weights.

    For extracts that are not in the psam layout (such as the svrep package's Louisville
    sample): the weight and ``prefix1…prefixN`` must be present and numeric; other columns are
    kept as text.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_text("id,W,W1,W2\\n1,2.5,2,x\\n")
    >>> read_replicate_csv(p, weight="W", n_replicates=2)
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: ...x.csv, row 2, column 'W2': value 'x' is not a number. What to do: replicate weights are numbers; give the file as published
    """
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    weights = [weight, *[f"{prefix or weight}{r}" for r in range(1, n_replicates + 1)]]
    for col in weights:
        if col not in frame.columns:
            raise InputFileError(path, "a weight column is missing", column=col,
                                 fix=f"give the full-sample weight {weight} and all "
                                 f"{n_replicates} replicate weights")
        values = pd.to_numeric(frame[col].str.strip(), errors="coerce")
        bad = values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(path, f"value {frame[col].iloc[i]!r} is not a number",
                                 row=i + 2, column=col,
                                 fix="replicate weights are numbers; give the file as published")
        frame[col] = values.astype(float)
    return frame


# ------------------------------------------------------------------------------------------------
# Joining and decoding
# ------------------------------------------------------------------------------------------------


def _puma(frame: pd.DataFrame, year: int, span: int) -> tuple[pd.Series, pd.Series]:
    vintage = puma_vintage(year, span)
    if "PUMA20" in frame.columns or "PUMA10" in frame.columns:
        p20 = frame.get("PUMA20", pd.Series("-0009", index=frame.index)).astype(str)
        use20 = ~p20.str.lstrip("0").isin(["-9", "-0009", "", "-"]) & ~p20.str.startswith("-")
        p10 = frame.get("PUMA10", pd.Series("", index=frame.index)).astype(str)
        code = p20.where(use20, p10)
        vint = pd.Series(np.where(use20, 2020, 2010), index=frame.index)
    else:
        code = frame["PUMA"].astype(str)
        vint = pd.Series(vintage, index=frame.index)
    st = frame["ST"].astype(str).str.zfill(2)
    return st + code.str.zfill(5), vint.astype("int16")


def _decode_person(p: pd.DataFrame) -> pd.DataFrame:
    age = p["AGEP"]
    hisp = p["HISP"].fillna(1) != 1
    race = np.select([hisp, p["RAC1P"] == 2, p["RAC1P"] == 1],
                     ["Hispanic", "Black, non-Hispanic", "White, non-Hispanic"],
                     "Other races and ethnicities")
    p["race"] = race
    p["RAC1P_label"] = p["RAC1P"].map(RAC1P_LABELS)
    p["sex_label"] = p["SEX"].map({1.0: "Male", 2.0: "Female"})
    p["age_band"] = pd.cut(age, [-1, *[hi for _, hi, _ in AGE_BANDS]],
                           labels=[lab for *_, lab in AGE_BANDS]).astype(str)
    if "DIS" in p.columns:
        p["disability"] = p["DIS"].map({1.0: "With a disability", 2.0: "Without a disability"})
    else:
        p["disability"] = None
    return p


def _tenure(ten: pd.Series) -> pd.Series:
    return ten.map({1.0: "Owner", 2.0: "Owner", 3.0: "Renter", 4.0: "Renter"})


@dataclass(frozen=True)
class Microdata:
    """One release's persons (with their household's variables) and households, decoded.

    Attributes
    ----------
    persons, households : pandas.DataFrame
    year, span : int
        The release (e.g. 2023, 5 for the ACS 2019–2023 5-year file).
    files : tuple of str
        The files read.

    >>> m = Microdata(pd.DataFrame({"SERIALNO": ["H1", "H1"]}), pd.DataFrame({"SERIALNO": ["H1"]}),
    ...               2023, 5, ("psam_p40.csv", "psam_h40.csv"))
    >>> len(m.persons), len(m.households), puma_vintage(m.year, m.span)
    (2, 1, 2020)
    """

    persons: pd.DataFrame
    households: pd.DataFrame
    year: int
    span: int
    files: tuple[str, ...]


def combine(person: pd.DataFrame, housing: pd.DataFrame, *, year: int, span: int,
            person_file: str = "person file", housing_file: str = "housing file") -> Microdata:
    """Join persons to housing units by SERIALNO, apply ADJINC/ADJHSG, decode the codes.

    Every person must have a housing record (the Census files always do); the household table
    keeps occupied housing units (and group-quarters records, flagged ``in_household=False``)
    with the householder's race, sex, age band and disability.

    >>> person = pd.DataFrame({"SERIALNO": ["H1", "H1"], "SPORDER": [1, 2], "ST": ["40", "40"],
    ...                        "PUMA": ["01201", "01201"], "ADJINC": [1_010_000, 1_010_000],
    ...                        "AGEP": [34, 8], "SEX": [2.0, 1.0], "RAC1P": [2, 2], "HISP": [1, 1],
    ...                        "WAGP": [30000.0, 0.0]})
    >>> housing = pd.DataFrame({"SERIALNO": ["H1"], "ST": ["40"], "PUMA": ["01201"],
    ...                         "ADJINC": [1_010_000], "ADJHSG": [1_000_000], "NP": [2],
    ...                         "TYPEHUGQ": [1], "TEN": [3.0], "HINCP": [30000.0]})
    >>> m = combine(person, housing, year=2023, span=5)
    >>> m.persons[["puma_id", "race", "age_band", "WAGP", "tenure"]].values.tolist()
    [['4001201', 'Black, non-Hispanic', '25-54', 30300.0, 'Renter'], ['4001201', 'Black, non-Hispanic', 'Under 18', 0.0, 'Renter']]
    >>> m.households[["HINCP", "tenure", "sex_label", "in_household"]].values.tolist()
    [[30300.0, 'Renter', 'Female', True]]
    """
    check_release(year, span)
    h = housing.copy()
    p = person.copy()
    h["puma_id"], h["puma_vintage"] = _puma(h, year, span)
    p["puma_id"], p["puma_vintage"] = _puma(p, year, span)
    adj = h["ADJINC"] / 1e6
    for col in INCOME_AMOUNTS:
        if col in h.columns:
            h[col] = h[col] * adj
    hadj = h["ADJHSG"] / 1e6
    for col in HOUSING_AMOUNTS:
        if col in h.columns:
            h[col] = h[col] * hadj
    padj = p["ADJINC"] / 1e6
    for col in INCOME_AMOUNTS:
        if col in p.columns:
            p[col] = p[col] * padj
    gq = h["TYPEHUGQ"] if "TYPEHUGQ" in h.columns else h.get("TYPE")
    h["in_household"] = (gq == 1) if gq is not None else True
    h["tenure"] = _tenure(h["TEN"]) if "TEN" in h.columns else None
    if "ACCESS" in h.columns and "ACCESSINET" not in h.columns:
        h = h.rename(columns={"ACCESS": "ACCESSINET"})
    if "TYPE" in h.columns and "TYPEHUGQ" not in h.columns:
        h = h.rename(columns={"TYPE": "TYPEHUGQ"})
    dup = h["SERIALNO"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputFileError(housing_file, f"SERIALNO {h['SERIALNO'].iloc[i]} appears twice",
                             row=i + 2, column="SERIALNO", fix="give the Census housing file")
    p = _decode_person(p)
    carried = [c for c in ("TYPEHUGQ", "in_household", "tenure", "TEN", "HINCP", "NP",
                           "ACCESSINET", "HISPEED", "GRPIP", "OCPIP") if c in h.columns]
    joined = p.merge(h[["SERIALNO", *carried]], on="SERIALNO", how="left", indicator=True)
    orphan = joined["_merge"] != "both"
    if orphan.any():
        i = int(np.flatnonzero(orphan.to_numpy())[0])
        raise InputFileError(person_file, f"SERIALNO {joined['SERIALNO'].iloc[i]} has no "
                             "record in the housing file", row=i + 2, column="SERIALNO",
                             fix="give the person and housing files of the same state and "
                             "release")
    joined = joined.drop(columns="_merge")
    head = p.loc[p["SPORDER"] == 1, ["SERIALNO", "race", "sex_label", "age_band", "disability"]]
    households = h.merge(head, on="SERIALNO", how="left")
    return Microdata(joined, households, year, span, (person_file, housing_file))


def read_pums(person_path: Path, housing_path: Path, *, year: int, span: int) -> Microdata:
    """Read a state's person and housing files (CSV or Census zip) into :class:`Microdata`.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> weights = ",".join(["10"] * (N_REPLICATES + 1))
    >>> _ = (root / "psam_p40.csv").write_text(
    ...     "SERIALNO,SPORDER,ST,PUMA,ADJINC,AGEP,SEX,RAC1P,HISP," + ",".join(PERSON_WEIGHTS)
    ...     + "\\nH1,1,40,01201,1010000,34,2,2,1," + weights + "\\n")
    >>> _ = (root / "psam_h40.csv").write_text(
    ...     "SERIALNO,ST,PUMA,ADJINC,ADJHSG,NP,TYPEHUGQ,TEN," + ",".join(HOUSING_WEIGHTS)
    ...     + "\\nH1,40,01201,1010000,1000000,1,1,3," + weights + "\\n")
    >>> m = read_pums(root / "psam_p40.csv", root / "psam_h40.csv", year=2023, span=5)
    >>> m.persons[["puma_id", "race", "sex_label", "PWGTP", "PWGTP80"]].values.tolist()
    [['4001201', 'Black, non-Hispanic', 'Female', 10.0, 10.0]]
    >>> m.households[["tenure", "in_household"]].values.tolist()
    [['Renter', True]]
    """
    person = read_psam(Path(person_path), "p")
    housing = read_psam(Path(housing_path), "h")
    return combine(person, housing, year=year, span=span, person_file=str(person_path),
                   housing_file=str(housing_path))


# ------------------------------------------------------------------------------------------------
# The tract-to-PUMA relationship files (loaded as crosswalks)
# ------------------------------------------------------------------------------------------------


def read_tract_puma(path: Path, source_id: str) -> Tables:
    """Read a Census tract-to-PUMA relationship file into ``crosswalks`` rows.

    ``from_geo_id`` is the 11-digit tract, ``to_geo_id`` the 7-digit PUMA (state + PUMA5CE),
    ``weight`` 1 (tracts nest in PUMAs), ``weight_kind='membership'``, ``vintage`` 2010 or 2020
    from the file name.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "2020_Census_Tract_to_2020_PUMA.csv"
    >>> _ = p.write_text("STATEFP,COUNTYFP,TRACTCE,PUMA5CE\\n40,143,000100,01201\\n")
    >>> read_tract_puma(p, "x").crosswalks[["from_geo_id", "to_geo_id", "vintage"]].values.tolist()
    [['40143000100', '4001201', '2020']]
    """
    from upward.geo.puma import read_tract_puma_frame

    frame, vintage = read_tract_puma_frame(Path(path))
    t = Tables()
    t.crosswalks = pd.DataFrame({
        "from_geo_id": frame["tract"].to_numpy(),
        "to_geo_id": frame["puma_id"].to_numpy(),
        "weight": 1.0,
        "weight_kind": "membership",
        "vintage": str(vintage),
        "source_id": source_id,
    })
    t.notes.append(f"tract-to-PUMA relationship, {vintage} vintage")
    return t


for _vintage, _name in ((2010, "2010_Census_Tract_to_2010_PUMA.txt"),
                        (2020, "2020_Census_Tract_to_2020_PUMA.csv")):
    register(Dataset(
        key=f"pums.tract_puma_{_vintage}",
        source="pums",
        publisher=Publisher.CENSUS,
        title=f"{_vintage} Census tract to {_vintage} PUMA relationship file",
        url=("https://www2.census.gov/geo/docs/maps-data/data/rel2020/"
             "2020_Census_Tract_to_2020_PUMA.txt" if _vintage == 2020 else
             "https://www2.census.gov/geo/docs/maps-data/data/rel/"
             "2010_Census_Tract_to_2010_PUMA.txt"),
        local_names=(f"crosswalks/{_name}", _name),
        license="public domain (US government work)",
        reader=read_tract_puma,
        kind=Kind.CROSSWALK,
        label=f"Census tract to PUMA relationships ({_vintage})",
        release=str(_vintage),
        own_loader=True,
        notes="tracts nest in PUMAs; allocation factors to places and counties weight tracts "
              "by population (upward.geo.puma)",
    ))


def _check_only(kind: str):
    def reader(path: Path, source_id: str) -> Tables:
        frame = read_psam(Path(path), kind)
        t = Tables()
        t.notes.append(f"{len(frame):,} {'person' if kind == 'p' else 'housing'} records; "
                       "microdata are stored as Parquet by upward.warehouse.microdata")
        return t
    return reader


for _kind, _what in (("p", "persons"), ("h", "housing units")):
    register(Dataset(
        key=f"pums.{'persons' if _kind == 'p' else 'housing'}",
        source="pums",
        publisher=Publisher.CENSUS,
        title=f"ACS Public Use Microdata Sample, {_what} (1-year and 5-year, 2019 onward)",
        url=f"{PUMS_BASE}/{{year}}/{{span}}-Year/csv_{_kind}{{st}}.zip",
        local_names=(f"pums/psam_{_kind}{{state}}.csv", f"psam_{_kind}{{state}}.csv"),
        license="public domain (US government work)",
        reader=_check_only(_kind),
        kind=Kind.MICRODATA,
        label=f"ACS PUMS {_what}",
        release="2023",  # the newest release read by default; each load records its own year
        own_loader=True,
        notes="one file per state and release; {st} is the lower-case postal code; loaded by "
              "upward fetch pums (upward.warehouse.microdata.fetch_pums), which joins the person "
              "and housing files",
    ))
