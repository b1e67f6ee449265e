"""Coverage and speed of the synthetic control, regression discontinuity and selection-on-
observables designs, each against a named alternative measured in the same run.

    python -m bench.evaluate_observational               # all, 400 replications each
    python -m bench.evaluate_observational synthetic     # or rd, observational
    python -m bench.evaluate_observational rd 1000       # a different number of replications

* synthetic: a factor model with a known effect — bias, RMSE and placebo p-value calibration
  of the synthetic control against difference-in-differences on the donors' mean (which the
  factor model's non-parallel trends bias); on the Mixtape's Texas panel, the time and the
  pre-period MSPE of upward's nested fit against pysyncon's (skip it with ``fast``).
* rd: coverage of rdrobust's robust bias-corrected interval against the conventional one at
  the same MSE-optimal bandwidth (the conventional interval ignores the smoothing bias).
* observational: bias and coverage of matching, IPW and AIPW under confounding, against the
  naive difference in means; time of upward's IPW against statsmodels' TreatmentEffect.ipw.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from upward.evaluate.spec import EvaluationSpec


def _band(p: float, n: int) -> str:
    return f"±{1.96 * np.sqrt(p * (1 - p) / n):.3f}"


def _factor_panel(rng, effect, n_donors=30, t_pre=20, t_post=8, convex=True):
    t = t_pre + t_post
    f = np.zeros((t, 2))
    for s in range(1, t):
        f[s] = 0.8 * f[s - 1] + rng.normal(size=2)
    trend = np.linspace(0, 1, t)
    lam = rng.normal(1, 0.5, size=(n_donors + 1, 2))
    a = rng.normal(10, 1, size=n_donors + 1)
    slope = rng.normal(0, 2, size=n_donors + 1)
    if convex:
        mix = rng.dirichlet(np.ones(3))
        pick = rng.choice(np.arange(1, n_donors + 1), 3, replace=False)
        lam[0], a[0], slope[0] = mix @ lam[pick], mix @ a[pick], mix @ slope[pick]
    y = a[:, None] + lam @ f.T + slope[:, None] * trend + rng.normal(scale=0.3,
                                                                     size=(n_donors + 1, t))
    y[0, t_pre:] += effect
    return pd.DataFrame([(str(i), s, y[i, s]) for i in range(n_donors + 1) for s in range(t)],
                        columns=["unit", "t", "y"])


def bench_synthetic(reps: int, fast: bool = False) -> None:
    from upward.evaluate.designs.synthetic import estimate_synthetic_control

    spec = EvaluationSpec(data="sim.csv", design="synthetic_control", outcome="y", unit="unit",
                          time="t", treated_unit="0", treatment_start=20)
    rng = np.random.default_rng(1)
    sc, did, start = [], [], time.perf_counter()
    for _ in range(reps):
        df = _factor_panel(rng, 2.0)
        sc.append(estimate_synthetic_control(df, spec.model_copy(
            update={"options": {"placebos": False}})).estimate)
        wide = df.pivot(index="t", columns="unit", values="y")
        gap = wide["0"] - wide.drop(columns="0").mean(axis=1)
        did.append(gap.iloc[20:].mean() - gap.iloc[:20].mean())
    sc, did = np.array(sc) - 2.0, np.array(did) - 2.0
    print(f"synthetic control, factor model with trends, effect 2, {reps} panels "
          f"({time.perf_counter() - start:.0f} s):")
    print(f"  synthetic control: bias {sc.mean():+.3f}, RMSE {np.sqrt(np.mean(sc ** 2)):.3f}")
    print(f"  DiD on donor mean: bias {did.mean():+.3f}, RMSE {np.sqrt(np.mean(did ** 2)):.3f}")
    print(f"  ratio RMSE synthetic / DiD = {np.sqrt(np.mean(sc ** 2) / np.mean(did ** 2)):.2f}")
    p = np.array([estimate_synthetic_control(_factor_panel(rng, 0.0, convex=False), spec).p_value
                  for _ in range(reps)])
    for level in (0.05, 0.1, 0.25, 0.5):
        expected = np.floor(level * 31 + 1e-9) / 31
        print(f"  placebo p <= {level}: {np.mean(p <= level + 1e-9):.3f} "
              f"(exact under exchangeability {expected:.3f} {_band(expected, reps)})")
    if not fast:
        _texas_vs_pysyncon()


def _texas_vs_pysyncon() -> None:
    import causaldata
    from pysyncon import Dataprep, Synth

    from upward.evaluate.designs.synthetic import estimate_synthetic_control

    df = causaldata.texas.load_pandas().data
    df = df.assign(state=df["state"].astype(str))
    special = [("bmprison", [1988, 1990, 1991, 1992], "mean"), ("alcohol", [1990], "mean"),
               ("aidscapita", [1990, 1991], "mean"), ("black", [1990, 1991, 1992], "mean"),
               ("perc1519", [1990], "mean")]
    spec = EvaluationSpec(data="texas.dta", design="synthetic_control", outcome="bmprison",
                          unit="state", time="year", treated_unit="Texas",
                          treatment_start=1994, covariates=["poverty", "income"],
                          options={"placebos": False, "predictors": [
                              {"column": c, "periods": p} for c, p, _ in special]})
    start = time.perf_counter()
    r = estimate_synthetic_control(df, spec)
    ours_s = time.perf_counter() - start
    path = pd.DataFrame(r.tables["synth_path"])
    pre = path[path.time < 1994]
    ours_loss = float(np.mean((pre.treated - pre.synthetic) ** 2))
    controls = sorted(s for s in df.state.unique() if s != "Texas")
    dp = Dataprep(foo=df, predictors=["poverty", "income"], predictors_op="mean",
                  dependent="bmprison", unit_variable="state", time_variable="year",
                  treatment_identifier="Texas", controls_identifier=controls,
                  time_predictors_prior=range(1985, 1994), time_optimize_ssr=range(1985, 1994),
                  special_predictors=special)
    start = time.perf_counter()
    synth = Synth()
    synth.fit(dp, optim_initial="ols")
    theirs_s = time.perf_counter() - start
    print("Texas (Mixtape ch. 10), nested V optimisation, one fit:")
    print(f"  upward:   {ours_s:6.1f} s, pre-period MSPE {ours_loss:,.0f}")
    print(f"  pysyncon: {theirs_s:6.1f} s, pre-period MSPE {synth.loss_V:,.0f} "
          "(R Synth: 2,015,107)")
    print(f"  ratio time upward / pysyncon = {ours_s / theirs_s:.3f}; "
          f"MSPE upward / pysyncon = {ours_loss / synth.loss_V:.3f}")


def bench_rd(reps: int) -> None:
    from rdrobust import rdrobust

    rng = np.random.default_rng(2)
    robust, conventional, start = [], [], time.perf_counter()
    for _ in range(reps):
        x = rng.uniform(-1, 1, 1000)
        y = 0.5 * x + 0.8 * x ** 2 + 1.0 * (x >= 0) + rng.normal(0, 0.4, 1000)
        fit = rdrobust(y, x)
        robust.append(fit.ci.iloc[2, 0] <= 1.0 <= fit.ci.iloc[2, 1])
        conventional.append(fit.ci.iloc[0, 0] <= 1.0 <= fit.ci.iloc[0, 1])
    rob, conv = np.mean(robust), np.mean(conventional)
    print(f"rd, curved mean with a jump of 1, n = 1000, {reps} samples "
          f"({time.perf_counter() - start:.0f} s):")
    print(f"  robust bias-corrected 95% CI coverage {rob:.3f} {_band(0.95, reps)}")
    print(f"  conventional 95% CI coverage          {conv:.3f}")
    print(f"  ratio of miss rates conventional / robust = {(1 - conv) / max(1 - rob, 1e-9):.2f}")
    from upward.evaluate.designs.discontinuity import mccrary_test

    size = np.mean([mccrary_test(rng.normal(size=2000), 0.3).p_value < 0.05
                    for _ in range(reps)])
    print(f"  McCrary density test size at 5% (smooth density): {size:.3f}")


def _draw(rng, n=1000):
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    e = 1 / (1 + np.exp(-(-0.3 + 0.8 * x1 - 0.5 * x2)))
    d = (rng.random(n) < e).astype(int)
    y = 1 + 2 * d + 1.5 * x1 + x2 + d * x1 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "d": d, "y": y})


def bench_observational(reps: int) -> None:
    import statsmodels.api as sm
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    from upward.evaluate.designs.observational import (
        estimate_aipw,
        estimate_ipw,
        estimate_matching,
    )

    rng = np.random.default_rng(99)
    big = _draw(rng, 2_000_000)
    truth = {"ATE": 2.0, "ATT": 2.0 + big.x1[big.d == 1].mean()}
    print(f"selection on observables, confounded (effect 2 + x1), n = 1000, {reps} samples:")
    for name, fn, estimand in [("matching", estimate_matching, "ATT"),
                               ("matching", estimate_matching, "ATE"),
                               ("ipw", estimate_ipw, "ATT"), ("ipw", estimate_ipw, "ATE"),
                               ("aipw", estimate_aipw, "ATT"), ("aipw", estimate_aipw, "ATE")]:
        spec = EvaluationSpec(data="sim.csv", design=name, outcome="y", treatment="d",
                              covariates=["x1", "x2"], options={"estimand": estimand})
        rng = np.random.default_rng(1)
        est, cover, naive = [], [], []
        start = time.perf_counter()
        for _ in range(reps):
            r = fn(_draw(rng), spec)
            est.append(r.estimate)
            cover.append(r.ci_low <= truth[estimand] <= r.ci_high)
            naive.append(r.tables["estimates"][0]["estimate"])
        est = np.array(est)
        bias, naive_bias = est.mean() - truth[estimand], np.mean(naive) - truth[estimand]
        print(f"  {name:8} {estimand}: bias {bias:+.4f} (naive {naive_bias:+.3f}, ratio "
              f"{abs(bias) / abs(naive_bias):.3f}), coverage {np.mean(cover):.3f} "
              f"{_band(0.95, reps)}, {1000 * (time.perf_counter() - start) / reps:.0f} ms each")
    df = _draw(np.random.default_rng(5), 20_000)
    spec = EvaluationSpec(data="sim.csv", design="ipw", outcome="y", treatment="d",
                          covariates=["x1", "x2"], options={"estimand": "ATE"})
    start = time.perf_counter()
    ours = estimate_ipw(df, spec)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    x = sm.add_constant(df[["x1", "x2"]].to_numpy())
    ps = sm.Logit(df.d.to_numpy(), x).fit(disp=0)
    theirs = TreatmentEffect(sm.OLS(df.y.to_numpy(), x), df.d.to_numpy(),
                             results_select=ps).ipw().summary_frame().iloc[0]
    theirs_s = time.perf_counter() - start
    print(f"  IPW ATE, n = 20,000: upward {ours_s:.2f} s (with diagnostics), statsmodels "
          f"TreatmentEffect {theirs_s:.2f} s; ratio {ours_s / theirs_s:.2f}; SE "
          f"{ours.se:.5f} vs {theirs['std err']:.5f}")


BENCHES = {"synthetic": bench_synthetic, "rd": bench_rd, "observational": bench_observational}


def main(argv: list[str]) -> None:
    fast = "fast" in argv
    argv = [a for a in argv if a != "fast"]
    which = argv[0] if argv and not argv[0].isdigit() else "all"
    numbers = [int(a) for a in argv if a.isdigit()]
    reps = numbers[0] if numbers else 400
    if which != "all" and which not in BENCHES:
        sys.exit(f"unknown benchmark {which!r}: use {', '.join(BENCHES)} or all")
    for name, bench in BENCHES.items():
        if which in ("all", name):
            bench(reps, fast) if name == "synthetic" else bench(reps)


if __name__ == "__main__":
    main(sys.argv[1:])
