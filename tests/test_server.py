"""The shared server (issue #14): accounts, sessions, CSRF, API tokens, throttling, roles in
tenants, program files uploaded and evaluated in the browser, the append-only audit log, the
`upward users` commands -- against a real PostgreSQL server (tests/support/postgres.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.conftest import run_cli
from tests.support.server import (
    PASSWORD,
    login,
    make_server,
    marker,
    new_user,
    pilot_csv,
    upload,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module; tests that disable, throttle or sign out use their own
    users (new_user)."""
    return make_server(tmp_path_factory.mktemp("server"))


def test_migrations_build_the_schema_once_and_rerun_as_a_no_op(server):
    from upward.web.server.db import migrate

    assert migrate(server.engine) == "0001_server"
    assert migrate(server.engine) == "0001_server"
    names = set(sa.inspect(server.engine).get_table_names())
    assert {"users", "sessions", "api_tokens", "audit", "datasets", "evidence_index"} <= names


def test_passwords_are_argon2_and_tokens_are_kept_only_as_hashes(server):
    from upward.web.server.accounts import create_token
    from upward.web.server.security import token_hash

    token_id, token = create_token(server.engine, "ana", "notebook")
    c = server.client("ana")
    session = c.cookies["upward_session"]
    with server.engine.connect() as conn:
        hashes = conn.execute(sa.text("select password_hash from users")).scalars().all()
        stored = conn.execute(sa.text("select token_hash from api_tokens where id = :i"),
                              {"i": token_id}).scalar_one()
        sessions = conn.execute(sa.text("select token_hash from sessions")).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert token not in stored and len(stored) == 64
    assert session not in sessions and token_hash(session) in sessions


def test_the_session_cookie_is_httponly_and_samesite_and_secure_when_configured(server, tmp_path):
    cookie = login(TestClient(server.app), "ana").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    secure = make_server(tmp_path / "b", secure_cookies=True)
    cookie = login(TestClient(secure.app, base_url="https://testserver"), "ana"
                   ).headers["set-cookie"]
    assert "Secure" in cookie
    # over plain HTTP the browser keeps a Secure cookie to itself: the form is refused
    assert TestClient(secure.app).post("/login", data={"username": "ana", "password": PASSWORD}
                                       ).status_code == 403


def test_logins_are_throttled_after_five_failures(server):
    user = new_user(server, "viewer")
    c = TestClient(server.app)
    for _ in range(5):
        assert login(c, user, "wrong password!").status_code == 401
    refused = login(c, user)  # even the right password waits
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "upward_session" not in c.cookies
    assert login(TestClient(server.app), "vic").status_code == 303  # other accounts unaffected


def test_unknown_users_and_disabled_accounts_get_the_same_answer(server):
    from upward.web.server.accounts import disable_user

    user = new_user(server, "viewer")
    c = server.client(user)
    assert c.get("/t/tulsa").status_code == 200
    disable_user(server.engine, user)
    assert c.get("/t/tulsa", follow_redirects=False).status_code == 303  # session ended
    gone = login(TestClient(server.app), user)
    nobody = login(TestClient(server.app), "nobody-here")
    assert gone.status_code == nobody.status_code == 401
    assert re.search("not right", gone.text) and re.search("not right", nobody.text)


def test_forms_without_the_csrf_token_are_refused_and_store_nothing(server):
    c = server.client("ana")
    before = server.count("datasets")
    r = c.post("/t/tulsa/programs", files={"file": ("p.csv", pilot_csv(), "text/csv")})
    assert r.status_code == 403 and "security token" in r.text
    r = c.post("/t/tulsa/programs", files={"file": ("p.csv", pilot_csv(), "text/csv")},
               data={"csrf": "0" * 64})
    assert r.status_code == 403
    assert TestClient(server.app).post("/login", data={"username": "ana", "password": PASSWORD}
                                       ).status_code == 403
    assert server.count("datasets") == before


def test_api_tokens_work_until_revoked_and_die_with_a_disabled_user(server):
    from upward.web.server.accounts import create_token, disable_user, revoke_token

    user = new_user(server, "analyst")
    token_id, token = create_token(server.engine, user)
    auth = {"Authorization": f"Bearer {token}"}
    c = TestClient(server.app)
    assert c.get("/api/t/tulsa/programs", headers=auth).status_code == 200
    revoke_token(server.engine, token_id)
    assert c.get("/api/t/tulsa/programs", headers=auth).status_code == 401
    _, token2 = create_token(server.engine, user)
    disable_user(server.engine, user)
    r = c.get("/api/t/tulsa/programs", headers={"Authorization": f"Bearer {token2}"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def _csrf(client, url):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(url).text).group(1)


def test_an_analyst_uploads_previews_loads_and_evaluates_in_the_browser(server):
    """The issue's "done when": upload, preview, load, evaluate; a viewer and an anonymous
    visitor cannot see it until an admin publishes it (then the viewer can; anonymous never).
    The data are a simulated trial with a true effect of 5 (tests/support/server.py)."""
    secret = marker()
    ana = server.client("ana")
    r = ana.post("/t/tulsa/programs", data={"csrf": _csrf(ana, "/t/tulsa/programs")},
                 files={"file": ("pilot.csv", pilot_csv(200, marker=secret), "text/csv")},
                 follow_redirects=False)
    assert r.status_code == 303
    page = r.headers["location"]
    preview = ana.get(page).text
    assert "Load this file" in preview and secret in preview and "200 records" in preview
    ana.post(page + "/confirm", data={"csrf": _csrf(ana, page)})
    form = {"csrf": _csrf(ana, page), "name": "pilot-effect", "design": "rct", "outcome": "y",
            "treatment": "treated", "unit": "person"}
    r = ana.post(page + "/evaluate", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    evaluation = r.headers["location"]
    shown = ana.get(evaluation).text
    estimate = float(re.search(r"ATE on y: ([0-9.]+)", shown).group(1))
    assert abs(estimate - 5) < 0.5
    with server.engine.connect() as conn:
        ci = conn.execute(sa.text("select result from evaluations where name = 'pilot-effect'")
                          ).scalar_one()
    assert ci["ci_low"] < 5 < ci["ci_high"]
    viewer, anonymous = server.client("vic"), server.client(None)
    assert viewer.get(evaluation).status_code == 404
    assert "pilot-effect" not in viewer.get("/t/tulsa").text
    assert viewer.get(page).status_code == 403
    assert anonymous.get(evaluation, follow_redirects=False).status_code == 303
    adm = server.client("adm")
    adm.post(evaluation + "/publish", data={"csrf": _csrf(adm, evaluation), "published": "true"})
    assert viewer.get(evaluation).status_code == 200
    assert "pilot-effect" in viewer.get("/t/tulsa").text
    assert secret not in viewer.get(evaluation).text
    assert anonymous.get(evaluation, follow_redirects=False).status_code == 303
    with server.engine.connect() as conn:
        indexed = conn.execute(sa.text("select name, n from evidence_index "
                                       "where name = 'pilot-effect'")).one()
    assert tuple(indexed) == ("pilot-effect", 200)


def test_an_evaluation_that_cannot_run_says_why_on_the_form(server):
    ana = server.client("ana")
    d = upload(server, "ana", pilot_csv()).json()
    page = f"/t/tulsa/programs/{d['id']}"
    before = server.count("evaluations")
    r = ana.post(page + "/evaluate", data={"csrf": _csrf(ana, page), "design": "rct",
                                           "outcome": "no_such_column", "treatment": "treated"})
    assert r.status_code == 422 and "no_such_column" in r.text
    assert server.count("evaluations") == before


def test_a_pending_upload_is_seen_by_its_uploader_only_and_can_be_discarded(server):
    before = server.count("datasets")
    d = upload(server, "ana", pilot_csv(), load=False).json()
    assert d["status"] == "pending"
    other = server.client(new_user(server, "analyst"))
    assert other.get(f"/api/t/tulsa/programs/{d['id']}").status_code == 404
    listed = server.client("adm").get("/api/t/tulsa/programs").json()
    assert d["id"] not in [x["id"] for x in listed]
    ana = server.client("ana")
    page = f"/t/tulsa/programs/{d['id']}"
    ana.post(page + "/discard", data={"csrf": _csrf(ana, page)})
    assert server.count("datasets") == before


def test_a_pending_upload_left_a_day_is_removed_with_an_audit_entry(server):
    """An upload previewed but never loaded would keep a resident-level file for good: after
    PENDING_UPLOAD_HOURS it goes the next time the workspace's files are listed; a loaded file
    of the same age stays."""
    from upward.web.server.access import PENDING_UPLOAD_HOURS

    stale = upload(server, "ana", pilot_csv(), load=False).json()["id"]
    fresh = upload(server, "ana", pilot_csv(), load=False).json()["id"]
    loaded = upload(server, "ana", pilot_csv()).json()["id"]
    with server.engine.begin() as conn:
        conn.execute(sa.text(
            "update datasets set created_at = created_at - make_interval(hours => :h) "
            "where id in (:a, :b)"), {"h": PENDING_UPLOAD_HOURS + 1, "a": stale, "b": loaded})
    listed = [x["id"] for x in server.client("ana").get("/api/t/tulsa/programs").json()]
    assert stale not in listed and fresh in listed and loaded in listed
    with server.engine.connect() as conn:
        left = conn.execute(sa.text("select id from datasets where id in (:a, :b, :c)"),
                            {"a": stale, "b": fresh, "c": loaded}).scalars().all()
        detail = conn.execute(sa.text("select detail from audit where object_id = :i "
                                      "order by id desc limit 1"), {"i": str(stale)}).scalar_one()
    assert sorted(left) == sorted([fresh, loaded])
    assert f"not loaded within {PENDING_UPLOAD_HOURS} hours" in detail


def test_the_audit_log_records_who_read_exported_or_changed_and_refuses_edits(server):
    d = upload(server, "ana", pilot_csv()).json()
    ana = server.client("ana")
    assert ana.get(f"/t/tulsa/programs/{d['id']}/download").content == pilot_csv()
    with server.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select username, action, object_kind, object_id from audit "
            "where tenant_id is not null order by id")).all()
    assert ("ana", "change", "dataset", str(d["id"])) in rows
    assert ("ana", "export", "dataset", str(d["id"])) in rows
    for statement in ("update audit set detail = 'x'", "delete from audit",
                      "truncate audit"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), server.engine.begin() as c:
            c.execute(sa.text(statement))
    assert len(rows) <= server.count("audit")
    page = server.client("adm").get("/t/tulsa/admin").text
    assert "export" in page and "pilot.csv" in page


def test_next_after_login_stays_on_this_site(server):
    c = TestClient(server.app)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": token,
                               "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/account"


def test_logout_ends_the_session_in_the_database(server):
    from upward.web.server.security import token_hash

    c = server.client(new_user(server, "viewer"))
    session = token_hash(c.cookies["upward_session"])
    with server.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from sessions where token_hash = :h"),
                            {"h": session}).scalar_one() == 1
    c.post("/logout", data={"csrf": server.csrf(c)})
    with server.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from sessions where token_hash = :h"),
                            {"h": session}).scalar_one() == 0
    assert c.get("/t/tulsa", follow_redirects=False).status_code == 303


def test_the_single_user_site_has_no_accounts_and_is_unchanged(tmp_path):
    from upward.warehouse.workspace import Workspace
    from upward.web.app import create_app

    c = TestClient(create_app(Workspace.init(tmp_path / "ws")))
    assert c.get("/api/metrics").status_code == 200
    assert c.get("/login").status_code == 404
    assert c.get("/api/t/tulsa/programs").status_code == 404


def test_users_commands_add_list_disable_and_issue_tokens(server):
    db = ["--database", server.dsn]
    env = {"UPWARD_PASSWORD": PASSWORD}
    r = run_cli("users", "add", "rosa", "--tenant", "racine", "--role", "analyst", *db, env=env)
    assert r.returncode == 0 and "added rosa as analyst in racine" in r.stdout
    r = run_cli("users", "add", "rosa", "--tenant", "tulsa", "--role", "viewer", *db)
    assert r.returncode == 0 and "now viewer in tulsa" in r.stdout
    listed = run_cli("users", "list", *db).stdout
    assert re.search(r"rosa\s+│\s+racine: analyst, tulsa: viewer", listed)
    r = run_cli("users", "token", "rosa", "--label", "notebook", *db)
    token = r.stdout.strip()
    assert r.returncode == 0 and token.startswith("upw_")
    api = TestClient(server.app)
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/t/racine/programs", headers=auth).status_code == 200
    assert re.search(r"^\d+  notebook  .* live$", run_cli("users", "token", "rosa", "--list", *db).stdout, re.M)
    assert run_cli("users", "disable", "rosa", *db).returncode == 0
    assert api.get("/api/t/racine/programs", headers=auth).status_code == 401
    assert "disabled" in run_cli("users", "list", "--tenant", "racine", *db).stdout
