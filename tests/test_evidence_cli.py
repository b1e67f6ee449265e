"""`upward evidence …` from the command line: add, import, export, list, show, pool, project,
bundles between two workspaces, and errors printed without a traceback."""

from __future__ import annotations

import json

import pytest
from tests.conftest import run_cli
from typer.testing import CliRunner

from upward.cli.main import app
from upward.core.errors import UpwardError
from upward.evidence.library import EvidenceLibrary
from upward.warehouse.workspace import Workspace

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    Workspace.init(root)
    cli("evidence", "add-published", "-w", str(root))
    return root


def test_list_show_pool_and_project(ws):
    listing = json.loads(cli("evidence", "list", "-f", "json", "-w", str(ws)))
    assert [r["id"] for r in listing] == ["moving-to-opportunity", "national-supported-work"]
    housing = json.loads(cli("evidence", "list", "--policy-area", "housing", "-f", "json",
                             "-w", str(ws)))
    assert [r["id"] for r in housing] == ["moving-to-opportunity"]
    assert json.loads(cli("evidence", "list", "--rating", "2", "-f", "json", "-w", str(ws))) == []
    shown = json.loads(cli("evidence", "show", "national-supported-work", "-f", "json",
                           "-w", str(ws)))
    assert len(shown["studies"]) == 2 and "essa" in shown["ratings"]
    study = json.loads(cli("evidence", "show", "mto-young-children-chk-2016", "-f", "json",
                           "-w", str(ws)))
    assert study["study"]["effects"][0]["estimate"] == 1624.0
    pooled = json.loads(cli("evidence", "pool", "national-supported-work", "--outcome",
                            "earnings_annual", "--method", "FE", "-f", "json", "-w", str(ws)))
    assert pooled["pooled"]["k"] == 2 and pooled["pooled"]["method"] == "FE"
    text = cli("evidence", "pool", "national-supported-work", "--outcome", "earnings_annual",
               "--hk", "-w", str(ws))
    assert "REML, HK, k = 2" in text
    projected = json.loads(cli("evidence", "project", "national-supported-work", "--place",
                               "Tulsa, OK", "--outcome", "earnings_annual", "--eligible", "5000",
                               "--take-up", "0.3", "--cost", "8000", "-f", "json",
                               "-w", str(ws)))
    assert projected["projection"]["participants"] == pytest.approx(1500)
    assert projected["projection"]["total_cost"] == pytest.approx(12_000_000)


def test_add_csv_and_export_formats(ws, tmp_path):
    csv_file = tmp_path / "pilot.csv"
    csv_file.write_text(
        "intervention_id,intervention_name,policy_area,study_title,design,city,evaluation_id,"
        "outcome,measure,estimate,se,n,n_treated,n_control\n"
        "coaching,Career coaching,workforce,Tulsa pilot,rct,\"Tulsa, OK\",e1,earnings,md,500,200,"
        "400,200,200\n"
        "coaching,Career coaching,workforce,Tiny pilot,rct,\"Tulsa, OK\",e2,earnings,md,900,600,"
        "16,8,8\n")
    assert "added 1 intervention(s), 2 study(ies)" in cli("evidence", "add", str(csv_file),
                                                          "-w", str(ws))
    out = tmp_path / "public.json"
    cli("evidence", "export", "-f", "json", "-o", str(out), "-w", str(ws))
    public = json.loads(out.read_text())
    titles = {s["title"] for s in public["studies"]}
    assert "Tulsa pilot" in titles and "Tiny pilot" not in titles
    restricted = json.loads(cli("evidence", "export", "--restricted", "--intervention",
                                "coaching", "-w", str(ws)))
    assert {s["title"] for s in restricted["studies"]} == {"Tulsa pilot", "Tiny pilot"}
    csv_text = cli("evidence", "export", "-f", "csv", "-w", str(ws))
    assert csv_text.splitlines()[0].startswith("intervention_id,")


def test_from_evaluation_command(ws, tmp_path):
    from upward.evaluate.result import Check, EvaluationResult

    result = EvaluationResult(
        "rct", "difference in means", "earnings_q4", "ATE", 730.0, 124.0, 487.0, 973.0, 1e-6,
        1840, n_treated=920, n_control=920, checks=[Check("attrition", True, "8% each arm")],
        tables={"attrition": [
            {"group": "treatment", "n_assigned": 1000, "n_observed": 920, "rate": 0.08},
            {"group": "control", "n_assigned": 1000, "n_observed": 920, "rate": 0.08}]},
        cost={"cost_per_participant": 3200.0})
    path = tmp_path / "pilot-20250101T000000Z.json"
    path.write_text(result.to_json())
    cli("evidence", "from-evaluation", str(path), "--intervention", "job-training",
        "--name", "Job training", "--city", "Tulsa, OK", "--follow-up-months", "12",
        "--dollar-year", "2024", "-w", str(ws))
    lib = EvidenceLibrary(Workspace.open(ws))
    study = lib.studies("job-training")[0]
    assert study.evaluation_id == "pilot-20250101T000000Z"
    assert study.provenance[0].action == "from_evaluation"
    assert lib.intervention("job-training").cost_per_participant == 3200.0
    second = EvaluationResult("rct", "difference in means", "employed_q4", "ATE", 0.1, 0.02,
                              None, None, 1e-6, 1840, n_treated=920, n_control=920)
    path2 = tmp_path / "pilot-employment-20250101T000000Z.json"
    path2.write_text(second.to_json())
    cli("evidence", "from-evaluation", str(path2), "--intervention", "job-training",
        "--study-id", study.id, "-w", str(ws))
    merged = EvidenceLibrary(Workspace.open(ws)).study(study.id)
    assert [e.outcome for e in merged.effects] == ["earnings_q4", "employed_q4"]
    assert merged.evaluation_id.endswith("; pilot-employment-20250101T000000Z")
    # #12: without --intervention the id is made from the evaluation's name, and said; the
    # study is titled by its design and intervention, never by the saved file's name.
    out = cli("evidence", "add", str(path), "--evaluation", "--dollar-year", "2024",
              "-w", str(ws))
    assert "intervention: earnings-q4 (made from the evaluation's name" in out
    added = EvidenceLibrary(Workspace.open(ws)).studies("earnings-q4")[0]
    assert added.title == "Randomised controlled trial of earnings q4"
    assert study.title == "Randomised controlled trial of Job training in Tulsa, OK"
    # a money outcome without the year of its dollars is refused, naming the option
    with pytest.raises(UpwardError, match="--dollar-year"):
        cli("evidence", "from-evaluation", str(path), "--intervention", "other",
            "--unit", "dollars per quarter", "-w", str(ws))


def test_bundle_between_two_workspaces(ws, tmp_path):
    bundle = tmp_path / "tulsa.bundle.json"
    made = cli("evidence", "export", "--format", "bundle", "-o", str(bundle), "-w", str(ws))
    assert "signed by" in made
    other = tmp_path / "dayton"
    Workspace.init(other)
    with pytest.raises(UpwardError, match="does not trust"):
        cli("evidence", "import", str(bundle), "-w", str(other))
    key = cli("evidence", "key", "-w", str(ws)).split()[2]
    cli("evidence", "trust", key, "--name", "City of Tulsa", "-w", str(other))
    assert "added 2 intervention(s), 3 study(ies)" in cli("evidence", "import", str(bundle),
                                                          "-w", str(other))


def test_errors_are_printed_without_a_traceback(tmp_path, capsys, monkeypatch):
    """As a user runs it: a bad file and an unknown intervention exit non-zero with a message
    naming the row/column or the ids that exist (one real subprocess; one through main())."""
    import sys

    from upward.cli.main import main

    root = tmp_path / "ws"
    Workspace.init(root)
    bad = tmp_path / "bad.csv"
    bad.write_text("intervention_id,study_title,design,outcome,measure,estimate,se\n"
                   "x,Pilot,rct,earnings,md,not-a-number,1\n")
    done = run_cli("evidence", "add", str(bad), "-w", str(root))
    assert done.returncode == 2
    assert "row 2, column 'estimate'" in done.stderr and "Traceback" not in done.stderr
    monkeypatch.setattr(sys, "argv", ["upward", "evidence", "pool", "nsw", "--outcome",
                                      "earnings", "-w", str(root)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no intervention 'nsw'" in err and "Traceback" not in err
