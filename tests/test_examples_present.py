"""Every public module-level function and class of ``upward`` carries an example (``>>>`` in
its docstring; tests/test_doctests.py runs them and checks that each shows a value).

A name that cannot be shown cheaply goes in ``EXEMPT`` with the reason: web routes and
``upward`` commands (run through the app and the CLI by their tests), what needs the shared
server's database, a download or the demo workspace. A new public name without an example fails
``test_every_public_name_has_an_example``; a name that gains one must leave the list
(``test_exemptions_are_current``), so the list only shrinks."""

from __future__ import annotations

import ast
from pathlib import Path

import upward

SRC = Path(upward.__file__).resolve().parent

#: Web routes and ``upward`` commands run through the app and the CLI in their tests.
ROUTE = "FastAPI route: exercised through the app by tests/test_web_*.py and tests/test_server*.py"
COMMAND = "upward command: exercised by tests/test_cli.py and the tests/test_*_cli.py files"
SERVE = ("runs uvicorn until interrupted: tests/test_server_crash.py starts upward serve as a "
         "process")
APP = ("needs the web app over a workspace (create_app: seconds on first use); exercised by "
       "tests/test_web_*.py")
WEB_DATA = ("a place table built from the app's WebData over a loaded workspace; exercised by "
            "tests/test_web_downloads.py")
SERVER_DB = "needs the shared server's PostgreSQL database: exercised by tests/test_server*.py"
MIGRATION = "Alembic migration step, run by upward.web.server.db.migrate in tests/test_server.py"
#: Needs a place loaded in a workspace (its barrier report, profile and tracts).
BRIEF = ("renders a loaded place's two-page briefing: tests/test_brief_report.py (upward report "
         "--brief) and tests/test_i18n.py (in Spanish)")
#: Files other changes are editing at the same time: their examples follow those changes.
PARALLEL = "edited in parallel; examples follow"
CENSUS_API = ("downloads from the Census Data API; tests/test_census_api.py runs it against a "
              "local server")
DEMO = "builds the demo workspace"
SPLINK = "trains a Splink linkage model (seconds)"
CATALOGS = ("scans the repository with Babel (seconds) or rewrites the committed catalogs; "
            "exercised by tests/test_i18n.py")

#: ``module.name`` → why it has no example.
EXEMPT: dict[str, str] = {
    "upward.cli.evidence.add": COMMAND,
    "upward.cli.evidence.from_evaluation": COMMAND,
    "upward.cli.evidence.add_published_cmd": COMMAND,
    "upward.cli.evidence.add_demo_cmd": COMMAND,
    "upward.cli.evidence.import_cmd": COMMAND,
    "upward.cli.evidence.export": COMMAND,
    "upward.cli.evidence.list_cmd": COMMAND,
    "upward.cli.evidence.show": COMMAND,
    "upward.cli.evidence.pool_cmd": COMMAND,
    "upward.cli.evidence.project_cmd": COMMAND,
    "upward.cli.evidence.key_cmd": COMMAND,
    "upward.cli.evidence.trust_cmd": COMMAND,
    "upward.cli.evidence.remove_cmd": COMMAND,
    "upward.cli.evidence.fetch_evidence_command": COMMAND,
    "upward.cli.main.init": COMMAND,
    "upward.cli.main.fetch": COMMAND,
    "upward.cli.main.profile": COMMAND,
    "upward.cli.main.barriers": COMMAND,
    "upward.cli.main.metrics_list": COMMAND,
    "upward.cli.main.metrics_show": COMMAND,
    "upward.cli.main.sources_cmd": COMMAND,
    "upward.cli.main.demo": COMMAND,
    "upward.cli.main.main": COMMAND,
    "upward.cli.microdata.fetch_pums_command": COMMAND,
    "upward.cli.monitor.run_monitor": COMMAND,
    "upward.cli.recommend.recommend_cmd": COMMAND,
    "upward.cli.recommend.plan_from_evidence_command": COMMAND,
    "upward.cli.web.serve_workspace": SERVE,
    "upward.web.api.places": ROUTE,
    "upward.web.api.resolve_place": ROUTE,
    "upward.web.api.place": ROUTE,
    "upward.web.api.metrics": ROUTE,
    "upward.web.api.metric": ROUTE,
    "upward.web.api.profile": ROUTE,
    "upward.web.api.barriers": ROUTE,
    "upward.web.api.summary": ROUTE,
    "upward.web.api.compare": ROUTE,
    "upward.web.pages.compare_download": ROUTE,
    "upward.measure.compare_areas.area_side": ("reads a stored area's tract weights from a "
                                               "loaded workspace: tests/test_compare_areas.py"),
    "upward.report.brief_map.brief_map": ("draws a loaded workspace's tracts: "
                                          "tests/test_compare_areas.py, tests/test_brief_report.py"),
    "upward.web.api.metric_series": ROUTE,
    "upward.web.api.tracts": ROUTE,
    "upward.web.areas.api_areas": ROUTE,
    "upward.web.areas.api_area": ROUTE,
    "upward.web.areas.api_area_geometry": ROUTE,
    "upward.web.areas.area_download": ROUTE,
    "upward.web.areas.area_page": ROUTE,
    "upward.web.embeds.embed_metric_chart": ROUTE,
    "upward.web.embeds.embed_map": ROUTE,
    "upward.web.evidence.api_list": ROUTE,
    "upward.web.evidence.api_schema": ROUTE,
    "upward.web.evidence.api_study": ROUTE,
    "upward.web.evidence.api_intervention": ROUTE,
    "upward.web.evidence.api_pool": ROUTE,
    "upward.web.evidence.api_project": ROUTE,
    "upward.web.evidence.evidence_page": ROUTE,
    "upward.web.evidence.ratings_page": ROUTE,
    "upward.web.evidence.intervention_page": ROUTE,
    "upward.web.evidence.api_recommend": ROUTE,
    "upward.web.evidence.recommend_page": ROUTE,
    "upward.web.pages.home": ROUTE,
    "upward.web.pages.find_place": ROUTE,
    "upward.web.pages.state_page": ROUTE,
    "upward.web.pages.place_overview": ROUTE,
    "upward.web.pages.metric_page": ROUTE,
    "upward.web.pages.metric_figures": ("the charts of a loaded place's metric page (app WebData): "
                                        "tests/test_web_downloads.py draws them as embeds"),
    "upward.web.pages.barriers_page": ROUTE,
    "upward.web.pages.save_peers_form": ROUTE,
    "upward.web.pages.map_page": ROUTE,
    "upward.web.pages.place_table_download": ROUTE,
    "upward.web.pages.site_table_download": ROUTE,
    "upward.web.pages.compare_page": ROUTE,
    "upward.web.pages.metrics_page": ROUTE,
    "upward.web.pages.metric_info": ROUTE,
    "upward.web.pages.api_reference": ROUTE,
    "upward.web.server.access.open_tenant": SERVER_DB,
    "upward.web.server.access.tenants_of": SERVER_DB,
    "upward.web.server.accounts.tenant_by_slug": SERVER_DB,
    "upward.web.server.accounts.ensure_tenant": SERVER_DB,
    "upward.web.server.accounts.user_by_name": SERVER_DB,
    "upward.web.server.accounts.add_user": SERVER_DB,
    "upward.web.server.accounts.list_users": SERVER_DB,
    "upward.web.server.accounts.disable_user": SERVER_DB,
    "upward.web.server.accounts.create_token": SERVER_DB,
    "upward.web.server.accounts.revoke_token": SERVER_DB,
    "upward.web.server.accounts.list_tokens": SERVER_DB,
    "upward.web.server.accounts.authenticate": SERVER_DB,
    "upward.web.server.accounts.open_session": SERVER_DB,
    "upward.web.server.accounts.close_session": SERVER_DB,
    "upward.web.server.accounts.principal_from_session": SERVER_DB,
    "upward.web.server.accounts.principal_from_token": SERVER_DB,
    "upward.web.server.db.migrate": SERVER_DB,
    "upward.web.server.migrations.versions.0001_server.upgrade": MIGRATION,
    "upward.web.server.migrations.versions.0001_server.downgrade": MIGRATION,
    "upward.web.server.routes.current_principal": SERVER_DB,
    "upward.web.server.routes.require_csrf": SERVER_DB,
    "upward.web.server.routes.tenant_access": SERVER_DB,
    "upward.web.server.routes.login_form": ROUTE,
    "upward.web.server.routes.login": ROUTE,
    "upward.web.server.routes.logout": ROUTE,
    "upward.web.server.routes.account": ROUTE,
    "upward.web.server.routes.tenant_home": ROUTE,
    "upward.web.server.routes.programs_page": ROUTE,
    "upward.web.server.routes.upload_page": ROUTE,
    "upward.web.server.routes.program_page": ROUTE,
    "upward.web.server.routes.confirm_page": ROUTE,
    "upward.web.server.routes.discard_page": ROUTE,
    "upward.web.server.routes.download_page": ROUTE,
    "upward.web.server.routes.evaluate_page": ROUTE,
    "upward.web.server.routes.evaluation_page": ROUTE,
    "upward.web.server.routes.publish_page": ROUTE,
    "upward.web.server.routes.admin_page": ROUTE,
    "upward.web.server.routes.api_programs": ROUTE,
    "upward.web.server.routes.api_upload": ROUTE,
    "upward.web.server.routes.api_program": ROUTE,
    "upward.web.server.routes.api_load": ROUTE,
    "upward.web.server.routes.api_evaluate": ROUTE,
    "upward.web.server.routes.api_evaluations": ROUTE,
    "upward.web.server.routes.api_evaluation": ROUTE,
    "upward.web.server.routes.server_state": SERVER_DB,
    "upward.web.server.routes.install": SERVER_DB,
    "upward.web.spending.api_spending": ROUTE,
    "upward.web.spending.spending_page": ROUTE,
    "upward.web.tables.scorecard": WEB_DATA,
    "upward.web.tables.county_outcomes": WEB_DATA,
    "upward.web.tables.tract_spread": WEB_DATA,
    "upward.web.tables.sources": WEB_DATA,
    "upward.web.tables.series": WEB_DATA,
    "upward.web.tables.peers": WEB_DATA,
    "upward.web.tables.distribution": WEB_DATA,
    "upward.web.tables.findings": WEB_DATA,
    "upward.web.tables.gaps": WEB_DATA,
    "upward.web.tables.peer_group": WEB_DATA,
    "upward.web.tables.trends": WEB_DATA,
    "upward.web.tables.disparities": WEB_DATA,
    "upward.web.tables.lowest_tracts": WEB_DATA,
    "upward.web.tables.drivers": WEB_DATA,
    "upward.web.tables.tracts": WEB_DATA,
    "upward.web.tables.place_table": WEB_DATA,
    "upward.web.tables.place_list": WEB_DATA,
    "upward.demo.replicates.write_demo_replicates": "writes the demo county's replicate files (seconds)",
    "upward.demo.run.run_demo": DEMO,
    "upward.diagnose.summary.summarise": ("needs a loaded place's barrier report and "
                                          "warehouse: tests/test_brief_summary.py"),
    "upward.estimate.aggregate.Recipe": PARALLEL,
    "upward.estimate.aggregate.area_cells": PARALLEL,
    "upward.estimate.aggregate.replicate_values": PARALLEL,
    "upward.estimate.aggregate.approximate_estimate": PARALLEL,
    "upward.evaluate.linkage.score_pairs": SPLINK,
    "upward.evaluate.linkage.link_records": SPLINK,
    "upward.evaluate.linkage.link_for_spec": SPLINK,
    "upward.evidence.pilot.plan_from_evidence": ("profiles a loaded place in a workspace: "
                                                 "tests/test_evidence_recommend.py"),
    "upward.microdata.MicrodataResult": PARALLEL,
    "upward.microdata.estimate": PARALLEL,
    "upward.microdata.table": PARALLEL,
    "upward.report.brief.brief_context": BRIEF,
    "upward.report.brief.render_brief": BRIEF,
    "upward.report.brief.write_brief": BRIEF,
    "upward.report.translations.extract": CATALOGS,
    "upward.report.translations.update": CATALOGS,
    "upward.report.translations.main": CATALOGS,
    "upward.warehouse.census.fetch_acs": CENSUS_API,
    "upward.warehouse.microdata.StoredRelease": PARALLEL,
    "upward.warehouse.microdata.fetch_pums": PARALLEL,
}


def missing_examples(source: str, module: str) -> list[str]:
    """``module.name`` of each top-level public function or class in ``source`` whose docstring
    has no ``>>>`` example.

    >>> missing_examples("def f(): 'No example.'\\n"
    ...                  "def g(): '>>> 1'\\n"
    ...                  "def _h(): pass\\n"
    ...                  "class K: pass\\n", "m")
    ['m.f', 'm.K']
    """
    names = []
    for node in ast.parse(source).body:
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and not node.name.startswith("_")
                and ">>>" not in (ast.get_docstring(node, clean=False) or "")):
            names.append(f"{module}.{node.name}")
    return names


def library_modules() -> dict[str, Path]:
    """Dotted name → file of every module of the package but ``__main__``."""
    modules = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = ("upward", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if parts[-1] == "__main__":
            continue
        modules[name] = path
    return modules


def all_missing() -> list[str]:
    return [name for module, path in library_modules().items()
            for name in missing_examples(path.read_text(encoding="utf-8"), module)]


def test_every_public_name_has_an_example():
    missing = [name for name in all_missing() if name not in EXEMPT]
    assert missing == [], ("public functions/classes without a `>>>` example: add a short one "
                           "that shows a value (or, if it cannot be cheap, an EXEMPT entry with "
                           "the reason):\n" + "\n".join(missing))


def test_exemptions_are_current():
    stale = sorted(set(EXEMPT) - set(all_missing()))
    assert stale == [], "exempt names that now have an example or are gone: " + ", ".join(stale)


def test_the_finder_catches_a_missing_example():
    source = ('class A:\n    """Has one.\n\n    >>> 1\n    1\n    """\n\n'
              'async def b():\n    """None here."""\n\n'
              'def c():\n    pass\n\n'
              'def _private():\n    pass\n\n'
              'if True:\n    def nested():\n        pass\n')
    assert missing_examples(source, "pkg.mod") == ["pkg.mod.b", "pkg.mod.c"]


def test_every_module_but_main_is_checked():
    modules = library_modules()
    assert "upward.core.results" in modules and "upward.evidence.meta" in modules
    assert "upward.cli.main" in modules and "upward.web.server.routes" in modules
    assert "upward.__main__" not in modules
