"""Issue #12's trust defects, each reproduced on the real public files (../shared/data)."""

from __future__ import annotations

import csv

import pytest
from tests.conftest import DATA, needs_data

pytestmark = [needs_data, pytest.mark.realdata]


def test_racine_county_named_tract_is_not_a_city_tract(real_warehouse):
    """#12.2: tract 55101001900 is named "Racine County, WI" in the Atlas file (it lies outside
    the city); it set Racine's tract maximum. The city's tracts are those naming the city."""
    from upward.measure.profile import build_profile

    with open(DATA / "opportunity-insights" / "tract_kfr_rP_gP_p25.csv", newline="",
              encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    named = {r["tract"]: r for r in rows}
    county_named = [g for g, r in named.items() if r["Name"] == "Racine County, WI"]
    assert county_named, "the Atlas file no longer names a tract after Racine County"
    city = {g.zfill(11) for g, r in named.items()
            if r["Name"] == "Racine, WI" or r["Name"].endswith(", Racine, WI")}
    p = build_profile(real_warehouse, "Racine, WI")
    spread = {s.metric_id: s for s in p.tracts}["kfr_dollars_p25"]
    assert spread.n_tracts == len(city)
    assert spread.max == max(float(named[g.lstrip("0")]["Household_Income_at_Age_35_rP_gP_p25"])
                             for g in city)
    assert "55101001900" not in set(_tract_ids(real_warehouse, p))
    assert "by name" in p.tract_method and "county are left out" in p.tract_method


def _tract_ids(wh, p) -> list[str]:
    from upward.measure.profile import tracts_inside

    return tracts_inside(wh, p.geo)[0]


def test_lower_is_better_percentile_reads_as_worse(real_warehouse):
    """#12.4: Tulsa's violent crime rate is above 95% of cities: the standing says worse."""
    from upward.measure.profile import build_profile
    from upward.measure.render import metric_rows
    from upward.measure.standing import better_than
    from upward.report.charts import scorecard_table

    p = build_profile(real_warehouse, "Tulsa, OK")
    crime = p.entry("rate_crime_violent")
    assert crime.direction == "lower" and crime.national_percentile > 90
    assert better_than(crime.national_percentile, crime.direction) < 10
    row = next(r for r in scorecard_table(p) if r["metric_id"] == "rate_crime_violent")
    assert row["percentile_text"].startswith("worse than") and row["standing"] == "worse"
    assert row["percentile"] < 10  # the sortable value is the better-than share
    terminal = next(r for m, r in zip(p.metrics, metric_rows(p), strict=True)
                    if m.metric_id == "rate_crime_violent")
    assert terminal[-1].startswith("worse than")
    income = next(r for r in scorecard_table(p) if r["metric_id"] == "pctl_income_50")
    assert income["percentile_text"].startswith(("better", "worse"))
