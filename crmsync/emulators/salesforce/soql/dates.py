"""Dates and dateTimes: SOQL literals, relative date literals, and the canonical row format.

Rows hold dateTimes as ``YYYY-MM-DDTHH:MM:SS.mmm+0000`` (UTC), so converting every literal
to that form lets the engine compare dateTimes as plain strings.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

FIXED_DATE_LITERALS = frozenset(
    {
        "YESTERDAY",
        "TODAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "LAST_QUARTER",
        "THIS_QUARTER",
        "NEXT_QUARTER",
        "LAST_YEAR",
        "THIS_YEAR",
        "NEXT_YEAR",
    }
)
N_DATE_LITERALS = frozenset(
    {
        "LAST_N_DAYS",
        "NEXT_N_DAYS",
        "LAST_N_WEEKS",
        "NEXT_N_WEEKS",
        "LAST_N_MONTHS",
        "NEXT_N_MONTHS",
        "LAST_N_QUARTERS",
        "NEXT_N_QUARTERS",
        "LAST_N_YEARS",
        "NEXT_N_YEARS",
    }
)

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))\Z"
)


def format_datetime(value: datetime) -> str:
    """``value`` in the canonical row format, ``2024-01-31T09:05:00.000+0000`` (UTC, milliseconds)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # Spelled out rather than strftime: %Y does not zero-pad years before 1000 on glibc.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d}+0000"
    )


def datetime_literal(text: str) -> str:
    """The canonical UTC form of a SOQL dateTime literal; ValueError when it names no instant."""
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(f"not a dateTime: {text}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, sign, off_hours, off_minutes = match.groups()[6:]
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    try:
        value = datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=UTC)
        if sign is not None:
            offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
            # A local time at +hh:mm is that much ahead of UTC, so subtract to reach UTC.
            value = value - offset if sign == "+" else value + offset
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a dateTime: {text} ({exc})") from None
    return format_datetime(value)


def date_literal(text: str) -> str:
    """A SOQL date literal ``YYYY-MM-DD``, validated; ValueError when it names no day."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise ValueError(f"not a date: {text} ({exc})") from None


def day_start(day: date) -> str:
    """Midnight UTC of ``day`` in the canonical dateTime format."""
    return f"{day.isoformat()}T00:00:00.000+0000"


def literal_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The half-open range of days [start, end) a relative date literal covers on ``today``."""
    week = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday (en_US)
    month = today.replace(day=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year = date(today.year, 1, 1)
    count = n or 0
    ranges: dict[str, tuple[date, date]] = {
        "YESTERDAY": (_days(today, -1), today),
        "TODAY": (today, _days(today, 1)),
        "TOMORROW": (_days(today, 1), _days(today, 2)),
        "LAST_WEEK": (_days(week, -7), week),
        "THIS_WEEK": (week, _days(week, 7)),
        "NEXT_WEEK": (_days(week, 7), _days(week, 14)),
        "LAST_MONTH": (_months(month, -1), month),
        "THIS_MONTH": (month, _months(month, 1)),
        "NEXT_MONTH": (_months(month, 1), _months(month, 2)),
        # "Starts with the current day and continues for the past 90 days": 91 days in all.
        "LAST_90_DAYS": (_days(today, -90), _days(today, 1)),
        "NEXT_90_DAYS": (_days(today, 1), _days(today, 91)),
        "LAST_QUARTER": (_months(quarter, -3), quarter),
        "THIS_QUARTER": (quarter, _months(quarter, 3)),
        "NEXT_QUARTER": (_months(quarter, 3), _months(quarter, 6)),
        "LAST_YEAR": (_months(year, -12), year),
        "THIS_YEAR": (year, _months(year, 12)),
        "NEXT_YEAR": (_months(year, 12), _months(year, 24)),
        "LAST_N_DAYS": (_days(today, -count), _days(today, 1)),
        "NEXT_N_DAYS": (_days(today, 1), _days(today, 1 + count)),
        "LAST_N_WEEKS": (_days(week, -7 * count), week),
        "NEXT_N_WEEKS": (_days(week, 7), _days(week, 7 + 7 * count)),
        "LAST_N_MONTHS": (_months(month, -count), month),
        "NEXT_N_MONTHS": (_months(month, 1), _months(month, 1 + count)),
        "LAST_N_QUARTERS": (_months(quarter, -3 * count), quarter),
        "NEXT_N_QUARTERS": (_months(quarter, 3), _months(quarter, 3 + 3 * count)),
        "LAST_N_YEARS": (_months(year, -12 * count), year),
        "NEXT_N_YEARS": (_months(year, 12), _months(year, 12 + 12 * count)),
    }
    return ranges[name]


def _days(day: date, delta: int) -> date:
    """``day`` moved by ``delta`` days, clamped to the calendar (LAST_N_DAYS:99999999 is legal)."""
    try:
        return day + timedelta(days=delta)
    except OverflowError:
        return date.min if delta < 0 else date.max


def _months(first_of_month: date, delta: int) -> date:
    """The first day of the month ``delta`` months from ``first_of_month``, clamped to the calendar."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + delta
    year, month = divmod(index, 12)
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    return date(year, month + 1, 1)
