"""Published causal estimates of US social programs: the estimates stated in the replication
code of Hendren & Sprung-Keyser (2020), "A Unified Welfare Analysis of Government Policies"
(QJE 135(3)), as extracted with file-and-line provenance into ``evidence/`` of
``../shared/data`` (its README explains every column and caveat).

This module reads and checks the two files (``policy_impacts_causal_estimates.csv``, one row
per estimate, and ``programs.csv``, one row per program) into typed tables; the evidence layer
(``upward.evidence.policy_impacts``) turns them into interventions, studies and effects and
loads them into a workspace's library (``upward fetch evidence --from DIR``). Nothing here
judges a row: rows without a standard error, or that are costs or first stages, are kept.

Examples
--------
>>> from upward.sources.base import DATASETS
>>> d = DATASETS["evidence.policy_impacts"]
>>> d.source, d.kind.value, d.own_loader
('evidence', 'published causal estimates', True)
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pandas as pd

from upward.core.errors import InputFileError
from upward.sources.base import Dataset, Kind, Publisher, Tables, register

ESTIMATES_FILE = "policy_impacts_causal_estimates.csv"
PROGRAMS_FILE = "programs.csv"
REPOSITORY = "https://github.com/OpportunityInsights/welfare_analysis"
COMMIT = "078ffc709dbec474c891e679fb2fa7d0cfbae10e"
CITATION = ("Hendren, N. and Sprung-Keyser, B. (2020). A Unified Welfare Analysis of Government "
            "Policies. Quarterly Journal of Economics 135(3), 1209-1318.")

#: Columns the estimates file must have (its README, "Required columns" and the extras).
ESTIMATE_COLUMNS = (
    "program_id", "program_name", "domain", "citation", "reference", "url", "estimate_name",
    "description", "value", "se", "se_source", "units", "table_ref", "notes", "estimate_type",
    "condition", "stata_local", "source_path", "source_line", "source_text",
)
PROGRAM_COLUMNS = ("program_id", "program_name", "domain", "citations", "n_estimates",
                   "n_with_se", "all_estimates_have_se", "source_path", "header_urls")
SE_SOURCES = frozenset({"reported", "from_t_stat", "from_p_value", "from_ci", "none"})
ESTIMATE_TYPES = frozenset({"causal_effect", "cost_or_first_stage", "descriptive_input",
                            "p_value_of_underlying_outcome"})


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(path, f"cannot be read as CSV ({exc})",
                             fix="give the file from ../shared/data/evidence/") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputFileError(path, f"missing column {missing[0]!r}", row=1, column=missing[0],
                             fix="use the file as published (see its README)")
    return frame


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"{text!r} is not a number", row=line, column=column,
                             fix="correct the cell; every value and SE must parse as a number"
                             ) from None
    if not math.isfinite(value):
        raise InputFileError(path, f"{text!r} is not a finite number", row=line, column=column,
                             fix="correct the cell")
    return value


def read_estimates(path: Path) -> pd.DataFrame:
    """The estimates file as a table: every column as text, plus ``value_num``, ``se_num``
    (NaN when blank) and ``line`` (the file line). Errors name the file, line and column.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text(",".join(ESTIMATE_COLUMNS) + "\\n" + ",".join(
    ...     ["a", "A", "housing", "X (2000)", "", "", "y", "", "1.5x"] + [""] * 11) + "\\n")
    >>> read_estimates(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: ...e.csv, row 2, column 'value': '1.5x' is not a number. ...
    """
    frame = _read(path, ESTIMATE_COLUMNS)
    frame = frame.apply(lambda col: col.str.strip())
    values, ses = [], []
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        for column in ("program_id", "estimate_name", "citation"):
            if not getattr(row, column):
                raise InputFileError(path, f"{column} is empty", row=i, column=column,
                                     fix="every row names its program, estimate and paper")
        values.append(_number(path, i, "value", row.value))
        ses.append(_number(path, i, "se", row.se) if row.se else float("nan"))
        if row.se_source and row.se_source not in SE_SOURCES:
            raise InputFileError(path, f"se_source {row.se_source!r} is not one of "
                                 f"{', '.join(sorted(SE_SOURCES))}", row=i, column="se_source",
                                 fix="use the README's values")
        if row.estimate_type not in ESTIMATE_TYPES:
            raise InputFileError(path, f"estimate_type {row.estimate_type!r} is not one of "
                                 f"{', '.join(sorted(ESTIMATE_TYPES))}", row=i,
                                 column="estimate_type", fix="use the README's values")
    frame["value_num"] = values
    frame["se_num"] = ses
    frame["line"] = range(2, len(frame) + 2)
    dup = frame.duplicated(["program_id", "estimate_name"], keep="first")
    if dup.any():
        row = frame[dup].iloc[0]
        raise InputFileError(path, f"estimate {row['estimate_name']!r} of program "
                             f"{row['program_id']!r} appears twice", row=int(row["line"]),
                             column="estimate_name", fix="keep one row per (program_id, "
                             "estimate_name)")
    return frame


def read_programs(path: Path) -> pd.DataFrame:
    """The programs file as a table (text columns), one row per program; a repeated
    program_id is an error.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "programs.csv"
    >>> _ = p.write_text(",".join(PROGRAM_COLUMNS) + "\\n" + "a,A,housing,X,0,0,n/a,a.do,\\n"
    ...                  "a,A,housing,X,0,0,n/a,a.do,\\n")
    >>> read_programs(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: ...programs.csv, row 3, column 'program_id': program 'a' appears twice. ...
    """
    frame = _read(path, PROGRAM_COLUMNS).apply(lambda col: col.str.strip())
    dup = frame.duplicated("program_id")
    if dup.any():
        line = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise InputFileError(path, f"program {frame.loc[dup, 'program_id'].iloc[0]!r} appears "
                             "twice", row=line, column="program_id",
                             fix="keep one row per program")
    return frame


def locate(root: Path) -> tuple[Path, Path]:
    """The estimates and programs files under a folder laid out like ``../shared/data``
    (``evidence/…``) or holding them directly.

    >>> locate(Path("/nonexistent"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: /nonexistent: no policy_impacts_causal_estimates.csv ...
    """
    for folder in (root / "evidence", root):
        estimates, programs = folder / ESTIMATES_FILE, folder / PROGRAMS_FILE
        if estimates.is_file() and programs.is_file():
            return estimates, programs
    raise InputFileError(root, f"no {ESTIMATES_FILE} and {PROGRAMS_FILE} here or in "
                         "evidence/", fix="point --from at ../shared/data (or the folder "
                         "holding the two files)")


def sha256_of(*paths: Path) -> str:
    """One sha256 over the files' bytes, in order (the load's provenance).

    >>> len(sha256_of())
    64
    """
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _check_only(path: Path, source_id: str) -> Tables:
    frame = read_estimates(Path(path))
    t = Tables()
    t.notes.append(f"{len(frame):,} published estimates; loaded into the evidence library by "
                   "upward fetch evidence (upward.evidence.policy_impacts), not the warehouse")
    return t


register(Dataset(
    key="evidence.policy_impacts",
    source="evidence",
    publisher=Publisher.POLICY_IMPACTS,
    title="Causal estimates of US social programs from the replication code of Hendren & "
          "Sprung-Keyser (2020)",
    url=f"{REPOSITORY}/tree/{COMMIT}/programs/functioning",
    local_names=(f"evidence/{ESTIMATES_FILE}", ESTIMATES_FILE),
    license="published facts (estimates, standard errors, citations); the repository states "
            "no licence",
    reader=_check_only,
    kind=Kind.EVIDENCE,
    label="Policy Impacts estimates (Hendren & Sprung-Keyser 2020)",
    release="2020",
    own_loader=True,
    notes="713 estimates of 96 programs with file-and-line provenance; read from a local copy "
          "only (upward fetch evidence --from DIR)",
))
