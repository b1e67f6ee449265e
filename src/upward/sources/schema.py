"""The canonical tables (DESIGN.md), declared once as pyarrow schemas and checked with pandera.

Every connector returns these; the warehouse creates its tables from them.

Examples
--------
>>> empty("observations").columns.tolist()[:4]
['geo_id', 'geo_level', 'metric_id', 'period']
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from upward.geo.ids import GEO_LEVELS as GEO_LEVEL_NAMES

_S = pa_arrow.string()
_F = pa_arrow.float64()

TABLES: dict[str, pa_arrow.Schema] = {
    "geographies": pa_arrow.schema(
        [
            ("geo_id", _S),
            ("geo_level", _S),
            ("name", _S),
            ("state_fips", _S),
            ("parent_geo_id", _S),
            ("population", _F),
            ("vintage", _S),
            ("source_id", _S),
        ]
    ),
    "observations": pa_arrow.schema(
        [
            ("geo_id", _S),
            ("geo_level", _S),
            ("metric_id", _S),
            ("period", _S),
            ("subgroup_type", _S),
            ("subgroup", _S),
            ("estimate", _F),
            ("lb", _F),
            ("ub", _F),
            ("se", _F),
            ("quality", pa_arrow.int8()),
            ("bounds", _S),
            ("source_id", _S),
        ]
    ),
    "crosswalks": pa_arrow.schema(
        [
            ("from_geo_id", _S),
            ("to_geo_id", _S),
            ("weight", _F),
            ("weight_kind", _S),
            ("vintage", _S),
            ("source_id", _S),
        ]
    ),
    "geometry": pa_arrow.schema(
        [("geo_id", _S), ("vintage", _S), ("geojson", _S), ("source_id", _S)]
    ),
    "sources": pa_arrow.schema(
        [
            ("source_id", _S),
            ("dataset", _S),
            ("publisher", _S),
            ("title", _S),
            ("url", _S),
            ("retrieved_at", _S),
            ("sha256", _S),
            ("rows", pa_arrow.int64()),
            ("license", _S),
            ("notes", _S),
        ]
    ),
}

#: Row keys: a load that would store two rows with the same key is rejected.
KEYS: dict[str, tuple[str, ...]] = {
    "geographies": ("geo_id", "geo_level", "source_id"),
    "observations": (
        "geo_id", "geo_level", "metric_id", "period", "subgroup_type", "subgroup", "source_id"),
    "crosswalks": ("from_geo_id", "to_geo_id", "weight_kind", "vintage", "source_id"),
    "geometry": ("geo_id", "vintage", "source_id"),
    "sources": ("source_id",),
}

GEO_LEVELS = list(GEO_LEVEL_NAMES)

#: lb/ub are 95% bounds: se = (ub − lb) / (2 · Z95), and bounds = estimate ± Z95 · se.
Z95 = 1.959964

#: A geo_id: a zero-padded GEOID (2–12 digits) or a custom area ``area:<set>:<area>``.
GEO_ID_PATTERN = r"^(\d{2,12}|area:[a-z0-9-]+:[a-z0-9-]+)$"

#: What an observation's lb/ub mean (the `bounds` column).
BOUNDS_KINDS = ["ci95", "none"]

_checks = {
    "observations": pa.DataFrameSchema(
        {
            "geo_id": pa.Column(str, pa.Check.str_matches(GEO_ID_PATTERN)),
            "geo_level": pa.Column(str, pa.Check.isin(GEO_LEVELS)),
            "metric_id": pa.Column(str, pa.Check.str_matches(r"^[a-z][a-z0-9_]*$")),
            "period": pa.Column(str),
            "subgroup_type": pa.Column(str),
            "subgroup": pa.Column(str),
            "estimate": pa.Column(float, nullable=True),
            "lb": pa.Column(float, nullable=True),
            "ub": pa.Column(float, nullable=True),
            "se": pa.Column(float, pa.Check.ge(0), nullable=True),
            "quality": pa.Column("Int8", pa.Check.isin([1, 2, 3]), nullable=True),
            "bounds": pa.Column(str, pa.Check.isin(BOUNDS_KINDS)),
            "source_id": pa.Column(str),
        },
        strict=True,
        coerce=True,
    ),
    "geographies": pa.DataFrameSchema(
        {
            "geo_id": pa.Column(str, pa.Check.str_matches(GEO_ID_PATTERN)),
            "geo_level": pa.Column(str, pa.Check.isin(GEO_LEVELS)),
            "name": pa.Column(str, nullable=True),
            "state_fips": pa.Column(str, nullable=True),
            "parent_geo_id": pa.Column(str, nullable=True),
            "population": pa.Column(float, pa.Check.ge(0), nullable=True),
            "vintage": pa.Column(str, nullable=True),
            "source_id": pa.Column(str),
        },
        strict=True,
        coerce=True,
    ),
}


def empty(table: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of a canonical table.

    >>> len(empty("geometry"))
    0
    """
    return TABLES[table].empty_table().to_pandas()


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Order, type and (where declared) check a frame as the canonical ``table``.

    Raises ``pandera.errors.SchemaError`` when a value breaks the schema; connectors turn
    that into an ``InputFileError`` naming their file.

    >>> conform("crosswalks", empty("crosswalks")).shape
    (0, 6)
    """
    columns = TABLES[table].names
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table} frame lacks columns {missing}")
    out = frame.loc[:, columns].reset_index(drop=True)
    for name in columns:
        kind = TABLES[table].field(name).type
        if kind == _F:
            out[name] = pd.to_numeric(out[name], errors="raise").astype("float64")
        elif kind == pa_arrow.int8():
            out[name] = pd.array(out[name], dtype="Int8")
        elif kind == pa_arrow.int64():
            out[name] = out[name].astype("int64")
        else:
            out[name] = out[name].astype("object").where(out[name].notna(), None)
    if table in _checks:
        _checks[table].validate(out, lazy=False)
    return out
