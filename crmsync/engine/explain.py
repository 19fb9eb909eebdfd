"""Why didn't this sync? One sentence about a record, and the action that fixes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from crmsync.engine.outbound import filter_problem, lookup_parent
from crmsync.engine.push import pushable_types
from crmsync.engine.records_view import RecordPage
from crmsync.engine.workspace import Workspace
from crmsync.model.profile import ObjectMapping
from crmsync.store import links, org_syncs, records, tenancy
from crmsync.store.db import reading
from crmsync.store.tables import pull_retries, push_queue
from crmsync.store.tenancy import ConnectionRow
from crmsync.store.types import utcnow

ActionKind = Literal["resync", "archive", "settings", "edit", "sync_all", "none"]
NEXT_SWEEP = "push.next_sweep_at"


@dataclass(frozen=True)
class Explanation:
    """The reason in one sentence and what fixes it."""

    reason: str
    action: ActionKind
    action_label: str


def _hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"


def note_next_sweep(conn: sa.Connection, organization_id: int, connection_id: int, at: datetime) -> None:
    """The pusher says when it sweeps next (the sentence "waiting for the next sweep at HH:MM")."""
    tenancy.put_setting(conn, organization_id, NEXT_SWEEP, at.isoformat(), connection_id=connection_id)


def explain(workspace: Workspace, row: ConnectionRow, record: RecordPage, platform_type: str) -> Explanation:
    """Why ``record`` is (or is not) in step with the CRM on this connection."""
    org, cid = workspace.organization_id, row.id
    scope = workspace.scope(row)
    mapping = scope.profile.mapping(platform_type)
    owner = mapping.part_of or platform_type
    view = record.row
    with reading(workspace.engine) as conn:
        toggles = tenancy.get_toggles(conn, org, cid)
        pushable = pushable_types(scope, toggles)
        next_sweep = tenancy.get_setting(conn, org, NEXT_SWEEP, connection_id=cid)
        queued_for = conn.execute(
            sa.select(push_queue.c.next_attempt_at).where(
                push_queue.c.organization_id == org,
                push_queue.c.connection_id == cid,
                push_queue.c.platform_type == platform_type,
                push_queue.c.platform_id == view.id,
            )
        ).scalar()
        parent_problem = _parent_problem(conn, workspace, row, mapping, record, pushable)
    if view.state == "locked":
        return Explanation(
            f"It is locked after {view.failures} failed pushes in a row; the last error was: "
            f"{view.last_error}",
            "resync",
            "Fix the cause in the record or in the CRM, then Resync (or archive the lock)",
        )
    if platform_type not in pushable:
        toggle = toggles.get(owner)
        if view.crm_id is not None:
            return Explanation(
                f"It is linked to {view.crm_id}, but the push toggle of {owner.replace('_', ' ')} is off on "
                f"{row.name}, so changes made in the platform stay there",
                "settings",
                "Turn push on in Sync settings",
            )
        pulled = (
            " (it is pulled, but this record did not come from the CRM)" if toggle and toggle.pull else ""
        )
        return Explanation(
            f"The push toggle of {owner.replace('_', ' ')} is off on {row.name}, so this record stays in "
            f"the platform{pulled}",
            "settings",
            "Turn push on in Sync settings",
        )
    if view.crm_id is None:
        problem = filter_problem(mapping, record.values)
        if problem is not None:
            return Explanation(
                f"It is filtered out: {problem}", "edit", "Change the record so that it meets the filter"
            )
    if parent_problem is not None:
        return Explanation(
            f"Its parent is missing: {parent_problem}", "settings", "Turn on the parent's push"
        )
    if view.state == "error":
        when = f"; it is tried again at {_hhmm(queued_for)}" if queued_for is not None else ""
        return Explanation(
            f"Its last push failed ({view.failures} of 3 before it locks): {view.last_error}{when}",
            "resync",
            "Fix the cause, then Resync",
        )
    if queued_for is not None:
        return Explanation(
            f"It is queued to be pushed at {_hhmm(max(queued_for, utcnow()))}", "resync", "Resync now"
        )
    if view.crm_id is None:
        if next_sweep:
            at = datetime.fromisoformat(str(next_sweep))
            if at > utcnow():
                return Explanation(
                    f"It is waiting for the next sweep at {_hhmm(at)}", "resync", "Resync now instead"
                )
        return Explanation(
            "It is waiting for the next sweep, and none is scheduled: `crmsync run` sweeps every 15 minutes",
            "resync",
            "Resync now",
        )
    synced = f", last synced {record.synced_at:%Y-%m-%d %H:%M} UTC" if record.synced_at else ""
    return Explanation(
        f"It is in step: linked to {view.crm_id}{synced}", "none", "Nothing to do (Resync pushes it again)"
    )


def explain_crm(workspace: Workspace, row: ConnectionRow, platform_type: str, crm_id: str) -> Explanation:
    """Why a CRM record (by its id) is not in the platform."""
    org, cid = workspace.organization_id, row.id
    mapping = workspace.profile(row).mapping(platform_type)
    owner = mapping.part_of or platform_type
    with reading(workspace.engine) as conn:
        linked = links.platform_ids(conn, org, cid, platform_type, [crm_id])
        reason = conn.execute(
            sa.select(pull_retries.c.reason, pull_retries.c.attempts).where(
                pull_retries.c.organization_id == org,
                pull_retries.c.connection_id == cid,
                pull_retries.c.platform_type == platform_type,
                pull_retries.c.crm_id == crm_id,
            )
        ).first()
        toggle = tenancy.get_toggles(conn, org, cid).get(owner)
        sync = org_syncs.get(conn, org, cid, mapping.object)
    if crm_id in linked:
        return Explanation(
            f"{crm_id} is in the platform as {platform_type} {linked[crm_id]}", "none", "Nothing to do"
        )
    if toggle is None or not toggle.pull:
        return Explanation(
            f"The pull toggle of {owner.replace('_', ' ')} is off on {row.name}, so {crm_id} is not pulled",
            "settings",
            "Turn pull on in Sync settings",
        )
    if reason is not None:
        return Explanation(
            f"It was skipped when pulled ({reason.attempts} attempts): {reason.reason}",
            "sync_all",
            "Make sure its parent is pulled (its pull toggle on), then Sync All",
        )
    if sync is not None and sync.enabled and sync.next_poll_at is not None:
        return Explanation(
            f"It has not been pulled yet; the next poll of {sync.crm_object} is at "
            f"{_hhmm(sync.next_poll_at)}",
            "sync_all",
            "Sync All now",
        )
    return Explanation(
        f"It has not been pulled yet, or it does not meet the {mapping.label_text} filter",
        "sync_all",
        "Sync All now",
    )


def _parent_problem(
    conn: sa.Connection,
    workspace: Workspace,
    row: ConnectionRow,
    mapping: ObjectMapping,
    record: RecordPage,
    pushable: set[str],
) -> str | None:
    org, cid = workspace.organization_id, row.id
    for lookup in mapping.lookups:
        parent = lookup_parent(mapping, lookup.crm, record.values)
        if parent is None:
            continue
        parent_type, parent_id = parent
        noun = parent_type.replace("_", " ")
        if not records.get_many(conn, org, parent_type, [parent_id]):
            return f"its {noun} {parent_id} ({lookup.crm}) no longer exists"
        if links.by_platform_ids(conn, org, cid, parent_type, [parent_id]):
            continue
        if parent_type not in pushable:
            return (
                f"its {noun} {parent_id} ({lookup.crm}) is not in the CRM and {noun} are not pushed "
                f"(their push toggle is off on {row.name})"
            )
    return None
