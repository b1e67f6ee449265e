"""Synthetic difference-in-differences (design ``synthetic_did``; Arkhangelsky, Athey,
Hirshberg, Imbens & Wager 2021, AER): for a policy adopted by one place (or a few, all at
once) against many untreated places.

Like synthetic control it weights the comparison units so that, together, they track the
treated units before treatment (unit weights ω); like difference-in-differences it allows a
constant gap between the two (an intercept), and it also weights the pre-treatment periods
(time weights λ) so that they resemble the post-treatment ones. The estimate is the weighted
difference-in-differences:

    τ = (ȳ_treated,post − Σ_t λ_t ȳ_treated,t) − Σ_i ω_i (ȳ_i,post − Σ_t λ_t y_i,t)

Unit weights minimise Σ_t (ω₀ + Σ_i ω_i y_it − ȳ_treated,t)² + ζ² T₀ ‖ω‖² over the pre-periods
(ω ≥ 0, Σω = 1), with ζ = (N_treated · T_post)^(1/4) · σ̂ and σ̂ the standard deviation of the
comparison units' first differences before treatment; time weights minimise
Σ_i (λ₀ + Σ_t λ_t y_it − ȳ_i,post)² over the comparison units with a negligible ridge
(10⁻⁶ σ̂). Both are exact solutions of the convex problems (non-negative least squares with the
adding-up constraint, :func:`upward.evaluate.designs.synthetic.simplex_weights`), where the
authors' R package ``synthdid`` runs Frank–Wolfe iterations with a sparsifying restart.

Inference is by placebo (the paper's Algorithm 4): the comparison units are reassigned to be
"treated" (as many as are treated), everything is re-estimated on the comparison units alone,
and the standard error is the spread of those placebo estimates. With one treated unit every
comparison unit is used in turn (the limit of the paper's random draws); otherwise
``options.placebos`` random draws. The p-value is the normal one from that standard error, and
the placebo rank p-value is reported beside it. The estimates table puts synthetic control
(no intercept, no time weights) and plain difference-in-differences (equal weights) beside it,
each with its placebo standard error: the comparison of the paper's Table 1.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(1)
>>> f = np.cumsum(rng.normal(size=20))
>>> rows = [(u, t, u + (1 + u / 20) * f[t] + rng.normal(scale=0.3) - 3 * (u == 0 and t >= 15))
...         for u in range(25) for t in range(20)]
>>> df = pd.DataFrame(rows, columns=["place", "year", "y"])
>>> r = estimate_synthetic_did(df, EvaluationSpec(data="p.csv", design="synthetic_did",
...     outcome="y", unit="place", time="year", treated_unit="0", treatment_start=15))
>>> round(r.estimate), r.n_control, [row["method"].split(" ")[0] for row in r.tables["estimates"]]
(-3, 24, ['synthetic', 'synthetic', 'difference-in-differences'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import Field

from upward.core.errors import ConfigError, InputFileError
from upward.core.text import N_
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.designs.synthetic import DONOR_WEIGHTS, SYNTH_PATH, simplex_weights
from upward.evaluate.inference import Estimate
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ESTIMATES, ResultTable

TIME_WEIGHTS = ResultTable("time_weights", N_("Pre-period (time) weights"),
                           ("time", "weight"), "time_weights")
PLACEBO_ESTIMATES = ResultTable("placebo_estimates",
                                N_("Placebo estimates (comparison units treated in turn)"),
                                ("unit", "estimate"), "placebo_estimates")
#: The time weights' ridge, relative to the noise level (the paper's "infinitesimal" η_λ).
ETA_LAMBDA = 1e-6
#: Fewer comparison units than this leave too few placebos for a standard error.
MIN_PLACEBOS = 5


class SyntheticDidOptions(DesignOptions):
    """``options:`` of synthetic_did.

    >>> SyntheticDidOptions.of(EvaluationSpec(data="x.csv", design="synthetic_did",
    ...     outcome="y", options={"placebos": 50})).placebos
    50
    """

    placebos: int = Field(200, ge=0, description=(
        "placebo draws for the standard error when several units are treated (0: none); with "
        "one treated unit every comparison unit is used"))
    comparisons: bool = Field(True, description="comparisons: true adds synthetic control "
                              "and difference-in-differences rows")


@dataclass(frozen=True)
class SdidFit:
    """One weighted difference-in-differences: its estimate, unit and time weights.

    >>> y = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 2.5, 4.0, 4.5], [1.5, 2.5, 3.5, 6.0]])
    >>> fit = sdid(y, n_control=2, n_pre=3)
    >>> round(fit.estimate, 6), fit.omega.round(2).tolist(), fit.lam.round(2).tolist()
    (1.5, [0.57, 0.43], [0.0, 1.0, 0.0])
    """

    estimate: float
    omega: np.ndarray
    lam: np.ndarray


def noise_level(y: np.ndarray, n_control: int, n_pre: int) -> float:
    """σ̂: the standard deviation of the comparison units' pre-period first differences.

    >>> round(noise_level(np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 1.0]]), 2, 3), 6)
    0.816497
    """
    diffs = np.diff(y[:n_control, :n_pre], axis=1)
    return float(np.std(diffs, ddof=1)) if diffs.size > 1 else 0.0


def ridge_simplex(a: np.ndarray, b: np.ndarray, penalty: float, intercept: bool) -> np.ndarray:
    """Weights w ≥ 0, Σw = 1 minimising ‖a w + w₀ − b‖² + penalty ‖w‖² (w₀ free when
    ``intercept``, else 0): the intercept is profiled out by centring, the ridge by extra rows.

    >>> a = np.array([[0.0, 2.0], [1.0, 3.0], [2.0, 4.0]])
    >>> ridge_simplex(a, np.array([5.0, 6.0, 7.0]), 1.0, intercept=True).round(3).tolist()
    [0.5, 0.5]
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if intercept:
        a = a - a.mean(axis=0)
        b = b - b.mean()
    if penalty > 0:
        a = np.vstack([a, np.sqrt(penalty) * np.eye(a.shape[1])])
        b = np.concatenate([b, np.zeros(a.shape[1])])
    return simplex_weights(b, a)


def sdid(y: np.ndarray, n_control: int, n_pre: int, *, method: str = "sdid") -> SdidFit:
    """Estimate on the unit × period matrix ``y`` (comparison units first, then the treated;
    pre-periods first). ``method``: ``sdid``, ``sc`` (synthetic control: no intercept, no time
    weights, negligible ridge) or ``did`` (equal weights).

    >>> y = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [1.5, 2.5, 5.0]])
    >>> round(sdid(y, 2, 2, method="did").estimate, 6)
    1.5
    """
    n_treated, n_post = y.shape[0] - n_control, y.shape[1] - n_pre
    control, treated = y[:n_control], y[n_control:].mean(axis=0)
    if method == "did":
        omega, lam = np.full(n_control, 1 / n_control), np.full(n_pre, 1 / n_pre)
    else:
        sigma = noise_level(y, n_control, n_pre)
        if method == "sc":
            zeta_omega, lam = ETA_LAMBDA * sigma, np.zeros(n_pre)
        else:
            zeta_omega = (n_treated * n_post) ** 0.25 * sigma
            lam = ridge_simplex(control[:, :n_pre], control[:, n_pre:].mean(axis=1),
                                n_control * (ETA_LAMBDA * sigma) ** 2, intercept=True)
        omega = ridge_simplex(control[:, :n_pre].T, treated[:n_pre],
                              n_pre * zeta_omega**2, intercept=method == "sdid")
    post_c = control[:, n_pre:].mean(axis=1) - control[:, :n_pre] @ lam
    post_t = treated[n_pre:].mean() - treated[:n_pre] @ lam
    return SdidFit(float(post_t - omega @ post_c), omega, lam)


def placebo_estimates(y: np.ndarray, n_control: int, n_pre: int, *, method: str = "sdid",
                      draws: int = 200, seed: int = 0) -> np.ndarray:
    """Placebo estimates (Arkhangelsky et al. 2021, Algorithm 4): on the comparison units
    alone, as many as are treated are made the "treated" ones and everything is re-estimated.
    With one treated unit each comparison unit is used once; otherwise ``draws`` random
    choices.

    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(8, 6)); placebo_estimates(y, 7, 4).shape
    (7,)
    """
    n_treated = y.shape[0] - n_control
    control = y[:n_control]
    if n_treated == 1:
        picks = [np.array([i]) for i in range(n_control)]
    else:
        rng = np.random.default_rng(seed)
        picks = [rng.choice(n_control, n_treated, replace=False) for _ in range(draws)]
    out = np.empty(len(picks))
    for k, pick in enumerate(picks):
        rest = np.setdiff1d(np.arange(n_control), pick)
        out[k] = sdid(np.vstack([control[rest], control[pick]]), len(rest), n_pre,
                      method=method).estimate
    return out


def placebo_se(placebos: np.ndarray, exact: bool) -> float | None:
    """The placebo standard error: with every placebo enumerated, their (population) standard
    deviation; from random draws, sqrt((B − 1)/B) times the sample one (the same quantity).

    >>> placebo_se(np.array([1.0, -1.0]), exact=True)
    1.0
    """
    if len(placebos) < 2:
        return None
    return float(np.std(placebos, ddof=0))


# ----------------------------------------------------------------------------------------------
# the panel
# ----------------------------------------------------------------------------------------------


@dataclass
class _Block:
    y: np.ndarray  # controls first, then treated; pre-periods first
    units: list[str]
    times: np.ndarray
    n_control: int
    n_pre: int
    warnings: list[str]


def _block(data: pd.DataFrame, spec: EvaluationSpec) -> _Block:
    unit, time, outcome = spec.unit, spec.time, spec.outcome
    df = data[[c for c in dict.fromkeys([unit, time, outcome, spec.treatment]) if c]].copy()
    df[unit] = df[unit].astype(str)
    df[time] = pd.to_numeric(df[time], errors="coerce")
    df[outcome] = pd.to_numeric(df[outcome], errors="coerce")
    if df[time].isna().any():
        raise InputFileError(spec.data, "some periods are blank or not numbers", column=time,
                             fix="number the periods (years, or 1, 2, 3 …)")
    if df.duplicated([unit, time]).any():
        raise InputFileError(spec.data, "a unit has more than one row for a period",
                             column=time, fix="keep one row per unit and period")
    treated, start = _treated_units(df, spec)
    times = np.sort(df[time].unique())
    n_pre = int((times < start).sum())
    if n_pre < 2 or n_pre == len(times):
        raise InputFileError(spec.data, f"{n_pre} periods before {start:g} and "
                             f"{len(times) - n_pre} from it: synthetic difference-in-"
                             "differences needs at least 2 before and 1 after", column=time,
                             fix="check treatment_start: against the periods in the data")
    wide = df.pivot(index=unit, columns=time, values=outcome).reindex(columns=times)
    warnings = []
    incomplete = wide.index[wide.isna().any(axis=1)]
    bad_treated = [u for u in treated if u in set(incomplete)]
    if bad_treated:
        raise InputFileError(spec.data, f"treated unit {bad_treated[0]!r} has no outcome in "
                             "some periods", column=outcome, fix="fill its outcome in every period")
    if len(incomplete):
        warnings.append(f"{len(incomplete)} comparison unit(s) left out for missing outcome "
                        f"periods (for example {incomplete[0]!r}): the panel must be balanced")
    controls = [u for u in wide.index if u not in set(treated) and u not in set(incomplete)]
    if len(controls) <= len(treated):
        raise InputFileError(spec.data, f"{len(controls)} comparison units with complete data "
                             f"for {len(treated)} treated: placebo inference needs more "
                             "comparison units than treated ones", column=unit,
                             fix="add comparison units")
    order = controls + list(treated)
    return _Block(wide.loc[order].to_numpy(dtype=float), order, times, len(controls), n_pre,
                  warnings)


def _treated_units(df: pd.DataFrame, spec: EvaluationSpec) -> tuple[list[str], float]:
    unit, time = spec.unit, spec.time
    if spec.treatment:
        d = pd.to_numeric(df[spec.treatment], errors="coerce")
        if d.isna().any() or not d.isin([0, 1]).all():
            raise InputFileError(spec.data, "the treatment column must hold 0 or 1 in every "
                                 "row", column=spec.treatment, fix="mark treated unit-periods 1")
        on = df[d == 1]
        if on.empty:
            raise InputFileError(spec.data, "no row is treated", column=spec.treatment,
                                 fix="mark the treated units' rows from their start with 1")
        starts = on.groupby(unit)[time].min()
        if starts.nunique() > 1:
            raise InputFileError(spec.data, f"treated units start in {starts.nunique()} "
                                 "different periods: synthetic difference-in-differences "
                                 "needs one common start", column=spec.treatment,
                                 fix="use design staggered_did for staggered adoption")
        start = float(starts.iloc[0])
        treated = sorted(starts.index)
        later = df[df[unit].isin(treated) & (df[time] >= start)]
        if not (pd.to_numeric(later[spec.treatment]) == 1).all():
            raise InputFileError(spec.data, "a treated unit is untreated again after its start",
                                 column=spec.treatment,
                                 fix="mark every period from the start with 1")
        return treated, start
    if spec.treated_unit is None or spec.treatment_start is None:
        raise ConfigError("design 'synthetic_did' needs treated_unit: and treatment_start: "
                          "(or a 0/1 treatment: column)",
                          fix="name the treated unit and its first treated period")
    treated = str(spec.treated_unit)
    if treated not in set(df[unit]):
        raise InputFileError(spec.data, f"the treated unit {treated!r} is not in the data",
                             column=unit, fix="check treated_unit: against the unit column")
    try:
        return [treated], float(spec.treatment_start)
    except (TypeError, ValueError):
        raise ConfigError(f"treatment_start: {spec.treatment_start!r} is not a period number",
                          fix="write it in the units of the time column") from None


# ----------------------------------------------------------------------------------------------
# the design
# ----------------------------------------------------------------------------------------------

LABELS = {"sdid": "synthetic difference-in-differences (Arkhangelsky et al. 2021)",
          "sc": "synthetic control (no intercept, no time weights)",
          "did": "difference-in-differences (equal weights)"}


def estimate_synthetic_did(data: pd.DataFrame, spec: EvaluationSpec) -> EvaluationResult:
    """The ``synthetic_did`` estimator (see the module docstring).

    >>> from upward.evaluate.spec import EvaluationSpec
    >>> rng = np.random.default_rng(3)
    >>> f = np.cumsum(rng.normal(size=12))
    >>> rows = [(u, t, 10 + (1 + u / 10) * f[t] + rng.normal(scale=0.3) + 5 * (u == 0 and t >= 8))
    ...         for u in range(8) for t in range(12)]
    >>> df = pd.DataFrame(rows, columns=["place", "year", "y"])
    >>> r = estimate_synthetic_did(df, EvaluationSpec(
    ...     data="p.csv", design="synthetic_did", outcome="y", unit="place", time="year",
    ...     treated_unit="0", treatment_start=8, options={"comparisons": False}))
    >>> round(r.estimate), r.n_control
    (5, 7)
    """
    opts = SyntheticDidOptions.of(spec)
    block = _block(data, spec)
    y, n0, t0 = block.y, block.n_control, block.n_pre
    n1 = y.shape[0] - n0
    exact = n1 == 1
    methods = ("sdid", "sc", "did") if opts.comparisons else ("sdid",)
    fits = {m: sdid(y, n0, t0, method=m) for m in methods}
    run_placebos = exact or opts.placebos > 0
    placebos = {m: placebo_estimates(y, n0, t0, method=m, draws=opts.placebos, seed=spec.seed)
                for m in methods} if run_placebos and n0 - n1 >= 1 else {}
    ses = {m: placebo_se(placebos[m], exact) if m in placebos else None for m in methods}
    rows = [Estimate.from_se(fits[m].estimate, ses[m], spec.alpha).row(
        f"{LABELS[m]}, placebo standard error") for m in methods]
    head = Estimate.from_se(fits["sdid"].estimate, ses["sdid"], spec.alpha)
    fit = fits["sdid"]
    control, treated = y[:n0], y[n0:].mean(axis=0)
    synthetic = fit.omega @ control
    # the synthetic path drawn level with the treated one over the weighted pre-period
    shift = float(fit.lam @ (treated[:t0] - synthetic[:t0]))
    rank_p = None
    if "sdid" in placebos:
        rank_p = (1 + int(np.sum(np.abs(placebos["sdid"]) >= abs(fit.estimate)))) / (
            1 + len(placebos["sdid"]))
    checks = [_placebo_count(len(placebos.get("sdid", [])), exact, rank_p)]
    top = int(np.argmax(fit.omega))
    warnings = list(block.warnings)
    if fit.omega[top] > 0.5:
        warnings.append(f"one comparison unit ({block.units[top]}) carries "
                        f"{fit.omega[top]:.0%} of the unit weight")
    tables = {
        "estimates": rows,
        "synth_path": [{"time": float(t), "treated": float(a), "synthetic": float(s + shift)}
                       for t, a, s in zip(block.times, treated, synthetic, strict=True)],
        "donor_weights": [{"unit": u, "weight": float(w)} for u, w in sorted(
            zip(block.units[:n0], fit.omega, strict=True), key=lambda uw: -uw[1]) if w > 0],
        "time_weights": [{"time": float(t), "weight": float(w)}
                         for t, w in zip(block.times[:t0], fit.lam, strict=True)],
    }
    if "sdid" in placebos and exact:
        tables["placebo_estimates"] = [{"unit": u, "estimate": float(e)} for u, e in zip(
            block.units[:n0], placebos["sdid"], strict=True)]
    how = (f"each of the {n0} comparison units in turn" if exact else
           f"{len(placebos.get('sdid', [])):,} random draws of {n1} comparison units")
    inference = (f"placebo standard error ({how} treated, Arkhangelsky et al. 2021 "
                 "Algorithm 4) and a normal interval" if placebos else "no placebos: no "
                 "standard error")
    return EvaluationResult(
        design="synthetic_did",
        method=(f"synthetic difference-in-differences: unit weights with an intercept and "
                f"ridge ζ = (N₁T₁)^¼·σ̂, time weights, weighted difference-in-differences "
                f"(solved exactly by non-negative least squares); {inference}"),
        outcome=spec.outcome, estimand="ATT (treated units, post-treatment periods)",
        estimate=head.estimate, se=head.se, ci_low=head.ci_low, ci_high=head.ci_high,
        p_value=head.p_value, n=int(y.size), n_treated=n1, n_control=n0,
        checks=checks, warnings=warnings, tables=tables, spec=spec.model_dump(mode="json"),
        library=f"numpy {np.__version__}, scipy nnls", alpha=spec.alpha)


def _placebo_count(n: int, exact: bool, rank_p: float | None) -> Check:
    if n < MIN_PLACEBOS:
        return Check("placebos", False, f"only {n} placebo estimates: too few comparison units "
                     "for a placebo standard error", float(n))
    detail = (f"{n} placebo estimates ({'every comparison unit' if exact else 'random draws'})"
              "; their spread is the standard error")
    if rank_p is not None:
        detail += (f"; the estimate's rank among them gives p = {rank_p:.3f} (smallest "
                   f"attainable {1 / (n + 1):.3f})")
    return Check("placebos", True, detail, float(n), rank_p)


register(Design(
    name="synthetic_did",
    label="Synthetic difference-in-differences",
    required=("outcome", "unit", "time"),
    estimate=estimate_synthetic_did,
    option_model=SyntheticDidOptions,
    evidence=EvidenceCategory("qed", "places"),
    tables=(ESTIMATES, SYNTH_PATH, DONOR_WEIGHTS, TIME_WEIGHTS, PLACEBO_ESTIMATES),
    description="One place (or a few adopting together) against weighted comparison places "
                "and weighted pre-periods (Arkhangelsky et al. 2021), with placebo standard "
                "errors and synthetic control and DiD beside it."))
