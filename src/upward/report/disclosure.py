"""Disclosure control for an evaluation report: before an evaluation is rendered for others,
every table built from counts of people goes through upward.privacy, so that no cell from
fewer than k people (default 11, the CMS rule) is shown or can be worked out from the totals.

Tables of regression coefficients (event study, estimates) and of places (donor weights,
synthetic paths, placebos) describe no small group of residents and pass unchanged.

Examples
--------
>>> from upward.evaluate.result import EvaluationResult
>>> r = EvaluationResult("ipw", "m", "y", "ATT", 1.0, 0.2, 0.6, 1.4, 0.01, 300,
...     tables={"overlap": [
...         {"score_low": 0.0, "score_high": 0.5, "n_treated": 4, "n_control": 120},
...         {"score_low": 0.5, "score_high": 1.0, "n_treated": 96, "n_control": 80}]})
>>> safe = disclosure_controlled(r)
>>> [row["n_treated"] for row in safe.tables["overlap"]]
[None, None]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd

from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.text import N_, joined
from upward.evaluate.result import EvaluationResult
from upward.privacy.suppression import TOTAL, suppress_table


def _hide(rows: list[dict], columns: list[str], k: int) -> tuple[list[dict], int]:
    """Suppress ``columns`` (counts of people, one row per table row) with margins; hidden
    cells become None. Returns the rows and the number of cells hidden."""
    counts = pd.DataFrame([[int(r.get(c) or 0) for c in columns] for r in rows], columns=columns)
    result = suppress_table(counts, k, with_margins=True)
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        for c in columns:
            if bool(result.mask.loc[i, c]):
                row[c] = None
        out.append(row)
    return out, int(result.mask.drop(index=TOTAL, columns=TOTAL).to_numpy().sum())


def _overlap(rows: list[dict], result: EvaluationResult, k: int) -> tuple[list[dict], str]:
    safe, hidden = _hide(rows, ["n_treated", "n_control"], k)
    return safe, N_("{n} propensity-score bin count(s)", n=hidden) if hidden else ""


def _rd_bins(rows: list[dict], result: EvaluationResult, k: int) -> tuple[list[dict], str]:
    if not rows or any(r.get("n") is None for r in rows):
        return [], "the binned means (bin sizes unknown)" if rows else ""
    sides = sorted({str(r.get("side")) for r in rows})
    by_side = [{s: (r["n"] if str(r.get("side")) == s else 0) for s in sides} for r in rows]
    safe, hidden = _hide(by_side, sides, k)
    out = []
    for original, counts in zip(rows, safe, strict=True):
        row = dict(original)
        if counts[str(row.get("side"))] is None:
            row["n"] = None
            if int(original["n"]) < k:  # a mean of fewer than k people is hidden too
                row["y"] = None
        out.append(row)
    return out, (N_("{n} RD bin size(s) and the means of bins under {k}", n=hidden, k=k)
                 if hidden else "")


def _attrition(rows: list[dict], result: EvaluationResult, k: int) -> tuple[list[dict], str]:
    split = [{"observed": r.get("n_observed") or 0,
              "missing": (r.get("n_assigned") or 0) - (r.get("n_observed") or 0)} for r in rows]
    safe, hidden = _hide(split, ["observed", "missing"], k)
    out = []
    for row, cells in zip(rows, safe, strict=True):
        row = dict(row)
        if cells["observed"] is None or cells["missing"] is None:
            row["n_observed"] = None if cells["observed"] is None else row["n_observed"]
            row["rate"] = None
        out.append(row)
    return out, N_("{n} attrition count(s)", n=hidden) if hidden else ""


def _balance(rows: list[dict], result: EvaluationResult, k: int) -> tuple[list[dict], str]:
    arms = [n for n in (result.n_treated, result.n_control) if n is not None]
    if arms and min(arms) < k:
        return [], N_("the balance table (a group has fewer than {k} people)", k=k)
    return rows, ""


def _linked_numbers(result: EvaluationResult, tables: dict) -> dict:
    """The numbers elsewhere on the page that repeat or imply a hidden attrition cell: an arm's
    observed count is its size in the overview (so assigned − size gives the missing count),
    and the attrition check prints each arm's rate, their difference and an exact test whose
    p-value, with the margins known, pins the split down. Returns the fields to replace."""
    hidden_arms = {row.get("group") for row in tables.get("attrition") or []
                   if row.get("n_observed") is None}
    if not hidden_arms:
        return {}
    changes: dict = {}
    if "treatment" in hidden_arms:
        changes["n_treated"] = None
    if "control" in hidden_arms:
        changes["n_control"] = None
    changes["checks"] = [
        replace(check, statistic=None, p_value=None,
                detail=("outcome missing for some units; the rates by arm and their test are "
                        "hidden because an arm's missing or observed count is under the "
                        "disclosure threshold"))
        if check.name == "attrition" else check for check in result.checks]
    return changes


#: Tables of people and how each is made safe to publish.
PEOPLE_TABLES: dict[str, Callable[[list[dict], EvaluationResult, int], tuple[list[dict], str]]] = {
    "overlap": _overlap,
    "rd_bins": _rd_bins,
    "attrition": _attrition,
    "balance": _balance,
}


def disclosure_controlled(result: EvaluationResult, k: int = MIN_CELL_SIZE) -> EvaluationResult:
    """A copy of ``result`` whose people tables are suppressed (primary and complementary, see
    upward.privacy.suppression) and whose warnings say what was hidden.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, 0.2, 0.6, 1.4, 0.01, 16,
    ...     n_treated=8, n_control=8, tables={"balance": [{"covariate": "age"}]})
    >>> disclosure_controlled(r).tables["balance"]
    []
    """
    tables = dict(result.tables)
    hidden: list[str] = []
    for key, make_safe in PEOPLE_TABLES.items():
        if tables.get(key):
            tables[key], note = make_safe(tables[key], result, k)
            if note:
                hidden.append(note)
    linked = _linked_numbers(result, tables)
    if linked:
        result = replace(result, **linked)
        hidden.append(N_("the arm sizes and the attrition check's rates and test, from which "
                         "the hidden attrition counts could be worked out"))
    warnings = list(result.warnings)
    if hidden:
        warnings.append(N_("Disclosure control (cells under {k} people and enough others to "
                           "protect them are hidden): {hidden}.", k=k,
                           hidden=joined("; ", hidden)))
    return replace(result, tables=tables, warnings=warnings)
