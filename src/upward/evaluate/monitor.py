"""Monitored evaluations: a randomised program watched week by week as its records arrive.

A spec with a ``monitor:`` section names a folder (``data:``) that grows by one file a week.
Each refresh (``upward monitor spec.yaml``) reads every file, validates and hashes it exactly
as ``upward evaluate`` does, and re-estimates the effect from the start with an anytime-valid
**confidence sequence** (:mod:`upward.evaluate.sequential`), read at the end of every week: the
path of estimates and sequences, enrolment against the plan from ``upward plan``, the cost to
date and per unit of outcome, and a sentence saying whether the evidence is strong enough to
act. Because the sequence holds at every look at once, looking every week does not inflate the
chance of a false alarm.

The data come from a :class:`BatchSource`: :class:`FolderSource` (a folder of files, one look
per file in name order) or :class:`TableSource` (any callable returning a table with a week
column, such as a synced feed). The path is saved all-or-nothing to
``<workspace>/evaluations/monitored/<name>.json``; each look keeps the time it was first
seen and its file's SHA-256, and a file that changed after it was first seen is reported.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.demo.pilot import write_monitored_pilot
>>> pilot = write_monitored_pilot(pathlib.Path(tempfile.mkdtemp()), weeks=3)
>>> m = monitor(pilot.spec_path, save=False)
>>> [look.label for look in m.looks]
['week-01', 'week-02', 'week-03']
>>> m.looks[-1].enrolled, m.looks[-1].planned_to_date
(300, 300)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from upward.core.atomic import atomic_write
from upward.core.errors import ConfigError, InputFileError
from upward.core.results import JsonReport
from upward.core.text import N_
from upward.evaluate.cost import RunningCost, running_cost
from upward.evaluate.programs import (
    READERS,
    IdHasher,
    ProgramFile,
    as_text_cells,
    prepare_program,
    read_program_file,
)
from upward.evaluate.run import LoadedSpec, as_loaded, name_of
from upward.evaluate.sequential import aipw_pseudo_outcomes, confidence_sequence
from upward.warehouse.workspace import Workspace

MONITOR_FOLDER = "monitored"
#: The sample size the sequence is tuned for when no planned enrolment is declared.
DEFAULT_T_OPT = 1000
MONITOR_DESIGNS = ("rct",)


# ----------------------------------------------------------------------------------------------
# Where the records come from
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One look's new records as text cells, with a label, where they came from and a
    fingerprint of their content.

    >>> Batch("week-01", ProgramFile(pd.DataFrame(), "w1.csv", 1), "abc").label
    'week-01'
    """

    label: str
    file: ProgramFile
    sha256: str


class BatchSource(Protocol):
    """Anything that lists the batches received so far, oldest first.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "week-01.csv").write_text("d,y" + chr(10) + "0,1" + chr(10))
    >>> source: BatchSource = FolderSource(d)
    >>> [b.label for b in source.batches()], source.describe().endswith("*.csv")
    (['week-01'], True)
    """

    def batches(self) -> list[Batch]:
        """Every batch received so far, in arrival order."""
        ...

    def describe(self) -> str:
        """Where the batches come from, for messages."""
        ...


@dataclass(frozen=True)
class FolderSource:
    """A folder of files (CSV, Excel or Parquet) that grows; each file is one look, in name
    order (name them ``week-01.csv``, ``week-02.csv`` … or by date).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "week-02.csv").write_text("d,y\\n1,2\\n"); _ = (d / "week-01.csv").write_text("d,y\\n0,1\\n")
    >>> [b.label for b in FolderSource(d).batches()]
    ['week-01', 'week-02']
    """

    folder: Path
    pattern: str = "*.csv"
    options: dict = field(default_factory=dict)

    def batches(self) -> list[Batch]:
        """Every matching file, as a batch, in name order."""
        folder = Path(self.folder)
        if not folder.is_dir():
            raise InputFileError(folder, "the monitored data folder does not exist",
                                 fix="point 'data:' at the folder the weekly files arrive in")
        files = sorted(p for p in folder.glob(self.pattern)
                       if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() in READERS)
        out = []
        for path in files:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out.append(Batch(path.stem, read_program_file(path, self.options), digest))
        return out

    def describe(self) -> str:
        """The folder and pattern.

        >>> FolderSource(Path("weekly")).describe()
        'weekly/*.csv'
        """
        return f"{self.folder}/{self.pattern}"


@dataclass(frozen=True)
class TableSource:
    """A table that grows (a synced feed, a query): ``read()`` returns every record so far,
    and ``week_column`` says which look each belongs to (numbers or dates, in order).

    >>> t = TableSource(lambda: pd.DataFrame({"wk": [2, 1, 2], "y": [1.0, 2.0, 3.0]}), "wk")
    >>> [(b.label, len(b.file.cells)) for b in t.batches()]
    [('1', 1), ('2', 2)]
    """

    read: Callable[[], pd.DataFrame]
    week_column: str
    name: str = "table"

    def batches(self) -> list[Batch]:
        """The table's records grouped by week, oldest first."""
        frame = self.read()
        if self.week_column not in frame.columns:
            raise InputFileError(self.name, f"there is no column {self.week_column!r}",
                                 fix="set monitor.week_column to the column holding the week",
                                 column=self.week_column)
        return _split_by_week(frame, self.week_column, self.name)

    def describe(self) -> str:
        """The table's name.

        >>> TableSource(lambda: pd.DataFrame(), "wk", "feed:pilot").describe()
        'feed:pilot'
        """
        return self.name


def _split_by_week(frame: pd.DataFrame, column: str, name: str) -> list[Batch]:
    cells = as_text_cells(frame)
    raw = cells[column].str.strip()
    if (raw == "").any():
        row = int(np.flatnonzero((raw == "").to_numpy())[0]) + 1
        raise InputFileError(name, "the week is empty", row=row, column=column,
                             fix="give every record the week it arrived in")
    numbers = pd.to_numeric(raw, errors="coerce")
    keys = numbers if numbers.notna().all() else pd.to_datetime(raw, errors="coerce")
    if keys.isna().any():
        row = int(np.flatnonzero(keys.isna().to_numpy())[0]) + 1
        raise InputFileError(name, f"the week {raw.iloc[row - 1]!r} is neither a number nor a "
                             "date", row=row, column=column, fix="write weeks as 1, 2, 3 … or dates")
    out = []
    for key in sorted(keys.unique()):
        part = cells[(keys == key).to_numpy()].reset_index(drop=True)
        label = raw[(keys == key).to_numpy()].iloc[0]
        digest = hashlib.sha256(part.to_csv(index=False).encode("utf-8")).hexdigest()
        out.append(Batch(str(label), ProgramFile(part, f"{name} (week {label})", 0), digest))
    return out


def source_for(loaded: LoadedSpec) -> BatchSource:
    """The batch source a monitored spec declares: its ``data:`` folder, regrouped by
    ``monitor.week_column`` when one is given.

    >>> s = as_loaded({"data": "weekly", "design": "rct", "outcome": "y",
    ...                "monitor": {"pattern": "*.parquet"}})
    >>> source_for(s).describe()
    'weekly/*.parquet'
    """
    monitor_spec = _monitor_spec(loaded)
    folder = FolderSource(Path(loaded.spec.data), monitor_spec.pattern, loaded.spec.options)
    if monitor_spec.week_column is None:
        return folder

    def read_all() -> pd.DataFrame:
        parts = [b.file.cells for b in folder.batches()]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    return TableSource(read_all, monitor_spec.week_column, folder.describe())


# ----------------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------------


@dataclass
class Look:
    """The evaluation at the end of one look (week): everything received up to it.

    >>> Look("week-01", "abc", "2026-01-01T00:00:00+00:00", 100, 90, 45, 45, 1.0, 0.0, 2.0,
    ...      0.5, 1.5, 100, None).enrolled
    100
    """

    label: str
    sha256: str
    first_seen: str
    enrolled: int
    with_outcome: int
    treated: int
    control: int
    estimate: float
    lower: float
    upper: float
    fixed_lower: float
    fixed_upper: float
    planned_to_date: int | None
    spent_to_date: float | None


@dataclass
class MonitorResult(JsonReport):
    """A monitored evaluation's path: every look's estimate and confidence sequence,
    enrolment against the plan, cost to date and the verdict in words.

    >>> r = MonitorResult("pilot", "earnings", "ATE", "m", 0.05, 1000, 0.5, None, [Look(
    ...     "week-01", "", "", 10, 10, 5, 5, 1.0, -math.inf, math.inf, 0.5, 1.5, None, None)],
    ...     "too early to tell", False, None, "weekly/")
    >>> r.looks[-1].enrolled, r.to_dict()["looks"][0]["lower"]
    (10, None)
    """

    name: str
    outcome: str
    estimand: str
    method: str
    alpha: float
    t_opt: float
    assignment_share: float
    planned_enrolment: int | None
    looks: list[Look]
    verdict: str
    act: bool
    cost: RunningCost | None
    source: str
    notes: list[str] = field(default_factory=list)
    spec: dict = field(default_factory=dict)
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(
        timespec="seconds"))

    @property
    def latest(self) -> Look:
        """The latest look.

        >>> MonitorResult("p", "y", "ATE", "m", 0.05, 100, 0.5, None, [Look(
        ...     "w1", "", "", 10, 10, 5, 5, 1.0, 0.0, 2.0, 0.5, 1.5, None, None)], "", False,
        ...     None, "").latest.label
        'w1'
        """
        return self.looks[-1]

    def headline(self) -> str:
        """The latest estimate and sequence in one line.

        >>> MonitorResult("p", "y", "ATE", "m", 0.05, 100, 0.5, None, [Look(
        ...     "w1", "", "", 10, 10, 5, 5, 1.0, 0.0, 2.0, 0.5, 1.5, None, None)], "", False,
        ...     None, "").headline()
        'ATE on y after w1: 1 (95% confidence sequence 0 to 2), n = 10'
        """
        look = self.latest
        level = round(100 * (1 - self.alpha))
        return N_("{estimand} on {outcome} after {look}: {estimate} ({level}% confidence "
                  "sequence {low} to {high}), n = {n:,}", estimand=self.estimand,
                  outcome=self.outcome, look=look.label, estimate=_num(look.estimate),
                  level=level, low=_num(look.lower), high=_num(look.upper),
                  n=look.with_outcome)


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return N_("unbounded")
    return f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}"


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


def monitor(spec, workspace: Workspace | str | Path | None = None, *,
            source: BatchSource | None = None, save: bool = True) -> MonitorResult:
    """Refresh a monitored evaluation: read every batch so far, re-estimate the path and save
    it (when a workspace is given and ``save``).

    >>> monitor("pilot.yaml", workspace="ws")  # doctest: +SKIP
    """
    loaded = as_loaded(spec)
    spec_ = loaded.spec
    settings = _monitor_spec(loaded)
    if spec_.design not in MONITOR_DESIGNS:
        raise ConfigError(f"{loaded.where('design')}: a monitored evaluation needs design: rct "
                          f"(got {spec_.design!r})",
                          fix="confidence sequences here are for randomised programs; evaluate "
                          "other designs once, with 'upward evaluate'")
    if not spec_.treatment:
        raise ConfigError(f"{loaded.where()}: key 'treatment' is missing",
                          fix="name the 0/1 assignment column with 'treatment:'")
    ws = workspace if isinstance(workspace, Workspace) or workspace is None else Workspace.open(
        Path(workspace))
    hasher = IdHasher.for_workspace(ws.secrets_dir) if ws else IdHasher.ephemeral()
    source = source or source_for(loaded)
    batches = source.batches()
    if not batches:
        raise InputFileError(source.describe(), "no data has arrived yet (no matching files)",
                             fix="put the first week's file in the folder, then refresh")
    notes: list[str] = []
    frame = _prepare(batches, loaded, hasher)
    plan = _read_plan(loaded, settings)
    planned = settings.planned_enrolment or plan.get("n")
    share = settings.assignment_share or plan.get("share_treated")
    if share is None:
        share = float(frame[spec_.treatment].mean())
        notes.append(N_("assignment share not declared: estimated as {share:.3f} from the "
                        "data (declare monitor.assignment_share or a plan)", share=share))
    t_opt = float(planned) if planned else float(DEFAULT_T_OPT)
    if not planned:
        notes.append(N_("no planned enrolment: the sequence is tuned to be tightest at "
                        "{n:,} records (declare monitor.plan or planned_enrolment)",
                        n=DEFAULT_T_OPT))
    previous = _previous_looks(ws, name_of(loaded))
    looks, method = _path(frame, loaded, share, t_opt, settings, planned, batches, previous,
                           notes)
    spent = _spending(loaded, settings, [b.label for b in batches])
    for look, value in zip(looks, spent, strict=True):
        look.spent_to_date = value
    latest = looks[-1]
    cost = _cost(loaded, latest)
    act, verdict = judge(latest.lower, latest.upper, outcome=spec_.outcome,
                         alpha=spec_.alpha, enrolled=latest.enrolled, planned=planned,
                         since=_since(looks))
    result = MonitorResult(
        name=name_of(loaded), outcome=spec_.outcome, estimand="ATE",
        method=method, alpha=spec_.alpha, t_opt=t_opt, assignment_share=share,
        planned_enrolment=int(planned) if planned else None, looks=looks, verdict=verdict,
        act=act, cost=cost, source=source.describe(), notes=notes,
        spec=_public_spec(loaded))
    if ws is not None and save:
        save_monitor(result, ws)
    return result


def _monitor_spec(loaded: LoadedSpec):
    if loaded.spec.monitor is None:
        raise ConfigError(f"{loaded.where()}: the spec has no 'monitor:' section",
                          fix="add 'monitor:' (docs/monitoring.md) and point 'data:' at the "
                          "folder the weekly files arrive in")
    return loaded.spec.monitor


def _relative(loaded: LoadedSpec, path: Path) -> Path:
    path = Path(path)
    if not path.is_absolute() and loaded.path is not None:
        return loaded.path.parent / path
    return path


def _prepare(batches: list[Batch], loaded: LoadedSpec, hasher: IdHasher) -> pd.DataFrame:
    """Every batch validated and hashed as 'upward evaluate' does, stacked with its look."""
    spec = loaded.spec.model_copy(update={"monitor": None})
    parts = []
    seen: dict[str, str] = {}
    for k, batch in enumerate(batches):
        program = prepare_program(batch.file, spec, hasher, source=batch.file.path)
        part = program.frame.copy()
        if spec.unit:
            for i, unit in enumerate(part[spec.unit].tolist()):
                if unit in seen:
                    raise InputFileError(batch.file.path, f"this unit already arrived in "
                                         f"{seen[unit]} (identifiers are hashed; not shown)",
                                         row=batch.file.row_of(i), column=spec.unit,
                                         fix="each person is enrolled once; remove the repeated "
                                         "record or correct its identifier")
                seen[unit] = batch.file.path
        part["_look"] = k
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _read_plan(loaded: LoadedSpec, settings) -> dict:
    """The plan's inputs (``n``, ``share_treated``) from ``upward plan --format json``."""
    if settings.plan is None:
        return {}
    path = _relative(loaded, settings.plan)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "the plan file named by monitor.plan does not exist",
                             fix="write it with 'upward plan --design rct --n N --format json "
                             "-o plan.json'") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"is not a plan ({exc.__class__.__name__})",
                             fix="write it with 'upward plan … --format json -o plan.json'"
                             ) from None
    inputs = doc.get("inputs") if isinstance(doc, dict) else None
    if not isinstance(inputs, dict) or not isinstance(inputs.get("n"), int | float):
        raise InputFileError(path, "is not a plan written by 'upward plan' (no inputs.n)",
                             fix="write it with 'upward plan … --format json -o plan.json'")
    if doc.get("design") != "rct":
        raise InputFileError(path, f"is a {doc.get('design')!r} plan; a monitored RCT needs an "
                             "rct plan", fix="plan with 'upward plan --design rct …'")
    return {"n": int(inputs["n"]), "share_treated": inputs.get("share_treated")}


def _path(frame: pd.DataFrame, loaded: LoadedSpec, share: float, t_opt: float, settings,
          planned, batches: list[Batch], previous: dict, notes: list[str]):
    spec = loaded.spec
    y = frame[spec.outcome].to_numpy(dtype=float)
    d = frame[spec.treatment].to_numpy(dtype=float)
    observed = np.isfinite(y)
    if (~observed).any():
        notes.append(N_("{missing:,} of {n:,} records have no outcome yet and are not in the "
                        "estimate (attrition is reported, not imputed)",
                        missing=int((~observed).sum()), n=len(y)))
    x = None
    if spec.covariates:
        cov = frame[spec.covariates].to_numpy(dtype=float)
        usable = np.isfinite(cov).all(axis=0)
        if not usable.all():
            dropped = [c for c, ok in zip(spec.covariates, usable, strict=True) if not ok]
            notes.append(N_("covariates with missing values are not used by the sequence: "
                            "{columns}", columns=", ".join(dropped)))
        x = cov[:, usable] if usable.any() else None
    look = frame["_look"].to_numpy()
    keep = observed
    if keep.sum() < 2:
        raise InputFileError(batches[-1].file.path, "fewer than 2 records with an outcome so "
                             "far", fix="refresh again when more outcomes have arrived")
    phi = aipw_pseudo_outcomes(y[keep], d[keep], look[keep], share,
                               None if x is None else x[keep])
    counts = np.bincount(look[keep], minlength=len(batches))
    times = np.cumsum(counts)
    valid = times >= 2
    cs = confidence_sequence(phi, times=times[valid], t_opt=t_opt, alpha=spec.alpha)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    looks = []
    j = 0
    weeks = settings.enrolment_weeks
    for k, batch in enumerate(batches):
        upto = look <= k
        first_seen = now
        before = previous.get(batch.label)
        if before:
            first_seen = before.get("first_seen", now)
            if before.get("sha256") != batch.sha256:
                notes.append(N_("{look} changed after it was first seen ({first_seen}); the "
                                "path is recomputed from the data as they are now",
                                look=batch.label, first_seen=first_seen))
        if valid[k]:
            est, lo, hi = cs.estimate[j], cs.lower[j], cs.upper[j]
            flo, fhi = cs.fixed_lower[j], cs.fixed_upper[j]
            j += 1
        else:
            est, lo, hi, flo, fhi = float("nan"), -math.inf, math.inf, -math.inf, math.inf
        planned_to_date = (None if not planned else
                           round(planned * min(1.0, (k + 1) / weeks)) if weeks
                           else int(planned))
        looks.append(Look(batch.label, batch.sha256, first_seen, int(upto.sum()),
                          int(times[k]), int((d[upto] == 1).sum()), int((d[upto] == 0).sum()),
                          est, lo, hi, flo, fhi, planned_to_date, None))
    return looks, N_("{method}; AIPW pseudo-outcomes with outcome regressions fitted on "
                     "earlier looks", method=cs.method)


def _since(looks: list[Look]) -> str | None:
    """The first look from which every later look's sequence excludes zero."""
    first = None
    for look in looks:
        excludes = look.lower > 0 or look.upper < 0
        first = (first or look.label) if excludes else None
    return first


def _spending(loaded: LoadedSpec, settings, labels: list[str]) -> list[float | None]:
    """Dollars spent to the end of each look, from ``monitor.costs``."""
    if settings.costs is None:
        return [None] * len(labels)
    path = _relative(loaded, settings.costs)
    from upward.sources.readers import read_delimited

    if not path.is_file():
        raise InputFileError(path, "the costs file named by monitor.costs does not exist",
                             fix="write a CSV with columns week,spent")
    cells = as_text_cells(read_delimited(path))
    for column in ("week", "spent"):
        if column not in cells.columns:
            raise InputFileError(path, f"column {column!r} is missing", column=column,
                                 fix="the costs file has columns week,spent")
    position = {label: i for i, label in enumerate(labels)}
    per_look = [0.0] * len(labels)
    for i, (week, spent) in enumerate(zip(cells["week"], cells["spent"], strict=True)):
        week = week.strip()
        k = position.get(week)
        if k is None and week.isdigit() and 1 <= int(week) <= len(labels):
            k = int(week) - 1
        if k is None:
            if week.isdigit() or week.startswith("week"):
                continue  # spending for a week whose data have not arrived yet
            raise InputFileError(path, f"week {week!r} is not a look ({', '.join(labels)})",
                                 row=i + 2, column="week",
                                 fix="name the week by its file name without suffix or its "
                                 "number from 1")
        try:
            value = float(spent.replace(",", "").replace("$", ""))
        except ValueError:
            raise InputFileError(path, f"spent must be dollars, found {spent!r}", row=i + 2,
                                 column="spent", fix="write a number such as 12500") from None
        if not math.isfinite(value) or value < 0:
            raise InputFileError(path, f"spent must be a non-negative number, found {spent!r}",
                                 row=i + 2, column="spent", fix="write a number such as 12500")
        per_look[k] += value
    return np.cumsum(per_look).tolist()


def _cost(loaded: LoadedSpec, look: Look) -> RunningCost | None:
    cost = loaded.spec.cost
    if look.spent_to_date is not None:
        return running_cost(look.spent_to_date, look.treated, look.estimate, look.lower,
                            look.upper, source=N_("monitor.costs (spending to date)"))
    if cost is not None and cost.cost_per_participant is not None:
        return running_cost(cost.cost_per_participant * look.treated, look.treated,
                            look.estimate, look.lower, look.upper,
                            source="cost.cost_per_participant × participants enrolled")
    return None


def judge(lower: float, upper: float, *, outcome: str, alpha: float, enrolled: int,
          planned: int | None, since: str | None = None) -> tuple[bool, str]:
    """Whether the evidence is strong enough to act, and the sentence that says so.

    >>> judge(120.0, 800.0, outcome="earnings", alpha=0.05, enrolled=900, planned=1200)[1][:40]
    'Strong enough to act: the program raises'
    >>> judge(-50.0, 800.0, outcome="earnings", alpha=0.05, enrolled=900, planned=1200)[0]
    False
    """
    level = round(100 * (1 - alpha))
    low, high = _num(lower), _num(upper)
    guarantee = N_("this {level}% confidence sequence stays valid however often it is looked "
                   "at, so acting on it now carries at most a {risk}% risk of a false alarm",
                   level=level, risk=100 - level)
    if lower > 0 or upper < 0:
        params = {"outcome": outcome, "low": low, "high": high, "guarantee": guarantee}
        if since:
            return True, (N_("Strong enough to act: the program raises {outcome} — the effect "
                             "is between {low} and {high}, which excludes zero (since "
                             "{since}); {guarantee}.", since=since, **params) if lower > 0 else
                          N_("Strong enough to act: the program lowers {outcome} — the effect "
                             "is between {low} and {high}, which excludes zero (since "
                             "{since}); {guarantee}.", since=since, **params))
        return True, (N_("Strong enough to act: the program raises {outcome} — the effect is "
                         "between {low} and {high}, which excludes zero; {guarantee}.",
                         **params) if lower > 0 else
                      N_("Strong enough to act: the program lowers {outcome} — the effect is "
                         "between {low} and {high}, which excludes zero; {guarantee}.",
                         **params))
    if planned and enrolled >= planned:
        return False, N_("Planned enrolment is reached ({enrolled:,} of {planned:,}) and the "
                         "evidence does not show an effect: the effect is between {low} and "
                         "{high}, which includes zero. Effects outside this range are ruled "
                         "out; effects inside it cannot be told apart from none.",
                         enrolled=enrolled, planned=planned, low=low, high=high)
    if planned:
        return False, N_("Not yet: the effect is between {low} and {high}, which still "
                         "includes zero; keep collecting (enrolment {enrolled:,} of "
                         "{planned:,} planned) and refresh next week. Do not act on a week "
                         "where an ordinary confidence interval happens to exclude zero.",
                         low=low, high=high, enrolled=enrolled, planned=planned)
    return False, N_("Not yet: the effect is between {low} and {high}, which still includes "
                     "zero; keep collecting and refresh next week. Do not act on a week where "
                     "an ordinary confidence interval happens to exclude zero.",
                     low=low, high=high)


def _public_spec(loaded: LoadedSpec) -> dict:
    doc = loaded.spec.model_dump(mode="json", exclude_none=True)
    doc["data"] = loaded.data_as_written or str(loaded.spec.data)
    return doc


# ----------------------------------------------------------------------------------------------
# Saved paths
# ----------------------------------------------------------------------------------------------


def monitor_path(workspace: Workspace, name: str) -> Path:
    """Where a monitored evaluation's path is saved.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> monitor_path(ws, "pilot").relative_to(ws.root).as_posix()
    'evaluations/monitored/pilot.json'
    """
    return workspace.evaluations_dir / MONITOR_FOLDER / f"{name}.json"


def save_monitor(result: MonitorResult, workspace: Workspace) -> Path:
    """Write the path all-or-nothing (a reader sees the previous refresh or this one).

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> r = MonitorResult("pilot", "earnings", "ATE", "m", 0.05, 1000, 0.5, None, [], "", False,
    ...                   None, "")
    >>> path = save_monitor(r, ws)
    >>> path.name, load_monitor(ws, "pilot").outcome
    ('pilot.json', 'earnings')
    """
    return atomic_write(monitor_path(workspace, result.name), result.to_json())


def _previous_looks(workspace: Workspace | None, name: str) -> dict[str, dict]:
    if workspace is None:
        return {}
    path = monitor_path(workspace, name)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    looks = doc.get("looks") if isinstance(doc, dict) else None
    return {str(x.get("label")): x for x in looks or [] if isinstance(x, dict)}


def load_monitor(workspace: Workspace, name: str) -> MonitorResult:
    """A saved monitored evaluation, by name.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> load_monitor(ws, "nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: ...nope.json: no saved monitored evaluation...
    """
    path = monitor_path(workspace, name)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "no saved monitored evaluation of that name",
                             fix="run 'upward monitor SPEC' first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"is damaged ({exc.__class__.__name__})",
                             fix="run 'upward monitor SPEC' again") from None
    return monitor_from_dict(doc)


def monitor_from_dict(doc: dict) -> MonitorResult:
    """Rebuild a :class:`MonitorResult` from its ``to_dict()`` (∞ bounds were saved as null).

    >>> r = MonitorResult("p", "y", "ATE", "m", 0.05, 100, 0.5, None, [Look(
    ...     "w1", "", "", 10, 10, 5, 5, 1.0, -math.inf, math.inf, 0.5, 1.5, None, None)],
    ...     "", False, None, "")
    >>> monitor_from_dict(r.to_dict()).looks[0].upper
    inf
    """
    looks = []
    for x in doc["looks"]:
        x = dict(x)
        for key, fill in (("lower", -math.inf), ("upper", math.inf),
                          ("fixed_lower", -math.inf), ("fixed_upper", math.inf),
                          ("estimate", math.nan)):
            if x.get(key) is None:
                x[key] = fill
        looks.append(Look(**x))
    cost = doc.get("cost")
    if cost is not None:
        span = cost.get("per_unit_outcome_range")
        cost = RunningCost(**{**cost, "per_unit_outcome_range": tuple(span) if span else None})
    fields = {k: v for k, v in doc.items() if k in MonitorResult.__dataclass_fields__}
    return MonitorResult(**{**fields, "looks": looks, "cost": cost})
