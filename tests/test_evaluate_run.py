"""Running evaluations: YAML specs and their errors, data paths, saving and loading results,
identifiers kept out of every output, cost attached, and the demo pilots' known effects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.designs import DESIGNS
from upward.evaluate.run import (
    evaluate,
    list_evaluations,
    load_evaluation,
    load_spec,
    run_evaluation,
)
from upward.evaluate.spec import EvaluationSpec
from upward.warehouse.workspace import Workspace

TRUE_EFFECT = 400.0


def pilot_frame(n: int = 600, seed: int = 11) -> pd.DataFrame:
    """An RCT with a known constant effect of TRUE_EFFECT on earnings and raw string ids."""
    rng = np.random.default_rng(seed)
    treated = rng.permutation(np.repeat([1, 0], [n // 2, n - n // 2]))
    age = rng.integers(20, 60, n)
    earnings = 3000 + 25 * (age - 40) + TRUE_EFFECT * treated + rng.normal(0, 900, n)
    return pd.DataFrame({"person_id": [f"CITY-{900000 + 3 * i}" for i in range(n)],
                         "treated": treated, "age": age, "earnings": earnings.round(2)})


SPEC_TEXT = """\
name: Pilot earnings
data: pilot.csv
design: rct
outcome: earnings
treatment: treated
unit: person_id
covariates: [age]
options:
  permutations: 200
"""


@pytest.fixture
def pilot(tmp_path):
    folder = tmp_path / "program"
    folder.mkdir()
    frame = pilot_frame()
    frame.to_csv(folder / "pilot.csv", index=False)
    spec = folder / "pilot.yaml"
    spec.write_text(SPEC_TEXT)
    return spec, frame


def _write(tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_unknown_key_names_the_line_and_suggests_the_key(tmp_path):
    path = _write(tmp_path, SPEC_TEXT.replace("outcome:", "outcom:"))
    with pytest.raises(ConfigError) as err:
        load_spec(path)
    text = str(err.value)
    assert f"{path}, line 4: 'outcom' is not a spec key" in text
    assert "did you mean 'outcome'?" in text
    nested = _write(tmp_path, SPEC_TEXT + "cost:\n  cost_per_person: 3000\n", "n.yaml")
    with pytest.raises(ConfigError, match=r"line 11: 'cost.cost_per_person' is not a spec key"):
        load_spec(nested)


def test_bad_values_missing_keys_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match=r"line 10: alpha: Input should be less than 1"):
        load_spec(_write(tmp_path, SPEC_TEXT + "alpha: 5\n"))
    with pytest.raises(ConfigError, match="key 'design' is missing"):
        load_spec(_write(tmp_path, SPEC_TEXT.replace("design: rct\n", "")))
    with pytest.raises(ConfigError, match=r"line 6: not valid YAML .*flow sequence started on line 5"):
        load_spec(_write(tmp_path, SPEC_TEXT.replace("treatment: treated", "treatment: [a, b")))
    with pytest.raises(ConfigError, match="a spec is a list of 'key: value' lines"):
        load_spec(_write(tmp_path, "- rct\n- did\n"))
    with pytest.raises(InputFileError, match="the spec file does not exist"):
        load_spec(tmp_path / "nowhere.yaml")


def test_design_errors_name_the_spec(pilot):
    spec, _ = pilot
    spec.write_text(SPEC_TEXT.replace("design: rct", "design: lottery"))
    with pytest.raises(ConfigError) as err:
        evaluate(spec)
    assert f"{spec}, line 3: design: 'lottery' is not a design" in str(err.value)
    assert "rct" in err.value.fix
    spec.write_text(SPEC_TEXT.replace("treatment: treated\n", ""))
    with pytest.raises(ConfigError, match="design 'rct' needs treatment"):
        evaluate(spec)
    spec.write_text(SPEC_TEXT + "  strata: block\n")
    with pytest.raises(ConfigError, match="design 'rct' has no option strata"):
        evaluate(spec)


def test_missing_data_file_names_the_file_and_the_spec_line(pilot):
    spec, _ = pilot
    spec.write_text(SPEC_TEXT.replace("data: pilot.csv", "data: pilot-2024.csv"))
    with pytest.raises(InputFileError) as err:
        evaluate(spec)
    assert str(spec.parent / "pilot-2024.csv") in str(err.value)
    assert "'data:'" in str(err.value) and "line 2" in str(err.value)


def test_data_path_is_read_from_the_spec_folder(pilot, tmp_path, monkeypatch):
    spec, frame = pilot
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = evaluate(spec)
    assert result.n == len(frame)
    assert result.spec["data"] == "pilot.csv"  # as written, not the absolute path


def test_plumbing_does_not_change_the_estimate(pilot):
    """Reading, validating and hashing leave the numbers as they are: the estimate through
    evaluate() equals the design's estimator on the raw frame, and covers the known effect."""
    spec_path, frame = pilot
    spec = load_spec(spec_path).spec
    direct = DESIGNS["rct"].estimate(frame, spec)
    via_file = evaluate(spec_path)
    via_frame = evaluate(spec, data=frame)
    assert via_file.estimate == pytest.approx(direct.estimate, rel=1e-12)
    assert via_frame.estimate == pytest.approx(direct.estimate, rel=1e-12)
    assert via_file.se == pytest.approx(direct.se, rel=1e-12)
    assert via_file.ci_low < TRUE_EFFECT < via_file.ci_high


def test_results_are_saved_listed_loaded_and_free_of_raw_ids(pilot, tmp_path):
    spec, frame = pilot
    ws = Workspace.init(tmp_path / "ws")
    first = run_evaluation(spec, ws)
    second = run_evaluation(spec, ws)
    assert first.saved_to != second.saved_to
    assert first.saved_to.parent == ws.evaluations_dir
    assert first.saved_to.name.startswith("pilot-earnings-")
    text = first.saved_to.read_text()
    doc = json.loads(text)
    assert doc["estimate"] == pytest.approx(first.result.estimate)
    assert not [i for i in frame["person_id"] if i in text]
    listed = list_evaluations(ws)
    assert [s.path for s in listed] == [first.saved_to, second.saved_to]
    assert listed[0].design == "rct" and listed[0].outcome == "earnings"
    loaded = load_evaluation("pilot-earnings", ws)
    assert loaded.to_dict() == json.loads(second.saved_to.read_text())
    assert load_evaluation(first.saved_to).checks == first.result.checks
    with pytest.raises(Exception, match="no saved evaluation 'other'"):
        load_evaluation("other", ws)


def test_ids_hash_the_same_in_one_workspace_and_differently_in_another(pilot, tmp_path):
    spec, frame = pilot
    ws1, ws2 = Workspace.init(tmp_path / "a"), Workspace.init(tmp_path / "b")
    run1 = run_evaluation(spec, ws1, save=False).program.frame["person_id"]
    run2 = run_evaluation(spec, ws1, save=False).program.frame["person_id"]
    other = run_evaluation(spec, ws2, save=False).program.frame["person_id"]
    assert run1.tolist() == run2.tolist()
    assert not set(run1) & set(other)
    assert not set(run1) & set(frame["person_id"])
    assert list_evaluations(ws1) == []


def test_cost_analysis_is_attached(pilot):
    spec, _ = pilot
    spec.write_text(SPEC_TEXT + "cost:\n  cost_per_participant: 2000\n  outcome_value: 4\n"
                    "  fiscal_externality: 400\n")
    result = evaluate(spec)
    cost = result.cost
    assert cost["cost_per_participant"] == 2000
    assert cost["willingness_to_pay"] == pytest.approx(4 * result.estimate)
    assert cost["mvpf"] == pytest.approx(4 * result.estimate / 1600)
    assert cost["n_participants"] == result.n_treated
    spec.write_text(SPEC_TEXT + "cost:\n  cost_per_participant: 2000\n  total_cost: 600000\n")
    with pytest.raises(ConfigError, match="give only one"):
        evaluate(spec)


def test_excel_sheet_option_is_read_by_the_plumbing(tmp_path):
    frame = pilot_frame(200)
    with pd.ExcelWriter(tmp_path / "pilot.xlsx", engine="openpyxl") as xl:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xl, sheet_name="About", index=False)
        frame.to_excel(xl, sheet_name="Records", index=False)
    spec = _write(tmp_path, SPEC_TEXT.replace("pilot.csv", "pilot.xlsx") + "  sheet: Records\n")
    result = evaluate(spec)
    assert result.n == 200 and result.spec["options"]["sheet"] == "Records"
    spec.write_text(SPEC_TEXT.replace("pilot.csv", "pilot.xlsx") + "  sheet: Data\n")
    with pytest.raises(InputFileError, match="there is no sheet 'Data'"):
        evaluate(spec)


def test_unit_names_in_result_tables_are_hashed(tmp_path):
    rng = np.random.default_rng(5)
    common = np.cumsum(rng.normal(size=16))
    places = [f"Place {chr(65 + u)}" for u in range(9)]
    rows = [(p, 2008 + t, 50 + (1 + u / 8) * common[t] + rng.normal(scale=0.3)
             + (4.0 if u == 0 and t >= 11 else 0.0))
            for u, p in enumerate(places) for t in range(16)]
    pd.DataFrame(rows, columns=["place", "year", "rate"]).to_csv(tmp_path / "p.csv", index=False)
    spec = _write(tmp_path, "data: p.csv\ndesign: synthetic_control\noutcome: rate\n"
                  "unit: place\ntime: year\ntreated_unit: Place A\ntreatment_start: 2019\n")
    ws = Workspace.init(tmp_path / "ws")
    run = run_evaluation(spec, ws)
    text = run.saved_to.read_text()
    assert not [p for p in places if p in text]
    hashed = set(run.program.frame["place"])
    assert run.result.spec["treated_unit"] in hashed
    assert {r["unit"] for r in run.result.tables["donor_weights"]} <= hashed
    assert run.result.estimate == pytest.approx(4.0, abs=1.0)


def test_date_treatment_start_needs_dated_periods(tmp_path):
    panel = pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4],
                          "d": [0, 1, 0, 0]})
    spec = EvaluationSpec(data="p.csv", design="did", outcome="y", unit="u", time="t",
                          treatment="d", treatment_start="2022-01-01")
    with pytest.raises(ConfigError, match="treatment_start 2022-01-01 is a date"):
        evaluate(spec, data=panel)


@pytest.mark.xdist_group("demo-pilots")
def test_demo_pilots_recover_their_known_effects(tmp_path, demo_pilots):
    from upward.demo.pilot import write_pilot

    ws, evaluations = demo_pilots
    by_name = {e.study.name: e for e in evaluations}
    assert set(by_name) >= {"job-training-earnings", "job-training-employment",
                            "neighbourhood-rollout"}
    for e in evaluations:
        assert e.result is not None, f"{e.study.name} was not evaluated: {e.skipped}"
        assert e.recovered, f"{e.study.name}: {e.result.headline()} vs truth {e.study.true_effect}"
        assert e.saved_to.is_file()
        # 7 never-treated neighbourhoods are too few untreated clusters for analytic SEs
        # (#17): that check fails, honestly, and the headline is randomisation inference
        failed = [c for c in e.result.failed_checks() if c.name != "treated_clusters"]
        assert not failed, [c.detail for c in failed]
    rollout = next(c for c in by_name["neighbourhood-rollout"].result.checks
                   if c.name == "treated_clusters")
    assert rollout.passed is False and "7 of 30 clusters" in rollout.detail
    earnings = by_name["job-training-earnings"]
    assert 400 < earnings.study.true_effect < 900
    assert earnings.result.cost["mvpf"] is not None
    folder = ws.root / "demo-data" / "pilot"
    assert "SYNTHETIC" in (folder / "README-SYNTHETIC.txt").read_text()
    assert (folder / "job-training-earnings.yaml").read_text().startswith("# SYNTHETIC DEMO")
    raw = pd.read_csv(folder / "job_training.csv")["resident_id"]
    saved = earnings.saved_to.read_text()
    assert not [i for i in raw if i in saved]
    again = write_pilot(tmp_path / "again")
    assert (again.root / "job_training.csv").read_bytes() == (folder / "job_training.csv").read_bytes()


def test_docs_describe_every_spec_key_column_role_design_option_and_table():
    from tests.conftest import REPO

    from upward.evaluate.designs import TABLE_COLUMNS
    from upward.evaluate.programs import PROGRAM_COLUMNS, PROGRAM_OPTIONS
    from upward.evaluate.spec import CostSpec

    docs = (REPO / "docs" / "evaluate.md").read_text()
    for key in [*EvaluationSpec.model_fields, *CostSpec.model_fields, *PROGRAM_OPTIONS]:
        assert f"`{key}`" in docs, key
    for role in PROGRAM_COLUMNS:
        assert f"| `{role.key}` |" in docs, role.key
    for name, design in DESIGNS.items():
        section = docs.split(f'<a id="{name}"></a>', 1)
        assert len(section) == 2, f"docs/evaluate.md has no section #{name}"
        body = section[1].split("<a id=", 1)[0]
        for field in design.required:
            assert f"`{field}`" in body, (name, field)
        for option in design.options:
            assert f"`{option}`" in body, (name, option)
    flat = " ".join(docs.split())
    for key, columns in TABLE_COLUMNS.items():
        assert f"`{key}` ({', '.join(columns)})" in flat, key
