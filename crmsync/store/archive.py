"""Archived platform rows: kept when their CRM record was deleted or merged away, until restored.

An archived row is no longer linked (its CRM id and the base its link held are kept here),
and is left out of pushes, sweeps, exports and matching on its connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from crmsync.store.links import chunks
from crmsync.store.tables import archived
from crmsync.store.types import utcnow

Reason = Literal["deleted", "merged", "with_parent"]


@dataclass(frozen=True)
class Archived:
    """One archived platform row."""

    connection_id: int
    platform_type: str
    platform_id: int
    crm_object: str
    crm_id: str | None
    reason: str
    master_crm_id: str | None = None
    parent_type: str | None = None
    parent_id: int | None = None
    synced_values: dict[str, Any] | None = None
    archived_at: datetime | None = None

    @property
    def key(self) -> str:
        """``type:id``, as the CLI names it."""
        return f"{self.platform_type}:{self.platform_id}"


def add(conn: sa.Connection, organization_id: int, rows: Sequence[Archived]) -> None:
    """Archive ``rows`` (a row archived already keeps its first entry)."""
    if not rows:
        return
    now = utcnow()
    known = {
        (row.platform_type, row.platform_id)
        for row in rows
        if conn.execute(
            sa.select(archived.c.platform_id).where(
                archived.c.connection_id == row.connection_id,
                archived.c.platform_type == row.platform_type,
                archived.c.platform_id == row.platform_id,
            )
        ).first()
    }
    fresh = [r for r in rows if (r.platform_type, r.platform_id) not in known]
    if fresh:
        conn.execute(
            archived.insert(),
            [
                {
                    "organization_id": organization_id,
                    "connection_id": r.connection_id,
                    "platform_type": r.platform_type,
                    "platform_id": r.platform_id,
                    "crm_object": r.crm_object,
                    "crm_id": r.crm_id,
                    "reason": r.reason,
                    "master_crm_id": r.master_crm_id,
                    "parent_type": r.parent_type,
                    "parent_id": r.parent_id,
                    "synced_values": r.synced_values,
                    "archived_at": now,
                }
                for r in fresh
            ],
        )


def by_crm_ids(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> dict[str, Archived]:
    """Archived rows of ``platform_type`` by the CRM id they had."""
    found: dict[str, Archived] = {}
    for part in chunks(list(crm_ids)):
        for row in conn.execute(
            _select(organization_id, connection_id).where(
                archived.c.platform_type == platform_type, archived.c.crm_id.in_(part)
            )
        ):
            entry = _entry(row)
            assert entry.crm_id is not None
            found[entry.crm_id] = entry
    return found


def get(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, platform_id: int
) -> Archived | None:
    """The archived row ``platform_type:platform_id``, or None when it is not archived."""
    row = conn.execute(
        _select(organization_id, connection_id).where(
            archived.c.platform_type == platform_type, archived.c.platform_id == platform_id
        )
    ).first()
    return None if row is None else _entry(row)


def archived_ids(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    platform_ids: Sequence[int],
) -> set[int]:
    """Which of ``platform_ids`` are archived on the connection."""
    found: set[int] = set()
    for part in chunks(sorted(set(platform_ids))):
        found.update(
            int(r[0])
            for r in conn.execute(
                sa.select(archived.c.platform_id).where(
                    archived.c.organization_id == organization_id,
                    archived.c.connection_id == connection_id,
                    archived.c.platform_type == platform_type,
                    archived.c.platform_id.in_(part),
                )
            )
        )
    return found


def any_archived(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> bool:
    """Whether any row of ``platform_type`` is archived on the connection (one indexed probe)."""
    query = (
        sa.select(archived.c.platform_id)
        .where(
            archived.c.organization_id == organization_id,
            archived.c.connection_id == connection_id,
            archived.c.platform_type == platform_type,
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def ids_query(organization_id: int, platform_type: str, connection_id: int | None = None) -> sa.Select[Any]:
    """The archived platform ids of a type (on any connection of the organization when None)."""
    query = sa.select(archived.c.platform_id).where(
        archived.c.organization_id == organization_id, archived.c.platform_type == platform_type
    )
    if connection_id is not None:
        query = query.where(archived.c.connection_id == connection_id)
    return query


def listing(
    conn: sa.Connection,
    organization_id: int,
    *,
    connection_id: int | None = None,
    platform_type: str | None = None,
    parent: tuple[str, int] | None = None,
    limit: int = 1000,
) -> list[Archived]:
    """Archived rows, newest first."""
    query = sa.select(archived).where(archived.c.organization_id == organization_id)
    if connection_id is not None:
        query = query.where(archived.c.connection_id == connection_id)
    if platform_type is not None:
        query = query.where(archived.c.platform_type == platform_type)
    if parent is not None:
        query = query.where(archived.c.parent_type == parent[0], archived.c.parent_id == parent[1])
    order = (archived.c.archived_at.desc(), archived.c.platform_type, archived.c.platform_id)
    return [_entry(r) for r in conn.execute(query.order_by(*order).limit(limit))]


def remove(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, platform_id: int
) -> None:
    """Forget that a row is archived (restored, or its row deleted)."""
    conn.execute(
        archived.delete().where(
            archived.c.organization_id == organization_id,
            archived.c.connection_id == connection_id,
            archived.c.platform_type == platform_type,
            archived.c.platform_id == platform_id,
        )
    )


def _select(organization_id: int, connection_id: int) -> sa.Select[Any]:
    return sa.select(archived).where(
        archived.c.organization_id == organization_id, archived.c.connection_id == connection_id
    )


def _entry(row: sa.Row[Any]) -> Archived:
    return Archived(
        connection_id=int(row.connection_id),
        platform_type=row.platform_type,
        platform_id=int(row.platform_id),
        crm_object=row.crm_object,
        crm_id=row.crm_id,
        reason=row.reason,
        master_crm_id=row.master_crm_id,
        parent_type=row.parent_type,
        parent_id=None if row.parent_id is None else int(row.parent_id),
        synced_values=row.synced_values,
        archived_at=row.archived_at,
    )
