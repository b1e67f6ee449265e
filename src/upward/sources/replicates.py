"""ACS Variance Replicate Estimate (VRE) tables: 80 replicate estimates per cell and geography.

The Census Bureau publishes, for a subset of detailed tables, each tract's and block group's
estimate with its 80 successive-difference replicate estimates, one zipped CSV per table and
state under ``www2.census.gov/programs-surveys/acs/replicate_estimates/<year>/data/5-year/
<140 tract | 150 block group>/<TABLE>_<state>.csv.zip``. Columns: ``TBLID, GEOID, NAME, ORDER,
TITLE, ESTIMATE, MOE, CME, SE, Var_Rep1 … Var_Rep80``; ``GEOID`` is the long form
(``1400000US22071011600``); rows without a GEOID (the table's title and universe) are skipped.
Older files are Windows-1252, not UTF-8.

With them the margin of any aggregate — a district's sum over tracts, a ratio of two cells — is
exact, covariances included: compute the statistic on the full estimates and on each replicate,
then SE = √(4/80 · Σ (X_r − X)²) (:func:`upward.estimate.sdr.sdr_se`).

Examples
--------
>>> replicate_url("B17020", "40", 2023)
'https://www2.census.gov/programs-surveys/acs/replicate_estimates/2023/data/5-year/140/B17020_40.csv.zip'
>>> short_geoid("1400000US22071011600")
'22071011600'
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError, InputFileError

N_REPLICATES = 80  # the ACS publishes 80 successive-difference replicates

__all__ = ["ReplicateTable", "fetch_replicates", "read_replicates", "replicate_url"]

BASE_URL = "https://www2.census.gov/programs-surveys/acs/replicate_estimates"
SUMMARY_LEVELS = {"tract": "140", "block_group": "150"}
COLUMNS = ["TBLID", "GEOID", "NAME", "ORDER", "TITLE", "ESTIMATE", "MOE", "CME", "SE"]
REP_COLUMNS = [f"Var_Rep{r}" for r in range(1, N_REPLICATES + 1)]
_FIX = ("download the table's file again from the Census Bureau "
        "(upward areas aggregate … --refresh) or check that it is a Variance Replicate "
        "Estimate table")


def replicate_url(table: str, state: str, year: int, level: str = "tract") -> str:
    """The Census Bureau's address of one table's replicate file for one state.

    >>> replicate_url("B19001", "22", 2022, "block_group").rsplit("/", 2)[-2:]
    ['150', 'B19001_22.csv.zip']
    """
    if level not in SUMMARY_LEVELS:
        raise ConfigError(f"replicate tables are published for tracts and block groups, not "
                          f"{level!r}", fix="use level tract or block_group")
    return (f"{BASE_URL}/{year}/data/5-year/{SUMMARY_LEVELS[level]}/"
            f"{table.upper()}_{state}.csv.zip")


def short_geoid(long_id: str) -> str:
    """The GEOID after ``US`` in the Census's long form (``1400000US…``).

    >>> short_geoid("1500000US220710116001"), short_geoid("22071011600")
    ('220710116001', '22071011600')
    """
    text = str(long_id).strip()
    return text.split("US", 1)[1] if "US" in text else text


@dataclass
class ReplicateTable:
    """One replicate table: a row per (geography, cell) and its 80 replicate estimates.

    Attributes
    ----------
    table : str
        The table id (``B17020``).
    cells : pandas.DataFrame
        ``geo_id, name, variable (B17020_002), order, title, estimate, moe, se`` per row.
    replicates : numpy.ndarray
        Shape ``(rows, 80)``, row-aligned with ``cells``.
    path : str
        Where it was read from.

    Examples
    --------
    >>> t = ReplicateTable("X", pd.DataFrame({"geo_id": ["1"], "variable": ["X_001"],
    ...     "estimate": [10.0]}), np.full((1, 80), 10.0), "f")
    >>> t.matrix("X_001").shape
    (1, 81)
    """

    table: str
    cells: pd.DataFrame
    replicates: np.ndarray
    path: str
    _index: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def geo_ids(self) -> list[str]:
        """Geographies in the file, sorted.

        >>> ReplicateTable("X", pd.DataFrame({"geo_id": ["2", "1", "2"]}), np.zeros((3, 80)),
        ...                "f").geo_ids
        ['1', '2']
        """
        return sorted(set(self.cells["geo_id"]))

    def matrix(self, variable: str, geo_ids: list[str] | None = None) -> np.ndarray:
        """``(geographies, 81)``: the estimate then its 80 replicates, one row per geography.

        Geographies absent from the file are rows of NaN.
        """
        mask = (self.cells["variable"] == variable).to_numpy()
        if not mask.any():
            raise ConfigError(f"{variable} is not in the replicate table {self.table} "
                              f"({self.path})", fix="check the variable's line number")
        sub = self.cells.loc[mask, ["geo_id", "estimate"]]
        full = np.column_stack([sub["estimate"].to_numpy(float), self.replicates[mask]])
        if geo_ids is None:
            return full
        index = {g: i for i, g in enumerate(sub["geo_id"])}
        out = np.full((len(geo_ids), N_REPLICATES + 1), np.nan)
        for j, g in enumerate(geo_ids):
            if g in index:
                out[j] = full[index[g]]
        return out


    def cube(self, geo_ids: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """``(geographies, cells, 81)`` array of estimate + replicates, the cell names, and
        which geographies are in the file (absent ones are zeros).

        >>> t = ReplicateTable("X", pd.DataFrame({"geo_id": ["1"], "variable": ["X_001"],
        ...     "estimate": [10.0]}), np.full((1, 80), 10.0), "f")
        >>> c, v, present = t.cube(["1", "2"])
        >>> c.shape, v, present.tolist()
        ((2, 1, 81), ['X_001'], [True, False])
        """
        if self._index is None:  # laid out once per table, reused by every area
            g = pd.Index(sorted(set(self.cells["geo_id"])))
            v = pd.Index(sorted(set(self.cells["variable"])))
            gi, vi = g.get_indexer(self.cells["geo_id"]), v.get_indexer(self.cells["variable"])
            full = np.zeros((len(g), len(v), N_REPLICATES + 1))
            full[gi, vi, 0] = self.cells["estimate"].to_numpy(float)
            full[gi, vi, 1:] = self.replicates
            self._index = (g, v, np.nan_to_num(full))
        g_index, v_index, full = self._index
        where = g_index.get_indexer(list(geo_ids))
        present = where >= 0
        if present.all():
            return full[where], list(v_index), present
        out = np.zeros((len(geo_ids), len(v_index), N_REPLICATES + 1))
        out[present] = full[where[present]]
        return out, list(v_index), present


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                members = [n for n in z.namelist() if n.lower().endswith(".csv")]
                if len(members) != 1:
                    raise InputFileError(path, f"the zip holds {len(members)} CSV files, not one",
                                         fix=_FIX)
                raw = z.read(members[0])
        except zipfile.BadZipFile as exc:
            raise InputFileError(path, f"the zip archive is damaged ({exc}); it may be cut "
                                 "short", fix=_FIX) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_replicates(path: Path) -> ReplicateTable:
    """Read a Variance Replicate Estimate file (CSV, or the Census's zipped CSV).

    Every problem names the file, the row (1-based, header = 1) and the column: a missing
    column, a replicate that is not a number, a row with fewer fields than the header (a cut
    file), a table id that changes, a duplicated (geography, cell).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "B01003_99.csv"
    >>> head = ",".join(COLUMNS + REP_COLUMNS)
    >>> row = "B01003,1400000US99001000100,Tract 1,1,Total,100,16,+/-16,9.7," + ",".join(["101"] * 80)
    >>> _ = p.write_text(head + "\\n" + row + "\\n")
    >>> t = read_replicates(p)
    >>> t.cells[["geo_id", "variable", "estimate"]].values.tolist()
    [['99001000100', 'B01003_001', 100.0]]
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "there is no file at this path", fix="check the path")
    text = _text(path)
    if not text.strip():
        raise InputFileError(path, "the file is empty", fix=_FIX)
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in COLUMNS + REP_COLUMNS if c not in header]
    if missing:
        raise InputFileError(
            path, f"{len(missing)} expected column(s) are missing, first {missing[0]!r} "
            f"(a replicate table has {', '.join(COLUMNS)}, Var_Rep1 … Var_Rep80)",
            fix=_FIX, column=missing[0])
    pos = {c: header.index(c) for c in COLUMNS + REP_COLUMNS}
    rep_pos = [pos[c] for c in REP_COLUMNS]
    records, reps = [], []
    table = None
    ends_cleanly = text.endswith(("\n", "\r"))
    lines = list(reader)
    for i, fields in enumerate(lines, start=2):
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            last = i == len(lines) + 1
            raise InputFileError(
                path, f"the row has {len(fields)} fields where the header has {len(header)}"
                + (" — the file looks cut short" if last and not ends_cleanly else ""),
                fix=_FIX, row=i)
        geoid = fields[pos["GEOID"]].strip()
        if not geoid:  # the table's title and universe rows
            continue
        tbl = fields[pos["TBLID"]].strip().upper()
        table = table or tbl
        if tbl != table:
            raise InputFileError(path, f"TBLID changes from {table} to {tbl}",
                                 fix="give one table per file", row=i, column="TBLID")
        try:
            order = int(float(fields[pos["ORDER"]]))
        except ValueError:
            raise InputFileError(path, f"ORDER {fields[pos['ORDER']]!r} is not a line number",
                                 fix=_FIX, row=i, column="ORDER") from None
        values = []
        for c, p in zip(("ESTIMATE", "MOE", "SE"), (pos["ESTIMATE"], pos["MOE"], pos["SE"]),
                        strict=True):
            values.append(_number(fields[p], path, i, c, allow_blank=c != "ESTIMATE"))
        rep_values = []
        for c, p in zip(REP_COLUMNS, rep_pos, strict=True):
            rep_values.append(_number(fields[p], path, i, c, allow_blank=False))
        records.append({"geo_id": short_geoid(geoid), "name": fields[pos["NAME"]].strip(),
                        "variable": f"{tbl}_{order:03d}", "order": order,
                        "title": fields[pos["TITLE"]].strip(), "estimate": values[0],
                        "moe": values[1], "se": values[2]})
        reps.append(rep_values)
    if not records:
        raise InputFileError(path, "the file has no geography rows", fix=_FIX)
    cells = pd.DataFrame(records)
    dup = cells.duplicated(["geo_id", "variable"])
    if dup.any():
        first = cells[dup].iloc[0]
        raise InputFileError(path, f"{first.geo_id} {first.variable} appears twice",
                             fix="remove the duplicate rows", column="GEOID")
    return ReplicateTable(table or "", cells, np.asarray(reps, dtype=float), str(path))


def _number(text: str, path: Path, row: int, column: str, *, allow_blank: bool) -> float:
    s = text.strip()
    if not s and allow_blank:
        return float("nan")
    try:
        return float(s)
    except ValueError:
        raise InputFileError(path, f"{column} is {s!r}, not a number",
                             fix=_FIX, row=row, column=column) from None


def fetch_replicates(table: str, state: str, year: int, cache_dir: Path, *,
                     level: str = "tract", url: str | None = None, retries: int = 4,
                     backoff: float = 0.5, timeout: float = 60.0,
                     refresh: bool = False) -> ReplicateTable:
    """Download (or take from the cache) one table's replicate file for one state and read it.

    >>> import functools, http.server, tempfile, threading
    >>> root = Path(tempfile.mkdtemp())
    >>> row = "B01003,1400000US99001000100,Tract 1,1,Total,100,16,+/-16,9.7," + ",".join(["101"] * 80)
    >>> _ = (root / "B01003_99.csv").write_text(",".join(COLUMNS + REP_COLUMNS) + "\\n" + row + "\\n")
    >>> class Quiet(http.server.SimpleHTTPRequestHandler):
    ...     def log_message(self, *args): pass
    >>> server = http.server.ThreadingHTTPServer(
    ...     ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    >>> threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> url = f"http://127.0.0.1:{server.server_address[1]}/B01003_99.csv"
    >>> t = fetch_replicates("B01003", "99", 2023, root / "cache", url=url)
    >>> t.geo_ids, t.replicates.shape
    (['99001000100'], (1, 80))
    >>> server.shutdown(); server.server_close()
    >>> fetch_replicates("B01003", "99", 2023, root / "cache", url=url).geo_ids  # from the cache
    ['99001000100']
    """
    from upward.sources.http import download

    got = download(url or replicate_url(table, state, year, level), Path(cache_dir),
                   retries=retries, backoff=backoff, timeout=timeout, refresh=refresh)
    return read_replicates(got.path)
