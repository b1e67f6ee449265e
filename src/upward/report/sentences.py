"""The barrier report's sentences in the reader's language.

``upward.diagnose`` writes each finding as one English sentence (``Finding.sentence``: the
terminal, Markdown and the English pages use it as it is). Pages and reports in another
language write the same sentence from the same numbers here, so no English is left in them.

Examples
--------
>>> from upward.diagnose.report import MetricGap
>>> from upward.report.i18n import use_language
>>> g = MetricGap("pctl_income_50", "Median household income", "W", "dollars", "higher",
...     36700, 34400, 40800, 1, "2021", 45000, 10, 9, None, None, None, 50000, 486, 0.97,
...     None, None, None, True, True, True, True, "")
>>> with use_language("es"):
...     finding_sentence(g, "place")
'Ingreso mediano del hogar: 36.700\\xa0$ (34.400\\xa0$–40.800\\xa0$, 2021), más bajo que en 9 de 10 ciudades pares y en el 97\\xa0% de las ciudades de EE. UU.'
"""

from __future__ import annotations

from upward.report.i18n import format_decimal, format_value, localise_numbers
from upward.report.i18n import gettext as _


def finding_sentence(g, level: str) -> str:
    """One plain sentence from a metric's gap (``upward.diagnose.report.MetricGap``) in the
    current language: its value, interval and year, and how many peers and what share of US
    places or counties do better.

    >>> from upward.diagnose.report import MetricGap
    >>> g = MetricGap("pctl_income_50", "Median household income", "W", "dollars", "higher",
    ...     36700, 34400, 40800, 1, "2021", 45000, 10, 9, None, None, None, 50000, 486, 0.97,
    ...     None, None, None, True, True, True, True, "")
    >>> finding_sentence(g, "place")
    'Median household income is $36,700 ($34,400–$40,800, 2021), lower than 9 of 10 peer cities and 97% of US cities.'
    """
    comparison = {"higher": _("lower than {places}"), "lower": _("higher than {places}"),
                  "parity": _("further from parity than {places}")}.get(
        g.direction, _("different from {places}"))
    value = format_value(g.estimate, g.unit)
    interval = (f"{format_value(g.lb, g.unit)}–{format_value(g.ub, g.unit)}, "
                if g.lb is not None and g.ub is not None else "")
    parts = []
    if g.peers_better is not None and g.peer_n:
        peers = (_("{better} of {n} peer cities") if level == "place"
                 else _("{better} of {n} peer counties"))
        parts.append(peers.format(better=g.peers_better, n=g.peer_n))
    if g.national_share_better is not None:
        share = format_decimal(100 * g.national_share_better, "0")
        nation = (_("{share}% of US cities") if level == "place"
                  else _("{share}% of US counties"))
        parts.append(nation.format(share=share))
    head = _("{label} is {value} ({interval}{period})").format(
        label=_(g.label), value=value, interval=interval, period=g.period)
    if not parts:
        return head + "."
    places = (parts[0] if len(parts) == 1 else
              _("{peers} and {nation}").format(peers=parts[0], nation=parts[1]))
    text = _("{head}, {comparison}.").format(head=head, comparison=comparison.format(
        places=places))
    return text.replace("..", ".")  # an abbreviation at the end ("EE. UU.") keeps one point


__all__ = ["finding_sentence"]


def _percent(x: float) -> str:
    return localise_numbers(f"{x:.0f}%")


def standing_short(percentile: float | None, direction: str) -> str:
    """``upward.measure.standing.standing_short`` in the current language: "better than
    80%", "worse than 95%" or, without a better side, "higher than 40%".

    >>> from upward.report.i18n import use_language
    >>> standing_short(95.0, "lower")
    'worse than 95%'
    >>> with use_language("es"):
    ...     standing_short(95.0, "lower")
    'peor que el 95\\xa0%'
    """
    from upward.measure.standing import _missing, better_than

    if _missing(percentile):
        return "—"
    better = better_than(percentile, direction)
    if better is None:
        return _("higher than {share}").format(share=_percent(percentile))
    if better >= 50:
        return _("better than {share}").format(share=_percent(better))
    return _("worse than {share}").format(share=_percent(100 - better))


def standing_text(percentile: float | None, direction: str, n: int | None,
                  kind: str = "places") -> str:
    """``upward.measure.standing.standing_text`` in the current language (``kind``:
    ``cities`` or ``counties``).

    >>> standing_text(30.0, "higher", 486, "cities")
    'better than 30% of 486 US cities (worse than 70%)'
    """
    from upward.measure.standing import _missing, better_than

    if _missing(percentile):
        return _("no national comparison")
    if n:
        of = (_("of {n} US cities") if kind == "cities" else _("of {n} US counties")).format(
            n=format_decimal(n, "#,##0"))
    else:
        of = ""
    better = better_than(percentile, direction)
    if better is None:
        return _("higher than {share} {of} (no better or worse side)").format(
            share=_percent(percentile), of=of).replace("  ", " ")
    return _("better than {share} {of} (worse than {worse})").format(
        share=_percent(better), of=of, worse=_percent(100 - better)).replace("  ", " ")
