"""Work a pull owes: records to fetch again (they failed) and removals to apply at the end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmsync.store.links import chunks
from crmsync.store.tables import pending_removals, pull_retries
from crmsync.store.types import utcnow


@dataclass(frozen=True)
class Removal:
    """A CRM record seen deleted (``master_crm_id`` None) or merged into ``master_crm_id``."""

    platform_type: str
    crm_id: str
    master_crm_id: str | None


def note_failures(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    failures: Sequence[tuple[str, str]],
) -> None:
    """Remember (crm_id, reason) records to fetch again on the next pull."""
    if not failures:
        return
    now = utcnow()
    existing = {
        r.crm_id: r.attempts
        for part in chunks([crm_id for crm_id, _ in failures])
        for r in conn.execute(
            sa.select(pull_retries.c.crm_id, pull_retries.c.attempts).where(
                pull_retries.c.organization_id == organization_id,
                pull_retries.c.connection_id == connection_id,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.crm_id.in_(part),
            )
        )
    }
    for crm_id, reason in failures:
        if crm_id in existing:
            conn.execute(
                pull_retries.update()
                .where(
                    pull_retries.c.connection_id == connection_id,
                    pull_retries.c.platform_type == platform_type,
                    pull_retries.c.crm_id == crm_id,
                )
                .values(reason=reason, attempts=existing[crm_id] + 1, last_failed_at=now)
            )
        else:
            conn.execute(
                pull_retries.insert().values(
                    organization_id=organization_id,
                    connection_id=connection_id,
                    platform_type=platform_type,
                    crm_id=crm_id,
                    reason=reason,
                    attempts=1,
                    first_failed_at=now,
                    last_failed_at=now,
                )
            )


def any_waiting(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> bool:
    """Whether any record of ``platform_type`` waits to be fetched again (cheaper than clearing)."""
    query = (
        sa.select(pull_retries.c.crm_id)
        .where(
            pull_retries.c.organization_id == organization_id,
            pull_retries.c.connection_id == connection_id,
            pull_retries.c.platform_type == platform_type,
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def clear_failures(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> None:
    """Forget retries of records that have now been applied (or are gone)."""
    for part in chunks(list(crm_ids)):
        conn.execute(
            pull_retries.delete().where(
                pull_retries.c.organization_id == organization_id,
                pull_retries.c.connection_id == connection_id,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.crm_id.in_(part),
            )
        )


def failures(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    *,
    before: datetime | None = None,
) -> list[str]:
    """CRM ids of ``platform_type`` waiting to be fetched again (that last failed before ``before``)."""
    query = sa.select(pull_retries.c.crm_id).where(
        pull_retries.c.organization_id == organization_id,
        pull_retries.c.connection_id == connection_id,
        pull_retries.c.platform_type == platform_type,
    )
    if before is not None:
        query = query.where(pull_retries.c.last_failed_at < before)
    rows = conn.execute(query.order_by(pull_retries.c.crm_id))
    return [r.crm_id for r in rows]


def note_removals(
    conn: sa.Connection, organization_id: int, connection_id: int, removals: Sequence[Removal]
) -> None:
    """Remember deleted/merged CRM records; they are applied after all objects are pulled."""
    now = utcnow()
    for removal in removals:
        where = (
            (pending_removals.c.connection_id == connection_id)
            & (pending_removals.c.platform_type == removal.platform_type)
            & (pending_removals.c.crm_id == removal.crm_id)
        )
        updated = conn.execute(
            pending_removals.update().where(where).values(master_crm_id=removal.master_crm_id, seen_at=now)
        )
        if updated.rowcount == 0:
            conn.execute(
                pending_removals.insert().values(
                    organization_id=organization_id,
                    connection_id=connection_id,
                    platform_type=removal.platform_type,
                    crm_id=removal.crm_id,
                    master_crm_id=removal.master_crm_id,
                    seen_at=now,
                )
            )


def removals(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str
) -> list[Removal]:
    """Pending removals of ``platform_type``."""
    rows = conn.execute(
        sa.select(pending_removals.c.crm_id, pending_removals.c.master_crm_id)
        .where(
            pending_removals.c.organization_id == organization_id,
            pending_removals.c.connection_id == connection_id,
            pending_removals.c.platform_type == platform_type,
        )
        .order_by(pending_removals.c.crm_id)
    )
    return [Removal(platform_type, r.crm_id, r.master_crm_id) for r in rows]


def clear_removal(conn: sa.Connection, organization_id: int, connection_id: int, removal: Removal) -> None:
    """Forget a removal once it has been applied."""
    conn.execute(
        pending_removals.delete().where(
            pending_removals.c.organization_id == organization_id,
            pending_removals.c.connection_id == connection_id,
            pending_removals.c.platform_type == removal.platform_type,
            pending_removals.c.crm_id == removal.crm_id,
        )
    )
