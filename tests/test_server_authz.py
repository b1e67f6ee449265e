"""The authorization matrix of the shared server, generated from the app's route table: every
route × every principal (anonymous; viewer, analyst, admin of the tenant in the address; the
same roles of another tenant) × objects of the own and of the other tenant. A leak is a
success (2xx) where the role or tenant does not allow it, or any response that carries a
restricted marker the principal may not see. There must be none.

Restricted routes are found from the route table, not listed by hand: every route under
``/t/`` or ``/api/t/`` must depend on the one guard (``tenant_access``), which is checked too.
"""

from __future__ import annotations

import io
import re

import pytest
from fastapi.routing import APIRoute
from tests.support.server import USERS, make_server, marker, pilot_csv, upload

OWN, OTHER = "tulsa", "dayton"
ROLES = ("viewer", "analyst", "admin")


def api_routes(routes, prefix: str = ""):
    """(full path, route) of every APIRoute, also inside included routers (FastAPI ≥ 0.120
    keeps an included router as one entry of the app's table)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield prefix + r.path, r
        elif hasattr(r, "original_router"):
            yield from api_routes(r.original_router.routes,
                                  prefix + getattr(r.include_context, "prefix", ""))


def _guard_role(route: APIRoute) -> str | None:
    """The min_role of the tenant_access dependency of ``route`` (searched recursively)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        role = getattr(dep.call, "min_role", None)
        if role:
            return role
        stack.extend(dep.dependencies)
    return None


def _objects(server, tenant: str, analyst: str, admin: str) -> dict:
    """A loaded program file, an unpublished and a published evaluation in ``tenant``, each
    carrying a marker (in the file's cells and name, in the evaluation names)."""
    marks = {k: f"{k}{marker()}" for k in ("cell", "file", "unpub", "pub")}
    d = upload(server, analyst, pilot_csv(marker=marks["cell"]), name=f"{marks['file']}.csv",
               tenant=tenant).json()
    c = server.client(analyst)
    ids = {}
    for key in ("unpub", "pub"):
        r = c.post(f"/api/t/{tenant}/programs/{d['id']}/evaluations",
                   json={"design": "rct", "outcome": "y", "treatment": "treated",
                         "name": marks[key]}, headers={"X-CSRF-Token": server.csrf(c)})
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
    a = server.client(admin)
    r = a.post(f"/t/{tenant}/evaluations/{ids['pub']}/publish",
               data={"csrf": server.csrf(a), "published": "true"}, follow_redirects=False)
    assert r.status_code == 303
    return {"dataset_id": d["id"], "eval_unpub": ids["unpub"], "eval_pub": ids["pub"],
            "marks": marks}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("authz"))
    own = _objects(server, OWN, "ana", "adm")
    other = _objects(server, OTHER, "dan", "dom")
    return server, own, other


PRINCIPALS = [None, *[u for u in USERS[OWN]], *[u for u in USERS[OTHER]]]


def _role(user: str | None, tenant: str) -> str | None:
    return USERS.get(tenant, {}).get(user) if user else None


def _at_least(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def _request(server, client, user, method: str, path: str, published: str):
    headers = {"X-CSRF-Token": server.csrf(client)} if user else {}
    if method == "GET":
        return client.get(path, follow_redirects=False)
    if path.endswith("/programs"):
        return client.post(path, headers=headers, follow_redirects=False,
                           files={"file": ("new.csv", io.BytesIO(pilot_csv()), "text/csv")},
                           data={"csrf": headers.get("X-CSRF-Token", "")})
    if path.endswith("/evaluations"):
        return client.post(path, headers=headers, follow_redirects=False,
                           json={"design": "rct", "outcome": "y", "treatment": "treated"})
    form = {"csrf": headers.get("X-CSRF-Token", ""), "design": "rct", "outcome": "y",
            "treatment": "treated", "published": published}
    return client.post(path, headers=headers, data=form, follow_redirects=False)


def _fill(path: str, objects: dict, eval_key: str) -> str:
    return (path.replace("{tenant}", OWN).replace("{dataset_id}", str(objects["dataset_id"]))
            .replace("{eval_id}", str(objects[eval_key])))


def _fill_public(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "4075000", path)


def test_every_restricted_route_goes_through_the_one_guard(world):
    server, _, _ = world
    restricted = [(p, r) for p, r in api_routes(server.app.routes)
                  if p.startswith("/t/") or p.startswith("/api/t/")]
    assert len(restricted) >= 15
    unguarded = [p for p, r in restricted if _guard_role(r) is None]
    assert unguarded == []


def test_the_authorization_matrix_has_no_leak(world):
    server, own, other = world
    leaks, cells = [], 0
    every_mark = {**{f"own_{k}": v for k, v in own["marks"].items()},
                  **{f"other_{k}": v for k, v in other["marks"].items()}}
    for full_path, route in api_routes(server.app.routes):
        needed = _guard_role(route)
        if full_path == "/logout":
            continue  # would sign the principals out; tested in test_server.py
        for method in sorted(route.methods - {"HEAD"}):
            for eval_key in (("eval_unpub", "eval_pub") if "{eval_id}" in full_path
                             else ("eval_unpub",)):
                for side, objects in (("own", own), ("other", other)):
                    if side == "other" and (needed is None or not re.search(
                            r"\{(dataset_id|eval_id)\}", full_path)):
                        continue  # no object in the address to swap
                    path = _fill_public(_fill(full_path, objects, eval_key))
                    for user in PRINCIPALS:
                        cells += 1
                        client = server.client(user)
                        r = _request(server, client, user, method, path,
                                     "true" if eval_key == "eval_pub" else "false")
                        role = _role(user, OWN)
                        allowed = (needed is not None and side == "own"
                                   and _at_least(role, needed))
                        if eval_key == "eval_unpub" and "{eval_id}" in full_path:
                            allowed = allowed and _at_least(role, "analyst")
                        body = r.text
                        visible = set()
                        if _at_least(role, "analyst"):
                            visible |= {"own_cell", "own_file", "own_unpub", "own_pub"}
                        elif _at_least(role, "viewer"):
                            visible |= {"own_pub"}
                        seen = {k for k, v in every_mark.items() if v in body} - visible
                        where = f"{method} {path} as {user or 'anonymous'}"
                        if r.status_code >= 500:
                            leaks.append(f"{where}: {r.status_code}")
                        if needed is not None and not allowed and r.status_code < 300:
                            leaks.append(f"{where}: {r.status_code} not refused")
                        if seen:
                            leaks.append(f"{where}: shows {sorted(seen)}")
                        if needed is not None and not allowed:
                            expected = {None: (303, 401)}.get(user, (403, 404, 400))
                            if r.status_code not in expected and not (
                                    user is None and r.status_code == 401):
                                leaks.append(f"{where}: {r.status_code}, expected {expected}")
    assert cells > 300
    assert leaks == []


def test_another_citys_tenant_looks_like_one_that_does_not_exist(world):
    server, _, _ = world
    c = server.client("dan")
    assert c.get("/api/t/tulsa/evaluations").json()["error"]["message"] == \
        c.get("/api/t/nowhere/evaluations").json()["error"]["message"]
    anonymous = server.client(None)
    assert anonymous.get("/api/t/tulsa/evaluations").status_code == \
        anonymous.get("/api/t/nowhere/evaluations").status_code == 401


def test_a_viewer_lists_published_evaluations_only(world):
    server, own, _ = world
    listed = server.client("vic").get("/api/t/tulsa/evaluations").text
    assert own["marks"]["pub"] in listed and own["marks"]["unpub"] not in listed
    assert re.search(own["marks"]["unpub"], server.client("ana").get(
        "/api/t/tulsa/evaluations").text)
