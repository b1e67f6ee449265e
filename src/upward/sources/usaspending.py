"""USAspending.gov connector: federal obligations by county (or place) and program (CFDA).

One ``POST /api/v2/search/spending_by_geography/`` per assistance listing (CFDA) number in
``program_numbers`` (or one for all programs), ``scope = place_of_performance``, ``geo_layer``
``county`` (``shape_code`` is the five-digit county FIPS) filtered to ``state``. The API has no
place layer: for ``geo_layer = "place"`` the request is filtered to the city
(``place_of_performance_locations`` with ``dataset`` as the city name) and the total is stored
for the place FIPS given in ``within``. Each record is ``program × geography`` with
``aggregated_amount`` dollars; every sync replaces the feed's rows.

Examples
--------
>>> spec = FeedSpec(platform="usaspending", url="https://api.usaspending.gov", state="OK",
...                 program_numbers=["14.871"], start_date="2023-10-01", end_date="2024-09-30")
>>> body = request_body(spec, "14.871")
>>> body["geo_layer"], body["filters"]["program_numbers"], body["filters"]["time_period"][0]["end_date"]
('county', ['14.871'], '2024-09-30')
"""

from __future__ import annotations

from typing import Any

from upward.core.errors import ConfigError
from upward.core.feedspec import FeedSpec
from upward.sources.feeds import FeedError, JsonClient, Page, body_sha

__all__ = ["UsaSpendingFeed", "request_body"]

PATH = "/api/v2/search/spending_by_geography/"
ALL = "all"


def request_body(spec: FeedSpec, program: str) -> dict[str, Any]:
    """The JSON body asking one program's obligations by geography.

    >>> spec = FeedSpec(platform="usaspending", url="https://api.usaspending.gov", state="OK",
    ...                 start_date="2023-10-01", end_date="2024-09-30")
    >>> body = request_body(spec, "14.871")
    >>> body["geo_layer"], body["filters"]["program_numbers"]
    ('county', ['14.871'])
    >>> body["filters"]["place_of_performance_locations"]
    [{'country': 'USA', 'state': 'OK'}]
    """
    filters: dict[str, Any] = {}
    if spec.start_date and spec.end_date:
        filters["time_period"] = [{"start_date": spec.start_date, "end_date": spec.end_date}]
    if program != ALL:
        filters["program_numbers"] = [program]
    location: dict[str, str] = {"country": "USA"}
    if spec.state:
        location["state"] = spec.state
    layer = spec.geo_layer
    if layer == "place":
        if not (spec.state and spec.dataset and spec.within and len(spec.within) == 7):
            raise ConfigError("a USAspending feed with geo_layer = 'place' needs state (two "
                              "letters), dataset (the city name) and within (the place FIPS)",
                              fix="add them to the feed in upward.toml")
        location["city"] = spec.dataset
        layer = "state"
    filters["place_of_performance_locations"] = [location]
    body: dict[str, Any] = {"scope": "place_of_performance", "geo_layer": layer,
                            "filters": filters}
    return body


class UsaSpendingFeed:
    """One page per program.

    >>> spec = FeedSpec(platform="usaspending", url="https://api.usaspending.gov",
    ...                 program_numbers=["14.871", "93.558"])
    >>> UsaSpendingFeed(spec, JsonClient("x")).programs
    ['14.871', '93.558']
    >>> UsaSpendingFeed(spec.model_copy(update={"program_numbers": []}), JsonClient("x")).programs
    ['all']
    """

    platform = "usaspending"
    incremental = False
    id_column = "record_id"
    updated_column = None

    def __init__(self, spec: FeedSpec, client: JsonClient) -> None:
        self.spec = spec
        self.client = client
        self.programs = list(spec.program_numbers) or [ALL]

    def page(self, offset: int, since: str | None, number: int) -> Page:
        """Program number ``offset`` (0-based) of the feed's list."""
        program = self.programs[offset]
        body = request_body(self.spec, program)
        url = self.spec.url + PATH
        data, raw, _ = self.client.request(url, json_body=body,
                                           where=f"program {program} (request {number})")
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise FeedError(f"{url} for program {program}: no results list (not the API's "
                            "spending_by_geography format)", fix="check url in upward.toml")
        records = []
        for row in data["results"]:
            code = str(row.get("shape_code") or "")
            geo = code
            if self.spec.geo_layer == "place":
                geo = self.spec.within or code
            records.append({"record_id": f"{program}:{geo}", "program": program,
                            "geo_id": geo, "geo_layer": self.spec.geo_layer,
                            "display_name": row.get("display_name"),
                            "amount": row.get("aggregated_amount"),
                            "population": row.get("population"),
                            "per_capita": row.get("per_capita")})
        fields = {"shape_code": "string", "display_name": "string",
                  "aggregated_amount": "number"}
        more = offset + 1 < len(self.programs)
        return Page(records=records, fields=fields, more=more, next_offset=offset + 1,
                    url=f"POST {url} program={program} geo_layer={body['geo_layer']}",
                    body_sha=body_sha(raw), notes=[str(m) for m in data.get("messages", [])][:1])
