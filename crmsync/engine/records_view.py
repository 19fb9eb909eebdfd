"""Platform records with their CRM id and sync state on one connection, paged newest first.

State, in order of precedence: locked (3 failed pushes in a row), error (a push failed),
pending (queued, or unlinked and waiting for the sweep), synced (linked to a CRM record),
skipped (unlinked and its push toggle is off: it stays in the platform).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from crmsync.engine import log_view
from crmsync.engine.push import pushable_types
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import tenancy
from crmsync.store.db import reading
from crmsync.store.links import chunks
from crmsync.store.logs import StoredLogEntry
from crmsync.store.platform import platform_table
from crmsync.store.tables import links, push_queue, record_failures
from crmsync.store.tenancy import ConnectionRow

State = Literal["synced", "pending", "error", "locked", "skipped"]
STATES: tuple[State, ...] = ("synced", "pending", "error", "locked", "skipped")


@dataclass(frozen=True)
class RecordRow:
    """One record in a table view."""

    id: int
    label: str
    crm_id: str | None
    state: State
    detail: str
    failures: int
    last_error: str | None
    updated_at: datetime


@dataclass(frozen=True)
class RecordPage:
    """A record with its values, sync state and history."""

    row: RecordRow
    values: dict[str, Any]
    synced_at: datetime | None
    history: list[StoredLogEntry]


def types_of(workspace: Workspace, row: ConnectionRow) -> list[tuple[str, str]]:
    """(platform type, label) of every type the connection's profile maps."""
    return [(m.type, m.label_text) for m in workspace.profile(row).objects]


def label_of(values: dict[str, Any], platform_type: str) -> str:
    """A short human name for a record (a person's name, a name, else its type and id)."""
    person = " ".join(str(values[c]) for c in ("first_name", "last_name") if values.get(c))
    for candidate in (person, values.get("name"), values.get("list_name")):
        if candidate:
            return str(candidate)
    if values.get("amount") is not None:
        return f"{platform_type.replace('_', ' ')} of {values['amount']}"
    return f"{platform_type.replace('_', ' ')} {values.get('id')}"


def page(
    workspace: Workspace,
    row: ConnectionRow,
    platform_type: str,
    *,
    state: State | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[RecordRow]:
    """Records of ``platform_type``, newest first; pass the last id as ``before`` for more."""
    table, push_on = _checked(workspace, row, platform_type)
    query = _select(workspace, row, platform_type, table)
    if before is not None:
        query = query.where(table.c.id < before)
    if state is not None:
        query = query.where(_state_filter(state, push_on))
    with reading(workspace.engine) as conn:
        rows = conn.execute(query.order_by(table.c.id.desc()).limit(limit)).all()
    return [_record(dict(r._mapping), platform_type, push_on) for r in rows]


def get(workspace: Workspace, row: ConnectionRow, platform_type: str, record_id: int) -> RecordPage | None:
    """One record with its history on this connection, or None when the organization has none."""
    table, push_on = _checked(workspace, row, platform_type)
    query = _select(workspace, row, platform_type, table).where(table.c.id == record_id)
    with reading(workspace.engine) as conn:
        found = conn.execute(query).first()
        if found is None:
            return None
        data = dict(found._mapping)
        history = log_view.history(conn, workspace.organization_id, row.id, platform_type, record_id)
    values = {c.name: data[c.name] for c in table.c if c.name != "organization_id"}
    return RecordPage(_record(data, platform_type, push_on), values, data["_synced_at"], history)


def existing_ids(
    workspace: Workspace, row: ConnectionRow, platform_type: str, ids: Sequence[int]
) -> set[int]:
    """Which of ``ids`` are records of ``platform_type`` in the organization."""
    table, _ = _checked(workspace, row, platform_type)
    found: set[int] = set()
    with reading(workspace.engine) as conn:
        for part in chunks(sorted(set(ids))):
            query = sa.select(table.c.id).where(table.c.organization_id == workspace.organization_id)
            found.update(int(r[0]) for r in conn.execute(query.where(table.c.id.in_(part))))
    return found


def _checked(workspace: Workspace, row: ConnectionRow, platform_type: str) -> tuple[sa.Table, bool]:
    profile = workspace.profile(row)
    if platform_type not in profile.types():
        raise ConfigError(
            f"profile {profile.name} has no platform type {platform_type!r}; "
            f"it has {', '.join(profile.types())}"
        )
    with reading(workspace.engine) as conn:
        toggles = tenancy.get_toggles(conn, workspace.organization_id, row.id)
    scope = workspace.scope(row)
    return platform_table(platform_type), platform_type in pushable_types(scope, toggles)


def _select(workspace: Workspace, row: ConnectionRow, platform_type: str, table: sa.Table) -> sa.Select[Any]:
    org, cid = workspace.organization_id, row.id

    def same(other: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(
            other.c.connection_id == cid,
            other.c.platform_type == platform_type,
            other.c.platform_id == table.c.id,
        )

    return (
        sa.select(
            table,
            links.c.crm_id.label("_crm_id"),
            links.c.synced_at.label("_synced_at"),
            record_failures.c.failures.label("_failures"),
            record_failures.c.last_error.label("_last_error"),
            record_failures.c.locked_at.label("_locked_at"),
            push_queue.c.next_attempt_at.label("_queued_for"),
        )
        .select_from(
            table.outerjoin(links, same(links))
            .outerjoin(record_failures, same(record_failures))
            .outerjoin(push_queue, same(push_queue))
        )
        .where(table.c.organization_id == org)
    )


def _state_filter(state: State, push_on: bool) -> sa.ColumnElement[bool]:
    failed = record_failures.c.failures.is_not(None)
    locked = record_failures.c.locked_at.is_not(None)
    queued = push_queue.c.platform_id.is_not(None)
    linked = links.c.crm_id.is_not(None)
    if state == "locked":
        return locked
    if state == "error":
        return sa.and_(failed, ~locked)
    clean = ~failed
    if state == "pending":
        return sa.and_(clean, sa.or_(queued, sa.and_(~linked, sa.true() if push_on else sa.false())))
    if state == "synced":
        return sa.and_(clean, ~queued, linked)
    return sa.and_(clean, ~queued, ~linked, sa.false() if push_on else sa.true())


def _record(data: dict[str, Any], platform_type: str, push_on: bool) -> RecordRow:
    failures = int(data["_failures"] or 0)
    state: State
    if data["_locked_at"] is not None:
        state, detail = "locked", f"locked after {failures} failures"
    elif failures:
        state, detail = "error", f"{failures} failed push{'es' if failures > 1 else ''} in a row"
    elif data["_queued_for"] is not None:
        state, detail = "pending", "queued to be pushed"
    elif data["_crm_id"] is not None:
        state, detail = "synced", "linked to its CRM record"
    elif push_on:
        state, detail = "pending", "waiting for the next sweep"
    else:
        state, detail = "skipped", "push toggle off"
    return RecordRow(
        id=int(data["id"]),
        label=label_of(data, platform_type),
        crm_id=data["_crm_id"],
        state=state,
        detail=detail,
        failures=failures,
        last_error=data["_last_error"],
        updated_at=data["updated_at"],
    )
