"""The fast (Arrow) reading paths give what the pandas paths give, and hand every file or value
they cannot read cleanly to the pandas path, whose error names the file, line and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from upward.core.errors import InputFileError
from upward.sources import readers
from upward.sources.urban import _arrow_ratios, parse_quality, parse_ratio_text

FILES = {
    "plain": b"state,value,name\n01,2.5,Ames\n02,NA,\n",
    "bom_semicolon": b"\xef\xbb\xbfstate;value\n01;2.5\n40;-1e3\n",
    "latin1": "state,name\n35,Española\n".encode("latin-1"),
    "quoted_newline": b'state,name\n01,"two\nlines"\n02,"a, b"\n',
    "crlf_blank_line": b"state,value\r\n01,1\r\n\r\n02,2\r\n",
    "spaces": b"state , value\n 01 , 3 \n",
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_arrow_read_equals_pandas_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(FILES[name])
    text, encoding = readers.decode(path)
    header = readers._first_line(text)
    delimiter = readers.sniff_delimiter(header, path)
    fast = readers._read_arrow(path, text, encoding, header, delimiter)
    slow = readers._read_pandas(path, text, delimiter)
    assert fast is not None
    assert list(fast.columns) == list(slow.columns)
    assert fast.astype(object).values.tolist() == slow.astype(object).values.tolist()
    assert str(fast.dtypes.iloc[0]) == "str"


@pytest.mark.parametrize(
    ("content", "row"),
    [(b"a,b\n1,2\n3,4,5\n", 3), (b"a,a\n1,2\n", 1), (b"a,b\n1,2\n3\n", 3)],
    ids=["extra field", "repeated column", "cut last row"],
)
def test_unreadable_files_are_named_by_line(tmp_path: Path, content: bytes, row: int) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        readers.read_delimited(path)
    assert caught.value.row == row and caught.value.path == str(path)


def test_arrow_numbers_equal_pandas_numbers() -> None:
    text = pd.Series(["1.5", " 2 ", "NA", "", ".", "-3e2", "inf", "nan", "+4", "0.25"])
    fast = readers._arrow_numbers(text)
    slow = readers._pandas_numbers(text, "x", Path("f.csv"), "a number")
    assert fast is not None
    np.testing.assert_array_equal(fast.to_numpy(), slow.to_numpy())


def test_a_value_arrow_cannot_read_is_named_by_the_pandas_path() -> None:
    frame = pd.DataFrame({"x": ["1", "2", "1,5"]})
    assert readers._arrow_numbers(frame["x"]) is None
    with pytest.raises(InputFileError) as caught:
        readers.numeric(frame, "x", Path("f.csv"))
    assert (caught.value.row, caught.value.column) == (4, "x")


def test_census_sentinels_and_limits_still_refused() -> None:
    frame = pd.DataFrame({"x": ["1", "-666666666"], "s": ["0.5", "1.5"]})
    with pytest.raises(InputFileError, match="Census Bureau annotation") as caught:
        readers.numeric(frame, "x", Path("f.csv"))
    assert caught.value.row == 3
    with pytest.raises(InputFileError, match="above the possible maximum 1"):
        readers.numeric(frame, "s", Path("f.csv"), lower=0, upper=1)


def test_ratio_text_arrow_equals_pandas() -> None:
    text = pd.Series(["2.5%:10%", "NA", "3:1", " 0.119 : 0.246 ", "2235:1", "5:0", "7", ""])
    fast = _arrow_ratios(text)
    assert fast is not None
    expected = [0.25, np.nan, 3.0, 0.119 / 0.246, 2235.0, np.nan, 7.0, np.nan]
    np.testing.assert_allclose(fast.to_numpy(), expected)
    np.testing.assert_allclose(parse_ratio_text(pd.DataFrame({"r": text}), "r", Path("f")),
                               expected)
    with pytest.raises(InputFileError) as caught:
        parse_ratio_text(pd.DataFrame({"r": ["1:2", "a:b"]}), "r", Path("f"))
    assert caught.value.row == 3


def test_quality_grades_read_per_distinct_value() -> None:
    frame = pd.DataFrame({"q": ["Strong", "3", "NA", "2.0", " weak ", "marginal", ""]})
    assert parse_quality(frame, "q", Path("f")).tolist() == [1, 3, pd.NA, 2, 3, 2, pd.NA]
    with pytest.raises(InputFileError) as caught:
        parse_quality(pd.DataFrame({"q": ["1", "1", "4"]}), "q", Path("f"))
    assert (caught.value.row, caught.value.column) == (4, "q")


def test_text_columns_built_by_arrow() -> None:
    assert readers.coded_text(["a", "b"], np.array([1, 1, 0])).tolist() == ["b", "b", "a"]
    assert str(readers.repeated_text("x", 3).dtype) == "str"


def test_an_unclosed_quote_is_refused(tmp_path: Path) -> None:
    """pyarrow reads an unclosed quote to the end of the file as one value; the reader hands
    such a file to pandas, which refuses it (a program-file upload must not be accepted)."""
    path = tmp_path / "quote.csv"
    path.write_bytes(b'id,y\n1,"2\n3,4\n')
    with pytest.raises(InputFileError) as caught:
        readers.read_delimited(path)
    assert caught.value.path == str(path)
