"""Census Data API connector: ACS detailed, subject and profile tables and the 2020 decennial.

A user asks for a table (``B17020``) for a geography (state, county, place, tract, block group,
ZCTA); the connector reads the table's metadata (``groups/<table>.json``: label, concept,
universe), asks for its estimate and margin-of-error variables in batches of at most
:data:`MAX_VARIABLES` (the API's limit), and returns one labelled frame. The API answers a JSON
array of arrays, header row first; every value is text.

The ACS marks values it does not publish with *annotation values* (Census Bureau, "Notes on ACS
Estimate and Annotation Values"). They become missing, and the reason is kept in
``AcsTable.annotations``: a suppressed median never reaches a computation as a number.

Requests are cached in the workspace (``cache/census-api/<sha256 of the request>.json``, the key
left out of the hash and of everything stored), retried with back-off on 429/5xx and dropped
connections, and sent to :data:`CENSUS_API_URL` unless ``UPWARD_CENSUS_API_URL`` or the
workspace setting ``[census] url`` says otherwise (tests use a local server on 127.0.0.1).

Examples
--------
>>> annotation_reason("-666666666", "E")[0]
'-666666666'
>>> parse_value("-666666666", "E")
(nan, '-666666666')
>>> parse_value("41250", "E")
(41250.0, None)
>>> geography_clauses("tract", state="22", county="071")
{'for': 'tract:*', 'in': 'state:22 county:071'}
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from upward.core.errors import ConfigError, DownloadError, InputFileError, UpwardError
from upward.sources.base import Dataset, Kind, Publisher, Tables, register
from upward.sources.http import MAX_RETRY_AFTER, _retry_after
from upward.sources.schema import Z95, conform

__all__ = [
    "ANNOTATIONS",
    "MAX_VARIABLES",
    "MOE_Z",
    "AcsTable",
    "CensusApi",
    "CensusApiError",
    "CensusKeyError",
    "api_from_settings",
    "geography_clauses",
    "parse_value",
    "period_of",
    "to_tables",
]

log = logging.getLogger(__name__)

CENSUS_API_URL = "https://api.census.gov/data"
URL_ENV = "UPWARD_CENSUS_API_URL"
KEY_ENV = "CENSUS_API_KEY"
PUBLISHER = str(Publisher.CENSUS)
LICENSE = "Public domain (U.S. Census Bureau data); Census Data API terms of service"

#: The API refuses more than 50 variables in one ``get``.
MAX_VARIABLES = 50
#: ACS margins of error are 90% intervals: SE = MOE / 1.645.
MOE_Z = 1.645

#: Census Data API dataset paths, by the short name ``upward fetch acs --dataset`` takes.
DATASET_PATHS: dict[str, str] = {
    "acs5": "acs/acs5",
    "acs5/subject": "acs/acs5/subject",
    "acs5/profile": "acs/acs5/profile",
    "acs1": "acs/acs1",
    "acs1/subject": "acs/acs1/subject",
    "acs1/profile": "acs/acs1/profile",
    "dec/pl": "dec/pl",
    "dec/dhc": "dec/dhc",
}

#: Geography name → (API ``for`` name, GEOID part widths of its columns in order).
GEOGRAPHIES: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    "state": ("state", (("state", 2),)),
    "county": ("county", (("state", 2), ("county", 3))),
    "place": ("place", (("state", 2), ("place", 5))),
    "tract": ("tract", (("state", 2), ("county", 3), ("tract", 6))),
    "block group": ("block group", (("state", 2), ("county", 3), ("tract", 6),
                                    ("block group", 1))),
    "zcta": ("zip code tabulation area", (("zip code tabulation area", 5),)),
}
#: Our canonical geo_level for each API geography.
GEO_LEVEL = {"state": "state", "county": "county", "place": "place", "tract": "tract",
             "block group": "block_group", "zcta": "zip"}

#: ACS annotation values and what they mean (Census Bureau, "Notes on ACS Estimate and
#: Annotation Values"). Which column they appear in (E estimate, M margin) is part of the key.
ANNOTATIONS: dict[str, str] = {
    "-666666666": "estimate not computed: no sample observations or too few to compute it "
                  "(a median or ratio whose interval is open-ended or whose sample is too small)",
    "-999999999": "estimate or margin not computed: too few sample observations",
    "-888888888": "not applicable or not available for this geography",
    "-555555555": "margin not applicable: the estimate is controlled (no sampling error)",
    "-333333333": "margin not computed: the median falls in the lowest or highest interval of "
                  "an open-ended distribution",
    "-222222222": "margin not computed: too few sample observations",
    "*****": "margin not applicable: the estimate is controlled (no sampling error)",
}


class CensusApiError(UpwardError):
    """The Census Data API answered with an error, an HTML page or nothing usable.

    >>> e = CensusApiError("the API answered 500", fix="try again later")
    >>> isinstance(e, UpwardError), str(e)
    (True, 'the API answered 500. What to do: try again later')
    """


class CensusKeyError(CensusApiError):
    """The Census Data API refused the key.

    >>> issubclass(CensusKeyError, CensusApiError), CensusKeyError("invalid key").exit_code
    (True, 2)
    """


def annotation_reason(value: str, kind: str) -> tuple[str, str] | None:
    """``(code, reason)`` when ``value`` is an ACS annotation value, else None.

    ``kind`` is ``"E"`` (estimate) or ``"M"`` (margin of error).

    >>> annotation_reason("-555555555", "M")[1].startswith("margin not applicable")
    True
    >>> annotation_reason("12", "E") is None
    True
    """
    text = str(value).strip()
    if text in ANNOTATIONS:
        return text, ANNOTATIONS[text]
    return None


def parse_value(value: object, kind: str = "E") -> tuple[float, str | None]:
    """A cell of an API answer as ``(number or nan, annotation code or None)``.

    >>> parse_value(None)
    (nan, 'null')
    >>> parse_value("*****", "M")
    (nan, '*****')
    >>> parse_value("12.5")
    (12.5, None)
    """
    if value is None:
        return math.nan, "null"
    hit = annotation_reason(str(value), kind)
    if hit is not None:
        return math.nan, hit[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan, f"not a number: {value!r}"
    if number <= -222222222:  # another negative sentinel than those documented
        return math.nan, str(value)
    return number, None


def geography_clauses(geo: str, *, state: str | None = None, county: str | None = None,
                      ) -> dict[str, str]:
    """The API's ``for``/``in`` parameters for a geography, checking what it needs.

    >>> geography_clauses("county", state="40")
    {'for': 'county:*', 'in': 'state:40'}
    >>> geography_clauses("zcta")
    {'for': 'zip code tabulation area:*'}
    >>> geography_clauses("state", state="40")
    {'for': 'state:40'}
    """
    if geo not in GEOGRAPHIES:
        raise ConfigError(f"--geo {geo!r} is not a geography the connector knows",
                          fix=f"use one of {', '.join(GEOGRAPHIES)}")
    if state is not None and not (len(state) == 2 and state.isdigit()):
        raise ConfigError(f"--state {state!r} is not a two-digit FIPS code",
                          fix="give the state's FIPS code, e.g. 40 for Oklahoma")
    if county is not None and not (len(county) == 3 and county.isdigit()):
        raise ConfigError(f"--county {county!r} is not a three-digit county code",
                          fix="give the county part of its FIPS code, e.g. 143 for Tulsa County")
    name = GEOGRAPHIES[geo][0]
    if geo == "state":
        return {"for": f"state:{state or '*'}"}
    if geo == "zcta":
        return {"for": f"{name}:*"}
    if state is None:
        raise ConfigError(f"--geo {geo} needs --state", fix="add --state with a two-digit FIPS")
    if geo in ("county", "place"):
        if county is not None and geo == "county":
            return {"for": f"county:{county}", "in": f"state:{state}"}
        return {"for": f"{name}:*", "in": f"state:{state}"}
    if geo == "block group" and county is None:
        raise ConfigError("--geo 'block group' needs --county",
                          fix="add --county with the three-digit county code")
    parent = f"state:{state} county:{county or '*'}"
    return {"for": f"{name}:*", "in": parent}


def dataset_for(table: str, dataset: str | None = None) -> str:
    """The API dataset of a table id: subject tables start with S, profiles with DP.

    >>> dataset_for("B17020"), dataset_for("S1701"), dataset_for("DP03"), dataset_for("P1", "dec/pl")
    ('acs5', 'acs5/subject', 'acs5/profile', 'dec/pl')
    >>> dataset_for("S1701", "acs1")
    'acs1/subject'
    """
    base = dataset or "acs5"
    if base not in DATASET_PATHS:
        raise ConfigError(f"--dataset {base!r} is not a Census API dataset Upward reads",
                          fix=f"use one of {', '.join(DATASET_PATHS)}")
    if base.startswith("dec/"):
        return base
    survey = base.split("/")[0]
    upper = table.upper()
    if upper.startswith("DP"):
        return f"{survey}/profile"
    if upper.startswith("S"):
        return f"{survey}/subject"
    return survey


def period_of(dataset: str, year: int) -> str:
    """The period an estimate describes: five years for the 5-year ACS.

    >>> period_of("acs5", 2023), period_of("acs1/subject", 2023), period_of("dec/pl", 2020)
    ('2019-2023', '2023', '2020')
    """
    return f"{year - 4}-{year}" if dataset.startswith("acs5") else str(year)


@dataclass
class AcsTable:
    """One table for one set of geographies, as the API published it, with labels.

    Attributes
    ----------
    table, dataset, year, geo : str, str, int, str
        What was asked.
    values : pandas.DataFrame
        One row per geography: ``geo_id``, ``name``, then per variable ``<var>`` (estimate)
        and ``<var>_moe`` where the table has margins. Annotation values are NaN.
    variables : pandas.DataFrame
        ``variable, label, concept, universe`` for each estimate variable, in table order.
    annotations : pandas.DataFrame
        ``geo_id, variable, column (E/M), code, reason`` for every missing value.
    url : str
        The request address without the key (the first batch's).
    sha256 : str
        Hash of the answers' bytes (all batches), for provenance.
    retrieved_at : str
        When the answers were first downloaded (UTC).

    >>> t = AcsTable("B01003", "acs5", 2023, "county",
    ...              pd.DataFrame({"geo_id": ["40143"], "B01003_001": [669279.0]}),
    ...              pd.DataFrame({"variable": ["B01003_001"], "label": ["Estimate!!Total"]}),
    ...              pd.DataFrame(), "https://api.census.gov/data/2023/acs/acs5", "", "")
    >>> float(t.values.loc[0, "B01003_001"]), t.notes
    (669279.0, [])
    """

    table: str
    dataset: str
    year: int
    geo: str
    values: pd.DataFrame
    variables: pd.DataFrame
    annotations: pd.DataFrame
    url: str
    sha256: str
    retrieved_at: str
    notes: list[str] = field(default_factory=list)

    def labelled(self) -> pd.DataFrame:
        """The values with each estimate column renamed to its label (``Estimate!!Total:``).

        >>> t = AcsTable("X", "acs5", 2023, "tract", pd.DataFrame({"geo_id": ["1"], "X_001": [1.0]}),
        ...     pd.DataFrame({"variable": ["X_001"], "label": ["Total"]}), pd.DataFrame(), "", "", "")
        >>> t.labelled().columns.tolist()
        ['geo_id', 'Total']
        """
        names = dict(zip(self.variables["variable"], self.variables["label"], strict=True))
        return self.values.rename(columns=names)

    def missing_explained(self, variable: str) -> pd.DataFrame:
        """The geographies where ``variable``'s estimate is missing, with the reason.

        >>> t = AcsTable("X", "acs5", 2023, "tract", pd.DataFrame(), pd.DataFrame(),
        ...     pd.DataFrame({"geo_id": ["1"], "variable": ["X_001"], "column": ["E"],
        ...                   "code": ["-666666666"], "reason": ["r"]}), "", "", "")
        >>> t.missing_explained("X_001").geo_id.tolist()
        ['1']
        """
        a = self.annotations
        return a[(a["variable"] == variable) & (a["column"] == "E")].reset_index(drop=True)


class CensusApi:
    """A client of the Census Data API with a request cache, retries and batching.

    Parameters
    ----------
    base_url : str
        ``https://api.census.gov/data`` or a mirror / local test server.
    key : str, optional
        The API key (sent as ``key=``; never stored or logged).
    cache_dir : Path, optional
        Where answers are cached; no cache without it.
    retries, backoff, timeout : int, float, float
        As for file downloads (``upward.toml`` ``[download]``).

    Examples
    --------
    >>> api = CensusApi("http://127.0.0.1:9", key="k")
    >>> api.request_url("2023/acs/acs5", {"get": "NAME", "for": "state:40"})
    'http://127.0.0.1:9/2023/acs/acs5?get=NAME&for=state%3A40'
    """

    def __init__(self, base_url: str = CENSUS_API_URL, *, key: str | None = None,
                 cache_dir: Path | None = None, retries: int = 4, backoff: float = 0.5,
                 timeout: float = 60.0, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key or None
        self.cache_dir = Path(cache_dir) / "census-api" if cache_dir is not None else None
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._client = client
        self.requests = 0

    # -- addresses -----------------------------------------------------------------------------
    def request_url(self, path: str, params: dict[str, str]) -> str:
        """The address of a request, without the key (for messages and provenance)."""
        return str(httpx.URL(f"{self.base_url}/{path.lstrip('/')}", params=params))

    # -- low level -----------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, str] | None = None,
                 *, refresh: bool = False) -> tuple[Any, bytes, str]:
        """The parsed JSON answer of ``path`` with ``params``, its bytes and retrieval time.

        Answers are cached by request (the key is not part of the cache key). A 204 (the API's
        "no rows for this geography") returns ``None``.
        """
        params = dict(params or {})
        url = self.request_url(path, params)
        cached = self._cache_file(url)
        if cached is not None and cached.is_file() and not refresh:
            meta = json.loads(cached.with_suffix(".meta.json").read_text(encoding="utf-8"))
            body = cached.read_bytes()
            return self._parse(body, url, 200, "application/json"), body, meta["retrieved_at"]
        body, status, kind = self._fetch(path, params, url)
        parsed = self._parse(body, url, status, kind)
        retrieved_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".part")
            tmp.write_bytes(body)
            meta = {"url": url, "retrieved_at": retrieved_at, "status": status,
                    "sha256": hashlib.sha256(body).hexdigest()}
            cached.with_suffix(".meta.json").write_text(json.dumps(meta, indent=1), "utf-8")
            os.replace(tmp, cached)
        return parsed, body, retrieved_at

    def _cache_file(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".json")

    def _fetch(self, path: str, params: dict[str, str], url: str) -> tuple[bytes, int, str]:
        send = dict(params)
        if self.key:
            send["key"] = self.key
        client = self._client or httpx.Client(timeout=self.timeout, follow_redirects=True,
                                              headers={"User-Agent": "upward"})
        problem = "no attempt was made"
        try:
            for attempt in range(self.retries + 1):
                wait = self.backoff * 2**attempt
                try:
                    self.requests += 1
                    response = client.get(f"{self.base_url}/{path.lstrip('/')}", params=send)
                except httpx.TimeoutException:
                    problem = f"no answer within {self.timeout:g} seconds"
                except httpx.TransportError as exc:
                    problem = f"the connection failed ({type(exc).__name__})"
                else:
                    status = response.status_code
                    if status == 429 or status >= 500:
                        problem = f"the API answered {status}" + (
                            " (too many requests: the API's rate limit)" if status == 429 else "")
                        after = _retry_after(response)
                        if after is not None and after <= MAX_RETRY_AFTER:
                            wait = after
                    else:
                        return response.content, status, response.headers.get("content-type", "")
                if attempt < self.retries:
                    log.info("census API %s failed (%s); retrying in %.2g s", url, problem, wait)
                    time.sleep(wait)
        finally:
            if self._client is None:
                client.close()
        rate = "rate limit" in problem
        raise DownloadError(
            f"the Census Data API did not answer {url} after {self.retries + 1} attempts: "
            f"{problem}",
            fix=("request an API key at https://api.census.gov/data/key_signup.html and set "
                 f"{KEY_ENV} (keyless use is limited to a few hundred requests a day), or wait "
                 "and try again") if rate else
            "check the network connection and try again later",
        )

    def _parse(self, body: bytes, url: str, status: int, kind: str) -> Any:
        text = body.decode("utf-8", errors="replace").strip()
        lowered = text[:2000].lower()
        if "invalid key" in lowered or "invalid_key" in lowered or (status in (401, 403) and (
                "key" in lowered)):
            raise CensusKeyError(
                f"the Census Data API refused the key for {url}",
                fix=f"check {KEY_ENV} (or [census] key in upward.toml): the key is activated by "
                "the link in the sign-up e-mail; request one at "
                "https://api.census.gov/data/key_signup.html, or unset it to try without a key")
        if status == 204 or (status == 200 and not text):
            return None
        if status >= 400:
            detail = text.splitlines()[0][:300] if text else f"status {status}"
            if lowered.startswith("<"):
                detail = f"an HTML error page (status {status})"
            raise CensusApiError(
                f"the Census Data API refused {url}: {detail}",
                fix="check the table, variables, year and geography (the API's own message is "
                "quoted); an unknown variable or a year the table was not published are the usual "
                "causes")
        if lowered.startswith("<") or "html" in kind.lower():
            raise CensusApiError(
                f"the Census Data API answered {url} with an HTML page, not JSON",
                fix="the service may be down for maintenance or the address "
                f"({URL_ENV} / [census] url) may point at a web page: try again later or fix it")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CensusApiError(
                f"the Census Data API answer to {url} is not valid JSON ({exc.msg} at "
                f"character {exc.pos}; it may be cut short)",
                fix="try again (add --refresh to bypass the cache)") from None

    # -- metadata ------------------------------------------------------------------------------
    def group(self, table: str, *, year: int, dataset: str) -> pd.DataFrame:
        """A table's variables: ``variable, label, concept, universe, kind`` in table order.

        Only estimate variables (names ending in ``E``, except annotation ``EA``) are listed;
        their margins are the same name ending in ``M``.
        """
        path = f"{year}/{DATASET_PATHS[dataset]}/groups/{table.upper()}.json"
        try:
            data, _, _ = self.get_json(path)
        except CensusKeyError:
            raise
        except CensusApiError as exc:
            if "status 404" not in exc.message and " 404" not in exc.message:
                raise
            data = None
        variables = data.get("variables") if isinstance(data, dict) else None
        if not isinstance(variables, dict) or not variables:
            raise CensusApiError(
                f"the Census Data API has no table {table!r} in {year} {dataset} "
                f"({self.request_url(path, {})})",
                fix="check the table id (B17020, S1701, DP03 …) and that it was published that "
                "year for that dataset (subject tables start with S, profiles with DP)")
        rows = []
        for name, meta in variables.items():
            if not isinstance(meta, dict):
                continue
            if dataset.startswith("dec/"):
                if not name.endswith("N"):  # counts end in N, their annotations in NA
                    continue
            elif not name.endswith("E"):  # estimates end in E (EA, M, MA are annotations)
                continue
            rows.append({"variable": name[:-1] if not dataset.startswith("dec/") else name,
                         "label": str(meta.get("label", name)),
                         "concept": str(meta.get("concept", "")),
                         "universe": str(meta.get("universe", "")),
                         "kind": str(meta.get("predicateType", ""))})
        frame = pd.DataFrame(rows, columns=["variable", "label", "concept", "universe", "kind"])
        return frame.sort_values("variable", kind="stable").reset_index(drop=True)

    # -- data ------------------------------------------------------------------------------------
    def table(self, table: str, *, geo: str, state: str | None = None,
              county: str | None = None, year: int = 2023, dataset: str | None = None,
              variables: Sequence[str] | None = None, refresh: bool = False) -> AcsTable:
        """Fetch one table (or some of its variables) for every geography of a kind.

        Returns an :class:`AcsTable` with estimates, margins, labels and the reasons for every
        missing value.
        """
        ds = dataset_for(table, dataset)
        clauses = geography_clauses(geo, state=state, county=county)
        meta = self.group(table, year=year, dataset=ds)
        if variables:
            wanted = {v.upper().rstrip("E") for v in variables}
            meta = meta[meta["variable"].isin(wanted)].reset_index(drop=True)
            unknown = wanted - set(meta["variable"])
            if unknown:
                raise ConfigError(f"{sorted(unknown)[0]} is not a variable of {table}",
                                  fix=f"use variables listed by the table's metadata ({year} {ds})")
        decennial = ds.startswith("dec/")
        columns = []
        for v in meta["variable"]:
            columns.extend([v] if decennial else [f"{v}E", f"{v}M"])
        batch_size = MAX_VARIABLES - 1  # NAME rides in every batch
        parts: list[pd.DataFrame] = []
        hasher = hashlib.sha256()
        urls: list[str] = []
        stamps: list[str] = []
        geo_cols = [c for c, _ in GEOGRAPHIES[geo][1]]
        for start in range(0, len(columns), batch_size):
            chunk = columns[start:start + batch_size]
            params = {"get": ",".join(["NAME", *chunk]), **clauses}
            path = f"{year}/{DATASET_PATHS[ds]}"
            data, body, stamp = self.get_json(path, params, refresh=refresh)
            hasher.update(body)
            urls.append(self.request_url(path, params))
            stamps.append(stamp)
            parts.append(_frame(data, urls[-1], ["NAME", *chunk], geo_cols))
        raw = parts[0]
        for extra in parts[1:]:
            raw = raw.merge(extra.drop(columns=["NAME"]), on=geo_cols, how="outer",
                            validate="one_to_one")
        values, annotations = _values(raw, meta["variable"].tolist(), geo, decennial)
        return AcsTable(table.upper(), ds, year, geo, values, meta, annotations, urls[0],
                        hasher.hexdigest(), min(stamps) if stamps else "")


def _frame(data: Any, url: str, wanted: list[str], geo_cols: list[str]) -> pd.DataFrame:
    """Check an API answer (array of arrays, header first) and make it a frame of text."""
    if data is None:
        return pd.DataFrame(columns=[*wanted, *geo_cols])
    if not (isinstance(data, list) and data and all(isinstance(r, list) for r in data)):
        raise CensusApiError(f"the answer to {url} is not an array of arrays",
                             fix="check the address; the API answers [[header…], [values…], …]")
    header = [str(h) for h in data[0]]
    missing = [c for c in [*wanted, *geo_cols] if c not in header]
    if missing:
        raise CensusApiError(f"the answer to {url} has no column {missing[0]!r} "
                             f"(its header is {header[:8]})",
                             fix="check the geography and variables asked for")
    width = len(header)
    for i, row in enumerate(data[1:], start=2):
        if len(row) != width:
            raise CensusApiError(f"row {i} of the answer to {url} has {len(row)} values, not "
                                 f"{width}", fix="try again with --refresh; the answer is damaged")
    return pd.DataFrame(data[1:], columns=header, dtype=object)[[*wanted, *geo_cols]]


def _values(raw: pd.DataFrame, variables: list[str], geo: str, decennial: bool,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    geo_cols = GEOGRAPHIES[geo][1]
    geo_id = raw[geo_cols[0][0]].astype(str).str.zfill(geo_cols[0][1])
    for col, width in geo_cols[1:]:
        geo_id = geo_id + raw[col].astype(str).str.zfill(width)
    out: dict[str, Any] = {"geo_id": geo_id.to_numpy(), "name": raw["NAME"].to_numpy()}
    notes: list[dict[str, str]] = []
    for v in variables:
        pairs = [(v, v, "E")] if decennial else [(v, f"{v}E", "E"), (f"{v}_moe", f"{v}M", "M")]
        for out_name, col, kind in pairs:
            numbers = np.empty(len(raw))
            for i, cell in enumerate(raw[col].to_numpy()):
                numbers[i], code = parse_value(cell, kind)
                if code is not None:
                    notes.append({"geo_id": out["geo_id"][i], "variable": v, "column": kind,
                                  "code": code,
                                  "reason": ANNOTATIONS.get(code, f"unreadable value {cell!r}")})
            out[out_name] = numbers
    values = pd.DataFrame(out).sort_values("geo_id", kind="stable").reset_index(drop=True)
    annotations = pd.DataFrame(notes, columns=["geo_id", "variable", "column", "code", "reason"])
    return values, annotations


def quality_of(cv: float) -> int | None:
    """The canonical quality grade of a coefficient of variation: ≤15% 1, ≤30% 2, else 3.

    >>> [quality_of(x) for x in (0.1, 0.2, 0.5, float("nan"))]
    [1, 2, 3, None]
    """
    if cv is None or not np.isfinite(cv):
        return None
    return 1 if cv <= 0.15 else 2 if cv <= 0.30 else 3


def to_tables(t: AcsTable, source_id: str) -> Tables:
    """Canonical tables from an :class:`AcsTable`: one observation per geography and variable.

    ``metric_id`` is the variable in lower case (``b19013_001``); ``se`` = MOE / 1.645; lb/ub
    are 95% bounds from that SE; quality comes from the CV. Missing estimates are kept as rows
    with a null estimate, so their absence is on record (the reason is in the source notes).
    Block groups are left out of the observations when the canonical schema does not know the
    level.

    >>> v = pd.DataFrame({"geo_id": ["22071011600"], "name": ["T"], "B19013_001": [216250.0],
    ...                   "B19013_001_moe": [32900.0]})
    >>> t = AcsTable("B19013", "acs5", 2023, "tract", v, pd.DataFrame({"variable": ["B19013_001"],
    ...     "label": ["Median"]}), pd.DataFrame(columns=["code"]), "u", "s", "r")
    >>> o = to_tables(t, "x").observations
    >>> o[["metric_id", "period", "estimate"]].values.tolist()
    [['b19013_001', '2019-2023', 216250.0]]
    >>> round(float(o.se[0]), 1)
    20000.0
    """
    level = GEO_LEVEL[t.geo]
    period = period_of(t.dataset, t.year)
    rows = []
    for v in t.variables["variable"]:
        est = t.values[v].to_numpy(dtype=float)
        moe = t.values[f"{v}_moe"].to_numpy(dtype=float) if f"{v}_moe" in t.values else \
            np.full(len(est), np.nan)
        se = moe / MOE_Z
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(est != 0, se / np.abs(est), np.nan)
        frame = pd.DataFrame({
            "geo_id": t.values["geo_id"], "geo_level": level, "metric_id": v.lower(),
            "period": period, "subgroup_type": "all", "subgroup": "all", "estimate": est,
            "lb": est - Z95 * se, "ub": est + Z95 * se, "se": se,
            "quality": [quality_of(c) for c in cv],
            "bounds": np.where(np.isfinite(se), "ci95", "none"), "source_id": source_id})
        rows.append(frame)
    obs = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    geos = pd.DataFrame({
        "geo_id": t.values["geo_id"], "geo_level": level, "name": t.values["name"],
        "state_fips": t.values["geo_id"].str[:2],
        "parent_geo_id": [_parent(g, t.geo) for g in t.values["geo_id"]], "population": None,
        "vintage": "2020" if t.year >= 2020 else "2010", "source_id": source_id})
    try:
        observations = conform("observations", obs)
        geographies = conform("geographies", geos)
    except Exception as exc:  # a level the canonical schema does not accept
        raise ConfigError(f"{t.geo} rows cannot be stored as canonical observations ({exc})",
                          fix="use --geo tract, county, place, state or zcta for the warehouse"
                          ) from None
    missing = t.annotations[t.annotations["column"] == "E"] if len(t.annotations) else \
        t.annotations
    notes = [f"{t.table} {t.dataset} {t.year}: {len(t.values)} {t.geo} rows"]
    if len(missing):
        counts = missing.groupby("code").size()
        notes.append("missing estimates (annotation values): " + ", ".join(
            f"{n} × {code} ({ANNOTATIONS.get(code, code)})" for code, n in counts.items()))
    return Tables(observations=observations, geographies=geographies, notes=notes)


def _parent(geo_id: str, geo: str) -> str | None:
    return {"county": geo_id[:2], "place": geo_id[:2], "tract": geo_id[:5],
            "block group": geo_id[:11]}.get(geo)


def api_from_settings(workspace: Any) -> CensusApi:
    """A client configured from the workspace: URL (``UPWARD_CENSUS_API_URL`` first), key
    (``CENSUS_API_KEY`` first, then ``[census] key``), retries and cache.

    >>> from upward.warehouse.workspace import Workspace, Settings
    >>> api_from_settings(Workspace(Path("/w"), Settings())).base_url.startswith("http")
    True
    """
    settings = workspace.settings
    census = getattr(settings, "census", None)
    url = os.environ.get(URL_ENV) or (census.url if census is not None else None) or CENSUS_API_URL
    key = os.environ.get(KEY_ENV) or (census.key if census is not None else None)
    d = settings.download
    return CensusApi(url, key=key, cache_dir=workspace.cache_dir, retries=d.retries,
                     backoff=d.backoff, timeout=d.timeout)


def read_api_response(path: Path, source_id: str) -> Tables:
    """Read a saved Census Data API answer (``[[header…], [values…]…]``) into canonical tables.

    The file name gives nothing; the header does: ``NAME``, ``<var>E``/``<var>M`` columns and
    the geography columns. The period is unknown in a saved answer and recorded as ``unknown``
    unless the file sits next to a ``.meta.json`` from the cache.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = p.write_text('[["NAME","B19013_001E","B19013_001M","state","county","tract"],'
    ...                  '["T","50000","4000","22","071","011600"]]')
    >>> read_api_response(p, "s").observations.geo_id.tolist()
    ['22071011600']
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"not a Census Data API answer ({exc})",
                             fix="give the JSON the API returned (array of arrays)") from None
    if not (isinstance(data, list) and data and isinstance(data[0], list)):
        raise InputFileError(path, "not an array of arrays with a header row",
                             fix="give the JSON the API returned")
    header = [str(h) for h in data[0]]
    geo = next((g for g in ("block group", "tract", "zcta", "place", "county", "state")
                if GEOGRAPHIES[g][1][-1][0] in header), None)
    if geo is None or "NAME" not in header:
        raise InputFileError(path, f"the header {header[:6]} has no NAME or geography column",
                             fix="ask the API with get=NAME,… and a for= geography")
    estimates = [h[:-1] for h in header if h.endswith("E") and h[:-1] + "M" in header]
    geo_cols = [c for c, _ in GEOGRAPHIES[geo][1]]
    raw = _frame(data, str(path), ["NAME", *(f"{v}{k}" for v in estimates for k in "EM")],
                 geo_cols)
    values, annotations = _values(raw, estimates, geo, False)
    meta = pd.DataFrame({"variable": estimates, "label": estimates, "concept": "",
                         "universe": ""})
    t = AcsTable(estimates[0].split("_")[0] if estimates else "", "unknown", 0, geo, values,
                 meta, annotations, path.as_uri(), "", "")
    tables = to_tables(t, source_id)
    tables.observations["period"] = "unknown"
    return tables


for _key, _title in (
    ("acs5", "American Community Survey 5-year detailed tables (Census Data API)"),
    ("acs5/subject", "American Community Survey 5-year subject tables (Census Data API)"),
    ("acs5/profile", "American Community Survey 5-year data profiles (Census Data API)"),
    ("acs1", "American Community Survey 1-year detailed tables (Census Data API)"),
    ("dec/pl", "2020 Census redistricting data, P.L. 94-171 (Census Data API)"),
    ("dec/dhc", "2020 Census demographic and housing characteristics (Census Data API)"),
):
    register(Dataset(
        key=f"census-api.{_key.replace('/', '.')}",
        source="acs",
        publisher=Publisher.CENSUS,
        title=_title,
        url=f"{CENSUS_API_URL}/{{year}}/{DATASET_PATHS[_key]}",
        local_names=(),
        license=LICENSE,
        reader=read_api_response,
        kind=Kind.TABLE_ESTIMATES,
        own_loader=True,
        label=_title.replace(" (Census Data API)", ""),
        release="2023",  # the default --year; each request records its own year in provenance
        notes="Queried per table and geography by `upward fetch acs --table …`; estimates with "
        "se = MOE/1.645 (ACS margins are 90%); annotation values are missing with the reason in "
        "the notes.",
    ))
