"""Money in real dollars (upward.evidence.money): conversions use the BLS CPI-U annual averages
that the ``cpi`` package ships (series CUUR0000SA0), read here from the package's own table of
the series, not typed by hand; the package's stale-data warning is silenced and the year its
data end is stated instead."""

from __future__ import annotations

import warnings

import pytest

from upward.core.errors import ConfigError
from upward.evidence import money

YEARS = (1982, 2000, 2015)


@pytest.fixture(scope="module")
def bls_table():
    """The CPI-U rows as the package stores them (annual averages and monthly values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpi

        frame = cpi.series.get().to_dataframe()
    assert set(frame["series_id"]) == {money.SERIES}
    return frame


def annual(frame, year: int) -> float:
    rows = frame[(frame["year"] == year) & (frame["period_type"] == "annual")]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


@pytest.mark.parametrize("year", YEARS)
def test_index_is_the_bls_annual_average(bls_table, year):
    """The index of a year is the BLS annual average, which BLS computes as the mean of the
    twelve monthly values (rounded to three decimals)."""
    value = annual(bls_table, year)
    assert money.index(year) == value
    months = bls_table[(bls_table["year"] == year) & (bls_table["period_type"] == "monthly")]
    assert len(months) == 12
    assert months["value"].astype(float).mean() == pytest.approx(value, abs=0.0015)


def test_conversions_between_three_years(bls_table):
    for a in YEARS:
        for b in YEARS:
            expected = 1000.0 * annual(bls_table, b) / annual(bls_table, a)
            assert money.to_constant(1000.0, a, b) == pytest.approx(expected, rel=1e-12)
    # prices rose over these years, so older dollars are worth more of today's
    assert money.to_constant(1000.0, 1982, 2015) > money.to_constant(1000.0, 2000, 2015) > 1000


def test_default_year_is_the_latest_cpi_year_and_no_warning_escapes(bls_table):
    latest = int(bls_table[bls_table["period_type"] == "annual"]["year"].max())
    assert money.latest_year() == latest
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert money.to_constant(100.0, 2015) == pytest.approx(
            100.0 * annual(bls_table, latest) / annual(bls_table, 2015))
    assert money.cpi_note().startswith(f"{latest} dollars")


def test_a_year_outside_the_data_is_refused():
    with pytest.raises(ConfigError, match="no CPI-U annual average for 1900"):
        money.index(1900)
    with pytest.raises(ConfigError):
        money.to_constant(1.0, 2015, money.latest_year() + 1)


def test_a_dollar_figure_without_its_year_is_shown_as_written():
    known = money.Dollars.of(1000.0, 2015, 2015)
    assert known.value == 1000.0 and known.text() == "$1,000 (2015 dollars)"
    unknown = money.Dollars.of(1000.0, None, 2015)
    assert unknown.value is None and "not converted" in unknown.text()


@pytest.mark.parametrize(("value", "low", "high", "expected"), [
    (1234.5678, 1000.0, 1500.0, 1230.0),    # width 500: to the tens
    (1234.5678, 1234.0, 1235.0, 1234.6),    # width 1: to the tenth
    (0.0284, 0.0104, 0.0456, 0.028),        # width 0.035: to the thousandth
    (-512.0, -900.0, -100.0, -510.0),
])
def test_rounding_follows_the_interval(value, low, high, expected):
    assert money.round_to_interval(value, low, high) == pytest.approx(expected)
