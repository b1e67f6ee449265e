"""The layers of docs/architecture.md are enforced: import-linter checks the ``layers`` contract
of pyproject.toml on the source tree, and the check is shown to catch a violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("importlinter", reason="import-linter is a dev dependency (pip install -e .[dev])")

LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the package under ``root/src`` with that tree first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_layers_contract_is_kept():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout, result.stdout


def test_a_lower_layer_importing_a_higher_one_is_caught(tmp_path):
    """Copy the tree, make ``core`` import ``web``, and the same check fails naming both."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "upward", tmp_path / "src" / "upward",
                    ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.js", "*.css"))
    target = tmp_path / "src" / "upward" / "core" / "atomic.py"
    target.write_text(target.read_text() + "\n\ndef _bad():\n    import upward.web.app  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "upward.core is not allowed to import upward.web" in result.stdout, result.stdout
