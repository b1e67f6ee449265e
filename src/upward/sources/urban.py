"""Urban Institute Upward Mobility Framework metrics (places and counties; recent and longitudinal).

The files are wide (one row per geography, or per geography and year): each metric column may
have ``_lb``/``_ub`` bounds and a ``_quality`` grade. The reader turns them into long canonical
observations and handles the quirks of METRICS.md: renamed columns across releases, quality as
digits or words, ratios written as ``a:b`` text, FIPS as text, whole-population rows labelled
``tenure/All``, and rows that are all NA.

Examples
--------
>>> metric_id_for("share_debt_coll"), metric_id_for("rate_violent_crime")
('share_debt_col', 'rate_crime_violent')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import InputFileError
from upward.geo.states import STATES_BY_FIPS
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.readers import (
    check_limits,
    check_unique,
    coded_text,
    composed_geoids,
    line_of,
    numeric,
    read_delimited,
    refuse_first_bad,
    repeated_text,
)
from upward.sources.schema import Z95, conform

PUBLISHER = Publisher.URBAN
LICENSE = "Urban Institute data catalog terms (free to use with attribution)"
_RAW = "https://raw.githubusercontent.com/UI-Research/mobility-from-poverty/main/data/"

#: Columns that identify the row rather than measure something.
ID_COLUMNS = frozenset(
    {"year", "state", "place", "county", "state_name", "place_name", "county_name",
     "population", "subgroup_type", "subgroup", "geo_id", "period"}
)

#: Column names that changed between releases → the catalog's metric id.
RENAMES = {
    "share_debt_coll": "share_debt_col",
    "rate_violent_crime": "rate_crime_violent",
    "rate_property_crime": "rate_crime_property",
    "share_desc_rep_asian_other": "share_desc_rep_other",
}

#: Quality columns that grade several metrics, or are not named ``<metric>_quality``.
SHARED_QUALITY = {
    "pctl_20_quality": ("pctl_income_20",),
    "pctl_50_quality": ("pctl_income_50",),
    "pctl_80_quality": ("pctl_income_80",),
    "homeless_quality": ("count_homeless", "share_homeless"),
    "share_affordable_quality": (
        "share_affordable_80_ami", "share_affordable_50_ami", "share_affordable_30_ami"),
    "rate_crime_quality": ("rate_crime_violent", "rate_crime_property"),
    "transportation_cost_quality": ("transportation_cost",),
}

#: Columns read and deliberately not stored, with the reason.
IGNORED = {
    "pctl_income_quality": "in the 2024-02 recent files it equals share_employed_quality row for "
    "row and grades no income metric; the per-percentile pctl_XX_quality columns are used",
}

#: Metrics whose own name ends in "_quality" (they are values, not quality grades).
NAMED_QUALITY = frozenset({"index_air_quality"})

QUALITY_CODES = {"1": 1, "2": 2, "3": 3, "strong": 1, "marginal": 2, "weak": 3}

#: Possible ranges by metric-name pattern: the first that matches applies.
RANGES: tuple[tuple[str, float | None, float | None], ...] = (
    (r"^share_affordable", 0.0, None),
    (r"^share_", 0.0, 1.0),
    (r"^meps20_", 0.0, 1.0),
    (r"^rate_learning", None, None),
    (r"^(count|rate|pctl|index|ratio|transportation)_", 0.0, None),
)

#: The recent files (2024-02) carry no year column. Each metric's data year, as Urban labels it
#: (a school year by its autumn year, a pooled span by its last year), from the "Time period"
#: notes of Urban's metric summaries (UI-Research/gates-mobility-metrics-pages,
#: data/00_metrics-summary_place.csv and _county.csv), cross-checked against the longitudinal file.
RECENT_PERIODS: dict[str, dict[str, str]] = {
    "place": {
        "count_homeless": "2019",
        "count_membership_associations_per_10k": "2020",
        "index_air_quality": "2018",
        "meps20_black": "2018",
        "meps20_hispanic": "2018",
        "meps20_white": "2018",
        "pctl_income_20": "2021",
        "pctl_income_50": "2021",
        "pctl_income_80": "2021",
        "rate_crime_property": "2021",
        "rate_crime_violent": "2021",
        "rate_juv_arrest": "2021",
        "rate_learning": "2017",
        "ratio_black_nh_house_value_households": "2021",
        "ratio_high_low_ses_fb_friends": "2022",
        "ratio_hispanic_house_value_households": "2021",
        "ratio_other_nh_house_value_households": "2021",
        "ratio_white_nh_house_value_households": "2021",
        "share_affordable_30_ami": "2021",
        "share_affordable_50_ami": "2021",
        "share_affordable_80_ami": "2021",
        "share_black_nh_exposure": "2021",
        "share_debt_col": "2021",
        "share_desc_rep_black_nonhispanic": "2021",
        "share_desc_rep_hispanic": "2021",
        "share_desc_rep_other": "2021",
        "share_desc_rep_white_nonhispanic": "2021",
        "share_digital_access": "2021",
        "share_election_turnout": "2020",
        "share_employed": "2021",
        "share_hispanic_exposure": "2021",
        "share_homeless": "2019",
        "share_hs_degree": "2021",
        "share_in_preschool": "2021",
        "share_other_nh_exposure": "2021",
        "share_poverty_exposure": "2021",
        "share_white_nh_exposure": "2021",
    },
    "county": {
        "count_homeless": "2019",
        "count_membership_associations_per_10k": "2020",
        "index_air_quality": "2018",
        "index_transit_trips": "2016",
        "meps20_black": "2018",
        "meps20_hispanic": "2018",
        "meps20_white": "2018",
        "pctl_income_20": "2021",
        "pctl_income_50": "2021",
        "pctl_income_80": "2021",
        "rate_crime_property": "2021",
        "rate_crime_violent": "2021",
        "rate_injury_death": "2020",
        "rate_juv_arrest": "2021",
        "rate_learning": "2017",
        "rate_low_birth_weight": "2020",
        "ratio_average_to_living_wage": "2021",
        "ratio_black_nh_house_value_households": "2021",
        "ratio_high_low_ses_fb_friends": "2022",
        "ratio_hispanic_house_value_households": "2021",
        "ratio_other_nh_house_value_households": "2021",
        "ratio_population_pc_physician": "2019",
        "ratio_white_nh_house_value_households": "2021",
        "share_affordable_30_ami": "2021",
        "share_affordable_50_ami": "2021",
        "share_affordable_80_ami": "2021",
        "share_black_nh_exposure": "2021",
        "share_debt_col": "2022",
        "share_desc_rep_black_nonhispanic": "2021",
        "share_desc_rep_hispanic": "2021",
        "share_desc_rep_other": "2021",
        "share_desc_rep_white_nonhispanic": "2021",
        "share_digital_access": "2021",
        "share_election_turnout": "2020",
        "share_employed": "2021",
        "share_hispanic_exposure": "2021",
        "share_homeless": "2019",
        "share_hs_degree": "2021",
        "share_in_preschool": "2021",
        "share_other_nh_exposure": "2021",
        "share_poverty_exposure": "2021",
        "share_white_nh_exposure": "2021",
        "transportation_cost": "2016",
    },
}
RECENT_LABEL = "recent"

#: Metrics a release publishes on another scale than the catalog's, and the factor that brings
#: them to it. The 2025 longitudinal place file gives economic connectedness as the share of
#: high-SES friends (half the Social Capital Atlas ``ec``): in 2022 every one of its 486 places
#: is exactly half the 2024 recent file's value, and the county recent file equals the Atlas's
#: ``ec_county`` (Tulsa County 0.733). The catalog's scale is the Atlas's (1 = not
#: under-connected), so these values are doubled on load, bounds included (METRICS.md).
LONGITUDINAL_RESCALE: dict[str, float] = {"ratio_high_low_ses_fb_friends": 2.0}


def metric_id_for(column: str) -> str:
    """The catalog id of a file's metric column.

    >>> metric_id_for("share_employed")
    'share_employed'
    """
    return RENAMES.get(column, column)


def range_for(metric_id: str) -> tuple[float | None, float | None]:
    """The possible (lower, upper) values of a metric, from its name.

    >>> range_for("share_employed"), range_for("share_affordable_30_ami")
    ((0.0, 1.0), (0.0, None))
    """
    for pattern, lower, upper in RANGES:
        if re.match(pattern, metric_id):
            return lower, upper
    return None, None


@dataclass(frozen=True)
class _Column:
    """Where a metric's estimate, bounds and quality are in a wide file."""

    metric_id: str
    estimate: str
    lb: str | None
    ub: str | None
    quality: str | None


def plan_columns(columns: list[str], path: Path) -> list[_Column]:
    """Sort a wide file's columns into metrics with their bounds and quality columns.

    >>> [c.metric_id for c in plan_columns(["state", "share_debt_coll", "share_debt_coll_quality"], Path("f"))]
    ['share_debt_col']
    """
    values = [c for c in columns if c not in ID_COLUMNS and c not in IGNORED]
    bounds = {c for c in values if c.endswith(("_lb", "_ub"))}
    qualities = {c for c in values if c.endswith("_quality") and c not in NAMED_QUALITY}
    estimates = [c for c in values if c not in bounds and c not in qualities]
    quality_of: dict[str, str] = {}
    for q in qualities:
        for target in SHARED_QUALITY.get(q, (q.removesuffix("_quality"),)):
            quality_of[metric_id_for(target)] = q
    plan = []
    for c in estimates:
        mid = metric_id_for(c)
        plan.append(
            _Column(
                mid,
                c,
                f"{c}_lb" if f"{c}_lb" in bounds else None,
                f"{c}_ub" if f"{c}_ub" in bounds else None,
                quality_of.get(mid),
            )
        )
    known = {p.metric_id for p in plan}
    orphans = [q for q in qualities
               if not any(metric_id_for(t) in known
                          for t in SHARED_QUALITY.get(q, (q.removesuffix("_quality"),)))]
    orphans += [b for b in bounds if b[:-3] not in estimates]
    if orphans:
        raise InputFileError(
            path,
            f"column {orphans[0]!r} belongs to no metric column in the file",
            fix="restore the metric column it belongs to, or use the publisher's original file",
            row=1,
            column=orphans[0],
        )
    return plan


_RATIO = r"^\s*(-?[\d.]+)\s*(%?)\s*:\s*(-?[\d.]+)\s*(%?)\s*$"
_NA_WORDS = ("", "NA", "N/A", "NaN", "nan", "NULL", ".")


def _arrow_ratios(text: pd.Series) -> pd.Series | None:
    """``parse_ratio_text`` by Arrow compute; None when a value is not read cleanly (the pandas
    path then finds and names it, or coerces it as before)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arrow = pa.array(text.astype(str), from_pandas=True)
        trimmed = pc.utf8_trim_whitespace(arrow)
        parts = pc.extract_regex(trimmed, r"^\s*(?P<a>-?[\d.]+)\s*%?\s*:\s*(?P<b>-?[\d.]+)\s*%?\s*$")
        matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
        a = pc.cast(pc.struct_field(parts, "a"), pa.float64()).to_numpy(zero_copy_only=False)
        b = pc.cast(pc.struct_field(parts, "b"), pa.float64()).to_numpy(zero_copy_only=False)
        blank = pc.is_in(trimmed, value_set=pa.array(_NA_WORDS, type=trimmed.type))
        plain = pc.cast(pc.if_else(pc.or_(blank, pa.array(matched)), None, trimmed), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a / np.where(b != 0, b, np.nan)
    values = np.where(matched, ratio, plain.to_numpy(zero_copy_only=False))
    return pd.Series(values, index=text.index, dtype="float64")


def parse_ratio_text(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Values written as ``a:b`` (``2.5%:9.6%``, ``0.119:0.246``, ``2235:1``) as a ÷ b.

    >>> parse_ratio_text(pd.DataFrame({"r": ["2.5%:10%", "NA", "3:1"]}), "r", Path("f")).tolist()
    [0.25, nan, 3.0]
    """
    fast = _arrow_ratios(frame[column])
    if fast is not None:
        return fast
    raw = frame[column].astype(str).str.strip()
    parts = raw.str.extract(_RATIO)
    is_na = raw.isin(set(_NA_WORDS))
    plain = pd.to_numeric(raw.where(parts[0].isna() & ~is_na), errors="coerce")
    refuse_first_bad(raw, parts[0].isna() & ~is_na & plain.isna(), path, column,
                     "is neither a number nor a ratio written 'a:b'")
    a = pd.to_numeric(parts[0], errors="coerce")
    b = pd.to_numeric(parts[2], errors="coerce")
    ratio = (a / b.where(b != 0)).astype("float64")
    return ratio.where(parts[0].notna(), plain.astype("float64"))


def parse_quality(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Quality grades as 1/2/3 from digits or the words Strong/Marginal/Weak.

    >>> parse_quality(pd.DataFrame({"q": ["Strong", "3", "NA", "2.0"]}), "q", Path("f")).tolist()
    [1, 3, <NA>, 2]
    """
    # a column holds a handful of distinct texts: each is read once, then spread by position
    positions, distinct = pd.factorize(frame[column].astype(str), use_na_sentinel=False)
    words = [str(u).strip().lower().removesuffix(".0") for u in distinct]
    codes = [QUALITY_CODES.get(w) for w in words]
    bad = [c is None and w not in {"", "na", "n/a", "nan", "null", "."}
           for c, w in zip(codes, words, strict=True)]
    if any(bad):
        i = int(np.flatnonzero(np.asarray(bad)[positions])[0])
        raise InputFileError(
            path,
            f"{frame[column].iloc[i]!r} is not a quality grade",
            fix="write 1, 2 or 3 (or Strong, Marginal, Weak), or NA",
            row=line_of(i),
            column=column,
        )
    values = np.asarray([c or 0 for c in codes], dtype=np.int8)
    missing = np.asarray([c is None for c in codes], dtype=bool)
    return pd.arrays.IntegerArray(values[positions], missing[positions])


def _estimate(frame: pd.DataFrame, column: str, metric_id: str, path: Path) -> pd.Series:
    raw = frame[column].astype(str)
    if raw.str.contains(":", regex=False).any():
        lower, upper = range_for(metric_id)
        values = parse_ratio_text(frame, column, path)
        return check_limits(values, column, path, lower=lower, upper=upper)
    lower, upper = range_for(metric_id)
    return numeric(frame, column, path, lower=lower, upper=upper)


def read_wide(path: Path, source_id: str, *, level: str,
              rescale: dict[str, float] | None = None) -> Tables:
    """Read one Urban wide file (recent or longitudinal, place or county) into canonical tables.

    ``rescale`` maps a metric id to the factor that puts this file's values (and bounds) on the
    catalog's scale (see ``LONGITUDINAL_RESCALE``).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "mobility-metrics_county_recent.csv"
    >>> _ = path.write_text("state,county,state_name,county_name,share_hs_degree,"
    ...                     "share_hs_degree_quality\\n40,143,Oklahoma,Tulsa County,0.89,1\\n")
    >>> t = read_wide(path, "urban/test", level="county")
    >>> t.observations[["geo_id", "metric_id", "estimate", "quality"]].values.tolist()
    [['40143', 'share_hs_degree', 0.89, 1]]
    >>> t.geographies[["geo_id", "name"]].values.tolist()
    [['40143', 'Tulsa County, Oklahoma'], ['40', 'Oklahoma']]
    """
    rescale = rescale or {}
    code_column = "place" if level == "place" else "county"
    frame = read_delimited(path, required=["state", code_column])
    longitudinal = "year" in frame.columns
    width = 5 if level == "place" else 3
    frame["geo_id"] = composed_geoids(frame, ["state", code_column], (2, width), path)
    if longitudinal:
        years = numeric(frame, "year", path, lower=1990, upper=2100, what="a year")
        if years.isna().any():
            i = int(np.flatnonzero(years.isna().to_numpy())[0])
            raise InputFileError(path, "the year is missing", fix="give every row a year",
                                 row=line_of(i), column="year")
        frame["period"] = years.astype(int).astype(str)
    if "subgroup_type" in frame.columns:
        # Whole-population rows say tenure/All, and the 2020 rows (and a few others) leave both
        # columns NA while still carrying values for some metrics.
        missing = {"", "na", "nan", "null"}
        subgroup = frame["subgroup"].str.strip().str.lower()
        whole = subgroup.eq("all") | (
            subgroup.isin(missing) & frame["subgroup_type"].str.strip().str.lower().isin(missing))
        frame["subgroup_type"] = frame["subgroup_type"].str.lower().where(~whole, "all")
        frame["subgroup"] = frame["subgroup"].str.lower().where(~whole, "all")
    else:
        frame["subgroup_type"] = "all"
        frame["subgroup"] = "all"
    key = ["geo_id", "subgroup_type", "subgroup"] + (["period"] if longitudinal else [])
    check_unique(frame, key, path)

    # Per metric only the positions of the rows with an estimate and their numbers are kept;
    # the long table is gathered once at the end, its text columns by Arrow.
    positions, labels, counts = [], [], []
    estimates, lbs, ubs, qualities = [], [], [], []
    for col in plan_columns(list(frame.columns), path):
        est = _estimate(frame, col.estimate, col.metric_id, path)
        lb = numeric(frame, col.lb, path) if col.lb else pd.Series(np.nan, index=frame.index)
        ub = numeric(frame, col.ub, path) if col.ub else pd.Series(np.nan, index=frame.index)
        _check_bounds(est, lb, ub, col, path)
        factor = rescale.get(col.metric_id, 1.0)
        keep = np.flatnonzero(est.notna().to_numpy())
        positions.append(keep)
        counts.append(len(keep))
        labels.append((col.metric_id, RECENT_PERIODS[level].get(col.metric_id, RECENT_LABEL)))
        estimates.append(est.to_numpy(dtype=float)[keep] * factor)
        lbs.append(lb.to_numpy(dtype=float)[keep] * factor)
        ubs.append(ub.to_numpy(dtype=float)[keep] * factor)
        if col.quality:
            grade = parse_quality(frame, col.quality, path)[keep]
            qualities.append((grade.to_numpy(dtype=np.int8, na_value=0), grade.isna()))
        else:
            qualities.append((np.zeros(len(keep), np.int8), np.ones(len(keep), bool)))
    rows = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
    codes = np.repeat(np.arange(len(labels)), counts)
    est_all = np.concatenate(estimates) if estimates else np.zeros(0)
    lb_all = np.concatenate(lbs) if lbs else np.zeros(0)
    ub_all = np.concatenate(ubs) if ubs else np.zeros(0)
    both = ~np.isnan(lb_all) & ~np.isnan(ub_all)

    def gathered(column: str) -> pd.Series:
        return frame[column].iloc[rows].reset_index(drop=True)

    long = pd.DataFrame(
        {
            "geo_id": gathered("geo_id"),
            "geo_level": repeated_text(level, len(rows)),
            "metric_id": coded_text([m for m, _ in labels], codes),
            "period": (gathered("period") if longitudinal
                       else coded_text([p for _, p in labels], codes)),
            "subgroup_type": gathered("subgroup_type"),
            "subgroup": gathered("subgroup"),
            "estimate": est_all,
            "lb": lb_all,
            "ub": ub_all,
            "se": (ub_all - lb_all) / (2 * Z95),
            "quality": pd.arrays.IntegerArray(
                np.concatenate([q for q, _ in qualities]) if qualities else np.zeros(0, np.int8),
                np.concatenate([m for _, m in qualities]) if qualities else np.zeros(0, bool)),
            "bounds": coded_text(["none", "ci95"], both.astype(np.int64)),
            "source_id": repeated_text(source_id, len(rows)),
        }
    )
    observations = conform("observations", long)
    return Tables(observations=observations, geographies=_geographies(frame, level, source_id, path))


def _check_bounds(est: pd.Series, lb: pd.Series, ub: pd.Series, col: _Column, path: Path) -> None:
    tol = 1e-9 * np.maximum(1.0, est.abs())
    bad = (lb > est + tol) | (ub < est - tol)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(
            path,
            f"the estimate {est.iloc[i]:g} lies outside its bounds [{lb.iloc[i]:g}, {ub.iloc[i]:g}]",
            fix="check the estimate and its _lb/_ub columns",
            row=line_of(i),
            column=col.estimate,
        )


def _geographies(frame: pd.DataFrame, level: str, source_id: str, path: Path) -> pd.DataFrame:
    name_column = f"{level}_name"
    latest = frame.sort_values("period") if "period" in frame.columns else frame
    latest = latest.drop_duplicates("geo_id", keep="last")
    state = latest["geo_id"].str[:2]
    state_name = (latest["state_name"] if "state_name" in latest.columns
                  else state.map(lambda s: STATES_BY_FIPS[s].name if s in STATES_BY_FIPS else None))
    names = latest[name_column] if name_column in latest.columns else latest["geo_id"]
    population = (numeric(latest.reset_index(drop=True), "population", path, lower=0)
                  if "population" in latest.columns else np.nan)
    geos = pd.DataFrame(
        {
            "geo_id": latest["geo_id"].to_numpy(),
            "geo_level": level,
            "name": (names.str.strip() + ", " + state_name.str.strip()).to_numpy(),
            "state_fips": state.to_numpy(),
            "parent_geo_id": state.to_numpy(),
            "population": population,
            "vintage": latest["period"].to_numpy() if "period" in latest.columns else None,
            "source_id": source_id,
        }
    )
    states = pd.DataFrame(
        {
            "geo_id": sorted(set(state)),
            "geo_level": "state",
        }
    )
    states["name"] = [STATES_BY_FIPS[s].name if s in STATES_BY_FIPS else None for s in states.geo_id]
    states["state_fips"] = states["geo_id"]
    states["parent_geo_id"] = None
    states["population"] = np.nan
    states["vintage"] = None
    states["source_id"] = source_id
    return conform("geographies", pd.concat([geos, states], ignore_index=True))


def _reader(level: str, rescale: dict[str, float] | None = None):
    def read(path: Path, source_id: str) -> Tables:
        return read_wide(path, source_id, level=level, rescale=rescale)

    return read


PLACE_RECENT = register(
    Dataset(
        key="urban.place_recent",
        source="urban",
        publisher=PUBLISHER,
        title="Upward Mobility Framework metrics, places over 75,000 people, most recent values",
        url=_RAW + "05_mobility-metrics_place_recent.csv",
        local_names=("urban/mobility-metrics_place_recent.csv", "05_mobility-metrics_place_recent.csv",
                     "mobility-metrics_place_recent.csv"),
        license=LICENSE,
        reader=_reader("place"),
        kind=Kind.METRICS,
        label="Urban Institute, most recent values (2024 release)",
        short_label="Urban Institute, 2024 file",
        release="2024",
    )
)
COUNTY_RECENT = register(
    Dataset(
        key="urban.county_recent",
        source="urban",
        publisher=PUBLISHER,
        title="Upward Mobility Framework metrics, counties, most recent values",
        url=_RAW + "00_mobility-metrics_recent.csv",
        local_names=("urban/mobility-metrics_county_recent.csv", "00_mobility-metrics_recent.csv",
                     "mobility-metrics_county_recent.csv"),
        license=LICENSE,
        reader=_reader("county"),
        kind=Kind.METRICS,
        label="Urban Institute, county recent values (2024 release)",
        short_label="Urban Institute, 2024 file",
        release="2024",
    )
)
PLACE_LONGITUDINAL = register(
    Dataset(
        key="urban.place_longitudinal",
        source="urban",
        publisher=PUBLISHER,
        title="Upward Mobility Framework metrics, places, by year (2014–2023)",
        url=_RAW + "61_mobility-metrics_place_longitudinal.csv",
        local_names=("urban/mobility-metrics_place_longitudinal.csv",
                     "61_mobility-metrics_place_longitudinal.csv",
                     "mobility-metrics_place_longitudinal.csv"),
        license=LICENSE,
        reader=_reader("place", LONGITUDINAL_RESCALE),
        notes="economic connectedness doubled on load to the Social Capital Atlas scale "
              "(the file gives half of it)",
        kind=Kind.METRICS,
        label="Urban Institute, place file 2014–2023 (2025 release)",
        short_label="Urban Institute, 2025 file",
        release="2025",
    )
)
