"""Custom areas (council districts, neighbourhood plans, service areas) as weighted tract sets.

An area is allocated to the tracts it touches: each tract's weight is the share of the tract's
area that lies inside the area (1 for a tract wholly inside), computed with shapely on an
equal-area projection. A list of GEOIDs with optional weights gives the weights directly.
Slivers (less than :data:`MIN_SHARE` of a tract, the usual disagreement of two boundary files)
are dropped and counted.

This module is pure: it takes geometries and returns frames. Reading files and storing the
allocation as ``crosswalks`` rows is ``upward.warehouse.areas``.

Examples
--------
>>> from shapely.geometry import box
>>> tracts = {"99001000100": box(0, 0, 1, 1), "99001000200": box(1, 0, 2, 1)}
>>> a = allocate({"District 1": box(0, 0, 1.5, 1)}, tracts)
>>> a[["tract_geoid", "weight"]].round(3).values.tolist()
[['99001000100', 1.0], ['99001000200', 0.5]]
>>> area_id("Demo districts", "District 1")
'area:demo-districts:district-1'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from upward.core.errors import UpwardError

__all__ = ["MIN_SHARE", "AreaError", "allocate", "area_id", "check_polygon", "slug",
           "summarise"]

#: Tract shares below this are slivers of boundary disagreement, not real overlap.
MIN_SHARE = 0.005
#: Weight at or above which a tract counts as wholly inside.
FULL_SHARE = 0.995
_ID = re.compile(r"^area:[a-z0-9-]+:[a-z0-9-]+$")


class AreaError(UpwardError):
    """A custom-area file or request that cannot be used.

    >>> slug("#!")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.geo.areas.AreaError: '#!' has no letters or digits to name an area...
    """


def slug(name: str) -> str:
    """A lower-case, hyphenated form of a name for identifiers.

    >>> slug("  North Side / Plan #2 ")
    'north-side-plan-2'
    """
    text = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    if not text:
        raise AreaError(f"{name!r} has no letters or digits to name an area",
                        fix="give a name such as 'District 3'")
    return text


def area_id(set_name: str, name: str) -> str:
    """The geo_id of an area: ``area:<set>:<area>``.

    >>> area_id("districts", "District 3")
    'area:districts:district-3'
    """
    return f"area:{slug(set_name)}:{slug(name)}"


def is_area_id(geo_id: str) -> bool:
    """Whether a geo_id names a custom area.

    >>> is_area_id("area:districts:district-3"), is_area_id("40143007600")
    (True, False)
    """
    return bool(_ID.match(str(geo_id)))


def check_polygon(geometry, where: str):
    """A valid (Multi)Polygon from a GeoJSON-like geometry, or an :class:`AreaError` saying why.

    >>> check_polygon({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
    ...     [0, 0]]]}, "feature 1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.geo.areas.AreaError: feature 1: the polygon is not valid (Self-intersection...
    """
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    if geometry is None:
        raise AreaError(f"{where}: the feature has no geometry",
                        fix="draw the area's boundary, or remove the empty feature")
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several kinds on malformed input
        raise AreaError(f"{where}: the geometry cannot be read ({exc})",
                        fix="export the file again as GeoJSON polygons") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise AreaError(f"{where}: the geometry is a {geom.geom_type}, not a polygon",
                        fix="an area needs a boundary: give polygons (or a list of tract GEOIDs)")
    if geom.is_empty:
        raise AreaError(f"{where}: the polygon is empty", fix="draw the area's boundary")
    if not geom.is_valid:
        raise AreaError(f"{where}: the polygon is not valid ({explain_validity(geom)})",
                        fix="repair it (QGIS 'Fix geometries', or shapely make_valid) so that "
                        "its boundary does not cross itself, then add it again")
    if geom.area == 0:
        raise AreaError(f"{where}: the polygon has no area", fix="draw the area's boundary")
    return geom


def _equal_area(geom):
    """Project lon/lat to a sinusoidal (equal-area) plane, good enough for area shares."""
    import shapely

    def project(c: np.ndarray) -> np.ndarray:
        return np.column_stack([c[:, 0] * np.cos(np.radians(c[:, 1])), c[:, 1]])

    return shapely.transform(geom, project)


def allocate(areas: Mapping[str, object], tracts: Mapping[str, object], *,
             min_share: float = MIN_SHARE) -> pd.DataFrame:
    """Tract weights of each area: the share of each tract's area inside it.

    Parameters
    ----------
    areas : mapping of area name → shapely (Multi)Polygon (longitude/latitude)
    tracts : mapping of tract GEOID → shapely (Multi)Polygon (longitude/latitude)

    Returns
    -------
    pandas.DataFrame
        ``name, tract_geoid, weight, area_share`` (``area_share``: the share of the area's
        own surface that the tract piece covers), sorted.

    Raises
    ------
    AreaError
        When an area touches no tract at all (it lies outside every loaded tract).

    >>> from shapely.geometry import box
    >>> tracts = {"01001000100": box(0, 0, 1, 1), "01001000200": box(0, 1, 1, 2)}
    >>> w = allocate({"North": box(0, 0, 1, 0.5)}, tracts)
    >>> w[["name", "tract_geoid", "area_share"]].values.tolist(), round(float(w.at[0, "weight"]), 2)
    ([['North', '01001000100', 1.0]], 0.5)
    """
    from shapely.strtree import STRtree

    ids = list(tracts)
    geoms = [tracts[g] for g in ids]
    tree = STRtree(geoms)
    rows = []
    for name, area in areas.items():
        area_eq = _equal_area(area)
        total = area_eq.area
        hits = tree.query(area)
        found = []
        for i in hits:
            tract = geoms[int(i)]
            if not tract.intersects(area):
                continue
            piece = _equal_area(tract.intersection(area)).area
            share = piece / _equal_area(tract).area
            if share >= min_share:
                found.append((name, ids[int(i)], min(share, 1.0), piece / total))
        if not found:
            raise AreaError(f"area {name!r} lies outside every loaded tract",
                            fix="check that the file is in longitude/latitude (WGS84/NAD83) and "
                            "covers the city, and load the county's tracts first "
                            "(upward fetch tracts --state NN)")
        rows.extend(found)
    out = pd.DataFrame(rows, columns=["name", "tract_geoid", "weight", "area_share"])
    out.loc[out["weight"] >= FULL_SHARE, "weight"] = 1.0
    return out.sort_values(["name", "tract_geoid"]).reset_index(drop=True)


def summarise(allocation: pd.DataFrame, population: Mapping[str, float] | None = None
              ) -> pd.DataFrame:
    """Per area: tracts wholly inside, split, the area's surface covered by tracts, and (with
    tract populations) the population allocated and the share of the touched tracts' people.

    >>> a = pd.DataFrame({"name": ["A", "A"], "tract_geoid": ["1", "2"], "weight": [1.0, 0.5],
    ...                   "area_share": [0.6, 0.4]})
    >>> s = summarise(a, {"1": 100.0, "2": 50.0}).iloc[0]
    >>> int(s.full), int(s.split), float(s.population)
    (1, 1, 125.0)
    """
    rows = []
    for name, g in allocation.groupby("name", sort=True):
        full = int((g["weight"] >= 1.0).sum())
        row = {"name": name, "tracts": len(g), "full": full, "split": len(g) - full,
               "surface_covered": float(g["area_share"].sum()) if "area_share" in g else None,
               "population": None, "population_share_of_touched": None}
        if population is not None:
            pops = g["tract_geoid"].map(population).astype(float)
            if pops.notna().all():
                row["population"] = float((pops * g["weight"]).sum())
                row["population_share_of_touched"] = row["population"] / float(pops.sum()) \
                    if pops.sum() else None
        rows.append(row)
    return pd.DataFrame(rows)
