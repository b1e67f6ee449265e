"""Expensive test inputs built once and shared: by every xdist worker of a run, and by later
runs while nothing they depend on has changed.

A build lives in ``<cache>/<name>/<key>/`` where the key hashes what the build depends on (the
Upward source that builds it and, for the real-data warehouse, the size and mtime of every
shared data file). A ``filelock`` lock makes the first worker build while the others wait; a
marker file written last tells a finished build from one cut short, which is removed and
rebuilt. Builds of older keys are removed. Tests open a build read-only, or work on a copy
(:func:`copy_build`).

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> calls = []
>>> def build(target):
...     calls.append(target.name)
...     (target / "x.txt").write_text("built")
>>> first = cached_build("thing", ["v1"], build, cache=root)
>>> again = cached_build("thing", ["v1"], build, cache=root)
>>> (first == again, len(calls), (again / "x.txt").read_text())
(True, 1, 'built')
>>> newer = cached_build("thing", ["v2"], build, cache=root)
>>> (len(calls), first.exists(), newer.exists())
(2, False, True)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "upward"
#: Shared by the runs of this checkout; .pytest_cache is ignored by git.
CACHE = Path(os.environ.get("UPWARD_TEST_CACHE", REPO / ".pytest_cache" / "upward-built"))
DONE = ".built"
LIBRARIES = ("duckdb", "ibis-framework", "pyarrow", "pandas", "numpy")


@cache
def source_digest(root: Path = SRC) -> str:
    """sha256 over the path and content of every file of the package (code and data), and the
    versions of Python and of the libraries that write what is built (a DuckDB file is read
    by the DuckDB that wrote it).

    >>> len(source_digest())
    64
    """
    h = hashlib.sha256(sys.version.encode())
    for package in LIBRARIES:
        h.update(f"{package}=={importlib.metadata.version(package)}\n".encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def files_digest(root: Path) -> str:
    """sha256 over the path, size and mtime of every file under ``root``.

    >>> import tempfile
    >>> files_digest(Path(tempfile.mkdtemp())) == hashlib.sha256().hexdigest()
    True
    """
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        h.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cached_build(name: str, key_parts: Iterable[str], build: Callable[[Path], None], *,
                 cache: Path = CACHE, timeout: float = 1800) -> Path:
    """The folder of build ``name`` for ``key_parts``, built by ``build(folder)`` if needed.

    Only one process builds at a time (the others wait on the lock, up to ``timeout`` s).
    """
    key = hashlib.sha256("\0".join(key_parts).encode()).hexdigest()[:20]
    base = cache / name
    base.mkdir(parents=True, exist_ok=True)
    target = base / key
    with FileLock(str(base / ".lock"), timeout=timeout):
        if (target / DONE).is_file():
            return target
        for old in base.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
        target.mkdir()
        build(target)
        (target / DONE).write_text(key)
    return target


def copy_build(built: Path, dest: Path) -> Path:
    """A private copy of a build at ``dest`` (for tests that write to it).

    >>> import tempfile
    >>> src, tmp = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> _ = (src / "a.txt").write_text("a")
    >>> sorted(p.name for p in copy_build(src, tmp / "copy").iterdir())
    ['a.txt']
    """
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns(DONE, "*.lock"))
    return dest
