"""The evidence library: storage, provenance, all-or-nothing adds, JSON/CSV round trips, the
published studies checked against their papers (and the public NSW file), pooling and
projection."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from upward.core.errors import ConfigError, InputFileError
from upward.evidence.library import EvidenceConflictError, EvidenceLibrary, EvidenceNotFoundError
from upward.evidence.meta import pool
from upward.evidence.papers import add_papers, papers_document
from upward.evidence.projection import pool_evidence, project_in_place
from upward.evidence.schema import LibraryDocument
from upward.warehouse.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    return Workspace.init(tmp_path / "ws")


def _doc(**study_extra) -> dict:
    study = {"id": "pilot-tulsa", "intervention_id": "training", "title": "Tulsa pilot",
             "design": "rct", "city": "Tulsa, OK", "citation": "Doe (2024)",
             "effects": [{"outcome": "earnings_annual", "measure": "md", "estimate": 900.0,
                          "se": 300.0}]} | study_extra
    return {"interventions": [{"id": "training", "name": "Sector training",
                               "policy_area": "workforce", "cost_per_participant": 5000,
                               "cost_year": 2024}],
            "studies": [study]}


def test_add_keeps_provenance_and_is_idempotent(ws):
    lib = EvidenceLibrary(ws)
    first = lib.add(_doc(), by="analyst-a", source_file="studies.json")
    assert first.studies == ["pilot-tulsa"] and first.interventions == ["training"]
    entry = lib.study("pilot-tulsa").provenance[0]
    assert (entry.by, entry.action, entry.source_file) == ("analyst-a", "entered", "studies.json")
    assert entry.at.endswith("+00:00")
    again = lib.add(_doc(), by="analyst-b")
    assert again.studies == [] and sorted(again.unchanged) == ["pilot-tulsa", "training"]
    assert len(lib.study("pilot-tulsa").provenance) == 1
    stored = json.loads(lib.path.read_text())
    assert LibraryDocument.model_validate(stored).studies[0].id == "pilot-tulsa"


def test_conflicting_record_is_refused_unless_replaced(ws):
    lib = EvidenceLibrary(ws)
    lib.add(_doc())
    changed = _doc(title="Tulsa pilot, corrected")
    with pytest.raises(EvidenceConflictError, match="--replace"):
        lib.add(changed)
    assert lib.study("pilot-tulsa").title == "Tulsa pilot"
    assert lib.add(changed, replace=True).replaced == ["pilot-tulsa"]
    assert lib.study("pilot-tulsa").title == "Tulsa pilot, corrected"


def test_adds_are_all_or_nothing(ws):
    lib = EvidenceLibrary(ws)
    lib.add(_doc())
    before = lib.path.read_bytes()
    doc = _doc(id="second")
    doc["studies"].append({"id": "bad", "intervention_id": "training", "title": "Broken",
                           "design": "rct", "citation": "x",
                           "effects": [{"outcome": "y", "measure": "md", "estimate": 1.0}]})
    with pytest.raises(InputFileError, match=r"studies\[1\] \('bad'\)"):
        lib.add(doc)
    orphan = {"studies": [_doc(id="orphan", intervention_id="nowhere")["studies"][0]]}
    with pytest.raises(InputFileError, match="'nowhere'"):
        lib.add(orphan)
    assert lib.path.read_bytes() == before
    assert not [p for p in ws.evidence_dir.iterdir() if p.suffix == ".tmp"]


def test_json_errors_name_the_record_and_field(ws, tmp_path):
    path = tmp_path / "in.json"
    doc = _doc()
    doc["studies"][0]["effects"][0]["se"] = -3
    path.write_text(json.dumps(doc))
    with pytest.raises(InputFileError) as err:
        EvidenceLibrary(ws).import_file(path)
    assert err.value.column == "effects[0].se"
    assert "record studies[0] ('pilot-tulsa')" in str(err.value)
    path.write_text("{not json")
    with pytest.raises(InputFileError, match="not valid JSON"):
        EvidenceLibrary(ws).import_file(path)


def test_csv_round_trip_between_workspaces(ws, tmp_path):
    add_papers(ws)
    csv_path = tmp_path / "evidence.csv"
    csv_path.write_text(EvidenceLibrary(ws).export_csv())
    other = Workspace.init(tmp_path / "other")
    result = EvidenceLibrary(other).import_file(csv_path, by="importer")
    assert len(result.studies) == 3 and len(result.interventions) == 2
    mine = {s.id: s for s in EvidenceLibrary(ws).studies()}
    for s in EvidenceLibrary(other).studies():
        assert s.effects == mine[s.id].effects
        assert s.baseline == mine[s.id].baseline
        assert s.provenance[-1].action == "imported" and s.provenance[-1].by == "importer"


def test_csv_errors_name_line_and_column(ws, tmp_path):
    path = tmp_path / "e.csv"
    head = "intervention_id,intervention_name,policy_area,study_title,design,citation,outcome,"
    path.write_text(head + "measure,estimate,se\n"
                    "t,Training,workforce,Pilot,rct,Doe,earn,md,900,300\n"
                    "t,Training,workforce,Pilot,rct,Doe,empl,md,0.05,abc\n")
    with pytest.raises(InputFileError) as err:
        EvidenceLibrary(ws).import_file(path)
    assert (err.value.row, err.value.column) == (3, "se")
    path.write_text(head + "measure,estimate,sample\nt,T,workforce,P,rct,D,y,md,1,2\n")
    with pytest.raises(InputFileError, match="unknown column 'sample'"):
        EvidenceLibrary(ws).import_file(path)
    path.write_text(head + "measure,estimate,se,city\n"
                    "t,Training,workforce,Pilot,rct,Doe,earn,md,900,300,Tulsa\n"
                    "t,Training,workforce,Pilot,rct,Doe,empl,md,0.05,0.02,Dayton\n")
    with pytest.raises(InputFileError) as err:
        EvidenceLibrary(ws).import_file(path)
    assert (err.value.row, err.value.column) == (3, "city")
    path.write_text(head + "measure,estimate,se\nt,Training,workforce,Pilot,rct,Doe,earn,"
                    "mean,900,300\n")
    with pytest.raises(InputFileError) as err:
        EvidenceLibrary(ws).import_file(path)
    assert (err.value.row, err.value.column) == (2, "measure")


def test_unknown_ids_say_what_exists(ws):
    add_papers(ws)
    lib = EvidenceLibrary(ws)
    with pytest.raises(EvidenceNotFoundError, match="national-supported-work"):
        lib.intervention("nsw")
    with pytest.raises(EvidenceNotFoundError, match="earnings_annual"):
        lib.effects("national-supported-work", "employment")
    assert lib.remove("national-supported-work") == "removed 3 record(s)"
    assert [i.id for i in lib.interventions()] == ["moving-to-opportunity"]


# -- the published studies, against the papers -------------------------------------------------
def test_nsw_effect_reproduced_from_the_public_dehejia_wahba_file():
    """Dehejia & Wahba (1999), Table 3: experimental effect on 1978 earnings $1,794 (633)."""
    causaldata = pytest.importorskip("causaldata", reason="causaldata (dev dependency) absent")
    d = causaldata.nsw_mixtape.load_pandas().data
    t, c = d[d.treat == 1]["re78"], d[d.treat == 0]["re78"]
    diff = t.mean() - c.mean()
    pooled_var = ((len(t) - 1) * t.var() + (len(c) - 1) * c.var()) / (len(d) - 2)
    se = math.sqrt(pooled_var * (1 / len(t) + 1 / len(c)))
    study = papers_document().studies[0]
    effect = study.effects[0]
    assert (len(d), len(t), len(c)) == (study.sample_size, effect.n_treated, effect.n_control)
    assert round(diff) == effect.estimate == 1794
    assert round(se) == effect.se == 633
    assert effect.control_mean == pytest.approx(c.mean(), abs=0.05)
    columns = {"age": "age", "education": "educ", "black": "black", "hispanic": "hisp",
               "married": "marr", "no high school degree": "nodegree",
               "earnings 1974": "re74", "earnings 1975": "re75"}
    for b in study.baseline:
        x = d[columns[b.covariate]]
        xt, xc = x[d.treat == 1], x[d.treat == 0]
        assert b.std_diff == pytest.approx((xt.mean() - xc.mean())
                                           / math.sqrt((xt.var() + xc.var()) / 2), abs=5e-4)


def test_mto_numbers_are_internally_consistent():
    """Chetty, Hendren & Katz (2016), Table 3: ITT $1,624 (662), TOT $3,477 (1,418) on a control
    mean of $11,270; the TOT/ITT ratio (1 / take-up) is the same for estimates and SEs, and
    TOT / control mean is the paper's "31% higher earnings"."""
    mto = papers_document().studies[2]
    itt, tot = mto.effects
    assert tot.estimate / itt.estimate == pytest.approx(tot.se / itt.se, rel=0.002)
    assert tot.estimate / tot.control_mean == pytest.approx(0.31, abs=0.005)
    assert mto.sites == 5 and mto.sample_size == 4604


# -- pooling and projection ----------------------------------------------------------------------
def test_pooling_the_library_is_meta_pool_on_the_entered_numbers(ws):
    add_papers(ws)
    fe = pool_evidence(ws, "national-supported-work", "earnings_annual", method="FE")
    # Inverse-variance fixed effect by hand: Σ(y/s²) / Σ(1/s²).
    w = np.array([1 / 633**2, 1 / 307**2])
    assert fe.pooled.estimate == pytest.approx(float(w @ [1794, 851] / w.sum()), rel=1e-12)
    assert fe.pooled.se == pytest.approx(float(1 / math.sqrt(w.sum())), rel=1e-12)
    reml = pool_evidence(ws, "national-supported-work", "earnings_annual")
    direct = pool([1794, 851], [633, 307], method="REML", measure="md")
    assert reml.pooled.estimate == pytest.approx(direct.estimate)
    assert reml.pooled.tau2 == pytest.approx(direct.tau2)
    assert [r["kind"] for r in reml.forest] == ["study", "study", "pooled"]
    assert any("different units" in w for w in reml.warnings)


def test_pooling_puts_ratios_on_the_log_scale_and_lists_what_it_cannot_convert(ws):
    studies = []
    for i, (rr, low, high) in enumerate([(0.8, 0.64, 1.0), (0.7, 0.5, 0.98), (0.9, 0.75, 1.08)]):
        studies.append({"id": f"s{i}", "intervention_id": "diversion", "title": f"Site {i}",
                        "design": "rct", "citation": "c", "effects": [
                            {"outcome": "rearrest", "measure": "rr", "estimate": rr,
                             "ci_low": low, "ci_high": high, "direction": "lower"}]})
    studies.append({"id": "s9", "intervention_id": "diversion", "title": "Site 9", "design": "rct",
                    "citation": "c", "effects": [{"outcome": "rearrest", "measure": "md",
                                                  "estimate": -0.05, "se": 0.02}]})
    EvidenceLibrary(ws).add({"interventions": [{"id": "diversion", "name": "Diversion",
                                                "policy_area": "justice"}], "studies": studies})
    p = pool_evidence(ws, "diversion", "rearrest", method="FE")
    assert p.measure == "log_rr" and p.pooled.k == 3
    assert p.excluded and p.excluded[0].startswith("s9:")
    y = np.log([0.8, 0.7, 0.9])
    se = np.array([(math.log(h) - math.log(lo)) / (2 * 1.959964)
                   for lo, h in [(0.64, 1.0), (0.5, 0.98), (0.75, 1.08)]])
    w = 1 / se**2
    assert p.pooled.estimate == pytest.approx(float(w @ y / w.sum()), rel=1e-5)
    assert p.forest[-1]["estimate"] == pytest.approx(math.exp(p.pooled.estimate))


def test_projection_recovers_a_known_effect(ws):
    """Six studies simulated around a true effect of $1,500 with between-city SD $300: the
    projected total for 4,000 participants brackets 4,000 × 1,500 and uses the prediction
    interval."""
    rng = np.random.default_rng(7)
    truth, tau = 1500.0, 300.0
    ses = rng.uniform(250, 450, 6)
    estimates = truth + rng.normal(0, tau, 6) + rng.normal(0, ses)
    studies = [{"id": f"city-{i}", "intervention_id": "sector", "title": f"City {i}",
                "design": "rct", "city": f"City {i}", "citation": "simulated",
                "effects": [{"outcome": "earnings_annual", "measure": "md",
                             "estimate": float(e), "se": float(s)}]}
               for i, (e, s) in enumerate(zip(estimates, ses, strict=True))]
    EvidenceLibrary(ws).add({"interventions": [{"id": "sector", "name": "Sector training",
                                                "policy_area": "workforce",
                                                "cost_per_participant": 6000,
                                                "cost_year": 2024}],
                             "studies": studies})
    proj = project_in_place(ws, "sector", "earnings_annual", "Anytown", eligible=20000,
                            take_up=0.2, dollars_of=2024)
    p = proj.projection
    assert p.participants == pytest.approx(4000)
    assert p.interval_basis == "prediction"
    assert p.total_effect_low < 4000 * truth < p.total_effect_high
    assert p.total_cost == pytest.approx(4000 * 6000) and "record" in proj.cost_basis
    assert p.total_effect_high - p.total_effect_low > (p.total_effect_ci_high
                                                       - p.total_effect_ci_low)


def test_projection_needs_exactly_one_way_to_count_eligible_people(ws):
    add_papers(ws)
    with pytest.raises(ConfigError, match="exactly one"):
        project_in_place(ws, "national-supported-work", "earnings_annual", "Tulsa, OK")
    with pytest.raises(ConfigError, match="exactly one"):
        project_in_place(ws, "national-supported-work", "earnings_annual", "Tulsa, OK",
                         eligible=10, share=0.1)
