"""Recipes: how a catalog metric is computed from PUMS microdata (``pums_recipes.toml``).

Each recipe names a declared metric, the table it counts (persons or households), the
estimator, the variable and the universe as row expressions over the decoded PUMS columns
(read by :mod:`upward.estimate.expressions`).

Examples
--------
>>> r = get_recipe("share_employed")
>>> r.table, r.kind, r.universe
('persons', 'proportion', 'AGEP >= 25 and AGEP <= 54 and in_household')
>>> sorted(recipes())[:2]
['pctl_income_20', 'pctl_income_50']
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from upward.core.errors import ConfigError
from upward.metrics.catalog import CatalogError, metric_ids

TABLES = ("persons", "households")
KINDS = ("total", "mean", "proportion", "ratio", "quantile")


@dataclass(frozen=True)
class Recipe:
    """One metric's computation from PUMS (see ``pums_recipes.toml`` for the keys).

    >>> r = get_recipe("share_employed")
    >>> r.table, r.kind, r.variable, r.weight
    ('persons', 'proportion', 'ESR in [1, 2, 4, 5]', 'PWGTP')
    """

    metric: str
    table: str
    kind: str
    variable: str
    universe: str
    definition: str
    denominator: str | None = None
    q: float | None = None

    @property
    def weight(self) -> str:
        """The full-sample weight of the recipe's table (replicates: the same prefix 1…80).

        >>> get_recipe("pctl_income_50").weight
        'WGTP'
        """
        return "PWGTP" if self.table == "persons" else "WGTP"


def parse_recipes(text: str) -> dict[str, Recipe]:
    """Parse and validate recipe TOML.

    >>> parse_recipes('[[recipe]]\\nmetric = "nope"\\ntable = "persons"\\nkind = "mean"\\n'
    ...               'variable = "AGEP"\\nuniverse = "AGEP > 0"\\ndefinition = "d"')
    Traceback (most recent call last):
    ...
    upward.metrics.catalog.CatalogError: pums_recipes.toml, recipe 'nope': the metric is not declared in catalog.toml
    """
    out: dict[str, Recipe] = {}
    known = metric_ids()
    for entry in tomllib.loads(text).get("recipe", []):
        name = entry.get("metric", "?")
        where = f"pums_recipes.toml, recipe {name!r}"
        if name not in known:
            raise CatalogError(f"{where}: the metric is not declared in catalog.toml")
        unknown = set(entry) - {"metric", "table", "kind", "variable", "universe", "definition",
                                "denominator", "q"}
        if unknown:
            raise CatalogError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        if entry.get("table") not in TABLES or entry.get("kind") not in KINDS:
            raise CatalogError(f"{where}: table must be one of {TABLES}, kind one of {KINDS}")
        if entry["kind"] == "quantile" and not 0 < float(entry.get("q", -1)) < 1:
            raise CatalogError(f"{where}: a quantile recipe needs q in (0, 1)")
        if name in out:
            raise CatalogError(f"{where}: declared twice")
        out[name] = Recipe(**entry)
    return out


@cache
def recipes() -> dict[str, Recipe]:
    """Every recipe, by metric id.

    >>> "share_digital_access" in recipes()
    True
    """
    text = resources.files("upward.metrics").joinpath("pums_recipes.toml").read_text("utf-8")
    return parse_recipes(text)


def get_recipe(metric_id: str) -> Recipe:
    """The recipe of a metric, or a :class:`ConfigError` listing the metrics that have one.

    >>> get_recipe("share_employd")
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: --metric 'share_employd' has no PUMS recipe. What to do: did you mean 'share_employed'? Metrics computed from PUMS: pctl_income_20, pctl_income_50, pctl_income_80, share_digital_access, share_employed, share_housing_cost_burden, share_hs_degree, share_in_preschool
    """
    found = recipes().get(metric_id)
    if found is None:
        names = sorted(recipes())
        near = difflib.get_close_matches(metric_id, names, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise ConfigError(f"--metric {metric_id!r} has no PUMS recipe",
                          fix=f"{hint}Metrics computed from PUMS: {', '.join(names)}")
    return found
