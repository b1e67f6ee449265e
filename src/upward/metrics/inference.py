"""Normal-theory inference shared by the profile's trends and the diagnosis' gap tests.

Examples
--------
>>> round(float(two_sided_p(1.959964)), 4)
0.05
"""

from __future__ import annotations

import math

import numpy as np

_ERFC = np.frompyfunc(math.erfc, 1, 1)


def two_sided_p(z: float | np.ndarray) -> np.ndarray:
    """Two-sided p value of a z statistic under the standard normal (NaN stays NaN).

    >>> two_sided_p(np.array([0.0, np.nan])).tolist()
    [1.0, nan]
    """
    z = np.abs(np.asarray(z, dtype=float))
    return np.asarray(_ERFC(z / math.sqrt(2)), dtype=float)
