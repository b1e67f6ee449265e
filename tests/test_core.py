"""The core layer: atomic writes, the workspace lock, the JSON result base, disclosure constant."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from upward.core import atomic
from upward.core.atomic import atomic_write
from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.errors import WorkspaceError
from upward.core.locks import file_lock
from upward.core.results import JsonReport


def test_atomic_write_text_and_bytes(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    assert atomic_write(path, "héllo\n") == path
    assert path.read_bytes() == "héllo\n".encode()
    atomic_write(path, b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.txt"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_mid_write_leaves_old_file_intact(tmp_path, monkeypatch, failing):
    path = tmp_path / "report.json"
    path.write_text('{"old": true}')

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, failing, boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, '{"new": true, "padding": "' + "x" * 100_000 + '"}')
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


def test_interrupted_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("old page")
    real_fdopen = os.fdopen

    class Cut:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: Cut(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, "new page " * 1000)
    assert path.read_text() == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_mode_is_applied(tmp_path):
    path = atomic_write(tmp_path / "r.html", "x", mode=0o644)
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o644


def test_lock_excludes_a_second_holder(tmp_path):
    lock = tmp_path / ".library.lock"
    order: list[str] = []
    with file_lock(lock):
        def other():
            with file_lock(lock):
                order.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        order.append("first")
    thread.join(10)
    assert order == ["first", "other"]


def test_lock_timeout_names_the_lock_file(tmp_path):
    lock = tmp_path / "evidence" / ".library.lock"
    with file_lock(lock), pytest.raises(WorkspaceError) as info, file_lock(lock, timeout=0.01):
        pass
    assert str(lock) in str(info.value) and "What to do" in str(info.value)


def test_json_report_serialises_nested_values():
    @dataclass
    class Inner:
        value: float

    @dataclass
    class Result(JsonReport):
        estimate: float
        n: np.int64
        parts: list

    r = Result(math.nan, np.int64(3), [Inner(np.float64(1.5)), Inner(math.inf)])
    assert r.to_dict() == {"estimate": None, "n": 3, "parts": [{"value": 1.5}, {"value": None}]}
    assert json.loads(r.to_json()) == r.to_dict()


def test_min_cell_size_is_the_cms_rule_everywhere():
    import inspect

    from upward.privacy import suppression
    from upward.report import disclosure

    assert MIN_CELL_SIZE == 11
    assert inspect.signature(suppression.suppress_table).parameters["k"].default == MIN_CELL_SIZE
    assert inspect.signature(disclosure.disclosure_controlled).parameters["k"].default == \
        MIN_CELL_SIZE


def test_core_is_quick_to_import():
    """Serialising a result must not pull in the warehouse (DuckDB, Ibis)."""
    import subprocess
    import sys

    code = ("import sys, upward.evaluate.result, upward.evidence.meta; "
            "print(sorted(m for m in ('duckdb', 'ibis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ})
    assert out.stdout.strip() == "[]"
