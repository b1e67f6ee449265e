"""Simultaneous (uniform) confidence bands from influence functions by the multiplier
bootstrap (Callaway & Sant'Anna 2021, section 4.1; Kline & Santos 2012).

Pointwise 95% intervals each cover their own effect 95% of the time, so across a dozen event
times some miss by chance; a uniform band covers *all* of them at once with 95% probability,
which is what a reader looking at the whole curve assumes. Each draw multiplies every
cluster's summed influence by an independent mean-zero, unit-variance weight (Mammen's
two-point weights or Rademacher ±1), giving a draw of the estimates' joint sampling error;
the critical value is the 1 − alpha quantile of the largest |error / SE| across estimates.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> psi = rng.normal(size=(500, 6))           # 500 units × 6 estimates, independent
>>> crit = uniform_critical_value(psi, np.sqrt((psi ** 2).sum(0)), 0.05, 999, "mammen", 1)
>>> 1.96 < crit < 3.2
True
"""

from __future__ import annotations

import numpy as np

MULTIPLIERS = ("mammen", "rademacher")
#: Bootstrap draws generated at once (bounds memory: draws × clusters floats).
CHUNK = 64


def multipliers(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Mean-zero, unit-variance bootstrap weights: Mammen's two-point distribution
    ((1 - √5)/2 with probability (√5 + 1)/(2√5), else (1 + √5)/2) or Rademacher (±1).

    >>> w = multipliers("mammen", (200_000, 1), np.random.default_rng(0))
    >>> abs(round(float(w.mean()), 2)), round(float(w.var()), 2), round(float((w ** 3).mean()), 1)
    (0.0, 1.0, 1.0)
    """
    low, high, p_low = _two_points(kind)
    return np.where(rng.random(size) < p_low, low, high)


def uniform_critical_value(psi: np.ndarray, se: np.ndarray, alpha: float, draws: int,
                           kind: str, seed: int) -> float:
    """The critical value c with P(max_j |est_j − θ_j| / se_j ≤ c) ≈ 1 − alpha.

    ``psi`` is clusters × estimates: each cluster's summed influence on each estimate, scaled
    so that the estimation error is ``psi.sum(0)`` and ``se = sqrt((psi**2).sum(0))`` (the
    analytic standard errors). Estimates with a zero or missing SE are left out.

    >>> psi = np.random.default_rng(1).normal(size=(2000, 1))  # one estimate: about 1.96
    >>> c = uniform_critical_value(psi, np.sqrt((psi ** 2).sum(0)), 0.05, 999, "rademacher", 0)
    >>> bool(abs(c - 1.96) < 0.15)
    True
    """
    ok = np.isfinite(se) & (se > 0)
    psi, se = psi[:, ok], se[ok]
    if psi.shape[1] == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    # a two-point weight is low + (high - low) * bit: each draw's error is
    # low * psi.sum(0) + (high - low) * (bits @ psi), the product in float32 (fast; far more
    # precise than the bootstrap's own Monte Carlo error)
    low, high, p_low = _two_points(kind)
    base = low * psi.sum(axis=0)
    psi32 = psi.astype(np.float32)
    worst = np.empty(draws)
    for start in range(0, draws, CHUNK):
        k = min(CHUNK, draws - start)
        bits = _bits(rng, k, psi.shape[0], p_low)
        errors = base + (high - low) * (bits @ psi32).astype(float)
        worst[start:start + k] = np.max(np.abs(errors) / se, axis=1)
    return float(np.quantile(worst, 1 - alpha))


def _bits(rng: np.random.Generator, k: int, g: int, p_low: float) -> np.ndarray:
    """k × g float32 indicators of the high value; fair bits come packed, 8 to a random byte."""
    if p_low == 0.5:
        width = -(-g // 8)
        packed = np.frombuffer(rng.bytes(k * width), dtype=np.uint8).reshape(k, width)
        return np.unpackbits(packed, axis=1, count=g).astype(np.float32)
    return (rng.random((k, g), dtype=np.float32) >= p_low).astype(np.float32)


def _two_points(kind: str) -> tuple[float, float, float]:
    """Low value, high value and the probability of the low value of the multiplier."""
    if kind == "rademacher":
        return -1.0, 1.0, 0.5
    root5 = np.sqrt(5.0)
    return (1 - root5) / 2, (1 + root5) / 2, (root5 + 1) / (2 * root5)
