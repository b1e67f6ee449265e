"""The dataset registry carries every fact about a dataset (publisher, label, release, kind of
rows): a renamed dataset gives the same profile, and a dataset declared in one place (here,
inside the test) reaches the profile, the release labels and the sources table with no other
edit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from upward.measure import frames
from upward.measure.profile import build_profile
from upward.measure.series import trend_release
from upward.report.charts import release_label
from upward.sources import DATASETS
from upward.sources.base import Dataset, Kind, Publisher, Tables, register, unregister
from upward.sources.schema import conform
from upward.warehouse.ingest import fetch
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

PLACE, COUNTY = "4075000", "40143"
METRIC = "pctl_income_50"


def _observations(source_id: str, rows: list[tuple], level: str = "place",
                  geo_id: str = PLACE) -> pd.DataFrame:
    n = len(rows)
    return conform("observations", pd.DataFrame({
        "geo_id": geo_id, "geo_level": level, "metric_id": [r[0] for r in rows],
        "period": [r[1] for r in rows], "subgroup_type": "all", "subgroup": "all",
        "estimate": [float(r[2]) for r in rows], "lb": np.nan, "ub": np.nan, "se": np.nan,
        "quality": pd.array([1] * n, dtype="Int8"), "bounds": "none", "source_id": source_id,
    }))


def _geographies(source_id: str) -> pd.DataFrame:
    return conform("geographies", pd.DataFrame({
        "geo_id": [PLACE, COUNTY], "geo_level": ["place", "county"],
        "name": ["Tulsa city, Oklahoma", "Tulsa County, Oklahoma"], "state_fips": "40",
        "parent_geo_id": [None, "40"], "population": [413066.0, 669279.0], "vintage": "2023",
        "source_id": source_id,
    }))


def _load(wh: Warehouse, key: str, sha: str, tables: Tables) -> None:
    wh.load(key, tables, {"source_id": f"{key}@{sha}", "dataset": key, "sha256": sha})


def _urban_warehouse(path, longitudinal_key: str) -> Warehouse:
    """The 2024 recent file and the 2025 longitudinal file give different values for the same
    year (as the real files do for revised metrics); the longitudinal one is under ``key``."""
    wh = Warehouse(path)
    _load(wh, "urban.place_recent", "r1", Tables(
        observations=_observations("urban.place_recent@r1", [(METRIC, "2021", 40000)]),
        geographies=_geographies("urban.place_recent@r1")))
    _load(wh, longitudinal_key, "l1", Tables(observations=_observations(
        f"{longitudinal_key}@l1", [(METRIC, "2019", 43000), (METRIC, "2021", 45000)])))
    return wh


@pytest.fixture
def renamed_longitudinal():
    """The Urban longitudinal file registered again under a key that sorts after the recent
    file's (``urban.place_recent`` < ``urban.zz_…``), so lexical order would flip the winner."""
    renamed = dataclasses.replace(DATASETS["urban.place_longitudinal"],
                                  key="urban.zz_longitudinal_renamed")
    register(renamed)
    yield renamed
    unregister(renamed.key)


def test_renaming_a_dataset_keeps_the_profile_value(tmp_path, renamed_longitudinal):
    assert sorted([renamed_longitudinal.key, "urban.place_recent"])[0] == "urban.place_recent"
    seen = {}
    for key in ("urban.place_longitudinal", renamed_longitudinal.key):
        with _urban_warehouse(tmp_path / f"{key}.duckdb", key) as wh:
            entry = next(m for m in build_profile(wh, "Tulsa, OK").metrics
                         if m.metric_id == METRIC)
            seen[key] = (entry.estimate, entry.period, entry.source_id)
            series = pd.DataFrame({"source_id": [f"{key}@l1", f"{key}@l1", "urban.place_recent@r1",
                                                 "urban.place_recent@r1"],
                                   "period": ["2019", "2021", "2020", "2021"], "dated": True})
            assert trend_release(series) == f"{key}@l1"
    assert seen["urban.place_longitudinal"] == (45000.0, "2021", "urban.place_longitudinal@l1")
    assert seen[renamed_longitudinal.key] == (45000.0, "2021",
                                               f"{renamed_longitudinal.key}@l1")


def _read_throwaway(path, source_id: str) -> Tables:
    frame = pd.read_csv(path, dtype={"county": str})
    rows = [("throwaway_share", "2030", v) for v in frame["value"]]
    return Tables(observations=_observations(source_id, rows, "county", frame["county"][0]),
                  geographies=_geographies(source_id))


@pytest.fixture
def throwaway():
    """A dataset of a made-up source, declared only here."""
    dataset = register(Dataset(
        key="test.throwaway_county", source="test-throwaway",
        publisher=Publisher.SOCIAL_CAPITAL_ATLAS, title="A throwaway county file",
        url="https://example.org/throwaway.csv", local_names=("throwaway.csv",),
        license="test only", reader=_read_throwaway, kind=Kind.COUNTY_OUTCOMES,
        label="Throwaway county outcomes (test)", short_label="Throwaway (test)",
        release="2030"))
    yield dataset
    unregister(dataset.key)


def test_a_dataset_declared_once_reaches_profile_labels_and_sources(tmp_path, throwaway,
                                                                    monkeypatch):
    from upward.metrics import check

    declared = check.metric_ids() | {"throwaway_share"}  # its metric, declared for this test
    monkeypatch.setattr(check, "metric_ids", lambda: declared)
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "throwaway.csv").write_text(f"county,value\n{COUNTY},0.25\n")
    ws = Workspace.init(tmp_path / "ws")
    fetch(ws, ["test-throwaway"], from_dir=folder)
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        source = frames.sources(wh).iloc[0]
        assert source["dataset"] == "test.throwaway_county"
        assert source["publisher"] == "Opportunity Insights and Meta (Social Capital Atlas)"
        assert release_label(source["source_id"]) == "Throwaway county outcomes (test)"
        assert release_label(source["source_id"], short=True) == "Throwaway (test)"
        # its kind puts it among the county outcomes, its publisher among the social capital
        assert list(frames.county_outcomes(wh)["metric_id"]) == ["throwaway_share"]
        profile = build_profile(wh, COUNTY)
        assert [o.metric_id for o in profile.social_capital] == ["throwaway_share"]
        assert profile.atlas == [] and profile.social_capital[0].estimate == 0.25
        assert profile.sources[0]["publisher"] == source["publisher"]
        assert frames.source_ids(wh, kinds=[Kind.METRICS]) == []
