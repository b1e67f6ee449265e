"""Spanish: the catalogs are complete and current, every page of the site and the place
report come out in Spanish under ``/es/`` (or with ``Accept-Language: es``) with no English
string of the catalog left on them, numbers are written the Spanish way, and the language
switch, ``<html lang>`` and links keep the reader in their language.

To add or change a string: ``python -m upward.report.translations`` (see its docstring) updates
``src/upward/locale/es/LC_MESSAGES/messages.po`` and lists what is left to translate.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from tests.support.web import DEMO_PLACE, app_for, demo_workspace

from upward.metrics import all_metrics
from upward.report import translations
from upward.report.i18n import format_value, gettext, localise_numbers, use_language

PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)s|\{[a-z_0-9]+\}")


@pytest.fixture(scope="module")
def demo():
    return TestClient(app_for(demo_workspace()), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def template():
    return translations.extract()


@pytest.fixture(scope="module")
def spanish():
    return translations.read("es")


def test_every_string_of_the_code_is_in_the_spanish_catalog(template):
    new, gone = translations.stale("es", template)
    assert not new, ("strings not in messages.po (run python -m upward.report.translations): "
                     f"{sorted(map(str, new))}")
    assert not gone, f"strings no longer used, still in messages.po: {sorted(map(str, gone))}"


def test_every_string_has_a_spanish_translation(spanish):
    gaps = [(m.id, m.locations[:1]) for m in translations.missing(spanish)]
    assert not gaps, f"untranslated (msgid, where): {gaps}"


def test_the_compiled_catalog_is_the_po_file():
    assert translations.compiled_matches("es"), (
        "messages.mo differs from messages.po: run python -m upward.report.translations")


def test_translations_keep_every_placeholder(spanish):
    for m in spanish:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple | list) else (m.id,)
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == wanted, (m.id, s)


def test_the_extractor_finds_every_metric_label_and_definition(template):
    from upward.metrics import all_metrics

    for m in all_metrics():
        assert m.label in template and m.definition in template, m.id


def test_numbers_are_written_the_spanish_way():
    with use_language("es"):
        assert format_value(0.256, "share") == "25,6\u00a0%"
        assert format_value(36700.4, "dollars") == "36.700\u00a0$"
        assert format_value(0.3614, "rank") == "36,1"  # the English 36.1: a 0-1 rank on 0-100
        assert localise_numbers("▲ 2.1 pts 2014–2021") == "▲ 2,1 pts 2014–2021"
        assert gettext("95% interval") == "Intervalo del 95 %"
    assert format_value(0.256, "share") == "25.6%"


#: The pages a reader can reach, one of each kind (the demo workspace holds every kind).
PAGES = ("/", f"/places/{DEMO_PLACE}", f"/places/{DEMO_PLACE}/barriers",
         f"/places/{DEMO_PLACE}/map", f"/places/{DEMO_PLACE}/metrics/pctl_income_50",
         "/metrics", "/metrics/share_employed", "/evidence", "/evidence/ratings", "/docs",
         "/states/99", f"/embed/places/{DEMO_PLACE}/map",
         f"/embed/places/{DEMO_PLACE}/metrics/pctl_income_50/peers",
         f"/places/{DEMO_PLACE}/recommend", f"/places/{DEMO_PLACE}/spending", "/compare",
         f"/compare?places={DEMO_PLACE}&places=9935100")


def _english_left(soup: BeautifulSoup, spanish) -> list[str]:
    """Catalog strings that stay English on a Spanish page: a text node, label or attribute
    that is exactly an English message, or a long English message anywhere in the text."""
    english = {m.id for m in spanish if isinstance(m.id, str) and m.id and m.string
               and m.string != m.id and "%(" not in m.id and "{" not in m.id
               and not m.id.startswith("<")}
    for tag in soup(["script", "style", "code"]):
        tag.decompose()
    # Text the lower layers write in English only is marked lang="en" on the page (said, not
    # hidden): it is not a string of the catalog left untranslated.
    for tag in soup.find_all(lang="en"):
        if tag.name != "html" and not tag.get("hreflang"):
            tag.decompose()
    # Stored records shown as written (a study's source line) are marked translate="no".
    for tag in soup.find_all(translate="no"):
        tag.decompose()
    nodes = [s.strip() for s in soup.stripped_strings]
    nodes += [t.get(a, "").strip() for t in soup.find_all(True)
              for a in ("aria-label", "placeholder", "title", "alt")]
    text = " ".join(nodes)
    exact = sorted({n for n in nodes if n in english})
    long = sorted(m for m in english if len(m) >= 30 and m in text)
    return exact + long


def _marked_english(soup: BeautifulSoup) -> list[str]:
    """The text of every element marked ``lang="en"`` on a page other than the document and
    the links to the English page (``hreflang``): English a lower layer wrote that the catalog
    did not translate."""
    return [t.get_text(" ", strip=True)[:120] for t in soup.find_all(lang="en")
            if t.name != "html" and not t.get("hreflang") and not t.find(hreflang=True)]


@pytest.mark.parametrize("path", PAGES)
def test_spanish_pages_hold_no_english_string_of_the_catalog(demo, spanish, path):
    response = demo.get("/es" + path)
    assert response.status_code == 200, (path, response.text[:300])
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.html["lang"] == "es"
    assert response.headers["content-language"] == "es"
    marked = _marked_english(soup)
    assert not marked, f"{path}: English of the lower layers on the Spanish page: {marked}"
    left = _english_left(soup, spanish)
    assert not left, f"{path}: English left on the Spanish page: {left}"
    english = BeautifulSoup(demo.get(path).text, "html.parser")
    assert english.html["lang"] == "en"
    assert _english_left(english, spanish), "the check finds English on the English page"


def test_an_intervention_page_is_spanish(demo, spanish):
    listing = BeautifulSoup(demo.get("/es/evidence").text, "html.parser")
    first = listing.select_one("#table-evidence tbody a")["href"]
    assert first.startswith("/es/evidence/")
    soup = BeautifulSoup(demo.get(first).text, "html.parser")
    assert soup.html["lang"] == "es"
    assert not _english_left(soup, spanish)
    assert not _marked_english(soup)


def test_every_intervention_page_is_spanish_with_its_ratings(demo, spanish):
    """Each intervention's ratings and reasons (written by ``upward.evidence.rating``) come
    out Spanish, with numbers the Spanish way."""
    listing = BeautifulSoup(demo.get("/es/evidence").text, "html.parser")
    links = [a["href"] for a in listing.select("#table-evidence tbody a")]
    assert links
    for href in links:
        soup = BeautifulSoup(demo.get(href).text, "html.parser")
        assert not _marked_english(soup), (href, _marked_english(soup))
        assert not _english_left(soup, spanish), href
        for headline in soup.select("p.headline[data-estimate]"):
            shown = headline.strong.get_text()
            expected = localise_numbers(format(float(headline["data-estimate"]), ",.4g"), "es")
            assert shown == expected, (href, shown, expected)


def test_error_pages_are_spanish(demo):
    response = demo.get("/es/nowhere")
    soup = BeautifulSoup(response.text, "html.parser")
    assert response.status_code == 404 and soup.h1.get_text() == "Página no encontrada"
    assert "No hay ninguna página en /nowhere." in soup.get_text()


def test_accept_language_chooses_and_the_prefix_wins(demo):
    spanish = demo.get("/metrics", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert 'lang="es"' in spanish.text and "Catálogo de indicadores" in spanish.text
    assert "Accept-Language" in spanish.headers["vary"]
    english = demo.get("/en/metrics", headers={"Accept-Language": "es"})
    assert 'lang="en"' in english.text and "Metric catalog" in english.text
    assert "vary" not in english.headers or "Accept-Language" not in english.headers["vary"]
    assert 'lang="en"' in demo.get("/metrics", headers={"Accept-Language": "fr, de"}).text


def test_switch_links_and_redirects_keep_the_language(demo):
    soup = BeautifulSoup(demo.get(f"/es/places/{DEMO_PLACE}").text, "html.parser")
    switch = soup.select_one(".language-switch a")
    assert switch["href"] == f"/en/places/{DEMO_PLACE}" and switch["lang"] == "en"
    assert soup.select_one('link[rel="alternate"]')["hreflang"] == "en"
    internal = [a["href"] for a in soup.find_all("a", href=True) if a["href"].startswith("/")]
    for href in internal:
        assert href.startswith(("/es/", "/en/", "/api/", "/static/")), href
    assert soup.select_one("form.nav-search")["action"] == "/es/places"
    english = BeautifulSoup(demo.get(f"/places/{DEMO_PLACE}").text, "html.parser")
    assert english.select_one(".language-switch a")["href"] == f"/es/places/{DEMO_PLACE}"
    found = demo.get("/es/places", params={"q": DEMO_PLACE}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/es/places/{DEMO_PLACE}"


def test_spanish_scorecard_numbers_use_the_decimal_comma(demo):
    soup = BeautifulSoup(demo.get(f"/es/places/{DEMO_PLACE}").text, "html.parser")
    rows = {tr["data-key"]: tr for tr in soup.select("#table-scorecard tbody tr[data-key]")}
    cell = rows["share_employed"].select("td")[0]
    value = float(cell["data-value"])
    with use_language("es"):
        assert cell.get_text() == format_value(value, "share")
    assert "," in cell.get_text() and "%" in cell.get_text()
    header = [th.get_text() for th in soup.select("#table-scorecard thead th")]
    assert header[:3] == ["Indicador", "Valor", "Intervalo del 95 %"]


def test_the_place_report_in_spanish(spanish):
    from upward.report.place import render_place_report
    from upward.warehouse.store import Warehouse

    ws = demo_workspace()
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        html = render_place_report(wh, DEMO_PLACE, lang="es")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "es"
    assert "Informe de movilidad ascendente" in soup.title.get_text()
    assert soup.select_one("#scorecard").get_text() == "Cuadro de indicadores"
    assert not _english_left(soup, spanish)
    # the captions, facts and notes the report writes are Spanish; only the names of the
    # datasets (the registry's English labels) stay marked English, and no sentence
    captions = [c.get_text(" ", strip=True) for c in soup.find_all("figcaption")]
    assert captions and all(c.startswith(("Fuente:", "Valores:")) for c in captions), captions
    assert not any("quality:" in c or "Source:" in c for c in captions)
    sentences = [t for t in _marked_english(soup) if ". " in t or ": " in t or "(" in t]
    assert not sentences, sentences


def test_the_briefing_in_spanish(spanish):
    from upward.report.brief import render_brief
    from upward.warehouse.store import Warehouse

    ws = demo_workspace()
    with Warehouse(ws.warehouse_path, read_only=True) as wh:
        html = render_brief(wh, DEMO_PLACE, lang="es")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "es"
    assert soup.select_one("#key-numbers").get_text() == "Cifras clave"
    assert soup.select_one("#summary").get_text() == "En resumen"
    # the key numbers say better/worse in Spanish, the largest barriers are Spanish sentences
    standing = soup.select("#key-numbers ~ table td[class^=standing-]")
    assert standing and all(re.match(r"(mejor|peor|más alto) que el \d+\xa0%|—$",
                                      td.get_text()) for td in standing)
    assert not _english_left(soup, spanish)


def test_a_summary_sentence_renders_in_spanish():
    """A sentence ``upward.diagnose.summary`` writes (in English, as a catalog message) comes
    out of ``summary_html`` in Spanish, with its glossary definitions, numbers and ordinals
    written the Spanish way; English stays English."""
    from upward.core.text import N_, ordinal
    from upward.diagnose.summary import GLOSSARY, STANDING, Sentence, Summary
    from upward.report.summary import summary_html

    mobility = N_("Children from low-income families (p25) who grew up in {where} reached on "
                  "average the {rank} percentile of US household income in their mid-30s (kfr),"
                  " where 50 is the national middle.", where="Tulsa", rank=ordinal(41.4))
    standing = N_(STANDING["better", "cities"], place="Tulsa", n=40, better=7, worse=3)
    summary = Summary("Tulsa", [Sentence(mobility, "outcomes"), Sentence(standing, "scorecard")],
                      terms={"percentile": GLOSSARY["percentile"]})
    assert mobility.startswith("Children from low-income families (p25) who grew up in Tulsa "
                               "reached on average the 41st percentile")
    with use_language("es"):
        html = str(summary_html(summary, {}))
    soup = BeautifulSoup(html, "html.parser")
    text = " ".join(soup.get_text().split())
    assert "Los niños de familias de bajos ingresos (p25) que crecieron en Tulsa" in text
    assert "al percentil 41 del ingreso" in text and "41st" not in text
    assert "de 40 indicadores" in text and "en el tercio mejor en 7" in text
    assert "la proporción de todos los valores que quedan por debajo de este" in text
    assert not _marked_english(soup)
    english = " ".join(BeautifulSoup(str(summary_html(summary, {})), "html.parser")
                       .get_text().split())
    assert "reached on average the 41st percentile" in english and "of 40 measures" in english


def test_a_sentence_without_a_translation_is_marked_english():
    from upward.core.text import N_
    from upward.diagnose.summary import Sentence, Summary
    from upward.report.summary import summary_html

    summary = Summary("x", [Sentence(N_("A sentence {n} nobody translated.", n=2), "scorecard")])
    with use_language("es"):
        soup = BeautifulSoup(str(summary_html(summary, {})), "html.parser")
    assert _marked_english(soup) == ["A sentence 2 nobody translated."]


def test_spanish_us_standing_says_better_or_worse_like_the_english(demo):
    """The scorecard's US standing in Spanish reads "mejor/peor que el N %" with the same side
    and share as the English "better/worse than N%" (it read "43 de 41": a bare percentile
    that hid which way is better, next to the count of places)."""
    def standings(prefix: str) -> list[str]:
        soup = BeautifulSoup(demo.get(f"{prefix}/places/{DEMO_PLACE}").text, "html.parser")
        return [row.find_all(["th", "td"])[-1].get_text(" ", strip=True)
                for row in soup.select("#table-scorecard tr[data-key]")]

    english, spanish = standings(""), standings("/es")
    assert len(english) == len(spanish) > 10
    for en, es in zip(english, spanish, strict=True):
        share = re.search(r"(\d+)%", en)
        if "better than" in en:
            assert es.startswith("mejor que el") and f"{share.group(1)}\xa0%" in es, (en, es)
        elif "worse than" in en:
            assert es.startswith("peor que el") and f"{share.group(1)}\xa0%" in es, (en, es)


@pytest.mark.parametrize("unit", sorted({m.unit for m in all_metrics()}))
def test_spanish_values_have_the_english_scale(unit):
    """A value written in Spanish is the same number as in English, on the same scale (a
    0-1 rank read 36.0 in English and 0,360 in Spanish)."""
    from upward.measure.render import format_value as english

    def number(text: str, decimal: str, group: str) -> float:
        digits = re.sub(r"[^\d" + re.escape(decimal + group) + r"-]", "", text)
        return float(digits.replace(group, "").replace(decimal, "."))

    for value in (0.36, 0.0421, 7.5, 47.19, 312.3, 67900.0):
        en, es = english(value, unit), format_value(value, unit, "es")
        assert number(es, ",", ".") == pytest.approx(number(en, ".", ","), rel=1e-3), \
            (unit, value, en, es)


def _numbers(text: str, decimal: str, group: str) -> list[float]:
    found = re.findall(r"-?\d[\d" + re.escape(decimal + group) + r"]*", text)
    values = [float(m.rstrip(decimal + group).replace(group, "").replace(decimal, "."))
              for m in found]
    return [v for v in values if not 1900 < v < 2100]  # years are written alike


@pytest.mark.parametrize("path", [f"/places/{DEMO_PLACE}", f"/places/{DEMO_PLACE}/barriers",
                                  f"/places/{DEMO_PLACE}/metrics/pctl_income_50",
                                  f"/compare?places={DEMO_PLACE}&places=9935100"])
def test_every_table_holds_the_same_numbers_in_both_languages(demo, path):
    """Each table cell of a Spanish page reads as the same numbers as the English cell (the
    chart tables said "45,152 $" for $45,152 — forty-five in Spanish — because their values
    were written in Spanish and then localised a second time)."""
    english = BeautifulSoup(demo.get(path).text, "html.parser").select("td")
    spanish = BeautifulSoup(demo.get("/es" + path).text, "html.parser").select("td")
    assert len(english) == len(spanish) > 0
    for en, es in zip(english, spanish, strict=True):
        a = _numbers(en.get_text(" "), ".", ",")
        b = _numbers(es.get_text(" "), ",", ".")
        if len(a) == len(b):
            assert b == pytest.approx(a, rel=1e-9), (en.get_text(" ", strip=True),
                                                     es.get_text(" ", strip=True))


def test_a_sentence_naming_neighbourhoods_is_spanish():
    """Real tracts have neighbourhood names (Tulsa's "Lacy Park"), the demo's only "Census
    Tract N": a list of names inside a message is data, so the sentence still translates (it
    stayed English, marked lang="en", on Tulsa's Spanish page)."""
    from upward.core.text import N_, english_list
    from upward.report.i18n import tr

    sentence = N_("Within {place}, children from low-income families did least well {where}, "
                  "about {lowest} a year at 35, against {median} in the middle tract of {n}"
                  "{cluster}.", place="Tulsa",
                  where=N_("in {places}", places=english_list(["Lacy Park", "Northridge"])),
                  lowest="$16,287", median="$30,666", n=132, cluster="")
    with use_language("es"):
        shown = str(tr(sentence))
    assert 'lang="en"' not in shown and "Lacy Park y Northridge" in shown
    assert "16.287" in shown and shown.startswith("Dentro de Tulsa")
