"""Managing org syncs: add, change, remove, test, list (what the CLI and the admin pages call)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import org_syncs
from crmsync.store.db import reading
from crmsync.store.org_syncs import INTERVALS, OrgSync
from crmsync.store.tenancy import ConnectionRow


@dataclass(frozen=True)
class Change:
    """Settings to change on an org sync (None: leave as is)."""

    method: str | None = None
    interval_minutes: int | None = None
    enabled: bool | None = None


def list_syncs(workspace: Workspace, connection: str | None = None) -> list[OrgSync]:
    """Org syncs of one connection, or of every connection."""
    connection_id = workspace.connection(connection).id if connection else None
    with reading(workspace.engine) as conn:
        return org_syncs.all_of(conn, workspace.organization_id, connection_id)


def add_sync(workspace: Workspace, connection: str | None, crm_object: str) -> OrgSync:
    """A new org sync for ``crm_object``: disabled, method cdc, every 15 minutes."""
    row = workspace.connection(connection)
    name = _mapped_object(workspace, row, crm_object)
    with workspace.engine.begin() as conn:
        if org_syncs.get(conn, workspace.organization_id, row.id, name) is not None:
            raise ConfigError(f"{name} already has an org sync on {row.name}; change it with `orgsync set`")
        return org_syncs.add(conn, workspace.organization_id, row.id, name)


def set_sync(workspace: Workspace, connection: str | None, crm_object: str, change: Change) -> OrgSync:
    """Change method, interval or enabled; an admin's change also clears a fatal error."""
    row = workspace.connection(connection)
    if change.method is not None and change.method not in ("cdc", "poll"):
        raise ConfigError(f"method must be cdc or poll, not {change.method!r}")
    if change.interval_minutes is not None and change.interval_minutes not in INTERVALS:
        allowed = ", ".join(str(i) for i in INTERVALS)
        raise ConfigError(f"interval must be one of {allowed} minutes, not {change.interval_minutes}")
    with workspace.engine.begin() as conn:
        sync = _existing(conn, workspace, row, crm_object)
        values: dict[str, object] = {"fatal_error": None}
        if change.method is not None:
            values["method"] = change.method
        if change.interval_minutes is not None:
            values["interval_minutes"] = change.interval_minutes
            values["next_poll_at"] = None
        if change.enabled is not None:
            values["enabled"] = change.enabled
            values["next_poll_at"] = None
        org_syncs.update(conn, workspace.organization_id, sync.id, **values)
        found = org_syncs.get(conn, workspace.organization_id, row.id, sync.crm_object)
    assert found is not None
    return found


def remove_sync(workspace: Workspace, connection: str | None, crm_object: str) -> OrgSync:
    """Remove an org sync (and, in the contact-centre profile, its data sources)."""
    row = workspace.connection(connection)
    with workspace.engine.begin() as conn:
        sync = _existing(conn, workspace, row, crm_object)
        org_syncs.remove(conn, workspace.organization_id, sync.id)
    return sync


def _existing(conn: sa.Connection, workspace: Workspace, row: ConnectionRow, crm_object: str) -> OrgSync:
    sync = org_syncs.get(conn, workspace.organization_id, row.id, crm_object)
    if sync is None:
        raise ConfigError(
            f"{crm_object} has no org sync on {row.name}; add one with `orgsync add {crm_object}`"
        )
    return sync


def _mapped_object(workspace: Workspace, row: ConnectionRow, crm_object: str) -> str:
    profile = workspace.profile(row)
    objects = sorted({m.object for m in profile.objects})
    for name in objects:
        if name.casefold() == crm_object.casefold():
            return name
    raise ConfigError(
        f"profile {profile.name} maps no object {crm_object!r}; org syncs can cover {', '.join(objects)}"
    )
