"""Diagnose: gap tests (null and planted simulations), and barriers on real data checked by hand
against the raw CSVs."""

from __future__ import annotations

import csv
import json
import statistics

import jsonschema
import numpy as np
import pytest
from tests.conftest import DATA, REPO, TEN_CITIES, needs_data, run_cli

from upward.diagnose.gaps import gap_tests, share_worse, worse_than

SCHEMA = json.loads((REPO / "docs" / "barriers.schema.json").read_text())


def _simulate(rng, n_metrics: int, planted: int, shift: float):
    se = rng.uniform(0.5, 2.0, n_metrics)
    bench = rng.normal(50, 10, n_metrics)
    directions = rng.choice(["higher", "lower"], n_metrics).tolist()
    x = bench + rng.normal(0, se)
    bad = np.zeros(n_metrics, bool)
    bad[:planted] = True
    sign = np.array([-1 if d == "higher" else 1 for d in directions])
    x[bad] += sign[bad] * shift * se[bad]
    t = gap_tests(x, se, bench, np.zeros(n_metrics), directions, np.ones(n_metrics))
    return t["finding"].to_numpy(bool), bad


def test_null_simulation_finds_gaps_at_no_more_than_the_nominal_rate():
    rng = np.random.default_rng(1)
    any_finding, per_metric = [], []
    for _ in range(1000):
        found, _ = _simulate(rng, 40, 0, 0.0)
        any_finding.append(found.any())
        per_metric.append(found.mean())
    # With no real gap, BH at 5% keeps the chance of any finding at or below 5% (and only
    # gaps in the bad direction count, so about half of that).
    assert np.mean(any_finding) <= 0.05
    assert np.mean(per_metric) <= 0.05 / 40 * 2


def test_planted_gaps_are_found_with_few_false_findings():
    rng = np.random.default_rng(2)
    power, false_share = [], []
    for _ in range(500):
        found, bad = _simulate(rng, 40, 8, 4.0)
        power.append(found[bad].mean())
        if found.any():
            false_share.append((found & ~bad).sum() / found.sum())
    assert np.mean(power) > 0.9
    assert np.mean(false_share) <= 0.05


def test_direction_rules():
    x, b = np.array([1.0, 1.0, 1.3, 0.9]), np.array([2.0, 2.0, 1.1, 1.05])
    got = worse_than(x, b, ["higher", "lower", "parity", "context"], np.array([np.nan, np.nan, 1, 1]))
    assert got.tolist() == [True, False, True, None]
    assert share_worse(3.0, np.array([1.0, 2.0, 4.0, 5.0]), "lower") == 0.5
    assert share_worse(1.2, np.array([1.0, 1.5]), "parity", 1.0) == 0.5


def test_quality_three_is_never_a_finding():
    t = gap_tests(np.array([1.0, 1.0]), np.array([0.01, 0.01]), np.array([5.0, 5.0]),
                  np.zeros(2), ["higher", "higher"], np.array([3, 1]))
    assert t["finding"].tolist() == [False, True]
    assert t["tested"].tolist() == [True, True]


# --- real data ------------------------------------------------------------------------------

def _latest_place_values(metric: str) -> dict[str, float]:
    """Each place's value in the latest year of the longitudinal file, read with csv."""
    out: dict[str, tuple[str, float]] = {}
    with open(DATA / "urban" / "mobility-metrics_place_longitudinal.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row[metric] in ("", "NA"):
                continue
            key = row["state"] + row["place"]
            if key not in out or row["year"] > out[key][0]:
                out[key] = (row["year"], float(row[metric]))
    return {k: v for k, (_, v) in out.items()}


@needs_data
@pytest.mark.parametrize("city", ["Detroit, MI", "tulsa ok", "Dayton, OH"])
def test_peer_median_and_national_position_by_hand(city, real_warehouse):
    from upward.diagnose.report import build_barriers

    report = build_barriers(real_warehouse, city, include_drivers=False,
                            include_neighbourhoods=False)
    gaps = {g.metric_id: g for g in report.gaps}
    for metric, direction in (("pctl_income_50", "higher"), ("share_employed", "higher"),
                              ("share_poverty_exposure", "lower"), ("share_hs_degree", "higher")):
        values = _latest_place_values(metric)
        mine = values[report.geo.geo_id]
        peers = [values[p] for p in report.peers.ids if p in values]
        g = gaps[metric]
        assert g.estimate == pytest.approx(mine)
        assert g.peer_median == pytest.approx(statistics.median(peers))
        assert g.national_median == pytest.approx(statistics.median(values.values()))
        others = list(values.values())
        better = sum((v > mine) if direction == "higher" else (v < mine) for v in others)
        ties = sum(v == mine for v in others)
        assert g.national_share_better == pytest.approx((better + ties / 2) / len(others))
        assert g.national_n == len(others)


@needs_data
def test_detroit_income_sentence_reads_like_the_issue(real_warehouse):
    from upward.diagnose.report import build_barriers

    report = build_barriers(real_warehouse, "Detroit city, Michigan", include_drivers=False,
                            include_neighbourhoods=False)
    income = next(f for f in report.findings if f.metric_id == "pctl_income_50")
    assert income.sentence.startswith("Median household income is $36,733 ($34,409–$40,781, 2023)")
    assert "of US cities" in income.sentence


@needs_data
def test_all_ten_cities(real_warehouse):
    from upward.diagnose.report import build_barriers
    from upward.metrics import metric_ids

    for query, geo_id in TEN_CITIES.items():
        report = build_barriers(real_warehouse, query)
        assert report.geo.geo_id == geo_id
        assert len(report.peers.peers) == 10 and geo_id not in report.peers.ids
        doc = json.loads(report.to_json())
        jsonschema.validate(doc, SCHEMA)
        by_id = {g.metric_id: g for g in report.gaps}
        for f in report.findings:
            assert f.metric_id in metric_ids()
            assert by_id[f.metric_id].quality != 3
            assert by_id[f.metric_id].unit not in ("count", "people")
        assert [f.rank for f in report.findings] == list(range(1, len(report.findings) + 1))


@needs_data
def test_cli_with_chosen_peers(real_workspace):
    result = run_cli("barriers", "Detroit, MI", "--peers", "Cleveland, OH", "--peers",
                     "Milwaukee, WI", "--format", "json", "-w", str(real_workspace.root))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [p["geo_id"] for p in doc["peers"]["peers"]] == ["3916000", "5553000"]
    md = run_cli("barriers", "Detroit, MI", "-f", "md", "-w", str(real_workspace.root)).stdout
    assert md.startswith("# Barriers to mobility: Detroit city, Michigan")
    bad = run_cli("barriers", "Detroit, MI", "--peers", "Detroit, MI", "-w", str(real_workspace.root))
    assert bad.returncode != 0 and "itself" in bad.stderr and "Traceback" not in bad.stderr
