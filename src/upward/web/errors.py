"""What the web application answers when something goes wrong, as a page for people and as
JSON for programs (``/api/…``, ``?format=json`` or ``Accept: application/json``):

- a place or metric that is not loaded → 404 with the closest names, as links;
- a name that fits several places → 300 listing them;
- a malformed parameter → 422 naming the parameter and what it accepts;
- no data in the workspace → 503 saying how to load it;
- any other error → 500 with an error number; the traceback goes to the server log, never to
  the client.

Every JSON error has the shape ``{"error": {"status", "title", "message", "fix",
"parameter", "suggestions", "error_id"}}``.

Examples
--------
>>> err = ParameterError("metric", "'abc' is not a map metric", fix="use kfr_p25")
>>> err.parameter, str(err)
('metric', "parameter 'metric': 'abc' is not a map metric. What to do: use kfr_p25")
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from upward.core.errors import (
    AmbiguousPlaceError,
    ConfigError,
    MetricNotFoundError,
    PlaceNotFoundError,
    UpwardError,
    WorkspaceError,
)
from upward.report.i18n import gettext as _
from upward.web.data import Suggestion
from upward.web.templating import render

log = logging.getLogger("upward.web")


class ParameterError(UpwardError):
    """A request parameter with a value that cannot be used (answered with 422).

    >>> err = ParameterError("limit", "-1 is not a page size", fix="use 1 to 500")
    >>> err.parameter, str(err)
    ('limit', "parameter 'limit': -1 is not a page size. What to do: use 1 to 500")
    """

    def __init__(self, parameter: str, problem: str, *, fix: str) -> None:
        self.parameter = parameter
        super().__init__(f"parameter {parameter!r}: {problem}", fix=fix)


@dataclass
class Problem:
    """An error as the client sees it.

    >>> Problem(404, "Not found", "no page here").to_dict()["error"]["status"]
    404
    """

    status: int
    title: str
    message: str
    fix: str | None = None
    parameter: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    error_id: str | None = None
    details: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON body.

        >>> Problem(422, "Bad parameter", "x", parameter="limit").to_dict()["error"]["parameter"]
        'limit'
        """
        return {"error": {"status": self.status, "title": self.title, "message": self.message,
                          "fix": self.fix, "parameter": self.parameter,
                          "suggestions": [s.to_dict() for s in self.suggestions],
                          "error_id": self.error_id, "details": self.details}}


def wants_json(request: Request) -> bool:
    """Whether the client asked for JSON: the API, a ``format=json`` query, or an Accept header
    preferring JSON over HTML.

    >>> def asked(path, accept=""):
    ...     return wants_json(Request({"type": "http", "path": path, "query_string": b"",
    ...                                "headers": [(b"accept", accept.encode())]}))
    >>> asked("/api/places"), asked("/places", "application/json"), asked("/places", "text/html")
    (True, True, False)
    """
    path = request.url.path
    if path.startswith("/api") or path.endswith(".json") or path == "/openapi.json":
        return True
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def respond(request: Request, problem: Problem):
    """The error as JSON or as the error page.

    >>> request = Request({"type": "http", "path": "/api/places/99", "query_string": b"",
    ...                    "headers": []})
    >>> r = respond(request, Problem(404, "Place not found", "no place 99", "check the GEOID"))
    >>> r.status_code, r.body.decode()[:58]
    (404, '{"error":{"status":404,"title":"Place not found","message"')
    """
    if wants_json(request):
        return JSONResponse(problem.to_dict(), status_code=problem.status)
    return render(request, "error.html", {"problem": problem}, status_code=problem.status)


def _message(exc: UpwardError) -> tuple[str, str | None]:
    return exc.message, exc.fix


def _place_not_found(request: Request, exc: PlaceNotFoundError):
    message, fix = _message(exc)
    return respond(request, Problem(404, _("Place not found"), message, fix,
                                    suggestions=list(getattr(exc, "suggestions", []))))


def _ambiguous(request: Request, exc: AmbiguousPlaceError):
    return respond(request, Problem(
        300, _("Several places have this name"),
        _("{query} fits {n} places").format(query=repr(exc.query), n=len(exc.candidates)),
        exc.fix,
        suggestions=list(getattr(exc, "suggestions", []))))


def _metric_not_found(request: Request, exc: MetricNotFoundError):
    message, fix = _message(exc)
    return respond(request, Problem(404, _("Metric not found"), message,
                                    f"{fix}; " + _("the catalog is at /metrics")))


def _parameter(request: Request, exc: ParameterError):
    message, fix = _message(exc)
    return respond(request, Problem(422, _("A parameter cannot be used"), message, fix,
                                    parameter=exc.parameter))


def _config(request: Request, exc: ConfigError):
    message, fix = _message(exc)
    return respond(request, Problem(422, _("A parameter cannot be used"), message, fix))


def _workspace(request: Request, exc: WorkspaceError):
    message, fix = _message(exc)
    return respond(request, Problem(503, _("No data loaded"), message, fix))


def _upward(request: Request, exc: UpwardError):
    message, fix = _message(exc)
    return respond(request, Problem(400, _("The request cannot be answered"), message, fix))


_LOCATIONS = {"query": "query parameter", "path": "part of the address", "body": "body field",
              "header": "header", "cookie": "cookie"}


def _validation(request: Request, exc: RequestValidationError):
    details = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        where, name = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("query", ".".join(loc))
        given = e.get("input")
        details.append({"parameter": name, "location": where, "problem": e.get("msg", ""),
                        "given": given if isinstance(given, str | int | float) else None})
    first = details[0] if details else {"parameter": "?", "location": "query", "problem": ""}
    given = f" (given {first['given']!r})" if first.get("given") not in (None, "") else ""
    message = (f"{_LOCATIONS.get(first['location'], first['location'])} "
               f"{first['parameter']!r}{given}: {first['problem']}")
    return respond(request, Problem(
        422, _("A parameter cannot be used"), message,
        _("correct the parameter; the API reference at /docs lists what each one accepts"),
        parameter=first["parameter"], details=details))


def _http(request: Request, exc: StarletteHTTPException):
    if exc.status_code == 404:
        return respond(request, Problem(
            404, _("Page not found"),
            _("there is no page at {path}").format(path=request.url.path),
            _("start from the home page or search for a place")))
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow") or "GET"
        response = respond(request, Problem(
            405, _("Method not allowed"),
            _("{method} is not accepted at {path}").format(method=request.method,
                                                          path=request.url.path),
            _("use {methods}").format(methods=allowed.replace(", ", _(" or ")))))
    else:
        response = respond(request, Problem(exc.status_code, _("Request failed"), str(exc.detail)))
    response.headers.update(exc.headers or {})  # Allow on 405 (RFC 9110 §15.5.6), Retry-After …
    return response


def _server_error(request: Request, exc: Exception):
    error_id = uuid.uuid4().hex[:12]
    log.error("error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    return respond(request, Problem(
        500, _("Something went wrong on our side"),
        _("the server could not answer this request"),
        _("try again later; if it keeps happening, report error {error_id} to the people who "
          "run this site").format(error_id=error_id), error_id=error_id))


#: Exception class → handler, most specific first.
HANDLERS = (
    (ParameterError, _parameter),
    (AmbiguousPlaceError, _ambiguous),
    (PlaceNotFoundError, _place_not_found),
    (MetricNotFoundError, _metric_not_found),
    (WorkspaceError, _workspace),
    (ConfigError, _config),
    (UpwardError, _upward),
    (RequestValidationError, _validation),
    (StarletteHTTPException, _http),
    (Exception, _server_error),
)


def install(app: FastAPI) -> None:
    """Register every handler on ``app``.

    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> install(app)
    >>> ParameterError in app.exception_handlers
    True
    """
    for exc_class, handler in HANDLERS:
        app.add_exception_handler(exc_class, handler)


__all__ = ["HANDLERS", "ParameterError", "Problem", "install", "respond", "wants_json"]
