"""Synthetic control: the Mixtape's Texas prison-expansion example, a factor-model simulation
with a known effect, placebo p-value calibration, checks and bad input. The Texas placebos over
all 50 donor states (51 nested fits) run in ``python -m bench.evaluate_synthetic``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError, InputFileError, UpwardError
from upward.evaluate.designs import DESIGNS, TABLE_COLUMNS
from upward.evaluate.designs.synthetic import (
    _fit_unit,
    _panel,
    estimate_synthetic_control,
    simplex_weights,
)
from upward.evaluate.spec import EvaluationSpec

causaldata = pytest.importorskip("causaldata")

# Cunningham, Causal Inference: The Mixtape (2021), ch. 10.3 "Prison construction and black
# male incarceration": the book's synth specification, as in its R code (dataprep with
# predictors poverty and income averaged over 1985-1993 plus special predictors; the outcome
# fit over 1985-1993; plot through 2000). Running that code with R Synth gives
# V = (0.0715, 0.0274, 0.8924, 5.5e-9, 2.4e-8, 0.0087, 7.6e-9), MSPE (loss V) 2,015,107 and
# donor weights California 0.341, Florida 0.298, Louisiana 0.360 (everything else < 0.001).
R_SYNTH_V = np.array([0.07154915, 0.02736536, 0.8923763, 5.5e-09, 2.42e-08, 0.008709159,
                      7.6e-09])
R_SYNTH_LOSS = 2_015_107
R_SYNTH_WEIGHTS = {"California": 0.3414498, "Florida": 0.2981352, "Louisiana": 0.3599649}
MIXTAPE_OPTIONS = {
    "predictors": [
        {"column": "bmprison", "periods": [1988, 1990, 1991, 1992]},
        {"column": "alcohol", "periods": [1990]},
        {"column": "aidscapita", "periods": [1990, 1991]},
        {"column": "black", "periods": [1990, 1991, 1992]},
        {"column": "perc1519", "periods": [1990]},
    ],
}


@pytest.fixture(scope="module")
def texas() -> pd.DataFrame:
    df = causaldata.texas.load_pandas().data
    return df.assign(state=df["state"].astype(str))


def texas_spec(**options) -> EvaluationSpec:
    # R's dataprep treats 1993 as the last fitted year: the first post year is 1994
    return EvaluationSpec(data="texas.dta", design="synthetic_control", outcome="bmprison",
                          unit="state", time="year", treated_unit="Texas",
                          treatment_start=1994, covariates=["poverty", "income"],
                          options={**MIXTAPE_OPTIONS, **options})


def test_inner_solve_reproduces_r_synth_and_pysyncon(texas):
    """Given R Synth's V, the inner problem gives R's weights; pysyncon's SLSQP solve of the
    same problem (custom_V) stops at a higher objective (its weights differ by up to 0.03), so
    the exact NNLS solve is at least as good as the field's Python library."""
    from pysyncon import Dataprep, Synth

    panel = _panel(texas, texas_spec())
    x = panel.x.to_numpy(dtype=float)
    x = x / x.std(axis=1, ddof=1)[:, None]
    w = simplex_weights(x[:, 0], x[:, 1:], R_SYNTH_V / R_SYNTH_V.sum())
    named = dict(zip(panel.donors, w, strict=True))
    for state, weight in R_SYNTH_WEIGHTS.items():
        assert named[state] == pytest.approx(weight, abs=0.005)
    assert sum(v for k, v in named.items() if k not in R_SYNTH_WEIGHTS) < 0.01
    pre = panel.outcome.to_numpy()[: panel.n_pre]
    loss = np.mean((pre[:, 0] - pre[:, 1:] @ w) ** 2)
    assert loss == pytest.approx(R_SYNTH_LOSS, rel=0.01)

    dp = Dataprep(foo=texas, predictors=["poverty", "income"], predictors_op="mean",
                  dependent="bmprison", unit_variable="state", time_variable="year",
                  treatment_identifier="Texas", controls_identifier=panel.donors,
                  time_predictors_prior=range(1985, 1994), time_optimize_ssr=range(1985, 1994),
                  special_predictors=[(p["column"], p["periods"], "mean")
                                      for p in MIXTAPE_OPTIONS["predictors"]])
    synth = Synth()
    synth.fit(dp, custom_V=R_SYNTH_V / R_SYNTH_V.sum())
    v = np.diag(R_SYNTH_V / R_SYNTH_V.sum())

    def objective(weights):
        gap = x[:, 0] - x[:, 1:] @ weights
        return gap @ v @ gap

    assert objective(w) <= objective(np.asarray(synth.W)) * (1 + 1e-9)
    assert np.abs(np.asarray(synth.W) - w).max() < 0.05


def test_texas_nested_optimisation_matches_or_beats_r_synth(texas):
    """The nested V search reaches a pre-period MSPE at most R Synth's, with the same three
    donors; the average 1994-2000 gap is about +23,000 black male prisoners (the Mixtape's
    figure of Texas against synthetic Texas shows the gap opening to 20,000-30,000)."""
    r = estimate_synthetic_control(texas, texas_spec(placebos=False))
    weights = {row["unit"]: row["weight"] for row in r.tables["donor_weights"]}
    assert sum(weights[s] for s in R_SYNTH_WEIGHTS) > 0.95
    for state, weight in R_SYNTH_WEIGHTS.items():
        assert weights[state] == pytest.approx(weight, abs=0.03)
    path = pd.DataFrame(r.tables["synth_path"])
    pre = path[path.time < 1994]
    assert np.mean((pre.treated - pre.synthetic) ** 2) <= R_SYNTH_LOSS
    # the same weights as R's give the same average gap within 2%
    post = texas[texas.year >= 1994].pivot(index="year", columns="state", values="bmprison")
    r_gap = (post["Texas"] - sum(w * post[s] for s, w in R_SYNTH_WEIGHTS.items())).mean()
    assert r.estimate == pytest.approx(r_gap, rel=0.02)
    assert 20_000 < r.estimate < 27_000
    assert r.p_value is None and r.n_control == 50
    assert {c.name: c.passed for c in r.checks} == {"pre_fit": True, "convex_hull": True,
                                                    "few_donors": True}


def factor_panel(rng: np.random.Generator, *, effect: float, n_donors: int = 20,
                 t_pre: int = 20, t_post: int = 5, convex: bool = True) -> pd.DataFrame:
    """Y_it = a_i + λ_i·F_t + ε_it with two AR(1) factors; the treated unit's loadings are a
    convex combination of three donors' (``convex``) or an exchangeable draw."""
    t = t_pre + t_post
    f = np.zeros((t, 2))
    for s in range(1, t):
        f[s] = 0.8 * f[s - 1] + rng.normal(size=2)
    lam = rng.normal(1, 0.5, size=(n_donors + 1, 2))
    a = rng.normal(10, 1, size=n_donors + 1)
    if convex:
        mix = rng.dirichlet(np.ones(3))
        pick = rng.choice(np.arange(1, n_donors + 1), 3, replace=False)
        lam[0], a[0] = mix @ lam[pick], mix @ a[pick]
    y = a[:, None] + lam @ f.T + rng.normal(scale=0.3, size=(n_donors + 1, t))
    y[0, t_pre:] += effect
    return pd.DataFrame([(str(i), s, y[i, s]) for i in range(n_donors + 1) for s in range(t)],
                        columns=["unit", "t", "y"])


def sim_spec(**kw) -> EvaluationSpec:
    return EvaluationSpec(data="sim.csv", design="synthetic_control", outcome="y", unit="unit",
                          time="t", treated_unit="0", treatment_start=20, **kw)


def test_factor_model_unbiased():
    """Known effect 2 with the treated unit inside the donors' convex hull: the mean estimate
    over 100 panels is within 3 Monte Carlo SEs of 2, and the typical error is small."""
    rng = np.random.default_rng(11)
    est = np.array([estimate_synthetic_control(factor_panel(rng, effect=2.0),
                                               sim_spec(options={"placebos": False})).estimate
                    for _ in range(100)])
    mc_se = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - 2.0) < 3 * mc_se
    assert est.std() < 0.6


def test_placebo_p_value_calibrated_under_null():
    """No effect, treated unit exchangeable with the 20 donors: the placebo p-value is uniform
    on {1/21, ..., 21/21}, so P(p <= 0.1) = 2/21 and P(p <= 0.5) = 10/21; over 200 panels the
    shares must fall in their binomial 99% bands."""
    rng = np.random.default_rng(5)
    p = np.array([estimate_synthetic_control(factor_panel(rng, effect=0.0, convex=False),
                                             sim_spec()).p_value for _ in range(200)])
    for level, expected in ((0.1, 2 / 21), (0.5, 10 / 21)):
        band = 2.58 * np.sqrt(expected * (1 - expected) / len(p))
        assert abs(np.mean(p <= level + 1e-9) - expected) <= band


def test_large_effect_gives_smallest_p_value():
    r = estimate_synthetic_control(factor_panel(np.random.default_rng(2), effect=8.0),
                                   sim_spec())
    assert r.p_value == pytest.approx(1 / 21)
    assert r.estimate == pytest.approx(8.0, abs=1.0)


def test_tables_and_json():
    r = estimate_synthetic_control(factor_panel(np.random.default_rng(3), effect=1.0),
                                   sim_spec())
    for key in ("donor_weights", "synth_path", "placebo"):
        assert set(r.tables[key][0]) == set(TABLE_COLUMNS[key])
    assert sum(row["weight"] for row in r.tables["donor_weights"]) == pytest.approx(1.0)
    assert len(r.tables["synth_path"]) == 25
    doc = json.loads(r.to_json())
    assert doc["design"] == "synthetic_control" and doc["library"].startswith("scipy")
    assert DESIGNS["synthetic_control"].estimate is estimate_synthetic_control


def test_treatment_column_defines_unit_and_start():
    df = factor_panel(np.random.default_rng(4), effect=3.0)
    df["policy"] = ((df.unit == "0") & (df.t >= 20)).astype(int)
    spec = EvaluationSpec(data="sim.csv", design="synthetic_control", outcome="y", unit="unit",
                          time="t", treatment="policy", options={"placebos": False})
    by_column = estimate_synthetic_control(df, spec)
    by_name = estimate_synthetic_control(df, sim_spec(options={"placebos": False}))
    assert by_column.estimate == pytest.approx(by_name.estimate)


def test_covariate_predictors_use_nested_search():
    rng = np.random.default_rng(6)
    df = factor_panel(rng, effect=2.0)
    df["income"] = df.groupby("unit")["y"].transform("mean") + rng.normal(size=len(df))
    r = estimate_synthetic_control(df, sim_spec(covariates=["income"],
                                                options={"placebos": False}))
    assert "nested" in r.method
    assert abs(r.estimate - 2.0) < 1.5
    equal = estimate_synthetic_control(df, sim_spec(covariates=["income"], options={
        "placebos": False, "optimisation": "equal"}))
    assert "equal weights" in equal.method


def test_outside_convex_hull_fails_first():
    df = factor_panel(np.random.default_rng(7), effect=0.0)
    df.loc[df.unit == "0", "y"] += 50
    r = estimate_synthetic_control(df, sim_spec(options={"placebos": False}))
    checks = {c.name: c for c in r.checks}
    assert checks["convex_hull"].passed is False and checks["pre_fit"].passed is False
    assert r.summary_lines()[0].startswith("CHECK FAILED")


def test_few_donors_check():
    df = factor_panel(np.random.default_rng(8), effect=0.0, n_donors=8)
    r = estimate_synthetic_control(df, sim_spec())
    few = next(c for c in r.checks if c.name == "few_donors")
    assert few.passed is False and "1/9" in few.detail


@pytest.mark.parametrize(("change", "error", "words"), [
    ({"treated_unit": "nowhere"}, InputFileError, "not in the data"),
    ({"treatment_start": 1}, InputFileError, "at least 2 periods before"),
    ({"options": {"optimisation": "fast"}}, ConfigError, "optimisation"),
    ({"options": {"placebos": "yes"}}, ConfigError, "placebos"),
    ({"options": {"predictors": ["nope"]}}, ConfigError, "'nope'"),
    ({"options": {"predictors": [{"column": "y", "periods": [30]}]}}, ConfigError,
     "pre-treatment"),
    ({"options": {"outcome_lags": "some"}}, ConfigError, "outcome_lags"),
    ({"options": {"fit_periods": [22]}}, ConfigError, "fit_periods"),
])
def test_bad_input_names_the_problem(change, error, words):
    df = factor_panel(np.random.default_rng(9), effect=0.0)
    spec = sim_spec().model_copy(update=change)
    with pytest.raises(error, match=words):
        estimate_synthetic_control(df, spec)


def test_bad_treatment_column():
    df = factor_panel(np.random.default_rng(10), effect=0.0)
    spec = EvaluationSpec(data="sim.csv", design="synthetic_control", outcome="y", unit="unit",
                          time="t", treatment="d")
    with pytest.raises(InputFileError, match="0 or 1"):
        estimate_synthetic_control(df.assign(d=2), spec)
    two = df.assign(d=((df.unit.isin(["0", "1"])) & (df.t >= 20)).astype(int))
    with pytest.raises(UpwardError, match="exactly one treated unit"):
        estimate_synthetic_control(two, spec)
    with pytest.raises(InputFileError, match="two rows"):
        estimate_synthetic_control(pd.concat([df, df.head(1)]), sim_spec())


def test_runs_through_the_evaluate_pipeline(tmp_path):
    """From a spec and raw records: unit ids are hashed on load and the treated unit with
    them; the result names no raw id."""
    from upward.evaluate.run import evaluate

    df = factor_panel(np.random.default_rng(12), effect=4.0)
    df["unit"] = "city-" + df["unit"]
    spec = sim_spec(options={"placebos": False}).model_copy(update={"treated_unit": "city-0"})
    r = evaluate(spec, data=df, save=False)
    assert r.estimate == pytest.approx(4.0, abs=1.0)
    assert "city-" not in r.to_json()


def test_fit_unit_exact_when_treated_is_a_donor_mix():
    df = factor_panel(np.random.default_rng(13), effect=0.0)
    wide = df.pivot(index="t", columns="unit", values="y")
    df.loc[df.unit == "0", "y"] = (0.3 * wide["1"] + 0.7 * wide["2"]).to_numpy()
    panel = _panel(df, sim_spec())
    fit = _fit_unit(panel, "0", panel.donors, "nested", 0)
    assert fit.pre_rmspe < 1e-3
