"""Cursors: per connection and platform type, the high-water mark of pulls."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from crmsync.store.tables import cursors
from crmsync.store.types import utcnow


@dataclass(frozen=True)
class Cursor:
    """The last (timestamp, id) applied, the timestamp exactly as the CRM gave it."""

    field: str
    value: str
    last_id: str
    in_progress: bool


def get(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, field: str
) -> Cursor | None:
    """The cursor of ``platform_type`` by ``field``, or None before the first pull."""
    row = conn.execute(
        sa.select(cursors.c.value, cursors.c.last_id, cursors.c.in_progress).where(
            cursors.c.organization_id == organization_id,
            cursors.c.connection_id == connection_id,
            cursors.c.platform_type == platform_type,
            cursors.c.field == field,
        )
    ).first()
    if row is None:
        return None
    return Cursor(field=field, value=row.value, last_id=row.last_id, in_progress=bool(row.in_progress))


def put(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, cursor: Cursor
) -> None:
    """Checkpoint a cursor; call it in the transaction that wrote the page it describes."""
    values = {
        "value": cursor.value,
        "last_id": cursor.last_id,
        "in_progress": cursor.in_progress,
        "updated_at": utcnow(),
    }
    updated = conn.execute(
        cursors.update()
        .where(
            cursors.c.organization_id == organization_id,
            cursors.c.connection_id == connection_id,
            cursors.c.platform_type == platform_type,
            cursors.c.field == cursor.field,
        )
        .values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(
            cursors.insert().values(
                organization_id=organization_id,
                connection_id=connection_id,
                platform_type=platform_type,
                field=cursor.field,
                **values,
            )
        )


def finish_pass(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, field: str
) -> None:
    """Mark a pass over the object complete: the next pass starts from the lookback window."""
    conn.execute(
        cursors.update()
        .where(
            cursors.c.organization_id == organization_id,
            cursors.c.connection_id == connection_id,
            cursors.c.platform_type == platform_type,
            cursors.c.field == field,
        )
        .values(in_progress=False, updated_at=utcnow())
    )
