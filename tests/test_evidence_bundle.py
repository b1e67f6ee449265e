"""Signed bundles between workspaces (provenance kept, tampering rejected, nothing written on
failure) and disclosure control: no published cell from fewer than 11 people."""

from __future__ import annotations

import base64
import hashlib
import json
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from upward.evidence.bundle import (
    BundleError,
    canonical,
    export_bundle,
    fingerprint,
    import_bundle,
    public_key_text,
    trust_key,
    verify_bundle,
)
from upward.evidence.library import EvidenceLibrary, workspace_identity
from upward.evidence.papers import add_papers
from upward.evidence.publish import published_document, published_study, scrub_text
from upward.evidence.schema import LibraryDocument, Study
from upward.warehouse.workspace import Workspace

COUNT_FIELDS = ("sample_size", "n", "n_treated", "n_control", "n_analysed")


@pytest.fixture
def pair(tmp_path):
    tulsa = Workspace.init(tmp_path / "tulsa")
    dayton = Workspace.init(tmp_path / "dayton")
    workspace_identity(tulsa, name="City of Tulsa")
    add_papers(tulsa)
    EvidenceLibrary(tulsa).add(_pilot(arm_sizes=(6, 300), lost=(0, 25)), by="analyst")
    return tulsa, dayton, tmp_path


def _pilot(arm_sizes=(400, 380), lost=(30, 25), study_id="pilot-small") -> dict:
    arms = [{"name": name, "n": n, "n_analysed": max(0, n - k)}
            for name, n, k in zip(("treatment", "control"), arm_sizes, lost, strict=True)]
    n_t, n_c = (a["n_analysed"] for a in arms)
    return {"interventions": [{"id": "coaching", "name": "Career coaching",
                               "policy_area": "workforce"}],
            "studies": [{"id": study_id, "intervention_id": "coaching", "title": "Coaching pilot",
                         "design": "rct", "city": "Tulsa, OK", "evaluation_id": "pilot-1",
                         "sample_size": sum(arm_sizes), "arms": arms,
                         "attrition_overall": 0.1, "attrition_differential": 0.01,
                         "checks": [{"name": "overlap", "passed": True,
                                     "detail": "unit 3fa85f6457174562b3fc2c96 ok; 4 treated "
                                               "units trimmed"}],
                         "effects": [{"outcome": "earnings", "measure": "md", "estimate": 500.0,
                                      "se": 200.0, "n": n_t + n_c, "n_treated": n_t,
                                      "n_control": n_c}]}]}


def _counts(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in COUNT_FIELDS and isinstance(v, int):
                yield v
            yield from _counts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _counts(v)


def test_bundle_round_trip_keeps_provenance(pair):
    tulsa, dayton, root = pair
    made = export_bundle(tulsa, root / "tulsa.bundle.json")
    assert made.studies == 3 and any("pilot-small" in w for w in made.withheld)
    result = import_bundle(dayton, made.path, trust=[made.fingerprint], by="dayton-analyst")
    assert len(result.studies) == 3
    library = EvidenceLibrary(dayton)
    nsw = library.study("nsw-men-dehejia-wahba-1999")
    assert nsw.effects[0].estimate == 1794.0
    last = nsw.provenance[-1]
    assert last.action == "bundle" and last.by == "dayton-analyst"
    assert last.origin_name == "City of Tulsa"
    assert last.origin_workspace == workspace_identity(tulsa).id
    assert last.signer_fingerprint == made.fingerprint
    assert last.bundle_sha256 == made.sha256 == hashlib.sha256(
        canonical(json.loads(made.path.read_text())["payload"])).hexdigest()
    assert nsw.provenance[0].action == "published_study" and nsw.provenance[0].by == "withheld"
    again = import_bundle(dayton, made.path, trust=[made.fingerprint])
    assert again.studies == [] and len(again.unchanged) == 5


def test_tampered_bundles_are_rejected_and_nothing_is_written(pair):
    tulsa, dayton, root = pair
    made = export_bundle(tulsa, root / "tulsa.bundle.json")
    bundle = json.loads(made.path.read_text())
    trust = [made.fingerprint]

    edited = json.loads(json.dumps(bundle))
    edited["payload"]["document"]["studies"][0]["effects"][0]["estimate"] = 9999.0
    (root / "edited.bundle.json").write_text(json.dumps(edited))
    with pytest.raises(BundleError, match=r"content hash .* changed after it was signed"):
        import_bundle(dayton, root / "edited.bundle.json", trust=trust)

    edited["payload_sha256"] = hashlib.sha256(canonical(edited["payload"])).hexdigest()
    (root / "rehashed.bundle.json").write_text(json.dumps(edited))
    with pytest.raises(BundleError, match="signature does not match"):
        import_bundle(dayton, root / "rehashed.bundle.json", trust=trust)

    forger = Ed25519PrivateKey.generate()
    raw = forger.public_key().public_bytes_raw()
    edited["signature"] = {"algorithm": "ed25519", "public_key": base64.b64encode(raw).decode(),
                           "fingerprint": fingerprint(raw),
                           "value": base64.b64encode(forger.sign(canonical(
                               edited["payload"]))).decode()}
    (root / "resigned.bundle.json").write_text(json.dumps(edited))
    with pytest.raises(BundleError, match="does not trust"):
        import_bundle(dayton, root / "resigned.bundle.json", trust=trust)

    (root / "truncated.bundle.json").write_text(made.path.read_text()[:500])
    with pytest.raises(BundleError, match="not valid JSON"):
        import_bundle(dayton, root / "truncated.bundle.json", trust=trust)
    assert not EvidenceLibrary(dayton).path.exists()


def test_untrusted_signer_until_trusted(pair):
    tulsa, dayton, root = pair
    made = export_bundle(tulsa, root / "t.bundle.json")
    with pytest.raises(BundleError) as err:
        import_bundle(dayton, made.path)
    assert made.fingerprint in str(err.value) and "--trust" in str(err.value)
    (root / "tulsa.pub").write_text(public_key_text(tulsa) + "\n")
    entry = trust_key(dayton, str(root / "tulsa.pub"), name="City of Tulsa")
    assert entry.fingerprint == made.fingerprint
    assert verify_bundle(dayton, made.path).origin_name == "City of Tulsa"
    with pytest.raises(BundleError, match="not an Ed25519 public key"):
        trust_key(dayton, "not-a-key", name="x")


def test_signing_key_is_private_to_its_owner(pair):
    tulsa, _, _ = pair
    public_key_text(tulsa)
    key = tulsa.secrets_dir / "evidence-signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert public_key_text(tulsa) == public_key_text(tulsa)


def test_bundle_holds_no_small_cells_no_ids_and_no_staff_names(pair):
    tulsa, _, root = pair
    EvidenceLibrary(tulsa).add(_pilot(study_id="pilot-large"), by="analyst")
    made = export_bundle(tulsa, root / "t.bundle.json")
    text = made.path.read_text()
    doc = json.loads(text)["payload"]["document"]
    assert all(c == 0 or c >= 11 for c in _counts(doc))
    assert "pilot-small" not in {s["id"] for s in doc["studies"]}
    assert "3fa85f6457174562b3fc2c96" not in text and '"analyst"' not in text
    large = next(s for s in doc["studies"] if s["id"] == "pilot-large")
    assert "fewer than 11 treated units" in large["checks"][0]["detail"]


def test_a_signed_bundle_with_small_cells_is_refused(pair):
    tulsa, dayton, root = pair
    from upward.evidence.bundle import signing_key

    doc = LibraryDocument.model_validate(_pilot(arm_sizes=(5, 300))).model_dump(mode="json")
    payload = {"created_at": "2026-01-01T00:00:00+00:00",
               "origin": {"workspace_id": "x", "name": "Elsewhere"},
               "disclosure": {"min_cell": 11, "withheld": []}, "document": doc}
    key = signing_key(tulsa)
    raw = key.public_key().public_bytes_raw()
    bundle = {"format": "upward-evidence-bundle", "version": 1, "payload": payload,
              "payload_sha256": hashlib.sha256(canonical(payload)).hexdigest(),
              "signature": {"algorithm": "ed25519", "public_key": base64.b64encode(raw).decode(),
                            "fingerprint": fingerprint(raw),
                            "value": base64.b64encode(key.sign(canonical(payload))).decode()}}
    (root / "small.bundle.json").write_text(json.dumps(bundle))
    with pytest.raises(BundleError, match="disclosure control"):
        import_bundle(dayton, root / "small.bundle.json", trust=[fingerprint(raw)])
    assert not EvidenceLibrary(dayton).path.exists()


def test_small_attrition_is_withheld_but_its_verdict_kept():
    doc = LibraryDocument.model_validate(_pilot(lost=(4, 30)))
    view = published_study(doc.studies[0])
    assert view.study.attrition_overall is None and view.study.attrition_wwc_low is True
    assert [a.n for a in view.study.arms] == [400, 380]
    assert view.study.arms[0].n_analysed is None
    assert view.study.effects[0].n_treated is None and view.study.effects[0].n is None
    assert any("attrition rates withheld" in w for w in view.withheld)


def test_counts_of_places_are_not_suppressed():
    raw = _pilot(arm_sizes=(23, 7), lost=(0, 0))
    raw["studies"][0]["sample_unit"] = "neighbourhoods"
    view = published_study(LibraryDocument.model_validate(raw).studies[0])
    assert view.study is not None and view.study.effects[0].n_control == 7


def test_scrub_text_removes_hashes_and_small_counts():
    assert scrub_text("ids 0123456789abcdef0123 and 3 participants; 25 people") == \
        "ids [id removed] and fewer than 11 participants; 25 people"


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 60), min_size=2, max_size=4),
       lost=st.lists(st.integers(0, 12), min_size=4, max_size=4))
def test_published_view_never_shows_a_count_from_1_to_10(sizes, lost):
    arms = [{"name": f"arm{i}", "n": n, "n_analysed": max(0, n - lost[i])}
            for i, n in enumerate(sizes)]
    analysed = [a["n_analysed"] for a in arms]
    study = Study.model_validate({
        "intervention_id": "x", "title": "Random pilot", "design": "rct", "evaluation_id": "e",
        "sample_size": sum(sizes), "arms": arms,
        "effects": [{"outcome": "y", "measure": "md", "estimate": 1.0, "se": 0.5,
                     "n": sum(analysed), "n_treated": analysed[0], "n_control": analysed[1]}]})
    view = published_study(study)
    if view.study is None:
        assert any(0 < c < 11 for c in (sum(analysed), analysed[0], analysed[1]))
        return
    shown = list(_counts(view.study.model_dump(mode="json")))
    assert all(c == 0 or c >= 11 for c in shown)
    hidden = [a.n for a in view.study.arms].count(None)
    assert hidden != 1 or view.study.sample_size is None  # one hidden arm is never derivable


def test_published_document_of_the_papers_withholds_nothing():
    from upward.evidence.papers import papers_document as papers

    view, notes = published_document(papers())
    assert notes == [] and len(view.studies) == 3
