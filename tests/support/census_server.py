"""A stand-in for the Census Data API on 127.0.0.1, answering in the API's exact shapes.

``GET /<year>/<dataset>?get=NAME,V1E,V1M&for=tract:*&in=state:22 county:071[&key=K]`` answers a
JSON array of arrays, header row first, every value a string and the geography columns last;
``/<year>/<dataset>/groups/<TABLE>.json`` answers ``{"variables": {...}}``. It can refuse the
key (the real API answers an HTML page saying "Invalid Key"), rate-limit (429 with
``Retry-After``), answer an HTML maintenance page, and it refuses more than 50 variables or an
unknown variable with a 400 and the API's plain-text ``error: …`` message.

Examples
--------
>>> api = FakeCensus()
>>> api.add_table(2023, "acs/acs5", "B19013", {"B19013_001": "Median household income"},
...               "tract", {"22071011600": ("Census Tract 116", {"B19013_001E": "216250"})})
>>> with serve_census(api) as server:
...     import urllib.request, json
...     url = server.base_url + "/2023/acs/acs5?get=NAME,B19013_001E&for=tract:*&in=state:22%20county:071"
...     json.loads(urllib.request.urlopen(url).read())[1]
['Census Tract 116', '216250', '22', '071', '011600']
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from tests.support.local_http import LocalHTTPServer, QuietHandler, serve_in_thread

PARTS = {
    "state": (("state", 2),),
    "county": (("state", 2), ("county", 3)),
    "place": (("state", 2), ("place", 5)),
    "tract": (("state", 2), ("county", 3), ("tract", 6)),
    "block group": (("state", 2), ("county", 3), ("tract", 6), ("block group", 1)),
    "zip code tabulation area": (("zip code tabulation area", 5),),
}


@dataclass
class FakeCensus:
    """What the fake API knows and how it misbehaves."""

    groups: dict[tuple[int, str, str], dict] = field(default_factory=dict)
    rows: dict[tuple[int, str, str], dict[str, tuple[str, dict[str, str]]]] = field(
        default_factory=dict)
    key: str | None = None
    rate_limit_first: int = 0
    retry_after: str = "0"
    html: bool = False
    requests: list[str] = field(default_factory=list)

    def add_table(self, year: int, dataset: str, table: str, labels: dict[str, str], geo: str,
                  data: dict[str, tuple[str, dict[str, str]]], concept: str = "") -> None:
        """Declare a table's variables (estimate and margin) and its rows for one geography."""
        variables = {}
        for v, label in labels.items():
            variables[f"{v}E"] = {"label": f"Estimate!!{label}", "concept": concept,
                                  "predicateType": "int", "group": table}
            variables[f"{v}M"] = {"label": f"Margin of Error!!{label}", "concept": concept,
                                  "predicateType": "int", "group": table}
            variables[f"{v}EA"] = {"label": f"Annotation of Estimate!!{label}",
                                   "predicateType": "string", "group": table}
        self.groups[(year, dataset, table)] = {"variables": variables}
        self.rows.setdefault((year, dataset, geo), {}).update(data)


class _Server(LocalHTTPServer):
    def __init__(self, api: FakeCensus) -> None:
        self.api = api
        self.lock = threading.Lock()
        super().__init__(_Handler)


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:
        api = self.server.api
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        with self.server.lock:
            api.requests.append(self.path)
            n = len(api.requests)
        if n <= api.rate_limit_first:
            return self._send(429, "text/plain", b"Too Many Requests",
                              {"Retry-After": api.retry_after})
        if api.html:
            return self._send(200, "text/html", b"<html><body>The Census API is down for "
                              b"maintenance.</body></html>")
        if api.key is not None and params.get("key") != api.key:
            return self._send(200, "text/html; charset=utf-8",
                              b"<html><head><title>Invalid Key</title></head><body><p>A valid "
                              b"<em>key</em> must be included with each data API request."
                              b"</p></body></html>")
        parts = split.path.strip("/").split("/")
        if "groups" in parts:
            i = parts.index("groups")
            year, dataset, table = int(parts[0]), "/".join(parts[1:i]), parts[i + 1][:-5]
            group = api.groups.get((year, dataset, table))
            if group is None:
                return self._send(404, "text/html", b"<html>404 Not Found</html>")
            return self._send(200, "application/json", json.dumps(group).encode())
        year, dataset = int(parts[0]), "/".join(parts[1:])
        get = params.get("get", "").split(",")
        if len(get) > 50:
            return self._send(400, "text/plain", b"error: You requested more than 50 variables")
        known = {v for (y, d, _), g in api.groups.items() if (y, d) == (year, dataset)
                 for v in g["variables"]}
        for v in get:
            if v != "NAME" and v not in known:
                return self._send(400, "text/plain",
                                  f"error: error: unknown variable '{v}'".encode())
        geo, _, wanted = params.get("for", "").partition(":")
        if geo not in PARTS:
            return self._send(400, "text/plain", b"error: unknown/unsupported geography "
                              b"heirarchy")
        inside = dict(c.split(":") for c in params.get("in", "").split() if ":" in c)
        rows = api.rows.get((year, dataset, geo), {})
        out = [get + [p for p, _ in PARTS[geo]]]
        for geo_id, (name, values) in sorted(rows.items()):
            pieces, at = {}, 0
            for p, width in PARTS[geo]:
                pieces[p] = geo_id[at:at + width]
                at += width
            if wanted != "*" and pieces[PARTS[geo][-1][0]] != wanted:
                continue
            if any(pieces.get(k) != v for k, v in inside.items() if v != "*"):
                continue
            out.append([name if v == "NAME" else values.get(v) for v in get]
                       + [pieces[p] for p, _ in PARTS[geo]])
        if len(out) == 1:
            return self._send(204, "application/json", b"")
        body = "[" + ",\n".join(json.dumps(r) for r in out) + "]"
        return self._send(200, "application/json;charset=utf-8", body.encode())

    def _send(self, status: int, kind: str, body: bytes, headers: dict | None = None) -> None:
        self.send_whole(status, body, kind, headers)


@dataclass
class Running:
    """The running server's address."""

    base_url: str


@contextlib.contextmanager
def serve_census(api: FakeCensus) -> Iterator[Running]:
    """Serve ``api`` on ``http://127.0.0.1:<free port>`` while in the block."""
    with serve_in_thread(_Server(api)) as base_url:
        yield Running(base_url)
