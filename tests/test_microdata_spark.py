"""The same Ibis expressions on Spark (PySpark local[1]) and on DuckDB give the same numbers.

One Spark session serves the whole test session (``upward.estimate.engines.spark_session``).
Skipped with the reason when PySpark or Java is missing.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from upward.demo.pums import write_demo_pums
from upward.metrics.recipes import recipes
from upward.warehouse.microdata import fetch_pums
from upward.warehouse.workspace import Workspace

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - depends on the machine
    pytest.skip("Java is not installed (PySpark needs Java 17)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
COLUMNS = ["estimate", "se", "lb", "ub", "cv", "n", "n_eff", "geo_share"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    folder = tmp_path_factory.mktemp("demo-pums")
    write_demo_pums(folder)
    ws = Workspace.init(tmp_path_factory.mktemp("ws") / "ws")
    fetch_pums(ws, from_dir=folder)
    return ws


def _same(a, b) -> None:
    assert list(a.geo_id) == list(b.geo_id) and list(a.subgroup) == list(b.subgroup)
    for col in COLUMNS:
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=1e-9,
                                   atol=1e-9, err_msg=col)
    assert list(a.quality) == list(b.quality)


@pytest.mark.parametrize("metric", sorted(recipes()))
def test_every_metric_is_equal_on_spark_and_duckdb(ws, metric):
    from upward.microdata import estimate

    cases = [("county", "race")] + ([("place", None)] if metric == "share_employed" else [])
    for geo, by in cases:
        duck = estimate(metric, geo=geo, by=by, workspace=ws, engine="duckdb")
        spark = estimate(metric, geo=geo, by=by, workspace=ws, engine="spark")
        assert spark.engine == "spark"
        _same(duck.frame, spark.frame)


def test_tabulation_is_equal_on_spark_and_duckdb(ws):
    from upward.microdata import table

    duck = table("AGEP_band", "race", workspace=ws, engine="duckdb").frame
    spark = table("AGEP_band", "race", workspace=ws, engine="spark").frame
    key = ["age_band", "race"]
    duck = duck.sort_values(key).reset_index(drop=True)
    spark = spark.sort_values(key).reset_index(drop=True)
    assert duck[key].equals(spark[key])
    for col in ("estimate", "se", "n"):
        np.testing.assert_allclose(duck[col], spark[col], rtol=1e-9)


def test_workspace_setting_chooses_spark(ws, tmp_path):
    from upward.microdata import estimate

    text = ws.settings_path.read_text().replace('engine = "duckdb"', 'engine = "spark"')
    ws.settings_path.write_text(text)
    try:
        opened = Workspace.open(ws.root)
        assert estimate("share_employed", geo="county", workspace=opened).engine == "spark"
    finally:
        ws.settings_path.write_text(text.replace('engine = "spark"', 'engine = "duckdb"'))
