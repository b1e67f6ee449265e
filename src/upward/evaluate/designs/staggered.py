"""Staggered adoption (design ``staggered_did``): heterogeneity-robust difference-in-differences.

Units start treatment in different periods (``cohort:`` = first treated period; blank or 0 =
never treated). A two-way fixed effects regression then compares late adopters with early
ones that are already treated, and with effects that differ by cohort or grow over time it is
biased, even in sign (Goodman-Bacon 2021). This design reports three estimators side by side:

* **Callaway & Sant'Anna (2021)** -- the headline. Group-time effects ATT(g, t) are 2×2
  comparisons of cohort g with never-treated (``control_group: never_treated``, default) or
  not-yet-treated units (``not_yet_treated``) between period t and the base period (g - 1 for
  post periods; t - 1 for pre periods with ``base_period: varying``, the default, or g - 1 with
  ``universal``). With ``covariates:`` parallel trends hold conditional on them (their values
  in the base period): each cell is a doubly robust (Sant'Anna & Zhao 2020; ``est_method:
  dr``, the default), outcome-regression (``reg``) or IPW (``ipw``) two-period DiD
  (:mod:`upward.evaluate.drdid`). ``weights:`` are sampling weights, one per unit. Cells are
  aggregated with (weighted) cohort-size weights into the simple ATT and an event-time
  (dynamic) curve. Standard errors are analytic, from the influence functions, including the
  estimation of the nuisance models and of the weights, summed within units (or
  ``cluster:``). The event-time curve also gets a simultaneous (uniform) band from a
  multiplier bootstrap of those influence functions (:mod:`upward.evaluate.bands`).
* **Sun & Abraham (2021)** interaction-weighted estimator: the outcome on cohort ×
  relative-period indicators with unit and period fixed effects (never-treated units, or else
  the last cohort to adopt, as controls), averaged with cohort-size weights; CR1 standard
  errors clustered by unit. Weighted; without the covariates.
* **Naive static TWFE** -- the outcome on a unit-period treatment dummy (and the covariates),
  unit and period effects, weights and clusters: the familiar regression, for comparison and
  labelled biased when effects differ by cohort or over time.

What we compute ourselves and why. Without covariates, Callaway-Sant'Anna is a set of
differences of cohort means, so it is computed on the unit × period matrix in a few
vectorised numpy operations; with covariates, the cells of a cohort that share units and
covariates are estimated in one pass (one logit, the outcome changes as a matrix). Because
every regressor of Sun-Abraham varies only by cohort and period, its fixed-effects regression
reduces exactly to cohort × period cell sums (:func:`cohort_time_ols`); the TWFE row is one
exact two-way within transformation of the balanced matrix (:func:`panel_ols`). A million
person-periods take about a second where pyfixest's regression on the rows takes tens of
seconds, and Callaway-Sant'Anna with a covariate runs in about half diff-diff's time
(``python -m bench.evaluate_designs staggered`` and ``covariates``).
tests/test_evaluate_staggered.py checks Callaway-Sant'Anna against csdid and diff-diff (the
ports of the R did package), Sun-Abraham against diff-diff and TWFE and the cell regression
against pyfixest ``feols`` on the rows, on the Cheng & Hoekstra (2013) castle-doctrine panel,
and all three against simulations with a known, cohort-heterogeneous effect;
tests/test_evaluate_staggered_covariates.py checks the covariate and weighted versions against
the R did package's published mpdta results, csdid and diff-diff, the TWFE row against
pyfixest with weights, and the band's coverage by simulation.

Options: ``control_group`` (``never_treated`` | ``not_yet_treated``), ``base_period``
(``varying`` | ``universal``), ``est_method`` (``dr`` | ``reg`` | ``ipw``), ``band_draws``
(999; 0: no band), ``multiplier`` (``rademacher`` | ``mammen``), ``seed``.

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
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from upward.core.errors import ConfigError, InputFileError
from upward.core.text import N_
from upward.evaluate.bands import uniform_critical_value
from upward.evaluate.categories import EvidenceCategory
from upward.evaluate.designs import Design, DesignOptions, register
from upward.evaluate.designs.panel import periods
from upward.evaluate.drdid import SeparationError, fit_logit, two_period_att
from upward.evaluate.inference import (
    Estimate,
    PlaceboInference,
    cluster_check,
    linear_combination,
    randomised_pre_trends,
    treated_cluster_check,
    wald_test,
)
from upward.evaluate.result import Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ESTIMATES, EVENT_STUDY, ResultTable

#: Shuffles of the first-treated periods for randomisation inference with few treated clusters.
STAGGERED_ASSIGNMENTS = 199

GROUP_TIME = ResultTable("group_time", N_("Group-time effects"),
                         ("cohort", "time", "att", "se"), "group_time", ("se",))

EST_METHODS = {"dr": "doubly robust, Sant'Anna & Zhao 2020", "reg": "outcome regression",
               "ipw": "inverse probability weighting"}
CONTROL_GROUPS = {"never_treated": "never-treated", "not_yet_treated": "not-yet-treated"}
BASE_PERIODS = ("varying", "universal")
NEVER = np.inf


class StaggeredOptions(DesignOptions):
    """``options:`` of staggered_did, validated.

    >>> o = StaggeredOptions.from_spec(EvaluationSpec(data="x.csv", design="staggered_did",
    ...     outcome="y"))
    >>> o.control_group, o.est_method, o.band_draws, o.multiplier
    ('never_treated', 'dr', 999, 'rademacher')
    """

    control_group: Literal["never_treated", "not_yet_treated"] = Field(
        "never_treated", description="use never_treated (the default) or not_yet_treated")
    base_period: Literal["varying", "universal"] = Field(
        "varying", description="use varying (the default) or universal")
    est_method: Literal["dr", "reg", "ipw"] = Field(
        "dr", description="with covariates: dr (doubly robust, the default), reg (outcome "
        "regression) or ipw (inverse probability weighting)")
    band_draws: int = Field(
        999, ge=0, description="multiplier-bootstrap draws for the event study's uniform "
        "band (0: no band)")
    multiplier: Literal["rademacher", "mammen"] = Field(
        "rademacher", description="bootstrap weights: rademacher (the default, as diff-diff) "
        "or mammen")
    seed: int = Field(20210101, description="random seed of the bootstrap (an integer)")

    @classmethod
    def from_spec(cls, spec: EvaluationSpec) -> StaggeredOptions:
        """Reject unknown values (an OptionError names the option)."""
        return cls.of(spec)


@dataclass
class Panel:
    """A balanced panel as a units × periods matrix.

    ``outcome[i, j]`` is unit i in period ``times[j]``; ``cohort[i]`` its first treated period
    (inf: never treated); ``cluster[i]`` its cluster code; ``weights[i]`` its sampling weight
    (normalised to mean 1; None: unweighted); ``covariates[i, j, k]`` covariate k of unit i
    in period j (None: no covariates).

    >>> p = Panel(np.zeros((3, 2)), np.array([1, 2]), np.array([2.0, np.inf, 2.0]), np.array([0, 0, 1]))
    >>> p.n_units, p.n_clusters, p.long().shape
    (3, 2, (6, 5))
    """

    outcome: np.ndarray
    times: np.ndarray
    cohort: np.ndarray
    cluster: np.ndarray
    notes: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None
    covariates: np.ndarray | None = None
    covariate_names: tuple[str, ...] = ()
    n_clusters: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_clusters = int(pd.unique(self.cluster).size)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return self.outcome.shape[0]

    @cached_property
    def cohort_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct cohorts (sorted; inf last) and each unit's index among them.

        >>> Panel(np.zeros((3, 2)), np.array([1, 2]), np.array([2.0, np.inf, 2.0]),
        ...       np.arange(3)).cohort_codes[1].tolist()
        [0, 1, 0]
        """
        return np.unique(self.cohort, return_inverse=True)

    @property
    def unit_weights(self) -> np.ndarray:
        """The sampling weights, ones when there are none.

        >>> Panel(np.zeros((2, 2)), np.array([1, 2]), np.full(2, np.inf), np.arange(2)
        ...       ).unit_weights.tolist()
        [1.0, 1.0]
        """
        return np.ones(self.n_units) if self.weights is None else self.weights

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


def _numeric(data: pd.DataFrame, column: str, spec: EvaluationSpec, what: str) -> np.ndarray:
    raw = data[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(spec.data, f"{what} must be numbers; found {raw.iloc[row]!r}",
                             row=row + 2, column=column, fix="give numbers (blank if unknown)")
    return values.to_numpy(dtype=float)


def balanced_panel(data: pd.DataFrame, spec: EvaluationSpec) -> Panel:
    """The spec's data as a balanced panel: rows without an outcome are dropped, then units
    not observed in every period (or with a blank covariate or weight), and units treated
    from the first period on (they have no pre-period); a cohort after the last period
    counts as never treated. Each is noted. Done on the units × periods matrix in numpy (no
    group-by), so a million rows take a fraction of a second.

    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3], "t": [1, 2, 1, 2, 1], "g": [2, 2, 0, 0, 0],
    ...                    "y": [1.0, 2, 3, 4, 5]})
    >>> p = balanced_panel(df, EvaluationSpec(data="p.csv", design="staggered_did",
    ...                    outcome="y", unit="id", time="t", cohort="g"))
    >>> p.outcome.shape, p.cohort.tolist(), p.notes[0][:30]
    ((2, 2), [2.0, inf], '1 units not observed in every ')
    """
    unit, _ = pd.factorize(data[spec.unit])
    time = periods(data, spec.time, spec).to_numpy()
    t_codes, t_values = pd.factorize(time)
    rank = np.empty(len(t_values), dtype=np.int64)
    rank[np.argsort(t_values)] = np.arange(len(t_values))
    all_times = np.sort(t_values)
    t_pos = rank[t_codes]
    n_units, n_times = int(unit.max()) + 1, len(all_times)
    listed = unit >= 0
    key = unit[listed].astype(np.int64) * n_times + t_pos[listed]
    if np.bincount(key, minlength=n_units * n_times).max() > 1:
        raise InputFileError(spec.data, "a unit has more than one row for the same period",
                             column=spec.time, fix="keep one row per unit and period")

    def matrix(values: np.ndarray) -> np.ndarray:
        out = np.full(n_units * n_times, np.nan)
        out[key] = values[listed]
        return out.reshape(n_units, n_times)

    def per_unit(m: np.ndarray, column: str, what: str) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            low, high = np.fmin.reduce(m, axis=1), np.fmax.reduce(m, axis=1)
        differs = ~np.isnan(low) & (low != high)
        if differs.any():
            raise InputFileError(spec.data, f"{int(differs.sum())} units have more than one "
                                 f"{what}", column=column,
                                 fix=f"give each unit one {what} on all its rows")
        return low

    y = matrix(_numeric(data, spec.outcome, spec, "outcomes"))
    cohort = pd.to_numeric(data[spec.cohort], errors="coerce").to_numpy(dtype=float)
    cohort = np.where(np.isnan(cohort) | (cohort <= 0), NEVER, cohort)
    cohort_u = per_unit(matrix(cohort), spec.cohort, "first-treated period")
    if spec.cluster:
        codes = pd.factorize(data[spec.cluster])[0].astype(float)
        cluster_u = per_unit(matrix(np.where(codes < 0, np.nan, codes)), spec.cluster,
                             "cluster (clusters must contain whole units)")
    else:
        cluster_u = np.arange(n_units, dtype=float)
    weights_u = None
    if spec.weights:
        w = _numeric(data, spec.weights, spec, "weights")
        if (w < 0).any():
            raise InputFileError(spec.data, "weights must not be negative",
                                 row=int(np.flatnonzero(w < 0)[0]) + 2, column=spec.weights,
                                 fix="give sampling weights of 0 or more")
        w_m = matrix(w)
        weights_u = per_unit(w_m, spec.weights, "weight (sampling weights are per unit)")
    covs = [matrix(_numeric(data, c, spec, "covariates")) for c in spec.covariates]

    notes = []
    has_y = ~np.isnan(y)
    cols = has_y.any(axis=0)
    times = all_times[cols]
    if len(times) < 2:
        raise InputFileError(spec.data, "only one period with an outcome", column=spec.time,
                             fix="staggered adoption needs several periods")
    y, has_y = y[:, cols], has_y[:, cols]
    keep = has_y.all(axis=1)
    short = int((has_y.any(axis=1) & ~keep).sum())
    if short:
        notes.append(f"{short:,} units not observed in every period (or with a blank outcome) "
                     "were left out: the estimators need a balanced panel")
    covariates = np.stack([c[:, cols] for c in covs], axis=2) if covs else None
    if covariates is not None:
        blank = keep & ~np.isfinite(covariates).all(axis=(1, 2))
        if blank.any():
            notes.append(f"{int(blank.sum()):,} units with a blank covariate in some period "
                         "were left out")
            keep &= ~blank
    if weights_u is not None:
        blank = keep & ~(weights_u > 0)
        if blank.any():
            notes.append(f"{int(blank.sum()):,} units with a blank or zero weight were left "
                         "out")
            keep &= ~blank
    late = keep & np.isfinite(cohort_u) & (cohort_u > times[-1])
    if late.any():
        notes.append(f"{int(late.sum()):,} units first treated after the last period count "
                     "as never treated")
        cohort_u = np.where(late, NEVER, cohort_u)
    always = keep & (cohort_u <= times[0])
    if always.any():
        notes.append(f"{int(always.sum()):,} units treated from the first period on were "
                     "left out: they have no pre-treatment period")
        keep &= ~always
    if not keep.any():
        raise InputFileError(spec.data, "no unit is observed in every period",
                             column=spec.unit, fix="check the unit and time columns")
    if weights_u is not None:
        weights_u = weights_u[keep] / weights_u[keep].mean()
    return Panel(np.ascontiguousarray(y[keep]), times, cohort_u[keep],
                 pd.factorize(cluster_u[keep])[0], notes, weights_u,
                 None if covariates is None else covariates[keep],
                 tuple(spec.covariates))


@dataclass
class GroupTime:
    """Callaway-Sant'Anna group-time effects and their influence functions (units × cells).

    >>> y = np.array([[0.0, 0, 3], [0, 0, 0], [1, 1, 1]])
    >>> gt = group_time_effects(Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf]),
    ...                               np.arange(3)))
    >>> gt.cohort.tolist(), gt.event_time.tolist(), gt.att.tolist(), gt.influence.shape
    ([3.0, 3.0], [-1.0, 0.0], [0.0, 3.0], (3, 2))
    """

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
                       base_period: str = "varying", est_method: str = "dr") -> GroupTime:
    """ATT(g, t) for every treated cohort g and period t (Callaway & Sant'Anna 2021, eq. 2.6
    without covariates; with covariates or weights, :func:`conditional_group_time_effects`
    by ``est_method``): the change in cohort g's mean outcome between the base period and t,
    minus the same change among control units. The influence function of cell k for unit i is
    ``N/n_g (dY_i - mean_g) 1{G_i = g} - N/n_c (dY_i - mean_c) 1{i control}``.

    >>> y = np.array([[0.0, 0, 3], [0, 0, 0], [1, 1, 1]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf]), np.arange(3))
    >>> gt = group_time_effects(p)
    >>> gt.time.tolist(), gt.att.tolist()
    ([2, 3], [0.0, 3.0])
    """
    if panel.weights is not None or panel.covariates is not None:
        return conditional_group_time_effects(panel, control_group, base_period, est_method)
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


def _cells(times: np.ndarray, g: float, base_period: str) -> tuple[np.ndarray, np.ndarray]:
    """Column of each period of cohort g's cells and of its base period."""
    first = int(np.searchsorted(times, g))
    cols = np.arange(len(times))
    base = np.where((cols >= first) | (base_period == "universal"), first - 1, cols - 1)
    keep = (base >= 0) & (cols != base)
    return cols[keep], base[keep]


def conditional_group_time_effects(panel: Panel, control_group: str = "never_treated",
                                   base_period: str = "varying", est_method: str = "dr"
                                   ) -> GroupTime:
    """ATT(g, t) under parallel trends conditional on covariates, with sampling weights
    (Callaway & Sant'Anna 2021, section 4): each cell is a two-period DiD of cohort g against
    its controls between the base period and t, by outcome regression, inverse probability
    weighting or the doubly robust estimator (:func:`upward.evaluate.drdid.two_period_att`),
    with the covariates of the base period. A cell's influence function lives on the units of
    the cell, scaled by N / (units in the cell), as in the R did package.

    >>> y = np.array([[0.0, 0, 3], [0, 0, 0], [1, 1, 1], [0, 1, 4]])
    >>> x = np.array([0.0, 1, 1, 0])[:, None, None] * np.ones((1, 3, 1))
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf, 3.0]), np.arange(4),
    ...           covariates=x)
    >>> gt = conditional_group_time_effects(p, est_method="reg")
    >>> gt.att.round(6).tolist()
    [0.5, 3.0]
    """
    y, times, g_unit = panel.outcome, panel.times, panel.cohort
    n = panel.n_units
    w = panel.unit_weights
    covs = panel.covariates
    k = 0 if covs is None else covs.shape[2]
    fixed_x = covs is None or bool(np.all(covs == covs[:, :1, :]))
    method = est_method if k else "reg"  # without covariates all three are the same
    never = np.isinf(g_unit)
    # cells sharing their units and covariates (a cohort's cells against the never-treated,
    # with time-invariant covariates) are estimated together: one logit, one pass
    cells: list[tuple[float, int, int]] = []
    groups: dict[tuple, list[int]] = {}
    skipped = 0
    for g in np.unique(g_unit[~never]):
        for col, base in zip(*_cells(times, g, base_period), strict=True):
            latest = times[max(col, base)]
            if control_group == "never_treated":
                has_controls, key = bool(never.any()), (g, None)
            else:
                has_controls, key = bool(((g_unit > latest) & (g_unit != g)).any()), (g, latest)
            if not has_controls:
                skipped += 1
                continue
            groups.setdefault((*key, None if fixed_x else base), []).append(len(cells))
            cells.append((g, int(col), int(base)))
    if not cells:
        raise ConfigError(f"options.control_group: {control_group} leaves no control units "
                          "for any cohort", fix="use control_group: not_yet_treated, or add "
                          "never-treated units")
    atts = np.empty(len(cells))
    influence = np.zeros((n, len(cells)))
    for (g, latest, _), members in groups.items():
        treated = g_unit == g
        control = never if latest is None else (g_unit > latest) & ~treated
        rows = np.flatnonzero(treated | control)
        d = treated[rows].astype(float)
        cols = np.array([cells[c][1] for c in members])
        bases = np.array([cells[c][2] for c in members])
        x = np.ones((len(rows), 1 + k))
        if k:
            x[:, 1:] = covs[rows, bases[0], :]
        logit = None
        if method != "reg":
            try:
                logit = fit_logit(x, d, w[rows] / w[rows].mean())
            except SeparationError:
                raise ConfigError(
                    f"covariates: the propensity model of cohort {_num(g)} against its "
                    "controls does not converge (the covariates predict treatment almost "
                    "perfectly)", fix="use options.est_method: reg, or fewer covariates"
                ) from None
        y_rows = y[rows]
        att, psi = two_period_att(y_rows[:, cols] - y_rows[:, bases], d, x, w[rows], method,
                                  logit)
        atts[members] = att
        influence[np.ix_(rows, members)] = psi * (n / len(rows))
    return GroupTime(np.array([c[0] for c in cells]), times[[c[1] for c in cells]], atts,
                     influence, n, skipped)


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
    estimates, influence = aggregate_many(gt, panel, [keep])
    return float(estimates[0]), influence[:, 0]


def aggregate_many(gt: GroupTime, panel: Panel, keeps: list[np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`aggregate` for several sets of cells at once (one pass over the units × cells
    influence matrix for all of them): the estimates and their influence (units × sets).

    >>> y = np.array([[0.0, 0, 3], [0, 0, 0], [1, 1, 1]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf]), np.arange(3))
    >>> gt = group_time_effects(p)
    >>> aggregate_many(gt, p, [gt.event_time == -1, gt.event_time == 0])[0].tolist()
    [0.0, 3.0]
    """
    n = gt.n_units
    unit_w = panel.unit_weights
    # cohorts as codes: every unit-level term below is O(units), whatever the cell count
    values, code = panel.cohort_codes
    mass = np.bincount(code, weights=unit_w, minlength=len(values)) / n
    weights = np.zeros((len(gt.att), len(keeps)))
    wif = np.empty((n, len(keeps)))
    estimates = np.empty(len(keeps))
    for j, keep in enumerate(keeps):
        idx = np.flatnonzero(keep)
        cell = np.searchsorted(values, gt.cohort[idx])
        att = gt.att[idx]
        pg = mass[cell]
        total = pg.sum()
        weights[idx, j] = pg / total
        estimates[j] = weights[idx, j] @ att
        # wif @ att, where wif[i, k] = c_ik / total - (sum_k c_ik) pg_k / total**2 and
        # c_ik = w_i 1{G_i = g_k} - pg_k
        att_by_cohort = np.bincount(cell, weights=att, minlength=len(values))[code]
        cells_by_cohort = np.bincount(cell, minlength=len(values))[code]
        pa = float(pg @ att)
        row_sum = unit_w * cells_by_cohort - total
        wif[:, j] = (unit_w * att_by_cohort - pa) / total - row_sum * pa / total**2
    return estimates, gt.influence @ weights + wif


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
    gt = group_time_effects(panel, opts.control_group, opts.base_period, opts.est_method)
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
    crit = _uniform_band(event_if, panel, event_rows, opts, spec.alpha)
    if opts.base_period == "universal":
        event_rows.append({"rel_time": -1, "estimate": 0.0, "se": None, "ci_low": None,
                           "ci_high": None}
                          | ({"band_low": None, "band_high": None} if crit else {}))
        event_rows.sort(key=lambda r: r["rel_time"])
    cell_cov = np.sqrt(variances(gt.influence, panel))
    group_rows = [{"cohort": _num(g), "time": _num(t), "att": float(a), "se": float(s)}
                  for g, t, a, s in zip(gt.cohort, gt.time, gt.att, cell_cov, strict=True)]

    label = CONTROL_GROUPS[opts.control_group]
    table = [head.row(f"Callaway & Sant'Anna (2021), {label} controls, simple ATT")]
    if diagnostics:
        sa, twfe = _sun_abraham(panel, spec.alpha), _twfe(panel, spec.alpha)
        unconditional = " (without the covariates)" if panel.covariates is not None else ""
        table += [sa.row(f"Sun & Abraham (2021) interaction-weighted ATT{unconditional}"),
                  twfe.row("naive two-way fixed effects (static unit-period treatment dummy"
                           + (" and covariates" if panel.covariates is not None else "")
                           + "; biased when effects differ by cohort or over time)")]
    checks = [_pre_trends(events, event_cov, spec)]
    clusters = panel.n_clusters
    if spec.cluster:
        check, cluster_warnings = cluster_check(clusters, spec.cluster, "treat the standard "
                                                "errors with caution")
        checks.append(check)
        warnings += cluster_warnings
    few_check, placebo, placebo_pre = _few_treated(panel, opts, spec, head, events)
    checks.insert(0, few_check)
    if placebo_pre is not None:
        checks = [randomised_pre_trends(
            placebo_pre, c, spec.alpha, "first-treated periods",
            "cohorts were already diverging from their controls before treatment")
            if c.name == "pre_trends" and c.passed is not None else c for c in checks]
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
    conditional = ""
    if panel.covariates is not None:
        conditional = (f", parallel trends conditional on {', '.join(spec.covariates)} "
                       f"({EST_METHODS[opts.est_method]}, base-period covariates)")
    if panel.weights is not None:
        conditional += f", weighted by {spec.weights}"
    band = (f"; a {100 * (1 - spec.alpha):g}% uniform band for the event study (critical value "
            f"{crit:.3f}, {opts.band_draws} {opts.multiplier} multiplier-bootstrap draws by "
            f"{spec.cluster or spec.unit})" if crit else "")
    method = (f"Callaway & Sant'Anna (2021) group-time ATTs with {label} controls and a "
              f"{opts.base_period} base period{conditional}, aggregated with cohort-size "
              "weights to the "
              f"simple ATT over {int(post.sum())} post-treatment cells of {n_cohorts} cohorts; "
              f"analytic influence-function standard errors clustered by "
              f"{spec.cluster or spec.unit}{band}. Sun & Abraham (2021) and naive TWFE in the "
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
                 head: Estimate, events: list[tuple[float, float]]
                 ) -> tuple[Check, Estimate | None, PlaceboInference | None]:
    """The treated-clusters rule (``inference.FEW_TREATED_CLUSTERS``): with too few treated
    clusters, or a cohort of one unit, the analytic standard errors rest on one or a few
    units. With too few treated clusters the headline becomes randomisation inference: the
    clusters' first-treated periods are shuffled among the clusters and the simple ATT
    re-estimated (the sharp null of no effect; cohort sizes kept). The same shuffles give the
    pre-trend test its reference distribution: the sum of squared pre-treatment event-time
    effects (``events``) against theirs (the third value; None without randomisation)."""
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
            return check, None, None
        return Check("treated_clusters", False, check.detail + single_text,
                     check.statistic), None, None
    if bool((per_cluster.nunique() > 1).any()):
        return Check("treated_clusters", False, check.detail + single_text + "; first-treated "
                     "periods differ within clusters, so they cannot be reassigned between "
                     "clusters: no randomisation inference", check.statistic), None, None
    cluster_cohort = per_cluster.min().to_numpy()
    rng = np.random.default_rng(spec.seed)
    placebo, placebo_pre = [], []
    for _ in range(STAGGERED_ASSIGNMENTS):
        shuffled = rng.permutation(cluster_cohort)[codes]
        try:
            other = replace(panel, cohort=shuffled)
            gt = group_time_effects(other, opts.control_group, opts.base_period,
                                    opts.est_method)
            post = gt.event_time >= 0
            value = aggregate(gt, other, post)[0] if post.any() else float("nan")
            pre = pre_trend_statistic(gt, other)
        except (ValueError, ZeroDivisionError, InputFileError):
            value = pre = float("nan")
        placebo.append(value)
        placebo_pre.append(pre)
    values, pre_values = np.asarray(placebo), np.asarray(placebo_pre)
    result = PlaceboInference(head.estimate, values[np.isfinite(values)], exact=False)
    observed_pre = [e for t, e in events if t < 0]
    pre_result = (PlaceboInference(float(np.sum(np.square(observed_pre))),
                                   pre_values[np.isfinite(pre_values)], exact=False)
                  if observed_pre else None)
    shown = result.headline(spec.alpha)
    se_text = "not available" if shown.se is None else f"{shown.se:,.4g}"
    p_text = "not available" if head.p_value is None else f"{head.p_value:.2g}"
    detail = (f"{check.detail}{single_text}. The headline p-value is therefore from "
              f"randomisation inference: the clusters' first-treated periods were shuffled "
              f"{result.assignments:,} times with the data as observed, p = "
              f"{shown.p_value:.3g}, and the standard error is the spread of those placebo "
              f"estimates ({se_text}), against an analytic p of {p_text}")
    return (Check("treated_clusters", False, detail, check.statistic, shown.p_value), shown,
            pre_result)


def pre_trend_statistic(gt: GroupTime, panel: Panel) -> float:
    """The sum of squared pre-treatment event-time effects: the pre-trend test's statistic
    under randomisation inference (NaN without a pre-treatment event time).

    >>> y = np.array([[0.0, 1, 3], [0, 0, 0], [1, 1, 1]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, np.inf, np.inf]), np.arange(3))
    >>> round(pre_trend_statistic(group_time_effects(p, "never", "varying", "reg"), p), 6)
    1.0
    """
    events = np.unique(gt.event_time[gt.event_time < 0])
    if not len(events):
        return float("nan")
    estimates, _ = aggregate_many(gt, panel, [gt.event_time == e for e in events])
    return float(np.sum(np.square(estimates)))


def _uniform_band(event_if: np.ndarray, panel: Panel, rows: list[dict],
                  opts: StaggeredOptions, alpha: float) -> float | None:
    """Add band_low/band_high to the event-study rows: a simultaneous band from the
    multiplier bootstrap of the event-time influence functions, clustered like the SEs."""
    if not opts.band_draws or not rows:
        return None
    psi = _cluster_sums(event_if, panel) / panel.n_units
    se = np.array([r["se"] for r in rows], dtype=float)
    crit = uniform_critical_value(psi, se, alpha, opts.band_draws, opts.multiplier, opts.seed)
    if not np.isfinite(crit):
        return None
    for r in rows:
        ok = r["se"] is not None and r["se"] > 0
        r["band_low"] = r["estimate"] - crit * r["se"] if ok else None
        r["band_high"] = r["estimate"] + crit * r["se"] if ok else None
    return crit


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _ci(estimate: float, se: float, alpha: float) -> dict:
    e = Estimate.from_se(estimate, se, alpha)
    return {"ci_low": e.ci_low, "ci_high": e.ci_high}


def _dynamic(gt: GroupTime, panel: Panel) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Event-time aggregation: for each t - g, the cohort-size-weighted average of the cells."""
    events = np.unique(gt.event_time)
    estimates, influence = aggregate_many(gt, panel, [gt.event_time == e for e in events])
    return [(float(e), float(est)) for e, est in zip(events, estimates, strict=True)], influence


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
    w = panel.unit_weights
    sizes = np.bincount(member, weights=w)
    n = panel.n_units
    y = panel.outcome
    y_dm = _within(y, w)
    x = regressors
    x_time = np.einsum("h,htk->tk", sizes / sizes.sum(), x)
    x_dm = x - x.mean(axis=1, keepdims=True) - x_time[None] + x_time.mean(axis=0)
    cell_sums = np.zeros((len(sizes), y.shape[1]))
    np.add.at(cell_sums, member, y_dm * w[:, None])
    xtx = np.einsum("h,htk,htl->kl", sizes, x_dm, x_dm)
    xty = np.einsum("htk,ht->k", x_dm, cell_sums)
    beta = np.linalg.solve(xtx, xty)
    fitted = x_dm @ beta
    scores = np.zeros((n, x.shape[2]))
    for h in range(len(sizes)):
        rows = member == h
        scores[rows] = ((y_dm[rows] - fitted[h]) * w[rows, None]) @ x_dm[h]
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
                      np.where(panel.cohort == last, NEVER, panel.cohort), panel.cluster,
                      weights=panel.weights)
    cohorts, member = np.unique(panel.cohort, return_inverse=True)
    sizes = np.bincount(member, weights=panel.unit_weights)  # (weighted) cohort sizes
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


def _within(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Two-way within transformation of a units × periods matrix with unit weights ``w``
    (exact in one step: the panel is balanced and the weights constant within units)."""
    a = a - a.mean(axis=1, keepdims=True)
    return a - (w @ a / w.sum())[None, :]


def panel_ols(panel: Panel, regressors: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Weighted OLS of the outcome on unit-period regressors (units × periods × K) with unit
    and period fixed effects, CR1 standard errors clustered by the panel's cluster (pyfixest's
    small-sample factor, as :func:`cohort_time_ols`). Regressors without within variation
    (time-invariant covariates, absorbed by the unit effects) are dropped: the coefficients
    of the rest are returned, the first regressor always kept.

    >>> y = np.array([[0.0, 1, 2], [0, 1, 5], [1, 2, 3], [1, 2, 6]])
    >>> p = Panel(y, np.array([1, 2, 3]), np.array([3.0, 3.0, np.inf, np.inf]), np.arange(4))
    >>> d = np.zeros((4, 3, 1)); d[:2, 2, 0] = 1.0
    >>> round(float(panel_ols(p, d)[0][0]), 6)
    0.0
    """
    w = panel.unit_weights
    y_dm = _within(panel.outcome, w)
    x_dm = np.stack([_within(regressors[:, :, k], w) for k in range(regressors.shape[2])],
                    axis=2)
    scale = np.sqrt(np.einsum("itk,itk->k", x_dm, x_dm))
    kept = np.flatnonzero((scale > 1e-9 * max(scale.max(), 1.0)) | (np.arange(len(scale)) == 0))
    x_dm = x_dm[:, :, kept]
    xtx = np.einsum("i,itk,itl->kl", w, x_dm, x_dm)
    beta = np.linalg.solve(xtx, np.einsum("i,itk,it->k", w, x_dm, y_dm))
    resid = y_dm - x_dm @ beta
    scores = _cluster_sums(np.einsum("i,itk,it->ik", w, x_dm, resid), panel)
    bread = np.linalg.inv(xtx)
    g, k, obs = panel.n_clusters, len(kept), panel.outcome.size
    factor = g / (g - 1) * (obs - 1) / (obs - k - (panel.outcome.shape[1] - 1) - 1)
    return beta, factor * bread @ np.dot(scores.T, scores) @ bread, g - 1


def _twfe(panel: Panel, alpha: float) -> Estimate:
    """Static TWFE: the outcome on a unit-period treatment dummy (and the covariates), unit
    and period effects, the panel's weights and clusters."""
    treated = (panel.times[None, :] >= panel.cohort[:, None]).astype(float)[:, :, None]
    if panel.covariates is not None:
        treated = np.concatenate([treated, panel.covariates], axis=2)
    beta, vcov, df = panel_ols(panel, treated)
    return Estimate.from_se(float(beta[0]), float(np.sqrt(vcov[0, 0])), alpha, float(df))


register(Design(
    name="staggered_did", label="Staggered difference-in-differences",
    required=("outcome", "unit", "time", "cohort"), estimate=estimate_staggered,
    option_model=StaggeredOptions,
    evidence=EvidenceCategory("qed"), tables=(ESTIMATES, EVENT_STUDY, GROUP_TIME),
    description="Callaway & Sant'Anna and Sun & Abraham estimators for staggered adoption, "
                "with naive TWFE alongside and a pre-trend test."))
