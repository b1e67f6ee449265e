"""Successive-difference replication (SDR) variance, as the Census Bureau publishes it for the ACS.

For a full-sample estimate θ and its 80 replicate estimates θ_1 … θ_80 (from the replicate
weights ``PWGTP1…80``/``WGTP1…80`` of PUMS, or the ``Var_Rep1…80`` columns of the Variance
Replicate Estimate tables), the variance is ``4/80 · Σ_r (θ_r − θ)²`` (American Community Survey
Design and Methodology, ch. 12; PUMS user guide, "Using replicate weights").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Number of ACS replicate weights and the SDR scale factor (4/80).
N_REPLICATES = 80
SDR_SCALE = 4.0 / N_REPLICATES


def sdr_variance(estimate: ArrayLike, replicates: ArrayLike) -> np.ndarray:
    """Variance of one or many estimates from their replicate estimates.

    Parameters
    ----------
    estimate : array of shape ``(...)``
        Full-sample estimates.
    replicates : array of shape ``(..., R)``
        Replicate estimates, the replicate index last (R is 80 for the ACS).

    Returns
    -------
    numpy.ndarray
        ``4/R · Σ_r (replicate_r − estimate)²``, one per estimate (missing where any input is).

    Examples
    --------
    >>> float(sdr_variance(100.0, [102.0] * 40 + [98.0] * 40))
    16.0
    """
    theta = np.asarray(estimate, dtype=float)
    reps = np.asarray(replicates, dtype=float)
    scale = 4.0 / reps.shape[-1]
    return scale * np.sum((reps - theta[..., None]) ** 2, axis=-1)


def sdr_se(estimate: ArrayLike, replicates: ArrayLike) -> np.ndarray:
    """Standard error from replicate estimates: the square root of :func:`sdr_variance`.

    Examples
    --------
    >>> float(sdr_se(100.0, [102.0] * 40 + [98.0] * 40))
    4.0
    """
    return np.sqrt(sdr_variance(estimate, replicates))
