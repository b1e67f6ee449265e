"""Places side by side: the scorecard of 2–6 places or counties in one table, with each value's
95% interval and the significance of each place's difference from the first place.

For every metric published for at least two of the places, each place's difference from the
first (the reference) is ``d = x_i − x_1`` with ``se = sqrt(se_i² + se_1²)`` (the two
estimates taken as independent samples), its 95% margin of error ``1.96 · se``, a two-sided z
test, and the p-values of all the differences in the table adjusted together
(Benjamini–Hochberg false discovery rate). A difference without published bounds on either
side is shown but not tested. A city compared with the county that contains it shares its
residents, so the test there is conservative only in appearance: a warning says so.

Examples
--------
>>> d = difference(0.61, 0.01, 0.55, 0.02)
>>> round(d.estimate, 2), round(d.moe, 4), d.p_value < 0.01
(0.06, 0.0438, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from upward.core.errors import ConfigError
from upward.core.results import JsonReport
from upward.core.text import N_, joined
from upward.measure.profile import MetricEntry, Profile, build_profile
from upward.measure.standing import better_than
from upward.metrics.inference import two_sided_p
from upward.sources.schema import Z95
from upward.warehouse.store import Warehouse

MIN_PLACES, MAX_PLACES = 2, 6


@dataclass(frozen=True)
class Difference:
    """A place's difference from the reference place on one metric.

    >>> d = Difference(0.04, 0.014, 0.028, 2.83, 0.0047, 0.0047, True, "better")
    >>> d.significant, d.verdict, d.estimate - d.moe > 0
    (True, 'better', True)
    """

    estimate: float
    se: float | None
    moe: float | None
    z: float | None
    p_value: float | None
    q_value: float | None = None
    significant: bool | None = None
    verdict: str = ""


def difference(x: float, se_x: float | None, ref: float, se_ref: float | None) -> Difference:
    """The difference x − ref with its standard error, 95% margin and two-sided p.

    >>> difference(1.0, None, 0.5, 0.1).p_value is None
    True
    """
    d = x - ref
    if se_x is None or se_ref is None or not (math.isfinite(se_x) and math.isfinite(se_ref)):
        return Difference(d, None, None, None, None)
    se = math.hypot(se_x, se_ref)
    if se <= 0:
        return Difference(d, None, None, None, None)
    z = d / se
    return Difference(d, se, Z95 * se, z, float(two_sided_p(z)))


@dataclass(frozen=True)
class Cell:
    """One place's value of one metric.

    >>> c = Cell(0.74, 0.72, 0.76, 0.01, 1, "2021", 61.0, difference(0.74, 0.01, 0.70, 0.01))
    >>> c.period, round(c.difference.estimate, 2)
    ('2021', 0.04)
    """

    estimate: float
    lb: float | None
    ub: float | None
    se: float | None
    quality: int | None
    period: str
    better_than: float | None
    difference: Difference | None


@dataclass(frozen=True)
class CompareRow:
    """One metric across the places (``cells`` in the order of the places; None = no value).

    >>> row = CompareRow("share_employed", "Employed", "Jobs", "share", "higher",
    ...                  [Cell(0.70, 0.68, 0.72, 0.01, 1, "2021", None, None),
    ...                   Cell(0.74, 0.72, 0.76, 0.01, 1, "2021", None, difference(0.74, 0.01, 0.70, 0.01))])
    >>> row.cells[0].difference is None, round(row.cells[1].difference.moe, 4)
    (True, 0.0277)
    """

    metric_id: str
    label: str
    pillar: str
    unit: str
    direction: str
    cells: list[Cell | None]


@dataclass
class Comparison(JsonReport):
    """The places side by side. ``to_frame()``, ``to_json()``.

    >>> row = CompareRow("share_employed", "Employed", "Jobs", "share", "higher",
    ...                  [Cell(0.70, 0.68, 0.72, 0.01, 1, "2021", None, None),
    ...                   Cell(0.74, 0.72, 0.76, 0.01, 1, "2021", None, difference(0.74, 0.01, 0.70, 0.01))])
    >>> c = Comparison([{"geo_id": "4075000", "name": "Tulsa"},
    ...                 {"geo_id": "4055000", "name": "Oklahoma City"}], [row], 0.05, "z test")
    >>> c.to_frame()[["place", "estimate"]].values.tolist()
    [['Tulsa', 0.7], ['Oklahoma City', 0.74]]
    """

    places: list[dict]
    rows: list[CompareRow]
    alpha: float
    method: str
    warnings: list[str] = field(default_factory=list)
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_frame(self) -> pd.DataFrame:
        """One row per metric and place: value, bounds, difference from the first place, its
        margin of error, p and q."""
        out = []
        for r in self.rows:
            for place, c in zip(self.places, r.cells, strict=True):
                if c is None:
                    continue
                d = c.difference
                out.append({"metric_id": r.metric_id, "label": r.label, "unit": r.unit,
                            "direction": r.direction, "geo_id": place["geo_id"],
                            "place": place["name"], "estimate": c.estimate, "lb": c.lb,
                            "ub": c.ub, "quality": c.quality, "period": c.period,
                            "difference": d.estimate if d else None,
                            "difference_moe": d.moe if d else None,
                            "p_value": d.p_value if d else None,
                            "q_value": d.q_value if d else None,
                            "significant": d.significant if d else None,
                            "verdict": d.verdict if d else ""})
        return pd.DataFrame(out)


def _verdict(d: Difference, direction: str) -> str:
    if d.significant is None:
        return "no interval to test"
    if not d.significant:
        return "no significant difference"
    if direction == "higher":
        return "better" if d.estimate > 0 else "worse"
    if direction == "lower":
        return "better" if d.estimate < 0 else "worse"
    return "higher" if d.estimate > 0 else "lower"


def compare_profiles(profiles: list[Profile], *, alpha: float = 0.05,
                     differences: dict[tuple[str, int], Difference] | None = None,
                     notes: list[str] | None = None, method_note: str = "") -> Comparison:
    """Compare already built profiles (the first is the reference).

    ``differences`` gives, by ``(metric_id, column)``, a difference computed by the caller
    where the two estimates are not independent (an area inside its city: its SE from the
    replicate estimates of the difference itself); one without a p-value is shown untested,
    with its ``verdict`` saying why. ``notes`` are added to the warnings, ``method_note`` to
    the method.

    >>> from upward.measure.profile import GeoMatch, MetricEntry, Profile
    >>> def prof(geo_id, name, share):
    ...     m = MetricEntry("share_employed", "Employed", "Jobs", "share", "higher", share,
    ...                     share - 0.02, share + 0.02, 0.01, "95% CI", 1, "2021", "acs", None, None)
    ...     return Profile(GeoMatch(geo_id, "place", name, "40"), None, None, [m], [], [], [], None, [])
    >>> c = compare_profiles([prof("4075000", "Tulsa city, Oklahoma", 0.70),
    ...                       prof("4055000", "Oklahoma City city, Oklahoma", 0.74)])
    >>> d = c.rows[0].cells[1].difference
    >>> round(d.estimate, 2), d.significant, d.verdict
    (0.04, True, 'better')
    """
    differences = differences or {}
    from statsmodels.stats.multitest import multipletests

    if not MIN_PLACES <= len(profiles) <= MAX_PLACES:
        raise ConfigError(f"{len(profiles)} places given: a comparison takes "
                          f"{MIN_PLACES} to {MAX_PLACES}", fix="name between 2 and 6 places")
    ids = [(p.geo.geo_id, p.geo.geo_level) for p in profiles]
    if len(set(ids)) < len(ids):
        raise ConfigError("the same place is named twice", fix="name each place once")
    by_place = [{m.metric_id: m for m in p.metrics} for p in profiles]
    order: dict[str, MetricEntry] = {}
    for p in profiles:
        for m in p.metrics:
            order.setdefault(m.metric_id, m)
    rows = []
    for metric_id, meta in order.items():
        if meta.unit in ("count", "people"):
            continue  # counts grow with the place: not comparable across places
        present = [b.get(metric_id) for b in by_place]
        if sum(m is not None for m in present) < 2:
            continue
        ref = present[0]
        cells: list[Cell | None] = []
        for i, m in enumerate(present):
            if m is None:
                cells.append(None)
                continue
            d = (differences.get((metric_id, i)) or difference(m.estimate, m.se, ref.estimate,
                                                                 ref.se)
                 if i > 0 and ref is not None else None)
            cells.append(Cell(m.estimate, m.lb, m.ub, m.se, m.quality, m.period,
                              better_than(m.national_percentile, m.direction), d))
        rows.append(CompareRow(metric_id, meta.label, meta.pillar, meta.unit, meta.direction,
                               cells))
    pillars = list(dict.fromkeys(r.pillar for r in rows))
    rows.sort(key=lambda r: pillars.index(r.pillar))  # stable: each pillar's rows together
    tested = [(r, j) for r in rows for j, c in enumerate(r.cells)
              if c is not None and c.difference is not None and c.difference.p_value is not None]
    if tested:
        reject, q, _, _ = multipletests([r.cells[j].difference.p_value for r, j in tested],
                                        alpha=alpha, method="fdr_bh")
        for (r, j), rj, qv in zip(tested, reject, q, strict=True):
            c = r.cells[j]
            d = Difference(**{**c.difference.__dict__, "q_value": float(qv),
                              "significant": bool(rj)})
            d = Difference(**{**d.__dict__, "verdict": _verdict(d, r.direction)})
            r.cells[j] = Cell(**{**c.__dict__, "difference": d})
    for r in rows:
        for j, c in enumerate(r.cells):
            if c is not None and c.difference is not None and c.difference.p_value is None:
                r.cells[j] = Cell(**{**c.__dict__, "difference": Difference(
                    **{**c.difference.__dict__,
                       "verdict": c.difference.verdict or "no interval to test"})})
    warnings = list(notes or [])
    first = profiles[0]
    for p in profiles[1:]:
        pair = {first.geo.geo_id, p.geo.geo_id}
        counties = {x.county.geo_id for x in (first, p) if x.county is not None}
        if pair & counties:
            warnings.append(N_("{a} and {b} overlap (a city and the county holding it): their "
                               "estimates share residents, so the test of their difference "
                               "assumes an independence that does not hold",
                               a=first.geo.name, b=p.geo.name))
    method = N_("difference from {first}: x − x₁, SE = √(SE² + SE₁²) from the published 95% "
                "bounds, margin of error 1.96·SE, two-sided z test; p-values of the {n} tested "
                "differences adjusted together (Benjamini–Hochberg, false discovery rate "
                "{alpha:g})", first=first.geo.name, n=len(tested), alpha=alpha)
    if method_note:
        method = joined("", [method, method_note])
    places = [{"geo_id": p.geo.geo_id, "geo_level": p.geo.geo_level, "name": p.geo.name,
               "population": p.population} for p in profiles]
    return Comparison(places, rows, alpha, method, warnings)


def compare(wh: Warehouse, places: list[str], *, alpha: float = 0.05) -> Comparison:
    """Compare 2–6 places or counties by name or FIPS code (the first is the reference).

    >>> import tempfile, pathlib
    >>> compare(Warehouse(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"), ["x"])
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: 1 places given: a comparison takes 2 to 6. What to do: name between 2 and 6 places
    """
    if not MIN_PLACES <= len(places) <= MAX_PLACES:
        raise ConfigError(f"{len(places)} places given: a comparison takes "
                          f"{MIN_PLACES} to {MAX_PLACES}", fix="name between 2 and 6 places")
    return compare_profiles([build_profile(wh, p) for p in places], alpha=alpha)


def display_rows(c: Comparison) -> list[dict]:
    """The table people read: per metric, per place, the value, its interval and the
    difference from the first place with its margin of error and verdict, formatted once for
    the terminal and the web page.

    >>> c = Comparison([{"name": "A"}, {"name": "B"}], [CompareRow("m", "Employed", "W",
    ...     "share", "higher", [Cell(0.6, 0.58, 0.62, 0.01, 1, "2021", 50.0, None),
    ...     Cell(0.5, 0.48, 0.52, 0.01, 1, "2021", 20.0, Difference(-0.1, 0.014, 0.028, -7.1,
    ...     1e-12, 1e-12, True, "worse"))])], 0.05, "m")
    >>> display_rows(c)[0]["cells"][1]["difference"]
    '−10.0 pts ± 2.8'
    """
    from upward.measure.render import format_change_text, format_value

    out = []
    for r in c.rows:
        cells = []
        for cell in r.cells:
            if cell is None:
                cells.append(None)
                continue
            d = cell.difference
            diff = ""
            if d is not None:
                sign = "+" if d.estimate > 0 else "−" if d.estimate < 0 else "±"
                diff = f"{sign}{format_change_text(abs(d.estimate), r.unit)}"
                if d.moe is not None:
                    margin = format_change_text(d.moe, r.unit)
                    diff += f" ± {margin.removesuffix(' pts')}"
            cells.append({
                "value": format_value(cell.estimate, r.unit),
                "interval": (f"{format_value(cell.lb, r.unit)}–{format_value(cell.ub, r.unit)}"
                             if cell.lb is not None and cell.ub is not None else ""),
                "period": cell.period, "quality": cell.quality,
                "difference": diff, "verdict": d.verdict if d else "",
                "q_value": d.q_value if d else None,
                "significant": bool(d and d.significant),
            })
        out.append({"metric_id": r.metric_id, "label": r.label, "pillar": r.pillar,
                    "unit": r.unit, "direction": r.direction, "cells": cells})
    return out


def short_name(name: str) -> str:
    """A place's name without its state and descriptor, for a column head.

    >>> short_name("Oklahoma City city, Oklahoma"), short_name("Tulsa County, Oklahoma")
    ('Oklahoma City', 'Tulsa County')
    """
    return name.split(",")[0].removesuffix(" city").strip()


def rich_table(c: Comparison):
    """The comparison as a Rich table for the terminal.

    >>> row = CompareRow("share_employed", "Employed", "Jobs", "share", "higher",
    ...                  [Cell(0.70, 0.68, 0.72, 0.01, 1, "2021", None, None), None])
    >>> c = Comparison([{"name": "Tulsa city, Oklahoma"},
    ...                 {"name": "Oklahoma City city, Oklahoma"}], [row], 0.05, "z test")
    >>> t = rich_table(c)
    >>> t.title, [col.header for col in t.columns]
    ('Compared with Tulsa city, Oklahoma', ['Metric', 'Tulsa', 'Oklahoma City'])
    """
    from rich.table import Table

    t = Table(title="Compared with " + c.places[0]["name"], header_style="bold",
              caption=c.method)
    t.add_column("Metric")
    for p in c.places:
        t.add_column(short_name(p["name"]), justify="right")
    pillar = None
    for row in display_rows(c):
        if row["pillar"] != pillar:
            pillar = row["pillar"]
            t.add_section()
            t.add_row(f"[bold]{pillar}[/]", *[""] * len(c.places))
        texts = []
        for cell in row["cells"]:
            if cell is None:
                texts.append("—")
                continue
            text = cell["value"]
            if cell["interval"]:
                text += f"\n[dim]{cell['interval']}[/]"
            if cell["difference"]:
                style = {"better": "green", "worse": "red"}.get(cell["verdict"], "")
                verdict = cell["verdict"]
                text += f"\n{cell['difference']}"
                text += f"\n[{style}]{verdict}[/]" if style else f"\n[dim]{verdict}[/]"
            texts.append(text)
        t.add_row(row["label"], *texts)
    return t
