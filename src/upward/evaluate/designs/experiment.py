"""Randomised controlled trials (design ``rct``).

The average treatment effect by difference in means, or by Lin's (2013) regression adjustment
-- the outcome on treatment, the covariates centred at their mean, and their interactions with
treatment -- which is the default when covariates are given. Standard errors are HC2 (Lin
shows HC2 is conservative for the adjusted estimator under randomization), or CR1
cluster-robust when ``cluster:`` is given; estimation is pyfixest's ``feols``. The checks:
baseline balance (standardised differences and a joint test), differential attrition when the
outcome is missing for some units, the number of clusters (with a wild cluster bootstrap below
10) and randomization inference (Fisher's exact p-value of the sharp null) compared with the
model-based p-value.

Options: ``adjust`` (``lin`` or ``none``), ``se`` (``hc2``, ``hc1`` or ``cluster``),
``permutations`` (randomization-inference draws, default 2000; 0 skips it).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"d": np.repeat([0, 1], 200), "age": rng.normal(40, 10, 400)})
>>> df["y"] = 2.0 * df.d + 0.1 * df.age + rng.normal(size=400)
>>> spec = EvaluationSpec(data="pilot.csv", design="rct", outcome="y", treatment="d",
...                       covariates=["age"], options={"permutations": 200})
>>> r = estimate_rct(df, spec)
>>> r.estimand, abs(r.estimate - 2.0) < 3 * r.se, r.n_treated, r.n_control
('ATE', True, 200, 200)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd
import pyfixest as pf
from pydantic import Field

from upward.core.errors import ConfigError, InputFileError
from upward.core.text import N_
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.inference import (
    MAX_STD_DIFF,
    Estimate,
    cluster_check,
    fixest_block,
    fixest_estimate,
    n_clusters,
    randomization_test,
    standardized_difference,
    treated_cluster_check,
    two_proportion_test,
    wald_test,
    wild_cluster_bootstrap,
)
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ATTRITION, BALANCE, ESTIMATES

ADJUSTMENTS = {"lin": "Lin (2013) regression adjustment", "none": "difference in means"}
#: Our name for a covariance -> pyfixest's vcov argument (None: cluster on the spec's cluster).
STANDARD_ERRORS = {"hc2": "HC2", "hc1": "hetero", "cluster": None}
SE_LABELS = {"hc2": N_("HC2 robust"), "hc1": N_("HC1 robust"),
             "cluster": N_("CR1 cluster-robust")}
DEFAULT_PERMUTATIONS = 2000
WILD_BOOTSTRAP_REPS = 9999


class RctOptions(DesignOptions):
    """The ``options:`` of an rct spec, validated.

    >>> RctOptions.from_spec(EvaluationSpec(data="x.csv", design="rct", outcome="y",
    ...                                     treatment="d")).adjust
    'none'
    """

    adjust: Literal["lin", "none"] | None = Field(
        None, description="use lin (Lin 2013 adjustment, the default with covariates) or none")
    se: Literal["hc2", "hc1", "cluster"] | None = Field(
        None, description="use hc2 (the default), hc1 or cluster (the default with a cluster)")
    permutations: int = Field(DEFAULT_PERMUTATIONS, ge=0, description=(
        "use for example permutations: 2000 (0 skips randomization inference)"))

    @classmethod
    def from_spec(cls, spec: EvaluationSpec) -> RctOptions:
        """Defaults: ``lin`` with covariates, ``cluster`` with a cluster, 2000 permutations."""
        opts = cls.of(spec)
        adjust = opts.adjust or ("lin" if spec.covariates else "none")
        if adjust == "lin" and not spec.covariates:
            raise ConfigError("options.adjust: lin needs covariates",
                              fix="add covariates: to the spec or set adjust: none")
        se = opts.se or ("cluster" if spec.cluster else "hc2")
        if se == "cluster" and not spec.cluster:
            raise ConfigError("options.se: cluster needs a cluster column",
                              fix="add cluster: to the spec or use se: hc2")
        return opts.model_copy(update={"adjust": adjust, "se": se})


def estimate_rct(data: pd.DataFrame, spec: EvaluationSpec, *, diagnostics: bool = True
                 ) -> EvaluationResult:
    """ATE of an RCT with balance, attrition, cluster and randomization-inference checks.

    ``diagnostics=False`` fits only the headline estimator and skips the checks and the
    other estimator (the fast path simulations use; same estimate, se and interval).

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"d": [0, 1] * 30, "y": np.arange(60.0) % 7 + [0, 3] * 30})
    >>> r = estimate_rct(df, EvaluationSpec(data="p.csv", design="rct", outcome="y",
    ...                  treatment="d", options={"permutations": 0}))
    >>> r.method
    'difference in means, HC2 robust standard errors'
    """
    opts = RctOptions.from_spec(spec)
    frame = _frame(data, spec)
    attrition_rows, attrition = _attrition(frame, spec)
    observed = frame[frame["y"].notna()].reset_index(drop=True)
    n_t, n_c = int(observed["d"].sum()), int((1 - observed["d"]).sum())
    if n_t < 2 or n_c < 2:
        raise InputFileError(spec.data, f"the outcome is observed for {n_t} treated and {n_c} "
                             "control units; each arm needs at least 2",
                             column=spec.outcome, fix="check the treatment and outcome columns")
    covariates, warnings = _covariate_matrix(observed, spec)
    if covariates.empty and opts.adjust == "lin":
        opts = replace(opts, adjust="none")
        warnings.append(N_("no covariate varies: reporting the difference in means"))
    balance_rows, balance = (_balance(observed, covariates, spec, opts) if diagnostics
                             else ([], Check("balance", None, N_("diagnostics skipped"))))

    vcov = STANDARD_ERRORS[opts.se] or {"CRV1": "cl"}
    weights = "w" if spec.weights else None
    ssc = _small_sample(opts.se)
    fits = {}
    if diagnostics or opts.adjust == "none":
        fits["none"] = pf.feols("y ~ d", data=observed, vcov=vcov, weights=weights, ssc=ssc)
    if not covariates.empty and (diagnostics or opts.adjust == "lin"):
        if min(n_t, n_c) <= covariates.shape[1] + 1:
            raise ConfigError(f"options.adjust: lin with {covariates.shape[1]} covariate terms "
                              f"needs more than {covariates.shape[1] + 1} units in each arm "
                              f"(have {n_t} treated, {n_c} control)",
                              fix="use fewer covariates or set adjust: none")
        fits["lin"] = pf.feols(_lin_formula(observed, covariates), data=observed, vcov=vcov,
                               weights=weights, ssc=ssc)
    estimates = {k: fixest_estimate(f, "d", spec.alpha) for k, f in fits.items()}
    table = [estimates[k].row(_adjustment_row(k, SE_LABELS[opts.se])) for k in estimates]
    head = estimates[opts.adjust]
    method = (N_("Lin (2013) regression adjustment, {se} standard errors", se=SE_LABELS[opts.se])
              if opts.adjust == "lin" else
              N_("difference in means, {se} standard errors", se=SE_LABELS[opts.se]))

    checks = [balance, attrition]
    p_value, g, shown = head.p_value, None, head
    if spec.cluster:
        g = n_clusters(observed["cl"])
        clusters, cluster_warnings = cluster_check(g, spec.cluster, N_(
            "p-value from a wild cluster bootstrap (Rademacher, 9,999 draws)"))
        warnings += cluster_warnings
        if clusters.passed is False and opts.se == "cluster":
            wild = _wild_bootstrap_p(fits[opts.adjust], spec.seed)
            if wild is None:
                clusters = Check("clusters", False, clusters.detail.split(";")[0] +
                                 "; a wild cluster bootstrap needs the 'wildboottest' package, "
                                 "which is not installed: the CR1 p-value is not reliable",
                                 clusters.statistic)
            else:
                p_value = wild
                method += f"; p-value from a wild cluster bootstrap ({WILD_BOOTSTRAP_REPS:,} draws)"
        checks.append(clusters)
        few = _few_treated_clusters(observed, covariates, spec, opts, fits[opts.adjust],
                                    head, diagnostics)
        if few is not None:
            checks.insert(0, few)
            if few.p_value is not None:
                p_value = few.p_value
                # the cluster-robust interval is as unreliable as its p-value: the headline
                # keeps the estimate and the randomisation p only (the table keeps the rest)
                shown = Estimate(head.estimate, None, None, None, None)
                method += ("; p-value from randomisation inference across clusters, because "
                           "too few clusters are treated for cluster-robust inference (no "
                           "reliable standard error or interval)")
    if opts.permutations and diagnostics:
        checks.append(_randomization(observed, covariates, spec, opts, head))
    return EvaluationResult(
        design="rct", method=method, outcome=spec.outcome, estimand="ATE",
        estimate=shown.estimate, se=shown.se, ci_low=shown.ci_low, ci_high=shown.ci_high,
        p_value=p_value, n=len(observed), n_treated=n_t, n_control=n_c, n_clusters=g,
        checks=checks, warnings=warnings,
        tables={"estimates": table, "balance": balance_rows, "attrition": attrition_rows},
        spec=spec.model_dump(mode="json"), library=f"pyfixest {pf.__version__}",
        alpha=spec.alpha)


def _adjustment_row(adjust: str, se: str) -> str:
    """The estimator's name in the estimates table, with its standard errors."""
    if adjust == "lin":
        return N_("Lin (2013) regression adjustment ({se})", se=se)
    return N_("difference in means ({se})", se=se)


def _small_sample(se: str) -> dict:
    """HC2 as defined (MacKinnon & White 1985; Lin 2013), without pyfixest's default n/(n-k)
    factor on top; HC1 and CR1 keep their usual factors."""
    return pf.ssc(k_adj=se != "hc2")


def _frame(data: pd.DataFrame, spec: EvaluationSpec) -> pd.DataFrame:
    """The columns the design uses under safe names: y, d, w, cl, x0, x1, …"""
    d = pd.to_numeric(data[spec.treatment], errors="coerce")
    if d.isna().any():
        raise InputFileError(spec.data, f"{int(d.isna().sum())} rows have no treatment "
                             "assignment", column=spec.treatment,
                             fix="give every randomised unit a 0 or 1")
    if not d.isin([0, 1]).all():
        bad = sorted(set(d[~d.isin([0, 1])].tolist()))[:3]
        raise InputFileError(spec.data, f"treatment must be 0 or 1, found {bad}",
                             column=spec.treatment, fix="code treated units 1, control units 0")
    if d.nunique() < 2:
        raise InputFileError(spec.data, "every unit has the same treatment value",
                             column=spec.treatment, fix="an RCT needs treated and control units")
    frame = pd.DataFrame({"y": pd.to_numeric(data[spec.outcome], errors="coerce").astype(float),
                          "d": d.astype(float)})
    if spec.weights:
        frame["w"] = pd.to_numeric(data[spec.weights], errors="coerce").astype(float)
    if spec.cluster:
        if data[spec.cluster].isna().any():
            raise InputFileError(spec.data, "some rows have no cluster", column=spec.cluster,
                                 fix="give every unit its cluster (school, block …)")
        frame["cl"] = pd.factorize(data[spec.cluster])[0]
    for i, name in enumerate(spec.covariates):
        frame[f"x{i}"] = pd.to_numeric(data[name], errors="coerce").astype(float)
    if spec.unit and data[spec.unit].duplicated().any():
        raise InputFileError(spec.data, "a unit appears on more than one row",
                             column=spec.unit, fix="an RCT takes one row per randomised unit")
    return frame.reset_index(drop=True)


def _covariate_matrix(observed: pd.DataFrame, spec: EvaluationSpec
                      ) -> tuple[pd.DataFrame, list[str]]:
    """Covariates as analysed: a missing value is set to the mean and flagged by an indicator
    (so no unit is dropped); constant covariates are left out."""
    columns, warnings = {}, []
    for i, name in enumerate(spec.covariates):
        x = observed[f"x{i}"]
        if x.isna().all():
            raise InputFileError(spec.data, "the covariate has no values for the units with an "
                                 "outcome", column=name, fix="remove it from covariates:")
        if x.isna().any():
            warnings.append(f"covariate {name}: {int(x.isna().sum())} missing values set to the "
                            "mean, with a missing-value indicator in the adjustment")
            columns[f"m{i}"] = x.isna().astype(float)
            x = x.fillna(x.mean())
        if x.nunique() > 1:
            columns[f"x{i}"] = x
        else:
            warnings.append(f"covariate {name} is constant: left out of the adjustment")
    return pd.DataFrame(columns, index=observed.index), warnings


def _lin_formula(observed: pd.DataFrame, covariates: pd.DataFrame) -> str:
    terms = []
    for c in covariates:
        centred = covariates[c] - covariates[c].mean()
        observed[f"c_{c}"] = centred
        observed[f"dc_{c}"] = centred * observed["d"]
        terms += [f"c_{c}", f"dc_{c}"]
    return "y ~ d + " + " + ".join(terms)


def _balance(observed: pd.DataFrame, covariates: pd.DataFrame, spec: EvaluationSpec,
             opts: RctOptions) -> tuple[list[dict], Check]:
    if covariates.empty:
        return [], Check("balance", None, N_("no covariates given: add baseline covariates: "
                                             "to check that randomization balanced them"))
    treated = observed["d"].to_numpy() == 1
    w = observed["w"].to_numpy() if spec.weights else None
    rows = []
    for i, name in enumerate(spec.covariates):
        x = observed[f"x{i}"].to_numpy()
        ok = ~np.isnan(x)
        t, c = ok & treated, ok & ~treated
        rows.append({
            "covariate": name, "mean_treated": float(x[t].mean()),
            "mean_control": float(x[c].mean()),
            "std_diff": standardized_difference(x[t], x[c]),
            "std_diff_weighted": (standardized_difference(x[t], x[c], w[t], w[c])
                                  if w is not None else None)})
    frame = pd.concat([observed[["d"] + (["w"] if spec.weights else []) +
                                (["cl"] if spec.cluster else [])], covariates], axis=1)
    vcov = {"CRV1": "cl"} if opts.se == "cluster" else "HC2"
    fit = pf.feols("d ~ " + " + ".join(covariates.columns), data=frame, vcov=vcov,
                   weights="w" if spec.weights else None, ssc=_small_sample(opts.se))
    beta, cov = fixest_block(fit, list(covariates.columns))
    joint = wald_test(beta, cov, df_denominator=fit._df_t)
    worst = max(rows, key=lambda r: abs(r["std_diff"]) if np.isfinite(r["std_diff"]) else 0)
    largest = abs(worst["std_diff"]) if np.isfinite(worst["std_diff"]) else 0.0
    passed = joint.passed(spec.alpha) and largest <= MAX_STD_DIFF
    detail = N_("joint test of the {k} covariates predicting treatment: F = {f:.2f}, "
                "p = {p:.3f}; largest standardised difference {diff:+.2f} ({covariate})",
                k=len(rows), f=joint.statistic, p=joint.p_value, diff=worst["std_diff"],
                covariate=worst["covariate"])
    if not passed:
        detail = N_("{detail}; imbalance beyond chance or above {limit} -- report the "
                    "covariate-adjusted estimate", detail=detail, limit=MAX_STD_DIFF)
    return rows, Check("balance", passed, detail, joint.statistic, joint.p_value)


def _attrition(frame: pd.DataFrame, spec: EvaluationSpec) -> tuple[list[dict], Check]:
    rows = []
    counts = {}
    for label, arm in ((N_("treatment"), 1.0), (N_("control"), 0.0)):
        in_arm = frame["d"] == arm
        n, k = int(in_arm.sum()), int((in_arm & frame["y"].notna()).sum())
        counts[label] = (n, k)
        rows.append({"group": label, "n_assigned": n, "n_observed": k, "rate": 1 - k / n})
    total_n = sum(n for n, _ in counts.values())
    total_k = sum(k for _, k in counts.values())
    rows.append({"group": N_("all"), "n_assigned": total_n, "n_observed": total_k,
                 "rate": 1 - total_k / total_n})
    if total_k == total_n:
        return rows, Check("attrition", True, N_("outcome observed for all {n:,} units",
                                                 n=total_n))
    (n1, k1), (n0, k0) = counts["treatment"], counts["control"]
    p = two_proportion_test(n1 - k1, n1, n0 - k0, n0)
    diff = (n1 - k1) / n1 - (n0 - k0) / n0
    detail = N_("outcome missing for {treated:.1%} of treated and {control:.1%} of control "
                "units (difference {diff:+.1f} points, Fisher exact p = {p:.3f}); the estimate "
                "uses the {n:,} units with an outcome", treated=rows[0]["rate"],
                control=rows[1]["rate"], diff=100 * diff, p=p, n=total_k)
    return rows, Check("attrition", p >= spec.alpha, detail, diff, p)


def _wild_bootstrap_p(fit, seed: int) -> float | None:
    try:
        import wildboottest  # noqa: F401
    except ImportError:
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fit.wildboottest(param="d", reps=WILD_BOOTSTRAP_REPS, seed=seed)
    return float(out["Pr(>|t|)"])


def _few_treated_clusters(observed: pd.DataFrame, covariates: pd.DataFrame,
                          spec: EvaluationSpec, opts: RctOptions, fit, head: Estimate,
                          diagnostics: bool) -> Check | None:
    """The treated-clusters rule: below ``FEW_TREATED_CLUSTERS`` treated (or control)
    clusters the headline p-value is the cluster-level randomisation test, with the wild
    cluster bootstrap restricted to the null beside it (skipped on the fast path)."""
    by = observed.groupby("cl")["d"].agg(["min", "max"])
    if not bool((by["min"] == by["max"]).all()):
        return None  # units randomised within clusters (blocks): no treated clusters to count
    check = treated_cluster_check(int((by["max"] > 0).sum()), len(by), spec.cluster)
    if check.passed or opts.se != "cluster":
        return check if opts.se == "cluster" else None
    test = _randomization_test(observed, covariates, spec, opts,
                               opts.permutations or DEFAULT_PERMUTATIONS)
    wcr = wild_cluster_bootstrap(fit, "d", spec.seed) if diagnostics else None
    conventional = f"{head.p_value:.2g}" if head.p_value is not None else "not available"
    detail = (f"{check.detail}. The headline p-value is therefore randomisation inference "
              f"({test.permutations:,} re-randomizations at the {test.level} level): p = "
              f"{test.p_value:.3g}, against a cluster-robust p of {conventional}")
    if wcr is not None:
        detail += f"; the wild cluster bootstrap restricted to the null gives p = {wcr:.3g}"
    return Check("treated_clusters", False, detail, check.statistic, test.p_value)


def _randomization_test(observed: pd.DataFrame, covariates: pd.DataFrame,
                        spec: EvaluationSpec, opts: RctOptions, permutations: int):
    y = observed["y"].to_numpy()
    w = observed["w"].to_numpy() if spec.weights else None
    if opts.adjust == "lin" and covariates.shape[1]:
        # residuals of the outcome on the covariates alone do not depend on the assignment
        # under the sharp null, so their difference in means is a valid adjusted statistic
        x = np.column_stack([np.ones(len(y)), covariates.to_numpy()])
        sw = np.sqrt(w) if w is not None else np.ones(len(y))
        coef = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)[0]
        y = y - x @ coef
    return randomization_test(y, observed["d"].to_numpy(), permutations, spec.seed,
                              observed["cl"].to_numpy() if spec.cluster else None, w)


def _randomization(observed: pd.DataFrame, covariates: pd.DataFrame, spec: EvaluationSpec,
                   opts: RctOptions, head: Estimate) -> Check:
    test = _randomization_test(observed, covariates, spec, opts, opts.permutations)
    model_p = head.p_value if head.p_value is not None else float("nan")
    agree = (test.p_value < spec.alpha) == (model_p < spec.alpha)
    detail = N_("randomization p = {p:.4f} ({permutations:,} re-randomizations at the "
                "{level} level, sharp null of no effect) vs. model p = {model_p:.4f}",
                p=test.p_value, permutations=test.permutations, level=test.level,
                model_p=model_p)
    if not agree:
        detail = N_("{detail}; they disagree at the chosen alpha -- prefer the randomization "
                    "p-value", detail=detail)
    return Check("randomization_inference", agree, detail, test.statistic, test.p_value)


register(Design(
    name="rct", label="Randomised controlled trial", required=("outcome", "treatment"),
    estimate=estimate_rct, option_model=RctOptions,
    evidence=EvidenceCategory("rct"), tables=(ESTIMATES, BALANCE, ATTRITION),
    description="Difference in means or Lin (2013) regression adjustment with HC2 or "
                "cluster-robust errors, balance, attrition and randomization inference."))
