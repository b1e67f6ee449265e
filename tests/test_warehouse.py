"""The DuckDB warehouse: loads are atomic (even when the loader is killed) and idempotent."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import DATA, needs_data

from upward.sources.base import Tables
from upward.sources.schema import conform
from upward.warehouse.store import ShrinkingLoadError, Warehouse


def _observations(n: int, source_id: str, value: float = 1.0) -> pd.DataFrame:
    return conform("observations", pd.DataFrame({
        "geo_id": [f"{i:05d}" for i in range(n)], "geo_level": "county", "metric_id": "x",
        "period": "2020", "subgroup_type": "all", "subgroup": "all",
        "estimate": np.full(n, value), "lb": np.nan, "ub": np.nan, "se": np.nan,
        "quality": pd.array([pd.NA] * n, dtype="Int8"), "bounds": "none", "source_id": source_id,
    }))


def _prov(dataset: str, sha: str) -> dict:
    return {"source_id": f"{dataset}@{sha}", "dataset": dataset, "sha256": sha}


def fingerprint(path: Path) -> str:
    """A digest of every row of every table, in a stable order."""
    with Warehouse(path, read_only=True) as wh:
        digest = hashlib.sha256()
        for name in ("sources", "observations", "geographies", "crosswalks", "geometry"):
            frame = wh.frame(wh.table(name))
            frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            digest.update(name.encode())
            digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
        return digest.hexdigest()


def test_reload_of_the_same_file_changes_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        first = wh.load("d", Tables(observations=_observations(50, "d@aa")), _prov("d", "aa"))
    before = fingerprint(path)
    with Warehouse(path) as wh:
        again = wh.load("d", Tables(observations=_observations(50, "d@aa")), _prov("d", "aa"))
    assert (first.status, again.status) == ("loaded", "unchanged")
    assert fingerprint(path) == before


def test_new_version_replaces_the_old_rows(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.load("d", Tables(observations=_observations(50, "d@aa")), _prov("d", "aa"))
        with pytest.raises(ShrinkingLoadError, match="20 rows, 30 fewer than the 50"):
            wh.load("d", Tables(observations=_observations(20, "d@bb", 2.0)), _prov("d", "bb"))
        assert len(wh.frame(wh.table("observations"))) == 50
        wh.load("d", Tables(observations=_observations(20, "d@bb", 2.0)), _prov("d", "bb"),
                allow_shrink=True)
        obs = wh.frame(wh.table("observations"))
        assert len(obs) == 20 and set(obs.estimate) == {2.0}
        assert wh.sources()["source_id"].tolist() == ["d@bb"]


def test_failure_inside_a_load_rolls_everything_back(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.load("a", Tables(observations=_observations(30, "a@1")), _prov("a", "1"))
    before = fingerprint(path)
    with Warehouse(path) as wh:
        original = Warehouse._insert
        calls = []

        def failing(self, name, arrow):
            calls.append(name)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            return original(self, name, arrow)

        monkeypatch.setattr(Warehouse, "_insert", failing)
        items = [("a", Tables(observations=_observations(10, "a@2")), _prov("a", "2")),
                 ("b", Tables(observations=_observations(10, "b@3")), _prov("b", "3"))]
        with pytest.raises(RuntimeError):
            wh.load_many(items, allow_shrink=True)
    assert fingerprint(path) == before


KILLED_LOADER = textwrap.dedent("""
    import sys, time
    import numpy as np, pandas as pd
    from upward.sources.base import Tables
    from upward.sources.schema import conform
    from upward.warehouse.store import Warehouse

    n = 200_000
    obs = conform("observations", pd.DataFrame({
        "geo_id": [f"{i:07d}" for i in range(n)], "geo_level": "place", "metric_id": "y",
        "period": "2021", "subgroup_type": "all", "subgroup": "all",
        "estimate": np.arange(n, dtype=float), "lb": np.nan, "ub": np.nan, "se": np.nan,
        "quality": pd.array([pd.NA] * n, dtype="Int8"), "bounds": "none",
        "source_id": "a@new"}))
    original = Warehouse._insert
    def slow_insert(self, name, arrow):
        original(self, name, arrow)          # rows are in the open transaction now
        print("inserted", name, flush=True)
        time.sleep(60)                       # killed here
    Warehouse._insert = slow_insert
    wh = Warehouse(sys.argv[1])
    wh.load("a", Tables(observations=obs), {"source_id": "a@new", "dataset": "a", "sha256": "new"})
""")


def test_killed_loader_leaves_the_previous_state(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.load("a", Tables(observations=_observations(30, "a@old")), _prov("a", "old"))
        wh.checkpoint()
    before = fingerprint(path)
    script = tmp_path / "loader.py"
    script.write_text(KILLED_LOADER)
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    assert line.startswith("inserted observations"), line
    assert proc.poll() is None, "the loader finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert fingerprint(path) == before
    with Warehouse(path) as wh:  # and the warehouse still takes loads
        wh.load("a", Tables(observations=_observations(5, "a@next")), _prov("a", "next"),
                allow_shrink=True)
        assert wh.counts()["observations"] == 5


# `upward fetch` as a user runs it, with a hook that announces a moment of the load and then
# waits (for SIGKILL) instead of going on: the kill lands exactly there, without guessing delays.
PAUSED_FETCH = textwrap.dedent("""
    import sys
    from upward.warehouse import store

    moment, workspace, data = sys.argv[1:]

    def pause():
        print("paused", moment, flush=True)
        sys.stdin.read()                     # killed here

    load_many, insert = store.Warehouse.load_many, store.Warehouse._insert
    def paused_load_many(self, items, **options):
        if moment == "before-writing":
            pause()
        results = load_many(self, items, **options)
        if moment == "after-commit":
            pause()
        return results
    def paused_insert(self, name, arrow):
        insert(self, name, arrow)            # these rows are in the open transaction
        if moment == "mid-transaction" and name == "observations":
            pause()
    store.Warehouse.load_many, store.Warehouse._insert = paused_load_many, paused_insert

    from upward.cli.main import main
    sys.argv = ["upward", "fetch", "urban", "--from", data, "-w", workspace]
    main()
""")


@needs_data
def test_killed_fetch_command_never_leaves_half_a_load(tmp_path):
    """Kill the real `upward fetch` at several moments (read but not written, rows inserted in
    the open transaction, just after the commit): each time the warehouse holds either exactly
    the earlier state or the complete new one, and which one is known for each moment."""
    from tests.conftest import run_cli

    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    assert run_cli("fetch", "crosswalks", "--from", str(DATA), "-w", str(ws)).returncode == 0
    before = fingerprint(ws / "warehouse.duckdb")
    script = tmp_path / "paused_fetch.py"
    script.write_text(PAUSED_FETCH)
    outcomes = {}
    for moment in ("before-writing", "mid-transaction", "after-commit"):
        proc = subprocess.Popen([sys.executable, str(script), moment, str(ws), str(DATA)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        assert line.strip() == f"paused {moment}", line
        assert proc.poll() is None, "the fetch finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        proc.stdin.close()
        proc.stdout.close()
        after = fingerprint(ws / "warehouse.duckdb")
        if after == before:
            outcomes[moment] = "previous"
            continue
        with Warehouse(ws / "warehouse.duckdb", read_only=True) as wh:
            loaded = set(wh.sources()["dataset"])
            counts = wh.counts()
        assert {"urban.place_recent", "urban.county_recent",
                "urban.place_longitudinal"} <= loaded
        assert counts["observations"] > 250_000
        outcomes[moment] = "complete"
    assert outcomes == {"before-writing": "previous", "mid-transaction": "previous",
                        "after-commit": "complete"}


@needs_data
def test_fetch_itself_refuses_an_undeclared_metric_column(tmp_path):
    """The catalog gate is part of loading: ``warehouse.ingest.fetch`` (no CLI, no
    ``upward.fetch``) refuses a file with a metric column the catalog does not declare."""
    from upward.core.errors import InputFileError
    from upward.warehouse.ingest import fetch
    from upward.warehouse.workspace import Workspace

    name = "mobility-metrics_place_recent.csv"
    lines = (DATA / "urban" / name).read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    assert "share_desc_rep_hispanic" in header
    lines[0] = ",".join("share_desc_rep_latinx" if h == "share_desc_rep_hispanic" else h
                        for h in header) + "\n"
    folder = tmp_path / "in" / "urban"
    folder.mkdir(parents=True)
    (folder / name).write_text("".join(lines), encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(InputFileError) as info:
        fetch(ws, ["urban"], from_dir=tmp_path / "in")
    assert str(info.value) == (
        f"{folder / name}, row 1, column 'share_desc_rep_latinx': column "
        "'share_desc_rep_latinx' is not a metric the catalog declares (did you mean "
        "'share_desc_rep_other'?). What to do: use the publisher's column names; a new "
        "metric must first be declared in src/upward/metrics/catalog.toml")
    if ws.warehouse_path.exists():
        with Warehouse(ws.warehouse_path, read_only=True) as wh:
            assert len(wh.sources()) == 0
