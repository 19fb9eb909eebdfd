"""Push bookkeeping: the change watermark, the push queue, failure counts and locks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crmsync.store.tables import changes, push_queue, record_failures
from crmsync.store.types import utcnow

LOCK_AFTER = 3
IN_CHUNK = 900


@dataclass(frozen=True)
class QueueItem:
    """A record waiting to be pushed."""

    platform_type: str
    platform_id: int
    operation: str
    crm_id: str | None
    attempts: int
    enqueued_at: datetime


@dataclass(frozen=True)
class Lock:
    """A record whose pushes failed ``failures`` times in a row."""

    platform_type: str
    platform_id: int
    failures: int
    last_error: str
    last_error_code: str | None
    last_failed_at: datetime
    locked_at: datetime | None
    connection_id: int
    # What failed: "upsert" or "delete" (None: recorded before crmsync kept it), the CRM
    # record a delete targeted, and the parent (type:id) whose failure this one followed.
    operation: str | None = None
    crm_id: str | None = None
    waiting_for: str | None = None

    @property
    def key(self) -> str:
        """``type:id``, as the CLI and the logs name it."""
        return f"{self.platform_type}:{self.platform_id}"


def latest_change_id(conn: sa.Connection) -> int:
    """The id of the newest captured change (0 when there is none)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.id), 0))).scalar_one())


def enqueue(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    items: Iterable[tuple[str, int, str, str | None]],
) -> int:
    """Queue (type, id, operation, crm_id) pushes; a record already queued is coalesced.

    A few statements per call, not per record: the pusher queues every change it collects,
    and one round trip per record was the largest cost of keeping up with a busy platform.
    """
    now = utcnow()
    given = list(items)
    wanted: dict[tuple[str, int], tuple[str, str | None]] = {}
    for platform_type, platform_id, operation, crm_id in given:
        earlier = wanted.get((platform_type, platform_id))
        # A later item of the same record wins; a CRM id once known is kept.
        wanted[(platform_type, platform_id)] = (operation, crm_id or (earlier[1] if earlier else None))
    queued: set[tuple[str, int]] = set()
    for platform_type, ids in _by_type(wanted).items():
        for part in _chunks(ids):
            rows = conn.execute(
                sa.select(push_queue.c.platform_id).where(
                    push_queue.c.connection_id == connection_id,
                    push_queue.c.platform_type == platform_type,
                    push_queue.c.platform_id.in_(part),
                )
            )
            queued.update((platform_type, int(r.platform_id)) for r in rows)
    updates = [
        {"b_type": key[0], "b_id": key[1], "v_operation": operation, "v_crm_id": crm_id}
        for key, (operation, crm_id) in wanted.items()
        if key in queued
    ]
    if updates:
        conn.execute(
            push_queue.update()
            .where(
                push_queue.c.connection_id == connection_id,
                push_queue.c.platform_type == sa.bindparam("b_type"),
                push_queue.c.platform_id == sa.bindparam("b_id"),
            )
            .values(
                operation=sa.bindparam("v_operation"),
                next_attempt_at=now,
                crm_id=sa.func.coalesce(sa.bindparam("v_crm_id", type_=sa.String), push_queue.c.crm_id),
            ),
            updates,
        )
    inserts = [
        {
            "organization_id": organization_id,
            "connection_id": connection_id,
            "platform_type": key[0],
            "platform_id": key[1],
            "operation": operation,
            "crm_id": crm_id,
            "enqueued_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
        for key, (operation, crm_id) in wanted.items()
        if key not in queued
    ]
    if inserts:
        conn.execute(_insert_or_coalesce(conn), inserts)
    return len(given)


def _insert_or_coalesce(conn: sa.Connection) -> sa.Executable:
    """An insert that coalesces with a row queued meanwhile by another transaction (a lock
    lifted or archived in another process while the pusher queues): PostgreSQL runs them
    side by side, and the second would fail on the queue's primary key."""
    insert = postgresql.insert(push_queue) if conn.dialect.name == "postgresql" else sqlite.insert(push_queue)
    return insert.on_conflict_do_update(
        index_elements=[push_queue.c.connection_id, push_queue.c.platform_type, push_queue.c.platform_id],
        set_={
            "operation": insert.excluded.operation,
            "next_attempt_at": insert.excluded.next_attempt_at,
            "crm_id": sa.func.coalesce(insert.excluded.crm_id, push_queue.c.crm_id),
        },
    )


def due(conn: sa.Connection, organization_id: int, connection_id: int, limit: int = 2000) -> list[QueueItem]:
    """Queued pushes whose time has come, oldest first."""
    rows = conn.execute(
        sa.select(push_queue)
        .where(
            push_queue.c.organization_id == organization_id,
            push_queue.c.connection_id == connection_id,
            push_queue.c.next_attempt_at <= utcnow(),
        )
        .order_by(push_queue.c.enqueued_at, push_queue.c.platform_type, push_queue.c.platform_id)
        .limit(limit)
    )
    return [
        QueueItem(r.platform_type, r.platform_id, r.operation, r.crm_id, r.attempts, r.enqueued_at)
        for r in rows
    ]


def dequeue(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    keys: Iterable[tuple[str, int]],
    *,
    queued_before: datetime | None = None,
) -> None:
    """Remove pushes that are done (or handed over to a lock).

    ``queued_before``: only those last queued (or coalesced) before then, so that a record
    that changed again after a push read it stays queued.
    """
    for platform_type, ids in _by_type(keys).items():
        for part in _chunks(ids):
            statement = push_queue.delete().where(
                push_queue.c.organization_id == organization_id,
                push_queue.c.connection_id == connection_id,
                push_queue.c.platform_type == platform_type,
                push_queue.c.platform_id.in_(part),
            )
            if queued_before is not None:
                statement = statement.where(push_queue.c.next_attempt_at <= queued_before)
            conn.execute(statement)


def defer(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    keys: Iterable[tuple[str, int]],
    *,
    delay: timedelta,
    error: str,
) -> None:
    """Try these pushes again after ``delay``."""
    later = utcnow() + delay
    for platform_type, platform_id in keys:
        conn.execute(
            push_queue.update()
            .where(
                push_queue.c.organization_id == organization_id,
                push_queue.c.connection_id == connection_id,
                push_queue.c.platform_type == platform_type,
                push_queue.c.platform_id == platform_id,
            )
            .values(next_attempt_at=later, attempts=push_queue.c.attempts + 1, last_error=error)
        )


def depth(conn: sa.Connection, organization_id: int, connection_id: int) -> int:
    """How many pushes are waiting."""
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                push_queue.c.organization_id == organization_id, push_queue.c.connection_id == connection_id
            )
        ).scalar_one()
    )


def record_failure(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    platform_id: int,
    *,
    code: str | None,
    message: str,
    operation: str = "upsert",
    crm_id: str | None = None,
    waiting_for: tuple[str, int] | None = None,
) -> int:
    """Count one more failure in a row; the third locks the record. Returns the count.

    ``crm_id``: the CRM record a failed delete targeted; ``waiting_for``: the record whose
    failure this one followed (see :func:`release_waiting`).
    """
    now = utcnow()
    where = (
        (record_failures.c.connection_id == connection_id)
        & (record_failures.c.platform_type == platform_type)
        & (record_failures.c.platform_id == platform_id)
    )
    current = conn.execute(sa.select(record_failures.c.failures).where(where)).scalar()
    failures = int(current or 0) + 1
    values: dict[str, object] = {
        "failures": failures,
        "last_error": message,
        "last_error_code": code,
        "last_failed_at": now,
        "operation": operation,
        "crm_id": crm_id,
        "waiting_for": f"{waiting_for[0]}:{waiting_for[1]}" if waiting_for else None,
    }
    if current is None:
        conn.execute(
            record_failures.insert().values(
                organization_id=organization_id,
                connection_id=connection_id,
                platform_type=platform_type,
                platform_id=platform_id,
                locked_at=now if failures >= LOCK_AFTER else None,
                **values,
            )
        )
    else:
        locked_at = sa.case((record_failures.c.locked_at.is_(None), now), else_=record_failures.c.locked_at)
        if failures >= LOCK_AFTER:
            values["locked_at"] = locked_at
        conn.execute(record_failures.update().where(where).values(**values))
    return failures


def clear_failures(
    conn: sa.Connection, organization_id: int, connection_id: int, keys: Iterable[tuple[str, int]]
) -> None:
    """A success restarts the count (and lifts a lock)."""
    for platform_type, ids in _by_type(keys).items():
        for part in _chunks(ids):
            conn.execute(
                record_failures.delete().where(
                    record_failures.c.organization_id == organization_id,
                    record_failures.c.connection_id == connection_id,
                    record_failures.c.platform_type == platform_type,
                    record_failures.c.platform_id.in_(part),
                )
            )


def locked_ids(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, ids: Sequence[int]
) -> dict[int, int]:
    """Which of ``ids`` are locked, with their failure counts."""
    locked = record_failures.c.locked_at.is_not(None)
    failures = _failures_of(conn, (organization_id, connection_id, platform_type), ids, "failures", locked)
    return {platform_id: int(count) for platform_id, count in failures.items()}


def locks(conn: sa.Connection, organization_id: int, connection_id: int | None = None) -> list[Lock]:
    """Every lock of the organization (or one connection), newest first."""
    query = sa.select(record_failures).where(
        record_failures.c.organization_id == organization_id, record_failures.c.locked_at.is_not(None)
    )
    if connection_id is not None:
        query = query.where(record_failures.c.connection_id == connection_id)
    rows = conn.execute(query.order_by(record_failures.c.locked_at.desc()))
    return [
        Lock(
            r.platform_type,
            r.platform_id,
            r.failures,
            r.last_error,
            r.last_error_code,
            r.last_failed_at,
            r.locked_at,
            r.connection_id,
            r.operation,
            r.crm_id,
            r.waiting_for,
        )
        for r in rows
    ]


def release_waiting(
    conn: sa.Connection, organization_id: int, connection_id: int, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """Records whose failures followed one of ``keys``, which have now succeeded: their failures
    (and locks) are lifted and they are queued to be pushed again. Returns them with the
    ``type:id`` each waited for."""
    names = [f"{t}:{i}" for t, i in keys]
    waiting: dict[tuple[str, int], str] = {}
    for part in _chunks(names):
        where = (
            (record_failures.c.connection_id == connection_id)
            & (record_failures.c.organization_id == organization_id)
            & record_failures.c.waiting_for.in_(part)
        )
        rows = conn.execute(
            sa.select(
                record_failures.c.platform_type, record_failures.c.platform_id, record_failures.c.waiting_for
            ).where(where)
        )
        waiting.update({(r.platform_type, int(r.platform_id)): str(r.waiting_for) for r in rows})
        conn.execute(record_failures.delete().where(where))
    if waiting:
        enqueue(conn, organization_id, connection_id, [(t, i, "upsert", None) for t, i in waiting])
    return waiting


def failed_deletes(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, ids: Sequence[int]
) -> dict[int, str]:
    """Platform id -> CRM id of the failed deletes among ``ids``."""
    deletes = (record_failures.c.operation == "delete") & record_failures.c.crm_id.is_not(None)
    found = _failures_of(conn, (organization_id, connection_id, platform_type), ids, "crm_id", deletes)
    return {platform_id: str(crm_id) for platform_id, crm_id in found.items()}


def _failures_of(
    conn: sa.Connection,
    scope: tuple[int, int, str],
    ids: Sequence[int],
    column: str,
    condition: sa.ColumnElement[bool],
) -> dict[int, Any]:
    """Platform id -> ``column`` of the failures of (organization, connection, type) among ``ids``
    that meet ``condition``."""
    organization_id, connection_id, platform_type = scope
    found: dict[int, Any] = {}
    for part in _chunks(ids):
        rows = conn.execute(
            sa.select(record_failures.c.platform_id, record_failures.c[column]).where(
                record_failures.c.organization_id == organization_id,
                record_failures.c.connection_id == connection_id,
                record_failures.c.platform_type == platform_type,
                record_failures.c.platform_id.in_(part),
                condition,
            )
        )
        found.update({int(r[0]): r[1] for r in rows})
    return found


def failure_count(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, platform_id: int
) -> int:
    """Consecutive failures of one record (0 when none)."""
    value = conn.execute(
        sa.select(record_failures.c.failures).where(
            record_failures.c.organization_id == organization_id,
            record_failures.c.connection_id == connection_id,
            record_failures.c.platform_type == platform_type,
            record_failures.c.platform_id == platform_id,
        )
    ).scalar()
    return int(value or 0)


def _by_type(keys: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for platform_type, platform_id in keys:
        grouped.setdefault(platform_type, []).append(platform_id)
    return grouped


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """Slices short enough for SQLite's limit on bound parameters."""
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start : start + IN_CHUNK]
