"""Deletions and merges seen in the CRM, applied after every object of a run is pulled.

Children go before parents. A merged-away record's platform children move to the
surviving record before the merged-away platform row is deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.engine.apply import Scope
from crmsync.engine.counts import Counts
from crmsync.model.order import pull_steps
from crmsync.model.profile import ObjectMapping
from crmsync.store import capture, links, logs, records, retries
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry


def apply_removals(engine: Engine, scope: Scope, types: set[str], *, run_id: int | None) -> dict[str, Counts]:
    """Apply pending removals of ``types``; one transaction per record. Returns counts by type."""
    counts: dict[str, Counts] = {}
    ordered = [m for step in pull_steps(scope.profile) for m in step if m.type in types]
    for mapping in reversed(ordered):
        with reading(engine) as conn:
            pending = retries.removals(conn, scope.organization_id, scope.connection_id, mapping.type)
        for removal in pending:
            with engine.begin() as conn, capture.origin(conn, "sync"):
                entry = _apply(conn, scope, mapping, removal, counts.setdefault(mapping.type, Counts()))
                if entry is not None:
                    logs.write(
                        conn, scope.organization_id, [entry], connection_id=scope.connection_id, run_id=run_id
                    )
    return counts


def _apply(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, removal: retries.Removal, counts: Counts
) -> LogEntry | None:
    org, cid = scope.organization_id, scope.connection_id
    link = links.by_crm_ids(conn, org, cid, mapping.type, [removal.crm_id]).get(removal.crm_id)
    if link is None:
        # Never synced (or already removed): nothing on the platform to change.
        retries.clear_removal(conn, org, cid, removal)
        return None
    noun = mapping.label_text
    if removal.master_crm_id is None:
        records.delete(conn, org, mapping.type, link.platform_id)
        links.remove(conn, org, cid, mapping.type, removal.crm_id)
        retries.clear_removal(conn, org, cid, removal)
        counts.deleted += 1
        return LogEntry(
            data_type=mapping.type,
            action="delete",
            direction="pull",
            status="processed",
            message=(
                f"deleted {noun} {link.platform_id}: {mapping.object} {removal.crm_id} was deleted in the CRM"
            ),
            crm_id=removal.crm_id,
            platform_id=link.platform_id,
        )
    master = links.by_crm_ids(conn, org, cid, mapping.type, [removal.master_crm_id]).get(
        removal.master_crm_id
    )
    if master is None:
        return LogEntry(
            data_type=mapping.type,
            action="merge",
            direction="pull",
            status="error",
            message=(
                f"{mapping.object} {removal.crm_id} was merged into {removal.master_crm_id}, which is not "
                f"in the platform as {noun}; {noun} {link.platform_id} keeps its children until the "
                "surviving record is pulled (check its pull toggle and filter)"
            ),
            crm_id=removal.crm_id,
            platform_id=link.platform_id,
            details={"master_crm_id": removal.master_crm_id},
        )
    moved: dict[str, int] = {}
    for child in scope.profile.objects:
        for lookup in child.lookups:
            for target in lookup.targets:
                if target.type == mapping.type:
                    n = records.repoint(
                        conn, org, child.type, target.column, link.platform_id, master.platform_id
                    )
                    if n:
                        moved[f"{child.type}.{target.column}"] = n
    records.delete(conn, org, mapping.type, link.platform_id)
    links.remove(conn, org, cid, mapping.type, removal.crm_id)
    retries.clear_removal(conn, org, cid, removal)
    counts.merged += 1
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(moved.items())) or "no children"
    return LogEntry(
        data_type=mapping.type,
        action="merge",
        direction="pull",
        status="processed",
        message=(
            f"merged {noun} {link.platform_id} into {master.platform_id} ({mapping.object} {removal.crm_id} "
            f"was merged into {removal.master_crm_id}); moved {summary}"
        ),
        crm_id=removal.crm_id,
        platform_id=link.platform_id,
        details={
            "master_crm_id": removal.master_crm_id,
            "master_platform_id": master.platform_id,
            "moved": moved,
        },
    )
