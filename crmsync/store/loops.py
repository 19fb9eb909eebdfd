"""The long-lived loops of a process (pusher, scheduler, CDC) as their supervisor last saw them.

A supervisor writes its loops every few seconds; a process that dies stops writing, so a
reader (``crmsync status``, from any process) tells a working loop from a dead one by the
age of that report, and at once when the process was on its own host and is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from crmsync.store.leases import owner_is_dead
from crmsync.store.tables import loops
from crmsync.store.types import utcnow

# A loop whose process has not reported for this long is taken for dead. Its supervisor
# reports every few seconds; this leaves room for a database that is locked for a while.
STALE = timedelta(seconds=90)
RUNNING, STANDBY, RESTARTING, STOPPED = "running", "standby", "restarting", "stopped"


@dataclass(frozen=True)
class Loop:
    """One loop of one process for one connection."""

    connection_id: int
    kind: str
    owner: str
    state: str
    started_at: datetime
    seen_at: datetime
    heartbeat_at: datetime | None = None
    note: str | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    restarts: int = 0

    def alive(self, now: datetime | None = None) -> bool:
        """Whether the loop works (or stands by): its process reports and it has not died."""
        if self.state not in (RUNNING, STANDBY):
            return False
        return self.seen_at >= (now or utcnow()) - STALE and not owner_is_dead(self.owner)


def report(conn: sa.Connection, organization_id: int, found: Sequence[Loop]) -> None:
    """Store the loops as seen now; loops of dead processes of the same kinds are forgotten.

    A connection whose loop died shows it until a process runs that loop again.
    """
    now = utcnow()
    for loop in found:
        values = {k: v for k, v in asdict(loop).items() if k not in ("connection_id", "kind", "owner")}
        same = (loops.c.connection_id == loop.connection_id) & (loops.c.kind == loop.kind)
        updated = conn.execute(loops.update().where(same, loops.c.owner == loop.owner).values(**values))
        if updated.rowcount == 0:
            conn.execute(loops.insert().values(organization_id=organization_id, **asdict(loop)))
        if loop.alive(now):
            for other in _rows(conn, same & (loops.c.owner != loop.owner)):
                if not other.alive(now):
                    conn.execute(loops.delete().where(same, loops.c.owner == other.owner))


def all_of(conn: sa.Connection, organization_id: int, connection_id: int) -> list[Loop]:
    """The connection's loops, by kind and start."""
    return _rows(
        conn,
        (loops.c.organization_id == organization_id) & (loops.c.connection_id == connection_id),
    )


def _rows(conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Loop]:
    rows = conn.execute(sa.select(loops).where(where).order_by(loops.c.kind, loops.c.started_at))
    return [
        Loop(
            r.connection_id,
            r.kind,
            r.owner,
            r.state,
            r.started_at,
            r.seen_at,
            r.heartbeat_at,
            r.note,
            r.last_error,
            r.last_error_at,
            r.restarts,
        )
        for r in rows
    ]
