"""The design registry carries every fact about a design (kind, options, result tables and their
charts, evidence category): a design declared only inside this test runs from a spec, is drawn
by the report, and enters the evidence library, with no other edit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from upward.core.errors import ConfigError
from upward.evaluate.categories import DesignKind, EvidenceCategory
from upward.evaluate.designs import (
    DESIGNS,
    TABLE_COLUMNS,
    Design,
    DesignOptions,
    register,
    unregister,
)
from upward.evaluate.result import EvaluationResult
from upward.evaluate.run import evaluate
from upward.evaluate.tables import ESTIMATES, ResultTable
from upward.evidence.from_evaluation import study_from_evaluation
from upward.evidence.rating import facts_of
from upward.report.evaluation import CHARTS, render_evaluation_report

SHARES = ResultTable("throwaway_shares", "Shares by group (test)", ("unit", "weight"), "weights")


class ThrowawayOptions(DesignOptions):
    scale: float = Field(1.0, gt=0, description="a positive number")


def _estimate(data: pd.DataFrame, spec) -> EvaluationResult:
    scale = ThrowawayOptions.of(spec).scale
    y = pd.to_numeric(data[spec.outcome]) * scale
    d = pd.to_numeric(data[spec.treatment])
    a, b = y[d == 1], y[d == 0]
    est = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var() / len(a) + b.var() / len(b)))
    return EvaluationResult(
        design="throwaway", method="difference in means (test)", outcome=spec.outcome,
        estimand="ATE", estimate=est, se=se, ci_low=est - 1.96 * se, ci_high=est + 1.96 * se,
        p_value=0.5, n=len(y), n_treated=len(a), n_control=len(b),
        tables={"estimates": [{"method": "dim", "estimate": est, "se": se,
                               "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se}],
                "throwaway_shares": [{"unit": "treated", "weight": len(a) / len(y)},
                                     {"unit": "control", "weight": len(b) / len(y)}]})


@pytest.fixture
def throwaway():
    design = register(Design(
        "throwaway", "Throwaway comparison (test)", ("outcome", "treatment"), _estimate,
        ThrowawayOptions, evidence=EvidenceCategory("correlational"),
        tables=(ESTIMATES, SHARES)))
    yield design
    unregister("throwaway")
    assert "throwaway" not in DESIGNS and "throwaway_shares" not in TABLE_COLUMNS


def _data(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    d = np.repeat([0, 1], n // 2)
    return pd.DataFrame({"id": np.arange(n), "d": d, "y": 2.0 * d + rng.normal(size=n)})


def test_a_design_declared_once_runs_reports_and_enters_the_library(tmp_path, throwaway):
    assert throwaway.kind is DesignKind.CORRELATIONAL
    assert throwaway.options == ("scale",) and throwaway.charts == ("forest", "weights")
    assert TABLE_COLUMNS["throwaway_shares"] == ("unit", "weight")
    assert CHARTS["throwaway_shares"].title == "Donor weights"

    spec = {"data": "p.csv", "design": "throwaway", "outcome": "y", "treatment": "d",
            "unit": "id", "options": {"scale": 2.0}}
    result = evaluate(spec, data=_data())
    assert result.estimate == pytest.approx(2 * 2.0, abs=0.6)

    html = render_evaluation_report(result)
    section = html[html.index('<section aria-labelledby="t-throwaway_shares">'):]
    section = section[:section.index("</section>")]
    assert 'class="plotly-graph-div"' in section and "Shares by group (test)" in section
    assert html.index('id="t-estimates"') < html.index('id="t-throwaway_shares"')

    study = study_from_evaluation(result, intervention_id="x")
    assert study.design == "correlational" and study.sample_unit == "people"
    assert facts_of(study).family == "correlational"
    assert study.design_label() == "Correlational study with statistical controls"


def test_its_options_are_checked_with_the_spec_file_and_line(tmp_path, throwaway):
    _data().to_csv(tmp_path / "p.csv", index=False)
    spec = tmp_path / "s.yaml"
    base = "data: p.csv\ndesign: throwaway\noutcome: y\ntreatment: d\nunit: id\noptions:\n"
    spec.write_text(base + "  scale: big\n")
    with pytest.raises(ConfigError) as err:
        evaluate(spec)
    assert f"{spec}, line 7" in str(err.value) and "scale" in str(err.value)
    spec.write_text(base + "  scale: 2\n  shift: 1\n")
    with pytest.raises(ConfigError, match="design 'throwaway' has no option shift") as err:
        evaluate(spec)
    assert f"{spec}, line 8" in str(err.value) and "options of throwaway: scale" in str(err.value)
