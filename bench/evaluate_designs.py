"""Benchmarks of the experiment, panel and staggered designs (not part of the test run).

    python -m bench.evaluate_designs staggered [N]  # N units (100,000) x 10 periods: Upward vs libraries
    python -m bench.evaluate_designs covariates [N] # CS with a covariate and weights vs diff-diff
    python -m bench.evaluate_designs simulate    # bias and 95% CI coverage, many repetitions
    python -m bench.evaluate_designs             # both

``staggered`` times the staggered_did design on 100,000 units × 10 periods and, on the same
data, the libraries called directly: diff-diff's CallawaySantAnna (analytic standard errors)
for the Callaway-Sant'Anna part, and pyfixest ``feols`` for the Sun-Abraham and TWFE
regressions the design runs. ``simulate`` is the large version of the coverage tests.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from upward.evaluate.spec import EvaluationSpec

COHORTS = (0, 4, 6, 8)


def staggered_panel(n_units: int, periods: int, seed: int = 1) -> pd.DataFrame:
    """A balanced panel with cohort-specific, growing effects (truth known per cell).

    >>> staggered_panel(10, 4).shape
    (40, 4)
    """
    rng = np.random.default_rng(seed)
    cohort = rng.choice(COHORTS, n_units)
    unit = np.repeat(np.arange(n_units), periods)
    t = np.tile(np.arange(1, periods + 1), n_units)
    g = np.repeat(cohort, periods)
    effect = np.where((g > 0) & (t >= g), np.where(g == 4, 2.0, 0.5) + 0.25 * (t - g), 0.0)
    y = (np.repeat(rng.normal(size=n_units), periods) + 0.1 * t + effect
         + rng.normal(size=n_units * periods))
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y})


def _timed(fn, repeat: int = 2):
    """The result and the fastest of ``repeat`` timed calls (callers warm up first)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def bench_staggered(n_units: int = 100_000, periods: int = 10) -> None:
    """Upward's staggered_did vs diff-diff (CS) and pyfixest (SA, TWFE) on the same data."""
    import pyfixest as pf

    from upward.evaluate.designs.staggered import estimate_staggered

    data = staggered_panel(n_units, periods)
    # like for like: diff-diff's analytic fit has no uniform band, so ours is off here
    spec = EvaluationSpec(data="bench.csv", design="staggered_did", outcome="y", unit="id",
                          time="t", cohort="g", options={"band_draws": 0})
    import diff_diff as dd

    def diff_diff_cs(frame: pd.DataFrame):
        return dd.CallawaySantAnna(estimation_method="reg").fit(
            frame, outcome="y", unit="id", time="t", first_treat="g")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # warm-ups on both sides (imports, first-call and JIT costs), then the best of two
        small = data[data["id"] < 2000]
        estimate_staggered(small, spec, diagnostics=False)
        estimate_staggered(small, spec)
        diff_diff_cs(small)
        cs_only, cs_s = _timed(lambda: estimate_staggered(data, spec, diagnostics=False))
        full, full_s = _timed(lambda: estimate_staggered(data, spec), repeat=1)
        ref, dd_s = _timed(lambda: diff_diff_cs(data))
        long = data.assign(cl=data["id"], g=data["g"].where(data["g"] > 0, np.inf))
        rel = long["t"] - long["g"]
        treated = np.isfinite(long["g"]) & (rel != -1)
        codes = pd.factorize(pd.MultiIndex.from_arrays([long["g"][treated], rel[treated]]))[0]
        cell = np.zeros(len(long), dtype=np.int64)
        cell[treated.to_numpy()] = codes + 1
        frame = long.assign(cell=cell, d=(long["t"] >= long["g"]).astype(float))
        sa = lambda f: pf.feols("y ~ i(cell, ref=0) | id + t", data=f,  # noqa: E731
                                vcov={"CRV1": "cl"})
        twfe = lambda f: pf.feols("y ~ d | id + t", data=f, vcov={"CRV1": "cl"})  # noqa: E731
        sa(frame[frame["id"] < 2000])
        twfe(frame[frame["id"] < 2000])
        _, sa_s = _timed(lambda: sa(frame), repeat=1)
        _, twfe_s = _timed(lambda: twfe(frame), repeat=1)
    rows = {r["method"].split(" (")[0]: r for r in full.tables["estimates"]}
    print(f"staggered_did: {n_units:,} units × {periods} periods = {len(data):,} person-periods,"
          f" {len(COHORTS) - 1} cohorts")
    print(f"  Callaway-Sant'Anna, both warmed up, best of 2: Upward {cs_s:6.2f} s   "
          f"diff-diff {dd_s:6.2f} s   ratio {cs_s / dd_s:.2f}x   (ATT {cs_only.estimate:.5f} vs {ref.overall_att:.5f}, "
          f"se {cs_only.se:.5f} vs {ref.overall_se:.5f})")
    direct = dd_s + sa_s + twfe_s
    print(f"  whole design (CS + Sun-Abraham + TWFE + checks): Upward {full_s:6.2f} s   "
          f"libraries directly {direct:6.2f} s (diff-diff CS {dd_s:.2f} + pyfixest SA "
          f"{sa_s:.2f} + pyfixest TWFE {twfe_s:.2f})   overhead ratio {full_s / direct:.2f}x")
    print(f"  estimates: CS {full.estimate:.4f}, SA {rows['Sun & Abraham']['estimate']:.4f}, "
          f"TWFE {rows['naive two-way fixed effects']['estimate']:.4f}")


def bench_covariates(n_units: int = 100_000, periods: int = 10) -> None:
    """Callaway-Sant'Anna with covariates (doubly robust) at N units × 10 periods (1,000,000
    person-periods by default): Upward's staggered_did (its fast path, no comparison rows)
    against diff-diff's CallawaySantAnna with the same covariates, both warmed up, best of
    two; with and without sampling weights, and the uniform band's extra cost."""
    import diff_diff as dd

    from upward.evaluate.designs.staggered import estimate_staggered

    data = staggered_panel(n_units, periods)
    rng = np.random.default_rng(3)
    data["x"] = np.repeat(rng.normal(size=n_units), periods)
    data["w"] = np.repeat(rng.uniform(0.5, 2.0, size=n_units), periods)

    def spec(**fields):
        return EvaluationSpec(data="bench.csv", design="staggered_did", outcome="y", unit="id",
                              time="t", cohort="g", covariates=["x"], **fields)

    def ours(frame, **fields):
        return estimate_staggered(frame, spec(**fields), diagnostics=False)

    def theirs(frame, weighted=False):
        survey = dd.SurveyDesign(weights="w") if weighted else None
        return dd.CallawaySantAnna(estimation_method="dr").fit(
            frame, outcome="y", unit="id", time="t", first_treat="g", covariates=["x"],
            survey_design=survey)

    print(f"staggered_did with a covariate (doubly robust): {n_units:,} units × {periods} "
          f"periods = {len(data):,} person-periods")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = data[data["id"] < 2000]
        for weighted in (False, True):
            fields = {"weights": "w"} if weighted else {}
            ours(small, options={"band_draws": 0}, **fields)  # warm-ups on both sides
            theirs(small, weighted)
            mine, mine_s = _timed(lambda f=fields: ours(data, options={"band_draws": 0}, **f))
            ref, ref_s = _timed(lambda w=weighted: theirs(data, w))
            label = "weighted" if weighted else "unweighted"
            print(f"  {label:<10}: Upward {mine_s:6.2f} s   diff-diff {ref_s:6.2f} s   ratio "
                  f"{mine_s / ref_s:.2f}x   (ATT {mine.estimate:.6f} vs {ref.overall_att:.6f}, "
                  f"se {mine.se:.6f} vs {ref.overall_se:.6f})")
        _, band_s = _timed(lambda: ours(data, options={"band_draws": 999}), repeat=1)
        print(f"  with the 999-draw uniform event-study band: Upward {band_s:6.2f} s "
              f"(diff-diff's analytic fit has no band; its cband needs n_bootstrap > 0)")


def _coverage(label: str, truth: float, draws: list[tuple[float, float, float]]) -> None:
    est = np.array([d[0] for d in draws])
    hit = np.mean([lo <= truth <= hi for _, lo, hi in draws])
    mc = est.std() / np.sqrt(len(est))
    print(f"  {label:<44} reps {len(est):>5}  bias {est.mean() - truth:+.4f} "
          f"(MC se {mc:.4f})  coverage {hit:.3f} ± {1.96 * np.sqrt(hit * (1 - hit) / len(est)):.3f}")


def bench_simulate(reps: int = 1000) -> None:
    """Bias and coverage of each design with a known effect, ``reps`` repetitions each."""
    from upward.evaluate.designs.experiment import estimate_rct
    from upward.evaluate.designs.panel import estimate_did, estimate_event_study
    from upward.evaluate.designs.staggered import estimate_staggered

    rng = np.random.default_rng(20261201)
    print(f"simulate: {reps} repetitions per design (nominal coverage 0.95)")
    spec = EvaluationSpec(data="sim.csv", design="rct", outcome="y", treatment="d",
                          covariates=["x"])
    draws = []
    for _ in range(reps):
        x = rng.normal(size=120)
        d = rng.permutation(np.r_[np.ones(40), np.zeros(80)])
        y = 2 * x + d * (1.0 + 0.8 * x) + rng.normal(size=120) * (1 + 0.5 * d)
        r = estimate_rct(pd.DataFrame({"y": y, "d": d, "x": x}), spec, diagnostics=False)
        draws.append((r.estimate, r.ci_low, r.ci_high))
    _coverage("rct, Lin + HC2, n=120 (40 treated)", 1.0, draws)

    spec = EvaluationSpec(data="sim.csv", design="did", outcome="y", treatment="g", post="p",
                          unit="u")
    unit, post = np.repeat(np.arange(80), 2), np.tile([0, 1], 80)
    group = (unit < 30).astype(int)
    draws = []
    for _ in range(reps):
        tau = 2.0 + rng.normal(size=80)[unit]
        y = 3 * rng.normal(size=80)[unit] + 0.5 * post + tau * group * post + rng.normal(size=160)
        r = estimate_did(pd.DataFrame({"u": unit, "p": post, "g": group, "y": y}), spec,
                         diagnostics=False)
        draws.append((r.estimate, r.ci_low, r.ci_high))
    _coverage("did, unit FE, CR1 by unit, 80 units", 2.0, draws)

    spec = EvaluationSpec(data="sim.csv", design="event_study", outcome="y", unit="u",
                          time="t", cohort="c")
    u, t = np.repeat(np.arange(60), 6), np.tile(np.arange(1, 7), 60)
    c = np.where(u < 30, 4, 0)
    effect = np.select([(c > 0) & (t == 4), (c > 0) & (t == 5), (c > 0) & (t == 6)],
                       [1.0, 1.5, 2.0], 0.0)
    draws = []
    for _ in range(reps):
        y = np.repeat(rng.normal(size=60), 6) + 0.3 * t + effect + rng.normal(size=360)
        r = estimate_event_study(pd.DataFrame({"u": u, "t": t, "c": c, "y": y}), spec,
                                 diagnostics=False)
        draws.append((r.estimate, r.ci_low, r.ci_high))
    _coverage("event_study, average post coefficient", 1.5, draws)

    # cohorts are equally likely, so the simple ATT is the plain mean over post cells
    cells = [(g, s) for g in COHORTS[1:] for s in range(g, 11)]
    impact = {4: 2.0, 6: 0.5, 8: 0.5}
    truth = float(np.mean([impact[g] + 0.25 * (s - g) for g, s in cells]))
    for control in ("never_treated", "not_yet_treated"):
        spec = EvaluationSpec(data="sim.csv", design="staggered_did", outcome="y", unit="id",
                              time="t", cohort="g", options={"control_group": control})
        draws, twfe = [], []
        for k in range(reps):
            data = staggered_panel(400, 10, seed=int(rng.integers(1 << 31)))
            r = estimate_staggered(data, spec, diagnostics=k < 100)
            draws.append((r.estimate, r.ci_low, r.ci_high))
            if k < 100:
                twfe.append(r.tables["estimates"][2]["estimate"])
        _coverage(f"staggered_did CS, {control}, 400 units", truth, draws)
    print(f"  naive TWFE on the same staggered panels (100 reps): mean {np.mean(twfe):.4f} vs "
          f"truth {truth:.4f} (bias {np.mean(twfe) - truth:+.4f})")


def main(argv: list[str]) -> None:
    what = argv[0] if argv else "all"
    if what == "staggered":
        bench_staggered(*(int(a) for a in argv[1:2]))
    elif what == "covariates":
        bench_covariates(*(int(a) for a in argv[1:2]))
    elif what == "simulate":
        bench_simulate()
    elif what == "all":
        bench_staggered()
        bench_covariates()
        bench_simulate()
    else:
        sys.exit(f"unknown benchmark {what!r}: use staggered, covariates, simulate or all")


if __name__ == "__main__":
    main(sys.argv[1:])
