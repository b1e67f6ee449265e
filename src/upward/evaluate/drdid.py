"""Two-period difference-in-differences with covariates on panel data (Sant'Anna & Zhao 2020,
*Journal of Econometrics* 219(1)): outcome regression, standardised inverse probability
weighting and the doubly robust combination, each with its influence function.

Each takes the change in the outcome ``dy`` of every unit, its treatment indicator ``d``, the
covariates ``x`` (with an intercept column) and sampling weights ``w``, and returns the ATT and
its influence function (one value per unit, mean zero; ``sum(psi**2) / n**2`` is the
variance). The nuisance models are a weighted OLS of ``dy`` on ``x`` among the controls and a
weighted logit of ``d`` on ``x``; the influence functions include their estimation, as in
Sant'Anna & Zhao's (2020) section 3 and the R ``DRDID`` package that the R ``did`` package
(and so Callaway & Sant'Anna 2021) calls for each group-time cell. Controls whose propensity
score reaches :data:`TRIM` are left out of the weighted means, as there.

Written here rather than called from ``csdid``/``diff-diff`` because the staggered design
needs the influence functions of thousands of cells on the unit × period matrix it already
holds; tests/test_evaluate_staggered_covariates.py checks the results against both.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.column_stack([np.ones(4000), rng.normal(size=4000)])
>>> d = (rng.random(4000) < 1 / (1 + np.exp(-x[:, 1]))).astype(float)
>>> dy = 1.0 * x[:, 1] + 2.0 * d + rng.normal(size=4000)   # trends depend on x
>>> att, psi = two_period_att(dy, d, x, np.ones(4000), "dr")
>>> bool(abs(att - 2.0) < 3 * np.sqrt(np.sum(psi ** 2)) / 4000)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

#: Controls with an estimated propensity score at or above this are trimmed (R DRDID's default).
TRIM = 0.995
#: Largest propensity score used (R DRDID caps scores at 1 - 1e-6).
CAP = 1 - 1e-6
METHODS = ("dr", "reg", "ipw")


class SeparationError(ValueError):
    """The propensity logit does not converge (the covariates predict treatment perfectly).

    >>> x = np.column_stack([np.ones(4), [0.0, 1, 2, 3]])
    >>> fit_logit(x, np.array([0.0, 0, 1, 1]), np.ones(4))
    Traceback (most recent call last):
    ...
    upward.evaluate.drdid.SeparationError: the propensity model did not converge
    """


@dataclass(frozen=True)
class Logit:
    """A fitted weighted logit: scores and the influence of its coefficients (units × k).

    >>> x = np.column_stack([np.ones(4), [0.0, 1, 2, 3]])
    >>> fit = fit_logit(x, np.array([0.0, 1, 0, 1]), np.ones(4))
    >>> fit.scores.round(2).tolist(), fit.influence.shape
    ([0.2, 0.39, 0.61, 0.8], (4, 2))
    """

    scores: np.ndarray
    influence: np.ndarray


def fit_logit(x: np.ndarray, d: np.ndarray, w: np.ndarray, max_iter: int = 60) -> Logit:
    """Weighted logistic regression of ``d`` on ``x`` by Newton-Raphson; the influence of the
    coefficients is ``w (d - p) x  (X'WX / n)^-1``.

    >>> x = np.column_stack([np.ones(6), [0.0, 1, 2, 3, 1.5, 0.5]])
    >>> fit = fit_logit(x, np.array([0.0, 0, 1, 1, 0, 1]), np.ones(6))
    >>> bool(fit.scores[3] > fit.scores[0]), fit.influence.shape
    (True, (6, 2))
    """
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        p = expit(x @ beta)
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x
        step = np.linalg.lstsq(hessian, x.T @ (w * (d - p)), rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    else:
        raise SeparationError("the propensity model did not converge")
    p = np.minimum(expit(x @ beta), CAP)
    hessian = (x * (w * p * (1 - p))[:, None]).T @ x
    n = len(d)
    influence = (x * (w * (d - p))[:, None]) @ np.linalg.pinv(hessian / n)
    return Logit(p, influence)


def two_period_att(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray,
                   method: str = "dr", logit: Logit | None = None):
    """The ATT of a two-period panel DiD with covariates and its influence function.

    ``method``: ``reg`` (outcome regression, Heckman, Ichimura & Todd 1997), ``ipw``
    (standardised weights, Abadie 2005) or ``dr`` (doubly robust, Sant'Anna & Zhao 2020).
    ``logit`` may pass a propensity fit already made on the same units (it does not depend on
    the outcome). Weights are normalised to mean 1 here. ``dy`` may be a units × C matrix:
    C outcome changes on the same units and covariates (the cells of one cohort) in one
    pass; then the ATTs are an array and the influence functions units × C.

    >>> dy = np.array([1.0, 2, 0, 1]); d = np.array([1.0, 1, 0, 0])
    >>> two_period_att(dy, d, np.ones((4, 1)), np.ones(4), "reg")[0]
    1.0
    >>> two_period_att(np.column_stack([dy, 2 * dy]), d, np.ones((4, 1)), np.ones(4),
    ...                "reg")[0].tolist()
    [1.0, 2.0]
    """
    if dy.ndim == 1:
        att, psi = two_period_att(dy[:, None], d, x, w, method, logit)
        return float(att[0]), psi[:, 0]
    n = len(d)
    w = w / w.mean()
    w_treat = w * d
    mean_treat = w_treat.mean()
    m_treat = x.T @ w_treat / n  # mean of w_treat * x
    if method != "ipw":
        # the controls' weighted OLS of dy on x, for every column at once; its influence
        # enters only through  ols_if @ M = wc e (x (X'WcX/n)^-1 M)
        wc = w * (1 - d)
        xtx_inv = np.linalg.pinv((x * wc[:, None]).T @ x / n)
        fitted = x @ (xtx_inv @ (x.T @ (wc[:, None] * dy)) / n)
        wc_resid = wc[:, None] * (dy - fitted)

        def ols_if(m: np.ndarray) -> np.ndarray:
            return wc_resid * (x @ (xtx_inv @ m))[:, None]

    if method == "reg":
        eta_treat = w_treat @ dy / n / mean_treat
        eta_cont = w_treat @ fitted / n / mean_treat
        inf_treat = w_treat[:, None] * (dy - eta_treat) / mean_treat
        inf_cont = (w_treat[:, None] * (fitted - eta_cont) + ols_if(m_treat)) / mean_treat
        return eta_treat - eta_cont, inf_treat - inf_cont
    logit = logit if logit is not None else fit_logit(x, d, w)
    ps = logit.scores
    keep = np.where(d == 1, 1.0, (ps < TRIM).astype(float))
    w_cont = keep * w * ps * (1 - d) / (1 - ps)
    mean_cont = w_cont.mean()
    resid = dy if method == "ipw" else dy - fitted
    eta_treat = w_treat @ resid / n / mean_treat
    eta_cont = w_cont @ resid / n / mean_cont
    inf_treat = w_treat[:, None] * (resid - eta_treat)
    cont = w_cont[:, None] * (resid - eta_cont)
    inf_cont = cont + logit.influence @ (x.T @ cont / n)
    if method == "dr":
        inf_treat = inf_treat - ols_if(m_treat)
        inf_cont = inf_cont - ols_if(x.T @ w_cont / n)
    return eta_treat - eta_cont, inf_treat / mean_treat - inf_cont / mean_cont
