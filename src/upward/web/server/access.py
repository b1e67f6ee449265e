"""The one data-access layer for restricted data: every read and change of a tenant's program
files, evaluations, members and audit log goes through a :class:`TenantAccess`, which is only
made by :func:`open_tenant` after it has checked who is asking.

Rules, enforced here and nowhere else:

- nobody signed in → :class:`NotSignedIn` (401), for every tenant, existing or not;
- a user who is not a member of the tenant → :class:`NotFound` (404): another city's tenant
  looks exactly like one that does not exist;
- a member whose role is below what is asked → :class:`Forbidden` (403);
- every query filters on the tenant's id, so an id of another tenant's dataset or evaluation
  is not found (404) rather than read;
- viewers see published evaluations only; analysts upload, preview, load and evaluate program
  files; admins also publish results and read the members and the audit log;
- every read, export and change of restricted data is written to the append-only audit log in
  the same transaction as the change.

Examples
--------
>>> NotSignedIn().status, Forbidden("x").status, NotFound("x").status
(401, 403, 404)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from upward.core.errors import ConfigError, UpwardError
from upward.web.server import db
from upward.web.server.accounts import Principal, now, role_at_least
from upward.web.server.uploads import CheckedUpload, read_cells

#: Spec fields an analyst fills in on the evaluation form (the rest keep their defaults).
#: A pending upload not confirmed within this many hours is removed (with an audit entry) the
#: next time anyone in its workspace lists or uploads program files.
PENDING_UPLOAD_HOURS = 24

FORM_FIELDS = ("name", "design", "outcome", "treatment", "unit", "time", "post", "cohort",
               "treatment_start", "treated_unit", "running", "cutoff", "covariates", "cluster",
               "weights")


class AccessError(UpwardError):
    """A request for restricted data that is refused; ``status`` is the HTTP status.

    >>> issubclass(NotFound, AccessError), AccessError("refused").status
    (True, 403)
    """

    status = 403


class NotSignedIn(AccessError):
    """Nobody is signed in (or the session or token is not valid).

    >>> e = NotSignedIn()
    >>> e.status, isinstance(e, AccessError)
    (401, True)
    """

    status = 401

    def __init__(self) -> None:
        super().__init__("this page holds restricted data and needs you to sign in",
                         fix="sign in at /login (programs: send 'Authorization: Bearer TOKEN')")


class Forbidden(AccessError):
    """Signed in, a member, but the role does not allow this.

    >>> Forbidden("publishing results").status
    403
    """

    status = 403

    def __init__(self, what: str) -> None:
        super().__init__(f"your role does not allow you to {what}",
                         fix="ask an administrator of this city's workspace")


class NotFound(AccessError):
    """No such tenant, dataset or evaluation -- for this user.

    >>> e = NotFound("evaluation 7")
    >>> e.status, "evaluation 7" in str(e)
    (404, True)
    """

    status = 404

    def __init__(self, what: str) -> None:
        super().__init__(f"there is no {what} here", fix="check the address")


def open_tenant(engine: Engine, principal: Principal | None, slug: str,
                min_role: str) -> TenantAccess:
    """Access to tenant ``slug`` for ``principal``, who must hold at least ``min_role``."""
    if principal is None:
        raise NotSignedIn()
    with engine.connect() as conn:
        tenant = conn.execute(sa.select(db.tenants).where(db.tenants.c.slug == slug)).first()
    role = principal.role_in(tenant.id) if tenant is not None else None
    if role is None:
        raise NotFound("such workspace")
    access = TenantAccess(engine, principal, tenant.id, tenant.slug, tenant.name, role)
    access.need(min_role, "open this page")
    return access


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class TenantAccess:
    """What one signed-in member may do in one tenant. Made only by :func:`open_tenant`.

    >>> from upward.web.server.accounts import Principal
    >>> a = TenantAccess(None, Principal(1, "ana", {3: "analyst"}), 3, "tulsa", "Tulsa", "analyst")
    >>> a.can("viewer"), a.can("analyst"), a.can("admin")
    (True, True, False)
    """

    engine: Engine
    principal: Principal
    tenant_id: int
    slug: str
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this member holds at least ``role``."""
        return role_at_least(self.role, role)

    def need(self, role: str, what: str) -> None:
        """Forbidden unless this member holds at least ``role``."""
        if not self.can(role):
            raise Forbidden(what)

    def _audit(self, conn: Connection, action: str, kind: str, object_id, detail: str) -> None:
        conn.execute(sa.insert(db.audit).values(
            at=now(), user_id=self.principal.user_id, username=self.principal.username,
            tenant_id=self.tenant_id, action=action, object_kind=kind,
            object_id=None if object_id is None else str(object_id), detail=detail[:2000]))

    # -- program files ---------------------------------------------------------------------

    _LISTED = (db.datasets.c.id, db.datasets.c.name, db.datasets.c.size, db.datasets.c.n_rows,
               db.datasets.c.columns, db.datasets.c.status, db.datasets.c.created_at,
               db.datasets.c.sha256)

    def datasets(self) -> list[dict]:
        """The tenant's program files (analysts): loaded ones, and the caller's pending ones."""
        self.need("analyst", "see program files")
        with self.engine.begin() as conn:
            self._expire_pending(conn)
            rows = conn.execute(sa.select(*self._LISTED).where(
                db.datasets.c.tenant_id == self.tenant_id,
                sa.or_(db.datasets.c.status == "loaded",
                       db.datasets.c.uploaded_by == self.principal.user_id))
                .order_by(db.datasets.c.id.desc())).all()
            self._audit(conn, "read", "dataset", None, f"listed {len(rows)} program files")
        return [dict(r._mapping) for r in rows]

    def _dataset_row(self, conn: Connection, dataset_id: int, *, content: bool = False):
        cols = (*self._LISTED, db.datasets.c.suffix,
                *((db.datasets.c.content,) if content else ()))
        row = conn.execute(sa.select(*cols).where(
            db.datasets.c.id == dataset_id, db.datasets.c.tenant_id == self.tenant_id,
            sa.or_(db.datasets.c.status == "loaded",
                   db.datasets.c.uploaded_by == self.principal.user_id))).first()
        if row is None:
            raise NotFound("such program file")
        return row

    def dataset(self, dataset_id: int) -> dict:
        """One program file's description and preview (analysts; audited as a read)."""
        self.need("analyst", "see program files")
        with self.engine.begin() as conn:
            row = self._dataset_row(conn, dataset_id, content=True)
            self._audit(conn, "read", "dataset", dataset_id, f"previewed {row.name}")
        out = {k: v for k, v in row._mapping.items() if k != "content"}
        cells = read_cells(row.name, row.suffix, bytes(row.content)).head(10)
        out["preview"] = cells.fillna("").astype(str).to_dict("records")
        return out

    def export_dataset(self, dataset_id: int) -> tuple[str, bytes]:
        """A program file's bytes, as uploaded (analysts; audited as an export)."""
        self.need("analyst", "download program files")
        with self.engine.begin() as conn:
            row = self._dataset_row(conn, dataset_id, content=True)
            self._audit(conn, "export", "dataset", dataset_id, f"downloaded {row.name}")
        return row.name, bytes(row.content)

    def stage_upload(self, checked: CheckedUpload) -> int:
        """Store a checked upload as pending (visible to its uploader only) in one transaction;
        its id."""
        self.need("analyst", "upload program files")
        with self.engine.begin() as conn:
            self._expire_pending(conn)
            dataset_id = conn.execute(sa.insert(db.datasets).values(
                tenant_id=self.tenant_id, name=checked.name, suffix=checked.suffix,
                size=len(checked.content), sha256=checked.sha256, n_rows=checked.n_rows,
                columns=checked.columns, content=checked.content, status="pending",
                uploaded_by=self.principal.user_id, created_at=now())
                .returning(db.datasets.c.id)).scalar_one()
            self._audit(conn, "change", "dataset", dataset_id,
                        f"uploaded {checked.name} ({checked.n_rows} records, pending)")
        return dataset_id

    def _expire_pending(self, conn: Connection) -> int:
        """Remove this workspace's uploads left pending longer than ``PENDING_UPLOAD_HOURS``
        (an abandoned preview keeps a resident-level file otherwise); each removal is
        audited. How many were removed."""
        cutoff = now() - timedelta(hours=PENDING_UPLOAD_HOURS)
        stale = conn.execute(sa.delete(db.datasets).where(
            db.datasets.c.tenant_id == self.tenant_id, db.datasets.c.status == "pending",
            db.datasets.c.created_at < cutoff)
            .returning(db.datasets.c.id, db.datasets.c.name, db.datasets.c.created_at)).all()
        for row in stale:
            self._audit(conn, "change", "dataset", row.id,
                        f"removed pending upload {row.name} (uploaded "
                        f"{row.created_at:%Y-%m-%d %H:%M} UTC, not loaded within "
                        f"{PENDING_UPLOAD_HOURS} hours)")
        return len(stale)

    def confirm(self, dataset_id: int) -> None:
        """Load a pending upload after its preview (its uploader only)."""
        self.need("analyst", "load program files")
        with self.engine.begin() as conn:
            row = self._dataset_row(conn, dataset_id)
            if row.status == "pending":
                conn.execute(sa.update(db.datasets).where(db.datasets.c.id == dataset_id,
                                                          db.datasets.c.tenant_id == self.tenant_id)
                             .values(status="loaded"))
                self._audit(conn, "change", "dataset", dataset_id, f"loaded {row.name}")

    def discard(self, dataset_id: int) -> None:
        """Remove a pending upload (its uploader only); a loaded file stays."""
        self.need("analyst", "discard uploads")
        with self.engine.begin() as conn:
            row = self._dataset_row(conn, dataset_id)
            if row.status != "pending":
                raise ConfigError(f"program file {dataset_id} is loaded, not pending",
                                  fix="only an upload awaiting confirmation can be discarded")
            conn.execute(sa.delete(db.datasets).where(db.datasets.c.id == dataset_id,
                                                      db.datasets.c.tenant_id == self.tenant_id,
                                                      db.datasets.c.status == "pending"))
            self._audit(conn, "change", "dataset", dataset_id, f"discarded {row.name}")

    # -- evaluations -----------------------------------------------------------------------

    def evaluate(self, dataset_id: int, form: dict[str, str]) -> int:
        """Run an evaluation of a loaded program file with the spec fields of ``form`` and
        store its result (unpublished); its id. A spec or data problem is an UpwardError."""
        from upward.evaluate.run import run_evaluation

        self.need("analyst", "run evaluations")
        with self.engine.begin() as conn:
            row = self._dataset_row(conn, dataset_id, content=True)
            if row.status != "loaded":
                raise ConfigError(f"program file {dataset_id} is not loaded yet",
                                  fix="confirm its preview first")
            self._audit(conn, "read", "dataset", dataset_id, f"evaluated {row.name}")
        spec = spec_from_form(form, row.name)
        cells = read_cells(row.name, row.suffix, bytes(row.content))
        result = run_evaluation(spec, None, data=cells, save=False).result
        doc = result.to_dict()
        name = spec.get("name") or row.name.rsplit(".", 1)[0]
        with self.engine.begin() as conn:
            eval_id = conn.execute(sa.insert(db.evaluations).values(
                tenant_id=self.tenant_id, dataset_id=dataset_id, name=name[:200],
                design=result.design, headline=result.headline(), result=doc, published=False,
                created_by=self.principal.user_id, created_at=now())
                .returning(db.evaluations.c.id)).scalar_one()
            self._audit(conn, "change", "evaluation", eval_id,
                        f"ran {result.design} on program file {dataset_id}")
        return eval_id

    def _visible(self):
        where = [db.evaluations.c.tenant_id == self.tenant_id]
        if not self.can("analyst"):
            where.append(db.evaluations.c.published.is_(True))
        return where

    def evaluations(self) -> list[dict]:
        """The tenant's evaluations: all for analysts, published ones for viewers."""
        self.need("viewer", "see evaluations")
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(
                db.evaluations.c.id, db.evaluations.c.name, db.evaluations.c.design,
                db.evaluations.c.headline, db.evaluations.c.published,
                db.evaluations.c.created_at).where(*self._visible())
                .order_by(db.evaluations.c.id.desc())).all()
            self._audit(conn, "read", "evaluation", None, f"listed {len(rows)} evaluations")
        return [dict(r._mapping) for r in rows]

    def evaluation(self, eval_id: int) -> dict:
        """One evaluation with its result (viewers: only when published); audited."""
        self.need("viewer", "see evaluations")
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(db.evaluations).where(
                db.evaluations.c.id == eval_id, *self._visible())).first()
            if row is None:
                raise NotFound("such evaluation")
            self._audit(conn, "read", "evaluation", eval_id, f"read {row.name}")
        out = dict(row._mapping)
        out.pop("tenant_id")
        if not self.can("analyst"):
            # Viewers see the published result, not which restricted file it came from.
            out["dataset_id"] = None
            spec = dict((out["result"] or {}).get("spec") or {})
            if "data" in spec:
                spec["data"] = "(restricted program file)"
            out["result"] = {**(out["result"] or {}), "spec": spec}
        return out

    def publish(self, eval_id: int, published: bool) -> None:
        """Publish (to the tenant's viewers and the evidence index) or withdraw (admins)."""
        self.need("admin", "publish evaluations")
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(db.evaluations).where(
                db.evaluations.c.id == eval_id,
                db.evaluations.c.tenant_id == self.tenant_id)).first()
            if row is None:
                raise NotFound("such evaluation")
            conn.execute(sa.update(db.evaluations).where(
                db.evaluations.c.id == eval_id, db.evaluations.c.tenant_id == self.tenant_id)
                .values(published=published))
            conn.execute(sa.delete(db.evidence_index)
                         .where(db.evidence_index.c.evaluation_id == eval_id))
            if published:
                r = row.result
                conn.execute(sa.insert(db.evidence_index).values(
                    evaluation_id=eval_id, tenant_id=self.tenant_id, name=row.name,
                    design=row.design, outcome=str(r.get("outcome", ""))[:200],
                    estimate=_clean(r.get("estimate")), se=_clean(r.get("se")),
                    n=r.get("n"), published_at=now()))
            self._audit(conn, "change", "evaluation", eval_id,
                        "published" if published else "withdrawn")

    # -- administration --------------------------------------------------------------------

    def members(self) -> list[dict]:
        """The tenant's members and roles (admins)."""
        self.need("admin", "see the members")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(db.users.c.username, db.users.c.disabled,
                                          db.memberships.c.role)
                                .join(db.memberships)
                                .where(db.memberships.c.tenant_id == self.tenant_id)
                                .order_by(db.users.c.username)).all()
        return [dict(r._mapping) for r in rows]

    def audit_log(self, limit: int = 200) -> list[dict]:
        """The newest entries of the tenant's audit log (admins)."""
        self.need("admin", "read the audit log")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(db.audit.c.at, db.audit.c.username, db.audit.c.action,
                                          db.audit.c.object_kind, db.audit.c.object_id,
                                          db.audit.c.detail)
                                .where(db.audit.c.tenant_id == self.tenant_id)
                                .order_by(db.audit.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]


def spec_from_form(form: dict[str, str], data_name: str) -> dict:
    """An evaluation spec (as a mapping) from the form's fields: blanks dropped, covariates
    split on commas, the cutoff read as a number.

    >>> spec_from_form({"design": "rct", "outcome": "y", "treatment": "d", "unit": "",
    ...                 "covariates": "age, female"}, "p.csv")
    {'data': 'p.csv', 'design': 'rct', 'outcome': 'y', 'treatment': 'd', 'covariates': ['age', 'female']}
    """
    spec: dict = {"data": data_name}
    for key in FORM_FIELDS:
        value = (form.get(key) or "").strip()
        if not value:
            continue
        if key == "covariates":
            spec[key] = [c.strip() for c in value.split(",") if c.strip()]
        elif key == "cutoff":
            try:
                spec[key] = float(value)
            except ValueError:
                raise ConfigError(f"cutoff {value!r} is not a number",
                                  fix="give the running variable's threshold, e.g. 50") from None
        else:
            spec[key] = value[:200]
    for key in ("design", "outcome"):
        if key not in spec:
            raise ConfigError(f"the evaluation needs '{key}'", fix=f"fill in {key}")
    return spec


__all__ = ["AccessError", "Forbidden", "NotFound", "NotSignedIn", "TenantAccess", "open_tenant",
           "spec_from_form"]


def tenants_of(engine: Engine, principal: Principal) -> list[dict]:
    """The tenants ``principal`` belongs to, with their role (for the account page)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(db.tenants.c.id, db.tenants.c.slug, db.tenants.c.name)
                            .where(db.tenants.c.id.in_(list(principal.roles) or [-1]))
                            .order_by(db.tenants.c.slug)).all()
    return [{"slug": r.slug, "name": r.name, "role": principal.roles[r.id]} for r in rows]
