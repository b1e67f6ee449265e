"""Shared fixtures: the real public files in ../shared/data and a workspace loaded from them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from tests.support.built import cached_build, copy_build, files_digest, source_digest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
HAVE_DATA = (DATA / "urban").is_dir()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason=f"real public files absent: {DATA}")

#: The ten first cities, as a user would type them, with the place GEOID the answer must be.
TEN_CITIES = {
    "Albuquerque, NM": "3502000",
    "Cincinnati, OH": "3915000",
    "Dayton, OH": "3921000",
    "Detroit city, Michigan": "2622000",
    "Lansing, MI": "2646000",
    "New Orleans, LA": "2255000",
    "Newark, NJ": "3451000",
    "Racine, WI": "5566000",
    "Rochester, NY": "3663000",
    "tulsa ok": "4075000",
}


def _build_real(target: Path) -> None:
    from upward import fetch
    from upward.sources import SOURCE_NAMES
    from upward.warehouse.workspace import Workspace

    ws = Workspace.init(target / "ws")
    fetch(ws, list(SOURCE_NAMES), from_dir=DATA)


@pytest.fixture(scope="session")
def real_workspace():
    """A workspace with every source loaded from ../shared/data, built once for all workers
    and runs while the data and the source are unchanged (tests/support/built.py). Shared:
    tests only read it (a test that writes makes its own copy with ``copy_build``)."""
    if not HAVE_DATA:
        pytest.skip(f"real public files absent: {DATA}")
    from upward.warehouse.workspace import Workspace

    built = cached_build("real", [source_digest(), files_digest(DATA)], _build_real)
    return Workspace.open(built / "ws")


@pytest.fixture(scope="session")
def real_warehouse(real_workspace):
    from upward.warehouse.store import Warehouse

    wh = Warehouse(real_workspace.warehouse_path, read_only=True)
    yield wh
    wh.close()


CHROMIUM = os.environ.get("UPWARD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    """The one headless Chromium of the session (Playwright); each test opens its own context
    (a fresh profile) in it. Playwright's sync API allows one driver per process, so every test
    that drives a browser uses this fixture and carries ``pytest.mark.xdist_group("browser")``
    (one worker runs them all)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set UPWARD_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def run_cli_subprocess(*args: str, env: dict | None = None,
                       timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m upward`` as a user would, in a subprocess (for the few tests where the
    process boundary is what is tested: the entry point, exit codes, killed processes)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "upward", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``upward ARGS`` in this process, as the entry point does (``main()``: user errors
    printed without a traceback, exit codes), with stdout, stderr and the environment isolated
    (click's ``CliRunner.isolation``). Returns what :func:`run_cli_subprocess` returns.

    An unexpected exception is printed with its traceback on stderr and exits 1, as it would
    in a real process. ``timeout`` is accepted for the same signature and not enforced.
    """
    from click.testing import CliRunner

    from upward.cli import common
    from upward.cli.main import main

    widths = common.console.width, common.err_console.width
    argv, cwd = sys.argv, os.getcwd()
    code = 0
    with CliRunner().isolation(env=env) as (out, err, _):
        # as in a process whose stdout and stderr are not terminals (common.console)
        common.console.width, common.err_console.width = 160, 80
        sys.argv = ["upward", *args]
        try:
            main()
        except SystemExit as exc:
            if isinstance(exc.code, str):
                sys.stderr.write(exc.code + "\n")
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
        finally:
            sys.argv = argv
            common.console.width, common.err_console.width = widths
            sys.stdout.flush()
            sys.stderr.flush()
            os.chdir(cwd)
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return subprocess.CompletedProcess(["upward", *args], code, stdout, stderr)


def _build_demo(target: Path) -> None:
    result = run_cli("demo", "-w", str(target / "ws"))
    if result.returncode != 0:  # not cached: every test that needs it fails with the reason
        raise RuntimeError(f"upward demo failed ({result.returncode}):\n{result.stderr}")
    (target / "demo-output.json").write_text(json.dumps(
        {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}))


def demo_build() -> Path:
    """The folder of ``upward demo -w <folder>/ws`` (run in process), built once for all
    workers and runs while the source is unchanged; ``demo-output.json`` holds what the command
    printed and its exit code. Never written to: tests work on copies (``copy_build``)."""
    return cached_build("demo", [source_digest()], _build_demo)


@pytest.fixture(scope="session")
def demo_built() -> Path:
    """See :func:`demo_build`; use ``demo_copy`` for a workspace to change."""
    return demo_build()


@pytest.fixture(scope="session")
def demo_output(demo_built) -> subprocess.CompletedProcess:
    """What ``upward demo`` printed when ``demo_built`` was made."""
    doc = json.loads((demo_built / "demo-output.json").read_text())
    return subprocess.CompletedProcess(["upward", "demo"], doc["returncode"], doc["stdout"],
                                       doc["stderr"])


@pytest.fixture(scope="session")
def demo_pilots(tmp_path_factory):
    """A workspace with the demo city's synthetic pilots evaluated, and the evaluations
    (``run_demo_pilot``), once per worker: tests using it carry
    ``pytest.mark.xdist_group("demo-pilots")`` so that one worker runs them all. Read only."""
    from upward.demo.run import run_demo_pilot
    from upward.warehouse.workspace import Workspace

    ws = Workspace.init(tmp_path_factory.mktemp("demo-pilot") / "ws")
    return ws, run_demo_pilot(ws)


@pytest.fixture
def demo_copy(demo_built, tmp_path):
    """A private copy of the demo workspace for one test."""
    from upward.warehouse.workspace import Workspace

    return Workspace.open(copy_build(demo_built / "ws", tmp_path / "demo-ws"))


@pytest.fixture(scope="module")
def demo_module_copy(demo_built, tmp_path_factory):
    """A private copy of the demo workspace shared by one module's tests."""
    from upward.warehouse.workspace import Workspace

    return Workspace.open(copy_build(demo_built / "ws", tmp_path_factory.mktemp("demo") / "ws"))
