"""kill -9 trials for the shared server: a real ``upward serve --database`` process with
clients uploading and evaluating program files, or an ``upward users add`` process, killed at
a random moment; then the database must hold only whole things (used by
tests/test_server_crash.py with a few trials and by ``python -m bench.server`` with many).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(extra: dict | None = None) -> dict:
    path = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **(extra or {})}


def start_server(workspace: Path, dsn: str, port: int, workers: int = 1) -> subprocess.Popen:
    """``upward serve --database DSN`` on 127.0.0.1:PORT, answering (else RuntimeError)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "upward", "serve", "--workspace", str(workspace), "--port",
         str(port), "--database", dsn, "--workers", str(workers)],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    kill(proc)
    raise RuntimeError("the server did not answer within 180 s")


def kill(proc: subprocess.Popen) -> None:
    """kill -9 the process and its children (uvicorn workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stderr:
        proc.stderr.close()


def program_file(rng: random.Random) -> bytes:
    """A small two-arm trial with a random number of records."""
    n = rng.randint(20, 400)
    lines = ["person,treated,y"] + [
        f"P{i:05d},{i % 2},{10 + 5 * (i % 2) + rng.gauss(0, 1):.3f}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def _loader(port: int, token: str, seed: int, stop: threading.Event, sent: list) -> None:
    rng = random.Random(seed)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=30) as c:
        last = None
        while not stop.is_set():
            try:
                if last is not None and rng.random() < 0.3:
                    c.post(f"/api/t/tulsa/programs/{last}/evaluations",
                           json={"design": "rct", "outcome": "y", "treatment": "treated"})
                    continue
                content = program_file(rng)
                r = c.post("/api/t/tulsa/programs", params={"load": "true"},
                           files={"file": ("trial.csv", content, "text/csv")})
                if r.status_code == 201:
                    last = r.json()["id"]
                    sent.append(last)
            except httpx.HTTPError:
                return  # the server was killed


def server_kill_trial(workspace: Path, dsn: str, token: str, rng: random.Random,
                      clients: int = 3) -> int:
    """Start the server, load from ``clients`` threads, kill -9 it at a random moment; the
    number of uploads acknowledged before the kill."""
    port = free_port()
    proc = start_server(workspace, dsn, port)
    stop, sent = threading.Event(), []
    threads = [threading.Thread(target=_loader, args=(port, token, rng.random(), stop,
                                                      sent)) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(0.2, 2.0))
    kill(proc)
    stop.set()
    for t in threads:
        t.join()
    return len(sent)


def cli_kill_trial(dsn: str, rng: random.Random, password: str) -> None:
    """``upward users add`` killed at a random moment (start-up, migration, hashing, commit)."""
    name = f"k{rng.randrange(16**8):08x}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "upward", "users", "add", name, "--tenant",
         f"city-{rng.randrange(3)}", "--role", "analyst", "--database", dsn],
        env=_env({"UPWARD_PASSWORD": password}), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(rng.uniform(0.0, 4.0))
    kill(proc)


def partial_data(engine) -> list[str]:
    """Everything in the database that is not whole: a program file whose bytes do not match
    its checksum, size or record count, an evaluation without a result or its file, a user
    without a membership, a program file or evaluation without its audit entry."""
    import sqlalchemy as sa

    from upward.web.server.uploads import check_upload

    problems = []
    with engine.connect() as conn:
        for d in conn.execute(sa.text("select id, name, size, sha256, n_rows, content "
                                      "from datasets")):
            content = bytes(d.content)
            if len(content) != d.size or hashlib.sha256(content).hexdigest() != d.sha256:
                problems.append(f"dataset {d.id}: bytes do not match size/checksum")
                continue
            if check_upload(d.name, content, max_bytes=10**9).n_rows != d.n_rows:
                problems.append(f"dataset {d.id}: record count differs")
        for e in conn.execute(sa.text(
                "select e.id, e.result, d.id as d from evaluations e "
                "left join datasets d on d.id = e.dataset_id")):
            if e.d is None or not isinstance(e.result, dict) or "estimate" not in e.result:
                problems.append(f"evaluation {e.id}: incomplete")
        for u in conn.execute(sa.text(
                "select username from users u where not exists "
                "(select 1 from memberships m where m.user_id = u.id)")):
            problems.append(f"user {u.username}: no membership")
        for kind, table in (("dataset", "datasets"), ("evaluation", "evaluations")):
            missing = conn.execute(sa.text(
                f"select count(*) from {table} t where not exists (select 1 from audit a "
                f"where a.object_kind = '{kind}' and a.object_id = t.id::text "
                "and a.action = 'change')")).scalar_one()
            if missing:
                problems.append(f"{missing} {table} without their audit entry")
    return problems
