"""Every public docstring's example runs (numpy-style examples are part of the API docs), and
every example shows a value: an expected output that is only an object's repr
(``<function f at …>``, ``<class …>``, ``<bound method …>``) passes whatever the code does."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import pytest

import upward

MODULES = sorted(m.name for m in pkgutil.walk_packages(upward.__path__, "upward.")
                 if not m.name.endswith("__main__"))
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: An expected output that is a bare object repr asserts nothing.
BARE_REPR = re.compile(r"^\s*<(function|class|bound method|built-in function|built-in method|"
                       r"method|module|property|staticmethod|classmethod)\b[^\n]*>\s*$")


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that make files make them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=OPTIONS)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"


def bare_reprs(module) -> list[str]:
    """``name:line: source`` of each example in ``module`` whose expected output is a bare repr.

    >>> import types
    >>> m = types.ModuleType("m", '''>>> len\\n<built-in function len>\\n>>> len("ab")\\n2\\n''')
    >>> [entry.split(": ")[-1] for entry in bare_reprs(m)]
    ['len']
    """
    found = []
    for test in doctest.DocTestFinder().find(module, module.__name__):
        for example in test.examples:
            if BARE_REPR.match(example.want):
                line = (test.lineno or 0) + example.lineno + 1
                found.append(f"{test.name}:{line}: {example.source.strip()}")
    return found


@pytest.mark.parametrize("name", MODULES)
def test_examples_show_a_value(name):
    offenders = bare_reprs(importlib.import_module(name))
    assert offenders == [], ("examples whose expected output is only a repr: replace each with "
                             "a cheap call that shows a value, or remove it:\n"
                             + "\n".join(offenders))


def test_the_bare_repr_check_catches_each_form():
    for want in ("<function f at 0x7f>", "<class 'upward.x.Y'>",
                 "<bound method Y.f of <Y object at ...>>", "<function Profile.to_json at ...>"):
        assert BARE_REPR.match(want + "\n"), want
    for want in ("'<function>'", "3", "<Response [200]>\n", "[<a>, <b>]"):
        assert not BARE_REPR.match(want), want
