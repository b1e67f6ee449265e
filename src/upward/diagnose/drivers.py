"""Drivers: which metrics go with upward mobility across counties, places or tracts.

The outcome is Opportunity Atlas absolute upward mobility (children of 25th-percentile
parents): county ``kfr_p25``; for places the median ``kfr_dollars_p25`` of the place's Atlas
tracts (at least ``MIN_TRACTS``); for tracts ``kfr_dollars_p25`` itself. The model is OLS of
the z-scored outcome on z-scored predictors (complete cases), with HC3 robust standard errors
and a t reference distribution, so each coefficient is a standardised beta: the difference in
the outcome, in standard deviations, between units one SD apart on that metric with the other
metrics held fixed. That is an association across units, never a causal effect.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame(rng.normal(size=(300, 2)), columns=["x1", "x2"])
>>> df["y"] = 0.5 * df.x1 - 0.3 * df.x2 + rng.normal(size=300)
>>> [c.name for c in fit_standardised(df, "y", ["x1", "x2"]).coefficients]
['x1', 'x2']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm

from upward.core.errors import ConfigError, MetricNotFoundError
from upward.core.results import json_ready
from upward.core.text import N_
from upward.geo.resolve import base_name
from upward.measure import frames
from upward.metrics.catalog import all_metrics, get_metric
from upward.sources import Kind
from upward.warehouse.store import Warehouse

LEVELS = ("county", "place", "tract")
OUTCOMES = {"county": "kfr_p25", "place": "kfr_dollars_p25", "tract": "kfr_dollars_p25"}
PLURAL = {"county": "counties", "place": "places", "tract": "tracts"}
MIN_TRACTS = 5
DUPLICATE_R = 0.9
VIF_WARN = 10.0
ALPHA = 0.05
#: Atlas variables that are outcomes (never predictors) and metrics that scale with size.
_OUTCOME_PREFIXES = ("kfr_", "kir_", "jail_")
_SIZE_UNITS = ("count", "people")
_PROPER = ("Black", "Hispanic", "Asian", "English")
METHOD = N_("OLS of the z-scored outcome on z-scored predictors (z-scores over the complete "
          "cases used), HC3 heteroskedasticity-robust standard errors, t reference "
          "distribution; the z-scoring is taken as fixed (its own sampling error is ignored; "
          "in simulation that left the 95% intervals slightly conservative); p-values are not "
          "adjusted for the number of predictors")
CAVEAT = N_("These are associations, not causes: a metric that goes with higher upward mobility "
          "may share causes with it or be its consequence, and changing the metric need not "
          "change mobility. The comparison is ecological (between areas), so it says nothing "
          "about individuals within an area. The Opportunity Atlas outcomes describe children "
          "born 1978-83 who grew up in the 1980s and 1990s (incomes measured in 2014-15), while "
          "the Urban Institute metrics describe recent years (2016-2023): today's conditions "
          "are set against the mobility of children who grew up decades ago.")


@dataclass(frozen=True)
class Coefficient:
    """One predictor of a standardised fit (beta, HC3 se, 95% CI, p, bivariate r, VIF).

    >>> df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) ** 1.1})
    >>> c = fit_standardised(df, "y", ["x"]).coefficients[0]
    >>> c.name, c.vif, c.ci_low < c.beta < c.ci_high
    ('x', 1.0, True)
    """

    name: str
    beta: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    correlation: float
    vif: float


@dataclass(frozen=True)
class StandardisedFit:
    """The result of :func:`fit_standardised`; coefficients sorted by |beta|, largest first.

    >>> df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) ** 1.1})
    >>> df.loc[3, "x"] = np.nan
    >>> fit = fit_standardised(df, "y", ["x"])
    >>> fit.outcome, fit.n, fit.n_dropped, round(fit.means["x"], 2), fit.r2 > 0.99
    ('y', 19, 1, 9.84, True)
    """

    outcome: str
    coefficients: tuple[Coefficient, ...]
    n: int
    n_dropped: int
    r2: float
    adj_r2: float
    condition_number: float
    max_vif: float
    means: dict[str, float]
    sds: dict[str, float]
    used: tuple[str, ...]


def fit_standardised(frame: pd.DataFrame, outcome: str, predictors: list[str],
                     *, alpha: float = ALPHA) -> StandardisedFit:
    """OLS of z-scored ``outcome`` on z-scored ``predictors`` over the complete cases of
    ``frame``, HC3 robust standard errors (t distribution), standardised betas.

    >>> df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) ** 1.1})
    >>> fit = fit_standardised(df, "y", ["x"])
    >>> fit.n, round(fit.coefficients[0].beta, 3) == round(fit.coefficients[0].correlation, 3)
    (20, True)
    """
    missing = [c for c in (outcome, *predictors) if c not in frame.columns]
    if missing or not predictors:
        raise ConfigError(f"predictors: {missing or 'none'} not in the data",
                          fix="give at least one predictor that is a column of the data")
    data = frame[[outcome, *predictors]].astype("float64").replace([np.inf, -np.inf], np.nan)
    data = data.dropna()
    n, k = len(data), len(predictors)
    if n <= k + 10:
        raise ConfigError(
            f"predictors: only {n} unit(s) have complete data on the outcome and {k} "
            f"predictor(s); "
            f"a regression needs more than k + 10 = {k + 10}",
            fix="give fewer predictors, or raise min_coverage so that sparse metrics are left out")
    means, sds = data.mean(), data.std(ddof=1)
    flat = [c for c in data.columns if not sds[c] > 0]
    if flat:
        raise ConfigError(f"predictors: {flat} do not vary over the units used",
                          fix="leave constant columns out of the predictors")
    z = (data - means) / sds
    res = sm.OLS(z[outcome], sm.add_constant(z[predictors])).fit(cov_type="HC3", use_t=True)
    ci = res.conf_int(alpha)
    corr = z[predictors].corr().to_numpy()
    try:
        vif = np.diag(np.linalg.inv(corr)) if k > 1 else np.ones(1)
    except np.linalg.LinAlgError:
        vif = np.full(k, np.inf)
    coefs = [Coefficient(p, float(res.params[p]), float(res.bse[p]), float(ci.loc[p, 0]),
                         float(ci.loc[p, 1]), float(res.pvalues[p]),
                         float(data[outcome].corr(data[p])), float(vif[i]))
             for i, p in enumerate(predictors)]
    coefs.sort(key=lambda c: -abs(c.beta))
    return StandardisedFit(outcome, tuple(coefs), n, len(frame) - n, float(res.rsquared),
                           float(res.rsquared_adj), float(res.condition_number),
                           float(np.max(vif)), {c: float(means[c]) for c in data.columns},
                           {c: float(sds[c]) for c in data.columns}, tuple(map(str, data.index)))


@dataclass(frozen=True)
class Driver:
    """One predictor in a drivers report (standardised beta with its HC3 interval).

    >>> d = Driver("pctl_income_50", "Median household income", "Opportunity-rich", 0.4, 0.1,
    ...            0.2, 0.6, 0.0001, True, 0.5, 1.2)
    >>> d.significant, d.ci_low < d.beta < d.ci_high
    (True, True)
    """

    metric_id: str
    label: str
    pillar: str
    beta: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    correlation: float
    vif: float


@dataclass(frozen=True)
class DroppedPredictor:
    """A candidate metric left out of the model, and why.

    >>> DroppedPredictor("population", "Population", "a count that scales with population "
    ...                  "size, not a rate or share").reason.startswith("a count")
    True
    """

    metric_id: str
    label: str
    reason: str


@dataclass(frozen=True)
class Position:
    """Where the highlighted unit sits on one driver: its value and z-score (None if missing).

    >>> p = Position("pctl_income_50", "Median household income", 52000.0, -0.8, 0.4)
    >>> round(p.z * p.beta, 2)  # this unit's contribution to its fitted outcome, in SD
    -0.32
    """

    metric_id: str
    label: str
    value: float | None
    z: float | None
    beta: float


@dataclass(frozen=True)
class Highlight:
    """The highlighted unit: outcome, fitted outcome (z) when complete, position per driver.

    >>> h = Highlight("40143", "Tulsa County", 0.41, -0.5, -0.32, True,
    ...               (Position("pctl_income_50", "Median household income", 52000.0, -0.8, 0.4),))
    >>> h.in_model, [p.metric_id for p in h.positions]
    (True, ['pctl_income_50'])
    """

    geo_id: str
    name: str
    outcome: float
    outcome_z: float
    fitted_z: float | None
    in_model: bool
    positions: tuple[Position, ...]


@dataclass(frozen=True)
class DriversReport:
    """Which metrics are associated with upward mobility across units of one level.

    >>> r = DriversReport("county", "kfr_p25", "Income rank", METHOD, 20, 20, 0, 0.3, 0.25, 1.0,
    ...                   1.0, (Driver("pctl_income_50", "Median household income", "Jobs", 0.4,
    ...                   0.1, 0.2, 0.6, 0.001, True, 0.5, 1.0),), (), (), CAVEAT, (), ())
    >>> r.to_frame()["beta"].to_dict(), r.to_dict()["highlight"]
    ({'pctl_income_50': 0.4}, None)
    """

    level: str
    outcome_id: str
    outcome_label: str
    method: str
    n_units: int
    n_used: int
    n_dropped: int
    r2: float
    adj_r2: float
    condition_number: float
    max_vif: float
    drivers: tuple[Driver, ...]
    dropped_predictors: tuple[DroppedPredictor, ...]
    interpretation: tuple[str, ...]
    caveat: str
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    highlight: Highlight | None = None

    def to_dict(self) -> dict:
        """The report as a JSON-ready dict (NaN and infinity become None)."""
        return json_ready(asdict(self))

    def to_frame(self) -> pd.DataFrame:
        """The drivers as a table, one row per predictor, largest |beta| first."""
        return pd.DataFrame([asdict(d) for d in self.drivers]).set_index("metric_id")


def _urban_wide(wh: Warehouse, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    lv = frames.latest_values(wh)
    metrics = frames.source_ids(wh, kinds=[Kind.METRICS])
    u = lv[(lv["geo_level"] == level) & lv["source_id"].isin(metrics)]
    wide = {v: u.pivot_table(index="geo_id", columns="metric_id", values=v, aggfunc="first")
            for v in ("estimate", "quality")}
    return wide["estimate"], wide["quality"].reindex_like(wide["estimate"])


def level_frame(wh: Warehouse, level: str) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """The units of a level with the outcome (column ``OUTCOMES[level]``) and every candidate
    predictor; the Urban quality grades (None for tracts); notes on how units were formed.

    >>> import tempfile, pathlib
    >>> level_frame(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "county")[0].empty
    True
    """
    outcome = OUTCOMES[level]
    if level == "tract":
        values = frames.tract_values(wh)
        return values if outcome in values else pd.DataFrame(columns=[outcome]), None, []
    wide, quality = _urban_wide(wh, level)
    notes: list[str] = []
    if level == "county":
        co = frames.county_outcomes(wh)
        y = co[(co["metric_id"] == outcome) & (co["subgroup_type"] == "all")]
        y = y.groupby("geo_id")["estimate"].first()
    else:
        names = frames.named_geographies(wh)
        tracts, by_place = frames.tract_values(wh), frames.tracts_by_place(wh)
        kfr = tracts[outcome] if outcome in tracts else pd.Series(dtype=float)
        medians, few = {}, 0
        for geo_id in wide.index:
            if (geo_id, "place") not in names.index:
                continue
            row = names.loc[(geo_id, "place")]
            ids = by_place.get((base_name(row["name"]), row["state_fips"]), [])
            v = kfr.reindex(ids).dropna()
            if len(v) >= MIN_TRACTS:
                medians[geo_id] = float(v.median())
            else:
                few += 1
        y = pd.Series(medians, dtype=float)
        notes.append(f"place outcome = median {outcome} over the Atlas tracts the place's name "
                     f"matches (2010 tracts named for the city); {few} places with fewer than "
                     f"{MIN_TRACTS} such tracts are left out")
    y = y[y.index.isin(wide.index)]
    frame = wide.reindex(y.index).assign(**{outcome: y})
    return frame, quality.reindex(y.index), notes


def _candidates(frame: pd.DataFrame, level: str, min_coverage: float
                ) -> tuple[list[str], list[DroppedPredictor]]:
    outcome, dropped, chosen = OUTCOMES[level], [], []
    has_y = frame[frame[outcome].notna()]
    pool = []
    for m in all_metrics():
        if level not in m.geo_levels or m.id == outcome:
            continue
        if level == "tract":
            if m.id.startswith(_OUTCOME_PREFIXES):
                continue
        elif m.publisher != "Urban Institute" or m.direction == "context":
            continue
        if m.unit in _SIZE_UNITS:
            dropped.append(DroppedPredictor(m.id, m.label, "a count that scales with "
                                            "population size, not a rate or share"))
            continue
        share = float(has_y[m.id].notna().mean()) if m.id in has_y and len(has_y) else 0.0
        if share < min_coverage:
            why = (f"present for {share:.0%} of the {PLURAL[level]} (min_coverage "
                   f"{min_coverage:.0%})" if share else f"no values loaded for {PLURAL[level]}")
            dropped.append(DroppedPredictor(m.id, m.label, why))
            continue
        pool.append(m)
    corr = has_y[[m.id for m in pool]].corr()
    for m in pool:
        twin = next((c for c in chosen if abs(corr.loc[m.id, c]) > DUPLICATE_R), None)
        if twin is None:
            chosen.append(m.id)
        else:
            dropped.append(DroppedPredictor(m.id, m.label, f"near-duplicate of {twin} (|r| = "
                                            f"{abs(corr.loc[m.id, twin]):.3f} > {DUPLICATE_R}), "
                                            "which comes first in catalog order"))
    return chosen, dropped


def _given(frame: pd.DataFrame, level: str, predictors: list[str]) -> list[str]:
    out = []
    for p in dict.fromkeys(predictors):
        try:
            get_metric(p)
        except MetricNotFoundError as exc:
            raise ConfigError(f"predictors: {exc.message}", fix=exc.fix) from None
        if p == OUTCOMES[level] or (p.startswith(_OUTCOME_PREFIXES)):
            raise ConfigError(f"predictors: {p!r} is an Opportunity Atlas outcome",
                              fix="use outcomes only as outcomes; leave it out of predictors")
        if p not in frame or frame[p].notna().sum() == 0:
            where = "tract covariates" if level == "tract" else "Urban Institute metrics"
            raise ConfigError(f"predictors: {p!r} has no values among the {where} loaded for "
                              f"{PLURAL[level]}", fix="choose among: " + ", ".join(
                                  c for c in frame.columns if c != OUTCOMES[level]))
        out.append(p)
    if not out:
        raise ConfigError("predictors is empty", fix="name at least one metric, or leave it out")
    return out


def _sentence(level: str, label: str, c: Coefficient, simple: bool) -> str:
    proper = label.split(" ")[0] in _PROPER or not label[1:2].islower()
    name = label if proper else label[0].lower() + label[1:]
    side = "higher" if c.beta > 0 else "lower"
    lo, hi = sorted((abs(c.ci_low), abs(c.ci_high)))
    held = (" in a simple regression (nothing else held fixed)" if simple
            else ", holding the other metrics fixed")
    return (f"{PLURAL[level].capitalize()} one standard deviation higher in {name} have upward "
            f"mobility {abs(c.beta):.2f} SD {side} (95% CI {lo:.2f}–{hi:.2f}){held} — an "
            f"association across {PLURAL[level]}, not a causal effect.")


def _highlight(wh: Warehouse, frame: pd.DataFrame, level: str, geo_id: str,
               fit: StandardisedFit, drivers: list[Driver]) -> Highlight:
    if geo_id not in frame.index or pd.isna(frame.loc[geo_id, fit.outcome]):
        raise ConfigError(f"highlight {geo_id!r} is not a {level} with an upward-mobility "
                          "outcome loaded", fix=f"give the GEOID of one of the {len(frame)} "
                          f"{PLURAL[level]} with an outcome, or change level")
    names = frames.named_geographies(wh) if level != "tract" else pd.DataFrame()
    name = str(names.loc[(geo_id, level), "name"]) if (geo_id, level) in names.index else geo_id
    row = frame.loc[geo_id]
    positions = []
    for d in drivers:
        v = row[d.metric_id]
        z = None if pd.isna(v) else (float(v) - fit.means[d.metric_id]) / fit.sds[d.metric_id]
        positions.append(Position(d.metric_id, d.label, None if pd.isna(v) else float(v), z,
                                  d.beta))
    complete = all(p.z is not None for p in positions)
    fitted = sum(p.beta * p.z for p in positions) if complete else None  # type: ignore[operator]
    y = float(row[fit.outcome])
    return Highlight(geo_id, name, y, (y - fit.means[fit.outcome]) / fit.sds[fit.outcome],
                     fitted, geo_id in set(fit.used), tuple(positions))


def drivers(wh: Warehouse, *, level: str = "county", predictors: list[str] | None = None,
            min_coverage: float = 0.8, highlight: str | None = None) -> DriversReport:
    """Which metrics are associated with upward mobility (Atlas kfr at p25) across the
    counties, places or tracts loaded: standardised betas with HC3 robust 95% intervals.

    By default the predictors are the Urban Institute metrics (not context ones) present for
    at least ``min_coverage`` of the units, less near-duplicates (|r| > 0.9 with one chosen
    earlier in catalog order); for tracts, the tract covariates that are not outcomes.

    >>> import tempfile, pathlib
    >>> drivers(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), level="city")
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: level 'city' is not one of county, place, tract. What to do: use level='county', 'place' or 'tract'
    """
    if level not in LEVELS:
        raise ConfigError(f"level {level!r} is not one of {', '.join(LEVELS)}",
                          fix="use level='county', 'place' or 'tract'")
    if not 0 < min_coverage <= 1:
        raise ConfigError(f"min_coverage {min_coverage} is not a share",
                          fix="use a value above 0 and at most 1, e.g. 0.8")
    def build() -> tuple[DriversReport, pd.DataFrame, StandardisedFit]:
        return _model(wh, level, predictors, min_coverage)

    # The model does not depend on the highlighted unit: fit it once per warehouse session.
    key = f"drivers:{level}:{min_coverage}:{predictors!r}"
    report, frame, fit = wh.cached(key, build)  # type: ignore[misc]
    if not highlight:
        return report
    return replace(report, highlight=_highlight(wh, frame, level, highlight, fit,
                                                list(report.drivers)))


def _model(wh: Warehouse, level: str, predictors: list[str] | None,
           min_coverage: float) -> tuple[DriversReport, pd.DataFrame, StandardisedFit]:
    frame, quality, notes = level_frame(wh, level)
    outcome = OUTCOMES[level]
    frame = frame[frame[outcome].notna()]
    if len(frame) <= 11:
        raise ConfigError(N_("level {level!r}: only {n} {units} have the outcome {outcome} and "
                             "the metrics; a regression needs at least 12", level=level,
                             n=len(frame), units=PLURAL[level], outcome=outcome),
                          fix=N_("load the Opportunity Atlas and Urban Institute files for the "
                                 "whole country (upward fetch urban opportunity-atlas …), or "
                                 "use another level"))
    if predictors is None:
        chosen, dropped = _candidates(frame, level, min_coverage)
        if not chosen:
            raise ConfigError(f"min_coverage {min_coverage}: no predictor is present for that "
                              f"share of the {PLURAL[level]}", fix="lower min_coverage")
    else:
        chosen, dropped = _given(frame, level, predictors), []
    fit = fit_standardised(frame, outcome, chosen)
    simple = len(chosen) == 1
    rows = [Driver(c.name, get_metric(c.name).label, get_metric(c.name).pillar, c.beta, c.se,
                   c.ci_low, c.ci_high, c.p_value, c.p_value < ALPHA, c.correlation, c.vif)
            for c in fit.coefficients]
    sentences = [_sentence(level, d.label, c, simple)
                 for d, c in zip(rows, fit.coefficients, strict=True) if d.significant]
    if not sentences:
        sentences = [f"No metric is significantly associated (p < {ALPHA}) with upward mobility "
                     f"across {PLURAL[level]}."]
    warnings = [f"{d.metric_id} has a variance inflation factor of {d.vif:.1f} (> {VIF_WARN:g}): "
                "it overlaps the other predictors and its beta is unstable"
                for d in rows if d.vif > VIF_WARN]
    if fit.n_dropped > 0.3 * len(frame):
        warnings.append(f"{fit.n_dropped} of {len(frame)} {PLURAL[level]} lack a predictor and "
                        "are left out; the complete cases may not represent the rest")
    if quality is not None:
        q = quality.reindex(index=list(fit.used), columns=chosen).to_numpy(dtype=float)
        weak = float(np.mean(q == 3))
        if weak > 0.05:
            warnings.append(f"{weak:.0%} of the predictor values used are rated quality 3 by "
                            "the Urban Institute (serious issues: do not act on them alone)")
    if simple:
        only = (" — the only tract covariate loaded that is not an outcome"
                if level == "tract" and predictors is None else "")
        notes.append(f"only one predictor ({chosen[0]}{only}): a simple regression, whose "
                     "beta equals the correlation with the outcome")
    report = DriversReport(level, outcome, get_metric(outcome).label, METHOD, len(frame), fit.n,
                           fit.n_dropped, fit.r2, fit.adj_r2, fit.condition_number, fit.max_vif,
                           tuple(rows), tuple(dropped), tuple(sentences), CAVEAT, tuple(warnings),
                           tuple(notes), None)
    return report, frame, fit
