"""The `upward` command end to end on the demo city (offline), and the JSON schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from tests.conftest import REPO, needs_data, run_cli, run_cli_subprocess

SCHEMA = json.loads((REPO / "docs" / "profile.schema.json").read_text())


@pytest.fixture(scope="module")
def demo_ws(demo_output, demo_module_copy) -> Path:
    """The workspace ``upward demo`` made (a copy of the session's build) and what it printed."""
    result = demo_output
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stderr
    assert "Demo City city" in result.stdout
    return demo_module_copy.root


def test_demo_prints_a_profile_of_the_synthetic_city(demo_ws):
    result = run_cli("profile", "Demo City, ZZ", "--format", "json", "-w", str(demo_ws))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["geo"]["geo_id"] == "9900100"
    assert doc["county"]["geo_id"] == "99001"
    metrics = {m["metric_id"]: m for m in doc["metrics"]}
    # the generator plants a significant rise in employment and a weak bottom income
    assert metrics["share_employed"]["trend"]["significant"] is True
    assert metrics["share_employed"]["trend"]["change"] > 0
    assert metrics["pctl_income_20"]["national_percentile"] < 25
    assert {s["metric_id"] for s in doc["tracts"]} >= {"kfr_dollars_p25", "kfr_top20_p25"}
    assert all("/demo-data/" in s["url"] for s in doc["sources"])


def test_barriers_of_the_demo_city_find_the_planted_weakness(demo_ws):
    schema = json.loads((REPO / "docs" / "barriers.schema.json").read_text())
    result = run_cli("barriers", "Demo City, ZZ", "--format", "json", "-w", str(demo_ws))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, schema)
    assert doc["findings"][0]["metric_id"] == "pctl_income_20"
    assert doc["neighbourhoods"]["moran"]["p_clustered"] < 0.05
    assert "association" in doc["drivers"]["caveat"].lower()
    table = run_cli("barriers", "9900100", "-w", str(demo_ws))
    assert table.returncode == 0 and "Household income, 20th percentile" in table.stdout


def test_all_output_formats_agree(demo_ws, tmp_path):
    as_json = json.loads(run_cli("profile", "9900100", "-f", "json", "-w", str(demo_ws)).stdout)
    csv_text = run_cli("profile", "9900100", "-f", "csv", "-w", str(demo_ws)).stdout
    frame = pd.read_csv(io.StringIO(csv_text), index_col="metric_id")
    for m in as_json["metrics"]:
        assert frame.loc[m["metric_id"], "estimate"] == pytest.approx(m["estimate"])
        assert frame.loc[m["metric_id"], "period"].astype(str) == m["period"] or \
            str(frame.loc[m["metric_id"], "period"]) == m["period"]
    md = run_cli("profile", "9900100", "-f", "md", "-w", str(demo_ws)).stdout
    assert md.startswith("# Mobility profile: Demo City city")
    assert "| Metric |" in md and "## Sources" in md
    table = run_cli("profile", "demo city zz", "-w", str(demo_ws)).stdout
    assert "Employment" in table and "US standing" in table
    out = tmp_path / "p.json"
    assert run_cli("profile", "9900100", "-f", "json", "-o", str(out), "-w", str(demo_ws)).returncode == 0
    assert json.loads(out.read_text())["geo"]["geo_id"] == "9900100"


def test_workspace_from_the_environment(demo_ws):
    result = run_cli("profile", "9900100", "-f", "json", env={"UPWARD_WORKSPACE": str(demo_ws)})
    assert result.returncode == 0 and json.loads(result.stdout)["geo"]["geo_id"] == "9900100"


def test_python_api(demo_ws):
    import upward

    p = upward.profile("Demo City city, Demo State (synthetic)", workspace=demo_ws)
    frame = p.to_frame()
    assert frame.loc["share_employed", "estimate"] == p.entry("share_employed").estimate
    jsonschema.validate(json.loads(p.to_json()), SCHEMA)


def test_demo_refuses_a_workspace_with_real_data(tmp_path):
    from tests.conftest import DATA, HAVE_DATA

    if not HAVE_DATA:
        pytest.skip("needs ../shared/data")
    ws = tmp_path / "ws"
    run_cli("init", str(ws))
    assert run_cli("fetch", "crosswalks", "--from", str(DATA), "-w", str(ws)).returncode == 0
    result = run_cli("demo", "-w", str(ws))
    assert result.returncode != 0 and "real data" in result.stderr


def test_metrics_commands():
    listing = run_cli("metrics")
    assert listing.returncode == 0 and "share_employed" in listing.stdout
    shown = run_cli("metrics", "show", "pctl_income_20")
    assert shown.returncode == 0 and "definition" in shown.stdout
    wrong = run_cli("metrics", "show", "share_employd")
    assert wrong.returncode != 0 and "share_employed" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_every_command_has_help_with_an_example():
    for command in ("init", "fetch", "profile", "barriers", "metrics", "sources", "demo"):
        result = run_cli(command, "--help")
        assert result.returncode == 0, command
        assert "Example" in result.stdout, command


# -- the real entry point, in its own process ----------------------------------------------------

def test_the_entry_point_runs_in_its_own_process():
    """``python -m upward`` starts, answers --help and exits 0; with no arguments it shows the
    help instead of failing with a traceback."""
    result = run_cli_subprocess("--help")
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout and "profile" in result.stdout
    bare = run_cli_subprocess()
    assert "Traceback" not in bare.stderr and "Usage" in bare.stdout + bare.stderr


def test_a_user_error_exits_non_zero_without_a_traceback_in_a_real_process(tmp_path):
    result = run_cli_subprocess("profile", "Tulsa, OK", "-w", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "upward init" in result.stderr


@needs_data
def test_real_profile_json_follows_the_schema(real_workspace):
    result = run_cli("profile", "Tulsa city, Oklahoma", "--format", "json", "-w",
                     str(real_workspace.root))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["county"]["name"].startswith("Tulsa County")


@needs_data
def test_ambiguous_name_on_the_command_line(real_workspace):
    result = run_cli("profile", "Rochester", "-w", str(real_workspace.root))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    text = " ".join(result.stderr.split())
    assert "Minnesota" in text and "New York" in text
