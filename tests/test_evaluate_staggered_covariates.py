"""staggered_did with covariates (conditional parallel trends: dr, reg, ipw), sampling weights,
the uniform event-study band and the weighted static TWFE comparison row.

Reference data: the R ``did`` package's ``mpdta`` (Callaway & Sant'Anna 2021; 500 counties,
2003-2007), read from tests/data/evaluate/mpdta.csv (copied from d2cml-ai/csdid
``data/mpdta.csv``, the file diff-diff pins by SHA-256 as ``did::mpdta``; see SOURCES.md).
Published R results: csdid's R-parity reference table ``csdid/test_csdid/r_ref/ref_attgt.csv``
and ``ref_aggte.csv`` (repository d2cml-ai/csdid, commit ca91c1fef4974bde0d973d7f4195328414130c92),
written by its ``generate_reference.R`` from ``did::att_gt(yname = "lemp", tname = "year",
idname = "countyreal", gname = "first.treat", xformla = ~lpop, control_group = "nevertreated",
est_method = "reg", bstrap = FALSE)`` (scenario ``mpdta_nev_reg_cov``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.designs import get_design
from upward.evaluate.designs.staggered import (
    balanced_panel,
    conditional_group_time_effects,
    estimate_staggered,
    group_time_effects,
)
from upward.evaluate.spec import EvaluationSpec

MPDTA = Path(__file__).parent / "data" / "evaluate" / "mpdta.csv"

# R did 2.x via csdid's r_ref/ref_attgt.csv, scenario mpdta_nev_reg_cov: (group, t) -> (att, se)
R_REG_LPOP_CELLS = {
    (2004, 2004): (-0.014911237790361, 0.0220556930763195),
    (2004, 2005): (-0.0769963229660512, 0.0283597455101496),
    (2004, 2006): (-0.141080104628588, 0.0348362869536185),
    (2004, 2007): (-0.107544274673046, 0.0327376926434119),
    (2006, 2004): (-0.0020660581184395, 0.022122286483578),
    (2006, 2005): (-0.00696828306727072, 0.0183457856293695),
    (2006, 2006): (0.000765525026395888, 0.0191959070328785),
    (2006, 2007): (-0.0415356365293253, 0.0197168736453729),
    (2007, 2004): (0.0263658317469803, 0.0140189493226751),
    (2007, 2005): (-0.00475983533866949, 0.0156699660373289),
    (2007, 2006): (-0.028502106413859, 0.0181320658924703),
    (2007, 2007): (-0.0287894881938243, 0.0161678672536918),
}
# ref_aggte.csv, mpdta_nev_reg_cov: simple ATT and the dynamic (event-time) aggregation
R_REG_LPOP_SIMPLE = (-0.0419686124215432, 0.0114448297682151)
R_REG_LPOP_DYNAMIC = {
    -3: (0.0263658317469803, 0.0140189493226751),
    -2: (-0.00412971201229991, 0.0129174707430671),
    -1: (-0.0234649547538384, 0.0144416499564523),
    0: (-0.0211467366918448, 0.0114810443929097),
    1: (-0.0533558653415673, 0.0162930738253423),
    2: (-0.141080104628588, 0.0348362869536185),
    3: (-0.107544274673046, 0.032737692643412),
}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    if not MPDTA.is_file():
        pytest.skip(f"real public file absent: {MPDTA}")
    m = pd.read_csv(MPDTA)
    # a sampling weight that varies across units: county population in thousands
    return m.assign(w=np.exp(m["lpop"]) / 1000)


def run(data: pd.DataFrame, diagnostics: bool = True, **fields):
    spec = EvaluationSpec(data="mpdta.csv", design="staggered_did", **fields)
    get_design("staggered_did").check_spec(spec)
    if not diagnostics:  # the fast path: Callaway-Sant'Anna without the comparison rows
        return estimate_staggered(data, spec, diagnostics=False)
    return get_design("staggered_did").estimate(data, spec)


def _mpdta(m, **fields):
    return run(m, outcome="lemp", unit="countyreal", time="year", cohort="first.treat",
               **fields)


def test_outcome_regression_with_lpop_reproduces_the_r_did_package(mpdta):
    r = _mpdta(mpdta, covariates=["lpop"], options={"est_method": "reg", "band_draws": 0})
    assert r.estimate == pytest.approx(R_REG_LPOP_SIMPLE[0], abs=1e-12)
    assert r.se == pytest.approx(R_REG_LPOP_SIMPLE[1], rel=1e-9)
    cells = {(row["cohort"], row["time"]): row for row in r.tables["group_time"]}
    assert set(cells) == set(R_REG_LPOP_CELLS)
    for key, (att, se) in R_REG_LPOP_CELLS.items():
        assert cells[key]["att"] == pytest.approx(att, abs=1e-12)
        assert cells[key]["se"] == pytest.approx(se, rel=1e-9)
    events = {row["rel_time"]: row for row in r.tables["event_study"]}
    for e, (att, se) in R_REG_LPOP_DYNAMIC.items():
        assert events[e]["estimate"] == pytest.approx(att, abs=1e-12)
        assert events[e]["se"] == pytest.approx(se, rel=1e-9)
    assert "conditional on lpop" in r.method


@pytest.mark.parametrize("est_method", ["dr", "reg", "ipw"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_covariates_and_weights_match_csdid_and_diff_diff(mpdta, est_method, weights):
    csdid = pytest.importorskip("csdid.att_gt")
    dd = pytest.importorskip("diff_diff")
    r = _mpdta(mpdta, covariates=["lpop"], weights=weights,
               options={"est_method": est_method, "band_draws": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = csdid.ATTgt(yname="lemp", tname="year", idname="countyreal",
                          gname="first.treat", data=mpdta.copy(), control_group=["nevertreated"],
                          xformla="lemp~lpop", weights_name=weights
                          ).fit(est_method=est_method, bstrap=False)
        simple = att.aggte(typec="simple", bstrap=False)
        survey = dd.SurveyDesign(weights=weights) if weights else None
        ref = dd.CallawaySantAnna(estimation_method=est_method).fit(
            mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat",
            covariates=["lpop"], survey_design=survey)
    # csdid ports R did/DRDID exactly: same nuisance models, trimming and influence functions
    assert r.estimate == pytest.approx(simple.atte["overall_att"], abs=1e-10)
    assert r.se == pytest.approx(simple.atte["overall_se"], rel=1e-8)
    # diff-diff's own logit stops at a looser tolerance: agreement to about 1e-7
    assert r.estimate == pytest.approx(ref.overall_att, abs=1e-6)
    assert r.se == pytest.approx(ref.overall_se, rel=1e-4)
    if weights:
        unweighted = _mpdta(mpdta, covariates=["lpop"],
                            options={"est_method": est_method, "band_draws": 0})
        assert abs(r.estimate - unweighted.estimate) > 0.01  # the weights do change things
        assert "weighted by w" in r.method


def test_weighted_path_with_unit_weights_equals_the_fast_unconditional_path(mpdta):
    spec = EvaluationSpec(data="m.csv", design="staggered_did", outcome="lemp",
                          unit="countyreal", time="year", cohort="first.treat")
    fast = balanced_panel(mpdta, spec)
    slow = balanced_panel(mpdta.assign(one=1.0), spec.model_copy(update={"weights": "one"}))
    for control in ("never_treated", "not_yet_treated"):
        a = group_time_effects(fast, control)
        b = conditional_group_time_effects(slow, control)
        np.testing.assert_allclose(b.att, a.att, atol=1e-12)
        np.testing.assert_allclose(b.influence, a.influence, atol=1e-9)


def test_static_twfe_row_matches_pyfixest_with_weights_clusters_and_covariates(mpdta):
    pf = pytest.importorskip("pyfixest")
    rng = np.random.default_rng(4)
    m = mpdta.assign(x=rng.normal(size=len(mpdta)),   # a time-varying covariate
                     state=mpdta["countyreal"] // 1000)
    r = _mpdta(m, covariates=["lpop", "x"], weights="w", cluster="state",
               options={"band_draws": 0})
    row = next(x for x in r.tables["estimates"] if x["method"].startswith("naive two-way"))
    assert "biased when effects differ" in row["method"]
    g = m["first.treat"]
    rows = m.assign(d=((g > 0) & (m["year"] >= g)).astype(float))
    ref = pf.feols("lemp ~ d + x | countyreal + year", data=rows, weights="w",
                   vcov={"CRV1": "state"})
    assert row["estimate"] == pytest.approx(ref.coef()["d"], abs=1e-10)
    assert row["se"] == pytest.approx(ref.se()["d"], rel=1e-8)


def test_uniform_band_is_wider_than_pointwise_and_narrower_than_bonferroni(mpdta):
    r = _mpdta(mpdta, covariates=["lpop"], options={"band_draws": 999})
    rows = [x for x in r.tables["event_study"] if x["se"]]
    crits = {round((x["band_high"] - x["estimate"]) / x["se"], 9) for x in rows}
    assert len(crits) == 1
    crit = crits.pop()
    from scipy.stats import norm
    assert norm.ppf(0.975) < crit < norm.ppf(1 - 0.025 / len(rows))
    assert "uniform band" in r.method
    mammen = _mpdta(mpdta, covariates=["lpop"], options={"multiplier": "mammen"})
    assert mammen.tables["event_study"][0]["band_low"] != rows[0]["band_low"]
    assert "mammen multiplier" in mammen.method
    # the same seed gives the same band
    again = _mpdta(mpdta, covariates=["lpop"], options={"band_draws": 999})
    assert again.tables["event_study"] == r.tables["event_study"]


def _covariate_trend_panel(rng, n=400, periods=5, effect=1.0):
    """Cohorts 3 and 4 and never-treated; units with larger x are likelier to be treated
    and trend up faster, so only conditional parallel trends hold. Truth: ATT = effect."""
    x = rng.normal(size=n)
    cohort = np.where(rng.random(n) < 1 / (1 + np.exp(-1.5 * x)),
                      rng.choice([3, 4], n), 0)
    unit = np.repeat(np.arange(n), periods)
    t = np.tile(np.arange(1, periods + 1), n)
    g = np.repeat(cohort, periods)
    treated = (g > 0) & (t >= g)
    y = (np.repeat(rng.normal(size=n), periods) + 0.5 * np.repeat(x, periods) * t
         + effect * treated + rng.normal(scale=0.5, size=n * periods))
    return pd.DataFrame({"id": unit, "t": t, "g": g, "x": np.repeat(x, periods), "y": y})


def test_conditional_estimators_remove_the_bias_of_unconditional_cs_by_simulation():
    hits = {m: [] for m in ("dr", "reg", "ipw")}
    bias = {m: [] for m in (*hits, "none")}
    rng = np.random.default_rng(17)
    for _ in range(40):
        df = _covariate_trend_panel(rng)
        plain = run(df, False, outcome="y", unit="id", time="t", cohort="g",
                    options={"band_draws": 0})
        bias["none"].append(plain.estimate - 1.0)
        for m in hits:
            r = run(df, False, outcome="y", unit="id", time="t", cohort="g", covariates=["x"],
                    options={"est_method": m, "band_draws": 0})
            bias[m].append(r.estimate - 1.0)
            hits[m].append(r.ci_low <= 1.0 <= r.ci_high)
    assert np.mean(bias["none"]) > 0.3  # selection on the trend: unconditional CS is biased
    for m in hits:
        assert abs(np.mean(bias[m])) < 0.05
        assert np.mean(hits[m]) >= 0.85  # 95% nominal; 40 draws


def test_uniform_band_covers_the_whole_curve_about_95_percent_by_simulation():
    """Known truth: zero effect in every event time. Pointwise intervals all cover less often
    than 95%; the band covers all event times together about 95% of the time."""
    rng = np.random.default_rng(5)
    band, pointwise = [], []
    for _ in range(60):
        n, periods = 150, 8
        cohort = rng.choice([0, 4, 6], n)
        y = rng.normal(size=(n, periods)) + np.arange(periods) * 0.1
        df = pd.DataFrame({"id": np.repeat(np.arange(n), periods),
                           "t": np.tile(np.arange(1, periods + 1), n),
                           "g": np.repeat(cohort, periods), "y": y.ravel()})
        r = run(df, False, outcome="y", unit="id", time="t", cohort="g",
                options={"band_draws": 299, "seed": int(rng.integers(1 << 30))})
        rows = [x for x in r.tables["event_study"] if x["se"]]
        band.append(all(x["band_low"] <= 0 <= x["band_high"] for x in rows))
        pointwise.append(all(x["ci_low"] <= 0 <= x["ci_high"] for x in rows))
    assert np.mean(band) >= 0.85
    assert np.mean(pointwise) < np.mean(band)


def test_yaml_spec_runs_with_covariates_weights_and_draws_the_band(mpdta, tmp_path):
    from upward.evaluate.run import evaluate
    from upward.report.evaluation import render_evaluation_report

    mpdta.to_csv(tmp_path / "mpdta.csv", index=False)
    spec = tmp_path / "minimum-wage.yaml"
    spec.write_text("data: mpdta.csv\ndesign: staggered_did\noutcome: lemp\nunit: countyreal\n"
                    "time: year\ncohort: first.treat\ncovariates: [lpop]\nweights: w\n"
                    "options:\n  est_method: dr\n  band_draws: 199\n")
    r = evaluate(spec)
    assert r.estimate == pytest.approx(-0.0181327, abs=1e-6)  # csdid, as tested above
    html = render_evaluation_report(r)
    assert "uniform 95% band" in html  # the band's trace in the event-study chart


@pytest.mark.parametrize(("change", "error", "names"), [
    (lambda m: m.assign(w=m["w"] * (1 + (m["year"] == 2005))), InputFileError, "weight"),
    (lambda m: m.assign(lpop=m["lpop"].astype(object).where(m.index != 3, "many")),
     InputFileError, "row 5"),
    (lambda m: m.assign(w=-m["w"]), InputFileError, "negative"),
])
def test_bad_covariates_and_weights_name_the_column_and_row(mpdta, change, error, names):
    with pytest.raises(error, match=names):
        _mpdta(change(mpdta), covariates=["lpop"], weights="w")


def test_covariates_that_predict_treatment_perfectly_are_refused(mpdta):
    m = mpdta.assign(sep=(mpdta["first.treat"] == 2004).astype(float) * 100)
    with pytest.raises(ConfigError, match="est_method: reg"):
        _mpdta(m, covariates=["sep"], options={"est_method": "ipw", "band_draws": 0})


def test_weighted_sun_abraham_matches_pyfixest_interactions(mpdta):
    """The interaction-weighted row with sampling weights: pyfixest's weighted regression on
    cohort × relative-period dummies (reference -1), averaged over post cells with weighted
    cohort sizes, its SE by the delta method from the CR1 covariance."""
    pf = pytest.importorskip("pyfixest")
    r = _mpdta(mpdta, weights="w", options={"band_draws": 0})
    row = next(x for x in r.tables["estimates"] if x["method"].startswith("Sun"))
    g, rel = mpdta["first.treat"], mpdta["year"] - mpdta["first.treat"]
    cell = np.where((g > 0) & (rel != -1), g * 100 + rel + 50, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols("lemp ~ i(cell, ref=0) | countyreal + year", data=mpdta.assign(cell=cell),
                       weights="w", vcov={"CRV1": "countyreal"})
    sizes = mpdta[mpdta["year"] == 2003].groupby("first.treat")["w"].sum()
    names = list(fit.coef().index)
    a = np.zeros(len(names))
    for k, name in enumerate(names):
        cohort, offset = divmod(int(name.split("::")[1].rstrip("]").split(".")[0]), 100)
        if offset - 50 >= 0:
            a[k] = sizes[cohort]
    a /= a.sum()
    assert row["estimate"] == pytest.approx(float(a @ fit.coef().to_numpy()), abs=1e-12)
    assert row["se"] == pytest.approx(float(np.sqrt(a @ fit._vcov @ a)), rel=1e-6)


def test_not_yet_treated_controls_with_covariates_and_weights_match_csdid(mpdta):
    csdid = pytest.importorskip("csdid.att_gt")
    r = _mpdta(mpdta, covariates=["lpop"], weights="w",
               options={"control_group": "not_yet_treated", "band_draws": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = csdid.ATTgt(yname="lemp", tname="year", idname="countyreal",
                          gname="first.treat", data=mpdta.copy(),
                          control_group=["notyettreated"], xformla="lemp~lpop",
                          weights_name="w").fit(est_method="dr", bstrap=False)
        simple = att.aggte(typec="simple", bstrap=False)
    assert r.estimate == pytest.approx(simple.atte["overall_att"], abs=1e-10)
    assert r.se == pytest.approx(simple.atte["overall_se"], rel=1e-8)
