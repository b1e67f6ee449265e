"""ArcGIS REST FeatureServer connector: a layer's ``/query`` paged past ``maxRecordCount``.

The layer's description (``GET <layer>?f=json``) gives ``maxRecordCount``, the object-id field
and the fields; each page is ``/query?where=…&outFields=*&orderByFields=<oid>&resultOffset=N&
resultRecordCount=M&outSR=4326&f=json``, and ``exceededTransferLimit: true`` says more follow.
Points come back in WGS84 (``outSR=4326``); a server that answers in Web Mercator anyway
(wkid 102100 / 3857) is converted here, any other spatial reference is refused. ArcGIS reports
errors as HTTP 200 with ``{"error": {"code", "message"}}``: those are raised (and retried when
the code is 429 or 5xx).

Examples
--------
>>> lon, lat = mercator_to_wgs84(-8131340.553956478, 4985356.996949511)
>>> round(lon, 5), round(lat, 5)
(-73.04507, 40.8168)
>>> arcgis_where("EditDate", "1700000000000", None)
"EditDate > TIMESTAMP '2023-11-14 22:13:20'"
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

from upward.core.feedspec import FeedSpec
from upward.sources.feeds import POINT_KEY, FeedError, JsonClient, Page, body_sha

__all__ = ["ArcGisFeed", "arcgis_where", "mercator_to_wgs84"]

_R = 6378137.0
MERCATOR = {102100, 3857, 900913, 102113}


def mercator_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """Web Mercator metres → (longitude, latitude) degrees (spherical formulas, EPSG:3857).

    >>> mercator_to_wgs84(0.0, 0.0)
    (0.0, 0.0)
    >>> [round(v, 4) for v in mercator_to_wgs84(-10018754.17, 5621521.49)]
    [-90.0, 45.0]
    """
    lon = math.degrees(x / _R)
    lat = math.degrees(2 * math.atan(math.exp(y / _R)) - math.pi / 2)
    return lon, lat


def arcgis_where(updated: str | None, since: str | None, where: str | None) -> str:
    """The ``where`` of a pull; ``since`` is epoch milliseconds (how ArcGIS dates come back).

    >>> arcgis_where("EditDate", "1700000000000", "status = 1")
    "EditDate > TIMESTAMP '2023-11-14 22:13:20' AND (status = 1)"
    >>> arcgis_where(None, None, None)
    '1=1'
    """
    parts = []
    if updated and since:
        stamp = datetime.fromtimestamp(int(float(since)) / 1000, UTC)
        parts.append(f"{updated} > TIMESTAMP '{stamp:%Y-%m-%d %H:%M:%S}'")
    if where:
        parts.append(f"({where})")
    return " AND ".join(parts) or "1=1"


class ArcGisFeed:
    """Pages of one FeatureServer layer.

    >>> spec = FeedSpec(platform="arcgis", url="https://s.arcgis.com/x/FeatureServer/0")
    >>> ArcGisFeed(spec, JsonClient("x")).query_url
    'https://s.arcgis.com/x/FeatureServer/0/query'
    """

    platform = "arcgis"

    def __init__(self, spec: FeedSpec, client: JsonClient) -> None:
        self.spec = spec
        self.client = client
        self.query_url = f"{spec.url}/query"
        self.id_column = spec.id_column
        self.updated_column = spec.updated_column
        self.incremental = bool(spec.updated_column)
        self._layer: dict[str, Any] | None = None

    def layer(self) -> dict[str, Any]:
        """The layer description (fetched once)."""
        if self._layer is None:
            data, _, _ = self.client.request(self.spec.url, params={"f": "json"},
                                             where="the layer description")
            data = self._checked(data, "the layer description")
            if "fields" not in data:
                raise FeedError(f"{self.spec.url}?f=json has no fields: not a FeatureServer "
                                "layer", fix="give the layer's address, ending in "
                                "/FeatureServer/<layer number>")
            self._layer = data
            if self.id_column is None:
                self.id_column = data.get("objectIdField") or next(
                    (f["name"] for f in data["fields"] if f.get("type") == "esriFieldTypeOID"),
                    "OBJECTID")
        return self._layer

    def page_size(self) -> int:
        """Records per page: the feed's page size, at most the layer's ``maxRecordCount``."""
        limit = int(self.layer().get("maxRecordCount") or 1000)
        return max(1, min(self.spec.page_size, limit))

    def _checked(self, data: Any, where: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise FeedError(f"{self.spec.url}: {where} is not a JSON object (not ArcGIS REST's "
                            "format)", fix="check the layer address")
        if "error" in data:
            err = data["error"] or {}
            code = err.get("code")
            details = "; ".join(err.get("details") or [])
            raise FeedError(f"the ArcGIS server refused {where} of {self.spec.url}: "
                            f"{code} {err.get('message', '')}{' — ' + details if details else ''}",
                            fix="check the layer address, the where clause and the field names "
                            "in upward.toml")
        return data

    def page(self, offset: int, since: str | None, number: int) -> Page:
        """The page at ``offset``."""
        layer = self.layer()
        size = self.page_size()
        params = {"where": arcgis_where(self.updated_column, since, self.spec.where),
                  "outFields": "*", "orderByFields": f"{self.id_column} ASC",
                  "resultOffset": str(offset), "resultRecordCount": str(size),
                  "outSR": "4326", "returnGeometry": "true", "f": "json"}
        where = f"page {number} (resultOffset {offset})"
        for attempt in range(self.client.retries + 1):
            data, body, _ = self.client.request(self.query_url, params=params, where=where)
            if isinstance(data, dict) and isinstance(data.get("error"), dict) and (
                    data["error"].get("code") in (429, 500, 502, 503, 504)) and (
                    attempt < self.client.retries):
                time.sleep(self.client.backoff * 2**attempt)
                continue
            break
        data = self._checked(data, where)
        if not isinstance(data.get("features"), list):
            raise FeedError(f"{self.query_url} {where}: no features list (not a query answer)",
                            fix="check the layer address")
        wkid = (data.get("spatialReference") or {}).get("latestWkid") or (
            data.get("spatialReference") or {}).get("wkid")
        records = []
        notes = []
        for i, feature in enumerate(data["features"]):
            attrs = dict(feature.get("attributes") or {})
            geometry = feature.get("geometry")
            if geometry and "x" in geometry and "y" in geometry and geometry["x"] is not None:
                x, y = float(geometry["x"]), float(geometry["y"])
                if wkid in MERCATOR:
                    x, y = mercator_to_wgs84(x, y)
                elif wkid not in (4326, None):
                    raise FeedError(
                        f"{self.query_url} {where}, feature {i + 1}: geometry in spatial "
                        f"reference {wkid}, not WGS84 (4326) although outSR=4326 was asked",
                        fix="the server cannot reproject this layer: ask its publisher, or "
                        "use lon_column / lat_column if the layer carries coordinates")
                attrs[POINT_KEY] = [x, y]
            elif geometry:
                attrs[POINT_KEY] = None
            records.append(attrs)
        if wkid in MERCATOR and records:
            notes.append(f"the server answered in Web Mercator (wkid {wkid}); converted to WGS84")
        fields = {f["name"]: f.get("type", "") for f in (data.get("fields") or layer["fields"])}
        more = bool(data.get("exceededTransferLimit"))
        shown = self.query_url + "?" + "&".join(f"{k}={v}" for k, v in params.items())
        return Page(records=records, fields=fields, more=more,
                    next_offset=offset + len(records), url=shown, body_sha=body_sha(body),
                    notes=notes)
