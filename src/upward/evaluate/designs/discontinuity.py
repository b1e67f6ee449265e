"""Regression discontinuity (design ``rd``): sharp and fuzzy, by rdrobust.

Local polynomial regression on each side of the cutoff (linear by default, triangular kernel,
MSE-optimal bandwidth), with the robust bias-corrected confidence interval and p-value of
Calonico, Cattaneo & Titiunik (2014, Econometrica). The headline is the conventional estimate;
its interval and p-value are the robust bias-corrected ones (the robust interval is centred on
the bias-corrected estimate, so it is not symmetric around the headline).

The design is fuzzy when ``treatment:`` is given and is not the same as being on one side of
the cutoff (or ``options.fuzzy: true``): the estimand is then the effect on compliers at the
cutoff (LATE), the ratio of the jump in the outcome to the jump in treatment. With
``options.fuzzy: false`` and a treatment column the estimate is the intention-to-treat jump.
Without a treatment column the treated side is ``options.treated_side`` (``above``, the
default: running ≥ cutoff; or ``below``); with a treatment column that the cutoff decides, the
side is read from the data. Estimates are always treated side minus untreated side.

Checks: manipulation of the running variable (McCrary's 2008 density test, implemented here
because rddensity is not installed), covariate continuity (every ``covariates:`` column as a
placebo outcome, Bonferroni across covariates), bandwidth sensitivity (h/2, h, 2h), and for
fuzzy designs the first stage. Table ``rd_bins`` holds binned means for the RD plot.

Options: ``p`` (polynomial order, 1), ``kernel`` (triangular, uniform, epanechnikov),
``bandwidth`` (a fixed h; default MSE-optimal), ``bwselect`` (rdrobust's selector, mserd),
``fuzzy``, ``treated_side``, ``bins`` (per side, 20), ``adjust_covariates`` (add the covariates
to the outcome regression, Calonico et al. 2019; default false).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(5)
>>> df = pd.DataFrame({"score": rng.uniform(-1, 1, 2000)})
>>> df["y"] = 0.5 * df.score + 1.0 * (df.score >= 0) + rng.normal(0, 0.5, 2000)
>>> spec = EvaluationSpec(data="p.csv", design="rd", outcome="y", running="score", cutoff=0)
>>> r = estimate_rd(df, spec)
>>> r.estimand, round(r.estimate, 1), r.ci_low < 1.0 < r.ci_high
('ATE at the cutoff', 1.0, True)
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field
from rdrobust import rdrobust
from scipy import stats

from upward.core.errors import ConfigError, InputFileError
from upward.core.text import N_
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ESTIMATES, ResultTable

RD_BINS = ResultTable("rd_bins", N_("Regression discontinuity: binned means"),
                      ("x", "y", "n", "side"), "binned_scatter", ("n",))

KERNELS = {"triangular": "tri", "uniform": "uni", "epanechnikov": "epa"}
#: Bandwidth multiples of the sensitivity table.
BANDWIDTH_FACTORS = (0.5, 1.0, 2.0)
#: Fewer effective observations than this on a side makes the local fit fragile.
FEW_EFFECTIVE = 30
#: McCrary's (2008) constant of the rule-of-thumb density bandwidth (triangular kernel).
MCCRARY_KAPPA = 3.348


@dataclass(frozen=True)
class DensityTest:
    """McCrary's density test: log difference of the running variable's density at the
    cutoff (right minus left), its standard error, z and two-sided p.

    >>> DensityTest(0.1, 0.05, 2.0, 0.0455, 0.1, 0.5, 500, 520).p_value < 0.05
    True
    """

    theta: float
    se: float
    z: float
    p_value: float
    bin_size: float
    bandwidth: float
    n_left: int
    n_right: int


def mccrary_test(x: np.ndarray, cutoff: float, bandwidth: float | None = None) -> DensityTest:
    """McCrary (2008, J. Econometrics) test of a discontinuity in the density of ``x`` at
    ``cutoff``: a fine histogram (bin size 2·sd·n^(-1/2), no bin straddling the cutoff), a
    triangular-kernel local linear fit of the bin heights on each side, θ = ln f⁺ − ln f⁻
    with SE sqrt((24/5)(1/f⁺ + 1/f⁻)/(n h)). The bandwidth is McCrary's rule of thumb (a
    quartic fit on each side, κ = 3.348, averaged over the two sides) unless given.

    >>> rng = np.random.default_rng(0)
    >>> smooth = rng.normal(size=5000)
    >>> mccrary_test(smooth, 0.2).p_value > 0.05
    True
    >>> movers = (smooth > 0.0) & (smooth < 0.2) & (rng.random(5000) < 0.5)
    >>> heaped = np.where(movers, 0.2 + (0.2 - smooth) / 2, smooth)  # half move just above
    >>> mccrary_test(heaped, 0.2).p_value < 0.001
    True
    """
    r = np.asarray(x, dtype=float) - cutoff
    r = r[np.isfinite(r)]
    n = len(r)
    b = 2 * np.std(r, ddof=1) * n ** -0.5
    lo, hi = int(np.floor(r.min() / b)), int(np.ceil(r.max() / b))
    edges = np.arange(lo, hi + 1) * b
    counts, _ = np.histogram(r, bins=edges)
    mids = edges[:-1] + b / 2
    heights = counts / (n * b)
    left, right = mids < 0, mids > 0
    if left.sum() < 5 or right.sum() < 5:
        raise ValueError("too few histogram bins on one side of the cutoff")
    h = bandwidth or float(np.mean([_rule_of_thumb(mids[s], heights[s]) for s in (left, right)]))
    f_left = _local_linear_at_zero(mids[left], heights[left], h)
    f_right = _local_linear_at_zero(mids[right], heights[right], h)
    if f_left <= 0 or f_right <= 0:
        raise ValueError("the estimated density at the cutoff is not positive")
    theta = float(np.log(f_right) - np.log(f_left))
    se = float(np.sqrt((24 / 5) * (1 / f_right + 1 / f_left) / (n * h)))
    z = theta / se
    return DensityTest(theta, se, z, float(2 * stats.norm.sf(abs(z))), float(b), h,
                       int((r < 0).sum()), int((r >= 0).sum()))


def _rule_of_thumb(mids: np.ndarray, heights: np.ndarray) -> float:
    coef = np.polyfit(mids, heights, 4)
    resid = heights - np.polyval(coef, mids)
    second = np.polyval(np.polyder(coef, 2), mids)
    sigma2 = float(np.mean(resid ** 2))
    span = float(mids.max() - mids.min())
    denom = float(np.sum(second ** 2))
    return MCCRARY_KAPPA * (sigma2 * span / denom) ** 0.2 if denom > 0 else span


def _local_linear_at_zero(mids: np.ndarray, heights: np.ndarray, h: float) -> float:
    w = np.clip(1 - np.abs(mids) / h, 0, None)
    keep = w > 0
    if keep.sum() < 2:
        return float(heights[np.argmin(np.abs(mids))])
    design = np.column_stack([np.ones(keep.sum()), mids[keep]])
    sw = np.sqrt(w[keep])
    beta, *_ = np.linalg.lstsq(design * sw[:, None], heights[keep] * sw, rcond=None)
    return float(beta[0])


# ----------------------------------------------------------------------------------------------
# Options and data
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setup:
    p: int
    kernel: str
    bandwidth: float | None
    bwselect: str
    bins: int
    adjust: bool
    fuzzy: bool
    sign: float  # +1 when the treated side is above the cutoff
    treatment: str | None
    estimand: str


class RdOptions(DesignOptions):
    """``options:`` of rd, validated.

    >>> RdOptions.of(EvaluationSpec(data="x.csv", design="rd", outcome="y", running="x",
    ...                             cutoff=0, options={"p": 2})).p
    2
    """

    p: int = Field(1, ge=0, le=4, description="use 1 (local linear, the recommended default)")
    kernel: Literal["triangular", "uniform", "epanechnikov"] = Field(
        "triangular", description="use triangular")
    bandwidth: float | None = Field(None, gt=0, description=(
        "give h in the units of the running variable, or drop it for the MSE-optimal "
        "bandwidth"))
    bwselect: Literal["mserd", "msetwo", "msesum", "msecomb1", "msecomb2", "cerrd", "certwo",
                      "cersum", "cercomb1", "cercomb2"] = Field("mserd", description="use mserd")
    fuzzy: bool | None = Field(None, description="fuzzy: true or false")
    treated_side: Literal["above", "below"] | None = Field(
        None, description="above means running >= cutoff is treated")
    bins: int = Field(20, ge=2, le=500, description="use 20")
    adjust_covariates: bool | None = Field(None, description="adjust_covariates: true or false")


def _options(spec: EvaluationSpec) -> dict:
    o = RdOptions.of(spec)
    return {"p": o.p, "kernel": KERNELS[o.kernel], "bandwidth": o.bandwidth,
            "bwselect": o.bwselect, "bins": o.bins, "adjust": bool(o.adjust_covariates),
            "fuzzy": o.fuzzy, "side": o.treated_side}


def _setup(df: pd.DataFrame, spec: EvaluationSpec) -> _Setup:
    opts = _options(spec)
    above = (df[spec.running] >= spec.cutoff).to_numpy()
    if above.all() or not above.any():
        side = "at or above" if above.all() else "below"
        raise InputFileError(spec.data, f"every value of the running variable is {side} the "
                             f"cutoff {spec.cutoff:g}", column=spec.running,
                             fix="check cutoff: against the running variable's scale")
    common = {k: opts[k] for k in ("p", "kernel", "bandwidth", "bwselect", "bins", "adjust")}
    if spec.treatment is None:
        if opts["fuzzy"]:
            raise ConfigError("options: fuzzy true needs treatment: (who actually took part)",
                              fix="add treatment: or drop fuzzy")
        sign = -1.0 if opts["side"] == "below" else 1.0
        return _Setup(**common, fuzzy=False, sign=sign, treatment=None,
                      estimand="ATE at the cutoff")
    d = df[spec.treatment].to_numpy(dtype=float)
    if not np.isin(d, (0, 1)).all():
        raise InputFileError(spec.data, "the treatment column must hold 0 or 1",
                             column=spec.treatment, fix="code participation as 1 and 0")
    if (d == above).all():
        deterministic, sign = True, 1.0
    elif (d == ~above).all():
        deterministic, sign = True, -1.0
    else:
        deterministic = False
        jump = d[above].mean() - d[~above].mean()
        sign = 1.0 if jump >= 0 else -1.0
    if opts["side"] is not None and deterministic and (opts["side"] == "above") != (sign > 0):
        raise ConfigError(f"options: treated_side {opts['side']} contradicts the treatment "
                          "column", fix="drop treated_side; it is read from the data")
    if opts["side"] is not None and not deterministic:
        sign = 1.0 if opts["side"] == "above" else -1.0
    fuzzy = (not deterministic) if opts["fuzzy"] is None else bool(opts["fuzzy"])
    estimand = ("LATE at the cutoff (compliers)" if fuzzy else "ATE at the cutoff"
                if deterministic else "ITT at the cutoff (eligibility)")
    return _Setup(**common, fuzzy=fuzzy, sign=sign, treatment=spec.treatment if fuzzy else None,
                  estimand=estimand)


def _frame(data: pd.DataFrame, spec: EvaluationSpec) -> tuple[pd.DataFrame, list[str]]:
    cols = [spec.outcome, spec.running, *([spec.treatment] if spec.treatment else []),
            *spec.covariates, *([spec.weights] if spec.weights else [])]
    df = data[[*dict.fromkeys(cols), *([spec.cluster] if spec.cluster else [])]].copy()
    for c in cols:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    notes = []
    needed = [spec.outcome, spec.running, *([spec.treatment] if spec.treatment else [])]
    keep = df[needed].notna().all(axis=1)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) without outcome, running variable or "
                     "treatment left out")
    return df[keep].reset_index(drop=True), notes


# ----------------------------------------------------------------------------------------------
# Estimation
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    estimate: float  # conventional, treated minus untreated
    se: float  # robust
    ci_low: float
    ci_high: float
    p_value: float
    h: float
    b: float
    n_left: int
    n_right: int
    n_clusters: int | None


def _rd(y, x, spec: EvaluationSpec, setup: _Setup, df: pd.DataFrame, *, fuzzy=None,
        h: float | None = None, b: float | None = None, covs=None,
        caught: list[str] | None = None) -> _Fit:
    kwargs = {"c": spec.cutoff, "p": setup.p, "kernel": setup.kernel,
              "bwselect": setup.bwselect, "level": 100 * (1 - spec.alpha)}
    if h is not None:
        kwargs["h"] = h
        kwargs["b"] = b if b is not None else h
    if fuzzy is not None:
        kwargs["fuzzy"] = fuzzy
    if covs is not None:
        kwargs["covs"] = covs
    if spec.weights:
        kwargs["weights"] = df[spec.weights].to_numpy(dtype=float)
    if spec.cluster:
        kwargs["cluster"] = pd.factorize(df[spec.cluster].astype(str))[0]
        kwargs["vce"] = "cr1"
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as seen, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        try:
            fit = rdrobust(np.asarray(y, dtype=float), np.asarray(x, dtype=float), **kwargs)
        except Exception as exc:  # rdrobust raises bare Exceptions for unusable data
            raise InputFileError(spec.data, f"rdrobust cannot estimate the discontinuity "
                                 f"({exc})", column=spec.running,
                                 fix="check that there are enough observations on both "
                                 "sides of the cutoff, or set options.bandwidth") from None
    if caught is not None:
        caught += [str(w.message) for w in seen if "Switching to vce" not in str(w.message)]
        if "Mass points" in printed.getvalue():
            caught.append("the running variable has mass points (repeated values); rdrobust "
                          "adjusted its bandwidth and variance for them")
    s = setup.sign
    lo, hi = float(fit.ci.iloc[2, 0]), float(fit.ci.iloc[2, 1])
    return _Fit(s * float(fit.coef.iloc[0, 0]), float(fit.se.iloc[2, 0]),
                min(s * lo, s * hi), max(s * lo, s * hi), float(fit.pv.iloc[2, 0]),
                float(fit.bws.iloc[0, 0]), float(fit.bws.iloc[1, 0]),
                int(fit.N_h[0]), int(fit.N_h[1]),
                int(fit.n_clust) if getattr(fit, "n_clust", None) else None)


def _bins(df: pd.DataFrame, spec: EvaluationSpec, nbins: int) -> list[dict]:
    rows = []
    x, y = df[spec.running].to_numpy(), df[spec.outcome].to_numpy()
    for side, mask in (("below", x < spec.cutoff), ("above", x >= spec.cutoff)):
        xs, ys = x[mask], y[mask]
        lo, hi = (xs.min(), spec.cutoff) if side == "below" else (spec.cutoff, xs.max())
        edges = np.linspace(lo, hi, nbins + 1)
        idx = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, nbins - 1)
        for k in range(nbins):
            inside = idx == k
            if inside.any():
                rows.append({"x": float(xs[inside].mean()), "y": float(ys[inside].mean()),
                             "n": int(inside.sum()), "side": side})
    return rows


def _density_check(df: pd.DataFrame, spec: EvaluationSpec, alpha: float) -> Check:
    try:
        t = mccrary_test(df[spec.running].to_numpy(), spec.cutoff)
    except ValueError as exc:
        return Check("manipulation", None, f"McCrary density test not run: {exc}")
    ok = t.p_value >= alpha
    detail = N_("McCrary (2008) density test: log density jump {theta:+.3f} (SE {se:.3f}), "
                "p = {p:.3g}; {left:,} observations below and {right:,} at or above the "
                "cutoff", theta=t.theta, se=t.se, p=t.p_value, left=t.n_left, right=t.n_right)
    if not ok:
        detail = N_("{detail}; the running variable bunches on one side: people may sort "
                    "around the cutoff, so those just above and below are not comparable",
                    detail=detail)
    return Check("manipulation", bool(ok), detail, t.z, t.p_value)


def _covariate_check(df, spec, setup) -> Check:
    if not spec.covariates:
        return Check("covariates", None, N_("no covariates given: continuity of baseline "
                                            "characteristics at the cutoff was not checked"))
    results = []
    for c in spec.covariates:
        part = df[df[c].notna()]
        try:
            fit = _rd(part[c], part[spec.running], spec, setup, part)
        except InputFileError:
            continue
        results.append((c, fit))
    if not results:
        return Check("covariates", None,
                     N_("no covariate could be estimated as a placebo outcome"))
    k = len(results)
    worst_name, worst = min(results, key=lambda cf: cf[1].p_value)
    ok = worst.p_value >= spec.alpha / k
    jumps = "; ".join(f"{c} {f.estimate:+.3g} (p = {f.p_value:.2g})" for c, f in results)
    detail = N_("jumps at the cutoff in baseline covariates (robust p, Bonferroni over {k}): "
                "{jumps}", k=k, jumps=jumps)
    if not ok:
        detail = N_("{name} jumps at the cutoff (robust p = {p:.2g} < {alpha}/{k}): units on "
                    "the two sides differ before treatment; {detail}", name=worst_name,
                    p=worst.p_value, alpha=spec.alpha, k=k, detail=detail)
    return Check("covariates", bool(ok), detail, worst.estimate, worst.p_value)


def _bandwidth_rows(df, spec, setup, main: _Fit, covs, fuzzy) -> tuple[list[dict], Check]:
    rows, fits = [], {}
    for factor in BANDWIDTH_FACTORS:
        if factor == 1.0:
            fit = main
        else:
            try:
                fit = _rd(df[spec.outcome], df[spec.running], spec, setup, df, fuzzy=fuzzy,
                          h=factor * main.h, b=factor * main.b, covs=covs)
            except InputFileError:
                continue
        fits[factor] = fit
        label = {0.5: "h/2", 1.0: "h", 2.0: "2h"}[factor]
        rows.append({"method": f"{label} = {fit.h:.4g}", "estimate": fit.estimate,
                     "se": fit.se, "ci_low": fit.ci_low, "ci_high": fit.ci_high})
    if not [k for k in fits if k != 1.0]:
        return rows, Check("bandwidth", None, N_("the estimate could not be recomputed at h/2 "
                                                 "or 2h"))
    # a bandwidth that keeps exactly the observations h keeps only reweights them: it cannot
    # show that the result depends on which observations are used, so it does not count
    same = {k for k, f in fits.items() if k != 1.0
            and (f.n_left, f.n_right) == (main.n_left, main.n_right)}
    others = [f for k, f in fits.items() if k != 1.0 and k not in same]
    detail = N_("estimates at {estimates}", estimates=", ".join(
        f"{r['method']}: {r['estimate']:.4g}" for r in rows))
    same_text = (" and ".join({0.5: "h/2", 2.0: "2h"}[k] for k in sorted(same))
                 + f" cover{'s' if len(same) == 1 else ''} the same {main.n_left:,} + "
                 f"{main.n_right:,} observations as h")
    if not others:
        return rows, Check("bandwidth", None, f"not informative here: {same_text}, so the "
                           "comparison cannot fail; " + detail)
    inside = all(main.ci_low <= f.estimate <= main.ci_high for f in others)
    spread = max(abs(f.estimate - main.estimate) for f in others)
    detail = (N_("{detail}; all inside the main robust interval", detail=detail) if inside else
              N_("{detail}; an estimate at another bandwidth falls outside the main robust "
                 "interval: the result depends on the bandwidth", detail=detail))
    if same:
        detail += f" ({same_text}: not counted)"
    return rows, Check("bandwidth", bool(inside), detail, float(spread / main.se))


def estimate_rd(data: pd.DataFrame, spec: EvaluationSpec) -> EvaluationResult:
    """The ``rd`` estimator (see the module docstring).

    >>> import numpy as np, pandas as pd
    >>> from upward.evaluate.spec import EvaluationSpec
    >>> rng = np.random.default_rng(5)
    >>> df = pd.DataFrame({"score": rng.uniform(-1, 1, 300)})
    >>> df["y"] = 0.5 * df.score + 1.0 * (df.score >= 0) + rng.normal(0, 0.3, 300)
    >>> r = estimate_rd(df, EvaluationSpec(data="p.csv", design="rd", outcome="y", running="score",
    ...                                    cutoff=0))
    >>> r.estimand, r.ci_low < 1.0 < r.ci_high
    ('ATE at the cutoff', True)
    """
    df, notes = _frame(data, spec)
    setup = _setup(df, spec)
    covs = None
    if setup.adjust and spec.covariates:
        complete = df[spec.covariates].notna().all(axis=1)
        if not complete.all():
            notes.append(f"{int((~complete).sum())} row(s) without covariates left out "
                         "(adjust_covariates)")
            df = df[complete].reset_index(drop=True)
        covs = df[spec.covariates].to_numpy(dtype=float)
    caught: list[str] = []
    fuzzy = df[setup.treatment].to_numpy(dtype=float) if setup.fuzzy else None
    main = _rd(df[spec.outcome], df[spec.running], spec, setup, df, fuzzy=fuzzy,
               h=setup.bandwidth, covs=covs, caught=caught)
    rows, bw_check = _bandwidth_rows(df, spec, setup, main, covs, fuzzy)
    checks = [_density_check(df, spec, spec.alpha), _covariate_check(df, spec, setup), bw_check]
    if setup.fuzzy:
        first = _rd(df[setup.treatment], df[spec.running], spec, setup, df, h=main.h, b=main.b)
        rows.append({"method": "first stage (jump in treatment)", "estimate": first.estimate,
                     "se": first.se, "ci_low": first.ci_low, "ci_high": first.ci_high})
        strong = first.ci_low > 0 or first.ci_high < 0
        checks.append(Check("first_stage", bool(strong), f"treatment take-up jumps by "
                            f"{first.estimate:.3f} at the cutoff (robust p = "
                            f"{first.p_value:.2g})" + ("" if strong else "; too weak to "
                            "identify a complier effect"), first.estimate, first.p_value))
    warns = notes + sorted(set(caught))
    treated_n, control_n = (main.n_right, main.n_left) if setup.sign > 0 else (
        main.n_left, main.n_right)
    if min(treated_n, control_n) < FEW_EFFECTIVE:
        warns.append(f"only {min(treated_n, control_n)} observations within the bandwidth on "
                     "one side: the local fit rests on very few units")
    kernel = {v: k for k, v in KERNELS.items()}[setup.kernel]
    bw = (f"fixed bandwidth h = {main.h:.4g}" if setup.bandwidth else
          f"{setup.bwselect} bandwidth h = {main.h:.4g} (bias b = {main.b:.4g})")
    kind = "fuzzy" if setup.fuzzy else "sharp"
    return EvaluationResult(
        design="rd",
        method=(f"{kind} regression discontinuity, rdrobust local polynomial p = {setup.p}, "
                f"{kernel} kernel, {bw}; conventional estimate with the robust bias-corrected "
                f"CI, SE and p-value (Calonico, Cattaneo & Titiunik 2014)"
                + ("; covariate-adjusted" if covs is not None else "")
                + (f"; cluster-robust (CR1) on {spec.cluster}" if spec.cluster else "")
                + f"; {main.n_left + main.n_right:,} of {len(df):,} observations within h"),
        outcome=spec.outcome,
        estimand=setup.estimand,
        estimate=main.estimate, se=main.se, ci_low=main.ci_low, ci_high=main.ci_high,
        p_value=main.p_value,
        n=main.n_left + main.n_right, n_treated=treated_n, n_control=control_n,
        n_clusters=main.n_clusters,
        checks=checks, warnings=warns,
        tables={"estimates": rows, "rd_bins": _bins(df, spec, setup.bins)},
        spec=spec.model_dump(mode="json"),
        library=f"rdrobust {version('rdrobust')}",
        alpha=spec.alpha,
    )


register(Design(
    name="rd",
    label="Regression discontinuity",
    required=("outcome", "running", "cutoff"),
    estimate=estimate_rd,
    option_model=RdOptions,
    evidence=EvidenceCategory("rd"), tables=(ESTIMATES, RD_BINS),
    description="Eligibility decided by a score and a cutoff: compare units just either side "
                "(sharp, or fuzzy when take-up is partial).",
))
