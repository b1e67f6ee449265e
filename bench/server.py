"""The shared server's proof at full size, against a real PostgreSQL (the one named by
``$UPWARD_TEST_POSTGRES_DSN``, else a throwaway cluster started with initdb/pg_ctl):

    python -m bench.server                      # all three below
    python -m bench.server kills [--kills 20]   # kill -9 of the server under load and of
                                                # `upward users add`, then check for partial data
    python -m bench.server schema [--examples 40]   # Schemathesis over the OpenAPI schema
    python -m bench.server load [--clients 200 --seconds 60 --workers 2]

``load`` runs ``upward serve --database`` in its own process on loopback and keeps ``--clients``
concurrent clients busy for ``--seconds``: each request is a signed-in (API token) read of the
tenant's evaluations, a read of one evaluation with its result, or the public metric list. It
reports errors (any status other than 200, or a transport error), p50/p95/p99 latency and
throughput, and the same for a static stylesheet from the same server measured in the same
run with the same clients (the ratio is what the restricted path costs above bare HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.crash import (
    cli_kill_trial,
    free_port,
    kill,
    partial_data,
    server_kill_trial,
    start_server,
)
from tests.support.server import PASSWORD, make_server, pilot_csv, upload


def _server(tmp: Path):
    return make_server(tmp)


def kills(n: int) -> int:
    from upward.web.server.accounts import create_token

    with tempfile.TemporaryDirectory() as tmp:
        server = _server(Path(tmp))
        _, token = create_token(server.engine, "ana", "bench")
        rng = random.Random(2026)
        acknowledged = 0
        for i in range(n):
            acknowledged += server_kill_trial(server.workspace, server.dsn, token, rng)
            print(f"  server kill {i + 1}/{n}: {acknowledged} uploads acknowledged so far",
                  flush=True)
        for i in range(n):
            cli_kill_trial(server.dsn, rng, PASSWORD)
            print(f"  users-add kill {i + 1}/{n}", flush=True)
        problems = partial_data(server.engine)
        stored = server.count("datasets")
        print(f"kill -9: {n} server kills, {n} `upward users add` kills; {stored} program files "
              f"stored ({acknowledged} acknowledged before a kill); partial data: "
              f"{len(problems)}")
        for p in problems:
            print("  ", p)
        lost = max(0, acknowledged - stored)
        return len(problems) + lost


def schema(examples: int) -> int:
    import schemathesis
    from tests.test_server_schema import run_operations

    from upward.web.server.accounts import create_token

    with tempfile.TemporaryDirectory() as tmp:
        server = _server(Path(tmp))
        upload(server, "ana", pilot_csv())
        _, token = create_token(server.engine, "ana", "bench")
        t = time.perf_counter()
        calls, failures = run_operations(
            schemathesis.openapi.from_asgi("/openapi.json", server.app), token, examples)
        print(f"Schemathesis: {calls} requests over the OpenAPI schema in "
              f"{time.perf_counter() - t:.0f} s; failures: {len(failures)}")
        for f in failures:
            print("  ", f)
        return len(failures)


async def _run_clients(base: str, paths: list[str], headers: dict, clients: int,
                       seconds: float) -> tuple[list[float], int, list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive closes them
    # under a request the client is just sending (a client starved of CPU for 5 s otherwise
    # sees that race as a transport error).
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=2.0)
    stop_at = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=120) as client:
        async def one(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop_at:
                path = rng.choice(paths)
                t = time.perf_counter()
                try:
                    r = await client.get(path)
                    if r.status_code != 200:
                        errors.append(f"{path}: {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                latencies.append(time.perf_counter() - t)

        await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies, len(errors), errors[:5]


def _summary(name: str, latencies: list[float], errors: int, seconds: float) -> str:
    ordered = sorted(latencies)
    q = lambda p: ordered[max(0, int(p * len(ordered)) - 1)] * 1000  # noqa: E731
    return (f"{name}: {len(latencies):,} requests, {errors} errors, "
            f"{len(latencies) / seconds:,.0f}/s, p50 {statistics.median(ordered) * 1000:.0f} ms, "
            f"p95 {q(0.95):.0f} ms, p99 {q(0.99):.0f} ms")


def load(clients: int, seconds: float, workers: int) -> int:
    from upward.web.server.accounts import create_token

    with tempfile.TemporaryDirectory() as tmp:
        server = _server(Path(tmp))
        d = upload(server, "ana", pilot_csv(200)).json()
        c = server.client("ana")
        e = c.post(f"/api/t/tulsa/programs/{d['id']}/evaluations",
                   json={"design": "rct", "outcome": "y", "treatment": "treated"},
                   headers={"X-CSRF-Token": server.csrf(c)}).json()
        _, token = create_token(server.engine, "ana", "load")
        server.engine.dispose()
        port = free_port()
        proc = start_server(server.workspace, server.dsn, port, workers=workers)
        base = f"http://127.0.0.1:{port}"
        try:
            paths = ["/api/t/tulsa/evaluations", f"/api/t/tulsa/evaluations/{e['id']}",
                     "/api/metrics"]
            auth = {"Authorization": f"Bearer {token}"}
            asyncio.run(_run_clients(base, paths, auth, 20, 3))  # warm-up
            lat, errors, sample = asyncio.run(_run_clients(base, paths, auth, clients, seconds))
            ref_lat, ref_errors, _ = asyncio.run(_run_clients(
                base, ["/static/upward.css"], {}, clients, min(seconds, 15)))
        finally:
            kill(proc)
        print(f"{clients} clients for {seconds:.0f} s on loopback, {workers} workers:")
        print("  " + _summary("restricted API + public metrics", lat, errors, seconds))
        print("  " + _summary("static stylesheet (reference)", ref_lat, ref_errors,
                              min(seconds, 15)))
        p95 = sorted(lat)[int(0.95 * len(lat)) - 1]
        ref95 = sorted(ref_lat)[int(0.95 * len(ref_lat)) - 1]
        print(f"  p95 ratio restricted/static: {p95 / ref95:.1f}×")
        for s in sample:
            print("   error:", s)
        return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("what", nargs="?", default="all", choices=["all", "kills", "schema",
                                                                   "load"])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    bad = 0
    if args.what in ("all", "kills"):
        bad += kills(args.kills)
    if args.what in ("all", "schema"):
        bad += schema(args.examples)
    if args.what in ("all", "load"):
        bad += load(args.clients, args.seconds, args.workers)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
