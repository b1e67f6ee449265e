"""How a city data feed is declared in ``upward.toml`` (``[feeds.NAME]``), validated.

Kept free of network code so that opening a workspace stays cheap: the connectors that use a
declaration live in ``socrata``, ``arcgis``, ``ckan`` and ``usaspending``.

Examples
--------
>>> spec = FeedSpec(platform="socrata", url="https://data.example.gov", dataset="abcd-1234",
...                 schedule="daily", lon_column="longitude", lat_column="latitude")
>>> spec.interval_seconds, spec.place_kind
(86400, 'coordinates')
>>> parse_schedule("15m"), parse_schedule("hourly")
(900, 3600)
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["PLATFORMS", "FeedSpec", "parse_schedule"]

PLATFORMS = ("socrata", "arcgis", "ckan", "usaspending")

_NAMED = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
_EVERY = re.compile(r"^(\d+)\s*([mhd])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def parse_schedule(text: str) -> int:
    """Seconds between syncs for ``hourly``, ``daily``, ``weekly`` or ``N m|h|d`` (``15m``).

    >>> parse_schedule("weekly"), parse_schedule("2d")
    (604800, 172800)
    >>> parse_schedule("sometimes")
    Traceback (most recent call last):
    ValueError: schedule 'sometimes' is not hourly, daily, weekly or a number with m, h or d (15m, 6h, 2d)
    """
    key = text.strip().lower()
    if key in _NAMED:
        return _NAMED[key]
    match = _EVERY.match(key)
    if match and int(match.group(1)) > 0:
        return int(match.group(1)) * _UNIT[match.group(2)]
    raise ValueError(f"schedule {text!r} is not hourly, daily, weekly or a number with m, h or d "
                     "(15m, 6h, 2d)")


class FeedSpec(BaseModel):
    """One ``[feeds.NAME]`` table of ``upward.toml``.

    ``url`` is the portal (Socrata domain, CKAN site, USAspending API) or, for ArcGIS, the layer
    (``…/FeatureServer/0``). ``dataset`` is the Socrata dataset id (``abcd-1234``) or the CKAN
    resource id (or package name, whose first datastore resource is read). Where a record is:
    ``tract_column`` (11-digit GEOID), ``lon_column`` + ``lat_column``, ``point_column`` (a
    GeoJSON point or Socrata location), or the platform's geometry (ArcGIS) — ``address_column``
    alone is kept but cannot be placed without a geocoder. ``within`` is the county (5 digits) or
    place the city covers: records outside its tracts are counted as outside the city.

    >>> spec = FeedSpec(platform="socrata", url="https://data.cityoftulsa.org",
    ...                 dataset="abcd-1234", lon_column="lon", lat_column="lat")
    >>> spec.platform, spec.schedule
    ('socrata', 'daily')
    """

    model_config = ConfigDict(extra="forbid")

    platform: Literal["socrata", "arcgis", "ckan", "usaspending"]
    url: str
    dataset: str | None = None
    fields: list[str] = Field(default_factory=list)
    where: str | None = None
    schedule: str = "daily"
    id_column: str | None = None
    updated_column: str | None = None
    tract_column: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    point_column: str | None = None
    address_column: str | None = None
    within: str | None = None
    amount_column: str | None = None
    program_column: str | None = None
    participant_column: str | None = None
    outcome_column: str | None = None
    app_token_env: str | None = None
    page_size: int = Field(1000, ge=1, le=50000)
    # USAspending
    geo_layer: Literal["county", "place", "state", "district"] = "county"
    state: str | None = None
    program_numbers: list[str] = Field(default_factory=list)
    start_date: str | None = None
    end_date: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) address")
        return value.rstrip("/")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("within")
    @classmethod
    def _within(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{5}|\d{7}", value):
            raise ValueError(f"{value!r} is not a county (5 digits) or place (7 digits) FIPS")
        return value

    @model_validator(mode="after")
    def _needs(self) -> FeedSpec:
        if self.platform in ("socrata", "ckan") and not self.dataset:
            raise ValueError(f"a {self.platform} feed needs dataset = the "
                             f"{'dataset id (abcd-1234)' if self.platform == 'socrata' else 'resource id'}")
        if (self.lon_column is None) != (self.lat_column is None):
            raise ValueError("give both lon_column and lat_column, or neither")
        return self

    @property
    def interval_seconds(self) -> int:
        """Seconds between scheduled syncs.

        >>> FeedSpec(platform="arcgis", url="https://x.gov/FeatureServer/0", schedule="6h"
        ...          ).interval_seconds
        21600
        """
        return parse_schedule(self.schedule)

    @property
    def place_kind(self) -> str:
        """How records are placed: tract, coordinates, point, geometry, address or none.

        >>> FeedSpec(platform="arcgis", url="https://x.gov/FeatureServer/0").place_kind
        'geometry'
        """
        if self.tract_column:
            return "tract"
        if self.lon_column:
            return "coordinates"
        if self.point_column:
            return "point"
        if self.platform == "arcgis":
            return "geometry"
        if self.platform == "usaspending":
            return self.geo_layer
        if self.address_column:
            return "address"
        return "none"


def check_name(name: str) -> str:
    """A feed name: lower-case letters, digits, ``-`` and ``_``, starting with a letter.

    >>> check_name("permits")
    'permits'
    """
    if not _NAME.match(name):
        raise ValueError(f"feed name {name!r} must be lower-case letters, digits, - or _, "
                         "starting with a letter")
    return name
