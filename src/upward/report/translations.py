"""Making and checking the translation catalogs (the developer's tool; the site reads only the
compiled ``.mo``).

One command does everything after a string changes::

    python -m upward.report.translations          # extract, update es, compile, list gaps
    python -m upward.report.translations --check  # exit 1 if anything is missing or stale

It extracts every marked string (``babel.cfg``: Python ``_()``/``N_()``, templates'
``{{ _() }}``/``{% trans %}``, the metric catalog's labels and definitions, and the data words
of ``WORDS``/``vocabulary()``), merges it into each language's ``messages.po`` (new strings
arrive with an empty ``msgstr``; strings no longer used are dropped), compiles ``messages.mo``
next to it, and prints every string still without a translation, with where it is used.
Translate them in the ``.po`` file (any PO editor, or by hand) and run the command again.

Examples
--------
>>> [m["msgid"] for m in extract_catalog(io.BytesIO(b'[[metric]]\\nlabel = "Rate"\\n'
...      b'definition = "A rate."\\n'), [], [], {})]
['Rate', 'A rate.']
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from upward.report.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR

REPO = LOCALE_DIR.parent.parent.parent
CONFIG = REPO / "babel.cfg"
#: Metric catalog fields shown to people (translated); the rest are names and citations.
CATALOG_FIELDS = ("label", "definition", "pillar", "predictor")


def extract_catalog(fileobj, keywords, comment_tags, options) -> Iterator:
    """Babel extractor for ``metrics/catalog.toml``: the shown fields of every metric (the
    line number is the metric's position in the file).

    >>> toml = b'[[metric]]\\nlabel = "Rate"\\ndefinition = "A rate."\\n'
    >>> [(m["lineno"], m["msgid"]) for m in extract_catalog(io.BytesIO(toml), [], [], {})]
    [(1, 'Rate'), (1, 'A rate.')]
    """
    data = tomllib.loads(fileobj.read().decode("utf-8"))
    seen: set[str] = set()
    for i, metric in enumerate(data.get("metric", []), start=1):
        for key in CATALOG_FIELDS:
            text = metric.get(key)
            if text and text not in seen:
                seen.add(text)
                yield {"lineno": i, "funcname": None, "msgid": text,
                       "comments": [f"metric {metric.get('id')}: {key}"]}


#: Words the pages show that are data, not code: quality grades, units, directions, trend
#: words, levels, sources. Translated where a page shows them (``_(value)``).
WORDS = (
    "good", "caution", "weak", "not graded", "unknown",
    "improving", "worsening", "rising", "falling", "no interval published",
    "no significant change", "closer to parity", "further from parity", "improved", "worsened",
    "rose", "fell", "higher", "lower", "parity", "context", "place", "county", "tract", "state",
    "cz", "zip", "Opportunity Atlas", "Social Capital Atlas", "Overview", "Barriers",
    "Neighbourhood map", "all", "people", "outcome", "Place", "County", "Population",
    "Data vintage", "Weight", "Prediction interval", "Prediction interval (new city)", "US cities", "US counties", "percent", "US dollars", "income rank (0–1)",
    "percentile rank (0–100)", "per 100,000 people", "per 10,000 people", "value", "behind peers", "behind the nation", "behind peers and behind the nation",
    # the roles of the shared server's accounts (upward.web.server.db.ROLES)
    "viewer", "analyst", "admin",
)


def vocabulary() -> Iterator[tuple[str, str]]:
    """(message, where it comes from) for the words of ``WORDS`` and of the constants the
    pages show: metric units, evidence policy areas, study designs, effect measures, rating
    tiers and frameworks.

    >>> ("share", "metric unit") in set(vocabulary())
    True
    """
    from upward.evidence.rating import FRAMEWORKS, RULES
    from upward.evidence.schema import MEASURE_LABELS, POLICY_AREAS, POPULATIONS, STUDY_DESIGNS
    from upward.metrics import all_metrics
    from upward.metrics.catalog import OUTCOME_DOMAINS
    from upward.report.charts import NOT_GRADED, QUALITY_TEXT

    yield from ((w, "shown word") for w in WORDS)
    yield from ((w, "quality grade") for w in [*QUALITY_TEXT.values(), NOT_GRADED])
    yield from ((u, "metric unit") for u in sorted({m.unit for m in all_metrics()}))
    yield from ((v, "evidence policy area") for v in POLICY_AREAS.values())
    yield from ((d.label, "study design") for d in STUDY_DESIGNS.values())
    yield from ((v, "effect measure") for v in MEASURE_LABELS.values())
    yield from ((v, "evidence framework") for v in FRAMEWORKS.values())
    yield from ((r.label, "evidence rating tier") for r in RULES)
    yield from ((r.note, "evidence rating note") for r in RULES if r.note)
    yield from ((v, "outcome domain") for v in OUTCOME_DOMAINS.values())
    yield from ((v, "evidence population") for v in POPULATIONS.values())
    yield from ((v.lower(), "evidence population, inside a sentence")
                for v in POPULATIONS.values())
    yield from ((g, "population group") for g in _group_words())
    yield from ((w, "comparison verdict") for w in COMPARE_WORDS)


#: The verdicts of ``upward.measure.compare`` and the words of an area's table
#: (``upward.measure.areas``: reliability, significance, margin method).
COMPARE_WORDS = ("better", "worse", "no significant difference", "no interval to test",
                 "not known", "reliable", "use with caution", "unreliable", "behind", "yes",
                 "no", "exact (replicates)", "overlapping geographies: not tested")


def _group_words() -> list[str]:
    """Every label ``upward.measure.groups.group_label`` writes (a race, a gender, both).

    >>> "Black women" in _group_words()
    True
    """
    from upward.measure.groups import GENDERS, RACES, WHOLE

    words = [*WHOLE.values(), *RACES.values(), *(g.capitalize() for g in GENDERS.values())]
    words += [f"{r} {g}" for r in RACES.values() for g in GENDERS.values()]
    return list(dict.fromkeys(words))


def extract_marked(fileobj, keywords, comment_tags, options) -> Iterator:
    """Babel extractor for the layers below ``report``: only ``N_(...)`` (``upward.core.text``)
    with a literal first argument marks a message there. Read from the syntax tree, so a call
    nested in another's arguments (``N_("{a}", a=N_("b") if x else N_("c"))``) is found too.

    >>> src = b'x = N_("{n} sites", n=2 if k else N_("one"))\\n_("no")\\n'
    >>> [m[2] for m in extract_marked(io.BytesIO(src), {}, [], {})]
    ['{n} sites', 'one']
    """
    tree = ast.parse(fileobj.read())
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "N_" and node.args
             and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    for node in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
        yield node.lineno, "N_", node.args[0].value, []


def _babel_extractor(fileobj, keywords, comment_tags, options):
    for m in extract_catalog(fileobj, keywords, comment_tags, options):
        yield m["lineno"], m["funcname"], m["msgid"], m["comments"]


def extract():
    """Every marked string of the repository as a Babel ``Catalog`` (sorted, with locations)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with CONFIG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    methods = {"upward_catalog": _babel_extractor, "upward_marked": extract_marked}
    method_map = [(pattern, methods.get(method, method)) for pattern, method in method_map]
    catalog = Catalog(project="Upward", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(REPO), method_map, options_map, keywords={
                "_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
            comment_tags=("Translators:",), strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    for message, what in vocabulary():
        if message not in catalog:
            catalog.add(message, None, [("src/upward/report/translations.py", 0)],
                        auto_comments=[what])
    return catalog


def po_path(lang: str) -> Path:
    """The ``.po`` file of ``lang``.

    >>> po_path("es").relative_to(LOCALE_DIR).as_posix()
    'es/LC_MESSAGES/messages.po'
    """
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str):
    """The ``.po`` catalog of ``lang``.

    >>> es = read("es")
    >>> str(es.locale), len(es) > 100
    ('es', True)
    """
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def missing(catalog) -> list:
    """Messages of ``catalog`` without a usable translation (empty, or marked fuzzy).

    >>> from babel.messages.catalog import Catalog
    >>> c = Catalog(locale="es")
    >>> _ = c.add("Poverty rate", "Tasa de pobreza"), c.add("Median income", "")
    >>> [m.id for m in missing(c)]
    ['Median income']
    """
    out = []
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        if m.fuzzy or not all(strings):
            out.append(m)
    return out


def stale(lang: str, template=None) -> tuple[set, set]:
    """Message ids the code uses that ``lang``'s ``.po`` lacks, and ids the ``.po`` has that the
    code no longer uses.

    >>> from babel.messages.catalog import Catalog
    >>> template = Catalog()
    >>> _ = template.add("A string no .po holds yet")
    >>> new, gone = stale("es", template)
    >>> new, len(gone) > 100
    ({'A string no .po holds yet'}, True)
    """
    template = template if template is not None else extract()
    used = {m.id for m in template if m.id}
    have = {m.id for m in read(lang) if m.id}
    return used - have, have - used


def _write(catalog, path: Path, *, mo: bool = False) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    if mo:
        write_mo(buffer, catalog, use_fuzzy=False)
    else:
        write_po(buffer, catalog, width=100, sort_output=False, omit_header=False)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def update(lang: str, template) -> list:
    """Merge ``template`` into ``lang``'s ``.po``, compile its ``.mo``; the untranslated."""
    from babel.messages.catalog import Catalog

    path = po_path(lang)
    catalog = read(lang) if path.exists() else Catalog(locale=lang, project="Upward")
    created = catalog.creation_date
    catalog.update(template, no_fuzzy_matching=True)
    catalog.creation_date = created  # only the messages change, so the diff shows only them
    catalog.obsolete.clear()
    _write(catalog, path)
    _write(catalog, path.with_suffix(".mo"), mo=True)
    return missing(catalog)


def compiled_matches(lang: str) -> bool:
    """Whether ``lang``'s committed ``.mo`` holds exactly the translations of its ``.po``.

    >>> compiled_matches("es")
    True
    """
    from babel.messages.mofile import read_mo

    with po_path(lang).with_suffix(".mo").open("rb") as f:
        mo = read_mo(f)
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    po = {plain(m.id): plain(m.string) for m in read(lang) if m.id and not m.fuzzy}
    return po == {plain(m.id): plain(m.string) for m in mo if m.id}


def main(argv: list[str] | None = None) -> int:
    """The command line: update every catalog, or ``--check`` only."""
    parser = argparse.ArgumentParser(prog="python -m upward.report.translations",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a string is untranslated or stale")
    args = parser.parse_args(argv)
    template = extract()
    failed = False
    for lang in LANGUAGES:
        if lang == DEFAULT_LANGUAGE:
            continue
        if args.check:
            new, gone = stale(lang, template)
            gaps = missing(read(lang))
            if new or gone or not compiled_matches(lang):
                failed = True
                print(f"{lang}: catalog out of date ({len(new)} new, {len(gone)} unused "
                      "strings, or .mo not compiled): run python -m upward.report.translations")
        else:
            gaps = update(lang, template)
        for m in gaps:
            where = ", ".join(f"{f}:{n}" for f, n in m.locations[:2])
            print(f"{lang}: untranslated {m.id!r} ({where})")
        failed = failed or bool(gaps)
        print(f"{lang}: {len(template) - len(gaps)} of {len(template)} strings translated")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
