"""Bad input: every case is refused by the real command with a message naming the file, the
line and the column and saying what to do; no traceback; non-zero exit; the warehouse exactly
as it was before."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from tests.conftest import DATA, needs_data, run_cli
from tests.test_warehouse import fingerprint

pytestmark = [needs_data]

NAME = "mobility-metrics_place_recent.csv"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A workspace holding the real place file, and its fingerprint."""
    root = tmp_path_factory.mktemp("bad")
    good = root / "good" / "urban"
    good.mkdir(parents=True)
    shutil.copy(DATA / "urban" / NAME, good / NAME)
    ws = root / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    result = run_cli("fetch", "urban", "--from", str(root / "good"), "-w", str(ws))
    assert result.returncode == 0, result.stderr
    return ws, fingerprint(ws / "warehouse.duckdb")


def _lines() -> list[str]:
    return (DATA / "urban" / NAME).read_text(encoding="utf-8").splitlines(keepends=True)


def _set(line: str, column: str, value: str, header: str) -> str:
    names = header.rstrip("\n").split(",")
    cells = line.rstrip("\n").split(",")
    cells[names.index(column)] = value
    return ",".join(cells) + "\n"


def _edit_cell(line_no: int, column: str, value: str) -> Callable[[list[str]], bytes]:
    def edit(lines: list[str]) -> bytes:
        lines[line_no - 1] = _set(lines[line_no - 1], column, value, lines[0])
        return "".join(lines).encode()

    return edit


def _rename(old: str, new: str) -> Callable[[list[str]], bytes]:
    def edit(lines: list[str]) -> bytes:
        names = lines[0].rstrip("\n").split(",")
        lines[0] = ",".join(new if n == old else n for n in names) + "\n"
        return "".join(lines).encode()

    return edit


def _duplicate(line_no: int) -> Callable[[list[str]], bytes]:
    def edit(lines: list[str]) -> bytes:
        return "".join(lines + [lines[line_no - 1]]).encode()

    return edit


def _truncate(lines: list[str]) -> bytes:
    data = "".join(lines).encode()
    cut = data[: len(data) // 2]
    return cut[: cut.rfind(b",") + 3]


CASES = {
    # case: (edit, words the message must contain, line, column)
    "missing column": (_rename("state", "st"), ["missing column", "'state'"], 1, "state"),
    "renamed metric column": (_rename("share_in_preschool", "share_in_preschol"),
                              ["share_in_preschool_quality", "belongs to no metric"], 1, None),
    "renamed unlinked metric column": (_rename("share_election_turnout_quality", "x_quality"),
                                       ["x_quality"], 1, "x_quality"),
    "undeclared metric column": (_rename("share_desc_rep_hispanic", "share_desc_rep_latinx"),
                                 ["share_desc_rep_latinx", "catalog"], 1, "share_desc_rep_latinx"),
    "text in a numeric column": (_edit_cell(40, "share_employed", "n/a (see note)"),
                                 ["not a number"], 40, "share_employed"),
    "census sentinel": (_edit_cell(12, "pctl_income_50", "-666666666"),
                        ["Census Bureau annotation", "too few sample cases"], 12,
                        "pctl_income_50"),
    "census sentinel 999": (_edit_cell(13, "share_hs_degree", "-999999999"),
                            ["Census Bureau annotation"], 13, "share_hs_degree"),
    "duplicate key": (_duplicate(5), ["same key", "lines 5 and 488"], 488, None),
    "share above 1": (_edit_cell(100, "share_digital_access", "1.7"),
                      ["above the possible maximum 1"], 100, "share_digital_access"),
    "negative count": (_edit_cell(77, "count_homeless", "-12"),
                       ["below the possible minimum 0"], 77, "count_homeless"),
    "bad quality grade": (_edit_cell(9, "share_employed_quality", "Excellent"),
                          ["not a quality grade"], 9, "share_employed_quality"),
    "bad place code": (_edit_cell(20, "place", "7A000"), ["geography code"], 20, "place"),
    "truncated file": (_truncate, ["truncated"], None, None),
    "empty file": (lambda lines: b"", ["empty"], None, None),
    "whitespace-only file": (lambda lines: b"\n\n  \n", ["empty"], None, None),
    "broken quoting": (lambda lines: ("".join(lines[:30]) + 'a,"b\n' + "".join(lines[30:])).encode(),
                       [NAME], None, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_and_nothing_changes(case, loaded, tmp_path):
    ws, before = loaded
    edit, words, line, column = CASES[case]
    folder = tmp_path / "in" / "urban"
    folder.mkdir(parents=True)
    (folder / NAME).write_bytes(edit(_lines()))
    result = run_cli("fetch", "urban", "--from", str(tmp_path / "in"), "-w", str(ws))
    message = " ".join(result.stderr.split())
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert "error" in message and NAME in message and "What to do" in message, message
    for word in words:
        assert word in message, message
    if line is not None:
        assert f"row {line}" in message, message
    if column is not None:
        assert f"column '{column}'" in message, message
    assert fingerprint(ws / "warehouse.duckdb") == before


@pytest.mark.parametrize("variant", ["semicolon", "tab", "bom", "latin-1", "crlf"])
def test_other_delimiters_and_encodings_read_the_same(variant, tmp_path):
    """Not errors: a file saved with another delimiter or encoding loads the same numbers."""
    from upward.sources import urban

    text = (DATA / "urban" / NAME).read_text(encoding="utf-8")
    original = urban.read_wide(DATA / "urban" / NAME, "s", level="place")
    if variant == "latin-1":
        text = text.replace("Albuquerque city", "Albuquérque city")
    data = {
        "semicolon": text.replace(",", ";").encode(),
        "tab": text.replace(",", "\t").encode(),
        "bom": b"\xef\xbb\xbf" + text.encode(),
        "latin-1": text.encode("latin-1"),
        "crlf": text.replace("\n", "\r\n").encode(),
    }[variant]
    path = tmp_path / NAME
    path.write_bytes(data)
    again = urban.read_wide(path, "s", level="place")
    assert again.observations.equals(original.observations)
    if variant == "latin-1":
        assert "Albuquérque city, New Mexico" in set(again.geographies["name"])


def test_truncated_download_is_refused(tmp_path, loaded):
    """A server that always cuts the transfer: the fetch fails after its retries, naming the
    URL and the bytes received, and the warehouse is unchanged."""
    from tests.support.http_server import serve_directory

    ws, before = loaded
    settings = ws / "upward.toml"
    saved = settings.read_text()
    try:
        with serve_directory(DATA / "urban", drop_after=5000, drop_times=1000) as server:
            settings.write_text(saved.replace("urls = {}", "urls = { \"urban.place_recent\" = "
                                              f"\"{server.url(NAME)}\" }}").replace(
                                                  "backoff = 0.5", "backoff = 0.01"))
            result = run_cli("fetch", "urban", "-w", str(ws))
    finally:
        settings.write_text(saved)
    message = " ".join(result.stderr.split())
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "127.0.0.1" in message and "5000 of" in message, message
    assert fingerprint(ws / "warehouse.duckdb") == before


def test_unknown_setting_is_an_error(tmp_path):
    ws = tmp_path / "ws"
    run_cli("init", str(ws))
    (ws / "upward.toml").write_text("[download]\nretrys = 3\n")
    result = run_cli("sources", "-w", str(ws))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "download.retrys" in " ".join(result.stderr.split())


def test_unknown_source_and_format_are_errors(tmp_path):
    ws = tmp_path / "ws"
    run_cli("init", str(ws))
    result = run_cli("fetch", "urbann", "--from", str(DATA), "-w", str(ws))
    assert result.returncode != 0 and "urbann" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("profile", "Tulsa, OK", "--format", "xml", "-w", str(ws))
    assert result.returncode != 0 and "xml" in result.stderr


def test_missing_workspace_is_explained(tmp_path):
    result = run_cli("profile", "Tulsa, OK", "-w", str(tmp_path / "nowhere"))
    assert result.returncode != 0 and "upward init" in result.stderr
    assert "Traceback" not in result.stderr
