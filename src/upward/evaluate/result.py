"""The result of an evaluation: a value object that prints, serialises and renders.

Failed assumption checks come first in every rendering: the estimate is still reported, but the
reader sees what it rests on before the number.

Examples
--------
>>> r = EvaluationResult(design="rct", method="difference in means", outcome="y",
...     estimand="ATE", estimate=2.0, se=0.5, ci_low=1.02, ci_high=2.98, p_value=0.0001, n=400)
>>> r.headline()
'ATE on y: 2 (95% CI 1.02 to 2.98), p = 0.0001, n = 400'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from upward.core.results import JsonReport
from upward.core.text import N_

SCHEMA_VERSION = "1.0"

@dataclass(frozen=True)
class Check:
    """One assumption check. ``passed`` is None when it is not informative here: it could not
    be run, or on this data it could not have failed (then ``detail`` says why).

    >>> c = Check("pre-trends", True, "joint test of leads: p = 0.41", statistic=0.9, p_value=0.41)
    >>> c.passed, c.p_value
    (True, 0.41)
    """

    name: str
    passed: bool | None
    detail: str
    statistic: float | None = None
    p_value: float | None = None


@dataclass
class EvaluationResult(JsonReport):
    """An impact estimate with its uncertainty, the checks it rests on and its chart tables.

    >>> r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 800.0, 200.0, 408.0,
    ...                      1192.0, 0.0001, 1000, n_treated=500, n_control=500)
    >>> r.estimate, r.ci_low, r.to_dict()["n_treated"]
    (800.0, 408.0, 500)
    """

    design: str
    method: str
    outcome: str
    estimand: str
    estimate: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int
    n_treated: int | None = None
    n_control: int | None = None
    n_clusters: int | None = None
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    spec: dict = field(default_factory=dict)
    cost: dict | None = None
    library: str = ""
    alpha: float = 0.05
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: str = SCHEMA_VERSION

    def failed_checks(self) -> list[Check]:
        """The checks that failed, in order.

        >>> EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10,
        ...     checks=[Check("balance", False, "age differs")]).failed_checks()[0].name
        'balance'
        """
        return [c for c in self.checks if c.passed is False]

    def headline(self) -> str:
        """One line: estimand, estimate, interval, p, n.

        >>> EvaluationResult("rct", "m", "y", "ATE", 1.5, None, None, None, None, 10).headline()
        'ATE on y: 1.5, n = 10'
        """
        head = {"estimand": self.estimand, "outcome": self.outcome,
                "estimate": _fmt(self.estimate), "n": self.n}
        interval = self.ci_low is not None and self.ci_high is not None
        if interval:
            head.update(level=round(100 * (1 - self.alpha)), low=_fmt(self.ci_low),
                        high=_fmt(self.ci_high))
        if self.p_value is not None:
            head["p"] = _fmt_p(self.p_value)
        if interval and self.p_value is not None:
            return N_("{estimand} on {outcome}: {estimate} ({level}% CI {low} to {high}), "
                      "p = {p}, n = {n:,}", **head)
        if interval:
            return N_("{estimand} on {outcome}: {estimate} ({level}% CI {low} to {high}), "
                      "n = {n:,}", **head)
        if self.p_value is not None:
            return N_("{estimand} on {outcome}: {estimate}, p = {p}, n = {n:,}", **head)
        return N_("{estimand} on {outcome}: {estimate}, n = {n:,}", **head)

    def summary_lines(self) -> list[str]:
        """Failed checks first, then the headline, the warnings and the passed checks.

        >>> EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10,
        ...     checks=[Check("overlap", False, "no overlap")]).summary_lines()[0]
        'CHECK FAILED — overlap: no overlap'
        """
        lines = [f"CHECK FAILED — {c.name}: {c.detail}" for c in self.failed_checks()]
        lines.append(self.headline())
        lines.append(f"Method: {self.method}")
        lines += [f"Warning: {w}" for w in self.warnings]
        lines += [f"check {'passed' if c.passed else 'not informative'} — {c.name}: {c.detail}"
                  for c in self.checks if c.passed is not False]
        return lines


def _fmt(x: float) -> str:
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


def _fmt_p(p: float) -> str:
    return "<0.0001" if p < 0.0001 else f"{p:.2g}" if p < 0.01 else f"{p:.3f}".rstrip("0").rstrip(".")
