"""The published evidence base (``upward fetch evidence``): Hendren & Sprung-Keyser's (2020)
program estimates from ../shared/data/evidence loaded as interventions, studies and effects.

Pooled estimates are recomputed here from the CSV, read with the csv module, with a
DerSimonian–Laird computation written in this file and with statsmodels' ``combine_effects``
(Paule–Mandel), for the four top-tax-rate reforms whose elasticity of taxable income several
papers estimate."""

from __future__ import annotations

import csv
import json
import math
import shutil

import numpy as np
import pytest
from tests.conftest import DATA, run_cli

from upward.core.errors import InputFileError
from upward.evidence.library import EvidenceConflictError, EvidenceLibrary
from upward.evidence.policy_impacts import fetch_evidence, outcome_domain
from upward.evidence.projection import pool_evidence
from upward.evidence.schema import slugify
from upward.warehouse.workspace import Workspace

EVIDENCE = DATA / "evidence"
ESTIMATES = EVIDENCE / "policy_impacts_causal_estimates.csv"
pytestmark = pytest.mark.skipif(not ESTIMATES.is_file(),
                                reason=f"published evidence absent: {EVIDENCE}")
ETI_PROGRAMS = ("EGTRRA01", "ERTA81", "OBRA93", "TRA86")


def rows() -> list[dict]:
    with ESTIMATES.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = Workspace.init(tmp_path_factory.mktemp("evidence") / "ws")
    result = fetch_evidence(ws, DATA)
    assert "713 estimates → 96 interventions" in str(result)
    return ws


def dersimonian_laird(y, v):
    """Random-effects pooling, DerSimonian & Laird (1986), written out for this test."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - (len(y) - 1)) / c)
    ws_ = 1 / (v + tau2)
    mu = np.sum(ws_ * y) / np.sum(ws_)
    return mu, math.sqrt(1 / np.sum(ws_)), tau2


def eti_rows(program: str) -> list[dict]:
    return [r for r in rows() if r["program_id"] == program and r["stata_local"] == "ETI"
            and r["se"]]


def test_everything_is_loaded_and_each_row_says_whether_it_is_pooled(ws):
    doc = EvidenceLibrary(ws).document()
    source = rows()
    assert len(doc.interventions) == 96
    assert len(doc.studies) == len({(r["program_id"], r["citation"]) for r in source})
    effects = [e for s in doc.studies for e in s.effects]
    assert len(effects) == len(source) == 713
    for e in effects:
        assert e.poolable() != bool(e.not_pooled)
        if e.estimate_type != "causal_effect":
            assert not e.poolable() and "not a causal effect" in e.not_pooled
        if e.se is None:
            assert not e.poolable() and "no standard error" in e.not_pooled
    # the counts the file's README gives: 603 causal rows, 384 of them with an SE
    causal = [e for e in effects if e.estimate_type == "causal_effect"]
    assert len(causal) == 603 and sum(e.se is not None for e in causal) == 384
    # every effect keeps its file and line
    assert all(".do:" in e.source_location for e in effects)


@pytest.mark.parametrize("program", ETI_PROGRAMS)
def test_pooled_elasticity_matches_an_independent_dersimonian_laird(ws, program):
    source = eti_rows(program)
    assert len(source) >= 4 and len({r["citation"] for r in source}) == len(source)
    y = [float(r["value"]) for r in source]
    v = [float(r["se"]) ** 2 for r in source]
    mu, se, tau2 = dersimonian_laird(y, v)
    pooled = pool_evidence(ws, slugify(program), "eti", method="DL").pooled
    assert pooled.k == len(source)
    assert pooled.estimate == pytest.approx(mu, rel=1e-9)
    assert pooled.se == pytest.approx(se, rel=1e-9)
    assert pooled.tau2 == pytest.approx(tau2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("program", ETI_PROGRAMS)
def test_pooled_elasticity_matches_statsmodels_paule_mandel(ws, program):
    meta = pytest.importorskip("statsmodels.stats.meta_analysis")
    source = eti_rows(program)
    y = np.array([float(r["value"]) for r in source])
    v = np.array([float(r["se"]) ** 2 for r in source])
    res = meta.combine_effects(y, v, method_re="iterated")
    pooled = pool_evidence(ws, slugify(program), "eti", method="PM").pooled
    assert pooled.estimate == pytest.approx(res.mean_effect_re, rel=1e-5)
    assert pooled.tau2 == pytest.approx(res.tau2, rel=1e-4, abs=1e-8)


def test_units_are_normalised_where_stated_and_marked_unverified_otherwise(ws):
    lib = EvidenceLibrary(ws)
    mto = {e.outcome: e for s in lib.studies("mto") for e in s.effects}
    source = {r["stata_local"]: r for r in rows() if r["program_id"] == "MTO"}
    college = mto["college_effect_young"]
    assert source["college_effect_young"]["units"] == "percentage points"
    assert college.unit == "share (0-1)" and college.unit_verified
    assert college.estimate == pytest.approx(float(source["college_effect_young"]["value"]) / 100)
    assert college.se == pytest.approx(float(source["college_effect_young"]["se"]) / 100)
    # dollars of a stated year carry it; dollars of no stated year are never pooled
    dated = [e for s in lib.document().studies for e in s.effects if e.unit.startswith("2015 ")]
    assert dated and all(e.dollar_year == 2015 for e in dated)
    undated = [e for s in lib.document().studies for e in s.effects
               if e.unit == "dollars" and e.estimate_type == "causal_effect"]
    assert undated and all("dollar year not stated" in e.not_pooled for e in undated)
    # a program nobody reviewed by hand: its units are a reading of the comments
    cc = [e for s in lib.studies("cc-texas") for e in s.effects]
    assert cc and not any(e.unit_verified for e in cc)


def test_effects_are_tagged_with_domain_and_population(ws):
    lib = EvidenceLibrary(ws)
    eti = [e for s in lib.studies("tra86") for e in s.effects]
    assert {e.domain for e in eti} == {"taxable_income"}
    assert {e.population for e in eti} == {"high_earners"}
    enrol = [e for s in lib.studies("adams-schol") for e in s.effects
             if e.outcome.startswith("enroll")]
    assert enrol and {e.domain for e in enrol} == {"postsecondary"}
    assert {e.population for e in enrol} == {"students"}
    assert outcome_domain("cred_4yr", "Castleman and Long 2016 | Impact on Credits Earned") \
        == "postsecondary"


def test_fetching_again_changes_nothing_and_a_foreign_record_is_a_conflict(ws, tmp_path):
    again = fetch_evidence(ws, DATA)
    assert again.added.interventions == [] and again.added.studies == []
    other = Workspace.init(tmp_path / "other")
    mine = {"interventions": [{"id": "job-corps", "name": "Our Job Corps center",
                               "policy_area": "workforce"}]}
    EvidenceLibrary(other).add(mine)
    before = (other.evidence_dir / "library.json").read_bytes()
    with pytest.raises(EvidenceConflictError, match="job-corps"):
        fetch_evidence(other, DATA)
    assert (other.evidence_dir / "library.json").read_bytes() == before


def _copy(tmp_path, edit) -> Workspace:
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(EVIDENCE / "programs.csv", folder / "programs.csv")
    text = ESTIMATES.read_text(encoding="utf-8")
    (folder / ESTIMATES.name).write_text(edit(text), encoding="utf-8")
    return Workspace.init(tmp_path / "ws")


def test_a_zero_standard_error_is_a_stated_exclusion(tmp_path):
    def edit(text):
        lines = text.splitlines(keepends=True)
        i = next(i for i, s in enumerate(lines) if s.startswith("Job_Corps,")
                 and ",year8_tax," in s)
        lines[i] = lines[i].replace(",-43,47,reported,", ",-43,0,reported,")
        return "".join(lines)
    ws = _copy(tmp_path, edit)
    fetch_evidence(ws, tmp_path)
    effect = next(e for s in EvidenceLibrary(ws).studies("job-corps") for e in s.effects
                  if e.outcome == "year8_tax")
    assert effect.se is None and "standard error 0 ≤ 0" in effect.not_pooled


def test_a_broken_value_names_the_row_and_nothing_is_written(tmp_path):
    ws = _copy(tmp_path, lambda t: t.replace(",12730,7965.25,", ",12730x,7965.25,", 1))
    with pytest.raises(InputFileError) as caught:
        fetch_evidence(ws, tmp_path)
    assert "row 2, column 'value': '12730x' is not a number" in str(caught.value)
    assert EvidenceLibrary(ws).document().interventions == []


def test_two_studies_claiming_the_same_id_are_refused(tmp_path):
    # "Masse & Barnett (2002)" and "Masse & Barnett, (2002)" both make
    # abecedarian-masse-barnett-2002: two papers, one id
    def edit(text):
        lines = text.splitlines(keepends=True)
        i = next(i for i, s in enumerate(lines) if s.startswith("Abecedarian,") and
                 ",Masse & Barnett (2002)," in s)
        lines[i] = lines[i].replace(",Masse & Barnett (2002),", ",\"Masse & Barnett, (2002)\",",
                                    1)
        return "".join(lines)
    ws = _copy(tmp_path, edit)
    with pytest.raises(InputFileError, match="two studies claim the id"):
        fetch_evidence(ws, tmp_path)


def test_fetch_list_and_the_empty_library_hint_from_the_command_line(tmp_path):
    root = tmp_path / "ws"
    Workspace.init(root)
    empty = run_cli("evidence", "list", "-w", str(root))
    assert empty.returncode == 0 and "upward fetch evidence --from" in empty.stdout
    fetched = run_cli("fetch", "evidence", "--from", str(DATA), "-w", str(root))
    assert fetched.returncode == 0, fetched.stderr
    assert "96 interventions" in fetched.stdout and "never pooled" in fetched.stdout
    listed = json.loads(run_cli("evidence", "list", "-f", "json", "-w", str(root)).stdout)
    assert len(listed) == 96 and {"job-corps", "mto", "perry-pre-school"} <= {r["id"] for r in listed}
    rct = json.loads(run_cli("evidence", "list", "--design", "rct", "--domain", "earnings",
                             "-f", "json", "-w", str(root)).stdout)
    assert rct and all("rct" in r["designs"] and "earnings" in r["domains"] for r in rct)
    bad = run_cli("evidence", "list", "--domain", "happiness", "-w", str(root))
    assert bad.returncode != 0 and "happiness" in bad.stderr
    no_from = run_cli("fetch", "evidence", "-w", str(root))
    assert no_from.returncode != 0 and "--from" in no_from.stderr
