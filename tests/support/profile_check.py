"""What every place's and county's profile must hold, checked for a sample in the tests
(tests/test_profile_realdata.py) and for all of them in ``python -m bench all-profiles``.

Examples
--------
>>> sample_ids(["a", "b", "c", "d"], 2, seed=1) == sample_ids(["d", "c", "b", "a"], 2, seed=1)
True
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path


def published_ids(data: Path) -> tuple[set[str], set[str]]:
    """Place and county GEOIDs of the Urban Institute's recent files, read with ``csv``."""
    def ids(name: str, column: str) -> set[str]:
        with open(data / "urban" / name, newline="", encoding="utf-8") as handle:
            return {r["state"] + r[column] for r in csv.DictReader(handle)}

    return (ids("mobility-metrics_place_recent.csv", "place"),
            ids("mobility-metrics_county_recent.csv", "county"))


def sample_ids(ids, k: int, *, seed: int) -> list[str]:
    """``k`` of ``ids`` drawn with a fixed seed (the same whatever the order of ``ids``)."""
    ordered = sorted(ids)
    return sorted(random.Random(seed).sample(ordered, min(k, len(ordered))))


def check_profile(wh, geo_id: str, *, is_place: bool, as_json: bool = False) -> None:
    """Assert that ``geo_id`` has a profile with declared metrics, each with a period, and for a
    place a population; with ``as_json`` its JSON parses."""
    from upward.measure.profile import build_profile

    p = build_profile(wh, geo_id)
    assert p.geo.geo_id == geo_id
    assert p.metrics, geo_id
    assert all(m.declared and m.period for m in p.metrics), geo_id
    if is_place:
        assert p.population, geo_id
    if as_json:
        json.loads(p.to_json())
