"""Where a value stands nationally, said the way the metric reads: better or worse.

A raw percentile ranks values from low to high, so a city with more violent crime than 95% of
cities sits at the 95th percentile, which reads as good. Every page, report and terminal view
says instead how many geographies the place does *better* than, using the catalog's
``direction``: for a "higher is better" metric that is the percentile, for a "lower is better"
metric it is 100 minus the percentile; "context" and "parity" metrics have no better side and
keep the plain percentile, said as "higher than".

Examples
--------
>>> better_than(95.0, "lower"), better_than(95.0, "higher"), better_than(95.0, "context")
(5.0, 95.0, None)
>>> standing_text(95.0, "lower", 435, "cities")
'better than 5% of 435 US cities (worse than 95%)'
>>> standing_class(5.0)
'worse'
"""

from __future__ import annotations

import math

#: The thirds of the national distribution that are called better and worse.
WORSE_BELOW = 100 / 3
BETTER_ABOVE = 200 / 3


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def better_than(percentile: float | None, direction: str) -> float | None:
    """The percent of geographies with a value that this one does better than (0–100), or
    None when the metric has no better side or the percentile is unknown.

    >>> better_than(20.0, "higher"), better_than(20.0, "lower"), better_than(None, "higher")
    (20.0, 80.0, None)
    """
    if _missing(percentile):
        return None
    if direction == "higher":
        return float(percentile)
    if direction == "lower":
        return 100.0 - float(percentile)
    return None


def standing_class(better: float | None) -> str:
    """``better`` (top third), ``worse`` (bottom third), ``middle`` or ``neutral`` (no side):
    the class that colours a cell, always shown with words too.

    >>> [standing_class(x) for x in (80.0, 50.0, 10.0, None)]
    ['better', 'middle', 'worse', 'neutral']
    """
    if _missing(better):
        return "neutral"
    if better >= BETTER_ABOVE:
        return "better"
    if better < WORSE_BELOW:
        return "worse"
    return "middle"


def standing_arrow(better: float | None) -> str:
    """An arrow that points up when the place stands in the better third, down in the worse.

    >>> standing_arrow(90.0), standing_arrow(10.0), standing_arrow(50.0)
    ('▲', '▼', '')
    """
    return {"better": "▲", "worse": "▼"}.get(standing_class(better), "")


def standing_short(percentile: float | None, direction: str) -> str:
    """A narrow cell: "better than 80%", "worse than 95%" or, without a better side,
    "higher than 40%".

    >>> standing_short(95.0, "lower"), standing_short(80.0, "higher"), standing_short(40.0, "context")
    ('worse than 95%', 'better than 80%', 'higher than 40%')
    >>> standing_short(None, "higher")
    '—'
    """
    if _missing(percentile):
        return "—"
    better = better_than(percentile, direction)
    if better is None:
        return f"higher than {percentile:.0f}%"
    if better >= 50:
        return f"better than {better:.0f}%"
    return f"worse than {100 - better:.0f}%"


def standing_text(percentile: float | None, direction: str, n: int | None,
                  kind: str = "places") -> str:
    """The national standing in words, both sides said for metrics with a better side.

    >>> standing_text(30.0, "higher", 486, "cities")
    'better than 30% of 486 US cities (worse than 70%)'
    >>> standing_text(30.0, "context", 486, "cities")
    'higher than 30% of 486 US cities (no better or worse side)'
    """
    if _missing(percentile):
        return "no national comparison"
    of = f" of {n:,} US {kind}" if n else ""
    better = better_than(percentile, direction)
    if better is None:
        return f"higher than {percentile:.0f}%{of} (no better or worse side)"
    return f"better than {better:.0f}%{of} (worse than {100 - better:.0f}%)"
