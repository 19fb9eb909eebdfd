"""Taking captured changes exactly once, in batches, without waiting for unrelated transactions.

SQLite commits one writer at a time, so change ids come in commit order: a pusher takes the
changes after the last id it took.

On PostgreSQL ids are taken before their transaction commits, so id order is not commit
order, and a transaction may stay open for as long as an application likes. A batch is
what became visible between two snapshots of the server (as PgQ does it): the changes
whose transaction is visible in the newer snapshot and was not in the older one. A
transaction still open at the newer snapshot is in neither, and its changes come with the
batch after it commits; every other change is taken at once, however long that
transaction stays open. A batch too big to take at once is taken in parts, in (txid, id)
order, under the same two snapshots.

The mark is stored in the transaction that queues what was taken, so a pusher that dies
takes the same changes again, never fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmsync.store.tables import changes, push_cursors
from crmsync.store.types import utcnow


@dataclass(frozen=True)
class Change:
    """One captured platform change."""

    id: int
    organization_id: int
    platform_type: str
    platform_id: int
    operation: str
    origin: str
    created_at: datetime
    txid: int = 0


@dataclass(frozen=True)
class Mark:
    """How far a connection's pusher has taken changes.

    ``txid``/``change_id``: the last change taken (within the batch under way on PostgreSQL).
    ``since``: the snapshot every change taken so far was visible in (None: none taken by
    snapshot yet); ``until``: the snapshot of the batch under way, None between batches.
    """

    txid: int = 0
    change_id: int = 0
    since: str | None = None
    until: str | None = None


def mark(conn: sa.Connection, connection_id: int) -> Mark:
    """The connection's mark; nothing taken yet at first."""
    row = conn.execute(sa.select(push_cursors).where(push_cursors.c.connection_id == connection_id)).first()
    if row is None:
        return Mark()
    return Mark(int(row.last_txid), int(row.last_change_id), row.snapshot_since, row.snapshot_until)


def set_mark(conn: sa.Connection, connection_id: int, new: Mark) -> None:
    """Store the mark (in the transaction that queued the changes up to it)."""
    values = {
        "last_txid": new.txid,
        "last_change_id": new.change_id,
        "snapshot_since": new.since,
        "snapshot_until": new.until,
        "updated_at": utcnow(),
    }
    updated = conn.execute(
        push_cursors.update().where(push_cursors.c.connection_id == connection_id).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(push_cursors.insert().values(connection_id=connection_id, **values))


def take(conn: sa.Connection, organization_id: int, after: Mark, limit: int) -> tuple[list[Change], Mark]:
    """Changes of the organization not taken yet (at most ``limit``), and the mark after them."""
    if conn.dialect.name != "postgresql":
        rows = _rows(conn, organization_id, after, limit, visible=None)
        return rows, (Mark(0, rows[-1].id) if rows else after)
    until = after.until or str(conn.execute(sa.text("SELECT pg_current_snapshot()::text")).scalar_one())
    rows = _rows(conn, organization_id, after, limit, visible=(after.since, until))
    if len(rows) == limit:
        return rows, Mark(rows[-1].txid, rows[-1].id, after.since, until)
    # The batch is taken whole: the next one starts where this one's snapshot ends.
    return rows, Mark(since=until)


def pending(conn: sa.Connection, organization_id: int, after: Mark) -> bool:
    """Whether a change committed so far is not taken yet."""
    if conn.dialect.name != "postgresql":
        return bool(_rows(conn, organization_id, after, 1, visible=None))
    now = str(conn.execute(sa.text("SELECT pg_current_snapshot()::text")).scalar_one())
    if after.until is None:
        return bool(_rows(conn, organization_id, after, 1, visible=(after.since, now)))
    return bool(
        _rows(conn, organization_id, after, 1, visible=(after.since, after.until))
        or _rows(conn, organization_id, Mark(), 1, visible=(after.until, now))
    )


def _rows(
    conn: sa.Connection,
    organization_id: int,
    after: Mark,
    limit: int,
    *,
    visible: tuple[str | None, str] | None,
) -> list[Change]:
    """Changes after ``after``'s (txid, id); on PostgreSQL only those visible in the second
    snapshot of ``visible`` and not in the first."""
    query = sa.select(changes).where(
        changes.c.organization_id == organization_id,
        sa.or_(
            changes.c.txid > after.txid,
            sa.and_(changes.c.txid == after.txid, changes.c.id > after.change_id),
        ),
    )
    if visible is not None:
        query = query.where(visible_between(*visible))
    rows = conn.execute(query.order_by(changes.c.txid, changes.c.id).limit(limit))
    return [Change(**r._mapping) for r in rows]


def visible_between(since: str | None, until: str) -> sa.TextClause:
    """PostgreSQL: the condition on ``crmsync_changes`` that its transaction is visible in the
    snapshot ``until`` and not in ``since`` (None: any change visible in ``until``)."""
    params: dict[str, str] = {"until": until}
    # Visible in ``until``: committed before it was taken (and below its xmax).
    condition = (
        "crmsync_changes.txid < pg_snapshot_xmax(CAST(:until AS pg_snapshot))::text::bigint "
        "AND pg_visible_in_snapshot(crmsync_changes.txid::text::xid8, CAST(:until AS pg_snapshot))"
    )
    if since is not None:
        params["since"] = since
        # Not visible in ``since``: at or above its xmax, or among its transactions in
        # progress (looked up by id through the index, not tested row by row).
        condition += (
            " AND (crmsync_changes.txid >= pg_snapshot_xmax(CAST(:since AS pg_snapshot))::text::bigint"
            " OR crmsync_changes.txid IN (SELECT x::text::bigint FROM "
            "pg_snapshot_xip(CAST(:since AS pg_snapshot)) AS x))"
        )
    return sa.text(condition).bindparams(**params)
