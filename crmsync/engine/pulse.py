"""What a long-lived loop (pusher, scheduler, CDC) tells whoever supervises it: that it is
alive, what it is doing, and its last error. The supervisor stores it for `crmsync status`.

A loop only sets a few attributes, from its own thread; the supervisor reads them from
another. Each is replaced whole, so a reader never sees half of an update.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from crmsync.store.loops import RUNNING
from crmsync.store.types import utcnow
from crmsync.textcap import capped

log = logging.getLogger("crmsync.loops")
# The database is away or busy (a dropped connection, a server restart, SQLite locked by a
# long writer): a loop waits it out with backoff; it is nobody's record.
DATABASE_AWAY = (sa.exc.OperationalError, sa.exc.InterfaceError)
MAX_BACKOFF = 60.0


class Pulse:
    """A loop's heartbeat, state and last error."""

    def __init__(self) -> None:
        self.state = RUNNING
        self.note: str | None = None
        self.beat_at: datetime | None = None
        self.error: str | None = None
        self.error_at: datetime | None = None

    def beat(self, state: str = RUNNING, note: str | None = None) -> None:
        """The loop went round once; ``state``: running, or standing by (``note`` says why)."""
        self.state, self.note, self.beat_at = state, note, utcnow()

    def failed(self, message: str) -> None:
        """The loop met an error it goes on after (it backs off and tries again)."""
        now = utcnow()
        self.error, self.error_at, self.beat_at = capped(message), now, now
        log.warning("%s", message)


def first_line(error: BaseException) -> str:
    """An exception in one line: its type and the first line of its message."""
    text = str(getattr(error, "orig", None) or error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")
