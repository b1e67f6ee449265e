"""Panel designs: two-by-two difference-in-differences (``did``) and the two-way fixed effects
event study (``event_study``), both estimated with pyfixest's ``feols``.

``did`` compares the change in the outcome of a treated group with the change in a comparison
group, with unit and period fixed effects when ``unit:`` and ``time:`` are given; it reports the
2×2 table of means beside the regression, and tests pre-trends when there is more than one
period before treatment. ``event_study`` estimates one coefficient per period relative to
treatment (the period just before is the reference) and tests that the pre-period ones are zero.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(3)
>>> df = pd.DataFrame({"unit": np.repeat(np.arange(100), 2), "post": np.tile([0, 1], 100)})
>>> df["treated"] = (df.unit < 50).astype(int)
>>> df["y"] = 1.5 * df.treated * df.post + df.post + rng.normal(size=200)
>>> r = estimate_did(df, EvaluationSpec(data="p.csv", design="did", outcome="y",
...                  treatment="treated", post="post", unit="unit"))
>>> r.estimand, abs(r.estimate - 1.5) < 3 * r.se
('ATT', True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyfixest as pf
from pydantic import Field, field_validator

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.inference import (
    MAX_ASSIGNMENTS,
    Estimate,
    PlaceboInference,
    cluster_check,
    fixest_block,
    fixest_estimate,
    linear_combination,
    n_clusters,
    placebo_inference,
    randomised_pre_trends,
    treated_cluster_check,
    wald_test,
    wild_cluster_bootstrap,
)
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ESTIMATES, EVENT_STUDY

#: Our name for a covariance -> pyfixest's vcov argument (None: cluster-robust).
STANDARD_ERRORS = {"cluster": None, "hc1": "hetero", "iid": "iid"}
SE_LABELS = {"cluster": "CR1 cluster-robust", "hc1": "HC1 robust", "iid": "classical (iid)"}
REFERENCE = -1
FEW_CLUSTERS_REMEDY = "treat the standard error and p-value with caution"
#: Placebo assignments of the event study, each a regression (at most; fewer clusters: all).
EVENT_STUDY_ASSIGNMENTS = 199


# ----------------------------------------------------------------------------------------------
# shared preparation
# ----------------------------------------------------------------------------------------------


def binary(data: pd.DataFrame, column: str, spec: EvaluationSpec) -> pd.Series:
    """The column as 0.0/1.0, or an InputFileError naming it.

    >>> binary(pd.DataFrame({"d": [0, 1, 1]}), "d",
    ...        EvaluationSpec(data="p.csv", design="did", outcome="y")).tolist()
    [0.0, 1.0, 1.0]
    """
    values = pd.to_numeric(data[column], errors="coerce")
    bad = values.isna() | ~values.isin([0, 1])
    if bad.any():
        example = data.loc[bad, column].iloc[0]
        raise InputFileError(spec.data, f"{int(bad.sum())} rows are not 0 or 1 (for example "
                             f"{example!r})", column=column, fix="code the column 1 or 0")
    return values.astype(float)


def periods(data: pd.DataFrame, column: str, spec: EvaluationSpec) -> pd.Series:
    """Whole-numbered periods (as programs converts dates to), or an InputFileError.

    >>> periods(pd.DataFrame({"t": [2019, 2020]}), "t",
    ...         EvaluationSpec(data="p.csv", design="did", outcome="y")).tolist()
    [2019, 2020]
    """
    values = pd.to_numeric(data[column], errors="coerce")
    if values.isna().any() or not np.allclose(values, np.round(values)):
        raise InputFileError(spec.data, "periods must be whole numbers with no blanks",
                             column=column, fix="number the periods 1, 2, 3 … or use years")
    return values.round().astype("int64")


def covariate_columns(data: pd.DataFrame, spec: EvaluationSpec, frame: pd.DataFrame
                      ) -> list[str]:
    """Copy the covariates into ``frame`` as x0, x1, … and return those names.

    >>> f = pd.DataFrame(index=[0, 1])
    >>> covariate_columns(pd.DataFrame({"age": [30, 40]}),
    ...     EvaluationSpec(data="p.csv", design="did", outcome="y", covariates=["age"]), f)
    ['x0']
    """
    names = []
    for i, name in enumerate(spec.covariates):
        frame[f"x{i}"] = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        names.append(f"x{i}")
    return names


def _cluster_column(data: pd.DataFrame, spec: EvaluationSpec, frame: pd.DataFrame) -> str | None:
    column = spec.cluster or spec.unit
    if column is None:
        return None
    if data[column].isna().any():
        raise InputFileError(spec.data, "some rows have no value", column=column,
                             fix="fill the column or choose another cluster:")
    frame["cl"] = pd.factorize(data[column])[0]
    return column


def _complete(frame: pd.DataFrame, columns: list[str], spec: EvaluationSpec
              ) -> tuple[pd.DataFrame, list[str]]:
    keep = frame[columns].notna().all(axis=1)
    if keep.all():
        return frame, []
    dropped = int((~keep).sum())
    return frame[keep].reset_index(drop=True), [
        f"{dropped:,} rows without {spec.outcome} or a covariate were left out"]


def _vcov(se: str, cluster: str | None):
    return STANDARD_ERRORS[se] or {"CRV1": "cl"}


# ----------------------------------------------------------------------------------------------
# did
# ----------------------------------------------------------------------------------------------


class DidOptions(DesignOptions):
    """``options:`` of did: ``se`` is cluster (default with a unit or cluster), hc1 or iid.

    >>> DidOptions.from_spec(EvaluationSpec(data="x.csv", design="did", outcome="y")).se
    'hc1'
    """

    se: Literal["cluster", "hc1", "iid"] | None = Field(
        None, description="use cluster (the default with a unit or cluster), hc1 or iid")

    @classmethod
    def from_spec(cls, spec: EvaluationSpec) -> DidOptions:
        """Validate, with the default that follows from the spec."""
        opts = cls.of(spec)
        se = opts.se or ("cluster" if (spec.cluster or spec.unit) else "hc1")
        if se == "cluster" and not (spec.cluster or spec.unit):
            raise ConfigError("options.se: cluster needs cluster: or unit: in the spec",
                              fix="add one, or use se: hc1")
        return opts.model_copy(update={"se": se})


def _did_frame(data: pd.DataFrame, spec: EvaluationSpec) -> tuple[pd.DataFrame, list[str]]:
    frame = pd.DataFrame({"y": pd.to_numeric(data[spec.outcome], errors="coerce")
                          .to_numpy(dtype=float)})
    warnings: list[str] = []
    group = binary(data, spec.treatment, spec)
    if spec.unit:
        frame["u"] = pd.factorize(data[spec.unit])[0]
        ever = group.groupby(frame["u"].to_numpy()).transform("max")
        if not np.array_equal(ever.to_numpy(), group.to_numpy()):
            warnings.append(f"treatment {spec.treatment} varies within units: read as 'unit "
                            "is ever treated' (the treated group)")
            group = ever
    frame["g"] = group.to_numpy()
    if spec.time:
        frame["t"] = periods(data, spec.time, spec).to_numpy()
    if spec.post:
        frame["p"] = binary(data, spec.post, spec).to_numpy()
    elif spec.time and spec.treatment_start is not None:
        try:
            frame["p"] = (frame["t"] >= float(spec.treatment_start)).astype(float)
        except (TypeError, ValueError):
            raise ConfigError(f"treatment_start: {spec.treatment_start!r} is not a period "
                              f"of {spec.time}", fix="give the first treated period") from None
    else:
        raise ConfigError("design 'did' needs post: (a 0/1 column) or time: with "
                          "treatment_start:", fix="add one of them to the spec")
    if spec.weights:
        frame["w"] = pd.to_numeric(data[spec.weights], errors="coerce").to_numpy(dtype=float)
    return frame, warnings


def estimate_did(data: pd.DataFrame, spec: EvaluationSpec, *, diagnostics: bool = True
                 ) -> EvaluationResult:
    """2×2 difference-in-differences by OLS with fixed effects, means table and pre-trends.

    ``diagnostics=False`` skips the pre-trend regression, the means table and the wild
    cluster bootstrap (the fast path simulations use; same estimate, interval and p-value).

    With fewer than ``FEW_TREATED_CLUSTERS`` treated (or untreated) clusters the headline
    standard error and p-value are randomisation inference across clusters, and the failed
    ``treated_clusters`` check comes first and says why.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 6, 1.5, 2.5, 3.5, 6.5], "g": [0, 0, 1, 1] * 2,
    ...                    "post": [0, 1, 0, 1] * 2})
    >>> r = estimate_did(df, EvaluationSpec(data="p.csv", design="did", outcome="y",
    ...                  treatment="g", post="post"))
    >>> round(r.estimate, 6)
    2.0
    """
    opts = DidOptions.from_spec(spec)
    frame, warnings = _did_frame(data, spec)
    cluster = _cluster_column(data, spec, frame) if opts.se == "cluster" else None
    covs = covariate_columns(data, spec, frame)
    frame, dropped = _complete(frame, ["y", *covs], spec)
    warnings += dropped
    cells = frame.groupby(["g", "p"]).size()
    for g, p in ((1, 0), (1, 1), (0, 0), (0, 1)):
        if cells.get((g, p), 0) == 0:
            raise InputFileError(spec.data, f"no {'treated' if g else 'comparison'} rows "
                                 f"{'after' if p else 'before'} treatment with an outcome",
                                 column=spec.post or spec.time,
                                 fix="difference-in-differences needs both groups observed "
                                     "before and after")
    frame["gp"] = frame["g"] * frame["p"]
    fixed = [c for c in ("u", "t") if c in frame]
    rhs = ["gp"] + ([] if "u" in frame else ["g"]) + ([] if "t" in frame else ["p"]) + covs
    formula = "y ~ " + " + ".join(rhs) + (" | " + " + ".join(fixed) if fixed else "")
    vcov = _vcov(opts.se, cluster)
    weights = "w" if spec.weights else None
    fit = pf.feols(formula, data=frame, vcov=vcov, weights=weights)
    est = fixest_estimate(fit, "gp", spec.alpha)

    checks, g = [], None
    fe_text = {("u", "t"): "unit and period fixed effects", ("u",): "unit fixed effects",
               ("t",): "period fixed effects", (): "group and post indicators"}[tuple(fixed)]
    method = (f"difference-in-differences regression with {fe_text}"
              f"{' and covariates' if covs else ''}, {SE_LABELS[opts.se]} standard errors")
    table = [est.row("difference-in-differences (regression)")]
    head = est
    if cluster:
        g = n_clusters(frame["cl"])
        check, cluster_warnings = cluster_check(g, cluster, FEW_CLUSTERS_REMEDY)
        few = _few_treated(frame, cluster, est, fit if diagnostics else None, spec,
                           _did_refitter(frame, formula, weights))
        checks += [c for c in (few.check, check) if c is not None]
        warnings += cluster_warnings
        if few.headline is not None:
            head = few.headline
            method += few.method
            table = [est.row("difference-in-differences (regression, cluster-robust SE: not "
                             "reliable here)"), head.row(few.row_label)]
    if diagnostics:
        checks.insert(0, _did_pre_trends(frame, formula, vcov, weights, spec))
        table += _means_table(frame, spec)
    checks.sort(key=lambda c: c.name != "treated_clusters")
    n_treated_units = frame.loc[frame.g == 1, "u"].nunique() if "u" in frame else None
    n_control_units = frame.loc[frame.g == 0, "u"].nunique() if "u" in frame else None
    return EvaluationResult(
        design="did", method=method, outcome=spec.outcome, estimand="ATT",
        estimate=head.estimate, se=head.se, ci_low=head.ci_low, ci_high=head.ci_high,
        p_value=head.p_value, n=len(frame),
        n_treated=int(n_treated_units if n_treated_units is not None else (frame.g == 1).sum()),
        n_control=int(n_control_units if n_control_units is not None else (frame.g == 0).sum()),
        n_clusters=g, checks=checks, warnings=warnings, tables={"estimates": table},
        spec=spec.model_dump(mode="json"), library=f"pyfixest {pf.__version__}", alpha=spec.alpha)


@dataclass
class _FewTreated:
    """What the few-treated-clusters rule did: its check, and (when it failed) the headline
    that replaces the cluster-robust one, the method text and the estimates-table label."""

    check: Check | None
    headline: Estimate | None = None
    method: str = ""
    row_label: str = ""


def _few_treated(frame: pd.DataFrame, column: str, est: Estimate, fit, spec: EvaluationSpec,
                 refit: Callable[[np.ndarray], float], *, treated: str = "g",
                 max_assignments: int = MAX_ASSIGNMENTS) -> _FewTreated:
    """Count the treated clusters; below ``FEW_TREATED_CLUSTERS`` replace the cluster-robust
    p-value by randomisation inference across clusters (each other set of as many clusters
    treated in turn, the data as observed: Fisher's sharp null) with the placebo standard
    error, and add the wild cluster bootstrap restricted to the null (WCR) to the check."""
    by_cluster = frame.groupby("cl")[treated].agg(["min", "max"])
    ever = by_cluster["max"] > 0
    check = treated_cluster_check(int(ever.sum()), len(by_cluster), column)
    if check.passed:
        return _FewTreated(check)
    conventional = est.p_value
    # the wild bootstrap tests one coefficient: the did's (an event study's headline is an
    # average of several, so it has none)
    wcr = wild_cluster_bootstrap(fit, "gp", spec.seed) if fit is not None else None
    wcr_text = ("" if wcr is None else
                f"; the wild cluster bootstrap restricted to the null gives p = {wcr:.3g} "
                "(with one or two treated clusters it is known to be far too conservative: "
                "MacKinnon & Webb 2017)")
    if treated == "g" and not bool((by_cluster["min"] == by_cluster["max"]).all()):
        detail = (check.detail + "; treatment varies within clusters, so it cannot be "
                  f"reassigned between them: no randomisation inference{wcr_text}")
        return _FewTreated(Check("treated_clusters", False, detail, check.statistic))
    placebo = placebo_inference(est.estimate, ever.to_numpy(), refit, seed=spec.seed,
                                max_assignments=max_assignments)
    head = placebo.headline(spec.alpha)
    k = int(ever.sum())
    if k == 1:
        how = ("each of the other clusters" if placebo.exact else
               f"{placebo.assignments:,} other clusters drawn at random")
    else:
        how = (f"every other set of {k} clusters" if placebo.exact else
               f"{placebo.assignments:,} other sets of {k} clusters drawn at random")
    p_text = f"{conventional:.2g}" if conventional is not None else "not available"
    detail = (f"{check.detail}. The headline p-value is therefore from randomisation "
              f"inference: the treatment was given to {how} in turn, with the data as "
              f"observed ({placebo.assignments:,} placebo estimates), p = "
              f"{head.p_value:.3g}, and the standard error is their spread "
              f"({_num_text(head.se)}), against a cluster-robust p of {p_text}{wcr_text}")
    method = (f"; headline standard error and p-value from randomisation inference across "
              f"clusters of {column} ({placebo.assignments:,} placebo assignments{', all' if placebo.exact else ''}), "
              "because too few clusters are treated for cluster-robust inference")
    return _FewTreated(Check("treated_clusters", False, detail, check.statistic,
                             head.p_value), head, method,
                       "randomisation inference (placebo standard error, permutation p)")


def _num_text(x: float | None) -> str:
    return "not available" if x is None else f"{x:,.4g}"


def _did_refitter(frame: pd.DataFrame, formula: str, weights: str | None
                  ) -> Callable[[np.ndarray], float]:
    """The did estimate as a function of which clusters are treated. On a balanced panel
    with unit and period fixed effects and nothing else it is the difference in the units'
    mean before/after changes (equal to the regression exactly), computed once; otherwise
    each assignment is a refit."""
    fast = _unit_changes(frame) if weights is None and "~ gp |" in formula else None
    if fast is not None:
        change, unit_cluster = fast

        def by_changes(treated_clusters: np.ndarray) -> float:
            treated = treated_clusters[unit_cluster]
            if treated.all() or not treated.any():
                return float("nan")
            return float(change[treated].mean() - change[~treated].mean())

        return by_changes

    def refit(treated_clusters: np.ndarray) -> float:
        g = treated_clusters[frame["cl"].to_numpy()].astype(float)
        other = frame.assign(g=g, gp=g * frame["p"])
        fit = pf.feols(formula, data=other, vcov="iid", weights=weights)
        return float(fit._beta_hat[list(map(str, fit._coefnames)).index("gp")])

    return refit


def _unit_changes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Each unit's mean after minus mean before, and its cluster, on a balanced panel whose
    units each sit in one cluster; None otherwise."""
    if not {"u", "t", "cl"} <= set(frame) or frame.duplicated(["u", "t"]).any():
        return None
    if len(frame) != frame["u"].nunique() * frame["t"].nunique():
        return None
    unit_cl = frame.groupby("u")["cl"].agg(["min", "max"])
    if not bool((unit_cl["min"] == unit_cl["max"]).all()):
        return None
    means = frame.groupby(["u", "p"])["y"].mean().unstack()
    if means.shape[1] != 2 or means.isna().any().any():
        return None
    change = (means[1.0] - means[0.0]).to_numpy()
    return change, unit_cl["min"].reindex(means.index).to_numpy()


def _did_pre_trends(frame: pd.DataFrame, formula: str, vcov, weights: str | None,
                    spec: EvaluationSpec) -> Check:
    if "t" not in frame:
        return Check("pre_trends", None, "no time: column, so pre-treatment trends cannot be "
                     "compared; add time: to test them")
    pre = sorted(frame.loc[frame.p == 0, "t"].unique())
    if len(pre) < 2:
        return Check("pre_trends", None, "only one period before treatment: parallel trends "
                     "cannot be tested")
    leads = []
    for k, period in enumerate(pre[:-1]):
        frame[f"lead{k}"] = frame["g"] * (frame["t"] == period)
        leads.append(f"lead{k}")
    lhs, rest = formula.split(" ~ ", 1)
    fit = pf.feols(f"{lhs} ~ {' + '.join(leads)} + {rest}", data=frame, vcov=vcov,
                   weights=weights)
    present = [n for n in leads if n in map(str, fit._coefnames)]
    beta, cov = fixest_block(fit, present)
    return wald_test(beta, cov, df_denominator=fit._df_t).pre_trend_check(
        spec.alpha, f"treated-minus-comparison differences in the {len(present)} earlier "
        f"pre-periods (relative to period {pre[-1]})",
        "the groups were already diverging before treatment")


def _means_table(frame: pd.DataFrame, spec: EvaluationSpec) -> list[dict]:
    """The 2×2 table of outcome means (weighted when weights are given) with their standard
    errors, the two changes and their difference."""
    cell = {}
    for g in (1, 0):
        for p in (0, 1):
            part = frame[(frame.g == g) & (frame.p == p)]
            y = part["y"].to_numpy()
            w = part["w"].to_numpy() if spec.weights else np.ones(len(y))
            mean = float(np.average(y, weights=w))
            var = float(np.sum(w**2 * (y - mean) ** 2) / w.sum() ** 2) if len(y) > 1 else 0.0
            cell[g, p] = (mean, np.sqrt(var * len(y) / max(len(y) - 1, 1)))
    rows = []
    for g, name in ((1, "treated"), (0, "comparison")):
        for p, when in ((0, "before"), (1, "after")):
            m, se = cell[g, p]
            rows.append(Estimate.from_se(m, se, spec.alpha).row(f"mean: {name}, {when}"))
    # Repeated cross-sections: the four cells are independent samples. On a panel (unit:) the
    # same units are seen before and after, so the changes and the difference-in-differences
    # take the panel's standard error: cluster-robust by unit (or cluster:), from each unit's
    # contribution to the combination of cell means, as the regression's is.
    panel = "u" in frame
    changes = {}
    for g, name in ((1, "treated"), (0, "comparison")):
        d = cell[g, 1][0] - cell[g, 0][0]
        se = (_clustered_se(frame, spec, {(g, 1): 1.0, (g, 0): -1.0}) if panel
              else float(np.hypot(cell[g, 1][1], cell[g, 0][1])))
        changes[g] = (d, se)
        rows.append(Estimate.from_se(d, se, spec.alpha).row(f"change: {name}, after − before"))
    dd = changes[1][0] - changes[0][0]
    dd_se = (_clustered_se(frame, spec, {(1, 1): 1.0, (1, 0): -1.0, (0, 1): -1.0,
                                         (0, 0): 1.0}) if panel
             else float(np.hypot(changes[1][1], changes[0][1])))
    rows.append(Estimate.from_se(dd, dd_se, spec.alpha).row(
        "difference-in-differences (means)" + (", panel standard error" if panel else "")))
    return rows


def _clustered_se(frame: pd.DataFrame, spec: EvaluationSpec,
                  signs: dict[tuple[int, int], float]) -> float:
    """Cluster-robust standard error of a signed sum of (weighted) cell means: each cluster's
    contribution is its weighted deviations from the cell means over the cell weights; the
    variance is G/(G - 1) times the sum of their squares."""
    cl = frame["cl"] if "cl" in frame else frame["u"]
    w = frame["w"] if spec.weights else pd.Series(1.0, index=frame.index)
    influence = pd.Series(0.0, index=frame.index)
    for (g, p), sign in signs.items():
        in_cell = (frame.g == g) & (frame.p == p)
        wc, yc = w[in_cell], frame.loc[in_cell, "y"]
        mean = float(np.average(yc, weights=wc))
        influence[in_cell] = sign * wc * (yc - mean) / wc.sum()
    per_cluster = influence.groupby(cl.to_numpy()).sum().to_numpy()
    n = len(per_cluster)
    return float(np.sqrt(n / (n - 1) * np.sum(per_cluster**2))) if n > 1 else float("nan")


# ----------------------------------------------------------------------------------------------
# event study
# ----------------------------------------------------------------------------------------------


class EventStudyOptions(DesignOptions):
    """``options.window: [first, last]`` bins relative periods at or beyond the endpoints.

    >>> EventStudyOptions.from_spec(EvaluationSpec(data="x.csv", design="event_study",
    ...     outcome="y", options={"window": [-4, 3]})).window
    (-4, 3)
    """

    window: tuple[int, int] | None = Field(None, strict=False,
                                           description="use for example window: [-5, 5]")

    @field_validator("window", mode="before")
    @classmethod
    def _first_and_last(cls, window):
        ok = window is None or (
            isinstance(window, list | tuple) and len(window) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in window)
            and window[0] <= -2 and window[1] >= 0)
        if not ok:
            raise ValueError("not [first, last] relative periods with first <= -2 and "
                             "last >= 0")
        return window

    @classmethod
    def from_spec(cls, spec: EvaluationSpec) -> EventStudyOptions:
        """Validate ``window`` (first <= -2, last >= 0)."""
        return cls.of(spec)


def first_treated(data: pd.DataFrame, spec: EvaluationSpec, unit: pd.Series,
                  time: pd.Series) -> pd.Series:
    """Each row's unit's first treated period (NaN: never treated), from ``cohort:``, or
    ``treatment:`` with ``treatment_start:``, or the first period a unit-period ``treatment:``
    is 1.

    >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "d": [0, 1, 0, 0]})
    >>> s = EvaluationSpec(data="p.csv", design="event_study", outcome="y", treatment="d")
    >>> first_treated(df, s, df.u, df.t).tolist()
    [2.0, 2.0, nan, nan]
    """
    if spec.cohort:
        cohort = pd.to_numeric(data[spec.cohort], errors="coerce").astype(float)
        cohort = cohort.where(cohort > 0)
        per_unit = cohort.groupby(unit.to_numpy()).nunique(dropna=False)
        if (per_unit > 1).any():
            raise InputFileError(spec.data, f"{int((per_unit > 1).sum())} units have more than "
                                 "one first-treated period", column=spec.cohort,
                                 fix="give each unit one first-treated period on all its rows")
        return cohort
    if not spec.treatment:
        raise ConfigError(f"design {spec.design!r} needs the treatment timing: cohort: (first "
                          "treated period) or treatment:", fix="add one to the spec")
    d = binary(data, spec.treatment, spec)
    if spec.treatment_start is not None:
        ever = d.groupby(unit.to_numpy()).transform("max")
        return pd.Series(np.where(ever == 1, float(spec.treatment_start), np.nan),
                         index=data.index)
    first = time.where(d == 1).groupby(unit.to_numpy()).transform("min")
    return first.astype(float)


def estimate_event_study(data: pd.DataFrame, spec: EvaluationSpec, *,
                         diagnostics: bool = True) -> EvaluationResult:
    """TWFE event study: unit and period fixed effects, relative-period dummies (reference
    -1), clustered by unit; headline = the average of the post-period coefficients.
    ``diagnostics=False`` skips the pre-trend test (the fast path of simulations).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> u, t = np.repeat(np.arange(60), 6), np.tile(np.arange(1, 7), 60)
    >>> df = pd.DataFrame({"u": u, "t": t, "c": np.where(u < 30, 4, 0)})
    >>> df["y"] = 2.0 * ((df.c > 0) & (df.t >= 4)) + rng.normal(size=len(df))
    >>> r = estimate_event_study(df, EvaluationSpec(data="p.csv", design="event_study",
    ...     outcome="y", unit="u", time="t", cohort="c"))
    >>> round(r.estimate), [row["rel_time"] for row in r.tables["event_study"]][:3]
    (2, [-3, -2, -1])
    """
    opts = EventStudyOptions.from_spec(spec)
    frame = pd.DataFrame({"y": pd.to_numeric(data[spec.outcome], errors="coerce")
                          .to_numpy(dtype=float)})
    unit = pd.Series(pd.factorize(data[spec.unit])[0], index=data.index)
    time = periods(data, spec.time, spec)
    frame["u"], frame["t"] = unit.to_numpy(), time.to_numpy()
    cohort = first_treated(data, spec, unit, time)
    frame["c"] = cohort.to_numpy()
    cluster = _cluster_column(data, spec, frame)
    covs = covariate_columns(data, spec, frame)
    if spec.weights:
        frame["w"] = pd.to_numeric(data[spec.weights], errors="coerce").to_numpy(dtype=float)
    frame, warnings = _complete(frame, ["y", *covs], spec)
    if frame["c"].notna().sum() == 0:
        raise InputFileError(spec.data, "no unit is ever treated",
                             column=spec.cohort or spec.treatment, fix="check the timing column")
    if frame["t"].nunique() < 2:
        raise InputFileError(spec.data, "only one period", column=spec.time,
                             fix="an event study needs several periods")
    treated = frame["c"].notna()
    binned, never, earliest = _relative_periods(frame, opts)
    if earliest is not None:
        warnings.append(f"no never-treated units: relative period {earliest} is a second "
                        "reference (set to zero) so the event study is identified")
    cohorts = sorted(frame.loc[treated, "c"].unique())
    if len(cohorts) > 1:
        warnings.append(f"treatment timing is staggered ({len(cohorts)} first-treated periods): "
                        "with effects that differ by cohort or grow over time a two-way fixed "
                        "effects event study is biased (Sun & Abraham 2021); use design "
                        "staggered_did")
    frame["rel"] = binned.to_numpy()
    rhs = [f"i(rel, ref={REFERENCE})", *covs]
    fit = pf.feols("y ~ " + " + ".join(rhs) + " | u + t", data=frame, vcov={"CRV1": "cl"},
                   weights="w" if spec.weights else None)
    coefs = {int(float(n.split("::")[1])): n for n in map(str, fit._coefnames)
             if n.startswith("rel::")}
    rows, post, pre = _event_rows(fit, coefs, spec)
    beta, vcov = fixest_block(fit, [coefs[k] for k in post])
    est, se = linear_combination(beta, vcov, np.full(len(post), 1 / len(post)))
    head = Estimate.from_se(est, se, spec.alpha, float(fit._df_t))
    checks = [_event_pre_trends(fit, coefs, pre, spec)] if diagnostics else []
    g = n_clusters(frame["cl"])
    check, cluster_warnings = cluster_check(g, cluster, FEW_CLUSTERS_REMEDY)
    frame["g"] = treated.astype(float).to_numpy()
    refit = _EventRefit(frame, opts, covs, spec)
    few = _few_treated(frame, cluster, head, None, spec, refit,
                       max_assignments=EVENT_STUDY_ASSIGNMENTS)
    if few.headline is not None and checks and checks[0].passed is not None:
        observed = fixest_block(fit, [coefs[k] for k in pre])[0]
        placebo_pre = np.asarray(refit.pre_statistics)
        checks = [randomised_pre_trends(
            PlaceboInference(float(np.sum(np.square(observed))),
                             placebo_pre[np.isfinite(placebo_pre)], exact=False),
            checks[0], spec.alpha, "treated clusters",
            "outcomes were already diverging before treatment")]
    checks = [c for c in (few.check, *checks, check) if c is not None]
    warnings += cluster_warnings
    estimates = [head.row("average of post-period coefficients (TWFE)")]
    if few.headline is not None:
        estimates = [head.row("average of post-period coefficients (TWFE, cluster-robust SE: "
                              "not reliable here)"), few.headline.row(few.row_label)]
        head = few.headline
    window = f", relative periods binned at {opts.window[0]} and {opts.window[1]}" \
        if opts.window else ""
    method = (f"two-way fixed effects event study (unit and period fixed effects{window}, "
              f"reference period -1, CR1 standard errors clustered by {cluster}); the estimate "
              f"is the equal-weighted average of the {len(post)} post-period coefficients "
              f"(relative periods {min(post)} to {max(post)}){few.method}")
    return EvaluationResult(
        design="event_study", method=method, outcome=spec.outcome, estimand="ATT",
        estimate=head.estimate, se=head.se, ci_low=head.ci_low, ci_high=head.ci_high,
        p_value=head.p_value, n=len(frame), n_treated=int(frame.loc[treated, "u"].nunique()),
        n_control=int(never), n_clusters=g, checks=checks, warnings=warnings,
        tables={"event_study": rows, "estimates": estimates},
        spec=spec.model_dump(mode="json"), library=f"pyfixest {pf.__version__}", alpha=spec.alpha)


def _relative_periods(frame: pd.DataFrame, opts: EventStudyOptions
                      ) -> tuple[pd.Series, int, int | None]:
    """Binned relative periods (never-treated rows at the reference), the number of
    never-treated units, and the earliest relative period when it had to become a second
    reference (no never-treated units)."""
    treated = frame["c"].notna()
    rel = (frame["t"] - frame["c"]).where(treated)
    if opts.window:
        rel = rel.clip(*opts.window)
    binned = rel.fillna(REFERENCE).astype("int64")
    never = int(frame.loc[~treated, "u"].nunique())
    second = None
    if never == 0:
        earliest = int(rel.min())
        if earliest < -1:
            binned = binned.where(binned != earliest, REFERENCE)
            second = earliest
    return binned, never, second


class _EventRefit:
    """The event study's headline with other clusters treated (``refit(mask)``): they take
    the observed treated clusters' first-treated periods, in order. The outcome, covariates
    and fixed effects stay the same across assignments, so they are demeaned once (pyfixest's
    alternating projections, as its ``feols`` does) and each assignment demeans only its
    relative-period dummies and solves one least-squares problem: the coefficients
    ``feols`` would give, without building a model matrix from a formula each time. A
    rank-deficient assignment falls back to ``feols``, which drops collinear dummies. Each
    call also records the sum of squared pre-period coefficients (``pre_statistics``), the
    randomisation reference of the pre-trend test.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> u, t = np.repeat(np.arange(8), 4), np.tile(np.arange(1, 5), 8)
    >>> frame = pd.DataFrame({"y": rng.normal(size=32), "u": u, "t": t, "cl": u,
    ...                       "c": np.where(u < 2, 3.0, np.nan)})
    >>> spec = EvaluationSpec(data="p.csv", design="event_study", outcome="y", unit="u",
    ...                       time="t", cohort="c")
    >>> refit = _EventRefit(frame, EventStudyOptions.from_spec(spec), [], spec)
    >>> mask = np.isin(np.arange(8), [4, 5])
    >>> abs(refit(mask) - refit.with_feols(mask)) < 1e-9
    True
    """

    TOLERANCE = 1e-10

    def __init__(self, frame: pd.DataFrame, opts: EventStudyOptions, covs: list[str],
                 spec: EvaluationSpec) -> None:
        from pyfixest.estimation import demean

        self.frame, self.opts, self.covs, self.spec = frame, opts, covs, spec
        self._demean = demean
        self.fixed = np.column_stack([pd.factorize(frame["u"])[0],
                                      pd.factorize(frame["t"])[0]]).astype(np.uint64)
        self.weights = (frame["w"].to_numpy(dtype=float) if spec.weights
                        else np.ones(len(frame)))
        self.root = np.sqrt(self.weights)
        outcome_and_covariates = np.ascontiguousarray(frame[["y", *covs]].to_numpy(dtype=float))
        self.within = self._within(outcome_and_covariates)
        first = frame.groupby("cl")["c"].min()
        self.clusters, self.cohorts = first.index, first.dropna().to_numpy()
        self.pre_statistics: list[float] = []

    def _within(self, x: np.ndarray) -> np.ndarray:
        out, _ = self._demean(x, self.fixed, self.weights, tol=self.TOLERANCE)
        return out

    def _assigned(self, treated_clusters: np.ndarray) -> pd.DataFrame:
        placed = pd.Series(np.nan, index=self.clusters)
        placed.iloc[np.flatnonzero(treated_clusters)] = \
            self.cohorts[: int(treated_clusters.sum())]
        other = self.frame.assign(c=placed.reindex(self.frame["cl"].to_numpy()).to_numpy())
        other["rel"] = _relative_periods(other, self.opts)[0].to_numpy()
        return other

    def __call__(self, treated_clusters: np.ndarray) -> float:
        rel = self._assigned(treated_clusters)["rel"].to_numpy()
        levels = np.array(sorted(set(rel.tolist()) - {REFERENCE}))
        if not (levels >= 0).any():
            self.pre_statistics.append(float("nan"))
            return float("nan")
        dummies = np.ascontiguousarray((rel[:, None] == levels[None, :]).astype(float))
        x = np.column_stack([self._within(dummies), self.within[:, 1:]]) * self.root[:, None]
        beta, _, rank, _ = np.linalg.lstsq(x, self.within[:, 0] * self.root, rcond=None)
        if rank < x.shape[1]:
            return self.with_feols(treated_clusters)
        by_level = beta[: len(levels)]
        self.pre_statistics.append(float(np.sum(np.square(by_level[levels < REFERENCE]))))
        return float(np.mean(by_level[levels >= 0]))

    def with_feols(self, treated_clusters: np.ndarray) -> float:
        """The same refit through pyfixest's ``feols`` (the reference the fast path equals)."""
        rhs = [f"i(rel, ref={REFERENCE})", *self.covs]
        try:
            fit = pf.feols("y ~ " + " + ".join(rhs) + " | u + t",
                           data=self._assigned(treated_clusters), vcov="iid",
                           weights="w" if self.spec.weights else None)
        except Exception:
            self.pre_statistics.append(float("nan"))
            return float("nan")
        by_level = {float(n.split("::")[1]): b for n, b in
                    zip(map(str, fit._coefnames), fit._beta_hat, strict=True)
                    if n.startswith("rel::")}
        post = [b for k, b in by_level.items() if k >= 0]
        self.pre_statistics.append(float(sum(b * b for k, b in by_level.items()
                                             if k < REFERENCE)))
        return float(np.mean(post)) if post else float("nan")


def _event_rows(fit, coefs: dict[int, str], spec: EvaluationSpec
                ) -> tuple[list[dict], list[int], list[int]]:
    rows = []
    for k in sorted({*coefs, REFERENCE}):
        if k == REFERENCE:
            rows.append({"rel_time": k, "estimate": 0.0, "se": None, "ci_low": None,
                         "ci_high": None})
            continue
        e = fixest_estimate(fit, coefs[k], spec.alpha)
        rows.append({"rel_time": k, "estimate": e.estimate, "se": e.se, "ci_low": e.ci_low,
                     "ci_high": e.ci_high})
    post = [k for k in sorted(coefs) if k >= 0]
    pre = [k for k in sorted(coefs) if k < REFERENCE]
    if not post:
        raise InputFileError(spec.data, "no treated unit is observed after treatment starts",
                             column=spec.time, fix="check the timing column and the periods covered")
    return rows, post, pre


def _event_pre_trends(fit, coefs: dict[int, str], pre: list[int], spec: EvaluationSpec) -> Check:
    if not pre:
        return Check("pre_trends", None, "no pre-period before the reference period: "
                     "pre-trends cannot be tested")
    beta, vcov = fixest_block(fit, [coefs[k] for k in pre])
    return wald_test(beta, vcov, df_denominator=fit._df_t).pre_trend_check(
        spec.alpha, f"Wald test that the {len(pre)} pre-period coefficients (relative periods "
        f"{min(pre)} to {max(pre)}) are zero", "outcomes were already diverging before treatment")


register(Design(
    name="did", label="Difference-in-differences", required=("outcome", "treatment"),
    estimate=estimate_did, option_model=DidOptions,
    evidence=EvidenceCategory("qed"), tables=(ESTIMATES,),
    description="Two-group, two-period difference-in-differences with fixed effects, the 2×2 "
                "means table and a pre-trend test."))
register(Design(
    name="event_study", label="Event study (two-way fixed effects)",
    required=("outcome", "unit", "time"), estimate=estimate_event_study,
    option_model=EventStudyOptions,
    evidence=EvidenceCategory("qed"), tables=(ESTIMATES, EVENT_STUDY),
    description="Relative-period coefficients with unit and period fixed effects and a joint "
                "pre-trend test; for staggered timing use staggered_did."))
