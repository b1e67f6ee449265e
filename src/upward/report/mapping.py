"""What makes a tract map readable without a base map (no tiles: everything ships offline):
the outline of the place, hatching over the tracts without an estimate (a pattern, so it is
never read as a colour of the scale), and labels on the tracts with the lowest and highest
values.

No place boundary or road file ships with Upward's data, so the outline is the union (shapely)
of the place's own tract shapes, and a label is the tract's neighbourhood where its name carries
one ("Census Tract 3 — Louisville Heights, Tulsa, OK"), else its tract number (the Census name
of a tract: "Tract 25.01" is GEOID …002501).

Examples
--------
>>> tract_number("40143002501"), tract_number("40143007600")
('25.01', '76')
>>> tract_label("40143000300", "Census Tract 3 — Louisville Heights, Tulsa, OK")
'Louisville Heights'
>>> tract_label("55101000100", "Census Tract 1 — Racine, WI")
'Tract 1'
>>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
>>> lon, lat = hatch_lines([square], spacing=0.25)
>>> sum(x is None for x in lon) >= 5
True
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from shapely.geometry import LineString, MultiLineString, shape
from shapely.ops import unary_union

from upward.report.i18n import gettext as _

OUTLINE = "#111111"
HATCH = "#6b6b6b"
N_LABELLED = 3


def tract_number(geo_id: str) -> str:
    """The Census tract number of an 11-digit tract GEOID ("25.01", "76").

    >>> tract_number("40143002501"), tract_number("40143007600"), tract_number("40143000100")
    ('25.01', '76', '1')
    """
    code = str(geo_id)[-6:]
    whole, part = int(code[:4]), code[4:]
    return f"{whole}" if part == "00" else f"{whole}.{part}"


def tract_label(geo_id: str, name: str | None) -> str:
    """A tract's label on the map: its neighbourhood, else "Tract" and its number.

    >>> tract_label("40143000300", "Census Tract 3 — Louisville Heights, Tulsa, OK")
    'Louisville Heights'
    >>> tract_label("40143002501", None)
    'Tract 25.01'
    """
    where = str(name or "").split(" — ", 1)[-1].split(", ")
    if len(where) >= 3 and where[0].strip():
        return where[0].strip()
    return f"{_('Tract')} {tract_number(geo_id)}"


def _lines(geometry) -> list[list[tuple[float, float]]]:
    if geometry.is_empty:
        return []
    if isinstance(geometry, LineString):
        return [list(geometry.coords)]
    if isinstance(geometry, MultiLineString):
        return [list(g.coords) for g in geometry.geoms]
    if hasattr(geometry, "geoms"):
        return [line for g in geometry.geoms for line in _lines(g)]
    if hasattr(geometry, "exterior"):
        return [list(geometry.exterior.coords)] + [list(r.coords) for r in geometry.interiors]
    return []


def _join(lines: list[list[tuple[float, float]]]) -> tuple[list, list]:
    lon: list = []
    lat: list = []
    for line in lines:
        lon += [x for x, _y in line] + [None]
        lat += [y for _x, y in line] + [None]
    return lon, lat


def outline(geometries: list[dict]) -> tuple[list, list]:
    """Longitudes and latitudes (``None`` between rings) of the boundary of the union of
    ``geometries`` (GeoJSON polygons).

    >>> a = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    >>> b = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
    >>> lon, lat = outline([a, b])  # the union's boundary: the shared edge is gone
    >>> from shapely.geometry import LineString
    >>> lon.count(None), LineString(zip(lon[:-1], lat[:-1])).length  # one ring, perimeter 6
    (1, 6.0)
    """
    shapes = [shape(g).buffer(0) for g in geometries if g]
    if not shapes:
        return [], []
    return _join(_lines(unary_union(shapes).boundary))


def hatch_lines(geometries: list[dict], *, spacing: float | None = None) -> tuple[list, list]:
    """Diagonal hatching clipped to ``geometries`` (GeoJSON polygons), as one line trace's
    longitudes and latitudes. ``spacing`` in degrees defaults to a fortieth of the extent.

    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    >>> lon, lat = hatch_lines([square], spacing=0.5)
    >>> all(0 <= x <= 1 for x in lon if x is not None), hatch_lines([])
    (True, ([], []))
    """
    shapes = [shape(g).buffer(0) for g in geometries if g]
    if not shapes:
        return [], []
    area = unary_union(shapes)
    x0, y0, x1, y1 = area.bounds
    spacing = spacing or max(x1 - x0, y1 - y0, 1e-6) / 40
    lines = []
    n = math.ceil(((x1 - x0) + (y1 - y0)) / spacing) + 1
    for i in range(n):
        c = x0 - (y1 - y0) + i * spacing
        lines.append(LineString([(c, y0), (c + (y1 - y0), y1)]))
    return _join(_lines(area.intersection(MultiLineString([list(ln.coords) for ln in lines]))))


def overlays(geojson: dict, values: pd.DataFrame, value_text) -> list[go.Scattergeo]:
    """The traces drawn over a tract choropleth: hatching of the tracts without an estimate,
    the place's outline, and the labels of the lowest and highest tracts.

    ``values`` has ``geo_id`` and ``estimate``; ``value_text`` writes a value for people.

    >>> def box(x):
    ...     return {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1],
    ...                                                 [x, 0]]]}
    >>> gj = {"type": "FeatureCollection", "features": [
    ...     {"id": "40143000100", "geometry": box(0)}, {"id": "40143000200", "geometry": box(1)}]}
    >>> values = pd.DataFrame({"geo_id": ["40143000100", "40143000200"],
    ...                        "estimate": [25000.0, None]})
    >>> [t.name for t in overlays(gj, values, lambda v: f"${v:,.0f}")]
    ['No estimate (hatched)', 'Outline (union of its tracts)', 'The 3 lowest and 3 highest tracts']
    """
    by_id = {str(f.get("id")): f.get("geometry") for f in geojson.get("features", [])}
    traces: list[go.Scattergeo] = []
    has_value = values.dropna(subset=["estimate"])
    missing = [by_id[g] for g in values.loc[values["estimate"].isna(), "geo_id"].astype(str)
               if g in by_id]
    if missing:
        lon, lat = hatch_lines(missing)
        traces.append(go.Scattergeo(
            lon=lon, lat=lat, mode="lines", line={"color": HATCH, "width": 1},
            name=_("No estimate (hatched)"), hoverinfo="skip", showlegend=True))
    lon, lat = outline(list(by_id.values()))
    if lon:
        traces.append(go.Scattergeo(
            lon=lon, lat=lat, mode="lines", line={"color": OUTLINE, "width": 2.2},
            name=_("Outline (union of its tracts)"), hoverinfo="skip", showlegend=True))
    ranked = has_value[has_value["geo_id"].astype(str).isin(by_id)].sort_values("estimate")
    chosen = pd.concat([ranked.head(N_LABELLED), ranked.tail(N_LABELLED)]).drop_duplicates(
        "geo_id") if len(ranked) > 2 * N_LABELLED else ranked
    if len(chosen):
        points = [shape(by_id[str(g)]).representative_point() for g in chosen["geo_id"]]
        traces.append(go.Scattergeo(
            lon=[p.x for p in points], lat=[p.y for p in points], mode="markers+text",
            text=[tract_label(g, n) for g, n in zip(chosen["geo_id"], chosen.get(
                "name", [None] * len(chosen)), strict=True)], textposition="top center",
            textfont={"color": "#111111", "size": 12},
            marker={"size": 6, "color": "white", "line": {"color": "#111111", "width": 1.5}},
            customdata=[[value_text(float(v))] for v in chosen["estimate"]],
            hovertemplate="%{text}: %{customdata[0]}<extra></extra>",
            name=_("The 3 lowest and 3 highest tracts"), showlegend=True))
    return traces


__all__ = ["hatch_lines", "outline", "overlays", "tract_label", "tract_number"]
