"""The registry of evaluation designs: each is a declared ``Design`` with every fact about it —
the spec fields it needs, its options (a pydantic model), its estimator, the tables (and so the
charts) its results carry, and the evidence category its results enter the library under.
Design modules register themselves on import; the report, the evidence library and the docs
test ask the registry.

Examples
--------
>>> sorted(DESIGNS)[:3]
['aipw', 'did', 'event_study']
>>> DESIGNS["rd"].required, DESIGNS["rd"].kind
(('outcome', 'running', 'cutoff'), <DesignKind.DISCONTINUITY: 'discontinuity'>)
>>> [t.key for t in DESIGNS["rct"].tables]
['estimates', 'balance', 'attrition']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from upward.core.errors import ConfigError
from upward.evaluate.categories import DesignKind, EvidenceCategory
from upward.evaluate.result import EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.evaluate.tables import ResultTable

Estimator = Callable[[pd.DataFrame, EvaluationSpec], EvaluationResult]


class OptionError(ConfigError):
    """A design option that is unknown or has a value of the wrong type; ``option`` names it
    (so a spec file's error can give its line).

    >>> OptionError("p", "options.p: bad", fix="x").option
    'p'
    """

    def __init__(self, option: str, message: str, *, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.option = option


class DesignOptions(BaseModel):
    """Base of a design's ``options:``: a pydantic model, unknown options forbidden. Fields
    left None take a default that depends on the rest of the spec.

    >>> class Demo(DesignOptions):
    ...     bins: int = 20
    >>> Demo.parse({"bins": 5}).bins
    5
    >>> Demo.parse({"bins": "many"})
    Traceback (most recent call last):
    ...
    upward.evaluate.designs.OptionError: options: bins 'many' is not valid (Input should be a valid integer). What to do: correct options.bins: ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @classmethod
    def of(cls, spec: EvaluationSpec):  # -> Self
        """The spec's options this design knows, validated (an unknown one is refused by
        ``Design.check_spec``, which names the spec file and line).

        >>> NoOptions.of(EvaluationSpec(data="x.csv", design="rct", outcome="y"))
        NoOptions()
        """
        return cls.parse({k: v for k, v in spec.options.items() if k in cls.model_fields})

    @classmethod
    def parse(cls, options: Mapping[str, Any]):  # -> Self
        """Validate a spec's ``options:`` mapping; an OptionError names the first bad one."""
        try:
            return cls.model_validate(dict(options))
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "options"
            known = ", ".join(cls.model_fields) or "none"
            if first["type"] == "extra_forbidden":
                raise OptionError(name, f"options: there is no option {name}",
                                  fix=f"options of this design: {known}") from None
            value = dict(options).get(name)
            raise OptionError(name, f"options: {name} {value!r} is not valid ({first['msg']})",
                              fix=_option_fix(cls, name)) from None


def _option_fix(model: type[DesignOptions], name: str) -> str:
    info = model.model_fields.get(name)
    text = info.description if info is not None and info.description else ""
    return f"correct options.{name}: {text or 'docs/evaluate.md describes it'}"


class NoOptions(DesignOptions):
    """A design without options.

    >>> NoOptions.of(EvaluationSpec(data="x.csv", design="rd", outcome="y")).model_dump()
    {}
    """


@dataclass(frozen=True)
class Design:
    """An evaluation design: its name and label, the spec fields it needs, its estimator, its
    options model, the tables its results carry (in the order a report shows them) and the
    evidence category its results enter the library under.

    >>> d = DESIGNS["rd"]
    >>> d.name, d.label, d.required
    ('rd', 'Regression discontinuity', ('outcome', 'running', 'cutoff'))
    """

    name: str
    label: str
    required: tuple[str, ...]
    estimate: Estimator
    option_model: type[DesignOptions] = NoOptions
    description: str = ""
    evidence: EvidenceCategory = field(kw_only=True)
    tables: tuple[ResultTable, ...] = field(default=(), kw_only=True)
    #: Whether its balance table's weighted differences are the ones that matter.
    weighted_balance: bool = field(default=False, kw_only=True)

    @property
    def options(self) -> tuple[str, ...]:
        """The names of its options.

        >>> DESIGNS["staggered_did"].options[:3]
        ('control_group', 'base_period', 'est_method')
        """
        return tuple(self.option_model.model_fields)

    @property
    def kind(self) -> DesignKind:
        """Randomised, quasi-experimental … (the kind of its evidence category).

        >>> DESIGNS["did"].kind
        <DesignKind.QUASI: 'quasi'>
        """
        return self.evidence.kind

    @property
    def charts(self) -> tuple[str, ...]:
        """The chart forms its results are drawn with, in report order.

        >>> DESIGNS["synthetic_control"].charts
        ('paths', 'weights', 'placebo_ratios')
        """
        return tuple(t.chart for t in self.tables if t.chart)

    def check_spec(self, spec: EvaluationSpec) -> None:
        """Raise ConfigError naming every required field the spec leaves empty, and an
        OptionError naming an option the design does not know or whose value has the wrong
        type.

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
            raise OptionError(unknown[0], f"design {self.name!r} has no option "
                              f"{', '.join(unknown)}", fix=f"options of {self.name}: {known}")
        self.option_model.parse(spec.options)


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


def unregister(name: str) -> Design:
    """Remove a design from the registry (for tests that declare one of their own).

    >>> d = register(Design("test_only", "Test", ("outcome",), DESIGNS["rct"].estimate,
    ...                     evidence=EvidenceCategory("descriptive")))
    >>> unregister("test_only") is d, "test_only" in DESIGNS
    (True, False)
    """
    return DESIGNS.pop(name)


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


def result_tables() -> dict[str, ResultTable]:
    """Every table a registered design's results carry, by key (first declaration wins).

    >>> result_tables()["rd_bins"].columns
    ('x', 'y', 'n', 'side')
    """
    out: dict[str, ResultTable] = {}
    for design in DESIGNS.values():
        for table in design.tables:
            out.setdefault(table.key, table)
    return out


class _TableColumns(Mapping[str, tuple[str, ...]]):
    """Table key → its columns, read from the registry at each use."""

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return result_tables()[key].columns

    def __iter__(self) -> Iterator[str]:
        return iter(result_tables())

    def __len__(self) -> int:
        return len(result_tables())


#: Keys of ``EvaluationResult.tables`` and their columns, as the registered designs declare
#: them (a live view of the registry).
TABLE_COLUMNS: Mapping[str, tuple[str, ...]] = _TableColumns()


# Design modules register on import.
from upward.evaluate.designs import (  # noqa: E402, F401
    discontinuity,
    experiment,
    observational,
    panel,
    staggered,
    synthetic,
    synthetic_did,
)
