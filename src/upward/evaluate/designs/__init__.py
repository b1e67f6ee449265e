"""The registry of evaluation designs: each is a declared ``Design`` with the spec fields it
needs and its estimator. Design modules register themselves on import.

Examples
--------
>>> sorted(DESIGNS)[:3]
['aipw', 'did', 'event_study']
>>> DESIGNS["rd"].required
('outcome', 'running', 'cutoff')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from upward.core.errors import ConfigError
from upward.evaluate.result import EvaluationResult
from upward.evaluate.spec import EvaluationSpec

Estimator = Callable[[pd.DataFrame, EvaluationSpec], EvaluationResult]


@dataclass(frozen=True)
class Design:
    """An evaluation design: its name, the spec fields it needs, its estimator."""

    name: str
    label: str
    required: tuple[str, ...]
    estimate: Estimator
    options: tuple[str, ...] = ()
    description: str = ""

    def check_spec(self, spec: EvaluationSpec) -> None:
        """Raise ConfigError naming every required field the spec leaves empty and any option
        the design does not know.

        >>> DESIGNS["rct"].check_spec(EvaluationSpec(data="x.csv", design="rct", outcome="y"))
        Traceback (most recent call last):
        ...
        upward.core.errors.ConfigError: design 'rct' needs treatment: ...
        """
        missing = [f for f in self.required if getattr(spec, f) in (None, "", [])]
        if missing:
            raise ConfigError(f"design {self.name!r} needs {', '.join(missing)}: add "
                              f"{' and '.join(repr(m + ':') for m in missing)} to the spec",
                              fix=f"see docs/evaluate.md#{self.name}")
        unknown = sorted(set(spec.options) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "none"
            raise ConfigError(f"design {self.name!r} has no option {', '.join(unknown)}",
                              fix=f"options of {self.name}: {known}")


DESIGNS: dict[str, Design] = {}


def register(design: Design) -> Design:
    """Add a design to the registry (once per name).

    >>> register(DESIGNS["rct"]) is DESIGNS["rct"]
    True
    """
    existing = DESIGNS.get(design.name)
    if existing is not None and existing is not design:
        raise ValueError(f"design {design.name!r} is registered twice")
    DESIGNS[design.name] = design
    return design


def get_design(name: str) -> Design:
    """The design called ``name``; a ConfigError listing the designs otherwise.

    >>> get_design("rct").label
    'Randomised controlled trial'
    """
    try:
        return DESIGNS[name]
    except KeyError:
        raise ConfigError(f"design: {name!r} is not a design",
                          fix=f"use one of {', '.join(sorted(DESIGNS))}") from None


# Design modules register on import.
from upward.evaluate.designs import (  # noqa: E402, F401
    discontinuity,
    experiment,
    observational,
    panel,
    staggered,
    synthetic,
)
