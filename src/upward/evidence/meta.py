"""Meta-analysis: pool effect estimates from several evaluations of the same intervention.

Inverse-variance pooling with a between-study variance τ² estimated by restricted maximum
likelihood (REML, Fisher scoring, τ² ≥ 0), DerSimonian–Laird (closed form), Paule–Mandel
(generalised Q equal to its expectation), maximum likelihood, or none (fixed effect). Options:
the Hartung–Knapp–Sidik–Jonkman CI (t with k − 1 df), and a prediction interval for the effect
in a new setting (Higgins, Thompson & Spiegelhalter 2009; Riley, Higgins & Deeks 2011).

Checked against metafor's published analysis of the BCG vaccine trials (see tests/test_meta.py).
Written here rather than wrapped because statsmodels' ``combine_effects`` (the tests check our
DL, PM and HK against it) has no REML, no SE of τ² and no prediction interval, and no other
maintained Python package covers them; the formulas are short and each is tested.

Examples
--------
>>> p = pool([-0.89, -1.59, -1.35, -1.44, -0.22], [0.57, 0.44, 0.64, 0.14, 0.23], method="DL")
>>> p.k, p.method, round(p.estimate, 3)
(5, 'DL', -1.068)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.core.text import N_
from upward.evidence.effect_sizes import get_measure

SCHEMA_VERSION = "1.0"

#: Columns of every row returned by :func:`forest_table`.
FOREST_COLUMNS = ("study", "kind", "estimate", "se", "ci_low", "ci_high", "weight",
                  "pi_low", "pi_high")


@dataclass
class PooledEffect(JsonReport):
    """A pooled effect with its heterogeneity statistics and prediction interval.

    ``i2`` and ``h2`` follow metafor: for random-effects models I² = τ² / (τ² + s²) with s² the
    "typical" within-study variance (Higgins & Thompson 2002, eq. 9), in percent; for the fixed
    effect model I² = (Q − df) / Q. ``weights`` are each study's share of the total weight (sum 1).
    ``z_or_t`` is a z statistic, or t with ``df`` degrees of freedom when ``hk`` is true.
    ``pi_low``/``pi_high`` are None when they cannot be computed (fewer than 3 studies with
    the t-based interval).

    >>> p = pool([0.1, 0.3], [0.1, 0.1], method="FE")
    >>> p.k, round(p.estimate, 3), [round(w, 2) for w in p.weights]
    (2, 0.2, [0.5, 0.5])
    """

    method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z_or_t: float
    p_value: float
    tau2: float
    tau2_se: float | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int
    q_p: float | None
    pi_low: float | None
    pi_high: float | None
    weights: list[float]
    hk: bool
    df: int | None = None
    pi_df: int | None = None
    pi_dist: str = "t"
    alpha: float = 0.05
    measure: str | None = None
    labels: list[str] = field(default_factory=list)
    estimates: list[float] = field(default_factory=list)
    ses: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    @property
    def tau(self) -> float:
        """The between-study standard deviation √τ².

        >>> round(pool([0.0, 1.0], [0.1, 0.1], method="DL").tau, 3)
        0.7
        """
        return math.sqrt(self.tau2)

    @property
    def se_new(self) -> float:
        """SD of the effect in a new setting: √(τ² + se²), the prediction interval's scale.

        >>> pool([0.0, 0.0], [0.3, 0.4], method="FE").se_new == pool([0.0, 0.0], [0.3, 0.4], method="FE").se
        True
        """
        return math.sqrt(self.tau2 + self.se**2)

    def headline(self) -> str:
        """One line for readers (ratios shown exponentiated).

        >>> pool([0.2, 0.4, 0.3], [0.1, 0.1, 0.1], method="FE").headline()
        'Pooled effect (FE, k = 3): 0.3 (95% CI 0.187 to 0.413), p = 2e-07; I² = 0%'
        """
        show = _display(self.measure)
        level = f"{100 * (1 - self.alpha):g}%"
        i2 = "n/a" if self.i2 is None else f"{self.i2:.3g}%"
        text = (f"Pooled effect ({self.method}{', HK' if self.hk else ''}, k = {self.k}): "
                f"{show(self.estimate):.3g} ({level} CI {show(self.ci_low):.3g} to "
                f"{show(self.ci_high):.3g}), p = {self.p_value:.2g}; I² = {i2}")
        if self.pi_low is not None and self.tau2 > 0:
            text += (f"; {level} prediction interval {show(self.pi_low):.3g} to "
                     f"{show(self.pi_high):.3g}")
        return text


def _display(measure: str | None) -> Callable[[float], float]:
    if measure is not None and get_measure(measure).log_scale:
        return math.exp
    return float


# -- between-study variance estimators: (y, v) -> (tau2, tau2_se or None) -------------------


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    return float((w * y).sum() / w.sum())


def _q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    return float(np.sum(w * (y - _weighted_mean(y, w)) ** 2))


def tau2_fixed(y: np.ndarray, v: np.ndarray) -> tuple[float, float | None]:
    """No between-study variance (fixed/common effect).

    >>> tau2_fixed(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    (0.0, None)
    """
    return 0.0, None


def tau2_dersimonian_laird(y: np.ndarray, v: np.ndarray) -> tuple[float, float | None]:
    """DerSimonian & Laird (1986): τ² = max(0, (Q − (k−1)) / (Σw − Σw²/Σw)).

    >>> tau2_dersimonian_laird(np.array([0.0, 1.0]), np.array([0.01, 0.01]))[0]
    0.49
    """
    w = 1.0 / v
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return max(0.0, float((_q(y, v, 0.0) - (len(y) - 1)) / c)), None


def _reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    resid = y - _weighted_mean(y, w)
    return float(-0.5 * (np.sum(np.log(v + tau2)) + math.log(np.sum(w))
                         + np.sum(w * resid**2)))


def _ml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    resid = y - _weighted_mean(y, w)
    return float(-0.5 * (np.sum(np.log(v + tau2)) + np.sum(w * resid**2)))


def _reml_score_info(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    w = 1.0 / (v + tau2)
    sw, sw2, sw3 = np.sum(w), np.sum(w**2), np.sum(w**3)
    resid = y - _weighted_mean(y, w)
    trace_p = sw - sw2 / sw
    trace_pp = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
    score = 0.5 * (np.sum(w**2 * resid**2) - trace_p)
    return float(score), float(0.5 * trace_pp)


def _ml_score_info(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    w = 1.0 / (v + tau2)
    resid = y - _weighted_mean(y, w)
    return float(0.5 * (np.sum(w**2 * resid**2) - np.sum(w))), float(0.5 * np.sum(w**2))


def _fisher_scoring(y: np.ndarray, v: np.ndarray, score_info, loglik, start: float,
                    tol: float = 1e-10, max_iter: int = 500) -> tuple[float, float]:
    """Fisher scoring for τ² ≥ 0 (metafor's algorithm), halving any step that lowers the
    likelihood; a bounded scalar search finishes the job if scoring has not converged."""
    tau2 = max(start, 0.0)
    current = loglik(y, v, tau2)
    for _ in range(max_iter):
        score, info = score_info(y, v, tau2)
        step = score / info
        new = max(0.0, tau2 + step)
        value = loglik(y, v, new)
        while value < current - 1e-12 and abs(new - tau2) > tol:
            step /= 2
            new = max(0.0, tau2 + step)
            value = loglik(y, v, new)
        if abs(new - tau2) <= tol * max(1.0, tau2):
            tau2 = new
            break
        tau2, current = new, value
    else:  # pragma: no cover - slow convergence on flat likelihoods
        upper = max(10 * tau2, float(np.var(y)) * 10, 1e-6)
        res = optimize.minimize_scalar(lambda t: -loglik(y, v, t), bounds=(0.0, upper),
                                       method="bounded", options={"xatol": 1e-12})
        tau2 = float(res.x) if -res.fun > loglik(y, v, 0.0) else 0.0
    _, info = score_info(y, v, tau2)
    return float(tau2), math.sqrt(1.0 / info)


def tau2_reml(y: np.ndarray, v: np.ndarray) -> tuple[float, float | None]:
    """Restricted maximum likelihood τ² (Fisher scoring from DL), with its SE from the
    inverse information.

    >>> round(tau2_reml(np.array([0.0, 1.0, 0.5]), np.array([0.01, 0.01, 0.01]))[0], 4)
    0.24
    """
    return _fisher_scoring(y, v, _reml_score_info, _reml_loglik,
                           tau2_dersimonian_laird(y, v)[0])


def tau2_ml(y: np.ndarray, v: np.ndarray) -> tuple[float, float | None]:
    """Maximum likelihood τ² (biased downwards for small k; prefer REML).

    >>> round(tau2_ml(np.array([0.0, 1.0, 0.5]), np.array([0.01, 0.01, 0.01]))[0], 4)
    0.1567
    """
    return _fisher_scoring(y, v, _ml_score_info, _ml_loglik,
                           tau2_dersimonian_laird(y, v)[0])


def tau2_paule_mandel(y: np.ndarray, v: np.ndarray) -> tuple[float, float | None]:
    """Paule & Mandel (1982): the τ² at which the generalised Q equals k − 1 (0 if Q(0) ≤ k−1).

    >>> round(tau2_paule_mandel(np.array([0.0, 1.0, 0.5]), np.array([0.01, 0.01, 0.01]))[0], 4)
    0.24
    """
    target = len(y) - 1
    if _q(y, v, 0.0) <= target:
        return 0.0, None
    upper = max(float(np.var(y)) * 10, float(np.max(v)), 1e-8)
    while _q(y, v, upper) > target:
        upper *= 10
    return float(optimize.brentq(lambda t: _q(y, v, t) - target, 0.0, upper, xtol=1e-12)), None


#: Pooling methods: name → (label, τ² estimator).
METHODS: dict[str, tuple[str, Callable]] = {
    "FE": ("fixed effect (inverse variance)", tau2_fixed),
    "DL": ("random effects, DerSimonian–Laird τ²", tau2_dersimonian_laird),
    "REML": ("random effects, REML τ²", tau2_reml),
    "ML": ("random effects, maximum-likelihood τ²", tau2_ml),
    "PM": ("random effects, Paule–Mandel τ²", tau2_paule_mandel),
}

PI_DISTRIBUTIONS = ("t", "normal")


def _check_inputs(estimates, ses, labels) -> tuple[np.ndarray, np.ndarray, list[str]]:
    y = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(ses, dtype=float).ravel()
    if y.size == 0:
        raise ConfigError("no studies to pool", fix="give at least one estimate and its SE")
    if y.size != s.size:
        raise ConfigError(f"{y.size} estimates but {s.size} standard errors",
                          fix="give one standard error per estimate")
    names = [str(x) for x in labels] if labels is not None else [
        f"Study {i + 1}" for i in range(y.size)]
    if len(names) != y.size:
        raise ConfigError(f"{len(names)} labels for {y.size} studies", fix="give one label each")
    for name, est, se in zip(names, y, s, strict=True):
        if not math.isfinite(est):
            raise ConfigError(f"study {name!r} has estimate {est}", fix="give a finite estimate")
        if not (math.isfinite(se) and se > 0):
            raise ConfigError(f"study {name!r} has standard error {se}",
                              fix="give a positive, finite standard error (not a variance of 0)")
    return y, s, names


def pool(estimates: Sequence[float], ses: Sequence[float], *, method: str = "REML",
         hartung_knapp: bool = False, hk_adhoc: bool = False, alpha: float = 0.05,
         labels: Sequence[str] | None = None, measure: str | None = None,
         pi_dist: str = "t") -> PooledEffect:
    """Pool study estimates with inverse-variance weights.

    Parameters
    ----------
    estimates, ses
        One estimate and its standard error per study, all on the same scale (see
        ``effect_sizes.to_common_scale``); ratios on the log scale.
    method
        "REML" (default), "DL", "PM", "ML" or "FE" (no heterogeneity).
    hartung_knapp
        Hartung–Knapp–Sidik–Jonkman: scale the variance by the weighted residual mean square and
        use t with k − 1 df (metafor ``test="knha"``). ``hk_adhoc`` never lets that factor go
        below 1 (Röver, Knapp & Friede 2015), so the interval is never narrower than Wald's.
    pi_dist
        "t": prediction interval μ ± t(k−2)·√(τ² + se²) (Higgins et al. 2009; needs k ≥ 3);
        "normal": μ ± z·√(τ² + se²) (metafor's ``predict()`` default). Both under-cover
        when heterogeneity is mild and τ² is underestimated (Partlett & Riley 2017).

    >>> p = pool([0.1, 0.3, 0.35, 0.6], [0.1, 0.12, 0.1, 0.15])
    >>> p.k, round(p.estimate, 3), p.pi_low < p.ci_low
    (4, 0.319, True)
    """
    if method not in METHODS:
        raise ConfigError(f"pooling method {method!r} is not known",
                          fix=f"use one of {', '.join(METHODS)}")
    if pi_dist not in PI_DISTRIBUTIONS:
        raise ConfigError(f"pi_dist {pi_dist!r} is not known", fix="use 't' or 'normal'")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, got {alpha}", fix="use e.g. 0.05")
    if measure is not None:
        get_measure(measure)
    y, s, names = _check_inputs(estimates, ses, labels)
    k = y.size
    v = s**2
    warnings: list[str] = []
    if k == 1 and method != "FE":
        warnings.append(N_("one study: τ² cannot be estimated and is set to 0"))
        tau2, tau2_se = 0.0, None
    else:
        tau2, tau2_se = METHODS[method][1](y, v)
    w = 1.0 / (v + tau2)
    mu = _weighted_mean(y, w)
    se = math.sqrt(1.0 / np.sum(w))

    hk = bool(hartung_knapp)
    df: int | None = None
    if hk:
        if k < 2:
            raise ConfigError("the Hartung–Knapp adjustment needs at least 2 studies",
                              fix="set hartung_knapp=False")
        factor = float(np.sum(w * (y - mu) ** 2) / (k - 1))
        if hk_adhoc:
            factor = max(1.0, factor)
        se = se * math.sqrt(factor)
        df = k - 1
        crit = float(special.stdtrit(df, 1 - alpha / 2))
        stat = mu / se
        p_value = float(2 * special.stdtr(df, -abs(stat)))
    else:
        crit = float(special.ndtri(1 - alpha / 2))
        stat = mu / se
        p_value = float(2 * special.ndtr(-abs(stat)))

    if k >= 2:
        w_fe = 1.0 / v
        q = _q(y, v, 0.0)
        q_p = float(special.chdtrc(k - 1, q))
        typical = (k - 1) * np.sum(w_fe) / (np.sum(w_fe) ** 2 - np.sum(w_fe**2))
        if method == "FE":
            i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
            h2 = q / (k - 1)
        else:
            i2 = float(100 * tau2 / (tau2 + typical))
            h2 = float((tau2 + typical) / typical)
    else:
        q = q_p = i2 = h2 = None

    pi_low = pi_high = None
    pi_df = None
    if method == "FE":
        pi_low, pi_high = mu - crit * se, mu + crit * se
        warnings.append(N_("fixed-effect model: it assumes one true effect everywhere, so the "
                           "prediction interval equals the CI"))
    elif pi_dist == "normal":
        z = float(special.ndtri(1 - alpha / 2))
        half = z * math.sqrt(tau2 + se**2)
        pi_low, pi_high = mu - half, mu + half
    elif k >= 3:
        pi_df = k - 2
        half = float(special.stdtrit(pi_df, 1 - alpha / 2)) * math.sqrt(tau2 + se**2)
        pi_low, pi_high = mu - half, mu + half
    else:
        warnings.append(N_("k = {k}: a prediction interval needs at least 3 studies", k=k))
    if 1 < k < 5 and method != "FE" and not hk:
        warnings.append(N_("only {k} studies: Wald intervals under-cover; consider the "
                           "Hartung-Knapp interval (--hk, or hk=true on pages and the API)", k=k))

    return PooledEffect(
        method=method, k=k, estimate=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se,
        z_or_t=stat, p_value=p_value, tau2=tau2, tau2_se=tau2_se, i2=i2, h2=h2, q=q,
        q_df=k - 1, q_p=q_p, pi_low=pi_low, pi_high=pi_high,
        weights=[float(x) for x in w / np.sum(w)], hk=hk, df=df, pi_df=pi_df, pi_dist=pi_dist,
        alpha=alpha, measure=measure, labels=names, estimates=[float(x) for x in y],
        ses=[float(x) for x in s], warnings=warnings,
    )


def pool_effects(effects, *, target: str | None = None, labels: Sequence[str] | None = None,
                 **options) -> PooledEffect:
    """Convert ``EffectSize`` values to one scale and pool them (options as in :func:`pool`).

    >>> from upward.evidence.effect_sizes import EffectSize
    >>> pool_effects([EffectSize("smd", 0.2, 0.1), EffectSize("smd", 0.4, 0.1)], method="FE").estimate
    0.3...
    """
    from upward.evidence.effect_sizes import to_common_scale

    common = to_common_scale(effects, target)
    return pool([e.estimate for e in common], [e.se for e in common], labels=labels,
                measure=common[0].measure, **options)


def forest_table(pooled: PooledEffect, labels: Sequence[str] | None = None,
                 estimates: Sequence[float] | None = None, ses: Sequence[float] | None = None,
                 *, natural: bool = False) -> list[dict]:
    """Rows for a forest plot: one per study, then the pooled row (with the prediction
    interval). Columns are :data:`FOREST_COLUMNS`; ``weight`` is in percent. Studies default to
    the ones pooled; ``natural=True`` exponentiates ratio measures for display.

    >>> rows = forest_table(pool([0.2, 0.4], [0.1, 0.1], method="FE"))
    >>> [r["study"] for r in rows], rows[0]["weight"]
    (['Study 1', 'Study 2', 'Pooled (FE)'], 50.0)
    """
    labels = list(pooled.labels if labels is None else labels)
    y = list(pooled.estimates if estimates is None else estimates)
    s = list(pooled.ses if ses is None else ses)
    if not len(labels) == len(y) == len(s) == len(pooled.weights):
        raise ConfigError(
            f"forest_table got {len(labels)} labels, {len(y)} estimates and {len(s)} SEs for "
            f"a pooled effect of {pooled.k} studies",
            fix="pass the studies that were pooled, in the same order",
        )
    show = _display(pooled.measure) if natural else float
    z = float(special.ndtri(1 - pooled.alpha / 2))
    rows = [
        {"study": lab, "kind": "study", "estimate": show(est), "se": se,
         "ci_low": show(est - z * se), "ci_high": show(est + z * se),
         "weight": 100 * wt, "pi_low": None, "pi_high": None}
        for lab, est, se, wt in zip(labels, y, s, pooled.weights, strict=True)
    ]
    rows.append({
        "study": f"Pooled ({pooled.method}{', HK' if pooled.hk else ''})", "kind": "pooled",
        "estimate": show(pooled.estimate), "se": pooled.se, "ci_low": show(pooled.ci_low),
        "ci_high": show(pooled.ci_high), "weight": 100.0,
        "pi_low": None if pooled.pi_low is None else show(pooled.pi_low),
        "pi_high": None if pooled.pi_high is None else show(pooled.pi_high),
    })
    return rows
