"""The emulator's clock: wall time by default, frozen, set or advanced through the control API.

Salesforce keeps dateTime fields to the whole second (the JSON always says ``.000``), so
records written within one second share a ``SystemModstamp``: exactly the case that breaks
naive cursors. Tests also freeze the clock to make many records share one.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from crmsync.emulators.common.clock import SecondsClock


def format_datetime(moment: datetime) -> str:
    """``moment`` as Salesforce writes dateTimes in JSON: ``2024-01-02T03:04:05.678+0000``."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 dateTime (``Z``, ``+00:00`` or ``+0000`` offsets; naive means UTC), aware."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    elif len(cleaned) > 5 and cleaned[-5] in "+-" and cleaned[-4:].isdigit() and "T" in cleaned:
        cleaned = f"{cleaned[:-2]}:{cleaned[-2:]}"
    if "T" not in cleaned:
        raise ValueError(f"{text!r} is not a dateTime (expected YYYY-MM-DDThh:mm:ss[.sss]Z)")
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Clock(SecondsClock):
    """Current time for the org, to the whole second; thread-safe."""

    def now(self) -> datetime:
        """The current emulated time, UTC, to the whole second."""
        return datetime.fromtimestamp(self.seconds(), UTC)

    def stamp(self) -> str:
        """The current emulated time formatted as a Salesforce dateTime."""
        return format_datetime(self.now())

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (cut to the whole second); time keeps running from there unless frozen."""
        self.set_seconds(math.floor(moment.timestamp()))

    def describe(self) -> dict[str, object]:
        """The clock's state for the control API."""
        return {"now": self.stamp(), "frozen": self.frozen}
