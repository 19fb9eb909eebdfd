"""The emulated database's clock, and Bloomerang's timestamp and date formats.

Bloomerang answers audit timestamps in UTC to the whole second (``2023-03-27T20:01:50Z``), so
records written within one second share a ``LastModifiedDate``: exactly the case that breaks
naive cursors. Timestamps are kept as integer epoch seconds, which sort and compare fast.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from crmsync.emulators.common.clock import SecondsClock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_timestamp(epoch: int) -> str:
    """Epoch seconds as Bloomerang writes audit timestamps: ``2024-01-02T03:04:05Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def to_epoch(moment: datetime) -> int:
    """An aware datetime as whole epoch seconds (rounded down)."""
    return int((moment.astimezone(UTC) - _EPOCH).total_seconds() // 1)


def parse_timestamp(text: str) -> int:
    """A date or date-time (``Z``/offset; naive means UTC) as epoch seconds; ValueError otherwise."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("an empty date")
    if cleaned[-1] in "Zz":
        cleaned = cleaned[:-1] + "+00:00"
    if "T" not in cleaned and " " not in cleaned:
        return to_epoch(datetime.combine(date.fromisoformat(cleaned), datetime.min.time(), UTC))
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_epoch(moment)


def parse_date(text: str) -> str:
    """A calendar date in ISO form (``YYYY-MM-DD``); a date-time is cut to its date."""
    cleaned = text.strip()
    if "T" in cleaned:
        cleaned = cleaned.split("T", 1)[0]
    return date.fromisoformat(cleaned).isoformat()


class Clock(SecondsClock):
    """Current emulated time in whole epoch seconds; wall time unless frozen, set or advanced."""

    def now(self) -> int:
        """The current emulated time, epoch seconds."""
        return self.seconds()

    def set(self, epoch: int) -> None:
        """Jump to ``epoch``; time keeps running from there unless frozen."""
        self.set_seconds(epoch)

    def today(self) -> str:
        """The current emulated UTC date, ISO."""
        return time.strftime("%Y-%m-%d", time.gmtime(self.now()))

    def describe(self) -> dict[str, object]:
        """The clock's state for the control API."""
        return {"now": format_timestamp(self.now()), "frozen": self.frozen}


def days_before(day: str, days: int) -> str:
    """The ISO date ``days`` before ``day``."""
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()
