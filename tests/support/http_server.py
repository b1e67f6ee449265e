"""A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) that serves a folder, with faults on demand.

It answers over real sockets, supports single ``Range`` requests (206 with ``Content-Range``,
``If-Range``, 416 when unsatisfiable), always sends ``Content-Length``, ``ETag`` and
``Last-Modified``, and can misbehave: drop the connection part way through a body, ignore
``Range``, answer 503 to the first requests, delay the first answers, or answer a fixed status
for some paths.

Examples
--------
>>> import tempfile, urllib.request
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = (Path(tmp) / "a.txt").write_bytes(b"hello")
...     with serve_directory(Path(tmp)) as server:
...         body = urllib.request.urlopen(server.url("a.txt")).read()
...     (body, server.requests)
(b'hello', 1)
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.support.local_http import LocalHTTPServer, QuietHandler, serve_in_thread

__all__ = ["LocalServer", "serve_directory"]

_CHUNK = 1 << 16
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass
class LocalServer:
    """The running server: its address and what it has seen.

    Attributes
    ----------
    base_url : str
        ``http://127.0.0.1:<port>``.
    requests : int
        Requests received (any method, any answer).
    range_headers : list of str
        The ``Range`` header of every request that had one, in order.
    paths : list of str
        The path of every request, in order.
    drops : int
        Connections cut part way through a body so far.
    bytes_sent : int
        Body bytes written, over all requests.

    Examples
    --------
    >>> LocalServer("http://127.0.0.1:8000").url("/x/y.csv")
    'http://127.0.0.1:8000/x/y.csv'
    """

    base_url: str
    requests: int = 0
    range_headers: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    drops: int = 0
    bytes_sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def url(self, path: str) -> str:
        """Full address of ``path`` (relative to the served folder) on this server.

        >>> LocalServer("http://127.0.0.1:1").url("a b.csv")
        'http://127.0.0.1:1/a b.csv'
        """
        return f"{self.base_url}/{path.lstrip('/')}"


@dataclass(frozen=True)
class _Config:
    root: Path
    drop_after: int | None
    drop_times: int
    ignore_range: bool
    fail_first: int
    status_code_for: dict[str, int]
    redirects: dict[str, str]
    retry_after: str | None
    delay_first: int
    delay: float


class _Server(LocalHTTPServer):
    def __init__(self, config: _Config) -> None:
        self.config = config
        super().__init__(_Handler)
        self.state = LocalServer(self.base_url)


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        cfg, state = self.server.config, self.server.state
        path = "/" + unquote(urlsplit(self.path).path).lstrip("/")
        range_header = self.headers.get("Range")
        with state._lock:
            state.requests += 1
            number = state.requests
            state.paths.append(path)
            if range_header is not None:
                state.range_headers.append(range_header)

        if number <= cfg.delay_first:
            time.sleep(cfg.delay)
        if number <= cfg.fail_first:
            extra = {"Retry-After": cfg.retry_after} if cfg.retry_after is not None else {}
            self._plain(HTTPStatus.SERVICE_UNAVAILABLE, extra)
            return
        if path in cfg.status_code_for:
            self._plain(HTTPStatus(cfg.status_code_for[path]))
            return
        if path in cfg.redirects:
            target = self.server.state.url(cfg.redirects[path])
            self._plain(HTTPStatus.FOUND, {"Location": target})
            return
        file = self._resolve(cfg.root, path)
        if file is None:
            self._plain(HTTPStatus.NOT_FOUND)
            return

        stat = file.stat()
        size = stat.st_size
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        status, start, end = HTTPStatus.OK, 0, size - 1
        if range_header is not None and not cfg.ignore_range:
            if_range = self.headers.get("If-Range")
            if if_range is None or if_range.strip() in (etag, last_modified):
                parsed = _parse_range(range_header, size)
                if parsed == "unsatisfiable":
                    self._plain(
                        HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                        {"Content-Range": f"bytes */{size}"},
                    )
                    return
                if parsed is not None:
                    status, (start, end) = HTTPStatus.PARTIAL_CONTENT, parsed
        length = end - start + 1

        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        if not cfg.ignore_range:
            self.send_header("Accept-Ranges", "bytes")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not send_body:
            return

        drop = False
        with state._lock:
            if (
                cfg.drop_after is not None
                and state.drops < cfg.drop_times
                and length > cfg.drop_after
            ):
                state.drops += 1
                drop = True
        remaining = cfg.drop_after if drop and cfg.drop_after is not None else length
        try:
            with file.open("rb") as f:  # streamed: large files are not loaded in memory
                f.seek(start)
                while remaining > 0 and (chunk := f.read(min(_CHUNK, remaining))):
                    self.wfile.write(chunk)
                    remaining -= len(chunk)
                    with state._lock:
                        state.bytes_sent += len(chunk)
            self.wfile.flush()
        except OSError:  # the client went away
            self.close_connection = True
            return
        if drop:  # the header announced more: closing now cuts the body short
            self.close_connection = True

    def _plain(self, status: HTTPStatus, headers: dict[str, str] | None = None) -> None:
        self.send_whole(status, f"{status.value} {status.phrase}\n".encode(),
                        "text/plain; charset=utf-8", headers)

    @staticmethod
    def _resolve(root: Path, path: str) -> Path | None:
        candidate = (root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """``(start, end)`` of a single byte range, ``"unsatisfiable"``, or None to send it all."""
    match = _RANGE.match(header)
    if match is None:  # multiple ranges or another unit: answer with the whole file
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


@contextlib.contextmanager
def serve_directory(
    root: Path,
    *,
    drop_after: int | None = None,
    drop_times: int = 1,
    ignore_range: bool = False,
    fail_first: int = 0,
    status_code_for: dict[str, int] | None = None,
    redirects: dict[str, str] | None = None,
    retry_after: str | None = None,
    delay_first: int = 0,
    delay: float = 0.0,
) -> Iterator[LocalServer]:
    """Serve the files under ``root`` on ``http://127.0.0.1:<free port>`` while in the block.

    Parameters
    ----------
    root : Path
        Folder whose files are served (``/a/b.csv`` is ``root/a/b.csv``).
    drop_after : int, optional
        Send the full ``Content-Length`` header but close the connection after this many body
        bytes, for the first ``drop_times`` bodies longer than that.
    drop_times : int
        How many bodies to cut short.
    ignore_range : bool
        Answer 200 with the whole file even to a ``Range`` request (and announce no ranges).
    fail_first : int
        Answer 503 to the first this many requests (counting every request).
    status_code_for : dict, optional
        Fixed status for some paths, e.g. ``{"/gone.csv": 404}``.
    redirects : dict, optional
        Paths answered with 302 to another path, e.g. ``{"/old.csv": "/new.csv"}``.
    retry_after : str, optional
        ``Retry-After`` value sent with the 503 answers of ``fail_first``.
    delay_first, delay : int, float
        Wait ``delay`` seconds before answering the first ``delay_first`` requests.

    Yields
    ------
    LocalServer
        With ``.url(path)`` and the counters ``requests``, ``range_headers``, ``paths``,
        ``drops``, ``bytes_sent``.

    Examples
    --------
    >>> import tempfile, urllib.request
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.txt").write_bytes(b"0123456789")
    ...     with serve_directory(Path(tmp)) as server:
    ...         req = urllib.request.Request(server.url("a.txt"), headers={"Range": "bytes=4-"})
    ...         with urllib.request.urlopen(req) as r:
    ...             print(r.status, r.headers["Content-Range"], r.read())
    206 bytes 4-9/10 b'456789'
    """
    config = _Config(
        root=Path(root).resolve(),
        drop_after=drop_after,
        drop_times=drop_times,
        ignore_range=ignore_range,
        fail_first=fail_first,
        status_code_for=dict(status_code_for or {}),
        redirects=dict(redirects or {}),
        retry_after=retry_after,
        delay_first=delay_first,
        delay=delay,
    )
    server = _Server(config)
    with serve_in_thread(server):
        yield server.state
