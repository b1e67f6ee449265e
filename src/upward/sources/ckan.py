"""CKAN connector through ``ckanapi``: ``package_show``, ``datastore_search`` pages, downloads.

``dataset`` names a DataStore resource id, or a package (dataset) name whose first resource
with ``datastore_active`` is read; a package with no DataStore resource is read by downloading
its first CSV resource (``upward.sources.http.download``: cached, resumable, checked). Pages are
``datastore_search(resource_id, limit, offset)`` until ``offset`` reaches ``total``. CKAN has no
update stamp common to every resource, so each sync reads the whole resource and replaces the
feed's rows in one transaction.

``ckanapi.RemoteCKAN`` is used as the client (it is maintained and speaks CKAN's action API
exactly); its requests session gets an ``HTTPAdapter`` whose urllib3 ``Retry`` retries 429
and 5xx answers with exponential back-off and honours ``Retry-After`` (capped).

Examples
--------
>>> retry = retry_policy(3, 0.5)
>>> retry.total, sorted(retry.status_forcelist)
(3, [429, 500, 502, 503, 504])
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from upward.core.feedspec import FeedSpec
from upward.sources.feeds import FeedError, Page, body_sha, html_title
from upward.sources.http import MAX_RETRY_AFTER

__all__ = ["CkanFeed", "retry_policy"]


def retry_policy(retries: int, backoff: float):
    """A urllib3 ``Retry`` for CKAN actions (POST included), ``Retry-After`` capped.

    >>> retry = retry_policy(3, 0.5)
    >>> retry.total, retry.backoff_factor, retry.allowed_methods
    (3, 0.5, None)
    >>> retry.parse_retry_after("100000") == MAX_RETRY_AFTER  # a long wait is capped
    True
    """
    from urllib3.util.retry import Retry

    class _Capped(Retry):
        def parse_retry_after(self, retry_after: str) -> float:
            return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER)

    return _Capped(total=retries, connect=retries, read=retries, status=retries,
                   backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
                   allowed_methods=None, respect_retry_after_header=True,
                   raise_on_status=False)


class CkanFeed:
    """Pages of one CKAN DataStore resource (or one downloaded CSV resource).

    >>> spec = FeedSpec(platform="ckan", url="https://data.example.gov", dataset="permits")
    >>> feed = CkanFeed(spec, retries=2)
    >>> feed.id_column, feed.incremental, feed.session.get_adapter("https://x").max_retries.total
    ('_id', False, 2)
    >>> feed.close()
    """

    platform = "ckan"
    incremental = False

    def __init__(self, spec: FeedSpec, *, retries: int = 4, backoff: float = 0.5,
                 timeout: float = 60.0, cache_dir: Path | None = None) -> None:
        import requests
        from ckanapi import RemoteCKAN
        from requests.adapters import HTTPAdapter

        self.spec = spec
        self.timeout = timeout
        self.cache_dir = cache_dir
        self.retries, self.backoff = retries, backoff
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry_policy(retries, backoff))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.session = session
        self.ckan = RemoteCKAN(spec.url, user_agent="upward", session=session)
        self.id_column = spec.id_column or "_id"
        self.updated_column = spec.updated_column
        self.resource: dict[str, Any] | None = None
        self.package: dict[str, Any] | None = None
        self._csv_rows: list[dict[str, Any]] | None = None
        self._csv_sha = ""

    def close(self) -> None:
        """Close the session."""
        self.ckan.close()

    def _call(self, action: str, where: str, **data: Any) -> Any:
        from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError
        from requests.exceptions import RequestException

        try:
            return self.ckan.call_action(action, data, requests_kwargs={"timeout": self.timeout})
        except NotFound as exc:
            raise _NotFound(str(exc)) from None
        except (NotAuthorized, ValidationError) as exc:
            raise FeedError(f"the CKAN site {self.spec.url} refused {action} for {where}: {exc}",
                            fix="check dataset (a resource id or package name) in upward.toml; "
                            "a private dataset needs an API token") from None
        except CKANAPIError as exc:
            raise FeedError(f"the CKAN site {self.spec.url} did not answer {action} for {where} "
                            f"with CKAN's JSON: {_ckan_problem(exc)}; nothing was loaded",
                            fix="the site may be down or the url may point at a web page: try "
                            "again later, or give the site's root address (https://host)") \
                from None
        except RequestException as exc:
            raise FeedError(f"the CKAN site {self.spec.url} did not answer {action} for {where} "
                            f"after {self.retries + 1} attempts: {type(exc).__name__}; nothing "
                            "was loaded", fix="check the network and try again later") from None

    def resolve(self) -> dict[str, Any]:
        """The resource to read: ``dataset`` as a resource id, else as a package name."""
        if self.resource is not None:
            return self.resource
        try:
            self.resource = self._call("resource_show", "the resource", id=self.spec.dataset)
            return self.resource
        except _NotFound:
            pass
        try:
            self.package = self._call("package_show", "the package", id=self.spec.dataset)
        except _NotFound:
            raise FeedError(f"the CKAN site {self.spec.url} has no resource or package "
                            f"{self.spec.dataset!r}",
                            fix="copy the resource id (or package name) from the dataset's page "
                            "into dataset = … in upward.toml") from None
        resources = self.package.get("resources") or []
        chosen = next((r for r in resources if r.get("datastore_active")), None) or next(
            (r for r in resources if str(r.get("format", "")).lower() == "csv"), None)
        if chosen is None:
            raise FeedError(f"package {self.spec.dataset!r} on {self.spec.url} has no DataStore "
                            "or CSV resource", fix="name a resource id instead")
        self.resource = chosen
        return chosen

    def page(self, offset: int, since: str | None, number: int) -> Page:
        """The page at ``offset`` (``since`` is ignored: CKAN is read whole)."""
        resource = self.resolve()
        if not resource.get("datastore_active", True) or self._csv_rows is not None:
            return self._csv_page(resource, offset)
        where = f"page {number} (offset {offset})"
        result = self._call("datastore_search", where, resource_id=resource["id"],
                            limit=self.spec.page_size, offset=offset)
        if not isinstance(result, dict) or not isinstance(result.get("records"), list):
            raise FeedError(f"datastore_search {where} on {self.spec.url}: no records list",
                            fix="check that the resource is in the DataStore")
        records = result["records"]
        fields = {f["id"]: f.get("type", "") for f in result.get("fields", [])}
        total = result.get("total")
        end = offset + len(records)
        more = bool(records) and (end < int(total) if total is not None
                                  else len(records) == self.spec.page_size)
        body = json.dumps(result, sort_keys=True, default=str).encode()
        url = (f"{self.spec.url}/api/3/action/datastore_search?resource_id={resource['id']}"
               f"&limit={self.spec.page_size}&offset={offset}")
        return Page(records=records, fields=fields, more=more, next_offset=end, url=url,
                    body_sha=body_sha(body))

    def _csv_page(self, resource: dict[str, Any], offset: int) -> Page:
        if self._csv_rows is None:
            from upward.sources.http import download

            if self.cache_dir is None:
                raise FeedError("a CKAN CSV resource needs the workspace cache",
                                fix="run through upward sync")
            got = download(resource["url"], self.cache_dir / "feeds-ckan",
                           retries=self.retries, backoff=self.backoff, timeout=self.timeout)
            text = got.path.read_text(encoding="utf-8-sig", errors="replace")
            if text.lstrip().startswith("<"):
                raise FeedError(f"the CKAN resource {resource['url']} is an HTML page "
                                f"(\"{html_title(text.encode())}\"), not CSV",
                                fix="check the resource's url on the dataset page")
            rows = list(csv.DictReader(io.StringIO(text)))
            for i, row in enumerate(rows, start=1):
                row.setdefault("_id", i)
            self._csv_rows, self._csv_sha = rows, got.sha256
        rows = self._csv_rows[offset:offset + self.spec.page_size]
        fields = {k: "text" for k in (self._csv_rows[0] if self._csv_rows else {})}
        end = offset + len(rows)
        return Page(records=rows, fields=fields, more=end < len(self._csv_rows),
                    next_offset=end, url=resource["url"], body_sha=self._csv_sha)


class _NotFound(Exception):
    pass


def _ckan_problem(exc: Exception) -> str:
    text = str(exc)
    if "<" in text and ("html" in text.lower() or "<title" in text.lower()):
        start = text.find("<")
        return f"an HTML page (\"{html_title(text[start:].encode())}\") instead of JSON"
    return text[:200]
