"""Web benchmark: latency and throughput of the place overview page, the profile API and the
tracts API (values and GeoJSON) under 50 concurrent clients, against the same server serving
a static file.

    python -m bench.web                      # real workspace from ../shared/data (else the demo)
    python -m bench.web --workspace WS       # an existing workspace
    python -m bench.web --requests 3000 --clients 50

The server is ``upward serve`` in its own process (one uvicorn worker), on loopback; the
clients are one ``httpx.AsyncClient`` with as many connections as clients. Each target gets a
warm-up pass (the app caches profiles per place), then ``--requests`` timed requests cycling
through the places. The reference is a static stylesheet from the same server: the ratio says
what the page or API costs above the bare HTTP path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CITIES = ["3502000", "3915000", "3921000", "2622000", "2646000", "2255000", "3451000",
          "5566000", "3663000", "4075000"]
DEMO_PLACE = "9900100"


@dataclass(frozen=True)
class Measure:
    """Latencies of one target under load."""

    name: str
    latencies: list[float]
    seconds: float
    errors: int

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, int(0.95 * len(ordered)) - 1)] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


def _workspace(given: str | None) -> tuple[Path, list[str], str]:
    from upward.warehouse.workspace import Workspace

    if given:
        ws = Workspace.open(Path(given))
        places = CITIES if (DATA / "urban").is_dir() else [DEMO_PLACE]
        return ws.root, places, f"workspace {ws.root}"
    root = Path(tempfile.mkdtemp(prefix="bench-web-")) / "ws"
    ws = Workspace.init(root)
    if (DATA / "urban").is_dir():
        from upward import fetch
        from upward.sources import SOURCE_NAMES

        print(f"loading {DATA} into {root} …", flush=True)
        fetch(ws, list(SOURCE_NAMES), from_dir=DATA)
        return root, CITIES, "real public files (ten cities)"
    from upward.demo.run import run_demo

    print(f"{DATA} is absent: using the synthetic demo city", flush=True)
    run_demo(ws)
    return root, [DEMO_PLACE], "synthetic demo city"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(root: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "upward", "serve", "--workspace", str(root), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/upward.css", timeout=2).raise_for_status()
            return server
        except httpx.HTTPError:
            if server.poll() is not None:
                sys.exit("upward serve stopped before answering")
            time.sleep(0.3)
    server.kill()
    sys.exit("upward serve did not answer within 120 s")


async def _load(base: str, name: str, urls: list[str], n: int, clients: int) -> Measure:
    # Warm-up on its own connection: the app builds and caches each place once. (A pooled
    # connection left idle longer than uvicorn's keep-alive timeout would be closed under us.)
    with httpx.Client(base_url=base, timeout=600) as warm:
        for url in dict.fromkeys(urls):
            warm.get(url).raise_for_status()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
        latencies: list[float] = []
        errors = 0
        queue = iter(range(n))

        async def worker() -> None:
            nonlocal errors
            for i in queue:
                start = time.perf_counter()
                try:
                    response = await client.get(urls[i % len(urls)])
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return Measure(name, latencies, time.perf_counter() - start, errors)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", help="an existing workspace (default: load ../shared/data)")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per target")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    args = parser.parse_args(argv)

    root, places, what = _workspace(args.workspace)
    port = _free_port()
    server = _start(root, port)
    base = f"http://127.0.0.1:{port}"
    targets = {
        "static file /static/upward.css (reference)": ["/static/upward.css"],
        "place overview page /places/{id}": [f"/places/{p}" for p in places],
        "profile API /api/places/{id}/profile": [f"/api/places/{p}/profile" for p in places],
        "tracts API /api/places/{id}/tracts": [f"/api/places/{p}/tracts" for p in places],
    }
    try:
        results = [asyncio.run(_load(base, name, urls, args.requests, args.clients))
                   for name, urls in targets.items()]
    finally:
        server.terminate()
        server.wait(timeout=30)
    ref = results[0]
    print(f"\nweb: {what}; one uvicorn worker; {args.clients} concurrent clients on loopback; "
          f"{args.requests} requests per target after a warm-up pass")
    print(f"  {'target':<46} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'errors':>6} "
          f"{'p50 ×ref':>9} {'req/s ×ref':>11}")
    for r in results:
        print(f"  {r.name:<46} {r.p50:8.1f} {r.p95:8.1f} {r.throughput:8.0f} {r.errors:6d} "
              f"{r.p50 / ref.p50:9.1f} {r.throughput / ref.throughput:11.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
