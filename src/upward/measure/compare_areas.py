"""Places and custom areas side by side: ``upward compare "District 3" "District 1" "Tulsa, OK"``.

A custom area has the American Community Survey measures of its area profile (tract sums,
``upward.measure.areas``). When a comparison holds an area, each place or county in it gets the
same measures summed over its own tracts from the same tables, so that every ACS value of the
table is made the same way. Differences then take their standard error from the replicate
estimates of the difference itself (successive-difference replication over the 80 replicates),
which is right whether or not the two geographies overlap: an area inside its city shares the
city's sample, and the replicate differences carry that covariance. Without replicate tables
(tract estimates of ``upward fetch acs``, the ACS handbook's approximations) two disjoint
geographies are tested as independent samples, and two that share tracts are shown untested,
with the reason. The other measures (Urban Institute, Opportunity Atlas …) are compared among
the places that have them, as ``upward.measure.compare`` does.

Examples
--------
>>> overlap_note("District 3", "Demo City", 18, 18, exact=True)
'District 3 lies inside Demo City (all 18 of its census tracts): the test of their ACS differences counts the residents they share (SE from the replicate estimates of the difference), instead of treating them as two independent samples'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from upward.core.errors import ConfigError, PlaceNotFoundError
from upward.core.text import N_, joined
from upward.estimate.acs import AcsEstimate
from upward.estimate.aggregate import Recipe, exact_estimate, replicate_values
from upward.estimate.sdr import sdr_se
from upward.geo.resolve import GeoMatch
from upward.measure import frames
from upward.measure.compare import (
    MAX_PLACES,
    MIN_PLACES,
    Comparison,
    Difference,
    compare_profiles,
    difference,
    short_name,
)
from upward.measure.profile import MetricEntry, Profile, build_profile, tracts_inside
from upward.metrics import all_metrics
from upward.sources.schema import Z95
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

__all__ = ["OVERLAP_UNTESTED", "Side", "area_side", "compare_geographies", "compare_sides",
           "overlap_note"]

#: The verdict of a difference between overlapping geographies that cannot be tested.
OVERLAP_UNTESTED = "overlapping geographies: not tested"
#: The period shown for the ACS values summed over tracts.
ACS_PERIOD = "ACS 5-year"


@dataclass
class Side:
    """One column of the comparison: its profile, its tract weights (for the ACS measures)
    and, for an ACS measure, the full-sample and replicate values (``vectors``).

    >>> blank = Profile(GeoMatch("area:districts:district-3", "area", "District 3", ""),
    ...                 None, None, [], [], [], [], None, [])
    >>> Side(blank, True, {"99001000100": 1.0}, {}).name
    'District 3'
    """

    profile: Profile
    is_area: bool
    weights: dict[str, float]
    vectors: dict[str, np.ndarray]

    @property
    def name(self) -> str:
        """The column's name."""
        return self.profile.geo.name


def overlap_note(a: str, b: str, shared: int, of_a: int, *, exact: bool) -> str:
    """The warning of two geographies that share tracts: how the test handles it.

    >>> overlap_note("District 3", "Demo City", 18, 18, exact=True)[:52]
    'District 3 lies inside Demo City (all 18 of its cens'
    >>> "not tested" in overlap_note("A", "B", 2, 9, exact=False)
    True
    """
    if shared == of_a and exact:
        return N_("{a} lies inside {b} (all {n} of its census tracts): the test of their ACS "
                  "differences counts the residents they share (SE from the replicate "
                  "estimates of the difference), instead of treating them as two independent "
                  "samples", a=a, b=b, n=of_a)
    if shared == of_a:
        return N_("{a} lies inside {b} (all {n} of its census tracts): their ACS differences "
                  "are not tested: they are not independent samples, and without replicate "
                  "tables the covariance is unknown (load the Variance Replicate Estimate "
                  "tables: upward fetch replicates)", a=a, b=b, n=of_a)
    if exact:
        return N_("{a} and {b} overlap ({shared} of {a}’s {n} census tracts): the test of "
                  "their ACS differences counts the residents they share (SE from the "
                  "replicate estimates of the difference), instead of treating them as two "
                  "independent samples", a=a, b=b, shared=shared, n=of_a)
    return N_("{a} and {b} overlap ({shared} of {a}’s {n} census tracts): their ACS "
              "differences are not tested: they are not independent samples, and without "
              "replicate tables the covariance is unknown (load the Variance Replicate "
              "Estimate tables: upward fetch replicates)", a=a, b=b, shared=shared, n=of_a)


def _acs_metrics():
    return [m for m in all_metrics() if m.recipe and m.unit not in ("count", "people")]


def _entry(m, est: AcsEstimate) -> MetricEntry | None:
    if not math.isfinite(est.estimate):
        return None
    se = est.se if math.isfinite(est.se) else None
    how = "replicate estimates" if est.method.startswith("exact") else "the ACS handbook"
    return MetricEntry(m.id, m.label, m.pillar, m.unit, m.direction, est.estimate,
                       None if se is None else est.estimate - Z95 * se,
                       None if se is None else est.estimate + Z95 * se, se,
                       f"95% from the standard error ({how})", est.quality, ACS_PERIOD,
                       "acs-tracts", None, None)


def area_side(workspace: Workspace, area_id: str, name: str) -> Side:
    """The column of a stored area: its tract weights, its ACS measures still to compute."""
    from upward.measure.areas import _weights

    mine, _by_area, _city = _weights(workspace, area_id)
    profile = Profile(GeoMatch(area_id, "area", name, ""), None, None, [], [], [], [], None, [])
    return Side(profile, True, dict(mine), {})


def _place_weights(wh: Warehouse, geo: GeoMatch, present: set[str]) -> dict[str, float]:
    if geo.geo_level == "county":
        return {t: 1.0 for t in sorted(present) if t.startswith(geo.geo_id)}
    related = frames.tracts_by_place_relationship(wh).get(geo.geo_id)
    tracts = related[0] if related else tracts_inside(wh, geo)[0]
    return {t: 1.0 for t in tracts}


def _fill_acs(workspace: Workspace, sides: list[Side]) -> tuple[list[str], bool]:
    """Compute every ACS measure for every side (areas and places alike, from the same
    tables); returns notes and whether any measure came from replicate tables."""
    from upward.measure.areas import _approx_from_obs, _table_tracts, _tract_cells
    from upward.warehouse.areas import align_weights
    from upward.warehouse.replicates import load_replicates

    metrics = _acs_metrics()
    tables = load_replicates(workspace, sorted({m.recipe["table"].upper() for m in metrics}))
    aligned, note = align_weights(workspace, {str(i): s.weights for i, s in enumerate(sides)},
                                  _table_tracts(workspace, tables))
    for i, s in enumerate(sides):
        s.weights = {t: w for t, w in aligned[str(i)].items() if w > 0}
    notes = [note] if note else []
    exact_any = False
    for m in metrics:
        recipe = Recipe.from_dict(m.recipe, m.id)
        exact = recipe.table in tables
        cells = None if exact else _tract_cells(workspace, recipe)
        if not exact and cells is None:
            continue
        for s in sides:
            if not s.weights:
                continue
            if exact:
                est = exact_estimate(recipe, tables, s.weights, label=m.label)
                s.vectors[m.id] = replicate_values(recipe, tables, s.weights)
                exact_any = True
            else:
                est = _approx_from_obs(recipe, cells, s.weights, m.label)
            entry = _entry(m, est)
            kept = [x for x in s.profile.metrics if x.metric_id != m.id]
            s.profile = replace(s.profile, metrics=kept + ([entry] if entry else []))
    return notes, exact_any


def _differences(sides: list[Side]) -> tuple[dict[tuple[str, int], Difference], list[str]]:
    ref = sides[0]
    out: dict[tuple[str, int], Difference] = {}
    notes = []
    ids = {m.id for m in _acs_metrics()}
    for i, s in enumerate(sides[1:], start=1):
        shared = set(s.weights) & set(ref.weights)
        mine = {m.metric_id: m for m in s.profile.metrics if m.metric_id in ids}
        theirs = {m.metric_id: m for m in ref.profile.metrics if m.metric_id in ids}
        common = mine.keys() & theirs.keys()
        exact_used = untested = False
        for mid in common:
            a, b = s.vectors.get(mid), ref.vectors.get(mid)
            if a is not None and b is not None:
                d = a - b
                se = float(sdr_se(d[0], d[1:]))
                out[(mid, i)] = (difference(float(d[0]), se, 0.0, 0.0) if math.isfinite(se)
                                 else Difference(float(d[0]), None, None, None, None))
                exact_used = True
            elif shared:
                out[(mid, i)] = Difference(mine[mid].estimate - theirs[mid].estimate, None,
                                           None, None, None, verdict=OVERLAP_UNTESTED)
                untested = True
        if shared and (exact_used or untested):
            small, big = (s, ref) if len(s.weights) <= len(ref.weights) else (ref, s)
            notes.append(overlap_note(short_name(small.name), short_name(big.name),
                                      len(shared), len(small.weights), exact=not untested))
    return out, notes


def compare_geographies(workspace: Workspace, wh: Warehouse, names: list[str], *,
                        alpha: float = 0.05) -> Comparison:
    """Compare 2–6 places, counties or custom areas (names, FIPS codes or area ids; the first
    is the reference). Without an area this is :func:`upward.measure.compare.compare`.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> compare_geographies(ws, Warehouse(ws.warehouse_path), ["x", "y", "z", "a", "b", "c", "d"])
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: 7 places given: a comparison takes 2 to 6. What to do: name between 2 and 6 places or areas
    """
    if not MIN_PLACES <= len(names) <= MAX_PLACES:
        raise ConfigError(f"{len(names)} places given: a comparison takes "
                          f"{MIN_PLACES} to {MAX_PLACES}",
                          fix="name between 2 and 6 places or areas")
    from upward.measure.areas import find_area

    found = [find_area(workspace, n) for n in names]
    if not any(found):
        return compare_profiles([_place_profile(wh, n) for n in names], alpha=alpha)
    sides = [area_side(workspace, *f[:2]) if f else None for f in found]
    return compare_sides(workspace, wh, [
        s if s is not None else Side(_place_profile(wh, n), False, {}, {})
        for s, n in zip(sides, names, strict=True)], alpha=alpha)


def _place_profile(wh: Warehouse, name: str) -> Profile:
    try:
        return build_profile(wh, name)
    except PlaceNotFoundError as exc:
        raise PlaceNotFoundError(f"{exc.message} (nor any custom area)",
                                 fix=(exc.fix or "") + "; list the stored areas with: upward "
                                     "areas list") from None


def compare_sides(workspace: Workspace, wh: Warehouse, sides: list[Side], *,
                  alpha: float = 0.05) -> Comparison:
    """Compare sides already resolved (places' profiles built, areas' weights read).

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> blank = Profile(GeoMatch("area:d:one", "area", "One", ""), None, None, [], [], [], [],
    ...                 None, [])
    >>> compare_sides(ws, None, [Side(blank, True, {}, {}), Side(blank, True, {}, {})])
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: the same place or area is named twice. What to do: name each one once
    """
    ids = [s.profile.geo.geo_id for s in sides]
    if len(set(ids)) < len(ids):
        raise ConfigError("the same place or area is named twice", fix="name each one once")
    present: set[str] | None = None
    for s in sides:
        if not s.is_area:
            if present is None:
                from upward.measure.areas import _table_tracts
                from upward.warehouse.replicates import load_replicates

                present = _table_tracts(workspace, load_replicates(workspace, sorted(
                    {m.recipe["table"].upper() for m in _acs_metrics()})))
            s.weights = _place_weights(wh, s.profile.geo, present)
    notes, exact_any = _fill_acs(workspace, sides)
    acs = {m.id for m in _acs_metrics()}
    for s in sides:
        if not s.is_area and not any(m.metric_id in acs for m in s.profile.metrics):
            notes.append(N_("{name} has none of its census tracts in the loaded ACS tables, "
                            "so it has no ACS measure to compare with the areas (load its "
                            "state's: upward fetch replicates --state {state} … or upward "
                            "fetch acs --geo tract …)", name=short_name(s.name),
                            state=s.profile.geo.state_fips))
    diffs, overlap = _differences(sides)
    if not any(s.profile.metrics for s in sides if s.is_area):
        raise PlaceNotFoundError(
            "no ACS measure can be computed for the area(s): no replicate table or tract "
            "estimate is loaded", fix="load them: upward fetch replicates … or upward fetch acs "
            "--geo tract …")
    places = [s for s in sides if not s.is_area]
    how = N_("; the ACS measures (poverty, income, unemployment …) of every column are sums "
             "of its census tracts from the same tables")
    if places:
        how = joined("", [how, N_(" (a city's tracts from the loaded tract-to-place "
                                  "relationship, a county's by GEOID)")])
    how = joined("", [how, N_(
        ", and the SE of their differences comes instead from the replicate estimates of the "
        "difference (successive-difference replication), so overlapping geographies are "
        "tested correctly") if exact_any else N_(
        ", with the ACS handbook's approximate margins; geographies that share tracts are not "
        "tested")])
    return compare_profiles([s.profile for s in sides], alpha=alpha, differences=diffs,
                            notes=notes + overlap, method_note=how)
