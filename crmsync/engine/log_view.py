"""The integration log as the admin console reads it: tabs, filters, keyset pages, details.

Every page is ``ORDER BY id DESC LIMIT n`` below the last id seen, on an index that starts
with the organization and the filtered column (migration 0006), so page 1,000 of millions
of entries costs what page 1 does. A date filter is turned into an id range first (through
the (organization_id, created_at) index): dates never become a scan. Ids follow write time
(a day's boundary may be off by the entries of a transaction in flight at midnight).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from crmsync.store.logs import StoredLogEntry
from crmsync.store.tables import log_entries

Tab = Literal["pull", "push", "errors"]
TABS: tuple[Tab, ...] = ("pull", "push", "errors")
STATUSES = ("processed", "error", "pending", "skipped")


@dataclass(frozen=True)
class LogFilter:
    """What the Integration logs screen asks for."""

    tab: Tab | None = None
    status: str | None = None
    data_type: str | None = None
    since: date | None = None
    until: date | None = None
    connection_id: int | None = None
    before: int | None = None
    limit: int = 50


def page(conn: sa.Connection, organization_id: int, wanted: LogFilter) -> list[StoredLogEntry]:
    """Newest entries first that match ``wanted``."""
    t = log_entries
    query = sa.select(t).where(t.c.organization_id == organization_id)
    if wanted.tab in ("pull", "push"):
        query = query.where(t.c.direction == wanted.tab)
    elif wanted.tab == "errors":
        query = query.where(t.c.status == "error")
    if wanted.status is not None:
        query = query.where(t.c.status == wanted.status)
    if wanted.data_type is not None:
        query = query.where(t.c.data_type == wanted.data_type)
    if wanted.connection_id is not None:
        query = query.where(t.c.connection_id == wanted.connection_id)
    low, high = _id_range(conn, organization_id, wanted.since, wanted.until)
    if low is not None:
        query = query.where(t.c.id >= low)
    bounds = [x for x in (high, wanted.before) if x is not None]
    if bounds:
        query = query.where(t.c.id < min(bounds))
    rows = conn.execute(query.order_by(t.c.id.desc()).limit(wanted.limit))
    return [_entry(r) for r in rows]


def get(conn: sa.Connection, organization_id: int, entry_id: int) -> StoredLogEntry | None:
    """One entry of the organization, or None."""
    row = conn.execute(
        sa.select(log_entries).where(
            log_entries.c.organization_id == organization_id, log_entries.c.id == entry_id
        )
    ).first()
    return _entry(row) if row is not None else None


def history(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    platform_id: int,
    limit: int = 100,
) -> list[StoredLogEntry]:
    """Log entries of one record (on this connection, or on none), newest first."""
    t = log_entries
    rows = conn.execute(
        sa.select(t)
        .where(
            t.c.organization_id == organization_id,
            t.c.data_type == platform_type,
            t.c.platform_id == platform_id,
            sa.or_(t.c.connection_id == connection_id, t.c.connection_id.is_(None)),
        )
        .order_by(t.c.id.desc())
        .limit(limit)
    )
    return [_entry(r) for r in rows]


def _id_range(
    conn: sa.Connection, organization_id: int, since: date | None, until: date | None
) -> tuple[int | None, int | None]:
    """[low, high) ids of entries written from ``since`` through ``until`` (whole UTC days)."""
    t = log_entries
    low = high = None
    if since is not None:
        start = datetime.combine(since, time(), UTC)
        low = conn.execute(
            sa.select(sa.func.min(t.c.id)).where(
                t.c.organization_id == organization_id, t.c.created_at >= start
            )
        ).scalar()
        if low is None:
            return (0, 1)  # nothing that recent: an empty range
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time(), UTC)
        first_after = conn.execute(
            sa.select(sa.func.min(t.c.id)).where(
                t.c.organization_id == organization_id, t.c.created_at >= end
            )
        ).scalar()
        high = int(first_after) if first_after is not None else None
    return (int(low) if low is not None else None, high)


def _entry(r: Any) -> StoredLogEntry:
    return StoredLogEntry(
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
