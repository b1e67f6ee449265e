"""Compare places side by side (#12): the difference test against its definition and a
simulation with known truth, and the command, page and API on the real public files."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from tests.conftest import DATA, needs_data, run_cli


def test_difference_test_has_its_nominal_size_and_power():
    """Simulated estimates with known SEs: under equal truths about 5% of differences are
    significant at 0.05; with a true gap of 3 SEs of the difference, about 85% (the normal
    power, 1 − Φ(1.96 − 3) + Φ(−1.96 − 3))."""
    from scipy.stats import norm

    from upward.measure.compare import difference

    rng = np.random.default_rng(20261207)
    se_a, se_b, n = 0.01, 0.02, 20_000
    gap = 3 * math.hypot(se_a, se_b)
    for truth, expected in ((0.0, 0.05), (gap, 1 - norm.cdf(1.96 - 3) + norm.cdf(-1.96 - 3))):
        a = 0.5 + truth + rng.normal(0, se_a, n)
        b = 0.5 + rng.normal(0, se_b, n)
        p = np.array([difference(x, se_a, y, se_b).p_value for x, y in zip(a, b, strict=True)])
        rate = float((p < 0.05).mean())
        assert abs(rate - expected) < 4 * math.sqrt(expected * (1 - expected) / n), (truth, rate)


@needs_data
@pytest.mark.realdata
def test_compare_matches_the_published_bounds(real_warehouse):
    """Tulsa vs Oklahoma City, broadband access: the difference, its margin and p recomputed
    from Urban's longitudinal file (se = (ub − lb) / 3.92)."""
    from upward.measure.compare import compare

    result = compare(real_warehouse, ["Tulsa, OK", "Oklahoma City, OK", "Wichita, KS"])
    row = next(r for r in result.rows if r.metric_id == "share_digital_access")
    published = {}
    with open(DATA / "urban" / "mobility-metrics_place_longitudinal.csv", newline="",
              encoding="utf-8") as f:
        for r in csv.DictReader(f):
            geo = r["state"] + r["place"]
            keep = (geo in ("4075000", "4055000")
                    and r["share_digital_access"] not in ("", "NA")
                    and r.get("subgroup", "All") in ("All", "", "NA")
                    and r["year"] >= published.get(geo, ("",))[0])
            if keep:
                published[geo] = (r["year"], float(r["share_digital_access"]),
                                  float(r["share_digital_access_lb"]),
                                  float(r["share_digital_access_ub"]))
    _, x1, lb1, ub1 = published["4075000"]
    _, x2, lb2, ub2 = published["4055000"]
    se = math.hypot((ub1 - lb1) / 3.92, (ub2 - lb2) / 3.92)
    d = row.cells[1].difference
    assert math.isclose(d.estimate, x2 - x1, rel_tol=1e-9)
    assert math.isclose(d.moe, 1.96 * se, rel_tol=1e-3)
    assert math.isclose(d.p_value, math.erfc(abs(x2 - x1) / se / math.sqrt(2)), rel_tol=1e-3)
    # q-values: Benjamini–Hochberg over every tested difference of the table
    tested = sorted(c.difference.p_value for r in result.rows for c in r.cells
                    if c is not None and c.difference is not None
                    and c.difference.p_value is not None)
    m = len(tested)
    rank = tested.index(d.p_value) + 1
    bh = min(min(1.0, tested[i] * m / (i + 1)) for i in range(rank - 1, m))
    assert math.isclose(d.q_value, bh, rel_tol=1e-9)
    assert d.verdict in ("better", "worse", "no significant difference")
    assert all(r.unit not in ("count", "people") for r in result.rows)


@needs_data
@pytest.mark.realdata
def test_compare_command_api_and_page(real_workspace):
    from fastapi.testclient import TestClient
    from tests.support.web import app_for

    done = run_cli("compare", "Tulsa, OK", "Wichita, KS", "-f", "csv",
                   "-w", str(real_workspace.root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("metric_id,") and "Wichita city, Kansas" in done.stdout
    one = run_cli("compare", "Tulsa, OK", "-w", str(real_workspace.root))
    assert one.returncode != 0 and "2 to 6" in one.stderr and "Traceback" not in one.stderr
    client = TestClient(app_for(real_workspace))
    api = client.get("/api/compare", params=[("places", "4075000,2079000")])
    assert api.status_code == 200 and [p["geo_id"] for p in api.json()["places"]] == [
        "4075000", "2079000"]
    assert client.get("/api/compare", params={"places": "4075000"}).status_code == 422
    page = client.get("/compare", params=[("places", "Tulsa, OK"), ("places", "Wichita, KS")])
    assert page.status_code == 200 and "table class=\"compare\"" in page.text
    assert client.get("/compare").status_code == 200
    summary = client.get("/api/places/4075000/summary").json()
    assert 3 <= len(summary["sentences"]) <= 5 and "kfr" in summary["terms"]


def test_evaluate_without_a_workspace_refuses_and_creates_nothing(tmp_path, monkeypatch):
    """#12 smaller defect: `upward evaluate spec.yaml` without -w made a half-made
    ./upward-workspace (no warehouse) that later commands tripped over."""
    from typer.testing import CliRunner

    from upward.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPWARD_WORKSPACE", raising=False)
    spec = tmp_path / "pilot.yaml"
    spec.write_text("data: x.csv\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(spec)])
    assert result.exit_code != 0 and "-w DIR" in str(result.exception)
    assert list(tmp_path.iterdir()) == [spec]
    named = CliRunner().invoke(app, ["evaluate", str(spec), "-w", str(tmp_path / "ws")])
    assert named.exit_code != 0  # the spec is bad, but the workspace is whole
    assert (tmp_path / "ws" / "warehouse.duckdb").exists()


def test_missing_spec_file_is_answered_before_heavy_imports(tmp_path):
    """#12 smaller defect: a missing file took seconds to report, importing the estimators
    first. The answer must come with neither the evaluation package nor pandas imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        f"sys.argv = ['upward', 'evaluate', {str(tmp_path / 'none.yaml')!r}, '-w', "
        f"{str(tmp_path / 'ws')!r}]\n"
        "from upward.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = [m for m in ('upward.evaluate.run', 'pandas', 'statsmodels', 'scipy') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy, 'CODE', code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert "HEAVY [] CODE 1" in done.stdout or "HEAVY [] CODE 2" in done.stdout, (
        done.stdout, done.stderr)
    assert "does not exist" in done.stderr
