"""Every public module-level function and class of the library layers carries an example
(``>>>`` in its docstring; tests/test_doctests.py runs them and checks that each shows a value).

The web routes and the ``upward`` commands are documented by the OpenAPI schema and ``--help``,
so ``upward.cli`` and ``upward.web`` (with the server and its migrations) are left out. A name
that cannot be shown cheaply goes in ``EXEMPT`` with the reason; the list is meant to stay short,
and a name that gains an example must leave it (``test_exemptions_are_current``)."""

from __future__ import annotations

import ast
from pathlib import Path

import upward

SRC = Path(upward.__file__).resolve().parent
#: Packages documented elsewhere (OpenAPI schema, ``--help``) and entry points.
SKIPPED = ("upward.cli", "upward.web")

PENDING = "examples pending (file under change)"
WAREHOUSE = "needs a warehouse"
NETWORK = "downloads (network)"
CENSUS_API = ("downloads from the Census Data API; tests/test_census_api.py runs it against a "
              "local server")
DEMO = "builds the demo workspace"
SPLINK = "trains a Splink linkage model (seconds)"
TODO = "examples pending (this change)"
CATALOGS = ("scans the repository with Babel (seconds) or rewrites the committed catalogs; "
            "exercised by tests/test_i18n.py")

#: ``module.name`` → why it has no example.
EXEMPT: dict[str, str] = {
    "upward.demo.replicates.write_demo_replicates": "writes the demo county's replicate files (seconds)",
    "upward.demo.run.run_demo": DEMO,
    "upward.diagnose.summary.Sentence": PENDING,
    "upward.diagnose.summary.Summary": PENDING,
    "upward.diagnose.summary.summarise": PENDING,
    "upward.estimate.aggregate.Recipe": PENDING,
    "upward.estimate.aggregate.area_cells": PENDING,
    "upward.estimate.aggregate.replicate_values": PENDING,
    "upward.estimate.aggregate.approximate_estimate": PENDING,
    "upward.evaluate.linkage.score_pairs": SPLINK,
    "upward.evaluate.linkage.link_records": SPLINK,
    "upward.evaluate.linkage.link_for_spec": SPLINK,
    "upward.evidence.meta.PooledEffect": TODO,
    "upward.evidence.pilot.PilotPlan": TODO,
    "upward.evidence.pilot.write_spec": TODO,
    "upward.evidence.pilot.plan_from_evidence": TODO,
    "upward.evidence.projection.EvidencePool": TODO,
    "upward.evidence.projection.pool_evidence": TODO,
    "upward.evidence.projection.EligibleSource": TODO,
    "upward.evidence.projection.PlaceProjection": TODO,
    "upward.evidence.projection.eligible_from": TODO,
    "upward.evidence.projection.project_in_place": TODO,
    "upward.evidence.rating.Facts": TODO,
    "upward.evidence.rating.Criterion": TODO,
    "upward.evidence.rating.Rule": TODO,
    "upward.evidence.rating.Rating": TODO,
    "upward.evidence.rating.StudyRated": TODO,
    "upward.evidence.recommend.CountRecipe": PENDING,
    "upward.evidence.recommend.Measured": PENDING,
    "upward.evidence.recommend.Candidate": PENDING,
    "upward.evidence.recommend.BarrierCandidates": PENDING,
    "upward.evidence.recommend.Recommendation": PENDING,
    "upward.evidence.recommend.recommend_for": PENDING,
    "upward.measure.compare.Difference": PENDING,
    "upward.measure.compare.Cell": PENDING,
    "upward.measure.compare.CompareRow": PENDING,
    "upward.measure.compare.Comparison": PENDING,
    "upward.measure.compare.compare_profiles": PENDING,
    "upward.measure.compare.rich_table": PENDING,
    "upward.microdata.MicrodataResult": PENDING,
    "upward.microdata.estimate": PENDING,
    "upward.microdata.table": PENDING,
    "upward.report.brief.brief_context": PENDING,
    "upward.report.brief.render_brief": PENDING,
    "upward.report.brief.write_brief": PENDING,
    "upward.report.summary.summary_html": PENDING,
    "upward.report.translations.extract": CATALOGS,
    "upward.report.translations.update": CATALOGS,
    "upward.report.translations.main": CATALOGS,
    "upward.sources.arcgis.mercator_to_wgs84": TODO,
    "upward.sources.arcgis.arcgis_where": TODO,
    "upward.sources.base.Tables": TODO,
    "upward.sources.base.Dataset": TODO,
    "upward.sources.census_api.CensusApiError": TODO,
    "upward.sources.census_api.CensusKeyError": TODO,
    "upward.sources.census_api.AcsTable": TODO,
    "upward.sources.ckan.retry_policy": TODO,
    "upward.sources.ckan.CkanFeed": TODO,
    "upward.sources.commuting_zones.read_county_cz": TODO,
    "upward.sources.feeds.FeedError": TODO,
    "upward.sources.feeds.FeedSchemaError": TODO,
    "upward.sources.feeds.FeedDuplicateError": TODO,
    "upward.sources.feeds.FeedClockError": TODO,
    "upward.sources.feeds.Page": TODO,
    "upward.sources.feedspec.FeedSpec": TODO,
    "upward.sources.opportunity_atlas.Measure": TODO,
    "upward.sources.opportunity_atlas.read_county_outcomes": TODO,
    "upward.sources.opportunity_atlas.read_web_tool_tracts": TODO,
    "upward.sources.opportunity_atlas.read_kfr_dollars": TODO,
    "upward.sources.opportunity_atlas.read_kfr_top20": TODO,
    "upward.sources.opportunity_atlas.read_tract_outcomes": TODO,
    "upward.sources.opportunity_atlas.read_tract_covariates": TODO,
    "upward.sources.pums.Microdata": TODO,
    "upward.sources.pums.combine": TODO,
    "upward.sources.pums.read_pums": TODO,
    "upward.sources.replicates.fetch_replicates": TODO,
    "upward.sources.schema.Rule": PENDING,
    "upward.sources.social_capital.read_county": TODO,
    "upward.sources.social_capital.read_zip": TODO,
    "upward.sources.socrata.soql_where": TODO,
    "upward.sources.tract_relationship.read_tract_relationship": TODO,
    "upward.sources.urban.read_wide": TODO,
    "upward.sources.usaspending.request_body": TODO,
    "upward.sources.usaspending.UsaSpendingFeed": TODO,
    "upward.warehouse.census.fetch_acs": CENSUS_API,
    "upward.warehouse.ingest.FoundFile": PENDING,
    "upward.warehouse.ingest.download_file": PENDING,
    "upward.warehouse.ingest.fetch": PENDING,
    "upward.warehouse.microdata.StoredRelease": PENDING,
    "upward.warehouse.microdata.fetch_pums": PENDING,
    "upward.warehouse.store.WarehouseBusyError": PENDING,
    "upward.warehouse.store.ShrinkingLoadError": PENDING,
    "upward.warehouse.store.LoadResult": PENDING,
    "upward.warehouse.store.Warehouse": PENDING,
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
    """Dotted name → file of every module in the library layers."""
    modules = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = ("upward", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if parts[-1] == "__main__" or any(name == s or name.startswith(s + ".") for s in SKIPPED):
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


def test_the_layers_checked_exclude_only_cli_and_web():
    modules = library_modules()
    assert "upward.core.results" in modules and "upward.evidence.meta" in modules
    assert not [m for m in modules if m.startswith(("upward.cli", "upward.web"))]
    assert "upward.__main__" not in modules
