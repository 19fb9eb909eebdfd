"""Deletions and merges seen in the CRM, applied after every object of a run is pulled.

What a removed CRM record does to its platform row is its section's ``on_crm_delete``:
``archive`` (the default) keeps the row, marked and left out of pushes and exports until
``crmsync restore``; ``delete`` deletes it; ``unlink`` keeps it as a platform record of its
own. A merged-away record's platform children first move to the surviving record.

Parents go first, and children removed in the CRM with their parent (a constituent's gifts,
a gift's payments) follow the parent's setting, so a supporter's gifts are never deleted
while the supporter is archived, or archived under a deleted supporter. Children whose own
removal comes without their parent's follow their own section's setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.engine.apply import Scope
from crmsync.engine.counts import Counts
from crmsync.model.order import pull_steps
from crmsync.model.profile import ObjectMapping, OnCrmDelete
from crmsync.store import archive, capture, links, logs, records, retries
from crmsync.store.archive import Archived
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry
from crmsync.store.platform import platform_table


@dataclass
class _Removing:
    """One run's removals, by type and CRM id, and what became of them."""

    pending: dict[str, dict[str, retries.Removal]]
    counts: dict[str, Counts] = field(default_factory=dict)


def apply_removals(engine: Engine, scope: Scope, types: set[str], *, run_id: int | None) -> dict[str, Counts]:
    """Apply pending removals of ``types``, parents first; one transaction per record. Counts by type."""
    ordered = [m for step in pull_steps(scope.profile) for m in step if m.type in types]
    with reading(engine) as conn:
        pending = {
            m.type: {
                r.crm_id: r
                for r in retries.removals(conn, scope.organization_id, scope.connection_id, m.type)
            }
            for m in ordered
        }
    state = _Removing(pending)
    for mapping in ordered:
        for removal in list(state.pending[mapping.type].values()):
            if removal.crm_id not in state.pending[mapping.type]:
                continue  # applied with its parent
            with engine.begin() as conn, capture.origin(conn, "sync"):
                entries = _apply(conn, scope, mapping, removal, state)
                logs.write(
                    conn, scope.organization_id, entries, connection_id=scope.connection_id, run_id=run_id
                )
    return state.counts


def _apply(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, removal: retries.Removal, state: _Removing
) -> list[LogEntry]:
    org, cid = scope.organization_id, scope.connection_id
    state.pending[mapping.type].pop(removal.crm_id, None)
    link = links.by_crm_ids(conn, org, cid, mapping.type, [removal.crm_id]).get(removal.crm_id)
    if link is None:
        # Never synced (or already removed): nothing on the platform to change.
        retries.clear_removal(conn, org, cid, removal)
        return []
    noun = mapping.label_text
    if removal.master_crm_id is None:
        return _remove(conn, scope, mapping, link, removal, state, mapping.on_crm_delete, parent=None)
    master = links.by_crm_ids(conn, org, cid, mapping.type, [removal.master_crm_id]).get(
        removal.master_crm_id
    )
    if master is None:
        return [
            LogEntry(
                data_type=mapping.type,
                action="merge",
                direction="pull",
                status="error",
                message=(
                    f"{mapping.object} {removal.crm_id} was merged into {removal.master_crm_id}, which is "
                    f"not in the platform as {noun}; {noun} {link.platform_id} keeps its children until "
                    "the surviving record is pulled (check its pull toggle and filter)"
                ),
                crm_id=removal.crm_id,
                platform_id=link.platform_id,
                details={"master_crm_id": removal.master_crm_id},
            )
        ]
    moved: dict[str, int] = {}
    for child, column in _children_of(scope, mapping.type):
        n = records.repoint(conn, org, child.type, column, link.platform_id, master.platform_id)
        if n:
            moved[f"{child.type}.{column}"] = n
    state.counts.setdefault(mapping.type, Counts()).merged += 1
    mode = mapping.on_crm_delete
    _settle(
        conn, scope, mapping, link, mode, reason="merged", master_crm_id=removal.master_crm_id, parent=None
    )
    retries.clear_removal(conn, org, cid, removal)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(moved.items())) or "no children"
    return [
        LogEntry(
            data_type=mapping.type,
            action="merge",
            direction="pull",
            status="processed",
            message=(
                f"merged {noun} {link.platform_id} into {master.platform_id} ({mapping.object} "
                f"{removal.crm_id} was merged into {removal.master_crm_id}); moved {summary}; "
                f"{_done(mode, mapping, link.platform_id)}"
            ),
            crm_id=removal.crm_id,
            platform_id=link.platform_id,
            details={
                "master_crm_id": removal.master_crm_id,
                "master_platform_id": master.platform_id,
                "moved": moved,
                "on_crm_delete": mode,
            },
        )
    ]


def _remove(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    link: links.Link,
    removal: retries.Removal,
    state: _Removing,
    mode: OnCrmDelete,
    *,
    parent: tuple[str, int] | None,
) -> list[LogEntry]:
    """A deleted record and the children deleted with it, as ``mode`` says; their log entries."""
    org, cid = scope.organization_id, scope.connection_id
    entries: list[LogEntry] = []
    # Children removed with it first: a deleted row takes nothing of theirs along.
    for child, column in _children_of(scope, mapping.type):
        gone = state.pending.get(child.type, {})
        if not gone:
            continue
        ids = _rows_pointing(conn, org, child.type, column, link.platform_id)
        for child_link in links.by_platform_ids(conn, org, cid, child.type, ids, base=True).values():
            follow = gone.pop(child_link.crm_id, None)
            if follow is not None:
                entries += _remove(
                    conn,
                    scope,
                    child,
                    child_link,
                    follow,
                    state,
                    mode,
                    parent=(mapping.type, link.platform_id),
                )
    _settle(
        conn, scope, mapping, link, mode, reason="deleted" if parent is None else "with_parent", parent=parent
    )
    retries.clear_removal(conn, org, cid, removal)
    counts = state.counts.setdefault(mapping.type, Counts())
    counts.deleted += 1
    cause = "" if parent is None else f", with its {parent[0].replace('_', ' ')} {parent[1]}"
    entries.append(
        LogEntry(
            data_type=mapping.type,
            action="delete",
            direction="pull",
            status="processed",
            message=(
                f"{mapping.object} {removal.crm_id} was deleted in the CRM{cause}: "
                f"{_done(mode, mapping, link.platform_id)}"
            ),
            crm_id=removal.crm_id,
            platform_id=link.platform_id,
            details={"on_crm_delete": mode, **({"with": f"{parent[0]}:{parent[1]}"} if parent else {})},
        )
    )
    return entries


def _settle(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    link: links.Link,
    mode: OnCrmDelete,
    *,
    reason: archive.Reason,
    parent: tuple[str, int] | None,
    master_crm_id: str | None = None,
) -> None:
    """Archive, delete or unlink one platform row whose CRM record is gone."""
    org, cid = scope.organization_id, scope.connection_id
    if mode == "archive":
        archive.add(
            conn,
            org,
            [
                Archived(
                    cid,
                    mapping.type,
                    link.platform_id,
                    mapping.object,
                    link.crm_id,
                    reason,
                    master_crm_id=master_crm_id,
                    parent_type=parent[0] if parent else None,
                    parent_id=parent[1] if parent else None,
                    synced_values=link.synced_values,
                )
            ],
        )
    elif mode == "delete":
        records.delete(conn, org, mapping.type, link.platform_id)
    links.remove(conn, org, cid, mapping.type, link.crm_id)


def _done(mode: OnCrmDelete, mapping: ObjectMapping, platform_id: int) -> str:
    noun = mapping.label_text
    if mode == "archive":
        return f"archived {noun} {platform_id} (crmsync restore {mapping.type} {platform_id} brings it back)"
    if mode == "delete":
        return f"deleted {noun} {platform_id} (on_crm_delete = delete)"
    return f"unlinked {noun} {platform_id}, which stays on the platform (on_crm_delete = unlink)"


def _children_of(scope: Scope, platform_type: str) -> list[tuple[ObjectMapping, str]]:
    """(child mapping, lookup column) of every lookup that points to ``platform_type``."""
    return [
        (child, target.column)
        for child in scope.profile.objects
        for lookup in child.lookups
        for target in lookup.targets
        if target.type == platform_type
    ]


def _rows_pointing(
    conn: sa.Connection, organization_id: int, platform_type: str, column: str, parent_id: int
) -> list[int]:
    table = platform_table(platform_type)
    query = sa.select(table.c.id).where(
        table.c.organization_id == organization_id, table.c[column] == parent_id
    )
    return [int(r[0]) for r in conn.execute(query)]
