"""Program data: reading CSV/Excel/Parquet, validation errors that name file, row and column,
date periods, and keyed hashing of identifiers."""

from __future__ import annotations

import math
import stat

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upward.core.errors import ConfigError, InputFileError
from upward.evaluate.programs import (
    KEY_FILE,
    IdHasher,
    as_text_cells,
    prepare_program,
    read_program_file,
    workspace_key,
)
from upward.evaluate.spec import EvaluationSpec
from upward.warehouse.workspace import Workspace

RAW_IDS = [f"RES-{7000 + i}" for i in range(6)]


def _records() -> pd.DataFrame:
    return pd.DataFrame({
        "person": RAW_IDS,
        "treated": [1, 0, 1, 0, 1, 0],
        "age": [23, 41, 35, 52, 29, 60],
        "earnings": [5100.5, 3900.0, None, 4200.25, 6100.0, 3000.0],
        "start": ["2023-01-15", "", "2023-04-02", "", "2023-01-20", ""],
    })


def _spec(**changes) -> EvaluationSpec:
    base = {"data": "pilot.csv", "design": "rct", "outcome": "earnings", "treatment": "treated",
            "unit": "person", "covariates": ["age"]}
    return EvaluationSpec(**{**base, **changes})


HASHER = IdHasher(b"0" * 32)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_every_format_reads_to_the_same_validated_records(tmp_path, suffix):
    path = tmp_path / f"pilot{suffix}"
    writers = {".csv": lambda f, p: f.to_csv(p, index=False),
               ".xlsx": lambda f, p: f.to_excel(p, index=False, engine="openpyxl"),
               ".parquet": lambda f, p: f.to_parquet(p, index=False)}
    writers[suffix](_records(), path)
    program = prepare_program(read_program_file(path), _spec(), HASHER)
    frame = program.frame
    assert frame["treated"].tolist() == [1, 0, 1, 0, 1, 0]
    assert frame["treated"].dtype == np.int64
    assert frame["age"].tolist() == [23, 41, 35, 52, 29, 60]
    earnings = frame["earnings"].tolist()
    assert earnings[0] == 5100.5 and earnings[3] == 4200.25 and math.isnan(earnings[2])
    assert frame["person"].tolist() == [HASHER(i) for i in RAW_IDS]
    assert not set(RAW_IDS) & set(frame["person"])
    assert program.raw_ids == frozenset(RAW_IDS)


def test_missing_column_lists_the_columns_found(tmp_path):
    path = tmp_path / "pilot.csv"
    _records().to_csv(path, index=False)
    with pytest.raises(InputFileError) as err:
        prepare_program(read_program_file(path), _spec(outcome="earning"), HASHER)
    text = str(err.value)
    assert str(path) in text and "column 'earning'" in text
    assert "did you mean 'earnings'" in text
    assert "Columns found: person, treated, age, earnings, start" in text


def test_non_numeric_value_names_the_first_bad_row_and_value(tmp_path):
    frame = _records().astype({"age": object})
    frame.loc[3, "age"] = "fifty-two"
    frame.loc[5, "age"] = "sixty"
    path = tmp_path / "pilot.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputFileError) as err:
        prepare_program(read_program_file(path), _spec(), HASHER)
    e = err.value
    # record index 3 is spreadsheet row 5 (the header is row 1)
    assert (e.row, e.column) == (5, "age")
    assert "'fifty-two' is not a number (2 such value(s)" in str(e)


def test_excel_rows_are_the_rows_a_spreadsheet_shows(tmp_path):
    frame = _records().astype({"treated": object})
    frame.loc[4, "treated"] = "maybe"
    path = tmp_path / "pilot.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    with pytest.raises(InputFileError) as err:
        prepare_program(read_program_file(path), _spec(), HASHER)
    assert (err.value.row, err.value.column) == (6, "treated")
    assert "must be 0 or 1, found 'maybe'" in str(err.value)


def test_parquet_rows_count_records_from_one(tmp_path):
    frame = _records()
    frame.loc[1, "treated"] = 2
    path = tmp_path / "pilot.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(InputFileError) as err:
        prepare_program(read_program_file(path), _spec(), HASHER)
    assert (err.value.row, err.value.column) == (2, "treated")


def test_treatment_accepts_true_false_and_rejects_blanks():
    raw = _records().astype({"treated": object})
    raw["treated"] = ["TRUE", "false", "yes", "no", "1", "0"]
    assert prepare_program(raw, _spec(), HASHER).frame["treated"].tolist() == [1, 0, 1, 0, 1, 0]
    raw.loc[2, "treated"] = ""
    with pytest.raises(InputFileError, match="the value is empty"):
        prepare_program(raw, _spec(), HASHER)


def test_duplicate_unit_period_is_an_error_that_hides_the_identifier():
    panel = pd.DataFrame({"person": ["A-1", "A-1", "B-2", "B-2", "B-2"],
                          "year": [2021, 2022, 2021, 2022, 2022],
                          "y": [1, 2, 3, 4, 5], "d": [0, 1, 0, 0, 0]})
    spec = EvaluationSpec(data="p.csv", design="did", outcome="y", treatment="d",
                          unit="person", time="year")
    with pytest.raises(InputFileError) as err:
        prepare_program(panel, spec, HASHER, source="p.csv")
    text = str(err.value)
    assert "rows 4 and 5 have the same unit and period (period 2022)" in text
    assert "B-2" not in text and "A-1" not in text


def test_a_raw_identifier_is_never_shown_in_an_error():
    raw = _records().astype({"age": object})
    raw.loc[2, "age"] = RAW_IDS[4]  # an identifier pasted into the wrong column
    with pytest.raises(InputFileError) as err:
        prepare_program(raw, _spec(), HASHER)
    assert RAW_IDS[4] not in str(err.value)
    assert "(an identifier value)" in str(err.value)
    blank_id = _records()
    blank_id.loc[1, "person"] = None
    with pytest.raises(InputFileError, match="identifier is empty") as err:
        prepare_program(blank_id, _spec(), HASHER)
    assert err.value.row == 2  # a DataFrame's records are numbered from 1


def test_dates_become_numbered_periods_with_never_treated_blank():
    panel = pd.DataFrame({
        "hood": ["north"] * 4 + ["south"] * 4,
        "quarter": ["2022-01-01", "2022-04-01", "2022-07-01", "2022-10-01"] * 2,
        "program_start": ["2022-05-15"] * 4 + [""] * 4,
        "rate": np.arange(8.0)})
    spec = EvaluationSpec(data="p.csv", design="staggered_did", outcome="rate", unit="hood",
                          time="quarter", cohort="program_start", treatment_start="2022-07-01")
    program = prepare_program(panel, spec, HASHER)
    assert program.frame["quarter"].tolist() == [1, 2, 3, 4] * 2
    assert program.frame["program_start"].iloc[0] == 2  # 2022-05-15 is in 2022Q2
    assert program.frame["program_start"].iloc[4:].isna().all()
    assert program.treatment_start == 3
    assert program.notes == ["dates in 'quarter', 'program_start' were converted to quarters, "
                             "numbered from 2022Q1 = 1"]
    yearly = panel.assign(quarter=["2019-06-30", "2020-06-30", "2021-06-30", "2022-06-30"] * 2)
    assert prepare_program(yearly, spec, HASHER).frame["quarter"].tolist()[:4] == [2019, 2020,
                                                                                   2021, 2022]


def test_unparseable_date_names_row_and_value():
    panel = pd.DataFrame({"hood": ["n", "n", "s", "s"],
                          "month": ["2022-01-01", "2022-02-01", "2022-01-01", "Feb 30th-ish"],
                          "y": [1, 2, 3, 4]})
    spec = EvaluationSpec(data="p.csv", design="event_study", outcome="y", unit="hood",
                          time="month")
    with pytest.raises(InputFileError) as err:
        prepare_program(panel, spec, HASHER, source="p.csv")
    assert (err.value.row, err.value.column) == (4, "month")
    assert "'Feb 30th-ish' is not a date or a period number" in str(err.value)
    with pytest.raises(ConfigError, match="options: period 'fortnight'"):
        prepare_program(panel.iloc[:3], spec.model_copy(update={"options": {"period": "fortnight"}}),
                        HASHER)


def test_numbers_with_dollar_signs_and_thousands_separators():
    raw = _records().astype({"earnings": object})
    raw["earnings"] = ["$5,100.50", "3,900", "", "4200.25", "$6,100", "3000"]
    assert prepare_program(raw, _spec(), HASHER).frame["earnings"].tolist()[:2] == [5100.5, 3900.0]


def test_id_columns_and_treated_unit_are_hashed():
    raw = _records().assign(ssn=[f"123-45-{i:04d}" for i in range(6)])
    spec = _spec(options={"id_columns": ["ssn"]}, treated_unit=RAW_IDS[0])
    program = prepare_program(raw, spec, HASHER)
    assert program.frame["ssn"].tolist() == [HASHER(v) for v in raw["ssn"]]
    assert program.treated_unit == HASHER(RAW_IDS[0])
    with pytest.raises(InputFileError, match="treated unit named by 'treated_unit:'"):
        prepare_program(raw, _spec(treated_unit="RES-nobody"), HASHER)
    clustered = prepare_program(raw, _spec(cluster="person", options={"id_columns": ["ssn"]}),
                                HASHER)
    assert clustered.frame["person"].tolist() == [HASHER(i) for i in RAW_IDS]
    with pytest.raises(ConfigError, match="id_columns must be a list"):
        prepare_program(raw, _spec(options={"id_columns": {"a": 1}}), HASHER)


def test_workspace_key_is_private_stable_and_differs_between_workspaces(tmp_path):
    one = Workspace.init(tmp_path / "one")
    two = Workspace.init(tmp_path / "two")
    a1 = IdHasher.for_workspace(one.secrets_dir)("RES-7000")
    a2 = IdHasher.for_workspace(one.secrets_dir)("RES-7000")
    b = IdHasher.for_workspace(two.secrets_dir)("RES-7000")
    assert a1 == a2 and a1 != b and len(a1) == 16
    key_file = one.secrets_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32
    assert "RES-7000" not in repr(IdHasher.for_workspace(one.secrets_dir))
    key_file.write_bytes(b"short")
    with pytest.raises(Exception, match="damaged"):
        workspace_key(one.secrets_dir)


def test_unreadable_and_unknown_files(tmp_path):
    with pytest.raises(InputFileError, match="cannot be read"):
        read_program_file(tmp_path / "pilot.sav")
    with pytest.raises(InputFileError, match="does not exist"):
        read_program_file(tmp_path / "absent.csv")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(InputFileError, match="Excel workbook"):
        read_program_file(broken)
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 nope")
    with pytest.raises(InputFileError, match="Parquet"):
        read_program_file(bad)
    header_only = tmp_path / "empty.csv"
    header_only.write_text("person,treated,age,earnings\n")
    with pytest.raises(InputFileError, match="no records"):
        prepare_program(read_program_file(header_only), _spec(), HASHER)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_numbers_survive_the_text_cells_exactly(x):
    text = as_text_cells(pd.DataFrame({"v": [x]}))["v"].iloc[0]
    assert float(text) == x


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20).map(str.strip).filter(
    lambda s: s not in {"", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "."}),
    min_size=1, max_size=30, unique=True))
def test_distinct_identifiers_get_distinct_hashes(ids):
    hashed = [HASHER(i) for i in ids]
    assert len(set(hashed)) == len(ids)
    assert not set(ids) & set(hashed) or all(len(i) == 16 for i in set(ids) & set(hashed))
