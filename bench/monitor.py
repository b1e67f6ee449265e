"""The repeated-look simulation of tests/test_monitor_sequential.py, larger: many null pilots
looked at every week; the false-alarm rate of the confidence sequence against the named
alternative, the ordinary fixed-sample interval read every week, in the same run.

    python -m bench.monitor [N_SIMS]
    python -m bench monitor [N_SIMS]
"""

from __future__ import annotations

import sys
import time

from upward.evaluate.sequential import repeated_look_errors


def run(n_sims: int = 5000) -> None:
    repeated_look_errors(20, weeks=4, per_week=20, seed=0)  # warm-up
    for weeks, per_week in ((12, 50), (26, 40), (52, 20)):
        start = time.perf_counter()
        r = repeated_look_errors(n_sims, weeks=weeks, per_week=per_week, seed=weeks)
        se = (r.cs_error * (1 - r.cs_error) / n_sims) ** 0.5
        print(f"{n_sims:,} null pilots, {weeks} weekly looks of {per_week}: false alarms with "
              f"the 95% confidence sequence {r.cs_error:.2%} (SE {se:.2%}); with the ordinary "
              f"95% CI read every week {r.naive_error:.2%}; ratio "
              f"{r.naive_error / max(r.cs_error, 1 / n_sims):.0f}x "
              f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
