"""The emulator's clock: wall time by default, frozen, set or advanced through the control API.

Salesforce keeps dateTime fields to the whole second (the JSON always says ``.000``), so
records written within one second share a ``SystemModstamp``: exactly the case that breaks
naive cursors. Tests also freeze the clock to make many records share one.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


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


def truncate_to_second(moment: datetime) -> datetime:
    """``moment`` cut to the whole second, as Salesforce stores record timestamps."""
    return moment.replace(microsecond=0)


class Clock:
    """Current time for the org; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        """The current emulated time, UTC, to the whole second."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return truncate_to_second(datetime.now(UTC) + self._offset)

    def stamp(self) -> str:
        """The current emulated time formatted as a Salesforce dateTime."""
        return format_datetime(self.now())

    @property
    def frozen(self) -> bool:
        """True while time stands still."""
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop time at the current instant."""
        current = self.now()
        with self._lock:
            self._frozen_at = current

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant (no jump back to wall time)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``; time keeps running from there unless frozen."""
        target = truncate_to_second(moment.astimezone(UTC))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, when negative) by ``seconds``."""
        delta = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = truncate_to_second(self._frozen_at + delta)
            else:
                self._offset += delta

    def real_time(self) -> None:
        """Return to wall-clock time."""
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None

    def describe(self) -> dict[str, object]:
        """The clock's state for the control API."""
        return {"now": self.stamp(), "frozen": self.frozen}
