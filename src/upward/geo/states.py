"""US states, DC and Puerto Rico: FIPS code, postal abbreviation and name (Census Bureau codes).

Examples
--------
>>> STATES_BY_FIPS["40"].abbr
'OK'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    """One state: two-digit FIPS code, postal abbreviation, full name.

    >>> state_for("ok")
    State(fips='40', abbr='OK', name='Oklahoma')
    """

    fips: str
    abbr: str
    name: str


_ROWS = """01 AL Alabama|02 AK Alaska|04 AZ Arizona|05 AR Arkansas|06 CA California|08 CO Colorado
|09 CT Connecticut|10 DE Delaware|11 DC District of Columbia|12 FL Florida|13 GA Georgia|15 HI Hawaii
|16 ID Idaho|17 IL Illinois|18 IN Indiana|19 IA Iowa|20 KS Kansas|21 KY Kentucky|22 LA Louisiana
|23 ME Maine|24 MD Maryland|25 MA Massachusetts|26 MI Michigan|27 MN Minnesota|28 MS Mississippi
|29 MO Missouri|30 MT Montana|31 NE Nebraska|32 NV Nevada|33 NH New Hampshire|34 NJ New Jersey
|35 NM New Mexico|36 NY New York|37 NC North Carolina|38 ND North Dakota|39 OH Ohio|40 OK Oklahoma
|41 OR Oregon|42 PA Pennsylvania|44 RI Rhode Island|45 SC South Carolina|46 SD South Dakota
|47 TN Tennessee|48 TX Texas|49 UT Utah|50 VT Vermont|51 VA Virginia|53 WA Washington
|54 WV West Virginia|55 WI Wisconsin|56 WY Wyoming|72 PR Puerto Rico"""

#: The synthetic demo city lives in a code the Census Bureau never assigns to a state.
DEMO_STATE = State("99", "ZZ", "Demo State (synthetic)")

STATES: tuple[State, ...] = tuple(
    State(code, abbr, name)
    for code, abbr, name in (
        (row.strip().split(" ", 2)) for row in _ROWS.replace("\n", "").split("|")
    )
) + (DEMO_STATE,)

STATES_BY_FIPS: dict[str, State] = {s.fips: s for s in STATES}
STATES_BY_ABBR: dict[str, State] = {s.abbr: s for s in STATES}
STATES_BY_NAME: dict[str, State] = {s.name.lower(): s for s in STATES}


def state_for(token: str) -> State | None:
    """The state named by a FIPS code, postal abbreviation or name (any case), or None.

    >>> state_for("ok").fips, state_for("New York").abbr, state_for("40").name
    ('40', 'NY', 'Oklahoma')
    """
    t = token.strip()
    if t.isdigit():
        return STATES_BY_FIPS.get(t.zfill(2))
    return STATES_BY_ABBR.get(t.upper()) or STATES_BY_NAME.get(t.lower())


_REGIONS = {
    "Northeast": "09 23 25 33 44 50 34 36 42",
    "Midwest": "17 18 26 39 55 19 20 27 29 31 38 46",
    "South": "10 11 12 13 24 37 45 51 54 01 21 28 47 05 22 40 48",
    "West": "04 08 16 30 32 35 49 56 02 06 15 41 53",
}

#: Census Bureau regions by state FIPS (Puerto Rico and the demo state are their own).
REGION_BY_FIPS: dict[str, str] = {
    code: region for region, codes in _REGIONS.items() for code in codes.split()
} | {"72": "Puerto Rico", DEMO_STATE.fips: "Demo"}


def region_of(state_fips: str) -> str:
    """The Census region of a state.

    >>> region_of("40"), region_of("36")
    ('South', 'Northeast')
    """
    return REGION_BY_FIPS.get(state_fips, "Unknown")
