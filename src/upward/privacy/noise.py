"""Optional differential privacy for published counts and means, through OpenDP.

Each release adds calibrated noise (Laplace for pure ε-DP, or the discrete Gaussian for
(ε, δ)-DP via zero-concentrated DP) and is charged to a :class:`PrivacyBudget`, which refuses
a release that would exceed the total (basic sequential composition: ε's and δ's add up).
The privacy unit is one person contributing at most ``max_contributions`` records. The noise
scale is the one OpenDP certifies for the requested ε (found with ``binary_search_param``), and
the budget is charged with OpenDP's own privacy map of the measurement, not with our arithmetic.

OpenDP is an optional dependency: ``pip install "upward[privacy]"``.

Examples
--------
>>> budget = PrivacyBudget(1.0)
>>> r = dp_count(range(500), epsilon=0.5, budget=budget, what="participants")
>>> r.mechanism, round(budget.spent, 6), abs(r.value - 500) < 40
('discrete laplace', 0.5, True)
>>> dp_count(range(500), epsilon=0.6, budget=budget)
Traceback (most recent call last):
...
upward.privacy.noise.BudgetExceededError: releasing 'count' would spend ε = 0.6, ...
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from upward.core.errors import ConfigError, UpwardError

MECHANISMS = ("laplace", "gaussian")


class PrivacyUnavailableError(UpwardError):
    """OpenDP is not installed.

    >>> issubclass(PrivacyUnavailableError, UpwardError)  # raised by require_opendp
    True
    """


class BudgetExceededError(UpwardError):
    """A release would spend more privacy loss than the budget has left.

    >>> PrivacyBudget(0.5).charge("households by tract", 0.6, "laplace")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.privacy.noise.BudgetExceededError: releasing 'households by tract' would spend ε = 0.6, ...
    """


def require_opendp():
    """The ``opendp.prelude`` module with contrib features on, or a clear error.

    >>> require_opendp().__name__
    'opendp.prelude'
    """
    try:
        import opendp.prelude as dp
    except ImportError:
        raise PrivacyUnavailableError(
            "differential privacy needs the OpenDP library, which is not installed",
            fix='run pip install "upward[privacy]"',
        ) from None
    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True)
class Release:
    """One entry in a budget's ledger.

    >>> b = PrivacyBudget(1.0)
    >>> b.charge("households by tract", 0.25, "laplace")
    >>> r = b.releases[0]
    >>> r.what, r.epsilon, r.delta, r.mechanism
    ('households by tract', 0.25, 0.0, 'laplace')
    """

    what: str
    epsilon: float
    delta: float
    mechanism: str
    scale: float | None
    at: str


@dataclass
class PrivacyBudget:
    """A ledger of privacy loss: total ε (and δ), what was spent, on what, by which mechanism.

    >>> b = PrivacyBudget(1.0)
    >>> b.charge("households by tract", 0.25, "laplace")
    >>> b.remaining, [r.what for r in b.releases]
    (0.75, ['households by tract'])
    """

    total_epsilon: float
    total_delta: float = 0.0
    releases: list[Release] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not (self.total_epsilon > 0 and math.isfinite(self.total_epsilon)):
            raise ConfigError(f"total ε must be positive, got {self.total_epsilon}",
                              fix="give a budget such as PrivacyBudget(1.0)")
        if not 0 <= self.total_delta < 1:
            raise ConfigError(f"total δ must be in [0, 1), got {self.total_delta}",
                              fix="use δ = 0 (pure ε-DP) or a small value such as 1e-6")

    @property
    def spent(self) -> float:
        """ε spent so far.

        >>> PrivacyBudget(2.0).spent
        0.0
        """
        return float(sum(r.epsilon for r in self.releases))

    @property
    def spent_delta(self) -> float:
        """δ spent so far.

        >>> PrivacyBudget(2.0).spent_delta
        0.0
        """
        return float(sum(r.delta for r in self.releases))

    @property
    def remaining(self) -> float:
        """ε left.

        >>> PrivacyBudget(2.0).remaining
        2.0
        """
        return self.total_epsilon - self.spent

    def check(self, what: str, epsilon: float, delta: float = 0.0) -> None:
        """Raise BudgetExceededError if (ε, δ) does not fit in what is left.

        >>> PrivacyBudget(1.0).check("x", 0.5)
        """
        tol = 1e-12
        if self.spent + epsilon > self.total_epsilon + tol:
            raise BudgetExceededError(
                f"releasing {what!r} would spend ε = {epsilon:g}, but only "
                f"{max(self.remaining, 0.0):g} of {self.total_epsilon:g} is left",
                fix="release less (larger noise / fewer statistics) or agree a larger budget",
            )
        if self.spent_delta + delta > self.total_delta + tol:
            raise BudgetExceededError(
                f"releasing {what!r} would spend δ = {delta:g}, but only "
                f"{max(self.total_delta - self.spent_delta, 0.0):g} of {self.total_delta:g} "
                "is left",
                fix="use the Laplace mechanism (δ = 0) or agree a budget with δ > 0",
            )

    def charge(self, what: str, epsilon: float, mechanism: str, delta: float = 0.0,
               scale: float | None = None) -> None:
        """Record a release after checking it fits (nothing is recorded when it does not).

        >>> b = PrivacyBudget(0.5)
        >>> b.charge("a", 0.5, "laplace"); b.remaining
        0.0
        """
        if not epsilon >= 0 or not delta >= 0:
            raise ConfigError(f"ε and δ must be ≥ 0, got ε={epsilon}, δ={delta}",
                              fix="give the privacy loss of the release")
        self.check(what, epsilon, delta)
        self.releases.append(Release(what, float(epsilon), float(delta), mechanism, scale,
                                     datetime.now(UTC).isoformat(timespec="seconds")))

    def to_dict(self) -> dict:
        """The ledger as a JSON-ready dict.

        >>> PrivacyBudget(1.0).to_dict()["remaining"]
        1.0
        """
        return {"total_epsilon": self.total_epsilon, "total_delta": self.total_delta,
                "spent": self.spent, "spent_delta": self.spent_delta,
                "remaining": self.remaining, "releases": [asdict(r) for r in self.releases]}


@dataclass(frozen=True)
class DPRelease:
    """A differentially private statistic.

    ``accuracy``: with probability 1 − ``alpha`` the noise is within ± accuracy (for a mean
    computed as noisy sum / noisy count, a first-order bound combining both noises; it does
    not include the bias from clamping).

    >>> r = dp_count([1] * 1000, epsilon=1.0)
    >>> r.what, r.mechanism, r.scale, round(r.accuracy, 2), r.alpha
    ('count', 'discrete laplace', 1.0, 3.38, 0.05)
    """

    what: str
    value: float
    epsilon: float
    delta: float
    mechanism: str
    scale: float
    accuracy: float
    alpha: float
    clamped_to: tuple[float, float] | None = None


def _check_epsilon(epsilon: float, mechanism: str, delta: float | None) -> float:
    if not (epsilon > 0 and math.isfinite(epsilon)):
        raise ConfigError(f"ε must be positive, got {epsilon}", fix="use e.g. epsilon=0.5")
    if mechanism not in MECHANISMS:
        raise ConfigError(f"mechanism {mechanism!r} is not known",
                          fix=f"use one of {', '.join(MECHANISMS)}")
    if mechanism == "gaussian":
        if delta is None or not 0 < delta < 1:
            raise ConfigError("the Gaussian mechanism needs δ in (0, 1)",
                              fix="pass delta=1e-6, or use mechanism='laplace'")
        return float(delta)
    if delta not in (None, 0, 0.0):
        raise ConfigError("the Laplace mechanism gives pure ε-DP: δ must be 0",
                          fix="drop delta=, or use mechanism='gaussian'")
    return 0.0


def _pipeline(dp, query: str, lo: float | None, hi: float | None, size: int | None):
    """The transformation before the noise, for each query OpenDP is asked to release."""
    floats = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    ints = dp.vector_domain(dp.atom_domain(T=int)), dp.symmetric_distance()
    pipelines = {
        "count": lambda: ints >> dp.t.then_count(),
        "float_count": lambda: floats >> dp.t.then_count(),
        "sum": lambda: floats >> dp.t.then_clamp((lo, hi)) >> dp.t.then_sum(),
        "sized_mean": lambda: (floats >> dp.t.then_clamp((lo, hi))
                               >> dp.t.then_resize(size=size, constant=(lo + hi) / 2)
                               >> dp.t.then_mean()),
    }
    return pipelines[query]()


@lru_cache(maxsize=256)
def _measurement(query: str, mechanism: str, epsilon: float, delta: float, d_in: int,
                 lo: float | None = None, hi: float | None = None, size: int | None = None):
    """The measurement, noise scale and certified (ε, δ) for a query; calibrated once per
    parameter set (OpenDP's binary search is the slow part)."""
    dp = require_opendp()
    noise = {"laplace": dp.m.then_laplace, "gaussian": dp.m.then_gaussian}[mechanism]

    def make(scale):
        meas = _pipeline(dp, query, lo, hi, size) >> noise(scale=scale)
        if mechanism == "gaussian":
            meas = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(meas), delta)
        return meas

    d_out = epsilon if mechanism == "laplace" else (epsilon, delta)
    scale = float(dp.binary_search_param(make, d_in=d_in, d_out=d_out))
    meas = make(scale)
    loss = meas.map(d_in)
    spent = (float(loss), 0.0) if mechanism == "laplace" else (float(loss[0]), float(loss[1]))
    return meas, scale, spent


def _accuracy(dp, mechanism: str, scale: float, alpha: float, discrete: bool) -> float:
    table = {
        ("laplace", True): dp.discrete_laplacian_scale_to_accuracy,
        ("laplace", False): dp.laplacian_scale_to_accuracy,
        ("gaussian", True): dp.discrete_gaussian_scale_to_accuracy,
        ("gaussian", False): dp.gaussian_scale_to_accuracy,
    }
    return float(table[mechanism, discrete](scale, alpha))


def dp_count(values: Iterable, epsilon: float, *, mechanism: str = "laplace",
             delta: float | None = None, max_contributions: int = 1,
             budget: PrivacyBudget | None = None, what: str = "count",
             alpha: float = 0.05) -> DPRelease:
    """A differentially private count of ``values`` (one record per person by default).

    Laplace gives the discrete Laplace (geometric) mechanism on the integer count; Gaussian the
    discrete Gaussian, converted to (ε, δ)-DP. Noise comes from OpenDP's cryptographically
    secure generator, so releases cannot be seeded (or repeated).

    >>> r = dp_count([1] * 1000, epsilon=1.0)
    >>> r.mechanism, round(r.scale, 3), abs(r.value - 1000) <= 50
    ('discrete laplace', 1.0, True)
    """
    dp = require_opendp()
    delta = _check_epsilon(epsilon, mechanism, delta)
    _check_contributions(max_contributions)
    meas, scale, (eps, dlt) = _measurement("count", mechanism, float(epsilon), delta,
                                           max_contributions)
    if budget is not None:
        budget.charge(what, eps, f"discrete {mechanism}", dlt, scale)
    value = meas([1 for _ in values])
    return DPRelease(what, float(value), eps, dlt, f"discrete {mechanism}", scale,
                     _accuracy(dp, mechanism, scale, alpha, True), alpha)


def _check_contributions(max_contributions: int) -> None:
    if not (isinstance(max_contributions, int) and max_contributions >= 1):
        raise ConfigError(f"max_contributions must be a whole number ≥ 1, got "
                          f"{max_contributions!r}",
                          fix="give the most records one person can have in the data")


def dp_mean(values: Iterable[float], bounds: tuple[float, float], epsilon: float, *,
            size: int | None = None, mechanism: str = "laplace", delta: float | None = None,
            max_contributions: int = 1, budget: PrivacyBudget | None = None,
            what: str = "mean", alpha: float = 0.05) -> DPRelease:
    """A differentially private mean of ``values`` clamped to ``bounds``.

    With a public ``size`` (e.g. a program's enrolment, published anyway) the data are
    resized to it and the whole ε goes to the mean. Otherwise ε (and δ) are split evenly
    between a noisy clamped sum and a noisy count, and the mean is their ratio, clamped to
    ``bounds``.

    >>> r = dp_mean([30_000.0] * 400, bounds=(0.0, 100_000.0), epsilon=1.0, size=400)
    >>> abs(r.value - 30_000) < 3_000, r.clamped_to
    (True, (0.0, 100000.0))
    """
    dp = require_opendp()
    delta = _check_epsilon(epsilon, mechanism, delta)
    _check_contributions(max_contributions)
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError(f"bounds {bounds} must be two finite numbers, low < high",
                          fix="give the range values are clamped to, e.g. (0, 100000)")
    data = [float(v) for v in values]
    if any(math.isnan(v) for v in data):
        raise ConfigError("dp_mean got missing values (NaN)",
                          fix="drop or impute missing values before the release")
    if size is not None:
        if not (isinstance(size, int) and size > 0):
            raise ConfigError(f"size must be a positive whole number, got {size}",
                              fix="give the public number of records, or None")
        meas, scale, (eps, dlt) = _measurement("sized_mean", mechanism, float(epsilon), delta,
                                               max_contributions, lo, hi, size)
        label = mechanism
        if budget is not None:
            budget.charge(what, eps, label, dlt, scale)
        value = float(meas(data))
        accuracy = _accuracy(dp, mechanism, scale, alpha, False)
    else:
        half = float(epsilon) / 2, delta / 2
        m_sum, s_sum, (e1, d1) = _measurement("sum", mechanism, *half, max_contributions,
                                              lo, hi)
        m_cnt, s_cnt, (e2, d2) = _measurement("float_count", mechanism, *half,
                                              max_contributions)
        eps, dlt, scale = e1 + e2, d1 + d2, s_sum
        label = f"{mechanism} (sum and count)"
        if budget is not None:
            budget.charge(what, eps, label, dlt, scale)
        count = max(float(m_cnt(data)), 1.0)
        value = float(m_sum(data)) / count
        # error of sum/count ≈ (sum error + |mean|·count error) / count, each at alpha / 2
        acc_sum = _accuracy(dp, mechanism, s_sum, alpha / 2, False)
        acc_cnt = _accuracy(dp, mechanism, s_cnt, alpha / 2, True)
        accuracy = (acc_sum + max(abs(lo), abs(hi)) * acc_cnt) / count
    return DPRelease(what, min(max(value, lo), hi), eps, dlt, label, scale, accuracy, alpha,
                     (lo, hi))
