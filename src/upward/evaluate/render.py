"""Text renderings of an evaluation result: Rich tables for the terminal and Markdown.

Failed assumption checks come first in both, before the estimate, so the reader sees what the
number rests on. The rows are built once (``check_rows``, ``cost_rows`` …) and shared with the
HTML report.

Examples
--------
>>> from upward.evaluate.result import Check, EvaluationResult
>>> r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 480.0, 150.0, 186.0,
...                      774.0, 0.0014, 1800, checks=[Check("balance", False, "age differs")])
>>> print(to_markdown(r).splitlines()[2])
> **Check failed — balance:** age differs
"""

from __future__ import annotations

import math

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from upward.core.text import N_
from upward.evaluate.result import Check, EvaluationResult

STATUS = {False: N_("FAILED"), True: N_("passed"), None: N_("not informative")}


def fmt(value: object, digits: int = 4) -> str:
    """A number for people: thousands separators, ``digits`` significant digits, dashes for
    missing values, ∞ for infinity.

    >>> fmt(1234.567), fmt(0.012345), fmt(None), fmt(float("inf"))
    ('1,235', '0.01235', '—', '∞')
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return N_("yes") if value else N_("no")
    if isinstance(value, str):
        return value  # as it is: a translatable message stays one
    if not isinstance(value, int | float):
        return str(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if math.isnan(value):
        return "—"
    if isinstance(value, int) or (abs(value) >= 1000 and float(value).is_integer()):
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def fmt_p(p: float | None) -> str:
    """A p-value.

    >>> fmt_p(0.00001), fmt_p(0.0312)
    ('<0.0001', '0.031')
    """
    if p is None:
        return "—"
    return "<0.0001" if p < 0.0001 else f"{p:.2g}" if p < 0.01 else f"{p:.3f}".rstrip("0")


def ordered_checks(result: EvaluationResult) -> list[Check]:
    """Failed checks first, then those not informative (not run, or unable to fail on this
    data), then passed ones (each group in order).

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10,
    ...     checks=[Check("a", True, ""), Check("b", None, ""), Check("c", False, "")])
    >>> [c.name for c in ordered_checks(r)]
    ['c', 'b', 'a']
    """
    rank = {False: 0, None: 1, True: 2}
    return sorted(result.checks, key=lambda c: rank[c.passed])


def check_rows(result: EvaluationResult) -> list[list[str]]:
    """Rows of the checks table: status, check, detail, statistic, p.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10,
    ...     checks=[Check("balance", True, "fine", 0.4, 0.52)])
    >>> check_rows(r)
    [['passed', 'balance', 'fine', '0.4', '0.52']]
    """
    return [[STATUS[c.passed], c.name, c.detail, fmt(c.statistic), fmt_p(c.p_value)]
            for c in ordered_checks(result)]


def overview_rows(result: EvaluationResult) -> list[tuple[str, str]]:
    """Label–value rows summarising the estimate.

    >>> dict(overview_rows(EvaluationResult("rct", "m", "y", "ATE", 1.0, 0.2, 0.6, 1.4, 0.001,
    ...      10)))["Estimate"]
    '1'
    """
    level = round(100 * (1 - result.alpha))
    rows = [(N_("Design"), result.design), (N_("Method"), result.method),
            (N_("Outcome"), result.outcome), (N_("Estimand"), result.estimand),
            (N_("Estimate"), fmt(result.estimate)), (N_("Standard error"), fmt(result.se)),
            (N_("{level}% confidence interval", level=level),
             N_("{low} to {high}", low=fmt(result.ci_low), high=fmt(result.ci_high))),
            (N_("p-value"), fmt_p(result.p_value)), (N_("Observations"), fmt(result.n))]
    for label, value in ((N_("Treated"), result.n_treated), (N_("Control"), result.n_control),
                         (N_("Clusters"), result.n_clusters)):
        if value is not None:
            rows.append((label, fmt(value)))
    if result.library:
        rows.append((N_("Computed with"), result.library))
    return rows


COST_MEASURES = (
    ("cost_per_participant", N_("Cost per participant ($)")),
    ("total_cost", N_("Total cost ($)")),
    ("n_participants", N_("Participants")),
    ("cost_per_unit_outcome", N_("Cost per unit of outcome ($)")),
    ("benefit_per_participant", N_("Benefit per participant ($)")),
    ("benefit_cost_ratio", N_("Benefit–cost ratio")),
    ("willingness_to_pay", N_("Willingness to pay per participant ($)")),
    ("net_government_cost", N_("Net cost to government per participant ($)")),
)


def cost_rows(cost: dict) -> list[tuple[str, str]]:
    """Label–value rows of a cost analysis (``EvaluationResult.cost``).

    >>> cost_rows({"cost_per_participant": 2500.0, "mvpf_text": "0.42"})[-1]
    ('MVPF (willingness to pay ÷ net government cost)', '0.42')
    """
    rows = [(label, fmt(cost.get(key))) for key, label in COST_MEASURES
            if cost.get(key) is not None]
    rows.append((N_("MVPF (willingness to pay ÷ net government cost)"),
                 cost.get("mvpf_text", "—")))
    return rows


def cost_input_rows(cost: dict) -> list[list[str]]:
    """Rows of the cost inputs: input, value, unit, source.

    >>> cost_input_rows({"inputs": [{"name": "cost_per_participant", "value": 2500.0,
    ...                  "unit": "dollars", "source": "spec"}]})
    [['cost_per_participant', '2,500', 'dollars', 'spec']]
    """
    return [[i["name"], fmt(i["value"]), i["unit"], i["source"]] for i in cost.get("inputs", [])]


SENSITIVITY_COLUMNS = (N_("Input"), N_("Low"), N_("High"), N_("Cost per unit (low)"),
                       N_("Cost per unit (high)"), N_("BCR (low)"), N_("BCR (high)"),
                       N_("MVPF (low)"), N_("MVPF (high)"))

#: The designs' assumption checks, by name (the name itself in English; marked here so the
#: report can write each in the reader's language).
CHECK_NAMES = (
    N_("balance"), N_("attrition"), N_("clusters"), N_("treated_clusters"),
    N_("randomization_inference"), N_("pre_trends"), N_("pre_fit"), N_("convex_hull"),
    N_("few_donors"), N_("overlap"), N_("manipulation"), N_("covariates"), N_("bandwidth"),
    N_("first_stage"), N_("placebos"),
)

#: The columns of the designs' result tables, as the report heads them (the key itself in
#: English; marked here so every language has a name for each).
COLUMN_NAMES = (
    N_("method"), N_("estimate"), N_("se"), N_("ci_low"), N_("ci_high"), N_("p_value"),
    N_("covariate"), N_("mean_treated"), N_("mean_control"), N_("std_diff"),
    N_("std_diff_weighted"), N_("group"), N_("n_assigned"), N_("n_observed"), N_("rate"),
    N_("rel_time"), N_("band_low"), N_("band_high"), N_("cohort"), N_("time"), N_("att"),
    N_("x"), N_("y"), N_("n"), N_("side"), N_("score_low"), N_("score_high"),
    N_("n_treated"), N_("n_control"), N_("treated"), N_("synthetic"), N_("weight"),
    N_("rmspe_ratio"), N_("post_gap"),
)


def sensitivity_rows(cost: dict) -> list[list[str]]:
    """Rows of the sensitivity table (each input at its low and high value).

    >>> sensitivity_rows({"sensitivity": [{"input": "effect", "low": 1.0, "high": 2.0,
    ...     "cost_per_unit_outcome_low": 10.0, "cost_per_unit_outcome_high": 5.0,
    ...     "benefit_cost_ratio_low": None, "benefit_cost_ratio_high": None,
    ...     "mvpf_low": None, "mvpf_high": None}]})[0][:4]
    ['effect', '1', '2', '10']
    """
    keys = ("low", "high", "cost_per_unit_outcome_low", "cost_per_unit_outcome_high",
            "benefit_cost_ratio_low", "benefit_cost_ratio_high", "mvpf_low", "mvpf_high")
    return [[row["input"], *(fmt(row.get(k)) for k in keys)] for row in cost.get("sensitivity", [])]


def table_rows(result: EvaluationResult, key: str) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows of one of ``result.tables``.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10,
    ...     tables={"estimates": [{"method": "dim", "estimate": 1.0}]})
    >>> table_rows(r, "estimates")
    (['method', 'estimate'], [['dim', '1']])
    """
    rows = result.tables.get(key, [])
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    return header, [[fmt(row.get(h)) for h in header] for row in rows]


# ----------------------------------------------------------------------------------------------
# Rich
# ----------------------------------------------------------------------------------------------


def rich_renderables(result: EvaluationResult) -> list:
    """Panels and tables for the terminal, failed checks first.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10)
    >>> len(rich_renderables(r)) >= 2
    True
    """
    out: list = []
    failed = result.failed_checks()
    if failed:
        body = Group(*[Text(f"✗ {c.name}: {c.detail}") for c in failed])
        out.append(Panel(body, title=f"{len(failed)} check(s) FAILED — read before the estimate",
                         border_style="bold red", title_align="left"))
    out.append(Panel(Text(result.headline(), style="bold"), title="Estimate",
                     border_style="cyan", title_align="left"))
    overview = Table(show_header=False, box=None, pad_edge=False)
    overview.add_column(style="bold")
    overview.add_column()
    for label, value in overview_rows(result):
        overview.add_row(label, value)
    out.append(overview)
    if result.checks:
        checks = Table(title="Assumption checks", header_style="bold", title_justify="left")
        for h in ("status", "check", "detail", "statistic", "p"):
            checks.add_column(h, overflow="fold")
        for row in check_rows(result):
            style = "bold red" if row[0] == "FAILED" else ("yellow" if row[0] == "not informative" else "")
            checks.add_row(*row, style=style)
        out.append(checks)
    if result.warnings:
        out.append(Panel(Group(*[Text(f"• {w}") for w in result.warnings]), title="Warnings",
                         border_style="yellow", title_align="left"))
    if result.tables.get("estimates"):
        header, rows = table_rows(result, "estimates")
        t = Table(title="Estimates", header_style="bold", title_justify="left")
        for h in header:
            t.add_column(h)
        for row in rows:
            t.add_row(*row)
        out.append(t)
    if result.cost:
        out += _rich_cost(result.cost)
    return out


def _rich_cost(cost: dict) -> list:
    measures = Table(title="Cost and value", header_style="bold", title_justify="left")
    measures.add_column("measure")
    measures.add_column("value", justify="right")
    for label, value in cost_rows(cost):
        measures.add_row(label, value)
    inputs = Table(title="Cost inputs", header_style="bold", title_justify="left")
    for h in ("input", "value", "unit", "source"):
        inputs.add_column(h, overflow="fold")
    for row in cost_input_rows(cost):
        inputs.add_row(*row)
    share = cost.get("sensitivity_share", 0.25)
    sens = Table(title=f"Sensitivity (each input ±{share:.0%}; effect at its confidence bounds)",
                 header_style="bold", title_justify="left")
    for h in SENSITIVITY_COLUMNS:
        sens.add_column(h, justify="right" if h != "Input" else "left")
    for row in sensitivity_rows(cost):
        sens.add_row(*row)
    out: list = [measures, inputs, sens]
    if cost.get("notes"):
        out.append(Text("\n".join(f"Note: {n}" for n in cost["notes"]), style="dim"))
    return out


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def _md_table(header: list[str] | tuple[str, ...], rows: list[list[str]]) -> list[str]:
    def cell(x: str) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def to_markdown(result: EvaluationResult, *, title: str | None = None) -> str:
    """The result as a Markdown briefing, failed checks first.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10)
    >>> to_markdown(r).startswith("# Evaluation: ATE on y")
    True
    """
    heading = title or f"Evaluation: {result.estimand} on {result.outcome}"
    lines = [f"# {heading}", ""]
    for c in result.failed_checks():
        lines.append(f"> **Check failed — {c.name}:** {c.detail}")
    if result.failed_checks():
        lines.append("")
    lines += [f"**{result.headline()}**", "", *_md_table(("", ""), [list(r) for r in
                                                                   overview_rows(result)]), ""]
    if result.checks:
        lines += ["## Assumption checks", "",
                  *_md_table(("Status", "Check", "Detail", "Statistic", "p"), check_rows(result)),
                  ""]
    if result.warnings:
        lines += ["## Warnings", "", *[f"- {w}" for w in result.warnings], ""]
    if result.tables.get("estimates"):
        header, rows = table_rows(result, "estimates")
        lines += ["## Estimates", "", *_md_table(header, rows), ""]
    if result.cost:
        cost = result.cost
        lines += ["## Cost and value", "", *_md_table(("Measure", "Value"),
                                                      [list(r) for r in cost_rows(cost)]), "",
                  "### Inputs", "",
                  *_md_table(("Input", "Value", "Unit", "Source"), cost_input_rows(cost)), "",
                  f"### Sensitivity (each input ±{cost.get('sensitivity_share', 0.25):.0%}; "
                  "effect at its confidence bounds)", "",
                  *_md_table(SENSITIVITY_COLUMNS, sensitivity_rows(cost)), ""]
        lines += [f"- {n}" for n in cost.get("notes", [])]
        if cost.get("notes"):
            lines.append("")
    lines.append(f"_Generated {result.generated_at}; result schema {result.schema_version}._")
    return "\n".join(lines) + "\n"
