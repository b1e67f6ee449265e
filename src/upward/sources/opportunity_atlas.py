"""Opportunity Insights: Opportunity Atlas outcomes (counties and tracts) and tract covariates.

Children born 1978–83, followed into their mid-30s, by the county or tract where they grew up.
The readers turn each file into long canonical observations:

* ``county_outcomes_simple.csv``: columns ``{outcome}_{race}_{gender}_p25`` with ``_se`` and
  counts ``{race}_{gender}_count``; the column names are parsed by the declared ``ColumnRule``
  patterns, and a column no rule recognises is an error naming it (a renamed column is caught,
  not skipped). Each county's commuting zone becomes a county→cz crosswalk row.
* web-tool downloads (``tract_kfr_rP_gP_p25.csv``, ``tract_kfr_top20_rP_gP_p25.csv``): tract
  GEOIDs stored as numbers (leading zero lost, repaired), names "Neighborhood, City, ST".
* ``tract_collapse.csv`` (kir on a 0–100 scale, counts) and ``tract_covariates.csv``.

Atlas estimates are predictions at the 25th parental percentile from a regression on parents'
rank, with noise added for privacy, so they can stray outside the range of the quantity (a
county's predicted incarceration rate of −0.07, a tract's income rank of 105). ``Limits`` keeps
such values with quality 3 and rejects values that no estimator could produce. The web tool
clips its values to the ends of its scale instead; values at the ends are kept with quality 3.

``national_collapse.csv`` (national means by parents' percentile) is not read: the canonical
tables have no national geography level.

Examples
--------
>>> subgroup_of("black", "female"), subgroup_of("pooled", "male")
(('race_gender', 'black_female'), ('gender', 'male'))
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import InputFileError
from upward.geo.ids import GeoidError, compose_geoid
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.readers import (
    check_limits,
    check_unique,
    coded_text,
    composed_geoids,
    conform_file,
    geoids,
    line_of,
    numeric,
    read_delimited,
    repeated_text,
)
from upward.sources.schema import Z95, empty

PUBLISHER = Publisher.OPPORTUNITY_ATLAS
LICENSE = "Opportunity Insights public data (free to use; cite Chetty, Friedman, Hendren, Jones & Porter 2018)"
SOURCE = "opportunity-atlas"

#: The multiplier of a standard error that gives a 95% interval.

#: The period label of every Atlas outcome: the birth cohorts followed.
COHORTS = "1978-1983 birth cohorts"

#: Census tracts in the Atlas files are 2010 tracts; commuting zones are the 1990 definitions.
TRACT_VINTAGE = "2010"
CZ_VINTAGE = "1990"

RACES = ("pooled", "white", "black", "hisp", "asian", "natam", "other")
GENDERS = ("pooled", "male", "female")

_CENSUS = "https://www2.census.gov/ces/opportunity/"
_OI = "https://opportunityinsights.org/wp-content/uploads/"
_WEB_TOOL_COPY = "https://raw.githubusercontent.com/pspauster/zoning-restrictiveness-citylab/"
_EXERCISE_COPY = (
    "https://raw.githubusercontent.com/bendnorman/economic-opportunity/"
    "268546e9de8634f7c9ea07904792d59242b7d079/data/"
)


@dataclass(frozen=True)
class Limits:
    """The values a metric can take, and how far the publisher's estimates may stray from them.

    ``lower``/``upper`` bound the quantity itself (a share lies in [0, 1]). Estimates outside
    [lower − slack, upper + slack] are errors (wrong units, wrong column); estimates outside
    [lower, upper] but within the slack are kept and flagged (quality 3).

    >>> Limits(0.0, 1.0, slack=0.5).describe()
    '[0, 1]'
    """

    lower: float | None = None
    upper: float | None = None
    slack: float = 0.0
    what: str = "a number"

    def describe(self) -> str:
        """The quantity's range as text.

        >>> Limits(0.0).describe()
        '[0, ∞)'
        """
        lo = "(−∞" if self.lower is None else f"[{self.lower:g}"
        hi = "∞)" if self.upper is None else f"{self.upper:g}]"
        return f"{lo}, {hi}"

    def check(self, values: pd.Series, column: str, path: Path) -> pd.Series:
        """Reject impossible values (naming the line); return True where a kept value lies
        outside the quantity's own range.

        >>> Limits(0.0, 1.0, slack=0.5).check(pd.Series([0.2, -0.1]), "x", Path("f")).tolist()
        [False, True]
        """
        if self.slack == 0:
            check_limits(values, column, path, lower=self.lower, upper=self.upper)
        else:
            self._check_with_slack(values, column, path)
        outside = pd.Series(False, index=values.index)
        if self.lower is not None:
            outside |= values < self.lower
        if self.upper is not None:
            outside |= values > self.upper
        return outside

    def _check_with_slack(self, values: pd.Series, column: str, path: Path) -> None:
        low = -math.inf if self.lower is None else self.lower - self.slack
        high = math.inf if self.upper is None else self.upper + self.slack
        bad = (values < low) | (values > high)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(
                path,
                f"{values.iloc[i]:g} is impossible for {self.what}: estimates of it may stray "
                f"outside {self.describe()} by noise, but not by more than {self.slack:g}",
                fix=f"check that the file is the publisher's original and the column's units "
                f"(it should hold {self.what})",
                row=line_of(i),
                column=column,
            )


#: Atlas predictions of a fraction (household income rank kfr, incarceration rate jail).
SHARE_PREDICTION = Limits(0.0, 1.0, slack=0.5, what="a rank or rate between 0 and 1")
#: Atlas predictions of an individual income rank written on a 0–100 scale (tract_collapse).
RANK100_PREDICTION = Limits(0.0, 100.0, slack=50.0, what="a percentile rank between 0 and 100")
COUNT = Limits(0.0, what="a count")
DOLLARS = Limits(0.0, what="an amount in dollars")
SHARE = Limits(0.0, 1.0, what="a share between 0 and 1")

#: Metrics of the county and tract outcome files, with their possible values.
ATLAS_LIMITS: dict[str, Limits] = {
    "kfr_p25": SHARE_PREDICTION,
    "jail_p25": SHARE_PREDICTION,
    "atlas_count": COUNT,
    "kir_p25": RANK100_PREDICTION,
    "kid_count": COUNT,
}

#: The web tool's dollar value for the top of its rank scale is 1,062,314; it gives it to
#: tracts whose predicted rank is at or beyond the top (two tracts, both retirement
#: communities). No other tract exceeds 105,732. Values at or above this are clipped.
DOLLARS_CLIPPED_AT = 1_000_000.0


@dataclass(frozen=True)
class ColumnRule:
    """A family of file columns: a regular expression with named groups, the metric id made
    from the groups, and whether the columns hold estimates or their standard errors.

    Groups ``race`` and ``gender`` give the subgroup (missing ones count as pooled).

    >>> ColumnRule(r"(?P<outcome>[a-z]+)_(?P<race>pooled)_p25", "{outcome}_p25").match("kir_pooled_p25")
    ('kir_p25', {'outcome': 'kir', 'race': 'pooled'})
    """

    pattern: str
    metric: str
    role: str = "estimate"

    def match(self, column: str) -> tuple[str, dict[str, str]] | None:
        """The metric id and the groups of a column this rule reads, or None.

        >>> ColumnRule(r"(?P<race>white)_count", "atlas_count").match("kfr") is None
        True
        """
        found = re.fullmatch(self.pattern, column)
        if not found:
            return None
        groups = found.groupdict()
        return self.metric.format(**groups), groups


@dataclass(frozen=True)
class Measure:
    """One metric and subgroup of a wide file: the column of its estimates and of their SEs.

    >>> plan_columns(["state", "county", "kfr_pooled_pooled_p25", "kfr_pooled_pooled_p25_se"],
    ...              ("state", "county"), COUNTY_RULES, ATLAS_LIMITS, Path("f.csv"))
    [Measure(metric_id='kfr_p25', subgroup_type='all', subgroup='all', estimate='kfr_pooled_pooled_p25', se='kfr_pooled_pooled_p25_se')]
    """

    metric_id: str
    subgroup_type: str
    subgroup: str
    estimate: str
    se: str | None = None


_R = "|".join(RACES)
_G = "|".join(GENDERS)

#: ``county_outcomes_simple.csv`` (and the Atlas's other ``{outcome}_{race}_{gender}_{stat}``
#: files): a metric is ``{outcome}_{stat}``; only the metrics in ``ATLAS_LIMITS`` are read.
COUNTY_RULES: tuple[ColumnRule, ...] = (
    ColumnRule(rf"(?P<outcome>[a-z]+)_(?P<race>{_R})_(?P<gender>{_G})_(?P<stat>p\d+)_se",
               "{outcome}_{stat}", "se"),
    ColumnRule(rf"(?P<outcome>[a-z]+)_(?P<race>{_R})_(?P<gender>{_G})_(?P<stat>p\d+)",
               "{outcome}_{stat}"),
    ColumnRule(rf"(?P<race>{_R})_(?P<gender>{_G})_count", "atlas_count"),
)

COUNTY_NAMING = (
    "columns are kfr_{race}_{gender}_p25 and jail_{race}_{gender}_p25, each with _se, and "
    f"{{race}}_{{gender}}_count; race is one of {', '.join(RACES)}; gender one of "
    f"{', '.join(GENDERS)}"
)

#: ``tract_collapse.csv``: ``kir_{race}_p25`` (0–100 scale) and ``kid_{race}_n``.
TRACT_RULES: tuple[ColumnRule, ...] = (
    ColumnRule(rf"(?P<outcome>[a-z]+)_(?P<race>{_R})_(?P<stat>p\d+)_se", "{outcome}_{stat}", "se"),
    ColumnRule(rf"(?P<outcome>[a-z]+)_(?P<race>{_R})_(?P<stat>p\d+)", "{outcome}_{stat}"),
    ColumnRule(rf"kid_(?P<race>{_R})_n", "kid_count"),
)

TRACT_NAMING = (
    f"columns are kir_{{race}}_p25 and kid_{{race}}_n; race is one of {', '.join(RACES)}"
)

#: ``tract_covariates.csv``: the covariates read, with their period and possible values.
COVARIATES: dict[str, tuple[str, Limits]] = {
    "hhinc_mean2000": ("2000", DOLLARS),
}


def subgroup_of(race: str = "pooled", gender: str = "pooled") -> tuple[str, str]:
    """The canonical (subgroup_type, subgroup) of an Atlas race and gender.

    >>> subgroup_of(), subgroup_of("hisp")
    (('all', 'all'), ('race', 'hisp'))
    """
    if race == "pooled" and gender == "pooled":
        return "all", "all"
    if gender == "pooled":
        return "race", race
    if race == "pooled":
        return "gender", gender
    return "race_gender", f"{race}_{gender}"


def plan_columns(
    columns: Iterable[str],
    ids: Iterable[str],
    rules: Sequence[ColumnRule],
    limits: Mapping[str, Limits],
    path: Path,
    *,
    naming: str = "",
) -> list[Measure]:
    """Sort a wide file's columns into measures; a column that is neither an id nor read by a
    rule (for a metric declared in ``limits``) is an error naming it. ``naming`` describes the
    expected column names for the message.

    >>> [m.subgroup for m in plan_columns(["state", "kir_black_p25"], ["state"], TRACT_RULES,
    ...                                   ATLAS_LIMITS, Path("f"))]
    ['black']
    """
    id_set = set(ids)
    slots: dict[tuple[str, str, str], dict[str, str]] = {}
    unknown: list[str] = []
    undeclared: dict[str, str] = {}
    for column in columns:
        if column in id_set:
            continue
        for rule in rules:
            matched = rule.match(column)
            if matched and matched[0] not in limits:
                undeclared.setdefault(column, matched[0])
            if matched and matched[0] in limits:
                metric_id, groups = matched
                key = (metric_id, *subgroup_of(groups.get("race", "pooled"),
                                               groups.get("gender", "pooled")))
                slot = slots.setdefault(key, {})
                if rule.role in slot:
                    raise InputFileError(
                        path,
                        f"columns {slot[rule.role]!r} and {column!r} both hold the {rule.role} "
                        f"of {metric_id} for {key[1]}={key[2]}",
                        fix="keep one of them",
                        row=1,
                        column=column,
                    )
                slot[rule.role] = column
                break
        else:
            unknown.append(column)
    if unknown:
        first = unknown[0]
        what = (f"holds {undeclared[first]}, a metric this connector does not read"
                if first in undeclared else "is not a column this connector knows")
        more = ""
        if len(unknown) > 1:
            listed = ", ".join(map(repr, unknown[:5])) + (" …" if len(unknown) > 5 else "")
            more = f" ({len(unknown)} such columns: {listed})"
        raise InputFileError(
            path,
            f"column {first!r} {what}{more}",
            fix="use the publisher's original file; a renamed column must get its published "
            "name back" + (f" ({naming})" if naming else ""),
            row=1,
            column=first,
        )
    measures = []
    for (metric_id, subgroup_type, subgroup), slot in slots.items():
        if "estimate" not in slot:
            raise InputFileError(
                path,
                f"column {slot['se']!r} holds standard errors, but the file has no column with "
                "the estimates they belong to",
                fix="restore the estimate column, or use the publisher's original file",
                row=1,
                column=slot["se"],
            )
        measures.append(Measure(metric_id, subgroup_type, subgroup, slot["estimate"], slot.get("se")))
    if not measures:
        raise InputFileError(path, "the file has no metric columns",
                             fix="use the publisher's original file", row=1)
    return measures


def long_observations(
    frame: pd.DataFrame,
    measures: Sequence[Measure],
    limits: Mapping[str, Limits],
    path: Path,
    *,
    geo_ids: pd.Series,
    level: str,
    period: str | Mapping[str, str],
    source_id: str,
    notes: list[str],
) -> pd.DataFrame:
    """Long canonical observations of a wide file's measures (rows without an estimate are
    left out); an estimate outside its quantity's range gets quality 3 and a note.

    ``period`` is one label, or a mapping from metric id to label.

    >>> df = pd.DataFrame({"kid_pooled_n": ["5", ""]})
    >>> m = [Measure("kid_count", "all", "all", "kid_pooled_n")]
    >>> long_observations(df, m, ATLAS_LIMITS, Path("f"), geo_ids=pd.Series(["01001", "01003"]),
    ...                   level="county", period="p", source_id="s", notes=[]).estimate.tolist()
    [5.0]
    """
    flagged_by_metric: dict[str, list[int]] = {}
    # The long table is gathered once at the end: per measure only the positions of the rows
    # with an estimate and their numbers are kept (no frame, no gather per measure).
    positions, labels, counts = [], [], []
    estimates, ses, weak = [], [], []
    for measure in measures:
        limit = limits[measure.metric_id]
        estimate = numeric(frame, measure.estimate, path, what=limit.what)
        outside = limit.check(estimate, measure.estimate, path)
        if measure.se:
            se = numeric(frame, measure.se, path, lower=0.0, what="a standard error")
        else:
            se = pd.Series(np.nan, index=frame.index)
        flagged = outside & estimate.notna()
        if flagged.any():
            flagged_by_metric.setdefault(measure.metric_id, []).append(int(flagged.sum()))
        period_of = period if isinstance(period, str) else period[measure.metric_id]
        keep = np.flatnonzero(estimate.notna().to_numpy())
        positions.append(keep)
        labels.append((measure.metric_id, period_of, measure.subgroup_type, measure.subgroup))
        counts.append(len(keep))
        estimates.append(estimate.to_numpy(dtype=float)[keep])
        ses.append(se.to_numpy(dtype=float)[keep])
        weak.append(flagged.to_numpy(dtype=bool)[keep])
    for metric_id, flagged_counts in flagged_by_metric.items():
        notes.append(
            f"{path.name}: {sum(flagged_counts):,} {metric_id} estimate(s) in "
            f"{len(flagged_counts)} column(s) lie outside {limits[metric_id].describe()} (the "
            "publisher's estimates are noisy predictions); kept with quality 3"
        )
    if not measures:
        return empty("observations")
    rows = np.concatenate(positions)
    estimate_all, se_all = np.concatenate(estimates), np.concatenate(ses)
    # text columns gathered by Arrow from a label per measure (no Python string per row)
    codes = np.repeat(np.arange(len(labels)), counts)
    metric_ids, periods, subgroup_types, subgroups = (list(c) for c in zip(*labels, strict=True))
    flagged_all = np.concatenate(weak)
    return pd.DataFrame(
        {
            "geo_id": geo_ids.iloc[rows].reset_index(drop=True),
            "geo_level": repeated_text(level, len(rows)),
            "metric_id": coded_text(metric_ids, codes),
            "period": coded_text(periods, codes),
            "subgroup_type": coded_text(subgroup_types, codes),
            "subgroup": coded_text(subgroups, codes),
            "estimate": estimate_all,
            "lb": estimate_all - Z95 * se_all,
            "ub": estimate_all + Z95 * se_all,
            "se": se_all,
            "quality": pd.arrays.IntegerArray(np.where(flagged_all, 3, 0).astype(np.int8),
                                              ~flagged_all),
            "bounds": coded_text(["ci95", "none"], np.isnan(se_all).astype(np.int64)),
            "source_id": repeated_text(source_id, len(rows)),
        }
    )


def optional_codes(
    frame: pd.DataFrame, column: str, build: Callable[[str], str], path: Path
) -> pd.Series:
    """A column of geography codes where blanks (NA tokens) stay missing; a code ``build``
    cannot read is an error naming its line.

    >>> optional_codes(pd.DataFrame({"cz": ["100", ""]}), "cz", cz_geoid, Path("f")).tolist()
    ['00100', None]
    """
    raw = frame[column].astype(str).str.strip()
    blank = raw.isin({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "."})
    # each distinct code is read once, in file order (so an error names its first line)
    distinct = raw[~blank].drop_duplicates()
    mapping: dict[str, str] = {}
    for position, value in zip(distinct.index, distinct.to_numpy(), strict=True):
        try:
            mapping[value] = build(value)
        except GeoidError as exc:
            raise InputFileError(
                path,
                f"cannot read a geography code: {exc}",
                fix="write the code as digits, or leave the cell empty where it is unknown",
                row=line_of(frame.index.get_loc(position)),
                column=column,
            ) from None
    out = raw.map(mapping)
    return out.astype(object).where(~blank, None)


def cz_geoid(code: object) -> str:
    """A commuting-zone code (1990 definitions, up to 5 digits) as a zero-padded GEOID.

    >>> cz_geoid(100), cz_geoid("39400")
    ('00100', '39400')
    """
    return compose_geoid(code, widths=(5,))


def county_cz_tables(
    frame: pd.DataFrame,
    county_ids: pd.Series,
    path: Path,
    source_id: str,
    *,
    cz_column: str = "cz",
    name_column: str | None = "czname",
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """County→commuting-zone crosswalk rows (weight 1, ``membership``, 1990 zones) and the
    commuting zones as geographies, from a file with a cz code (and name) per county.

    Returns (crosswalks, geographies, counties without a zone). Two rows that give one zone
    different names are an error.

    >>> df = pd.DataFrame({"cz": ["100", ""], "czname": ["Johnson City", ""]})
    >>> xw, geos, missing = county_cz_tables(df, pd.Series(["47019", "72001"]), Path("f"), "s")
    >>> xw.to_geo_id.tolist(), geos.name.tolist(), missing
    (['00100'], ['Johnson City'], 1)
    """
    cz = optional_codes(frame, cz_column, cz_geoid, path)
    has = cz.notna().to_numpy()
    if name_column and name_column in frame.columns:
        names = frame[name_column].astype(str).str.strip()
        names = names.where(names != "", None)
    else:
        names = pd.Series(None, index=frame.index, dtype=object)
    named = pd.DataFrame({"cz": cz, "name": names})[has & names.notna().to_numpy()]
    conflicting = named.groupby("cz")["name"].transform("nunique") > 1
    if conflicting.any():
        label = named.index[int(np.flatnonzero(conflicting.to_numpy())[0])]
        position = frame.index.get_loc(label)
        code = named.loc[label, "cz"]
        others = sorted(named.loc[named.cz == code, "name"].unique())
        raise InputFileError(
            path,
            f"commuting zone {code} has different names in different rows ({', '.join(others)})",
            fix="give each commuting zone one name",
            row=line_of(position),
            column=name_column,
        )
    crosswalks = pd.DataFrame(
        {
            "from_geo_id": county_ids.to_numpy()[has],
            "to_geo_id": cz.to_numpy()[has],
            "weight": 1.0,
            "weight_kind": "membership",
            "vintage": CZ_VINTAGE,
            "source_id": source_id,
        }
    )
    zones = pd.DataFrame({"geo_id": cz.to_numpy()[has], "name": names.to_numpy()[has]})
    zones = zones.sort_values("name", na_position="last").drop_duplicates("geo_id")
    zones = zones.sort_values("geo_id")
    geographies = pd.DataFrame(
        {
            "geo_id": zones["geo_id"].to_numpy(),
            "geo_level": "cz",
            "name": zones["name"].to_numpy(),
            "state_fips": None,
            "parent_geo_id": None,
            "population": np.nan,
            "vintage": CZ_VINTAGE,
            "source_id": source_id,
        }
    )
    return crosswalks, geographies, int((~has).sum())


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _repaired(frame: pd.DataFrame, column: str, ids: pd.Series) -> int:
    return int((frame[column].astype(str).str.strip() != ids).sum())


def read_county_outcomes(path: Path, source_id: str) -> Tables:
    """Read ``county_outcomes_simple.csv``: kfr and jail at p25 with SEs, and counts, by
    county, race and gender; county→cz crosswalk rows and the commuting zones.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "county_outcomes_simple.csv"
    >>> _ = path.write_text("state,county,cz,czname,kfr_pooled_pooled_p25,kfr_pooled_pooled_p25_se,"
    ...                     "pooled_pooled_count\\n40,143,35400,Tulsa,0.41,0.004,51234\\n")
    >>> t = read_county_outcomes(path, "atlas/test")
    >>> t.observations[["geo_id", "metric_id", "estimate", "se"]].values.tolist()
    [['40143', 'kfr_p25', 0.41, 0.004], ['40143', 'atlas_count', 51234.0, nan]]
    >>> t.crosswalks[["from_geo_id", "to_geo_id"]].values.tolist()
    [['40143', '35400']]
    """
    frame = read_delimited(path, required=["state", "county"])
    measures = plan_columns(frame.columns, ("state", "county", "cz", "czname"), COUNTY_RULES,
                            ATLAS_LIMITS, path, naming=COUNTY_NAMING)
    county_ids = composed_geoids(frame, ["state", "county"], (2, 3), path)
    check_unique(frame.assign(geo_id=county_ids), ["geo_id"], path)
    notes: list[str] = []
    observations = long_observations(
        frame, measures, ATLAS_LIMITS, path, geo_ids=county_ids, level="county",
        period=COHORTS, source_id=source_id, notes=notes,
    )
    tables = Tables(observations=conform_file("observations", observations, path), notes=notes)
    if "cz" in frame.columns:
        crosswalks, zones, missing = county_cz_tables(frame, county_ids, path, source_id)
        tables.crosswalks = conform_file("crosswalks", crosswalks, path)
        tables.geographies = conform_file("geographies", zones, path)
        if missing:
            notes.append(f"{path.name}: {missing} county row(s) have no commuting zone; "
                         "they get no crosswalk row")
    return tables


def _tract_geographies(tract_ids: pd.Series, names: pd.Series | None, source_id: str) -> pd.DataFrame:
    if names is None:
        clean = pd.Series(None, index=tract_ids.index, dtype=object)
    else:
        clean = names.astype(str).str.strip()
        clean = clean.where(clean != "", None)
    return pd.DataFrame(
        {
            "geo_id": tract_ids,
            "geo_level": "tract",
            "name": clean,
            "state_fips": tract_ids.str[:2],
            "parent_geo_id": tract_ids.str[:5],
            "population": np.nan,
            "vintage": TRACT_VINTAGE,
            "source_id": source_id,
        }
    )


def read_web_tool_tracts(
    path: Path,
    source_id: str,
    *,
    column: str,
    metric_id: str,
    limits: Limits,
    clipped_at: tuple[float, float],
) -> Tables:
    """Read an Opportunity Atlas web-tool download (tract, Name, one value column).

    The tract GEOID is a number that lost its leading zero (repaired to 11 digits); Name
    ("Neighborhood, City, ST", sometimes shorter or blank) becomes the tract's name. Values at
    or beyond ``clipped_at`` (the ends of the tool's scale) are kept with quality 3.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tract_share.csv"
    >>> _ = path.write_text('tract,Name,share\\n1001020100,"Prattville, AL",0.12\\n')
    >>> t = read_web_tool_tracts(path, "atlas/test", column="share", metric_id="x_share",
    ...                          limits=SHARE, clipped_at=(0.0, 1.0))
    >>> t.observations[["geo_id", "metric_id", "estimate"]].values.tolist()
    [['01001020100', 'x_share', 0.12]]
    >>> t.geographies[["geo_id", "name"]].values.tolist(), t.notes
    ([['01001020100', 'Prattville, AL']], ['tract_share.csv: 1 tract code(s) had lost their leading zero; repaired'])
    """
    frame = read_delimited(path, required=["tract", "Name", column])
    tract_ids = geoids(frame, "tract", "tract", path)
    check_unique(frame.assign(geo_id=tract_ids), ["geo_id"], path)
    notes: list[str] = []
    repaired = _repaired(frame, "tract", tract_ids)
    if repaired:
        notes.append(f"{path.name}: {repaired:,} tract code(s) had lost their leading zero; "
                     "repaired")
    measure = Measure(metric_id, "all", "all", column)
    observations = long_observations(
        frame, [measure], {metric_id: limits}, path, geo_ids=tract_ids, level="tract",
        period=COHORTS, source_id=source_id, notes=notes,
    )
    low, high = clipped_at
    at_end = (observations["estimate"] <= low) | (observations["estimate"] >= high)
    if at_end.any():
        observations["quality"] = observations["quality"].mask(at_end, 3)
        notes.append(
            f"{path.name}: {int(at_end.sum())} value(s) sit at the ends of the web tool's scale "
            f"(≤ {_number(low)} or ≥ {_number(high)}): the tool clips predictions there; kept "
            "with quality 3"
        )
    return Tables(
        observations=conform_file("observations", observations, path),
        geographies=conform_file("geographies", _tract_geographies(tract_ids, frame["Name"],
                                                                   source_id), path),
        notes=notes,
    )


def read_kfr_dollars(path: Path, source_id: str) -> Tables:
    """Read ``tract_kfr_rP_gP_p25.csv``: household income at 35 (dollars), parents at p25.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tract_kfr_rP_gP_p25.csv"
    >>> _ = path.write_text('tract,Name,Household_Income_at_Age_35_rP_gP_p25\\n'
    ...                     '1001020100,"Prattville, AL",31000\\n'
    ...                     '48121021524,"Heritage Lakes, Frisco, TX",1062314\\n')
    >>> t = read_kfr_dollars(path, "atlas/test")
    >>> t.observations[["geo_id", "metric_id", "estimate"]].values.tolist()
    [['01001020100', 'kfr_dollars_p25', 31000.0], ['48121021524', 'kfr_dollars_p25', 1062314.0]]
    >>> t.observations["quality"].tolist()  # the top of the tool's scale is flagged
    [<NA>, 3]
    """
    return read_web_tool_tracts(
        path, source_id, column="Household_Income_at_Age_35_rP_gP_p25",
        metric_id="kfr_dollars_p25", limits=DOLLARS, clipped_at=(0.0, DOLLARS_CLIPPED_AT),
    )


def read_kfr_top20(path: Path, source_id: str) -> Tables:
    """Read ``tract_kfr_top20_rP_gP_p25.csv``: share reaching the top fifth of household income.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tract_kfr_top20_rP_gP_p25.csv"
    >>> _ = path.write_text('tract,Name,Frac._in_Top_20%_Based_on_Household_Income_rP_gP_p25\\n'
    ...                     '1001020100,"Prattville, AL",0.12\\n')
    >>> read_kfr_top20(path, "atlas/test").observations[["geo_id", "metric_id", "estimate"]].values.tolist()
    [['01001020100', 'kfr_top20_p25', 0.12]]
    """
    return read_web_tool_tracts(
        path, source_id, column="Frac._in_Top_20%_Based_on_Household_Income_rP_gP_p25",
        metric_id="kfr_top20_p25", limits=SHARE, clipped_at=(0.0, 1.0),
    )


def _tract_ids(frame: pd.DataFrame, path: Path) -> pd.Series:
    tract_ids = composed_geoids(frame, ["state", "county", "tract"], (2, 3, 6), path)
    check_unique(frame.assign(geo_id=tract_ids), ["geo_id"], path)
    return tract_ids


def read_tract_outcomes(path: Path, source_id: str) -> Tables:
    """Read ``tract_collapse.csv``: kir at p25 (0–100 scale) and child counts by race.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tract_collapse.csv"
    >>> _ = path.write_text("state,county,tract,kir_pooled_p25,kid_pooled_n\\n1,1,20100,36.4,519\\n")
    >>> read_tract_outcomes(path, "atlas/test").observations[["geo_id", "metric_id", "estimate"]].values.tolist()
    [['01001020100', 'kir_p25', 36.4], ['01001020100', 'kid_count', 519.0]]
    """
    frame = read_delimited(path, required=["state", "county", "tract"])
    measures = plan_columns(frame.columns, ("state", "county", "tract", "cz", "czname"),
                            TRACT_RULES, ATLAS_LIMITS, path, naming=TRACT_NAMING)
    tract_ids = _tract_ids(frame, path)
    notes: list[str] = []
    observations = long_observations(
        frame, measures, ATLAS_LIMITS, path, geo_ids=tract_ids, level="tract", period=COHORTS,
        source_id=source_id, notes=notes,
    )
    return Tables(observations=conform_file("observations", observations, path), notes=notes)


def read_tract_covariates(path: Path, source_id: str) -> Tables:
    """Read ``tract_covariates.csv``: the covariates declared in ``COVARIATES``; other columns
    of the publisher's full file are left out (listed in the notes).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tract_covariates.csv"
    >>> _ = path.write_text("tract,county,state,hhinc_mean2000,poor_share1990\\n20100,1,1,68638.7,0.1\\n")
    >>> t = read_tract_covariates(path, "atlas/test")
    >>> t.observations[["geo_id", "metric_id", "period", "estimate"]].values.tolist()
    [['01001020100', 'hhinc_mean2000', '2000', 68638.7]]
    >>> t.notes
    ['tract_covariates.csv: 1 column(s) not read: poor_share1990']
    """
    frame = read_delimited(path, required=["state", "county", "tract"],
                           any_of=[tuple(COVARIATES)])
    tract_ids = _tract_ids(frame, path)
    present = [c for c in COVARIATES if c in frame.columns]
    notes: list[str] = []
    skipped = [c for c in frame.columns if c not in {"state", "county", "tract", *present}]
    if skipped:
        notes.append(f"{path.name}: {len(skipped)} column(s) not read: {', '.join(skipped)}")
    measures = [Measure(c, "all", "all", c) for c in present]
    observations = long_observations(
        frame, measures, {c: COVARIATES[c][1] for c in present}, path, geo_ids=tract_ids,
        level="tract", period={c: COVARIATES[c][0] for c in present}, source_id=source_id,
        notes=notes,
    )
    return Tables(observations=conform_file("observations", observations, path), notes=notes)


COUNTY_OUTCOMES = register(
    Dataset(
        key="atlas.county_outcomes",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Opportunity Atlas county outcomes, parents at the 25th percentile (kfr, jail)",
        url=_CENSUS + "county_outcomes_simple.csv",
        local_names=("opportunity-insights/county_outcomes_simple.csv", "county_outcomes_simple.csv"),
        license=LICENSE,
        reader=read_county_outcomes,
        kind=Kind.COUNTY_OUTCOMES,
        label="Opportunity Atlas, county outcomes",
        release="2018",
        notes="Also published at " + _OI + "2018/10/county_outcomes_simple.csv. The copy in "
        "../shared/data (via vemmos/Social-Capital-Paper-Replication-) is the whole file, 3,219 "
        "counties, with LF line ends. Counts are children with parents below the national "
        "median; jail_p25 estimates can be slightly negative (kept, quality 3).",
    )
)
TRACT_KFR_DOLLARS = register(
    Dataset(
        key="atlas.tract_kfr_dollars",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Opportunity Atlas web tool: household income at 35 (dollars), tracts, parents at p25",
        url=_WEB_TOOL_COPY + "9fa8a50f6add4f56b5317635023c7c92978421ea/tract_kfr_rP_gP_p25.csv",
        local_names=("opportunity-insights/tract_kfr_rP_gP_p25.csv", "tract_kfr_rP_gP_p25.csv"),
        license=LICENSE,
        reader=read_kfr_dollars,
        kind=Kind.TRACT_OUTCOMES,
        label="Opportunity Atlas, tract household income at 35",
        release="2018",
        notes="A download from the Opportunity Atlas web tool (https://www.opportunityatlas.org, "
        "'Household Income at Age 35', all races and genders, parents at the 25th percentile), "
        "which has no fixed publisher address; the URL is a third-party copy "
        "(pspauster/zoning-restrictiveness-citylab). The official tract file in ranks is "
        + _CENSUS + "tract_outcomes_simple.csv. Values at the ends of the tool's scale ($0, "
        "$1,062,314) are clipped predictions, kept with quality 3.",
    )
)
TRACT_KFR_TOP20 = register(
    Dataset(
        key="atlas.tract_kfr_top20",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Opportunity Atlas web tool: share reaching the top 20% of household income, tracts",
        url=_WEB_TOOL_COPY
        + "ef186afca82112c6738bc2d497b9dd7a4f8e23bd/tract_kfr_top20_rP_gP_p25.csv",
        local_names=("opportunity-insights/tract_kfr_top20_rP_gP_p25.csv",
                     "tract_kfr_top20_rP_gP_p25.csv"),
        license=LICENSE,
        reader=read_kfr_top20,
        kind=Kind.TRACT_OUTCOMES,
        label="Opportunity Atlas, tract chance of reaching the top 20%",
        release="2018",
        notes="A download from the Opportunity Atlas web tool (https://www.opportunityatlas.org, "
        "'Fraction in Top 20% Based on Household Income'), which has no fixed publisher address; "
        "the URL is a third-party copy (pspauster/zoning-restrictiveness-citylab). Shares of "
        "exactly 0 or 1 are clipped predictions, kept with quality 3.",
    )
)
TRACT_OUTCOMES = register(
    Dataset(
        key="atlas.tract_outcomes",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Opportunity Atlas tract outcomes: individual income rank (0–100) at p25 by race",
        url=_EXERCISE_COPY + "tract_collapse.csv",
        local_names=("opportunity-insights/tract_collapse.csv", "tract_collapse.csv"),
        license=LICENSE,
        reader=read_tract_outcomes,
        kind=Kind.TRACT_OUTCOMES,
        label="Opportunity Atlas, tract outcomes",
        release="2018",
        notes="Third-party extract (bendnorman/economic-opportunity, an Opportunity Insights data "
        "exercise) of the Atlas tract outcomes, whose official files are "
        + _CENSUS + "tract_outcomes_simple.csv and " + _CENSUS + "tract_outcomes.zip; here kir "
        "is on a 0–100 scale, races pooled/white/black, genders pooled, 72,367 tracts.",
    )
)
TRACT_COVARIATES = register(
    Dataset(
        key="atlas.tract_covariates",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Opportunity Atlas tract covariates: mean household income in 2000",
        url=_OI + "2018/10/tract_covariates.csv",
        local_names=("opportunity-insights/tract_covariates.csv", "tract_covariates.csv"),
        license=LICENSE,
        reader=read_tract_covariates,
        kind=Kind.TRACT_COVARIATES,
        label="Opportunity Atlas, tract covariates",
        release="2018",
        notes="The copy in ../shared/data (bendnorman/economic-opportunity) is a third-party "
        "subset of the official file: 4 of its columns (state, county, tract, hhinc_mean2000), "
        "72,367 tracts. Only hhinc_mean2000 is read from either.",
    )
)
