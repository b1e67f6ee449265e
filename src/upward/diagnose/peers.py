"""Comparison places: chosen automatically by a documented nearest-neighbour rule, saved for
the workspace by the user, or given for one run.

Automatic peers are the ``k`` geographies of the same level (places with places, counties with
counties) closest to the target on standardised covariates from the loaded data:

- log population (and only places from half to twice the target's population, when at least
  ``k`` such places exist),
- log median household income and log household income at the 20th percentile (how poor the
  poorer households are: Urban Institute ``pctl_income_50``, ``pctl_income_20``),
- the population shares Black non-Hispanic, Hispanic and white non-Hispanic (Urban Institute
  ``share_desc_rep_*``, the population side of the descriptive-representation metric),
- Census region: a candidate in another region is one standard deviation further away.

Distance is Euclidean in standard-deviation units; covariates the target lacks are left out.
Each peer carries ``why``: its population, incomes and region beside the target's. A city team
that prefers its own peers saves them in the workspace (``peers.toml``; ``upward peers PLACE
--set …`` or the form on the barriers page), and every later report uses them.

Examples
--------
>>> PEER_METHOD.startswith("nearest")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError
from upward.core.text import N_
from upward.geo.resolve import GeoMatch, resolve
from upward.geo.states import region_of
from upward.measure import frames
from upward.warehouse.store import Warehouse

COVARIATES = ("share_desc_rep_black_nonhispanic", "share_desc_rep_hispanic",
              "share_desc_rep_white_nonhispanic")
#: Income covariates, compared on the log scale.
INCOME_COVARIATES = ("pctl_income_50", "pctl_income_20")
REGION_PENALTY = 1.0
#: Candidates whose population is within this factor of the target's, when enough exist.
SIZE_FACTOR = 2.0
PEER_METHOD = N_("nearest neighbours on standardised log population (within half to twice the "
                 "population when enough places are), log median household income, log "
                 "household income at the 20th percentile, population shares Black, Hispanic "
                 "and white non-Hispanic, and Census region (+1 SD for another region)")
SAVED_METHOD = N_("saved for this workspace by the user (peers.toml)")
PEERS_FILE = "peers.toml"


@dataclass(frozen=True)
class Peer:
    """One comparison geography and its distance from the target (None when user-chosen).

    >>> Peer("4055000", "place", "Oklahoma City city, Oklahoma", 0.8).why
    ''
    """

    geo_id: str
    geo_level: str
    name: str
    distance: float | None
    why: str = ""


@dataclass(frozen=True)
class PeerSet:
    """The peers of a target and how they were chosen.

    >>> s = PeerSet(SAVED_METHOD, (Peer("4055000", "place", "Oklahoma City city", None),), ())
    >>> s.ids, s.method.startswith("saved")
    (['4055000'], True)
    """

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
    """One row per geography of ``level``: log population, covariates, region.

    >>> import tempfile, pathlib
    >>> t = covariate_table(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "place")
    >>> len(t), [c for c in t.columns if c.startswith("log_")]
    (0, ['log_pctl_income_50', 'log_pctl_income_20', 'log_population'])
    """

    def build() -> pd.DataFrame:
        geos = frames.named_geographies(wh)
        geos = geos[geos["geo_level"] == level].reset_index(drop=True)
        latest = frames.latest_values(wh)
        latest = latest[(latest.geo_level == level)
                        & latest.metric_id.isin(COVARIATES + INCOME_COVARIATES)]
        wide = latest.pivot_table(index="geo_id", columns="metric_id", values="estimate")
        for c in COVARIATES + INCOME_COVARIATES:
            if c not in wide.columns:
                wide[c] = np.nan
        for c in INCOME_COVARIATES:
            wide[f"log_{c}"] = np.log(wide[c].where(wide[c] > 0))
        table = geos.set_index("geo_id")[["name", "state_fips", "population"]].join(wide)
        table = table[table.index.isin(wide.index)]
        table["log_population"] = np.log(table["population"].where(table["population"] > 0))
        table["region"] = table["state_fips"].map(region_of)
        return table

    return wh.cached(f"peer_covariates:{level}", build)


def choose_peers(wh: Warehouse, target: GeoMatch, k: int = 10) -> PeerSet:
    """The ``k`` nearest geographies of the target's level (see the module text for the rule).

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> choose_peers(wh, GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), k=0)
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: --k 0: a peer group needs at least one member. What to do: use k ≥ 1
    >>> choose_peers(wh, GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"))
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: Tulsa city, Oklahoma has no population or demographic covariates loaded, so peers cannot be chosen automatically. What to do: load the Urban Institute files (upward fetch urban …) or give --peers
    """
    if k < 1:
        raise ConfigError(f"--k {k}: a peer group needs at least one member", fix="use k ≥ 1")
    table = covariate_table(wh, target.geo_level)
    if target.geo_id not in table.index:
        raise ConfigError(
            f"{target.name} has no population or demographic covariates loaded, so peers cannot "
            "be chosen automatically",
            fix="load the Urban Institute files (upward fetch urban …) or give --peers",
        )
    columns = ["log_population", *(f"log_{c}" for c in INCOME_COVARIATES), *COVARIATES]
    me = table.loc[target.geo_id]
    usable = [c for c in columns if pd.notna(me[c])]
    pool = table.drop(index=target.geo_id).dropna(subset=usable)
    if pd.notna(me["population"]) and me["population"] > 0:
        ratio = pool["population"] / me["population"]
        similar = pool[(ratio >= 1 / SIZE_FACTOR) & (ratio <= SIZE_FACTOR)]
        if len(similar) >= k:
            pool = similar
    spread = table[usable].std(ddof=0).replace(0, 1.0)
    z = (pool[usable] - me[usable].astype(float)) / spread
    distance = np.sqrt((z**2).sum(axis=1) + REGION_PENALTY**2 * (pool["region"] != me["region"]))
    nearest = distance.sort_values(kind="stable").head(k)
    peers = tuple(Peer(g, target.geo_level, table.at[g, "name"], float(d),
                       why_peer(table, g, target.geo_id))
                  for g, d in nearest.items())
    return PeerSet(PEER_METHOD, peers, tuple(usable))


def why_peer(table: pd.DataFrame, geo_id: str, target_id: str) -> str:
    """Why a place is a peer, in numbers beside the target's: population, median income,
    20th-percentile income, region.

    >>> t = pd.DataFrame({"population": [400000.0, 380000.0], "pctl_income_50": [60000.0,
    ...     58000.0], "pctl_income_20": [25000.0, 24000.0], "region": ["South", "South"]},
    ...     index=["a", "b"])
    >>> why_peer(t, "b", "a")
    'population 380,000 (400,000); median income $58,000 ($60,000); 20th-percentile income $24,000 ($25,000); same region (South)'
    """
    if geo_id not in table.index or target_id not in table.index:
        return ""
    p, me = table.loc[geo_id], table.loc[target_id]
    parts = []
    if pd.notna(p.get("population")):
        mine = f" ({me['population']:,.0f})" if pd.notna(me.get("population")) else ""
        parts.append(f"population {p['population']:,.0f}{mine}")
    for c, label in (("pctl_income_50", "median income"),
                     ("pctl_income_20", "20th-percentile income")):
        if c in p.index and pd.notna(p[c]):
            mine = f" (${me[c]:,.0f})" if pd.notna(me.get(c)) else ""
            parts.append(f"{label} ${p[c]:,.0f}{mine}")
    if pd.notna(p.get("region")):
        parts.append(f"same region ({p['region']})" if p["region"] == me.get("region")
                     else f"region {p['region']} ({me.get('region')})")
    return "; ".join(parts)


def given_peers(wh: Warehouse, target: GeoMatch, names: list[str]) -> PeerSet:
    """Peers named by the user (names or FIPS codes), of the target's level.

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> given_peers(wh, GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), [])
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: --peers is empty. What to do: name at least one peer, or leave it out
    """
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


def saved_peers_path(wh: Warehouse) -> Path:
    """The workspace's saved peers file, beside its warehouse.

    >>> import tempfile, pathlib
    >>> saved_peers_path(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")).name
    'peers.toml'
    """
    return Path(wh.path).parent / PEERS_FILE


def read_saved_peers(path: Path) -> dict[str, list[str]]:
    """The saved peer lists by target GEOID (empty when there is no file).

    >>> import tempfile, pathlib
    >>> read_saved_peers(pathlib.Path(tempfile.mkdtemp()) / "peers.toml")
    {}
    """
    import tomllib

    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}",
                          fix="correct the file or delete it to use automatic peers") from None
    table = data.get("peers", {})
    if not isinstance(table, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in table.values()):
        raise ConfigError(f"{path}: [peers] must map a GEOID to a list of GEOIDs",
                          fix='write e.g. "4075000" = ["4055000", "2079000"]')
    return {str(k): list(v) for k, v in table.items()}


def save_peers(path: Path, target_id: str, peer_ids: list[str] | None) -> None:
    """Save (or, with None, forget) the peers of one target, atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "peers.toml"
    >>> save_peers(p, "4075000", ["4055000"]); read_saved_peers(p)
    {'4075000': ['4055000']}
    >>> save_peers(p, "4075000", None); read_saved_peers(p)
    {}
    """
    import json

    from upward.core.atomic import atomic_write

    table = read_saved_peers(path)
    if peer_ids:
        table[target_id] = list(peer_ids)
    else:
        table.pop(target_id, None)
    lines = ["# Peers chosen by the city team (upward peers PLACE --set …, or the web form).",
             "[peers]"]
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(table.items())]
    atomic_write(path, "\n".join(lines) + "\n", mode=0o644)


def peers_for(wh: Warehouse, target: GeoMatch, names: list[str] | None = None,
              k: int = 10) -> PeerSet:
    """The peers a report uses: the ones given for this run, else the ones saved for the
    workspace, else the automatic ones.

    >>> import tempfile, pathlib
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> peers_for(wh, GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"))
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: Tulsa city, Oklahoma has no population or demographic covariates loaded, so peers cannot be chosen automatically. What to do: load the Urban Institute files (upward fetch urban …) or give --peers
    """
    if names:
        return given_peers(wh, target, names)
    saved = read_saved_peers(saved_peers_path(wh)).get(target.geo_id)
    if saved:
        chosen = given_peers(wh, target, saved)
        table = covariate_table(wh, target.geo_level)
        return PeerSet(SAVED_METHOD, tuple(
            Peer(p.geo_id, p.geo_level, p.name, None, why_peer(table, p.geo_id, target.geo_id))
            for p in chosen.peers), ())
    return choose_peers(wh, target, k)
