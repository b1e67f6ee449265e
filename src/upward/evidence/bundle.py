"""Signed evidence bundles: how one city's published evidence reaches another's library.

A bundle is a JSON file holding the *published view* of some interventions and studies
(``upward.evidence.publish``: no cell from fewer than 11 people, no raw ids), who made it (the
origin workspace's id and name), a SHA-256 hash of that content and an Ed25519 signature of it
(``cryptography``). Each workspace has one signing key, made on first use in
``secrets/evidence-signing-key.pem``; the public key travels inside every bundle.

Importing checks, before anything is written: the content hash (any edit after signing fails),
the signature (made by the private key of the public key in the bundle), that the signer's key
is trusted (listed in the importing workspace's ``evidence/trusted-keys.json``, or named with
``--trust``), the schema, and disclosure control again. The records then enter the library with
their provenance: origin workspace and name, signer fingerprint and bundle hash.

Examples
--------
>>> import tempfile, pathlib
>>> from upward.warehouse.workspace import Workspace
>>> from upward.evidence.papers import add_papers
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> tulsa, dayton = Workspace.init(root / "tulsa"), Workspace.init(root / "dayton")
>>> _ = add_papers(tulsa)
>>> made = export_bundle(tulsa, root / "tulsa.bundle.json")
>>> print(import_bundle(dayton, made.path, trust=[made.fingerprint]))
added 2 intervention(s), 3 study(ies)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from upward.core.atomic import atomic_write
from upward.core.disclosure import MIN_CELL_SIZE
from upward.core.errors import InputFileError, UpwardError
from upward.evidence.library import (
    AddResult,
    EvidenceLibrary,
    describe_validation_error,
    now,
    parse_document,
    workspace_identity,
)
from upward.evidence.publish import published_document
from upward.evidence.schema import LibraryDocument
from upward.warehouse.workspace import Workspace

FORMAT = "upward-evidence-bundle"
VERSION = 1
KEY_FILE = "evidence-signing-key.pem"
TRUST_FILE = "trusted-keys.json"


class BundleError(UpwardError):
    """A bundle that cannot be imported: tampered, unsigned, untrusted or malformed.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "x.bundle.json").write_text('{"format": "something else"}')
    >>> import_bundle(Workspace.init(root / "ws"), root / "x.bundle.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.evidence.bundle.BundleError: ...
    """


def canonical(payload: dict) -> bytes:
    """The exact bytes that are hashed and signed: sorted keys, no spaces, UTF-8.

    >>> canonical({"b": 1, "a": [1.5, "é"]})
    b'{"a":[1.5,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def fingerprint(public_key: bytes) -> str:
    """A short, readable id of a public key: the first 16 bytes of its SHA-256, in groups.

    >>> fingerprint(bytes(32))
    '66687aad:f862bd77:6c8fc18b:8e9f8e20'
    """
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return ":".join(digest[i:i + 8] for i in range(0, 32, 8))


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_key(workspace: Workspace) -> Ed25519PrivateKey:
    """The workspace's Ed25519 signing key, made (readable by its owner only) on first use.

    >>> import tempfile, pathlib
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws")
    >>> len(public_key_text(ws)) > 40
    True
    """
    path = workspace.secrets_dir / KEY_FILE
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise InputFileError(path, "is not a PEM Ed25519 private key",
                                 fix="restore it from a backup, or remove it to make a new key "
                                 "(bundles signed before then will need the old key trusted)"
                                 ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputFileError(path, "holds a key that is not Ed25519",
                                 fix="remove it to make a new Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    atomic_write(path, pem.decode("ascii"))
    os.chmod(path, 0o600)
    return key


def public_key_text(workspace: Workspace) -> str:
    """This workspace's public key (base64), to give to cities that will import its bundles.

    >>> import base64, tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> key = public_key_text(ws)
    >>> len(base64.b64decode(key)), public_key_text(ws) == key
    (32, True)
    """
    return base64.b64encode(_raw(signing_key(workspace).public_key())).decode("ascii")


@dataclass(frozen=True)
class TrustedKey:
    """A public key whose bundles this workspace accepts.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> k = trusted_keys(ws)[0]
    >>> k.name, k.fingerprint == fingerprint(base64.b64decode(k.public_key))
    ('this workspace', True)
    """

    fingerprint: str
    public_key: str
    name: str
    added_at: str


def trusted_keys(workspace: Workspace) -> list[TrustedKey]:
    """The keys this workspace accepts, its own first.

    >>> import tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> [k.name for k in trusted_keys(ws)], trusted_keys(ws)[0].public_key == public_key_text(ws)
    (['this workspace'], True)
    """
    own = public_key_text(workspace)
    keys = [TrustedKey(fingerprint(base64.b64decode(own)), own, "this workspace", "")]
    path = workspace.evidence_dir / TRUST_FILE
    if path.is_file():
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            keys += [TrustedKey(**e) for e in entries]
        except (json.JSONDecodeError, TypeError) as exc:
            raise InputFileError(path, f"is not a valid trust list ({exc})",
                                 fix="correct it, or remove it and trust the keys again") from None
    return keys


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BundleError(f"{text[:60]!r} is not an Ed25519 public key",
                          fix="give the base64 key printed by 'upward evidence key' (44 "
                          "characters), a file holding it, or its fingerprint")
    return raw


def trust_key(workspace: Workspace, key: str, *, name: str) -> TrustedKey:
    """Add a public key (base64, or a file holding it) to the trust list.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> tulsa, dayton = Workspace.init(root / "tulsa"), Workspace.init(root / "dayton")
    >>> k = trust_key(dayton, public_key_text(tulsa), name="Tulsa")
    >>> [t.name for t in trusted_keys(dayton)], k.fingerprint == trusted_keys(tulsa)[0].fingerprint
    (['this workspace', 'Tulsa'], True)
    """
    text = Path(key).read_text(encoding="utf-8").strip() if Path(key).is_file() else key
    raw = _decode_key(text)
    entry = TrustedKey(fingerprint(raw), base64.b64encode(raw).decode("ascii"), name, now())
    others = [k for k in trusted_keys(workspace)[1:] if k.fingerprint != entry.fingerprint]
    atomic_write(workspace.evidence_dir / TRUST_FILE,
                 json.dumps([k.__dict__ for k in [*others, entry]], indent=2) + "\n")
    return entry


@dataclass
class BundleExport:
    """What an export wrote.

    >>> e = BundleExport(Path("t.bundle.json"), "ab" * 32, "66687aad:f862bd77", 2, 3)
    >>> print(e)
    wrote t.bundle.json: 2 intervention(s), 3 study(ies), sha256 abababababababab…, signed by 66687aad:f862bd77
    """

    path: Path
    sha256: str
    fingerprint: str
    interventions: int
    studies: int
    withheld: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"wrote {self.path}: {self.interventions} intervention(s), {self.studies} "
                f"study(ies), sha256 {self.sha256[:16]}…, signed by {self.fingerprint}")
        if self.withheld:
            text += f"; disclosure control withheld {len(self.withheld)} item(s)"
        return text


def _selected(doc: LibraryDocument, interventions: list[str] | None) -> LibraryDocument:
    if not interventions:
        return doc
    known = {i.id for i in doc.interventions}
    missing = [i for i in interventions if i not in known]
    if missing:
        raise UpwardError(f"no intervention {missing[0]!r} in the evidence library",
                          fix=f"use one of: {', '.join(sorted(known)) or 'none yet'}")
    return LibraryDocument(interventions=[i for i in doc.interventions if i.id in interventions],
                           studies=[s for s in doc.studies if s.intervention_id in interventions])


def build_bundle(workspace: Workspace, *, interventions: list[str] | None = None,
                 include_synthetic: bool = True) -> tuple[dict, list[str]]:
    """The signed bundle (as a dict) of the published view, and what disclosure control
    withheld.

    >>> import tempfile
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws"); _ = add_papers(ws)
    >>> bundle, withheld = build_bundle(ws, interventions=["moving-to-opportunity"])
    >>> payload = bundle["payload"]
    >>> len(payload["document"]["interventions"]), withheld, bundle["payload_sha256"] == (
    ...     hashlib.sha256(canonical(payload)).hexdigest())
    (1, [], True)
    """
    doc = _selected(EvidenceLibrary(workspace).document(), interventions)
    if not include_synthetic:
        doc = doc.model_copy(update={"studies": [s for s in doc.studies if not s.synthetic]})
    view, withheld = published_document(doc)
    identity = workspace_identity(workspace)
    payload = {
        "created_at": now(),
        "origin": {"workspace_id": identity.id, "name": identity.name},
        "disclosure": {"min_cell": MIN_CELL_SIZE, "withheld": withheld},
        "document": view.model_dump(mode="json", exclude_none=True),
    }
    body = canonical(payload)
    key = signing_key(workspace)
    public = _raw(key.public_key())
    bundle = {
        "format": FORMAT,
        "version": VERSION,
        "payload": payload,
        "payload_sha256": hashlib.sha256(body).hexdigest(),
        "signature": {
            "algorithm": "ed25519",
            "public_key": base64.b64encode(public).decode("ascii"),
            "fingerprint": fingerprint(public),
            "value": base64.b64encode(key.sign(body)).decode("ascii"),
        },
    }
    return bundle, withheld


def export_bundle(workspace: Workspace, path: Path | None = None, *,
                  interventions: list[str] | None = None,
                  include_synthetic: bool = True) -> BundleExport:
    """Write a signed bundle of the published evidence (default:
    ``reports/evidence-<workspace>.bundle.json``).

    >>> import tempfile
    >>> from upward.evidence.papers import add_papers
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws"); _ = add_papers(ws)
    >>> made = export_bundle(ws)
    >>> made.path.name, made.interventions, made.studies, is_bundle(made.path)
    ('evidence-ws.bundle.json', 2, 3, True)
    """
    bundle, withheld = build_bundle(workspace, interventions=interventions,
                                    include_synthetic=include_synthetic)
    doc = bundle["payload"]["document"]
    if not doc.get("studies"):
        raise UpwardError("nothing to put in the bundle: the library has no publishable studies",
                          fix="add studies first (upward evidence add …); "
                          + (f"disclosure control withheld: {'; '.join(withheld)}" if withheld
                             else "see upward evidence list"))
    name = bundle["payload"]["origin"]["name"]
    path = Path(path) if path else workspace.reports_dir / f"evidence-{name}.bundle.json"
    atomic_write(path, json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    return BundleExport(path, bundle["payload_sha256"], bundle["signature"]["fingerprint"],
                        len(doc.get("interventions", [])), len(doc["studies"]), withheld)


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose hash, signature and signer have been checked.

    >>> v = VerifiedBundle(LibraryDocument(), "0f3c", "Tulsa", "ab" * 32, "66687aad:f862bd77",
    ...                    "2026-01-05T10:00:00+00:00")
    >>> v.origin_name, v.document.studies
    ('Tulsa', [])
    """

    document: LibraryDocument
    origin_workspace: str
    origin_name: str
    sha256: str
    fingerprint: str
    created_at: str


def _load(path: Path) -> dict:
    try:
        bundle = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "no such file", fix="check the path") from None
    except IsADirectoryError:
        raise InputFileError(path, "this is a folder, not a bundle file",
                             fix="give the .bundle.json file inside it") from None
    except RecursionError:
        raise BundleError(f"{path}: not a bundle (its JSON is nested too deeply)",
                          fix="ask the sender for the .bundle.json file again") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: not a bundle (not valid JSON: {exc})",
                          fix="ask the sender for the .bundle.json file again") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"{path}: not an Upward evidence bundle",
                          fix="import JSON or CSV evidence files with 'upward evidence import' "
                          "too; bundles come from 'upward evidence export --format bundle'")
    if bundle.get("version") != VERSION:
        raise BundleError(f"{path}: bundle version {bundle.get('version')!r}; this Upward "
                          f"reads version {VERSION}", fix="update Upward, or ask for a new bundle")
    return bundle


def _accepted(workspace: Workspace, print_: str, public: bytes, trust: list[str]) -> bool:
    if any(k.fingerprint == print_ for k in trusted_keys(workspace)):
        return True
    for t in trust:
        text = Path(t).read_text(encoding="utf-8").strip() if Path(t).is_file() else t.strip()
        if text == print_ or (len(text) == 44 and _decode_key(text) == public):
            return True
    return False


def verify_bundle(workspace: Workspace, path: Path, *, trust: list[str] | None = None
                  ) -> VerifiedBundle:
    """Check a bundle's hash, signature, signer and content; raise BundleError otherwise.

    >>> import json, tempfile
    >>> from upward.evidence.papers import add_papers
    >>> root = Path(tempfile.mkdtemp())
    >>> tulsa, dayton = Workspace.init(root / "tulsa"), Workspace.init(root / "dayton")
    >>> _ = add_papers(tulsa)
    >>> made = export_bundle(tulsa, root / "t.bundle.json")
    >>> data = json.loads(made.path.read_text())
    >>> data["payload"]["document"]["studies"][0]["title"] = "Edited after signing"
    >>> _ = made.path.write_text(json.dumps(data))
    >>> verify_bundle(dayton, made.path, trust=[made.fingerprint])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upward.evidence.bundle.BundleError: ...
    """
    bundle = _load(path)
    tampered = "the bundle was changed after it was signed; nothing was imported"
    fix = "ask the sender for a fresh copy, and compare its sha256 with theirs"
    try:
        payload = bundle["payload"]
        claimed = bundle["payload_sha256"]
        sig = bundle["signature"]
        public = base64.b64decode(sig["public_key"], validate=True)
        value = base64.b64decode(sig["value"], validate=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("origin", {}), dict):
            raise TypeError("'payload' and its 'origin' must be JSON objects")
        body = canonical(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{path}: the bundle is incomplete ({exc.__class__.__name__}: {exc})",
                          fix=fix) from None
    digest = hashlib.sha256(body).hexdigest()
    if digest != claimed:
        raise BundleError(f"{path}: content hash {digest[:16]}… does not match the recorded "
                          f"{str(claimed)[:16]}…: {tampered}", fix=fix)
    if len(public) != 32:
        raise BundleError(f"{path}: the signer's public key is not an Ed25519 key", fix=fix)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(value, body)
    except InvalidSignature:
        raise BundleError(f"{path}: the signature does not match the content: {tampered}",
                          fix=fix) from None
    print_ = fingerprint(public)
    if sig.get("fingerprint") not in (None, print_):
        raise BundleError(f"{path}: the recorded fingerprint is not the signing key's: {tampered}",
                          fix=fix)
    origin = payload.get("origin", {})
    if not _accepted(workspace, print_, public, trust or []):
        raise BundleError(
            f"{path}: signed by key {print_} ({origin.get('name', 'unknown workspace')}), which "
            "this workspace does not trust; nothing was imported",
            fix=f"check the fingerprint with the sender, then pass --trust {print_} or run "
                f"'upward evidence trust KEY --name \"{origin.get('name', 'sender')}\"'")
    try:
        doc = parse_document(payload.get("document", {}), path)
    except ValidationError as exc:  # pragma: no cover - parse_document converts these
        where, message = describe_validation_error(exc)
        raise BundleError(f"{path}: {where}: {message}", fix=fix) from None
    _, withheld = published_document(doc)
    if withheld:
        raise BundleError(f"{path}: the bundle holds cells that disclosure control withholds "
                          f"({withheld[0]}); nothing was imported",
                          fix="ask the sender to export it again with this version of Upward")
    return VerifiedBundle(doc, str(origin.get("workspace_id", "")), str(origin.get("name", "")),
                          digest, print_, str(payload.get("created_at", "")))


def import_bundle(workspace: Workspace, path: Path, *, trust: list[str] | None = None,
                  by: str | None = None, replace: bool = False) -> AddResult:
    """Verify a bundle and add its records, with provenance, all or nothing.

    >>> import tempfile
    >>> from upward.evidence.papers import add_papers
    >>> root = Path(tempfile.mkdtemp())
    >>> tulsa, dayton = Workspace.init(root / "tulsa"), Workspace.init(root / "dayton")
    >>> _ = add_papers(tulsa)
    >>> made = export_bundle(tulsa, root / "t.bundle.json")
    >>> print(import_bundle(dayton, made.path, trust=[made.fingerprint]))
    added 2 intervention(s), 3 study(ies)
    >>> print(import_bundle(dayton, made.path, trust=[made.fingerprint]))
    added 0 intervention(s), 0 study(ies); 5 already in the library unchanged
    """
    verified = verify_bundle(workspace, Path(path), trust=trust)
    return EvidenceLibrary(workspace).add(
        verified.document, by=by, action="bundle", source_file=path, replace=replace,
        provenance={"origin_workspace": verified.origin_workspace,
                    "origin_name": verified.origin_name, "bundle_sha256": verified.sha256,
                    "signer_fingerprint": verified.fingerprint})


def is_bundle(path: Path) -> bool:
    """Whether a file is a bundle (by name, else by its ``format`` key).

    >>> is_bundle(Path("x.bundle.json")), is_bundle(Path("missing.json"))
    (True, False)
    """
    if Path(path).name.endswith(".bundle.json"):
        return True
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return f'"format": "{FORMAT}"' in head or f'"format":"{FORMAT}"' in head
