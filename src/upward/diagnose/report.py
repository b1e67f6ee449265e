"""``barriers(place)``: where a city falls significantly behind its peers and the nation, for
whom, and where; assembled from the profile, the peers, the gap tests, trends, disparities,
neighbourhoods and drivers.

Barrier ranking (documented score): a finding is a metric significantly worse than the peer
median or the national median (Benjamini–Hochberg, see ``gaps``), quality not 3. Findings are
ranked by ``score`` = the share of US places (or counties) doing better on the metric, in
percentage points above 50 (how far the city trails the middle of the nation), plus 10 when it
is also significantly behind its peers; ties go to the larger |z| against the peers. They are
numbered in the order shown: grouped by pillar, the pillar of the most severe finding first.

Examples
--------
>>> import upward
>>> report = upward.barriers("Tulsa, OK", workspace="ws")  # doctest: +SKIP
>>> report.findings[0].sentence  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from upward.core.results import JsonReport
from upward.core.text import N_
from upward.diagnose.disparities import Disparity, disparities
from upward.diagnose.gaps import gap_tests, median_se, share_worse
from upward.diagnose.peers import PeerSet, peers_for
from upward.diagnose.trends import TrendFinding, trend_findings
from upward.geo.resolve import GeoMatch
from upward.measure import frames
from upward.measure.profile import MetricEntry, Profile, build_profile
from upward.measure.render import format_value
from upward.metrics import get_metric
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace, resolve_workspace

SCHEMA_VERSION = "1.0"
#: Units whose values grow with the size of the place (counts of people or things).
SIZE_UNITS = frozenset({"count", "people"})


@dataclass(frozen=True)
class MetricGap:
    """A metric's position against its peers and the nation, with both gap tests.

    >>> g = MetricGap("pctl_income_50", "Median household income", "W", "dollars", "higher",
    ...     36700, 34400, 40800, 1, "2021", 45000, 10, 9, -8300, -3.1, 0.01, 50000, 486, 0.97,
    ...     -13300, -5.0, 0.001, True, True, True, True, "")
    >>> g.finding, g.behind_peers, g.peers_better, g.peer_n
    (True, True, 9, 10)
    """

    metric_id: str
    label: str
    pillar: str
    unit: str
    direction: str
    estimate: float
    lb: float | None
    ub: float | None
    quality: int | None
    period: str
    peer_median: float | None
    peer_n: int
    peers_better: int | None
    peer_gap: float | None
    peer_z: float | None
    peer_q: float | None
    national_median: float | None
    national_n: int
    national_share_better: float | None
    national_gap: float | None
    national_z: float | None
    national_q: float | None
    tested: bool
    behind_peers: bool
    behind_nation: bool
    finding: bool
    note: str


@dataclass(frozen=True)
class Finding:
    """A barrier: a metric where the city is significantly worse, with its sentence.

    >>> f = Finding(1, "pctl_income_50", "Median household income", "Opportunity-rich", 57.0,
    ...             "Median household income is $36,700.", True, True)
    >>> f.rank, f.score
    (1, 57.0)
    """

    rank: int
    metric_id: str
    label: str
    pillar: str
    score: float
    sentence: str
    behind_peers: bool
    behind_nation: bool


@dataclass
class BarrierReport(JsonReport):
    """Everything ``upward barriers`` reports. ``to_json()``, ``to_markdown()``, ``to_dict()``.

    >>> from upward.diagnose.peers import Peer
    >>> f = Finding(1, "pctl_income_50", "Median household income", "Jobs", 57.0, "…", True, True)
    >>> r = BarrierReport(GeoMatch("4075000", "place", "Tulsa city, Oklahoma", "40"), None,
    ...                   PeerSet("given", (Peer("4055000", "place", "Oklahoma City", None),), ()),
    ...                   0.05, [], [f], [], [], None, None, [], {})
    >>> list(r.by_pillar()), r.to_dict()["findings"][0]["rank"], r.schema_version
    (['Jobs'], 1, '1.0')
    """

    geo: GeoMatch
    county: GeoMatch | None
    peers: PeerSet
    alpha: float
    gaps: list[MetricGap]
    findings: list[Finding]
    trends: list[TrendFinding]
    disparities: list[Disparity]
    neighbourhoods: dict | None
    drivers: dict | None
    warnings: list[str]
    method: dict
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: str = SCHEMA_VERSION

    def by_pillar(self) -> dict[str, list[Finding]]:
        """Findings grouped by pillar, in rank order."""
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.pillar, []).append(f)
        return out

    def to_markdown(self) -> str:
        """A Markdown briefing."""
        from upward.diagnose.render import barriers_markdown

        return barriers_markdown(self)


def barriers(place: str, *, workspace: Workspace | Path | str | None = None,
             warehouse: Warehouse | None = None, peers: list[str] | None = None, k: int = 10,
             alpha: float = 0.05, include_drivers: bool = True,
             include_neighbourhoods: bool = True) -> BarrierReport:
    """Diagnose the barriers of a place or county.

    ``peers`` names comparison places (names or FIPS); otherwise ``k`` are chosen (see
    ``upward.diagnose.peers``). ``alpha`` is the false discovery rate of the gap tests.

    >>> barriers("Tulsa, OK", workspace="ws")  # doctest: +SKIP
    """
    if warehouse is not None:
        return build_barriers(warehouse, place, peers=peers, k=k, alpha=alpha,
                              include_drivers=include_drivers,
                              include_neighbourhoods=include_neighbourhoods)
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(
        Path(workspace) if workspace else resolve_workspace(None))
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        return build_barriers(wh, place, peers=peers, k=k, alpha=alpha,
                              include_drivers=include_drivers,
                              include_neighbourhoods=include_neighbourhoods)


def national_values(wh: Warehouse, level: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Latest values and their standard errors for every geography of ``level``, by metric
    (cached).

    >>> import tempfile, pathlib
    >>> national_values(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "place")
    {}
    """

    def build() -> dict[str, tuple[np.ndarray, np.ndarray]]:
        latest = frames.latest_values(wh)
        latest = latest[latest.geo_level == level]
        return {m: (g["estimate"].to_numpy(float), g["se"].to_numpy(float))
                for m, g in latest.groupby("metric_id")}

    return wh.cached(f"national:{level}", build)  # type: ignore[arg-type]


def build_barriers(wh: Warehouse, place: str, *, peers: list[str] | None = None, k: int = 10,
                   alpha: float = 0.05, include_drivers: bool = True,
                   include_neighbourhoods: bool = True) -> BarrierReport:
    """Assemble the report from an open warehouse.

    >>> import tempfile, pathlib
    >>> build_barriers(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), "Tulsa, OK")
    Traceback (most recent call last):
    ...
    upward.core.errors.PlaceNotFoundError: the warehouse holds no geographies yet. What to do: load data first: upward fetch urban … --from DIR, or upward demo
    """
    profile = build_profile(wh, place)
    geo = profile.geo
    if not 0 < alpha < 1:
        from upward.core.errors import ConfigError

        raise ConfigError(f"--alpha {alpha} is not a rate", fix="use a value between 0 and 1")
    peer_set = peers_for(wh, geo, peers, k)
    gaps = _gaps(wh, profile, peer_set, alpha)
    warnings = []
    neighbourhoods = drivers = None
    if include_neighbourhoods and geo.geo_level in ("place", "county"):
        neighbourhoods, note = _optional(lambda: _neighbourhoods(wh, geo))
        warnings += note
    if include_drivers:
        drivers, note = _optional(lambda: _drivers(wh, geo))
        if drivers is None and geo.geo_level == "place" and profile.county is not None:
            # Too few places with Atlas tracts (the demo, a partial load): the county model
            # still tells the city's county where it stands.
            drivers, more = _optional(lambda: _drivers(wh, profile.county))
            note = [N_("{problem} — using the county-level model for {county} instead",
                       problem=n, county=profile.county.name)
                    for n in note] if drivers is not None else note + more
        warnings += note
    return BarrierReport(
        geo=geo,
        county=profile.county,
        peers=peer_set,
        alpha=alpha,
        gaps=gaps,
        findings=_rank(gaps, geo.geo_level),
        trends=trend_findings(wh, profile, peer_set.ids, alpha),
        disparities=disparities(profile),
        neighbourhoods=neighbourhoods,
        drivers=drivers,
        warnings=warnings + [g.note for g in gaps if g.finding is False and g.quality == 3
                             and (g.behind_peers or g.behind_nation)],
        method={
            "peers": peer_set.method,
            "gap_test": N_("z = (x − benchmark) / sqrt(se_x² + se_benchmark²); se from the "
                           "published 95% interval, (ub − lb) / 3.92; benchmark se = 1.2533 · "
                           "rms(se) / sqrt(m); two-sided, Benjamini–Hochberg across metrics "
                           "per benchmark at FDR {alpha}", alpha=alpha),
            "findings": N_("significantly worse than the peer median or the national median, "
                           "in the metric's direction (metric catalog), quality not 3"),
            "score": N_("share of US geographies doing better, in points above 50, +10 if "
                        "also behind peers"),
        },
    )


def _optional(build):
    from upward.core.errors import UpwardError

    try:
        return build(), []
    except UpwardError as exc:
        return None, [N_("{problem}. What to do: {fix}", problem=exc.message, fix=exc.fix)
                      if exc.fix else exc.message]


def _neighbourhoods(wh: Warehouse, geo: GeoMatch) -> dict:
    from upward.diagnose.neighbourhoods import neighbourhoods

    return neighbourhoods(wh, geo).to_dict()


def _drivers(wh: Warehouse, geo: GeoMatch) -> dict:
    from upward.diagnose.drivers import drivers

    return drivers(wh, level=geo.geo_level, highlight=geo.geo_id).to_dict()


def _gaps(wh: Warehouse, profile: Profile, peer_set: PeerSet, alpha: float) -> list[MetricGap]:
    level = profile.geo.geo_level
    national = national_values(wh, level)
    peer_rows = [{r.metric_id: (r.estimate, r.se) for r in
                  frames.rows_of(wh, "percentiles", p, level).itertuples(index=False)}
                 for p in peer_set.ids]
    entries: list[MetricEntry] = list(profile.metrics)
    n = len(entries)
    x = np.array([m.estimate for m in entries])
    se_x = np.array([m.se if m.se is not None else np.nan for m in entries])
    quality = np.array([m.quality if m.quality is not None else np.nan for m in entries])
    # A count grows with the place, so comparing it across places says nothing about barriers.
    directions = ["context" if m.unit in SIZE_UNITS else m.direction for m in entries]
    parity = np.array([get_metric(m.metric_id).parity_value or np.nan if m.declared else np.nan
                       for m in entries])
    peer_values, peer_med, peer_se = [], np.full(n, np.nan), np.zeros(n)
    for i, m in enumerate(entries):
        pairs = [r[m.metric_id] for r in peer_rows if m.metric_id in r]
        vals = np.array([v for v, _ in pairs], dtype=float)
        ses = np.array([se for _, se in pairs], dtype=float)
        peer_values.append(vals)
        if len(vals):
            peer_med[i] = float(np.median(vals))
            peer_se[i] = median_se(ses)
    empty = (np.array([]), np.array([]))
    nat_med = np.array([float(np.median(national[m.metric_id][0])) if m.metric_id in national
                        else np.nan for m in entries])
    nat_se = np.array([median_se(national.get(m.metric_id, empty)[1]) for m in entries])
    vs_peers = gap_tests(x, se_x, peer_med, peer_se, directions, quality, parity=parity, alpha=alpha)
    vs_nation = gap_tests(x, se_x, nat_med, nat_se, directions, quality, parity=parity, alpha=alpha)
    out = []
    for i, m in enumerate(entries):
        par = None if np.isnan(parity[i]) else float(parity[i])
        better = share_worse(m.estimate, peer_values[i], m.direction, par)
        nat_values = national.get(m.metric_id, empty)[0]
        nat_better = share_worse(m.estimate, nat_values, m.direction, par)
        behind_p = bool(vs_peers.at[i, "finding"])
        behind_n = bool(vs_nation.at[i, "finding"])
        note = ""
        if directions[i] == "context":
            note = ("a count depends on the place's size: compared, never a finding"
                    if m.unit in SIZE_UNITS else "context metric: no better or worse direction")
        elif not vs_peers.at[i, "tested"]:
            note = "no published interval: shown, not tested"
        elif m.quality == 3:
            note = f"{m.label}: quality 3 (do not act on it), never reported as a finding"
        out.append(MetricGap(
            m.metric_id, m.label, m.pillar, m.unit, m.direction, m.estimate, m.lb, m.ub,
            m.quality, m.period, _f(peer_med[i]), len(peer_values[i]),
            None if better is None else round(better * len(peer_values[i])),
            _f(vs_peers.at[i, "gap"]), _f(vs_peers.at[i, "z"]), _f(vs_peers.at[i, "q"]),
            _f(nat_med[i]), len(nat_values), nat_better,
            _f(vs_nation.at[i, "gap"]), _f(vs_nation.at[i, "z"]), _f(vs_nation.at[i, "q"]),
            bool(vs_peers.at[i, "tested"]), behind_p, behind_n, behind_p or behind_n, note))
    return out


def _f(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _rank(gaps: list[MetricGap], level: str) -> list[Finding]:
    found = [g for g in gaps if g.finding]

    def score(g: MetricGap) -> float:
        nation = 100 * (g.national_share_better or 0.5) - 50
        return round(nation + (10 if g.behind_peers else 0), 2)

    found.sort(key=lambda g: (-score(g), -abs(g.peer_z or 0)))
    # Findings are shown grouped by pillar (the pillar of the most severe finding first), so
    # they are numbered in that order: the list reads 1, 2, 3 … and 1 is still the most severe.
    pillar_order: dict[str, int] = {}
    for g in found:
        pillar_order.setdefault(g.pillar, len(pillar_order))
    found = sorted(found, key=lambda g: pillar_order[g.pillar])  # stable: severity kept within
    return [Finding(i + 1, g.metric_id, g.label, g.pillar, score(g), sentence(g, level),
                    g.behind_peers, g.behind_nation) for i, g in enumerate(found)]


def sentence(g: MetricGap, level: str) -> str:
    """One plain sentence from the numbers, e.g. "Median household income is $36,700
    ($34,400–$40,800), lower than 9 of 10 peer cities and 97% of US cities."

    >>> g = MetricGap("pctl_income_50", "Median household income", "W", "dollars", "higher",
    ...     36700, 34400, 40800, 1, "2021", 45000, 10, 9, None, None, None, 50000, 486, 0.97,
    ...     None, None, None, True, True, True, True, "")
    >>> sentence(g, "place")
    'Median household income is $36,700 ($34,400–$40,800, 2021), lower than 9 of 10 peer cities and 97% of US cities.'
    """
    word = {"higher": "lower than", "lower": "higher than",
            "parity": "further from parity than"}.get(g.direction, "different from")
    kind = "cities" if level == "place" else "counties"
    value = format_value(g.estimate, g.unit)
    interval = (f"{format_value(g.lb, g.unit)}–{format_value(g.ub, g.unit)}, "
                if g.lb is not None and g.ub is not None else "")
    parts = []
    if g.peers_better is not None and g.peer_n:
        parts.append(f"{g.peers_better} of {g.peer_n} peer {kind}")
    if g.national_share_better is not None:
        parts.append(f"{100 * g.national_share_better:.0f}% of US {kind}")
    tail = f", {word} {' and '.join(parts)}" if parts else ""
    return f"{g.label} is {value} ({interval}{g.period}){tail}."
