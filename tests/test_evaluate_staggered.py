"""The staggered_did design: Callaway-Sant'Anna against csdid and diff-diff on the castle
doctrine panel, Sun-Abraham against diff-diff, and simulations with cohort-heterogeneous
effects where naive TWFE is biased and the robust estimators are not."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.designs import get_design
from upward.evaluate.designs.staggered import (
    NEVER,
    Panel,
    cohort_time_ols,
    estimate_staggered,
)
from upward.evaluate.spec import EvaluationSpec

causaldata = pytest.importorskip("causaldata")


def run(data: pd.DataFrame, **fields):
    spec = EvaluationSpec(data="program.csv", design="staggered_did", **fields)
    get_design("staggered_did").check_spec(spec)
    return get_design("staggered_did").estimate(data, spec)


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    # Cheng & Hoekstra (2013, JHR) castle-doctrine panel, 50 states × 2000-2010, as shipped
    # with The Mixtape; the first year with post == 1 is the state's cohort.
    c = causaldata.castle.load_pandas().data.copy()
    first = c[c["post"] == 1].groupby("sid")["year"].min()
    c["effyear"] = c["sid"].map(first).fillna(0)
    return c


def _castle(castle, **options):
    return run(castle, outcome="l_homicide", unit="sid", time="year", cohort="effyear",
               options=options)


@pytest.mark.parametrize(("ours", "csdid_name", "dd_name"), [
    ("never_treated", "nevertreated", "never_treated"),
    ("not_yet_treated", "notyettreated", "not_yet_treated"),
])
def test_castle_callaway_santanna_matches_csdid_and_diff_diff(castle, ours, csdid_name,
                                                              dd_name):
    # Both libraries port the R did package (Callaway & Sant'Anna 2021); analytic standard
    # errors (no bootstrap) are the influence-function ones we compute.
    csdid = pytest.importorskip("csdid.att_gt")
    dd = pytest.importorskip("diff_diff")
    r = _castle(castle, control_group=ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = csdid.ATTgt(yname="l_homicide", tname="year", idname="sid", gname="effyear",
                          data=castle.copy(), control_group=[csdid_name]
                          ).fit(est_method="reg", bstrap=False)
        simple = att.aggte(typec="simple", bstrap=False)
        ref = dd.CallawaySantAnna(control_group=dd_name, estimation_method="reg").fit(
            castle, outcome="l_homicide", unit="sid", time="year", first_treat="effyear")
        dyn = ref.aggregate("event_study")
    assert r.estimate == pytest.approx(simple.atte["overall_att"], abs=1e-10)
    assert r.se == pytest.approx(simple.atte["overall_se"], rel=1e-6)
    # diff-diff agrees to float32 precision (the castle outcome is stored as float32)
    assert r.estimate == pytest.approx(ref.overall_att, abs=1e-6)
    assert r.se == pytest.approx(ref.overall_se, rel=1e-6)
    cells = {(row["cohort"], row["time"]): row for row in r.tables["group_time"]}
    for (g, t), eff in ref.group_time_effects.items():
        assert cells[int(g), int(t)]["att"] == pytest.approx(eff["effect"], abs=1e-6)
        assert cells[int(g), int(t)]["se"] == pytest.approx(eff["se"], rel=1e-6)
    events = {row["rel_time"]: row for row in r.tables["event_study"]}
    for e, est, se in zip(np.asarray(dyn.event_time), np.asarray(dyn.att),
                          np.asarray(dyn.se), strict=True):
        if np.isfinite(se):
            assert events[int(e)]["estimate"] == pytest.approx(est, abs=1e-6)
            assert events[int(e)]["se"] == pytest.approx(se, rel=1e-6)


def test_castle_sun_abraham_matches_diff_diff_and_equals_cs_never_treated(castle):
    dd = pytest.importorskip("diff_diff")
    r = _castle(castle)
    rows = {row["method"].split(" (")[0]: row for row in r.tables["estimates"]}
    sa = rows["Sun & Abraham"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = dd.SunAbraham().fit(castle, outcome="l_homicide", unit="sid", time="year",
                                  first_treat="effyear")
    assert sa["estimate"] == pytest.approx(ref.overall_att, abs=1e-6)
    assert sa["se"] == pytest.approx(ref.overall_se, rel=1e-4)
    # in a balanced panel without covariates the interaction-weighted estimator with
    # never-treated controls is the same 2×2 comparisons as CS (Sun & Abraham 2021, sec. 4)
    assert sa["estimate"] == pytest.approx(r.estimate, abs=1e-10)
    twfe = rows["naive two-way fixed effects"]
    fit = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov={"CRV1": "sid"})
    assert twfe["estimate"] == pytest.approx(fit.coef()["post"], abs=1e-10)
    assert twfe["se"] == pytest.approx(fit.se()["post"], rel=1e-8)
    assert r.n == 550 and r.n_treated == 21 and r.n_control == 29
    assert any("single unit" in w for w in r.warnings)


def test_cell_regression_equals_pyfixest_on_the_rows_with_coarse_clusters():
    # cohort × period regressors, unit and period FE, CR1 clustered by groups of units
    rng = np.random.default_rng(12)
    n, t = 240, 7
    cohort = rng.choice([3.0, 5.0, NEVER], n)
    y = rng.normal(size=(n, t)) + rng.normal(size=(n, 1)) + np.arange(t)
    panel = Panel(y, np.arange(1, t + 1), cohort, np.arange(n) // 8)
    cohorts = np.unique(cohort)
    x = rng.normal(size=(len(cohorts), t, 3))
    beta, vcov, df = cohort_time_ols(panel, x)
    long = panel.long()
    member = np.searchsorted(cohorts, long["g"].to_numpy())
    position = long["t"].to_numpy().astype(int) - 1
    for k in range(3):
        long[f"x{k}"] = x[member, position, k]
    fit = pf.feols("y ~ x0 + x1 + x2 | u + t", data=long, vcov={"CRV1": "cl"})
    np.testing.assert_allclose(beta, fit.coef().to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(vcov, fit._vcov, rtol=1e-8)
    assert df == fit._df_t == 29


def _staggered_sim(rng, n=300, periods=6):
    """Cohorts 3 and 5 and never treated (1/3 each); effects grow 0.5 a period and differ by
    cohort (2.0 vs 0.5 on impact). Population simple ATT = (2+2.5+3+3.5+0.5+1)/6."""
    cohort = rng.choice([0, 3, 5], n)
    unit, time = np.repeat(np.arange(n), periods), np.tile(np.arange(1, periods + 1), n)
    g = np.repeat(cohort, periods)
    impact = np.where(g == 3, 2.0, 0.5)
    effect = np.where((g > 0) & (time >= g), impact + 0.5 * (time - g), 0.0)
    y = (np.repeat(rng.normal(size=n), periods) + 0.2 * time + effect
         + rng.normal(size=n * periods))
    return pd.DataFrame({"id": unit, "t": time, "g": g, "y": y})


SIM_TRUTH = (2 + 2.5 + 3 + 3.5 + 0.5 + 1) / 6


def test_callaway_santanna_unbiased_and_covers_95_percent_with_heterogeneous_effects():
    rng = np.random.default_rng(7)
    reps, covered, estimates = 300, 0, []
    for control in ("never_treated", "not_yet_treated"):
        spec = EvaluationSpec(data="sim.csv", design="staggered_did", outcome="y", unit="id",
                              time="t", cohort="g", options={"control_group": control})
        hits, est = 0, []
        for _ in range(reps // 2):
            r = estimate_staggered(_staggered_sim(rng), spec, diagnostics=False)
            est.append(r.estimate)
            hits += r.ci_low <= SIM_TRUTH <= r.ci_high
        estimates += est
        covered += hits
    assert abs(np.mean(estimates) - SIM_TRUTH) < 3 * np.std(estimates) / np.sqrt(reps)
    assert 0.91 <= covered / reps <= 0.98


def test_twfe_is_biased_where_cs_and_sun_abraham_are_not():
    rng = np.random.default_rng(9)
    rows = {"Callaway": [], "Sun": [], "naive": []}
    for _ in range(25):
        r = run(_staggered_sim(rng), outcome="y", unit="id", time="t", cohort="g")
        for row in r.tables["estimates"]:
            rows[row["method"].split(" ")[0]].append(row["estimate"])
    mean = {k: np.mean(v) for k, v in rows.items()}
    mc_se = {k: np.std(v) / np.sqrt(len(v)) for k, v in rows.items()}
    assert abs(mean["Callaway"] - SIM_TRUTH) < 4 * mc_se["Callaway"]
    assert abs(mean["Sun"] - SIM_TRUTH) < 4 * mc_se["Sun"]
    assert SIM_TRUTH - mean["naive"] > 0.3  # TWFE's forbidden comparisons pull it down
    assert abs(mean["naive"] - SIM_TRUTH) > 10 * mc_se["naive"]


def test_pre_trend_check_flags_anticipation():
    rng = np.random.default_rng(2)
    df = _staggered_sim(rng, n=600)
    ahead = (df.g > 0) & (df.t == df.g - 1)
    df.loc[ahead, "y"] += 1.0  # outcomes move one period before treatment
    r = run(df, outcome="y", unit="id", time="t", cohort="g")
    check = next(c for c in r.checks if c.name == "pre_trends")
    assert check.passed is False
    clean = run(_staggered_sim(np.random.default_rng(4)), outcome="y", unit="id", time="t",
                cohort="g")
    assert next(c for c in clean.checks if c.name == "pre_trends").p_value > 0.001


def test_no_never_treated_units_use_not_yet_treated_controls():
    rng = np.random.default_rng(1)
    df = _staggered_sim(rng)
    df = df[df.g > 0].reset_index(drop=True)
    with pytest.raises(ConfigError, match="not_yet_treated"):
        run(df, outcome="y", unit="id", time="t", cohort="g")
    r = run(df, outcome="y", unit="id", time="t", cohort="g",
            options={"control_group": "not_yet_treated"})
    # only cohort 3 in periods 3-4 has not-yet-treated controls (cohort 5)
    assert {(row["cohort"], row["time"]) for row in r.tables["group_time"]
            if row["time"] >= row["cohort"]} == {(3, 3), (3, 4)}
    assert any("no control units" in w for w in r.warnings)


def test_unbalanced_units_are_dropped_with_a_note():
    rng = np.random.default_rng(3)
    df = _staggered_sim(rng)
    df = df.drop(index=[0, 7, 8]).reset_index(drop=True)  # units 0 and 1 lose a period
    r = run(df, outcome="y", unit="id", time="t", cohort="g")
    assert r.n == 298 * 6 and any("balanced panel" in w for w in r.warnings)


@pytest.mark.parametrize(("fields", "error", "names"), [
    ({"weights": "bad_cohort"}, InputFileError, "weight"),
    ({"options": {"est_method": "ols"}}, ConfigError, "options.est_method"),
    ({"options": {"control_group": "later"}}, ConfigError, "options.control_group"),
    ({"options": {"base_period": "first"}}, ConfigError, "options.base_period"),
    ({"cohort": "bad_cohort"}, InputFileError, "'bad_cohort'"),
])
def test_bad_input_names_the_column_or_option(fields, error, names):
    df = _staggered_sim(np.random.default_rng(0), n=30).assign(x=1.0)
    df["bad_cohort"] = df["g"] + (df["t"] == 2)
    fields = {"cohort": "g", **fields}
    with pytest.raises(error, match=names):
        run(df, outcome="y", unit="id", time="t", **fields)
