"""Checks that cannot fail on the data say "not informative here" (#17.5), and the did means
table on a panel uses the panel's (cluster-robust) standard error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from upward.evaluate.designs import get_design
from upward.evaluate.render import STATUS
from upward.evaluate.spec import EvaluationSpec


def _rd(x: np.ndarray, bandwidth: float):
    rng = np.random.default_rng(1)
    y = x + 0.3 * (x >= 0) + rng.normal(scale=0.2, size=len(x))
    spec = EvaluationSpec(data="p.csv", design="rd", outcome="y", running="x", cutoff=0.0,
                          options={"bandwidth": bandwidth})
    return get_design("rd").estimate(pd.DataFrame({"x": x, "y": y}), spec)


def test_rd_bandwidth_check_that_cannot_fail_is_not_informative():
    # every observation lies within h/2 of the cutoff: h/2, h and 2h keep the same ones
    r = _rd(np.random.default_rng(0).uniform(-0.4, 0.4, 400), bandwidth=1.0)
    check = next(c for c in r.checks if c.name == "bandwidth")
    assert check.passed is None
    assert check.detail.startswith("not informative here: h/2 and 2h cover the same")
    assert any(line.startswith("check not informative — bandwidth") for line in r.summary_lines())
    assert STATUS[None] == "not informative"


def test_rd_bandwidth_check_counts_only_the_informative_comparison():
    # 2h covers everything h does (all data within h), h/2 drops some: only h/2 is compared
    r = _rd(np.random.default_rng(0).uniform(-1.0, 1.0, 600), bandwidth=1.5)
    check = next(c for c in r.checks if c.name == "bandwidth")
    assert check.passed is not None
    assert "2h covers the same" in check.detail and "not counted" in check.detail


def test_rd_bandwidth_check_can_still_fail():
    # a kink makes the estimate depend on the bandwidth: the informative check fails
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 4000)
    y = 4 * np.abs(x) ** 3 * np.sign(x) * 3 + 0.5 * (x >= 0) + rng.normal(scale=0.05, size=4000)
    spec = EvaluationSpec(data="p.csv", design="rd", outcome="y", running="x", cutoff=0.0,
                          options={"bandwidth": 0.5, "p": 0})
    r = get_design("rd").estimate(pd.DataFrame({"x": x, "y": y}), spec)
    assert next(c for c in r.checks if c.name == "bandwidth").passed is False


def _panel(seed: int = 1, units: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"u": np.repeat(np.arange(units), 4), "t": np.tile([1, 2, 3, 4], units)})
    df["g"] = (df.u < units // 2).astype(int)
    unit_effect = np.repeat(rng.normal(size=units), 4)
    unit_post = np.repeat(rng.normal(size=units), 4) * (df.t >= 3)
    df["y"] = (3 * unit_effect + 0.3 * df.t + 0.8 * df.g * (df.t >= 3) + unit_post
               + rng.normal(size=len(df)))
    return df


def test_did_means_row_on_a_panel_uses_the_panel_se():
    spec = EvaluationSpec(data="p.csv", design="did", outcome="y", treatment="g", unit="u",
                          time="t", treatment_start=3)
    r = get_design("did").estimate(_panel(), spec)
    rows = {row["method"]: row for row in r.tables["estimates"]}
    regression = rows["difference-in-differences (regression)"]
    means = rows["difference-in-differences (means), panel standard error"]
    assert means["estimate"] == pytest.approx(regression["estimate"])
    # the same clustered SE as the regression, up to its small-sample factor
    assert means["se"] == pytest.approx(regression["se"], rel=0.02)
    # the independent-samples formula (the old row) ignores that the same units are seen
    # before and after: with large unit effects it is far too large here
    before_after = [rows[f"mean: {g}, {w}"]["se"] for g in ("treated", "comparison")
                    for w in ("before", "after")]
    assert np.sqrt(np.sum(np.square(before_after))) > 2 * means["se"]


def test_did_means_row_on_cross_sections_keeps_independent_cells():
    df = _panel().drop(columns="u")
    spec = EvaluationSpec(data="p.csv", design="did", outcome="y", treatment="g", time="t",
                          treatment_start=3)
    r = get_design("did").estimate(df, spec)
    assert "difference-in-differences (means)" in {row["method"] for row in
                                                  r.tables["estimates"]}
