"""Log entries: one per record operation, newest first, paged by keyset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa

from crmsync.store import bulk
from crmsync.store.tables import log_entries
from crmsync.store.types import utcnow
from crmsync.textcap import STORED, capped

Action = Literal["create", "update", "delete", "merge", "pull", "push"]
Status = Literal["processed", "error", "pending", "skipped"]
Direction = Literal["pull", "push"]


class LogEntry(NamedTuple):
    """A log entry to write (a pull makes one per record: a tuple is quick to make and immutable)."""

    data_type: str
    action: Action
    direction: Direction
    status: Status
    message: str
    crm_id: str | None = None
    platform_id: int | None = None
    details: dict[str, Any] | None = None


# An entry's row gets its LogEntry's fields, in their order.
_INSERTED = LogEntry._fields


@dataclass(frozen=True)
class StoredLogEntry:
    """A log entry as read back."""

    id: int
    connection_id: int | None
    run_id: int | None
    data_type: str
    action: str
    direction: str
    status: str
    message: str
    details: dict[str, Any] | None
    crm_id: str | None
    platform_id: int | None
    created_at: datetime


def write(
    conn: sa.Connection,
    organization_id: int,
    entries: Sequence[LogEntry],
    *,
    connection_id: int | None,
    run_id: int | None,
) -> None:
    """Append log entries (in the transaction of the work they describe)."""
    bulk.run(
        conn,
        insert_statements(
            bulk.Target.of(conn), organization_id, entries, connection_id=connection_id, run_id=run_id
        ),
    )


def write_one(
    conn: sa.Connection,
    organization_id: int,
    entry: LogEntry,
    *,
    connection_id: int | None,
    run_id: int | None,
) -> int:
    """Append one entry and return its id (for an entry a later repeat updates)."""
    values = {**entry._asdict(), **_written_by(organization_id, connection_id, run_id)}
    return int(conn.execute(log_entries.insert().values(**values).returning(log_entries.c.id)).scalar_one())


def note_repeat(
    conn: sa.Connection, organization_id: int, entry_id: int, message: str, times: int, when: datetime
) -> None:
    """Say on an entry that what it reports happened again: how often, and when last."""
    details = conn.execute(
        sa.select(log_entries.c.details).where(
            log_entries.c.organization_id == organization_id, log_entries.c.id == entry_id
        )
    ).scalar()
    conn.execute(
        log_entries.update()
        .where(log_entries.c.organization_id == organization_id, log_entries.c.id == entry_id)
        .values(
            # The count stays in sight: the message is capped before it, not after.
            message=capped(message, STORED - 120)
            + f" (seen {times} times, last at {when:%Y-%m-%d %H:%M} UTC)",
            details={**(details or {}), "times": times, "last_seen": when.isoformat()},
        )
    )


def insert_statements(
    target: bulk.Target,
    organization_id: int,
    entries: Sequence[LogEntry],
    *,
    connection_id: int | None,
    run_id: int | None,
) -> list[bulk.Statement]:
    """The statements that append these entries (see :func:`write`)."""
    return bulk.insert_statements(
        target, log_entries, _INSERTED, entries, shared=_written_by(organization_id, connection_id, run_id)
    )


def column_statements(
    target: bulk.Target,
    organization_id: int,
    same: Mapping[str, Any],
    columns: Mapping[str, Sequence[Any]],
    *,
    connection_id: int | None,
    run_id: int | None,
) -> list[bulk.Statement]:
    """The statements that append entries given column by column (LogEntry's fields), with
    the fields in ``same`` equal in all of them: a pull's page logs thousands alike."""
    return bulk.column_statements(
        target, log_entries, columns, shared={**same, **_written_by(organization_id, connection_id, run_id)}
    )


def _written_by(organization_id: int, connection_id: int | None, run_id: int | None) -> dict[str, Any]:
    """What every entry appended at once holds: whose it is, which run wrote it, and when."""
    return {
        "organization_id": organization_id,
        "connection_id": connection_id,
        "run_id": run_id,
        "created_at": utcnow(),
    }


def page(
    conn: sa.Connection,
    organization_id: int,
    *,
    status: str | None = None,
    data_type: str | None = None,
    direction: str | None = None,
    run_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[StoredLogEntry]:
    """Newest entries first; pass the last id seen as ``before_id`` for the next page."""
    query = sa.select(log_entries).where(log_entries.c.organization_id == organization_id)
    if status is not None:
        query = query.where(log_entries.c.status == status)
    if data_type is not None:
        query = query.where(log_entries.c.data_type == data_type)
    if direction is not None:
        query = query.where(log_entries.c.direction == direction)
    if run_id is not None:
        query = query.where(log_entries.c.run_id == run_id)
    if since is not None:
        query = query.where(log_entries.c.created_at >= since)
    if before_id is not None:
        query = query.where(log_entries.c.id < before_id)
    rows = conn.execute(query.order_by(log_entries.c.id.desc()).limit(limit))
    return [
        StoredLogEntry(
            id=r.id,
            connection_id=r.connection_id,
            run_id=r.run_id,
            data_type=r.data_type,
            action=r.action,
            direction=r.direction,
            status=r.status,
            message=r.message,
            details=r.details,
            crm_id=r.crm_id,
            platform_id=r.platform_id,
            created_at=r.created_at,
        )
        for r in rows
    ]
