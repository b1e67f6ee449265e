"""The warehouse: canonical tables in a DuckDB file, loaded atomically, read through Ibis.

Reads go through ``Warehouse.table`` (an Ibis expression), so the same query code runs on the
other Ibis backends (PostgreSQL, Spark) where a city outgrows one machine. Loads replace one
dataset's rows inside a single transaction: a failed or killed load leaves the previous state,
and loading the same file (same sha256) again changes nothing.

Examples
--------
>>> import tempfile, pathlib
>>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
>>> wh.table("observations").count().execute()
0
>>> wh.close()
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from upward.core.errors import UpwardError
from upward.sources.base import Tables
from upward.sources.schema import KEYS, TABLES

T = TypeVar("T")

_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.int8(): "TINYINT",
    pa.int64(): "BIGINT",
}

DATA_TABLES = ("observations", "geographies", "crosswalks", "geometry")


class WarehouseBusyError(UpwardError):
    """Another process holds the warehouse file.

    >>> e = WarehouseBusyError("cannot open w.duckdb: locked", fix="wait for the other command")
    >>> isinstance(e, UpwardError), str(e)
    (True, 'cannot open w.duckdb: locked. What to do: wait for the other command')
    """


class ShrinkingLoadError(UpwardError):
    """A reload would replace a dataset's rows with fewer (an empty or cut file, usually).

    >>> import tempfile
    >>> from upward.sources.schema import conform
    >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> state = pd.DataFrame({"geo_id": ["40"], "geo_level": ["state"], "name": ["Oklahoma"],
    ...                       "state_fips": ["40"], "parent_geo_id": [None], "population": [None],
    ...                       "vintage": [None], "source_id": ["d@1"]})
    >>> _ = wh.load("d", Tables(geographies=conform("geographies", state)),
    ...             {"source_id": "d@1", "dataset": "d", "sha256": "1", "rows": 1})
    >>> wh.load("d", Tables(), {"source_id": "d@2", "dataset": "d", "sha256": "2", "rows": 0})
    Traceback (most recent call last):
    ...
    upward.warehouse.store.ShrinkingLoadError: d: the new file (d@2) has 0 rows, 1 fewer than the 1 already loaded (100% less); nothing was changed...
    >>> wh.counts()["geographies"]  # the loaded row is still there
    1
    """


@dataclass(frozen=True)
class LoadResult:
    """What one load did: ``loaded`` (rows replaced) or ``unchanged`` (same file as before).

    >>> r = LoadResult("urban.place_recent", "urban.place_recent@ab12", "loaded",
    ...                {"observations": 12000, "geographies": 486})
    >>> str(r)
    'urban.place_recent: loaded (12,486 rows)'
    """

    dataset: str
    source_id: str
    status: str
    rows: dict[str, int]

    def __str__(self) -> str:
        total = sum(self.rows.values())
        return f"{self.dataset}: {self.status} ({total:,} rows)"


def create_statements() -> list[str]:
    """DDL for the canonical tables, from their declared schemas.

    >>> create_statements()[0].startswith("CREATE TABLE IF NOT EXISTS geographies")
    True
    """
    out = []
    for name, schema in TABLES.items():
        cols = ", ".join(f'"{f.name}" {_DUCK_TYPES[f.type]}' for f in schema)
        out.append(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    return out


class Warehouse:
    """A DuckDB warehouse file with the canonical tables.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "warehouse.duckdb"
    >>> with Warehouse(path) as wh:
    ...     str(wh.load("d", Tables(), {"source_id": "d@1", "dataset": "d", "sha256": "1"}))
    'd: loaded (0 rows)'
    >>> with Warehouse(path, read_only=True) as wh:
    ...     wh.sources()[["dataset", "sha256"]].values.tolist()
    [['d', '1']]
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            self._ibis = ibis.duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseBusyError(
                f"cannot open {self.path}: {exc}",
                fix="wait for the other Upward command using this workspace to finish",
            ) from None
        self._duck: duckdb.DuckDBPyConnection = self._ibis.con
        if not read_only:
            for statement in create_statements():
                self._duck.execute(statement)
        self._cache: dict[str, object] = {}

    # -- reading -----------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """An Ibis table expression over a canonical table.

        >>> import tempfile
        >>> Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb").table("sources").columns[0]
        'source_id'
        """
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        return self._ibis.table(name)

    def frame(self, expr: ibis.Table) -> pd.DataFrame:
        """Run an Ibis expression and return pandas.

        >>> import tempfile
        >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> wh.frame(wh.table("sources")).shape[0]
        0
        """
        return expr.to_pandas()

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """A value (a frame, a report) computed once per open warehouse (invalidated by every
        load).

        >>> import tempfile
        >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> wh.cached("k", lambda: pd.DataFrame({"a": [1]})).a.tolist()
        [1]
        """
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def sources(self) -> pd.DataFrame:
        """The provenance table.

        >>> import tempfile
        >>> list(Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb").sources().columns)[:2]
        ['source_id', 'dataset']
        """
        return self.frame(self.table("sources").order_by("dataset"))

    def counts(self) -> dict[str, int]:
        """Row counts of every canonical table.

        >>> import tempfile
        >>> Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb").counts()["observations"]
        0
        """
        return {name: int(self.table(name).count().execute()) for name in TABLES}

    # -- loading -----------------------------------------------------------------------------
    def load(self, dataset: str, tables: Tables, provenance: dict, *,
             allow_shrink: bool = False) -> LoadResult:
        """Replace one dataset's rows with ``tables`` in one transaction (see ``load_many``).

        >>> import tempfile
        >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> prov = {"source_id": "d@1", "dataset": "d", "sha256": "1", "rows": 0}
        >>> wh.load("d", Tables(), prov).status, wh.load("d", Tables(), prov).status
        ('loaded', 'unchanged')
        """
        return self.load_many([(dataset, tables, provenance)], allow_shrink=allow_shrink)[0]

    def load_many(self, items: list[tuple[str, Tables, dict]], *,
                  allow_shrink: bool = False) -> list[LoadResult]:
        """Replace several datasets' rows in ONE transaction: all are stored, or none.

        Each item is (dataset key, tables, provenance), where provenance is the ``sources`` row
        and its ``source_id`` is the one the tables' rows carry. A dataset already loaded from
        a file with the same sha256 (and the same reader notes) is left as it is and reported
        ``unchanged``. A file with
        fewer rows than the one it replaces (an empty or truncated download, usually) is
        refused with :class:`ShrinkingLoadError` unless ``allow_shrink``; nothing is written.

        >>> import tempfile
        >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> items = [("a", Tables(), {"source_id": "a@1", "sha256": "1"}),
        ...          ("b", Tables(), {"source_id": "b@2", "sha256": "2"})]
        >>> [r.status for r in wh.load_many(items)]
        ['loaded', 'loaded']
        """
        # one DuckDB thread for the checks and the inserts: less CPU and less wall time than
        # two on the load's short scans and appends (measured in ``bench load``)
        with self._one_thread():
            return self._load_many(items, allow_shrink=allow_shrink)

    def _load_many(self, items: list[tuple[str, Tables, dict]], *,
                   allow_shrink: bool) -> list[LoadResult]:
        results, pending = [], []
        for dataset, tables, provenance in items:
            source_id = provenance["source_id"]
            rows = {name: len(frame) for name, frame in tables.frames().items()}
            # Same file read the same way: the notes say how the reader treated it (a rescaled
            # column, say), so a reader that changes its treatment reloads the same file.
            same = self._duck.execute(
                "SELECT count(*) FROM sources WHERE dataset = ? AND sha256 = ? "
                "AND coalesce(notes, '') = ?",
                [dataset, provenance["sha256"], provenance.get("notes") or ""],
            ).fetchone()[0]
            if same:
                results.append(LoadResult(dataset, source_id, "unchanged", rows))
                continue
            arrows = {}
            for name, frame in tables.frames().items():
                if len(frame):
                    arrows[name] = pa.Table.from_pandas(frame, schema=TABLES[name],
                                                        preserve_index=False)
                    self._check_keys(name, frame, arrows[name], source_id)
            if not allow_shrink:
                self._refuse_shrink(dataset, int(tables.rows), provenance)
            pending.append((dataset, arrows, int(tables.rows), provenance))
            results.append(LoadResult(dataset, source_id, "loaded", rows))
        if not pending:
            return results
        with self._transaction():
            for dataset, arrows, total, provenance in pending:
                self._replace(dataset, arrows, total, provenance)
        return results

    @contextmanager
    def _transaction(self):
        """One transaction: committed when the block ends, rolled back on any exception (an
        interrupt included); the read cache is dropped either way."""
        con = self._duck
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            self._cache.clear()

    def _refuse_shrink(self, dataset: str, new_rows: int, provenance: dict) -> None:
        before = self._duck.execute(
            "SELECT rows, url FROM sources WHERE dataset = ?", [dataset]).fetchone()
        if before is None or before[0] is None or new_rows >= before[0]:
            return
        old_rows = int(before[0])
        lost = old_rows - new_rows
        where = provenance.get("url") or provenance.get("source_id")
        raise ShrinkingLoadError(
            f"{dataset}: the new file ({where}) has {new_rows:,} rows, {lost:,} fewer than the "
            f"{old_rows:,} already loaded ({lost / old_rows:.0%} less); nothing was changed",
            fix="check that the file is complete (an empty or cut download, usually); to replace "
            "the data with the smaller file on purpose, fetch again with --allow-shrink")

    @contextmanager
    def _one_thread(self):
        """Load with one DuckDB thread: inserting and checkpointing Arrow data is faster
        without the threads' coordination (measured in ``bench load``)."""
        threads = self._duck.execute("SELECT current_setting('threads')").fetchone()[0]
        self._duck.execute("SET threads = 1")
        try:
            yield
        finally:
            self._duck.execute(f"SET threads = {int(threads)}")

    def _replace(self, dataset: str, arrows: dict[str, pa.Table], total: int,
                 provenance: dict) -> None:
        con = self._duck
        old = "SELECT source_id FROM sources WHERE dataset = ?"
        for name in DATA_TABLES:
            con.execute(f"DELETE FROM {name} WHERE source_id IN ({old})", [dataset])
        for name, arrow in arrows.items():
            self._insert(name, arrow)
        record = {field: provenance.get(field) for field in TABLES["sources"].names}
        record["rows"] = total
        record["dataset"] = dataset
        con.execute("DELETE FROM sources WHERE dataset = ?", [dataset])
        self._insert("sources", pa.Table.from_pylist([record], schema=TABLES["sources"]))

    def _insert(self, name: str, arrow: pa.Table) -> None:
        # Arrow's plain strings go in as they are: a cast to string views first costs more
        # than it saves (measured in ``bench load``)
        self._duck.register("incoming", arrow)
        try:
            self._duck.execute(f"INSERT INTO {name} SELECT * FROM incoming")
        finally:
            self._duck.unregister("incoming")

    def remove(self, dataset: str) -> int:
        """Delete one dataset's rows and its provenance in one transaction; rows removed.

        >>> import tempfile
        >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> wh.remove("nothing")
        0
        """
        old = "SELECT source_id FROM sources WHERE dataset = ?"
        removed = 0
        with self._transaction() as con:
            for name in DATA_TABLES:
                removed += con.execute(
                    f"SELECT count(*) FROM {name} WHERE source_id IN ({old})", [dataset]
                ).fetchone()[0]
                con.execute(f"DELETE FROM {name} WHERE source_id IN ({old})", [dataset])
            con.execute("DELETE FROM sources WHERE dataset = ?", [dataset])
        return removed

    def _check_keys(self, name: str, frame: pd.DataFrame, arrow: pa.Table,
                    source_id: str) -> None:
        """Every row carries ``source_id`` and no two rows share a key. DuckDB compares the
        count of rows with the count of distinct key hashes; only when they differ (a
        duplicate, or a hash collision) does it group by the key itself, and the frame is
        searched only to name the first duplicate."""
        wrong = pc.not_equal(arrow["source_id"], source_id)
        if pc.any(pc.fill_null(wrong, True)).as_py():
            first = frame["source_id"][frame["source_id"] != source_id].iloc[0]
            raise ValueError(f"{name} rows carry source_id {first!r}, expected {source_id!r}")
        # source_id is the same on every row (just checked), so it is left out of the key
        keys = ", ".join(f'"{k}"' for k in KEYS[name] if k != "source_id")
        self._duck.register("incoming", arrow)
        try:
            rows, distinct = self._duck.execute(
                f"SELECT count(*), count(DISTINCT hash({keys})) FROM incoming").fetchone()
            repeated = rows != distinct and self._duck.execute(
                f"SELECT 1 FROM incoming GROUP BY {keys} HAVING count(*) > 1 LIMIT 1"
            ).fetchone()
        finally:
            self._duck.unregister("incoming")
        if repeated:
            _raise_duplicate(name, frame, source_id)

    def has_table(self, name: str) -> bool:
        """Whether the warehouse holds a table of this name (tables other modules own, such as
        the feeds', are made on first use).

        >>> import tempfile
        >>> wh = Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> wh.has_table("observations"), wh.has_table("feed_records")
        (True, False)
        """
        return bool(self._duck.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0])

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """The rows of a read-only SQL query as a DataFrame.

        >>> import tempfile
        >>> Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb").sql("SELECT ? AS x", [3]).x.tolist()
        [3]
        """
        return self._duck.execute(query, params or []).df()

    def execute(self, statement: str, params: list | None = None) -> None:
        """Run one SQL statement (DDL or a write inside :meth:`transaction`)."""
        self._duck.execute(statement, params or [])

    def transaction(self):
        """One transaction for a module that writes tables of its own: committed when the
        block ends, rolled back on any exception."""
        return self._transaction()

    def single_threaded(self):
        """Load with one DuckDB thread (see ``load_many``)."""
        return self._one_thread()

    def append(self, name: str, arrow: pa.Table) -> None:
        """Append Arrow rows to a table (inside :meth:`transaction` for all-or-nothing)."""
        self._insert(name, arrow)

    def checkpoint(self) -> None:
        """Write the WAL into the database file.

        >>> import tempfile
        >>> Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb").checkpoint()
        """
        with self._one_thread():
            self._duck.execute("CHECKPOINT")

    def close(self) -> None:
        """Close the connection.

        >>> import tempfile
        >>> Warehouse(Path(tempfile.mkdtemp()) / "w.duckdb").close()
        """
        self._ibis.disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raise_duplicate(name: str, frame: pd.DataFrame, source_id: str) -> None:
    dup = frame.duplicated(list(KEYS[name]))
    row = frame[dup].iloc[0]
    key = ", ".join(f"{k}={row[k]}" for k in KEYS[name])
    raise UpwardError(f"{source_id}: two {name} rows have the same key ({key})",
                      fix="remove the duplicate rows from the file")
