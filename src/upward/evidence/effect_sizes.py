"""Effect sizes on a common scale, each with its standard error, so that evaluations reported in
different ways (means and SDs, a regression coefficient, 2×2 counts) can be pooled.

Formulas follow Borenstein, Hedges, Higgins & Rothstein (2009), *Introduction to Meta-Analysis*,
chapters 4–7; the log odds ratio to SMD conversion is Hasselblad & Hedges (1995) / Chinn (2000).

Examples
--------
>>> g = from_means(103.0, 5.5, 50, 100.0, 4.5, 50)   # Borenstein et al. (2009), p. 27-28
>>> round(g.estimate, 4), round(g.se, 4)
(0.5924, 0.2028)
>>> rr = log_risk_ratio(4, 123, 11, 139)              # BCG trial 1 (Aronson 1948)
>>> round(rr.estimate, 4), round(rr.se ** 2, 4)
(-0.8893, 0.3256)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from scipy import stats

from upward.core.errors import ConfigError

#: sqrt(3) / pi: the logistic distribution's SD relative to a unit-scale latent normal.
LOGIT_TO_SMD = math.sqrt(3.0) / math.pi


@dataclass(frozen=True)
class Measure:
    """A scale on which effects are stated.

    ``log_scale``: estimates are logarithms (ratios); show ``exp`` of them to readers.
    ``null``: the value meaning "no effect" on the analysis scale (0 for differences and logs).
    ``absolute``: the measure is in the outcome's own units (per participant), so a projection
    can multiply it by a number of people.

    >>> MEASURES["log_rr"].log_scale, MEASURES["log_rr"].null, MEASURES["md"].absolute
    (True, 0.0, True)
    """

    name: str
    label: str
    log_scale: bool
    null: float
    absolute: bool
    description: str


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("md", "Mean difference", False, 0.0, True,
                "difference in the outcome's own units (dollars, percentage points, days)"),
        Measure("smd", "Standardised mean difference (Hedges' g)", False, 0.0, False,
                "difference in means divided by the pooled within-group SD, small-sample corrected"),
        Measure("rd", "Risk difference", False, 0.0, True,
                "difference in the proportion with the outcome (treated − control)"),
        Measure("log_rr", "Risk ratio (log)", True, 0.0, False,
                "log of the ratio of the proportions with the outcome (treated / control)"),
        Measure("log_or", "Odds ratio (log)", True, 0.0, False,
                "log of the ratio of the odds of the outcome (treated / control)"),
    )
}


def get_measure(name: str) -> Measure:
    """The declared measure called ``name``; a clear error for any other.

    >>> get_measure("log_rr").log_scale
    True
    """
    try:
        return MEASURES[name]
    except KeyError:
        raise ConfigError(
            f"effect measure {name!r} is not known",
            fix=f"use one of {', '.join(MEASURES)}",
        ) from None


@dataclass(frozen=True)
class EffectSize:
    """One effect estimate on a declared scale, with its standard error.

    ``n1``/``n2`` (treated/control sizes) and ``baseline`` (control-group risk, for ratios) are
    kept when known because some conversions need them.

    >>> e = EffectSize("log_rr", -0.5, 0.2)
    >>> [round(x, 3) for x in e.ci(0.05)]
    [-0.892, -0.108]
    >>> [round(x, 3) for x in e.ci(0.05, natural=True)]
    [0.41, 0.898]
    """

    measure: str
    estimate: float
    se: float
    n1: int | None = None
    n2: int | None = None
    baseline: float | None = None

    def __post_init__(self) -> None:
        get_measure(self.measure)
        if not (math.isfinite(self.estimate) and math.isfinite(self.se)) or self.se <= 0:
            raise ConfigError(
                f"effect ({self.measure}) needs a finite estimate and a positive standard error, "
                f"got estimate={self.estimate}, se={self.se}",
                fix="check the reported numbers; a zero SE usually means a rounding error",
            )

    @property
    def variance(self) -> float:
        """The sampling variance, se².

        >>> EffectSize("md", 1.0, 0.5).variance
        0.25
        """
        return self.se**2

    @property
    def z(self) -> float:
        """The Wald statistic against the measure's null value.

        >>> EffectSize("md", 1.0, 0.5).z
        2.0
        """
        return (self.estimate - get_measure(self.measure).null) / self.se

    @property
    def p_value(self) -> float:
        """Two-sided normal p-value against the null.

        >>> round(EffectSize("md", 1.96, 1.0).p_value, 3)
        0.05
        """
        return float(2 * stats.norm.sf(abs(self.z)))

    def ci(self, alpha: float = 0.05, *, natural: bool = False) -> tuple[float, float]:
        """The (1 − alpha) normal confidence interval; ``natural=True`` exponentiates ratios.

        >>> EffectSize("md", 0.0, 1.0).ci(0.05)[1] > 1.95
        True
        """
        z = float(stats.norm.ppf(1 - alpha / 2))
        low, high = self.estimate - z * self.se, self.estimate + z * self.se
        if natural and get_measure(self.measure).log_scale:
            return math.exp(low), math.exp(high)
        return low, high

    def natural(self) -> float:
        """The estimate on the scale readers use (exp of a log ratio).

        >>> round(EffectSize("log_or", math.log(2.0), 0.1).natural(), 6)
        2.0
        """
        return math.exp(self.estimate) if get_measure(self.measure).log_scale else self.estimate


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be positive, got {value}", fix=f"give a positive {name}")


def _sizes(n1: float, n2: float) -> None:
    for name, n in (("n1", n1), ("n2", n2)):
        if not (n >= 2 and float(n).is_integer()):
            raise ConfigError(f"{name} must be a whole number of at least 2, got {n}",
                              fix="give the number of people in each group")


def hedges_j(df: float) -> float:
    """Hedges' small-sample correction factor J = 1 − 3 / (4·df − 1) (Borenstein eq. 4.22).

    >>> round(hedges_j(98), 4)
    0.9923
    """
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def _smd(d: float, var_d: float, n1: int, n2: int) -> EffectSize:
    j = hedges_j(n1 + n2 - 2)
    return EffectSize("smd", j * d, j * math.sqrt(var_d), n1=int(n1), n2=int(n2))


def from_means(m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int) -> EffectSize:
    """Hedges' g of group 1 (treated) against group 2 (control) from means, SDs and sizes.

    d = (m1 − m2) / S_within, V_d = (n1+n2)/(n1·n2) + d²/(2(n1+n2)), g = J·d, V_g = J²·V_d
    (Borenstein et al. 2009, eqs. 4.18–4.24).

    >>> g = from_means(103.0, 5.5, 50, 100.0, 4.5, 50)
    >>> round(g.estimate, 4), round(g.variance, 4)
    (0.5924, 0.0411)
    """
    _sizes(n1, n2)
    _positive("sd1", sd1)
    _positive("sd2", sd2)
    s_within = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    d = (m1 - m2) / s_within
    var_d = (n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2))
    return _smd(d, var_d, n1, n2)


def smd_from_mean_difference(diff: float, se: float, sd_pooled: float | None, n1: int,
                             n2: int) -> EffectSize:
    """Hedges' g from a reported difference (e.g. a regression estimate) and its SE.

    With ``sd_pooled`` (the outcome's within-group SD) the estimate's own precision is kept,
    which matters for covariate-adjusted estimates: V_d = (se / sd)² + d² / (2(n1+n2)).
    Without it, the SD is recovered from the SE of an unadjusted difference,
    SD = se / √(1/n1 + 1/n2) (Cochrane Handbook §6.5.2.3), and V_d is Borenstein's eq. 4.20.

    >>> g = smd_from_mean_difference(3.0, 1.005, None, 50, 50)
    >>> round(g.estimate, 3)
    0.592
    """
    _sizes(n1, n2)
    _positive("se", se)
    if sd_pooled is None:
        sd = se / math.sqrt(1 / n1 + 1 / n2)
        d = diff / sd
        var_d = (n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2))
    else:
        _positive("sd_pooled", sd_pooled)
        d = diff / sd_pooled
        var_d = (se / sd_pooled) ** 2 + d**2 / (2 * (n1 + n2))
    return _smd(d, var_d, n1, n2)


def _two_by_two(a: float, n1: float, c: float, n2: float) -> tuple[float, float, float, float]:
    """Cells (a, b, c, d) with 0.5 added to all four when any is zero (metafor's default)."""
    for name, count, total in (("a", a, n1), ("c", c, n2)):
        if not (0 <= count <= total) or total <= 0:
            raise ConfigError(
                f"events {name}={count} must be between 0 and its group size {total}",
                fix="give event counts and group sizes (people), treated first",
            )
    if a == 0 and c == 0:
        raise ConfigError(
            "no events in either group: a ratio carries no information",
            fix="use risk_difference for this study, or leave it out of a ratio meta-analysis",
        )
    if a == n1 and c == n2:
        raise ConfigError(
            "every person in both groups had the event: a ratio carries no information",
            fix="use risk_difference for this study, or leave it out of a ratio meta-analysis",
        )
    b, d = n1 - a, n2 - c
    if min(a, b, c, d) == 0:
        return a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return float(a), float(b), float(c), float(d)


def log_risk_ratio(a: int, n1: int, c: int, n2: int) -> EffectSize:
    """Log risk ratio of ``a`` events among ``n1`` treated against ``c`` among ``n2`` controls.

    ln RR = ln((a/n1)/(c/n2)), V = 1/a − 1/n1 + 1/c − 1/n2 (Borenstein eq. 5.1–5.3), with 0.5
    added to every cell of the 2×2 table when one is zero.

    >>> round(log_risk_ratio(6, 306, 29, 303).estimate, 4)   # BCG trial 2 (Ferguson & Simes)
    -1.5854
    """
    aa, bb, cc, dd = _two_by_two(a, n1, c, n2)
    m1, m2 = aa + bb, cc + dd
    est = math.log((aa / m1) / (cc / m2))
    var = 1 / aa - 1 / m1 + 1 / cc - 1 / m2
    return EffectSize("log_rr", est, math.sqrt(var), n1=int(n1), n2=int(n2), baseline=c / n2)


def log_odds_ratio(a: int, n1: int, c: int, n2: int) -> EffectSize:
    """Log odds ratio from 2×2 counts: ln(ad/bc), V = 1/a + 1/b + 1/c + 1/d (Borenstein 5.8–5.10).

    >>> round(log_odds_ratio(4, 123, 11, 139).estimate, 4)
    -0.9387
    """
    aa, bb, cc, dd = _two_by_two(a, n1, c, n2)
    est = math.log(aa * dd / (bb * cc))
    var = 1 / aa + 1 / bb + 1 / cc + 1 / dd
    return EffectSize("log_or", est, math.sqrt(var), n1=int(n1), n2=int(n2), baseline=c / n2)


def risk_difference(a: int, n1: int, c: int, n2: int) -> EffectSize:
    """Risk difference a/n1 − c/n2 with V = p1(1−p1)/n1 + p2(1−p2)/n2 (Borenstein eq. 5.13).

    When both proportions are 0 or 1 the variance is zero; the usual 0.5 correction is then
    applied to the variance only (the estimate stays exact).

    >>> round(risk_difference(30, 100, 20, 100).estimate, 2)
    0.1
    """
    for name, count, total in (("a", a, n1), ("c", c, n2)):
        if not (0 <= count <= total) or total <= 0:
            raise ConfigError(f"events {name}={count} must be between 0 and {total}",
                              fix="give event counts and group sizes, treated first")
    p1, p2 = a / n1, c / n2
    var = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if var == 0:
        q1, q2 = (a + 0.5) / (n1 + 1), (c + 0.5) / (n2 + 1)
        var = q1 * (1 - q1) / (n1 + 1) + q2 * (1 - q2) / (n2 + 1)
    return EffectSize("rd", p1 - p2, math.sqrt(var), n1=int(n1), n2=int(n2), baseline=p2)


def log_or_to_smd(effect: EffectSize) -> EffectSize:
    """Convert a log odds ratio to an SMD: d = ln(OR)·√3/π, V_d = V·3/π² (Chinn 2000).

    >>> round(log_or_to_smd(EffectSize("log_or", 1.0, 0.2)).estimate, 4)
    0.5513
    """
    if effect.measure != "log_or":
        raise ConfigError(f"log_or_to_smd needs a log odds ratio, got {effect.measure!r}",
                          fix="convert with to_common_scale")
    return replace(effect, measure="smd", estimate=effect.estimate * LOGIT_TO_SMD,
                   se=effect.se * LOGIT_TO_SMD)


def smd_to_log_or(effect: EffectSize) -> EffectSize:
    """The inverse of :func:`log_or_to_smd`: ln(OR) = d·π/√3.

    >>> round(smd_to_log_or(EffectSize("smd", 0.5513, 0.1)).estimate, 3)
    1.0
    """
    if effect.measure != "smd":
        raise ConfigError(f"smd_to_log_or needs an SMD, got {effect.measure!r}",
                          fix="convert with to_common_scale")
    return replace(effect, measure="log_or", estimate=effect.estimate / LOGIT_TO_SMD,
                   se=effect.se / LOGIT_TO_SMD)


def _identity(effect: EffectSize) -> EffectSize:
    return effect


def _rr_to_or(effect: EffectSize) -> EffectSize:
    p0 = _baseline(effect, "log_or")
    p1 = p0 * math.exp(effect.estimate)
    if not 0 < p1 < 1:
        raise ConfigError(
            f"a risk ratio of {math.exp(effect.estimate):.3g} with baseline risk {p0:.3g} "
            "implies a treated risk outside (0, 1)",
            fix="check the baseline risk",
        )
    # d ln OR / d ln RR = 1 / (1 − p1) at fixed baseline (delta method).
    est = math.log(p1 / (1 - p1)) - math.log(p0 / (1 - p0))
    return replace(effect, measure="log_or", estimate=est, se=effect.se / (1 - p1))


def _rr_to_smd(effect: EffectSize) -> EffectSize:
    _baseline(effect, "smd")
    return log_or_to_smd(_rr_to_or(effect))


def _or_to_rr(effect: EffectSize) -> EffectSize:
    p0 = _baseline(effect, "log_rr")
    odds1 = p0 / (1 - p0) * math.exp(effect.estimate)
    p1 = odds1 / (1 + odds1)
    # d ln RR / d ln OR = 1 − p1 (delta method, baseline fixed).
    return replace(effect, measure="log_rr", estimate=math.log(p1 / p0), se=effect.se * (1 - p1))


def _ratio_to_rd(effect: EffectSize) -> EffectSize:
    as_rr = effect if effect.measure == "log_rr" else _or_to_rr(effect)
    p0 = _baseline(effect, "rd")
    rr = math.exp(as_rr.estimate)
    # d (p0·(RR − 1)) / d ln RR = p0·RR.
    return replace(effect, measure="rd", estimate=p0 * (rr - 1), se=as_rr.se * p0 * rr)


def _baseline(effect: EffectSize, target: str) -> float:
    p0 = effect.baseline
    if p0 is None or not 0 < p0 < 1:
        raise ConfigError(
            f"converting {effect.measure} to {target} needs the control group's risk (baseline)",
            fix="give EffectSize(..., baseline=control events / control size), or pool on the "
                "ratio scale instead",
        )
    return p0


#: (from, to) → conversion. Conversions through a baseline risk hold it fixed (delta method), so
#: their SEs describe the ratio's uncertainty at that baseline only. Pairs that are absent cannot be converted without assumptions
#: the library will not make (e.g. a mean difference to an SMD needs the outcome's SD).
CONVERSIONS = {
    ("log_or", "smd"): log_or_to_smd,
    ("smd", "log_or"): smd_to_log_or,
    ("log_rr", "log_or"): _rr_to_or,
    ("log_rr", "smd"): _rr_to_smd,
    ("log_or", "log_rr"): _or_to_rr,
    ("log_rr", "rd"): _ratio_to_rd,
    ("log_or", "rd"): _ratio_to_rd,
}

_WHY_NOT = {
    ("md", "smd"): "a mean difference needs the outcome's SD; use smd_from_mean_difference",
    ("smd", "md"): "an SMD needs the outcome's SD in the target city to be put back in units",
    ("rd", "log_rr"): "a risk difference needs the baseline risk; compute the ratio from counts",
    ("rd", "log_or"): "a risk difference needs the baseline risk; compute the ratio from counts",
    ("rd", "smd"): "a risk difference needs the baseline risk; compute the odds ratio from counts",
}


def convert(effect: EffectSize, target: str) -> EffectSize:
    """One effect on the ``target`` scale, or a ConfigError saying why it cannot be done.

    >>> convert(EffectSize("log_or", 1.0, 0.2), "smd").measure
    'smd'
    >>> convert(EffectSize("log_rr", -0.5, 0.2), "smd")
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: converting log_rr to smd needs the control group's risk ...
    """
    get_measure(target)
    if effect.measure == target:
        return _identity(effect)
    step = CONVERSIONS.get((effect.measure, target))
    if step is None:
        why = _WHY_NOT.get((effect.measure, target), "no defensible conversion exists")
        raise ConfigError(
            f"cannot convert {effect.measure} ({get_measure(effect.measure).label}) to "
            f"{target} ({get_measure(target).label}): {why}",
            fix="pool the studies on a scale they share, or give the missing information",
        )
    return step(effect)


def to_common_scale(effects: Iterable[EffectSize], target: str | None = None) -> list[EffectSize]:
    """All effects converted to ``target`` (default: the measure they share, else an error).

    >>> out = to_common_scale([EffectSize("smd", 0.3, 0.1), EffectSize("log_or", 0.5, 0.2)], "smd")
    >>> [e.measure for e in out]
    ['smd', 'smd']
    """
    effects = list(effects)
    if not effects:
        raise ConfigError("no effects to put on a common scale", fix="give at least one effect")
    if target is None:
        measures = {e.measure for e in effects}
        if len(measures) > 1:
            raise ConfigError(
                f"effects are on different scales ({', '.join(sorted(measures))})",
                fix="name the target scale, for example to_common_scale(effects, 'smd')",
            )
        target = measures.pop()
    return [convert(e, target) for e in effects]


def from_evaluation(result, measure: str = "md", *, sd_pooled: float | None = None) -> EffectSize:
    """The effect of an ``upward.evaluate`` result: its estimate and SE in outcome units
    (``measure="md"``, or ``"rd"`` for a 0/1 outcome), or as Hedges' g with ``measure="smd"``
    (needs ``sd_pooled``, the outcome's SD, and the group sizes).

    >>> from upward.evaluate.result import EvaluationResult
    >>> r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 1200.0, 400.0,
    ...                      416.0, 1984.0, 0.003, 800, n_treated=400, n_control=400)
    >>> from_evaluation(r).estimate, round(from_evaluation(r, "smd", sd_pooled=6000).estimate, 3)
    (1200.0, 0.2)
    """
    if result.se is None or not result.se > 0:
        raise ConfigError(
            f"the evaluation of {result.outcome!r} ({result.design}) has no standard error",
            fix="re-run the evaluation with a design that reports one; it cannot be pooled",
        )
    n1, n2 = result.n_treated, result.n_control
    if measure == "smd":
        if sd_pooled is None or n1 is None or n2 is None:
            raise ConfigError(
                f"an SMD for {result.outcome!r} needs the outcome's SD and both group sizes",
                fix="pass sd_pooled=, or pool in outcome units (measure='md')",
            )
        return smd_from_mean_difference(result.estimate, result.se, sd_pooled, n1, n2)
    if not get_measure(measure).absolute:
        raise ConfigError(f"an evaluation estimate is a difference, not a {measure}",
                          fix="use measure='md', 'rd' or 'smd'")
    return EffectSize(measure, float(result.estimate), float(result.se), n1=n1, n2=n2)
