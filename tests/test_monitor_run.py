"""Monitored evaluations (evaluate/monitor.py, `upward monitor`): the demo pilot with a known
true effect ($400 for every participant, upward.demo.pilot) watched week by week; the saved
path; the table source; bad input."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from tests.conftest import run_cli

from upward.core.errors import ConfigError, InputFileError
from upward.demo.pilot import MONITOR_EFFECT, write_monitored_pilot
from upward.evaluate.monitor import (
    TableSource,
    load_monitor,
    monitor,
    monitor_path,
)
from upward.evaluate.run import evaluate
from upward.warehouse.workspace import Workspace


@pytest.fixture
def pilot(tmp_path):
    return write_monitored_pilot(tmp_path / "pilot", weeks=12)


def test_the_sequence_tightens_as_weeks_arrive_and_covers_the_truth(tmp_path):
    widths, results = [], {}
    for weeks in (2, 4, 8, 12):
        p = write_monitored_pilot(tmp_path / "pilot", weeks=weeks)
        m = monitor(p.spec_path, save=False)
        assert len(m.looks) == weeks
        widths.append(m.latest.upper - m.latest.lower)
        results[weeks] = m
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < 0.35 * widths[0]
    final = results[12].latest
    assert final.lower <= MONITOR_EFFECT <= final.upper
    # The sequence is wider than the one-look interval at the same look.
    assert final.upper - final.lower > final.fixed_upper - final.fixed_lower
    assert not results[2].act and results[2].verdict.startswith("Not yet")
    assert results[12].act and "raises earnings_q2" in results[12].verdict
    # Enrolment against the plan from `upward plan` (1,200 over 12 weeks) and cost to date.
    assert [look.planned_to_date for look in results[4].looks] == [100, 200, 300, 400]
    assert results[12].planned_enrolment == 1200
    cost = results[12].cost
    assert cost.spent_to_date == pytest.approx(12 * 6000 + 450 * 600)
    assert cost.per_participant == pytest.approx(cost.spent_to_date / 600)
    low, high = cost.per_unit_outcome_range
    assert low < cost.per_unit_outcome < high


def test_a_null_program_is_not_declared_effective(tmp_path, pilot):
    # Same pilot with the effect removed from the coached: every look must include zero
    # (a single seeded check; the error rate itself is simulated in test_monitor_sequential).
    for path in sorted(pilot.weekly.glob("*.csv")):
        frame = pd.read_csv(path)
        frame.loc[frame["coached"] == 1, "earnings_q2"] -= MONITOR_EFFECT
        frame.to_csv(path, index=False)
    m = monitor(pilot.spec_path, save=False)
    assert not m.act
    assert all(look.lower <= 0 <= look.upper for look in m.looks)
    assert "does not show an effect" in m.verdict


def test_the_path_is_saved_atomically_and_remembers_when_each_week_arrived(tmp_path, pilot):
    ws = Workspace.init(tmp_path / "ws")
    first = monitor(pilot.spec_path, ws)
    saved = monitor_path(ws, "job-search-coaching")
    assert saved.is_file() and not list(saved.parent.glob(".*.tmp"))
    again = load_monitor(ws, "job-search-coaching")
    assert [x.estimate for x in again.looks] == pytest.approx([x.estimate for x in first.looks])
    doc = json.loads(saved.read_text())
    doc["looks"][0]["first_seen"] = "2026-01-05T09:00:00+00:00"
    saved.write_text(json.dumps(doc))
    week1 = pilot.weekly / "week-01.csv"
    week1.write_text(week1.read_text().replace("\n", "\n", 1))  # unchanged content
    assert monitor(pilot.spec_path, ws).looks[0].first_seen == "2026-01-05T09:00:00+00:00"
    frame = pd.read_csv(week1)
    frame.loc[0, "earnings_q2"] += 1
    frame.to_csv(week1, index=False)
    changed = monitor(pilot.spec_path, ws)
    assert any("week-01 changed after it was first seen" in n for n in changed.notes)
    # No raw identifier is saved.
    assert "JS-" not in saved.read_text()


def test_a_table_source_gives_the_same_path_as_the_folder(pilot):
    frames = [pd.read_csv(p, dtype=str).assign(week=str(k))
              for k, p in enumerate(sorted(pilot.weekly.glob("*.csv")), start=1)]
    table = TableSource(lambda: pd.concat(frames, ignore_index=True), "week", "feed:pilot")
    from_table = monitor(pilot.spec_path, source=table, save=False)
    from_folder = monitor(pilot.spec_path, save=False)
    assert [x.estimate for x in from_table.looks] == pytest.approx(
        [x.estimate for x in from_folder.looks])
    assert from_table.source == "feed:pilot"


def test_bad_input_is_refused_with_the_file_row_and_column(tmp_path, pilot):
    repeat = pd.read_csv(pilot.weekly / "week-01.csv").head(1)
    later = pd.read_csv(pilot.weekly / "week-05.csv")
    pd.concat([later, repeat]).to_csv(pilot.weekly / "week-05.csv", index=False)
    with pytest.raises(InputFileError, match=r"week-05.csv, row 102, column 'participant_id'"
                       r": this unit already arrived in .*week-01.csv"):
        monitor(pilot.spec_path, save=False)
    shutil.rmtree(pilot.weekly)
    pilot.weekly.mkdir()
    with pytest.raises(InputFileError, match="no data has arrived yet"):
        monitor(pilot.spec_path, save=False)


def test_bad_spec_plan_and_costs(tmp_path, pilot):
    spec = pilot.spec_path.read_text()
    (pilot.spec_path.parent / "did.yaml").write_text(spec.replace("design: rct", "design: did"))
    with pytest.raises(ConfigError, match=r"did.yaml, line .*needs design: rct"):
        monitor(pilot.spec_path.parent / "did.yaml", save=False)
    with pytest.raises(ConfigError, match=r"monitored evaluation.*upward monitor SPEC"):
        evaluate(pilot.spec_path)
    (pilot.spec_path.parent / "plan.json").write_text('{"design": "rct"}')
    with pytest.raises(InputFileError, match=r"plan\.json: is not a plan written by"):
        monitor(pilot.spec_path, save=False)
    write_monitored_pilot(pilot.spec_path.parent, weeks=3)
    (pilot.spec_path.parent / "costs.csv").write_text("week,spent\nweek-01,12k\n")
    with pytest.raises(InputFileError, match=r"costs\.csv, row 2, column .spent."):
        monitor(pilot.spec_path, save=False)


def test_cli_monitor_demo_and_evaluate_monitor(tmp_path):
    ws = tmp_path / "ws"
    shown = run_cli("monitor", "--demo", "3", "-w", str(ws))
    assert shown.returncode == 0, shown.stderr
    assert "Not yet" in shown.stdout and "week-03" in shown.stdout
    html = tmp_path / "m.html"
    done = run_cli("monitor", "--demo", "12", "-w", str(ws), "-f", "html", "-o", str(html))
    assert done.returncode == 0, done.stderr
    page = html.read_text()
    assert "Strong enough to act" in page and "confidence sequence" in page
    assert page.count("<table") >= 3
    spec = ws / "demo-data" / "pilot" / "monitored" / "job-search-coaching.yaml"
    as_json = run_cli("evaluate", str(spec), "--monitor", "-w", str(ws), "-f", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert len(json.loads(as_json.stdout)["looks"]) == 12
    refused = run_cli("monitor", "--demo", "13", "-w", str(ws))
    assert refused.returncode != 0 and "weeks 1 to 12" in refused.stderr
