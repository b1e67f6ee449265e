"""Socrata (SODA 2.x) connector: a city's dataset paged with ``$limit``/``$offset``.

Rows are asked with ``$select=:*, *`` (so each carries its system fields ``:id`` and
``:updated_at``) in a stable order (``$order=:updated_at, :id``), filtered by the feed's
``$where`` and, for an incremental pull, by ``:updated_at > 'last watermark'``. A page shorter
than ``$limit`` is the last. The field names and types come from the ``X-SODA2-Fields`` /
``X-SODA2-Types`` headers Socrata sends with every answer; an app token goes in the
``X-App-Token`` header (from the environment variable the feed names), never in a URL.

Transport: httpx through :class:`~upward.sources.feeds.JsonClient`, not ``sodapy``: sodapy
(2.2) has no retry or back-off and ignores ``Retry-After`` unless a requests adapter is mounted,
returns an HTML answer served as ``text/html`` with status 200 as if it were data, and hides the
headers (field types) and the bytes (for provenance hashes) this connector needs.

Examples
--------
>>> soql_where(":updated_at", "2024-05-01T00:00:00.000", "amount > 0")
"(:updated_at > '2024-05-01T00:00:00.000') AND (amount > 0)"
>>> soql_where(":updated_at", None, None) is None
True
"""

from __future__ import annotations

import json
import os
from typing import Any

from upward.core.errors import ConfigError
from upward.core.feedspec import FeedSpec
from upward.sources.feeds import FeedError, JsonClient, Page, body_sha

__all__ = ["SocrataFeed", "soql_where"]

ID, UPDATED = ":id", ":updated_at"


def soql_where(updated: str, since: str | None, where: str | None) -> str | None:
    """The ``$where`` of a pull: the feed's own clause and the incremental condition.

    >>> soql_where(":updated_at", "2024-05-01T00:00:00", "status = 'open'")
    "(:updated_at > '2024-05-01T00:00:00') AND (status = 'open')"
    >>> soql_where(":updated_at", None, None) is None  # a first pull asks for everything
    True
    """
    parts = []
    if since:
        escaped = since.replace("'", "''")
        parts.append(f"({updated} > '{escaped}')")
    if where:
        parts.append(f"({where})")
    return " AND ".join(parts) or None


class SocrataFeed:
    """Pages of one Socrata dataset.

    >>> spec = FeedSpec(platform="socrata", url="https://data.example.gov", dataset="ab12-cd34")
    >>> SocrataFeed(spec, JsonClient("x")).resource
    'https://data.example.gov/resource/ab12-cd34.json'
    """

    platform = "socrata"
    incremental = True

    def __init__(self, spec: FeedSpec, client: JsonClient) -> None:
        self.spec = spec
        self.client = client
        self.resource = f"{spec.url}/resource/{spec.dataset}.json"
        self.id_column = spec.id_column or ID
        self.updated_column = spec.updated_column or UPDATED

    @staticmethod
    def headers(spec: FeedSpec) -> dict[str, str]:
        """The app-token header, read from the environment variable the feed names."""
        if not spec.app_token_env:
            return {}
        token = os.environ.get(spec.app_token_env)
        if not token:
            raise ConfigError(f"app_token_env = {spec.app_token_env!r}: that environment "
                              "variable is not set",
                              fix=f"export {spec.app_token_env}=YOUR-APP-TOKEN (create one "
                              "in the portal's developer settings) or remove app_token_env")
        return {"X-App-Token": token}

    def params(self, offset: int, since: str | None) -> dict[str, str]:
        """The SoQL parameters of the page at ``offset``.

        >>> spec = FeedSpec(platform="socrata", url="https://d.gov", dataset="ab12-cd34",
        ...                 page_size=2)
        >>> SocrataFeed(spec, JsonClient("x")).params(4, None)["$offset"]
        '4'
        """
        params = {"$select": ":*, *", "$order": f"{self.updated_column}, {self.id_column}",
                  "$limit": str(self.spec.page_size), "$offset": str(offset)}
        where = soql_where(self.updated_column, since, self.spec.where)
        if where:
            params["$where"] = where
        return params

    def page(self, offset: int, since: str | None, number: int) -> Page:
        """The page at ``offset`` (``number`` counts pages from 1, for messages)."""
        params = self.params(offset, since)
        data, body, headers = self.client.request(
            self.resource, params=params, where=f"page {number} (offset {offset})")
        if isinstance(data, dict) and data.get("error"):
            raise FeedError(f"the Socrata portal refused {self.resource}: "
                            f"{data.get('message') or data.get('code')}",
                            fix="check the dataset id and the where clause in upward.toml")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise FeedError(f"{self.resource} page {number}: the answer is not a JSON array of "
                            "rows (not SODA's format)",
                            fix="check that url is the portal's domain and dataset a "
                            "dataset id (abcd-1234), not a web page")
        fields = _fields(headers, data)
        more = len(data) == self.spec.page_size
        shown = f"{self.resource}?" + "&".join(f"{k}={v}" for k, v in params.items())
        return Page(records=data, fields=fields, more=more, next_offset=offset + len(data),
                    url=shown, body_sha=body_sha(body))


def _fields(headers: Any, rows: list[dict]) -> dict[str, str]:
    names = headers.get("x-soda2-fields")
    types = headers.get("x-soda2-types")
    if names and types:
        try:
            return dict(zip(json.loads(names), json.loads(types), strict=True))
        except (ValueError, TypeError):
            pass
    seen: dict[str, str] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, "unknown")
    return seen
