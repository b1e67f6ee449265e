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


def tr(text):
    """Text written by lower layers (methods, notes, sources) in the current language: its
    translation when the catalog has one, otherwise the English text marked ``lang="en"`` (as
    HTML) when the current language is another, so readers and screen readers know.

    >>> with use_language("es"):
    ...     tr("good"), str(tr("a method note"))
    ('buena', '<span lang="en">a method note</span>')
    >>> tr("a method note")
    'a method note'
    """
    from markupsafe import Markup

    if text is None or text == "":
        return ""
    text = str(text)
    out = gettext(text)
    if out == text and _current.get() != DEFAULT_LANGUAGE:
        return Markup('<span lang="en">{}</span>').format(text)
    return out


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
    ('0,360', '312')
    >>> format_value(None, "share", "es")
    '—'
    """
    from upward.measure.render import format_value as english

    lang = lang or _current.get()
    if lang == DEFAULT_LANGUAGE or value is None:
        return english(value, unit)
    from babel.numbers import format_percent

    locale = _babel_locale(lang)
    if unit == "dollars":
        return format_decimal(value, "#,##0", lang) + "\u00a0$"
    if unit == "share":
        return format_percent(value, format="#,##0.0\u00a0%", locale=locale)
    if unit == "rank":
        return format_decimal(value, "0.000", lang)
    if abs(value) >= 100:
        return format_decimal(value, "#,##0", lang)
    if abs(value) >= 10:
        return format_decimal(value, "0.0", lang)
    return format_decimal(value, "@##", lang) if value else "0"


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
    "localise_numbers",
    "negotiate",
    "ngettext",
    "set_language",
    "translations",
    "use_language",
]
