"""The catalog as a gate: a loaded file may only carry metrics that the catalog declares.

The warehouse calls :func:`require_declared` on every file it loads (``warehouse.ingest``), so
no way of loading can skip it. This module knows nothing of sources: it takes the metric ids a
file carries.

Examples
--------
>>> from pathlib import Path
>>> require_declared(Path("f.csv"), ["ec", "kfr_p25"])
>>> require_declared(Path("f.csv"), ["share_employd"])
Traceback (most recent call last):
...
upward.core.errors.InputFileError: f.csv, row 1, column 'share_employd': column 'share_employd' is not a metric the catalog declares (did you mean 'share_employed'?). What to do: ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from upward.core.errors import InputFileError
from upward.metrics.catalog import metric_ids


def undeclared(ids: Iterable[str]) -> list[str]:
    """The metric ids among ``ids`` that the catalog does not declare, sorted.

    >>> undeclared(["ec", "made_up", "ec"])
    ['made_up']
    """
    distinct = ids.unique() if hasattr(ids, "unique") else ids  # a column: its few values
    return sorted(set(distinct) - metric_ids())


def require_declared(path: Path, ids: Iterable[str]) -> None:
    """Reject a file with a metric column the catalog does not declare (a renamed or new
    column), naming the column and the closest declared id.

    >>> require_declared(Path("x.csv"), ["a_new_metric", "b_new_metric"])
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: x.csv, row 1, column 'a_new_metric': column 'a_new_metric' is not a metric the catalog declares; also b_new_metric. What to do: ...
    """
    unknown = undeclared(ids)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(metric_ids()), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise InputFileError(
        path,
        f"column {unknown[0]!r} is not a metric the catalog declares{hint}"
        + (f"; also {', '.join(unknown[1:4])}" if len(unknown) > 1 else ""),
        fix="use the publisher's column names; a new metric must first be declared in "
        "src/upward/metrics/catalog.toml",
        row=1,
        column=unknown[0],
    )
