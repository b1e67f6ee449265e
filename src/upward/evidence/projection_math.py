"""What an intervention would do in another city: pooled effect × eligible people × take-up,
with uncertainty for a *new* city.

The effect in a new city is drawn from the random-effects predictive distribution,
θ_new = μ + √(τ² + se²)·T with T ~ t(k − 2) (Higgins, Thompson & Spiegelhalter 2009), not from
the CI of the average effect: cities differ, and the CI only describes the average. Take-up is
drawn uniformly from ``take_up_range`` when one is given. Propagation is by seeded Monte Carlo
(``draws`` draws), because the conversions to people (ratios with a baseline risk) and the
products with take-up are not linear.

Examples
--------
>>> from upward.evidence.meta import pool
>>> pooled = pool([0.04, 0.07, 0.02, 0.05], [0.01, 0.015, 0.012, 0.02], measure="rd")
>>> p = project(pooled, eligible_population=10_000, take_up=0.3, cost_per_participant=1200)
>>> round(p.participants), round(p.total_effect), round(p.total_cost)
(3000, 129, 3600000)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.evidence.effect_sizes import get_measure
from upward.evidence.meta import PooledEffect

SCHEMA_VERSION = "1.0"


@dataclass
class Projection(JsonReport):
    """A projected effect for one city. ``*_low``/``*_high`` are (1 − alpha) intervals for a new
    city (prediction-based); ``total_effect_ci_*`` show what the CI alone would have said.
    Effects are in the outcome's units per participant (``effect_*``) and in total
    (``total_effect*``: e.g. more people employed, dollars of earnings). ``cost_per_unit`` is
    dollars per unit of effect in the direction of the expected effect (per job gained, or per
    jail stay avoided), with a range only when a new city's effect is surely in that direction.

    >>> from upward.evidence.meta import pool
    >>> pooled = pool([0.04, 0.07, 0.02, 0.05], [0.01, 0.015, 0.012, 0.02], measure="rd")
    >>> p = project(pooled, eligible_population=10_000, take_up=0.3)
    >>> p.measure, p.participants, p.total_effect_low < p.total_effect < p.total_effect_high
    ('rd', 3000.0, True)
    """

    measure: str
    eligible_population: float
    take_up: float
    take_up_range: tuple[float, float] | None
    participants: float
    participants_low: float
    participants_high: float
    effect_per_participant: float
    effect_ci_low: float
    effect_ci_high: float
    effect_low: float
    effect_high: float
    total_effect: float
    total_effect_low: float
    total_effect_high: float
    total_effect_ci_low: float
    total_effect_ci_high: float
    probability_positive: float
    total_cost: float | None
    total_cost_low: float | None
    total_cost_high: float | None
    cost_per_unit: float | None
    cost_per_unit_low: float | None
    cost_per_unit_high: float | None
    interval_basis: str
    method: str
    draws: int
    seed: int
    alpha: float
    unit: str = ""
    warnings: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    def headline(self) -> str:
        """One line for readers.

        >>> from upward.evidence.meta import pool
        >>> pooled = pool([0.05, 0.03, 0.06, 0.04, 0.05], [0.01] * 5, measure="rd")
        >>> project(pooled, 1000, take_up=0.5, unit="more people employed").headline()
        'Expected ...more people employed among 500 participants (95% range for a new city ...)'
        """
        level = f"{100 * (1 - self.alpha):g}%"
        text = (f"Expected {self.total_effect:.3g} {self.unit or 'units'} among "
                f"{self.participants:.3g} participants ({level} range for a new city "
                f"{self.total_effect_low:.3g} to {self.total_effect_high:.3g})")
        if self.total_cost is not None:
            text += f"; cost {self.total_cost:,.0f}"
        return text


def _per_participant(measure: str, baseline: float | None,
                     outcome_sd: float | None) -> Callable[[np.ndarray], np.ndarray]:
    """Map effects on the pooled scale to the outcome's units per participant."""
    if get_measure(measure).absolute:
        return lambda theta: theta
    if measure == "smd":
        if outcome_sd is None or not outcome_sd > 0:
            raise ConfigError(
                "the pooled effect is an SMD: projecting it needs the outcome's SD in this city",
                fix="pass outcome_sd= (e.g. the SD of earnings among eligible residents)",
            )
        return lambda theta: theta * outcome_sd
    if baseline is None or not 0 < baseline < 1:
        raise ConfigError(
            f"the pooled effect is a ratio ({measure}): projecting it needs the share of eligible "
            "people who would have the outcome without the program (baseline risk, 0–1)",
            fix="pass baseline= (e.g. the employment rate among eligible residents)",
        )
    if measure == "log_rr":
        return lambda theta: np.minimum(baseline * np.exp(theta), 1.0) - baseline
    odds = baseline / (1 - baseline)
    return lambda theta: odds * np.exp(theta) / (1 + odds * np.exp(theta)) - baseline


def _check(eligible_population: float, take_up: float,
           take_up_range: tuple[float, float] | None, draws: int) -> None:
    if not (eligible_population >= 0 and math.isfinite(eligible_population)):
        raise ConfigError(f"eligible_population must be ≥ 0, got {eligible_population}",
                          fix="give the number of eligible people in the city")
    if not 0 < take_up <= 1:
        raise ConfigError(f"take_up must be in (0, 1], got {take_up}",
                          fix="give the expected share of eligible people who take part")
    if take_up_range is not None:
        lo, hi = take_up_range
        if not 0 < lo <= hi <= 1:
            raise ConfigError(f"take_up_range must satisfy 0 < low ≤ high ≤ 1, got {take_up_range}",
                              fix="give e.g. take_up_range=(0.2, 0.4)")
    if draws < 1000:
        raise ConfigError(f"draws={draws} is too few for stable intervals", fix="use ≥ 1000")


def project(pooled: PooledEffect, eligible_population: float, take_up: float = 1.0,
            take_up_range: tuple[float, float] | None = None,
            cost_per_participant: float | None = None, *, fixed_cost: float = 0.0,
            baseline: float | None = None, outcome_sd: float | None = None,
            unit: str = "", alpha: float | None = None, draws: int = 20_000,
            seed: int = 20240601) -> Projection:
    """Project a pooled effect onto a city's eligible population.

    Parameters
    ----------
    pooled
        From :func:`upward.evidence.meta.pool`. The effect is read as the effect per
        participant; if the studies report intention-to-treat effects per person *offered*, set
        ``take_up`` to the offer rate instead.
    eligible_population
        People in the city who could take part (e.g. from the city's profile).
    take_up, take_up_range
        Expected share who take part; a range (low, high) is drawn uniformly and its midpoint is
        the expected take-up.
    cost_per_participant, fixed_cost
        Costs in dollars; the total is participants × cost per participant + fixed cost.
    baseline, outcome_sd
        Needed to put ratio measures (baseline risk) or SMDs (outcome SD) into people/units.

    >>> from upward.evidence.meta import pool
    >>> pooled = pool([1500.0, 900.0, 2100.0], [400.0, 500.0, 600.0], measure="md")
    >>> p = project(pooled, 2000, take_up_range=(0.2, 0.4), cost_per_participant=3000)
    >>> p.interval_basis, round(p.participants)
    ('prediction', 600)
    """
    _check(eligible_population, take_up, take_up_range, draws)
    measure = pooled.measure or "md"
    warnings: list[str] = []
    if pooled.measure is None:
        warnings.append("the pooled effect has no declared measure; read as a difference in "
                        "the outcome's units per participant")
    to_units = _per_participant(measure, baseline, outcome_sd)
    alpha = pooled.alpha if alpha is None else alpha
    quantiles = (alpha / 2, 1 - alpha / 2)
    rng = np.random.default_rng(seed)

    if pooled.method == "FE":
        warnings.append("fixed-effect pooling assumes the same effect in every city; the range "
                        "reflects sampling error only")
    if pooled.pi_df is not None:
        basis = "prediction"
        shocks = rng.standard_t(pooled.pi_df, draws)
        spread = math.sqrt(pooled.tau2 + pooled.se**2)
        law = f"μ + √(τ² + se²)·t({pooled.pi_df})"
    elif pooled.method != "FE" and pooled.pi_low is not None:
        basis = "prediction"
        shocks = rng.standard_normal(draws)
        spread = math.sqrt(pooled.tau2 + pooled.se**2)
        law = "μ + √(τ² + se²)·z"
    else:
        basis = "confidence"
        shocks = rng.standard_normal(draws)
        spread = pooled.se
        law = "μ + se·z"
        if pooled.method != "FE":
            warnings.append(f"k = {pooled.k}: between-city variation cannot be estimated; the "
                            "range reflects sampling error only and understates the uncertainty "
                            "for a new city")
    theta_new = pooled.estimate + spread * shocks
    theta_avg = pooled.estimate + pooled.se * rng.standard_normal(draws)

    if take_up_range is None:
        share = np.full(draws, float(take_up))
        take_up_mean = float(take_up)
    else:
        share = rng.uniform(take_up_range[0], take_up_range[1], draws)
        take_up_mean = float(sum(take_up_range) / 2)
    people = eligible_population * share
    per_person = to_units(theta_new)
    total = people * per_person
    total_avg = people * to_units(theta_avg)

    participants = eligible_population * take_up_mean
    effect_point = float(to_units(np.array([pooled.estimate]))[0])
    ci_units = sorted(float(x) for x in to_units(np.array([pooled.ci_low, pooled.ci_high])))

    cost = cost_low = cost_high = per_unit = per_unit_low = per_unit_high = None
    if cost_per_participant is not None:
        if cost_per_participant < 0 or fixed_cost < 0:
            raise ConfigError("costs cannot be negative", fix="give costs in dollars (≥ 0)")
        cost_draws = people * cost_per_participant + fixed_cost
        cost = participants * cost_per_participant + fixed_cost
        cost_low, cost_high = (float(x) for x in np.quantile(cost_draws, quantiles))
        # Per unit of effect in the direction of the expected effect (a reduction in jail
        # stays a reduction); the range exists only if a new city surely moves that way.
        direction = 1.0 if effect_point >= 0 else -1.0
        if participants * effect_point != 0:
            per_unit = cost / abs(participants * effect_point)
        signed = direction * total
        if np.quantile(signed, alpha / 2) > 0:
            per_unit_low, per_unit_high = (float(x) for x in
                                           np.quantile(cost_draws / signed, quantiles))
        else:
            warnings.append("the effect in a new city may be zero or in the other direction, "
                            "so cost per unit of effect has no upper bound")

    take_up_law = ("fixed" if take_up_range is None
                   else f"Uniform({take_up_range[0]:g}, {take_up_range[1]:g})")
    return Projection(
        measure=measure, eligible_population=float(eligible_population), take_up=take_up_mean,
        take_up_range=None if take_up_range is None else tuple(map(float, take_up_range)),
        participants=participants,
        participants_low=float(np.quantile(people, quantiles[0])),
        participants_high=float(np.quantile(people, quantiles[1])),
        effect_per_participant=effect_point, effect_ci_low=ci_units[0],
        effect_ci_high=ci_units[1],
        effect_low=float(np.quantile(per_person, quantiles[0])),
        effect_high=float(np.quantile(per_person, quantiles[1])),
        total_effect=participants * effect_point,
        total_effect_low=float(np.quantile(total, quantiles[0])),
        total_effect_high=float(np.quantile(total, quantiles[1])),
        total_effect_ci_low=float(np.quantile(total_avg, quantiles[0])),
        total_effect_ci_high=float(np.quantile(total_avg, quantiles[1])),
        probability_positive=float(np.mean(total > 0)),
        total_cost=cost, total_cost_low=cost_low, total_cost_high=cost_high,
        cost_per_unit=per_unit, cost_per_unit_low=per_unit_low, cost_per_unit_high=per_unit_high,
        interval_basis=basis,
        method=(f"Monte Carlo, {draws} draws (seed {seed}): effect in a new city ~ {law}; "
                f"take-up {take_up_law}"),
        draws=draws, seed=seed, alpha=alpha, unit=unit, warnings=warnings,
    )
