"""Cell suppression: the CMS cell-size rule, margins, reasons, audits of hand-made tables,
tables of means and rates, and errors for tables that are not counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import ConfigError, UpwardError
from upward.privacy import (
    DisclosureTableError,
    audit,
    is_publishable,
    suppress_statistics,
    suppress_table,
)

TABLE = pd.DataFrame(
    {"employed": [40, 3, 25, 0], "training": [12, 30, 11, 18], "not employed": [60, 30, 45, 22]},
    index=["North", "South", "East", "West"],
)


def test_cms_rule_boundaries():
    # CMS cell-size rule: 1-10 hidden, 11 and above shown; zeros shown by default.
    t = pd.DataFrame({"a": [10, 11, 0, 50], "b": [50, 50, 50, 50]}, index=list("pqrs"))
    s = suppress_table(t, k=11)
    assert s.mask.loc["p", "a"] and s.reasons.loc["p", "a"] == "primary: 10 < 11"
    assert not s.mask.loc["r", "a"] and s.published.loc["r", "a"] == 0
    assert s.reasons.loc["q", "a"] in ("", "complementary")  # never primary
    bare = suppress_table(t, k=11, with_margins=False)
    assert bare.published.loc["q", "a"] == 11 and bare.mask.loc["p", "a"]
    hidden_zero = suppress_table(t, k=11, suppress_zeros=True)
    assert hidden_zero.reasons.loc["r", "a"] == "primary: 0 < 11"
    assert hidden_zero.audit.passed


def test_margins_come_from_the_true_counts():
    s = suppress_table(TABLE, k=11)
    full = s.audit_values()
    assert full.loc["Total", "Total"] == TABLE.to_numpy().sum()
    assert list(full.loc[TABLE.index, "Total"]) == list(TABLE.sum(axis=1))
    shown = ~s.mask.loc["Total", TABLE.columns]
    assert (s.published.loc["Total", TABLE.columns][shown] == TABLE.sum()[shown]).all()
    assert s.audit.passed and s.n_primary == 1


def test_every_line_with_a_hidden_cell_has_two():
    rng = np.random.default_rng(0)
    values = np.where(rng.random((8, 5)) < 0.35, rng.integers(1, 11, (8, 5)),
                      rng.integers(11, 200, (8, 5)))
    s = suppress_table(pd.DataFrame(values), k=11)
    mask = s.mask.to_numpy()
    for line in [*mask, *mask.T]:
        assert line.sum() != 1
    assert s.audit.passed


def test_milp_hides_no_more_people_than_greedy():
    rng = np.random.default_rng(1)
    for _ in range(3):
        values = np.where(rng.random((7, 4)) < 0.3, rng.integers(1, 11, (7, 4)),
                          rng.integers(11, 120, (7, 4)))
        table = pd.DataFrame(values)
        optimal = suppress_table(table, method="milp")
        greedy = suppress_table(table, method="greedy")
        assert optimal.audit.passed and greedy.audit.passed
        assert optimal.hidden_people <= greedy.hidden_people


def test_without_margins_only_small_cells_are_hidden():
    s = suppress_table(TABLE, k=11, with_margins=False)
    assert "Total" not in s.published.index
    assert s.n_primary == 1 and s.n_complementary == 0
    assert s.audit.intervals[0].high == float("inf")


def test_larger_protection_hides_more():
    base = suppress_table(TABLE, k=11)
    strict = suppress_table(TABLE, k=11, protection=40)
    assert strict.audit.passed
    assert all(c.width >= 40 for c in strict.audit.failures + strict.audit.intervals
               if c.primary)
    assert strict.hidden_people >= base.hidden_people


def test_audit_of_hand_made_tables():
    naive = TABLE.astype("Int64").mask((TABLE > 0) & (TABLE < 11))
    naive["Total"] = TABLE.sum(axis=1)
    naive.loc["Total"] = [*TABLE.sum(), TABLE.to_numpy().sum()]
    result = audit(naive, TABLE)
    assert not result.passed
    (failure,) = result.failures
    assert (failure.row, failure.column, failure.low, failure.high) == ("South", "employed", 3, 3)
    shown_small = TABLE.astype("Int64")
    assert audit(shown_small, TABLE).shown_small == [("South", "employed")]
    assert is_publishable(suppress_table(TABLE).published, TABLE)
    tampered = suppress_table(TABLE).published.copy()
    tampered.loc["North", "employed"] = 41
    with pytest.raises(DisclosureTableError, match="differs from the true count"):
        audit(tampered, TABLE)


def test_display_and_frame():
    s = suppress_table(TABLE)
    shown = s.to_display(symbol="<11")
    assert shown.loc["South", "employed"] == "<11" and shown.loc["North", "employed"] == "40"
    frame = s.audit.to_frame()
    assert set(frame.columns) >= {"row", "column", "low", "high", "width", "protected"}
    assert frame.loc[frame.primary, "protected"].all()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"a": [1.5, 20]}), "not a count of people"),
        (pd.DataFrame({"a": [-1, 20]}), "not a count of people"),
        (pd.DataFrame({"a": [None, 20]}), "not a count of people"),
        (pd.DataFrame({"a": ["x", 20]}), "not a count of people"),
        (pd.DataFrame({"a": [3, 20]}, index=["Total", "b"]), "already has a row called"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column labels"),
        (pd.DataFrame(), "empty"),
    ],
)
def test_tables_that_are_not_counts_are_rejected(table, message):
    with pytest.raises(DisclosureTableError, match=message) as err:
        suppress_table(table)
    assert isinstance(err.value, UpwardError) and "What to do" in str(err.value)


def test_bad_options():
    with pytest.raises(ConfigError, match="k = 1"):
        suppress_table(TABLE, k=1)
    with pytest.raises(ConfigError, match="not known"):
        suppress_table(TABLE, method="magic")


# -- means and rates by group -----------------------------------------------------------------

GROUPS = pd.DataFrame(
    {"n": [4, 150, 60, 90, 304], "rate": [0.25, 0.6, 0.5, 0.7, 0.0],
     "earnings": [21_000.0, 30_000.0, 25_000.0, 34_000.0, 0.0]},
    index=["Old Port", "Downtown", "Eastside", "Riverside", "All"],
)
for _col in ("rate", "earnings"):
    GROUPS.loc["All", _col] = float((GROUPS.n[:-1] * GROUPS[_col][:-1]).sum() / 304)


def test_small_group_values_and_a_partner_are_hidden():
    s = suppress_statistics(GROUPS, "n", ["rate", "earnings"], total_row="All",
                            bounds={"rate": (0, 1)})
    assert s.reasons["Old Port"] == "primary: 4 < 11"
    assert s.reasons["Eastside"] == "complementary"  # the smallest group of 11 or more
    assert s.published.loc[["Old Port", "Eastside"], ["n", "rate", "earnings"]].isna().all().all()
    assert s.published.loc["Downtown", "rate"] == 0.6 and s.passed
    rate = next(v for v in s.intervals if v.row == "Old Port" and v.column == "rate")
    assert rate.high - rate.low >= 0.5


def test_without_a_total_row_only_small_groups_are_hidden():
    s = suppress_statistics(GROUPS.drop(index="All"), "n", ["rate"])
    assert list(s.reasons[s.reasons != ""].index) == ["Old Port"]


def test_one_hidden_group_is_exactly_recoverable_so_a_second_is_hidden():
    # An extreme partner rate narrows the small group's interval; a third group is then hidden.
    frame = pd.DataFrame({"n": [5, 12, 400, 417], "rate": [0.4, 0.0, 0.5, 0.0]},
                         index=["a", "b", "c", "All"])
    frame.loc["All", "rate"] = float((frame.n[:-1] * frame.rate[:-1]).sum() / 417)
    s = suppress_statistics(frame, "n", ["rate"], total_row="All", bounds={"rate": (0, 1)})
    assert s.reasons["b"] == "complementary" and s.reasons["c"] == "complementary"
    assert s.passed


def test_statistics_errors():
    with pytest.raises(DisclosureTableError, match="no column"):
        suppress_statistics(GROUPS, "people", ["rate"])
    with pytest.raises(DisclosureTableError, match="total_row"):
        suppress_statistics(GROUPS, "n", ["rate"], total_row="Everyone")
