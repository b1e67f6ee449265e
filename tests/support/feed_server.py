"""A stand-in city data portal on 127.0.0.1 answering as Socrata, ArcGIS, CKAN and USAspending.

Real sockets, the platforms' exact shapes (SODA JSON arrays with ``X-SODA2-Fields`` /
``X-SODA2-Types`` headers; ArcGIS ``/query`` envelopes with ``exceededTransferLimit`` and
``{"error": …}`` bodies; CKAN's ``{"help", "success", "result"}`` envelope on ``/api/action``
and ``/api/3/action``; USAspending's ``{"scope", "geo_layer", "results"}``). Faults on demand:
a status (with ``Retry-After``) or an HTML page for given request numbers.

Examples
--------
>>> portal = FakePortal()
>>> portal.socrata["ab12-cd34"] = [{":id": "row-1", ":updated_at": "2024-01-01T00:00:00.000Z",
...                                 "amount": "5"}]
>>> with serve_portal(portal) as url:
...     import urllib.request, json
...     json.loads(urllib.request.urlopen(url + "/resource/ab12-cd34.json").read())
[{'amount': '5'}]
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.local_http import LocalHTTPServer, QuietHandler, serve_in_thread

HTML = (b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
        b"<body><h1>Service Temporarily Unavailable</h1></body></html>")


@dataclass
class FakePortal:
    """What the portal holds and how it misbehaves."""

    socrata: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    socrata_types: dict[str, dict[str, str]] = field(default_factory=dict)
    arcgis: dict[str, dict[str, Any]] = field(default_factory=dict)  # layer path → layer
    ckan_packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    ckan_resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → search
    usaspending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # program → rows
    faults: dict[int, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    html_at: set[int] = field(default_factory=set)
    token: str | None = None
    requests: list[str] = field(default_factory=list)
    tokens_seen: list[str | None] = field(default_factory=list)
    after_request: Any = None  # callable(number) run after each answer (to change data)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(LocalHTTPServer):
    def __init__(self, portal: FakePortal) -> None:
        self.portal = portal
        super().__init__(_Handler)


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = self.headers.get("Content-Type", "")
        body: Any = json.loads(raw or b"{}") if "json" in kind else dict(parse_qsl(raw.decode()))
        self._answer(body)

    def _send(self, status: int, body: bytes, kind: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self.send_whole(status, body, kind, extra)

    def _json(self, data: Any, status: int = 200, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), extra=extra)

    def _answer(self, body: Any) -> None:
        portal = self.server.portal
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        with portal.lock:
            portal.requests.append(self.path)
            portal.tokens_seen.append(self.headers.get("X-App-Token"))
            number = len(portal.requests)
        try:
            if number in portal.faults:
                status, headers, payload = portal.faults[number]
                self._send(status, payload or HTML, "text/html" if not payload else
                           "application/json", headers)
                return
            if number in portal.html_at:
                self._send(200, HTML, "text/html; charset=utf-8")
                return
            path = parts.path
            if path.startswith("/resource/"):
                self._socrata(path, params)
            elif "/FeatureServer/" in path:
                self._arcgis(path, params)
            elif re.match(r"^/api/(3/)?action/", path):
                self._ckan(path.rsplit("/", 1)[-1], {**params, **(body or {})})
            elif path.rstrip("/") == "/api/v2/search/spending_by_geography":
                self._usaspending(body or {})
            else:
                self._send(404, b"<html><title>Not Found</title></html>", "text/html")
        finally:
            if portal.after_request is not None:
                portal.after_request(number)

    # -- Socrata -------------------------------------------------------------------------------
    def _socrata(self, path: str, params: dict[str, str]) -> None:
        portal = self.server.portal
        if portal.token is not None and self.headers.get("X-App-Token") != portal.token:
            self._json({"code": "permission_denied", "error": True,
                        "message": "Invalid app_token specified"}, 403)
            return
        dataset = path[len("/resource/"):].removesuffix(".json")
        if dataset not in portal.socrata:
            self._json({"code": "not_found", "error": True,
                        "message": f"Dataset {dataset} not found"}, 404)
            return
        rows = sorted(portal.socrata[dataset], key=lambda r: (r[":updated_at"], r[":id"]))
        where = params.get("$where", "")
        match = re.search(r":updated_at > '([^']+)'", where)
        if match:
            rows = [r for r in rows if r[":updated_at"] > match.group(1)]
        offset = int(params.get("$offset", 0))
        limit = int(params.get("$limit", 1000))
        page = rows[offset:offset + limit]
        system = params.get("$select", "").startswith(":*")
        out = [{k: v for k, v in r.items() if system or not k.startswith(":")} for r in page]
        types = portal.socrata_types.get(dataset, {})
        names = [k for k in types if system or not k.startswith(":")]
        self._json(out, extra={"X-SODA2-Fields": json.dumps(names),
                               "X-SODA2-Types": json.dumps([types[k] for k in names])})

    # -- ArcGIS --------------------------------------------------------------------------------
    def _arcgis(self, path: str, params: dict[str, str]) -> None:
        portal = self.server.portal
        layer_path = path.removesuffix("/query")
        layer = portal.arcgis.get(layer_path)
        if layer is None:
            self._json({"error": {"code": 400, "message": "Invalid URL", "details": []}})
            return
        if not path.endswith("/query"):
            self._json(layer["description"])
            return
        if params.get("f") != "json":
            self._json({"error": {"code": 400, "message": "Invalid format", "details": []}})
            return
        feats = layer["features"]
        offset = int(params.get("resultOffset", 0))
        size = min(int(params.get("resultRecordCount", 10**9)),
                   layer["description"]["maxRecordCount"])
        page = feats[offset:offset + size]
        answer = dict(layer["envelope"])
        answer["spatialReference"] = layer.get("answer_sr", {"wkid": 4326, "latestWkid": 4326})
        answer["features"] = page
        if offset + size < len(feats):
            answer["exceededTransferLimit"] = True
        else:
            answer.pop("exceededTransferLimit", None)
        self._json(answer)

    # -- CKAN ----------------------------------------------------------------------------------
    def _ckan(self, action: str, data: dict[str, Any]) -> None:
        portal = self.server.portal
        help_url = f"http://127.0.0.1/api/3/action/help_show?name={action}"

        def ok(result: Any) -> None:
            self._json({"help": help_url, "success": True, "result": result})

        def not_found() -> None:
            self._json({"help": help_url, "success": False,
                        "error": {"message": "Not found", "__type": "Not Found Error"}}, 404)

        if action == "package_show":
            pkg = portal.ckan_packages.get(str(data.get("id")))
            ok(pkg) if pkg else not_found()
        elif action == "resource_show":
            for pkg in portal.ckan_packages.values():
                for res in pkg.get("resources", []):
                    if res["id"] == data.get("id"):
                        ok(res)
                        return
            not_found()
        elif action == "datastore_search":
            rid = str(data.get("resource_id"))
            store = portal.ckan_resources.get(rid)
            if store is None:
                not_found()
                return
            limit = int(data.get("limit", 100))
            offset = int(data.get("offset", 0))
            records = store["records"][offset:offset + limit]
            start = f"/api/3/action/datastore_search?limit={limit}&resource_id={rid}"
            ok({"include_total": True, "resource_id": rid, "fields": store["fields"],
                "records_format": "objects", "records": records, "limit": limit,
                "offset": offset,
                "_links": {"start": start, "next": f"/api/3/action/datastore_search?offset="
                           f"{offset + limit}&limit={limit}&resource_id={rid}"},
                "total": len(store["records"])})
        else:
            not_found()

    # -- USAspending ---------------------------------------------------------------------------
    def _usaspending(self, body: dict[str, Any]) -> None:
        portal = self.server.portal
        programs = body.get("filters", {}).get("program_numbers") or ["all"]
        results = list(portal.usaspending.get(programs[0], []))
        self._json({"scope": body.get("scope"), "geo_layer": body.get("geo_layer"),
                    "spending_level": "transactions", "results": results,
                    "messages": ["For searches, time period start and end dates are currently "
                                 "limited to an earliest date of 2007-10-01."]})


@contextlib.contextmanager
def serve_portal(portal: FakePortal) -> Iterator[str]:
    """Run the portal on an ephemeral port; yields its base address."""
    with serve_in_thread(_Server(portal)) as base_url:
        yield base_url
