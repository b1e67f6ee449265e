"""Staggered adoption (design ``staggered_did``): heterogeneity-robust difference-in-differences.

Units start treatment in different periods (``cohort:`` = first treated period; blank or 0 =
never treated). A two-way fixed effects regression then compares late adopters with early
ones that are already treated, and with effects that differ by cohort or grow over time it is
biased, even in sign (Goodman-Bacon 2021). This design reports three estimators side by side:

* **Callaway & Sant'Anna (2021)** -- the headline. Group-time effects ATT(g, t) are 2×2
  comparisons of cohort g with never-treated (``control_group: never_treated``, default) or
  not-yet-treated units (``not_yet_treated``) between period t and the base period (g - 1 for
  post periods; t - 1 for pre periods with ``base_period: varying``, the default, or g - 1 with
  ``universal``). They are aggregated with cohort-size weights into the simple ATT and an
  event-time (dynamic) curve. Standard errors are analytic, from the influence functions,
  including the estimation of the weights, summed within units (or ``cluster:``).
* **Sun & Abraham (2021)** interaction-weighted estimator: the outcome on cohort ×
  relative-period indicators with unit and period fixed effects (never-treated units, or else
  the last cohort to adopt, as controls), averaged with cohort-size weights; CR1 standard
  errors clustered by unit.
* **Naive TWFE**, for comparison.

What we compute ourselves and why. Without covariates, Callaway-Sant'Anna is a set of
differences of cohort means, so it is computed on the unit × period matrix in a few
vectorised numpy operations; and because every regressor of Sun-Abraham and TWFE varies only
by cohort and period, their fixed-effects regressions reduce exactly to cohort × period cell
sums (:func:`cohort_time_ols`). A million person-periods take about a second where pyfixest's
regression on the rows takes tens of seconds (``python -m bench.evaluate_designs staggered``).
tests/test_evaluate_staggered.py checks Callaway-Sant'Anna against csdid and diff-diff (the
ports of the R did package), Sun-Abraham against diff-diff and TWFE and the cell regression
against pyfixest ``feols`` on the rows, on the Cheng & Hoekstra (2013) castle-doctrine panel,
and all three against simulations with a known, cohort-heterogeneous effect. Covariates (the
doubly robust version) and weights are not supported: such a spec is rejected rather than
silently changed.

Options: ``control_group`` (``never_treated`` | ``not_yet_treated``), ``base_period``
(``varying`` | ``universal``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from upward.evaluate.spec import EvaluationSpec
>>> rng = np.random.default_rng(0)
>>> n, t = 300, 6
>>> unit, time = np.repeat(np.arange(n), t), np.tile(np.arange(1, t + 1), n)
>>> cohort = np.repeat(rng.choice([0, 3, 5], n), t)
>>> effect = np.where((cohort > 0) & (time >= cohort), 1.0 + (cohort == 3), 0.0)
>>> df = pd.DataFrame({"id": unit, "t": time, "g": cohort,
...                    "y": effect + 0.2 * time + rng.normal(size=n * t)})
>>> r = estimate_staggered(df, EvaluationSpec(data="p.csv", design="staggered_did",
...     outcome="y", unit="id", time="t", cohort="g"))
>>> r.estimand, [row["method"].split(" ")[0] for row in r.tables["estimates"]]
('ATT', ['Callaway', 'Sun', 'naive'])
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.designs.panel import periods
from upward.evaluate.inference import (
    Estimate,
    PlaceboInference,
    cluster_check,
    linear_combination,
    treated_cluster_check,
    wald_test,
)
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ESTIMATES, EVENT_STUDY, ResultTable

#: Shuffles of the first-treated periods for randomisation inference with few treated clusters.
STAGGERED_ASSIGNMENTS = 199

GROUP_TIME = ResultTable("group_time", "Group-time effects", ("cohort", "time", "att", "se"),
                         "group_time", ("se",))

CONTROL_GROUPS = {"never_treated": "never-treated", "not_yet_treated": "not-yet-treated"}
BASE_PERIODS = ("varying", "universal")
NEVER = np.inf


class StaggeredOptions(DesignOptions):
    """``options:`` of staggered_did, validated.

    >>> StaggeredOptions.from_spec(EvaluationSpec(data="x.csv", design="staggered_did",
    ...     outcome="y")).control_group
    'never_treated'
    """

    control_group: Literal["never_treated", "not_yet_treated"] = Field(
        "never_treated", description="use never_treated (the default) or not_yet_treated")
    base_period: Literal["varying", "universal"] = Field(
        "varying", description="use varying (the default) or universal")

    @classmethod
    def from_spec(cls, spec: EvaluationSpec) -> StaggeredOptions:
        """Reject unknown values, covariates and weights (not supported by this design)."""
        opts = cls.of(spec)
        if spec.covariates:
            raise ConfigError("covariates: staggered_did estimates unconditional parallel "
                              "trends and does not take covariates",
                              fix="remove covariates:, or use design event_study or did")
        if spec.weights:
            raise ConfigError("weights: staggered_did does not take weights",
                              fix="remove weights:, or use design event_study")
        return opts


@dataclass
class Panel:
    """A balanced panel as a units × periods matrix.

    ``outcome[i, j]`` is unit i in period ``times[j]``; ``cohort[i]`` its first treated period
    (inf: never treated); ``cluster[i]`` its cluster code.
    """

    outcome: np.ndarray
    times: np.ndarray
    cohort: np.ndarray
    cluster: np.ndarray
    notes: list[str] = field(default_factory=list)
    n_clusters: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_clusters = int(pd.unique(self.cluster).size)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return self.outcome.shape[0]

    def long(self) -> pd.DataFrame:
        """One row per unit-period: u, t, y, g (cohort, inf for never), cl.

        >>> p = Panel(np.array([[1.0, 2.0]]), np.array([1, 2]), np.array([2.0]), np.array([0]))
        >>> p.long()[["u", "t", "y"]].values.tolist()
        [[0.0, 1.0, 1.0], [0.0, 2.0, 2.0]]
        """
        n, t = self.outcome.shape
        return pd.DataFrame({"u": np.repeat(np.arange(n), t), "t": np.tile(self.times, n),
                             "y": self.outcome.ravel(), "g": np.repeat(self.cohort, t),
                             "cl": np.repeat(self.cluster, t)})


def balanced_panel(data: pd.DataFrame, spec: EvaluationSpec) -> Panel:
    """The spec's data as a balanced panel: rows without an outcome are dropped, then units
    not observed in every period, and units treated from the first period on (they have no
    pre-period); a cohort after the last period counts as never treated. Each is noted.

    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3], "t": [1, 2, 1, 2, 1], "g": [2, 2, 0, 0, 0],
    ...                    "y": [1.0, 2, 3, 4, 5]})
    >>> p = balanced_panel(df, EvaluationSpec(data="p.csv", design="staggered_did",
    ...                    outcome="y", unit="id", time="t", cohort="g"))
    >>> p.outcome.shape, p.cohort.tolist(), p.notes[0][:30]
    ((2, 2), [2.0, inf], '1 units not observed in every ')
    """
    unit = pd.Series(pd.factorize(data[spec.unit])[0], index=data.index)
    time = periods(data, spec.time, spec)
    y = pd.to_numeric(data[spec.outcome], errors="coerce").to_numpy(dtype=float)
    cohort = pd.to_numeric(data[spec.cohort], errors="coerce").to_numpy(dtype=float)
    cohort = np.where(np.isnan(cohort) | (cohort <= 0), NEVER, cohort)
    frame = pd.DataFrame({"u": unit.to_numpy(), "t": time.to_numpy(), "y": y, "g": cohort})
    frame["cl"] = pd.factorize(data[spec.cluster])[0] if spec.cluster else frame["u"]
    notes = []
    per_unit = frame.groupby("u")["g"].agg(["min", "max"])
    varying = per_unit["min"] != per_unit["max"]
    if varying.any():
        raise InputFileError(spec.data, f"{int(varying.sum())} units have more than one "
                             "first-treated period", column=spec.cohort,
                             fix="give each unit one first-treated period on all its rows")
    all_times, t_pos = np.unique(frame["t"].to_numpy(), return_inverse=True)
    if np.bincount(frame["u"].to_numpy() * len(all_times) + t_pos).max() > 1:
        raise InputFileError(spec.data, "a unit has more than one row for the same period",
                             column=spec.time, fix="keep one row per unit and period")
    if spec.cluster and (frame.groupby("u")["cl"].nunique() > 1).any():
        raise InputFileError(spec.data, "a unit is in more than one cluster",
                             column=spec.cluster, fix="clusters must contain whole units")
    frame = frame[~np.isnan(frame["y"])]
    times = np.sort(frame["t"].unique())
    if len(times) < 2:
        raise InputFileError(spec.data, "only one period with an outcome", column=spec.time,
                             fix="staggered adoption needs several periods")
    counts = frame.groupby("u")["t"].transform("size")
    short = frame.loc[counts < len(times), "u"].nunique()
    if short:
        notes.append(f"{short:,} units not observed in every period (or with a blank outcome) "
                     "were left out: the estimators need a balanced panel")
        frame = frame[counts == len(times)]
    late = frame["g"].between(times[-1], NEVER, inclusive="neither")
    if late.any():
        notes.append(f"{frame.loc[late, 'u'].nunique():,} units first treated after the last "
                     "period count as never treated")
        frame.loc[late, "g"] = NEVER
    always = frame["g"] <= times[0]
    if always.any():
        notes.append(f"{frame.loc[always, 'u'].nunique():,} units treated from the first "
                     "period on were left out: they have no pre-treatment period")
        frame = frame[~always]
    if frame.empty:
        raise InputFileError(spec.data, "no unit is observed in every period",
                             column=spec.unit, fix="check the unit and time columns")
    codes, units = pd.factorize(frame["u"])
    column = np.searchsorted(times, frame["t"].to_numpy())
    outcome = np.empty((len(units), len(times)))
    outcome[codes, column] = frame["y"].to_numpy()
    first = frame.drop_duplicates("u")
    order = pd.factorize(first["u"])[0]
    cohort_u = np.empty(len(units))
    cohort_u[order] = first["g"].to_numpy()
    cluster_u = np.empty(len(units), dtype=np.int64)
    cluster_u[order] = pd.factorize(first["cl"])[0]
    return Panel(outcome, times, cohort_u, cluster_u, notes)


@dataclass
class GroupTime:
    """Callaway-Sant'Anna group-time effects and their influence functions (units × cells)."""

    cohort: np.ndarray
    time: np.ndarray
    att: np.ndarray
    influence: np.ndarray
    n_units: int
    skipped: int = 0

    @property
    def event_time(self) -> np.ndarray:
        """t - g of each cell."""
        return self.time - self.cohort


def group_time_effects(panel: Panel, control_group: str = "never_treated",
                       base_period: str = "varying") -> GroupTime:
    """ATT(g, t) for every treated cohort g and period t (Callaway & Sant'Anna 2021, eq. 2.6
    without covariates): the change in cohort g's mean outcome between the base period and t,
    minus the same change among control units. The influence function of cell k for unit i is
    ``N/n_g (dY_i - mean_g) 1{G_i = g} - N/n_c (dY_i - mean_c) 1{i control}``.

    >>> y = np.array([[0.0, 0, 3], [0, 0, 0], [1, 1, 1]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf]), np.arange(3))
    >>> gt = group_time_effects(p)
    >>> gt.time.tolist(), gt.att.tolist()
    ([2, 3], [0.0, 3.0])
    """
    y, times, g_unit = panel.outcome, panel.times, panel.cohort
    n = panel.n_units
    never = np.isinf(g_unit)
    cohorts, cells_t, atts, blocks, skipped = [], [], [], [], 0
    for g in np.unique(g_unit[~never]):
        first = int(np.searchsorted(times, g))
        cols = np.arange(len(times))
        base = np.where((cols >= first) | (base_period == "universal"), first - 1, cols - 1)
        keep = (base >= 0) & (cols != base)
        cols, base = cols[keep], base[keep]
        treated = g_unit == g
        if control_group == "never_treated":
            control = np.broadcast_to(never[:, None], (n, len(cols)))
        else:
            latest = times[np.maximum(cols, base)]
            control = (g_unit[:, None] > latest[None, :]) & ~treated[:, None]
        n_c = control.sum(axis=0)
        ok = n_c > 0
        skipped += int((~ok).sum())
        cols, base, control, n_c = cols[ok], base[ok], control[:, ok], n_c[ok]
        if len(cols) == 0:
            continue
        change = y[:, cols] - y[:, base]
        n_g = int(treated.sum())
        mean_g = change[treated].mean(axis=0)
        mean_c = np.where(control, change, 0.0).sum(axis=0) / n_c
        psi = np.where(treated[:, None], (change - mean_g) * (n / n_g), 0.0)
        psi -= np.where(control, (change - mean_c) * (n / n_c), 0.0)
        cohorts.append(np.full(len(cols), g))
        cells_t.append(times[cols])
        atts.append(mean_g - mean_c)
        blocks.append(psi)
    if not atts:
        raise ConfigError(f"options.control_group: {control_group} leaves no control units "
                          "for any cohort", fix="use control_group: not_yet_treated, or add "
                          "never-treated units")
    return GroupTime(np.concatenate(cohorts), np.concatenate(cells_t), np.concatenate(atts),
                     np.ascontiguousarray(np.hstack(blocks)), n, skipped)


def aggregate(gt: GroupTime, panel: Panel, keep: np.ndarray) -> tuple[float, np.ndarray]:
    """Cohort-size-weighted average of the kept cells and its influence function, including
    the estimated weights' own influence (Callaway & Sant'Anna 2021, section 3; the R did
    package's ``wif``).

    >>> y = np.array([[0.0, 0, 3], [0, 0, 0], [1, 1, 1]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf]), np.arange(3))
    >>> gt = group_time_effects(p)
    >>> aggregate(gt, p, gt.event_time >= 0)[0]
    3.0
    """
    idx = np.flatnonzero(keep)
    n = gt.n_units
    sizes = {g: np.sum(panel.cohort == g) for g in np.unique(gt.cohort[idx])}
    pg = np.array([sizes[g] / n for g in gt.cohort[idx]])
    total = pg.sum()
    w = pg / total
    estimate = float(w @ gt.att[idx])
    member = (panel.cohort[:, None] == gt.cohort[idx][None, :]).astype(float)
    centred = member - pg[None, :]
    wif = centred / total - centred.sum(axis=1, keepdims=True) * (pg / total**2)[None, :]
    influence = gt.influence[:, idx] @ w + wif @ gt.att[idx]
    return estimate, influence


def covariance(influence: np.ndarray, panel: Panel) -> np.ndarray:
    """Covariance of estimates from their influence functions (units × estimates), summed
    within clusters first when the cluster is coarser than the unit.

    >>> p = Panel(np.zeros((4, 2)), np.array([1, 2]), np.full(4, np.inf), np.arange(4))
    >>> covariance(np.array([[1.0], [-1.0], [1.0], [-1.0]]), p).tolist()
    [[0.25]]
    """
    psi = _cluster_sums(influence, panel)
    return np.dot(psi.T, psi) / panel.n_units**2


def variances(influence: np.ndarray, panel: Panel) -> np.ndarray:
    """The diagonal of :func:`covariance` alone (cheaper for many estimates).

    >>> p = Panel(np.zeros((4, 2)), np.array([1, 2]), np.full(4, np.inf), np.arange(4))
    >>> variances(np.array([[1.0, 2.0], [-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]]), p).tolist()
    [0.25, 0.25]
    """
    psi = _cluster_sums(influence, panel)
    return np.einsum("ij,ij->j", psi, psi) / panel.n_units**2


def _cluster_sums(influence: np.ndarray, panel: Panel) -> np.ndarray:
    psi = np.ascontiguousarray(influence.reshape(len(influence), -1))
    if panel.n_clusters < panel.n_units:
        psi = pd.DataFrame(psi).groupby(panel.cluster).sum().to_numpy()
    return psi


def estimate_staggered(data: pd.DataFrame, spec: EvaluationSpec, *,
                       diagnostics: bool = True) -> EvaluationResult:
    """Callaway-Sant'Anna simple ATT (headline), its event-time curve and group-time table,
    with Sun-Abraham and naive TWFE side by side and a pre-trend test.
    ``diagnostics=False`` skips the two regressions (Sun-Abraham, TWFE): the fast path.

    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"id": np.repeat([1, 2, 3, 4], 3), "t": np.tile([1, 2, 3], 4),
    ...                    "g": np.repeat([3, 0, 2, 0], 3),
    ...                    "y": [0, 0, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0.]})
    >>> r = estimate_staggered(df, EvaluationSpec(data="p.csv", design="staggered_did",
    ...     outcome="y", unit="id", time="t", cohort="g"))
    >>> round(r.estimate, 4)
    1.3333
    """
    opts = StaggeredOptions.from_spec(spec)
    panel = balanced_panel(data, spec)
    never = np.isinf(panel.cohort)
    if never.all():
        raise InputFileError(spec.data, "no unit is treated during the panel",
                             column=spec.cohort, fix="check the first-treated periods")
    if opts.control_group == "never_treated" and not never.any():
        raise ConfigError("options.control_group: never_treated, but every unit is treated "
                          "at some point", fix="use control_group: not_yet_treated")
    warnings = list(panel.notes)
    cohorts, sizes = np.unique(panel.cohort[~never], return_counts=True)
    single = [_num(g) for g, k in zip(cohorts, sizes, strict=True) if k == 1]
    if single:
        warnings.append(f"{len(single)} cohorts have a single unit ({', '.join(map(str, single))}"
                        "): their group-time standard errors reflect only the control units' "
                        "variability and understate the uncertainty")
    gt = group_time_effects(panel, opts.control_group, opts.base_period)
    if gt.skipped:
        warnings.append(f"{gt.skipped} cohort-period cells have no control units left and "
                        "are not estimated")
    post = gt.event_time >= 0
    if not post.any():
        raise InputFileError(spec.data, "no cohort is observed after it is treated",
                             column=spec.cohort, fix="check the first-treated periods")
    simple, simple_if = aggregate(gt, panel, post)
    simple_se = float(np.sqrt(covariance(simple_if, panel)[0, 0]))
    head = Estimate.from_se(simple, simple_se, spec.alpha)
    events, event_if = _dynamic(gt, panel)
    event_cov = covariance(event_if, panel)
    event_rows = [{"rel_time": int(e), "estimate": est, "se": float(np.sqrt(event_cov[k, k])),
                   **_ci(est, float(np.sqrt(event_cov[k, k])), spec.alpha)}
                  for k, (e, est) in enumerate(events)]
    if opts.base_period == "universal":
        event_rows.append({"rel_time": -1, "estimate": 0.0, "se": None, "ci_low": None,
                           "ci_high": None})
        event_rows.sort(key=lambda r: r["rel_time"])
    cell_cov = np.sqrt(variances(gt.influence, panel))
    group_rows = [{"cohort": _num(g), "time": _num(t), "att": float(a), "se": float(s)}
                  for g, t, a, s in zip(gt.cohort, gt.time, gt.att, cell_cov, strict=True)]

    label = CONTROL_GROUPS[opts.control_group]
    table = [head.row(f"Callaway & Sant'Anna (2021), {label} controls, simple ATT")]
    if diagnostics:
        sa, twfe = _sun_abraham(panel, spec.alpha), _twfe(panel, spec.alpha)
        table += [sa.row("Sun & Abraham (2021) interaction-weighted ATT"),
                  twfe.row("naive two-way fixed effects (biased when effects differ by "
                           "cohort)")]
    checks = [_pre_trends(events, event_cov, spec)]
    clusters = panel.n_clusters
    if spec.cluster:
        check, cluster_warnings = cluster_check(clusters, spec.cluster, "treat the standard "
                                                "errors with caution")
        checks.append(check)
        warnings += cluster_warnings
    few_check, placebo = _few_treated(panel, opts, spec, head)
    checks.insert(0, few_check)
    analytic = head
    if placebo is not None:
        table[0] = head.row(table[0]["method"] + " (analytic SE: not reliable here)")
        head = placebo
        table.insert(1, head.row("randomisation inference (cohorts reassigned across "
                                 "clusters; placebo standard error, permutation p)"))
    if diagnostics and analytic.se and abs(twfe.estimate - head.estimate) > 2 * analytic.se:
        warnings.append(f"the naive TWFE estimate ({twfe.estimate:.4g}) is more than two "
                        f"standard errors from Callaway & Sant'Anna ({head.estimate:.4g}): "
                        "effects likely differ across cohorts or over time, and TWFE should "
                        "not be reported")
    n_cohorts = len(cohorts)
    method = (f"Callaway & Sant'Anna (2021) group-time ATTs with {label} controls and a "
              f"{opts.base_period} base period, aggregated with cohort-size weights to the "
              f"simple ATT over {int(post.sum())} post-treatment cells of {n_cohorts} cohorts; "
              f"analytic influence-function standard errors clustered by "
              f"{spec.cluster or spec.unit}. Sun & Abraham (2021) and naive TWFE in the "
              "estimates table")
    if placebo is not None:
        method += ("; headline standard error and p-value from randomisation inference, "
                   "because too few clusters are treated for the analytic ones")
    return EvaluationResult(
        design="staggered_did", method=method, outcome=spec.outcome, estimand="ATT",
        estimate=head.estimate, se=head.se, ci_low=head.ci_low, ci_high=head.ci_high,
        p_value=head.p_value, n=int(panel.outcome.size), n_treated=int((~never).sum()),
        n_control=int(never.sum()), n_clusters=clusters, checks=checks, warnings=warnings,
        tables={"estimates": table, "group_time": group_rows, "event_study": event_rows},
        spec=spec.model_dump(mode="json"),
        library=f"upward cohort-time estimators on numpy {np.__version__}",
        alpha=spec.alpha)


def _few_treated(panel: Panel, opts: StaggeredOptions, spec: EvaluationSpec,
                 head: Estimate) -> tuple[Check, Estimate | None]:
    """The treated-clusters rule (``inference.FEW_TREATED_CLUSTERS``): with too few treated
    clusters, or a cohort of one unit, the analytic standard errors rest on one or a few
    units. With too few treated clusters the headline becomes randomisation inference: the
    clusters' first-treated periods are shuffled among the clusters and the simple ATT
    re-estimated (the sharp null of no effect; cohort sizes kept)."""
    column = spec.cluster or spec.unit
    codes = pd.factorize(panel.cluster)[0]
    per_cluster = pd.Series(panel.cohort).groupby(codes)
    treated = ~np.isinf(per_cluster.min().to_numpy())
    check = treated_cluster_check(int(treated.sum()), len(treated), column)
    cohorts, sizes = np.unique(panel.cohort[~np.isinf(panel.cohort)], return_counts=True)
    single = [_num(g) for g, k in zip(cohorts, sizes, strict=True) if k == 1]
    single_text = (f"; cohort(s) {', '.join(map(str, single))} have a single unit, so their "
                   "group-time standard errors rest on that one unit" if single else "")
    if check.passed:
        if not single:
            return check, None
        return Check("treated_clusters", False, check.detail + single_text,
                     check.statistic), None
    if bool((per_cluster.nunique() > 1).any()):
        return Check("treated_clusters", False, check.detail + single_text + "; first-treated "
                     "periods differ within clusters, so they cannot be reassigned between "
                     "clusters: no randomisation inference", check.statistic), None
    cluster_cohort = per_cluster.min().to_numpy()
    rng = np.random.default_rng(spec.seed)
    placebo = []
    for _ in range(STAGGERED_ASSIGNMENTS):
        shuffled = rng.permutation(cluster_cohort)[codes]
        try:
            other = replace(panel, cohort=shuffled)
            gt = group_time_effects(other, opts.control_group, opts.base_period)
            post = gt.event_time >= 0
            value = aggregate(gt, other, post)[0] if post.any() else float("nan")
        except (ValueError, ZeroDivisionError, InputFileError):
            value = float("nan")
        placebo.append(value)
    values = np.asarray(placebo)
    result = PlaceboInference(head.estimate, values[np.isfinite(values)], exact=False)
    shown = result.headline(spec.alpha)
    se_text = "not available" if shown.se is None else f"{shown.se:,.4g}"
    p_text = "not available" if head.p_value is None else f"{head.p_value:.2g}"
    detail = (f"{check.detail}{single_text}. The headline p-value is therefore from "
              f"randomisation inference: the clusters' first-treated periods were shuffled "
              f"{result.assignments:,} times with the data as observed, p = "
              f"{shown.p_value:.3g}, and the standard error is the spread of those placebo "
              f"estimates ({se_text}), against an analytic p of {p_text}")
    return Check("treated_clusters", False, detail, check.statistic, shown.p_value), shown


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _ci(estimate: float, se: float, alpha: float) -> dict:
    e = Estimate.from_se(estimate, se, alpha)
    return {"ci_low": e.ci_low, "ci_high": e.ci_high}


def _dynamic(gt: GroupTime, panel: Panel) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Event-time aggregation: for each t - g, the cohort-size-weighted average of the cells."""
    results, influences = [], []
    for e in np.unique(gt.event_time):
        est, psi = aggregate(gt, panel, gt.event_time == e)
        results.append((float(e), est))
        influences.append(psi)
    return results, np.column_stack(influences)


def _pre_trends(events: list[tuple[float, float]], cov: np.ndarray,
                spec: EvaluationSpec) -> Check:
    pre = [k for k, (e, _) in enumerate(events) if e < 0]
    if not pre:
        return Check("pre_trends", None, "no pre-treatment event times to test")
    beta = np.array([events[k][1] for k in pre])
    return wald_test(beta, cov[np.ix_(pre, pre)]).pre_trend_check(
        spec.alpha, f"Wald test that the {len(pre)} pre-treatment event-time effects "
        "(Callaway & Sant'Anna) are zero",
        "cohorts were already diverging from their controls before treatment")


def cohort_time_ols(panel: Panel, regressors: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                      int]:
    """OLS of the outcome on regressors that vary only by cohort and period, with unit and
    period fixed effects and CR1 standard errors clustered by the panel's cluster -- the
    same numbers as pyfixest ``feols("y ~ x | unit + time", vcov={"CRV1": cluster})`` on the
    unit-period rows (tests/test_evaluate_staggered.py checks this), computed from cohort ×
    period cells.

    In a balanced panel the two-way within transformation of such a regressor is again a
    function of (cohort, period), so X'X and X'y need only cell sums of the demeaned outcome,
    and each unit's score is its T residuals times its cohort's T × K regressor block. That
    makes a million person-periods a matter of milliseconds where the regression on rows
    takes tens of seconds. ``regressors`` is cohorts × periods × K, the cohorts in the order
    of ``np.unique(panel.cohort)``. Returns the coefficients, their covariance and the t
    degrees of freedom (clusters - 1).

    >>> y = np.array([[0.0, 1, 2], [0, 1, 5], [1, 2, 3], [1, 2, 6]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, 3.0, np.inf, np.inf]), np.arange(4))
    >>> x = np.zeros((2, 3, 1)); x[0, 2, 0] = 1.0  # cohort 3 in period 3
    >>> beta, vcov, df = cohort_time_ols(p, x)
    >>> round(float(beta[0]), 6), df
    (0.0, 3)
    """
    _, member = np.unique(panel.cohort, return_inverse=True)
    sizes = np.bincount(member).astype(float)
    n = panel.n_units
    y = panel.outcome
    y_dm = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
    x = regressors
    x_time = np.einsum("h,htk->tk", sizes / n, x)
    x_dm = x - x.mean(axis=1, keepdims=True) - x_time[None] + x_time.mean(axis=0)
    cell_sums = np.zeros((len(sizes), y.shape[1]))
    np.add.at(cell_sums, member, y_dm)
    xtx = np.einsum("h,htk,htl->kl", sizes, x_dm, x_dm)
    xty = np.einsum("htk,ht->k", x_dm, cell_sums)
    beta = np.linalg.solve(xtx, xty)
    fitted = x_dm @ beta
    scores = np.zeros((n, x.shape[2]))
    for h in range(len(sizes)):
        rows = member == h
        scores[rows] = (y_dm[rows] - fitted[h]) @ x_dm[h]
    scores = _cluster_sums(scores, panel)
    bread = np.linalg.inv(xtx)
    g, k = panel.n_clusters, x.shape[2]
    obs = y.size
    # pyfixest's default CR1 factor: unit fixed effects nested in the clusters are not
    # counted, the period effects are
    factor = g / (g - 1) * (obs - 1) / (obs - k - (y.shape[1] - 1) - 1)
    return beta, factor * bread @ np.dot(scores.T, scores) @ bread, g - 1


def _sun_abraham(panel: Panel, alpha: float) -> Estimate:
    """Interaction-weighted estimator: cohort × relative-period indicators (reference -1)
    with unit and period FE; never-treated units, or else the last cohort, are the controls."""
    if not np.isinf(panel.cohort).any():
        last = panel.cohort.max()
        keep = panel.times < last
        panel = Panel(panel.outcome[:, keep], panel.times[keep],
                      np.where(panel.cohort == last, NEVER, panel.cohort), panel.cluster)
    cohorts, sizes = np.unique(panel.cohort, return_counts=True)
    cells = [(h, g, j) for h, g in enumerate(cohorts) if np.isfinite(g)
             for j, t in enumerate(panel.times) if t - g != -1]
    x = np.zeros((len(cohorts), len(panel.times), len(cells)))
    for k, (h, _, j) in enumerate(cells):
        x[h, j, k] = 1.0
    beta, vcov, df = cohort_time_ols(panel, x)
    post = [k for k, (_, g, j) in enumerate(cells) if panel.times[j] >= g]
    weights = np.array([sizes[cells[k][0]] for k in post], dtype=float)
    est, se = linear_combination(beta[post], vcov[np.ix_(post, post)],
                                 weights / weights.sum())
    return Estimate.from_se(est, se, alpha, float(df))


def _twfe(panel: Panel, alpha: float) -> Estimate:
    cohorts = np.unique(panel.cohort)
    treated = (panel.times[None, :] >= cohorts[:, None]).astype(float)
    beta, vcov, df = cohort_time_ols(panel, treated[:, :, None])
    return Estimate.from_se(float(beta[0]), float(np.sqrt(vcov[0, 0])), alpha, float(df))


register(Design(
    name="staggered_did", label="Staggered difference-in-differences",
    required=("outcome", "unit", "time", "cohort"), estimate=estimate_staggered,
    option_model=StaggeredOptions,
    evidence=EvidenceCategory("qed"), tables=(ESTIMATES, EVENT_STUDY, GROUP_TIME),
    description="Callaway & Sant'Anna and Sun & Abraham estimators for staggered adoption, "
                "with naive TWFE alongside and a pre-trend test."))
