"""Gaps between groups wherever the data give subgroups.

- Opportunity Atlas county outcomes by race (each group against white children) and by gender
  (female against male), with 95% intervals from the published standard errors:
  diff ± 1.96 · sqrt(se₁² + se₂²).
- Urban Institute metrics published per group (school poverty exposure, racial exposure,
  housing wealth ratios): the spread between groups, without intervals (none are published).

Examples
--------
>>> Disparity.__dataclass_fields__.keys() >= {"group", "reference", "difference"}
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from upward.measure.profile import Profile
from upward.metrics.inference import two_sided_p
from upward.sources.schema import Z95

#: Urban metric families published per group: (family label, {group: metric id}, reference).
URBAN_GROUPS = (
    ("Students in high-poverty schools", {"Black": "meps20_black", "Hispanic": "meps20_hispanic",
                                          "white": "meps20_white"}, "white"),
    ("Housing wealth vs households ratio",
     {"Black": "ratio_black_nh_house_value_households",
      "Hispanic": "ratio_hispanic_house_value_households",
      "other races": "ratio_other_nh_house_value_households",
      "white": "ratio_white_nh_house_value_households"}, "white"),
)
ATLAS_REFERENCE = {"race": "white", "gender": "male"}
#: Atlas outcomes compared between groups (sample counts are not outcomes).
ATLAS_OUTCOMES = ("kfr_p25", "jail_p25")


@dataclass(frozen=True)
class Disparity:
    """One group's gap to a reference group on one metric.

    >>> d = Disparity("kfr_p25", "Income rank", "Opportunity Atlas", "Black", "white", 0.33, 0.45,
    ...               -0.12, -0.15, -0.09, 1e-9)
    >>> d.group, d.reference, round(d.difference, 2)
    ('Black', 'white', -0.12)
    """

    metric_id: str
    label: str
    source: str
    group: str
    reference: str
    value: float
    reference_value: float
    difference: float
    lb: float | None
    ub: float | None
    p_value: float | None


def disparities(profile: Profile) -> list[Disparity]:
    """Every between-group gap the profile's data allow.

    >>> from upward.geo.resolve import GeoMatch
    >>> from upward.measure.profile import Outcome
    >>> def o(group, v):
    ...     return Outcome("kfr_p25", "Income rank", "race", group, v, 0.01, None, None, "1978-83", "a")
    >>> p = Profile(GeoMatch("40143", "county", "Tulsa County, Oklahoma", "40"), None, None, [],
    ...             [o("white", 0.45), o("Black", 0.33)], [], [], None, [])
    >>> [(d.group, d.reference, round(d.difference, 2), round(d.lb, 3)) for d in disparities(p)]
    [('Black', 'white', -0.12, -0.148)]
    """
    out: list[Disparity] = []
    by_key = {(o.metric_id, o.subgroup_type, o.subgroup): o for o in profile.atlas}
    for (metric, kind, group), o in by_key.items():
        reference = ATLAS_REFERENCE.get(kind)
        if reference is None or group == reference or metric not in ATLAS_OUTCOMES:
            continue
        ref = by_key.get((metric, kind, reference))
        if ref is None:
            continue
        diff = o.estimate - ref.estimate
        lb = ub = p = None
        if o.se is not None and ref.se is not None:
            se = math.hypot(o.se, ref.se)
            lb, ub = diff - Z95 * se, diff + Z95 * se
            p = float(two_sided_p(diff / se)) if se > 0 else None
        out.append(Disparity(metric, o.label, "Opportunity Atlas", group, reference,
                             o.estimate, ref.estimate, diff, lb, ub, p))
    values = {m.metric_id: m for m in profile.metrics}
    for label, members, reference in URBAN_GROUPS:
        ref = values.get(members[reference])
        if ref is None:
            continue
        for group, metric in members.items():
            m = values.get(metric)
            if m is None or group == reference:
                continue
            out.append(Disparity(metric, label, "Urban Institute", group, reference,
                                 m.estimate, ref.estimate, m.estimate - ref.estimate,
                                 None, None, None))
    return out
