"""Turning what a person types into a GEOID: "Tulsa city, Oklahoma", "Tulsa, OK", "tulsa ok",
"Hamilton County, OH", or a FIPS code.

The resolver is given the loaded geographies (a frame with geo_id, geo_level, name, state_fips)
so it knows nothing of storage. A name that fits several places fails, listing them.

Examples
--------
>>> import pandas as pd
>>> geos = pd.DataFrame({"geo_id": ["4075000", "40143"], "geo_level": ["place", "county"],
...                      "name": ["Tulsa city, Oklahoma", "Tulsa County, Oklahoma"],
...                      "state_fips": ["40", "40"]})
>>> resolve("tulsa ok", geos).geo_id, resolve("Tulsa County", geos).geo_id
('4075000', '40143')
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pandas as pd

from upward.core.errors import AmbiguousPlaceError, PlaceNotFoundError
from upward.geo.states import STATES, STATES_BY_FIPS, State, state_for

#: Legal/statistical area descriptors the Census Bureau appends to place and county names.
_DESCRIPTORS = (
    "consolidated government (balance)", "metropolitan government (balance)",
    "metro government (balance)", "unified government (balance)", "(balance)",
    "city and borough", "urban county", "municipality", "borough", "village", "town",
    "city", "cdp", "county", "parish", "census area",
)
_COUNTY_WORDS = re.compile(r"\b(county|parish|borough|census area)\b")


@dataclass(frozen=True)
class GeoMatch:
    """A resolved geography.

    >>> g = pd.DataFrame({"geo_id": ["4075000"], "geo_level": ["place"],
    ...                   "name": ["Tulsa city, Oklahoma"], "state_fips": ["40"]})
    >>> resolve("Tulsa, OK", g)
    GeoMatch(geo_id='4075000', geo_level='place', name='Tulsa city, Oklahoma', state_fips='40')
    """

    geo_id: str
    geo_level: str
    name: str
    state_fips: str


def base_name(name: str) -> str:
    """A name without its state part, descriptors, punctuation and case.

    >>> base_name("Nashville-Davidson metropolitan government (balance), Tennessee")
    'nashville-davidson'
    >>> base_name("Tulsa city, Oklahoma")
    'tulsa'
    """
    text = name.split(",")[0].strip().lower()
    changed = True
    while changed:
        changed = False
        for descriptor in _DESCRIPTORS:
            if text.endswith(" " + descriptor):
                text = text[: -len(descriptor) - 1].strip()
                changed = True
    return re.sub(r"[^a-z0-9\- ]", "", text).strip()


def split_state(query: str) -> tuple[str, State | None]:
    """Split a trailing state (name or postal code, after a comma or a space) off a query.

    >>> split_state("tulsa ok")[0], split_state("Rochester, New York")[1].abbr
    ('tulsa', 'NY')
    """
    text = query.strip()
    if "," in text:
        head, _, tail = text.rpartition(",")
        state = state_for(tail)
        if state:
            return head.strip(), state
    words = text.split()
    for n in (3, 2, 1):
        if len(words) > n:
            state = state_for(" ".join(words[-n:]))
            if state and not (n == 1 and words[-1].isdigit()):
                return " ".join(words[:-n]), state
    return text, None


def resolve(query: str, geographies: pd.DataFrame, *, levels: tuple[str, ...] = ("place", "county")) -> GeoMatch:
    """The one geography a query names; raises if none or several fit.

    Places win over counties of the same name unless the query says "county".

    >>> import pandas as pd
    >>> g = pd.DataFrame({"geo_id": ["2754880", "3663000"], "geo_level": ["place", "place"],
    ...     "name": ["Rochester city, Minnesota", "Rochester city, New York"],
    ...     "state_fips": ["27", "36"]})
    >>> resolve("Rochester, NY", g).geo_id
    '3663000'
    >>> resolve("Rochester", g)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    upward.core.errors.AmbiguousPlaceError: 'Rochester' matches 2 places: ...
    """
    text = query.strip()
    if not text:
        raise PlaceNotFoundError("no place given", fix="give a place name or FIPS code")
    geos = geographies[geographies["geo_level"].isin(levels + ("state", "tract"))]
    if text.isdigit():
        hit = geos[geos["geo_id"] == text]
        if hit.empty and len(text) in (4, 6, 10):
            hit = geos[geos["geo_id"] == text.zfill(len(text) + 1)]
        if hit.empty:
            raise PlaceNotFoundError(
                f"no loaded geography has the code {text!r}",
                fix="check the FIPS code (place 7 digits, county 5) or load the data with "
                "'upward fetch'",
            )
        return _match(hit.iloc[0])
    candidates = geos[geos["geo_level"].isin(levels)]
    exact = candidates[candidates["name"].str.lower() == text.lower()]
    if len(exact) == 1:
        return _match(exact.iloc[0])
    head, state = split_state(text)
    wants_county = bool(_COUNTY_WORDS.search(head.lower()))
    pool = candidates if state is None else candidates[candidates["state_fips"] == state.fips]
    if wants_county:
        pool = pool[pool["geo_level"] == "county"]
    target = base_name(head)
    bases = pool["name"].map(base_name)
    hits = pool[bases == target]
    if len(hits) > 1 and not wants_county and (hits["geo_level"] == "place").any():
        hits = hits[hits["geo_level"] == "place"]
    if len(hits) == 1:
        return _match(hits.iloc[0])
    if len(hits) > 1:
        raise AmbiguousPlaceError(query, [_label(r) for _, r in hits.iterrows()])
    raise PlaceNotFoundError(
        f"no loaded place or county is called {query!r}",
        fix=_suggest(target, candidates, state),
    )


def _label(row: pd.Series) -> str:
    state = STATES_BY_FIPS.get(row["state_fips"])
    name = row["name"]
    if state and state.name not in name:
        name = f"{name} ({state.abbr})"
    return f"{name} [{row['geo_level']} {row['geo_id']}]"


def _match(row: pd.Series) -> GeoMatch:
    return GeoMatch(row["geo_id"], row["geo_level"], row["name"] or row["geo_id"], row["state_fips"])


def _suggest(target: str, candidates: pd.DataFrame, state: State | None) -> str:
    pool = candidates if state is None else candidates[candidates["state_fips"] == state.fips]
    names = pool["name"].dropna()
    by_base: dict[str, list[str]] = {}
    for base, name in zip(names.map(base_name), names, strict=True):
        by_base.setdefault(base, []).append(name)
    close = difflib.get_close_matches(target, list(by_base), n=5, cutoff=0.75)
    if close:
        return "did you mean " + "; ".join(n for c in close for n in by_base[c]) + "?"
    return "check the spelling, add the state ('Tulsa, OK'), or load the data with 'upward fetch'"


__all__ = ["STATES", "GeoMatch", "base_name", "resolve", "split_state"]
