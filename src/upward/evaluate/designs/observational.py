"""Selection on observables: propensity-score matching (``matching``), inverse probability
weighting (``ipw``) and augmented IPW (``aipw``).

All three assume that, given the covariates, who took part is as good as random, and that
every participant has comparable non-participants (overlap). The propensity score is a
logistic regression of treatment on the covariates (statsmodels), plus any ``options.terms``
built from them (``age^2``, ``age^3``, ``educ*re74``), as in Dehejia & Wahba (1999).

* ``matching``: nearest-neighbour matching with replacement on the propensity score
  (``options.metric: propensity``, the default), its logit (``logit``) or the Mahalanobis
  distance between covariates (``mahalanobis``); ``neighbours`` matches per unit (1), ties
  kept; ``caliper`` drops units with no match within that many standard deviations of the
  matching scale. ATT (default) or ATE. Standard errors are Abadie & Imbens (2006, Econometrica)
  for matching with replacement, with the conditional variances estimated by matching within
  each group, adjusted for the estimation of the propensity score (Abadie & Imbens 2016,
  Econometrica, "Matching on the estimated propensity score", Theorems 1 and 2) when matching
  on the score or its logit: for the ATE the adjustment is negative (the known-score SE was
  conservative); for the ATT it can go either way (:func:`propensity_adjustment`).
* ``ipw``: normalised (Hájek) weights — 1/e and 1/(1−e) for the ATE, 1 and e/(1−e) for the
  ATT; ``trim`` drops units with scores outside [trim, 1 − trim] (Crump et al. 2009) and refits.
  Standard errors are the M-estimation sandwich that stacks the logit's score with the two
  weighted means, so they account for the estimated score.
* ``aipw``: doubly robust — linear outcome regressions in each group (OLS on the same terms)
  augmented by the weighted residuals; standard errors from the influence function.

Checks: ``overlap`` (share of the relevant units outside the common support of the score,
and the largest single-unit weight share), ``balance`` (standardised differences of every
covariate after weighting or matching, |d| < 0.1). Tables: ``overlap`` (histogram of the
score by group), ``balance`` (before and after), ``estimates`` (naive difference and the
estimator).

Options: ``estimand`` (ATT or ATE; default ATT for matching and ipw, ATE for aipw), ``terms``,
``metric``, ``neighbours``, ``caliper`` (matching), ``trim`` (ipw and aipw), ``bins`` (overlap
histogram, 20).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"x": rng.normal(size=2000)})
>>> df["d"] = (rng.random(2000) < 1 / (1 + np.exp(-df.x))).astype(int)
>>> df["y"] = 2.0 * df.d + 3.0 * df.x + rng.normal(size=2000)
>>> spec = EvaluationSpec(data="p.csv", design="ipw", outcome="y", treatment="d",
...                       covariates=["x"], options={"estimand": "ATE"})
>>> r = estimate_ipw(df, spec)
>>> r.estimand, abs(r.estimate - 2.0) < 3 * r.se
('ATE', True)
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from pydantic import Field, field_validator
from scipy.spatial import cKDTree

from upward.core.errors import ConfigError, InputFileError
from upward.core.text import N_, Text
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.inference import Estimate
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import BALANCE, ESTIMATES, ResultTable

ESTIMANDS = ("ATT", "ATE")
OVERLAP = ResultTable("overlap", N_("Propensity-score overlap"),
                      ("score_low", "score_high", "n_treated", "n_control"), "overlap_histogram")
#: Largest |standardised difference| after adjustment called balanced (Stuart 2010; Austin 2009).
BALANCED = 0.1
#: Largest share of the relevant units outside the common support before overlap fails.
MAX_OFF_SUPPORT = 0.05
#: Largest share of the total weight one unit may carry before overlap fails.
MAX_WEIGHT_SHARE = 0.1
#: Scores this close to 0 or 1 are counted as extreme.
EXTREME = 0.01
#: Same-group neighbours used to estimate each unit's conditional outcome variance (AI 2006).
VARIANCE_NEIGHBOURS = 2
#: Same-group neighbours on the score used to estimate cov(X, mu(w, X) | e(X)) and
#: E[Y | w, e(X)] in the Abadie-Imbens (2016) adjustment.
ADJUSTMENT_NEIGHBOURS = 4
_TERM = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?:\^\s*([23])|\*\s*([A-Za-z_][\w.]*))?\s*$")


@dataclass
class Sample:
    """Outcome, treatment, the propensity-model design and the raw covariates of one analysis.

    >>> s = Sample(np.zeros(2), np.array([0.0, 1.0]), np.ones((2, 1)), ["x"],
    ...            np.ones((2, 1)), ["x"], np.ones(2), [])
    >>> s.n
    2
    """

    y: np.ndarray
    d: np.ndarray
    terms: np.ndarray  # covariates and built terms, no intercept
    term_names: list[str]
    covariates: np.ndarray
    covariate_names: list[str]
    s: np.ndarray  # sampling weights (ones when none)
    notes: list[str]

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.y)

    def subset(self, keep: np.ndarray) -> Sample:
        """The units where ``keep`` is true.

        >>> Sample(np.arange(3.0), np.array([0.0, 1, 1]), np.ones((3, 1)), ["x"],
        ...        np.ones((3, 1)), ["x"], np.ones(3), []).subset(np.array([1, 1, 0], bool)).n
        2
        """
        return Sample(self.y[keep], self.d[keep], self.terms[keep], self.term_names,
                      self.covariates[keep], self.covariate_names, self.s[keep],
                      list(self.notes))


# ----------------------------------------------------------------------------------------------
# Data and options
# ----------------------------------------------------------------------------------------------


def parse_terms(items: list, covariates: list[str]) -> list[tuple[str, str, str | None]]:
    """Parse ``options.terms``: ``x^2``, ``x^3`` or ``x*z`` of covariates.

    >>> parse_terms(["age^2", "educ*re74"], ["age", "educ", "re74"])
    [('age^2', 'age', '2'), ('educ*re74', 'educ', 're74')]
    """
    out = []
    for item in items:
        m = _TERM.match(str(item))
        if not m or not (m.group(2) or m.group(3)):
            raise ConfigError(f"options: terms entry {item!r} is not x^2, x^3 or x*z",
                              fix="write for example terms: [age^2, educ*re74]")
        used = [m.group(1)] + ([m.group(3)] if m.group(3) else [])
        missing = [c for c in used if c not in covariates]
        if missing:
            raise ConfigError(f"options: terms entry {item!r} uses {', '.join(missing)}, "
                              "which is not in covariates", fix="add it to covariates:")
        label = f"{m.group(1)}^{m.group(2)}" if m.group(2) else f"{m.group(1)}*{m.group(3)}"
        out.append((label, m.group(1), m.group(2) or m.group(3)))
    return out


def _sample(data: pd.DataFrame, spec: EvaluationSpec) -> Sample:
    if not spec.covariates:
        raise ConfigError(f"design {spec.design!r} needs covariates: the characteristics that "
                          "decide who takes part", fix="add covariates: [..] to the spec")
    terms = parse_terms(_options_of(spec).terms, spec.covariates)
    cols = [spec.outcome, spec.treatment, *spec.covariates]
    df = data[[*dict.fromkeys(cols + ([spec.weights] if spec.weights else []))]].apply(
        pd.to_numeric, errors="coerce")
    d = df[spec.treatment]
    if not d.dropna().isin([0, 1]).all():
        raise InputFileError(spec.data, "the treatment column must hold 0 or 1",
                             column=spec.treatment, fix="code participants 1 and others 0")
    keep = df[cols].notna().all(axis=1)
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) with a blank outcome, treatment or "
                     "covariate left out")
    df = df[keep]
    n1, n0 = int(df[spec.treatment].sum()), int((1 - df[spec.treatment]).sum())
    if n1 < 2 or n0 < 2:
        raise InputFileError(spec.data, f"{n1} treated and {n0} comparison units have complete "
                             "data; each group needs at least 2", column=spec.treatment,
                             fix="check the treatment, outcome and covariate columns")
    x = df[spec.covariates].to_numpy(dtype=float)
    built = [df[a].to_numpy(float) ** int(b) if b in ("2", "3") else
             df[a].to_numpy(float) * df[b].to_numpy(float) for _, a, b in terms]
    full = np.column_stack([x, *built]) if built else x
    names = [*spec.covariates, *(t[0] for t in terms)]
    full, names, dropped = _independent_columns(full, names)
    if dropped:
        notes.append(f"term(s) {', '.join(dropped)} left out of the models: constant or "
                     "collinear with the others")
    s = (df[spec.weights].to_numpy(dtype=float) if spec.weights else np.ones(len(df)))
    return Sample(df[spec.outcome].to_numpy(float), df[spec.treatment].to_numpy(float), full,
                  names, x, list(spec.covariates), s, notes)


def _independent_columns(x: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str],
                                                                    list[str]]:
    # R_jj of a QR of [1, x] (columns scaled) is what column j adds beyond the ones before it.
    sd = x.std(axis=0)
    scaled = np.column_stack([np.ones(len(x)), (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)])
    diag = np.abs(np.diag(np.linalg.qr(scaled, mode="r")))[1:]
    independent = (sd > 0) & (diag > 1e-8 * np.sqrt(len(x)))
    keep = np.flatnonzero(independent)
    return (x[:, keep], [names[j] for j in keep],
            [n for n, ok in zip(names, independent, strict=True) if not ok])


class _PropensityOptions(DesignOptions):
    """Options the propensity-score designs share (a single term stands for a list of one)."""

    estimand: str | None = Field(None, description="ATT: effect on participants; ATE: on "
                                 "everyone")
    terms: list[str] = Field(default_factory=list, description=(
        "write for example terms: [age^2, educ*re74]"))
    bins: int = Field(20, ge=2, le=200, description="use 20")

    @field_validator("estimand")
    @classmethod
    def _att_or_ate(cls, value):
        if value is not None and value.upper() not in ESTIMANDS:
            raise ValueError("is not ATT or ATE")
        return None if value is None else value.upper()

    @field_validator("terms", mode="before")
    @classmethod
    def _listed(cls, value):
        return [value] if isinstance(value, str) else value


class WeightingOptions(_PropensityOptions):
    """``options:`` of ipw and aipw.

    >>> WeightingOptions.parse({"estimand": "ate", "trim": 0.1}).estimand
    'ATE'
    """

    trim: float | None = Field(None, gt=0.0, lt=0.5, description=(
        "drop trim or give a value between 0 and 0.5 (0.1 is usual)"))


class MatchingOptions(_PropensityOptions):
    """``options:`` of matching.

    >>> MatchingOptions.parse({"neighbours": 3}).metric
    'propensity'
    """

    metric: Literal["propensity", "logit", "mahalanobis"] = Field(
        "propensity", description="use propensity")
    neighbours: int = Field(1, ge=1, le=50, description="use 1")
    caliper: float | None = Field(None, gt=0.0, lt=100.0, description=(
        "drop caliper or give a value between 0 and 100 (standard deviations of the score)"))


def _options_of(spec: EvaluationSpec) -> _PropensityOptions:
    return (MatchingOptions if spec.design == "matching" else WeightingOptions).of(spec)


# ----------------------------------------------------------------------------------------------
# Propensity score
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropensityModel:
    """A fitted logit: scores, coefficients on the standardised design (with intercept).

    >>> PropensityModel(np.array([0.5]), np.zeros(1), np.ones((1, 1)), []).scores.tolist()
    [0.5]
    """

    scores: np.ndarray
    beta: np.ndarray
    design: np.ndarray
    warnings: list[str]


def fit_propensity(terms: np.ndarray, d: np.ndarray, s: np.ndarray | None = None
                   ) -> PropensityModel:
    """Logistic regression of ``d`` on ``terms`` (standardised, with an intercept) by
    statsmodels GLM; frequency weights ``s`` when given.

    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [1.5], [0.5]])
    >>> m = fit_propensity(x, np.array([0.0, 0, 1, 1, 0, 1]))
    >>> bool(m.scores[3] > m.scores[0])
    True
    """
    mean, sd = terms.mean(axis=0), terms.std(axis=0)
    design = np.column_stack([np.ones(len(d)), (terms - mean) / np.where(sd > 0, sd, 1.0)])
    caught = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            fit = sm.GLM(d, design, family=sm.families.Binomial(),
                         freq_weights=s).fit(maxiter=200)
        except Exception as exc:  # statsmodels raises for perfect separation in some versions
            raise ValueError(f"the propensity model cannot be fitted ({exc})") from None
    for w in seen:
        text = str(w.message).lower()
        if "separation" in text:
            caught.append("the covariates (almost) perfectly predict treatment: some units "
                          "have no comparable units in the other group")
        elif "converge" in text:
            caught.append("the propensity model did not converge; its scores may be extreme")
    scores = np.clip(np.asarray(fit.fittedvalues), 1e-12, 1 - 1e-12)
    return PropensityModel(scores, np.asarray(fit.params), design, sorted(set(caught)))


# ----------------------------------------------------------------------------------------------
# Diagnostics
# ----------------------------------------------------------------------------------------------


def _pooled_sd(x1: np.ndarray, x0: np.ndarray) -> np.ndarray:
    v1 = x1.var(axis=0, ddof=1) if len(x1) > 1 else np.zeros(x1.shape[1])
    v0 = x0.var(axis=0, ddof=1) if len(x0) > 1 else np.zeros(x0.shape[1])
    return np.sqrt((v1 + v0) / 2)


def balance_rows(x: np.ndarray, names: list[str], d: np.ndarray, w: np.ndarray
                 ) -> list[dict]:
    """Means and standardised differences of each covariate before and after adjustment (the
    ``w`` weights); both over the unadjusted pooled standard deviation, so that the change
    shows the means moving (Austin 2009).

    >>> x = np.array([[1.0], [2.0], [3.0], [4.0]]); d = np.array([1.0, 1, 0, 0])
    >>> row = balance_rows(x, ["age"], d, np.array([1.0, 1, 1, 1]))[0]
    >>> round(row["std_diff"], 3), round(row["std_diff_weighted"], 3)
    (-2.828, -2.828)
    """
    t, c = d == 1, d == 0
    sd = _pooled_sd(x[t], x[c])
    rows = []
    for j, name in enumerate(names):
        m1, m0 = x[t, j].mean(), x[c, j].mean()
        wm1 = np.average(x[t, j], weights=w[t]) if w[t].sum() > 0 else np.nan
        wm0 = np.average(x[c, j], weights=w[c]) if w[c].sum() > 0 else np.nan
        scale = sd[j] if sd[j] > 0 else np.nan
        rows.append({"covariate": name, "mean_treated": float(m1), "mean_control": float(m0),
                     "std_diff": float((m1 - m0) / scale),
                     "std_diff_weighted": float((wm1 - wm0) / scale)})
    return rows


def _balance_check(rows: list[dict], how: str) -> Check:
    after = [(r["covariate"], r["std_diff_weighted"]) for r in rows
             if np.isfinite(r["std_diff_weighted"])]
    if not after:
        return Check("balance", None, N_("no covariate varies"))
    name, worst = max(after, key=lambda cv: abs(cv[1]))
    off = [c for c, v in after if abs(v) >= BALANCED]
    ok = not off
    detail = (N_("largest |standardised difference| after weighting: {worst:.3f} ({name})",
                 worst=abs(worst), name=name) if how == "weighting" else
              N_("largest |standardised difference| after matching: {worst:.3f} ({name})",
                 worst=abs(worst), name=name))
    if not ok:
        detail = N_("{detail}; {k} covariate(s) at or above {limit}: {names} — the groups "
                    "still differ, so the estimate may carry their differences", detail=detail,
                    k=len(off), limit=BALANCED, names=", ".join(off[:6]))
    return Check("balance", ok, detail, float(abs(worst)))


def overlap_rows(e: np.ndarray, d: np.ndarray, bins: int = 20) -> list[dict]:
    """Histogram of the propensity score by group (equal-width bins on [0, 1]).

    >>> overlap_rows(np.array([0.1, 0.2, 0.8]), np.array([0.0, 0, 1]), bins=2)[1]
    {'score_low': 0.5, 'score_high': 1.0, 'n_treated': 1, 'n_control': 0}
    """
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, bins - 1)
    return [{"score_low": float(edges[k]), "score_high": float(edges[k + 1]),
             "n_treated": int(((idx == k) & (d == 1)).sum()),
             "n_control": int(((idx == k) & (d == 0)).sum())} for k in range(bins)]


def _overlap_check(e: np.ndarray, d: np.ndarray, estimand: str, weights: np.ndarray,
                   what: str) -> Check:
    t, c = d == 1, d == 0
    lo, hi = max(e[t].min(), e[c].min()), min(e[t].max(), e[c].max())
    relevant = t if estimand == "ATT" else np.ones_like(t)
    outside = relevant & ((e < lo) | (e > hi))
    share = float(outside.sum() / relevant.sum())
    extreme = int((((e < EXTREME) | (e > 1 - EXTREME)) & relevant).sum()) if estimand == "ATE" \
        else int(((e > 1 - EXTREME) & c).sum())
    shares = [weights[g].max() / weights[g].sum() for g in (t, c) if weights[g].sum() > 0]
    top = float(max(shares))
    ok = share <= MAX_OFF_SUPPORT and top <= MAX_WEIGHT_SHARE
    counts = {"outside": int(outside.sum()), "n": int(relevant.sum()), "share": share,
              "lo": float(lo), "hi": float(hi), "extreme": extreme, "top": top,
              "what": N_("weight") if what == "weight" else N_("match weight")}
    detail = (N_("{outside:,} of {n:,} treated units ({share:.1%}) lie outside the common "
                 "support of the propensity score [{lo:.3f}, {hi:.3f}]; {extreme:,} with "
                 "extreme scores; the largest single-unit share of a group's {what} is "
                 "{top:.1%}", **counts) if estimand == "ATT" else
              N_("{outside:,} of {n:,} units ({share:.1%}) lie outside the common support of "
                 "the propensity score [{lo:.3f}, {hi:.3f}]; {extreme:,} with extreme scores; "
                 "the largest single-unit share of a group's {what} is {top:.1%}", **counts))
    if not ok:
        detail = N_("{detail}; the groups do not overlap enough: the estimate leans on "
                    "extrapolation or on a few comparison units (consider trim:, a caliper, or "
                    "an estimand for the region of overlap)", detail=detail)
    return Check("overlap", ok, detail, share)


def _naive(sample: Sample) -> Estimate:
    t, c = sample.d == 1, sample.d == 0
    diff = sample.y[t].mean() - sample.y[c].mean()
    se = np.sqrt(sample.y[t].var(ddof=1) / t.sum() + sample.y[c].var(ddof=1) / c.sum())
    return Estimate.from_se(float(diff), float(se))


# ----------------------------------------------------------------------------------------------
# Weighting: IPW and AIPW
# ----------------------------------------------------------------------------------------------


def _propensity(sample: Sample, spec: EvaluationSpec) -> PropensityModel:
    try:
        return fit_propensity(sample.terms, sample.d, _freq(sample))
    except ValueError as exc:
        raise InputFileError(spec.data, str(exc), column=spec.treatment,
                             fix="the covariates may separate the groups completely (no "
                             "overlap); drop covariates or terms") from None


def _trimmed(sample: Sample, spec: EvaluationSpec) -> tuple[Sample, PropensityModel, list[str]]:
    trim = WeightingOptions.of(spec).trim
    model = _propensity(sample, spec)
    notes = list(model.warnings)
    if trim is None:
        return sample, model, notes
    keep = (model.scores >= trim) & (model.scores <= 1 - trim)
    dropped = int((~keep).sum())
    kept = sample.subset(keep)
    if min(kept.d.sum(), (1 - kept.d).sum()) < 2:
        raise ConfigError(f"options: trim {trim} leaves fewer than 2 units in a group",
                          fix="use a smaller trim (0.1 is usual) or drop it")
    notes.append(f"trim {trim}: {dropped} unit(s) with propensity scores outside [{trim}, "
                 f"{1 - trim}] left out; the estimand is for the remaining population")
    model = _propensity(kept, spec)
    return kept, model, notes + model.warnings


def _freq(sample: Sample) -> np.ndarray | None:
    return None if np.all(sample.s == 1) else sample.s


def ipw_weights(e: np.ndarray, d: np.ndarray, estimand: str) -> np.ndarray:
    """Unnormalised inverse probability weights: ATE 1/e and 1/(1−e); ATT 1 and e/(1−e).

    >>> ipw_weights(np.array([0.5, 0.2]), np.array([1.0, 0.0]), "ATT").round(3).tolist()
    [1.0, 0.25]
    """
    if estimand == "ATE":
        return np.where(d == 1, 1 / e, 1 / (1 - e))
    return np.where(d == 1, 1.0, e / (1 - e))


def ipw_estimate(sample: Sample, model: PropensityModel, estimand: str) -> tuple[float, float]:
    """Hájek IPW estimate and its M-estimation sandwich standard error, stacking the logit's
    score equations with the two weighted means (so the score's estimation is accounted for;
    Lunceford & Davidian 2004).

    >>> s = Sample(np.array([1.0, 2, 3, 4]), np.array([0.0, 1, 0, 1]), np.zeros((4, 0)), [],
    ...            np.zeros((4, 0)), [], np.ones(4), [])
    >>> m = fit_propensity(np.array([[0.0], [1], [1], [0]]), s.d)
    >>> round(ipw_estimate(s, m, "ATE")[0], 6)
    1.0
    """
    y, d, s, e, x = sample.y, sample.d, sample.s, model.scores, model.design
    w = ipw_weights(e, d, estimand) * s
    mu1 = np.sum(w * d * y) / np.sum(w * d)
    mu0 = np.sum(w * (1 - d) * y) / np.sum(w * (1 - d))
    n, k = x.shape
    psi = np.column_stack([s[:, None] * x * (d - e)[:, None], w * d * (y - mu1),
                           w * (1 - d) * (y - mu0)])
    jac = np.zeros((k + 2, k + 2))
    jac[:k, :k] = -(x * (s * e * (1 - e))[:, None]).T @ x / n
    r1, r0 = d * (y - mu1) * s, (1 - d) * (y - mu0) * s
    if estimand == "ATE":
        jac[k, :k] = -(r1 * (1 - e) / e) @ x / n
        jac[k + 1, :k] = (r0 * e / (1 - e)) @ x / n
    else:
        jac[k + 1, :k] = (r0 * e / (1 - e)) @ x / n
    jac[k, k] = -np.sum(w * d) / n
    jac[k + 1, k + 1] = -np.sum(w * (1 - d)) / n
    meat = psi.T @ psi / n
    inv = np.linalg.pinv(jac)
    cov = inv @ meat @ inv.T / n
    c = np.zeros(k + 2)
    c[k], c[k + 1] = 1, -1
    return float(mu1 - mu0), float(np.sqrt(max(c @ cov @ c, 0.0)))


def aipw_estimate(sample: Sample, model: PropensityModel, estimand: str
                  ) -> tuple[float, float]:
    """Doubly robust AIPW estimate (OLS outcome models in each group on the same terms) and
    its influence-function standard error. ATE: mean of m1 − m0 + D(Y − m1)/e − (1−D)(Y −
    m0)/(1−e); ATT: participants' mean of Y − m0 minus the e/(1−e)-weighted mean of the
    comparison units' Y − m0 (both normalised).

    >>> rng = np.random.default_rng(1); x = rng.normal(size=(400, 1))
    >>> d = (rng.random(400) < 0.5).astype(float); y = 1.0 * d + x[:, 0]
    >>> s = Sample(y, d, x, ["x"], x, ["x"], np.ones(400), [])
    >>> round(aipw_estimate(s, fit_propensity(x, d), "ATE")[0], 6)
    1.0
    """
    y, d, s, e = sample.y, sample.d, sample.s, model.scores
    design = np.column_stack([np.ones(len(y)), sample.terms])
    m0 = design @ _wls(design[d == 0], y[d == 0], s[d == 0])
    n_eff = s.sum()
    if estimand == "ATE":
        m1 = design @ _wls(design[d == 1], y[d == 1], s[d == 1])
        psi = m1 - m0 + d * (y - m1) / e - (1 - d) * (y - m0) / (1 - e)
        tau = float(np.sum(s * psi) / n_eff)
        phi = s * (psi - tau) / s.mean()
        return tau, float(np.sqrt(np.sum(phi ** 2)) / len(y))
    r = e / (1 - e)
    resid = y - m0
    p1 = np.sum(s * d) / n_eff
    q = np.sum(s * (1 - d) * r) / n_eff
    a = np.sum(s * d * resid) / np.sum(s * d)
    b = np.sum(s * (1 - d) * r * resid) / np.sum(s * (1 - d) * r)
    phi = s * (d * (resid - a) / p1 - (1 - d) * r * (resid - b) / q) / s.mean()
    return float(a - b), float(np.sqrt(np.sum(phi ** 2)) / len(y))


def _wls(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    if len(y) <= x.shape[1]:
        raise ValueError(f"a group has {len(y)} units, too few for an outcome regression on "
                         f"{x.shape[1] - 1} terms; use fewer covariates or terms, or ipw")
    return np.asarray(sm.WLS(y, x, weights=s).fit().params)


def _weighting(data: pd.DataFrame, spec: EvaluationSpec, design: str) -> EvaluationResult:
    opts = WeightingOptions.of(spec)
    estimand = opts.estimand or ("ATT" if design == "ipw" else "ATE")
    bins = opts.bins
    sample = _sample(data, spec)
    naive = _naive(sample)
    sample, model, notes = _trimmed(sample, spec)
    fn, label = {
        "ipw": (ipw_estimate, N_("inverse probability weighting, normalised (Hájek) weights; "
                                 "M-estimation sandwich SE (accounts for the estimated "
                                 "propensity score)")),
        "aipw": (aipw_estimate, N_("augmented IPW (doubly robust; OLS outcome models by "
                                   "group); influence-function SE")),
    }[design]
    try:
        estimate, se = fn(sample, model, estimand)
    except ValueError as exc:
        raise InputFileError(spec.data, str(exc), column=spec.treatment,
                             fix="see the message") from None
    est = Estimate.from_se(estimate, se, spec.alpha)
    w = ipw_weights(model.scores, sample.d, estimand) * sample.s
    rows = balance_rows(sample.covariates, sample.covariate_names, sample.d, w)
    checks = [_overlap_check(model.scores, sample.d, estimand, w, "weight"),
              _balance_check(rows, "weighting")]
    return _result(spec, design, label, estimand, est, naive, sample, checks,
                   sample.notes + notes, rows, overlap_rows(model.scores, sample.d, bins))


def _result(spec, design, label, estimand, est: Estimate, naive: Estimate, sample: Sample,
            checks, notes, balance, overlap, n_treated=None, n_control=None) -> EvaluationResult:
    terms = ", ".join(sample.term_names)
    return EvaluationResult(
        design=design,
        method=(N_("{label}; propensity score: logit (statsmodels) on {terms}", label=label,
                   terms=terms) if isinstance(label, Text) else
                f"{label}; propensity score: logit (statsmodels) on {terms}"),
        outcome=spec.outcome, estimand=estimand,
        estimate=est.estimate, se=est.se, ci_low=est.ci_low, ci_high=est.ci_high,
        p_value=est.p_value, n=sample.n,
        n_treated=int(sample.d.sum()) if n_treated is None else n_treated,
        n_control=int((1 - sample.d).sum()) if n_control is None else n_control,
        checks=checks, warnings=list(dict.fromkeys(notes)),
        tables={"balance": balance, "overlap": overlap,
                "estimates": [naive.row("naive difference in means"), est.row(design)]},
        spec=spec.model_dump(mode="json"),
        library=f"statsmodels {version('statsmodels')}, scipy {version('scipy')}",
        alpha=spec.alpha,
    )


def estimate_ipw(data: pd.DataFrame, spec: EvaluationSpec) -> EvaluationResult:
    """The ``ipw`` estimator (see the module docstring).

    Written here rather than with statsmodels' ``TreatmentEffect.ipw``: that one clips scores
    to [0.01, 0.99] inside its moment conditions, fits its GMM by Nelder–Mead and takes no
    sampling weights; ``tests/test_evaluate_observational.py`` checks both agree where the
    clipping does not bind.

    >>> from upward.evaluate.spec import EvaluationSpec
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=400)})
    >>> df["d"] = (rng.random(400) < 1 / (1 + np.exp(-df.x))).astype(int)
    >>> df["y"] = 2.0 * df.d + 3.0 * df.x + rng.normal(size=400)
    >>> r = estimate_ipw(df, EvaluationSpec(data="p.csv", design="ipw", outcome="y",
    ...                                     treatment="d", covariates=["x"]))
    >>> r.estimand, abs(r.estimate - 2.0) < 3 * r.se, r.method.split(";")[0]
    ('ATT', True, 'inverse probability weighting, normalised (Hájek) weights')
    """
    return _weighting(data, spec, "ipw")


def estimate_aipw(data: pd.DataFrame, spec: EvaluationSpec) -> EvaluationResult:
    """The ``aipw`` estimator (see the module docstring); statsmodels' ``TreatmentEffect.aipw``
    offers the ATE only, so both estimands are written here (checked against it in the tests).

    >>> from upward.evaluate.spec import EvaluationSpec
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=400)})
    >>> df["d"] = (rng.random(400) < 1 / (1 + np.exp(-df.x))).astype(int)
    >>> df["y"] = 2.0 * df.d + 3.0 * df.x + rng.normal(size=400)
    >>> r = estimate_aipw(df, EvaluationSpec(data="p.csv", design="aipw", outcome="y",
    ...                                      treatment="d", covariates=["x"]))
    >>> r.estimand, abs(r.estimate - 2.0) < 3 * r.se, r.method.split(" (")[0]
    ('ATE', True, 'augmented IPW')
    """
    return _weighting(data, spec, "aipw")


# ----------------------------------------------------------------------------------------------
# Matching
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matches:
    """Who was matched to whom: for each target unit, its matches and their weights (1/#).

    >>> m = Matches(np.array([0, 1]), [np.array([4]), np.array([5, 6])])
    >>> m.targets.tolist(), [len(p) for p in m.pools]
    ([0, 1], [1, 2])
    """

    targets: np.ndarray
    pools: list[np.ndarray]


def nearest_neighbours(query: np.ndarray, pool: np.ndarray, m: int,
                       caliper: float | None = None) -> list[np.ndarray]:
    """Indices into ``pool`` of the ``m`` nearest rows to each row of ``query`` (Euclidean),
    keeping every tie at the m-th distance; empty when the nearest is beyond ``caliper``.

    >>> [a.tolist() for a in nearest_neighbours(np.array([[0.0], [5.0]]),
    ...                                          np.array([[1.0], [-1.0], [4.0]]), 1)]
    [[0, 1], [2]]
    """
    tree = cKDTree(pool)
    k = min(m, len(pool))
    dist, _ = tree.query(query, k=k)
    dist = dist.reshape(len(query), k)
    radius = dist[:, -1]
    out = []
    for q, r, nearest in zip(query, radius, dist[:, 0], strict=True):
        if caliper is not None and nearest > caliper:
            out.append(np.array([], dtype=int))
            continue
        found = tree.query_ball_point(q, r * (1 + 1e-9) + 1e-12)
        out.append(np.sort(np.asarray(found, dtype=int)))
    return out


def _metric_space(sample: Sample, e: np.ndarray, metric: str) -> np.ndarray:
    if metric == "propensity":
        return e[:, None]
    if metric == "logit":
        return np.log(e / (1 - e))[:, None]
    x = sample.terms
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    root = np.linalg.cholesky(np.linalg.pinv(cov) + 1e-12 * np.eye(len(cov)))
    return (x - x.mean(axis=0)) @ root


def matching_estimate(y: np.ndarray, d: np.ndarray, z: np.ndarray, m: int, estimand: str,
                      caliper: float | None = None) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Nearest-neighbour matching with replacement in the space ``z``: estimate, Abadie–Imbens
    (2006) standard error, the weight each unit gets (1 for a kept target, the sum of its match
    weights for a match) and which units were kept. The AI variance adds, to the spread of the
    unit-level effects, Σ (K̃ᵢ² − Σ wᵢ²) σ̂²ᵢ with σ̂²ᵢ from matching within the group.

    >>> y = np.array([3.0, 1.0, 5.0, 2.0]); d = np.array([1.0, 0, 1, 0])
    >>> z = np.array([[0.1], [0.0], [0.9], [1.0]])
    >>> est, se, w, kept = matching_estimate(y, d, z, 1, "ATT")
    >>> est, w.tolist()
    (2.5, [1.0, 1.0, 1.0, 1.0])
    """
    groups = (1.0,) if estimand == "ATT" else (1.0, 0.0)
    n = len(y)
    k_sum, k_sq = np.zeros(n), np.zeros(n)
    effects, kept = [], np.zeros(n, dtype=bool)
    for g in groups:
        targets = np.flatnonzero(d == g)
        pool = np.flatnonzero(d != g)
        found = nearest_neighbours(z[targets], z[pool], m, caliper)
        for i, idx in zip(targets, found, strict=True):
            if len(idx) == 0:
                continue
            j = pool[idx]
            wt = 1.0 / len(j)
            k_sum[j] += wt
            k_sq[j] += wt ** 2
            kept[i] = True
            counterfactual = y[j].mean()
            effects.append(y[i] - counterfactual if g == 1 else counterfactual - y[i])
    if not effects:
        raise ConfigError("options: caliper leaves no unit with a match",
                          fix="widen the caliper or drop it")
    effects = np.asarray(effects)
    tau = float(effects.mean())
    n_t = len(effects)
    sigma2 = _conditional_variances(y, d, z)
    if estimand == "ATT":
        extra = np.sum((k_sum ** 2 - k_sq) * sigma2 * (d == 0))
    else:
        extra = np.sum((k_sum ** 2 + 2 * k_sum - k_sq) * sigma2)
    var = (np.sum((effects - tau) ** 2) + extra) / n_t ** 2
    weights = np.where(kept, 1.0, 0.0) + k_sum
    return tau, float(np.sqrt(max(var, 0.0))), weights, kept


def propensity_adjustment(y: np.ndarray, d: np.ndarray, model: PropensityModel, tau: float,
                          estimand: str, neighbours: int = ADJUSTMENT_NEIGHBOURS) -> float:
    """The Abadie & Imbens (2016) change to the variance of a matching estimator on the
    estimated propensity score (add it to the known-score AI 2006 variance).

    With a logit score F(X'θ), f = F(1 − F), and the information I = E[f X X']:

    * ATE: − c' I⁻¹ c / N, c = E[f (cov(X, μ(1, X) | F) / F + cov(X, μ(0, X) | F) / (1 − F))];
    * ATT: (− c_t' I⁻¹ c_t + d_t' I⁻¹ d_t) / N, c_t = E[f (cov(X, μ(1, X) | F)
      + F / (1 − F) cov(X, μ(0, X) | F))] / p and d_t = E[X f (μ̄(1, F) − μ̄(0, F) − τ_t)] / p,
      the derivative of the ATT with respect to θ (p: the treated share).

    The conditional covariances and means given the score are estimated from the
    ``neighbours`` nearest units of each group on the score; X is the logit's design
    (intercept and standardised terms; the adjustment does not depend on that scaling).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 2))
    >>> d = (rng.random(2000) < 1 / (1 + np.exp(-(x[:, 0] + x[:, 1])))).astype(float)
    >>> y = 3 * (x[:, 0] - x[:, 1]) + d + rng.normal(size=2000)   # varies along equal scores
    >>> m = fit_propensity(x, d)
    >>> bool(propensity_adjustment(y, d, m, 1.0, "ATE") < 0)
    True
    """
    e, z = model.scores, model.design
    n = len(y)
    f = e * (1 - e)
    info_inv = np.linalg.pinv((z * f[:, None]).T @ z / n)
    cov, mean = {}, {}
    for g in (0.0, 1.0):
        idx = np.flatnonzero(d == g)
        k = min(neighbours, len(idx))
        if k < 2:
            return 0.0
        _, nb = cKDTree(e[idx][:, None]).query(e[:, None], k=k)
        nb = idx[nb]
        zs, ys = z[nb], y[nb]
        cov[g] = np.einsum("nlk,nl->nk", zs - zs.mean(axis=1, keepdims=True),
                           ys - ys.mean(axis=1, keepdims=True)) / (k - 1)
        mean[g] = ys.mean(axis=1)
    if estimand == "ATE":
        c = np.mean(f[:, None] * (cov[1.0] / e[:, None] + cov[0.0] / (1 - e)[:, None]), axis=0)
        return float(-c @ info_inv @ c / n)
    n1 = d.sum()
    c = np.sum(f[:, None] * (cov[1.0] + (e / (1 - e))[:, None] * cov[0.0]), axis=0) / n1
    dt = np.sum(z * (f * (mean[1.0] - mean[0.0] - tau))[:, None], axis=0) / n1
    return float((-c @ info_inv @ c + dt @ info_inv @ dt) / n)


def _conditional_variances(y: np.ndarray, d: np.ndarray, z: np.ndarray) -> np.ndarray:
    sigma2 = np.zeros(len(y))
    for g in (0.0, 1.0):
        idx = np.flatnonzero(d == g)
        if len(idx) < 2:
            continue
        j = min(VARIANCE_NEIGHBOURS, len(idx) - 1)
        _, nb = cKDTree(z[idx]).query(z[idx], k=j + 1)
        neighbours = y[idx][nb[:, 1:]]
        sigma2[idx] = j / (j + 1) * (y[idx] - neighbours.mean(axis=1)) ** 2
    return sigma2


def estimate_matching(data: pd.DataFrame, spec: EvaluationSpec) -> EvaluationResult:
    """The ``matching`` estimator (see the module docstring).

    Written here: statsmodels has no matching estimator, and the Abadie–Imbens variance needs
    each comparison unit's match count, which the nearest-neighbour search here yields.

    >>> from upward.evaluate.spec import EvaluationSpec
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=400)})
    >>> df["d"] = (rng.random(400) < 1 / (1 + np.exp(-df.x))).astype(int)
    >>> df["y"] = 2.0 * df.d + 3.0 * df.x + rng.normal(size=400)
    >>> r = estimate_matching(df, EvaluationSpec(data="p.csv", design="matching", outcome="y",
    ...                                          treatment="d", covariates=["x"]))
    >>> r.estimand, abs(r.estimate - 2.0) < 3 * r.se, r.method.split(",")[0]
    ('ATT', True, 'nearest-neighbour matching with replacement on the propensity score')
    """
    opts = MatchingOptions.of(spec)
    estimand = opts.estimand or "ATT"
    metric, m, caliper = opts.metric, opts.neighbours, opts.caliper
    if spec.weights:
        raise ConfigError("weights: matching does not take sampling weights",
                          fix="use the ipw or aipw design, which do")
    bins = opts.bins
    sample = _sample(data, spec)
    naive = _naive(sample)
    model = _propensity(sample, spec)
    z = _metric_space(sample, model.scores, metric)
    scale = float(np.std(z[:, 0])) if z.shape[1] == 1 else 1.0
    width = None if caliper is None else caliper * scale
    tau, se, weights, kept = matching_estimate(sample.y, sample.d, z, m, estimand, width)
    notes = sample.notes + model.warnings
    targets = sample.d == 1 if estimand == "ATT" else np.ones(sample.n, dtype=bool)
    se_how = "Abadie–Imbens (2006) SE"
    if metric != "mahalanobis" and not (targets & ~kept).any():
        adjusted = se ** 2 + propensity_adjustment(sample.y, sample.d, model, tau, estimand)
        if adjusted > 0:
            se = float(np.sqrt(adjusted))
            se_how = "Abadie–Imbens (2016) SE, which accounts for the estimated propensity score"
        else:
            se_how += " (propensity score treated as known)"
            notes.append("the Abadie–Imbens (2016) adjustment for the estimated propensity "
                         "score left no positive variance in this sample: the known-score "
                         "(2006) standard error, which is conservative for the ATE, is shown")
    elif metric != "mahalanobis":
        se_how += (" (propensity score treated as known: the caliper changes the estimand, "
                   "and the 2016 adjustment is not derived for it)")
    lost = int((targets & ~kept).sum())
    if lost:
        notes.append(f"caliper {caliper}: {lost} unit(s) without a match within the caliper "
                     "left out; the estimand is for the matched units")
    rows = balance_rows(sample.covariates, sample.covariate_names, sample.d, weights)
    checks = [_overlap_check(model.scores, sample.d, estimand, weights, "match weight"),
              _balance_check(rows, "matching")]
    space = {"propensity": "the propensity score", "logit": "the logit of the propensity score",
             "mahalanobis": "the Mahalanobis distance of the covariates"}[metric]
    label = (f"nearest-neighbour matching with replacement on {space}, {m} match(es) per unit"
             + (f", caliper {caliper} SD" if caliper is not None else "")
             + f"; {se_how}")
    est = Estimate.from_se(tau, se, spec.alpha)
    n_t = int((kept & (sample.d == 1)).sum()) if estimand == "ATT" else int(sample.d.sum())
    n_c = int(((weights > 0) & (sample.d == 0)).sum())
    return _result(spec, "matching", label, estimand, est, naive, sample, checks, notes, rows,
                   overlap_rows(model.scores, sample.d, bins), n_treated=n_t, n_control=n_c)


_COMMON = ("outcome", "treatment", "covariates")
_PROPENSITY = {"evidence": EvidenceCategory("qed"), "tables": (ESTIMATES, BALANCE, OVERLAP),
               "weighted_balance": True}
register(Design("matching", "Propensity-score matching", _COMMON, estimate_matching,
                MatchingOptions, "Compare each participant with the most similar "
                "non-participants (nearest neighbours on the propensity score).", **_PROPENSITY))
register(Design("ipw", "Inverse probability weighting", _COMMON, estimate_ipw,
                WeightingOptions, "Reweight non-participants to look like participants "
                "(or both groups to look like everyone) by the propensity score.",
                **_PROPENSITY))
register(Design("aipw", "Augmented IPW (doubly robust)", _COMMON, estimate_aipw,
                WeightingOptions, "Outcome regressions corrected by propensity weighting: "
                "consistent when either model is right.", **_PROPENSITY))
