"""Opportunity Insights / Meta: Social Capital Atlas, by county and by ZIP code.

Measures built from the Facebook friendships of US users aged 25–44 in 2022 (released August
2022): economic connectedness ``ec`` (2 × the share of high-SES friends among low-SES people),
exposure, friending bias, cohesiveness (clustering, support ratio) and civic engagement
(volunteering rate, civic organisations). Columns are ``{metric}_{county|zip}``, with standard
errors ``{metric}_se_{county|zip}``; ``num_below_p50`` and ``pop2018`` have no suffix.

Codes are integers that lost their leading zeros (county 1001, ZIP 1001) and are repaired. A
column no rule recognises is an error naming it.

Examples
--------
>>> metric_of("child_high_ec_se_county", "county")
('child_high_ec', 'se')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from upward.geo.ids import repair_geoid
from upward.geo.states import STATES_BY_FIPS
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.opportunity_atlas import (
    COHORTS,
    COUNT,
    SHARE,
    ColumnRule,
    Limits,
    long_observations,
    optional_codes,
    plan_columns,
)
from upward.sources.readers import check_unique, conform_file, geoids, read_delimited

PUBLISHER = Publisher.SOCIAL_CAPITAL_ATLAS
LICENSE = "Social Capital Atlas data license (license.pdf on the HDX dataset page); cite Chetty et al. 2022, Nature 608"
SOURCE = "social-capital"

#: The period of the Facebook-based measures: the friendship data are from 2022.
PERIOD = "2022"

#: Columns with their own period: pop2018 is the 2018 population; num_below_p50 (children with
#: parents below the national median income) equals the Opportunity Atlas count for the
#: 1978–83 birth cohorts (identical to county_outcomes_simple.csv's pooled_pooled_count).
PERIODS = {"pop2018": "2018", "num_below_p50": COHORTS}

_HDX = "https://data.humdata.org/dataset/85ee8e10-0c66-4635-b997-79b6fad44c71/resource/"

_RATIO2 = Limits(0.0, 2.0, what="2 × a share (between 0 and 2)")
_BIAS = Limits(None, 1.0, what="a friending bias (1 − connectedness ÷ exposure, at most 1)")

#: Every metric the files carry, with its possible values.
METRICS: dict[str, Limits] = {
    **{m: _RATIO2 for m in (
        "ec", "child_ec", "ec_grp_mem", "ec_high", "child_high_ec", "ec_grp_mem_high",
        "exposure_grp_mem", "exposure_grp_mem_high", "child_exposure", "child_high_exposure",
        "nbhd_ec", "nbhd_ec_high", "nbhd_exposure",
    )},
    **{m: _BIAS for m in (
        "bias_grp_mem", "bias_grp_mem_high", "child_bias", "child_high_bias", "nbhd_bias",
        "nbhd_bias_high",
    )},
    "clustering": SHARE,
    "support_ratio": SHARE,
    "volunteering_rate": SHARE,
    # Civic organisations per 1,000 users: the ZIP file has 16 values down to −0.00106,
    # privacy noise around zero; kept with quality 3.
    "civic_organizations": Limits(0.0, None, slack=0.01, what="civic organisations per 1,000 users"),
    "num_below_p50": COUNT,
    "pop2018": COUNT,
}

#: The identifier columns of each file.
ID_COLUMNS = {"county": ("county", "county_name"), "zip": ("zip", "county")}


def rules_for(level: str) -> tuple[ColumnRule, ...]:
    """The column rules of the ``county`` or ``zip`` file (standard errors first).

    >>> [r.role for r in rules_for("zip")]
    ['estimate', 'se', 'estimate']
    """
    return (
        ColumnRule(r"(?P<metric>num_below_p50|pop2018)", "{metric}"),
        ColumnRule(rf"(?P<metric>[a-z0-9_]+?)_se_{level}", "{metric}", "se"),
        ColumnRule(rf"(?P<metric>[a-z0-9_]+)_{level}", "{metric}"),
    )


def metric_of(column: str, level: str) -> tuple[str, str] | None:
    """The metric a column holds and its role (``estimate`` or ``se``), or None.

    >>> metric_of("ec_zip", "zip"), metric_of("ec_zip", "county")
    (('ec', 'estimate'), None)
    """
    for rule in rules_for(level):
        matched = rule.match(column)
        if matched and matched[0] in METRICS:
            return matched[0], rule.role
    return None


def _read(path: Path, source_id: str, level: str) -> tuple[pd.DataFrame, pd.Series, Tables]:
    ids = ID_COLUMNS[level]
    frame = read_delimited(path, required=list(ids))
    naming = (f"columns are {{metric}}_{level} with standard errors {{metric}}_se_{level}, "
              "plus num_below_p50 and pop2018; metrics: "
              + ", ".join(m for m in METRICS if m not in PERIODS))
    measures = plan_columns(frame.columns, ids, rules_for(level), METRICS, path, naming=naming)
    geo_ids = geoids(frame, ids[0], level, path)
    check_unique(frame.assign(geo_id=geo_ids), ["geo_id"], path)
    notes: list[str] = []
    repaired = int((frame[ids[0]].astype(str).str.strip() != geo_ids).sum())
    if repaired:
        notes.append(f"{path.name}: {repaired:,} {level} code(s) had lost leading zeros; repaired")
    periods = {m.metric_id: PERIODS.get(m.metric_id, PERIOD) for m in measures}
    observations = long_observations(
        frame, measures, METRICS, path, geo_ids=geo_ids, level=level, period=periods,
        source_id=source_id, notes=notes,
    )
    tables = Tables(observations=conform_file("observations", observations, path), notes=notes)
    return frame, geo_ids, tables


def _population(tables: Tables, geo_ids: pd.Series) -> np.ndarray:
    obs = tables.observations
    pop = obs[obs.metric_id == "pop2018"].set_index("geo_id")["estimate"]
    return geo_ids.map(pop).astype("float64").to_numpy()


def read_county(path: Path, source_id: str) -> Tables:
    """Read ``social_capital_county.csv``: observations, and county geographies named as the
    file names them ("Autauga, Alabama") with population = pop2018, plus their states.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "social_capital_county.csv"
    >>> _ = path.write_text('county,county_name,pop2018,ec_county,ec_se_county\\n'
    ...                     '1001,"Autauga, Alabama",55200,.72077,.00831\\n')
    >>> t = read_county(path, "sca/test")
    >>> t.observations[["geo_id", "metric_id", "estimate", "se"]].values.tolist()
    [['01001', 'pop2018', 55200.0, nan], ['01001', 'ec', 0.72077, 0.00831]]
    >>> t.geographies[["geo_id", "geo_level", "name", "population"]].values.tolist()
    [['01001', 'county', 'Autauga, Alabama', 55200.0], ['01', 'state', 'Alabama', nan]]
    """
    frame, geo_ids, tables = _read(path, source_id, "county")
    names = frame["county_name"].astype(str).str.strip()
    state = geo_ids.str[:2]
    counties = pd.DataFrame(
        {
            "geo_id": geo_ids,
            "geo_level": "county",
            "name": names.where(names != "", None),
            "state_fips": state,
            "parent_geo_id": state,
            "population": _population(tables, geo_ids),
            "vintage": None,
            "source_id": source_id,
        }
    )
    codes = sorted(set(state))
    states = pd.DataFrame(
        {
            "geo_id": codes,
            "geo_level": "state",
            "name": [STATES_BY_FIPS[s].name if s in STATES_BY_FIPS else None for s in codes],
            "state_fips": codes,
            "parent_geo_id": None,
            "population": np.nan,
            "vintage": None,
            "source_id": source_id,
        }
    )
    tables.geographies = conform_file("geographies", pd.concat([counties, states],
                                                               ignore_index=True), path)
    return tables


def read_zip(path: Path, source_id: str) -> Tables:
    """Read ``social_capital_zip.csv``: observations, and ZIP geographies (2010 ZCTAs) whose
    parent is the county in the file's ``county`` column (blank for a few ZIPs).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "social_capital_zip.csv"
    >>> _ = path.write_text("zip,county,pop2018,ec_zip,ec_se_zip\\n1001,25013,17621,.88157,.02422\\n")
    >>> t = read_zip(path, "sca/test")
    >>> t.observations.query("metric_id == 'ec'")[["geo_id", "estimate", "se"]].values.tolist()
    [['01001', 0.88157, 0.02422]]
    >>> t.geographies[["geo_id", "geo_level", "parent_geo_id", "population"]].values.tolist()
    [['01001', 'zip', '25013', 17621.0]]
    """
    frame, geo_ids, tables = _read(path, source_id, "zip")
    county = optional_codes(frame, "county", lambda v: repair_geoid(v, "county"), path)
    if county.isna().any():
        missing = geo_ids[county.isna()].tolist()
        tables.notes.append(
            f"{path.name}: {len(missing)} ZIP(s) have no county ({', '.join(missing[:10])}); "
            "they get no parent"
        )
    zips = pd.DataFrame(
        {
            "geo_id": geo_ids,
            "geo_level": "zip",
            "name": None,
            "state_fips": county.str[:2],
            "parent_geo_id": county,
            "population": _population(tables, geo_ids),
            "vintage": "2010",
            "source_id": source_id,
        }
    )
    tables.geographies = conform_file("geographies", zips, path)
    return tables


SCA_COUNTY = register(
    Dataset(
        key="sca.county",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Social Capital Atlas, counties",
        url=_HDX + "ec896b64-c922-4737-b759-e4bd7f73b8cc/download/social_capital_county.csv",
        local_names=("opportunity-insights/social_capital_county.csv", "social_capital_county.csv"),
        license=LICENSE,
        reader=read_county,
        kind=Kind.COUNTY_OUTCOMES,
        label="Social Capital Atlas, counties",
        release="2022",
        notes="Humanitarian Data Exchange dataset 'social-capital-atlas' (https://data.humdata.org/"
        "dataset/social-capital-atlas); map at https://www.socialcapital.org. The copy in "
        "../shared/data (vemmos/Social-Capital-Paper-Replication-) is the whole file, 3,089 "
        "counties. Facebook-based measures are labelled 2022, pop2018 2018, num_below_p50 with "
        "the Atlas birth cohorts.",
    )
)
SCA_ZIP = register(
    Dataset(
        key="sca.zip",
        source=SOURCE,
        publisher=PUBLISHER,
        title="Social Capital Atlas, ZIP codes",
        url=_HDX + "ab878625-279b-4bef-a2b3-c132168d536e/download/social_capital_zip.csv",
        local_names=("opportunity-insights/social_capital_zip.csv", "social_capital_zip.csv"),
        license=LICENSE,
        reader=read_zip,
        kind=Kind.ZIP_OUTCOMES,
        label="Social Capital Atlas, ZIP codes",
        release="2022",
        notes="Humanitarian Data Exchange dataset 'social-capital-atlas'. ZIP codes are 2010 "
        "ZCTAs. The copy in ../shared/data (vemmos/Social-Capital-Paper-Replication-) is the "
        "whole file, 23,028 ZIPs; 3 have no county.",
    )
)
