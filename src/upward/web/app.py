"""The web application: server-rendered pages for people and a JSON API for programs, over one
workspace.

``create_app(workspace)`` builds it; ``upward serve`` runs it with uvicorn. Each module in
``ROUTER_MODULES`` exposes a FastAPI ``router`` that is included as it is. Everything the
pages need is served by the app itself (styles, the type-ahead script, plotly.js from the
installed plotly package), so the site works offline.

Examples
--------
>>> import tempfile, pathlib
>>> from fastapi.testclient import TestClient
>>> from upward.warehouse.workspace import Workspace
>>> app = create_app(Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "ws"))
>>> TestClient(app).get("/api/metrics").status_code
200
"""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from upward import __version__
from upward.report.page import BASE_CSS, GEO_OFFLINE_JS
from upward.warehouse.workspace import Workspace
from upward.web import errors
from upward.web.data import WebData
from upward.web.embeds import FramePolicyMiddleware
from upward.web.language import LanguageMiddleware
from upward.web.limits import ConcurrencyLimit, limit_from_environment
from upward.web.templating import make_templates

ROUTER_MODULES = ("upward.web.api", "upward.web.pages", "upward.web.evidence",
                  "upward.web.areas", "upward.web.spending", "upward.web.embeds")
STATIC_DIR = Path(__file__).parent / "static"
#: A week: the bundled assets change only with the installed package.
ASSET_CACHE = "public, max-age=604800"
#: The shared server's database address, for worker processes (``upward serve --database``).
DATABASE_ENV = "UPWARD_DATABASE"

DESCRIPTION = """Upward's JSON API: the places and counties loaded in this workspace, the metric
catalog, each place's mobility profile, its barriers, and its tracts (values and GeoJSON).
Every table on the site is also downloadable as CSV or JSON from the page that shows it."""


def plotly_bundle() -> Path:
    """The minified plotly.js file shipped inside the installed plotly package.

    >>> plotly_bundle().name
    'plotly.min.js'
    """
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _assets(app: FastAPI) -> None:
    bundle = plotly_bundle()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(bundle, media_type="text/javascript",
                            headers={"Cache-Control": ASSET_CACHE})

    @app.get("/static/plotly-geo-offline.js", include_in_schema=False)
    def geo_offline() -> Response:
        return Response(GEO_OFFLINE_JS, media_type="text/javascript",
                        headers={"Cache-Control": ASSET_CACHE})

    @app.get("/static/base.css", include_in_schema=False)
    def base_css() -> Response:
        return Response(BASE_CSS, media_type="text/css", headers={"Cache-Control": ASSET_CACHE})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def create_app(workspace: Workspace, *, database: str | None = None) -> FastAPI:
    """The application over ``workspace`` (its warehouse opened read-only, on first use).

    With ``database`` (a PostgreSQL address) it is the shared server: accounts, tenants and
    restricted data (``upward.web.server``) are added to the public site.

    ``app.state.workspace`` is the workspace, ``app.state.data`` the shared ``WebData`` and
    ``app.state.templates`` the Jinja2 templates (``base.html`` has blocks ``title`` and
    ``content``).

    >>> import tempfile
    >>> from fastapi.testclient import TestClient
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> app = create_app(ws)
    >>> app.state.workspace == ws, app.title
    (True, 'Upward')
    >>> TestClient(app).get("/api/metrics/pctl_income_50").json()["unit"]
    'dollars'
    """
    data = WebData(workspace)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        data.close()
        if database:
            app.state.server.engine.dispose()

    app = FastAPI(title="Upward", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    app.state.workspace = workspace
    app.state.data = data
    app.state.templates = make_templates()
    app.add_middleware(FramePolicyMiddleware)
    app.add_middleware(LanguageMiddleware)
    errors.install(app)
    app.add_middleware(ConcurrencyLimit, limit=limit_from_environment())
    _assets(app)
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    if database:
        from upward.web.server.routes import install, server_state

        install(app, server_state(workspace, database))
    return app


def app_from_environment() -> FastAPI:
    """The app over ``$UPWARD_WORKSPACE`` (else ./upward-workspace): the factory that
    ``upward serve --workers N`` hands to uvicorn, one app per worker process (DuckDB lets
    several processes open one file read-only).

    >>> import os, tempfile
    >>> ws = Workspace.init(Path(tempfile.mkdtemp()) / "ws")
    >>> saved = os.environ.get("UPWARD_WORKSPACE")
    >>> os.environ["UPWARD_WORKSPACE"] = str(ws.root)
    >>> app_from_environment().state.workspace.root == ws.root
    True
    >>> if saved is None: del os.environ["UPWARD_WORKSPACE"]
    ... else: os.environ["UPWARD_WORKSPACE"] = saved
    """
    import os

    from upward.warehouse.workspace import resolve_workspace

    return create_app(Workspace.open(resolve_workspace(None)),
                      database=os.environ.get(DATABASE_ENV) or None)


__all__ = ["DATABASE_ENV", "ROUTER_MODULES", "STATIC_DIR", "app_from_environment", "create_app", "plotly_bundle"]
