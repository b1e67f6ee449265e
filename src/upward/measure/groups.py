"""Subgroup codes of the publishers' files in words people read ("hisp" → "Hispanic").

Examples
--------
>>> group_label("hisp"), group_label("black_female"), group_label("all")
('Hispanic', 'Black women', 'Everyone')
"""

from __future__ import annotations

RACES = {"black": "Black", "hisp": "Hispanic", "hispanic": "Hispanic", "white": "White",
         "asian": "Asian", "natam": "Native American", "other": "Other races"}
GENDERS = {"male": "men", "female": "women"}
WHOLE = {"all": "Everyone", "pooled": "Everyone"}


def group_label(code: str | None) -> str:
    """The words for a subgroup code (race, gender or both as ``race_gender``); an unknown
    code is returned as it is.

    >>> group_label("male"), group_label("natam"), group_label("renters")
    ('Men', 'Native American', 'renters')
    """
    if code is None:
        return "—"
    text = str(code).strip().lower()
    if text in WHOLE:
        return WHOLE[text]
    if text in RACES:
        return RACES[text]
    if text in GENDERS:
        return GENDERS[text].capitalize()
    race, _, gender = text.rpartition("_")
    if race in RACES and gender in GENDERS:
        return f"{RACES[race]} {GENDERS[gender]}"
    return str(code)
