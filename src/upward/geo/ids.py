"""GEOIDs: always zero-padded strings (state 2, county 5, place 7, tract 11 digits).

Publishers' files sometimes store them as numbers, losing leading zeros. ``repair_geoid`` restores
them where the length leaves one reading, and refuses where it does not.

Examples
--------
>>> repair_geoid(1001, "county")
'01001'
>>> geo_level_of("40143007600")
'tract'
"""

from __future__ import annotations

import math
from typing import Final

GEOID_LENGTHS: Final[dict[str, int]] = {
    "state": 2,
    "county": 5,
    "place": 7,
    "tract": 11,
    "block_group": 12,
    "zip": 5,
    "cz": 5,
}

GEO_LEVELS: Final[tuple[str, ...]] = ("state", "county", "place", "tract", "cz", "zip",
                                      "block_group", "area")


class GeoidError(ValueError):
    """A value that cannot be read as a GEOID of the given level.

    >>> repair_geoid("12x", "county")
    Traceback (most recent call last):
    ...
    upward.geo.ids.GeoidError: not a county code: '12x' is not a code: it must contain only digits
    """


def repair_geoid(value: object, level: str) -> str:
    """Return ``value`` as a zero-padded GEOID of ``level``.

    Accepts strings ('01001'), integers (1001) and floats with no fraction (1001.0), and pads
    with at most the zeros a number can lose: a state FIPS starts at 01, so a county written as a
    number has 4 or 5 digits, a tract 10 or 11. Anything else raises ``GeoidError``.

    >>> repair_geoid("6037", "county"), repair_geoid(6037101110, "tract")
    ('06037', '06037101110')
    """
    if level not in GEOID_LENGTHS:
        raise GeoidError(f"unknown geography level {level!r}; use one of {', '.join(GEOID_LENGTHS)}")
    width = GEOID_LENGTHS[level]
    try:
        text = repair_part(value)
    except GeoidError as exc:
        raise GeoidError(f"not a {level} code: {exc}") from None
    if len(text) == width:
        return text
    # Only the leading zero of the state code (01–09) can have been lost: one digit at most,
    # except for zip codes (00501 is a real ZIP, so two zeros can go).
    max_lost = 2 if level == "zip" else 1
    if width - max_lost <= len(text) < width:
        return text.zfill(width)
    raise GeoidError(
        f"{text!r} has {len(text)} digits; a {level} code has {width}"
        + (f" (or {width - max_lost} when a leading zero was lost)" if max_lost else "")
    )


def compose_geoid(*parts: object, widths: tuple[int, ...]) -> str:
    """Join code parts (state, county, tract …) padded to their widths.

    >>> compose_geoid(1, 1, 20100, widths=(2, 3, 6))
    '01001020100'
    """
    out = []
    for part, width in zip(parts, widths, strict=True):
        text = repair_part(part)
        if len(text) > width:
            raise GeoidError(f"{text!r} has more than {width} digits")
        out.append(text.zfill(width))
    return "".join(out)


def repair_part(part: object) -> str:
    """One code part as digits: 1.0 → '1', ' 07 ' → '07'.

    >>> repair_part(3.0)
    '3'
    """
    if isinstance(part, float):
        if math.isnan(part) or part != int(part):
            raise GeoidError(f"{part!r} is not a whole number")
        part = int(part)
    text = str(part).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not text.isdigit():
        raise GeoidError(f"{text!r} is not a code: it must contain only digits")
    return text


def geo_level_of(geoid: str) -> str:
    """The level a zero-padded GEOID belongs to, from its length (5 digits reads as county).

    >>> geo_level_of("4075000")
    'place'
    """
    by_length = {2: "state", 5: "county", 7: "place", 11: "tract"}
    if not geoid.isdigit() or len(geoid) not in by_length:
        raise GeoidError(f"{geoid!r} is not a state, county, place or tract GEOID")
    return by_length[len(geoid)]


def state_of(geoid: str) -> str:
    """The two-digit state code at the start of a county, place or tract GEOID.

    >>> state_of("40143007600")
    '40'
    """
    return geoid[:2]
