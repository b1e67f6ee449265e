"""Profiles from the real public files equal the publishers' numbers, read independently here.

The raw CSVs are read with the csv module (no Upward code), and each profile value is compared
with the value the publisher printed for the same metric, year and geography.
"""

from __future__ import annotations

import csv
import math

import pytest
from tests.conftest import DATA, TEN_CITIES, needs_data

pytestmark = [needs_data, pytest.mark.realdata]

# The file quirks, written out again here so the test does not trust the connector's table.
ALIASES = {"share_debt_coll": "share_debt_col", "rate_violent_crime": "rate_crime_violent",
           "rate_property_crime": "rate_crime_property",
           "share_desc_rep_asian_other": "share_desc_rep_other"}
QUALITY_COLUMN = {"pctl_income_20": "pctl_20_quality", "pctl_income_50": "pctl_50_quality",
                  "pctl_income_80": "pctl_80_quality", "count_homeless": "homeless_quality",
                  "share_homeless": "homeless_quality",
                  "rate_crime_violent": "rate_crime_quality",
                  "rate_crime_property": "rate_crime_quality"}
WORDS = {"Strong": 1, "Marginal": 2, "Weak": 3}
META = {"year", "state", "place", "county", "state_name", "place_name", "county_name",
        "population", "subgroup_type", "subgroup"}


def _rows(name: str) -> list[dict]:
    with open(DATA / "urban" / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _value(text: str | None) -> float | None:
    if text in (None, "", "NA"):
        return None
    if ":" in text:
        a, b = (float(x.strip().rstrip("%")) for x in text.split(":"))
        return a / b if b else None
    return float(text)


def _quality(row: dict, column: str, metric: str) -> int | None:
    for name in (f"{column}_quality", QUALITY_COLUMN.get(metric, ""),
                 "share_affordable_quality" if metric.startswith("share_affordable_") and
                 "available" not in metric else ""):
        if name and row.get(name) not in (None, "", "NA"):
            raw = row[name]
            return WORDS.get(raw) or int(float(raw))
    return None


def _metric_columns(row: dict) -> list[str]:
    return [c for c in row if (c not in META and not c.endswith(("_lb", "_ub", "_quality")))
            or c == "index_air_quality"]


def _expected_place(geo_id: str, periods: dict) -> dict[str, dict]:
    """Latest published value per metric: the later year wins; in a tie, the newer release."""
    out: dict[str, dict] = {}
    for row in _rows("mobility-metrics_place_recent.csv"):
        if row["state"] + row["place"] != geo_id:
            continue
        for c in _metric_columns(row):
            v = _value(row[c])
            m = ALIASES.get(c, c)
            if v is not None:
                out[m] = {"estimate": v, "period": periods.get(m, "recent"), "column": c,
                          "quality": _quality(row, c, m), "lb": _value(row.get(f"{c}_lb")),
                          "ub": _value(row.get(f"{c}_ub"))}
    for row in _rows("mobility-metrics_place_longitudinal.csv"):
        if row["state"] + row["place"] != geo_id:
            continue
        for c in _metric_columns(row):
            v = _value(row[c])
            m = ALIASES.get(c, c)
            if v is None:
                continue
            if m in out and out[m]["period"] > row["year"]:
                continue
            # The longitudinal file gives economic connectedness at half the Atlas scale
            # (METRICS.md); Upward doubles it on load so no row mixes the two scales.
            k = 2.0 if m == "ratio_high_low_ses_fb_friends" else 1.0
            lb, ub = _value(row.get(f"{c}_lb")), _value(row.get(f"{c}_ub"))
            out[m] = {"estimate": v * k, "period": row["year"], "column": c,
                      "quality": _quality(row, c, m), "lb": None if lb is None else lb * k,
                      "ub": None if ub is None else ub * k}
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _compare(profile, expected: dict[str, dict]) -> None:
    got = {m.metric_id: m for m in profile.metrics}
    assert set(got) == set(expected), (set(got) ^ set(expected))
    for metric, want in expected.items():
        m = got[metric]
        where = f"{profile.geo.name} {metric}"
        assert _close(m.estimate, want["estimate"]), where
        assert m.period == want["period"], where
        assert m.quality == want["quality"], where
        assert _close(m.lb, want["lb"]) and _close(m.ub, want["ub"]), where


def test_ten_cities_resolve_and_match_the_publishers_numbers(real_warehouse):
    from upward.measure.profile import build_profile
    from upward.sources.urban import RECENT_PERIODS

    for query, geo_id in TEN_CITIES.items():
        p = build_profile(real_warehouse, query)
        assert p.geo.geo_id == geo_id, query
        _compare(p, _expected_place(geo_id, RECENT_PERIODS["place"]))
        assert p.county is not None and p.tracts, f"{query}: no county or tracts"
        assert p.atlas and p.social_capital, query


def test_sample_covering_every_metric_column(real_warehouse):
    """Places chosen so that every metric column of both place files has a value somewhere."""
    from upward.measure.profile import build_profile
    from upward.sources.urban import RECENT_PERIODS

    uncovered = set()
    for name in ("mobility-metrics_place_recent.csv", "mobility-metrics_place_longitudinal.csv"):
        uncovered |= {ALIASES.get(c, c) for c in _metric_columns(_rows(name)[0])}
    sample = []
    for row in _rows("mobility-metrics_place_recent.csv")[::7]:
        sample.append(row["state"] + row["place"])
    checked = set()
    for geo_id in sample:
        expected = _expected_place(geo_id, RECENT_PERIODS["place"])
        _compare(build_profile(real_warehouse, geo_id), expected)
        checked |= set(expected)
    assert uncovered <= checked, f"metric columns never checked: {uncovered - checked}"


def test_counties_match_the_county_file_for_every_column(real_warehouse):
    from upward.measure.profile import build_profile
    from upward.sources.urban import RECENT_PERIODS

    rows = _rows("mobility-metrics_county_recent.csv")
    columns = _metric_columns(rows[0])
    checked = set()
    for row in rows[::97] + [r for r in rows if r["state"] + r["county"] == "40143"]:
        geo_id = row["state"] + row["county"]
        p = build_profile(real_warehouse, geo_id)
        got = {m.metric_id: m for m in p.metrics}
        for c in columns:
            v = _value(row[c])
            m = ALIASES.get(c, c)
            if v is None:
                assert m not in got, (geo_id, m)
                continue
            checked.add(m)
            assert _close(got[m].estimate, v), (geo_id, m)
            assert got[m].quality == _quality(row, c, m), (geo_id, m)
            assert got[m].period == RECENT_PERIODS["county"].get(m, "recent"), (geo_id, m)
    assert checked == {ALIASES.get(c, c) for c in columns}


def test_county_outcomes_equal_the_atlas_and_social_capital_files(real_warehouse):
    from upward.measure.profile import build_profile

    p = build_profile(real_warehouse, "Tulsa County, OK")
    with open(DATA / "opportunity-insights" / "county_outcomes_simple.csv", newline="") as f:
        raw = next(r for r in csv.DictReader(f) if (r["state"], r["county"]) == ("40", "143"))
    atlas = {(o.metric_id, o.subgroup): o for o in p.atlas}
    assert math.isclose(atlas[("kfr_p25", "all")].estimate, float(raw["kfr_pooled_pooled_p25"]))
    assert math.isclose(atlas[("kfr_p25", "all")].se, float(raw["kfr_pooled_pooled_p25_se"]))
    assert math.isclose(atlas[("kfr_p25", "black")].estimate, float(raw["kfr_black_pooled_p25"]))
    with open(DATA / "opportunity-insights" / "social_capital_county.csv", newline="") as f:
        sca = next(r for r in csv.DictReader(f) if r["county"] == "40143")
    social = {o.metric_id: o for o in p.social_capital}
    assert math.isclose(social["ec"].estimate, float(sca["ec_county"]))
    assert math.isclose(social["ec"].se, float(sca["ec_se_county"]))


def test_city_tract_spread_and_percentile_by_hand(real_warehouse):
    """Tulsa: its Atlas tracts' median in dollars, and its national percentile of median income,
    recomputed from the raw files."""
    import statistics

    from upward.measure.profile import build_profile

    p = build_profile(real_warehouse, "Tulsa, OK")
    assert p.county.geo_id == "40143"
    with open(DATA / "opportunity-insights" / "tract_kfr_rP_gP_p25.csv", newline="",
              encoding="utf-8-sig") as f:
        dollars = [float(r["Household_Income_at_Age_35_rP_gP_p25"]) for r in csv.DictReader(f)
                   if (r["Name"] == "Tulsa, OK" or r["Name"].endswith(", Tulsa, OK"))
                   and r["Household_Income_at_Age_35_rP_gP_p25"]]
    spread = {s.metric_id: s for s in p.tracts}["kfr_dollars_p25"]
    assert spread.n_tracts == len(dollars)
    assert math.isclose(spread.median, statistics.median(dollars))

    latest = {}
    for row in _rows("mobility-metrics_place_longitudinal.csv"):
        v = _value(row["pctl_income_50"])
        if v is not None and row["year"] >= latest.get(row["state"] + row["place"], ("", 0))[0]:
            latest[row["state"] + row["place"]] = (row["year"], v)
    values = [v for _, v in latest.values()]
    mine = latest["4075000"][1]
    expected = 100 * (sum(v < mine for v in values) + 0.5 * sum(v == mine for v in values)) / len(values)
    assert math.isclose(p.entry("pctl_income_50").national_percentile, expected)


#: Drawn with this seed from all places and counties; `python -m bench all-profiles` checks
#: every one of them (3,629 profiles, minutes).
SAMPLE_SEED, SAMPLE_SIZE = 20240611, 40


def test_a_sample_of_places_and_counties_have_a_profile(real_warehouse):
    from tests.support.profile_check import check_profile, published_ids, sample_ids

    places, counties = published_ids(DATA)
    assert (len(places), len(counties)) == (486, 3143)
    sample = sorted({*TEN_CITIES.values(), *sample_ids(places, SAMPLE_SIZE // 2, seed=SAMPLE_SEED),
                     *sample_ids(counties, SAMPLE_SIZE // 2, seed=SAMPLE_SEED)})
    assert set(TEN_CITIES.values()) <= places
    for i, geo_id in enumerate(sample):
        check_profile(real_warehouse, geo_id, is_place=geo_id in places, as_json=i % 5 == 0)


def test_economic_connectedness_is_on_one_scale_in_city_county_and_trend(real_warehouse):
    """#12.1: the 2025 longitudinal place file gives connectedness at half the scale of the
    2024 recent files and of the Social Capital Atlas (Tulsa 2022: 0.3615 vs 0.7229; Tulsa
    County 0.733 = the Atlas's ec_county). The profile must not put 0.36 beside 0.73."""
    from upward.measure.profile import build_profile
    from upward.measure.series import metric_series

    recent = {r["state"] + r["place"]: _value(r["ratio_high_low_ses_fb_friends"])
              for r in _rows("mobility-metrics_place_recent.csv")}
    p = build_profile(real_warehouse, "Tulsa, OK")
    ec = p.entry("ratio_high_low_ses_fb_friends")
    assert math.isclose(ec.estimate, recent["4075000"], rel_tol=1e-6)
    assert 0.8 < ec.estimate / ec.county_estimate < 1.25
    # every series point (both releases) is on the Atlas scale: no 2× jump inside the chart
    series = metric_series(real_warehouse, "4075000", "place", "ratio_high_low_ses_fb_friends")
    values = [v for v in series["estimate"] if v is not None]
    assert values and max(values) / min(values) < 1.25
