"""Gap tests: is a value significantly worse than a benchmark, across many metrics at once?

For each metric the gap to a benchmark (the peer median or the national median) is tested with

    z = (x − b) / sqrt(se_x² + se_b²),

where se_x comes from the published 95% interval, se_x = (ub − lb) / 3.92, and se_b is the
sampling error of a median of m noisy estimates, 1.2533 · rms(se_i) / sqrt(m). Two-sided p
values are adjusted across metrics with Benjamini–Hochberg (false discovery rate ``alpha``).
A finding is a metric whose adjusted q ≤ alpha, whose gap is in the metric's bad direction,
and whose quality grade is not 3. Metrics without a published interval are shown, not tested.

Examples
--------
>>> import numpy as np
>>> t = gap_tests(np.array([10.0, 5.0]), np.array([1.0, 1.0]), np.array([20.0, 5.2]),
...               np.zeros(2), ["higher", "higher"], np.array([1, 1]))
>>> t["finding"].tolist()
[True, False]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from upward.metrics.inference import two_sided_p

#: Efficiency of the median relative to the mean under normality: se(median) ≈ 1.2533 σ/√m.
MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)


def median_se(ses: np.ndarray) -> float:
    """Sampling error of the median of estimates with standard errors ``ses`` (NaN ignored;
    0 when no peer has an interval).

    >>> round(median_se(np.array([1.0, 1.0, 1.0, 1.0])), 4)
    0.6267
    """
    ses = ses[np.isfinite(ses)]
    if len(ses) == 0:
        return 0.0
    return float(MEDIAN_SE_FACTOR * np.sqrt(np.mean(ses**2) / len(ses)))


def worse_than(x: np.ndarray, b: np.ndarray, directions: Sequence[str],
               parity: np.ndarray | None = None) -> np.ndarray:
    """Whether each value is on the bad side of its benchmark, by the metric's direction
    (None for context metrics).

    >>> worse_than(np.array([1.0, 1.0, 1.3]), np.array([2.0, 2.0, 1.1]),
    ...            ["higher", "lower", "parity"], np.array([np.nan, np.nan, 1.0])).tolist()
    [True, False, True]
    """
    parity = np.full(len(x), np.nan) if parity is None else parity
    out = []
    for xi, bi, d, pi in zip(x, b, directions, parity, strict=True):
        if d == "higher":
            out.append(bool(xi < bi))
        elif d == "lower":
            out.append(bool(xi > bi))
        elif d == "parity":
            out.append(bool(abs(xi - pi) > abs(bi - pi)))
        else:
            out.append(None)
    return np.array(out, dtype=object)


def gap_tests(
    x: np.ndarray,
    se_x: np.ndarray,
    benchmark: np.ndarray,
    se_benchmark: np.ndarray,
    directions: Sequence[str],
    quality: np.ndarray,
    *,
    parity: np.ndarray | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Test every metric's gap at once; columns gap, se, z, p, q, worse, tested, finding.

    >>> import numpy as np
    >>> gap_tests(np.array([1.0]), np.array([np.nan]), np.array([2.0]), np.zeros(1),
    ...           ["higher"], np.array([1]))["tested"].tolist()
    [False]
    """
    gap = x - benchmark
    se = np.sqrt(se_x**2 + np.nan_to_num(se_benchmark) ** 2)
    tested = np.isfinite(se) & (se > 0) & np.isfinite(gap)
    z = np.where(tested, gap / np.where(tested, se, 1.0), np.nan)
    p = np.where(tested, two_sided_p(z), np.nan)
    q = np.full(len(x), np.nan)
    if tested.any():
        q[tested] = multipletests(p[tested], alpha=alpha, method="fdr_bh")[1]
    worse = worse_than(x, benchmark, directions, parity)
    quality = np.asarray(quality, dtype=float)
    finding = tested & (np.nan_to_num(q, nan=1.0) <= alpha) & (worse == True) & (quality != 3)  # noqa: E712
    return pd.DataFrame({"gap": gap, "se": se, "z": z, "p": p, "q": q, "worse": worse,
                         "tested": tested, "finding": finding})


def share_worse(value: float, others: np.ndarray, direction: str,
                parity: float | None = None) -> float | None:
    """Share (0–1) of ``others`` that are better than ``value`` in the metric's direction,
    ties counting half; None for context metrics.

    >>> share_worse(10.0, np.array([5.0, 10.0, 20.0, 30.0]), "higher")
    0.625
    """
    others = others[np.isfinite(others)]
    if len(others) == 0 or direction not in ("higher", "lower", "parity"):
        return None
    if direction == "parity":
        value, others, direction = abs(value - parity), np.abs(others - parity), "lower"
    better = others > value if direction == "higher" else others < value
    return float((better.sum() + 0.5 * (others == value).sum()) / len(others))
