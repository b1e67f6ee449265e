"""Money in real dollars: every dollar figure carries its year and is shown in constant dollars
of one year, with the BLS CPI-U (all items, U.S. city average, not seasonally adjusted, series
``CUUR0000SA0``) annual averages that the ``cpi`` package ships offline. No index is typed by
hand.

The package warns (``StaleDataWarning``) when its data are older than a few months; offline
that is expected, so the warning is silenced here and the year the data end is said instead
(:func:`latest_year`, :func:`cpi_note`).

Examples
--------
>>> to_constant(100.0, 2015, 2015)
100.0
>>> to_constant(100.0, 2015, 2020) > 100
True
>>> latest_year() >= 2024
True
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from functools import cache

from upward.core.errors import ConfigError
from upward.core.text import N_

SERIES = "CUUR0000SA0"
SERIES_LABEL = N_("CPI-U, all items, U.S. city average (BLS), annual average")


@cache
def _cpi():
    # The package warns (StaleDataWarning, and a log line) that its offline data are not
    # today's; they end at a known year, which every figure states (cpi_note).
    logger = logging.getLogger("cpi")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import cpi
    finally:
        logger.setLevel(level)
    return cpi


def latest_year() -> int:
    """The latest year with a full CPI-U annual average in the offline data.

    >>> isinstance(latest_year(), int)
    True
    """
    return int(_cpi().LATEST_YEAR)


def index(year: int) -> float:
    """The CPI-U annual average of ``year``; ``ConfigError`` outside the data.

    >>> index(1913) < index(1950)
    True
    >>> index(1850)
    Traceback (most recent call last):
    ...
    upward.core.errors.ConfigError: no CPI-U annual average for 1850 (the data cover 1913-...). What to do: ...
    """
    cpi = _cpi()
    first = 1913
    if not first <= int(year) <= latest_year():
        raise ConfigError(f"no CPI-U annual average for {year} (the data cover {first}-"
                          f"{latest_year()})", fix=f"choose a dollar year from {first} to "
                          f"{latest_year()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cpi.get(int(year)))


def factor(from_year: int, to_year: int) -> float:
    """The multiplier from ``from_year`` dollars to ``to_year`` dollars (ratio of the indices).

    >>> factor(2000, 2000)
    1.0
    """
    return index(to_year) / index(from_year)


def to_constant(amount: float, from_year: int, to_year: int | None = None) -> float:
    """``amount`` of ``from_year`` dollars in dollars of ``to_year`` (default: latest year).

    >>> round(to_constant(1000, 2020, 2020))
    1000
    """
    return amount * factor(from_year, to_year or latest_year())


def cpi_note(to_year: int | None = None) -> str:
    """One line saying which dollars figures are in and what converted them.

    >>> cpi_note(2020).startswith("2020 dollars")
    True
    """
    return N_("{year} dollars, converted with the {series}", year=to_year or latest_year(),
              series=SERIES_LABEL)


@dataclass(frozen=True)
class Dollars:
    """A dollar figure with its year, and the same figure in constant dollars of ``year``.

    >>> d = Dollars.of(1000, 2020, 2020)
    >>> d.text()
    '$1,000 (2020 dollars)'
    >>> Dollars.of(1000, None, 2020).text()
    '$1,000 (dollar year not stated; not converted)'
    """

    amount: float
    amount_year: int | None
    value: float | None
    year: int

    @classmethod
    def of(cls, amount: float, amount_year: int | None, year: int | None = None) -> Dollars:
        """``amount`` of ``amount_year`` dollars, converted to ``year`` (default: latest)."""
        year = year or latest_year()
        value = None if amount_year is None else to_constant(amount, amount_year, year)
        return cls(amount, amount_year, value, year)

    def text(self) -> str:
        """The figure as readers see it: constant dollars with their year, or the amount as
        written when its year is unknown."""
        amount = f"${self.amount:,.0f}"
        if self.value is None:
            return N_("{amount} (dollar year not stated; not converted)", amount=amount)
        value = f"${self.value:,.0f}"
        if self.amount_year != self.year:
            return N_("{value} ({year} dollars; {amount} in {amount_year} dollars)",
                      value=value, year=self.year, amount=amount, amount_year=self.amount_year)
        return N_("{value} ({year} dollars)", value=value, year=self.year)


def round_to_interval(value: float, low: float | None, high: float | None) -> float:
    """``value`` rounded to the precision its interval supports: to the power of ten at or
    below a tenth of the interval's width (no more digits than the uncertainty allows).

    >>> round_to_interval(123456.0, 100000.0, 150000.0)
    123000.0
    >>> round_to_interval(0.01234, 0.0, 0.03)
    0.012
    >>> round_to_interval(5.5, None, None)
    5.5
    """
    if low is None or high is None or not math.isfinite(high - low) or high <= low:
        return value
    step = 10 ** math.floor(math.log10((high - low) / 10))
    return float(round(round(value / step) * step, 12))
