"""Org syncs: per connection and CRM object, how and how often changes are pulled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from crmsync.store.tables import org_syncs
from crmsync.store.types import utcnow

Method = Literal["cdc", "poll"]
INTERVALS = (5, 10, 15, 30)


@dataclass(frozen=True)
class OrgSync:
    """One org sync as stored."""

    id: int
    connection_id: int
    crm_object: str
    method: Method
    interval_minutes: int
    enabled: bool
    fatal_error: str | None
    error_total: int
    last_error: str | None
    consecutive_failures: int
    circuit_opened_at: datetime | None
    last_sync_at: datetime | None
    next_poll_at: datetime | None
    replay_id: str | None

    @property
    def status(self) -> str:
        """Active, Paused (disabled by an admin), Error (fatal) or Circuit open."""
        if not self.enabled:
            return "Paused"
        if self.fatal_error:
            return "Error"
        if self.circuit_opened_at is not None:
            return "Circuit open"
        return "Active"


def _row(row: sa.Row[Any]) -> OrgSync:
    return OrgSync(
        id=row.id,
        connection_id=row.connection_id,
        crm_object=row.crm_object,
        method=row.method,
        interval_minutes=row.interval_minutes,
        enabled=bool(row.enabled),
        fatal_error=row.fatal_error,
        error_total=row.error_total,
        last_error=row.last_error,
        consecutive_failures=row.consecutive_failures,
        circuit_opened_at=row.circuit_opened_at,
        last_sync_at=row.last_sync_at,
        next_poll_at=row.next_poll_at,
        replay_id=row.replay_id,
    )


def add(conn: sa.Connection, organization_id: int, connection_id: int, crm_object: str) -> OrgSync:
    """A new org sync: disabled, method cdc, every 15 minutes."""
    now = utcnow()
    conn.execute(
        org_syncs.insert().values(
            organization_id=organization_id,
            connection_id=connection_id,
            crm_object=crm_object,
            method="cdc",
            interval_minutes=15,
            enabled=False,
            created_at=now,
            updated_at=now,
        )
    )
    found = get(conn, organization_id, connection_id, crm_object)
    assert found is not None
    return found


def get(conn: sa.Connection, organization_id: int, connection_id: int, crm_object: str) -> OrgSync | None:
    """The org sync of one CRM object, or None."""
    row = conn.execute(
        sa.select(org_syncs).where(
            org_syncs.c.organization_id == organization_id,
            org_syncs.c.connection_id == connection_id,
            sa.func.lower(org_syncs.c.crm_object) == crm_object.lower(),
        )
    ).first()
    return _row(row) if row is not None else None


def all_of(conn: sa.Connection, organization_id: int, connection_id: int | None = None) -> list[OrgSync]:
    """Every org sync of the organization (or one connection), by object."""
    query = sa.select(org_syncs).where(org_syncs.c.organization_id == organization_id)
    if connection_id is not None:
        query = query.where(org_syncs.c.connection_id == connection_id)
    return [_row(r) for r in conn.execute(query.order_by(org_syncs.c.connection_id, org_syncs.c.crm_object))]


def update(conn: sa.Connection, organization_id: int, sync_id: int, **values: Any) -> None:
    """Change stored fields of one org sync."""
    conn.execute(
        org_syncs.update()
        .where(org_syncs.c.organization_id == organization_id, org_syncs.c.id == sync_id)
        .values(**values, updated_at=utcnow())
    )


def remove(conn: sa.Connection, organization_id: int, sync_id: int) -> None:
    """Delete one org sync."""
    conn.execute(
        org_syncs.delete().where(org_syncs.c.organization_id == organization_id, org_syncs.c.id == sync_id)
    )


def record_success(
    conn: sa.Connection, organization_id: int, sync: OrgSync, *, next_poll_at: datetime
) -> None:
    """A successful poll or event: the circuit closes and the failure run restarts."""
    update(
        conn,
        organization_id,
        sync.id,
        consecutive_failures=0,
        circuit_opened_at=None,
        last_sync_at=utcnow(),
        next_poll_at=next_poll_at,
    )


def record_failure(
    conn: sa.Connection,
    organization_id: int,
    sync: OrgSync,
    *,
    message: str,
    fatal: bool,
    open_after: int,
    next_poll_at: datetime,
) -> OrgSync:
    """A failed call: count it, open the circuit after ``open_after`` in a row, or mark a fatal error."""
    failures = sync.consecutive_failures + 1
    values: Mapping[str, Any] = {
        "consecutive_failures": failures,
        "error_total": sync.error_total + 1,
        "last_error": message,
        "next_poll_at": next_poll_at,
    }
    if fatal:
        values = {**values, "fatal_error": message}
    elif failures >= open_after and sync.circuit_opened_at is None:
        values = {**values, "circuit_opened_at": utcnow()}
    update(conn, organization_id, sync.id, **values)
    found = get(conn, organization_id, sync.connection_id, sync.crm_object)
    assert found is not None
    return found
