"""Inference with few treated clusters and synthetic difference-in-differences (issue #17; not
part of the test run).

    python -m bench.evaluate_few_treated coverage [REPS]  # rejection rates under the null
    python -m bench.evaluate_few_treated sdid              # synthetic_did vs diff-diff, timed
    python -m bench.evaluate_few_treated                   # both

``coverage`` is the large version of tests/test_evaluate_few_treated.py: panels of 30 units ×
6 periods with no effect, exchangeable units and unit-specific post-period shocks, with 1, 2,
3, 5 and 10 treated units. It prints how often the did design's cluster-robust (CR1) p-value
and its headline p-value (randomisation inference below 10 treated clusters) reject at 5%.
``sdid`` times the synthetic_did design (with every placebo) against diff-diff's SyntheticDiD
with placebo variance on the same panel, after a warm-up of each, and prints the ratio.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from upward.evaluate.spec import EvaluationSpec

TREATED = (1, 2, 3, 5, 10)


def null_panel(rng: np.random.Generator, units: int, treated: int, periods: int = 6
               ) -> pd.DataFrame:
    """A panel with no effect: unit and period effects, noise and unit-specific post shocks.

    >>> null_panel(np.random.default_rng(0), 5, 1).shape
    (30, 4)
    """
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(periods), units)
    y = (np.repeat(rng.normal(size=units), periods) + np.tile(rng.normal(size=periods), units)
         + rng.normal(size=units * periods)
         + 0.5 * np.repeat(rng.normal(size=units), periods) * (t >= periods // 2))
    return pd.DataFrame({"u": u, "t": t, "y": y, "d": (u < treated).astype(int)})


def coverage(reps: int = 500, units: int = 30, seed: int = 17) -> None:
    """Rejection rates at 5% of the CR1 and the headline p-values, by treated units."""
    from upward.evaluate.designs.panel import estimate_did

    print(f"did under the null, {units} units x 6 periods, {reps} repetitions each")
    print(f"{'treated':>8} {'CR1 rejects':>12} {'headline rejects':>17} {'MC s.e.':>8}")
    for treated in TREATED:
        rng = np.random.default_rng(seed + treated)
        old = new = 0
        for k in range(reps):
            df = null_panel(rng, units, treated)
            spec = EvaluationSpec(data="sim.csv", design="did", outcome="y", treatment="d",
                                  unit="u", time="t", treatment_start=3, seed=k)
            r = estimate_did(df, spec, diagnostics=False)
            row = r.tables["estimates"][0]
            old += 2 * stats.t.sf(abs(row["estimate"] / row["se"]), units - 1) < 0.05
            new += r.p_value <= 0.05
        print(f"{treated:>8} {old / reps:>12.3f} {new / reps:>17.3f} "
              f"{np.sqrt(0.05 * 0.95 / reps):>8.3f}")


def sdid_timing(units: int = 200, periods: int = 40, seed: int = 3) -> None:
    """synthetic_did (every placebo) vs diff-diff SyntheticDiD (200 placebo draws)."""
    from diff_diff import SyntheticDiD

    from upward.evaluate.designs.synthetic_did import estimate_synthetic_did

    rng = np.random.default_rng(seed)
    factor = np.cumsum(rng.normal(size=periods))
    y = np.outer(rng.uniform(0.5, 1.5, units), factor) + rng.normal(size=(units, periods))
    start = periods - 8
    y[0, start:] -= 2
    df = pd.DataFrame([(f"u{i}", t, y[i, t], int(i == 0 and t >= start))
                       for i in range(units) for t in range(periods)],
                      columns=["u", "t", "y", "d"])
    spec = EvaluationSpec(data="p.csv", design="synthetic_did", outcome="y", unit="u", time="t",
                          treatment="d", options={"comparisons": False})

    def ours():
        return estimate_synthetic_did(df, spec)

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
                df.assign(ever=(df.u == "u0").astype(int)), outcome="y", treatment="ever",
                unit="u", time="t",
                post_periods=list(range(start, periods)))

    ours(), theirs()  # warm-ups
    t0 = time.perf_counter()
    a = ours()
    t1 = time.perf_counter()
    b = theirs()
    t2 = time.perf_counter()
    print(f"synthetic_did on {units} units x {periods} periods: upward {t1 - t0:.2f} s "
          f"({units - 1} placebos, estimate {a.estimate:.3f}, se {a.se:.3f}); diff-diff "
          f"{t2 - t1:.2f} s (200 placebo draws, estimate {b.att:.3f}, se {b.se:.3f}); ratio "
          f"diff-diff / upward = {(t2 - t1) / (t1 - t0):.2f}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("coverage", "all"):
        coverage(int(sys.argv[2]) if len(sys.argv) > 2 and what == "coverage" else 500)
    if what in ("sdid", "all"):
        sdid_timing()
