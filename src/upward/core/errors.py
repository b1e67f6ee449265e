"""Errors a user can cause. Each names what is wrong (file, row, column, option) and what to do.

The CLI prints these without a traceback and exits non-zero.

Examples
--------
>>> err = InputFileError("x.csv", "column 'state' is missing", fix="add it", column="state")
>>> print(err)
x.csv, column 'state': column 'state' is missing. What to do: add it
"""

from __future__ import annotations

from pathlib import Path


class UpwardError(Exception):
    """Base class of every error a user can cause and fix.

    >>> str(UpwardError("no data loaded", fix="run upward fetch"))
    'no data loaded. What to do: run upward fetch'
    """

    exit_code = 2

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message}. What to do: {self.fix}" if self.fix else self.message


class InputFileError(UpwardError):
    """A file that cannot be read or fails validation; names the file, row and column.

    >>> InputFileError("p.csv", "'x' is not a number", fix="correct it", row=7).row
    7
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        fix: str,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}", fix=fix)


class WorkspaceError(UpwardError):
    """The workspace is missing, or its settings file is invalid.

    >>> WorkspaceError("no workspace at ws", fix="run upward init ws").exit_code
    2
    """


class ConfigError(UpwardError):
    """An option or setting has a value that cannot be used.

    >>> str(ConfigError("--k 0 is below 1", fix="use --k 1 or more"))
    '--k 0 is below 1. What to do: use --k 1 or more'
    """


class DownloadError(UpwardError):
    """A download failed after its retries, or its content did not match what was expected.

    >>> isinstance(DownloadError("HTTP 503 after 3 tries"), UpwardError)
    True
    """


class PlaceNotFoundError(UpwardError):
    """A place name or code matched nothing loaded.

    >>> PlaceNotFoundError("no place is called 'Tulssa'").fix is None
    True
    """


class AmbiguousPlaceError(UpwardError):
    """A place name matched several geographies; the message lists them.

    >>> AmbiguousPlaceError("Rochester", ["Rochester, NY", "Rochester, MN"]).message
    "'Rochester' matches 2 places: Rochester, NY; Rochester, MN"
    """

    def __init__(self, query: str, candidates: list[str]) -> None:
        self.query = query
        self.candidates = candidates
        listing = "; ".join(candidates)
        super().__init__(
            f"{query!r} matches {len(candidates)} places: {listing}",
            fix="add the state (for example 'Rochester, NY') or give the FIPS code",
        )


class MetricNotFoundError(UpwardError):
    """A metric id that the catalog does not declare.

    >>> issubclass(MetricNotFoundError, UpwardError)
    True
    """
