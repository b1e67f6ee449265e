"""Planning a pilot: statistical power and the minimum detectable effect (MDE).

Three designs:

- ``rct``: individuals randomised. MDE = M × sd × √((1 − R²) / (P(1 − P) n)), with the
  multiplier M = t(1 − α/2, df) + t(power, df), df = n − 2 − covariates (Bloom 1995, "Minimum
  detectable effects", Evaluation Review 19(5); Duflo, Glennerster & Kremer 2007, eq. 3).
  For large samples at 5% two-sided and 80% power M = 1.96 + 0.84 = 2.80.
- ``cluster``: clusters randomised (schools, blocks, neighbourhoods) with ``cluster_size``
  people each and intraclass correlation ρ. MDE = M × sd × √(ρ(1 − R²₂)/(P(1 − P)J) +
  (1 − ρ)(1 − R²₁)/(P(1 − P)Jm)), df = J − 2 − cluster covariates (Bloom 2005; Dong & Maynard
  2013, PowerUp! model CRA2-2). Without covariates the variance is the individual one times
  the design effect 1 + (m − 1)ρ.
- ``did``: a panel of units, some treated from one period on, with AR(1) serially correlated
  errors. Power is simulated (seeded): each simulated panel is analysed the way it should be,
  by comparing treated and control units' changes from the pre- to the post-period mean (the
  difference-in-differences with inference robust to serial correlation; Bertrand, Duflo &
  Mullainathan 2004, QJE 119(1), section IV.C). Unit and period fixed effects cancel in that
  comparison, so they are not drawn. The plan also reports how often a test that ignores the
  serial correlation (conventional OLS standard errors) would reject a true null.

Power at an effect δ uses the same t distribution: P(|T| > t(1 − α/2)) with T centred at
δ / SE, so that the power at the MDE is the target power.

Examples
--------
>>> round(multiplier(df=float("inf")), 2)
2.8
>>> plan = rct_plan(2000, sd=8000, r2=0.3, effect=1000)
>>> round(plan.mde), round(plan.power, 2)
(839, 0.92)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.estimate.student_t import t_cdf, t_quantile

CURVE_MULTIPLES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
MAX_SIM_CELLS = 4_000_000  # simulated unit-periods held in memory at once


@dataclass
class PowerPlan(JsonReport):
    """A power analysis: the MDE at the target power, the power at a given effect, and the
    power curve (``curve``: rows of effect and power).

    >>> rct_plan(400).design
    'rct'
    """

    design: str
    method: str
    inputs: dict
    alpha: float
    target_power: float
    df: float
    multiplier: float
    standard_error: float
    mde: float
    effect: float | None = None
    power: float | None = None
    design_effect: float | None = None
    curve: list[dict] = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """The plan in a few sentences.

        >>> rct_plan(400).summary_lines()[0]
        'Minimum detectable effect: 0.2808 (80% power, 5% two-sided test)'
        """
        level = f"{round(100 * self.target_power)}% power, {_pct(self.alpha)} two-sided test"
        lines = [f"Minimum detectable effect: {self.mde:.4g} ({level})"]
        if self.effect is not None and self.power is not None:
            lines.append(f"Power to detect an effect of {self.effect:.4g}: {self.power:.1%}")
        if self.design_effect is not None:
            lines.append(f"Design effect: {self.design_effect:.3g}")
        return lines + self.notes


def _pct(x: float) -> str:
    return f"{100 * x:g}%"


def multiplier(df: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """The MDE multiplier t(1 − α/2, df) + t(power, df) (normal quantiles when df is ∞).

    >>> round(multiplier(float("inf")), 3), round(multiplier(20), 3)
    (2.802, 2.946)
    """
    _check_probability(alpha, "alpha")
    _check_probability(power, "power")
    return float(_ppf(1 - alpha / 2, df) + _ppf(power, df))


def power_at(effect: float, standard_error: float, df: float, alpha: float = 0.05) -> float:
    """Power of a two-sided test at level ``alpha`` to detect ``effect``.

    >>> round(power_at(0.5, 0.5 / 2.8016, float("inf")), 3)
    0.8
    """
    crit = _ppf(1 - alpha / 2, df)
    shift = abs(effect) / standard_error
    return float(_cdf(shift - crit, df) + _cdf(-crit - shift, df))


def _ppf(q: float, df: float) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom (the normal when infinite),
    computed without SciPy so that ``upward plan`` starts quickly (see estimate.student_t).

    >>> round(_ppf(0.975, float("inf")), 4), round(_ppf(0.975, 10), 4)
    (1.96, 2.2281)
    """
    return t_quantile(q, df)


def _cdf(x: float, df: float) -> float:
    """Distribution function of Student's t (the normal when ``df`` is infinite).

    >>> round(_cdf(1.959964, float("inf")), 4)
    0.975
    """
    return t_cdf(x, df)


def _check_probability(x: float, name: str) -> None:
    if not 0 < x < 1:
        raise ConfigError(f"--{name} {x} must be between 0 and 1", fix=f"for example --{name} "
                          + ("0.05" if name == "alpha" else "0.8"))


def _check_positive(x: float, name: str, *, minimum: float = 0.0) -> None:
    if not x > minimum:
        raise ConfigError(f"--{name} {x} must be greater than {minimum:g}",
                          fix=f"give a positive --{name}")


def _curve(mde: float, se: float, df: float, alpha: float, effect: float | None) -> list[dict]:
    effects = sorted({round(mde * k, 12) for k in CURVE_MULTIPLES} | ({effect} if effect else set()))
    return [{"effect": e, "power": power_at(e, se, df, alpha)} for e in effects]


def rct_plan(n: int, *, effect: float | None = None, sd: float = 1.0, share_treated: float = 0.5,
             r2: float = 0.0, n_covariates: int = 0, alpha: float = 0.05,
             power: float = 0.8) -> PowerPlan:
    """Power and MDE of an individually randomised pilot with ``n`` people.

    ``sd`` is the outcome's standard deviation (1 gives effects in standard deviations);
    ``r2`` the share of its variance baseline covariates explain.

    Cohen (1988), Table 2.4.1: 64 per group detect d = 0.5 with 80% power at 5% two-sided.

    >>> round(rct_plan(128, effect=0.5).power, 2)
    0.8
    """
    _check_positive(n, "n", minimum=2 + n_covariates)
    _check_positive(sd, "sd")
    _check_probability(share_treated, "share")
    if not 0 <= r2 < 1:
        raise ConfigError(f"--r2 {r2} must be at least 0 and below 1", fix="for example --r2 0.3")
    df = n - 2 - n_covariates
    se = sd * math.sqrt((1 - r2) / (share_treated * (1 - share_treated) * n))
    m = multiplier(df, alpha, power)
    mde = m * se
    return PowerPlan(
        design="rct", method="closed form (Bloom 1995), t with n − 2 − covariates df",
        inputs={"n": n, "sd": sd, "share_treated": share_treated, "r2": r2,
                "n_covariates": n_covariates},
        alpha=alpha, target_power=power, df=df, multiplier=m, standard_error=se, mde=mde,
        effect=effect, power=power_at(effect, se, df, alpha) if effect is not None else None,
        curve=_curve(mde, se, df, alpha, effect),
    )


def design_effect(cluster_size: float, icc: float) -> float:
    """The variance inflation of cluster randomisation, 1 + (m − 1)ρ (Kish 1965).

    >>> design_effect(24, 0.05)
    2.15
    """
    if not 0 <= icc < 1:
        raise ConfigError(f"--icc {icc} must be at least 0 and below 1", fix="for example --icc 0.05")
    _check_positive(cluster_size, "cluster-size", minimum=0)
    return round(1 + (cluster_size - 1) * icc, 12)


def clusters_needed(n_individual: int, cluster_size: float, icc: float) -> int:
    """Clusters needed to match the power of ``n_individual`` individually randomised people
    (n × design effect ÷ cluster size, rounded to the nearest cluster).

    Published check: 260 children × design effect 2.15 (ρ = 0.05, 24 pupils per school) =
    559 children in 23 schools (Table 2 of BMC Psychology 4:48, 2016,
    doi:10.1186/s40359-016-0155-y).

    >>> clusters_needed(260, 24, 0.05)
    23
    """
    return round(n_individual * design_effect(cluster_size, icc) / cluster_size)


def cluster_plan(n_clusters: int, cluster_size: float, icc: float, *,
                 effect: float | None = None, sd: float = 1.0, share_treated: float = 0.5,
                 r2_individual: float = 0.0, r2_cluster: float = 0.0,
                 n_cluster_covariates: int = 0, alpha: float = 0.05,
                 power: float = 0.8) -> PowerPlan:
    """Power and MDE when ``n_clusters`` clusters of ``cluster_size`` people are randomised.

    >>> p = cluster_plan(40, 20, 0.1)
    >>> round(p.mde, 3), p.design_effect
    (0.346, 2.9)
    """
    _check_positive(n_clusters, "n", minimum=2 + n_cluster_covariates)
    _check_positive(sd, "sd")
    _check_probability(share_treated, "share")
    for r2, name in ((r2_individual, "r2"), (r2_cluster, "r2-cluster")):
        if not 0 <= r2 < 1:
            raise ConfigError(f"--{name} {r2} must be at least 0 and below 1",
                              fix=f"for example --{name} 0.3")
    deff = design_effect(cluster_size, icc)
    pq_j = share_treated * (1 - share_treated) * n_clusters
    variance = icc * (1 - r2_cluster) / pq_j + (1 - icc) * (1 - r2_individual) / (pq_j * cluster_size)
    se = sd * math.sqrt(variance)
    df = n_clusters - 2 - n_cluster_covariates
    m = multiplier(df, alpha, power)
    mde = m * se
    return PowerPlan(
        design="cluster",
        method="closed form (Bloom 2005; PowerUp! CRA2-2), t with clusters − 2 − covariates df",
        inputs={"n_clusters": n_clusters, "cluster_size": cluster_size, "icc": icc, "sd": sd,
                "share_treated": share_treated, "r2_individual": r2_individual,
                "r2_cluster": r2_cluster, "n_cluster_covariates": n_cluster_covariates},
        alpha=alpha, target_power=power, df=df, multiplier=m, standard_error=se, mde=mde,
        effect=effect, power=power_at(effect, se, df, alpha) if effect is not None else None,
        design_effect=deff, curve=_curve(mde, se, df, alpha, effect),
    )


def ar1_change_variance(n_pre: int, n_post: int, rho: float) -> float:
    """Variance of (post-period mean − pre-period mean) of a stationary AR(1) series with unit
    variance and autocorrelation ``rho``.

    >>> ar1_change_variance(1, 1, 0.0), round(ar1_change_variance(1, 1, 0.5), 6)
    (2.0, 1.0)
    """
    t = np.arange(n_pre + n_post)
    sigma = rho ** np.abs(t[:, None] - t[None, :])
    c = np.where(t < n_pre, -1.0 / n_pre, 1.0 / n_post)
    return float(c @ sigma @ c)


def did_plan(n_units: int, n_periods: int, n_pre: int, *, effect: float | None = None,
             sd: float = 1.0, rho: float = 0.5, share_treated: float = 0.5, alpha: float = 0.05,
             power: float = 0.8, n_sims: int = 1000, seed: int = 20261201) -> PowerPlan:
    """Simulated power of a difference-in-differences with ``n_units`` units observed for
    ``n_periods`` periods, the first ``n_pre`` of them before treatment, AR(1) errors with
    standard deviation ``sd`` and autocorrelation ``rho``.

    >>> p = did_plan(60, 10, 5, rho=0.5, n_sims=400, seed=1)
    >>> 0.5 < p.mde / p.checks["mde_analytic"] < 1.5
    True
    """
    _check_positive(n_units, "n", minimum=3)
    if not 1 <= n_pre < n_periods:
        raise ConfigError(f"--pre-periods {n_pre} must be at least 1 and below --periods "
                          f"{n_periods}", fix="give both, e.g. --periods 12 --pre-periods 6")
    if not -1 < rho < 1:
        raise ConfigError(f"--rho {rho} must be between −1 and 1",
                          fix="serial correlation of the errors, for example --rho 0.5")
    _check_positive(sd, "sd")
    _check_probability(share_treated, "share")
    _check_probability(alpha, "alpha")
    _check_probability(power, "power")
    if not 100 <= n_sims <= 100_000:
        raise ConfigError(f"--sims {n_sims} must be between 100 and 100000",
                          fix="1000 gives the power to about ±1.5 percentage points")
    n_treated = round(share_treated * n_units)
    if not 1 <= n_treated < n_units:
        raise ConfigError(f"--share {share_treated} leaves no treated or no control units",
                          fix="choose a share so both groups have at least one unit")
    n_control = n_units - n_treated
    df = n_units - 2
    crit = _ppf(1 - alpha / 2, df)

    sim = _simulate_did(n_units, n_treated, n_periods, n_pre, sd, rho, n_sims, seed, alpha)
    estimate, se = sim["estimate"], sim["se"]
    # A simulated panel rejects at effect δ when δ > crit·se − estimate (or δ < −crit·se −
    # estimate); the MDE is the effect at which a share ``power`` of panels reject.
    upper = crit * se - estimate
    lower = -crit * se - estimate
    mde = float(np.quantile(upper, power))

    def simulated_power(delta: float) -> float:
        return float(np.mean((delta > upper) | (delta < lower)))

    change_var = ar1_change_variance(n_pre, n_periods - n_pre, rho)
    se_analytic = sd * math.sqrt(change_var * (1 / n_treated + 1 / n_control))
    m = multiplier(df, alpha, power)
    effects = sorted({round(mde * k, 12) for k in CURVE_MULTIPLES} | ({effect} if effect else set()))
    curve = [{"effect": e, "power": simulated_power(e),
              "power_analytic": power_at(e, se_analytic, df, alpha)} for e in effects]
    checks = {"size": simulated_power(0.0), "naive_size": sim["naive_size"],
              "mde_analytic": m * se_analytic, "se_simulated": float(np.std(estimate, ddof=1)),
              "se_analytic": se_analytic, "mc_error": math.sqrt(power * (1 - power) / n_sims)}
    notes = [f"Simulated {n_sims:,} panels (seed {seed}); simulated power is within about "
             f"±{100 * 1.96 * checks['mc_error']:.1f} percentage points of its exact value.",
             f"A test ignoring the serial correlation (conventional OLS standard errors) would "
             f"reject a true null {checks['naive_size']:.0%} of the time instead of "
             f"{_pct(alpha)}: cluster standard errors on the unit."]
    return PowerPlan(
        design="did",
        method="simulation: AR(1) errors; treated vs control change in means, t with units − 2 df",
        inputs={"n_units": n_units, "n_periods": n_periods, "n_pre": n_pre, "sd": sd,
                "rho": rho, "share_treated": share_treated, "n_sims": n_sims, "seed": seed},
        alpha=alpha, target_power=power, df=df, multiplier=m, standard_error=se_analytic,
        mde=mde, effect=effect, power=simulated_power(effect) if effect is not None else None,
        curve=curve, checks=checks, notes=notes,
    )


def _simulate_did(n_units: int, n_treated: int, n_periods: int, n_pre: int, sd: float,
                  rho: float, n_sims: int, seed: int, alpha: float) -> dict[str, np.ndarray]:
    """Null-effect panels: the collapsed DiD estimate and its SE per simulation, and the
    rejection rate of the conventional OLS test."""
    rng = np.random.default_rng(seed)
    treated = np.arange(n_units) < n_treated
    post = np.arange(n_periods) >= n_pre
    d = np.outer(treated - treated.mean(), post - post.mean())  # two-way demeaned D
    d_ss = float((d**2).sum())
    resid_df = n_units * n_periods - n_units - n_periods
    naive_crit = _ppf(1 - alpha / 2, resid_df)
    chunk = max(1, MAX_SIM_CELLS // (n_units * n_periods))
    estimates, ses, naive_rejections = [], [], 0
    for start in range(0, n_sims, chunk):
        s = min(chunk, n_sims - start)
        shocks = rng.standard_normal((s, n_units, n_periods))
        e = np.empty_like(shocks)
        e[:, :, 0] = shocks[:, :, 0]
        scale = math.sqrt(1 - rho**2)
        for t in range(1, n_periods):
            e[:, :, t] = rho * e[:, :, t - 1] + scale * shocks[:, :, t]
        e *= sd
        change = e[:, :, post].mean(axis=2) - e[:, :, ~post].mean(axis=2)
        ct, cc = change[:, treated], change[:, ~treated]
        estimate = ct.mean(axis=1) - cc.mean(axis=1)
        pooled = (((ct - ct.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
                  + ((cc - cc.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)) / (n_units - 2)
        ses.append(np.sqrt(pooled * (1 / treated.sum() + 1 / (~treated).sum())))
        estimates.append(estimate)
        dm = (e - e.mean(axis=2, keepdims=True) - e.mean(axis=1, keepdims=True)
              + e.mean(axis=(1, 2), keepdims=True))
        beta = (dm * d).sum(axis=(1, 2)) / d_ss
        rss = (dm**2).sum(axis=(1, 2)) - beta**2 * d_ss
        naive_se = np.sqrt(rss / resid_df / d_ss)
        naive_rejections += int((np.abs(beta / naive_se) > naive_crit).sum())
    return {"estimate": np.concatenate(estimates), "se": np.concatenate(ses),
            "naive_size": naive_rejections / n_sims}


#: Planners by design name, for ``upward plan --design``.
PLANNERS = {"rct": rct_plan, "cluster": cluster_plan, "did": did_plan}
