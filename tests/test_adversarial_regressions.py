"""Regression tests for the defects an adversarial run found (issue #14, "Found by the
adversarial run"): every write leaves a loadable store, published CSV cells never run as
spreadsheet formulas, specs cannot blow up the YAML parser, and no message loses its brackets."""

from __future__ import annotations

import csv
import io
import json

import pytest
from tests.conftest import DATA, HAVE_DATA, run_cli

from upward.core.errors import ConfigError
from upward.evaluate.run import MAX_SPEC_ALIASES, load_spec
from upward.evidence.library import EvidenceLibrary
from upward.evidence.schema import LibraryDocument
from upward.privacy.spreadsheet import restore_text, spreadsheet_safe
from upward.warehouse.workspace import Workspace
from upward.web.tables import Column, TableData

FORMULAS = ["=1+2", "+SUM(A1:A9)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","y")', "\t=1"]


def _study(**extra) -> dict:
    study = {"id": "pilot", "intervention_id": "training", "title": "Pilot", "design": "rct",
             "citation": "Doe (2024)",
             "effects": [{"outcome": "earnings_annual", "measure": "md", "estimate": 900.0,
                          "se": 300.0}]} | extra
    return {"interventions": [{"id": "training", "name": "Training", "policy_area": "workforce"}],
            "studies": [study]}


def test_a_check_that_could_not_run_is_stored_and_the_library_still_loads(tmp_path):
    """#14.1: an RCT without covariates has a balance check with no pass/fail (None); saving it
    used to drop the field and leave a library that no longer loaded."""
    ws = Workspace.init(tmp_path / "ws")
    lib = EvidenceLibrary(ws)
    lib.add(_study(checks=[{"name": "balance", "passed": None, "detail": "no covariates"}]))
    reloaded = EvidenceLibrary(ws)
    assert reloaded.study("pilot").checks[0].passed is None
    assert LibraryDocument.model_validate(json.loads(lib.path.read_text())).studies[0].id == "pilot"


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_cells_are_neutralised(text):
    assert spreadsheet_safe(text) == "'" + text
    assert restore_text(spreadsheet_safe(text)) == text


@pytest.mark.parametrize("number", ["-12.5", "+3", "-1,234", "-0.5e-3", "-7%"])
def test_numbers_stay_numbers(number):
    assert spreadsheet_safe(number) == number


def test_web_csv_download_cannot_carry_a_formula():
    table = TableData("t", "c", [Column("name", "Name"), Column("value", "Value")],
                      [{"name": f, "value": -1.5} for f in FORMULAS])
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert [r["name"] for r in rows] == ["'" + f for f in FORMULAS]
    assert {r["value"] for r in rows} == {"-1.5"}


def test_evidence_csv_export_is_safe_and_round_trips(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    EvidenceLibrary(ws).add(_study(title="=cmd|' /C calc'!A0", city="@Tulsa"))
    text = EvidenceLibrary(ws).export_csv()
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["study_title"].startswith("'=") and row["city"] == "'@Tulsa"
    path = tmp_path / "e.csv"
    path.write_text(text)
    other = Workspace.init(tmp_path / "other")
    EvidenceLibrary(other).import_file(path)
    study = EvidenceLibrary(other).study("pilot")
    assert study.title == "=cmd|' /C calc'!A0" and study.city == "@Tulsa"


def _spec(tmp_path, text: str | bytes):
    path = tmp_path / "spec.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """#14.7: the 'billion laughs' shape: nine levels of doubling anchors."""
    lines = ["a: &a [x, x]"] + [f"{k}: &{k} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
                                for p, k in zip("abcdefgh", "bcdefghi", strict=True)]
    with pytest.raises(ConfigError, match=f"more than {MAX_SPEC_ALIASES} YAML aliases"):
        load_spec(_spec(tmp_path, "\n".join(lines) + "\n"))


def test_deeply_nested_yaml_is_an_error_not_a_crash(tmp_path):
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_spec(_spec(tmp_path, "data: " + "[" * 200_000 + "]" * 200_000 + "\n"))


def test_binary_spec_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not a text file"):
        load_spec(_spec(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))


def test_brackets_in_an_error_message_are_printed_as_written(tmp_path):
    """#14.6: messages went through Rich markup, so '[...]' vanished or raised MarkupError."""
    spec = _spec(tmp_path, 'data: pilot.csv\ndesign: rct\noutcome: y\n"[/bold] [red]key": 1\n')
    result = run_cli("evaluate", str(spec), "-w", str(tmp_path / "ws"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    assert "'[/bold] [red]key' is not a spec key" in result.stderr


def test_a_directory_given_as_a_bundle_is_a_clear_error(tmp_path):
    Workspace.init(tmp_path / "ws")
    result = run_cli("evidence", "import", str(tmp_path), "--trust", "x", "-w",
                     str(tmp_path / "ws"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "error" in result.stderr


@pytest.mark.realdata
@pytest.mark.skipif(not HAVE_DATA, reason=f"real public files absent: {DATA}")
@pytest.mark.parametrize("cut", ["header only", "cut at a line boundary"])
def test_a_shrunken_reload_is_refused_unless_asked_for(tmp_path, cut):
    """#14.2: a header-only (or line-truncated) Urban file used to report 'loaded (0 rows)' and
    replace the 2,133 rows already loaded."""
    from upward import fetch
    from upward.warehouse.store import ShrinkingLoadError, Warehouse

    name = "mobility-metrics_place_recent.csv"
    good, bad = tmp_path / "good" / "urban", tmp_path / "bad" / "urban"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    lines = (DATA / "urban" / name).read_text(encoding="utf-8").splitlines(keepends=True)
    (good / name).write_text("".join(lines), encoding="utf-8")
    kept = lines[:1] if cut == "header only" else lines[: len(lines) // 2]
    (bad / name).write_text("".join(kept), encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws")
    fetch(ws, ["urban"], from_dir=good.parent)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        before = wh.counts()
    with pytest.raises(ShrinkingLoadError, match=r"fewer than the .* already loaded.*--allow-shrink"):
        fetch(ws, ["urban"], from_dir=bad.parent)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        assert wh.counts() == before
    result = run_cli("fetch", "urban", "--from", str(bad.parent), "-w", str(ws.root))
    assert result.returncode != 0 and "--allow-shrink" in result.stderr
    assert "Traceback" not in result.stderr
    fetch(ws, ["urban"], from_dir=bad.parent, allow_shrink=True)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        assert wh.counts()["observations"] < before["observations"]


@pytest.mark.parametrize("shape", ["payload is a list", "origin is a string", "deep nesting"])
def test_malformed_bundles_are_refused_before_the_trust_check(tmp_path, shape):
    """#14.6: these raised AttributeError/RecursionError tracebacks."""
    from upward.evidence.bundle import FORMAT, VERSION, BundleError, verify_bundle

    ws = Workspace.init(tmp_path / "ws")
    sig = {"public_key": "A" * 43 + "=", "value": "A" * 86 + "==", "fingerprint": "x"}
    path = tmp_path / "b.bundle.json"
    if shape == "deep nesting":
        path.write_text('{"format": "' + FORMAT + '", "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    else:
        payload = [] if shape == "payload is a list" else {"origin": "Tulsa", "document": {}}
        path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "payload": payload,
                                    "payload_sha256": "0" * 64, "signature": sig}))
    with pytest.raises(BundleError, match=r"nested too deeply|incomplete"):
        verify_bundle(ws, path, trust=["anything"])


@pytest.fixture(scope="module")
def real_client(real_workspace):
    from fastapi.testclient import TestClient
    from tests.support.web import app_for

    return TestClient(app_for(real_workspace), raise_server_exceptions=False)


def test_the_profile_api_does_not_reveal_server_paths(real_client, real_workspace):
    """#14.9: source addresses were file:// URIs of the server's own folders."""
    response = real_client.get("/api/places/4075000/profile")
    assert response.status_code == 200
    assert "file://" not in response.text and str(DATA.resolve()) not in response.text
    urls = [s["url"] for s in response.json()["sources"]]
    assert urls and all(u.startswith(("https://", "http://", "local copy of ")) for u in urls)


@pytest.mark.parametrize("path", ["/api/places", "/places/4075000", "/api/metrics"])
def test_405_names_the_allowed_methods(real_client, path):
    """#14.9: 405 answers lacked the Allow header that HTTP requires."""
    response = real_client.delete(path)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert "Traceback" not in response.text


def test_an_outcome_without_variation_is_refused(tmp_path):
    """#14.8: a zero-variance outcome was saved with SE, CI and p all null and no failed check."""
    data = tmp_path / "pilot.csv"
    data.write_text("id,treated,earnings\n" + "".join(
        f"p{i},{i % 2},1200\n" for i in range(40)))
    spec = _spec(tmp_path, "data: pilot.csv\ndesign: rct\noutcome: earnings\ntreatment: treated\n")
    ws = Workspace.init(tmp_path / "ws")
    result = run_cli("evaluate", str(spec), "-w", str(ws.root))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "line 3: the outcome 'earnings' is 1200 in all 40 records" in result.stderr
    assert not list(ws.evaluations_dir.glob("*.json"))  # nothing saved


def _pilot_with_small_attrition(tmp_path):
    """100 assigned to each arm; the outcome is missing for 5 treated and 30 control people."""
    rows = ["id,treated,earnings"]
    for i in range(200):
        treated = i < 100
        missing = (i < 5) if treated else (i < 130)
        value = "" if missing else f"{1000 + (i * 37) % 400 + (150 if treated else 0)}"
        rows.append(f"p{i},{int(treated)},{value}")
    (tmp_path / "pilot.csv").write_text("\n".join(rows) + "\n")
    return _spec(tmp_path, "data: pilot.csv\ndesign: rct\noutcome: earnings\ntreatment: treated\n")


def _attack_page(html: str, assigned: int, total_missing: int) -> set[int]:
    """Everything a reader of the whole page can infer about the treated arm's missing count:
    from the arm sizes, the attrition table and its chart data, the attrition check's words and
    its exact test's p-value (inverted over every split of the known total)."""
    import re

    from bs4 import BeautifulSoup

    from upward.evaluate.inference import two_proportion_test

    text = BeautifulSoup(html, "html.parser").get_text(" ")
    found: set[int] = set()
    for match in re.finditer(r"Treated\s+([\d,]+)\b", text):
        found.add(assigned - int(match.group(1).replace(",", "")))
    for match in re.finditer(r"treatment\s+([\d,]+)\s+([\d,]+)", text):
        found.add(int(match.group(1).replace(",", "")) - int(match.group(2).replace(",", "")))
    for match in re.finditer(r"missing for ([\d.]+)% of treated", text):
        found.add(round(float(match.group(1)) * assigned / 100))
    for match in re.finditer(r"difference ([-+\d.]+) points", text):
        for control in re.finditer(r"([\d.]+)% of control", text):
            rate = float(control.group(1)) + float(match.group(1))
            found.add(round(rate * assigned / 100))
    for match in re.finditer(r"exact p = ([\d.]+)", text):
        splits = [m for m in range(total_missing + 1) if match.group(1) ==
                  f"{two_proportion_test(m, assigned, total_missing - m, assigned):.3f}"]
        if len(splits) == 1:  # the printed p-value pins the split down
            found.update(splits)
    return found


def test_no_number_on_an_evaluation_page_reveals_a_small_cell(tmp_path):
    """#14.3: the attrition table's small cells were suppressed, but the same page printed the
    arm sizes (Treated 95 of 100 assigned) and the attrition rates, so 5 was recovered by
    subtraction. The attack reads the whole page."""
    from upward.evaluate.run import run_evaluation
    from upward.report.evaluation import render_evaluation_report

    run = run_evaluation(_pilot_with_small_attrition(tmp_path), save=False)
    assert run.result.n == 165
    unprotected = _attack_page(render_evaluation_report(run.result, k=2), 100, 35)
    assert 5 in unprotected  # the attack works when no cell is under k (k = 2)
    published = render_evaluation_report(run.result)
    assert 5 not in _attack_page(published, 100, 35)
    assert "Disclosure control" in published


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_an_infinite_or_missing_number_is_not_an_estimate(tmp_path, value):
    """#14.8: `inf` was accepted as an effect estimate and pooled."""
    from upward.core.errors import UpwardError
    from upward.evidence.library import read_evidence_csv

    path = tmp_path / "effects.csv"
    path.write_text("intervention_id,study_title,design,outcome,measure,estimate,se\n"
                    f"job_training,Trial A,rct,earnings_annual,md,{value},100\n")
    with pytest.raises(UpwardError) as caught:
        read_evidence_csv(path)
    assert "finite number" in str(caught.value) and "effects.csv" in str(caught.value)
    assert "row 2" in str(caught.value) or "line 2" in str(caught.value)


def test_a_zero_cost_says_why_there_is_no_ratio():
    """#14.8: a benefit of 5 for a cost of 0 (a 5:0 ratio) was dropped without a note."""
    from upward.evaluate.cost import analyse_cost
    from upward.evaluate.result import EvaluationResult
    from upward.evaluate.spec import CostSpec

    result = EvaluationResult("rct", "m", "earnings", "ATE", 5.0, 1.0, 3.0, 7.0, 0.001, 100)
    analysis = analyse_cost(result, CostSpec(cost_per_participant=0, outcome_value=1.0))
    assert analysis.benefit_cost_ratio is None
    assert any("cost per participant is 0" in note for note in analysis.notes)
    with pytest.raises(ValueError, match="finite number"):
        CostSpec(cost_per_participant=float("inf"))


def test_a_busy_worker_answers_503_with_retry_after_instead_of_queueing():
    """#14.5: 200 clients on uncached profiles queued until 80% of them timed out. Over the
    limit, a request is answered at once with 503 and Retry-After; once the work in progress
    ends, requests are served again."""
    import asyncio

    import httpx

    from upward.web.limits import ConcurrencyLimit

    async def scenario():
        release = asyncio.Event()

        async def slow_app(scope, receive, send):
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"profile"})

        limited = ConcurrencyLimit(slow_app, limit=1)
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://upward") as client:
            first = asyncio.create_task(client.get("/api/places/4075000/profile"))
            while limited.in_flight == 0:
                await asyncio.sleep(0)
            refused_api = await client.get("/api/places/4075000/profile")
            refused_page = await client.get("/places/4075000")
            release.set()
            served = await first
            again = await client.get("/api/places/4075000/profile")
        return refused_api, refused_page, served, again

    refused_api, refused_page, served, again = asyncio.run(scenario())
    assert refused_api.status_code == 503 and refused_api.headers["retry-after"] == "2"
    assert "busy" in refused_api.json()["detail"]
    assert refused_page.status_code == 503 and "text/html" in refused_page.headers["content-type"]
    assert served.status_code == 200 and again.status_code == 200


def test_the_app_sheds_load_and_its_cache_is_bounded_in_bytes(tmp_path):
    """#14.5: the served app carries the limit, and the answers it keeps are bounded in memory
    (448 MB were held after 200 clients), oldest out first."""
    from upward.web.app import create_app
    from upward.web.data import _LRU
    from upward.web.limits import ConcurrencyLimit

    app = create_app(Workspace.init(tmp_path / "ws"))
    assert any(m.cls is ConcurrencyLimit for m in app.user_middleware)
    cache = _LRU(size=1000, max_bytes=10_000)
    for i in range(100):
        cache.put((i,), "x" * 1000)
    assert cache.bytes <= 10_000 and cache.get((99,)) is not None and cache.get((0,)) is None
