"""Work a pull owes: records to fetch again (they failed, or wait for a parent), locks, records a
filter keeps out (noted once), and removals to apply at the end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crmsync.store import logs
from crmsync.store.links import chunks
from crmsync.store.logs import LogEntry
from crmsync.store.tables import links, pending_removals, pull_retries
from crmsync.store.types import utcnow
from crmsync.textcap import capped


@dataclass(frozen=True)
class Removal:
    """A CRM record seen deleted (``master_crm_id`` None) or merged into ``master_crm_id``."""

    platform_type: str
    crm_id: str
    master_crm_id: str | None


# Consecutive failures that lock a record; PARENT_MISSING and LEFT_OUT never lock.
LOCK_AFTER = 3
PARENT_MISSING = "PARENT_MISSING"
# A record that arrived but does not belong to its section (a filter, the team, its owner).
LEFT_OUT = "LEFT_OUT"
# The longest wait between two attempts, in pulls.
MOST_SKIPPED = 1024


@dataclass(frozen=True)
class Failure:
    """A record a pull did not apply: why, and the entry to log the first time this reason is seen."""

    crm_id: str
    code: str
    entry: LogEntry
    waiting_for: str | None = None
    # The version that failed, as the CRM stamped it.
    modstamp: str | None = None


@dataclass(frozen=True)
class PullLock:
    """A record that failed to apply on three pulls in a row."""

    connection_id: int
    platform_type: str
    crm_id: str
    attempts: int
    reason: str
    code: str | None
    last_failed_at: datetime
    locked_at: datetime
    waiting_for: str | None = None

    @property
    def key(self) -> str:
        """``pull:type:crm_id``, as the CLI and the console name it."""
        return f"pull:{self.platform_type}:{self.crm_id}"


def note_failures(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    failures: Sequence[Failure],
    *,
    run_id: int | None,
) -> None:
    """Remember records that did not apply, with their log entries: a new reason gets an entry, a
    repeat of the same one updates it (a count and a time), three failures in a row lock."""
    if not failures:
        return
    now = utcnow()
    known = {
        r.crm_id: r
        for part in chunks([f.crm_id for f in failures])
        for r in conn.execute(
            sa.select(pull_retries).where(
                pull_retries.c.organization_id == organization_id,
                pull_retries.c.connection_id == connection_id,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.crm_id.in_(part),
            )
        )
    }
    for failure in failures:
        row = known.get(failure.crm_id)
        attempts = row.attempts + 1 if row is not None else 1
        lockable = failure.code not in (PARENT_MISSING, LEFT_OUT)
        locked_at = row.locked_at if row is not None and row.locked_at is not None else None
        newly_locked = locked_at is None and lockable and attempts >= LOCK_AFTER
        if newly_locked:
            locked_at = now
        message = failure.entry.message
        lock_note = (
            f"; locked after {attempts} failures in a row: it is not fetched again until an administrator "
            "archives the lock (crmsync locks)"
            if newly_locked
            else ""
        )
        # Compared as stored: a long reason is kept capped.
        if row is not None and row.reason == capped(message) and row.log_entry_id is not None:
            entry_id = int(row.log_entry_id)
            logs.note_repeat(conn, organization_id, entry_id, f"{message}{lock_note}", attempts, now)
        else:
            entry = failure.entry._replace(message=f"{message}{lock_note}")
            entry_id = logs.write_one(
                conn, organization_id, entry, connection_id=connection_id, run_id=run_id
            )
        values = {
            "reason": message,
            "code": failure.code,
            "attempts": attempts,
            "last_failed_at": now,
            "waiting_for": failure.waiting_for,
            "crm_modstamp": failure.modstamp,
            "log_entry_id": entry_id,
            "skips_left": min(2 ** (attempts - 1), MOST_SKIPPED) - 1,
            "locked_at": locked_at,
        }
        if row is not None:
            conn.execute(
                pull_retries.update()
                .where(
                    pull_retries.c.connection_id == connection_id,
                    pull_retries.c.platform_type == platform_type,
                    pull_retries.c.crm_id == failure.crm_id,
                )
                .values(**values)
            )
        else:
            conn.execute(
                pull_retries.insert().values(
                    organization_id=organization_id,
                    connection_id=connection_id,
                    platform_type=platform_type,
                    crm_id=failure.crm_id,
                    first_failed_at=now,
                    **values,
                )
            )


def any_waiting(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> bool:
    """Whether any record of ``platform_type`` has a note (cheaper than clearing)."""
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
    """Forget notes of records that have now been applied (or are gone)."""
    for part in chunks(list(crm_ids)):
        conn.execute(
            pull_retries.delete().where(
                pull_retries.c.organization_id == organization_id,
                pull_retries.c.connection_id == connection_id,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.crm_id.in_(part),
            )
        )


def failed_versions(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> dict[str, str | None]:
    """CRM id -> the stamp of the version that failed or was left out, for those of ``crm_ids`` noted."""
    found: dict[str, str | None] = {}
    for part in chunks(list(crm_ids)):
        rows = conn.execute(
            sa.select(pull_retries.c.crm_id, pull_retries.c.crm_modstamp).where(
                pull_retries.c.organization_id == organization_id,
                pull_retries.c.connection_id == connection_id,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.crm_id.in_(part),
            )
        )
        found.update((r.crm_id, r.crm_modstamp) for r in rows)
    return found


def any_left_out(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> bool:
    """Whether a filter left any record of ``platform_type`` out (one indexed probe)."""
    query = (
        sa.select(pull_retries.c.crm_id)
        .where(
            pull_retries.c.organization_id == organization_id,
            pull_retries.c.connection_id == connection_id,
            pull_retries.c.platform_type == platform_type,
            pull_retries.c.code == LEFT_OUT,
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def left_out_reasons(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> dict[str, str]:
    """CRM id -> why it was left out of its section, for those of ``crm_ids`` a filter keeps out."""
    found: dict[str, str] = {}
    for part in chunks(list(crm_ids)):
        rows = conn.execute(
            sa.select(pull_retries.c.crm_id, pull_retries.c.reason).where(
                pull_retries.c.organization_id == organization_id,
                pull_retries.c.connection_id == connection_id,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.code == LEFT_OUT,
                pull_retries.c.crm_id.in_(part),
            )
        )
        found.update((r.crm_id, r.reason) for r in rows)
    return found


def outstanding(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_types: Sequence[str]
) -> dict[str, int]:
    """How many records of ``platform_types`` are not in step, by why: ``locked``, ``waiting``
    (for a parent), ``failing`` (retried later) and ``left_out`` (by a filter)."""
    code = sa.func.coalesce(pull_retries.c.code, "")
    kind = sa.case(
        (pull_retries.c.locked_at.is_not(None), "locked"),
        (code == PARENT_MISSING, "waiting"),
        (code == LEFT_OUT, "left_out"),
        else_="failing",
    )
    rows = conn.execute(
        sa.select(kind, sa.func.count())
        .where(
            pull_retries.c.organization_id == organization_id,
            pull_retries.c.connection_id == connection_id,
            pull_retries.c.platform_type.in_(list(platform_types) or [""]),
        )
        .group_by(kind)
    )
    return {str(k): int(n) for k, n in rows}


def known(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> list[str]:
    """CRM ids of ``platform_type`` with a note: failed, waiting, locked or left out."""
    rows = conn.execute(
        sa.select(pull_retries.c.crm_id).where(
            pull_retries.c.organization_id == organization_id,
            pull_retries.c.connection_id == connection_id,
            pull_retries.c.platform_type == platform_type,
        )
    )
    return sorted(r.crm_id for r in rows)


def due(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    parent_types: Sequence[str],
    *,
    before: datetime,
) -> list[str]:
    """CRM ids to fetch again now, counting this pull as one more to let pass for the others.

    Due: a record waiting for a parent that is now linked, or left out because of a parent that
    now is (asked of the database each pull: such records cost no API call until the parent
    comes), or a record that failed otherwise whose pulls to let pass are over; never a locked
    one, or one that failed at ``before`` or later.
    """
    waiting = (
        (pull_retries.c.organization_id == organization_id)
        & (pull_retries.c.connection_id == connection_id)
        & (pull_retries.c.platform_type == platform_type)
        & pull_retries.c.locked_at.is_(None)
        & (pull_retries.c.last_failed_at < before)
    )
    parent_back = sa.exists().where(
        links.c.connection_id == connection_id,
        links.c.platform_type.in_(list(parent_types) or [""]),
        links.c.crm_id == pull_retries.c.waiting_for,
    )
    code = sa.func.coalesce(pull_retries.c.code, "")
    backed_off = (pull_retries.c.skips_left <= 0) & code.not_in([PARENT_MISSING, LEFT_OUT])
    rows = conn.execute(
        sa.select(pull_retries.c.crm_id)
        .where(waiting, backed_off | parent_back)
        .order_by(pull_retries.c.crm_id)
    )
    found = [r.crm_id for r in rows]
    conn.execute(
        pull_retries.update()
        .where(waiting, pull_retries.c.skips_left > 0)
        .values(skips_left=pull_retries.c.skips_left - 1)
    )
    return found


def locks(conn: sa.Connection, organization_id: int, connection_id: int | None = None) -> list[PullLock]:
    """Records locked after three failed pulls, newest first."""
    query = sa.select(pull_retries).where(
        pull_retries.c.organization_id == organization_id, pull_retries.c.locked_at.is_not(None)
    )
    if connection_id is not None:
        query = query.where(pull_retries.c.connection_id == connection_id)
    rows = conn.execute(query.order_by(pull_retries.c.locked_at.desc(), pull_retries.c.crm_id))
    return [
        PullLock(
            connection_id=int(r.connection_id),
            platform_type=r.platform_type,
            crm_id=r.crm_id,
            attempts=int(r.attempts),
            reason=r.reason,
            code=r.code,
            last_failed_at=r.last_failed_at,
            locked_at=r.locked_at,
            waiting_for=r.waiting_for,
        )
        for r in rows
    ]


def unlock(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_id: str
) -> None:
    """Lift a pull lock: the record is fetched again on the next pull (its count starts over)."""
    conn.execute(
        pull_retries.update()
        .where(
            pull_retries.c.organization_id == organization_id,
            pull_retries.c.connection_id == connection_id,
            pull_retries.c.platform_type == platform_type,
            pull_retries.c.crm_id == crm_id,
        )
        .values(locked_at=None, attempts=0, skips_left=0)
    )


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
