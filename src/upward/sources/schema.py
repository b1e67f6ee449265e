"""The canonical tables (DESIGN.md), declared once as pyarrow schemas and checked column-wise.

Every connector returns these; the warehouse creates its tables from them.

Examples
--------
>>> empty("observations").columns.tolist()[:4]
['geo_id', 'geo_level', 'metric_id', 'period']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
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
GEO_ID_PATTERN = r"^(?:\d{2,12}|area:[a-z0-9-]+:[a-z0-9-]+)$"

#: What an observation's lb/ub mean (the `bounds` column).
BOUNDS_KINDS = ["ci95", "none"]

@dataclass(frozen=True)
class Rule:
    """What one column of a canonical table must hold (checked column-wise, not row by row).

    >>> RULES["observations"]["se"]
    Rule(nullable=True, pattern=None, allowed=None, minimum=0)
    >>> Rule(allowed=(1, 2, 3)).nullable  # a value is required unless declared otherwise
    False
    """

    nullable: bool = False
    pattern: str | None = None
    allowed: tuple | None = None
    minimum: float | None = None


_ID = GEO_ID_PATTERN

#: The checks on the long tables; any other column is only typed.
RULES: dict[str, dict[str, Rule]] = {
    "observations": {
        "geo_id": Rule(pattern=_ID),
        "geo_level": Rule(allowed=tuple(GEO_LEVELS)),
        "metric_id": Rule(pattern=r"^[a-z][a-z0-9_]*$"),
        "period": Rule(),
        "subgroup_type": Rule(),
        "subgroup": Rule(),
        "estimate": Rule(nullable=True),
        "lb": Rule(nullable=True),
        "ub": Rule(nullable=True),
        "se": Rule(nullable=True, minimum=0),
        "quality": Rule(nullable=True, allowed=(1, 2, 3)),
        "bounds": Rule(allowed=tuple(BOUNDS_KINDS)),
        "source_id": Rule(),
    },
    "geographies": {
        "geo_id": Rule(pattern=_ID),
        "geo_level": Rule(allowed=tuple(GEO_LEVELS)),
        "name": Rule(nullable=True),
        "state_fips": Rule(nullable=True),
        "parent_geo_id": Rule(nullable=True),
        "population": Rule(nullable=True, minimum=0),
        "vintage": Rule(nullable=True),
        "source_id": Rule(),
    },
}


class SchemaBreak(ValueError):
    """A canonical table holds a value its schema does not allow (column, row and value named).

    >>> str(SchemaBreak("observations", "se", 4, -1.0, "is below 0"))
    "observations column 'se' is below 0 at row 4: -1.0"
    """

    def __init__(self, table: str, column: str, row: int, value: object, what: str) -> None:
        super().__init__(f"{table} column {column!r} {what} at row {row}: {value!r}")
        self.table, self.column, self.row, self.value = table, column, row, value


def empty(table: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of a canonical table.

    >>> len(empty("geometry"))
    0
    """
    return TABLES[table].empty_table().to_pandas()


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Order, type and (where declared) check a frame as the canonical ``table``.

    Required text columns of the long tables become pandas' Arrow-backed ``str`` (optional
    ones hold ``None`` where missing); the long tables' columns are checked
    with vectorised rules (``RULES``). Raises ``SchemaBreak`` naming the column, the row and the
    value when one breaks the schema; connectors turn that into an ``InputFileError`` naming
    their file.

    >>> conform("crosswalks", empty("crosswalks")).shape
    (0, 6)
    """
    columns = TABLES[table].names
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table} frame lacks columns {missing}")
    out = frame.loc[:, columns].reset_index(drop=True)
    rules = RULES.get(table, {})
    for name in columns:
        kind = TABLES[table].field(name).type
        if kind == _F:
            out[name] = pd.to_numeric(out[name], errors="raise").astype("float64")
        elif kind == pa_arrow.int8():
            out[name] = pd.array(out[name], dtype="Int8")
        elif kind == pa_arrow.int64():
            out[name] = out[name].astype("int64")
        elif rules.get(name, Rule(nullable=True)).nullable:
            out[name] = out[name].astype("object").where(out[name].notna(), None)
        elif out[name].dtype != "str":
            out[name] = out[name].astype("str")
    for name, rule in rules.items():
        _check(table, name, out[name], rule)
    return out


def _check(table: str, name: str, values: pd.Series, rule: Rule) -> None:
    """Raise ``SchemaBreak`` at the first value of a column that breaks its rule."""
    present = values.notna()
    if not rule.nullable and not present.all():
        _fail(table, name, values, ~present, "is empty (a value is required)")
    if rule.pattern is not None:
        bad = present & ~values.str.contains(rule.pattern, regex=True).fillna(False)
        if bad.any():
            _fail(table, name, values, bad, f"does not match {rule.pattern!r}")
    if rule.allowed is not None:
        bad = present & ~values.isin(rule.allowed)
        if bad.any():
            _fail(table, name, values, bad, f"is not one of {list(rule.allowed)}")
    if rule.minimum is not None:
        bad = present & (values < rule.minimum).fillna(False)
        if bad.any():
            _fail(table, name, values, bad, f"is below {rule.minimum:g}")


def _fail(table: str, name: str, values: pd.Series, bad: pd.Series, what: str) -> None:
    row = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    raise SchemaBreak(table, name, row, values.iloc[row], what)
