"""Date and dateTime literals, relative date ranges, and the canonical dateTime format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmsync.emulators.salesforce.soql.dates import (
    FIXED_DATE_LITERALS,
    N_DATE_LITERALS,
    date_literal,
    datetime_literal,
    format_datetime,
    literal_range,
)

WED = date(2024, 5, 15)  # a Wednesday; weeks start on the Sunday before, 2024-05-12


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("YESTERDAY", None, "2024-05-14", "2024-05-15"),
        ("TODAY", None, "2024-05-15", "2024-05-16"),
        ("TOMORROW", None, "2024-05-16", "2024-05-17"),
        ("LAST_WEEK", None, "2024-05-05", "2024-05-12"),
        ("THIS_WEEK", None, "2024-05-12", "2024-05-19"),
        ("NEXT_WEEK", None, "2024-05-19", "2024-05-26"),
        ("LAST_MONTH", None, "2024-04-01", "2024-05-01"),
        ("THIS_MONTH", None, "2024-05-01", "2024-06-01"),
        ("NEXT_MONTH", None, "2024-06-01", "2024-07-01"),
        ("LAST_90_DAYS", None, "2024-02-15", "2024-05-16"),  # includes today: 91 days
        ("NEXT_90_DAYS", None, "2024-05-16", "2024-08-14"),  # starts tomorrow
        ("LAST_QUARTER", None, "2024-01-01", "2024-04-01"),
        ("THIS_QUARTER", None, "2024-04-01", "2024-07-01"),
        ("NEXT_QUARTER", None, "2024-07-01", "2024-10-01"),
        ("LAST_YEAR", None, "2023-01-01", "2024-01-01"),
        ("THIS_YEAR", None, "2024-01-01", "2025-01-01"),
        ("NEXT_YEAR", None, "2025-01-01", "2026-01-01"),
        ("LAST_N_DAYS", 7, "2024-05-08", "2024-05-16"),
        ("NEXT_N_DAYS", 7, "2024-05-16", "2024-05-23"),
        ("LAST_N_WEEKS", 2, "2024-04-28", "2024-05-12"),
        ("NEXT_N_WEEKS", 2, "2024-05-19", "2024-06-02"),
        ("LAST_N_MONTHS", 2, "2024-03-01", "2024-05-01"),
        ("NEXT_N_MONTHS", 2, "2024-06-01", "2024-08-01"),
        ("LAST_N_QUARTERS", 1, "2024-01-01", "2024-04-01"),
        ("NEXT_N_QUARTERS", 2, "2024-07-01", "2025-01-01"),
        ("LAST_N_YEARS", 2, "2022-01-01", "2024-01-01"),
        ("NEXT_N_YEARS", 1, "2025-01-01", "2026-01-01"),
    ],
)
def test_ranges(name: str, n: int | None, start: str, end: str) -> None:
    assert literal_range(name, n, WED) == (d(start), d(end))


def test_week_starting_on_sunday() -> None:
    sunday = date(2024, 5, 12)
    assert literal_range("THIS_WEEK", None, sunday) == (sunday, date(2024, 5, 19))
    saturday = date(2024, 5, 18)
    assert literal_range("THIS_WEEK", None, saturday) == (sunday, date(2024, 5, 19))


def test_ranges_across_year_ends() -> None:
    new_year = date(2024, 1, 1)
    assert literal_range("LAST_MONTH", None, new_year) == (date(2023, 12, 1), new_year)
    assert literal_range("YESTERDAY", None, new_year) == (date(2023, 12, 31), new_year)
    assert literal_range("LAST_QUARTER", None, new_year) == (date(2023, 10, 1), new_year)
    december = date(2024, 12, 31)
    assert literal_range("NEXT_MONTH", None, december) == (date(2025, 1, 1), date(2025, 2, 1))


def test_huge_n_is_clamped_not_an_error() -> None:
    start, end = literal_range("LAST_N_DAYS", 10**9, WED)
    assert (start, end) == (date.min, date(2024, 5, 16))
    assert literal_range("NEXT_N_YEARS", 10**6, WED)[1] == date.max


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_every_range_is_non_empty_and_this_ranges_hold_today(today: date) -> None:
    for name in FIXED_DATE_LITERALS:
        start, end = literal_range(name, None, today)
        assert start < end
        if name.startswith("THIS_") or name in ("TODAY", "LAST_90_DAYS"):
            assert start <= today < end, name
    for name in N_DATE_LITERALS:
        start, end = literal_range(name, 3, today)
        assert start < end


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000+0000"),
        ("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.500+0000"),
        ("2024-01-01T00:00:00.123456Z", "2024-01-01T00:00:00.123+0000"),
        ("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.000+0000"),  # simple-salesforce's format
        ("2024-01-01T01:30:00+02:00", "2023-12-31T23:30:00.000+0000"),
        ("2024-12-31T20:00:00-08:00", "2025-01-01T04:00:00.000+0000"),
        ("2024-01-01t00:00:00z", "2024-01-01T00:00:00.000+0000"),
    ],
)
def test_datetime_literal(text: str, canonical: str) -> None:
    assert datetime_literal(text) == canonical


@pytest.mark.parametrize(
    "text", ["2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01T25:00:00Z", "x"]
)
def test_invalid_datetime_literal(text: str) -> None:
    with pytest.raises(ValueError, match=text[:4]):
        datetime_literal(text)


def test_date_literal() -> None:
    assert date_literal("2024-02-29") == "2024-02-29"
    with pytest.raises(ValueError, match="2023"):
        date_literal("2023-02-29")


def test_format_datetime() -> None:
    assert (
        format_datetime(datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2024-01-02T03:04:05.678+0000"
    )
    plus_two = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2024, 1, 2, 1, 0, tzinfo=plus_two)) == "2024-01-01T23:00:00.000+0000"
    assert format_datetime(datetime(2024, 1, 2)) == "2024-01-02T00:00:00.000+0000"  # naive means UTC


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_canonical_strings_sort_in_time_order(a: datetime, b: datetime) -> None:
    a, b = (
        a.replace(microsecond=a.microsecond // 1000 * 1000),
        b.replace(microsecond=b.microsecond // 1000 * 1000),
    )
    assert (format_datetime(a) < format_datetime(b)) == (a < b)
