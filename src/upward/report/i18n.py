"""Translations: the language of the current request or report, gettext over the catalogs in
``upward/locale/<lang>/LC_MESSAGES/messages.mo`` (Babel), and numbers written the way each
language writes them (Babel's CLDR data: ``50,0 %`` and ``36.700 $`` in Spanish).

English is the source language: a message without a translation is shown in English. The
catalogs are made and checked by ``python -m upward.report.translations`` (see its docstring).

Metric labels, definitions and pillars live in ``metrics/catalog.toml`` in English only; their
Spanish is in the same ``messages.po`` as every other string (extracted from the TOML by
``upward.report.translations.extract_catalog``), so one catalog, one tool and one completeness
test cover the whole site, and a changed English definition shows up as untranslated.

Examples
--------
>>> with use_language("es"):
...     gettext("Scorecard"), format_value(0.25, "share"), format_value(36700.0, "dollars")
('Cuadro de indicadores', '25,0\\xa0%', '36.700\\xa0$')
>>> gettext("Scorecard"), format_value(0.25, "share")
('Scorecard', '25.0%')
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

#: Languages with a catalog; the first is the source language.
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
#: The language names shown on the switch, each in its own language.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("upward_language", default=DEFAULT_LANGUAGE)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English and unknown languages: no translation).

    >>> translations("es").gettext("Metric")
    'Indicador'
    """
    if lang == DEFAULT_LANGUAGE or lang not in LANGUAGES:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def current_language() -> str:
    """The language of the request or report being written.

    >>> current_language()
    'en'
    """
    return _current.get()


@contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Write in ``lang`` inside the ``with`` block (English for a language without a catalog).

    >>> with use_language("es"):
    ...     current_language()
    'es'
    """
    token = _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_language(lang: str) -> None:
    """Write in ``lang`` for the rest of this context (a request's task).

    >>> import contextvars
    >>> contextvars.copy_context().run(lambda: (set_language("es"), current_language())[1])
    'es'
    """
    _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def gettext(message: str) -> str:
    """``message`` in the current language.

    >>> gettext("Metric")
    'Metric'
    """
    if not message:
        return message
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message in the current language, by ``n``.

    >>> ngettext("%(num)d tract", "%(num)d tracts", 2) % {"num": 2}
    '2 tracts'
    """
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def tr(text, sep: str | None = None):
    """Text written by lower layers (methods, notes, sources, sentences) in the current
    language: its translation (``localise``) when the catalog has every piece of it, otherwise
    the English text marked ``lang="en"`` (as HTML) when the current language is another, so
    readers and screen readers know.

    >>> from upward.core.text import N_ as text
    >>> with use_language("es"):
    ...     tr("good"), str(tr("a method note")), tr(text("{n} sites", n=12))
    ('buena', '<span lang="en">a method note</span>', '12 sedes')
    >>> tr("a method note")
    'a method note'

    A list is translated item by item and joined by ``sep``:

    >>> with use_language("es"):
    ...     str(tr(["good", "a note"], "; "))
    'buena; <span lang="en">a note</span>'
    """
    from markupsafe import Markup, escape

    if isinstance(text, list | tuple):
        if _current.get() == DEFAULT_LANGUAGE:
            return (sep or "").join(str(t) for t in text)
        return escape(sep or "").join(escape(tr(t)) for t in text)
    if text is None or text == "":
        return ""
    if _current.get() == DEFAULT_LANGUAGE:
        return str(text)
    out = localise(text)
    if out is None:
        return Markup('<span lang="en">{}</span>').format(str(text))
    return out


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _in_catalog(message: str, lang: str) -> bool:
    catalog = getattr(translations(lang), "_catalog", {})
    return message in catalog or not re.search(r"[A-Za-z]", _PLACEHOLDER.sub("", message))


@cache
def _translated(lang: str) -> frozenset[str]:
    """Every translation of ``lang``'s catalog: text already written in ``lang`` (a page's
    ``_()`` string passed on to ``tr``) is kept as it is."""
    catalog = getattr(translations(lang), "_catalog", {})
    return frozenset(v for v in catalog.values() if isinstance(v, str) and v)


class _Number:
    """A number parameter: formatted by its spec in English, then written the ``lang`` way."""

    def __init__(self, value: float, lang: str) -> None:
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        return localise_numbers(format(self.value, spec), self.lang)


def localise(text, lang: str | None = None) -> str | None:
    """``text`` (a lower layer's ``upward.core.text.Text`` or a catalog string) in ``lang``:
    the template's translation with each parameter translated (catalog words, nested
    messages) or written the ``lang`` way (numbers, ordinals); ``None`` when a piece has no
    translation. Data (names, labels from files) passes through as it is.

    >>> from upward.core.text import N_ as text
    >>> localise(text("{overall:.0%} overall, {differential:.1f} points differential",
    ...     overall=0.25, differential=2.54), "es")
    '25\xa0% en total, 2,5 puntos de diferencia entre grupos'
    >>> localise(text("n = {n:,} together", n=1500), "es")
    'n = 1.500 en conjunto'
    >>> localise(text("an untranslated {x}", x=1), "es") is None
    True
    >>> from upward.core.text import english_list
    >>> localise(text("in {places}", places=english_list(["Lacy Park", "Northridge"])), "es")
    'en Lacy Park y Northridge'
    """
    from upward.core.text import Ordinal, Text

    lang = lang or _current.get()
    if lang == DEFAULT_LANGUAGE:
        return str(text)
    if isinstance(text, Text) and text.parts is not None:
        # joined pieces: messages are translated, plain strings are data (names) like params
        parts = [localise(p, lang) if isinstance(p, Text) else _data(str(p), lang)
                 for p in text.parts]
        return None if any(p is None for p in parts) else text.template.join(parts)
    if isinstance(text, Text) and text.params:
        if not _in_catalog(text.template, lang):
            return None
        params = {}
        for key, value in text.params.items():
            if isinstance(value, Text):
                value = localise(value, lang)
                if value is None:
                    return None
            elif isinstance(value, Ordinal):
                value = int(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                value = _Number(value, lang)
            elif isinstance(value, str):
                value = _data(value, lang)
            params[key] = value
        return translations(lang).gettext(text.template).format(**params)
    text = str(text)
    if text in _translated(lang):
        return text
    if not re.search(r"[A-Za-z]", text):
        return localise_numbers(text, lang)
    if not _in_catalog(text, lang):
        return None
    return translations(lang).gettext(text)


def _data(value: str, lang: str) -> str:
    """A plain string inside a message (a name, a label from a file): its catalog translation
    when it has one, else itself with numbers written the ``lang`` way."""
    translated = translations(lang).gettext(value) if value else value
    return translated if translated != value else localise_numbers(value, lang)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (module constants).

    >>> N_("Metric")
    'Metric'
    """
    return message


def negotiate(accept_language: str | None) -> str:
    """The best of ``LANGUAGES`` for an ``Accept-Language`` header (English when none fits).

    >>> negotiate("es-MX,es;q=0.9,en;q=0.8"), negotiate("fr, en;q=0.5"), negotiate(None)
    ('es', 'en', 'en')
    >>> negotiate("en-US,en;q=0.9,es;q=0.8")
    'en'
    """
    choices = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _eq, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > 0:
            choices.append((-q, i, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


def _babel_locale(lang: str) -> str:
    return {"en": "en_US", "es": "es"}.get(lang, "en_US")


def format_decimal(value: float, pattern: str, lang: str | None = None) -> str:
    """A number by a CLDR ``pattern`` in the current language.

    >>> format_decimal(1234.5, "#,##0.0", "es"), format_decimal(1234.5, "#,##0.0", "en")
    ('1.234,5', '1,234.5')
    """
    from babel.numbers import format_decimal as babel_decimal

    return babel_decimal(value, format=pattern, locale=_babel_locale(lang or _current.get()))


def format_value(value: float | None, unit: str, lang: str | None = None) -> str:
    """A value for people by catalog unit (``upward.measure.render.format_value``'s rules), in
    the current language's notation.

    >>> format_value(0.36, "rank", "es"), format_value(312.3, "rate per 100,000", "es")
    ('36,0', '312')
    >>> format_value(47.19, "percentile rank", "es"), format_value(67900.0, "count", "es")
    ('47,2', '67.900')
    >>> format_value(0.1105, "share", "es"), format_value(53082.0, "dollars", "es")
    ('11,1\xa0%', '53.082\xa0$')
    >>> format_value(None, "share", "es")
    '—'
    """
    from upward.measure.render import format_value as english

    lang = lang or _current.get()
    text = english(value, unit)
    # the English text in the language's notation: the same digits, rounding and scale
    return text if lang == DEFAULT_LANGUAGE or value is None else localise_numbers(text, lang)


_ENGLISH_NUMBER = re.compile(
    r"(?<![\w.,])(\$)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%)?(?![\w]|[.,]\d)")


def localise_numbers(text: str, lang: str | None = None) -> str:
    """Numbers inside text written in English notation (by the layers below, which write for
    the terminal), rewritten in ``lang``'s: thousands and decimal separators, dollars and
    percent. Plain integers such as years are left alone.

    >>> localise_numbers("▲ $1,250 2014–2021, 50.5% (p25), 0.361", "es")
    '▲ 1.250\xa0$ 2014–2021, 50,5\xa0% (p25), 0,361'
    >>> localise_numbers("50.5%", "en")
    '50.5%'
    """
    lang = lang or _current.get()
    if lang == DEFAULT_LANGUAGE or not text:
        return text

    def one(m: re.Match) -> str:
        dollar, whole, decimals, percent = m.groups()
        if not (dollar or percent or decimals or "," in whole):
            return m.group(0)
        number = whole.replace(",", ".") + ("," + decimals[1:] if decimals else "")
        return number + ("\u00a0%" if percent else "") + ("\u00a0$" if dollar else "")

    return _ENGLISH_NUMBER.sub(one, str(text))


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "N_",
    "current_language",
    "format_decimal",
    "format_value",
    "gettext",
    "localise",
    "localise_numbers",
    "negotiate",
    "ngettext",
    "set_language",
    "tr",
    "translations",
    "use_language",
]
