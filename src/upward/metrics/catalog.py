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
from dataclasses import asdict
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from upward.core.errors import MetricNotFoundError

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
#: Outcome domains: what a metric measures and what an intervention's effect moves, in the same
#: words, so a barrier (a metric) leads to the interventions that moved its domain elsewhere
#: (``upward.evidence.recommend``). Id → the label pages show.
OUTCOME_DOMAINS: dict[str, str] = {
    "earnings": "Earnings from work",
    "employment": "Employment",
    "income": "Household income and poverty",
    "wealth": "Debt, assets and home value",
    "early_learning": "Early learning",
    "k12": "School achievement and completion",
    "postsecondary": "Postsecondary enrolment and completion",
    "housing": "Housing stability and affordability",
    "neighbourhood": "Neighbourhood poverty and segregation",
    "health": "Health",
    "health_coverage": "Health insurance coverage",
    "food_security": "Food and nutrition",
    "justice": "Crime and justice",
    "public_assistance": "Reliance on public assistance",
    "public_finance": "Taxes paid and public costs",
    "taxable_income": "Taxable income (response to tax rates)",
    "transportation": "Transportation",
    "digital": "Digital access",
    "environment": "Environment",
    "civic": "Civic life and social capital",
}

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TEXT_KEYS = ("id", "label", "pillar", "predictor", "unit", "direction", "definition", "source",
              "publisher", "citation")
_OPTIONAL_KEYS = ("parity_value", "format")


class CatalogError(ValueError):
    """An entry of ``catalog.toml`` is malformed; the message names the metric and the key.

    >>> parse_catalog("[[metric")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.metrics.catalog.CatalogError: catalog.toml is not valid TOML: ...
    """


class _Problem(ValueError):
    """A problem with one key of an entry (carried through pydantic to :class:`CatalogError`)."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(problem)


def _text(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Problem(info.field_name, "missing, or not a non-empty string")
    return value


def _one_of(key: str, value: Any, allowed: frozenset[str] | dict) -> Any:
    if value not in allowed:
        raise _Problem(key, f"{value!r} is not one of {sorted(allowed)}")
    return value


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Metric:
    """One declared metric (see ``catalog.toml`` for the meaning of each field), validated on
    construction (pydantic).

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
    domains: tuple[str, ...] = ()

    _texts = field_validator(*_TEXT_KEYS, mode="before")(_text)

    @field_validator("id")
    @classmethod
    def _id_pattern(cls, value: str) -> str:
        if not _ID.match(value):
            raise _Problem("id", "must match ^[a-z][a-z0-9_]*$")
        return value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _one_of("unit", value, UNITS)

    @field_validator("direction")
    @classmethod
    def _direction(cls, value: str) -> str:
        return _one_of("direction", value, DIRECTIONS)

    @field_validator("publisher")
    @classmethod
    def _publisher(cls, value: str) -> str:
        return _one_of("publisher", value, PILLARS)

    @field_validator("geo_levels", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> tuple[str, ...]:
        if (not isinstance(value, list | tuple) or not set(value) <= GEO_LEVELS
                or len(set(value)) != len(value)):
            raise _Problem("geo_levels",
                           f"must be a list of distinct values among {sorted(GEO_LEVELS)}")
        return tuple(value)

    @field_validator("domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> tuple[str, ...]:
        if (not isinstance(value, list | tuple) or len(set(value)) != len(value)
                or not all(isinstance(v, str) for v in value)):
            raise _Problem("domains", "must be a list of distinct outcome domain ids")
        unknown = [v for v in value if v not in OUTCOME_DOMAINS]
        if unknown:
            raise _Problem("domains", f"{unknown[0]!r} is not an outcome domain: use one of "
                                      f"{sorted(OUTCOME_DOMAINS)}")
        return tuple(value)

    @field_validator("parity_value", mode="before")
    @classmethod
    def _parity_number(cls, value: Any) -> float | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _Problem("parity_value", "must be a number")
        return None if value is None else float(value)

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> str | None:
        return None if value is None else _one_of("format", value, FORMATS)

    @field_validator("recipe", mode="before")
    @classmethod
    def _recipe(cls, value: Any) -> dict[str, Any] | None:
        if value is not None and (not isinstance(value, dict)
                                  or value.get("kind") not in RECIPE_KINDS
                                  or not isinstance(value.get("table"), str)):
            raise _Problem("recipe", f"must be a table with 'table' and a 'kind' among "
                                     f"{sorted(RECIPE_KINDS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Metric:
        if self.pillar not in PILLARS[self.publisher]:
            raise _Problem("pillar", f"{self.pillar!r} is not a pillar of {self.publisher}: "
                                     f"{sorted(PILLARS[self.publisher])}")
        if (self.direction == "parity") != (self.parity_value is not None):
            raise _Problem("parity_value", "required for direction 'parity' and only for it")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The metric as a JSON-ready dict (``geo_levels`` as a list).

        Examples
        --------
        >>> get_metric("ratio_white_nh_house_value_households").to_dict()["parity_value"]
        1.0
        """
        out = asdict(self)
        out["geo_levels"] = list(self.geo_levels)
        out["domains"] = list(self.domains)
        return out


_KEY_ORDER = (*_TEXT_KEYS, "geo_levels", *_OPTIONAL_KEYS, "recipe", "domains")


def _check(entry: dict[str, Any], where: str) -> Metric:
    """Validate one entry through the pydantic model; the first problem names the key."""
    try:
        return Metric(**entry)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            cause = (error.get("ctx") or {}).get("error")
            key = cause.key if isinstance(cause, _Problem) else str(error["loc"][0]) \
                if error["loc"] else "?"
            if isinstance(cause, _Problem):
                text = cause.problem
            elif error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
                text = "unknown key"
            elif error["type"] == "missing" or error["type"] == "missing_argument":
                text = "missing, or not a non-empty string" if key in _TEXT_KEYS \
                    else "missing"
            else:
                text = error["msg"]
            rank = -1 if text == "unknown key" else (
                _KEY_ORDER.index(key) if key in _KEY_ORDER else len(_KEY_ORDER))
            problems.append((rank, key, text))
        _, key, text = min(problems, key=lambda p: p[0])
        raise CatalogError(f"catalog.toml, {where}, key {key!r}: {text}") from None


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
    upward.core.errors.MetricNotFoundError: no metric 'share_employd' in the catalog. What to do: did you mean 'share_employed'?
    """
    catalog = _catalog()
    if metric_id in catalog:
        return catalog[metric_id]
    near = difflib.get_close_matches(str(metric_id).strip().lower(), catalog, n=3, cutoff=0.6)
    fix = ("did you mean " + " or ".join(repr(n) for n in near) + "?" if near
           else "see upward.metrics.metric_ids() for the declared ids")
    raise MetricNotFoundError(f"no metric {metric_id!r} in the catalog", fix=fix)


def domain_label(domain: str) -> str:
    """The label of an outcome domain; ``MetricNotFoundError``-style error for an unknown one.

    Examples
    --------
    >>> domain_label("postsecondary")
    'Postsecondary enrolment and completion'
    """
    if domain not in OUTCOME_DOMAINS:
        raise ValueError(f"{domain!r} is not an outcome domain: use one of "
                         f"{', '.join(OUTCOME_DOMAINS)}")
    return OUTCOME_DOMAINS[domain]


def metrics_in_domain(domain: str) -> list[Metric]:
    """The declared metrics that measure an outcome domain, in catalog order.

    Examples
    --------
    >>> [m.id for m in metrics_in_domain("employment")]
    ['share_employed', 'acs_unemployment_rate']
    """
    domain_label(domain)
    return [m for m in _catalog().values() if domain in m.domains]
