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
    "upward.demo.replicates.write_demo_replicates": "writes the demo county's replicate files (seconds)",
    "upward.demo.run.run_demo": DEMO,
    "upward.diagnose.summary.Sentence": PARALLEL,
    "upward.diagnose.summary.Summary": PARALLEL,
    "upward.diagnose.summary.summarise": PARALLEL,
    "upward.estimate.aggregate.Recipe": PARALLEL,
    "upward.estimate.aggregate.area_cells": PARALLEL,
    "upward.estimate.aggregate.replicate_values": PARALLEL,
    "upward.estimate.aggregate.approximate_estimate": PARALLEL,
    "upward.evaluate.linkage.score_pairs": SPLINK,
    "upward.evaluate.linkage.link_records": SPLINK,
    "upward.evaluate.linkage.link_for_spec": SPLINK,
    "upward.evidence.meta.PooledEffect": PARALLEL,
    "upward.evidence.pilot.PilotPlan": PARALLEL,
    "upward.evidence.pilot.write_spec": PARALLEL,
    "upward.evidence.pilot.plan_from_evidence": PARALLEL,
    "upward.evidence.projection.EvidencePool": PARALLEL,
    "upward.evidence.projection.pool_evidence": PARALLEL,
    "upward.evidence.projection.EligibleSource": PARALLEL,
    "upward.evidence.projection.PlaceProjection": PARALLEL,
    "upward.evidence.projection.eligible_from": PARALLEL,
    "upward.evidence.projection.project_in_place": PARALLEL,
    "upward.evidence.rating.Facts": PARALLEL,
    "upward.evidence.rating.Criterion": PARALLEL,
    "upward.evidence.rating.Rule": PARALLEL,
    "upward.evidence.rating.Rating": PARALLEL,
    "upward.evidence.rating.StudyRated": PARALLEL,
    "upward.evidence.recommend.CountRecipe": PARALLEL,
    "upward.evidence.recommend.Measured": PARALLEL,
    "upward.evidence.recommend.Candidate": PARALLEL,
    "upward.evidence.recommend.BarrierCandidates": PARALLEL,
    "upward.evidence.recommend.Recommendation": PARALLEL,
    "upward.evidence.recommend.recommend_for": PARALLEL,
    "upward.measure.compare.Difference": PARALLEL,
    "upward.measure.compare.Cell": PARALLEL,
    "upward.measure.compare.CompareRow": PARALLEL,
    "upward.measure.compare.Comparison": PARALLEL,
    "upward.measure.compare.compare_profiles": PARALLEL,
    "upward.measure.compare.rich_table": PARALLEL,
    "upward.microdata.MicrodataResult": PARALLEL,
    "upward.microdata.estimate": PARALLEL,
    "upward.microdata.table": PARALLEL,
    "upward.report.brief.brief_context": PARALLEL,
    "upward.report.brief.render_brief": PARALLEL,
    "upward.report.brief.write_brief": PARALLEL,
    "upward.report.summary.summary_html": PARALLEL,
    "upward.report.translations.extract": CATALOGS,
    "upward.report.translations.update": CATALOGS,
    "upward.report.translations.main": CATALOGS,
    "upward.sources.arcgis.mercator_to_wgs84": PARALLEL,
    "upward.sources.arcgis.arcgis_where": PARALLEL,
    "upward.sources.base.Tables": PARALLEL,
    "upward.sources.base.Dataset": PARALLEL,
    "upward.sources.census_api.CensusApiError": PARALLEL,
    "upward.sources.census_api.CensusKeyError": PARALLEL,
    "upward.sources.census_api.AcsTable": PARALLEL,
    "upward.sources.ckan.retry_policy": PARALLEL,
    "upward.sources.ckan.CkanFeed": PARALLEL,
    "upward.sources.commuting_zones.read_county_cz": PARALLEL,
    "upward.sources.feeds.FeedError": PARALLEL,
    "upward.sources.feeds.FeedSchemaError": PARALLEL,
    "upward.sources.feeds.FeedDuplicateError": PARALLEL,
    "upward.sources.feeds.FeedClockError": PARALLEL,
    "upward.sources.feeds.Page": PARALLEL,
    "upward.sources.feedspec.FeedSpec": PARALLEL,
    "upward.sources.opportunity_atlas.Measure": PARALLEL,
    "upward.sources.opportunity_atlas.read_county_outcomes": PARALLEL,
    "upward.sources.opportunity_atlas.read_web_tool_tracts": PARALLEL,
    "upward.sources.opportunity_atlas.read_kfr_dollars": PARALLEL,
    "upward.sources.opportunity_atlas.read_kfr_top20": PARALLEL,
    "upward.sources.opportunity_atlas.read_tract_outcomes": PARALLEL,
    "upward.sources.opportunity_atlas.read_tract_covariates": PARALLEL,
    "upward.sources.pums.Microdata": PARALLEL,
    "upward.sources.pums.combine": PARALLEL,
    "upward.sources.pums.read_pums": PARALLEL,
    "upward.sources.replicates.fetch_replicates": PARALLEL,
    "upward.sources.schema.Rule": PARALLEL,
    "upward.sources.social_capital.read_county": PARALLEL,
    "upward.sources.social_capital.read_zip": PARALLEL,
    "upward.sources.socrata.soql_where": PARALLEL,
    "upward.sources.tract_relationship.read_tract_relationship": PARALLEL,
    "upward.sources.urban.read_wide": PARALLEL,
    "upward.sources.usaspending.request_body": PARALLEL,
    "upward.sources.usaspending.UsaSpendingFeed": PARALLEL,
    "upward.warehouse.census.fetch_acs": CENSUS_API,
    "upward.warehouse.ingest.FoundFile": PARALLEL,
    "upward.warehouse.ingest.download_file": PARALLEL,
    "upward.warehouse.ingest.fetch": PARALLEL,
    "upward.warehouse.microdata.StoredRelease": PARALLEL,
    "upward.warehouse.microdata.fetch_pums": PARALLEL,
    "upward.warehouse.store.WarehouseBusyError": PARALLEL,
    "upward.warehouse.store.ShrinkingLoadError": PARALLEL,
    "upward.warehouse.store.LoadResult": PARALLEL,
    "upward.warehouse.store.Warehouse": PARALLEL,
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
