"""ACS estimates with their uncertainty, and the handbook's approximations for derived ones.

Every result is an :class:`AcsEstimate`: estimate, SE, MOE (90%, as the ACS publishes), CV,
a reliability flag (CV above 30% unreliable, 15–30% use with caution) and the *method* that
produced the SE — exact from replicates, or one of the approximations of the Census Bureau's
handbook *Understanding and Using American Community Survey Data: What All Data Users Need to
Know* (2018; 2020 edition), chapter 8, "Calculating Measures of Error for Derived Estimates":

- sum of estimates: MOE = √(Σ MOE_i²)
- proportion p = X/Y (X a subset of Y): MOE = (1/Y) √(MOE_X² − p² MOE_Y²), falling back to the
  ratio formula when the radicand is negative
- ratio R = X/Y: MOE = (1/Y) √(MOE_X² + R² MOE_Y²)
- product X·Y: MOE = √(X² MOE_Y² + Y² MOE_X²)

The approximations ignore covariances; :mod:`upward.estimate.aggregate` computes exact margins
from the Variance Replicate Estimate tables where they exist.

Medians come from distribution tables (``B19001`` household income …) by linear interpolation
within the interval that holds the 50th percentile, the Census Bureau's method for its
published medians of grouped data.

Examples
--------
>>> e = approx_sum([100.0, 200.0], [30.0, 40.0])
>>> e.estimate, e.moe, e.method
(300.0, 50.0, 'approximation: sum, √ΣMOE² (ACS handbook ch. 8)')
>>> e.reliability
'reliable'
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "MOE_Z",
    "AcsEstimate",
    "approx_product",
    "approx_proportion",
    "approx_ratio",
    "approx_sum",
    "interpolated_median",
    "moe_product",
    "moe_proportion",
    "moe_ratio",
    "moe_sum",
    "reliability_of",
]

#: ACS margins of error are 90% intervals.
MOE_Z = 1.645
#: CV thresholds of the reliability flag.
CAUTION_CV = 0.15
UNRELIABLE_CV = 0.30

HANDBOOK = "ACS handbook ch. 8"


def reliability_of(cv: float) -> str:
    """``reliable`` (CV ≤ 15%), ``use with caution`` (≤ 30%), ``unreliable``, or ``unknown``.

    >>> [reliability_of(c) for c in (0.1, 0.2, 0.31, float("nan"))]
    ['reliable', 'use with caution', 'unreliable', 'unknown']
    """
    if cv is None or not math.isfinite(cv):
        return "unknown"
    if cv <= CAUTION_CV:
        return "reliable"
    return "use with caution" if cv <= UNRELIABLE_CV else "unreliable"


@dataclass(frozen=True)
class AcsEstimate:
    """An estimate with its standard error and how that error was obtained.

    Examples
    --------
    >>> e = AcsEstimate(0.25, 0.05, "replicates (SDR, 80)")
    >>> round(e.moe, 4), e.cv, e.reliability, e.quality
    (0.0823, 0.2, 'use with caution', 2)
    >>> sorted(e.to_dict())[:4]
    ['ci90', 'cv', 'estimate', 'label']
    """

    estimate: float
    se: float
    method: str
    label: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def moe(self) -> float:
        """The 90% margin of error, 1.645 · SE (the ACS's convention)."""
        return MOE_Z * self.se

    @property
    def cv(self) -> float:
        """Coefficient of variation SE / |estimate| (NaN at zero)."""
        if not math.isfinite(self.estimate) or self.estimate == 0:
            return math.nan
        return self.se / abs(self.estimate)

    @property
    def reliability(self) -> str:
        """See :func:`reliability_of`."""
        return reliability_of(self.cv)

    @property
    def quality(self) -> int | None:
        """The canonical ``observations.quality``: 1 reliable, 2 caution, 3 unreliable."""
        return {"reliable": 1, "use with caution": 2, "unreliable": 3}.get(self.reliability)

    @property
    def ci90(self) -> tuple[float, float]:
        """The 90% interval estimate ± MOE."""
        return self.estimate - self.moe, self.estimate + self.moe

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the derived fields."""
        out = asdict(self)
        out.update(moe=self.moe, cv=self.cv, reliability=self.reliability,
                   ci90=list(self.ci90), warnings=list(self.warnings))
        return out

    def to_json(self) -> str:
        """The result as JSON (NaN written as null).

        >>> '"method"' in AcsEstimate(1.0, 0.1, "m").to_json()
        True
        """
        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v
        return json.dumps({k: clean(v) for k, v in self.to_dict().items()})

    def __str__(self) -> str:
        return (f"{self.label + ': ' if self.label else ''}{self.estimate:,.4g} ± "
                f"{self.moe:,.3g} (90%), CV {self.cv:.1%}, {self.reliability}; {self.method}")


# -- the handbook's margins ---------------------------------------------------------------------

def moe_sum(moes: Sequence[float]) -> float:
    """MOE of a sum of estimates: √(Σ MOE²).

    >>> moe_sum([3.0, 4.0])
    5.0
    """
    m = np.asarray(moes, dtype=float)
    return float(np.sqrt(np.sum(m**2)))


def moe_proportion(x: float, y: float, moe_x: float, moe_y: float) -> float:
    """MOE of a proportion X/Y where X is a subset of Y.

    Uses the ratio formula when the proportion formula's radicand is negative, as the
    handbook instructs.

    >>> round(moe_proportion(25.0, 100.0, 5.0, 8.0), 6)
    0.045826
    """
    p = x / y
    radicand = moe_x**2 - p**2 * moe_y**2
    if radicand < 0:
        return moe_ratio(x, y, moe_x, moe_y)
    return math.sqrt(radicand) / y


def moe_ratio(x: float, y: float, moe_x: float, moe_y: float) -> float:
    """MOE of a ratio X/Y (X not a subset of Y).

    >>> round(moe_ratio(25.0, 100.0, 5.0, 8.0), 6)
    0.053852
    """
    r = x / y
    return math.sqrt(moe_x**2 + r**2 * moe_y**2) / y


def moe_product(x: float, y: float, moe_x: float, moe_y: float) -> float:
    """MOE of a product X·Y.

    >>> moe_product(10.0, 0.5, 2.0, 0.1)
    1.4142135623730951
    """
    return math.sqrt(x**2 * moe_y**2 + y**2 * moe_x**2)


def approx_sum(estimates: Sequence[float], moes: Sequence[float], *, label: str = ""
               ) -> AcsEstimate:
    """A sum of ACS estimates with the handbook's MOE (covariances ignored).

    >>> approx_sum([1.0, 2.0], [0.0, 0.0]).se
    0.0
    """
    return AcsEstimate(float(np.sum(np.asarray(estimates, dtype=float))),
                       moe_sum(moes) / MOE_Z, f"approximation: sum, √ΣMOE² ({HANDBOOK})", label)


def approx_proportion(x: float, y: float, moe_x: float, moe_y: float, *, label: str = ""
                      ) -> AcsEstimate:
    """A proportion X/Y (X a subset of Y) with the handbook's MOE.

    >>> round(approx_proportion(25.0, 100.0, 5.0, 8.0).moe, 6)
    0.045826
    """
    warnings: tuple[str, ...] = ()
    if moe_x**2 - (x / y) ** 2 * moe_y**2 < 0:
        warnings = ("the proportion formula's radicand is negative; the ratio formula was used",)
    return AcsEstimate(x / y, moe_proportion(x, y, moe_x, moe_y) / MOE_Z,
                       f"approximation: proportion ({HANDBOOK})", label, warnings)


def approx_ratio(x: float, y: float, moe_x: float, moe_y: float, *, label: str = ""
                 ) -> AcsEstimate:
    """A ratio X/Y with the handbook's MOE.

    >>> approx_ratio(25.0, 100.0, 5.0, 8.0).estimate
    0.25
    """
    return AcsEstimate(x / y, moe_ratio(x, y, moe_x, moe_y) / MOE_Z,
                       f"approximation: ratio ({HANDBOOK})", label)


def approx_product(x: float, y: float, moe_x: float, moe_y: float, *, label: str = ""
                   ) -> AcsEstimate:
    """A product X·Y with the handbook's MOE.

    >>> approx_product(10.0, 0.5, 2.0, 0.1).estimate
    5.0
    """
    return AcsEstimate(x * y, moe_product(x, y, moe_x, moe_y) / MOE_Z,
                       f"approximation: product ({HANDBOOK})", label)


# -- medians of grouped data ----------------------------------------------------------------------

def interpolated_median(lower: Sequence[float], upper: Sequence[float],
                        counts: np.ndarray | Sequence[float]) -> np.ndarray | float:
    """Median of a distribution table by linear interpolation in the median's interval.

    ``lower``/``upper`` are the interval bounds (the last ``upper`` may be ``inf``: an
    open-ended top interval). ``counts`` is ``(..., intervals)``: several distributions (for
    example the estimate and its 80 replicates) are done at once. The median is NaN when it
    falls in the open-ended top interval (the ACS then publishes the interval's lower bound
    with a "+", e.g. 250,000+).

    >>> interpolated_median([0, 10, 20], [10, 20, float("inf")], [10, 20, 10])
    15.0
    >>> interpolated_median([0, 10], [10, 20], [[5, 5], [10, 0]]).tolist()
    [10.0, 5.0]
    """
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    c = np.asarray(counts, dtype=float)
    scalar = c.ndim == 1
    c = np.atleast_2d(c)
    total = c.sum(axis=-1)
    cum = np.cumsum(c, axis=-1)
    half = total / 2.0
    k = np.argmax(cum >= half[:, None], axis=-1)
    rows = np.arange(c.shape[0])
    below = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
    inside = c[rows, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(inside > 0, (half - below) / inside, 0.0)
    width = hi[k] - lo[k]
    med = lo[k] + frac * width
    med = np.where(np.isfinite(width) & (total > 0), med, np.nan)
    return float(med[0]) if scalar else med
