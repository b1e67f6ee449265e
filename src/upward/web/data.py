"""The web application's access to a workspace: one read-only warehouse shared by every request.

FastAPI runs plain ``def`` endpoints in a thread pool, and a DuckDB connection (and the frame
cache kept on ``Warehouse``) must not be used by two threads at once, so every warehouse read
goes through one re-entrant lock. Profiles, barrier reports and tract maps are cached per
place (least recently used first out), so a page that has been seen once is served without
touching the warehouse.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> data = WebData(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
>>> data.has_data(), data.search("tulsa")
(False, [])
"""

from __future__ import annotations

import difflib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from upward.core.errors import AmbiguousPlaceError, PlaceNotFoundError, WorkspaceError
from upward.core.results import as_plain
from upward.geo.resolve import GeoMatch, base_name, resolve, split_state
from upward.geo.states import STATES_BY_FIPS
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

T = TypeVar("T")

#: The geography levels that have pages.
PAGE_LEVELS = ("place", "county")
#: How many peers the scorecard and the metric pages compare with (the barriers default).
PEER_COUNT = 10
_CODE_LEVEL = {7: "place", 5: "county"}
_LABEL_CODE = re.compile(r"\[(place|county) (\d+)\]\s*$")


@dataclass(frozen=True)
class Suggestion:
    """A place a person may have meant, with the address of its page.

    >>> Suggestion("4075000", "place", "Tulsa city, Oklahoma", "OK").url
    '/places/4075000'
    """

    geo_id: str
    geo_level: str
    name: str
    state: str

    @property
    def url(self) -> str:
        """The overview page of the place."""
        return f"/places/{self.geo_id}"

    def to_dict(self) -> dict:
        """JSON-ready, with the page address.

        >>> Suggestion("40143", "county", "Tulsa County, Oklahoma", "OK").to_dict()["url"]
        '/places/40143'
        """
        return {"geo_id": self.geo_id, "geo_level": self.geo_level, "name": self.name,
                "state": self.state, "url": self.url}


class UnknownPlaceError(PlaceNotFoundError):
    """No loaded place or county fits; carries the query and the closest loaded names.

    >>> e = UnknownPlaceError("no loaded place is called 'Tulssa'", fix="check the spelling",
    ...                       query="Tulssa",
    ...                       suggestions=[Suggestion("4075000", "place", "Tulsa city, Oklahoma",
    ...                                               "OK")])
    >>> e.query, [s.url for s in e.suggestions], e.fix
    ('Tulssa', ['/places/4075000'], 'check the spelling')
    """

    def __init__(self, message: str, *, fix: str, query: str,
                 suggestions: list[Suggestion]) -> None:
        self.query = query
        self.suggestions = suggestions
        super().__init__(message, fix=fix)


class AmbiguousQueryError(AmbiguousPlaceError):
    """Several loaded places fit; carries them as suggestions (links).

    >>> e = AmbiguousQueryError("Springfield", ["Springfield, IL", "Springfield, MO"],
    ...                         [Suggestion("1772000", "place", "Springfield city, Illinois", "IL"),
    ...                          Suggestion("2970000", "place", "Springfield city, Missouri", "MO")])
    >>> e.message
    "'Springfield' matches 2 places: Springfield, IL; Springfield, MO"
    >>> [s.url for s in e.suggestions]
    ['/places/1772000', '/places/2970000']
    """

    def __init__(self, query: str, candidates: list[str], suggestions: list[Suggestion]) -> None:
        self.suggestions = suggestions
        super().__init__(query, candidates)


#: Memory the answers of one worker may keep, in bytes (``UPWARD_CACHE_MB``, default 256 MB).
CACHE_BYTES = int(os.environ.get("UPWARD_CACHE_MB", "256")) * 2**20


def approximate_size(value: object) -> int:
    """Roughly how many bytes ``value`` keeps alive: text and bytes by length, frames by their
    memory use, anything else by the length of its JSON form.

    >>> approximate_size("é" * 10), approximate_size(pd.DataFrame({"a": range(100)})) >= 800
    (20, True)
    """
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=True).sum())
    try:
        return len(json.dumps(as_plain(value), default=str))
    except (TypeError, ValueError):
        return 4096


class _LRU:
    """A least-recently-used map bounded by entries and by bytes (not thread-safe by itself;
    WebData locks it).

    >>> cache = _LRU(10, max_bytes=25)
    >>> cache.put(("a",), "x" * 20); cache.put(("b",), "y" * 20)
    >>> cache.get(("a",)) is None, cache.get(("b",)) == "y" * 20, cache.bytes
    (True, True, 20)
    """

    def __init__(self, size: int, max_bytes: int = CACHE_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple, tuple[object, int]] = OrderedDict()

    def get(self, key: tuple) -> object | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        return None

    def put(self, key: tuple, value: object) -> None:
        if key in self._items:
            self.bytes -= self._items.pop(key)[1]
        weight = approximate_size(value)
        self._items[key] = (value, weight)
        self.bytes += weight
        while len(self._items) > self.size or (self.bytes > self.max_bytes
                                               and len(self._items) > 1):
            self.bytes -= self._items.popitem(last=False)[1][1]


class WebData:
    """Thread-safe, cached, read-only access to a workspace's warehouse.

    ``run(fn, *args)`` calls ``fn(warehouse, *args)`` holding the lock; ``cached(key, fn, …)``
    does the same once per key.

    >>> import tempfile, pathlib
    >>> data = WebData(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
    >>> data.places().empty
    True
    """

    def __init__(self, workspace: Workspace, *, cache_size: int = 512) -> None:
        self.workspace = workspace
        self._lock = threading.RLock()
        self._warehouse: Warehouse | None = None
        self._cache = _LRU(cache_size)
        self._state = self.state()

    def state(self) -> tuple[int, int, int] | None:
        """The warehouse file's state (modification time in ns, size), None when absent: a
        load changes it, and every cached answer built before is then dropped.

        >>> import tempfile, pathlib
        >>> WebData(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")).state() is None
        True
        """
        try:
            stat = self.workspace.warehouse_path.stat()
        except FileNotFoundError:
            return None
        peers = self.workspace.root / "peers.toml"  # saved peers change every report
        saved = peers.stat().st_mtime_ns if peers.exists() else 0
        return stat.st_mtime_ns, stat.st_size, saved

    def _fresh(self) -> None:
        """Drop the caches and reopen the warehouse if its file changed (holding the lock)."""
        now = self.state()
        if now != self._state:
            self.close()
            self._state = now

    # -- the warehouse ------------------------------------------------------------------------
    def has_data(self) -> bool:
        """Whether the workspace holds any loaded geography."""
        return not self.geographies().empty

    def run(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(warehouse, *args, **kwargs)`` with the warehouse to itself."""
        with self._lock:
            self._fresh()
            return fn(self._open(), *args, **kwargs)

    def cached(self, key: tuple, fn: Callable[..., T], *args, **kwargs) -> T:
        """``run(fn, *args, **kwargs)`` computed once per ``key`` (kept while recently used)."""
        with self._lock:
            self._fresh()
            hit = self._cache.get(key)
            if hit is None:
                hit = fn(self._open(), *args, **kwargs)
                self._cache.put(key, hit)
            return hit  # type: ignore[return-value]

    def memo(self, key: tuple, fn: Callable[[], T]) -> T:
        """``fn()`` computed once per ``key``, for work that needs no warehouse (rendering a
        chart, serialising a report): built outside the lock, so two threads may both build
        it once, harmlessly.

        >>> import tempfile, pathlib
        >>> data = WebData(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
        >>> data.memo(("k",), lambda: 1), data.memo(("k",), lambda: 2)
        (1, 1)
        """
        with self._lock:
            self._fresh()
            hit = self._cache.get(("memo", *key))
        if hit is None:
            hit = fn()
            with self._lock:
                self._cache.put(("memo", *key), hit)
        return hit  # type: ignore[return-value]

    def _open(self) -> Warehouse:
        if self._warehouse is None:
            if not self.workspace.warehouse_path.exists():
                raise WorkspaceError(
                    f"{self.workspace.root} holds no warehouse yet",
                    fix="load data first: upward fetch urban … --from DIR, or upward demo",
                )
            self._warehouse = Warehouse(self.workspace.warehouse_path, read_only=True)
        return self._warehouse

    def close(self) -> None:
        """Close the warehouse connection (it reopens on the next read)."""
        with self._lock:
            if self._warehouse is not None:
                self._warehouse.close()
                self._warehouse = None
            self._cache = _LRU(self._cache.size, self._cache.max_bytes)

    # -- geographies --------------------------------------------------------------------------
    def geographies(self) -> pd.DataFrame:
        """Every loaded place and county, with ``state`` (postal code), ``base`` (the name as
        the resolver compares it) and ``has_values`` (some metric is published for it).
        """
        if not self.workspace.warehouse_path.exists():
            return _empty_geographies()
        return self.cached(("geographies",), _build_geographies)

    def places(self, level: str = "place", state: str | None = None) -> pd.DataFrame:
        """Loaded places (or counties) with published values, by state then name."""
        g = self.geographies()
        g = g[(g["geo_level"] == level) & g["has_values"]]
        if state is not None:
            g = g[g["state_fips"] == state]
        return g.sort_values(["state_name", "name"])

    def place(self, code: str) -> GeoMatch:
        """The place or county with this GEOID (7 or 5 digits), or with this name.

        Raises ``UnknownPlaceError`` (with suggestions) or ``AmbiguousQueryError``.
        """
        text = code.strip()
        if not text.isdigit():
            return self.resolve(text)
        found = self.index().get((text, _CODE_LEVEL.get(len(text), "")))
        if found is None:
            raise UnknownPlaceError(
                f"no loaded place or county has the code {text!r}",
                fix="a place code has 7 digits and a county code 5; search by name instead",
                query=text, suggestions=self._suggest_codes(text))
        return found["geo"]

    def index(self) -> dict[tuple[str, str], dict]:
        """(geo_id, geo_level) → {geo (GeoMatch), population, state}, for quick lookups.

        >>> import tempfile, pathlib
        >>> WebData(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")).index()
        {}
        """
        def build() -> dict[tuple[str, str], dict]:
            return {(r.geo_id, r.geo_level): {
                "geo": GeoMatch(r.geo_id, r.geo_level, r.name, r.state_fips),
                "population": None if pd.isna(r.population) else float(r.population),
                "state": r.state} for r in self.geographies().itertuples(index=False)}

        if not self.workspace.warehouse_path.exists():
            return {}
        return self.memo(("index",), build)

    def resolve(self, query: str) -> GeoMatch:
        """What a person typed ("Tulsa, OK", "tulsa ok", "Hamilton County, OH", a FIPS code),
        through the place resolver; errors carry suggestions.
        """
        g = self.geographies()
        if g.empty:
            raise UnknownPlaceError(
                "the workspace holds no places yet",
                fix="load data first: upward fetch urban … --from DIR, or upward demo",
                query=query, suggestions=[])
        try:
            match = resolve(query, g, levels=PAGE_LEVELS)
        except AmbiguousPlaceError as exc:
            raise AmbiguousQueryError(exc.query, exc.candidates,
                                      self._from_labels(exc.candidates)) from None
        except PlaceNotFoundError as exc:
            raise UnknownPlaceError(exc.message, fix=exc.fix or "", query=query,
                                    suggestions=self.suggest(query)) from None
        if match.geo_level not in PAGE_LEVELS:
            raise UnknownPlaceError(
                f"{query!r} is a {match.geo_level}, which has no page",
                fix="ask for a place (city) or a county", query=query,
                suggestions=self.suggest(query))
        return match

    def search(self, query: str, limit: int = 10, *, level: str | None = None,
               state: str | None = None) -> list[Suggestion]:
        """Places and counties whose names start with (then contain) what was typed, cities
        first, larger first; a trailing state ("tulsa ok") narrows the search.
        """
        g = self.geographies()
        text = query.strip()
        if g.empty or not text:
            return []
        if level is not None:
            g = g[g["geo_level"] == level]
        if state is not None:
            g = g[g["state_fips"] == state]
        if text.isdigit():
            hits = g[g["geo_id"].str.startswith(text)]
            return _suggestions(hits.sort_values("population", ascending=False).head(limit))
        head, named_state = split_state(text)
        if named_state is not None:
            g = g[g["state_fips"] == named_state.fips]
        target = base_name(head) if head.strip() else ""
        wants_county = bool(re.search(r"\b(county|parish)\b", head.lower()))
        if wants_county:
            g = g[g["geo_level"] == "county"]
        bases = g["base"]
        rank = pd.Series(9, index=g.index)
        if target:
            rank = rank.mask(bases.str.contains(target, regex=False), 3)
            rank = rank.mask(bases.str.contains(r"\b" + re.escape(target), regex=True), 2)
            rank = rank.mask(bases.str.startswith(target), 1)
            rank = rank.mask(bases == target, 0)
        else:
            rank[:] = 1
        hits = g.assign(_rank=rank, _county=g["geo_level"] != "place")
        hits = hits[hits["_rank"] < 9].sort_values(
            ["_rank", "_county", "population", "name"], ascending=[True, True, False, True])
        return _suggestions(hits.head(limit))

    def suggest(self, query: str, limit: int = 5) -> list[Suggestion]:
        """Names close to a query that matched nothing: search hits, else close spellings."""
        found = self.search(query, limit)
        if found:
            return found
        g = self.geographies()
        if g.empty:
            return []
        head, state = split_state(query)
        if state is not None:
            g = g[g["state_fips"] == state.fips]
        close = difflib.get_close_matches(base_name(head), list(g["base"].unique()),
                                          n=limit, cutoff=0.7)
        hits = g[g["base"].isin(close)].assign(
            _order=lambda d: d["base"].map({c: i for i, c in enumerate(close)}))
        hits = hits.sort_values(["_order", "population"], ascending=[True, False])
        return _suggestions(hits.head(limit))

    def _suggest_codes(self, code: str) -> list[Suggestion]:
        g = self.geographies()
        for width in range(len(code) - 1, 1, -1):
            hits = g[g["geo_id"].str.startswith(code[:width])]
            if len(hits):
                return _suggestions(hits.sort_values("population", ascending=False).head(5))
        return []

    def _from_labels(self, labels: list[str]) -> list[Suggestion]:
        g = self.geographies().set_index(["geo_id", "geo_level"], drop=False)
        out = []
        for label in labels:
            found = _LABEL_CODE.search(label)
            if found and (found[2], found[1]) in g.index:
                out.append(_suggestion(g.loc[(found[2], found[1])]))
        return out

    # -- reports ------------------------------------------------------------------------------
    def profile(self, geo: GeoMatch):
        """The place's mobility profile (``upward.measure.profile.build_profile``, with local
        file paths replaced by their names), cached."""
        return self.cached(("profile", geo.geo_id, geo.geo_level), _public_profile, geo.geo_id)

    def gaps(self, geo: GeoMatch):
        """The barrier report without neighbourhoods and drivers (its gaps against the peers
        and the nation, quick to build), cached; None when no peers can be chosen.
        """
        from upward.core.errors import UpwardError
        from upward.diagnose.report import build_barriers

        def build(wh: Warehouse):
            try:
                return build_barriers(wh, geo.geo_id, k=PEER_COUNT, include_drivers=False,
                                      include_neighbourhoods=False)
            except UpwardError:
                return False

        return self.cached(("gaps", geo.geo_id, geo.geo_level), build) or None

    def compare(self, geos: list[GeoMatch], alpha: float = 0.05):
        """2–6 places or custom areas (``geo_level == "area"``) side by side
        (``upward.measure.compare``, ``upward.measure.compare_areas``), from the cached
        profiles."""
        from upward.measure.compare import compare_profiles

        key = ("compare", alpha, *[(g.geo_id, g.geo_level) for g in geos])
        profiles = [None if g.geo_level == "area" else self.profile(g) for g in geos]
        if all(p is not None for p in profiles):
            return self.memo(key, lambda: compare_profiles(profiles, alpha=alpha))
        from upward.measure.compare_areas import Side, area_side, compare_sides

        def build(wh: Warehouse):
            sides = [area_side(self.workspace, g.geo_id, g.name) if p is None
                     else Side(p, False, {}, {}) for g, p in zip(geos, profiles, strict=True)]
            return compare_sides(self.workspace, wh, sides, alpha=alpha)

        return self.cached(key, build)

    def area_of(self, text: str) -> GeoMatch | None:
        """The stored custom area a name or id names, as a ``GeoMatch`` of level "area" (its
        ``state_fips`` empty), or None."""
        from upward.measure.areas import find_area

        # memo, not cached: no warehouse is opened here (find_area opens its own, and answers
        # None while the workspace holds none, so the caller's "not found" is a 404)
        found = self.memo(("area", text.strip().lower()),
                          lambda: find_area(self.workspace, text) or False)
        return GeoMatch(found[0], "area", found[1], "") if found else None

    def places_of(self, values: list[str]) -> list[GeoMatch]:
        """The places and custom areas a ``places`` parameter names: each value a name
        ("Tulsa, OK", "District 3") or a comma-separated list of FIPS codes and area ids
        ("4075000,area:districts:district-3")."""
        import re

        out = []
        for value in values:
            text = value.strip()
            if not text:
                continue
            codes = [c.strip() for c in text.split(",") if c.strip()]
            if codes and all(re.fullmatch(r"\d+|area:\S+", c) for c in codes):
                out += [self._area_or_place(c) for c in codes]
            elif area := self.area_of(text):
                out.append(area)
            else:
                out.append(self._area_or_place(text))
        return out

    def _area_or_place(self, text: str) -> GeoMatch:
        if text.startswith("area:") and (area := self.area_of(text)):
            return area
        try:
            return self.place(text)
        except UnknownPlaceError as exc:
            if self.memo(("has-areas",), self._has_areas):
                raise UnknownPlaceError(f"{exc.message} (nor any custom area)",
                                        fix=f"{exc.fix}; the custom areas are listed by "
                                            "'upward areas list'",
                                        query=exc.query, suggestions=exc.suggestions) from None
            raise

    def _has_areas(self) -> bool:
        from upward.core.errors import UpwardError
        from upward.warehouse.areas import list_areas

        if not self.workspace.warehouse_path.exists():
            return False
        try:
            return not list_areas(self.workspace).empty
        except UpwardError:  # no warehouse tables yet: no areas
            return False

    def summary(self, geo: GeoMatch):
        """The plain-language summary (``upward.diagnose.summary``) of the quick barrier
        report, cached; None when no peers can be chosen."""
        from upward.diagnose.summary import summarise

        report = self.gaps(geo)
        if report is None:
            return None
        profile = self.profile(geo)
        return self.cached(("summary", geo.geo_id, geo.geo_level),
                           lambda wh: summarise(wh, report, profile))

    def barriers(self, geo: GeoMatch):
        """The full barrier report (``upward.diagnose.report.build_barriers``), cached."""
        from upward.diagnose.report import build_barriers

        return self.cached(("barriers", geo.geo_id, geo.geo_level), build_barriers, geo.geo_id,
                           k=PEER_COUNT)

    def series(self, geo: GeoMatch, metric_id: str) -> pd.DataFrame:
        """Every published value of a metric for a place (``measure.series.metric_series``)."""
        from upward.measure.series import metric_series

        return self.cached(("series", geo.geo_id, geo.geo_level, metric_id), metric_series,
                           geo.geo_id, geo.geo_level, metric_id)

    def distribution(self, level: str, metric_id: str) -> pd.DataFrame:
        """The latest value of every geography of ``level`` for a metric, lowest first."""
        from upward.measure.series import metric_distribution

        return self.cached(("distribution", level, metric_id), metric_distribution, metric_id,
                           level)

    def peer_values(self, geo: GeoMatch, metric_id: str) -> pd.DataFrame:
        """The place's and its peers' latest values of a metric (the peers of ``gaps``)."""
        from upward.measure.series import peer_values

        report = self.gaps(geo)
        ids = [geo.geo_id] + (report.peers.ids if report else [])
        return self.cached(("peer_values", geo.geo_id, geo.geo_level, metric_id), peer_values,
                           ids, geo.geo_level, metric_id)

    def tract_map(self, geo: GeoMatch, metric_id: str):
        """Tract values and shapes for the map (``upward.measure.series.tract_map``), cached."""
        from upward.measure.series import tract_map

        return self.cached(("tract_map", geo.geo_id, geo.geo_level, metric_id), tract_map,
                           geo.geo_id, geo.geo_level, metric_id)


def _empty_geographies() -> pd.DataFrame:
    return pd.DataFrame(columns=["geo_id", "geo_level", "name", "state_fips", "population",
                                 "state", "state_name", "base", "has_values"])


def _build_geographies(wh: Warehouse) -> pd.DataFrame:
    from upward.measure import frames

    g = frames.named_geographies(wh).reset_index(drop=True)
    g = g[g["geo_level"].isin(PAGE_LEVELS)].copy()
    if g.empty:
        return _empty_geographies()
    latest = frames.latest_values(wh)
    with_values = set(zip(latest["geo_id"], latest["geo_level"], strict=True))
    states = g["state_fips"].map(STATES_BY_FIPS.get)
    g["state"] = states.map(lambda s: s.abbr if s else "")
    g["state_name"] = states.map(lambda s: s.name if s else "Other")
    g["base"] = g["name"].map(base_name)
    g["has_values"] = [(i, lvl) in with_values for i, lvl in zip(g["geo_id"], g["geo_level"],
                                                                  strict=True)]
    g["population"] = pd.to_numeric(g["population"], errors="coerce")
    return g[["geo_id", "geo_level", "name", "state_fips", "population", "state", "state_name",
              "base", "has_values"]].reset_index(drop=True)


def _suggestion(row: pd.Series) -> Suggestion:
    return Suggestion(row["geo_id"], row["geo_level"], row["name"], row["state"])


def _suggestions(rows: pd.DataFrame) -> list[Suggestion]:
    return [_suggestion(r) for _, r in rows.iterrows()]


__all__ = ["PAGE_LEVELS", "AmbiguousQueryError", "Suggestion", "UnknownPlaceError", "WebData"]


def public_url(url: str | None) -> str | None:
    """A source address fit to publish: a local file's path on the server becomes its name.

    >>> public_url("file:///srv/upward/data/urban/mobility-metrics_place_recent.csv")
    'local copy of mobility-metrics_place_recent.csv'
    >>> public_url("https://example.org/a.csv")
    'https://example.org/a.csv'
    """
    if url and url.startswith("file:"):
        from pathlib import PurePosixPath
        from urllib.parse import unquote, urlparse

        return f"local copy of {PurePosixPath(unquote(urlparse(url).path)).name}"
    return url


def _public_profile(wh: Warehouse, geo_id: str):
    from dataclasses import replace

    from upward.measure.profile import build_profile

    profile = build_profile(wh, geo_id)
    return replace(profile, sources=[{**s, "url": public_url(s.get("url"))}
                                     for s in profile.sources])
