"""Student's t distribution (and the normal) for scalar power calculations, in pure Python.

``upward plan`` answers in well under a second; importing ``scipy.special`` alone takes about
half a second of it, so the few t and normal values that power analysis needs are computed here
from the regularised incomplete beta function (continued fraction, modified Lentz) and checked
against SciPy in ``tests/test_student_t.py`` to 1e-10.

Examples
--------
>>> round(t_quantile(0.975, 10), 6), round(t_cdf(2.228139, 10), 6)
(2.228139, 0.975)
>>> round(t_quantile(0.975, math.inf), 6)
1.959964
"""

from __future__ import annotations

import math
from statistics import NormalDist

_NORMAL = NormalDist()
_TINY = 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= c * d
        if abs(c * d - 1.0) < 1e-16:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b).

    >>> round(incomplete_beta(2.0, 3.0, 0.4), 10)  # 1 - Σ_{j<2} C(4,j) .4^j .6^(4-j)
    0.5248
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _upper_tail(x: float, df: float) -> float:
    """P(T > x) for x ≥ 0, accurate far out in the tail."""
    w = x * x / (df + x * x)
    if w < 0.5:  # near the centre: the middle mass, without cancellation
        return 0.5 - 0.5 * incomplete_beta(0.5, df / 2.0, w)
    return 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + x * x))


def t_cdf(x: float, df: float) -> float:
    """P(T ≤ x) for Student's t with ``df`` degrees of freedom (the normal when infinite).

    >>> t_cdf(0.0, 5), round(t_cdf(1.0, 1), 10)   # Cauchy: 1/2 + atan(1)/π
    (0.5, 0.75)
    """
    if math.isinf(df):
        return _NORMAL.cdf(x)
    if x > 0 and x * x / (df + x * x) < 0.5:
        return 0.5 + 0.5 * incomplete_beta(0.5, df / 2.0, x * x / (df + x * x))
    return 1.0 - _upper_tail(x, df) if x > 0 else _upper_tail(-x, df)


def _t_pdf(x: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(x * x / df))


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (the normal when ``df`` is infinite); 0 < q < 1.

    >>> round(t_quantile(0.975, 2), 10) == round(0.95 / math.sqrt(2 * 0.975 * 0.025), 10)
    True
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"the probability {q} must be between 0 and 1")
    if math.isinf(df):
        return _NORMAL.inv_cdf(q)
    if q == 0.5:
        return 0.0
    if df == 1.0:  # Cauchy, written so that q near 0 or 1 keeps its digits
        return -1.0 / math.tan(math.pi * q) if q < 0.5 else 1.0 / math.tan(math.pi * (1 - q))
    if df == 2.0:
        return (2 * q - 1) / math.sqrt(2 * q * (1 - q))
    tail, sign = (1.0 - q, 1.0) if q > 0.5 else (q, -1.0)
    # Solve P(T > x) = tail for x ≥ 0: bracket [0, high], Newton steps kept in the bracket.
    low, high = 0.0, max(1.0, _NORMAL.inv_cdf(1.0 - tail))
    while _upper_tail(high, df) > tail:
        low, high = high, 2.0 * high
    x = min(max(_NORMAL.inv_cdf(1.0 - tail), low), high)
    for _ in range(200):
        error = tail - _upper_tail(x, df)  # increasing in x
        if error > 0:
            high = x
        else:
            low = x
        nxt = x - error / max(_t_pdf(x, df), _TINY)
        if not low < nxt < high:
            nxt = (low + high) / 2
        if abs(nxt - x) <= 1e-15 * max(1.0, abs(x)) or high - low <= 1e-15 * max(1.0, high):
            return sign * nxt
        x = nxt
    return sign * x
