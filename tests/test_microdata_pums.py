"""PUMS files end to end: reader, workspace store, geography, metrics, bad input, CLI, coverage.

The demo PUMS (``upward.demo.pums``) is a sample from a generated finite population whose
values are known, so the 95% intervals can be checked against the truth over repeated draws.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from tests.conftest import DATA
from tests.support.http_server import serve_directory
from typer.testing import CliRunner

from upward.cli.main import app
from upward.core.errors import ConfigError, InputFileError
from upward.demo import pums as demo
from upward.estimate.expressions import parse
from upward.estimate.microdata import Statistic, estimate
from upward.geo.puma import PumaVintageError, allocation_factors, read_tract_puma_frame
from upward.metrics.recipes import recipes
from upward.sources.pums import combine, read_psam, read_pums
from upward.warehouse.microdata import fetch_pums, stored_releases
from upward.warehouse.store import Warehouse
from upward.warehouse.workspace import Workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo-pums")
    demo.write_demo_pums(folder)
    return folder


@pytest.fixture(scope="module")
def ws(tmp_path_factory, demo_dir) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("ws") / "ws")
    fetch_pums(ws, from_dir=demo_dir)
    return ws


def _snapshot(ws: Workspace) -> tuple:
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        src = wh.sources()[["dataset", "sha256"]].to_records(index=False).tolist()
    files = sorted((p.name, p.stat().st_mtime_ns) for p in ws.root.rglob("*.parquet"))
    return src, files


# ------------------------------------------------------------------------------------------------
# Reader
# ------------------------------------------------------------------------------------------------


def test_reader_joins_adjusts_and_decodes(demo_dir):
    md = read_pums(demo_dir / "pums" / "csv_pzz.zip", demo_dir / "pums" / "csv_hzz.zip",
                   year=2023, span=5)
    raw_h = read_psam(demo_dir / "pums" / "csv_hzz.zip", "h")
    raw_p = read_psam(demo_dir / "pums" / "csv_pzz.zip", "p")
    assert len(md.persons) == len(raw_p) and len(md.households) == len(raw_h)
    # ADJINC applied: HINCP × ADJINC / 10^6
    h = md.households.set_index("SERIALNO")
    first = raw_h.iloc[0]
    assert h.loc[first.SERIALNO, "HINCP"] == pytest.approx(first.HINCP * first.ADJINC / 1e6)
    # persons carry their household's variables, joined by SERIALNO
    p = md.persons.merge(raw_h[["SERIALNO", "HISPEED"]], on="SERIALNO", suffixes=("", "_h"))
    assert (p.HISPEED_h == p.HISPEED).all()
    assert set(md.persons.race) <= {"Black, non-Hispanic", "Hispanic", "White, non-Hispanic",
                                    "Other races and ethnicities"}
    hisp = md.persons[md.persons.HISP != 1]
    assert (hisp.race == "Hispanic").all()
    assert set(md.persons.sex_label) == {"Male", "Female"}
    assert md.persons.puma_id.str.len().eq(7).all() and (md.persons.puma_vintage == 2020).all()
    assert [f"PWGTP{r}" for r in (1, 80)] <= list(md.persons.columns)
    assert "WGTP80" in md.households.columns
    # the household table carries its householder's race
    hh = md.households.merge(md.persons[md.persons.SPORDER == 1][["SERIALNO", "race"]],
                             on="SERIALNO", suffixes=("", "_p"))
    assert (hh.race == hh.race_p).all()


def test_reader_2019_names_and_2010_pumas(demo_dir):
    p = read_psam(demo_dir / "pums" / "csv_pzz.zip", "p")
    h = read_psam(demo_dir / "pums" / "csv_hzz.zip", "h").rename(
        columns={"TYPEHUGQ": "TYPE", "ACCESSINET": "ACCESS"})
    md = combine(p, h, year=2019, span=1)
    assert (md.persons.puma_vintage == 2010).all()
    assert "TYPEHUGQ" in md.households.columns and "ACCESSINET" in md.households.columns
    assert md.households.in_household.all()


def test_real_tract_puma_files_read_with_their_vintage():
    for name, vintage in (("2010_Census_Tract_to_2010_PUMA.txt", 2010),
                          ("2020_Census_Tract_to_2020_PUMA.csv", 2020)):
        path = DATA / "crosswalks" / name
        if not path.exists():
            pytest.skip(f"real public file absent: {path}")
        frame, v = read_tract_puma_frame(path)
        assert v == vintage
        assert frame.tract.str.len().eq(11).all() and frame.puma_id.str.len().eq(7).all()
        # tracts nest in PUMAs: one PUMA per tract (Census relationship file)
        assert not frame.tract.duplicated().any()


# ------------------------------------------------------------------------------------------------
# Geography
# ------------------------------------------------------------------------------------------------


def test_allocation_factors_from_tract_populations():
    pop = demo.population()
    t = pop.tracts
    tp = pd.DataFrame({"tract": t.tract, "puma_id": "99" + t.puma})
    parts = pd.DataFrame({"tract": t.tract, "geo_id": np.where(t.place != "", t.place, None),
                          "population": t.population})
    af = allocation_factors(tp, parts, t[["tract", "population"]]).set_index("puma_id")
    assert af.loc["9900101", "afact"] == 1.0 and af.loc["9900102", "afact"] == 1.0
    inside = t[(t.puma == "00103") & (t.place != "")].population.sum()
    assert af.loc["9900103", "afact"] == pytest.approx(inside / t[t.puma == "00103"].population.sum())
    assert "9900104" not in af.index


def test_place_estimate_has_quality_from_share_and_sample_size(ws):
    from upward.microdata import estimate as metric

    r = metric("share_employed", geo="place", workspace=ws).frame
    assert r.geo_id.tolist() == ["9900100"]
    row = r.iloc[0]
    assert 0.5 < row.geo_share < 1 and row.quality in (1, 2)
    by = metric("share_employed", geo="place", by="race", workspace=ws).frame
    assert set(by.subgroup_type) == {"race"}
    small = by[by.n < 100]
    assert (small.quality == 3).all()


# ------------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", sorted(recipes()))
def test_every_recipe_runs_on_the_demo_by_every_group(ws, metric):
    from upward.microdata import estimate as metric_estimate

    for by in (None, "race", "sex", "age", "disability", "tenure"):
        r = metric_estimate(metric, geo="county", by=by, workspace=ws).frame
        assert len(r) >= 1 and r.se.notna().all()
        assert ((r.lb <= r.estimate) & (r.estimate <= r.ub)).all()


def test_demo_county_estimates_cover_the_known_values(ws):
    from upward.microdata import estimate as metric

    truth = demo.population_values().set_index(["geo_id", "metric_id"]).value
    for m in ("share_employed", "share_digital_access", "pctl_income_50"):
        row = metric(m, geo="county", workspace=ws).frame.iloc[0]
        z = abs(row.estimate - truth[("99001", m)]) / row.se
        assert z < 3.5, (m, row.estimate, truth[("99001", m)], row.se)


def test_stored_estimates_become_observations_with_se(ws):
    from upward.microdata import estimate as metric

    metric("share_employed", geo="county", by="race", workspace=ws, store=True)
    metric("share_employed", geo="county", by="race", workspace=ws, store=True)  # replaces
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        obs = wh.frame(wh.table("observations"))
    obs = obs[obs.metric_id == "share_employed"]
    assert set(obs.subgroup_type) == {"race"} and obs.se.gt(0).all()
    assert not obs.duplicated(["geo_id", "subgroup"]).any()
    assert (obs.bounds == "ci95").all() and obs.period.eq("2023").all()


def test_coverage_of_95_intervals_over_repeated_draws():
    """Known population values inside the 95% intervals at about the nominal rate."""
    pop = demo.population()
    truth = demo.population_values().set_index(["geo_id", "metric_id"]).value
    con = ibis.duckdb.connect()
    reps = [f"{r}" for r in range(1, 81)]
    persons, households = [], []
    for draw in range(30):  # all draws in one table, estimated by (draw, PUMA) in one pass
        p, h = demo.draw_sample(pop, 1000 + draw)
        md = combine(p, h, year=2023, span=5)
        keep = ["puma_id", "AGEP", "ESR", "HISPEED", "in_household"]
        persons.append(md.persons[[*keep, "PWGTP", *("PWGTP" + r for r in reps)]].assign(draw=draw))
        households.append(md.households[["puma_id", "HINCP", "in_household", "WGTP",
                                         *("WGTP" + r for r in reps)]].assign(draw=draw))
    ptab = con.create_table("p", pd.concat(persons, ignore_index=True))
    htab = con.create_table("h", pd.concat(households, ignore_index=True))
    hits, total = 0, 0
    for metric, table, kind, variable, q, universe in (
        ("share_employed", ptab, "proportion", "ESR in [1, 2, 4, 5]", None,
         "AGEP >= 25 and AGEP <= 54"),
        ("share_digital_access", ptab, "proportion", "HISPEED == 1", None, "in_household"),
        ("pctl_income_50", htab, "quantile", "HINCP", 0.5, "in_household"),
    ):
        s = Statistic(kind, parse(variable, table), q=q)
        r = estimate(table, s, by=["draw", "puma_id"], weight="PWGTP" if table is ptab
                     else "WGTP", where=parse(universe, table), backend=con)
        assert len(r) == 30 * 4
        for row in r.itertuples():
            value = truth[(row.puma_id, metric)]
            hits += row.lb <= value <= row.ub
            total += 1
    rate = hits / total
    # 360 intervals (30 draws × 4 PUMAs × 3 metrics); a binomial 95% band around 0.95 is
    # about ±0.023. Larger runs: python -m bench.microdata coverage
    assert 0.90 <= rate <= 0.99, rate


# ------------------------------------------------------------------------------------------------
# Bad input: clear errors, nothing stored changes
# ------------------------------------------------------------------------------------------------


def _copy_demo(src: Path, dst: Path) -> Path:
    for p in src.rglob("*"):
        if p.is_file():
            target = dst / p.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(p.read_bytes())
    return dst


def _rewrite_person_csv(folder: Path, edit) -> None:
    z = folder / "pums" / "csv_pzz.zip"
    with zipfile.ZipFile(z) as zf:
        text = zf.read("psam_p99.csv").decode()
    z.unlink()
    (folder / "pums" / "psam_p99.csv").write_text(edit(text))


def test_missing_weight_column(ws, demo_dir, tmp_path):
    bad = _copy_demo(demo_dir, tmp_path / "bad")
    _rewrite_person_csv(bad, lambda t: t.replace("PWGTP80", "PWGTPX", 1))
    before = _snapshot(ws)
    with pytest.raises(InputFileError, match=r"psam_p99\.csv, column 'PWGTP80': a weight column"):
        fetch_pums(ws, from_dir=bad)
    assert _snapshot(ws) == before


def test_replicate_column_of_text(ws, demo_dir, tmp_path):
    bad = _copy_demo(demo_dir, tmp_path / "bad")

    def edit(text: str) -> str:
        lines = text.splitlines()
        header = lines[0].split(",")
        k = header.index("PWGTP7")
        row = lines[5].split(",")
        row[k] = "n/a"
        lines[5] = ",".join(row)
        return "\n".join(lines) + "\n"

    _rewrite_person_csv(bad, edit)
    before = _snapshot(ws)
    with pytest.raises(InputFileError, match=r"psam_p99\.csv, row 6, column 'PWGTP7': value 'n/a'"):
        fetch_pums(ws, from_dir=bad)
    assert _snapshot(ws) == before


def test_file_truncated_mid_row(ws, demo_dir, tmp_path):
    bad = _copy_demo(demo_dir, tmp_path / "bad")
    _rewrite_person_csv(bad, lambda t: t[: len(t) - 200])
    before = _snapshot(ws)
    with pytest.raises(InputFileError, match=r"psam_p99\.csv, row \d+: the row has \d+ fields"):
        fetch_pums(ws, from_dir=bad)
    assert _snapshot(ws) == before


def test_puma_vintage_mismatch_with_the_crosswalk(ws, demo_dir, tmp_path):
    bad = _copy_demo(demo_dir, tmp_path / "bad")
    cw = bad / "crosswalks"
    (cw / "2020_Census_Tract_to_2020_PUMA.csv").rename(cw / "2010_Census_Tract_to_2010_PUMA.txt")
    before = _snapshot(ws)
    with pytest.raises(PumaVintageError, match="uses 2020 PUMAs but 2010_Census_Tract_to_2010"):
        fetch_pums(ws, from_dir=bad)
    with pytest.raises(PumaVintageError, match="ACS 2019 1-year PUMS uses 2010 PUMAs"):
        fetch_pums(ws, from_dir=demo_dir, year=2019, span=1)
    assert _snapshot(ws) == before


def test_unknown_grouping_column_and_bad_quantile(ws):
    from upward.microdata import estimate as metric
    from upward.microdata import table

    with pytest.raises(ConfigError, match="--by 'religion' is not a grouping column"):
        metric("share_employed", by="religion", workspace=ws)
    with pytest.raises(ConfigError, match="--where 'COUNTY=1': 'COUNTY' is not a column"):
        table("AGEP_band", where="COUNTY=1", workspace=ws)
    with pytest.raises(ConfigError, match="--metric 'share_employd' has no PUMS recipe"):
        metric("share_employd", workspace=ws)
    with pytest.raises(ConfigError, match=r"q=1\.5 is outside \(0, 1\)"):
        Statistic("quantile", "HINCP", q=1.5)


# ------------------------------------------------------------------------------------------------
# CLI and download
# ------------------------------------------------------------------------------------------------


def test_cli_fetch_estimate_table(tmp_path, demo_dir):
    w = str(tmp_path / "ws")
    assert runner.invoke(app, ["init", w]).exit_code == 0
    r = runner.invoke(app, ["fetch", "pums", "--from", str(demo_dir), "-w", w])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["microdata", "estimate", "--metric", "share_employed", "--geo",
                            "place", "--by", "race", "--format", "json", "-w", w])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["metric"] == "share_employed" and out["engine"] == "duckdb"
    assert {row["subgroup"] for row in out["rows"]} >= {"White, non-Hispanic", "Hispanic"}
    r = runner.invoke(app, ["microdata", "table", "--rows", "AGEP_band", "--cols", "RAC1P",
                            "--where", "ST=99", "--format", "csv", "-w", w])
    assert r.exit_code == 0, r.output
    cells = pd.read_csv(__import__("io").StringIO(r.stdout), dtype={"RAC1P": str})
    grand = cells[(cells.age_band == "All") & (cells.RAC1P == "All")].estimate.iloc[0]
    assert cells[(cells.age_band != "All") & (cells.RAC1P != "All")].estimate.sum() == \
        pytest.approx(grand)
    r = runner.invoke(app, ["microdata", "estimate", "--metric", "pctl_income_50", "-w", w])
    assert r.exit_code == 0 and "pctl_income_50" in r.stdout


def test_fetch_online_from_a_local_server(tmp_path, demo_dir):
    site = tmp_path / "site"
    (site / "2023" / "5-Year").mkdir(parents=True)
    for name in ("csv_pzz.zip", "csv_hzz.zip"):
        (site / "2023" / "5-Year" / name).write_bytes((demo_dir / "pums" / name).read_bytes())
    rel = demo_dir / "crosswalks" / "2020_Census_Tract_to_2020_PUMA.csv"
    (site / "rel.txt").write_bytes(rel.read_bytes())
    ws = Workspace.init(tmp_path / "ws")
    with serve_directory(site) as server:
        text = ws.settings_path.read_text()
        urls = f'urls = {{ "pums" = "{server.url("")}", "pums.tract_puma_2020" = ' \
               f'"{server.url("rel.txt")}" }}'
        ws.settings_path.write_text(text.replace("urls = {}", urls))
        ws = Workspace.open(ws.root)
        lines = fetch_pums(ws, states=["99"], year=2023, span=5)
    assert "state 99" in lines[0]
    assert [r.year for r in stored_releases(ws)] == [2023]
