"""The metric catalog: every metric Upward knows, declared once in ``catalog.toml``.

The catalog is loaded and validated on first use; a malformed entry raises :class:`CatalogError`
naming the metric and the key.

Examples
--------
>>> m = get_metric("pctl_income_50")
>>> m.label, m.unit, m.direction
('Median household income', 'dollars', 'higher')
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from upward.errors import MetricNotFoundError

URBAN_PILLARS = frozenset({
    "Rewarding Work",
    "High-Quality Education",
    "Opportunity-Rich & Inclusive Neighborhoods",
    "Healthy Environment & Access to Good Health Care",
    "Responsive & Just Governance",
})
OI_PILLARS = frozenset({"Opportunity Atlas", "Social Capital"})
#: Metrics Upward computes from Census tables (recipes) are filed under the Urban framework's
#: pillars, so they sit next to the published metrics they complement.
PILLARS = {"Urban Institute": URBAN_PILLARS, "Opportunity Insights": OI_PILLARS,
           "U.S. Census Bureau": URBAN_PILLARS}
UNITS = frozenset({
    "share", "dollars", "rate per 100,000", "ratio", "index", "count", "rank",
    "percentile rank", "per 10,000", "grade levels per year", "people",
})
DIRECTIONS = frozenset({"higher", "lower", "parity", "context"})
FORMATS = frozenset({"percent", "dollars", "number", "rank"})
GEO_LEVELS = frozenset({"place", "county", "tract", "zip", "block_group", "area"})
RECIPE_KINDS = frozenset({"sum", "proportion", "ratio", "median"})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TEXT_KEYS = ("id", "label", "pillar", "predictor", "unit", "direction", "definition", "source",
              "publisher", "citation")
_OPTIONAL_KEYS = ("parity_value", "format")


class CatalogError(ValueError):
    """An entry of ``catalog.toml`` is malformed; the message names the metric and the key."""


@dataclass(frozen=True)
class Metric:
    """One declared metric (see ``catalog.toml`` for the meaning of each field).

    Examples
    --------
    >>> get_metric("share_employed").to_dict()["geo_levels"]
    ['place', 'county']
    """

    id: str
    label: str
    pillar: str
    predictor: str
    unit: str
    direction: str
    definition: str
    source: str
    publisher: str
    citation: str
    geo_levels: tuple[str, ...]
    parity_value: float | None = None
    format: str | None = None
    recipe: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The metric as a JSON-ready dict (``geo_levels`` as a list).

        Examples
        --------
        >>> get_metric("ratio_white_nh_house_value_households").to_dict()["parity_value"]
        1.0
        """
        out = asdict(self)
        out["geo_levels"] = list(self.geo_levels)
        return out


def _check(entry: dict[str, Any], where: str) -> Metric:
    def fail(key: str, problem: str) -> CatalogError:
        return CatalogError(f"catalog.toml, {where}, key {key!r}: {problem}")

    unknown = sorted(set(entry) - {*_TEXT_KEYS, *_OPTIONAL_KEYS, "geo_levels", "recipe"})
    if unknown:
        raise fail(unknown[0], "unknown key")
    for key in _TEXT_KEYS:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise fail(key, "missing, or not a non-empty string")
    if not _ID.match(entry["id"]):
        raise fail("id", "must match ^[a-z][a-z0-9_]*$")
    allowed = {"unit": UNITS, "direction": DIRECTIONS, "publisher": PILLARS}
    for key, values in allowed.items():
        if entry[key] not in values:
            raise fail(key, f"{entry[key]!r} is not one of {sorted(values)}")
    if entry["pillar"] not in PILLARS[entry["publisher"]]:
        raise fail("pillar", f"{entry['pillar']!r} is not a pillar of {entry['publisher']}: "
                             f"{sorted(PILLARS[entry['publisher']])}")
    levels = entry.get("geo_levels")
    if (not isinstance(levels, list) or not set(levels) <= GEO_LEVELS
            or len(set(levels)) != len(levels)):
        raise fail("geo_levels", f"must be a list of distinct values among {sorted(GEO_LEVELS)}")
    parity = entry.get("parity_value")
    if (entry["direction"] == "parity") != (parity is not None):
        raise fail("parity_value", "required for direction 'parity' and only for it")
    if parity is not None and (isinstance(parity, bool) or not isinstance(parity, int | float)):
        raise fail("parity_value", "must be a number")
    if entry.get("format", "number") not in FORMATS:
        raise fail("format", f"{entry['format']!r} is not one of {sorted(FORMATS)}")
    fields = {k: entry[k] for k in (*_TEXT_KEYS, *_OPTIONAL_KEYS) if k in entry}
    if parity is not None:
        fields["parity_value"] = float(parity)
    recipe = entry.get("recipe")
    if recipe is not None:
        if (not isinstance(recipe, dict) or recipe.get("kind") not in RECIPE_KINDS
                or not isinstance(recipe.get("table"), str)):
            raise fail("recipe", f"must be a table with 'table' and a 'kind' among "
                                 f"{sorted(RECIPE_KINDS)}")
        fields["recipe"] = recipe
    return Metric(**fields, geo_levels=tuple(levels))


def parse_catalog(text: str) -> list[Metric]:
    """Parse and validate catalog TOML text (one ``[[metric]]`` table per metric).

    Examples
    --------
    >>> parse_catalog('''[[metric]]
    ... id = "x"
    ... label = "X"
    ... pillar = "Social Capital"
    ... predictor = "Cohesiveness"
    ... unit = "share"
    ... direction = "sideways"
    ... definition = "d"
    ... source = "s"
    ... publisher = "Opportunity Insights"
    ... citation = "c"
    ... geo_levels = ["zip"]''')
    Traceback (most recent call last):
    ...
    upward.metrics.catalog.CatalogError: catalog.toml, metric 'x', key 'direction': 'sideways' is not one of ['context', 'higher', 'lower', 'parity']
    """
    try:
        entries = tomllib.loads(text).get("metric", [])
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog.toml is not valid TOML: {exc}") from exc
    metrics: list[Metric] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        where = f"metric {entry['id']!r}" if isinstance(entry.get("id"), str) else f"metric #{n}"
        metric = _check(entry, where)
        if metric.id in seen:
            raise CatalogError(f"catalog.toml, {where}, key 'id': declared more than once")
        seen.add(metric.id)
        metrics.append(metric)
    return metrics


@cache
def _catalog() -> dict[str, Metric]:
    text = resources.files("upward.metrics").joinpath("catalog.toml").read_text("utf-8")
    return {m.id: m for m in parse_catalog(text)}


def all_metrics() -> list[Metric]:
    """Every declared metric, in catalog order.

    Examples
    --------
    >>> all_metrics()[0].publisher
    'Urban Institute'
    """
    return list(_catalog().values())


def metric_ids() -> frozenset[str]:
    """The ids of every declared metric.

    Examples
    --------
    >>> {"kfr_p25", "ec", "share_employed"} <= metric_ids()
    True
    """
    return frozenset(_catalog())


def get_metric(metric_id: str) -> Metric:
    """The declared metric with this id; raises ``MetricNotFoundError`` with near ids otherwise.

    Examples
    --------
    >>> get_metric("kfr_p25").unit
    'rank'
    >>> get_metric("share_employd")
    Traceback (most recent call last):
    ...
    upward.errors.MetricNotFoundError: no metric 'share_employd' in the catalog. What to do: did you mean 'share_employed'?
    """
    catalog = _catalog()
    if metric_id in catalog:
        return catalog[metric_id]
    near = difflib.get_close_matches(str(metric_id).strip().lower(), catalog, n=3, cutoff=0.6)
    fix = ("did you mean " + " or ".join(repr(n) for n in near) + "?" if near
           else "see upward.metrics.metric_ids() for the declared ids")
    raise MetricNotFoundError(f"no metric {metric_id!r} in the catalog", fix=fix)
