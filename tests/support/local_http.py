"""What the local test servers share: a quiet HTTP/1.1 handler that sends a whole answer, and a
context manager that runs a server on 127.0.0.1 (ephemeral port) in a thread.

The servers themselves (``http_server``: files with ranges and faults; ``census_server``: the
Census Data API; ``feed_server``: Socrata, ArcGIS, CKAN and USAspending) only say what to answer.

Examples
--------
>>> import urllib.request
>>> class Hello(QuietHandler):
...     def do_GET(self):
...         self.send_whole(200, b"hello", "text/plain", {"X-Test": "1"})
>>> with serve_in_thread(LocalHTTPServer(Hello)) as base:
...     with urllib.request.urlopen(base + "/") as answer:
...         (answer.read(), answer.headers["X-Test"])
(b'hello', '1')
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalHTTPServer(ThreadingHTTPServer):
    """A threading server on 127.0.0.1 at a free port; ``base_url`` is its address.

    >>> server = LocalHTTPServer(QuietHandler); server.base_url.startswith("http://127.0.0.1:")
    True
    >>> server.server_close()
    """

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no request log on the test output, and ``send_whole`` for a complete answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_whole(self, status: int, body: bytes, kind: str,
                   headers: dict[str, str] | None = None) -> None:
        """Status, ``Content-Type``, ``Content-Length``, extra headers, then the body (none
        for HEAD); a client that went away is not an error."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            with contextlib.suppress(OSError):
                self.wfile.write(body)


@contextlib.contextmanager
def serve_in_thread(server: ThreadingHTTPServer) -> Iterator[str]:
    """Serve until the block ends, then shut down and close; yields the base address."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
