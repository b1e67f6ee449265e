"""Reading publishers' delimited files safely: encoding, delimiter, truncation, bad values.

Every problem becomes an ``InputFileError`` naming the file, the line (the header is line 1,
so the first data row is line 2), the column, and what to do.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = p.write_bytes(b"\\xef\\xbb\\xbfstate;value\\n01;2.5\\n")
>>> read_delimited(p, required=["state", "value"]).to_dict("records")
[{'state': '01', 'value': '2.5'}]
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from upward.core.errors import InputFileError
from upward.geo.ids import GEOID_LENGTHS, GeoidError, compose_geoid, repair_geoid, repair_part
from upward.sources.schema import SchemaBreak, conform

#: How publishers write a missing value.
NA_TOKENS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "."})

#: Census Bureau API annotation values, which stand for a reason a value is missing.
CENSUS_SENTINELS = {
    -111111111.0: "the margin of error could not be computed",
    -222222222.0: "the margin of error is not appropriate",
    -333333333.0: "the median falls in the lowest or highest interval",
    -555555555.0: "the estimate is controlled, so no margin of error applies",
    -666666666.0: "the estimate could not be computed (too few sample cases)",
    -888888888.0: "the estimate is not applicable or not available",
    -999999999.0: "the estimate or margin is not available",
}

_DELIMITERS = [",", ";", "\t", "|"]


def line_of(index: int) -> int:
    """The file line of the data row at position ``index`` (header is line 1).

    >>> line_of(0)
    2
    """
    return int(index) + 2


def decode(path: Path) -> tuple[str, str]:
    """The text of a file and the encoding it was read with (UTF-8 with or without BOM, else
    Windows-1252/latin-1).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("name\\nEspañola".encode("latin-1"))
    >>> decode(p)[1]
    'cp1252'
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError(
            path,
            "the file is empty",
            fix="download it again (upward fetch … --refresh) or check the path",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def sniff_delimiter(header: str, path: Path) -> str:
    """The delimiter of a header line: the one of , ; tab | that splits it most.

    >>> sniff_delimiter("a;b;c", Path("x"))
    ';'
    """
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    if counts[best] == 0:
        raise InputFileError(
            path,
            f"the header line {header[:80]!r} has no delimiter (, ; tab or |)",
            fix="give a delimited text file with a header row",
            row=1,
        )
    return best


def read_delimited(
    path: Path,
    *,
    required: Sequence[str] = (),
    any_of: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """Read a delimited file as text columns, checking its shape.

    ``required`` columns must all be present; for each group in ``any_of`` one must be.
    Missing values stay as ``NA`` tokens in the text and become NaN later in ``numeric``.
    The file is parsed by pyarrow's CSV reader into Arrow-backed text columns; a file it
    cannot parse is read again by pandas' parser, whose error names the line.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n")
    >>> read_delimited(p, required=["a"]).shape
    (1, 2)
    """
    text, encoding = decode(path)
    header = _first_line(text)
    delimiter = sniff_delimiter(header, path)
    frame = _read_arrow(path, text, encoding, header, delimiter)
    if frame is None:
        frame = _read_pandas(path, text, delimiter)
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    _check_columns(frame, path, required, any_of)
    _check_truncated(text, delimiter, len(frame.columns), path)
    return frame


def _first_line(text: str) -> str:
    return re.split(r"\r\n|\r|\n", text[:1 << 16], maxsplit=1)[0]


def _read_arrow(
    path: Path, text: str, encoding: str, header: str, delimiter: str
) -> pd.DataFrame | None:
    """The file as Arrow-backed text columns, or None where pyarrow cannot read it as pandas
    would (a ragged row, a repeated or empty column name): pandas' parser then reports it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = next(csv.reader([header], delimiter=delimiter), [])
    if not names or len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    # the bytes as they are when decode found plain UTF-8; else the decoded text re-encoded
    raw = path.read_bytes() if encoding == "utf-8" else text.encode("utf-8")
    if raw.count(b'"') % 2:  # an unclosed quote: pyarrow reads it to the end of the file
        return None
    try:
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        return None
    return table.to_pandas()


def _read_pandas(path: Path, text: str, delimiter: str) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise InputFileError(
            path,
            f"a row has a different number of fields from the header ({exc})",
            fix="repair or re-download the file; a quoted field may be broken",
            row=int(match.group(1)) if match else None,
        ) from None


def _check_columns(
    frame: pd.DataFrame, path: Path, required: Sequence[str], any_of: Sequence[Sequence[str]]
) -> None:
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated or any(re.fullmatch(r".+\.\d+", c) and c.rsplit(".", 1)[0] in frame.columns
                         for c in frame.columns):
        raise InputFileError(
            path,
            f"the header names a column twice: {duplicated or [c for c in frame.columns if '.' in c]}",
            fix="give each column a unique name",
            row=1,
        )
    missing = [c for c in required if c not in frame.columns]
    missing += [" or ".join(group) for group in any_of if not any(c in frame.columns for c in group)]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name.split(" or ")[0], frame.columns, n=1)
            if close:
                hints.append(f"{close[0]!r} looks like {name!r}")
        raise InputFileError(
            path,
            f"missing column(s) {', '.join(repr(m) for m in missing)}"
            + (f" ({'; '.join(hints)})" if hints else ""),
            fix="use the publisher's original file, or rename the column to the expected name",
            row=1,
            column=missing[0],
        )


def _check_truncated(text: str, delimiter: str, width: int, path: Path) -> None:
    """A last row with fewer fields than the header means the file was cut off."""
    tail = text[-(1 << 16):].splitlines()
    lines = tail if len(tail) > 1 and len(text) > 1 << 16 else text.splitlines()
    if len(lines) < 2:
        return
    last = lines[-1]
    fields = next(csv.reader([last], delimiter=delimiter), [])
    if len(fields) < width:
        raise InputFileError(
            path,
            f"the last row has {len(fields)} of {width} fields: the file looks truncated",
            fix="download it again (upward fetch … --refresh); the transfer was probably cut off",
            row=len(text.splitlines()),
        )


def numeric(
    frame: pd.DataFrame,
    column: str,
    path: Path,
    *,
    lower: float | None = None,
    upper: float | None = None,
    what: str = "a number",
) -> pd.Series:
    """Parse a text column as numbers: NA tokens become NaN; anything else that is not a
    number, a Census sentinel, or a value outside [lower, upper] is an error naming the line.

    >>> df = pd.DataFrame({"x": ["1.5", "NA", "-2"]})
    >>> numeric(df, "x", Path("f.csv")).tolist()
    [1.5, nan, -2.0]
    """
    values = _arrow_numbers(frame[column])
    if values is None:
        values = _pandas_numbers(frame[column], column, path, what)
    sentinel = values.isin(list(CENSUS_SENTINELS))
    if sentinel.any():
        i = int(np.flatnonzero(sentinel.to_numpy())[0])
        code = float(values.iloc[i])
        raise InputFileError(
            path,
            f"{int(code)} is a Census Bureau annotation value, not a number: {CENSUS_SENTINELS[code]}",
            fix="replace Census annotation values with NA before loading",
            row=line_of(i),
            column=column,
        )
    return check_limits(values, column, path, lower=lower, upper=upper)


def _arrow_numbers(text: pd.Series) -> pd.Series | None:
    """Text parsed as float64 by Arrow (NA tokens → NaN), or None when a value is not a
    number Arrow reads (the pandas parse then finds and names it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arrow = pa.array(text, from_pandas=True)
        if not pa.types.is_string(arrow.type) and not pa.types.is_large_string(arrow.type):
            return None
        trimmed = pc.utf8_trim_whitespace(arrow)
        blank = pc.is_in(trimmed, value_set=pa.array(sorted(NA_TOKENS), type=arrow.type))
        numbers = pc.cast(pc.if_else(blank, None, trimmed), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def _pandas_numbers(text: pd.Series, column: str, path: Path, what: str) -> pd.Series:
    raw = text.astype(str).str.strip()
    is_na = raw.isin(NA_TOKENS)
    values = pd.to_numeric(raw.where(~is_na, None), errors="coerce").astype("float64")
    refuse_first_bad(raw, values.isna() & ~is_na, path, column,
                     f"is not {what} ({{count}} such value(s) in this column)")
    return values


def refuse_first_bad(raw: pd.Series, bad: pd.Series, path: Path, column: str,
                     problem: str) -> None:
    """Raise an ``InputFileError`` naming the first value flagged ``bad`` (its line and
    column) when there is one; ``problem`` follows the value and may say ``{count}``.

    >>> raw = pd.Series(["1", "x", "y"])
    >>> refuse_first_bad(raw, raw.isin(["x", "y"]), Path("f.csv"), "n", "is not a number ({count})")
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: f.csv, row 3, column 'n': 'x' is not a number (2). What to do: correct the value, or write NA where it is missing
    """
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(path, f"{raw.iloc[i]!r} " + problem.format(count=int(bad.sum())),
                             fix="correct the value, or write NA where it is missing",
                             row=line_of(i), column=column)


def check_limits(
    values: pd.Series,
    column: str,
    path: Path,
    *,
    lower: float | None = None,
    upper: float | None = None,
) -> pd.Series:
    """Reject the first value outside [lower, upper] (NaN passes), naming its line.

    >>> check_limits(pd.Series([0.2, float("nan")]), "share", Path("f"), lower=0, upper=1).tolist()
    [0.2, nan]
    """
    for limit, word in ((lower, "below"), (upper, "above")):
        if limit is None:
            continue
        outside = values < limit if word == "below" else values > limit
        if outside.any():
            i = int(np.flatnonzero(outside.to_numpy())[0])
            bound = "minimum" if word == "below" else "maximum"
            raise InputFileError(
                path,
                f"{values.iloc[i]:g} is {word} the possible {bound} {limit:g}",
                fix="check the value and the column's units (a share is between 0 and 1)",
                row=line_of(i),
                column=column,
            )
    return values


def check_unique(frame: pd.DataFrame, keys: Iterable[str], path: Path) -> None:
    """Reject a file in which two rows have the same key.

    >>> check_unique(pd.DataFrame({"k": ["1", "2"]}), ["k"], Path("f.csv"))
    """
    keys = list(keys)
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())[:2]
        key = ", ".join(f"{k}={frame[k].iloc[rows[0]]}" for k in keys)
        raise InputFileError(
            path,
            f"lines {line_of(rows[0])} and {line_of(rows[1])} have the same key ({key})",
            fix="remove the duplicate row; each geography may appear once per period",
            row=line_of(rows[1]),
            column=keys[0],
        )


def geoids(frame: pd.DataFrame, column: str, level: str, path: Path) -> pd.Series:
    """A column of GEOIDs repaired to zero-padded strings, or an error naming the line.

    >>> geoids(pd.DataFrame({"county": ["1001", "40143"]}), "county", "county", Path("f")).tolist()
    ['01001', '40143']
    """
    width = GEOID_LENGTHS[level]
    lost = 2 if level == "zip" else 1
    digits = _digits(frame[column])
    length = digits.str.len()
    if digits.notna().all() and length.between(width - lost, width).all():
        return digits.str.zfill(width)
    return _map_codes(frame, [column], path, lambda v: repair_geoid(v[0], level))


def composed_geoids(
    frame: pd.DataFrame, columns: Sequence[str], widths: tuple[int, ...], path: Path
) -> pd.Series:
    """GEOIDs built from code parts in several columns (state, county, tract …).

    >>> df = pd.DataFrame({"state": ["1"], "county": ["1"]})
    >>> composed_geoids(df, ["state", "county"], (2, 3), Path("f")).tolist()
    ['01001']
    """
    parts = [_digits(frame[c]) for c in columns]
    if all(p.notna().all() and (p.str.len() <= w).all() for p, w in zip(parts, widths, strict=True)):
        out = parts[0].str.zfill(widths[0])
        for p, w in zip(parts[1:], widths[1:], strict=True):
            out = out + p.str.zfill(w)
        return out
    return _map_codes(frame, list(columns), path, lambda v: compose_geoid(*v, widths=widths))


def _digits(values: pd.Series) -> pd.Series:
    """Code text with whitespace and a trailing '.0' removed; NaN where it is not digits."""
    text = values.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    return text.where(text.str.fullmatch(r"\d+"))


def _map_codes(frame: pd.DataFrame, columns: list[str], path: Path, build) -> pd.Series:
    parts = frame[columns].astype(str).apply(lambda s: s.str.strip())
    unique = parts.drop_duplicates()
    mapping: dict[tuple[str, ...], str] = {}
    for index, values in zip(unique.index, unique.itertuples(index=False), strict=True):
        try:
            mapping[tuple(values)] = build(list(values))
        except GeoidError as exc:
            bad_column = columns[0]
            for column, value in zip(columns, values, strict=True):
                try:
                    repair_part(value)
                except GeoidError:
                    bad_column = column
                    break
            raise InputFileError(
                path,
                f"cannot read a geography code: {exc}",
                fix="write codes as zero-padded text (e.g. '01001'); a number that lost more "
                "than one leading zero cannot be repaired",
                row=line_of(frame.index.get_loc(index)),
                column=bad_column,
            ) from None
    keys = list(parts.itertuples(index=False, name=None))
    return pd.Series([mapping[k] for k in keys], index=frame.index, dtype="object")


def repeated_text(value: str, length: int) -> pd.Series:
    """A text column holding one value ``length`` times, built by Arrow (no Python objects).

    >>> repeated_text("tract", 2).tolist()
    ['tract', 'tract']
    """
    import pyarrow as pa

    return _text_series(pa.repeat(pa.scalar(value, pa.large_string()), length))


def coded_text(labels: Sequence[str], codes: np.ndarray) -> pd.Series:
    """A text column of ``labels[code]`` for each code, gathered by Arrow (no Python objects).

    >>> coded_text(["ci95", "none"], np.array([1, 0, 1])).tolist()
    ['none', 'ci95', 'none']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    gathered = pc.take(pa.array(list(labels), pa.large_string()), pa.array(codes, pa.int64()))
    return _text_series(gathered)


def _text_series(array) -> pd.Series:
    import pyarrow as pa

    return pa.chunked_array([array]).to_pandas()


def conform_file(table: str, frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``conform`` a canonical table read from ``path``, reporting a schema break as an
    ``InputFileError`` naming the file.

    >>> from upward.sources.schema import empty
    >>> conform_file("crosswalks", empty("crosswalks"), Path("f")).shape
    (0, 6)
    """
    try:
        return conform(table, frame)
    except SchemaBreak as exc:
        raise InputFileError(
            path,
            f"the {table} read from this file break the canonical schema ({exc})",
            fix="use the publisher's original file, or report the file to the Upward maintainers",
        ) from None
