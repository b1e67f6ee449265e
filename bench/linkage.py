"""Linkage time for a roster of N and outcome records of N (default 100,000 × 100,000),
synthetic with known true matches, against a named alternative in the same run: an exact-match
join in DuckDB on normalised given name, surname and date of birth (what a city does without
probabilistic linkage). Both sides are warmed up on a 5,000 × 5,000 run first; each side's
time, precision, recall and F1 are printed, and the time ratio.

    python -m bench.linkage [N]
    python -m bench linkage [N]
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from upward.evaluate.linkage import LinkField, link_records, normalised

FIELDS = [LinkField("given_name", "name"), LinkField("surname", "name"),
          LinkField("dob", "date"), LinkField("zip", "exact"), LinkField("street", "text")]
SYLLABLES = ["an", "bel", "cor", "da", "el", "fin", "gar", "hol", "is", "jo", "ka", "lin",
             "mar", "nor", "ol", "per", "qui", "ros", "sen", "tor", "ul", "van", "wes", "yo",
             "zen", "ber", "chi", "dra", "mon", "ste"]


def _words(rng: np.random.Generator, k: int, parts: int) -> np.ndarray:
    pieces = rng.choice(SYLLABLES, (k, parts))
    return np.array(["".join(p) for p in pieces])


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + "aeiou"[int(rng.integers(5))] + word[i + 1:]


def synthetic(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[int, int]]]:
    """A roster of ``n`` people and ``n`` outcome records: 80% of the roster appears in the
    outcomes with typos (names 15%, date digits 5%, moved ZIP 10%), the rest are other people.

    >>> a, b, truth = synthetic(100)
    >>> len(a), len(b), len(truth)
    (100, 100, 80)
    """
    rng = np.random.default_rng(seed)
    given = _words(rng, 4000, 2)
    surnames = _words(rng, 30000, 3)
    zips = np.array([f"{z:05d}" for z in rng.choice(np.arange(10000, 99999), 600, replace=False)])

    def people(k: int) -> pd.DataFrame:
        days = rng.integers(0, 65 * 365, k)
        dob = (np.datetime64("1940-01-01") + days.astype("timedelta64[D]")).astype(str)
        return pd.DataFrame({
            "given_name": rng.choice(given, k), "surname": rng.choice(surnames, k), "dob": dob,
            "zip": rng.choice(zips, k),
            "street": [f"{int(h)} {s} st" for h, s in zip(rng.integers(1, 999, k),
                                                          rng.choice(surnames, k), strict=True)]})

    a = people(n)
    a.insert(0, "person_id", [f"P{i:07d}" for i in range(n)])
    shared = int(0.8 * n)
    copies = a.iloc[:shared].drop(columns="person_id").copy()
    for column, share in (("given_name", 0.15), ("surname", 0.15)):
        hit = rng.random(shared) < share
        copies.loc[hit, column] = [_typo(rng, w) for w in copies.loc[hit, column]]
    hit = rng.random(shared) < 0.05
    copies.loc[hit, "dob"] = [d[:8] + d[9] + d[8] for d in copies.loc[hit, "dob"]]
    hit = rng.random(shared) < 0.10
    copies.loc[hit, "zip"] = rng.choice(zips, int(hit.sum()))
    b = pd.concat([copies, people(n - shared)], ignore_index=True)
    order = rng.permutation(n)
    b = b.iloc[order].reset_index(drop=True)
    position = np.empty(n, dtype=int)
    position[order] = np.arange(n)
    truth = {(i, int(position[i])) for i in range(shared)}
    b["wage"] = np.round(rng.normal(4000, 900, n), 2)
    return a, b, truth


def _scores(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def exact_join(a: pd.DataFrame, b: pd.DataFrame) -> set[tuple[int, int]]:
    """The alternative: DuckDB join on normalised given name, surname and date of birth,
    keeping pairs whose key is unique on both sides."""
    import duckdb

    keys = FIELDS[:3]
    left, right = normalised(a, keys), normalised(b, keys)
    con = duckdb.connect()
    con.register("l", left)
    con.register("r", right)
    rows = con.execute("""
        with l1 as (select * from l qualify count(*) over (partition by given_name, surname, dob) = 1),
             r1 as (select * from r qualify count(*) over (partition by given_name, surname, dob) = 1)
        select l1.unique_id, r1.unique_id from l1 join r1 using (given_name, surname, dob)
    """).fetchall()
    return {(int(x), int(y)) for x, y in rows}


def splink_links(a: pd.DataFrame, b: pd.DataFrame) -> set[tuple[int, int]]:
    result = link_records(a, b, FIELDS, outcome_columns=["wage"], threshold=0.9)
    accepted = result.pairs[result.pairs["match_probability"] >= 0.9]
    return set(zip(accepted["left"].astype(int), accepted["right"].astype(int), strict=True))


def _cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(n: int = 100_000) -> None:
    warm_a, warm_b, _ = synthetic(5000, seed=1)
    splink_links(warm_a, warm_b)
    exact_join(warm_a, warm_b)
    a, b, truth = synthetic(n)
    start, cpu = time.perf_counter(), _cpu()
    found = splink_links(a, b)
    splink_s, splink_cpu = time.perf_counter() - start, _cpu() - cpu
    start, cpu = time.perf_counter(), _cpu()
    exact = exact_join(a, b)
    exact_s, exact_cpu = time.perf_counter() - start, _cpu() - cpu
    sp, sr, sf = _scores(found, truth)
    ep, er, ef = _scores(exact, truth)
    print(f"linkage {n:,} x {n:,} records ({len(truth):,} true matches)")
    print(f"  Upward (Splink, DuckDB):        {splink_s:8.1f} s ({splink_cpu:.0f} CPU s)  precision {sp:.4f} recall "
          f"{sr:.4f} F1 {sf:.4f}")
    print(f"  exact join (DuckDB, 3 fields):  {exact_s:8.2f} s ({exact_cpu:.1f} CPU s)  precision {ep:.4f} recall "
          f"{er:.4f} F1 {ef:.4f}")
    print(f"  time ratio Upward / exact join = {splink_s / exact_s:.0f}x wall, "
          f"{splink_cpu / max(exact_cpu, 1e-9):.0f}x CPU; F1 {sf:.3f} vs {ef:.3f}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
