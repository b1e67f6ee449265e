"""The shared server's pages and JSON API, mounted on the public site by :func:`install`.

Pages (not in the OpenAPI schema, like the public pages): ``/login``, ``/logout``,
``/account``, and per tenant ``/t/{tenant}`` (evaluations), ``/t/{tenant}/programs`` (upload,
preview, load, evaluate), ``/t/{tenant}/evaluations/{id}`` and ``/t/{tenant}/admin``. The JSON
API lives under ``/api/t/{tenant}/…`` and takes ``Authorization: Bearer TOKEN`` (from
``upward users token``) or the session cookie.

Every route under ``/t/`` and ``/api/t/`` gets its :class:`~.access.TenantAccess` from
:func:`tenant_access` -- the single guard; routes never query restricted tables themselves.
Forms carry a CSRF token; a cookie-authenticated request that changes anything without it is
refused (403).

Examples
--------
>>> tenant_access("analyst").min_role
'analyst'
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from upward.core.errors import InputFileError
from upward.core.text import error_text
from upward.warehouse.workspace import ServerSettings
from upward.web.errors import Problem, respond, wants_json
from upward.web.server import accounts
from upward.web.server.access import AccessError, Forbidden, NotSignedIn, TenantAccess, open_tenant
from upward.web.server.security import check_csrf, csrf_token
from upward.web.server.uploads import check_upload
from upward.web.templating import render

SESSION_COOKIE = "upward_session"
PRE_COOKIE = "upward_csrf"
CSRF_HEADER = "X-CSRF-Token"

Tenant = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="The tenant "
                             "(city workspace) identifier", examples=["tulsa"])]
ObjectId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Identifier")]

API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The file or request cannot be used: error.message says why"},
    401: {"description": "Not signed in: send Authorization: Bearer TOKEN"},
    403: {"description": "Your role in this workspace does not allow it"},
    404: {"description": "No such workspace, program file or evaluation (for you)"},
    413: {"description": "The upload is larger than the server accepts"},
    422: {"description": "A parameter or field cannot be used: error.parameter names it"},
}
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/t", tags=["restricted"], responses=API_ERRORS)


@dataclass(frozen=True)
class ServerState:
    """What the routes need: the database engine, the secret key, the settings.

    >>> from upward.warehouse.workspace import ServerSettings
    >>> s = ServerState(None, b"k" * 32, ServerSettings())
    >>> s.settings.max_upload_mb, len(s.key)
    (20, 32)
    """

    engine: Engine
    key: bytes
    settings: ServerSettings


def _state(request: Request) -> ServerState:
    return request.app.state.server


def current_principal(request: Request) -> accounts.Principal | None:
    """Who is asking: an API token (``Authorization: Bearer``) or the session cookie."""
    state = _state(request)
    header = request.headers.get("authorization", "")
    with state.engine.connect() as conn:
        if header[:7].lower() == "bearer ":
            return accounts.principal_from_token(conn, header[7:].strip())
        return accounts.principal_from_session(conn, request.cookies.get(SESSION_COOKIE))


Who = Annotated[accounts.Principal | None, Depends(current_principal)]


def _csrf_seed(request: Request, principal: accounts.Principal | None) -> str:
    if principal is not None and principal.session_hash:
        return principal.session_hash
    nonce = request.cookies.get(PRE_COOKIE, "")
    return f"pre:{nonce}" if nonce else ""


async def require_csrf(request: Request, principal: accounts.Principal | None) -> None:
    """Refuse a cookie-authenticated change without the form's (or header's) CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if principal is not None and principal.via == "token":
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and "form" in request.headers.get("content-type", ""):
        given = (await request.form()).get("csrf")
    if not check_csrf(_state(request).key, _csrf_seed(request, principal),
                      given if isinstance(given, str) else None):
        raise CsrfError()


class CsrfError(Forbidden):
    """A form sent without its CSRF token (or from another site).

    >>> e = CsrfError()
    >>> e.status, isinstance(e, Forbidden)
    (403, True)
    """

    def __init__(self) -> None:
        AccessError.__init__(self, "the form's security token is missing or out of date",
                             fix="reload the page and send the form again")


def tenant_access(min_role: str):
    """The dependency every restricted route uses: the tenant's access for the caller, who
    must hold ``min_role`` there (and, for a change through the session cookie, send the
    CSRF token)."""

    async def dependency(request: Request, tenant: Tenant, who: Who) -> TenantAccess:
        access = open_tenant(_state(request).engine, who, tenant, min_role)
        await require_csrf(request, who)
        return access

    dependency.min_role = min_role
    return dependency


Viewer = Annotated[TenantAccess, Depends(tenant_access("viewer"))]
Analyst = Annotated[TenantAccess, Depends(tenant_access("analyst"))]
Admin = Annotated[TenantAccess, Depends(tenant_access("admin"))]


def _page(request: Request, name: str, context: dict, who: accounts.Principal | None,
          status_code: int = 200) -> Response:
    context = {**context, "csrf": csrf_token(_state(request).key, _csrf_seed(request, who)),
               "who": who}
    return render(request, name, context, status_code=status_code)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never //host or a scheme).

    >>> _safe_next("/t/tulsa"), _safe_next("//evil.example"), _safe_next("https://x")
    ('/t/tulsa', '/account', '/account')
    """
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/account"


# ----------------------------------------------------------------------------------------------
# Signing in and out
# ----------------------------------------------------------------------------------------------


@pages.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    nonce = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
    response = _page_with_nonce(request, nonce, {"next": _safe_next(next), "error": None})
    _set_cookie(request, response, PRE_COOKIE, nonce, max_age=3600)
    return response


def _page_with_nonce(request: Request, nonce: str, context: dict, status_code: int = 200):
    context = {**context, "csrf": csrf_token(_state(request).key, f"pre:{nonce}"), "who": None}
    return render(request, "server_login.html", context, status_code=status_code)


def _set_cookie(request: Request, response: Response, name: str, value: str, *,
                max_age: int) -> None:
    secure = _state(request).settings.secure_cookies or request.url.scheme == "https"
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure, path="/")


@pages.post("/login")
async def login(request: Request, username: Annotated[str, Form(max_length=200)] = "",
                password: Annotated[str, Form(max_length=2000)] = "",
                csrf: Annotated[str, Form(max_length=200)] = "",
                next: Annotated[str, Form(max_length=2000)] = "/account") -> Response:
    state = _state(request)
    nonce = request.cookies.get(PRE_COOKIE, "")
    target = _safe_next(next)
    if not check_csrf(state.key, f"pre:{nonce}" if nonce else "", csrf):
        raise CsrfError()
    ip = request.client.host if request.client else "?"
    try:
        from starlette.concurrency import run_in_threadpool

        user_id = await run_in_threadpool(accounts.authenticate, state.engine, username,
                                          password, ip)
    except accounts.ThrottledError as exc:
        response = _page_with_nonce(request, nonce, {"next": target, "error": error_text(exc)},
                                    status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except accounts.LoginError as exc:
        return _page_with_nonce(request, nonce, {"next": target, "error": error_text(exc)},
                                status_code=401)
    token = accounts.open_session(state.engine, user_id, state.settings.session_hours)
    response = _redirect(target)
    _set_cookie(request, response, SESSION_COOKIE, token,
                max_age=int(state.settings.session_hours * 3600))
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


@pages.post("/logout")
async def logout(request: Request, who: Who) -> Response:
    await require_csrf(request, who)
    if who is not None and who.session_hash:
        accounts.close_session(_state(request).engine, who.session_hash)
    response = _redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@pages.get("/account")
def account(request: Request, who: Who) -> Response:
    if who is None:
        return _redirect("/login?next=/account")
    from upward.web.server.access import tenants_of

    return _page(request, "server_account.html",
                 {"tenants": tenants_of(_state(request).engine, who)}, who)


# ----------------------------------------------------------------------------------------------
# Tenant pages
# ----------------------------------------------------------------------------------------------


@pages.get("/t/{tenant}")
def tenant_home(request: Request, access: Viewer) -> Response:
    return _page(request, "server_tenant.html",
                 {"t": access, "evaluations": access.evaluations()}, access.principal)


@pages.get("/t/{tenant}/programs")
def programs_page(request: Request, access: Analyst) -> Response:
    return _programs(request, access)


def _programs(request: Request, access: TenantAccess, error: str | None = None,
              status_code: int = 200) -> Response:
    return _page(request, "server_programs.html",
                 {"t": access, "datasets": access.datasets(), "error": error,
                  "max_mb": _state(request).settings.max_upload_mb}, access.principal,
                 status_code=status_code)


def _max_bytes(request: Request) -> int:
    return int(_state(request).settings.max_upload_mb * 1024 * 1024)


async def _read_upload(request: Request, file: UploadFile):
    limit = _max_bytes(request)
    content = await file.read(limit + 1)
    return check_upload(file.filename, content, max_bytes=limit)


@pages.post("/t/{tenant}/programs")
async def upload_page(request: Request, access: Analyst, file: Annotated[UploadFile, File()],
                      csrf: Annotated[str, Form()] = "") -> Response:
    try:
        checked = await _read_upload(request, file)
    except InputFileError as exc:
        return _programs(request, access, error=error_text(exc), status_code=400)
    dataset_id = access.stage_upload(checked)
    return _redirect(f"/t/{access.slug}/programs/{dataset_id}")


@pages.get("/t/{tenant}/programs/{dataset_id}")
def program_page(request: Request, access: Analyst, dataset_id: ObjectId) -> Response:
    return _program(request, access, dataset_id)


def _program(request: Request, access: TenantAccess, dataset_id: int, *, error: str | None = None,
             form: dict | None = None, status_code: int = 200) -> Response:
    from upward.evaluate.designs import DESIGNS

    return _page(request, "server_program.html",
                 {"t": access, "d": access.dataset(dataset_id), "error": error,
                  "form": form or {}, "designs": sorted(DESIGNS.items())}, access.principal,
                 status_code=status_code)


@pages.post("/t/{tenant}/programs/{dataset_id}/confirm")
def confirm_page(access: Analyst, dataset_id: ObjectId,
                 csrf: Annotated[str, Form()] = "") -> Response:
    access.confirm(dataset_id)
    return _redirect(f"/t/{access.slug}/programs/{dataset_id}")


@pages.post("/t/{tenant}/programs/{dataset_id}/discard")
def discard_page(access: Analyst, dataset_id: ObjectId,
                 csrf: Annotated[str, Form()] = "") -> Response:
    access.discard(dataset_id)
    return _redirect(f"/t/{access.slug}/programs")


@pages.get("/t/{tenant}/programs/{dataset_id}/download")
def download_page(access: Analyst, dataset_id: ObjectId) -> Response:
    name, content = access.export_dataset(dataset_id)
    return Response(content, media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


@pages.post("/t/{tenant}/programs/{dataset_id}/evaluate")
async def evaluate_page(request: Request, access: Analyst, dataset_id: ObjectId) -> Response:
    from starlette.concurrency import run_in_threadpool

    from upward.core.errors import UpwardError

    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        eval_id = await run_in_threadpool(access.evaluate, dataset_id, form)
    except AccessError:
        raise
    except UpwardError as exc:
        return _program(request, access, dataset_id, error=error_text(exc), form=form,
                        status_code=422)
    return _redirect(f"/t/{access.slug}/evaluations/{eval_id}")


@pages.get("/t/{tenant}/evaluations/{eval_id}")
def evaluation_page(request: Request, access: Viewer, eval_id: ObjectId) -> Response:
    return _page(request, "server_evaluation.html",
                 {"t": access, "e": access.evaluation(eval_id)}, access.principal)


@pages.post("/t/{tenant}/evaluations/{eval_id}/publish")
def publish_page(access: Admin, eval_id: ObjectId, published: Annotated[bool, Form()] = True,
                 csrf: Annotated[str, Form()] = "") -> Response:
    access.publish(eval_id, published)
    return _redirect(f"/t/{access.slug}/evaluations/{eval_id}")


@pages.get("/t/{tenant}/admin")
def admin_page(request: Request, access: Admin) -> Response:
    return _page(request, "server_admin.html",
                 {"t": access, "members": access.members(), "audit": access.audit_log()},
                 access.principal)


# ----------------------------------------------------------------------------------------------
# JSON API
# ----------------------------------------------------------------------------------------------


class ProgramFileInfo(BaseModel):
    """A program file: its name, size, records, columns and whether it is loaded.

    >>> ProgramFileInfo(id=1, name="pilot.csv", size=120, n_rows=2, columns=["id", "y"],
    ...                 status="pending", sha256="ab" * 32).preview is None
    True
    """

    id: int
    name: str
    size: int
    n_rows: int
    columns: list[str]
    status: str
    sha256: str
    preview: list[dict[str, str]] | None = None


class EvaluationInfo(BaseModel):
    """An evaluation in a list.

    >>> EvaluationInfo(id=7, name="pilot", design="rct", headline="+$800 a year",
    ...                published=False).model_dump()["published"]
    False
    """

    id: int
    name: str
    design: str
    headline: str
    published: bool


class EvaluationDetail(EvaluationInfo):
    """An evaluation with its full result (the JSON of ``upward evaluate``).

    >>> d = EvaluationDetail(id=7, name="pilot", design="rct", headline="+$800", published=True,
    ...                      result={"estimate": 800.0})
    >>> d.dataset_id, d.result["estimate"]
    (None, 800.0)
    """

    dataset_id: int | None = Field(None, description="The program file (hidden from viewers)")
    result: dict[str, Any]


class EvaluationRequest(BaseModel):
    """The spec fields of an evaluation of a loaded program file (see docs/evaluate.md).

    >>> r = EvaluationRequest(design="rct", outcome="earnings", treatment="treated")
    >>> r.model_dump(exclude_none=True)
    {'design': 'rct', 'outcome': 'earnings', 'treatment': 'treated', 'covariates': []}
    """

    design: str = Field(max_length=40, examples=["rct"])
    outcome: str = Field(max_length=200, examples=["earnings"])
    name: str | None = Field(None, max_length=200)
    treatment: str | None = Field(None, max_length=200)
    unit: str | None = Field(None, max_length=200)
    time: str | None = Field(None, max_length=200)
    post: str | None = Field(None, max_length=200)
    cohort: str | None = Field(None, max_length=200)
    treatment_start: str | None = Field(None, max_length=200)
    treated_unit: str | None = Field(None, max_length=200)
    running: str | None = Field(None, max_length=200)
    cutoff: float | None = None
    covariates: list[str] = Field(default_factory=list, max_length=100)
    cluster: str | None = Field(None, max_length=200)
    weights: str | None = Field(None, max_length=200)


def _info(row: dict) -> ProgramFileInfo:
    return ProgramFileInfo(**{k: row[k] for k in ProgramFileInfo.model_fields if k in row})


@api.get("/{tenant}/programs", response_model=list[ProgramFileInfo])
def api_programs(access: Analyst) -> list[ProgramFileInfo]:
    """The workspace's program files (analysts and admins)."""
    return [_info(r) for r in access.datasets()]


@api.post("/{tenant}/programs", response_model=ProgramFileInfo, status_code=201)
async def api_upload(request: Request, access: Analyst, file: Annotated[UploadFile, File()],
                     load: bool = False) -> ProgramFileInfo:
    """Upload a program file (CSV, Excel or Parquet). It is checked completely and stored
    pending, visible to you only, unless ``load=true``: then it is loaded at once."""
    checked = await _read_upload(request, file)
    dataset_id = access.stage_upload(checked)
    if load:
        access.confirm(dataset_id)
    return _info(access.dataset(dataset_id))


@api.get("/{tenant}/programs/{dataset_id}", response_model=ProgramFileInfo)
def api_program(access: Analyst, dataset_id: ObjectId) -> ProgramFileInfo:
    """A program file with a preview of its first records."""
    return _info(access.dataset(dataset_id))


@api.post("/{tenant}/programs/{dataset_id}/load", response_model=ProgramFileInfo)
def api_load(access: Analyst, dataset_id: ObjectId) -> ProgramFileInfo:
    """Load a pending upload you made."""
    access.confirm(dataset_id)
    return _info(access.dataset(dataset_id))


@api.post("/{tenant}/programs/{dataset_id}/evaluations", response_model=EvaluationDetail,
          status_code=201)
def api_evaluate(access: Analyst, dataset_id: ObjectId,
                 body: EvaluationRequest) -> EvaluationDetail:
    """Evaluate a loaded program file; the result is stored unpublished."""
    form = {k: (", ".join(v) if isinstance(v, list) else "" if v is None else str(v))
            for k, v in body.model_dump().items()}
    eval_id = access.evaluate(dataset_id, form)
    return EvaluationDetail(**_eval(access.evaluation(eval_id)))


def _eval(row: dict) -> dict:
    return {**row, "result": row.get("result") or {}}


@api.get("/{tenant}/evaluations", response_model=list[EvaluationInfo])
def api_evaluations(access: Viewer) -> list[EvaluationInfo]:
    """The workspace's evaluations: all for analysts, published ones for viewers."""
    return [EvaluationInfo(**r) for r in access.evaluations()]


@api.get("/{tenant}/evaluations/{eval_id}", response_model=EvaluationDetail)
def api_evaluation(access: Viewer, eval_id: ObjectId) -> EvaluationDetail:
    """One evaluation with its result."""
    return EvaluationDetail(**_eval(access.evaluation(eval_id)))


# ----------------------------------------------------------------------------------------------
# Mounting
# ----------------------------------------------------------------------------------------------


def _access_error(request: Request, exc: AccessError):
    if isinstance(exc, NotSignedIn) and not wants_json(request) and request.method == "GET":
        return _redirect(f"/login?next={quote(request.url.path)}")
    titles = {401: "Sign in needed", 403: "Not allowed", 404: "Not found"}
    response = respond(request, Problem(exc.status, titles.get(exc.status, "Refused"),
                                        exc.message, exc.fix))
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _too_large(request: Request, exc: UploadTooLarge):
    return respond(request, Problem(413, "Upload too large", exc.message, exc.fix))


class UploadTooLarge(InputFileError):
    """The request body is larger than the upload limit (refused before it is read).

    >>> e = UploadTooLarge("pilot.csv", "the upload is larger than 20 MB", fix="split the file")
    >>> isinstance(e, InputFileError), str(e)
    (True, 'pilot.csv: the upload is larger than 20 MB. What to do: split the file')
    """


def server_state(workspace, database: str) -> ServerState:
    """Connect to ``database``, bring its schema up to date and read the server key from the
    workspace's ``secrets/``."""
    from upward.web.server.db import connect, migrate
    from upward.web.server.security import server_key

    engine = connect(database)
    migrate(engine)
    return ServerState(engine, server_key(workspace.secrets_dir), workspace.settings.server)


def install(app: FastAPI, state: ServerState) -> None:
    """Add the server's routes, error answers and body-size limit to ``app``."""
    app.state.server = state
    app.include_router(pages)
    app.include_router(api)
    app.add_exception_handler(AccessError, _access_error)
    app.add_exception_handler(UploadTooLarge, _too_large)
    limit = int(state.settings.max_upload_mb * 1024 * 1024) + 64 * 1024

    @app.middleware("http")
    async def body_limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit and request.method == "POST":
            return _too_large(request, UploadTooLarge(
                "(upload)", f"the request has {int(length):,} bytes, more than the "
                f"{limit:,} this server accepts", fix="upload a smaller file, or ask the "
                "administrator to raise [server] max_upload_mb"))
        return await call_next(request)


__all__ = ["ServerState", "current_principal", "install", "server_state", "tenant_access"]
