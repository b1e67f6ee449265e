"""The evaluation report: one self-contained HTML page for an evaluation result.

Failed assumption checks come first, in a box above the estimate. Each of the result's tables
is drawn by the chart form its declaration names (``upward.evaluate.tables``, listed by each
design in the registry): love plot (balance), coefficients with the pre-period band (event
study), treated vs synthetic path, donor weights and placebo ratios (synthetic control),
binned scatter at the cutoff (RD), propensity-score histogram (overlap), forest plot
(estimates). :data:`CHART_FORMS` holds the drawings; :data:`CHARTS` is the live view by
table key. Every chart has its data as a table in a ``<details>``
below it, so the page works without JavaScript and with a screen reader. plotly.js is inlined
by :func:`upward.report.page.render_page`, so the file opens offline.

Examples
--------
>>> from upward.evaluate.result import Check, EvaluationResult
>>> r = EvaluationResult("rct", "difference in means", "earnings", "ATE", 480.0, 150.0, 186.0,
...     774.0, 0.0014, 1800, checks=[Check("balance", False, "age differs")],
...     tables={"estimates": [{"method": "dim", "estimate": 480.0, "se": 150.0,
...                            "ci_low": 186.0, "ci_high": 774.0}]})
>>> html = render_evaluation_report(r)
>>> html.index("Check failed") < html.index("ATE on earnings")
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import plotly.graph_objects as go
from markupsafe import Markup, escape

from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.text import Text
from upward.evaluate.render import (
    SENSITIVITY_COLUMNS,
    STATUS,
    cost_input_rows,
    cost_rows,
    fmt,
    fmt_p,
    ordered_checks,
    overview_rows,
    sensitivity_rows,
    table_rows,
)
from upward.evaluate.result import EvaluationResult
from upward.report.disclosure import disclosure_controlled
from upward.report.i18n import (
    N_,
    _,
    current_language,
    localise,
    localise_numbers,
    tr,
    use_language,
)
from upward.report.page import render_page
from upward.report.templating import render

REPORT_CSS = """
.alert { border: 2px solid var(--bad); border-radius: .4rem; padding: .6rem 1rem; margin: 1rem 0;
         background: #fdf1f0; }
.alert h2 { margin-top: 0; color: var(--bad); font-size: 1.15rem; }
.headline { font-size: 1.25rem; font-weight: 600; margin: 1rem 0 .3rem; }
.synthetic { border: 2px dashed var(--warn); padding: .4rem .8rem; }
tr.failed td { color: var(--bad); font-weight: 600; }
.chart { min-height: 0; }
"""
COLOURS = {"treated": "#0b5cad", "control": "#b35900", "neutral": "#4a5360", "bad": "#b3261e",
           "band": "rgba(179,38,30,0.12)"}
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
          "font": {"family": "system-ui, sans-serif", "size": 13}, "height": 380}
#: Plotly's decimal and thousands separators by language (English: plotly's own).
PLOTLY_SEPARATORS = {"es": ",."}
STD_DIFF_THRESHOLD = 0.1  # |standardised difference| above which balance is usually questioned

@dataclass(frozen=True)
class Chart:
    """How one of ``EvaluationResult.tables`` is drawn (``key``: the chart form, or the table
    when read through :data:`CHARTS`).

    >>> CHARTS["balance"].title
    'Baseline balance: standardised differences (love plot)'
    """

    key: str
    title: str
    draw: Callable[[list[dict], EvaluationResult], go.Figure]
    caption: str = ""


def _fig(title: str, **layout) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title={"text": title, "x": 0}, **{**LAYOUT, **layout})
    separators = PLOTLY_SEPARATORS.get(current_language())
    if separators:  # tick labels with the reader's decimal comma
        fig.update_layout(separators=separators)
    fig.update_yaxes(automargin=True)
    return fig


def _love_plot(rows: list[dict], result: EvaluationResult) -> go.Figure:
    covariates = [r["covariate"] for r in rows]
    fig = _fig("", xaxis_title=_("Standardised difference (treated − control, in SDs)"),
               height=max(260, 60 + 28 * len(rows)))
    fig.add_trace(go.Scatter(x=[r.get("std_diff") for r in rows], y=covariates, mode="markers",
                             name=_("unadjusted"), marker={"size": 10, "color": COLOURS["control"]}))
    if any(r.get("std_diff_weighted") is not None for r in rows):
        fig.add_trace(go.Scatter(x=[r.get("std_diff_weighted") for r in rows], y=covariates,
                                 mode="markers", name=_("weighted / matched"),
                                 marker={"size": 10, "symbol": "diamond",
                                         "color": COLOURS["treated"]}))
    for x in (-STD_DIFF_THRESHOLD, STD_DIFF_THRESHOLD):
        fig.add_vline(x=x, line_dash="dot", line_color=COLOURS["neutral"])
    fig.add_vline(x=0, line_color=COLOURS["neutral"])
    return fig


def _event_study(rows: list[dict], result: EvaluationResult) -> go.Figure:
    rows = sorted(rows, key=lambda r: r["rel_time"])
    fig = _fig("", xaxis_title=_("Periods relative to treatment"),
               yaxis_title=_("Effect on {outcome}").format(outcome=result.outcome))
    pre = [r for r in rows if r["rel_time"] < 0 and r.get("ci_low") is not None]
    if pre:
        # The pre-trend band: where the pre-period coefficients' intervals lie.
        x = [r["rel_time"] for r in pre]
        fig.add_trace(go.Scatter(x=x + x[::-1], y=[r["ci_high"] for r in pre] +
                                 [r["ci_low"] for r in pre][::-1], fill="toself",
                                 fillcolor=COLOURS["band"], line={"width": 0},
                                 name=_("pre-period 95% band"), hoverinfo="skip"))
    band = [r for r in rows if r.get("band_low") is not None]
    if band:
        # The simultaneous (uniform) band: covers every event-time effect at once.
        for key, name in (("band_high", _("uniform 95% band")), ("band_low", None)):
            fig.add_trace(go.Scatter(x=[r["rel_time"] for r in band], y=[r[key] for r in band],
                                     mode="lines", name=name or "", showlegend=bool(name),
                                     line={"dash": "dot", "color": COLOURS["neutral"]},
                                     hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[r["rel_time"] for r in rows], y=[r["estimate"] for r in rows], mode="markers+lines",
        name=_("estimate"), marker={"color": COLOURS["treated"], "size": 8},
        error_y={"type": "data", "symmetric": False,
                 "array": [_gap(r.get("ci_high"), r["estimate"]) for r in rows],
                 "arrayminus": [_gap(r["estimate"], r.get("ci_low")) for r in rows]}))
    fig.add_hline(y=0, line_color=COLOURS["neutral"])
    fig.add_vline(x=-0.5, line_dash="dash", line_color=COLOURS["neutral"],
                  annotation_text=_("treatment starts"), annotation_position="top right")
    return fig


def _gap(a, b):
    return None if a is None or b is None else a - b


def _group_time(rows: list[dict], result: EvaluationResult) -> go.Figure:
    fig = _fig("", xaxis_title="Period", yaxis_title=f"ATT(g, t) on {result.outcome}")
    for cohort in sorted({r["cohort"] for r in rows}, key=str):
        part = sorted((r for r in rows if r["cohort"] == cohort), key=lambda r: r["time"])
        fig.add_trace(go.Scatter(x=[r["time"] for r in part], y=[r["att"] for r in part],
                                 mode="markers+lines", name=f"cohort {cohort}",
                                 error_y={"type": "data",
                                          "array": [1.96 * r["se"] if r.get("se") is not None
                                                    else None for r in part]}))
    fig.add_hline(y=0, line_color=COLOURS["neutral"])
    return fig


def _donor_weights(rows: list[dict], result: EvaluationResult) -> go.Figure:
    rows = sorted((r for r in rows if (r.get("weight") or 0) > 0.0005), key=lambda r: r["weight"])
    fig = _fig("", xaxis_title=_("Weight in the synthetic control"),
               height=max(260, 60 + 24 * len(rows)))
    fig.add_trace(go.Bar(x=[r["weight"] for r in rows], y=[str(r["unit"]) for r in rows],
                         orientation="h", marker_color=COLOURS["treated"], name="weight"))
    return fig


def _synth_path(rows: list[dict], result: EvaluationResult) -> go.Figure:
    rows = sorted(rows, key=lambda r: r["time"])
    fig = _fig("", xaxis_title="Period", yaxis_title=result.outcome)
    fig.add_trace(go.Scatter(x=[r["time"] for r in rows], y=[r["treated"] for r in rows],
                             mode="lines+markers", name="treated",
                             line={"color": COLOURS["treated"], "width": 3}))
    fig.add_trace(go.Scatter(x=[r["time"] for r in rows], y=[r["synthetic"] for r in rows],
                             mode="lines", name="synthetic control",
                             line={"color": COLOURS["control"], "dash": "dash", "width": 3}))
    start = result.spec.get("treatment_start")
    if isinstance(start, int | float):
        fig.add_vline(x=start - 0.5, line_dash="dot", line_color=COLOURS["neutral"],
                      annotation_text="treatment starts")
    return fig


def _placebo(rows: list[dict], result: EvaluationResult) -> go.Figure:
    treated = result.spec.get("treated_unit")
    rows = sorted(rows, key=lambda r: r.get("rmspe_ratio") or 0)
    fig = _fig("", xaxis_title="Post/pre RMSPE ratio", height=max(260, 60 + 20 * len(rows)))
    fig.add_trace(go.Bar(
        x=[r.get("rmspe_ratio") for r in rows], y=[str(r["unit"]) for r in rows],
        orientation="h", name="ratio",
        marker_color=[COLOURS["bad"] if r["unit"] == treated else COLOURS["neutral"]
                      for r in rows] if treated else COLOURS["neutral"]))
    return fig


def _time_weights(rows: list[dict], result: EvaluationResult) -> go.Figure:
    rows = sorted(rows, key=lambda r: r["time"])
    fig = _fig("", xaxis_title="Pre-treatment period", yaxis_title="Weight")
    fig.add_trace(go.Bar(x=[r["time"] for r in rows], y=[r.get("weight") for r in rows],
                         marker_color=COLOURS["control"], name="time weight"))
    return fig


def _placebo_estimates(rows: list[dict], result: EvaluationResult) -> go.Figure:
    rows = sorted(rows, key=lambda r: r.get("estimate") or 0)
    fig = _fig("", xaxis_title=f"Placebo estimate on {result.outcome}",
               height=max(260, 60 + 20 * len(rows)))
    fig.add_trace(go.Bar(x=[r.get("estimate") for r in rows], y=[str(r["unit"]) for r in rows],
                         orientation="h", marker_color=COLOURS["neutral"], name="placebo"))
    fig.add_vline(x=result.estimate, line_color=COLOURS["bad"], line_width=3,
                  annotation_text="estimate")
    return fig

def _rd_bins(rows: list[dict], result: EvaluationResult) -> go.Figure:
    fig = _fig("", xaxis_title=result.spec.get("running", "running variable"),
               yaxis_title=f"Mean {result.outcome}")
    for side, colour in (("below", COLOURS["control"]), ("above", COLOURS["treated"])):
        part = [r for r in rows if str(r.get("side")) == side]
        if part:
            fig.add_trace(go.Scatter(x=[r["x"] for r in part], y=[r["y"] for r in part],
                                     mode="markers", name=f"{side} the cutoff",
                                     marker={"color": colour,
                                             "size": [max(5, min(16, (r.get("n") or 1) ** 0.5))
                                                      for r in part]}))
    others = [r for r in rows if str(r.get("side")) not in ("below", "above")]
    if others:
        fig.add_trace(go.Scatter(x=[r["x"] for r in others], y=[r["y"] for r in others],
                                 mode="markers", name="bins"))
    cutoff = result.spec.get("cutoff")
    if cutoff is not None:
        fig.add_vline(x=cutoff, line_dash="dash", line_color=COLOURS["neutral"],
                      annotation_text="cutoff")
    return fig


def _overlap(rows: list[dict], result: EvaluationResult) -> go.Figure:
    mids = [(r["score_low"] + r["score_high"]) / 2 for r in rows]
    width = [r["score_high"] - r["score_low"] for r in rows]
    fig = _fig("", xaxis_title="Propensity score", yaxis_title="Units (control shown below 0)",
               barmode="relative")
    fig.add_trace(go.Bar(x=mids, y=[r["n_treated"] for r in rows], width=width,
                         name="treated", marker_color=COLOURS["treated"]))
    fig.add_trace(go.Bar(x=mids, y=[None if r["n_control"] is None else -r["n_control"]
                                    for r in rows], width=width,
                         name="control", marker_color=COLOURS["control"]))
    return fig


def _estimates(rows: list[dict], result: EvaluationResult) -> go.Figure:
    fig = _fig("", xaxis_title=_("Estimate ({outcome})").format(outcome=result.outcome),
               height=max(220, 80 + 40 * len(rows)))
    fig.add_trace(go.Scatter(
        x=[r.get("estimate") for r in rows], y=[_plain(r.get("method")) for r in rows],
        mode="markers", marker={"size": 11, "color": COLOURS["treated"]}, name=_("estimate"),
        error_x={"type": "data", "symmetric": False,
                 "array": [_gap(r.get("ci_high"), r.get("estimate")) for r in rows],
                 "arrayminus": [_gap(r.get("estimate"), r.get("ci_low")) for r in rows]}))
    fig.add_vline(x=0, line_color=COLOURS["neutral"])
    return fig


def _attrition(rows: list[dict], result: EvaluationResult) -> go.Figure:
    fig = _fig("", yaxis_title=_("Share with the outcome missing"), yaxis_tickformat=".0%")
    fig.add_trace(go.Bar(x=[_plain(r["group"]) for r in rows], y=[r.get("rate") for r in rows],
                         marker_color=COLOURS["neutral"], name=_("attrition")))
    return fig


#: The chart forms a result table can name (``ResultTable.chart``), in the order the report
#: shows tables its design does not order.
CHART_FORMS: dict[str, Chart] = {c.key: c for c in (
    Chart("forest", N_("Estimates by method (95% intervals)"), _estimates),
    Chart("love_plot", N_("Baseline balance: standardised differences (love plot)"), _love_plot,
          N_("Dotted lines at ±0.1: larger differences deserve attention.")),
    Chart("attrition_bars", N_("Attrition by group"), _attrition),
    Chart("event_study", N_("Event study: effects by period relative to treatment"),
          _event_study,
          N_("The shaded band spans the pre-period intervals; a band away from 0 signals "
             "pre-trends. Dotted lines, where drawn, are the uniform band: it covers every "
             "event-time effect at once with 95% probability, where the bars do not.")),
    Chart("group_time", N_("Group-time average effects"), _group_time),
    Chart("paths", N_("Treated unit and its synthetic control"), _synth_path),
    Chart("weights", N_("Donor weights"), _donor_weights),
    Chart("placebo_ratios", N_("Placebo tests: post/pre fit ratio by unit"), _placebo,
          N_("The treated unit is highlighted; a ratio far above the placebos' supports an "
             "effect.")),
    Chart("time_weights", N_("Weights of the pre-treatment periods"), _time_weights,
          N_("Synthetic difference-in-differences compares the post-period with these "
             "periods.")),
    Chart("placebo_estimates", N_("Placebo estimates: comparison units treated in turn"),
          _placebo_estimates, N_("Their spread is the standard error; the line is the "
                                 "estimate.")),
    Chart("binned_scatter", N_("Regression discontinuity: binned means around the cutoff"),
          _rd_bins),
    Chart("overlap_histogram", N_("Overlap of propensity scores"), _overlap,
          N_("Treated above the axis, control below; scores without both groups lack "
             "support.")),
)}
assert STD_DIFF_THRESHOLD == 0.1  # written into the love plot's caption above


def _registry():
    # The designs (and their estimators' libraries) load only when a report is drawn.
    from upward.evaluate import designs

    return designs


def result_tables():
    """The registered designs' result tables by key (``upward.evaluate.designs``).

    >>> result_tables()["balance"].chart
    'love_plot'
    """
    return _registry().result_tables()


def chart_for(key: str) -> Chart | None:
    """The chart of one result table (by table key), as its registered declaration names it.

    >>> chart_for("rd_bins").title, chart_for("no_such_table")
    ('Regression discontinuity: binned means around the cutoff', None)
    """
    table = result_tables().get(key)
    form = CHART_FORMS.get(table.chart) if table is not None and table.chart else None
    return None if form is None else Chart(key, form.title, form.draw, form.caption)


class _Charts(Mapping[str, Chart]):
    """Table key → its chart, read from the design registry at each use."""

    def __getitem__(self, key: str) -> Chart:
        chart = chart_for(key)
        if chart is None:
            raise KeyError(key)
        return chart

    def __iter__(self) -> Iterator[str]:
        return iter(k for k in result_tables() if chart_for(k) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: Charts by table key (a live view of the registered designs' tables).
CHARTS: Mapping[str, Chart] = _Charts()


def table_order(result: EvaluationResult) -> list[str]:
    """The result's tables in report order: as its design lists them, then by chart form,
    then the rest as the result has them.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10,
    ...     tables={"extra": [{"a": 1}], "attrition": [], "estimates": []})
    >>> table_order(r)
    ['estimates', 'attrition', 'extra']
    """
    design = _registry().DESIGNS.get(result.design)
    declared = [t.key for t in design.tables] if design else []
    forms = list(CHART_FORMS)
    tables = result_tables()

    def rank(key: str) -> tuple[int, int]:
        if key in declared:
            return 0, declared.index(key)
        table = tables.get(key)
        if table is not None and table.chart in CHART_FORMS:
            return 1, forms.index(table.chart)
        return 2, 0

    return sorted(result.tables, key=rank)


def _chart_section(key: str, result: EvaluationResult) -> dict | None:
    """What the template needs to show one table (and its chart, when there is one), in the
    current language."""
    rows = result.tables.get(key) or []
    if not rows:
        return None
    declared = result_tables().get(key)
    title = tr(declared.title) if declared else key.replace("_", " ").capitalize()
    header, _cells = table_rows(result, key)
    cells = [[_cell(row.get(h)) for h in header] for row in rows]
    chart = chart_for(key)
    figure = caption = ""
    if chart is not None and _has_columns(rows, key):
        fig = chart.draw(rows, result)
        figure = fig.to_html(full_html=False, include_plotlyjs=False,
                             config={"displaylogo": False, "responsive": True})
        caption = _(chart.caption) if chart.caption else ""
    chart_title = _(chart.title) if chart else ""
    return {"key": key, "heading": chart_title or title, "title": title,
            "chart_title": chart_title, "figure": figure, "caption": caption,
            "header": [tr(h) for h in header], "rows": cells}


def _plain(value: object) -> str:
    """A table value as plain text in the current language (chart labels)."""
    if isinstance(value, Text):
        return localise(value) or str(value)
    return localise_numbers(str(value))


def _cell(value: object):
    """A table cell in the current language: a lower layer's message translated, a number
    written the reader's way, data (names, labels from files) as it is."""
    if isinstance(value, Text):
        return tr(value)
    return localise_numbers(fmt(value))


def _data(value: object) -> str:
    """Data (a column name, a spec value) as it is, its numbers written the reader's way."""
    return localise_numbers(str(value))


def _has_columns(rows: list[dict], key: str) -> bool:
    declared = result_tables().get(key)
    needed = set(declared.required) if declared else set()
    return all(needed <= set(r) for r in rows)


def _cost_section(cost: dict | None) -> dict | None:
    if not cost:
        return None
    return {"rows": [[tr(label), _data(value)] for label, value in cost_rows(cost)],
            "inputs": [[tr(c) if isinstance(c, Text) else _data(c) for c in row]
                       for row in cost_input_rows(cost)],
            "sensitivity_header": [tr(h) for h in SENSITIVITY_COLUMNS],
            "sensitivity": [[_data(c) for c in row] for row in sensitivity_rows(cost)],
            "share": localise_numbers(f"{cost.get('sensitivity_share', 0.25):.0%}"),
            "notes": [tr(n) for n in cost.get("notes", [])]}


def render_evaluation_report(result: EvaluationResult, *, title: str | None = None,
                             k: int = MIN_CELL_SIZE, lang: str = "en") -> str:
    """The self-contained HTML report of an evaluation result, with disclosure control on
    every table of people (no cell from fewer than ``k`` people; see report.disclosure), in
    ``lang`` ("en" or "es": the lower layers' messages translated, numbers written the
    reader's way; data such as column names and spec values as they are).

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, 0.2, 0.6, 1.4, 0.001, 10)
    >>> render_evaluation_report(r).startswith("<!DOCTYPE html>")
    True
    >>> es = render_evaluation_report(r, lang="es")
    >>> '<html lang="es">' in es, "ATE sobre y: 1 (IC al 95" in es
    (True, True)
    """
    with use_language(lang) as lang:
        return _evaluation_page(disclosure_controlled(result, k), title, lang)


def _evaluation_page(result: EvaluationResult, title: str | None, lang: str) -> str:
    spec = result.spec or {}
    name = spec.get("name") or _("{design} evaluation").format(design=result.design)
    heading = title or _("Evaluation: {name}").format(name=name)
    ordered = ordered_checks(result) if result.checks else []
    rows = [[tr(STATUS[c.passed]), tr(c.name), tr(c.detail), _data(fmt(c.statistic)),
             _data(fmt_p(c.p_value))] for c in ordered]
    failed = [{"name": tr(c.name), "detail": tr(c.detail)} for c in result.failed_checks()]
    body = render(
        "evaluation.html", css=REPORT_CSS, description=spec.get("description"),
        failed=failed, headline=tr(result.headline()),
        overview=[[tr(label), tr(value) if isinstance(value, Text) else _data(value)]
                  for label, value in overview_rows(result)],
        checks=rows, check_classes=["failed" if c.passed is False else "" for c in ordered],
        warnings=[tr(w) for w in result.warnings],
        sections=[s for s in (_chart_section(k, result) for k in table_order(result)) if s],
        cost=_cost_section(result.cost),
        spec_rows=[[k, escape_json(v)] for k, v in spec.items() if v not in (None, "", [], {})])
    footer = _("Generated {generated} by Upward; result schema {schema}. Identifiers are keyed "
               "hashes; no raw identifiers appear in this report.").format(
                   generated=result.generated_at, schema=result.schema_version)
    subtitle = Markup(escape(_("Design: {design} — {method}"))).format(
        design=result.design, method=tr(result.method))
    return render_page(heading, body, subtitle=subtitle, footer=footer, with_charts=True,
                       lang=lang)


def escape_json(value: object) -> str:
    """A spec value as short text for the specification table (escaped later).

    >>> escape_json(["age", "female"]), escape_json({"adjust": "lin"})
    ('age, female', 'adjust: lin')
    """
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {escape_json(v)}" for k, v in value.items())
    return str(value)


MONITOR_CSS = REPORT_CSS + """
.verdict { border-radius: .4rem; padding: .6rem 1rem; margin: 1rem 0; border: 2px solid; }
.verdict h2 { margin-top: 0; font-size: 1.15rem; }
.verdict.act { border-color: var(--good); background: #eef8f0; }
.verdict.wait { border-color: var(--warn); background: #fff8e5; }
"""


def _finite(x: float | None) -> float | None:
    return x if x is not None and x == x and abs(x) != float("inf") else None


def monitor_figure(result) -> go.Figure:
    """The estimate path: the confidence sequence as a band, the fixed-sample interval dashed,
    zero as a line (``result`` is an :class:`upward.evaluate.monitor.MonitorResult`).

    >>> from upward.evaluate.monitor import Look, MonitorResult
    >>> m = MonitorResult("p", "y", "ATE", "m", 0.05, 100, 0.5, None, [Look(
    ...     "w1", "", "", 10, 10, 5, 5, 1.0, -1.0, 3.0, 0.0, 2.0, None, None)], "", False,
    ...     None, "")
    >>> len(monitor_figure(m).data)
    5
    """
    labels = [look.label for look in result.looks]
    level = round(100 * (1 - result.alpha))
    fig = _fig(_("{estimand} on {outcome}: estimate and {level}% confidence sequence at each "
                 "look").format(estimand=result.estimand, outcome=result.outcome, level=level),
               xaxis_title=_("look (data received up to)"),
               yaxis_title=_("effect on {outcome}").format(outcome=result.outcome))
    lower = [_finite(look.lower) for look in result.looks]
    upper = [_finite(look.upper) for look in result.looks]
    fig.add_trace(go.Scatter(x=labels, y=upper, mode="lines", line={"width": 0},
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=labels, y=lower, mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor="rgba(11,92,173,0.18)",
                             name=_("{level}% confidence sequence (any number of looks)")
                             .format(level=level)))
    for key, show in (("fixed_lower", True), ("fixed_upper", False)):
        fig.add_trace(go.Scatter(
            x=labels, y=[_finite(getattr(look, key)) for look in result.looks], mode="lines",
            line={"dash": "dash", "color": COLOURS["control"], "width": 1.5},
            name=_("ordinary {level}% CI (one look only)").format(level=level),
            showlegend=show,
            legendgroup="fixed"))
    fig.add_trace(go.Scatter(x=labels, y=[_finite(look.estimate) for look in result.looks],
                             mode="lines+markers", line={"color": COLOURS["treated"]},
                             name=_("estimate")))
    fig.add_hline(y=0, line={"color": COLOURS["neutral"], "width": 1})
    fig.update_layout(legend={"orientation": "h", "y": -0.25})
    return fig


def render_monitor_report(result, *, title: str | None = None, lang: str = "en") -> str:
    """The self-contained HTML report of a monitored evaluation: the verdict in words, the
    estimate path chart (with its table), enrolment against the plan and the cost to date, in
    ``lang`` ("en" or "es").

    >>> from upward.evaluate.monitor import Look, MonitorResult
    >>> m = MonitorResult("pilot", "y", "ATE", "m", 0.05, 100, 0.5, 200, [Look(
    ...     "w1", "", "", 100, 90, 45, 45, 1.0, 0.2, 1.8, 0.5, 1.5, 100, None)],
    ...     "Strong enough to act.", True, None, "weekly/*.csv")
    >>> html = render_monitor_report(m)
    >>> html.index("Strong enough to act") < html.index("week by week")
    True
    >>> "semana a semana" in render_monitor_report(m, lang="es")
    True
    """
    with use_language(lang) as lang:
        return _monitor_page(result, title, lang)


def _money(value: float | None) -> str:
    return _data(fmt(value)) if value is not None else "—"


def _monitor_page(result, title: str | None, lang: str) -> str:
    level = round(100 * (1 - result.alpha))
    latest = result.latest
    path_header = (_("Look"), _("First seen"), _("Enrolled"), _("With outcome"), _("Estimate"),
                   _("{level}% CS low").format(level=level),
                   _("{level}% CS high").format(level=level), _("Ordinary CI low"),
                   _("Ordinary CI high"), _("Spent to date"))
    path_rows = [[look.label, look.first_seen, _data(f"{look.enrolled:,}"),
                  _data(f"{look.with_outcome:,}"), _money(_finite(look.estimate)),
                  _money(_finite(look.lower)), _money(_finite(look.upper)),
                  _money(_finite(look.fixed_lower)), _money(_finite(look.fixed_upper)),
                  _money(look.spent_to_date)]
                 for look in result.looks]
    enrolment = [[look.label, _data(f"{look.enrolled:,}"),
                  _data(f"{look.planned_to_date:,}") if look.planned_to_date else "—",
                  _data(f"{look.enrolled / look.planned_to_date:.0%}") if look.planned_to_date
                  else "—"] for look in result.looks]
    overview = [[_("Outcome"), result.outcome], [_("Looks so far"), str(len(result.looks))],
                [_("Records received"), _("{n} ({treated} assigned to the program, {control} not)").format(
                    n=_data(f"{latest.enrolled:,}"), treated=_data(f"{latest.treated:,}"),
                    control=_data(f"{latest.control:,}"))],
                [_("Planned enrolment"), _data(f"{result.planned_enrolment:,}")
                 if result.planned_enrolment else _("not declared")],
                [_("Assignment share"), _data(f"{result.assignment_share:.3g}")],
                [_("Sequence tuned for"), _("{n} records").format(
                    n=_data(f"{result.t_opt:,.0f}"))],
                [_("Method"), tr(result.method)], [_("Data"), result.source]]
    cost = None
    if result.cost is not None:
        c = result.cost
        span = c.per_unit_outcome_range
        cost = [[_("Spent to date"), _money(c.spent_to_date)],
                [_("Participants (assigned to the program)"), _data(f"{c.participants:,}")],
                [_("Per participant"), _money(c.per_participant)],
                [_("Per unit of {outcome} (at the estimate)").format(outcome=result.outcome),
                 _money(c.per_unit_outcome)],
                [_("Per unit of {outcome} (over the {level}% sequence)").format(
                    outcome=result.outcome, level=level),
                 _("{low} to {high}").format(low=_money(span[0]), high=_money(span[1]))
                 if span else _("unbounded: the sequence still includes zero")],
                [_("Source"), tr(c.source)]]
    figure = monitor_figure(result).to_html(full_html=False, include_plotlyjs=False,
                                            config={"displaylogo": False, "responsive": True})
    complete = bool(result.planned_enrolment and latest.enrolled >= result.planned_enrolment)
    body = render("monitor.html", css=MONITOR_CSS,
                  description=(result.spec or {}).get("description"), act=result.act,
                  complete=complete, verdict=tr(result.verdict), headline=tr(result.headline()),
                  overview=overview, figure=figure, level=level, path_header=path_header,
                  path_rows=path_rows, enrolment=enrolment, cost=cost,
                  notes=[tr(n) for n in result.notes])
    footer = _("Generated {generated} by Upward. Identifiers are keyed hashes; no raw "
               "identifiers appear in this report.").format(generated=result.generated_at)
    return render_page(title or _("Monitored evaluation: {name}").format(name=result.name),
                       body, subtitle=_("Re-estimated at every look with an anytime-valid "
                                        "confidence sequence"),
                       footer=footer, with_charts=True, lang=lang)
