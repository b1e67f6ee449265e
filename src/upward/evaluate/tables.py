"""The tables an evaluation result carries (``EvaluationResult.tables``): each declared once,
with its title, its columns and the chart that draws it. A design lists the tables it fills
(``Design.tables``); tables several designs fill are declared here, a design's own in its
module.

``chart`` names a chart form of the report (``upward.report.evaluation``); ``optional``
columns are ones a row may leave out (the chart is still drawn).

Examples
--------
>>> BALANCE.columns[:2], BALANCE.required
(('covariate', 'mean_treated'), ('covariate', 'mean_treated', 'mean_control', 'std_diff'))
"""

from __future__ import annotations

from dataclasses import dataclass

from upward.core.text import N_


@dataclass(frozen=True)
class ResultTable:
    """One kind of result table: key, title, columns (in order), the chart form that draws it
    and the columns a row may leave out.

    >>> ResultTable("x", "X", ("a", "b"), "forest", ("b",)).required
    ('a',)
    """

    key: str
    title: str
    columns: tuple[str, ...]
    chart: str | None = None
    optional: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """The columns every row has."""
        return tuple(c for c in self.columns if c not in self.optional)


ESTIMATES = ResultTable("estimates", N_("Estimates by method"),
                        ("method", "estimate", "se", "ci_low", "ci_high"), "forest",
                        ("se", "ci_low", "ci_high"))
BALANCE = ResultTable("balance", N_("Baseline balance"),
                      ("covariate", "mean_treated", "mean_control", "std_diff",
                       "std_diff_weighted"), "love_plot", ("std_diff_weighted",))
ATTRITION = ResultTable("attrition", N_("Attrition"),
                        ("group", "n_assigned", "n_observed", "rate"), "attrition_bars")
EVENT_STUDY = ResultTable("event_study", N_("Event study"),
                          ("rel_time", "estimate", "se", "ci_low", "ci_high", "band_low",
                           "band_high"), "event_study",
                          ("se", "ci_low", "ci_high", "band_low", "band_high"))
