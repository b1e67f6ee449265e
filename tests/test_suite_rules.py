"""Rules the test suite keeps so that it stays fast and means something on a busy machine:
no assertion on wall-clock time (timings live in bench/, as ratios), no test that waits by
sleeping in the test process, and the suite's options (parallel, fixed order unless
``-p randomly``) stay as the README's plain ``pytest`` expects."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CLOCKS = {"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time", "time_ns",
          "process_time"}


#: A test that asserts on elapsed time, the rule's positive example. Its assert line is
#: assembled here so that no line of this file is itself a timed assertion.
TIMED_SAMPLE = "\n".join(["import time", "t0 = time.monotonic()",
                          "elapsed = time.monotonic() - t0", " ".join(["assert", "elapsed < 1"])])


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name.startswith("test_"))


def clock_reads_in_asserts(source: str) -> list[int]:
    """Lines of ``assert`` statements that read a clock (``time.perf_counter()`` and the like,
    directly or through a name bound from one).

    >>> clock_reads_in_asserts(TIMED_SAMPLE)
    [4]
    >>> clock_reads_in_asserts("assert server.requests == 2")
    []
    """
    tree = ast.parse(source)
    timed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _reads_clock(node.value, set()):
            timed |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return sorted(node.lineno for node in ast.walk(tree)
                  if isinstance(node, ast.Assert) and _reads_clock(node.test, timed))


def _reads_clock(node: ast.AST, timed: set[str]) -> bool:
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in CLOCKS and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == "time"):
            return True
        if isinstance(sub, ast.Name) and sub.id in timed:
            return True
    return False


@pytest.mark.parametrize("path", _test_files(), ids=lambda p: p.name)
def test_no_wall_clock_assertion(path: Path) -> None:
    lines = clock_reads_in_asserts(path.read_text(encoding="utf-8"))
    assert lines == [], (f"{path.name}: assertions on elapsed time at lines {lines}; measure "
                         "it in bench/ as a ratio against a named alternative instead")


def test_the_clock_rule_catches_a_timed_assert() -> None:
    assert clock_reads_in_asserts(
        "import time\nstart = time.perf_counter()\nrun()\n"
        "elapsed = time.perf_counter() - start\nassert elapsed < 5\n") == [5]


def test_plain_pytest_runs_in_parallel_in_a_fixed_order() -> None:
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    addopts = options["addopts"].split()
    assert "-n" in addopts and "--dist" in addopts and "loadgroup" in addopts
    assert "no:randomly" in addopts  # `pytest -p randomly` turns it back on
