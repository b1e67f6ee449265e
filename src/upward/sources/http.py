"""Downloads for the sources: HTTP(S) into the workspace cache, with resume, retries and checks.

A file is fetched once into ``cache_dir/<key>/<name>``, where ``key`` is the first 16 hex digits
of the sha256 of the URL and ``name`` is the file name of the URL path. It is written to
``<name>.part`` and renamed into place (``os.replace``) only when it is complete and verified, so
nothing half-written ever sits at the final path. ``<name>.meta.json`` next to it records the
URL, sha256, size, retrieval time and the server's ETag / Last-Modified.

A dropped connection leaves the ``.part`` file; the next attempt (or the next call) asks the
server for the rest with ``Range: bytes=N-`` and appends, or starts over when the server sends
the whole file instead.

Examples
--------
>>> from pathlib import Path
>>> cache_path("https://example.org/data/file.csv?v=2", Path("cache")).name
'file.csv'
>>> d = download("https://example.org/data/file.csv", Path("cache"))  # doctest: +SKIP
>>> d.from_cache, d.size  # doctest: +SKIP
(False, 322016)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from upward.core.atomic import atomic_write
from upward.core.errors import ConfigError, DownloadError

__all__ = ["Download", "cache_path", "download", "sha256_file"]

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 16
"""Bytes read from disk at a time when hashing a file."""

KEY_LENGTH = 16
"""Hex digits of the URL's sha256 that name its cache folder."""

MAX_RETRY_AFTER = 30.0
"""Longest ``Retry-After`` (seconds) that is honoured; a longer one falls back to the backoff."""

_FIX = (
    "check the network connection and try again later, or download the file yourself and "
    "load it with `upward fetch ... --from DIR`, where DIR is the folder that holds the copy"
)
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Download:
    """A file in the download cache and where it came from.

    Attributes
    ----------
    path : Path
        The complete, verified file in the cache.
    url : str
        The address it was requested from (before redirects).
    sha256 : str
        Hex sha256 of the file's bytes.
    size : int
        Size in bytes.
    retrieved_at : str
        When it was downloaded, ISO 8601 in UTC (for a cache hit: when it was first downloaded).
    from_cache : bool
        True when no request was made because the cache already held the file.

    Examples
    --------
    >>> d = Download(Path("f.csv"), "https://example.org/f.csv", "ab" * 32, 10,
    ...              "2024-05-01T12:00:00Z", from_cache=True)
    >>> d.size, d.from_cache
    (10, True)
    """

    path: Path
    url: str
    sha256: str
    size: int
    retrieved_at: str
    from_cache: bool


def cache_path(url: str, cache_dir: Path) -> Path:
    """Where the download of ``url`` lives in ``cache_dir`` (whether or not it exists yet).

    Parameters
    ----------
    url : str
        The address of the file.
    cache_dir : Path
        The cache folder of the workspace.

    Returns
    -------
    Path
        ``cache_dir/<first 16 hex digits of sha256(url)>/<file name from the URL path>``.

    Examples
    --------
    >>> p = cache_path("https://example.org/a/b%20c.csv", Path("cache"))
    >>> p.parent.parent.as_posix(), len(p.parent.name), p.name
    ('cache', 16, 'b_c.csv')
    """
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:KEY_LENGTH]
    return Path(cache_dir) / key / _file_name(url)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (large files are never loaded in memory).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "x.txt"
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    return _hash_file(Path(path)).hexdigest()


def download(
    url: str,
    cache_dir: Path,
    *,
    retries: int = 4,
    backoff: float = 0.5,
    timeout: float = 60.0,
    expected_sha256: str | None = None,
    client: httpx.Client | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    refresh: bool = False,
) -> Download:
    """Download ``url`` into the cache, or return the cached copy.

    Parameters
    ----------
    url : str
        Address of the file (https, or any scheme httpx supports). Redirects are followed.
    cache_dir : Path
        The cache folder of the workspace; created when missing.
    retries : int
        How many times to try again after a failed attempt (connection error, timeout,
        truncated body, 5xx, 408 or 429). Other 4xx answers fail at once.
    backoff : float
        Seconds before the first retry; doubled for each further retry. A ``Retry-After`` of at
        most ``MAX_RETRY_AFTER`` seconds sent by the server is used instead.
    timeout : float
        Seconds to wait for a connection or for the next piece of data.
    expected_sha256 : str, optional
        The file's known sha256; a different download is deleted and raises.
    client : httpx.Client, optional
        Client to use (for shared settings or connection reuse); by default one is made.
    progress : callable, optional
        Called as ``progress(bytes_so_far, total_bytes_or_None)`` while data arrives.
    refresh : bool
        Download again even when the cache holds the file (the old copy stays until the new
        one is complete).

    Returns
    -------
    Download
        The file's path in the cache and its provenance.

    Raises
    ------
    DownloadError
        When every attempt failed, the server refused the request, sent an empty file, or the
        file's sha256 is not ``expected_sha256``. The message names the URL and what happened.

    Examples
    --------
    >>> d = download("https://example.org/data/file.csv", Path("ws/cache"))  # doctest: +SKIP
    >>> d.path.name, d.from_cache  # doctest: +SKIP
    ('file.csv', False)
    >>> download("https://example.org/data/file.csv", Path("ws/cache")).from_cache  # doctest: +SKIP
    True
    """
    if retries < 0:
        raise ConfigError(f"retries={retries} is negative", fix="give 0 or more retries")
    if backoff < 0:
        raise ConfigError(f"backoff={backoff} is negative", fix="give 0 or more seconds")
    if timeout <= 0:
        raise ConfigError(f"timeout={timeout} is not positive", fix="give a number of seconds > 0")
    expected = expected_sha256.strip().lower() if expected_sha256 else None

    final = cache_path(url, cache_dir)
    meta_path = _meta_path(final)
    if not refresh:
        hit = _from_cache(url, final, meta_path)
        if hit is not None and (expected is None or hit.sha256 == expected):
            return hit

    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    http = client if client is not None else _new_client(timeout)
    try:
        fetched = _fetch_with_retries(
            http, url, part, retries=retries, backoff=backoff, timeout=timeout, progress=progress
        )
    finally:
        if client is None:
            http.close()

    if expected is not None and fetched.sha256 != expected:
        _discard_part(part)
        raise DownloadError(
            f"the file downloaded from {url} has sha256 {fetched.sha256}, "
            f"not the expected {expected}; it was deleted",
            fix="the publisher may have changed the file: check the publisher's page and update "
            "the expected checksum if the new file is right, or load a known copy with "
            "`upward fetch ... --from DIR`",
        )

    os.replace(part, final)
    _part_info_path(part).unlink(missing_ok=True)
    retrieved_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta: dict[str, Any] = {
        "url": url,
        "final_url": fetched.final_url,
        "sha256": fetched.sha256,
        "size": fetched.size,
        "retrieved_at": retrieved_at,
    }
    meta.update({k: v for k, v in fetched.validators.items() if v})
    _write_json_atomic(meta_path, meta)
    return Download(
        path=final,
        url=url,
        sha256=fetched.sha256,
        size=fetched.size,
        retrieved_at=retrieved_at,
        from_cache=False,
    )


# --- internals -------------------------------------------------------------------------------


@dataclass
class _Fetched:
    sha256: str
    size: int
    final_url: str
    validators: dict[str, str | None] = field(default_factory=dict)


@dataclass
class _State:
    """What the current attempt has received, for error messages."""

    received: int = 0
    total: int | None = None


class _Retry(Exception):
    """An attempt failed in a way that another attempt may fix."""

    def __init__(
        self, problem: str, *, retry_after: float | None = None, restart: bool = False
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.restart = restart


def _new_client(timeout: float) -> httpx.Client:
    try:
        from importlib.metadata import version

        agent = f"upward/{version('upward')}"
    except Exception:
        agent = "upward"
    return httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": agent})


def _file_name(url: str) -> str:
    raw = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).lstrip(".")
    if not name:
        return "download"
    if len(name) > 120:
        suffix = Path(name).suffix[:20]
        name = name[: 120 - len(suffix)] + suffix
    return name


def _meta_path(final: Path) -> Path:
    return final.with_name(final.name + ".meta.json")


def _part_info_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _hash_file(path: Path) -> Any:
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _discard_part(part: Path) -> None:
    part.unlink(missing_ok=True)
    _part_info_path(part).unlink(missing_ok=True)


def _from_cache(url: str, final: Path, meta_path: Path) -> Download | None:
    """The cached download of ``url`` if it is there and intact; a damaged entry is removed."""
    if not final.is_file():
        return None
    meta = _read_json(meta_path)
    size = final.stat().st_size
    reason = None
    if meta is None or meta.get("url") != url:
        reason = "its metadata file is missing or unreadable"
    elif meta.get("size") != size:
        reason = f"it has {size} bytes where its metadata says {meta.get('size')}"
    elif sha256_file(final) != meta.get("sha256"):
        reason = "its sha256 differs from the one recorded when it was downloaded"
    if reason is not None or meta is None:
        log.warning("the cached copy of %s is damaged (%s); downloading it again", url, reason)
        final.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        return None
    return Download(
        path=final,
        url=url,
        sha256=str(meta["sha256"]),
        size=size,
        retrieved_at=str(meta.get("retrieved_at", "")),
        from_cache=True,
    )


def _fetch_with_retries(
    http: httpx.Client,
    url: str,
    part: Path,
    *,
    retries: int,
    backoff: float,
    timeout: float,
    progress: Callable[[int, int | None], None] | None,
) -> _Fetched:
    attempts = retries + 1
    state = _State()
    problem = "no attempt was made"
    delay = 0.0
    for attempt in range(attempts):
        if delay > 0:
            time.sleep(delay)
        wait = backoff * 2**attempt
        try:
            return _attempt(http, url, part, state, timeout=timeout, progress=progress)
        except _Retry as exc:
            problem = exc.problem
            if exc.restart:
                _discard_part(part)
                wait = 0.0
            elif exc.retry_after is not None and exc.retry_after <= MAX_RETRY_AFTER:
                wait = exc.retry_after
        except httpx.TimeoutException:
            problem = f"no data arrived for {timeout:g} seconds" + _so_far(state)
        except httpx.UnsupportedProtocol as exc:
            raise DownloadError(
                f"cannot download {url}: {exc}",
                fix="give an https:// address, or load a local copy with `upward fetch ... --from DIR`",
            ) from exc
        except httpx.TransportError as exc:
            if state.total is not None and state.received < state.total:
                problem = (
                    f"the connection was cut after {state.received} of {state.total} bytes ({exc})"
                )
            elif isinstance(exc, httpx.ConnectError):
                problem = f"could not connect to the server ({exc})"
            else:
                problem = f"the connection failed ({exc})" + _so_far(state)
        except httpx.TooManyRedirects as exc:
            raise DownloadError(f"cannot download {url}: {exc}", fix=_FIX) from exc
        except httpx.InvalidURL as exc:
            raise DownloadError(
                f"{url!r} is not a valid web address ({exc})", fix="check the address"
            ) from exc
        delay = wait
        if attempt < attempts - 1:
            log.info("download of %s failed (%s); retrying in %.2g s", url, problem, delay)
    kept = ""
    if part.is_file() and part.stat().st_size > 0:
        kept = f"; the {part.stat().st_size} bytes received are kept and the next try resumes there"
    raise DownloadError(
        f"could not download {url} after {attempts} attempt{'s' if attempts > 1 else ''}: "
        f"{problem}{kept}",
        fix=_FIX,
    )


def _so_far(state: _State) -> str:
    if state.total is not None:
        return f" (received {state.received} of {state.total} bytes)"
    if state.received:
        return f" (received {state.received} bytes)"
    return ""


def _attempt(
    http: httpx.Client,
    url: str,
    part: Path,
    state: _State,
    *,
    timeout: float,
    progress: Callable[[int, int | None], None] | None,
) -> _Fetched:
    """One request; appends to or rewrites ``part``. Raises ``_Retry`` when worth another try."""
    have = part.stat().st_size if part.is_file() else 0
    validators: dict[str, str | None] = {}
    headers = {"Accept-Encoding": "identity"}
    if have:
        info = _read_json(_part_info_path(part)) or {}
        validators = {"etag": info.get("etag"), "last_modified": info.get("last_modified")}
        headers["Range"] = f"bytes={have}-"
        etag = validators["etag"]
        if_range = etag if etag and not etag.startswith("W/") else validators["last_modified"]
        if if_range:
            headers["If-Range"] = if_range
    state.received, state.total = have, None

    with http.stream(
        "GET", url, headers=headers, timeout=timeout, follow_redirects=True
    ) as response:
        status = response.status_code
        if status == 416 and have:
            match = _UNSATISFIED_RANGE.match(response.headers.get("content-range", ""))
            if match and int(match.group(1)) == have:  # the .part already holds the whole file
                return _Fetched(_hash_file(part).hexdigest(), have, str(response.url), validators)
            raise _Retry(f"the server refused to resume at byte {have} (416)", restart=True)
        if status in (408, 429) or status >= 500:
            raise _Retry(
                f"the server answered {_status(response)}" + _so_far(state),
                retry_after=_retry_after(response),
            )
        if status not in (200, 206):
            raise DownloadError(
                f"could not download {url}: the server answered {_status(response)}",
                fix="check that the address is right (the publisher may have moved or removed "
                "the file), or download it yourself and load it with `upward fetch ... --from DIR`",
            )
        encoded = response.headers.get("content-encoding", "identity").strip().lower()
        encoded_body = encoded not in ("", "identity")
        length = None if encoded_body else _to_int(response.headers.get("content-length"))

        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if not have or encoded_body or match is None or int(match.group(1)) != have:
                raise _Retry("the server resumed at the wrong place", restart=True)
            total = None if match.group(3) == "*" else int(match.group(3))
            hasher = _hash_file(part)
            mode = "ab"
        else:  # the whole file: either no .part, or the server ignored / refused the Range
            if have:
                log.info("the server sent all of %s again; starting over", url)
            have = 0
            total = length
            hasher = hashlib.sha256()
            mode = "wb"
            validators = {
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
            }
            _write_json_atomic(_part_info_path(part), {"url": url, **validators})
        state.received, state.total = have, total

        body = 0
        with part.open(mode) as out:
            for chunk in response.iter_bytes():  # unbuffered: a cut loses nothing
                out.write(chunk)
                hasher.update(chunk)
                body += len(chunk)
                state.received += len(chunk)
                if progress is not None:
                    progress(state.received, total)

        if (length is not None and body < length) or (total is not None and state.received < total):
            expected = total if total is not None else have + (length or 0)
            raise _Retry(f"the connection was cut after {state.received} of {expected} bytes")
        if total is not None and state.received > total:
            raise _Retry(
                f"the server sent {state.received} bytes where it announced {total}", restart=True
            )
        if state.received == 0:
            _discard_part(part)
            raise DownloadError(
                f"could not download {url}: the server sent an empty file",
                fix="check the address in a browser; the publisher may be updating the file, so "
                "try again later, or load a local copy with `upward fetch ... --from DIR`",
            )
        return _Fetched(hasher.hexdigest(), state.received, str(response.url), validators)


def _status(response: httpx.Response) -> str:
    phrase = response.reason_phrase
    return f"{response.status_code} {phrase}" if phrase else str(response.status_code)


def _to_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if n >= 0 else None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delay-seconds or HTTP-date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
