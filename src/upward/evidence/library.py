"""The evidence library of a workspace: interventions and studies in ``evidence/library.json``.

One JSON file (an ``upward.evidence.schema.LibraryDocument``) rather than a warehouse table:
the records are nested (a study has arms, checks and effects), the library is small, it travels
between workspaces as a file anyway, and a file written to a temporary name and renamed over the
old one is replaced atomically, so a reader (the web app) sees the old library or the new one,
never half of one. Writers take a lock so two commands cannot interleave.

Every add is all-or-nothing: every record is validated, every reference checked and every
conflict found before anything is written. Each record keeps its provenance: who entered it,
from which file, workspace or bundle, and when.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
>>> lib = EvidenceLibrary(ws)
>>> doc = {"interventions": [{"id": "tutoring", "name": "Tutoring", "policy_area": "education"}],
...        "studies": [{"id": "tutoring-pilot", "intervention_id": "tutoring", "title": "Pilot",
...                     "design": "rct", "citation": "Doe (2024)",
...                     "effects": [{"outcome": "math_score", "measure": "smd",
...                                  "estimate": 0.2, "se": 0.05}]}]}
>>> print(lib.add(doc, by="analyst"))
added 1 intervention(s), 1 study(ies)
>>> lib.study("tutoring-pilot").provenance[0].by
'analyst'
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from upward.core.atomic import atomic_write
from upward.core.errors import InputFileError, UpwardError
from upward.core.locks import file_lock
from upward.evidence.schema import (
    Effect,
    Intervention,
    LibraryDocument,
    ProvenanceEntry,
    Study,
    slugify,
)
from upward.privacy.spreadsheet import restore_text, spreadsheet_safe
from upward.warehouse.workspace import Workspace

LIBRARY_FILE = "library.json"
IDENTITY_FILE = "workspace.json"


class EvidenceNotFoundError(UpwardError):
    """An intervention or study id the library does not hold.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> EvidenceLibrary(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")).study("nope")
    Traceback (most recent call last):
    ...
    upward.evidence.library.EvidenceNotFoundError: ...
    """


class EvidenceConflictError(UpwardError):
    """A record with the same id and different content is already in the library.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> lib = EvidenceLibrary(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
    >>> _ = lib.add({"interventions": [{"id": "a", "name": "Aa", "policy_area": "health"}]})
    >>> lib.add({"interventions": [{"id": "a", "name": "Another", "policy_area": "health"}]})
    Traceback (most recent call last):
    ...
    upward.evidence.library.EvidenceConflictError: ...
    """


def now() -> str:
    """The current UTC time, ISO 8601 to the second.

    >>> now()[4]
    '-'
    """
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_user() -> str:
    """Who is entering records: $UPWARD_USER, else the login name.

    >>> isinstance(current_user(), str)
    True
    """
    try:
        return os.environ.get("UPWARD_USER") or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


@dataclass
class AddResult:
    """What an add or import did.

    >>> print(AddResult(interventions=["a"], studies=["s1", "s2"]))
    added 1 intervention(s), 2 study(ies)
    """

    interventions: list[str] = field(default_factory=list)
    studies: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"added {len(self.interventions)} intervention(s), {len(self.studies)} study(ies)"
        if self.replaced:
            text += f"; replaced {', '.join(self.replaced)}"
        if self.unchanged:
            text += f"; {len(self.unchanged)} already in the library unchanged"
        return text


@dataclass(frozen=True)
class WorkspaceIdentity:
    """The workspace's id (made once, at random) and name (a city or team), which travel with
    its bundles as provenance.

    >>> WorkspaceIdentity("0f3c", "Tulsa").name
    'Tulsa'
    """

    id: str
    name: str


def workspace_identity(workspace: Workspace, *, name: str | None = None) -> WorkspaceIdentity:
    """This workspace's identity, created on first use; ``name`` renames it.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "tulsa-ws")
    >>> workspace_identity(ws).name
    'tulsa-ws'
    """
    path = workspace.evidence_dir / IDENTITY_FILE
    data: dict[str, str] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise InputFileError(path, "not valid JSON", fix="delete it; a new identity is made"
                                 ) from None
    changed = not data.get("id") or (name is not None and name != data.get("name"))
    data.setdefault("id", uuid.uuid4().hex)
    data["name"] = name or data.get("name") or workspace.root.resolve().name
    if changed:
        atomic_write(path, json.dumps(data, indent=2) + "\n")
    return WorkspaceIdentity(data["id"], data["name"])


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic error as (field path, message).

    >>> try:
    ...     Effect(outcome="y", measure="md", estimate="x", se=1)
    ... except ValidationError as exc:
    ...     describe_validation_error(exc)
    ('estimate', 'Input should be a valid number, unable to parse string as a number')
    """
    first = exc.errors()[0]
    where = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return where.replace(".[", "[") or "(record)", message


def _record_label(kind: str, index: int, raw: Any) -> str:
    name = raw.get("id") or raw.get("name") or raw.get("title") if isinstance(raw, dict) else None
    return f"{kind}[{index}]" + (f" ({name!r})" if name else "")


def parse_document(raw: Any, source: str | Path = "<input>") -> LibraryDocument:
    """Validate an evidence document (a dict of interventions and studies, one study, or a list
    of studies), naming the record and field of the first problem.

    >>> parse_document({"studies": [{"title": "x"}]}, "in.json")
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: in.json, column 'intervention_id': record studies[0] ('x'): Field required. What to do: ...
    """
    if isinstance(raw, list):
        raw = {"studies": raw}
    elif isinstance(raw, dict) and "effects" in raw:
        raw = {"studies": [raw]}
    if not isinstance(raw, dict):
        raise InputFileError(source, "expected a JSON object with 'interventions' and 'studies'",
                             fix="see docs/evidence.md for the file format")
    unknown = sorted(set(raw) - set(LibraryDocument.model_fields))
    if unknown:
        raise InputFileError(source, f"unknown top-level key(s) {', '.join(unknown)}",
                             fix="use schema_version, interventions and studies",
                             column=unknown[0])
    parsed: dict[str, list[BaseModel]] = {"interventions": [], "studies": []}
    for kind, model in (("interventions", Intervention), ("studies", Study)):
        records = raw.get(kind, [])
        if not isinstance(records, list):
            raise InputFileError(source, f"{kind!r} must be a list", fix="put records in a list",
                                 column=kind)
        for i, rec in enumerate(records):
            try:
                parsed[kind].append(model.model_validate(rec))
            except ValidationError as exc:
                where, message = describe_validation_error(exc)
                raise InputFileError(
                    source, f"record {_record_label(kind, i, rec)}: {message}",
                    fix="correct that field (schema: docs/evidence.schema.json)", column=where,
                ) from None
    try:
        return LibraryDocument(schema_version=raw.get("schema_version", "1.0"), **parsed)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        raise InputFileError(source, message, fix="use schema_version 1.0", column=where) from None


def _with_ids(doc: LibraryDocument) -> LibraryDocument:
    interventions = [i if i.id else i.model_copy(update={"id": slugify(i.name)})
                     for i in doc.interventions]
    studies = [s if s.id else s.model_copy(update={"id": slugify(f"{s.intervention_id} {s.title}")})
               for s in doc.studies]
    return doc.model_copy(update={"interventions": interventions, "studies": studies})


def content(record: BaseModel) -> dict:
    """A record without its provenance: what decides whether two copies are the same.

    >>> content(Intervention(id="a", name="Aa", policy_area="health"))["name"]
    'Aa'
    """
    return record.model_dump(mode="json", exclude={"provenance"})


class EvidenceLibrary:
    """The evidence library stored in a workspace (``evidence/library.json``).

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> lib = EvidenceLibrary(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
    >>> _ = lib.add({"interventions": [{"id": "a", "name": "Aa", "policy_area": "health"}]})
    >>> [i.id for i in lib.interventions()], lib.studies(), len(lib.export_csv().splitlines())
    (['a'], [], 1)
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.path = workspace.evidence_dir / LIBRARY_FILE

    # reading ---------------------------------------------------------------------------
    def document(self) -> LibraryDocument:
        """Everything in the library (empty before the first add)."""
        if not self.path.is_file():
            return LibraryDocument()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputFileError(self.path, f"the library file is not valid JSON ({exc})",
                                 fix="restore it from an export, or remove it to start again"
                                 ) from None
        return parse_document(raw, self.path)

    def snapshot(self) -> EvidenceLibrary:
        """A read-only copy holding the library as it is now, read once: for work that asks
        many questions of it (recommendations, pages) without re-reading the file each time.

        >>> import tempfile, pathlib
        >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
        >>> EvidenceLibrary(ws).snapshot().document().interventions
        []
        """
        return LibrarySnapshot(self.workspace, self.document())

    def interventions(self, *, policy_area: str | None = None) -> list[Intervention]:
        """The interventions, by name, optionally of one policy area."""
        items = self.document().interventions
        if policy_area:
            items = [i for i in items if i.policy_area == policy_area]
        return sorted(items, key=lambda i: i.name.lower())

    def intervention(self, intervention_id: str) -> Intervention:
        """One intervention; EvidenceNotFoundError listing the ids otherwise."""
        doc = self.document()
        for i in doc.interventions:
            if i.id == intervention_id:
                return i
        known = ", ".join(sorted(i.id for i in doc.interventions)) or "none yet"
        raise EvidenceNotFoundError(f"no intervention {intervention_id!r} in the evidence library",
                                    fix=f"use one of: {known} (upward evidence list)")

    def studies(self, intervention_id: str | None = None, *,
                outcome: str | None = None) -> list[Study]:
        """The studies, optionally of one intervention and with an effect on ``outcome``."""
        items = self.document().studies
        if intervention_id:
            items = [s for s in items if s.intervention_id == intervention_id]
        if outcome:
            items = [s for s in items if any(e.outcome == outcome for e in s.effects)]
        return items

    def study(self, study_id: str) -> Study:
        """One study; EvidenceNotFoundError otherwise."""
        for s in self.document().studies:
            if s.id == study_id:
                return s
        raise EvidenceNotFoundError(f"no study {study_id!r} in the evidence library",
                                    fix="see the study ids with: upward evidence show INTERVENTION")

    def outcomes(self, intervention_id: str | None = None) -> dict[str, str]:
        """Outcome id → label over the studies (of one intervention)."""
        out: dict[str, str] = {}
        for s in self.studies(intervention_id):
            for e in s.effects:
                if not out.get(e.outcome):
                    out[e.outcome] = e.outcome_label
        return {k: v or k for k, v in sorted(out.items())}

    def effects(self, intervention_id: str, outcome: str, *,
                subgroup: str = "all") -> list[tuple[Study, Effect]]:
        """(study, effect) pairs of one intervention on one outcome, for pooling."""
        self.intervention(intervention_id)
        pairs = [(s, s.effect(outcome, subgroup)) for s in self.studies(intervention_id)]
        found = [(s, e) for s, e in pairs if e is not None]
        if not found:
            known = ", ".join(self.outcomes(intervention_id)) or "none"
            raise EvidenceNotFoundError(
                f"no study of {intervention_id!r} reports outcome {outcome!r}"
                + (f" for subgroup {subgroup!r}" if subgroup != "all" else ""),
                fix=f"use one of its outcomes: {known}")
        return found

    # writing ---------------------------------------------------------------------------
    def _locked(self) -> AbstractContextManager[None]:
        return file_lock(self.path.parent / ".library.lock")

    def add(self, records: LibraryDocument | dict | list, *, by: str | None = None,
            action: str = "entered", source_file: str | Path | None = None,
            replace: bool = False, provenance: dict | None = None) -> AddResult:
        """Add interventions and studies, all or nothing.

        A record whose id is already in the library with the same content is left as it is;
        with different content it is a conflict unless ``replace``. Each new record gets a
        provenance entry (``action``, ``by``, now, ``source_file`` and any ``provenance``
        fields such as the origin workspace or bundle).
        """
        label = str(source_file) if source_file else "<input>"
        doc = records if isinstance(records, LibraryDocument) else parse_document(records, label)
        doc = _with_ids(doc)
        entry = ProvenanceEntry(action=action, by=by or current_user(), at=now(),
                                source_file=Path(source_file).name if source_file else None,
                                **(provenance or {}))
        with self._locked():
            current = self.document()
            merged, result = _merge(current, doc, entry, replace=replace, source=label)
            if result.interventions or result.studies or result.replaced:
                atomic_write(self.path, self._checked_text(merged))
        return result

    def remove(self, record_id: str) -> str:
        """Remove a study, or an intervention with all its studies; says what went."""
        with self._locked():
            doc = self.document()
            studies = [s for s in doc.studies if record_id not in (s.id, s.intervention_id)]
            interventions = [i for i in doc.interventions if i.id != record_id]
            gone = len(doc.studies) - len(studies) + len(doc.interventions) - len(interventions)
            if not gone:
                raise EvidenceNotFoundError(f"no intervention or study {record_id!r}",
                                            fix="see the ids with: upward evidence list")
            new = doc.model_copy(update={"studies": studies, "interventions": interventions})
            atomic_write(self.path, self._checked_text(new))
        return f"removed {gone} record(s)"

    def _checked_text(self, doc: LibraryDocument) -> str:
        """The library file's new text, read back and validated whole before it may replace the
        old one, so that no write can leave a library that no longer loads."""
        text = doc.model_dump_json(indent=2, exclude_none=True) + "\n"
        try:
            parse_document(json.loads(text), self.path)
        except InputFileError as exc:
            raise UpwardError(
                f"{self.path}: the change was not saved, because the library would no longer "
                f"load: {exc.message}",
                fix="report this with the command you ran; the library is unchanged",
            ) from None
        return text

    def import_file(self, path: Path, *, by: str | None = None, replace: bool = False) -> AddResult:
        """Add the records of a JSON or CSV evidence file (see docs/evidence.md)."""
        doc = read_evidence_file(Path(path))
        return self.add(doc, by=by, action="imported", source_file=path, replace=replace)

    def export_json(self) -> str:
        """The whole library as a JSON evidence file (restricted-level: every recorded field)."""
        return self.document().model_dump_json(indent=2, exclude_none=True) + "\n"

    def export_csv(self) -> str:
        """The whole library as CSV, one row per effect (the format ``import_file`` reads)."""
        return document_to_csv(self.document())


class LibrarySnapshot(EvidenceLibrary):
    """A library read once (``EvidenceLibrary.snapshot``); it cannot be written.

    >>> import tempfile, pathlib
    >>> from upward.warehouse.workspace import Workspace
    >>> snap = EvidenceLibrary(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")).snapshot()
    >>> snap.interventions()
    []
    >>> snap.add({"interventions": []})
    Traceback (most recent call last):
    ...
    upward.core.errors.UpwardError: a library snapshot is read-only. What to do: add records with EvidenceLibrary(workspace).add
    """

    def __init__(self, workspace: Workspace, doc: LibraryDocument) -> None:
        super().__init__(workspace)
        self._doc = doc

    def document(self) -> LibraryDocument:
        """The library as it was when the snapshot was taken."""
        return self._doc

    def add(self, *args, **kwargs):
        """Refused: a snapshot is read-only."""
        raise UpwardError("a library snapshot is read-only",
                          fix="add records with EvidenceLibrary(workspace).add")

    remove = import_file = add


def _merge(current: LibraryDocument, doc: LibraryDocument, entry: ProvenanceEntry, *,
           replace: bool, source: str) -> tuple[LibraryDocument, AddResult]:
    result = AddResult()
    interventions = {i.id: i for i in current.interventions}
    studies = {s.id: s for s in current.studies}
    for kind, incoming, store in (("intervention", doc.interventions, interventions),
                                  ("study", doc.studies, studies)):
        seen: set[str] = set()
        for rec in incoming:
            if rec.id in seen:
                raise InputFileError(source, f"{kind} id {rec.id!r} appears twice",
                                     fix="give each record its own id", column="id")
            seen.add(rec.id)
            old = store.get(rec.id)
            stamped = rec.model_copy(update={"provenance": [*rec.provenance, entry]})
            if old is None:
                store[rec.id] = stamped
                (result.interventions if kind == "intervention" else result.studies).append(rec.id)
            elif content(old) == content(rec):
                result.unchanged.append(rec.id)
            elif replace:
                store[rec.id] = stamped
                result.replaced.append(rec.id)
            else:
                raise EvidenceConflictError(
                    f"{source}: the library already holds a different {kind} {rec.id!r}",
                    fix="give the new record another id, or pass --replace to overwrite it")
    for s in doc.studies:
        if s.intervention_id not in interventions:
            raise InputFileError(
                source, f"study {s.id!r} refers to intervention {s.intervention_id!r}, which is "
                "neither in the file nor in the library", column="intervention_id",
                fix="add the intervention to the file (interventions: [...]) or fix the id")
    merged = LibraryDocument(interventions=list(interventions.values()),
                             studies=list(studies.values()))
    return merged, result


# CSV ------------------------------------------------------------------------------------
#: CSV column → (record, field, how the cell is read). One row per effect; the intervention
#: and study columns repeat on each row of the same study.
CSV_COLUMNS: dict[str, tuple[str, str, str]] = {
    "intervention_id": ("intervention", "id", "text"),
    "intervention_name": ("intervention", "name", "text"),
    "policy_area": ("intervention", "policy_area", "text"),
    "intervention_description": ("intervention", "description", "text"),
    "target_population": ("intervention", "target_population", "text"),
    "components": ("intervention", "components", "list"),
    "cost_per_participant": ("intervention", "cost_per_participant", "number"),
    "cost_year": ("intervention", "cost_year", "integer"),
    "cost_note": ("intervention", "cost_note", "text"),
    "mvpf": ("intervention", "mvpf", "number"),
    "mvpf_source": ("intervention", "mvpf_source", "text"),
    "take_up": ("intervention", "take_up", "number"),
    "take_up_source": ("intervention", "take_up_source", "text"),
    "program_type": ("intervention", "program_type", "text"),
    "logic_model": ("intervention", "logic_model", "text"),
    "study_id": ("study", "id", "text"),
    "study_title": ("study", "title", "text"),
    "city": ("study", "city", "text"),
    "state": ("study", "state", "text"),
    "period": ("study", "period", "text"),
    "design": ("study", "design", "text"),
    "design_detail": ("study", "design_detail", "text"),
    "sample_size": ("study", "sample_size", "integer"),
    "sample_unit": ("study", "sample_unit", "text"),
    "arms": ("study", "arms", "arms"),
    "attrition_overall": ("study", "attrition_overall", "number"),
    "attrition_differential": ("study", "attrition_differential", "number"),
    "baseline": ("study", "baseline", "baseline"),
    "baseline_adjusted": ("study", "baseline_adjusted", "boolean"),
    "sites": ("study", "sites", "integer"),
    "evaluator": ("study", "evaluator", "text"),
    "citation": ("study", "citation", "text"),
    "url": ("study", "url", "text"),
    "evaluation_id": ("study", "evaluation_id", "text"),
    "synthetic": ("study", "synthetic", "boolean"),
    "study_notes": ("study", "notes", "text"),
    "outcome": ("effect", "outcome", "text"),
    "outcome_label": ("effect", "outcome_label", "text"),
    "measure": ("effect", "measure", "text"),
    "estimate": ("effect", "estimate", "number"),
    "se": ("effect", "se", "number"),
    "ci_low": ("effect", "ci_low", "number"),
    "ci_high": ("effect", "ci_high", "number"),
    "ci_level": ("effect", "ci_level", "number"),
    "p_value": ("effect", "p_value", "number"),
    "follow_up_months": ("effect", "follow_up_months", "number"),
    "n": ("effect", "n", "integer"),
    "n_treated": ("effect", "n_treated", "integer"),
    "n_control": ("effect", "n_control", "integer"),
    "control_mean": ("effect", "control_mean", "number"),
    "baseline_risk": ("effect", "baseline_risk", "number"),
    "estimand": ("effect", "estimand", "text"),
    "unit": ("effect", "unit", "text"),
    "direction": ("effect", "direction", "text"),
    "subgroup": ("effect", "subgroup", "text"),
    "source_location": ("effect", "source_location", "text"),
    "effect_notes": ("effect", "notes", "text"),
    "domain": ("effect", "domain", "text"),
    "population": ("effect", "population", "text"),
    "dollar_year": ("effect", "dollar_year", "integer"),
    "unit_verified": ("effect", "unit_verified", "boolean"),
    "estimate_type": ("effect", "estimate_type", "text"),
    "not_pooled": ("effect", "not_pooled", "text"),
}
REQUIRED_CSV = ("intervention_id", "study_title", "design", "outcome", "measure", "estimate")


def _cell(kind: str, text: str) -> Any:
    text = restore_text(text)
    if kind == "text":
        return text
    if kind == "list":
        return [p.strip() for p in text.split(";") if p.strip()]
    if kind == "number":
        return float(text.replace(",", "").replace("$", ""))
    if kind == "integer":
        value = float(text.replace(",", ""))
        if not value.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        return int(value)
    if kind == "boolean":
        low = text.lower()
        if low not in ("true", "false", "yes", "no", "1", "0"):
            raise ValueError(f"{text!r} is not yes/no")
        return low in ("true", "yes", "1")
    pairs = [p.split(":", 1) for p in text.split(";") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError(f"{text!r} should look like 'name:value; name:value'")
    if kind == "arms":
        return [{"name": k.strip(), "n": _cell("integer", v.strip())} for k, v in pairs]
    return [{"covariate": k.strip(), "std_diff": float(v)} for k, v in pairs]


def _cell_text(kind: str, value: Any) -> str:
    return spreadsheet_safe(_plain_cell_text(kind, value))


def _plain_cell_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "list":
        return "; ".join(value)
    if kind == "arms":
        return "; ".join(f"{a['name']}:{a['n'] if a.get('n') is not None else ''}" for a in value)
    if kind == "baseline":
        return "; ".join(f"{b['covariate']}:{b['std_diff']:g}" for b in value)
    if kind == "boolean":
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and kind == "integer":
        return str(int(value))
    return str(value)


def _group_fields(rows: list[tuple[int, dict]], record: str, key: str, path: Path) -> dict:
    values: dict[str, Any] = {}
    for line, row in rows:
        for column, (target, name, _) in CSV_COLUMNS.items():
            if target != record or column not in row:
                continue
            if name in values and row[column] is not None and values[name] != row[column]:
                raise InputFileError(path, f"{record} {key!r} has a different {column} here than "
                                     "on its first row", row=line, column=column,
                                     fix=f"give the same {column} on every row of the {record}")
            if row[column] is not None:
                values.setdefault(name, row[column])
    return values


def read_evidence_csv(path: Path) -> LibraryDocument:
    """Read a CSV evidence file (one row per effect; columns in ``CSV_COLUMNS``).

    Errors name the file, the line and the column.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("intervention_id,intervention_name,policy_area,study_title,design,"
    ...     "citation,outcome,measure,estimate,se\\nnsw,Supported Work,workforce,NSW,rct,"
    ...     "LaLonde 1986,earnings_annual,md,886,abc\\n")
    >>> read_evidence_csv(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: ...e.csv, row 2, column 'se': could not convert string to float: 'abc'. ...
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot be read ({exc})", fix="save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise InputFileError(path, f"unknown column {unknown[0]!r}", row=1, column=unknown[0],
                             fix=f"use the columns of docs/evidence.md: {', '.join(CSV_COLUMNS)}")
    missing = [c for c in REQUIRED_CSV if c not in header]
    if missing:
        raise InputFileError(path, f"missing column {missing[0]!r}", row=1, column=missing[0],
                             fix=f"add the columns {', '.join(missing)}")
    parsed: list[tuple[int, dict]] = []
    for line, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {}
        for column, text_value in raw.items():
            column = (column or "").strip()
            value = (text_value or "").strip()
            if column not in CSV_COLUMNS or not value:
                row[column] = None
                continue
            try:
                row[column] = _cell(CSV_COLUMNS[column][2], value)
            except ValueError as exc:
                raise InputFileError(path, str(exc), row=line, column=column,
                                     fix=f"give a valid {CSV_COLUMNS[column][2]}") from None
        parsed.append((line, row))
    return _csv_document(parsed, path)


def _csv_document(parsed: list[tuple[int, dict]], path: Path) -> LibraryDocument:
    by_intervention: dict[str, list[tuple[int, dict]]] = {}
    by_study: dict[str, list[tuple[int, dict]]] = {}
    for line, row in parsed:
        for column in ("intervention_id", "study_title", "outcome", "measure", "estimate"):
            if row.get(column) is None:
                raise InputFileError(path, f"{column} is empty", row=line, column=column,
                                     fix=f"give the {column} on every row")
        by_intervention.setdefault(row["intervention_id"], []).append((line, row))
        key = row.get("study_id") or slugify(f"{row['intervention_id']} {row['study_title']}")
        by_study.setdefault(key, []).append((line, row))
    interventions, studies = [], []
    for key, rows in by_intervention.items():
        values = _group_fields(rows, "intervention", key, path)
        if len(values) > 1:  # more than the id: the file declares the intervention
            interventions.append(_validate(Intervention, values, rows[0][0], path))
    for key, rows in by_study.items():
        values = _group_fields(rows, "study", key, path)
        values.setdefault("id", key)
        values["intervention_id"] = rows[0][1]["intervention_id"]
        effects = []
        for line, row in rows:
            eff = {name: row[c] for c, (target, name, _) in CSV_COLUMNS.items()
                   if target == "effect" and row.get(c) is not None}
            effects.append(_validate(Effect, eff, line, path).model_dump(exclude_none=True))
        values["effects"] = effects
        studies.append(_validate(Study, values, rows[0][0], path))
    return LibraryDocument(interventions=interventions, studies=studies)


def _validate(model: type[BaseModel], values: dict, line: int, path: Path):
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        field_name = where.split("[")[0].split(".")[0]
        column = next((c for c, (_, name, _) in CSV_COLUMNS.items() if name == field_name
                       and model.__name__.lower() == CSV_COLUMNS[c][0]), where)
        raise InputFileError(path, f"{model.__name__.lower()}: {message}", row=line, column=column,
                             fix="correct that cell (see docs/evidence.md)") from None


def document_to_csv(doc: LibraryDocument) -> str:
    """One CSV row per effect, with its study's and intervention's columns.

    >>> document_to_csv(LibraryDocument()).splitlines()[0].split(",")[:3]
    ['intervention_id', 'intervention_name', 'policy_area']
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    interventions = {i.id: i.model_dump(mode="json") for i in doc.interventions}
    for s in doc.studies:
        study = s.model_dump(mode="json")
        for e in s.effects:
            sources = {"intervention": interventions.get(s.intervention_id, {"id": s.intervention_id}),
                       "study": study, "effect": e.model_dump(mode="json")}
            writer.writerow({column: _cell_text(kind, sources[target].get(name))
                             for column, (target, name, kind) in CSV_COLUMNS.items()})
    return out.getvalue()


def read_evidence_file(path: Path) -> LibraryDocument:
    """Read a JSON or CSV evidence file, by its suffix.

    >>> read_evidence_file(Path("nope.txt"))
    Traceback (most recent call last):
    ...
    upward.core.errors.InputFileError: nope.txt: not a .json or .csv evidence file. What to do: ...
    """
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise InputFileError(path, "not a .json or .csv evidence file",
                             fix="give a JSON evidence file, a CSV with one row per effect, or a "
                             "signed bundle (.bundle.json)")
    if not path.is_file():
        raise InputFileError(path, "no such file", fix="check the path")
    if suffix == ".csv":
        return read_evidence_csv(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not valid JSON ({exc})", fix="check the file's syntax"
                             ) from None
    return parse_document(raw, path)
