"""Trends that matter: metrics that got significantly better or worse, and where the city's
change diverges from its peers' change over the same years.

Divergence is tested with z = (Δ − median Δ_peers) / se_Δ (se_Δ from the two years' published
intervals), using only peers whose trend spans the same first and last years, and
Benjamini–Hochberg across metrics.

Examples
--------
>>> TrendFinding.__dataclass_fields__.keys() >= {"metric_id", "verdict"}
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.stats.multitest import multipletests

from upward.measure import frames
from upward.measure.profile import Profile
from upward.metrics.inference import two_sided_p
from upward.warehouse.store import Warehouse


@dataclass(frozen=True)
class TrendFinding:
    """One metric's trend, judged by its direction, and against the peers' trends.

    >>> t = TrendFinding("share_employed", "Employment", "2015", "2021", 0.04, 0.001, "improved",
    ...                  0.01, 8, 0.002, 0.01, True)
    >>> t.verdict, t.diverges, t.n_peers
    ('improved', True, 8)
    """

    metric_id: str
    label: str
    first_period: str
    last_period: str
    change: float
    p_value: float | None
    verdict: str
    peer_median_change: float | None
    n_peers: int
    divergence_p: float | None
    divergence_q: float | None
    diverges: bool


def _verdict(change: float, significant: bool | None, direction: str) -> str:
    if significant is None:
        return "no interval published"
    if not significant:
        return "no significant change"
    if direction in ("higher", "lower"):
        better = (change > 0) == (direction == "higher")
        return "improved" if better else "worsened"
    return "rose" if change > 0 else "fell"


def trend_findings(wh: Warehouse, profile: Profile, peer_ids: list[str],
                   alpha: float = 0.05) -> list[TrendFinding]:
    """Every metric of the profile that has a trend, judged and compared with the peers.

    >>> import tempfile, pathlib
    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.profile import MetricEntry, Trend
    >>> t = Trend("2015", 0.50, "2021", 0.56, 0.06, 0.02, 3.0, 0.003, True, 7)
    >>> m = MetricEntry("share_employed", "Employment", "Jobs", "share", "higher", 0.56, None, None,
    ...                 None, "", None, "2021", "urban", None, None, trend=t)
    >>> p = Profile(GeoMatch("4075000", "place", "Tulsa", "40"), None, None, [m], [], [], [], None,
    ...             [])
    >>> wh = Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> [(f.metric_id, f.verdict, f.n_peers, f.diverges) for f in trend_findings(wh, p, [])]
    [('share_employed', 'improved', 0, False)]
    """
    level = profile.geo.geo_level
    # each peer's trends as {metric: (first period, last period, change)}: plain lookups
    peer_trends = []
    for p in peer_ids:
        peer_rows = frames.rows_of(wh, "trends", p, level)
        peer_trends.append(dict(zip(peer_rows["metric_id"], zip(
            peer_rows["first_period"], peer_rows["last_period"], peer_rows["change"], strict=True),
            strict=True)))
    rows = []
    for m in profile.metrics:
        t = m.trend
        if t is None:
            continue
        changes = [float(pt[m.metric_id][2]) for pt in peer_trends
                   if m.metric_id in pt
                   and pt[m.metric_id][0] == t.first_period
                   and pt[m.metric_id][1] == t.last_period]
        median = float(np.median(changes)) if changes else None
        p = None
        if median is not None and t.change_se:
            z = (t.change - median) / t.change_se
            p = float(two_sided_p(z))
        rows.append([m, t, median, len(changes), p])
    ps = np.array([r[4] if r[4] is not None else np.nan for r in rows])
    qs = np.full(len(rows), np.nan)
    ok = np.isfinite(ps)
    if ok.any():
        qs[ok] = multipletests(ps[ok], alpha=alpha, method="fdr_bh")[1]
    out = []
    for (m, t, median, n, p), q in zip(rows, qs, strict=True):
        out.append(TrendFinding(
            m.metric_id, m.label, t.first_period, t.last_period, t.change, t.p_value,
            _verdict(t.change, t.significant, m.direction), median, n, p,
            None if np.isnan(q) else float(q), bool(np.isfinite(q) and q <= alpha)))
    return out
