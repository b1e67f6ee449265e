"""A real PostgreSQL server for the shared-server tests.

``$UPWARD_TEST_POSTGRES_DSN`` (set by ``.ci/run``) names a running server whose user may
create databases; otherwise, when ``initdb`` and ``pg_ctl`` are on the machine, a throwaway
cluster is started in a temporary folder (as the ``postgres`` user when running as root, since
PostgreSQL refuses to run as root) and stopped at exit. Each test gets a fresh database.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

DSN_ENV = "UPWARD_TEST_POSTGRES_DSN"
BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in BIN_DIRS:
        if (Path(d) / name).is_file():
            return str(Path(d) / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL")
    return [runuser, "-u", "postgres", "--"]


def start_cluster() -> tuple[str, callable]:
    """Start a throwaway cluster; (its DSN, a function that stops it)."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise FileNotFoundError("initdb/pg_ctl not found")
    tmp = Path(tempfile.mkdtemp(prefix="upward-pg-"))
    data = tmp / "data"
    prefix = _as_user()
    if prefix:
        shutil.chown(tmp, "postgres")
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "upward",
                    "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
    port = _free_port()
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(tmp / "log"), "-w", "-o",
                    f"-k {tmp} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                    "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    return f"postgresql://upward@127.0.0.1:{port}/postgres", stop


_SERVER: dict[str, str] = {}


def server_dsn() -> str | None:
    """The DSN of the test server (the environment's, or one started for this process), or
    None when there is none and none can be started."""
    if os.environ.get(DSN_ENV):
        return os.environ[DSN_ENV]
    if "dsn" not in _SERVER:
        try:
            dsn, stop = start_cluster()
        except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError):
            _SERVER["dsn"] = ""
        else:
            atexit.register(stop)
            _SERVER["dsn"] = dsn
    return _SERVER["dsn"] or None


def fresh_database(dsn: str) -> str:
    """A new, empty database on the server at ``dsn``; its DSN."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return dsn.rsplit("/", 1)[0] + "/" + name
