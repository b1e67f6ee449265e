"""Carry tract weights between census tract vintages (2010 ↔ 2020).

An area's weights say what share of each tract lies inside it. To move them onto the other
vintage, each new tract takes the land-weighted average of the weights of the old tracts it
is made of: ``w_new[t] = Σ_s share(t ← s) · w_old[s]``, where ``share(t ← s)`` is the part of
``t``'s land that was in ``s`` (the relationship file's ``AREALAND_PART / AREALAND_TRACT``
of ``t``). This assumes what area allocation already assumes: that people are spread evenly
over the land inside an old tract.

Examples
--------
>>> pieces = [("new-a", "old-1", 1.0), ("new-b", "old-1", 0.25), ("new-b", "old-2", 0.75)]
>>> carry_weights({"old-1": 1.0, "old-2": 0.5}, pieces)
{'new-a': 1.0, 'new-b': 0.625}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def carry_weights(weights: Mapping[str, float],
                  pieces: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    """Weights on the new vintage from ``weights`` on the old one and the relationship
    ``pieces`` (``new_tract, old_tract, share of new tract's land in old tract``); new tracts
    that touch none of the weighted old tracts are left out.

    >>> carry_weights({"old1": 0.5}, [("new1", "old1", 1.0), ("new2", "old1", 0.4),
    ...                               ("new3", "old2", 1.0)])
    {'new1': 0.5, 'new2': 0.2}
    """
    carried: dict[str, float] = {}
    for new, old, share in pieces:
        if old in weights and share > 0:
            carried[new] = carried.get(new, 0.0) + share * weights[old]
    return {t: min(1.0, w) for t, w in sorted(carried.items()) if w > 0}


def coverage(weights: Mapping[str, float], present: set[str]) -> float:
    """The share of the weight mass on tracts in ``present`` (1.0 when ``weights`` is empty).

    >>> coverage({"a": 1.0, "b": 3.0}, {"b"})
    0.75
    """
    total = sum(weights.values())
    return 1.0 if total == 0 else sum(w for t, w in weights.items() if t in present) / total
