"""``JsonReport``: the JSON serialisation shared by every result dataclass (profile, barriers,
evaluation, power, cost, pooled effect …), and the helpers it rests on.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass
... class Result(JsonReport):
...     estimate: float
...     parts: list
>>> Result(float("nan"), [1.5]).to_json(indent=None)
'{"estimate": null, "parts": [1.5]}'
"""

from __future__ import annotations

import json
import math

import numpy as np


class JsonReport:
    """Serialisation shared by every report dataclass (profile, barriers …).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Gap(JsonReport):
    ...     metric: str
    ...     gap: float
    >>> Gap("share_employed", float("nan")).to_json(indent=None)
    '{"metric": "share_employed", "gap": null}'
    """

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN → None), following the report's schema in docs/.

        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class R(JsonReport):
        ...     x: float
        >>> R(float("inf")).to_dict()
        {'x': None}
        """
        return json_ready(as_plain(self))

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON (schemas: docs/profile.schema.json, docs/barriers.schema.json).

        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class R(JsonReport):
        ...     x: int
        >>> R(3).to_json(indent=None)
        '{"x": 3}'
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def as_plain(value):
    """Dataclasses to dicts, recursively, without ``asdict``'s deep copies.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class P:
    ...     change: float
    ...     parts: tuple
    >>> as_plain(P(1.0, (P(2.0, ()),)))
    {'change': 1.0, 'parts': [{'change': 2.0, 'parts': []}]}
    """
    if hasattr(value, "__dataclass_fields__"):
        return {name: as_plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    return value


def json_ready(value):
    """Replace NaN and infinities by None and numpy scalars by Python ones, recursively.

    >>> json_ready({"a": float("nan"), "b": [1.5]})
    {'a': None, 'b': [1.5]}
    """
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value
