"""Malformed input through the upload route and the `upward users` commands: each is a clear
error (a 4xx with a message naming the problem; a non-zero exit with an `error:` line and no
traceback) and nothing is stored."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from tests.conftest import run_cli
from tests.support.server import PASSWORD, make_server

LIMIT_MB = 0.05  # 52,428 bytes: small, so "too large" is cheap to send


def _xlsx_without_sheets() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


#: (name, file name, content, words the message must contain)
UPLOADS = [
    ("empty", "p.csv", b"", "empty"),
    ("header only", "p.csv", b"id,treated,y\n", "no records"),
    ("header only, CRLF", "p.csv", b"id,treated,y\r\n", "no records"),
    ("NUL bytes", "p.csv", b"id,y\n1,\x00\x00\n", "binary"),
    ("PNG as csv", "p.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("gzip as csv", "p.csv", gzip.compress(b"id,y\n1,2\n" * 50), "binary"),
    ("PNG as txt", "p.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ("NUL in tsv", "p.tsv", b"id\ty\n\x00\n", "binary"),
    ("exe", "p.exe", b"MZ\x90\x00", "not program files"),
    ("no suffix", "pilot", b"id,y\n1,2\n", "cannot be used"),
    ("json", "p.json", b'{"id": 1}', "not program files"),
    ("yaml", "p.yaml", b"data: x.csv", "not program files"),
    ("html", "p.html", b"<html></html>", "not program files"),
    ("zip", "p.zip", b"PK\x03\x04", "not program files"),
    ("xlsx not a zip", "p.xlsx", b"id,y\n1,2\n", "not a .xlsx"),
    ("xlsm not a zip", "p.xlsm", b"garbage", "not a .xlsm"),
    ("xlsx broken zip", "p.xlsx", b"PK\x03\x04" + b"\x00" * 200, "Excel"),
    ("xlsx without sheets", "p.xlsx", _xlsx_without_sheets(), "Excel"),
    ("parquet garbage", "p.parquet", b"not parquet at all", "not a .parquet"),
    ("parquet magic only", "p.parquet", b"PAR1" + b"\x00" * 64, "Parquet"),
    ("pq garbage", "p.pq", b"nope", "not a .pq"),
    ("duplicate header", "p.csv", b"id,y,y\n1,2,3\n", "twice"),
    ("blank header", "p.csv", b"id,,y\n1,2,3\n", "no name"),
    ("spaces header", "p.csv", b" , \n1,2\n", "no name"),
    ("one column, no delimiter", "p.csv", b"id\n1\n2\n", "delimiter"),
    ("html body as csv", "p.csv", b"<html><body>hi</body></html>\n", "delimiter"),
    ("too many fields", "p.csv", b"id,y\n1,2,3,4\n", "row 2"),
    ("too few fields", "p.csv", b"id,y\n1,2\n5\n", "1 of 2 fields"),
    ("unclosed quote", "p.csv", b'id,y\n1,"2\n3,4\n', "p.csv"),
    ("only newlines", "p.csv", b"\n\n\n", "p.csv"),
    ("too large", "p.csv", b"id,y\n" + b"1,2\n" * 20_000, "more than"),
    ("one huge field", "p.csv", b"id,y\n1," + b"9" * 60_000 + b"\n", "more than"),
    ("too many columns", "p.csv", (",".join(f"c{i}" for i in range(600)) + "\n" +
                                   ",".join("1" * 600) + "\n").encode(), "columns"),
    ("traversal name", "../../etc/passwd", b"id,y\n1,2\n", "cannot be used"),
    ("dot name", ".csv", b"id,y\n1,2\n", "cannot be used"),
    ("dots only", "...", b"id,y\n1,2\n", "cannot be used"),
    ("long name", "x" * 300 + ".csv", b"id,y\n1,2\n", "cannot be used"),
    ("empty name", "", b"id,y\n1,2\n", ""),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return make_server(tmp_path_factory.mktemp("malformed"), max_upload_mb=LIMIT_MB)


@pytest.mark.parametrize(("case", "name", "content", "words"), UPLOADS,
                         ids=[u[0] for u in UPLOADS])
def test_a_malformed_upload_is_a_clear_error_and_stores_nothing(server, case, name, content,
                                                                words):
    c = server.client("ana")
    before = server.count("datasets"), server.count("audit")
    r = c.post("/api/t/tulsa/programs", files={"file": (name, io.BytesIO(content), "text/csv")},
               headers={"X-CSRF-Token": server.csrf(c)})
    assert 400 <= r.status_code < 500, r.text
    error = r.json()["error"]
    assert error["message"] and error["fix"]
    assert words.lower() in (error["message"] + error["fix"]).lower()
    assert "Traceback" not in r.text and "/tmp/" not in r.text
    assert (server.count("datasets"), server.count("audit")) == before


def test_the_upload_page_shows_the_error_and_stores_nothing(server):
    c = server.client("ana")
    before = server.count("datasets")
    r = c.post("/t/tulsa/programs", files={"file": ("p.csv", b"id,y\n", "text/csv")},
               data={"csrf": server.csrf(c)})
    assert r.status_code == 400 and "no records" in r.text and 'role="alert"' in r.text
    assert server.count("datasets") == before


@pytest.mark.parametrize("form", [{}, {"file": "not a file"}], ids=["no file", "text field"])
def test_an_upload_without_a_file_is_a_422_naming_the_field(server, form):
    c = server.client("ana")
    before = server.count("datasets")
    r = c.post("/api/t/tulsa/programs", data=form, headers={"X-CSRF-Token": server.csrf(c)})
    assert r.status_code == 422 and r.json()["error"]["parameter"] == "file"
    assert server.count("datasets") == before


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    c = server.client("ana")
    r = c.post("/api/t/tulsa/programs", content=b"x" * 200_000,
               headers={"X-CSRF-Token": server.csrf(c), "Content-Type": "multipart/form-data; "
                        "boundary=x"})
    assert r.status_code == 413 and "more than" in r.json()["error"]["message"]


#: (name, arguments after `upward users`, extra environment, words in the error)
COMMANDS = [
    ("unknown role", ["add", "zed", "--tenant", "tulsa", "--role", "owner"], {}, "not a role"),
    ("uppercase name", ["add", "Zed", "--tenant", "tulsa"], {}, "not allowed"),
    ("name with space", ["add", "z ed", "--tenant", "tulsa"], {}, "not allowed"),
    ("one-letter name", ["add", "z", "--tenant", "tulsa"], {}, "not allowed"),
    ("long name", ["add", "z" * 65, "--tenant", "tulsa"], {}, "not allowed"),
    ("traversal name", ["add", "../root", "--tenant", "tulsa"], {}, "not allowed"),
    ("bracketed name", ["add", "[bold]x[/]", "--tenant", "tulsa"], {}, "[bold]x[/]"),
    ("uppercase tenant", ["add", "zed", "--tenant", "Tulsa"], {}, "tenant 'Tulsa'"),
    ("traversal tenant", ["add", "zed", "--tenant", "../etc"], {}, "not allowed"),
    ("long tenant", ["add", "zed", "--tenant", "t" * 41], {}, "not allowed"),
    ("short password", ["add", "zed", "--tenant", "tulsa"], {"UPWARD_PASSWORD": "short"},
     "fewer than"),
    ("huge password", ["add", "zed", "--tenant", "tulsa"], {"UPWARD_PASSWORD": "p" * 2000},
     "longer than"),
    ("disable unknown", ["disable", "nobody"], {}, "no user 'nobody'"),
    ("token for unknown", ["token", "nobody"], {}, "no user 'nobody'"),
    ("revoke unknown token", ["token", "ana", "--revoke", "999999"], {}, "no API token"),
    ("revoke token zero", ["token", "ana", "--revoke", "0"], {}, "--revoke"),
    ("label too long", ["token", "ana", "--label", "l" * 101], {}, "--label"),
    ("list bad tenant", ["list", "--tenant", "no/such"], {}, "not allowed"),
    ("list tokens unknown", ["token", "nobody", "--list"], {}, "no user"),
]


@pytest.mark.parametrize(("case", "args", "env", "words"), COMMANDS,
                         ids=[c[0] for c in COMMANDS])
def test_a_malformed_users_command_is_a_clear_error_and_stores_nothing(server, case, args, env,
                                                                       words):
    before = server.count("users"), server.count("memberships"), server.count("api_tokens")
    r = run_cli("users", *args, "--database", server.dsn,
                env={"UPWARD_PASSWORD": PASSWORD, **env})
    assert r.returncode == 2, r.stdout + r.stderr
    assert words in " ".join(r.stderr.split()) and "Traceback" not in r.stderr
    after = server.count("users"), server.count("memberships"), server.count("api_tokens")
    assert after == before


@pytest.mark.parametrize(("case", "dsn", "words"), [
    ("sqlite", "sqlite:///x.db", "not a PostgreSQL address"),
    ("mysql", "mysql://u@h/db", "not a PostgreSQL address"),
    ("closed port", "postgresql://upward@127.0.0.1:9/upward", "cannot reach the database"),
], ids=["sqlite", "mysql", "closed port"])
def test_a_wrong_database_is_a_clear_error(tmp_path, case, dsn, words):
    r = run_cli("users", "list", "--database", dsn, "--workspace", str(tmp_path))
    assert r.returncode == 2 and words in " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr


def test_no_database_configured_says_how_to_give_one(tmp_path):
    run_cli("init", str(tmp_path / "ws"))
    r = run_cli("users", "list", "--workspace", str(tmp_path / "ws"),
                env={"UPWARD_DATABASE": ""})
    assert r.returncode == 2 and "no server database is configured" in r.stderr
