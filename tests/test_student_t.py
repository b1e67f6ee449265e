"""The pure-Python Student t used by ``upward plan`` against SciPy's (``scipy.special``)."""

from __future__ import annotations

import math

import pytest
from scipy import special

from upward.estimate.student_t import incomplete_beta, t_cdf, t_quantile

DFS = [1, 1.5, 2, 3, 4, 5, 7.5, 10, 29, 30, 100, 1000, 1e5]
PROBABILITIES = [1e-6, 0.001, 0.01, 0.025, 0.05, 0.1, 0.3, 0.49, 0.5, 0.51, 0.7, 0.8, 0.9, 0.95,
                 0.975, 0.99, 0.999, 1 - 1e-6]


@pytest.mark.parametrize("df", DFS)
def test_quantiles_match_scipy(df):
    for q in PROBABILITIES:
        ours, theirs = t_quantile(q, df), float(special.stdtrit(df, q))
        assert abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)), (df, q, ours, theirs)


@pytest.mark.parametrize("df", DFS)
def test_distribution_function_matches_scipy(df):
    for x in [-1e3, -50, -5, -2, -1, -0.1, 0, 0.1, 1, 1.96, 2, 5, 50, 1e3]:
        assert abs(t_cdf(x, df) - float(special.stdtr(df, x))) <= 1e-11, (df, x)


def test_normal_limit_and_incomplete_beta():
    assert t_quantile(0.975, math.inf) == pytest.approx(float(special.ndtri(0.975)), abs=1e-12)
    for a, b, x in [(0.5, 0.5, 0.3), (2, 3, 0.4), (50, 0.5, 0.9), (0.5, 40, 1e-4)]:
        assert incomplete_beta(a, b, x) == pytest.approx(float(special.betainc(a, b, x)),
                                                         abs=1e-13)
    with pytest.raises(ValueError, match="between 0 and 1"):
        t_quantile(1.0, 5)
