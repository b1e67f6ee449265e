"""Run an evaluation: read the spec (YAML), check it against its design, read, validate and hash
the program data, estimate, attach the cost analysis and save the result in the workspace.

Results are saved as JSON in ``<workspace>/evaluations/<name>-<UTC timestamp>.json``; the
name is the spec's ``name:``, else the spec file's name. A run without a workspace is not saved
and hashes identifiers with a key that lives only for that run.

Examples
--------
>>> result = evaluate("pilot.yaml", workspace="upward-workspace")  # doctest: +SKIP
>>> print(result.headline())  # doctest: +SKIP
ATE on earnings_q4: 487 (95% CI 201 to 773), p = 0.0009, n = 1,846
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import yaml
from pydantic import ValidationError

from upward.core.atomic import atomic_write
from upward.core.errors import ConfigError, InputFileError, UpwardError, WorkspaceError
from upward.evaluate.cost import analyse_cost
from upward.evaluate.designs import Design, OptionError, get_design
from upward.evaluate.programs import (
    PROGRAM_OPTIONS,
    IdHasher,
    ProgramData,
    ProgramFile,
    as_text_cells,
    prepare_program,
    read_program_file,
)
from upward.evaluate.result import SCHEMA_VERSION, Check, EvaluationResult
from upward.evaluate.spec import EvaluationSpec
from upward.warehouse.workspace import Workspace

SPEC_KEYS = tuple(EvaluationSpec.model_fields)


@dataclass(frozen=True)
class LoadedSpec:
    """A spec read from a file, with the line of each key (for error messages).

    >>> LoadedSpec(EvaluationSpec(data="p.csv", design="rct", outcome="y"), None, {}).line("x")
    """

    spec: EvaluationSpec
    path: Path | None
    lines: dict[tuple, int]
    data_as_written: str | None = None

    def line(self, *key: str | int) -> int | None:
        """The line where ``key`` (a path of keys) is written, or None.

        >>> LoadedSpec(EvaluationSpec(data="p.csv", design="rct", outcome="y"), None,
        ...            {("design",): 3}).line("design")
        3
        """
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def where(self, *key: str | int) -> str:
        """``file, line N`` for messages (``spec`` when built in Python).

        >>> LoadedSpec(EvaluationSpec(data="p.csv", design="rct", outcome="y"), Path("s.yaml"),
        ...            {("outcome",): 4}).where("outcome")
        's.yaml, line 4'
        """
        place = str(self.path) if self.path else "spec"
        line = self.line(*key) if key else None
        return f"{place}, line {line}" if line else place


@dataclass
class EvaluationRun:
    """What one run produced: the result and where it was saved (None when not saved).

    >>> import numpy as np
    >>> df = pd.DataFrame({"d": [0, 1] * 30, "y": np.arange(60.0) % 7 + [0, 3] * 30})
    >>> run = run_evaluation({"data": "p.csv", "design": "rct", "outcome": "y", "treatment": "d",
    ...                       "options": {"permutations": 0}}, data=df, save=False)
    >>> run.saved_to, run.program.n_rows, round(run.result.estimate, 2)
    (None, 60, 3.07)
    """

    result: EvaluationResult
    saved_to: Path | None
    program: ProgramData


@dataclass(frozen=True)
class SavedEvaluation:
    """One saved result, as listed by ``upward evaluations``.

    >>> SavedEvaluation("pilot-20250101T000000Z", Path("p.json"), "rct", "y", "ATE", 1.0,
    ...                 0.5, 1.5, "2025-01-01T00:00:00+00:00", 0).design
    'rct'
    """

    name: str
    path: Path
    design: str
    outcome: str
    estimand: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    generated_at: str
    failed_checks: int


# ----------------------------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------------------------


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and validate a YAML spec; errors name the file, the line and the key.

    ``data:`` is resolved relative to the spec file's folder.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "s.yaml").write_text("data: pilot.csv\\ndesign: rct\\noutcom: y\\n")
    >>> load_spec(d / "s.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: .../s.yaml, line 3: 'outcom' is not a spec key. What to do: did you mean 'outcome'? ...
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "the spec file does not exist",
                             fix="check the path; 'upward demo' writes example specs to "
                             "<workspace>/demo-data/pilot/")
    text = _read_spec_text(path)
    try:
        _check_aliases(path, text)
        raw = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(f"{path}: the YAML is nested too deeply to be a spec",
                          fix="a spec is a flat list of 'key: value' lines; see docs/evaluate.md"
                          ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and (mark is None or start.line != mark.line):
            problem += f"; {context} started on line {start.line + 1}"
        raise ConfigError(f"{path}{line}: not valid YAML ({problem})",
                          fix="check the indentation and the colons on that line") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a spec is a list of 'key: value' lines",
                          fix="start from an example in docs/evaluate.md")
    lines = _key_lines(node)
    loaded = spec_from_mapping(raw, path=path, lines=lines)
    data = Path(loaded.spec.data)
    if not data.is_absolute():
        data = path.parent / data
    return LoadedSpec(loaded.spec.model_copy(update={"data": data}), path, lines,
                      str(loaded.spec.data))


#: A spec is a few dozen lines; anything far larger is not one (and YAML can expand badly).
MAX_SPEC_BYTES = 1_000_000
#: YAML aliases (``*name``) a spec may use; an "alias bomb" expands a few lines into billions.
MAX_SPEC_ALIASES = 10
#: Bracket nesting a spec may use (PyYAML's parser slows quadratically with depth).
MAX_SPEC_NESTING = 20


def _read_spec_text(path: Path) -> str:
    """The spec's text, refused when too large or not UTF-8 text.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_bytes(b"\\x89PNG\\r\\n\\x1a\\n\\x00")
    >>> _read_spec_text(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: .../s.yaml: not a text file (a spec is YAML text)...
    """
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise ConfigError(f"{path}: {size:,} bytes is too large for a spec "
                          f"(at most {MAX_SPEC_BYTES:,})",
                          fix="a spec names the data file; it does not hold the data")
    data = path.read_bytes()
    if b"\x00" in data:
        raise ConfigError(f"{path}: not a text file (a spec is YAML text)",
                          fix="give the .yaml spec, not the data file; see docs/evaluate.md")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1})",
                          fix="save the spec as UTF-8") from None


def _check_aliases(path: Path, text: str) -> None:
    """Refuse a spec nested or aliased beyond what any real spec needs (an alias bomb).

    >>> _check_aliases(Path("s.yaml"), "a: &x 1\\nb: *x\\n")
    >>> bomb = "a: &a [1,1]\\n" + "".join(f"{k}: &{k} [*{p},*{p}]\\n" for p, k in zip("abcdefgh", "bcdefghi"))
    >>> _check_aliases(Path("s.yaml"), bomb * 10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: s.yaml, line ...: more than 10 YAML aliases ...
    """
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > MAX_SPEC_NESTING:
        raise ConfigError(f"{path}: the YAML is nested too deeply to be a spec "
                          f"({deepest} levels of brackets)",
                          fix="a spec is a flat list of 'key: value' lines; see docs/evaluate.md")
    count = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            count += 1
            if count > MAX_SPEC_ALIASES:
                raise ConfigError(
                    f"{path}, line {event.start_mark.line + 1}: more than {MAX_SPEC_ALIASES} "
                    "YAML aliases (*name); a spec needs few or none",
                    fix="write the values out instead of repeating anchors")


def spec_from_mapping(raw: dict, *, path: Path | None = None,
                      lines: dict[tuple, int] | None = None) -> LoadedSpec:
    """Validate a mapping as a spec; a ConfigError names the key (and its line).

    >>> spec_from_mapping({"data": "p.csv", "design": "rct", "outcome": "y"}).spec.design
    'rct'
    >>> spec_from_mapping({"data": "p.csv", "outcome": "y"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: spec: key 'design' is missing. ...
    """
    lines = lines or {}
    shell = LoadedSpec(EvaluationSpec.model_construct(), path, lines)
    try:
        spec = EvaluationSpec.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(exc, shell) from None
    return LoadedSpec(spec, path, lines)


def _spec_error(exc: ValidationError, shell: LoadedSpec) -> ConfigError:
    # A mistyped key also makes the intended key "missing": report the typo first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc)
    where = shell.where(*loc)
    if first["type"] == "extra_forbidden":
        known = SPEC_KEYS if len(loc) == 1 else tuple(_model_at(loc[:-1]).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return ConfigError(f"{where}: {key!r} is not a spec key",
                           fix=f"{hint}keys{' of ' + '.'.join(map(str, loc[:-1])) if len(loc) > 1 else ''}"
                           f": {', '.join(known)} (docs/evaluate.md)")
    if first["type"] == "missing":
        return ConfigError(f"{where}: key {key!r} is missing",
                           fix=f"add '{loc[-1]}: …' to the spec (docs/evaluate.md lists every key)")
    return ConfigError(f"{where}: {key}: {first['msg']}",
                       fix="correct the value (docs/evaluate.md describes each key)")


def _model_at(loc: tuple):
    from upward.evaluate.spec import CostSpec, LinkSpec, MonitorSpec

    return {("cost",): CostSpec, ("monitor",): MonitorSpec, ("link",): LinkSpec}.get(
        tuple(map(str, loc)), EvaluationSpec)


def _key_lines(node, prefix: tuple = ()) -> dict[tuple, int]:
    lines: dict[tuple, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines[path] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*prefix, i)] = item.start_mark.line + 1
            lines.update(_key_lines(item, (*prefix, i)))
    return lines


def as_loaded(spec: EvaluationSpec | LoadedSpec | str | Path | dict) -> LoadedSpec:
    """Any accepted form of a spec as a :class:`LoadedSpec`.

    >>> as_loaded({"data": "p.csv", "design": "rct", "outcome": "y"}).path is None
    True
    """
    if isinstance(spec, LoadedSpec):
        return spec
    if isinstance(spec, EvaluationSpec):
        return LoadedSpec(spec, None, {})
    if isinstance(spec, dict):
        return spec_from_mapping(spec)
    return load_spec(spec)


def design_for(loaded: LoadedSpec) -> Design:
    """The spec's design, its required fields and options checked; errors name the spec file.

    >>> design_for(as_loaded({"data": "p.csv", "design": "nope", "outcome": "y"}))
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: spec: design: 'nope' is not a design. ...
    """
    spec = loaded.spec
    try:
        design = get_design(spec.design)
    except ConfigError as exc:
        raise ConfigError(f"{loaded.where('design')}: {exc.message}", fix=exc.fix) from None
    try:
        design.check_spec(design_spec(spec))
    except OptionError as exc:
        raise ConfigError(f"{loaded.where('options', exc.option)}: {exc.message}",
                          fix=exc.fix) from None
    except ConfigError as exc:
        raise ConfigError(f"{loaded.where()}: {exc.message}", fix=exc.fix) from None
    return design


def design_spec(spec: EvaluationSpec, program: ProgramData | None = None) -> EvaluationSpec:
    """The spec as its design sees it: the plumbing's options removed and, once the data are
    loaded, ``treated_unit`` hashed and ``treatment_start`` in the data's period numbers.

    >>> s = EvaluationSpec(data="p.csv", design="rct", outcome="y", options={"sheet": "2024"})
    >>> design_spec(s).options
    {}
    """
    update: dict = {"options": {k: v for k, v in spec.options.items()
                                if k not in PROGRAM_OPTIONS}}
    if program is not None:
        update["treated_unit"] = program.treated_unit
        update["treatment_start"] = program.treatment_start
    return spec.model_copy(update=update)


def public_spec(spec: EvaluationSpec, written_data: str, program: ProgramData) -> dict:
    """The spec as saved with a result: the data path as written, identifiers hashed.

    >>> public_spec(EvaluationSpec(data="/x/p.csv", design="rct", outcome="y"), "p.csv",
    ...             ProgramData(pd.DataFrame(), "p.csv"))["data"]
    'p.csv'
    """
    doc = spec.model_dump(mode="json", exclude_none=True)
    doc["data"] = written_data
    if spec.treated_unit:
        doc["treated_unit"] = program.treated_unit
    return doc


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


def evaluate(
    spec: EvaluationSpec | LoadedSpec | str | Path | dict,
    workspace: Workspace | str | Path | None = None,
    *,
    data: pd.DataFrame | None = None,
    save: bool = True,
) -> EvaluationResult:
    """Run an evaluation from a YAML spec file (or an ``EvaluationSpec``, optionally with the
    data as a DataFrame) and return its result, saved in the workspace when one is given.

    >>> evaluate("pilot.yaml", workspace="upward-workspace").headline()  # doctest: +SKIP
    """
    return run_evaluation(spec, workspace, data=data, save=save).result


def run_evaluation(
    spec: EvaluationSpec | LoadedSpec | str | Path | dict,
    workspace: Workspace | str | Path | None = None,
    *,
    data: pd.DataFrame | None = None,
    save: bool = True,
) -> EvaluationRun:
    """Like :func:`evaluate`, also returning where the result was saved and the loaded data.

    >>> import numpy as np
    >>> df = pd.DataFrame({"d": [0, 1] * 30, "y": np.arange(60.0) % 7 + [0, 3] * 30})
    >>> run = run_evaluation({"data": "p.csv", "design": "rct", "outcome": "y", "treatment": "d",
    ...                       "options": {"permutations": 0}}, data=df, save=False)
    >>> run.result.design, run.result.n, run.saved_to
    ('rct', 60, None)
    """
    loaded = as_loaded(spec)
    if loaded.spec.monitor is not None and data is None:
        raise ConfigError(f"{loaded.where('monitor')}: this spec declares a monitored "
                          "evaluation, whose data arrive week by week",
                          fix="run 'upward monitor SPEC' (or 'upward evaluate SPEC --monitor'; "
                          "from Python, upward.evaluate.monitor.monitor)")
    written_data = loaded.data_as_written or str(loaded.spec.data)
    ws = _workspace(workspace)
    design = design_for(loaded)
    hasher = IdHasher.for_workspace(ws.secrets_dir) if ws else IdHasher.ephemeral()
    program = load_program(loaded, hasher, data=data)
    require_variation(program.frame, loaded)
    to_design = design_spec(loaded.spec, program)
    result = design.estimate(program.frame, to_design)
    result.spec = public_spec(loaded.spec, written_data, program)
    result.warnings = [*result.warnings, *program.notes]
    if loaded.spec.cost is not None:
        result.cost = analyse_cost(result, loaded.spec.cost, program.frame, to_design).to_dict()
    saved = save_result(result, ws, name_of(loaded)) if ws and save else None
    return EvaluationRun(result, saved, program)


def require_variation(frame: pd.DataFrame, loaded: LoadedSpec) -> None:
    """Refuse an outcome that takes one value in every record: no effect can be estimated
    from it, and an estimate of 0 with no standard error would read as a finding.

    >>> spec = as_loaded({"data": "p.csv", "design": "rct", "outcome": "y"})
    >>> require_variation(pd.DataFrame({"y": [1.0, 2.0]}), spec)
    >>> require_variation(pd.DataFrame({"y": [5.0, 5.0, None]}), spec)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: ...the outcome 'y' is 5 in all 2 records that have a value...
    """
    outcome = loaded.spec.outcome
    if outcome not in frame.columns:
        return
    values = pd.to_numeric(frame[outcome], errors="coerce").dropna()
    if len(values) and values.nunique() == 1:
        raise ConfigError(
            f"{loaded.where('outcome')}: the outcome {outcome!r} is {values.iloc[0]:g} in all "
            f"{len(values):,} records that have a value, so no effect can be estimated from it",
            fix="check that 'outcome:' names the right column and that the data hold the "
            "follow-up values")


def _workspace(workspace: Workspace | str | Path | None) -> Workspace | None:
    if workspace is None or isinstance(workspace, Workspace):
        return workspace
    return Workspace.open(Path(workspace))


def load_program(loaded: LoadedSpec, hasher: IdHasher, *,
                 data: pd.DataFrame | None = None) -> ProgramData:
    """Read (or take) the program data and validate and hash it for the spec.

    >>> df = pd.DataFrame({"d": [0, 1], "y": [1.5, 2.5]})
    >>> program = load_program(as_loaded({"data": "p.csv", "design": "rct", "outcome": "y",
    ...                                   "treatment": "d"}), IdHasher.ephemeral(), data=df)
    >>> program.n_rows, program.source, program.frame["y"].tolist()
    (2, 'data (DataFrame)', [1.5, 2.5])
    """
    spec = loaded.spec
    notes: list[str] = []
    if data is None and spec.link is not None:
        from upward.evaluate.linkage import link_for_spec

        linked = link_for_spec(loaded)
        data, notes = linked.linked, [linked.quality.summary(), *linked.quality.notes]
    if data is not None:
        file = ProgramFile(as_text_cells(data), "data (DataFrame)" if not notes
                           else f"{spec.data} linked to {spec.link.outcomes}", header_rows=0)
    else:
        try:
            file = read_program_file(spec.data, spec.options)
        except InputFileError as exc:
            if Path(spec.data).is_file():
                raise
            raise InputFileError(exc.path, "the data file named by 'data:' does not exist",
                                 fix=f"check 'data:' at {loaded.where('data')}; a relative "
                                 "path is read from the spec file's folder") from None
    program = prepare_program(file, spec, hasher, source=file.path)
    program.notes = [*notes, *program.notes]
    start = program.treatment_start
    if isinstance(start, date | datetime | str) and not _is_number(start):
        raise ConfigError(f"{loaded.where('treatment_start')}: treatment_start {start!s} is a "
                          "date but the time column holds period numbers",
                          fix="write treatment_start as a period number, like the time column")
    return program


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def name_of(loaded: LoadedSpec) -> str:
    """The name results of this spec are saved under: ``name:``, else the spec file's name,
    else design and outcome; lower case, letters, digits and hyphens.

    >>> name_of(as_loaded({"data": "p.csv", "design": "rct", "outcome": "Earnings Q4"}))
    'rct-earnings-q4'
    """
    spec = loaded.spec
    name = spec.name or (loaded.path.stem if loaded.path else f"{spec.design}-{spec.outcome}")
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "evaluation"


# ----------------------------------------------------------------------------------------------
# Saved results
# ----------------------------------------------------------------------------------------------


def save_result(result: EvaluationResult, workspace: Workspace, name: str) -> Path:
    """Write ``result`` as JSON to ``evaluations/<name>-<UTC timestamp>.json`` (atomically).

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10)
    >>> save_result(r, ws, "pilot").parent.name
    'evaluations'
    """
    folder = workspace.evaluations_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{name}-{stamp}.json"
    counter = 2
    while target.exists():
        target = folder / f"{name}-{stamp}-{counter}.json"
        counter += 1
    return atomic_write(target, result.to_json())


def list_evaluations(workspace: Workspace) -> list[SavedEvaluation]:
    """Every saved result in the workspace, oldest first.

    >>> import tempfile, pathlib
    >>> list_evaluations(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
    []
    """
    folder = workspace.evaluations_dir
    if not folder.is_dir():
        return []
    saved = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(doc, dict) or "design" not in doc:
            continue
        saved.append(SavedEvaluation(
            path.stem, path, doc.get("design", ""), doc.get("outcome", ""),
            doc.get("estimand", ""), doc.get("estimate"), doc.get("ci_low"), doc.get("ci_high"),
            doc.get("generated_at", ""),
            sum(1 for c in doc.get("checks", []) if c.get("passed") is False)))
    return sorted(saved, key=lambda s: (s.generated_at, s.name))


def load_evaluation(ref: str | Path, workspace: Workspace | None = None) -> EvaluationResult:
    """A saved result, by file path, by saved name, or by spec name (the latest run).

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, None, None, None, None, 10)
    >>> _ = save_result(r, ws, "pilot")
    >>> load_evaluation("pilot", ws).estimate
    1.0
    """
    path = Path(ref)
    if not path.is_file():
        if workspace is None:
            raise InputFileError(path, "no such saved result", fix="give the JSON file's path")
        matches = [s for s in list_evaluations(workspace)
                   if s.name == str(ref) or re.fullmatch(rf"{re.escape(str(ref))}-\d{{8}}T\d{{6}}Z(-\d+)?",
                                                       s.name)]
        if not matches:
            names = sorted({re.sub(r"-\d{8}T\d{6}Z(-\d+)?$", "", s.name)
                            for s in list_evaluations(workspace)})
            raise WorkspaceError(f"no saved evaluation {str(ref)!r} in {workspace.evaluations_dir}",
                                 fix="run 'upward evaluations' to list them"
                                 + (f" (names: {', '.join(names)})" if names else ""))
        path = matches[-1].path
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"is not a saved evaluation ({exc.__class__.__name__})",
                             fix="give a JSON file written by 'upward evaluate'") from None
    return result_from_dict(doc, source=str(path))


def result_from_dict(doc: dict, *, source: str = "result") -> EvaluationResult:
    """Rebuild an :class:`EvaluationResult` from its ``to_dict()``.

    >>> r = EvaluationResult("rct", "m", "y", "ATE", 1.0, 0.1, 0.8, 1.2, 0.001, 10,
    ...                      checks=[Check("balance", True, "ok")])
    >>> result_from_dict(r.to_dict()).checks[0].name
    'balance'
    """
    if not isinstance(doc, dict) or "design" not in doc or "estimate" not in doc:
        raise InputFileError(source, "is not a saved evaluation",
                             fix="give a JSON file written by 'upward evaluate'")
    version = str(doc.get("schema_version", SCHEMA_VERSION))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise UpwardError(f"{source}: written with result schema {version}; this version of "
                          f"Upward reads {SCHEMA_VERSION}", fix="run the evaluation again")
    names = {f.name for f in dataclasses.fields(EvaluationResult)}
    fields = {k: v for k, v in doc.items() if k in names}
    fields["checks"] = [Check(**c) for c in doc.get("checks", [])]
    return EvaluationResult(**fields)
