"""The download layer against a real local HTTP server: resume, retries, cache, checks."""

from __future__ import annotations

import hashlib
import json
import random
import socket
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from upward.core.errors import DownloadError
from upward.sources.http import Download, cache_path, download, sha256_file

try:
    from tests.support.http_server import serve_directory
except ImportError:  # tests/ itself on sys.path (pytest's default "prepend" import mode)
    from support.http_server import serve_directory

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FAST = {"backoff": 0.01, "timeout": 10.0}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _real_file(relative: str) -> Path:
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"real data file {path} is absent (../shared/data next to the repository)")
    return path


@pytest.fixture
def payload_dir(tmp_path: Path) -> Path:
    """A folder with a 300 kB file of pseudo-random bytes (not compressible, deterministic)."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "payload.bin").write_bytes(random.Random(20240501).randbytes(300_000))
    return root


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "workspace" / "cache"


@pytest.mark.realdata
@pytest.mark.parametrize(
    "relative",
    ["urban/mobility-metrics_place_recent.csv", "opportunity-insights/tract_kfr_rP_gP_p25.csv"],
)
def test_real_file_arrives_byte_for_byte(relative: str, cache: Path) -> None:
    original = _real_file(relative)
    expected = _sha(original.read_bytes())
    with serve_directory(DATA) as server:
        got = download(server.url(relative), cache, **FAST)
    assert isinstance(got, Download)
    assert _sha(got.path.read_bytes()) == expected
    assert got.sha256 == expected
    assert got.size == original.stat().st_size
    assert got.from_cache is False
    assert got.path == cache_path(got.url, cache)
    assert got.path.name == original.name
    assert len(got.path.parent.name) == 16
    assert got.path.parent.name == hashlib.sha256(got.url.encode()).hexdigest()[:16]
    when = datetime.fromisoformat(got.retrieved_at.replace("Z", "+00:00"))
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
    meta = json.loads(got.path.with_name(got.path.name + ".meta.json").read_text())
    assert meta["url"] == got.url and meta["sha256"] == expected and meta["size"] == got.size
    assert meta["retrieved_at"] == got.retrieved_at
    assert meta["etag"] and meta["last_modified"]
    assert not list(got.path.parent.glob("*.part*"))


def test_dropped_connection_resumes_with_range(payload_dir: Path, cache: Path) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    half = len(data) // 2
    with serve_directory(payload_dir, drop_after=half, drop_times=1) as server:
        got = download(server.url("payload.bin"), cache, **FAST)
    assert server.drops == 1
    assert server.range_headers == [f"bytes={half}-"]
    assert server.requests == 2
    assert server.bytes_sent == len(data)  # the second half only: appended, not started over
    assert got.sha256 == _sha(data)
    assert got.path.read_bytes() == data


def test_dropped_connection_on_real_file_resumes(cache: Path) -> None:
    relative = "urban/mobility-metrics_place_recent.csv"
    original = _real_file(relative)
    size = original.stat().st_size
    with serve_directory(DATA, drop_after=size // 3, drop_times=2) as server:
        got = download(server.url(relative), cache, **FAST)
    assert server.range_headers == [f"bytes={size // 3}-", f"bytes={2 * (size // 3)}-"]
    assert got.sha256 == sha256_file(original)


def test_server_ignoring_range_restarts_from_scratch(payload_dir: Path, cache: Path) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    cut = len(data) // 3
    with serve_directory(payload_dir, drop_after=cut, ignore_range=True) as server:
        got = download(server.url("payload.bin"), cache, **FAST)
    assert server.range_headers == [f"bytes={cut}-"]  # it asked for the rest ...
    assert server.bytes_sent == cut + len(data)  # ... and got (and kept only) the whole file
    assert got.path.read_bytes() == data
    assert got.sha256 == _sha(data)


def test_503_twice_then_ok(payload_dir: Path, cache: Path) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    with serve_directory(payload_dir, fail_first=2) as server:
        got = download(server.url("payload.bin"), cache, **FAST)
    assert server.requests == 3
    assert got.path.read_bytes() == data


class _Sleeps:
    """Stands for the ``time`` module in ``upward.sources.http``: records the waits asked
    instead of sleeping (everything else is the real ``time``)."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def sleeps(monkeypatch) -> _Sleeps:
    clock = _Sleeps()
    monkeypatch.setattr("upward.sources.http.time", clock)
    return clock


def test_long_retry_after_is_not_honoured(payload_dir: Path, cache: Path, sleeps) -> None:
    with serve_directory(payload_dir, fail_first=1, retry_after="3600") as server:
        got = download(server.url("payload.bin"), cache, **FAST)
    assert sleeps.slept == [FAST["backoff"]]  # the backoff, not the hour asked
    assert server.requests == 2
    assert got.size == 300_000


def test_small_retry_after_is_honoured(payload_dir: Path, cache: Path, sleeps) -> None:
    with serve_directory(payload_dir, fail_first=1, retry_after="1") as server:
        download(server.url("payload.bin"), cache, **FAST)
    assert sleeps.slept == [pytest.approx(1.0)]  # waited the second asked, not the 0.01 s backoff


def test_503_for_ever_gives_up_with_the_status(payload_dir: Path, cache: Path) -> None:
    with serve_directory(payload_dir, fail_first=10**6) as server:
        url = server.url("payload.bin")
        with pytest.raises(DownloadError) as info:
            download(url, cache, retries=2, **FAST)
    assert server.requests == 3
    message = str(info.value)
    assert url in message and "503" in message and "3 attempts" in message
    assert "--from DIR" in message
    assert not cache_path(url, cache).exists()


def test_404_fails_at_once_naming_the_url(payload_dir: Path, cache: Path, sleeps) -> None:
    with serve_directory(payload_dir, status_code_for={"/missing.csv": 404}) as server:
        url = server.url("missing.csv")
        with pytest.raises(DownloadError) as info:
            download(url, cache, retries=1, backoff=3.0)  # a retry would wait 3 s
    assert sleeps.slept == []  # no wait, no retry
    assert server.requests == 1
    message = str(info.value)
    assert url in message and "404" in message
    assert "upward fetch" in message
    assert not cache_path(url, cache).exists()


def test_always_truncating_server_fails_with_byte_counts(payload_dir: Path, cache: Path) -> None:
    with serve_directory(payload_dir, drop_after=1000, drop_times=10**6) as server:
        url = server.url("payload.bin")
        with pytest.raises(DownloadError) as info:
            download(url, cache, retries=2, **FAST)
    assert server.requests == 3
    message = str(info.value)
    assert url in message
    assert "3000 of 300000 bytes" in message  # three attempts, each resumed and cut after 1000
    final = cache_path(url, cache)
    assert not final.exists()
    assert final.with_name(final.name + ".part").stat().st_size == 3000


def test_next_call_resumes_a_part_left_by_a_failed_call(payload_dir: Path, cache: Path) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    with serve_directory(payload_dir, drop_after=1000, drop_times=2) as server:
        url = server.url("payload.bin")
        with pytest.raises(DownloadError):
            download(url, cache, retries=1, **FAST)
        assert not cache_path(url, cache).exists()
        got = download(url, cache, retries=0, **FAST)
    assert server.range_headers == ["bytes=1000-", "bytes=2000-"]
    assert server.bytes_sent == len(data)
    assert got.path.read_bytes() == data


def test_cache_hit_makes_no_request(payload_dir: Path, cache: Path) -> None:
    with serve_directory(payload_dir) as server:
        url = server.url("payload.bin")
        first = download(url, cache, **FAST)
        seen = server.requests
        second = download(url, cache, **FAST)
        assert server.requests == seen
        third = download(url, cache, refresh=True, **FAST)
        assert server.requests == seen + 1
    assert first.from_cache is False and second.from_cache is True and third.from_cache is False
    assert second.path == first.path and second.sha256 == first.sha256
    assert second.retrieved_at == first.retrieved_at


def test_corrupt_cache_file_is_downloaded_again(payload_dir: Path, cache: Path) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    with serve_directory(payload_dir) as server:
        url = server.url("payload.bin")
        first = download(url, cache, **FAST)
        damaged = bytearray(data)
        damaged[1234] ^= 0xFF  # same size, one byte flipped
        first.path.write_bytes(bytes(damaged))
        seen = server.requests
        again = download(url, cache, **FAST)
        assert server.requests == seen + 1
        first.path.write_bytes(data[:100])  # truncated cache file
        third = download(url, cache, **FAST)
        assert server.requests == seen + 2
    assert again.from_cache is False and third.from_cache is False
    assert first.path.read_bytes() == data


def test_expected_sha256_mismatch_deletes_the_file(payload_dir: Path, cache: Path) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    with serve_directory(payload_dir) as server:
        url = server.url("payload.bin")
        with pytest.raises(DownloadError) as info:
            download(url, cache, expected_sha256="0" * 64, **FAST)
        final = cache_path(url, cache)
        assert not final.exists()
        assert not final.with_name(final.name + ".part").exists()
        assert url in str(info.value) and _sha(data) in str(info.value)
        ok = download(url, cache, expected_sha256=_sha(data).upper(), **FAST)
    assert ok.path.read_bytes() == data


def test_empty_file_is_an_error(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with serve_directory(tmp_path) as server:
        url = server.url("empty.csv")
        with pytest.raises(DownloadError, match="the server sent an empty file"):
            download(url, cache, **FAST)
    assert server.requests == 1
    assert not cache_path(url, cache).parent.exists() or not any(
        cache_path(url, cache).parent.iterdir()
    )


def test_redirect_is_followed_and_cached_under_the_requested_url(
    payload_dir: Path, cache: Path
) -> None:
    data = (payload_dir / "payload.bin").read_bytes()
    with serve_directory(payload_dir, redirects={"/old/data.bin": "/payload.bin"}) as server:
        url = server.url("old/data.bin")
        got = download(url, cache, **FAST)
    assert server.paths == ["/old/data.bin", "/payload.bin"]
    assert got.path == cache_path(url, cache) and got.path.name == "data.bin"
    assert got.path.read_bytes() == data
    meta = json.loads(got.path.with_name("data.bin.meta.json").read_text())
    assert meta["final_url"] == server.url("payload.bin")


def test_timeout_is_retried(payload_dir: Path, cache: Path) -> None:
    with serve_directory(payload_dir, delay_first=1, delay=1.5) as server:
        got = download(server.url("payload.bin"), cache, backoff=0.01, timeout=0.3)
    assert server.requests == 2
    assert got.size == 300_000


def test_timeout_every_time_is_reported(payload_dir: Path, cache: Path) -> None:
    with serve_directory(payload_dir, delay_first=2, delay=1.0) as server:
        url = server.url("payload.bin")
        with pytest.raises(DownloadError, match=r"no data arrived for 0\.3 seconds"):
            download(url, cache, retries=1, backoff=0.01, timeout=0.3)


def test_unreachable_server_is_reported(cache: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/file.csv"
    with pytest.raises(DownloadError) as info:
        download(url, cache, retries=1, **FAST)
    message = str(info.value)
    assert url in message and "could not connect" in message and "--from DIR" in message


def test_progress_reports_bytes_and_total(payload_dir: Path, cache: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    with serve_directory(payload_dir, drop_after=100_000) as server:
        download(
            server.url("payload.bin"), cache, progress=lambda n, t: calls.append((n, t)), **FAST
        )
    assert calls[-1] == (300_000, 300_000)
    assert all(t == 300_000 for _, t in calls)
    assert [n for n, _ in calls] == sorted(n for n, _ in calls)  # resumed: never goes back


def test_given_client_is_used_and_left_open(payload_dir: Path, cache: Path) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]}) as client:
        with serve_directory(payload_dir) as server:
            got = download(server.url("payload.bin"), cache, client=client, **FAST)
        assert not client.is_closed
    assert seen == [server.url("payload.bin")]
    assert got.size == 300_000


def test_large_file_is_streamed_not_loaded_in_memory(tmp_path: Path, cache: Path) -> None:
    size = 64 * 2**20
    with (tmp_path / "big.bin").open("wb") as f:  # 64 MiB: a repeated random block, then zeros
        block = random.Random(7).randbytes(2**20)
        for _ in range(32):
            f.write(block)
        f.truncate(size)
    expected = sha256_file(tmp_path / "big.bin")
    with serve_directory(tmp_path, drop_after=size // 2) as server:
        tracemalloc.start()
        try:
            got = download(server.url("big.bin"), cache, **FAST)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert server.range_headers == [f"bytes={size // 2}-"]
    assert got.sha256 == expected and got.size == size
    assert peak < 8 * 2**20, f"peak Python memory {peak / 2**20:.1f} MiB for a 64 MiB download"
