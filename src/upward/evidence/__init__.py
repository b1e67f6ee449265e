"""Share what works: the evidence library of interventions and their evaluations.

- ``schema``: Intervention, Study, Effect (pydantic, unknown keys forbidden; JSON Schema in
  docs/evidence.schema.json).
- ``library``: the workspace's library (``evidence/library.json``), all-or-nothing adds,
  JSON/CSV import and export, provenance per record.
- ``rating``: WWC, ESSA and Social Programs That Work ratings from declared rules, with reasons.
- ``from_evaluation``: an Upward evaluation result → a study rated from its own checks.
- ``papers``: real published studies (NSW, Moving to Opportunity) entered from the papers.
- ``meta``, ``effect_sizes``, ``projection_math``: pooling and projection statistics.
- ``projection``: pool an intervention's studies and project the effect onto a place.
- ``publish``: the published view (no cell from fewer than 11 people, no raw ids).
- ``bundle``: signed bundles (Ed25519) that carry published evidence between workspaces.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
>>> _ = add_papers(ws)
>>> round(pool_evidence(ws, "national-supported-work", "earnings_annual").pooled.estimate)
1160
"""

from __future__ import annotations

from upward.evidence.bundle import export_bundle, import_bundle, verify_bundle
from upward.evidence.from_evaluation import add_evaluation, study_from_evaluation
from upward.evidence.library import EvidenceLibrary
from upward.evidence.papers import add_papers
from upward.evidence.projection import pool_evidence, project_in_place
from upward.evidence.publish import published_document, published_study
from upward.evidence.rating import rate_intervention, rate_study
from upward.evidence.schema import Effect, Intervention, LibraryDocument, Study

__all__ = [
    "Effect",
    "EvidenceLibrary",
    "Intervention",
    "LibraryDocument",
    "Study",
    "add_evaluation",
    "add_papers",
    "export_bundle",
    "import_bundle",
    "pool_evidence",
    "project_in_place",
    "published_document",
    "published_study",
    "rate_intervention",
    "rate_study",
    "study_from_evaluation",
    "verify_bundle",
]
