"""The exhaustive synthetic-control check moved out of the tests: in-space placebos for every
one of the 50 donor states of the Mixtape's Texas example (51 nested fits, about a minute of
CPU). The tests keep the Texas fit against R Synth's figures and the placebo p-value's
calibration under the null on a small simulated panel.

    python -m bench.evaluate_synthetic

Cunningham, *Causal Inference: The Mixtape* (2021), ch. 10.3, figure "placebo distribution":
Texas's post-period gap stands far above every placebo's and its post/pre RMSPE ratio ranks
near the top of the 51 units. The run prints the placebo table's extremes, the permutation
p-value, the CPU time, and exits 1 when either statement fails.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd


def run() -> int:
    """Fit Texas and every placebo; print the figures; return how many statements fail."""
    import causaldata

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.test_evaluate_synthetic import texas_spec

    from upward.evaluate.designs.synthetic import estimate_synthetic_control

    df = causaldata.texas.load_pandas().data
    texas = df.assign(state=df["state"].astype(str))
    cpu = time.process_time()
    result = estimate_synthetic_control(texas, texas_spec())
    cpu = time.process_time() - cpu
    placebo = pd.DataFrame(result.tables["placebo"]).set_index("unit")
    others = placebo.drop("Texas")
    largest = others["post_gap"].abs().max()
    rank = int((placebo["rmspe_ratio"] >= placebo.loc["Texas", "rmspe_ratio"]).sum())
    statements = {
        "51 units fitted": len(placebo) == 51,
        "Texas's gap > 2.5 x the largest placebo gap":
            placebo.loc["Texas", "post_gap"] > 2.5 * largest,
        "permutation p <= 0.1": result.p_value <= 0.1,
        "p equals the rank of Texas's RMSPE ratio / 51": abs(result.p_value - rank / 51) < 1e-12,
    }
    print(f"synthetic placebos: {len(placebo)} fits in {cpu:.1f} CPU s; Texas gap "
          f"{placebo.loc['Texas', 'post_gap']:,.0f}, largest placebo gap {largest:,.0f}; "
          f"p = {result.p_value:.3f} (rank {rank} of 51)")
    for statement, holds in statements.items():
        print(f"  {'ok    ' if holds else 'FAILED'} {statement}")
    return sum(not holds for holds in statements.values())


if __name__ == "__main__":
    sys.exit(1 if run() else 0)
