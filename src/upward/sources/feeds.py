"""What every city-feed connector shares: the JSON client, pages, errors and the registry entries.

A connector (``socrata``, ``arcgis``, ``ckan``, ``usaspending``) answers two questions: what
are the feed's fields (``describe``) and what is on the page at ``offset`` (``page``). The sync
(``upward.warehouse.feeds``) stages each page on disk, so a killed pull resumes, and loads the
whole batch in one transaction.

:class:`JsonClient` is the one transport for the platforms read through httpx: it retries
429 and 5xx answers and dropped connections with exponential back-off, honours
``Retry-After`` (up to :data:`~upward.sources.http.MAX_RETRY_AFTER` seconds), and refuses an
HTML page where JSON was expected with a message that quotes the page's title.

Examples
--------
>>> page = Page(records=[{"a": 1}], fields={"a": "number"}, more=False, next_offset=1,
...             url="http://127.0.0.1/x", body_sha="0" * 64)
>>> page.to_json()["more"], Page.from_json(page.to_json()).records
(False, [{'a': 1}])
>>> html_title(b"<html><head><title>Service Unavailable</title></head></html>")
'Service Unavailable'
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field, fields
from typing import Any

import httpx

from upward.core.errors import UpwardError
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.http import MAX_RETRY_AFTER, _retry_after

__all__ = ["FeedClockError", "FeedDuplicateError", "FeedError", "FeedSchemaError", "JsonClient",
           "Page", "html_title"]

log = logging.getLogger(__name__)

#: Reserved key a connector uses for a record's point (lon, lat in WGS84) from platform geometry.
POINT_KEY = "__point"


class FeedError(UpwardError):
    """A feed answered with an error, an HTML page, or something that is not the platform's
    format; nothing was loaded.

    >>> e = FeedError("https://x/rows.json answered an HTML page", fix="check the feed's url")
    >>> isinstance(e, UpwardError), e.fix
    (True, "check the feed's url")
    """


class FeedSchemaError(FeedError):
    """A feed's fields changed so that a declared column is missing.

    >>> issubclass(FeedSchemaError, FeedError), str(FeedSchemaError("column 'id' is gone"))
    (True, "column 'id' is gone")
    """


class FeedDuplicateError(FeedError):
    """The same record id came twice in one pull, even after pulling again.

    >>> issubclass(FeedDuplicateError, FeedError), FeedDuplicateError("id 7 came twice").message
    (True, 'id 7 came twice')
    """


class FeedClockError(FeedError):
    """Time went backwards: the machine's clock, or the feed's own update stamps.

    >>> issubclass(FeedClockError, FeedError), FeedClockError("clock went back").exit_code
    (True, 2)
    """


@dataclass
class Page:
    """One page of a feed: its records (dicts), the fields the platform declares (name → type),
    whether more pages follow, the offset of the next page, the address asked (no token) and the
    sha256 of the body.

    >>> page = Page([{"id": 1}], {"id": "number"}, False, 1, "https://x/rows.json", "ab12")
    >>> Page.from_json(page.to_json()) == page, page.to_json()["fields"]
    (True, {'id': 'number'})
    """

    records: list[dict[str, Any]]
    fields: dict[str, str]
    more: bool
    next_offset: int
    url: str
    body_sha: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the staged page file); shallow: the records are not copied."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Page:
        """The page from its staged dict."""
        return cls(**data)


def html_title(body: bytes) -> str:
    """The ``<title>`` of an HTML page (its first 80 characters), or its first text.

    >>> html_title(b"<html><body>Down for maintenance</body></html>")
    'Down for maintenance'
    """
    text = body[:20000].decode("utf-8", errors="replace")
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if match:
        return " ".join(match.group(1).split())[:80]
    stripped = re.sub(r"<[^>]+>", " ", text)
    return " ".join(stripped.split())[:80] or "(empty page)"


def looks_like_html(body: bytes, content_type: str) -> bool:
    """True when an answer is an HTML page rather than JSON.

    >>> looks_like_html(b"  <!DOCTYPE html>", ""), looks_like_html(b"[]", "application/json")
    (True, False)
    """
    head = body[:200].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<"))


class JsonClient:
    """GET/POST returning parsed JSON, with retries, back-off, ``Retry-After`` and clear errors.

    Parameters
    ----------
    what : str
        Who is asked, for messages (``"the Socrata portal data.example.gov"``).
    retries, backoff, timeout : int, float, float
        As ``upward.toml`` ``[download]``.
    headers : dict, optional
        Sent with every request (an app token); never logged or stored.

    Examples
    --------
    >>> JsonClient("a portal").requests
    0
    """

    def __init__(self, what: str, *, retries: int = 4, backoff: float = 0.5,
                 timeout: float = 60.0, headers: dict[str, str] | None = None,
                 client: httpx.Client | None = None) -> None:
        self.what = what
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.requests = 0
        self._own = client is None
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=True,
                                              headers={"User-Agent": "upward"})
        self._headers = dict(headers or {})

    def close(self) -> None:
        """Close the connection pool (when this client made it)."""
        if self._own:
            self._client.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, url: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None, where: str = "") -> tuple[Any, bytes, httpx.Headers]:
        """The parsed JSON answer, its bytes and headers; raises :class:`FeedError`.

        ``where`` names the request in messages (``"page 3 (offset 2000)"``).
        """
        shown = str(httpx.URL(url, params=params or {}))
        problem = "no attempt was made"
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2**attempt
            try:
                self.requests += 1
                if json_body is None:
                    response = self._client.get(url, params=params, headers=self._headers)
                else:
                    response = self._client.post(url, params=params, json=json_body,
                                                 headers=self._headers)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} seconds"
            except httpx.TransportError as exc:
                problem = f"the connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                body = response.content
                kind = response.headers.get("content-type", "")
                if status == 429 or status >= 500:
                    problem = f"it answered {status}" + (
                        " (too many requests: the portal's rate limit)" if status == 429 else "")
                    after = _retry_after(response)
                    if after is not None and after <= MAX_RETRY_AFTER:
                        wait = after
                elif looks_like_html(body, kind):
                    problem = (f"it answered an HTML page (status {status}, "
                               f"\"{html_title(body)}\") instead of JSON")
                    if status >= 400:
                        break
                elif status >= 400:
                    raise FeedError(
                        f"{self.what} refused {shown}{' for ' + where if where else ''}: "
                        f"status {status}: {_detail(body)}",
                        fix="check the feed's url, dataset id, fields and where clause in "
                        "upward.toml (the portal's own message is quoted)")
                else:
                    try:
                        return json.loads(body), body, response.headers
                    except ValueError as exc:
                        problem = f"its answer is not valid JSON ({exc}; it may be cut short)"
            if attempt < self.retries:
                log.info("%s: %s failed (%s); retrying in %.2g s", self.what, shown, problem,
                         wait)
                time.sleep(wait)
        raise FeedError(
            f"{self.what} did not give {where or 'an answer'} ({shown}) after "
            f"{self.retries + 1} attempt{'s' if self.retries else ''}: {problem}; nothing was "
            "loaded",
            fix="the portal may be down or rate-limiting: try again later (upward sync resumes "
            "from the pages already received), or set an app token; check the url if it keeps "
            "answering a web page")


def _detail(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", errors="replace").strip() or "(no message)"
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "errorCode"):
            if key in data:
                value = data[key]
                return json.dumps(value) if not isinstance(value, str) else value
    return json.dumps(data)[:200]


def body_sha(body: bytes) -> str:
    """Hex sha256 of an answer's bytes.

    >>> body_sha(b"")[:8]
    'e3b0c442'
    """
    return hashlib.sha256(body).hexdigest()


def _not_a_file(path, source_id) -> Tables:  # pragma: no cover - feeds are synced, not read
    raise FeedError(f"{path}: city feeds are read by `upward sync`, not from files",
                    fix="declare the feed under [feeds.NAME] in upward.toml and run upward sync")


_PLATFORM_DATASETS = (
    ("socrata", "Socrata Open Data API (SODA) dataset", "https://{domain}/resource/{id}.json",
     "the portal's terms (usually public domain or open licence; see the dataset page)"),
    ("arcgis", "ArcGIS REST FeatureServer layer", "https://{host}/…/FeatureServer/{layer}/query",
     "the publisher's terms (see the layer's item page)"),
    ("ckan", "CKAN DataStore resource", "https://{site}/api/3/action/datastore_search",
     "the dataset's licence (license_id in package_show)"),
)
for _platform, _title, _url, _licence in _PLATFORM_DATASETS:
    register(Dataset(
        key=f"feeds.{_platform}", source="feeds", publisher=Publisher.CITY_PORTAL, title=_title,
        url=_url, local_names=(), license=_licence, reader=_not_a_file,
        kind=Kind.FEED_RECORDS, own_loader=True, label=f"City feed ({_title})",
        release="2026",
        notes="Declared per city under [feeds.NAME] in upward.toml and pulled by `upward sync`; "
        "each sync's provenance row is dataset feeds.NAME."))
register(Dataset(
    key="usaspending.geography", source="feeds", publisher=Publisher.USASPENDING,
    title="Federal award obligations by geography (spending_by_geography)",
    url="https://api.usaspending.gov/api/v2/search/spending_by_geography/", local_names=(),
    license="Public domain (U.S. Government work)", reader=_not_a_file,
    kind=Kind.FEDERAL_SPENDING, own_loader=True,
    label="USAspending.gov, obligations by county / place and program (CFDA)", release="2026",
    notes="One request per assistance listing (CFDA) number; aggregated_amount is obligations "
    "in the time period asked."))
