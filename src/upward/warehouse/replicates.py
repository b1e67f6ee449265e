"""Variance Replicate Estimate files in the workspace: ``upward fetch replicates``.

Files are checked by reading them, then copied (or downloaded) into ``<workspace>/replicates/``
under the Census's own names (``B17020_40.csv.zip``), written to a temporary name and renamed,
so a bad file never replaces a good one. :func:`load_replicates` reads them back by table.

Examples
--------
>>> import tempfile
>>> from upward.warehouse.workspace import Workspace
>>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
>>> load_replicates(ws)
{}
"""

from __future__ import annotations

import os
import re
import shutil
from functools import lru_cache
from pathlib import Path

from upward.core.errors import ConfigError, UpwardError
from upward.sources.replicates import ReplicateTable, fetch_replicates, read_replicates
from upward.warehouse.workspace import Workspace

__all__ = ["add_replicates", "load_replicates", "replicates_dir"]

_NAME = re.compile(r"^([BC]\d{5}[A-Z]?(?:PR)?)_(\d{2})\.csv(\.zip)?$", re.IGNORECASE)


def replicates_dir(workspace: Workspace) -> Path:
    """Where the workspace keeps replicate files.

    >>> from upward.warehouse.workspace import Settings
    >>> replicates_dir(Workspace(Path("/w"), Settings())).as_posix()
    '/w/replicates'
    """
    return workspace.root / "replicates"


def add_replicates(workspace: Workspace, *, tables: list[str] | None, state: str,
                   year: int = 2023, level: str = "tract", from_dir: Path | None = None,
                   refresh: bool = False) -> list[ReplicateTable]:
    """Bring replicate files into the workspace: from ``from_dir`` (searched recursively for
    ``<TABLE>_<state>.csv[.zip]``; every table of the state when ``tables`` is None) or from
    the Census Bureau. Every file is read and checked before any is stored.

    >>> import tempfile
    >>> from upward.sources.replicates import COLUMNS, REP_COLUMNS
    >>> root = Path(tempfile.mkdtemp())
    >>> row = "B01003,1400000US99001000100,Tract 1,1,Total,100,16,+/-16,9.7," + ",".join(["101"] * 80)
    >>> _ = (root / "B01003_99.csv").write_text(",".join(COLUMNS + REP_COLUMNS) + "\\n" + row + "\\n")
    >>> ws = Workspace.init(root / "ws")
    >>> [t.table for t in add_replicates(ws, tables=["B01003"], state="99", from_dir=root)]
    ['B01003']
    >>> sorted(p.name for p in replicates_dir(ws).iterdir())
    ['B01003_99.csv']
    """
    found: list[tuple[Path, ReplicateTable]] = []
    if from_dir is not None:
        wanted = {t.upper() for t in tables} if tables else None
        for p in sorted(Path(from_dir).rglob(f"*_{state}.csv*")):
            m = _NAME.match(p.name)
            if m and (wanted is None or m.group(1).upper() in wanted):
                found.append((p, read_replicates(p)))
        missing = (wanted or set()) - {t.table for _, t in found}
        if not found or missing:
            raise UpwardError(f"no replicate file for {', '.join(sorted(missing)) or 'any table'}"
                              f" of state {state} under {from_dir}",
                              fix="point --from at the folder holding <TABLE>_<state>.csv.zip")
    else:
        if not tables:
            raise ConfigError("upward fetch replicates needs --table when downloading",
                              fix="add --table B17020 (repeatable)")
        s = workspace.settings.download
        for t in tables:
            rt = fetch_replicates(t, state, year, workspace.cache_dir, level=level,
                                  retries=s.retries, backoff=s.backoff, timeout=s.timeout,
                                  refresh=refresh)
            found.append((Path(rt.path), rt))
    folder = replicates_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    for path, t in found:
        suffix = ".csv.zip" if path.name.lower().endswith(".zip") else ".csv"
        target = folder / f"{t.table}_{state}{suffix}"
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    _read.cache_clear()
    return [t for _, t in found]


@lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> ReplicateTable:
    return read_replicates(Path(path))


def load_replicates(workspace: Workspace, tables: list[str] | None = None
                    ) -> dict[str, ReplicateTable]:
    """The workspace's replicate tables by table id (all states of a table merged).

    >>> import tempfile
    >>> from upward.sources.replicates import COLUMNS, REP_COLUMNS
    >>> root = Path(tempfile.mkdtemp())
    >>> row = "B01003,1400000US99001000100,Tract 1,1,Total,100,16,+/-16,9.7," + ",".join(["101"] * 80)
    >>> _ = (root / "B01003_99.csv").write_text(",".join(COLUMNS + REP_COLUMNS) + "\\n" + row + "\\n")
    >>> ws = Workspace.init(root / "ws")
    >>> _ = add_replicates(ws, tables=["B01003"], state="99", from_dir=root)
    >>> t = load_replicates(ws)["B01003"]
    >>> t.geo_ids, t.replicates.shape
    (['99001000100'], (1, 80))
    """
    import numpy as np
    import pandas as pd

    folder = replicates_dir(workspace)
    if not folder.is_dir():
        return {}
    by_table: dict[str, list[ReplicateTable]] = {}
    for p in sorted(folder.iterdir()):
        m = _NAME.match(p.name)
        if not m or (tables and m.group(1).upper() not in {t.upper() for t in tables}):
            continue
        by_table.setdefault(m.group(1).upper(), []).append(_read(str(p), p.stat().st_mtime))
    out = {}
    for table, parts in by_table.items():
        if len(parts) == 1:
            out[table] = parts[0]
        else:
            out[table] = ReplicateTable(table, pd.concat([t.cells for t in parts],
                                                         ignore_index=True),
                                        np.vstack([t.replicates for t in parts]),
                                        ", ".join(t.path for t in parts))
    return out
