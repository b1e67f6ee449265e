"""Checks on an uploaded program file before anything is stored: its name, size, type and
content, read by the same reader ``upward evaluate`` uses (``evaluate.programs``), and the
preview an analyst confirms.

Examples
--------
>>> checked = check_upload("pilot.csv", b"id,treated,y\\nA,1,2.5\\nB,0,1.5\\n", max_bytes=10_000)
>>> checked.n_rows, checked.columns, checked.preview[0]
(2, ['id', 'treated', 'y'], {'id': 'A', 'treated': '1', 'y': '2.5'})
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from upward.core.errors import InputFileError
from upward.evaluate.programs import READERS, ProgramFile, read_program_file

#: The first bytes each kind of file starts with (text files: no NUL byte in the first 8 KB).
MAGIC = {".xlsx": b"PK\x03\x04", ".xlsm": b"PK\x03\x04", ".parquet": b"PAR1", ".pq": b"PAR1"}
MAX_NAME = 120
MAX_ROWS = 2_000_000
MAX_COLUMNS = 500
PREVIEW_ROWS = 10
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: a safe name, its bytes and what it holds.

    >>> c = check_upload("pilot.csv", b"id,y\\nA,1\\n", max_bytes=1000)
    >>> c.name, c.suffix, c.n_rows, len(c.sha256)
    ('pilot.csv', '.csv', 1, 64)
    """

    name: str
    suffix: str
    content: bytes
    sha256: str
    n_rows: int
    columns: list[str]
    preview: list[dict]


def safe_name(filename: str | None) -> str:
    """The file's own name without folders or unusual characters; an error when nothing usable
    is left.

    >>> safe_name("../../etc/pilot 2024.csv"), safe_name("C:\\\\data\\\\p.csv")
    ('pilot 2024.csv', 'p.csv')
    """
    name = (filename or "").replace("\\", "/").split("/")[-1]
    name = _SAFE_NAME.sub("_", name).strip(" .")
    if not name or len(name) > MAX_NAME or "." not in name:
        raise InputFileError(filename or "(no name)", "the file name cannot be used",
                             fix=f"name the file like pilot.csv (at most {MAX_NAME} characters)")
    return name


def check_upload(filename: str | None, content: bytes, *, max_bytes: int) -> CheckedUpload:
    """Check an upload completely (InputFileError naming the problem otherwise).

    >>> check_upload("pilot.exe", b"MZ", max_bytes=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: pilot.exe: ...
    """
    name = safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in READERS:
        raise InputFileError(name, f"files ending {suffix!r} are not program files",
                             fix=f"upload one of {', '.join(sorted(READERS))}")
    if not content:
        raise InputFileError(name, "the file is empty", fix="upload the file with its records")
    if len(content) > max_bytes:
        raise InputFileError(name, f"the file has {len(content):,} bytes, more than the "
                             f"{max_bytes:,} this server accepts",
                             fix="split the file, or ask the administrator to raise "
                             "[server] max_upload_mb")
    magic = MAGIC.get(suffix)
    if magic is not None and not content.startswith(magic):
        raise InputFileError(name, f"the content is not a {suffix} file",
                             fix=f"save the data as {suffix} again, or upload it as .csv")
    if magic is None and b"\x00" in content[:8192]:
        raise InputFileError(name, "the content is binary, not text",
                             fix="upload a CSV (text) file, or an .xlsx or .parquet file")
    file = _read(name, suffix, content)
    cells = file.cells
    if len(cells.columns) == 0:
        raise InputFileError(name, "the file has no columns", fix="add a header row")
    if len(cells.columns) > MAX_COLUMNS:
        raise InputFileError(name, f"the file has {len(cells.columns):,} columns, more than "
                             f"{MAX_COLUMNS}", fix="keep only the columns the evaluation needs")
    columns = [str(c) for c in cells.columns]
    blank = [i + 1 for i, c in enumerate(columns) if not c.strip() or c.startswith("Unnamed:")]
    if blank:
        raise InputFileError(name, f"column {blank[0]} has no name", row=1,
                             fix="give every column a name in the header row")
    dupes = sorted({c for c in columns if columns.count(c) > 1} |
                   {c for c in columns if re.search(r"\.\d+$", c) and c.rsplit(".", 1)[0]
                    in columns})
    if dupes:
        raise InputFileError(name, f"the header names {dupes[0]!r} twice", row=1,
                             fix="give each column its own name")
    if len(cells) == 0:
        raise InputFileError(name, "the file has a header but no records",
                             fix="upload the file with its records")
    if len(cells) > MAX_ROWS:
        raise InputFileError(name, f"the file has {len(cells):,} records, more than "
                             f"{MAX_ROWS:,}", fix="split the file")
    preview = cells.head(PREVIEW_ROWS).fillna("").astype(str).to_dict("records")
    return CheckedUpload(name, suffix, content, hashlib.sha256(content).hexdigest(),
                         len(cells), columns, preview)


def _read(name: str, suffix: str, content: bytes) -> ProgramFile:
    with tempfile.TemporaryDirectory(prefix="upward-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            file = read_program_file(path)
        except InputFileError as exc:
            # The temporary path means nothing to the user: name their file instead.
            fix = exc.fix or "check the file"
            if "upward fetch" in fix:  # the reader's advice for downloads, not for uploads
                fix = "save the file again from the spreadsheet program and upload it"
            raise InputFileError(name, exc.message.split(": ", 1)[-1]
                                 if exc.message.startswith(str(path)) else exc.message,
                                 fix=fix) from None
        except (ValueError, UnicodeError, pd.errors.ParserError, OSError) as exc:
            raise InputFileError(name, f"cannot be read ({exc.__class__.__name__})",
                                 fix="save it again as CSV (UTF-8) or .xlsx") from None
    lost = file.cells.isna().any(axis=1)
    if suffix in (".csv", ".tsv", ".txt") and lost.any():
        # A text file's cells are never missing: a row with more fields than the header has
        # shifted its values out of their columns.
        row = file.row_of(int(lost.to_numpy().argmax()))
        raise InputFileError(name, "a row has more fields than the header", row=row,
                             fix="check the delimiters and quotes in that row (a comma inside "
                             "a value needs quotes around the value)")
    return ProgramFile(file.cells, name, file.header_rows)


def read_cells(name: str, suffix: str, content: bytes) -> pd.DataFrame:
    """A stored file's cells as text (as :func:`check_upload` read them).

    >>> read_cells("p.csv", ".csv", b"a,b\\n1,2\\n").to_dict("records")
    [{'a': '1', 'b': '2'}]
    """
    return _read(name, suffix, content).cells


__all__ = ["MAX_ROWS", "CheckedUpload", "check_upload", "read_cells", "safe_name"]
