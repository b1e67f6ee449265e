"""The evaluate commands as a user runs them: `upward evaluate`, `upward evaluations`,
`upward plan` and the pilots printed by `upward demo`."""

from __future__ import annotations

import json

import pytest
from tests.conftest import run_cli
from tests.test_evaluate_run import SPEC_TEXT, pilot_frame
from typer.testing import CliRunner

from upward.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    folder = tmp_path_factory.mktemp("program")
    frame = pilot_frame()
    frame.to_csv(folder / "pilot.csv", index=False)
    (folder / "pilot.yaml").write_text(SPEC_TEXT + "cost:\n  cost_per_participant: 2000\n"
                                       "  outcome_value: 4\n")
    return folder, list(frame["person_id"])


def test_evaluate_prints_and_saves_without_raw_ids(program, tmp_path):
    folder, raw_ids = program
    ws = tmp_path / "ws"
    shown = run_cli("evaluate", str(folder / "pilot.yaml"), "-w", str(ws))
    assert shown.returncode == 0, shown.stderr
    assert "ATE on earnings" in shown.stdout and "Assumption checks" in shown.stdout
    assert "MVPF" in shown.stdout and "saved" in shown.stderr
    saved = sorted((ws / "evaluations").glob("*.json"))
    assert len(saved) == 1
    everything = shown.stdout + shown.stderr + saved[0].read_text()
    assert not [i for i in raw_ids if i in everything]


def test_bad_spec_is_an_error_without_a_traceback(program, tmp_path):
    folder, _ = program
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC_TEXT.replace("data: pilot.csv", f"data: {folder / 'pilot.csv'}")
                   .replace("treatment:", "treatmnet:"))
    result = run_cli("evaluate", str(bad), "-w", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "line 5" in result.stderr and "treatmnet" in result.stderr
    assert "did you mean 'treatment'" in result.stderr


def test_formats_and_saved_results_in_process(program, tmp_path):
    folder, raw_ids = program
    ws = str(tmp_path / "ws")
    spec = str(folder / "pilot.yaml")
    as_json = runner.invoke(app, ["evaluate", spec, "-f", "json", "--no-save", "-w", ws])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    assert doc["design"] == "rct" and doc["cost"]["cost_per_participant"] == 2000
    md = runner.invoke(app, ["evaluate", spec, "-f", "md", "-w", ws])
    assert md.stdout.startswith("# Evaluation: ATE on earnings")
    listed = runner.invoke(app, ["evaluations", "-f", "json", "-w", ws])
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and rows[0]["name"].startswith("pilot-earnings-")
    shown = runner.invoke(app, ["evaluations", "pilot-earnings", "-f", "json", "-w", ws])
    assert json.loads(shown.stdout)["estimate"] == pytest.approx(doc["estimate"])
    out = tmp_path / "saved.html"
    again = runner.invoke(app, ["evaluations", "pilot-earnings", "-f", "html", "-o", str(out),
                                "-w", ws])
    assert again.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")
    fresh = tmp_path / "fresh.html"
    html = runner.invoke(app, ["evaluate", spec, "-f", "html", "-o", str(fresh), "--no-save",
                               "-w", ws])
    assert html.exit_code == 0 and "Baseline balance" in fresh.read_text()
    outputs = as_json.stdout + md.stdout + out.read_text() + fresh.read_text()
    assert not [i for i in raw_ids if i in outputs]
    no_output = runner.invoke(app, ["evaluate", spec, "-f", "html", "-w", ws])
    assert no_output.exit_code != 0 and "--output" in str(no_output.exception)


def test_plan_prints_mde_power_and_curve():
    result = runner.invoke(app, ["plan", "--design", "rct", "--n", "2000", "--sd", "4200",
                                 "--r2", "0.3", "--effect", "500"])
    assert result.exit_code == 0, result.output
    assert "Minimum detectable effect: 440.5" in result.stdout
    assert "Power to detect an effect of 500: 88.9%" in result.stdout
    assert "Power curve" in result.stdout
    bad = runner.invoke(app, ["plan", "--design", "lottery", "--n", "100"])
    assert bad.exit_code != 0 and "rct, cluster, did" in str(bad.exception)


def test_plan_json_for_every_design():
    cluster = runner.invoke(app, ["plan", "--design", "cluster", "--n", "40", "--cluster-size",
                                  "25", "--icc", "0.1", "-f", "json"])
    doc = json.loads(cluster.stdout)
    assert doc["design"] == "cluster" and doc["design_effect"] == pytest.approx(3.4)
    assert doc["mde"] == pytest.approx(0.3353, abs=1e-3)
    did = runner.invoke(app, ["plan", "--design", "did", "--n", "40", "--periods", "10",
                              "--rho", "0.6", "--sims", "400", "--effect", "0.8", "-f", "json"])
    doc = json.loads(did.stdout)
    assert doc["inputs"]["n_pre"] == 5 and len(doc["curve"]) >= 9
    assert 0 <= doc["power"] <= 1 and "naive_size" in doc["checks"]
    table = runner.invoke(app, ["plan", "--design", "did", "--n", "40", "--sims", "200"])
    assert "power analytic" in table.stdout and "serial correlation" in table.stdout


@pytest.mark.slow
def test_demo_prints_each_pilot_estimate_next_to_its_true_effect(demo_output, demo_built):
    result = demo_output  # `upward demo`, run once per session (tests/conftest.py)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Synthetic pilots" in out
    assert "job-training-earnings (rct): ATE on earnings_q4" in out
    assert "true effect" in out and "covers it: yes" in out
    assert "covers it: NO" not in out
    saved = list((demo_built / "ws" / "evaluations").glob("*.json"))
    from upward.demo.pilot import DESIGN_STUDIES

    assert len(saved) == 3 + len(DESIGN_STUDIES)  # every pilot is evaluated and saved
