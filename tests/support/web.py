"""Shared by the web tests: the demo workspace (copied once per test process), one app per
workspace (so its caches warm once), and the real app served by uvicorn on a free loopback port
in a background thread.

Examples
--------
>>> free_port() > 1024
True
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from upward.warehouse.workspace import Workspace
from upward.web.app import create_app

DEMO_PLACE = "9900100"


@cache
def demo_workspace() -> Workspace:
    """The workspace ``upward demo`` makes (the city, its pilots' evaluations and the published
    studies): this process's own copy of the session's build (tests/conftest.py)."""
    from tests.conftest import demo_build
    from tests.support.built import copy_build

    root = Path(tempfile.mkdtemp(prefix="upward-web-demo-")) / "ws"
    return Workspace.open(copy_build(demo_build() / "ws", root))


_APPS: dict[Path, FastAPI] = {}


def app_for(workspace: Workspace) -> FastAPI:
    """One app per workspace for the whole test process."""
    if workspace.root not in _APPS:
        _APPS[workspace.root] = create_app(workspace)
    return _APPS[workspace.root]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(app: FastAPI, *, timeout: float = 60) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    try:
        httpx.get(base + "/static/upward.css", timeout=timeout).raise_for_status()
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
