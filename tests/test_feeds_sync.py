"""`upward sync`: incremental, idempotent, resumable after kill -9, never half-loaded; and every
kind of bad feed (HTML page, 429/5xx mid-pagination, changed schema, duplicate ids, clocks
going backwards) gives a clear message and leaves the warehouse as it was.

The rows are the recorded SODA bicycle-count rows (tests/data/feeds) with synthetic system
fields ``:id`` / ``:updated_at`` (see test_feeds_sources.bike_rows).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from tests.conftest import REPO, run_cli
from tests.support.feed_server import FakePortal, serve_portal
from tests.test_feeds_sources import BIKE_TYPES, bike_rows

from upward.sources.feeds import FeedClockError, FeedDuplicateError, FeedError, FeedSchemaError
from upward.warehouse.feeds import feed_status, sync_feed
from upward.warehouse.workspace import Workspace


def workspace(tmp_path: Path, url: str, **extra) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    options = {"platform": "socrata", "url": url, "dataset": "bk12-cnts", "page_size": 15,
               "fields": ["counts", "date"], "schedule": "daily", **extra}
    lines = ["", "[feeds.bikes]"] + [f"{k} = {json.dumps(v)}" for k, v in options.items()]
    with ws.settings_path.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    text = ws.settings_path.read_text().replace("retries = 4", "retries = 2").replace(
        "backoff = 0.5", "backoff = 0.0")
    ws.settings_path.write_text(text)
    return Workspace.open(ws.root)


def portal_with(rows=None) -> FakePortal:
    return FakePortal(socrata={"bk12-cnts": rows if rows is not None else bike_rows()},
                      socrata_types={"bk12-cnts": dict(BIKE_TYPES)})


def stored(ws: Workspace) -> tuple[list, list, list]:
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables"
                                            ).fetchall()}
        rec = con.execute("select record_id, updated_at from feed_records order by record_id"
                          ).fetchall() if "feed_records" in tables else []
        src = con.execute("select source_id, url, rows, sha256 from sources where dataset = "
                          "'feeds.bikes'").fetchall()
        state = con.execute("select watermark, last_error from feed_state").fetchall() \
            if "feed_state" in tables else []
    finally:
        con.close()
    return rec, src, state


def test_sync_loads_with_provenance_then_pulls_only_what_changed_and_is_idempotent(tmp_path):
    rows = bike_rows()
    portal = portal_with(rows[:30])
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        first = sync_feed(ws, "bikes")
        assert (first.received, first.total, first.pages) == (30, 30, 3)
        again = sync_feed(ws, "bikes")
        assert (again.received, again.total) == (0, 30)
        rec, src, state = stored(ws)
        assert "%3Aupdated_at+%3E" in portal.requests[-1]  # the second pull was incremental
        portal.socrata["bk12-cnts"] = rows  # 11 rows more, and one of the first updated
        rows[3] = {**rows[3], "counts": "999", ":updated_at": "2016-10-03T00:00:00.000Z"}
        third = sync_feed(ws, "bikes")
    assert (third.received, third.total) == (12, 41)
    rec, src, state = stored(ws)
    assert len(rec) == 41 and len({r[0] for r in rec}) == 41
    assert state == [("2016-10-03T00:00:00.000Z", None)]
    source_id, address, n, sha = src[0]
    assert source_id.startswith("feeds.bikes@") and n == 41 and len(sha) == 64
    assert address.startswith("http://127.0.0.1:") and "$where" in address
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    record = json.loads(con.execute("select record from feed_records where record_id = "
                                    "'row-0003'").fetchone()[0])
    con.close()
    assert record["counts"] == "999"


def test_429_and_503_mid_pagination_are_retried_honouring_retry_after(tmp_path):
    portal = portal_with()
    portal.faults = {2: (429, {"Retry-After": "0"}, b'{"message": "slow down"}'),
                     4: (503, {}, b"")}
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        result = sync_feed(ws, "bikes")
    assert result.total == 41 and len(portal.requests) == 5


def test_a_feed_failing_mid_pull_loads_nothing_and_the_next_sync_resumes_at_that_page(tmp_path):
    portal = portal_with()
    portal.faults = {n: (503, {"Retry-After": "0"}, b"") for n in (2, 3, 4)}  # page 2, 3 tries
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        with pytest.raises(FeedError, match=r"page 2 \(offset 15\).*3 attempts.*answered 503.*"
                                            "nothing was loaded"):
            sync_feed(ws, "bikes")
        rec, src, state = stored(ws)
        assert rec == [] and src == [] and "answered 503" in state[0][1]
        assert feed_status(ws).iloc[0]["alarm"] == "error"
        asked = len(portal.requests)
        result = sync_feed(ws, "bikes")
    assert result.total == 41 and result.resumed_pages == 1
    resumed = portal.requests[asked:]
    assert not any("%24offset=0&" in q or q.endswith("%24offset=0") for q in resumed)
    assert feed_status(ws).iloc[0]["alarm"] == ""


def test_an_html_page_instead_of_json_is_refused_by_name_and_nothing_is_loaded(tmp_path):
    portal = portal_with()
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        sync_feed(ws, "bikes")
        before = stored(ws)
        portal.socrata["bk12-cnts"] = bike_rows() + [{**bike_rows()[0], ":id": "row-new",
                                                      ":updated_at": "2017-01-01T00:00:00Z"}]
        n = len(portal.requests)
        portal.html_at = {n + 1, n + 2, n + 3}
        with pytest.raises(FeedError, match=r"HTML page \(status 200, \"503 Service Temporarily"):
            sync_feed(ws, "bikes")
    after = stored(ws)
    assert after[0] == before[0] and after[1] == before[1]


def test_a_declared_column_missing_is_a_schema_error_and_an_added_one_an_alarm(tmp_path):
    portal = portal_with()
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        sync_feed(ws, "bikes")
        before = stored(ws)
        types = portal.socrata_types["bk12-cnts"]
        types["district"] = "text"
        new = {**bike_rows()[0], ":id": "row-new", ":updated_at": "2017-01-01T00:00:00Z",
               "district": "3"}
        portal.socrata["bk12-cnts"].append(new)
        result = sync_feed(ws, "bikes")
        assert result.schema_note == "added district"
        status = feed_status(ws).iloc[0]
        assert (status["alarm"], status["reason"]) == ("schema changed", "added district")
        del types["counts"]
        portal.socrata["bk12-cnts"] = [{k: v for k, v in r.items() if k != "counts"} | {
            ":updated_at": "2018-01-01T00:00:00Z"} for r in portal.socrata["bk12-cnts"]]
        with pytest.raises(FeedSchemaError, match=r"no longer has the column 'counts' that "
                                                  r"upward.toml names.*nothing was loaded"):
            sync_feed(ws, "bikes")
    rec, _, _ = stored(ws)
    assert len(rec) == 42 and len(before[0]) == 41


def test_a_record_repeated_across_pages_is_pulled_again_then_refused_if_it_persists(tmp_path):
    rows = bike_rows()
    portal = portal_with(rows)

    def touch_row_2(number: int) -> None:
        # while page 1 is being read, row 2 is edited: it moves to the end of the
        # :updated_at order, so offset paging serves it on page 1 and again on page 3
        if number == 1 and not portal.requests[1:]:
            rows[2] = {**rows[2], ":updated_at": "2017-01-01T00:00:00Z"}

    portal.after_request = touch_row_2
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        result = sync_feed(ws, "bikes")
        assert result.total == 41 and len(portal.requests) == 6  # 3 pages, twice
        portal.after_request = None
        ws2 = workspace(tmp_path / "b", url, id_column="id", updated_column="date")
        with pytest.raises(FeedDuplicateError, match=r"record id '100009424' \(column 'id'\) "
                                                     r"came 41 times.*even after pulling again"):
            sync_feed(ws2, "bikes")
    assert stored(ws2)[0] == []


def test_clock_going_backwards_is_refused_on_the_machine_and_in_the_feed(tmp_path):
    rows = bike_rows()
    portal = portal_with(rows[:20])
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        sync_feed(ws, "bikes")
        before = stored(ws)
        past = datetime.now(UTC) - timedelta(hours=3)
        with pytest.raises(FeedClockError, match=r"clock says .* before the last successful sync"):
            sync_feed(ws, "bikes", now=lambda: past)
        # the portal restores an old copy: stamps older than the watermark come back
        portal.socrata["bk12-cnts"] = [{**r, ":updated_at": "2099-01-01T00:00:00Z"} if i == 0
                                       else r for i, r in enumerate(rows[:20])]
        sync_feed(ws, "bikes")
        mid = stored(ws)
        portal.socrata["bk12-cnts"] = rows[:20]
        from tests.support import feed_server

        original = feed_server._Handler._socrata

        def ignore_where(self, path, params):
            params.pop("$where", None)
            original(self, path, params)

        feed_server._Handler._socrata = ignore_where
        try:
            with pytest.raises(FeedClockError, match=r"older stamp.*upward sync bikes --full"):
                sync_feed(ws, "bikes")
        finally:
            feed_server._Handler._socrata = original
    assert len(before[0]) == 20 and stored(ws)[:2] == mid[:2]


def test_kill_9_during_a_sync_leaves_nothing_half_loaded_and_the_next_sync_resumes(tmp_path):
    rows = bike_rows()
    portal = portal_with(rows)
    gate = {"hold": True}

    def slow_third_page(number: int) -> None:
        while number == 2 and gate["hold"]:  # keep the sync waiting after page 2 is answered
            time.sleep(0.05)

    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        portal.after_request = slow_third_page
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
        proc = subprocess.Popen([sys.executable, "-m", "upward", "sync", "bikes", "-w",
                                 str(ws.root)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        staged = ws.cache_dir / "feeds" / "bikes" / "pending"
        deadline = time.monotonic() + 120
        while not (staged / "page-00001.json").is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (staged / "page-00001.json").is_file(), "the sync never staged page 1"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        gate["hold"] = False
        portal.after_request = None
        rec, src, state = stored(ws)
        assert rec == [] and src == [] and state == []
        asked = len(portal.requests)
        result = sync_feed(ws, "bikes")
    assert result.total == 41 and result.resumed_pages >= 1
    assert not any(q.endswith("%24offset=0") for q in portal.requests[asked:])
    assert not staged.exists()


def test_cli_sync_feeds_and_watch(tmp_path):
    portal = portal_with()
    with serve_portal(portal) as url:
        ws = workspace(tmp_path, url)
        r = run_cli("feeds", "-w", str(ws.root))
        assert r.returncode == 0 and "NEVER SYNCED" in r.stdout
        r = run_cli("sync", "--watch", "--cycles", "2", "--tick", "0", "-w", str(ws.root))
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("bikes: 41 records received") == 1  # the second look: not due
        r = run_cli("feeds", "-w", str(ws.root))
        assert "41" in r.stdout and " ok" in r.stdout
        r = run_cli("sync", "nosuch", "-w", str(ws.root))
        assert r.returncode != 0 and "no feed 'nosuch'" in r.stderr
    later = datetime.now(UTC) + timedelta(days=3)
    status = feed_status(ws, now=lambda: later).iloc[0]
    assert status["alarm"] == "stale" and "schedule daily" in status["reason"]


def test_a_bad_feed_declaration_names_the_setting(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    with ws.settings_path.open("a") as f:
        f.write('\n[feeds.permits]\nplatform = "socrata"\nurl = "https://data.x.gov"\n'
                'dataset = "ab12-cd34"\nschedule = "sometimes"\n')
    r = run_cli("feeds", "-w", str(ws.root))
    assert r.returncode != 0 and "feeds.permits.schedule" in r.stderr


def test_fetch_feeds_points_to_upward_sync(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    r = run_cli("fetch", "feeds", "-w", str(ws.root))
    assert r.returncode != 0 and "upward sync" in r.stderr and "[feeds.NAME]" in r.stderr
