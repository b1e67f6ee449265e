"""Program records: the schema of unit-level data an evaluation reads, reading it from CSV,
Excel or Parquet, validating it, and replacing identifiers by keyed hashes.

The schema is declared once, in :data:`PROGRAM_COLUMNS`: each entry is a spec key that names a
column (``outcome: earnings``), what kind of values the column holds, and what a blank means.
Every problem is an :class:`~upward.core.errors.InputFileError` naming the file, the row as a
spreadsheet user sees it (the header is row 1, the first record row 2; Parquet files have no
header row, so their first record is row 1) and the column.

Identifiers -- the ``unit`` column and every column listed in ``options.id_columns`` -- are
replaced on load by an HMAC-SHA256 of the value under a secret key kept in the workspace
(``secrets/id-hash.key``, 32 random bytes, file mode 0600), truncated to 16 hex digits. The same
identifier hashes the same way in every run in one workspace and differently in any other
workspace; the raw value never reaches an estimator, a result, a saved file or an error message.

Examples
--------
>>> import pandas as pd
>>> raw = pd.DataFrame({"id": ["A1", "A2"], "treated": ["1", "0"], "y": ["10.5", ""]})
>>> spec = EvaluationSpec(data="p.csv", design="rct", outcome="y", treatment="treated", unit="id")
>>> program = prepare_program(raw, spec, IdHasher(b"k" * 32), source="p.csv")
>>> program.frame["treated"].tolist(), program.frame["y"].tolist()
([1, 0], [10.5, nan])
>>> "A1" in program.frame["id"].tolist()
False
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import ConfigError, InputFileError, WorkspaceError
from upward.evaluate.spec import EvaluationSpec

#: Spec ``options`` read by the plumbing (this module), not by a design.
PROGRAM_OPTIONS = ("id_columns", "sheet", "period", "public_units")

#: How a spreadsheet user writes "no value".
BLANKS = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "."})

KEY_FILE = "id-hash.key"
KEY_BYTES = 32
HASH_HEX_DIGITS = 16
PERIODS = ("year", "quarter", "month", "day")
PANDAS_FREQ = {"year": "Y", "quarter": "Q", "month": "M", "day": "D"}


@dataclass(frozen=True)
class ColumnRole:
    """One spec key that names a data column: the kind of values and what a blank means.

    ``kind`` is ``id`` (hashed), ``binary`` (0/1), ``numeric``, ``period`` (a number or a date)
    or ``label`` (any text); ``blank`` is ``error``, ``missing`` (kept as NaN), ``never`` (never
    treated) or ``zero``.

    >>> ColumnRole("outcome", "numeric", "missing", "").kind
    'numeric'
    """

    key: str
    kind: str
    blank: str
    description: str
    nonnegative: bool = False


#: The program-data schema, declared once (docs/evaluate.md is written from the same list).
PROGRAM_COLUMNS: tuple[ColumnRole, ...] = (
    ColumnRole("unit", "id", "error", "Who or what was treated: a person, household, school or "
               "place. Replaced by a keyed hash on load."),
    ColumnRole("treatment", "binary", "error", "1 if the unit (or unit-period) was assigned to "
               "or received the program, 0 if not."),
    ColumnRole("post", "binary", "error", "1 for periods after the program started, 0 before "
               "(two-period difference-in-differences)."),
    ColumnRole("time", "period", "error", "The period of the record: a number (year, quarter "
               "index) or a date, converted to numbered periods."),
    ColumnRole("cohort", "period", "never", "The first treated period of the unit (a number or "
               "a date); blank or 0 for a unit never treated."),
    ColumnRole("outcome", "numeric", "missing", "The outcome; blank where it was not observed "
               "(attrition is reported, not imputed)."),
    ColumnRole("running", "numeric", "error", "The score that decides eligibility at the cutoff "
               "(regression discontinuity)."),
    ColumnRole("covariates", "numeric", "missing", "Baseline characteristics measured before "
               "treatment; 0/1 for categories; blank where unknown."),
    ColumnRole("weights", "numeric", "error", "Sampling or analysis weights.", nonnegative=True),
    ColumnRole("cluster", "label", "error", "The group randomised together or sharing shocks "
               "(school, neighbourhood); standard errors are clustered on it."),
    ColumnRole("cost.cost_column", "numeric", "zero", "Dollars spent on the unit (blank = 0).",
               nonnegative=True),
)


@dataclass
class ProgramData:
    """Validated program records ready for an estimator, and what loading them did.

    >>> ProgramData(pd.DataFrame({"y": [1.0]}), "p.csv").n_rows
    1
    """

    frame: pd.DataFrame
    source: str
    notes: list[str] = field(default_factory=list)
    hashed_columns: list[str] = field(default_factory=list)
    raw_ids: frozenset[str] = frozenset()
    treated_unit: str | None = None
    treatment_start: object = None

    @property
    def n_rows(self) -> int:
        """Number of records.

        >>> ProgramData(pd.DataFrame({"y": [1.0, 2.0]}), "p.csv").n_rows
        2
        """
        return len(self.frame)


# ----------------------------------------------------------------------------------------------
# Keyed hashing of identifiers
# ----------------------------------------------------------------------------------------------


class IdHasher:
    """HMAC-SHA256 of identifier text under a secret key, truncated to 16 hex digits.

    >>> h = IdHasher(b"s" * 32)
    >>> h("person-17") == h("person-17"), len(h("person-17"))
    (True, 16)
    >>> h("person-17") == IdHasher(b"t" * 32)("person-17")
    False
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the hashing key must have at least 16 bytes")
        self._key = key

    def __call__(self, value: str) -> str:
        digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:HASH_HEX_DIGITS]

    def __repr__(self) -> str:
        return "IdHasher(<secret>)"

    @classmethod
    def for_workspace(cls, secrets_dir: Path) -> IdHasher:
        """The workspace's hasher; its key is created (0600) in ``secrets_dir`` on first use.

        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()) / "secrets"
        >>> IdHasher.for_workspace(d)("x") == IdHasher.for_workspace(d)("x")
        True
        >>> oct((d / KEY_FILE).stat().st_mode & 0o777)
        '0o600'
        """
        return cls(workspace_key(Path(secrets_dir)))

    @classmethod
    def ephemeral(cls) -> IdHasher:
        """A hasher with a fresh random key, for a run without a workspace (hashes are then
        comparable within that run only).

        >>> IdHasher.ephemeral()("x") != IdHasher.ephemeral()("x")
        True
        """
        return cls(os.urandom(KEY_BYTES))


def workspace_key(secrets_dir: Path) -> bytes:
    """Read the identifier-hashing key, creating it (32 random bytes, mode 0600) if absent.

    >>> import tempfile, pathlib
    >>> len(workspace_key(pathlib.Path(tempfile.mkdtemp())))
    32
    """
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = secrets_dir / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise WorkspaceError(
                f"{path} is damaged ({len(key)} bytes, expected {KEY_BYTES})",
                fix="restore it from a backup; deleting it makes new hashes that do not match "
                "earlier results",
            ) from None
        return key
    key = os.urandom(KEY_BYTES)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


# ----------------------------------------------------------------------------------------------
# Reading files
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramFile:
    """A program file's cells as text, and how its rows are numbered for people.

    >>> ProgramFile(pd.DataFrame({"a": ["1"]}), "p.csv", header_rows=1).row_of(0)
    2
    """

    cells: pd.DataFrame
    path: str
    header_rows: int

    def row_of(self, index: int) -> int:
        """The row a spreadsheet user sees for record ``index`` (0-based).

        >>> ProgramFile(pd.DataFrame(), "p.parquet", header_rows=0).row_of(0)
        1
        """
        return int(index) + 1 + self.header_rows


def _read_csv(path: Path, options: dict) -> pd.DataFrame:
    from upward.sources.readers import read_delimited

    return read_delimited(path)


def _read_excel(path: Path, options: dict) -> pd.DataFrame:
    sheet = options.get("sheet", 0)
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
    except ValueError as exc:
        if "Worksheet" in str(exc) or "not found" in str(exc):
            raise InputFileError(path, f"there is no sheet {sheet!r}",
                                 fix="set options: {sheet: NAME} to one of the workbook's "
                                 "sheets") from None
        raise InputFileError(path, f"cannot be read as an Excel workbook ({exc})",
                             fix="save it again as .xlsx") from None
    except Exception as exc:  # openpyxl raises zipfile/KeyError subclasses for damaged files
        raise InputFileError(path, f"cannot be read as an Excel workbook ({exc.__class__.__name__})",
                             fix="save it again as .xlsx from the spreadsheet program") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_parquet(path: Path, options: dict) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise InputFileError(path, f"cannot be read as Parquet ({exc.__class__.__name__})",
                             fix="write the file again (for example with pandas.to_parquet)"
                             ) from None


#: Readers by file suffix, and how many header rows precede the first record.
READERS: dict[str, tuple[Callable[[Path, dict], pd.DataFrame], int]] = {
    ".csv": (_read_csv, 1),
    ".tsv": (_read_csv, 1),
    ".txt": (_read_csv, 1),
    ".xlsx": (_read_excel, 1),
    ".xlsm": (_read_excel, 1),
    ".parquet": (_read_parquet, 0),
    ".pq": (_read_parquet, 0),
}


def read_program_file(path: str | Path, options: dict | None = None) -> ProgramFile:
    """Read a CSV, Excel (.xlsx) or Parquet file into text cells (blank cells are "").

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pilot.csv"
    >>> _ = p.write_text("id,treated,y\\nA,1,2.5\\n")
    >>> read_program_file(p).cells.to_dict("records")
    [{'id': 'A', 'treated': '1', 'y': '2.5'}]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise InputFileError(path, f"files ending {suffix or '(no suffix)'!r} cannot be read",
                             fix=f"save the data as one of {', '.join(sorted(READERS))}")
    if not path.is_file():
        raise InputFileError(path, "the data file does not exist",
                             fix="check 'data:' in the spec; a relative path is read from the "
                             "spec file's folder")
    reader, header_rows = READERS[suffix]
    frame = reader(path, options or {})
    return ProgramFile(as_text_cells(frame), str(path), header_rows)


def as_text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a person would type: integers without '.0', dates as ISO
    dates, missing values as "".

    >>> as_text_cells(pd.DataFrame({"a": [1.0, 2.5, None], "b": [3, 4, 5]})).to_dict("list")
    {'a': ['1', '2.5', ''], 'b': ['3', '4', '5']}
    """
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_integer_dtype(col) and not col.isna().any():
            out[str(name)] = col.astype("int64").astype(str).astype(object)
        else:
            out[str(name)] = col.map(_cell_text).astype(object)
    return pd.DataFrame(out, index=range(len(frame)))


def _cell_text(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    if isinstance(value, datetime | pd.Timestamp):
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def named_columns(spec: EvaluationSpec) -> list[tuple[ColumnRole, str]]:
    """(role, column) for every column the spec names, in schema order.

    >>> s = EvaluationSpec(data="p.csv", design="rct", outcome="y", treatment="d",
    ...                    covariates=["age", "female"])
    >>> [(r.key, c) for r, c in named_columns(s)]
    [('treatment', 'd'), ('outcome', 'y'), ('covariates', 'age'), ('covariates', 'female')]
    """
    pairs = []
    for role in PROGRAM_COLUMNS:
        value = _spec_value(spec, role.key)
        for column in value if isinstance(value, list) else [value]:
            if column not in (None, ""):
                pairs.append((role, str(column)))
    return pairs


def _spec_value(spec: EvaluationSpec, key: str):
    value = spec
    for part in key.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value


def id_columns(spec: EvaluationSpec) -> list[str]:
    """Columns replaced by keyed hashes: ``unit`` and ``options.id_columns``. With
    ``options.public_units: true`` the unit column is kept as it is (for designs whose units
    are public places, such as a synthetic control against donor cities).

    >>> id_columns(EvaluationSpec(data="p.csv", design="rct", outcome="y", unit="pid",
    ...                           options={"id_columns": ["ssn"]}))
    ['pid', 'ssn']
    >>> id_columns(EvaluationSpec(data="p.csv", design="synthetic_control", outcome="y",
    ...                           unit="city", options={"public_units": True}))
    []
    """
    listed = spec.options.get("id_columns", [])
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise ConfigError("options: id_columns must be a list of column names",
                          fix="write for example  id_columns: [ssn, name]")
    public = spec.options.get("public_units", False)
    if not isinstance(public, bool):
        raise ConfigError("options: public_units must be true or false",
                          fix="write  public_units: true  only when the units are public places")
    cols = [spec.unit] if spec.unit and not public else []
    return cols + [c for c in listed if c not in cols]


def prepare_program(
    cells: pd.DataFrame | ProgramFile,
    spec: EvaluationSpec,
    hasher: IdHasher,
    *,
    source: str = "data",
) -> ProgramData:
    """Validate program records against the spec, convert each named column to its kind and
    replace identifiers by keyed hashes.

    ``cells`` is a :class:`ProgramFile` or a DataFrame (its values are read as text the same
    way a file's are, and its records numbered from 1 in errors). Columns the spec does not name pass through unchanged, except id
    columns, which are hashed.

    >>> raw = pd.DataFrame({"id": ["A", "B"], "d": ["1", "x"], "y": ["1", "2"]})
    >>> s = EvaluationSpec(data="p.csv", design="rct", outcome="y", treatment="d", unit="id")
    >>> prepare_program(raw, s, IdHasher(b"k" * 32), source="p.csv")
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: p.csv, row 2, column 'd': must be 0 or 1, found 'x' ...
    """
    file = (cells if isinstance(cells, ProgramFile)
            else ProgramFile(as_text_cells(cells), source, header_rows=0))
    text = file.cells
    roles = named_columns(spec)
    hashed = id_columns(spec)
    named = [c for _, c in roles]
    _check_present(file, named + [c for c in hashed if c not in named])
    if len(text) == 0:
        raise InputFileError(file.path, "has a header but no records",
                             fix="add the program records below the header row")

    raw_ids: set[str] = set()
    frame = text.copy()
    for column in hashed:
        values = text[column].astype(str).str.strip()
        blank = values.isin(BLANKS)
        if column == spec.unit and blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputFileError(file.path, f"the identifier is empty ({int(blank.sum())} row(s))",
                                 fix="give every record its unit's identifier",
                                 row=file.row_of(i), column=column)
        uniques = pd.unique(values[~blank])
        raw_ids.update(uniques)
        mapping = {v: hasher(v) for v in uniques}
        frame[column] = values.map(mapping).where(~blank, None).astype(object)

    masked = frozenset(raw_ids)
    notes: list[str] = []
    periods = _period_scale(file, spec, masked)
    for role, column in roles:
        if role.kind == "id":
            continue
        if column in hashed:  # e.g. cluster: the unit column; it stays hashed
            _blank_rule(file, column, role, text[column].astype(str).str.strip().isin(BLANKS))
            continue
        frame[column] = CONVERTERS[role.kind](file, column, role, masked, periods)
    if periods is not None and periods.note:
        notes.append(periods.note)

    _check_unique_records(frame, spec, file)
    unit_hashed = spec.unit in hashed
    treated_unit = (None if not spec.treated_unit else hasher(str(spec.treated_unit).strip())
                    if unit_hashed else str(spec.treated_unit).strip())
    if treated_unit is not None and spec.unit and treated_unit not in set(frame[spec.unit]):
        raise InputFileError(file.path, "the treated unit named by 'treated_unit:' in the spec "
                             f"is not in column {spec.unit!r}",
                             fix="check the spelling of treated_unit against the data",
                             column=spec.unit)
    start = spec.treatment_start
    if start is not None and periods is not None:
        start = periods.code_of(start, "treatment_start")
    return ProgramData(frame, file.path, notes, hashed, masked, treated_unit, start)


def _check_present(file: ProgramFile, columns: Iterable[str]) -> None:
    found = list(file.cells.columns)
    for column in columns:
        if column in found:
            continue
        close = difflib.get_close_matches(column, found, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputFileError(
            file.path, f"column {column!r} named in the spec is missing{hint} "
            f"Columns found: {', '.join(found)}",
            fix="rename the column in the file or correct the spec",
            row=file.header_rows or None, column=column)


def _shown(value: str, masked: frozenset[str]) -> str:
    """A cell value fit for an error message: identifiers are never shown."""
    if value in masked:
        return "(an identifier value)"
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def _blank_rule(file: ProgramFile, column: str, role: ColumnRole, blank: pd.Series) -> None:
    if role.blank == "error" and blank.any():
        raise InputFileError(file.path, f"the value is empty ({int(blank.sum())} row(s))",
                             fix=f"fill in every value of {column!r}; it is the spec's "
                             f"{role.key!r}", row=file.row_of(_first(blank)), column=column)


def _numbers(file: ProgramFile, column: str, role: ColumnRole, masked: frozenset[str],
             what: str = "a number") -> pd.Series:
    raw = file.cells[column].astype(str).str.strip()
    blank = raw.isin(BLANKS)
    _blank_rule(file, column, role, blank)
    cleaned = raw.str.replace(r"^\$|,(?=\d{3}(\D|$))", "", regex=True)
    values = pd.to_numeric(cleaned.where(~blank, None), errors="coerce").astype("float64")
    bad = values.isna() & ~blank
    if bad.any():
        i = _first(bad)
        raise InputFileError(file.path, f"{_shown(raw.iloc[i], masked)} is not {what} "
                             f"({int(bad.sum())} such value(s) in this column)",
                             fix="correct the value, or leave the cell empty where it is missing",
                             row=file.row_of(i), column=column)
    if role.nonnegative and (values < 0).any():
        i = _first(values < 0)
        raise InputFileError(file.path, f"{values.iloc[i]:g} is negative",
                             fix=f"{column!r} cannot be below 0", row=file.row_of(i),
                             column=column)
    if role.blank == "zero":
        values = values.fillna(0.0)
    return values


def _as_numeric(file, column, role, masked, periods) -> pd.Series:
    return _numbers(file, column, role, masked)


_BINARY_WORDS = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "true": 1, "false": 0, "yes": 1, "no": 0}


def _as_binary(file, column, role, masked, periods) -> pd.Series:
    raw = file.cells[column].astype(str).str.strip()
    blank = raw.isin(BLANKS)
    _blank_rule(file, column, role, blank)
    values = raw.str.lower().map(_BINARY_WORDS)
    bad = values.isna() & ~blank
    if bad.any():
        i = _first(bad)
        raise InputFileError(file.path, f"must be 0 or 1, found {_shown(raw.iloc[i], masked)} "
                             f"({int(bad.sum())} such value(s))",
                             fix=f"code {column!r} as 1 (yes) or 0 (no)", row=file.row_of(i),
                             column=column)
    return values.astype("int64")


def _as_label(file, column, role, masked, periods) -> pd.Series:
    raw = file.cells[column].astype(str).str.strip()
    _blank_rule(file, column, role, raw.isin(BLANKS))
    return raw.astype(object)


def _as_period(file, column, role, masked, periods) -> pd.Series:
    if periods is None:
        values = _numbers(file, column, role, masked, what="a period number or a date")
        if role.blank == "never":
            values = values.where(values != 0)
        return _integral(values)
    return periods.codes(file, column, role, masked)


def _integral(values: pd.Series) -> pd.Series:
    """Whole numbers as int64 when nothing is missing; float64 (NaN for blanks) otherwise,
    so estimators get plain numpy types."""
    values = values.astype("float64")
    if values.notna().all() and (values == values.round()).all():
        return values.astype("int64")
    return values


#: Converters by column kind: (file, column, role, masked ids, period scale) → values.
CONVERTERS = {
    "binary": _as_binary,
    "numeric": _as_numeric,
    "label": _as_label,
    "period": _as_period,
}


@dataclass
class PeriodScale:
    """How dates in ``time``/``cohort`` map to numbered periods: ``year`` → the calendar
    year; ``quarter``/``month``/``day`` → consecutive integers, the earliest period = 1.

    >>> s = PeriodScale("quarter", pd.Period("2020Q1", "Q"))
    >>> s.code_of("2020-08-15", "treatment_start")
    3
    """

    freq: str
    base: pd.Period | None = None
    note: str = ""

    def period_of(self, stamps: pd.Series) -> pd.Series:
        """Calendar periods of timestamps.

        >>> PeriodScale("month").period_of(pd.Series(pd.to_datetime(["2021-03-09"]))).iloc[0]
        Period('2021-03', 'M')
        """
        return stamps.dt.to_period(PANDAS_FREQ[self.freq])

    def number(self, periods: pd.Series) -> pd.Series:
        """Period numbers (years as years; else counted from ``base`` = 1).

        >>> s = PeriodScale("month", pd.Period("2021-01", "M"))
        >>> s.number(pd.Series([pd.Period("2021-03", "M")])).tolist()
        [3]
        """
        if self.freq == "year":
            return periods.map(lambda p: p.year if p is not pd.NaT else np.nan)
        return periods.map(lambda p: (p - self.base).n + 1 if p is not pd.NaT else np.nan)

    def code_of(self, value: object, key: str) -> int:
        """The period number of one value from the spec (a date, or already a number).

        >>> PeriodScale("year").code_of(2021, "treatment_start")
        2021
        """
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        stamp = pd.to_datetime(str(value), errors="coerce")
        if pd.isna(stamp):
            raise ConfigError(f"{key}: {value!r} is not a date or a period number",
                              fix="write a date like 2021-07-01 or the period number")
        return int(self.number(self.period_of(pd.Series([stamp]))).iloc[0])

    def codes(self, file: ProgramFile, column: str, role: ColumnRole,
              masked: frozenset[str]) -> pd.Series:
        """Period numbers of a date column, with an error naming the first unreadable date."""
        raw = file.cells[column].astype(str).str.strip()
        blank = raw.isin(BLANKS) | ((raw == "0") & (role.blank == "never"))
        _blank_rule(file, column, role, blank)
        stamps = _parse_dates(file, column, raw, blank, masked)
        numbers = self.number(self.period_of(stamps))
        return _integral(pd.to_numeric(numbers, errors="coerce").where(~blank))


def _parse_dates(file: ProgramFile, column: str, raw: pd.Series, blank: pd.Series,
                 masked: frozenset[str]) -> pd.Series:
    stamps = pd.to_datetime(raw.where(~blank, None), errors="coerce", format="ISO8601")
    retry = stamps.isna() & ~blank
    if retry.any():
        stamps = stamps.where(~retry, pd.to_datetime(raw.where(retry, None), errors="coerce",
                                                     format="mixed"))
    bad = stamps.isna() & ~blank
    if bad.any():
        i = int(bad.index[_first(bad)])  # a label: ``raw`` may be a subset of the rows
        raise InputFileError(file.path, f"{_shown(raw.loc[i], masked)} is not a date or a "
                             f"period number ({int(bad.sum())} such value(s))",
                             fix="write dates as YYYY-MM-DD (or use period numbers throughout)",
                             row=file.row_of(i), column=column)
    return stamps


def _is_number_text(raw: pd.Series) -> pd.Series:
    return pd.to_numeric(raw, errors="coerce").notna()


def _period_scale(file: ProgramFile, spec: EvaluationSpec,
                  masked: frozenset[str]) -> PeriodScale | None:
    """A date scale when ``time`` or ``cohort`` holds dates; None when both hold numbers."""
    columns = [c for c in (spec.time, spec.cohort) if c]
    filled = {}
    for column in columns:
        raw = file.cells[column].astype(str).str.strip()
        filled[column] = raw[~raw.isin(BLANKS) & ~((raw == "0") & (column == spec.cohort))]
    dated = [c for c in columns if len(filled[c]) and not _is_number_text(filled[c]).all()]
    if not dated:
        return None
    numbered = [c for c in columns if c not in dated and len(filled[c])]
    if numbered:
        raise InputFileError(file.path, f"holds period numbers while {dated[0]!r} holds dates",
                             fix=f"write {numbered[0]!r} as dates too", column=numbered[0])
    freq = spec.options.get("period")
    if freq is not None and freq not in PERIODS:
        raise ConfigError(f"options: period {freq!r} is not a period length",
                          fix=f"use one of {', '.join(PERIODS)}")
    stamps = {c: _parse_dates(file, c, filled[c], filled[c] == "", masked) for c in dated}
    if freq is None:
        freq = _infer_period(stamps.get(spec.time, stamps[dated[0]]))
    scale = PeriodScale(freq)
    scale.base = scale.period_of(pd.concat(list(stamps.values()))).min()
    scale.note = (f"dates in {', '.join(repr(c) for c in dated)} were converted to {freq}s"
                  + ("" if freq == "year" else f", numbered from {scale.base} = 1"))
    return scale


def _infer_period(stamps: pd.Series) -> str:
    """The period length of a date column: the coarsest one that keeps its dates apart and
    spaces them evenly (yearly, quarterly, else monthly; daily when a month repeats)."""
    uniq = pd.Series(stamps.unique())
    months = (uniq.dt.year * 12 + uniq.dt.month - 1).drop_duplicates().sort_values()
    if len(months) < len(uniq):
        return "day"
    steps = np.diff(months.to_numpy())
    gap = int(np.gcd.reduce(steps)) if len(steps) else 12
    return "year" if gap % 12 == 0 else "quarter" if gap % 3 == 0 else "month"


def _check_unique_records(frame: pd.DataFrame, spec: EvaluationSpec, file: ProgramFile) -> None:
    if not spec.unit:
        return
    keys = [spec.unit] + ([spec.time] if spec.time else [])
    dup = frame.duplicated(keys, keep=False)
    if not dup.any():
        return
    rows = np.flatnonzero(dup.to_numpy())
    first = rows[0]
    same = rows[(frame.iloc[rows][keys] == frame.iloc[first][keys]).all(axis=1).to_numpy()]
    where = "unit and period" if spec.time else "unit"
    period = f" (period {frame.iloc[first][spec.time]})" if spec.time else ""
    raise InputFileError(
        file.path,
        f"rows {file.row_of(same[0])} and {file.row_of(same[1])} have the same {where}{period}; "
        f"{int(dup.sum())} rows are duplicates",
        fix="keep one record per unit" + (" and period" if spec.time else "")
        + "; a unit measured repeatedly needs the 'time:' column",
        row=file.row_of(same[1]), column=spec.unit)
