"""Play the attacker against published tables.

The attacker sees only what is published (cells, margins, the rule that zeros are shown) and
tries to work out each hidden cell: by subtraction from the margins, and by linear and integer
programming (min and max of each hidden cell subject to every published equation and
non-negativity). The attack is written here from scratch, independent of the module's audit.
It must fail against ``suppress_table`` and succeed against primary-only suppression.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize

from upward.privacy.suppression import suppress_statistics, suppress_table

K = 11
TOTAL = "Total"

# Program participants by neighbourhood × status 12 months after enrolment (realistic shape:
# a few large neighbourhoods, several with small cells, one whose total is itself below 11).
PARTICIPANTS = pd.DataFrame(
    {
        "employed full time": [212, 96, 41, 7, 130, 18, 3, 58, 25, 0, 77, 12],
        "employed part time": [88, 40, 15, 2, 61, 9, 1, 22, 14, 2, 30, 4],
        "in training": [35, 12, 4, 0, 27, 3, 0, 9, 6, 1, 15, 2],
        "not employed": [140, 71, 33, 5, 95, 20, 2, 44, 19, 3, 52, 9],
    },
    index=["Downtown", "Eastside", "Riverside", "Mill Creek", "Northgate", "Hillcrest",
           "Old Port", "Westview", "Southpark", "Airport", "University", "Lakeshore"],
)


def equations(published: pd.DataFrame) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """The attacker's linear system A x = b over the hidden cells of a table with margins."""
    values = published.to_numpy(dtype=float, na_value=np.nan)
    r, c = values.shape[0] - 1, values.shape[1] - 1
    hidden = [(i, j) for i in range(r + 1) for j in range(c + 1) if math.isnan(values[i, j])]
    col = {cell: n for n, cell in enumerate(hidden)}
    lines = [([(i, j) for j in range(c)], (i, c)) for i in range(r + 1)]
    lines += [([(i, j) for i in range(r)], (r, j)) for j in range(c + 1)]
    rows, rhs = [], []
    for members, total in lines:
        a = np.zeros(len(hidden))
        b = 0.0
        for cell, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if cell in col:
                a[col[cell]] += sign
            else:
                b -= sign * values[cell]
        if a.any():
            rows.append(a)
            rhs.append(b)
    a_eq = np.array(rows) if rows else np.zeros((0, len(hidden)))
    return hidden, a_eq, np.array(rhs)


def subtraction_attack(published: pd.DataFrame) -> dict[tuple[int, int], float]:
    """Solve every line with a single hidden cell, substitute, repeat."""
    hidden, a_eq, b_eq = equations(published)
    known: dict[int, float] = {}
    progress = True
    while progress:
        progress = False
        for a, b in zip(a_eq, b_eq, strict=True):
            free = [n for n in np.flatnonzero(a) if n not in known]
            if len(free) == 1:
                n = free[0]
                rest = sum(a[m] * known[m] for m in np.flatnonzero(a) if m in known)
                known[n] = (b - rest) / a[n]
                progress = True
    return {hidden[n]: v for n, v in known.items()}


def lp_attack(published: pd.DataFrame, *, integer: bool = False, lower: float = 1.0):
    """[min, max] of every hidden cell over all non-negative tables consistent with what is
    published (hidden cells ≥ 1 because zeros are shown)."""
    hidden, a_eq, b_eq = equations(published)
    n = len(hidden)
    out = {}
    for t, cell in enumerate(hidden):
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(n)
            cost[t] = sign
            if integer:
                cons = [optimize.LinearConstraint(a_eq, b_eq, b_eq)] if len(b_eq) else []
                res = optimize.milp(cost, constraints=cons, integrality=np.ones(n),
                                    bounds=optimize.Bounds(lower, 1e7))
                end = sign * res.fun
                ends.append(math.inf if end >= 1e6 else end)
            else:
                res = optimize.linprog(cost, A_eq=a_eq if len(b_eq) else None,
                                       b_eq=b_eq if len(b_eq) else None,
                                       bounds=(lower, None), method="highs")
                ends.append(math.inf if res.status == 3 else sign * res.fun)
        out[cell] = (ends[0], ends[1])
    return out


def true_with_margins(table: pd.DataFrame) -> np.ndarray:
    v = table.to_numpy()
    full = np.zeros((v.shape[0] + 1, v.shape[1] + 1), dtype=int)
    full[:-1, :-1] = v
    full[:-1, -1] = v.sum(axis=1)
    full[-1, :-1] = v.sum(axis=0)
    full[-1, -1] = v.sum()
    return full


def primary_only(table: pd.DataFrame) -> pd.DataFrame:
    full = true_with_margins(table)
    pub = pd.DataFrame(full, index=[*table.index, TOTAL], columns=[*table.columns, TOTAL])
    return pub.astype("Int64").mask((pub > 0) & (pub < K))


def assert_attack_fails(table: pd.DataFrame, published: pd.DataFrame, *, integer=False):
    truth = true_with_margins(table)
    shown = published.to_numpy(dtype=float, na_value=np.nan)
    small = (truth > 0) & (truth < K)
    assert not (small & ~np.isnan(shown)).any(), "a count of 1-10 is published"
    assert np.array_equal(shown[~np.isnan(shown)], truth[~np.isnan(shown)])
    recovered = subtraction_attack(published)
    for cell in recovered:
        assert not small[cell], f"subtraction recovers small cell {cell}"
    for cell, (low, high) in lp_attack(published, integer=integer).items():
        if small[cell]:
            assert low <= truth[cell] <= high
            assert high >= K, f"cell {cell} = {truth[cell]} pinned below {K}: [{low}, {high}]"
            assert high - low >= K - 1, f"cell {cell} narrowed to [{low}, {high}]"


def attack_succeeds(table: pd.DataFrame, published: pd.DataFrame) -> bool:
    truth = true_with_margins(table)
    small = (truth > 0) & (truth < K)
    if any(small[c] for c in subtraction_attack(published)):
        return True
    return any(small[c] and (high < K or high - low < K - 1)
               for c, (low, high) in lp_attack(published).items())


def test_attack_on_participants_by_neighbourhood_fails():
    s = suppress_table(PARTICIPANTS, k=K)
    assert s.n_primary >= 10 and s.mask.loc["Old Port", TOTAL]  # a small margin is hidden
    assert_attack_fails(PARTICIPANTS, s.published)
    assert_attack_fails(PARTICIPANTS, s.published, integer=True)


def test_attack_on_primary_only_suppression_succeeds():
    naive = primary_only(PARTICIPANTS)
    recovered = subtraction_attack(naive)
    truth = true_with_margins(PARTICIPANTS)
    i, j = PARTICIPANTS.index.get_loc("Riverside"), PARTICIPANTS.columns.get_loc("in training")
    assert recovered[(i, j)] == pytest.approx(truth[i, j]) == 4  # the only small cell in its row
    assert attack_succeeds(PARTICIPANTS, naive)
    with pytest.raises(AssertionError, match=r"recovers small cell|pinned below"):
        assert_attack_fails(PARTICIPANTS, naive)


def test_lp_and_integer_attacks_agree():
    # Tables of counts with margins have a totally unimodular system: LP bounds are integral.
    s = suppress_table(PARTICIPANTS, k=K)
    lp, ilp = lp_attack(s.published), lp_attack(s.published, integer=True)
    assert lp.keys() == ilp.keys()
    for cell, bounds in lp.items():
        assert bounds == pytest.approx(ilp[cell], abs=1e-6)


def test_module_audit_agrees_with_the_independent_attack():
    s = suppress_table(PARTICIPANTS, k=K)
    attack = lp_attack(s.published)
    rows = list(s.published.index)
    cols = list(s.published.columns)
    for c in s.audit.intervals:
        low, high = attack[(rows.index(c.row), cols.index(c.column))]
        assert (c.low, c.high) == pytest.approx((low, high))


def test_sparse_table_with_many_small_cells():
    rng = np.random.default_rng(4)
    values = np.where(rng.random((9, 6)) < 0.6, rng.integers(0, 11, (9, 6)),
                      rng.integers(11, 90, (9, 6)))
    table = pd.DataFrame(values, index=[f"tract {i}" for i in range(9)],
                         columns=[f"age {j}" for j in range(6)])
    for method in ("milp", "greedy"):
        s = suppress_table(table, k=K, method=method)
        assert_attack_fails(table, s.published)
    assert attack_succeeds(table, primary_only(table))


def test_single_small_row_total():
    # A row whose total is small exposes its cells unless the total and a partner are hidden.
    table = pd.DataFrame({"yes": [60, 3, 45], "no": [80, 4, 70]}, index=["A", "B", "C"])
    s = suppress_table(table, k=K)
    assert s.mask.loc["B", TOTAL]
    assert_attack_fails(table, s.published)
    assert attack_succeeds(table, primary_only(table))


cell_value = st.one_of(st.integers(0, 10), st.integers(11, 150), st.just(0))


@st.composite
def tables(draw):
    r = draw(st.integers(2, 6))
    c = draw(st.integers(2, 5))
    values = draw(st.lists(st.lists(cell_value, min_size=c, max_size=c), min_size=r, max_size=r))
    return pd.DataFrame(values, index=[f"r{i}" for i in range(r)],
                        columns=[f"c{j}" for j in range(c)])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["milp", "greedy"]))
def test_random_tables_resist_the_attack(table, method):
    s = suppress_table(table, k=K, method=method)
    assert s.audit.passed
    assert_attack_fails(table, s.published)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(1, 10))
def test_planted_small_cell_breaks_primary_only_but_not_ours(table, small):
    # Row 0 gets one small cell, its other cells large: primary-only leaks it exactly.
    table = table.copy()
    table.iloc[0, :] = 50
    table.iloc[0, 0] = small
    recovered = subtraction_attack(primary_only(table))
    assert recovered.get((0, 0)) == pytest.approx(small)
    assert_attack_fails(table, suppress_table(table, k=K).published)


# -- tables of means / rates ------------------------------------------------------------------

RATES = pd.DataFrame(
    {"participants": [6, 240, 130, 95, 471],
     "employment_rate": [0.5, 0.62, 0.71, 0.48, 0.6125]},
    index=["Old Port", "Downtown", "Eastside", "Riverside", "All neighbourhoods"],
)
RATES.loc["All neighbourhoods", "employment_rate"] = float(
    (RATES.participants[:-1] * RATES.employment_rate[:-1]).sum() / 471)


def rate_interval(published: pd.DataFrame, counts: pd.Series, row: str) -> tuple[float, float]:
    """The attacker knows every count (worst case) and that rates lie in [0, 1]."""
    groups = published.index[:-1]
    total = counts.iloc[-1] * published.employment_rate.iloc[-1]
    hidden = [g for g in groups if pd.isna(published.loc[g, "employment_rate"])]
    shown = sum(counts[g] * published.loc[g, "employment_rate"] for g in groups if g not in hidden)
    n = len(hidden)
    cost = np.zeros(n)
    cost[hidden.index(row)] = 1.0
    a_eq = np.array([[counts[g] for g in hidden]], dtype=float)
    ends = []
    for sign in (1.0, -1.0):
        res = optimize.linprog(sign * cost, A_eq=a_eq, b_eq=[total - shown], bounds=(0, 1),
                               method="highs")
        ends.append(sign * res.fun)
    return ends[0], ends[1]


def test_rate_of_small_group_resists_subtraction():
    s = suppress_statistics(RATES, "participants", ["employment_rate"],
                            total_row="All neighbourhoods", bounds={"employment_rate": (0, 1)})
    assert pd.isna(s.published.loc["Old Port", "employment_rate"])
    assert pd.isna(s.published.loc["Old Port", "participants"])
    low, high = rate_interval(s.published, RATES.participants, "Old Port")
    assert high - low >= 0.5
    # Primary-only: one hidden rate, recovered exactly from the overall rate.
    naive = RATES.copy()
    naive.loc["Old Port", "employment_rate"] = np.nan
    low, high = rate_interval(naive, RATES.participants, "Old Port")
    assert low == pytest.approx(0.5, abs=1e-9) and high == pytest.approx(0.5, abs=1e-9)
