"""Small inference helpers shared by the evaluation designs.

Intervals and p-values from an estimate and its standard error, Wald tests, linear
combinations of coefficients, cluster counts and the few-clusters check, standardised
differences, a two-proportion test, randomization inference, and reading a coefficient out of
a pyfixest fit. Nothing here knows about a particular design.

Examples
--------
>>> lo, hi = confidence_interval(2.0, 0.5)
>>> round(lo, 3), round(hi, 3)
(1.02, 2.98)
>>> round(p_value(2.0, 0.5), 5)
6e-05
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from upward.core.text import N_
from upward.evaluate.result import Check

#: Below this many clusters cluster-robust standard errors are unreliable (warning) …
FEW_CLUSTERS = 30
#: … and below this many they are not to be trusted at all (failed check).
VERY_FEW_CLUSTERS = 10
#: Largest |standardised difference| a covariate may show before balance is called failed
#: (What Works Clearinghouse baseline-equivalence threshold).
MAX_STD_DIFF = 0.25


@dataclass(frozen=True)
class Estimate:
    """One estimate with its standard error, two-sided p-value and confidence interval.

    >>> Estimate.from_se(1.0, 0.5).p_value < 0.05
    True
    """

    estimate: float
    se: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    df: float | None = None

    @classmethod
    def from_se(cls, estimate: float, se: float | None, alpha: float = 0.05,
                df: float | None = None) -> Estimate:
        """Interval and p-value from a normal (``df=None``) or t reference distribution.

        >>> e = Estimate.from_se(10.0, 2.0, df=5)
        >>> round(e.ci_low, 2), round(e.ci_high, 2)
        (4.86, 15.14)
        """
        if se is None or not np.isfinite(se) or se <= 0:
            return cls(float(estimate), None, None, None, None, df)
        lo, hi = confidence_interval(estimate, se, alpha, df)
        return cls(float(estimate), float(se), p_value(estimate, se, df), lo, hi, df)

    def row(self, method: str) -> dict:
        """A row of the ``estimates`` table.

        >>> Estimate.from_se(1.0, 0.5).row("ols")["method"]
        'ols'
        """
        return {"method": method, "estimate": self.estimate, "se": self.se,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


@dataclass(frozen=True)
class WaldTest:
    """A joint test that several coefficients are zero.

    >>> WaldTest(4.0, 2, 0.135, "chi2").passed(0.05)
    True
    """

    statistic: float
    df: int
    p_value: float
    distribution: str

    def passed(self, alpha: float) -> bool:
        """True when the joint null is not rejected at ``alpha``."""
        return bool(self.p_value >= alpha)

    def pre_trend_check(self, alpha: float, tested: str, diverging: str) -> Check:
        """The ``pre_trends`` check of a design: ``tested`` says which coefficients were
        tested, ``diverging`` what a rejection means.

        >>> WaldTest(9.0, 2, 0.011, "chi2(2)").pre_trend_check(
        ...     0.05, "the 2 leads", "the groups were already diverging").detail
        'the 2 leads: joint chi2(2) = 9.00, p = 0.011; the groups were already diverging'
        """
        detail = N_("{tested}: joint {distribution} = {statistic:.2f}, p = {p:.3f}",
                    tested=tested, distribution=self.distribution, statistic=self.statistic,
                    p=self.p_value)
        if not self.passed(alpha):
            detail = N_("{detail}; {diverging}", detail=detail, diverging=diverging)
        return Check("pre_trends", self.passed(alpha), detail, self.statistic, self.p_value)


def _critical(alpha: float, df: float | None) -> float:
    q = 1 - alpha / 2
    return float(stats.norm.ppf(q) if df is None or not np.isfinite(df) else stats.t.ppf(q, df))


def confidence_interval(estimate: float, se: float, alpha: float = 0.05,
                        df: float | None = None) -> tuple[float, float]:
    """The two-sided ``1 - alpha`` interval; normal when ``df`` is None, else Student t.

    >>> [round(v, 2) for v in confidence_interval(0.0, 1.0, alpha=0.1)]
    [-1.64, 1.64]
    """
    half = _critical(alpha, df) * se
    return float(estimate - half), float(estimate + half)


def p_value(estimate: float, se: float, df: float | None = None) -> float:
    """Two-sided p-value of ``estimate / se``; normal when ``df`` is None, else Student t.

    >>> round(p_value(1.96, 1.0), 3)
    0.05
    """
    z = abs(estimate / se)
    tail = stats.norm.sf(z) if df is None or not np.isfinite(df) else stats.t.sf(z, df)
    return float(2 * tail)


def wald_test(beta: np.ndarray, vcov: np.ndarray, df_denominator: float | None = None
              ) -> WaldTest:
    """Joint test of ``beta == 0`` given its covariance: chi-square, or F when a denominator
    degrees of freedom is given (as for cluster-robust covariances, G - 1). A singular
    covariance is handled with its pseudo-inverse and the test's df is its rank.

    >>> w = wald_test(np.array([1.0, 1.0]), np.eye(2))
    >>> round(w.statistic, 2), w.df, round(w.p_value, 3)
    (2.0, 2, 0.368)
    """
    beta = np.asarray(beta, dtype=float)
    vcov = np.atleast_2d(np.asarray(vcov, dtype=float))
    rank = int(np.linalg.matrix_rank(vcov))
    stat = float(beta @ np.linalg.pinv(vcov) @ beta)
    if df_denominator is None or not np.isfinite(df_denominator):
        return WaldTest(stat, rank, float(stats.chi2.sf(stat, rank)), f"chi2({rank})")
    f = stat / max(rank, 1)
    return WaldTest(f, rank, float(stats.f.sf(f, rank, df_denominator)),
                    f"F({rank}, {df_denominator:g})")


def linear_combination(beta: np.ndarray, vcov: np.ndarray, weights: np.ndarray
                       ) -> tuple[float, float]:
    """Estimate and standard error of ``weights @ beta`` (weights taken as fixed).

    >>> est, se = linear_combination(np.array([1.0, 3.0]), np.eye(2), np.array([0.5, 0.5]))
    >>> est, round(se, 4)
    (2.0, 0.7071)
    """
    w = np.asarray(weights, dtype=float)
    return float(w @ beta), float(np.sqrt(max(w @ vcov @ w, 0.0)))


def n_clusters(values: pd.Series | np.ndarray) -> int:
    """How many distinct clusters (missing values are not a cluster).

    >>> n_clusters(pd.Series(["a", "b", "a", None]))
    2
    """
    return int(pd.Series(values).nunique(dropna=True))


def cluster_check(count: int, column: str, remedy: str) -> tuple[Check | None, list[str]]:
    """The few-clusters rule: a warning below 30 clusters, a failed check below 10.
    ``remedy`` says what the design did about it (for example a wild cluster bootstrap).

    >>> check, warns = cluster_check(8, "school", "p-value from a wild cluster bootstrap")
    >>> check.passed, len(warns)
    (False, 1)
    >>> cluster_check(50, "school", "")
    (Check(name='clusters', passed=True, detail='50 clusters of school', statistic=50.0, p_value=None), [])
    """
    if count >= FEW_CLUSTERS:
        return Check("clusters", True, N_("{n} clusters of {column}", n=count,
                                          column=column), float(count)), []
    warning = N_("only {n} clusters of {column}: cluster-robust standard errors are "
                 "unreliable with fewer than {few}", n=count, column=column, few=FEW_CLUSTERS)
    if count >= VERY_FEW_CLUSTERS:
        return Check("clusters", True, N_("{n} clusters of {column} (few)", n=count,
                                          column=column), float(count)), [warning]
    detail = N_("{n} clusters of {column}, fewer than {very_few}; {remedy}", n=count,
                column=column, very_few=VERY_FEW_CLUSTERS, remedy=remedy)
    return Check("clusters", False, detail, float(count)), [warning]


def standardized_difference(x_treated: np.ndarray, x_control: np.ndarray,
                            w_treated: np.ndarray | None = None,
                            w_control: np.ndarray | None = None) -> float:
    """Difference in means over the pooled standard deviation sqrt((s_t^2 + s_c^2) / 2)
    (Austin 2009); weighted means and variances when weights are given. NaN when both
    groups are constant.

    >>> round(standardized_difference(np.array([1.0, 2, 3]), np.array([0.0, 1, 2])), 3)
    1.0
    """
    mt, vt = _weighted_moments(x_treated, w_treated)
    mc, vc = _weighted_moments(x_control, w_control)
    pooled = np.sqrt((vt + vc) / 2)
    return float((mt - mc) / pooled) if pooled > 0 else float("nan")


def _weighted_moments(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    if w is None:
        return float(x.mean()), float(x.var(ddof=1)) if len(x) > 1 else 0.0
    w = np.asarray(w, dtype=float)
    m = float(np.average(x, weights=w))
    return m, float(np.average((x - m) ** 2, weights=w))


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> float:
    """p-value that two proportions are equal: Fisher's exact test (exact at any size).

    >>> round(two_proportion_test(10, 100, 30, 100), 4)
    0.0007
    """
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(stats.fisher_exact(table).pvalue)


@dataclass(frozen=True)
class RandomizationTest:
    """Randomization inference for the sharp null of no effect for anyone.

    >>> r = randomization_test(np.array([1.0, 2, 3, 4]), np.array([0, 0, 1, 1]), 99, seed=1)
    >>> r.statistic, r.permutations, r.level, 0 < r.p_value <= 1
    (2.0, 99, 'unit', True)
    """

    statistic: float
    p_value: float
    permutations: int
    level: str


def randomization_test(outcome: np.ndarray, treatment: np.ndarray, permutations: int,
                       seed: int, clusters: np.ndarray | None = None,
                       weights: np.ndarray | None = None) -> RandomizationTest:
    """Re-randomize the assignment ``permutations`` times and compare the difference in
    (weighted) means of ``outcome`` with its permutation distribution; p = (1 + #{|T*| >=
    |T|}) / (1 + permutations) (Fisher; Imbens & Rubin 2015, ch. 5).

    Pass covariate-adjusted residuals as ``outcome`` to use a regression-adjusted statistic:
    under the sharp null they do not depend on the assignment either. With ``clusters``,
    assignment that is constant within every cluster is permuted between clusters (cluster
    randomization); otherwise units are permuted within their cluster (blocks).

    >>> rng = np.random.default_rng(0)
    >>> d = np.repeat([0, 1], 50)
    >>> y = rng.normal(size=100) + 1.0 * d
    >>> r = randomization_test(y, d, 999, seed=1)
    >>> r.p_value < 0.01, r.level
    (True, 'unit')
    """
    y = np.asarray(outcome, dtype=float)
    d = np.asarray(treatment, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    observed = _mean_difference(d[None, :], y, w)[0]
    level, draw = _assignment_sampler(d, clusters, rng)
    chunk = max(1, 4_000_000 // max(len(y), 1))
    extreme, done = 0, 0
    while done < permutations:
        k = min(chunk, permutations - done)
        diffs = _mean_difference(draw(k), y, w)
        extreme += int(np.sum(np.abs(diffs) >= abs(observed) - 1e-12 * max(1.0, abs(observed))))
        done += k
    return RandomizationTest(float(observed), (1 + extreme) / (1 + permutations), permutations,
                             level)


def _mean_difference(assign: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    wt = assign * w
    wc = (1 - assign) * w
    with np.errstate(invalid="ignore", divide="ignore"):
        return (wt @ y) / wt.sum(axis=1) - (wc @ y) / wc.sum(axis=1)


def _assignment_sampler(d: np.ndarray, clusters: np.ndarray | None, rng: np.random.Generator):
    if clusters is None:
        return N_("unit"), lambda k: rng.permuted(np.broadcast_to(d, (k, len(d))), axis=1)
    codes = pd.factorize(pd.Series(clusters))[0]
    per_cluster = pd.Series(d).groupby(codes).agg(["min", "max"])
    if bool((per_cluster["min"] == per_cluster["max"]).all()):
        cluster_d = per_cluster["min"].to_numpy()
        return N_("cluster"), lambda k: rng.permuted(
            np.broadcast_to(cluster_d, (k, len(cluster_d))), axis=1)[:, codes]
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order].astype(float)
    sorted_d = d[order]

    def within(k: int) -> np.ndarray:
        # a uniform key below 1 added to the block code shuffles units inside their block only
        shuffle = np.argsort(sorted_codes + rng.random((k, len(d))), axis=1)
        out = np.empty((k, len(d)))
        out[:, order] = sorted_d[shuffle]
        return out

    return N_("within cluster"), within


def fixest_estimate(fit, name: str, alpha: float = 0.05) -> Estimate:
    """One coefficient of a pyfixest fit, with the fit's own t degrees of freedom (N - k for
    heteroskedasticity-robust, G - 1 for cluster-robust covariances).

    >>> import pyfixest as pf
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6], "d": [0, 0, 0, 1, 1, 1]})
    >>> fixest_estimate(pf.feols("y ~ d", data=df, vcov="HC2"), "d").estimate
    3.0
    """
    names = list(map(str, fit._coefnames))
    i = names.index(name)
    se = float(np.sqrt(fit._vcov[i, i]))
    return Estimate.from_se(float(fit._beta_hat[i]), se, alpha, float(fit._df_t))


def fixest_block(fit, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and covariance block of the named coefficients of a pyfixest fit.

    >>> import pyfixest as pf
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 7], "d": [0, 0, 0, 1, 1, 1],
    ...                    "x": [1.0, 0, 2, 1, 3, 2]})
    >>> b, v = fixest_block(pf.feols("y ~ d + x", data=df), ["d", "x"])
    >>> b.shape, v.shape
    ((2,), (2, 2))
    """
    all_names = list(map(str, fit._coefnames))
    idx = [all_names.index(n) for n in names]
    return np.asarray(fit._beta_hat)[idx], np.asarray(fit._vcov)[np.ix_(idx, idx)]


# ----------------------------------------------------------------------------------------------
# Few treated clusters: randomisation (in-space placebo) inference and the wild bootstrap
# ----------------------------------------------------------------------------------------------

#: With fewer treated (or fewer untreated) clusters than this, cluster-robust standard errors
#: are far too small however many clusters there are in all: the variance of the treated
#: group's change is learnt from those few clusters (Conley & Taber 2011; MacKinnon & Webb
#: 2017, 2018 find serious over-rejection below about ten treated clusters). Then the
#: headline p-value comes from randomisation inference instead.
FEW_TREATED_CLUSTERS = 10
#: Randomisation inference enumerates every assignment when there are at most this many,
#: and otherwise draws this many at random.
MAX_ASSIGNMENTS = 999
#: Draws of the wild cluster bootstrap (Rademacher weights; Webb weights below 12 clusters).
WILD_BOOTSTRAP_REPS = 9999


def treated_cluster_check(n_treated: int, n_total: int, column: str) -> Check:
    """The few-treated-clusters rule: passed when at least ``FEW_TREATED_CLUSTERS`` clusters
    are treated and as many are not; failed otherwise (then a design's headline p-value must
    not be the cluster-robust one, and the detail says why in words).

    >>> treated_cluster_check(1, 39, "State").passed
    False
    >>> treated_cluster_check(12, 40, "county").detail
    '12 of 40 clusters of county are treated, 28 are not'
    """
    untreated = n_total - n_treated
    detail = N_("{treated} of {total} clusters of {column} are treated, {untreated} are not",
                treated=n_treated, total=n_total, column=column, untreated=untreated)
    smaller = min(n_treated, untreated)
    if smaller >= FEW_TREATED_CLUSTERS:
        return Check("treated_clusters", True, detail, float(n_treated))
    side = "treated" if n_treated <= untreated else "untreated"
    detail = (f"only {smaller} of {n_total} clusters of {column} {'is' if smaller == 1 else 'are'}"
              f" {side} (fewer than {FEW_TREATED_CLUSTERS}): a cluster-robust standard error "
              f"learns how much the {side} group's outcome varies from "
              f"{'that one cluster' if smaller == 1 else f'those {smaller} clusters'}, so it "
              "is far too small and its p-value far too confident, however many clusters "
              "there are in all (Conley & Taber 2011; MacKinnon & Webb 2017)")
    return Check("treated_clusters", False, detail, float(n_treated))


@dataclass(frozen=True)
class PlaceboInference:
    """Randomisation inference by reassigning the treatment across clusters.

    ``placebo`` holds the estimate under every other assignment considered; the p-value is
    (1 + #{|placebo| >= |estimate|}) / (1 + assignments) (Fisher's sharp null of no effect;
    exact when every assignment is enumerated), and ``se`` is the standard deviation of the
    placebo estimates (the placebo standard error of Arkhangelsky et al. 2021, section 5).

    >>> pi = PlaceboInference(-3.0, np.array([1.0, -1.0, 0.5, -4.0]), exact=True)
    >>> pi.p_value, round(pi.se, 3)
    (0.4, 2.25)
    """

    estimate: float
    placebo: np.ndarray
    exact: bool

    @property
    def assignments(self) -> int:
        """How many other assignments were considered."""
        return len(self.placebo)

    @property
    def p_value(self) -> float:
        """The randomisation p-value (two-sided, on the absolute estimate)."""
        tol = 1e-12 * max(1.0, abs(self.estimate))
        extreme = int(np.sum(np.abs(self.placebo) >= abs(self.estimate) - tol))
        return (1 + extreme) / (1 + self.assignments)

    @property
    def se(self) -> float | None:
        """Standard deviation of the placebo estimates (None with fewer than two)."""
        return float(np.std(self.placebo, ddof=1)) if self.assignments > 1 else None

    def headline(self, alpha: float) -> Estimate:
        """Estimate, placebo standard error, normal interval and the randomisation p-value.

        >>> PlaceboInference(-3.0, np.array([1.0, -1.0, 0.5, -4.0]), True).headline(0.05).p_value
        0.4
        """
        e = Estimate.from_se(self.estimate, self.se, alpha)
        return Estimate(e.estimate, e.se, self.p_value, e.ci_low, e.ci_high)


def placebo_inference(estimate: float, treated: np.ndarray, refit, *, seed: int,
                      max_assignments: int = MAX_ASSIGNMENTS) -> PlaceboInference:
    """Reassign the treatment to other sets of clusters (as many as are treated) and
    re-estimate with ``refit(mask)`` (``mask``: a boolean array over clusters, True =
    treated). Every other assignment is used when there are at most ``max_assignments`` of
    them; otherwise that many are drawn at random (without the observed one).

    >>> y = np.array([5.0, 0.2, -0.1, 0.4, -0.3, 0.0])
    >>> pi = placebo_inference(5.0, np.array([1, 0, 0, 0, 0, 0], bool),
    ...                        lambda m: float(y[m].mean() - y[~m].mean()), seed=0)
    >>> pi.exact, pi.assignments, round(pi.p_value, 4)
    (True, 5, 0.1667)
    """
    treated = np.asarray(treated, dtype=bool)
    g, k = len(treated), int(treated.sum())
    total = math.comb(g, k)
    observed = frozenset(np.flatnonzero(treated).tolist())
    if total - 1 <= max_assignments:
        sets = [c for c in itertools.combinations(range(g), k) if frozenset(c) != observed]
        exact = True
    else:
        rng = np.random.default_rng(seed)
        sets = []
        while len(sets) < max_assignments:
            c = rng.choice(g, size=k, replace=False)
            if frozenset(c.tolist()) != observed:
                sets.append(c)
        exact = False
    values = np.empty(len(sets))
    for i, c in enumerate(sets):
        mask = np.zeros(g, dtype=bool)
        mask[list(c)] = True
        values[i] = refit(mask)
    return PlaceboInference(float(estimate), values[np.isfinite(values)], exact)


def randomised_pre_trends(placebo: PlaceboInference, analytic: Check, alpha: float,
                          shuffled: str, diverging: str) -> Check:
    """The ``pre_trends`` check when too few clusters are treated: the analytic Wald test's
    covariance rests on those few clusters (it rejects far too often), so the p-value of the
    pre-treatment effects' sum of squares comes from the headline's shuffles of ``shuffled``
    instead; the analytic test stays in the detail.

    >>> analytic = Check("pre_trends", False, "Wald test: p = 0.001")
    >>> c = randomised_pre_trends(PlaceboInference(2.0, np.array([0.5, 3.0, 1.0]), False),
    ...                           analytic, 0.05, "treated clusters", "already diverging")
    >>> c.passed, c.p_value, c.detail[:44]
    (True, 0.5, 'randomisation test that the pre-treatment ef')
    """
    p = placebo.p_value
    passed = bool(p > alpha)
    detail = (f"randomisation test that the pre-treatment effects are zero (their sum of "
              f"squares, {placebo.estimate:,.4g}, against {placebo.assignments:,} shuffles of "
              f"the {shuffled}): p = {p:.3g}, because too few clusters are treated for the "
              f"analytic Wald test ({analytic.detail.removesuffix(f'; {diverging}')})")
    if not passed:
        detail += f"; {diverging}"
    return Check("pre_trends", passed, detail, placebo.estimate, p)


def wild_cluster_bootstrap(fit, param: str, seed: int, *, impose_null: bool = True,
                           reps: int = WILD_BOOTSTRAP_REPS) -> float | None:
    """The wild cluster bootstrap p-value of a pyfixest fit's ``param`` (the ``wildboottest``
    package; restricted to the null by default, WCR). None when it cannot be run.

    >>> import pyfixest as pf
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"cl": np.repeat(np.arange(12), 10), "d": np.repeat([0, 1] * 6, 10)})
    >>> df["y"] = rng.normal(size=120) + np.repeat(rng.normal(size=12), 10)
    >>> p = wild_cluster_bootstrap(pf.feols("y ~ d", df, vcov={"CRV1": "cl"}), "d", 1, reps=999)
    >>> 0 < p <= 1
    True
    """
    try:
        import wildboottest  # noqa: F401
    except ImportError:  # pragma: no cover - declared dependency
        return None
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fit.wildboottest(param=param, reps=reps, seed=seed, impose_null=impose_null)
    except Exception:
        return None
    p = float(out["Pr(>|t|)"])
    return p if np.isfinite(p) else None
