"""Opportunity Insights connectors (Opportunity Atlas, county→cz crosswalk, Social Capital Atlas)
read against the real files in ../shared/data, checked against the raw CSVs read here with the
csv module, plus broken copies of a few lines of those files."""

from __future__ import annotations

import csv
import functools
import io
import math
from pathlib import Path

import pandas as pd
import pytest

from upward.core.errors import InputFileError
from upward.sources import DATASETS, datasets_of
from upward.sources.base import Tables

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
Z95 = 1.959964

pytestmark = pytest.mark.realdata

KEYS = {
    "atlas.county_outcomes": "opportunity-atlas",
    "atlas.tract_kfr_dollars": "opportunity-atlas",
    "atlas.tract_kfr_top20": "opportunity-atlas",
    "atlas.tract_outcomes": "opportunity-atlas",
    "atlas.tract_covariates": "opportunity-atlas",
    "crosswalk.county_cz": "crosswalks",
    "sca.county": "social-capital",
    "sca.zip": "social-capital",
}


def real_path(key: str) -> Path:
    path = DATA / DATASETS[key].local_names[0]
    if not path.exists():
        pytest.skip(f"{path} is absent: the real Opportunity Insights files live in "
                    "../shared/data (see its SOURCES.md); this checkout does not have them")
    return path


@functools.cache
def _load(key: str) -> Tables:
    return DATASETS[key].reader(DATA / DATASETS[key].local_names[0], "test-source")


def load(key: str) -> Tables:
    real_path(key)
    return _load(key)


@functools.cache
def _raw(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def raw(key: str) -> tuple[list[str], list[dict[str, str]]]:
    return _raw(real_path(key))


def read(key: str, path: Path) -> Tables:
    return DATASETS[key].reader(path, "test-source")


def excerpt(key: str, tmp_path: Path, lines: int = 4, edit=None) -> Path:
    """The header and first data lines of a real file (BOM kept), optionally edited."""
    source = real_path(key)
    data = source.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig").splitlines()[: lines + 1]
    if edit:
        text = edit(text)
    out = tmp_path / source.name
    out.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(text) + "\n").encode())
    return out


def one(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame[mask]
    assert len(rows) == 1, f"{len(rows)} rows match {where}"
    return rows.iloc[0]


def nonempty(rows: list[dict[str, str]], columns: list[str]) -> int:
    return sum(1 for r in rows for c in columns if r[c].strip() not in {"", "NA", "."})


def set_field(lines: list[str], line: int, column: str, value: str) -> list[str]:
    """Replace one field (file line numbering: header = 1), re-quoting as the csv module does."""
    rows = list(csv.reader(lines))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().splitlines()


def rename_column(old: str, new: str):
    """An edit that renames one header field."""

    def edit(lines: list[str]) -> list[str]:
        header = lines[0].split(",")
        header[header.index(old)] = new
        return [",".join(header), *lines[1:]]

    return edit


# ---------------------------------------------------------------- registry


def test_datasets_are_registered_with_local_names_and_urls() -> None:
    for key, source in KEYS.items():
        dataset = DATASETS[key]
        assert dataset.source == source
        assert dataset.url.startswith("https://")
        assert dataset.local_names[0].startswith("opportunity-insights/")
        assert dataset.local_names[1] == Path(dataset.local_names[0]).name
        assert dataset.notes
    assert {d.key for d in datasets_of("social-capital")} == {"sca.county", "sca.zip"}
    assert "atlas.national" not in DATASETS


# ---------------------------------------------------------------- county outcomes


def test_county_outcomes_row_counts_match_the_raw_file() -> None:
    header, rows = raw("atlas.county_outcomes")
    tables = load("atlas.county_outcomes")
    assert len(rows) == 3219
    measures = [c for c in header if c not in {"state", "county", "cz", "czname"}
                and not c.endswith("_se")]
    assert len(tables.observations) == nonempty(rows, measures)
    assert len(tables.crosswalks) == sum(1 for r in rows if r["cz"]) == 3140
    assert len(tables.geographies) == len({r["cz"] for r in rows if r["cz"]}) == 741
    assert set(tables.geographies.geo_level) == {"cz"}


def test_tulsa_county_kfr_and_its_standard_error() -> None:
    _, rows = raw("atlas.county_outcomes")
    tulsa = next(r for r in rows if r["state"] == "40" and r["county"] == "143")
    obs = load("atlas.county_outcomes").observations
    row = one(obs, geo_id="40143", metric_id="kfr_p25", subgroup_type="all", subgroup="all")
    est, se = float(tulsa["kfr_pooled_pooled_p25"]), float(tulsa["kfr_pooled_pooled_p25_se"])
    assert row.estimate == est and row.se == se
    assert row.lb == pytest.approx(est - Z95 * se) and row.ub == pytest.approx(est + Z95 * se)
    assert (row.bounds, row.period, row.geo_level) == ("ci95", "1978-1983 birth cohorts", "county")
    assert pd.isna(row.quality)
    hisp_male = one(obs, geo_id="40143", metric_id="kfr_p25", subgroup="hisp_male")
    assert hisp_male.subgroup_type == "race_gender"
    assert hisp_male.estimate == float(tulsa["kfr_hisp_male_p25"])
    count = one(obs, geo_id="40143", metric_id="atlas_count", subgroup="white_female")
    assert count.estimate == float(tulsa["white_female_count"])
    assert count.bounds == "none" and pd.isna(count.se) and pd.isna(count.lb)


def test_county_subgroups_follow_race_and_gender() -> None:
    obs = load("atlas.county_outcomes").observations
    kfr = set(obs.loc[obs.metric_id == "kfr_p25", ["subgroup_type", "subgroup"]]
              .itertuples(index=False, name=None))
    races, genders = ("black", "hisp", "white"), ("female", "male")
    assert kfr == (
        {("all", "all")}
        | {("race", r) for r in races}
        | {("gender", g) for g in genders}
        | {("race_gender", f"{r}_{g}") for r in races for g in genders}
    )
    counts = set(obs.loc[obs.metric_id == "atlas_count", "subgroup"])
    assert counts == {"all", *races, *genders, *(f"{r}_{g}" for r in races for g in genders)}


def test_county_codes_are_zero_padded_and_crosswalked_to_commuting_zones() -> None:
    _, rows = raw("atlas.county_outcomes")
    autauga = next(r for r in rows if r["state"] == "1" and r["county"] == "1")
    tables = load("atlas.county_outcomes")
    assert "01001" in set(tables.observations.geo_id)
    link = one(tables.crosswalks, from_geo_id="01001")
    assert link.to_geo_id == autauga["cz"].zfill(5) == "11101"
    assert (link.weight, link.weight_kind, link.vintage) == (1.0, "membership", "1990")
    assert one(tables.geographies, geo_id="30402")["name"] == "Tulsa"
    assert one(tables.crosswalks, from_geo_id="40143").to_geo_id == "30402"
    zone = one(tables.geographies, geo_id="00100")
    assert (zone["name"], zone.vintage, zone.state_fips) == ("Johnson City", "1990", None)


def test_negative_incarceration_predictions_are_kept_with_quality_3() -> None:
    header, rows = raw("atlas.county_outcomes")
    jail = [c for c in header if c.startswith("jail_") and not c.endswith("_se")]
    negative = [(r, c) for r in rows for c in jail if r[c] and float(r[c]) < 0]
    obs = load("atlas.county_outcomes").observations
    flagged = obs[(obs.metric_id == "jail_p25") & (obs.quality == 3)]
    assert len(flagged) == len(negative) > 0
    r, c = negative[0]
    geo = r["state"].zfill(2) + r["county"].zfill(3)
    kept = obs[(obs.geo_id == geo) & (obs.metric_id == "jail_p25")
               & (obs.estimate == float(r[c]))]
    assert len(kept) == 1 and kept.iloc[0].quality == 3
    assert (obs.loc[obs.metric_id == "kfr_p25", "quality"].isna()).all()
    assert any("jail_p25" in n and "quality 3" in n for n in load("atlas.county_outcomes").notes)


def test_county_renamed_column_is_an_error_naming_it(tmp_path: Path) -> None:
    path = excerpt("atlas.county_outcomes", tmp_path,
                   edit=rename_column("kfr_black_pooled_p25", "kfr_blk_pooled_p25"))
    with pytest.raises(InputFileError) as caught:
        read("atlas.county_outcomes", path)
    assert caught.value.column == "kfr_blk_pooled_p25" and caught.value.row == 1
    assert "kfr_blk_pooled_p25" in str(caught.value) and path.name in str(caught.value)


def test_county_rank_far_outside_0_1_is_an_error_but_noise_is_kept(tmp_path: Path) -> None:
    bad = excerpt("atlas.county_outcomes", tmp_path,
                  edit=lambda t: set_field(t, 3, "kfr_pooled_pooled_p25", "36.2"))
    with pytest.raises(InputFileError) as caught:
        read("atlas.county_outcomes", bad)
    assert (caught.value.row, caught.value.column) == (3, "kfr_pooled_pooled_p25")
    assert "36.2" in str(caught.value)
    noisy = excerpt("atlas.county_outcomes", tmp_path,
                    edit=lambda t: set_field(t, 3, "kfr_pooled_pooled_p25", "1.02"))
    obs = read("atlas.county_outcomes", noisy).observations
    assert one(obs, geo_id="01003", metric_id="kfr_p25", subgroup="all").quality == 3


def test_county_negative_se_and_duplicate_and_missing_columns(tmp_path: Path) -> None:
    negative_se = excerpt("atlas.county_outcomes", tmp_path,
                          edit=lambda t: set_field(t, 2, "jail_pooled_pooled_p25_se", "-0.01"))
    with pytest.raises(InputFileError) as caught:
        read("atlas.county_outcomes", negative_se)
    assert (caught.value.row, caught.value.column) == (2, "jail_pooled_pooled_p25_se")
    duplicate = excerpt("atlas.county_outcomes", tmp_path, edit=lambda t: [*t, t[1]])
    with pytest.raises(InputFileError, match="same key") as caught:
        read("atlas.county_outcomes", duplicate)
    assert caught.value.row == 6
    no_county = excerpt("atlas.county_outcomes", tmp_path, edit=rename_column("county", "cnty"))
    with pytest.raises(InputFileError, match="'county'") as caught:
        read("atlas.county_outcomes", no_county)
    assert caught.value.column == "county"


def test_one_commuting_zone_with_two_names_is_an_error(tmp_path: Path) -> None:
    def rename(t: list[str]) -> list[str]:
        rows = list(csv.reader(t))
        cz = rows[0].index("cz")
        same = [i for i, r in enumerate(rows[1:], start=2) if r[cz] == rows[1][cz]]
        assert len(same) > 1
        return set_field(t, same[1], "czname", "Elsewhere")

    path = excerpt("atlas.county_outcomes", tmp_path, lines=40, edit=rename)
    with pytest.raises(InputFileError, match="different names") as caught:
        read("atlas.county_outcomes", path)
    assert caught.value.column == "czname"


# ---------------------------------------------------------------- web-tool tract files


def test_tract_dollars_row_counts_and_alabama_zero_repair() -> None:
    header, rows = raw("atlas.tract_kfr_dollars")
    value = "Household_Income_at_Age_35_rP_gP_p25"
    assert header == ["tract", "Name", value] and len(rows) == 73502
    tables = load("atlas.tract_kfr_dollars")
    assert len(tables.observations) == nonempty(rows, [value]) == 71853
    assert len(tables.geographies) == len(rows)
    alabama = next(r for r in rows if len(r["tract"]) == 10 and r["tract"].startswith("1")
                   and r[value])
    geo = "0" + alabama["tract"]
    row = one(tables.observations, geo_id=geo)
    assert (row.metric_id, row.estimate, row.geo_level) == ("kfr_dollars_p25",
                                                             float(alabama[value]), "tract")
    place = one(tables.geographies, geo_id=geo)
    assert place["name"] == alabama["Name"].strip()
    assert (place.state_fips, place.parent_geo_id, place.vintage) == ("01", geo[:5], "2010")
    assert set(tables.geographies.geo_id.str.len()) == {11}
    blanks = sum(1 for r in rows if not r["Name"].strip())
    assert int(tables.geographies["name"].isna().sum()) == blanks > 0


def test_tract_dollars_at_the_ends_of_the_scale_get_quality_3() -> None:
    tables = load("atlas.tract_kfr_dollars")
    obs = tables.observations
    sun_city = one(obs, geo_id="48491020203")
    assert sun_city.estimate == 1062314 and sun_city.quality == 3
    flagged = obs[obs.quality == 3]
    assert set(flagged.estimate) == {0.0, 1062314.0} and len(flagged) == 4
    ordinary = obs[(obs.estimate > 0) & (obs.estimate < 1e6)]
    assert ordinary.quality.isna().all() and ordinary.estimate.max() == 105732
    assert any("ends of the web tool's scale" in n for n in tables.notes)


def test_tract_with_9_digits_or_letters_is_an_error_naming_the_line(tmp_path: Path) -> None:
    nine = excerpt("atlas.tract_kfr_dollars", tmp_path,
                   edit=lambda t: set_field(t, 4, "tract", "481210215"))
    with pytest.raises(InputFileError, match="9 digits") as caught:
        read("atlas.tract_kfr_dollars", nine)
    assert (caught.value.row, caught.value.column) == (4, "tract")
    letters = excerpt("atlas.tract_kfr_dollars", tmp_path,
                      edit=lambda t: set_field(t, 3, "tract", "48121O21524"))
    with pytest.raises(InputFileError, match="only digits") as caught:
        read("atlas.tract_kfr_dollars", letters)
    assert caught.value.row == 3


def test_tract_top20_counts_and_a_share_above_1_is_an_error(tmp_path: Path) -> None:
    header, rows = raw("atlas.tract_kfr_top20")
    tables = load("atlas.tract_kfr_top20")
    assert len(tables.observations) == nonempty(rows, [header[2]])
    assert one(tables.observations, geo_id="48491020203").quality == 3
    memorial = rows[1]
    assert memorial["Name"] == "Memorial, Houston, TX"
    assert one(tables.observations, geo_id="48201430400").estimate == float(memorial[header[2]])
    bad = excerpt("atlas.tract_kfr_top20", tmp_path,
                  edit=lambda t: set_field(t, 3, header[2], "1.4"))
    with pytest.raises(InputFileError, match="above the possible maximum 1") as caught:
        read("atlas.tract_kfr_top20", bad)
    assert (caught.value.row, caught.value.column) == (3, header[2])


# ---------------------------------------------------------------- tract outcomes, covariates


def test_tract_outcomes_counts_composition_and_subgroups() -> None:
    header, rows = raw("atlas.tract_outcomes")
    tables = load("atlas.tract_outcomes")
    assert len(rows) == 72367
    assert len(tables.observations) == nonempty(rows, header[3:])
    first = next(r for r in rows if (r["state"], r["county"], r["tract"]) == ("1", "1", "20100"))
    obs = tables.observations
    pooled = one(obs, geo_id="01001020100", metric_id="kir_p25", subgroup="all")
    assert pooled.estimate == float(first["kir_pooled_p25"]) and pooled.estimate > 1  # 0–100
    black = one(obs, geo_id="01001020100", metric_id="kir_p25", subgroup="black")
    assert black.subgroup_type == "race" and black.estimate == float(first["kir_black_p25"])
    kids = one(obs, geo_id="01001020100", metric_id="kid_count", subgroup="white")
    assert kids.estimate == float(first["kid_white_n"])
    noisy = one(obs, geo_id="26065005002", metric_id="kir_p25", subgroup="black")
    assert noisy.estimate == pytest.approx(-16.214199) and noisy.quality == 3


def test_tract_outcomes_renamed_column_and_impossible_rank(tmp_path: Path) -> None:
    renamed = excerpt("atlas.tract_outcomes", tmp_path,
                      edit=rename_column("kid_white_n", "kids_white"))
    with pytest.raises(InputFileError, match="kids_white") as caught:
        read("atlas.tract_outcomes", renamed)
    assert caught.value.column == "kids_white"
    impossible = excerpt("atlas.tract_outcomes", tmp_path,
                         edit=lambda t: set_field(t, 2, "kir_white_p25", "355"))
    with pytest.raises(InputFileError) as caught:
        read("atlas.tract_outcomes", impossible)
    assert (caught.value.row, caught.value.column) == (2, "kir_white_p25")


def test_tract_covariates_period_and_values() -> None:
    _, rows = raw("atlas.tract_covariates")
    obs = load("atlas.tract_covariates").observations
    assert len(obs) == nonempty(rows, ["hhinc_mean2000"]) == 72301
    assert set(obs.period) == {"2000"} and set(obs.metric_id) == {"hhinc_mean2000"}
    first = rows[0]
    geo = first["state"].zfill(2) + first["county"].zfill(3) + first["tract"].zfill(6)
    assert one(obs, geo_id=geo).estimate == float(first["hhinc_mean2000"])


# ---------------------------------------------------------------- county → cz crosswalk


def test_county_cz_crosswalk_has_3138_counties() -> None:
    _, rows = raw("crosswalk.county_cz")
    tables = load("crosswalk.county_cz")
    assert len(rows) == len(tables.crosswalks) == 3138
    assert len(tables.geographies) == len({r["cz"] for r in rows}) == 741
    assert set(tables.crosswalks.weight) == {1.0}
    assert set(tables.crosswalks.weight_kind) == {"membership"}
    assert one(tables.crosswalks, from_geo_id="47019").to_geo_id == "00100"
    assert one(tables.geographies, geo_id="00100")["name"] == "Johnson City"
    atlas = load("atlas.county_outcomes").crosswalks.set_index("from_geo_id").to_geo_id
    here = tables.crosswalks.set_index("from_geo_id").to_geo_id
    assert (atlas.reindex(here.index) == here).all()


def test_county_cz_blank_zone_is_an_error(tmp_path: Path) -> None:
    path = excerpt("crosswalk.county_cz", tmp_path, edit=lambda t: set_field(t, 3, "cz", ""))
    with pytest.raises(InputFileError) as caught:
        read("crosswalk.county_cz", path)
    assert (caught.value.row, caught.value.column) == (3, "cz")


# ---------------------------------------------------------------- Social Capital Atlas


def test_sca_county_values_names_and_counts() -> None:
    header, rows = raw("sca.county")
    tables = load("sca.county")
    assert len(rows) == 3089
    assert len(tables.observations) == nonempty(rows, [c for c in header[2:] if "_se_" not in c])
    counties = tables.geographies[tables.geographies.geo_level == "county"]
    assert len(counties) == 3089
    autauga = next(r for r in rows if r["county"] == "1001")
    geo = one(counties, geo_id="01001")
    assert (geo["name"], geo.population, geo.parent_geo_id) == ("Autauga, Alabama", 55200.0, "01")
    assert one(tables.geographies, geo_id="01")["name"] == "Alabama"
    obs = tables.observations
    ec = one(obs, geo_id="01001", metric_id="ec")
    est, se = float(autauga["ec_county"]), float(autauga["ec_se_county"])
    assert (ec.estimate, ec.se, ec.period, ec.bounds) == (est, se, "2022", "ci95")
    assert ec.lb == pytest.approx(est - Z95 * se) and ec.ub == pytest.approx(est + Z95 * se)
    child_high = one(obs, geo_id="01001", metric_id="child_high_ec")
    assert child_high.se == float(autauga["child_high_ec_se_county"])
    assert math.isnan(one(obs, geo_id="01001", metric_id="clustering").se)
    assert one(obs, geo_id="01001", metric_id="pop2018").period == "2018"
    assert one(obs, geo_id="01001", metric_id="num_below_p50").period == "1978-1983 birth cohorts"
    assert not any(m.endswith(("_county", "_se")) for m in obs.metric_id.unique())


def test_sca_county_share_above_1_and_renamed_column(tmp_path: Path) -> None:
    bad = excerpt("sca.county", tmp_path,
                  edit=lambda t: set_field(t, 4, "volunteering_rate_county", "1.3"))
    with pytest.raises(InputFileError, match="above the possible maximum 1") as caught:
        read("sca.county", bad)
    assert (caught.value.row, caught.value.column) == (4, "volunteering_rate_county")
    renamed = excerpt("sca.county", tmp_path, edit=rename_column("ec_county", "econ_county"))
    with pytest.raises(InputFileError, match="econ_county") as caught:
        read("sca.county", renamed)
    assert caught.value.column == "econ_county"


def test_sca_zip_repairs_01001_and_links_to_its_county() -> None:
    header, rows = raw("sca.zip")
    tables = load("sca.zip")
    assert len(rows) == len(tables.geographies) == 23028
    assert len(tables.observations) == nonempty(rows, [c for c in header[2:] if "_se_" not in c])
    first = next(r for r in rows if r["zip"] == "1001")
    geo = one(tables.geographies, geo_id="01001")
    assert (geo.geo_level, geo.parent_geo_id, geo.state_fips) == ("zip", "25013", "25")
    assert geo.population == float(first["pop2018"])
    high = one(tables.observations, geo_id="01001", metric_id="ec_high")
    assert (high.estimate, high.se) == (float(first["ec_high_zip"]), float(first["ec_high_se_zip"]))
    nbhd = one(tables.observations, geo_id="01001", metric_id="nbhd_ec")
    assert nbhd.estimate == float(first["nbhd_ec_zip"]) and nbhd.bounds == "none"
    no_county = sum(1 for r in rows if not r["county"])
    assert int(tables.geographies.parent_geo_id.isna().sum()) == no_county == 3
    civic = tables.observations[tables.observations.metric_id == "civic_organizations"]
    negative = sum(1 for r in rows if r["civic_organizations_zip"]
                   and float(r["civic_organizations_zip"]) < 0)
    assert int((civic.quality == 3).sum()) == negative == 16


def test_sca_zip_with_too_many_digits_is_an_error(tmp_path: Path) -> None:
    path = excerpt("sca.zip", tmp_path, edit=lambda t: set_field(t, 2, "zip", "100111"))
    with pytest.raises(InputFileError, match="6 digits") as caught:
        read("sca.zip", path)
    assert (caught.value.row, caught.value.column) == (2, "zip")
