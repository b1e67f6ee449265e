"""The catalog as a gate: a loaded file may only carry metrics that the catalog declares.

Examples
--------
>>> from pathlib import Path
>>> from upward.sources.base import Tables
>>> require_declared(Path("f.csv"), Tables())
"""

from __future__ import annotations

import difflib
from pathlib import Path

from upward.errors import InputFileError
from upward.metrics.catalog import metric_ids
from upward.sources.base import Tables


def undeclared(tables: Tables) -> list[str]:
    """Metric ids in ``tables`` that the catalog does not declare.

    >>> undeclared(Tables())
    []
    """
    return sorted(set(tables.observations["metric_id"]) - metric_ids())


def require_declared(path: Path, tables: Tables) -> None:
    """Reject a file with a metric column the catalog does not declare (a renamed or new
    column), naming the column and the closest declared id.
    """
    unknown = undeclared(tables)
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
