"""Every public docstring's example runs (numpy-style examples are part of the API docs)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import upward

MODULES = sorted(m.name for m in pkgutil.walk_packages(upward.__path__, "upward.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that make files make them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"
