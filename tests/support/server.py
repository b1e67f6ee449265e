"""The shared server in tests: a PostgreSQL database per test (module), an app over an empty
workspace, users in two tenants (cities), and clients signed in as each of them."""

from __future__ import annotations

import io
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.support.postgres import fresh_database, server_dsn

PASSWORD = "a long test password"
#: Users per tenant: name → role.
USERS = {
    "tulsa": {"ana": "analyst", "vic": "viewer", "adm": "admin"},
    "dayton": {"dan": "analyst", "dee": "viewer", "dom": "admin"},
}


def require_postgres() -> str:
    """The test server's DSN; skips (or, in CI, fails) when there is none."""
    dsn = server_dsn()
    if dsn is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: set UPWARD_TEST_POSTGRES_DSN "
                        "(.ci/run starts a server)")
        pytest.skip("no PostgreSQL: set UPWARD_TEST_POSTGRES_DSN or install initdb/pg_ctl")
    return dsn


def pilot_csv(rows: int = 40, *, seed: int = 1, marker: str = "x") -> bytes:
    """A small two-arm trial with a known effect of 5 (alternating assignment) and a label
    column carrying ``marker`` (to find the file's content in a response)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    treated = np.arange(rows) % 2
    y = 10 + 5 * treated + rng.normal(0, 1, rows)
    frame = pd.DataFrame({"person": [f"P{i:04d}" for i in range(rows)], "treated": treated,
                          "y": y.round(3), "note": [marker] * rows})
    return frame.to_csv(index=False).encode()


@dataclass
class Server:
    """An app with users in two tenants."""

    app: object
    dsn: str
    workspace: Path
    clients: dict[str, TestClient] = field(default_factory=dict)

    @property
    def engine(self):
        return self.app.state.server.engine

    def client(self, user: str | None) -> TestClient:
        """A client signed in as ``user`` (None: anonymous), made once."""
        key = user or ""
        if key not in self.clients:
            c = TestClient(self.app)
            if user:
                login(c, user)
            self.clients[key] = c
        return self.clients[key]

    def csrf(self, client: TestClient) -> str:
        """The CSRF token of ``client``'s session."""
        from upward.web.server.security import csrf_token, token_hash

        session = client.cookies.get("upward_session")
        return csrf_token(self.app.state.server.key, token_hash(session)) if session else ""

    def count(self, table: str) -> int:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            return conn.execute(sa.text(f"select count(*) from {table}")).scalar_one()


def login(client: TestClient, user: str, password: str = PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": user, "password": password,
                                           "csrf": token, "next": "/account"},
                           follow_redirects=False)
    assert response.status_code in (303, 401, 429), response.text
    return response


def make_server(tmp: Path, **settings) -> Server:
    from upward.warehouse.workspace import Workspace
    from upward.web.app import create_app
    from upward.web.server.accounts import add_user

    dsn = fresh_database(require_postgres())
    ws = Workspace.init(tmp / "ws")
    if settings:
        text = ws.settings_path.read_text() + "\n[server]\n" + "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
        ws.settings_path.write_text(text)
        ws = Workspace.open(ws.root)
    app = create_app(ws, database=dsn)
    for tenant, users in USERS.items():
        for user, role in users.items():
            add_user(app.state.server.engine, user, tenant=tenant, role=role, password=PASSWORD)
    return Server(app, dsn, ws.root)


def upload(server: Server, user: str, content: bytes, name: str = "pilot.csv",
           tenant: str = "tulsa", *, load: bool = True):
    c = server.client(user)
    return c.post(f"/api/t/{tenant}/programs", params={"load": str(load).lower()},
                  files={"file": (name, io.BytesIO(content), "text/csv")},
                  headers={"X-CSRF-Token": server.csrf(c)})


def new_user(server: Server, role: str, tenant: str = "tulsa") -> str:
    """A fresh user of ``tenant`` (for tests that disable, throttle or log out someone)."""
    from upward.web.server.accounts import add_user

    name = f"u{uuid.uuid4().hex[:8]}"
    add_user(server.engine, name, tenant=tenant, role=role, password=PASSWORD)
    return name


def marker() -> str:
    return uuid.uuid4().hex[:10]
