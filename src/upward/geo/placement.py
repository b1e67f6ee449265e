"""Placing records in tracts: points in polygons (shapely ``STRtree``), tract ids checked.

Every record gets a tract or a reason why not — no coordinates, coordinates that are not
longitude/latitude, a point outside every loaded tract of the city, a malformed tract id, a tract
outside the city, or an address with no geocoder. Nothing is dropped: the caller stores the
unplaced records with their reason and counts them.

This module is pure: it takes coordinates and geometries and returns lists.

Examples
--------
>>> from shapely.geometry import box
>>> tracts = {"99001000100": box(0, 0, 1, 1), "99001000200": box(1, 0, 2, 1)}
>>> place_points([0.5, 1.5, 5.0, None], [0.5, 0.5, 5.0, None], tracts)
(['99001000100', '99001000200', None, None], [None, None, 'outside the city', 'no coordinates'])
>>> check_tracts(["99001000100", "123", "40143000100"], {"99001000100"})
(['99001000100', None, None], [None, 'tract id is not 11 digits', 'tract outside the city'])
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from upward.core.text import N_

__all__ = ["NOT_LONLAT", "NO_COORDINATES", "OUTSIDE", "check_tracts", "place_points"]

#: Why a record has no tract (stored with it; ``N_`` marks them for the catalog).
NO_COORDINATES = N_("no coordinates")
NOT_LONLAT = N_("coordinates are not longitude/latitude (WGS84)")
OUTSIDE = N_("outside the city")
_TRACT = re.compile(r"^\d{11}$")


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def place_points(lons: Sequence[object], lats: Sequence[object],
                 tracts: Mapping[str, object]) -> tuple[list[str | None], list[str | None]]:
    """The tract containing each point (on a boundary: the first of the tracts it touches), and
    for each point that has none the reason.

    Parameters
    ----------
    lons, lats
        Longitudes and latitudes (text or numbers; blanks are missing).
    tracts
        Tract GEOID → shapely polygon in WGS84.

    >>> from shapely.geometry import box
    >>> place_points(["0.5", "", 200], [0.5, 1, 1], {"01001000100": box(0, 0, 1, 1)})
    (['01001000100', None, None], [None, 'no coordinates', 'coordinates are not longitude/latitude (WGS84)'])
    """
    from shapely import STRtree, points

    n = len(lons)
    x = np.array([_number(v) for v in lons], dtype=float)
    y = np.array([_number(v) for v in lats], dtype=float)
    out: list[str | None] = [None] * n
    why: list[str | None] = [None] * n
    missing = np.isnan(x) | np.isnan(y)
    bad = ~missing & ((np.abs(x) > 180) | (np.abs(y) > 90))
    for i in np.flatnonzero(missing):
        why[i] = NO_COORDINATES
    for i in np.flatnonzero(bad):
        why[i] = NOT_LONLAT
    ok = np.flatnonzero(~missing & ~bad)
    ids = list(tracts)
    if len(ok) and ids:
        tree = STRtree([tracts[g] for g in ids])
        pts = points(x[ok], y[ok])
        pairs = tree.query(pts, predicate="intersects")
        first: dict[int, int] = {}
        for p, t in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
            if p not in first or ids[t] < ids[first[p]]:
                first[p] = t
        for p, i in enumerate(ok):
            if p in first:
                out[i] = ids[first[p]]
    for i in ok:
        if out[i] is None:
            why[i] = OUTSIDE
    return out, why


def check_tracts(values: Sequence[object], city: set[str] | None
                 ) -> tuple[list[str | None], list[str | None]]:
    """Tract ids given by the records, each checked (11 digits; in the city when ``city`` is
    given), with the reason for those refused.

    >>> check_tracts([1001000100, "123", "01001000200", None], {"01001000100"})
    (['01001000100', None, None, None], [None, 'tract id is not 11 digits', 'tract outside the city', 'no tract id'])
    """
    out: list[str | None] = []
    why: list[str | None] = []
    for value in values:
        text = "" if value is None else str(value).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if text.isdigit() and len(text) == 10:
            text = "0" + text  # leading zero lost when the id was stored as a number
        if not text:
            out.append(None)
            why.append(N_("no tract id"))
        elif not _TRACT.match(text):
            out.append(None)
            why.append(N_("tract id is not 11 digits"))
        elif city is not None and text not in city:
            out.append(None)
            why.append(N_("tract outside the city"))
        else:
            out.append(text)
            why.append(None)
    return out, why
