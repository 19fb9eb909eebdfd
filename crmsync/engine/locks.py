"""Locks, both ways: records whose pushes failed three times in a row (``type:id``), and CRM
records that failed to apply on three pulls in a row (``pull:type:crm_id``).

Automatic retries stop at a lock. Archiving it lets the record go again: a push lock queues
the record to be pushed; a pull lock makes the next pull fetch the record again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import logs, push_state, records, retries
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry


@dataclass(frozen=True)
class Lock:
    """One locked record, either way."""

    key: str
    direction: Literal["push", "pull"]
    connection_id: int
    platform_type: str
    platform_id: int | None
    crm_id: str | None
    failures: int
    last_error: str
    last_error_code: str | None
    last_failed_at: datetime
    locked_at: datetime | None
    # A push lock: what failed ("upsert" or "delete"). Either: the parent (``type:id`` pushed,
    # a CRM id pulled) whose failure this one followed or waits for.
    operation: str | None = None
    waiting_for: str | None = None


def list_locks(workspace: Workspace, connection: str | None = None) -> list[Lock]:
    """Locked records with their last error, pushes then pulls, newest first."""
    connection_id = workspace.connection(connection).id if connection else None
    org = workspace.organization_id
    with reading(workspace.engine) as conn:
        pushed = push_state.locks(conn, org, connection_id)
        pulled = retries.locks(conn, org, connection_id)
    return [
        *(
            Lock(
                lock.key,
                "push",
                lock.connection_id,
                lock.platform_type,
                lock.platform_id,
                lock.crm_id,
                lock.failures,
                lock.last_error,
                lock.last_error_code,
                lock.last_failed_at,
                lock.locked_at,
                lock.operation,
                lock.waiting_for,
            )
            for lock in pushed
        ),
        *(
            Lock(
                lock.key,
                "pull",
                lock.connection_id,
                lock.platform_type,
                None,
                lock.crm_id,
                lock.attempts,
                lock.reason,
                lock.code,
                lock.last_failed_at,
                lock.locked_at,
                None,
                lock.waiting_for,
            )
            for lock in pulled
        ),
    ]


def archive_locks(workspace: Workspace, keys: Sequence[str], connection: str | None = None) -> int:
    """Clear locks by name; those records go again (pushed, or fetched by the next pull)."""
    for key in keys:
        if not _well_formed(key):
            raise ConfigError(
                f"{key!r} is not a lock name; write TYPE:ID (a push lock, e.g. supporters:42) or "
                "pull:TYPE:CRM_ID (a pull lock); `crmsync locks` lists them"
            )
    found = {lock.key: lock for lock in list_locks(workspace, connection) if lock.key in set(keys)}
    missing = sorted(set(keys) - set(found))
    if missing:
        raise ConfigError(f"no lock named {', '.join(missing)}; `crmsync locks` lists them")
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        for lock in found.values():
            if lock.direction == "pull":
                assert lock.crm_id is not None
                retries.unlock(conn, org, lock.connection_id, lock.platform_type, lock.crm_id)
                message = f"lock archived by an administrator; {lock.key} is fetched again on the next pull"
            else:
                assert lock.platform_id is not None
                record = (lock.platform_type, lock.platform_id)
                # A record the platform no longer has is deleted in the CRM again (by the CRM id its
                # failed delete kept, else by its link); any other is pushed again.
                gone = not records.existing_ids(conn, org, lock.platform_type, [lock.platform_id])
                push_state.clear_failures(conn, org, lock.connection_id, [record])
                # Linked records are not in the sweep's scope: queue them so the pusher retries.
                again = (*record, "delete", lock.crm_id) if gone else (*record, "upsert", None)
                push_state.enqueue(conn, org, lock.connection_id, [again])
                what = "deleted in the CRM" if gone else "pushed"
                message = f"lock archived by an administrator; {lock.key} is queued to be {what} again"
            entry = LogEntry(
                data_type=lock.platform_type,
                action=lock.direction,
                direction=lock.direction,
                status="pending",
                message=message,
                crm_id=lock.crm_id,
                platform_id=lock.platform_id,
            )
            logs.write(conn, org, [entry], connection_id=lock.connection_id, run_id=None)
    return len(found)


def _well_formed(key: str) -> bool:
    parts = key.split(":")
    if len(parts) == 3:
        return parts[0] == "pull" and all(parts[1:])
    return len(parts) == 2 and bool(parts[0]) and parts[1].isdigit()
