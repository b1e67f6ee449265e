"""Chart data and chart builders: the series, distributions and tract maps equal the
publishers' files read independently here (csv module), and the figures carry those numbers.

Published figures used: the Urban Institute place longitudinal file (Tulsa city, median household
income by year, e.g. $64,739 in 2023 with 95% bounds $61,375–$66,880, quality "Marginal"), and the
Opportunity Atlas tract file tract_kfr_rP_gP_p25.csv (household income at 35 for children of
25th-percentile parents, e.g. tract 40143002500, Downtown Tulsa).
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
import shapely.geometry
from tests.conftest import DATA, needs_data

from upward.core.errors import ConfigError, PlaceNotFoundError
from upward.measure.profile import build_profile, tracts_inside
from upward.measure.series import (
    MAP_METRICS,
    metric_distribution,
    metric_series,
    peer_values,
    tract_map,
    trend_release,
)
from upward.metrics import all_metrics
from upward.report import charts

TULSA = "4075000"
WORDS = {"Strong": 1, "Marginal": 2, "Weak": 3}


def _series_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "estimate", "lb", "ub", "quality", "source_id",
                                       "release", "bounds", "dated"])


# -- pure builders (no data) ------------------------------------------------------------------
def test_trend_chart_keeps_releases_apart_and_bands_only_the_trend_release():
    s = _series_frame([
        ("2014", 1.0, 0.8, 1.2, 1, "long@1", "long", "ci95", True),
        ("2019", 1.5, 1.3, 1.7, 3, "long@1", "long", "ci95", True),
        ("2023", 2.0, 1.8, 2.2, 1, "long@1", "long", "ci95", True),
        ("2021", 9.0, None, None, 1, "recent@2", "recent", "none", True),
        ("1978-1983 birth cohorts", 5.0, None, None, None, "x@3", "x", "none", False),
    ])
    fig = charts.trend_chart(s, "Thing", "dollars")
    band, main, other = fig.data
    assert band.fill == "toself" and band.name == "95% interval"
    assert list(band.y) == [1.2, 1.7, 2.2, 1.8, 1.3, 0.8]
    assert list(main.x) == [2014, 2019, 2023] and main.mode == "lines+markers"
    # The other release is drawn as markers only: never joined to the trend line.
    assert list(other.x) == [2021] and other.mode == "markers"
    assert list(main.marker.symbol) == ["circle", "circle-open", "circle"]  # quality 3 hollow
    assert fig.layout.yaxis.title.text == "US dollars" and fig.layout.xaxis.title.text == "Year"
    assert "not published" in other.customdata[0][0]


def test_trend_release_follows_the_profile_rule():
    s = _series_frame([("2014", 1, None, None, 1, "b@2", "b", "none", True),
                       ("2015", 1, None, None, 1, "b@2", "b", "none", True),
                       ("2014", 1, None, None, 1, "a@1", "a", "none", True),
                       ("2015", 1, None, None, 1, "a@1", "a", "none", True),
                       ("2021", 1, None, None, 1, "c@3", "c", "none", True)])
    assert trend_release(s) == "a@1"  # tie on years → lower source id, as frames.trends
    assert trend_release(s[s.source_id == "c@3"]) is None


def test_d3_winding_makes_exteriors_clockwise_and_holes_counter_clockwise():
    outer = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]  # counter-clockwise (RFC 7946)
    hole = [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]  # clockwise (RFC 7946)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "geometry": {"type": "Polygon", "coordinates": [outer, hole]}},
        {"type": "Feature", "id": "b", "geometry": {"type": "MultiPolygon",
                                                    "coordinates": [[outer[::-1]]]}}]}
    out = charts.d3_winding(fc)
    a_outer, a_hole = out["features"][0]["geometry"]["coordinates"]
    assert not shapely.geometry.LinearRing(a_outer).is_ccw
    assert shapely.geometry.LinearRing(a_hole).is_ccw
    assert not shapely.geometry.LinearRing(out["features"][1]["geometry"]["coordinates"][0][0]).is_ccw
    assert fc["features"][0]["geometry"]["coordinates"][0] == outer  # input untouched


def test_national_percentile_is_the_mid_rank_rule():
    assert charts.national_percentile([1, 2, 2, 3], 2) == 50.0
    assert charts.national_percentile([1, 2, 3, 4], 0) == 0.0
    assert charts.national_percentile([1, 2, 3, 4], 4) == 87.5


def test_table_alternative_is_accessible_and_escaped():
    html = charts.table_alternative(pd.DataFrame({"Tract": ["<script>x</script>"],
                                                  "Value": [None]}), "A & B")
    assert "<caption>A &amp; B</caption>" in html
    assert '<th scope="col">Tract</th>' in html and '<th scope="row">&lt;script&gt;' in html
    assert "<script>" not in html and '<td class="num">—</td>' in html


def test_figure_div_needs_no_network():
    fig = charts.peer_chart(2.0, pd.DataFrame({"name": ["A", "B"], "estimate": [1.0, 3.0],
                                               "lb": [0.5, 2.5], "ub": [1.5, 3.5]}),
                            "Ratio", "ratio", name="City")
    html = charts.figure_div(fig, "p1")
    assert 'id="p1"' in html and '"displaylogo": false' in html and "http" not in html
    assert list(fig.data[0].error_x.array) == [0.5, 0.5]


def test_units_and_changes_read_as_people_expect():
    assert charts.format_change(-0.017, "share") == "-1.7 pts"
    assert charts.unit_style("share").tick == ".0%"
    assert charts.quality_word(3) == "weak (do not act on it)"
    assert charts.ordinal(21.4) == "21st" and charts.ordinal(13) == "13th"


def test_map_metrics_come_from_the_catalog():
    declared = {m.id for m in all_metrics() if "tract" in m.geo_levels}
    assert set(MAP_METRICS) <= declared
    assert list(MAP_METRICS)[:3] == ["kfr_dollars_p25", "kfr_top20_p25", "kir_p25"]


# -- real data ----------------------------------------------------------------------------------
def _urban_longitudinal(place: str, metric: str) -> dict[str, tuple[float, float, float, int]]:
    state, code = place[:2], place[2:]
    out: dict[str, set] = {}
    with open(DATA / "urban" / "mobility-metrics_place_longitudinal.csv", newline="",
              encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if (r["state"].zfill(2), r["place"].zfill(5)) != (state, code):
                continue
            if r["subgroup"] != "All" or r.get(metric) in (None, "", "NA"):
                continue
            out.setdefault(r["year"], set()).add(
                (float(r[metric]), float(r[f"{metric}_lb"]), float(r[f"{metric}_ub"]),
                 WORDS[r[f"{metric}_quality"]]))
    return out


@needs_data
def test_metric_series_equals_the_urban_file(real_warehouse):
    s = metric_series(real_warehouse, TULSA, "place", "pctl_income_50")
    published = _urban_longitudinal(TULSA, "pctl_income_50")
    long = s[s.release == "urban.place_longitudinal"]
    assert sorted(long.period) == sorted(published)
    for r in long.itertuples():
        candidates = published[r.period]
        assert any(math.isclose(r.estimate, e, rel_tol=1e-9) and math.isclose(r.lb, lb, rel_tol=1e-9)
                   and math.isclose(r.ub, ub, rel_tol=1e-9) and r.quality == q
                   for e, lb, ub, q in candidates), r.period
    latest = long[long.period == "2023"].iloc[0]
    assert round(latest.estimate) == 64739 and (round(latest.lb), round(latest.ub)) == (61375, 66880)
    # The 2024 "recent" file is another release: kept, labelled, not merged.
    assert set(s.release) == {"urban.place_longitudinal", "urban.place_recent"}
    fig = charts.trend_chart(s, "Median household income", "dollars")
    main = next(t for t in fig.data if t.mode == "lines+markers")
    assert list(main.y) == list(long.sort_values("period").estimate)


@needs_data
def test_distribution_and_peers_agree_with_the_profile(real_warehouse):
    from upward.diagnose.peers import choose_peers

    profile = build_profile(real_warehouse, "Tulsa, OK")
    entry = profile.entry("pctl_income_50")
    dist = metric_distribution(real_warehouse, "pctl_income_50", "place")
    assert len(dist) == entry.national_n
    assert dist.loc[dist.geo_id == TULSA, "estimate"].item() == entry.estimate
    assert charts.national_percentile(dist.estimate, entry.estimate) == pytest.approx(
        entry.national_percentile)
    fig = charts.distribution_chart(dist, entry.estimate, entry.label, entry.unit, name="Tulsa")
    assert f"{charts.ordinal(entry.national_percentile)} percentile" in fig.layout.annotations[0].text
    assert len(fig.data[0].x) == entry.national_n

    peers = choose_peers(real_warehouse, profile.geo, 10)
    values = peer_values(real_warehouse, peers.ids, "place", "pctl_income_50")
    assert list(values.geo_id) == [g for g in peers.ids if g in set(dist.geo_id)]
    fig = charts.peer_chart(entry.estimate, values, entry.label, entry.unit, name="Tulsa",
                            lb=entry.lb, ub=entry.ub)
    assert list(fig.data[1].x) == [entry.estimate]
    assert sorted(fig.data[0].x) == sorted(values.estimate)
    median = next(s for s in fig.layout.shapes if s.line.dash == "dash").x0
    assert median == pytest.approx(float(np.median(values.estimate)))


def _atlas_kfr() -> dict[str, float]:
    out = {}
    with open(DATA / "opportunity-insights" / "tract_kfr_rP_gP_p25.csv", newline="",
              encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            value = r["Household_Income_at_Age_35_rP_gP_p25"]
            if value not in ("", "NA"):
                out[r["tract"].zfill(11)] = float(value)
    return out


@needs_data
def test_tulsa_tract_map_has_every_profile_tract_with_its_published_value(real_warehouse):
    profile = build_profile(real_warehouse, "Tulsa, OK")
    tmap = tract_map(real_warehouse, TULSA, "place")
    inside, _ = tracts_inside(real_warehouse, profile.geo)
    assert tmap.n_tracts == len(inside) == 132
    assert tmap.missing_geometry == () and tmap.n_mapped == 132
    ids = [f["id"] for f in tmap.geojson["features"]]
    assert sorted(ids) == sorted(inside) and all(len(i) == 11 and i.isdigit() for i in ids)
    published = _atlas_kfr()
    for f in tmap.geojson["features"]:
        assert f["properties"]["estimate"] == published[f["id"]]
    downtown = tmap.values.set_index("geo_id").loc["40143002500"]
    assert "Downtown, Tulsa, OK" in downtown["name"] and "Census Tract 25" in downtown["name"]
    assert tmap.values["estimate"].median() == next(
        t.median for t in profile.tracts if t.metric_id == "kfr_dollars_p25")

    fig = charts.choropleth(tmap)
    shaded = [t for t in fig.data if t.type == "choropleth"]
    locations = [loc for trace in shaded for loc in trace.locations]
    assert sorted(locations) == sorted(ids)
    trace = shaded[-1]
    assert trace.featureidkey == "id" and "GEOID %{location}" in trace.hovertemplate
    assert "US dollars" in trace.colorbar.title.text
    assert fig.layout.geo.fitbounds == "locations" and fig.layout.geo.visible is False
    # Shapes are re-wound for d3: every exterior ring clockwise.
    for feature in trace.geojson["features"][:20]:
        g = feature["geometry"]
        polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        assert all(not shapely.geometry.LinearRing(p[0]).is_ccw for p in polygons)


@needs_data
def test_tulsa_county_map_and_rochester_without_geometry(real_warehouse):
    county = tract_map(real_warehouse, "40143", "county", "kfr_top20_p25")
    assert county.n_mapped == county.n_tracts and county.n_tracts > 150
    assert all(f["id"].startswith("40143") for f in county.geojson["features"])
    rochester = tract_map(real_warehouse, "3663000", "place")
    assert rochester.n_tracts > 100 and not rochester.has_geometry
    assert len(rochester.missing_geometry) == rochester.n_tracts
    table = charts.tract_table(rochester)
    assert set(table["Shape"]) == {"missing"} and len(table) == rochester.n_tracts
    assert "No tract shapes" in charts.choropleth(rochester).layout.annotations[0].text


@needs_data
def test_scorecard_rows_equal_the_profile(real_warehouse):
    profile = build_profile(real_warehouse, "Tulsa, OK")
    rows = charts.scorecard_table(profile)
    assert [r["metric_id"] for r in rows] == [m.metric_id for m in profile.metrics]
    for r, m in zip(rows, profile.metrics, strict=True):
        assert (r["estimate"], r["lb"], r["ub"], r["quality"], r["period"],
                r["raw_percentile"]) == (m.estimate, m.lb, m.ub, m.quality, m.period,
                                         m.national_percentile)
        # the sortable standing is the share of places this one does better than (#12.4)
        if m.direction in ("higher", "lower") and m.national_percentile is not None:
            flipped = 100 - m.national_percentile if m.direction == "lower" else None
            assert r["percentile"] == (flipped if flipped is not None
                                       else m.national_percentile)
    income = next(r for r in rows if r["metric_id"] == "pctl_income_50")
    assert income["value"] == "$64,739" and income["trend_arrow"] == "▲"
    assert income["trend_meaning"] == "improving" and income["publisher"] == "Urban Institute"


@needs_data
def test_bad_requests_are_user_errors(real_warehouse):
    with pytest.raises(ConfigError, match="not a tract metric"):
        tract_map(real_warehouse, TULSA, "place", "pctl_income_50")
    with pytest.raises(PlaceNotFoundError, match="9999999"):
        tract_map(real_warehouse, "9999999", "place")
