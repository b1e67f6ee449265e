"""Text the lower layers write for people, kept translatable without knowing any language but
English (they never import ``upward.report.i18n``).

A lower layer writes a sentence as ``N_("... {name} ...", name=value)``: the result *is* the
English sentence (a ``str``: the terminal, JSON and English pages use it as it is), and it also
keeps its message template and parameters, so the report and web layers can translate the
template from the catalog and write the numbers the reader's way
(``upward.report.i18n.tr``). ``N_`` with a literal first argument is also the marker the
catalog extractor looks for (``babel.cfg``), so every template is in ``messages.po``.

- ``N_(template, **params)``: a ``Text``;
- ``joined(sep, items)``: items joined, each still translatable;
- ``ordinal(n)``: 46 written "46th" in English; other languages write it their way.

Examples
--------
>>> t = N_("{who} reached the {rank} percentile", who="Children", rank=ordinal(46))
>>> t, t.template, sorted(t.params)
('Children reached the 46th percentile', '{who} reached the {rank} percentile', ['rank', 'who'])
>>> joined("; ", [N_("one site"), "n = {n}"])
'one site; n = {n}'
>>> english_list(["a", "b", "c"])
'a, b and c'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Text(str):
    """An English sentence and the message it was written from (``template``, ``params``).

    >>> t = Text("{n} sites", n=3)
    >>> t == "3 sites", t.template, dict(t.params)
    (True, '{n} sites', {'n': 3})
    """

    template: str
    params: Mapping[str, object]
    parts: tuple | None

    def __new__(cls, template: str, /, **params: object) -> Text:
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template = template
        self.params = params
        self.parts = None
        return self

    def __reduce__(self):
        return _rebuild, (str(self), self.template, dict(self.params), self.parts)


def _rebuild(text: str, template: str, params: dict, parts: tuple | None) -> Text:
    out = str.__new__(Text, text)
    out.template, out.params, out.parts = template, params, parts
    return out


def N_(template: str, /, **params: object) -> Text:
    """``template`` marked for the catalog, with ``params`` filled in (``str.format``).

    >>> N_("one site"), N_("{n:.2f} points", n=0.456)
    ('one site', '0.46 points')
    """
    return Text(template, **params)


def joined(sep: str, items: Iterable[object]) -> Text:
    """``sep.join(items)`` that keeps each item translatable (``sep`` is punctuation).

    >>> j = joined(", ", [N_("one site"), N_("{n} sites", n=2)])
    >>> j, len(j.parts)
    ('one site, 2 sites', 2)
    """
    items = tuple(items)
    return _rebuild(sep.join(str(i) for i in items), sep, {}, items)


def english_list(items: list[object]) -> Text:
    """Items joined the English way ("a, b and c"; "a; b; and c" when an item has a comma),
    translatable.

    >>> english_list(["a"]), english_list(["a", "b"]), english_list(["a, 1", "b", "c"])
    ('a', 'a and b', 'a, 1; b; and c')
    """
    items = list(items)
    if len(items) <= 1:
        return joined("", items)
    if any("," in str(x) for x in items):
        return N_("{items}; and {last}", items=joined("; ", items[:-1]), last=items[-1])
    return N_("{items} and {last}", items=joined(", ", items[:-1]), last=items[-1])


def error_text(exc: BaseException) -> str:
    """An ``UpwardError`` as its ``str`` says it ("problem. What to do: fix"), translatable
    when its message and fix are.

    >>> from upward.core.errors import ConfigError
    >>> t = error_text(ConfigError(N_("no data"), fix=N_("load it")))
    >>> t, t.template
    ('no data. What to do: load it', '{problem}. What to do: {fix}')
    """
    message, fix = getattr(exc, "message", None), getattr(exc, "fix", None)
    if message is None:
        return str(exc)
    return N_("{problem}. What to do: {fix}", problem=message, fix=fix) if fix else message


class Ordinal(int):
    """A rank written as an English ordinal ("46th"); ``format`` with a spec writes the number.

    >>> str(ordinal(41)), f"{ordinal(12)}", f"{ordinal(23)}", int(ordinal(2))
    ('41st', '12th', '23rd', 2)
    """

    def __str__(self) -> str:
        n = int(self)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else int.__format__(int(self), spec)


def ordinal(x: float) -> Ordinal:
    """``x`` rounded, written as an ordinal.

    >>> ordinal(45.6)
    46
    >>> str(ordinal(45.6))
    '46th'
    """
    return Ordinal(round(x))


__all__ = ["N_", "Ordinal", "Text", "english_list", "error_text", "joined", "ordinal"]
