"""The evidence schema: the published JSON Schema file, validation rules, effect arithmetic."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from upward.evidence.papers import papers_document
from upward.evidence.schema import (
    Effect,
    Intervention,
    LibraryDocument,
    Study,
    json_schema,
    json_schema_text,
    slugify,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "evidence.schema.json"


def _study(**extra) -> dict:
    base = {"intervention_id": "x", "title": "A pilot", "design": "rct", "citation": "Doe 2024",
            "effects": [{"outcome": "y", "measure": "md", "estimate": 1.0, "se": 0.5}]}
    return base | extra


def test_docs_schema_file_is_the_generated_schema():
    assert DOCS.read_text(encoding="utf-8") == json_schema_text(), (
        "docs/evidence.schema.json is stale: run python -m upward.evidence.schema > "
        "docs/evidence.schema.json")


def test_published_studies_validate_against_the_json_schema():
    doc = json.loads(papers_document().model_dump_json(exclude_none=True))
    jsonschema.validate(doc, json_schema())
    bad = doc | {"studies": [doc["studies"][0] | {"sample_sise": 3}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())


def test_unknown_keys_are_errors_not_silently_dropped():
    with pytest.raises(ValidationError, match="extra"):
        Study.model_validate(_study(atrition_overall=0.1))
    with pytest.raises(ValidationError, match="extra"):
        Intervention.model_validate({"name": "Xx", "policy_area": "workforce", "cost": 1})


def test_an_effect_needs_a_standard_error_or_an_interval():
    with pytest.raises(ValidationError, match="standard error"):
        Effect(outcome="y", measure="md", estimate=1.0)
    with pytest.raises(ValidationError, match="both ci_low and ci_high"):
        Effect(outcome="y", measure="md", estimate=1.0, ci_low=0.0)
    with pytest.raises(ValidationError, match="outside its interval"):
        Effect(outcome="y", measure="md", estimate=5.0, ci_low=0.0, ci_high=2.0)
    with pytest.raises(ValidationError, match="above 0"):
        Effect(outcome="y", measure="rr", estimate=-0.2, se=0.1)


def test_a_study_needs_a_citation_or_an_evaluation_id():
    with pytest.raises(ValidationError, match="citation"):
        Study.model_validate(_study(citation=""))
    assert Study.model_validate(_study(citation="", evaluation_id="pilot-1")).evaluation_id


def test_a_study_needs_an_effect_and_known_design():
    with pytest.raises(ValidationError):
        Study.model_validate(_study(effects=[]))
    with pytest.raises(ValidationError):
        Study.model_validate(_study(design="anecdote"))


def test_ratio_se_comes_from_the_log_interval():
    # RR 0.80 (95% CI 0.64 to 1.00): se of log RR = (ln 1 − ln 0.64) / (2 × 1.95996)
    e = Effect(outcome="jail", measure="rr", estimate=0.8, ci_low=0.64, ci_high=1.0,
               direction="lower")
    assert e.pooling_measure() == "log_rr"
    assert e.pooling_estimate() == pytest.approx(math.log(0.8))
    assert e.standard_error() == pytest.approx(-math.log(0.64) / (2 * 1.959964), rel=1e-6)
    assert e.favourable()


def test_reported_p_value_wins_over_the_normal_one():
    e = Effect(outcome="y", measure="md", estimate=1.0, se=0.5, p_value=0.07)
    assert e.p() == 0.07
    assert Effect(outcome="y", measure="md", estimate=1.0, se=0.5).p() == pytest.approx(
        2 * stats.norm.sf(2.0))


@settings(max_examples=60, deadline=None)
@given(estimate=st.floats(-1e5, 1e5), se=st.floats(1e-3, 1e4),
       level=st.sampled_from([0.9, 0.95, 0.99]))
def test_interval_and_standard_error_round_trip(estimate, se, level):
    e = Effect(outcome="y", measure="md", estimate=estimate, se=se, ci_level=level)
    low, high = e.ci()
    back = Effect(outcome="y", measure="md", estimate=estimate, ci_low=low, ci_high=high,
                  ci_level=level)
    assert back.standard_error() == pytest.approx(se, rel=1e-9, abs=1e-12 * (1 + abs(estimate)))
    assert low < estimate < high


def test_library_document_rejects_other_versions():
    with pytest.raises(ValidationError):
        LibraryDocument(schema_version="2.0")


def test_slugify_makes_valid_ids():
    for text in ("Year Up (PACE), 2018", "  ", "Ünïcode — names!", "x" * 200):
        slug = slugify(text)
        Intervention(id=slug, name="Name", policy_area="workforce")
        assert len(slug) <= 80
