"""Disclosure control in evaluation reports: an attacker holding the published report (the
overlap histogram, the group totals) cannot recover a bin of fewer than 11 people."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.test_privacy_attacker import K, assert_attack_fails

from upward.evaluate.run import evaluate
from upward.evaluate.spec import EvaluationSpec
from upward.privacy.suppression import TOTAL
from upward.report.disclosure import disclosure_controlled
from upward.report.evaluation import render_evaluation_report


def _program(seed: int = 3, n: int = 900) -> pd.DataFrame:
    """Take-up rises steeply with x, so the propensity histogram has thin bins."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-2.5 * x))).astype(int)
    y = 1.0 + 0.5 * d + x + rng.normal(size=n)
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "d": d, "y": y, "x": x})


def _overlap_as_published(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(true counts, what the report shows) with the report's group totals as the margin row;
    bin totals are not published."""
    truth = pd.DataFrame(result.tables["overlap"])[["n_treated", "n_control"]].astype(int)
    shown = pd.DataFrame(disclosure_controlled(result).tables["overlap"])
    shown = shown[["n_treated", "n_control"]].astype("Int64")
    shown[TOTAL] = pd.array([pd.NA] * len(shown), dtype="Int64")
    shown.loc[TOTAL] = pd.array([result.n_treated, result.n_control, result.n], dtype="Int64")
    return truth, shown


def test_small_overlap_bins_cannot_be_recovered_from_the_report():
    frame = _program()
    spec = EvaluationSpec(data="program.csv", design="ipw", outcome="y", treatment="d",
                          unit="id", covariates=["x"], options={"bins": 20})
    result = evaluate(spec, data=frame, save=False)
    truth, shown = _overlap_as_published(result)
    assert ((truth > 0) & (truth < K)).to_numpy().any(), "the example must have small bins"
    assert_attack_fails(truth, shown)
    html = render_evaluation_report(result)
    assert "Disclosure control" in html and "propensity-score bin count" in html


def test_rd_bins_hide_means_of_small_bins_and_balance_of_tiny_arms():
    from upward.evaluate.result import EvaluationResult

    r = EvaluationResult("rd", "m", "y", "ATE", 1.0, 0.2, 0.6, 1.4, 0.01, 400,
                         n_treated=8, n_control=300,
                         tables={"rd_bins": [{"x": -1.0, "y": 2.0, "n": 150, "side": "below"},
                                             {"x": -0.5, "y": 2.5, "n": 6, "side": "below"},
                                             {"x": 0.5, "y": 3.5, "n": 140, "side": "above"},
                                             {"x": 1.0, "y": 4.0, "n": 120, "side": "above"}],
                                 "balance": [{"covariate": "age", "mean_treated": 30.0,
                                              "mean_control": 31.0, "std_diff": 0.1}]})
    safe = disclosure_controlled(r)
    small = safe.tables["rd_bins"][1]
    assert small["n"] is None and small["y"] is None
    assert all(row["n"] is None or row["n"] >= K for row in safe.tables["rd_bins"])
    assert safe.tables["balance"] == []
    assert r.tables["rd_bins"][1]["n"] == 6  # the evaluation's own result is untouched
