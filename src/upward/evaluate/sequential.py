"""Anytime-valid confidence sequences: intervals that may be looked at after every week of data
without inflating the chance of a false alarm.

A fixed-sample 95% confidence interval is valid once, at a sample size chosen in advance. A
program watched every week is looked at many times, and "stop as soon as the interval excludes
zero" then finds an effect that is not there far more often than 5% of the time (Armitage,
McPherson & Rowe 1969). A **confidence sequence** (CS) is a sequence of intervals ``C_t`` that
covers the true effect at *every* sample size at once with probability at least 1 − α:
``P(∃t: effect ∉ C_t) ≤ α``; it may be read after every record, and acted on whenever it
excludes zero.

The boundary is the **asymptotic confidence sequence** of Waudby-Smith, Arbour, Sinha, Kennedy
& Ramdas, "Time-uniform central limit theory and asymptotic confidence sequences" (arXiv
2103.06476, 2021; Annals of Statistics 2024), Theorem 2.2: with the running mean ``μ̂_t`` and
standard deviation ``σ̂_t`` of ``t`` observations and a tuning parameter ρ > 0,

    C_t = μ̂_t ± σ̂_t · √( 2(tρ² + 1) / (t²ρ²) · log( √(tρ² + 1) / α ) ).

The formula was checked against the authors' own code (R package ``drconfseq``,
github.com/WannabeSmith/drconfseq, ``R/asymptotic_confseq.R``, ``std_conjmix_margin``, which
uses α for the two-sided sequence as here). ρ sets the sample size at which the sequence is
tightest; the width at ``t_opt`` is smallest for ``ρ² = (x − 1)/t_opt`` where ``x`` solves
``x − log x = 1 − 2 log α``, that is ``x = −W₋₁(−α²/e)`` (W₋₁ the lower branch of Lambert's
W; derived by setting the derivative of the margin in ρ² to zero; ``drconfseq``'s
``best_rho2_exact`` uses the same branch).

The effect of a randomised program is the mean of **AIPW pseudo-outcomes** (the paper's
Section 3, randomised experiments with a known assignment probability π):

    φ_i = μ̂₁(x_i) − μ̂₀(x_i) + d_i (y_i − μ̂₁(x_i)) / π − (1 − d_i)(y_i − μ̂₀(x_i)) / (1 − π),

where the outcome regressions μ̂ₐ are fitted on *earlier* batches only (predictable), so each
φ_i has conditional mean equal to the effect whatever the regressions are; a better fit only
narrows the sequence. In the first batch there is no earlier data and μ̂ is the
leave-one-out mean of the batch's outcomes (both arms).

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(1).normal(0.0, 1.0, 400)
>>> cs = confidence_sequence(x, times=[100, 200, 400], t_opt=400)
>>> cs.excludes(0.0)
[False, False, False]
>>> bool(cs.upper[-1] - cs.lower[-1] < cs.upper[0] - cs.lower[0])
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.core.text import N_

#: A regression needs this many records per covariate in an arm before it replaces the mean.
RECORDS_PER_COVARIATE = 10


def optimal_rho2(t_opt: float, alpha: float = 0.05) -> float:
    """The ρ² that makes the two-sided asymptotic CS narrowest at sample size ``t_opt``.

    >>> r = optimal_rho2(1000, 0.05)
    >>> round(r * 1000, 3)  # x − 1 with x − log x = 1 − 2 log 0.05
    8.212
    """
    _check_alpha(alpha)
    if not t_opt > 0:
        raise ConfigError(f"t_opt {t_opt} must be positive",
                          fix="give the planned number of records (enrolment)")
    x = -special.lambertw(-(alpha ** 2) / math.e, k=-1).real
    return float((x - 1.0) / t_opt)


def conjmix_margin(t: np.ndarray | Sequence[float] | float, rho2: float,
                   alpha: float = 0.05) -> np.ndarray:
    """The unit-variance half-width of the two-sided asymptotic CS at sample sizes ``t``
    (multiply by σ̂_t).

    >>> float(np.round(conjmix_margin(1000, optimal_rho2(1000)) * math.sqrt(1000), 2))
    3.04
    """
    _check_alpha(alpha)
    t = np.asarray(t, dtype=float)
    x = t * rho2 + 1.0
    return np.sqrt(2.0 * x / (t ** 2 * rho2) * np.log(np.sqrt(x) / alpha))


def fixed_margin(t: np.ndarray | Sequence[float] | float, alpha: float = 0.05) -> np.ndarray:
    """The unit-variance half-width of the ordinary (fixed-sample, normal) CI: z / √t.

    >>> float(np.round(fixed_margin(100) * 10, 3))
    1.96
    """
    _check_alpha(alpha)
    return stats.norm.ppf(1 - alpha / 2) / np.sqrt(np.asarray(t, dtype=float))


@dataclass
class ConfidenceSequence(JsonReport):
    """A confidence sequence read at some sample sizes (``times``), with the fixed-sample
    interval at each for comparison (valid only for a single look planned in advance).

    >>> cs = confidence_sequence([1.0, 2.0, 3.0, 4.0], times=[2, 4], t_opt=4)
    >>> cs.estimate
    [1.5, 2.5]
    """

    times: list[int]
    estimate: list[float]
    sd: list[float]
    lower: list[float]
    upper: list[float]
    fixed_lower: list[float]
    fixed_upper: list[float]
    alpha: float
    t_opt: float
    rho2: float
    method: str = N_("asymptotic confidence sequence (Waudby-Smith, Arbour, Sinha, Kennedy & "
                     "Ramdas 2021, Theorem 2.2)")

    def excludes(self, value: float = 0.0) -> list[bool]:
        """At each look: does the sequence exclude ``value``?

        >>> confidence_sequence([5.0, 5.1, 4.9, 5.0] * 25, times=[100], t_opt=100).excludes()
        [True]
        """
        return [bool(lo > value or hi < value) for lo, hi in zip(self.lower, self.upper,
                                                                 strict=True)]


def confidence_sequence(x: np.ndarray | Sequence[float], *, times: Sequence[int] | None = None,
                        t_opt: float, alpha: float = 0.05) -> ConfidenceSequence:
    """The asymptotic confidence sequence for the mean of ``x`` (in arrival order), read at
    the sample sizes ``times`` (default: every one). ``t_opt`` is the sample size where it
    should be tightest (the planned enrolment), fixed before the data are seen.

    >>> cs = confidence_sequence(np.arange(10.0), times=[10], t_opt=10)
    >>> cs.estimate, round(cs.sd[0], 4)
    ([4.5], 3.0277)
    """
    values = np.asarray(x, dtype=float)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ConfigError("a confidence sequence needs a list of finite numbers",
                          fix="drop records without an outcome before computing it")
    n = len(values)
    at = np.arange(1, n + 1) if times is None else np.asarray(list(times), dtype=int)
    if len(at) and (at.min() < 1 or at.max() > n or np.any(np.diff(at) < 0)):
        raise ConfigError(f"times must be increasing sample sizes between 1 and {n}",
                          fix="give the cumulative number of records at each look")
    rho2 = optimal_rho2(t_opt, alpha)
    sums = np.cumsum(values)
    squares = np.cumsum(values ** 2)
    idx = at - 1
    mean = sums[idx] / at
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(at > 1, (squares[idx] - at * mean ** 2) / np.maximum(at - 1, 1), np.nan)
    sd = np.sqrt(np.maximum(var, 0.0))
    margin = sd * conjmix_margin(at, rho2, alpha)
    fixed = sd * fixed_margin(at, alpha)
    margin = np.where(np.isfinite(margin), margin, np.inf)
    fixed = np.where(np.isfinite(fixed), fixed, np.inf)
    return ConfidenceSequence(
        times=[int(t) for t in at], estimate=mean.tolist(), sd=sd.tolist(),
        lower=(mean - margin).tolist(), upper=(mean + margin).tolist(),
        fixed_lower=(mean - fixed).tolist(), fixed_upper=(mean + fixed).tolist(),
        alpha=alpha, t_opt=float(t_opt), rho2=rho2)


def aipw_pseudo_outcomes(y: np.ndarray, d: np.ndarray, batch: np.ndarray, share: float,
                         covariates: np.ndarray | None = None) -> np.ndarray:
    """AIPW pseudo-outcomes of a randomised program whose records arrive in batches (weeks);
    their running mean estimates the average effect, and each has the effect as its
    conditional mean given earlier batches (outcome regressions fitted on earlier batches).

    ``share`` is the probability of assignment to the program (π); ``batch`` numbers the
    batches in arrival order (records must be sorted by it).

    >>> y = np.array([1.0, 3.0, 2.0, 4.0]); d = np.array([0, 1, 0, 1])
    >>> aipw_pseudo_outcomes(y, d, np.array([1, 1, 2, 2]), 0.5).round(3).tolist()
    [4.0, 4.0, 0.0, 4.0]
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    batch = np.asarray(batch)
    if not 0 < share < 1:
        raise ConfigError(f"assignment share {share} must be strictly between 0 and 1",
                          fix="give the probability of being assigned to the program")
    if np.any(np.diff(batch) < 0):
        raise ConfigError("records must be in arrival order (batches increasing)",
                          fix="sort the records by week before computing the sequence")
    x = None if covariates is None else np.asarray(covariates, dtype=float).reshape(len(y), -1)
    mu1 = np.empty_like(y)
    mu0 = np.empty_like(y)
    labels, starts = np.unique(batch, return_index=True)
    bounds = [*starts.tolist(), len(y)]
    for k in range(len(labels)):
        lo, hi = bounds[k], bounds[k + 1]
        if k == 0:
            # No earlier data: leave-one-out mean of the first batch, the same for both arms.
            m = len(y[lo:hi])
            total = y[lo:hi].sum()
            loo = (total - y[lo:hi]) / (m - 1) if m > 1 else np.zeros(m)
            mu1[lo:hi] = loo
            mu0[lo:hi] = loo
            continue
        for arm, target in ((1.0, mu1), (0.0, mu0)):
            past = d[:lo] == arm
            target[lo:hi] = _fit_predict(y[:lo][past], None if x is None else x[:lo][past],
                                         None if x is None else x[lo:hi], hi - lo)
    return mu1 - mu0 + d * (y - mu1) / share - (1 - d) * (y - mu0) / (1 - share)


def _fit_predict(y_past: np.ndarray, x_past: np.ndarray | None, x_new: np.ndarray | None,
                 n_new: int) -> np.ndarray:
    """An arm's outcome regression on earlier batches, predicted for the new batch: least
    squares on the covariates when there are enough records, else the arm's mean (0 when the
    arm has no earlier record)."""
    if len(y_past) == 0:
        return np.zeros(n_new)
    if x_past is None or x_past.shape[1] == 0 or len(y_past) < RECORDS_PER_COVARIATE * (
            x_past.shape[1] + 1):
        return np.full(n_new, y_past.mean())
    design = np.column_stack([np.ones(len(y_past)), x_past])
    coef, *_ = np.linalg.lstsq(design, y_past, rcond=None)
    return np.column_stack([np.ones(n_new), x_new]) @ coef


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha {alpha} must be between 0 and 1", fix="for example 0.05")


@dataclass
class RepeatedLookErrors(JsonReport):
    """How often, across simulated programs with NO effect, some weekly look declared one:
    with the confidence sequence and with the fixed-sample interval read every week.

    >>> RepeatedLookErrors(10, 4, 50, 0.05, 0.0, 0.2).naive_error
    0.2
    """

    n_sims: int
    weeks: int
    per_week: int
    alpha: float
    cs_error: float
    naive_error: float


def repeated_look_errors(n_sims: int = 400, *, weeks: int = 12, per_week: int = 50,
                         alpha: float = 0.05, seed: int = 0) -> RepeatedLookErrors:
    """Simulate randomised pilots with no effect, looked at every week, and count how many
    ever exclude zero (a false alarm) with the CS and with the fixed-sample CI.

    Outcomes are earnings-like (zero for about half, log-normal otherwise), assignment is by
    coin flip with π = 0.5, and the effect is estimated from AIPW pseudo-outcomes as in a
    monitored evaluation; the CS is tuned to the planned total (``weeks × per_week``).

    >>> r = repeated_look_errors(40, weeks=6, per_week=40, seed=1)
    >>> 0 <= r.cs_error <= r.naive_error <= 1
    True
    """
    rng = np.random.default_rng(seed)
    n = weeks * per_week
    batch = np.repeat(np.arange(weeks), per_week)
    looks = per_week * np.arange(1, weeks + 1)
    cs_alarms = naive_alarms = 0
    for _ in range(n_sims):
        d = (rng.random(n) < 0.5).astype(float)
        works = rng.random(n) < 0.5
        y = np.where(works, rng.lognormal(np.log(4000), 0.5, n), 0.0)
        phi = aipw_pseudo_outcomes(y, d, batch, 0.5)
        cs = confidence_sequence(phi, times=looks, t_opt=n, alpha=alpha)
        cs_alarms += any(cs.excludes(0.0))
        naive_alarms += any(lo > 0 or hi < 0 for lo, hi in
                            zip(*_difference_in_means_cis(y, d, looks, alpha), strict=True))
    return RepeatedLookErrors(n_sims, weeks, per_week, alpha, cs_alarms / n_sims,
                              naive_alarms / n_sims)


def _difference_in_means_cis(y: np.ndarray, d: np.ndarray, looks: np.ndarray,
                             alpha: float) -> tuple[list[float], list[float]]:
    """The ordinary (Neyman, normal) CI of the difference in means at each look."""
    z = stats.norm.ppf(1 - alpha / 2)
    lows, highs = [], []
    for t in looks:
        yt, dt = y[:t], d[:t]
        a, b = yt[dt == 1], yt[dt == 0]
        diff = a.mean() - b.mean()
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        lows.append(diff - z * se)
        highs.append(diff + z * se)
    return lows, highs
