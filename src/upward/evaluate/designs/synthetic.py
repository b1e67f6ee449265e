"""Synthetic control (design ``synthetic_control``): one treated place against donor places.

The synthetic unit is a weighted average of donors (weights non-negative, summing to one) that
matches the treated unit on predictors before treatment (Abadie & Gardeazabal 2003; Abadie,
Diamond & Hainmueller 2010). Predictor importance ``V`` is chosen, as in ADH's nested
optimisation, to minimise the pre-period mean squared prediction error of the outcome. The
headline is the average post-period gap between the treated unit and its synthetic control;
inference is by in-space placebos: every donor in turn is treated as if it were the treated
unit, and the p-value is the treated unit's rank among all units by the ratio of post- to
pre-period root mean squared prediction error (ADH 2010, section 3.3; Abadie 2021, JEL).

Predictors: each ``covariates:`` column averaged over the pre-period; ``options.predictors``
(a column name, or ``{column, periods, op}`` with ``op`` one of mean, median, min, max); and
outcome lags (``options.outcome_lags``: ``all`` — the outcome in every pre-period, the default
when no other predictor is given —, ``mean`` — its pre-period mean, the default otherwise —,
``none``, or a list of pre-periods). When the predictors are exactly the outcome in every fit
period, ``V`` cannot improve on minimising the pre-period fit directly, and that is done.

Options: ``predictors``, ``outcome_lags``, ``optimisation`` (``nested``, the default, or
``equal``: the same weight for every standardised predictor), ``fit_periods`` (pre-periods
whose fit chooses ``V``; default all), ``placebos`` (``true``/``false``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(3)
>>> f = np.cumsum(rng.normal(size=30))
>>> rows = [(u, t, 10 + (1 + u / 10) * f[t] + rng.normal(scale=0.3) + 5 * (u == 0 and t >= 20))
...         for u in range(21) for t in range(30)]
>>> df = pd.DataFrame(rows, columns=["place", "year", "y"]).astype({"place": str})
>>> spec = EvaluationSpec(data="p.csv", design="synthetic_control", outcome="y", unit="place",
...                       time="year", treated_unit="0", treatment_start=20)
>>> r = estimate_synthetic_control(df, spec)
>>> round(r.estimate), r.p_value, r.n_control
(5, 0.047619047619047616, 20)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy
from pydantic import Field, field_validator
from scipy.optimize import differential_evolution, minimize, nnls

from upward.core.errors import ConfigError, InputFileError
from upward.core.text import N_
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ResultTable

SYNTH_PATH = ResultTable("synth_path", N_("Treated and synthetic paths"),
                         ("time", "treated", "synthetic"), "paths")
DONOR_WEIGHTS = ResultTable("donor_weights", N_("Donor weights"), ("unit", "weight"),
                            "weights")
PLACEBO = ResultTable("placebo", N_("Placebo (in-space) tests"),
                      ("unit", "rmspe_ratio", "post_gap"),
                      "placebo_ratios")
PREDICTOR_OPS = ("mean", "median", "min", "max")
#: Fewer pre-periods than this cannot show whether the synthetic unit tracks the treated one.
MIN_PRE_PERIODS = 2
#: Below this many pre-periods the fit is warned about as thin evidence.
FEW_PRE_PERIODS = 5
#: Pre-period RMSPE above this share of the treated unit's pre-period standard deviation is a
#: poor fit (the synthetic unit explains less than ~75% of the treated unit's variation).
MAX_FIT_RATIO = 0.5
#: The outer (V) search: differential evolution on log predictor weights (population per
#: predictor, generations), then Nelder–Mead. Its loss surface is flat with many local minima
#: (Becker & Klößner 2018); on the Texas panel this budget reaches the same optimum from
#: every seed tried, where multi-start Nelder–Mead did not.
DE_POPSIZE = 10
DE_GENERATIONS = 30
#: Log-scale range of predictor weights (ADH's solutions often put ~1e-8 on some).
LOG_V_RANGE = (-15.0, 0.0)


@dataclass(frozen=True)
class Predictor:
    """One row of the predictor matrix: ``op`` of ``column`` over ``periods``.

    >>> Predictor("income", "income", (1990, 1991), "mean").label
    'income'
    """

    label: str
    column: str
    periods: tuple
    op: str = "mean"


@dataclass
class SynthFit:
    """Donor weights, predictor weights and the fit of one synthetic unit.

    >>> SynthFit(np.array([1.0]), np.array([1.0]), np.zeros(3), 2).pre_rmspe
    0.0
    """

    weights: np.ndarray
    v: np.ndarray
    gaps: np.ndarray
    n_pre: int
    loss: float = float("nan")

    @property
    def pre_rmspe(self) -> float:
        """Root mean squared gap before treatment."""
        return float(np.sqrt(np.mean(self.gaps[: self.n_pre] ** 2)))

    @property
    def post_rmspe(self) -> float:
        """Root mean squared gap from treatment on."""
        return float(np.sqrt(np.mean(self.gaps[self.n_pre:] ** 2)))

    @property
    def post_gap(self) -> float:
        """Average gap from treatment on (the headline estimate)."""
        return float(np.mean(self.gaps[self.n_pre:]))

    @property
    def rmspe_ratio(self) -> float:
        """Post- over pre-period RMSPE (infinite when the pre-period fit is exact)."""
        pre = self.pre_rmspe
        return self.post_rmspe / pre if pre > 0 else float("inf")


@dataclass
class _Panel:
    times: np.ndarray
    n_pre: int
    treated: str
    donors: list[str]
    outcome: pd.DataFrame  # time × unit, treated first
    predictors: list[Predictor]
    x: pd.DataFrame  # predictor × unit, treated first
    lags_only: bool
    fit_rows: np.ndarray
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.y = self.outcome.to_numpy(dtype=float)
        self.columns = {u: i for i, u in enumerate(self.outcome.columns)}
        x = self.x.to_numpy(dtype=float)
        scale = x.std(axis=1, ddof=1) if x.shape[1] > 1 else np.ones(len(x))
        self.x_scaled = x / np.where(scale > 0, scale, 1.0)[:, None]


def simplex_weights(x1: np.ndarray, x0: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    """Weights w ≥ 0, Σw = 1 minimising Σ_m v_m (x1_m − (x0 w)_m)²: the synthetic control's
    inner problem, solved as non-negative least squares (Lawson–Hanson, scipy) with the
    adding-up constraint as a heavily weighted extra row.

    >>> x0 = np.array([[0.0, 2.0, 4.0], [1.0, 1.0, 3.0]])
    >>> simplex_weights(np.array([1.0, 1.0]), x0).round(3).tolist()
    [0.5, 0.5, 0.0]
    """
    x1 = np.asarray(x1, dtype=float)
    x0 = np.asarray(x0, dtype=float)
    root = np.ones(len(x1)) if v is None else np.sqrt(np.asarray(v, dtype=float))
    a = root[:, None] * x0
    b = root * x1
    big = 1e4 * max(1.0, float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    w, _ = nnls(np.vstack([a, np.full(x0.shape[1], big)]), np.append(b, big),
                maxiter=50 * x0.shape[1] + 100)
    total = w.sum()
    return w / total if total > 0 else np.full(x0.shape[1], 1.0 / x0.shape[1])


def fit_synthetic(x1: np.ndarray, x0: np.ndarray, z1: np.ndarray, z0: np.ndarray,
                  y1: np.ndarray, y0: np.ndarray, n_pre: int, *, optimisation: str = "nested",
                  rng: np.random.Generator | None = None) -> SynthFit:
    """Fit one synthetic unit. ``x``: standardised predictors (rows) of the treated unit and
    the donors (columns); ``z``: outcomes in the fit periods (the outer loss); ``y``: outcomes
    in every period (pre first). ``nested`` searches ``V`` on a log scale by differential
    evolution refined by Nelder–Mead (scipy); ``equal`` uses V = 1.

    >>> z0 = np.array([[1.0, 3.0], [2.0, 4.0]]); z1 = z0 @ [0.25, 0.75]
    >>> fit = fit_synthetic(z1, z0, z1, z0, z1, z0, 2)
    >>> fit.weights.round(2).tolist(), round(fit.pre_rmspe, 6)
    ([0.25, 0.75], 0.0)
    """
    k = x0.shape[0]
    if optimisation == "equal" or k == 1:
        v = np.ones(k) / k
        return _fitted(simplex_weights(x1, x0, v), v, z1, z0, y1, y0, n_pre)
    rng = rng or np.random.default_rng(0)

    def loss_of(log_v: np.ndarray) -> float:
        w = simplex_weights(x1, x0, _v(log_v))
        return float(np.mean((z1 - z0 @ w) ** 2))

    search = differential_evolution(loss_of, [LOG_V_RANGE] * k, seed=rng, init="sobol",
                                    popsize=DE_POPSIZE, maxiter=DE_GENERATIONS, tol=0,
                                    polish=False)
    best_x, best_loss = search.x, float(search.fun)
    local = minimize(loss_of, best_x, method="Nelder-Mead",
                     options={"maxiter": 150 * k, "xatol": 1e-3, "fatol": 1e-9 * (1 + best_loss)})
    if local.fun < best_loss:
        best_x = local.x
    v = _v(best_x)
    return _fitted(simplex_weights(x1, x0, v), v, z1, z0, y1, y0, n_pre)


def _v(log_v: np.ndarray) -> np.ndarray:
    e = np.exp(log_v - np.max(log_v))
    return e / e.sum()


def _fitted(w, v, z1, z0, y1, y0, n_pre) -> SynthFit:
    return SynthFit(w, v, y1 - y0 @ w, n_pre, float(np.mean((z1 - z0 @ w) ** 2)))


# ----------------------------------------------------------------------------------------------
# The panel: treated unit, start, donors, predictors
# ----------------------------------------------------------------------------------------------


def _bad(spec: EvaluationSpec, problem: str, fix: str, column: str | None = None):
    return InputFileError(spec.data, problem, fix=fix, column=column)


def _treated_and_start(df: pd.DataFrame, spec: EvaluationSpec) -> tuple[str, float]:
    unit, time = spec.unit, spec.time
    treated, start = spec.treated_unit, spec.treatment_start
    if spec.treatment:
        d = pd.to_numeric(df[spec.treatment], errors="coerce")
        if d.isna().any() or not d.isin([0, 1]).all():
            raise _bad(spec, "the treatment column must hold 0 or 1 in every row",
                       "mark the treated unit's rows from its start with 1, all others 0",
                       spec.treatment)
        on = df[d == 1]
        units = sorted(on[unit].unique())
        if len(units) != 1:
            raise _bad(spec, f"synthetic control needs exactly one treated unit; {len(units)} "
                       "units have treatment = 1", "keep one treated unit (or use design did "
                       "or staggered designs for several)", spec.treatment)
        if treated is not None and str(treated) != units[0]:
            raise ConfigError("treated_unit: it is not the unit the treatment column marks",
                              fix="drop treated_unit: or make the two agree")
        treated = units[0]
        first = float(on[time].min())
        if start is not None and float(start) != first:
            raise ConfigError(f"treatment_start: {start} but the treatment column starts at "
                              f"{first:g}", fix="drop treatment_start: or make the two agree")
        start = first
    if treated is None or start is None:
        raise ConfigError("design 'synthetic_control' needs treated_unit: and "
                          "treatment_start: (or a treatment: column)",
                          fix="name the treated unit and its first treated period")
    treated = str(treated)
    if treated not in set(df[unit]):
        raise _bad(spec, f"the treated unit {treated!r} is not in the data", "check "
                   "treated_unit: against the unit column", unit)
    try:
        return treated, float(start)
    except (TypeError, ValueError):
        raise ConfigError(f"treatment_start: {start!r} is not a period number",
                          fix="write it in the units of the time column") from None


def _as_list(value):
    if isinstance(value, str | int | float | dict):
        return [value]
    if value is not None and not isinstance(value, list):
        raise ValueError("must be a list: write [...]")
    return value


class SyntheticOptions(DesignOptions):
    """``options:`` of synthetic_control (a single value stands for a list of one).

    >>> SyntheticOptions.of(EvaluationSpec(data="x.csv", design="synthetic_control",
    ...     outcome="y", options={"fit_periods": 2004})).fit_periods
    [2004]
    """

    predictors: list[Any] = Field(default_factory=list, description=(
        "write for example predictors: [{column: income, periods: [2015, 2016]}]"))
    outcome_lags: str | list[Any] | int | float | None = Field(None, description=(
        "all, mean, none or a list of pre-treatment periods, e.g. outcome_lags: [2010, 2014]"))
    optimisation: Literal["nested", "equal"] = Field("nested", description="use nested")
    fit_periods: list[Any] | None = Field(None, description="list pre-treatment periods")
    placebos: bool = Field(True, description="placebos: true or false")

    @field_validator("predictors", "fit_periods", mode="before")
    @classmethod
    def _listed(cls, value):
        return _as_list(value)

    @field_validator("outcome_lags")
    @classmethod
    def _lags(cls, value):
        if isinstance(value, str) and value not in ("all", "mean", "none"):
            raise ValueError("must be all, mean, none or a list of pre-treatment periods")
        return value


def _predictors(spec: EvaluationSpec, df: pd.DataFrame, pre: np.ndarray) -> list[Predictor]:
    preds = [Predictor(c, c, tuple(pre)) for c in spec.covariates]
    for item in SyntheticOptions.of(spec).predictors:
        entry = {"column": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or "column" not in entry:
            raise ConfigError("options: predictors entries are column names or "
                              "{column, periods, op}", fix="write for example "
                              "predictors: [{column: income, periods: [2015, 2016]}]")
        unknown = set(entry) - {"column", "periods", "op"}
        if unknown:
            raise ConfigError(f"options: predictors has unknown key(s) {sorted(unknown)}",
                              fix="use column, periods and op")
        column, op = str(entry["column"]), entry.get("op", "mean")
        if column not in df.columns:
            raise ConfigError(f"options: predictors names column {column!r}, which is not in "
                              "the data", fix="check the spelling")
        if op not in PREDICTOR_OPS:
            raise ConfigError(f"options: predictors op {op!r} is not one of "
                              f"{', '.join(PREDICTOR_OPS)}", fix="use mean (the default)")
        periods = entry.get("periods")
        periods = tuple(pre) if periods is None else tuple(float(p) for p in (
            periods if isinstance(periods, list) else [periods]))
        if not set(periods) <= set(pre):
            raise ConfigError(f"options: predictors periods for {column!r} must be "
                              "pre-treatment periods in the data", fix="use periods before "
                              "treatment_start")
        label = column if periods == tuple(pre) and op == "mean" else (
            f"{column} ({op} of {', '.join(f'{p:g}' for p in periods)})")
        preds.append(Predictor(label, column, periods, op))
    return preds + _outcome_lags(spec, pre, bool(preds), preds)


def _outcome_lags(spec, pre, have_others, preds) -> list[Predictor]:
    uses_outcome = any(p.column == spec.outcome for p in preds)
    default = "all" if not have_others else "none" if uses_outcome else "mean"
    lags = SyntheticOptions.of(spec).outcome_lags
    lags = default if lags is None else lags
    y = spec.outcome
    if lags == "all":
        return [Predictor(f"{y} {t:g}", y, (t,)) for t in pre]
    if lags == "mean":
        return [Predictor(f"{y} (pre-period mean)", y, tuple(pre))]
    if lags == "none":
        if not have_others:
            raise ConfigError("options: outcome_lags none leaves no predictor",
                              fix="add covariates or options.predictors, or use lags")
        return []
    try:
        periods = [float(t) for t in (lags if isinstance(lags, list) else [lags])]
    except (TypeError, ValueError):
        periods = [float("nan")]
    if not set(periods) <= set(pre):
        raise ConfigError("options: outcome_lags must be all, mean, none or a list of "
                          "pre-treatment periods", fix="for example outcome_lags: [2010, 2014]")
    return [Predictor(f"{y} {t:g}", y, (t,)) for t in periods]


def _panel(data: pd.DataFrame, spec: EvaluationSpec) -> _Panel:
    unit, time, outcome = spec.unit, spec.time, spec.outcome
    df = data.copy()
    df[unit] = df[unit].astype(str)
    df[time] = pd.to_numeric(df[time], errors="coerce").astype(float)
    if df[time].isna().any():
        raise _bad(spec, "the time column has blank or non-numeric periods",
                   "give every row a period number", time)
    if df.duplicated([unit, time]).any():
        raise _bad(spec, "some unit has two rows for the same period",
                   "keep one row per unit and period", time)
    treated, start = _treated_and_start(df, spec)
    times = np.sort(df[time].unique())
    pre, post = times[times < start], times[times >= start]
    if len(pre) < MIN_PRE_PERIODS or len(post) == 0:
        raise _bad(spec, f"synthetic control needs at least {MIN_PRE_PERIODS} periods before "
                   f"treatment_start ({start:g}) and one from it on; the data have {len(pre)} "
                   f"and {len(post)}", "add earlier periods or check treatment_start", time)
    warnings = []
    if len(pre) < FEW_PRE_PERIODS:
        warnings.append(f"only {len(pre)} pre-treatment periods: a good fit over so few "
                        "periods is weak evidence that the synthetic unit tracks the treated one")
    predictors = _predictors(spec, df, pre)
    for col in {p.column for p in predictors}:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    wide = df.pivot(index=time, columns=unit, values=outcome).reindex(times)
    if wide[treated].isna().any():
        missing = ", ".join(f"{t:g}" for t in wide.index[wide[treated].isna()][:5])
        raise _bad(spec, f"the treated unit has no outcome in period(s) {missing}",
                   "fill the outcome for every period", outcome)
    x = _predictor_matrix(df, spec, predictors)
    if x[treated].isna().any():
        bad = x.index[x[treated].isna()][0]
        raise _bad(spec, f"the treated unit has no value for predictor {bad!r}",
                   "fill the predictor's column in the pre-treatment periods")
    donors = [u for u in wide.columns if u != treated]
    complete = [u for u in donors if not wide[u].isna().any() and not x[u].isna().any()]
    if len(complete) < len(donors):
        warnings.append(f"{len(donors) - len(complete)} donor(s) dropped for missing outcome "
                        "or predictor values")
    if len(complete) < 2:
        raise _bad(spec, f"synthetic control needs at least 2 donor units with complete data; "
                   f"found {len(complete)}", "add comparison units", unit)
    fit = SyntheticOptions.of(spec).fit_periods
    fit_periods = pre if fit is None else np.array([float(t) for t in fit])
    if len(fit_periods) == 0 or not set(fit_periods) <= set(pre):
        raise ConfigError("options: fit_periods must list pre-treatment periods",
                          fix=f"use periods before {start:g}")
    fit_rows = np.flatnonzero(np.isin(times, fit_periods))
    lags_only = ([(p.column, p.periods) for p in predictors]
                 == [(outcome, (t,)) for t in fit_periods])
    order = [treated, *complete]
    return _Panel(times, len(pre), treated, complete, wide[order], predictors, x[order],
                  lags_only, fit_rows, warnings)


_AGGREGATE = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}


def _predictor_matrix(df: pd.DataFrame, spec: EvaluationSpec,
                      predictors: list[Predictor]) -> pd.DataFrame:
    wide = {c: df.pivot(index=spec.time, columns=spec.unit, values=c)
            for c in dict.fromkeys(p.column for p in predictors)}
    units = next(iter(wide.values())).columns
    rows = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-blank columns give NaN
        for p in predictors:
            table = wide[p.column].reindex(columns=units)
            values = table.to_numpy(dtype=float)[np.isin(table.index, p.periods)]
            rows[p.label] = _AGGREGATE[p.op](values, axis=0)
    return pd.DataFrame(rows, index=units).T


# ----------------------------------------------------------------------------------------------
# Estimation, placebos, checks
# ----------------------------------------------------------------------------------------------


def _fit_unit(panel: _Panel, target: str, pool: list[str], optimisation: str,
              seed: int) -> SynthFit:
    y = panel.y
    cols = panel.columns
    t, p = cols[target], [cols[u] for u in pool]
    y1, y0 = y[:, t], y[:, p]
    z1, z0 = y1[panel.fit_rows], y0[panel.fit_rows]
    if panel.lags_only:
        w = simplex_weights(z1, z0)
        return _fitted(w, np.ones(len(z1)) / len(z1), z1, z0, y1, y0, panel.n_pre)
    x = panel.x_scaled
    return fit_synthetic(x[:, t], x[:, p], z1, z0, y1, y0, panel.n_pre,
                         optimisation=optimisation, rng=np.random.default_rng(seed))


def _placebos(panel: _Panel, optimisation: str, seed: int) -> dict[str, SynthFit]:
    return {u: _fit_unit(panel, u, [d for d in panel.donors if d != u], optimisation, seed)
            for u in panel.donors}


def _permutation_p(treated: SynthFit, placebos: dict[str, SynthFit]) -> float:
    ratio = treated.rmspe_ratio
    at_least = sum(1 for f in placebos.values() if f.rmspe_ratio >= ratio * (1 - 1e-12))
    return (1 + at_least) / (1 + len(placebos))


def _fit_check(panel: _Panel, fit: SynthFit) -> Check:
    sd = float(np.std(panel.outcome[panel.treated].to_numpy()[: panel.n_pre], ddof=1))
    ratio = fit.pre_rmspe / sd if sd > 0 else (0.0 if fit.pre_rmspe == 0 else float("inf"))
    detail = N_("pre-period RMSPE {rmspe:,.4g} is {ratio:.2f} × the treated unit's pre-period "
                "standard deviation ({sd:,.4g})", rmspe=fit.pre_rmspe, ratio=ratio, sd=sd)
    if ratio > MAX_FIT_RATIO:
        detail = N_("{detail}; above {limit}: the synthetic unit does not track the treated "
                    "one before treatment, so the post-period gap is not a credible effect",
                    detail=detail, limit=MAX_FIT_RATIO)
    return Check("pre_fit", bool(ratio <= MAX_FIT_RATIO), detail, float(ratio))


def _hull_check(panel: _Panel) -> Check:
    pre = panel.outcome.to_numpy()[: panel.n_pre]
    treated, donors = pre[:, 0], pre[:, 1:]
    lo, hi = donors.min(axis=1), donors.max(axis=1)
    outside = (treated < lo) | (treated > hi)
    x = panel.x.to_numpy(dtype=float)
    x_out = [lbl for lbl, row in zip(panel.x.index, x, strict=True)
             if row[0] < row[1:].min() or row[0] > row[1:].max()]
    share = float(outside.mean())
    if outside.any():
        where = ", ".join(f"{t:g}" for t in panel.times[: panel.n_pre][outside][:6])
        detail = N_("the treated unit's outcome lies outside the donors' range in {k} of {n} "
                    "pre-periods ({where}): no weighted average of donors can reproduce it; "
                    "consider a design that allows an intercept shift (did) or a different "
                    "donor pool", k=int(outside.sum()), n=len(outside), where=where)
    else:
        detail = N_("the treated unit's pre-period outcome lies within the donors' range")
    if x_out:
        detail = N_("{detail}; predictors outside the donors' range: {names}", detail=detail,
                    names=", ".join(x_out[:6]))
    return Check("convex_hull", not bool(outside.any()), detail, share)


def _donor_check(n_donors: int, alpha: float) -> Check:
    smallest = 1 / (n_donors + 1)
    ok = smallest <= alpha
    detail = N_("{n} donors: the smallest attainable placebo p-value is 1/{m} = {p:.3f}",
                n=n_donors, m=n_donors + 1, p=smallest)
    if not ok:
        detail = N_("{detail}, above alpha = {alpha}: the placebo test cannot reject at that "
                    "level", detail=detail, alpha=alpha)
    return Check("few_donors", ok, detail, float(n_donors))


def estimate_synthetic_control(data: pd.DataFrame, spec: EvaluationSpec) -> EvaluationResult:
    """The ``synthetic_control`` estimator (see the module docstring).

    Written on scipy rather than pysyncon: pysyncon 1.7 works on pandas 3, but its nested fit
    of the Texas panel (Cunningham's Mixtape, ch. 10) took 84 s and stopped at a pre-period
    MSPE of 3.59 million, against R Synth's 2.02 million; in-space placebos need one fit per
    donor. The inner problem here is an exact non-negative least squares solve (~0.1 ms) and
    the outer search runs on log predictor weights, which reaches 1.97 million in about a
    second. ``tests/test_evaluate_synthetic.py`` checks the inner solve against pysyncon's.

    >>> from upward.evaluate.spec import EvaluationSpec
    >>> rng = np.random.default_rng(3)
    >>> f = np.cumsum(rng.normal(size=12))
    >>> rows = [(u, t, 10 + (1 + u / 10) * f[t] + rng.normal(scale=0.3) + 5 * (u == 0 and t >= 8))
    ...         for u in range(8) for t in range(12)]
    >>> df = pd.DataFrame(rows, columns=["place", "year", "y"]).astype({"place": str})
    >>> r = estimate_synthetic_control(df, EvaluationSpec(
    ...     data="p.csv", design="synthetic_control", outcome="y", unit="place", time="year",
    ...     treated_unit="0", treatment_start=8, options={"placebos": False}))
    >>> round(r.estimate), r.p_value, r.n_control
    (5, None, 7)
    """
    opts = SyntheticOptions.of(spec)
    optimisation, run_placebos = opts.optimisation, opts.placebos
    panel = _panel(data, spec)
    fit = _fit_unit(panel, panel.treated, panel.donors, optimisation, spec.seed)
    placebos = _placebos(panel, optimisation, spec.seed) if run_placebos else {}
    p = _permutation_p(fit, placebos) if placebos else None
    y = panel.outcome.to_numpy()
    synthetic = y[:, 1:] @ fit.weights
    warnings = list(panel.warnings)
    top = int(np.argmax(fit.weights))
    if fit.weights[top] > 0.9:
        warnings.append(f"one donor carries {fit.weights[top]:.0%} of the weight: the "
                        "synthetic unit is essentially that one comparison unit")
    checks = [_fit_check(panel, fit), _hull_check(panel), _donor_check(len(panel.donors),
                                                                       spec.alpha)]
    tables = {
        "donor_weights": [{"unit": u, "weight": float(w)} for u, w in sorted(
            zip(panel.donors, fit.weights, strict=True), key=lambda uw: -uw[1])],
        "synth_path": [{"time": float(t), "treated": float(a), "synthetic": float(s)}
                       for t, a, s in zip(panel.times, y[:, 0], synthetic, strict=True)],
        "placebo": [{"unit": u, "rmspe_ratio": f.rmspe_ratio, "post_gap": f.post_gap}
                    for u, f in [(panel.treated, fit), *placebos.items()]],
    }
    how = ("V chosen to minimise the pre-period outcome MSPE (nested, ADH 2010)"
           if optimisation == "nested" and not panel.lags_only else
           "weights fitted to every pre-period outcome" if panel.lags_only else
           "equal weights on standardised predictors")
    inference = (f"p-value: rank of the post/pre RMSPE ratio among {len(placebos) + 1} "
                 "in-space placebos (no standard error)" if placebos else
                 "placebos not run: no p-value")
    return EvaluationResult(
        design="synthetic_control",
        method=f"synthetic control (Abadie, Diamond & Hainmueller 2010; {how}; upward's scipy "
               f"solver); {inference}",
        outcome=spec.outcome,
        estimand="ATT (average post-period gap, treated unit)",
        estimate=fit.post_gap,
        se=None, ci_low=None, ci_high=None, p_value=p,
        n=int(y.size), n_treated=1, n_control=len(panel.donors),
        checks=checks, warnings=warnings, tables=tables,
        spec=spec.model_dump(mode="json"),
        library=f"scipy {scipy.__version__}",
        alpha=spec.alpha,
    )


register(Design(
    name="synthetic_control",
    label="Synthetic control",
    required=("outcome", "unit", "time"),
    estimate=estimate_synthetic_control,
    option_model=SyntheticOptions,
    evidence=EvidenceCategory("qed", "places"), tables=(SYNTH_PATH, DONOR_WEIGHTS, PLACEBO),
    description="A city-level policy against a weighted average of donor places, with "
                "in-space placebo inference.",
))
