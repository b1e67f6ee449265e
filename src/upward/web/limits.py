"""Load shedding: at most ``limit`` requests are worked on at once in a worker; the next one is
answered at once with 503 Service Unavailable and ``Retry-After``, instead of waiting in a queue
until its client gives up (200 clients asking for uncached profiles used to time out 80% of the
time while the queue grew). Static files are never refused: they cost nothing.

Examples
--------
>>> import asyncio
>>> async def app(scope, receive, send):
...     await send({"type": "http.response.start", "status": 200, "headers": []})
...     await send({"type": "http.response.body", "body": b"ok"})
>>> sent = []
>>> async def send(message):
...     sent.append(message)
>>> limited = ConcurrencyLimit(app, limit=1)
>>> from concurrent.futures import ThreadPoolExecutor
>>> with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever this thread runs
...     pool.submit(asyncio.run, limited({"type": "http", "path": "/"}, None, send)).result()
>>> sent[0]["status"], limited.in_flight
(200, 0)
"""

from __future__ import annotations

import json
import os

#: Requests a worker works on at once before it answers 503 (``UPWARD_MAX_IN_FLIGHT``).
DEFAULT_LIMIT = 24
#: Seconds a refused client is told to wait.
RETRY_AFTER_SECONDS = 2
NEVER_REFUSED = ("/static/",)


def limit_from_environment() -> int:
    """``UPWARD_MAX_IN_FLIGHT`` as a whole number ≥ 1, else :data:`DEFAULT_LIMIT`.

    >>> limit_from_environment() >= 1
    True
    """
    text = os.environ.get("UPWARD_MAX_IN_FLIGHT", "")
    return int(text) if text.isdigit() and int(text) >= 1 else DEFAULT_LIMIT


class ConcurrencyLimit:
    """ASGI middleware counting the requests in progress; over ``limit``, a 503 with
    ``Retry-After`` (JSON for ``/api/``, a short page otherwise).

    >>> from starlette.applications import Starlette
    >>> from starlette.responses import PlainTextResponse
    >>> from starlette.routing import Route
    >>> from starlette.testclient import TestClient
    >>> app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    >>> limited = ConcurrencyLimit(app, limit=1)
    >>> TestClient(limited).get("/").text, limited.in_flight
    ('ok', 0)
    """

    def __init__(self, app, limit: int = DEFAULT_LIMIT,
                 retry_after: int = RETRY_AFTER_SECONDS) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.in_flight = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(NEVER_REFUSED):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, scope, send) -> None:
        message = (f"The server is busy with {self.in_flight} requests; try again in "
                   f"{self.retry_after} seconds.")
        if scope.get("path", "").startswith("/api/"):
            body, kind = json.dumps({"detail": message}).encode(), b"application/json"
        else:
            body = (f"<!DOCTYPE html><html lang=\"en\"><title>Busy</title><p>{message}</p>"
                    "</html>").encode()
            kind = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", kind), (b"retry-after", str(self.retry_after).encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
