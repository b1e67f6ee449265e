"""Comparison places: chosen automatically by a documented nearest-neighbour rule, or given.

Automatic peers are the ``k`` geographies of the same level (places with places, counties with
counties) closest to the target on standardised covariates from the loaded data:

- log population,
- the population shares Black non-Hispanic, Hispanic and white non-Hispanic (Urban Institute
  ``share_desc_rep_*``, the population side of the descriptive-representation metric),
- Census region: a candidate in another region is one standard deviation further away.

Distance is Euclidean in standard-deviation units; covariates the target lacks are left out.

Examples
--------
>>> PEER_METHOD.startswith("nearest")
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError
from upward.geo.resolve import GeoMatch, resolve
from upward.geo.states import region_of
from upward.measure import frames
from upward.warehouse.store import Warehouse

COVARIATES = ("share_desc_rep_black_nonhispanic", "share_desc_rep_hispanic",
              "share_desc_rep_white_nonhispanic")
REGION_PENALTY = 1.0
PEER_METHOD = ("nearest neighbours on standardised log population, population shares Black, "
               "Hispanic and white non-Hispanic, and Census region (+1 SD for another region)")


@dataclass(frozen=True)
class Peer:
    """One comparison geography and its distance from the target (None when user-chosen)."""

    geo_id: str
    geo_level: str
    name: str
    distance: float | None


@dataclass(frozen=True)
class PeerSet:
    """The peers of a target and how they were chosen."""

    method: str
    peers: tuple[Peer, ...]
    covariates: tuple[str, ...]

    @property
    def ids(self) -> list[str]:
        """Peer GEOIDs.

        >>> PeerSet("given", (Peer("1", "place", "A", None),), ()).ids
        ['1']
        """
        return [p.geo_id for p in self.peers]


def covariate_table(wh: Warehouse, level: str) -> pd.DataFrame:
    """One row per geography of ``level``: log population, covariates, region."""

    def build() -> pd.DataFrame:
        geos = frames.named_geographies(wh)
        geos = geos[geos["geo_level"] == level].reset_index(drop=True)
        latest = frames.latest_values(wh)
        latest = latest[(latest.geo_level == level) & latest.metric_id.isin(COVARIATES)]
        wide = latest.pivot_table(index="geo_id", columns="metric_id", values="estimate")
        table = geos.set_index("geo_id")[["name", "state_fips", "population"]].join(wide)
        table = table[table.index.isin(wide.index)]
        table["log_population"] = np.log(table["population"].where(table["population"] > 0))
        table["region"] = table["state_fips"].map(region_of)
        return table

    return wh.cached(f"peer_covariates:{level}", build)


def choose_peers(wh: Warehouse, target: GeoMatch, k: int = 10) -> PeerSet:
    """The ``k`` nearest geographies of the target's level (see the module text for the rule)."""
    if k < 1:
        raise ConfigError(f"--k {k}: a peer group needs at least one member", fix="use k ≥ 1")
    table = covariate_table(wh, target.geo_level)
    if target.geo_id not in table.index:
        raise ConfigError(
            f"{target.name} has no population or demographic covariates loaded, so peers cannot "
            "be chosen automatically",
            fix="load the Urban Institute files (upward fetch urban …) or give --peers",
        )
    columns = ["log_population", *COVARIATES]
    me = table.loc[target.geo_id]
    usable = [c for c in columns if pd.notna(me[c])]
    pool = table.drop(index=target.geo_id).dropna(subset=usable)
    spread = table[usable].std(ddof=0).replace(0, 1.0)
    z = (pool[usable] - me[usable].astype(float)) / spread
    distance = np.sqrt((z**2).sum(axis=1) + REGION_PENALTY**2 * (pool["region"] != me["region"]))
    nearest = distance.sort_values(kind="stable").head(k)
    peers = tuple(Peer(g, target.geo_level, table.at[g, "name"], float(d))
                  for g, d in nearest.items())
    return PeerSet(PEER_METHOD, peers, tuple(usable))


def given_peers(wh: Warehouse, target: GeoMatch, names: list[str]) -> PeerSet:
    """Peers named by the user (names or FIPS codes), of the target's level."""
    geos = frames.named_geographies(wh)
    out = []
    for name in names:
        match = resolve(name, geos, levels=(target.geo_level,))
        if match.geo_id == target.geo_id:
            raise ConfigError(f"--peers {name!r} is the place itself",
                              fix="leave it out of the peer list")
        out.append(Peer(match.geo_id, match.geo_level, match.name, None))
    if not out:
        raise ConfigError("--peers is empty", fix="name at least one peer, or leave it out")
    return PeerSet("chosen by the user", tuple(out), ())
