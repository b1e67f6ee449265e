"""The metric catalog: loads, validates, covers every metric column of the real files."""

from __future__ import annotations

import csv
import doctest
import json
from pathlib import Path

import pytest

import upward.metrics.catalog as catalog_module
from upward.core.errors import MetricNotFoundError, UpwardError
from upward.metrics import (
    CatalogError,
    Metric,
    all_metrics,
    get_metric,
    metric_ids,
    parse_catalog,
)
from upward.metrics.catalog import DIRECTIONS, OI_PILLARS, PILLARS, UNITS, URBAN_PILLARS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _words(text: str) -> list[str]:
    return text.split()


URBAN_IDS = _words("""
share_in_preschool rate_learning meps20_black meps20_hispanic meps20_white share_hs_degree
share_digital_access pctl_income_20 pctl_income_50 pctl_income_80 share_debt_col
ratio_black_nh_house_value_households ratio_hispanic_house_value_households
ratio_other_nh_house_value_households ratio_white_nh_house_value_households count_homeless
share_homeless share_affordable_80_ami share_affordable_50_ami share_affordable_30_ami
share_affordable_available_80_ami share_affordable_available_50_ami
share_affordable_available_30_ami share_election_turnout share_desc_rep_other
share_desc_rep_black_nonhispanic share_desc_rep_hispanic share_desc_rep_white_nonhispanic
share_poverty_exposure share_black_nh_exposure share_hispanic_exposure share_other_nh_exposure
share_white_nh_exposure index_air_quality index_air_hazard ratio_high_low_ses_fb_friends
count_membership_associations_per_10k rate_juv_arrest rate_crime_violent rate_crime_property
share_employed ratio_population_pc_physician rate_low_birth_weight rate_injury_death
transportation_cost index_transit_trips share_transit_commuter share_transportation_cost
ratio_average_to_living_wage
""")
ATLAS_IDS = _words("""kfr_p25 jail_p25 atlas_count kfr_dollars_p25 kfr_top20_p25 kir_p25 kid_count
hhinc_mean2000 kir_national_mean""")
SCA_IDS = _words("""ec child_ec ec_grp_mem ec_high child_high_ec ec_grp_mem_high exposure_grp_mem
exposure_grp_mem_high child_exposure child_high_exposure bias_grp_mem bias_grp_mem_high
child_bias child_high_bias clustering support_ratio volunteering_rate civic_organizations
num_below_p50 pop2018 nbhd_ec nbhd_ec_high nbhd_exposure nbhd_bias nbhd_bias_high""")

#: File quirks the Urban connector renames to the catalog ids.
URBAN_RENAMES = {
    "share_debt_coll": "share_debt_col",
    "rate_violent_crime": "rate_crime_violent",
    "rate_property_crime": "rate_crime_property",
    "share_desc_rep_asian_other": "share_desc_rep_other",
}
#: Metrics Upward computes from ACS tables (recipes; issue #10).
ACS_IDS = ["acs_poverty_rate", "acs_child_poverty_rate", "acs_children_in_poverty",
           "acs_median_household_income", "acs_unemployment_rate", "acs_rent_burden",
           "acs_no_vehicle", "acs_broadband", "acs_bachelors_or_higher"]
# Metrics Upward computes from PUMS that no publisher file carries (issue #11).
PUMS_IDS = ["share_housing_cost_burden"]
URBAN_NON_METRIC = {"year", "state", "county", "place", "state_name", "county_name", "place_name",
                    "population", "subgroup_type", "subgroup"}

ENTRY = """[[metric]]
id = "{id}"
label = "X"
pillar = "Social Capital"
predictor = "Cohesiveness"
unit = "share"
direction = "higher"
definition = "d"
source = "s"
publisher = "Opportunity Insights"
citation = "c"
geo_levels = ["zip"]
"""


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def test_catalog_loads_with_every_requested_id() -> None:
    metrics = all_metrics()
    assert all(isinstance(m, Metric) for m in metrics)
    assert len(metrics) == len(metric_ids()) == 83 + len(ACS_IDS) + len(PUMS_IDS)
    assert set(URBAN_IDS + ATLAS_IDS + SCA_IDS + ACS_IDS + PUMS_IDS) == metric_ids()


def test_ids_unique_and_well_formed() -> None:
    ids = [m.id for m in all_metrics()]
    assert len(ids) == len(set(ids))
    assert all(catalog_module._ID.match(i) for i in ids)


def test_enumerated_fields_valid() -> None:
    for m in all_metrics():
        assert m.direction in DIRECTIONS, m.id
        assert m.unit in UNITS, m.id
        assert m.pillar in PILLARS[m.publisher], m.id
        assert (m.parity_value is not None) == (m.direction == "parity"), m.id
    assert {m.pillar for m in all_metrics() if m.publisher == "Urban Institute"} == URBAN_PILLARS
    assert {m.pillar for m in all_metrics() if m.publisher == "Opportunity Insights"} == OI_PILLARS


def test_publishers_and_citations() -> None:
    for i in URBAN_IDS:
        m = get_metric(i)
        assert m.publisher == "Urban Institute"
        assert m.citation.startswith("Urban Institute, Upward Mobility Framework metrics")
    for i in ATLAS_IDS:
        assert get_metric(i).citation.startswith("Chetty, Friedman, Hendren, Jones, Porter (2018)")
    for i in SCA_IDS:
        assert get_metric(i).citation == "Chetty et al. (2022), Social Capital I/II, Nature"


@pytest.mark.parametrize(("metric_id", "direction"), [
    ("share_debt_col", "lower"), ("meps20_black", "lower"), ("share_poverty_exposure", "lower"),
    ("rate_crime_violent", "lower"), ("ratio_population_pc_physician", "lower"),
    ("index_air_quality", "higher"), ("index_air_hazard", "higher"),
    ("transportation_cost", "higher"), ("share_transportation_cost", "lower"),
    ("ratio_white_nh_house_value_households", "parity"), ("share_desc_rep_hispanic", "context"),
    ("kfr_p25", "higher"), ("jail_p25", "lower"), ("atlas_count", "context"),
    ("ec", "higher"), ("bias_grp_mem", "lower"), ("exposure_grp_mem", "higher"),
    ("clustering", "higher"), ("support_ratio", "higher"), ("ec_high", "context"),
])
def test_directions_follow_definitions(metric_id: str, direction: str) -> None:
    assert get_metric(metric_id).direction == direction


def test_units_of_special_cases() -> None:
    assert get_metric("kir_p25").unit == "percentile rank"
    assert get_metric("kfr_p25").unit == "rank"
    assert get_metric("rate_learning").unit == "grade levels per year"
    assert get_metric("count_membership_associations_per_10k").unit == "per 10,000"
    assert get_metric("ratio_black_nh_house_value_households").parity_value == 1.0


def test_recent_periods_of_the_urban_connector_name_declared_metrics() -> None:
    from upward.sources.urban import RECENT_PERIODS

    ids = metric_ids()
    for level, periods in RECENT_PERIODS.items():
        assert set(periods) <= ids, level
        assert all(len(v) == 4 and v.isdigit() for v in periods.values())
    assert RECENT_PERIODS["place"]["count_homeless"] == "2019"
    assert RECENT_PERIODS["county"]["share_debt_col"] == "2022"
    assert "share_affordable_available_30_ami" not in RECENT_PERIODS["place"]


@pytest.mark.realdata
@pytest.mark.skipif(not (DATA / "urban").is_dir(), reason="../shared/data/urban is absent")
def test_every_urban_metric_column_is_declared() -> None:
    ids = metric_ids()
    seen: set[str] = set()
    for path in sorted((DATA / "urban").glob("*.csv")):
        for col in _header(path):
            metric_id = URBAN_RENAMES.get(col, col)
            if col in URBAN_NON_METRIC or (metric_id not in ids
                                           and col.endswith(("_quality", "_lb", "_ub"))):
                continue
            assert metric_id in ids, f"{path.name}: column {col!r} is not declared"
            seen.add(metric_id)
    assert seen == set(URBAN_IDS)
    for i in seen:
        levels = get_metric(i).geo_levels
        assert "place" in levels or "county" in levels, i


@pytest.mark.realdata
@pytest.mark.skipif(not (DATA / "opportunity-insights").is_dir(),
                    reason="../shared/data/opportunity-insights is absent")
def test_every_social_capital_column_is_declared() -> None:
    for name, suffix, level in (("social_capital_county.csv", "_county", "county"),
                                ("social_capital_zip.csv", "_zip", "zip")):
        for col in _header(DATA / "opportunity-insights" / name):
            if col in {"county", "zip", "county_name"} or col.endswith("_se" + suffix):
                continue
            metric_id = col.removesuffix(suffix)
            assert metric_id in metric_ids(), f"{name}: column {col!r} is not declared"
            assert level in get_metric(metric_id).geo_levels, (name, metric_id)


def test_get_metric_suggests_near_ids() -> None:
    with pytest.raises(MetricNotFoundError) as info:
        get_metric("share_debt_coll")
    err = info.value
    assert isinstance(err, UpwardError)
    assert "share_debt_coll" in err.message
    assert err.fix is not None and "share_debt_col" in err.fix
    with pytest.raises(MetricNotFoundError, match="metric_ids"):
        get_metric("zzzz")


def test_to_dict_is_json_ready() -> None:
    d = get_metric("ec").to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["geo_levels"] == ["county", "zip"]
    assert set(d) == set(Metric.__dataclass_fields__)


def test_metric_is_frozen() -> None:
    with pytest.raises(AttributeError):
        get_metric("ec").label = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(("text", "key"), [
    (ENTRY.format(id="Bad-Id"), "id"),
    (ENTRY.format(id="x").replace('"share"', '"furlongs"'), "unit"),
    (ENTRY.format(id="x").replace('"Social Capital"', '"Rewarding Work"'), "pillar"),
    (ENTRY.format(id="x").replace('["zip"]', '["moon"]'), "geo_levels"),
    (ENTRY.format(id="x").replace('"higher"', '"parity"'), "parity_value"),
    (ENTRY.format(id="x") + 'format = "sparkly"\n', "format"),
    (ENTRY.format(id="x") + 'colour = "red"\n', "colour"),
    (ENTRY.format(id="x").replace('label = "X"\n', ""), "label"),
    (ENTRY.format(id="x") + ENTRY.format(id="x"), "id"),
])
def test_validation_names_metric_and_key(text: str, key: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_catalog(text)
    assert f"key {key!r}" in str(info.value)
    assert "metric " in str(info.value)


def test_valid_entry_parses() -> None:
    (m,) = parse_catalog(ENTRY.format(id="x"))
    assert m.id == "x" and m.geo_levels == ("zip",) and m.format is None


def test_module_doctests() -> None:
    import upward.metrics

    for module in (catalog_module, upward.metrics):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__
