"""Pushing platform records to the CRM: parents first, matched before created, never duplicated,
and merged field by field with what the CRM holds now.

A record with a link is updated by its CRM id, with only the fields the platform changed
since the link's base (:mod:`crmsync.engine.push_merge`); one without is upserted by the
platform-id external field, so a retry after a lost response updates instead of creating
twice. Every attempt is a log entry; three failures in a row lock a record until an admin
archives the lock (Resync goes through locks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.connectors.writes import CHANGED_SINCE_READ, WriteRecord, WriteResult
from crmsync.engine import push_bodies
from crmsync.engine.apply import Scope
from crmsync.engine.flows import column_flows, toggle_of
from crmsync.engine.outbound import platform_key
from crmsync.engine.push_deletes import delete_in_crm
from crmsync.engine.push_merge import merge_with_crm
from crmsync.engine.push_plan import Key, Node, Plan, match_in_crm, plan_push
from crmsync.engine.push_record import GONE, IN_STEP, Written, record
from crmsync.engine.push_report import Outcome, PushItem, PushReport, Status, skip
from crmsync.store import archive, push_state, tenancy
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry

__all__ = ["Outcome", "PushItem", "PushReport", "Status", "push", "pushable_types"]

# A record found changed by a conditional update is read, merged and written again this often.
REMERGES = 3


def pushable_types(scope: Scope, toggles: dict[str, tenancy.Toggle]) -> set[str]:
    """Platform types whose push toggle is on (parts follow their owner's toggle)."""
    on = {t for t, toggle in toggles.items() if toggle.push}
    # A pull-only section (the CRM's users) is never written, whatever its toggle says.
    return {m.type for m in scope.profile.objects if (m.part_of or m.type) in on and not m.pull_only}


def push(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    items: Sequence[PushItem],
    *,
    bypass_locks: bool = False,
    run_id: int | None = None,
    linked_only: bool = False,
) -> PushReport:
    """Push ``items`` now; TransientError propagates (nothing is recorded as failed then).

    ``linked_only``: update the records the CRM already has and create none (the daily push
    of a section that only receives: its ``push`` fields).
    """
    org, cid = scope.organization_id, scope.connection_id
    report = PushReport()
    calls_before = connector.api_calls
    entries: list[LogEntry] = []
    with reading(engine) as conn:
        toggles = tenancy.get_toggles(conn, org, cid)
        locked = _locked(conn, scope, items) if not bypass_locks else {}
        kept = _archived(conn, scope, [i for i in items if i.operation == "upsert"])
    pushable = pushable_types(scope, toggles)
    upserts: list[PushItem] = []
    deletes: list[PushItem] = []
    for item in items:
        noun = item.platform_type.replace("_", " ")
        if item.platform_type not in pushable and not linked_only:
            skip(
                report,
                entries,
                item,
                f"not pushed: the push toggle of {noun} is off; the change stays in the platform",
            )
        elif item.key in kept:
            skip(
                report,
                entries,
                item,
                f"not pushed: {noun} {item.platform_id} is archived, its CRM record deleted; "
                f"`crmsync restore {item.platform_type} {item.platform_id}` brings it back",
            )
        elif item.key in locked:
            skip(
                report,
                entries,
                item,
                f"not pushed: {noun} {item.platform_id} is locked after {locked[item.key]} failures; "
                "archive the lock or Resync it",
            )
        elif item.operation == "delete":
            deletes.append(item)
        else:
            upserts.append(item)
    written: dict[Key, Written] = {}
    if deletes:
        for key, result in delete_in_crm(engine, scope, connector, deletes, report, entries).items():
            written[key] = Written(None, result)
    if upserts:
        written.update(
            _upserts(engine, scope, connector, upserts, toggles, pushable, report, entries, linked_only)
        )
    record(engine, scope, written, report, entries, run_id=run_id)
    report.api_calls = connector.api_calls - calls_before
    return report


def _locked(conn: object, scope: Scope, items: Sequence[PushItem]) -> dict[Key, int]:
    found: dict[Key, int] = {}
    by_type: dict[str, list[int]] = {}
    for item in items:
        by_type.setdefault(item.platform_type, []).append(item.platform_id)
    for platform_type, ids in by_type.items():
        counts = push_state.locked_ids(conn, scope.organization_id, scope.connection_id, platform_type, ids)  # type: ignore[arg-type]
        found.update({(platform_type, i): n for i, n in counts.items()})
    return found


def _archived(conn: sa.Connection, scope: Scope, items: Sequence[PushItem]) -> set[Key]:
    found: set[Key] = set()
    by_type: dict[str, list[int]] = {}
    for item in items:
        by_type.setdefault(item.platform_type, []).append(item.platform_id)
    for platform_type, ids in by_type.items():
        kept = archive.archived_ids(conn, scope.organization_id, scope.connection_id, platform_type, ids)
        found.update((platform_type, i) for i in kept)
    return found


def _upserts(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    items: Sequence[PushItem],
    toggles: Mapping[str, tenancy.Toggle],
    pushable: set[str],
    report: PushReport,
    entries: list[LogEntry],
    linked_only: bool,
) -> dict[Key, Written]:
    org, cid = scope.organization_id, scope.connection_id
    with reading(engine) as conn:
        plan = plan_push(conn, org, cid, scope.profile, [i.key for i in items], pushable)
        if not linked_only:
            match_in_crm(conn, org, cid, connector, plan)
    requested = {i.key for i in items}
    for key in plan.missing:
        if key in requested:
            skip(report, entries, PushItem(*key), "not pushed: the record no longer exists in the platform")
    written: dict[Key, Written] = {}
    todo = list(plan.nodes)
    for _attempt in range(REMERGES):
        written.update(
            _write(engine, scope, connector, plan, [plan.nodes[k] for k in todo], toggles, linked_only)
        )
        # Changed in the CRM between the read and the write: read, merge and write again.
        todo = [k for k in todo if written[k].result.code == CHANGED_SINCE_READ]
        if not todo:
            break
    return written


def _write(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    plan: Plan,
    nodes: Sequence[Node],
    toggles: Mapping[str, tenancy.Toggle],
    linked_only: bool,
) -> dict[Key, Written]:
    """Merge the records the CRM has, then write what must be written, in one request."""
    known = [n for n in nodes if n.crm_id is not None and not n.problem]
    updates = merge_with_crm(engine, scope, connector, known, toggles) if known else {}
    written: dict[Key, Written] = {}
    writes: list[tuple[WriteRecord, Written]] = []
    for node in nodes:
        handle = platform_key(*node.key)
        problem = node.problem
        if problem is None and linked_only and node.crm_id is None:
            problem = "not created: this push only updates records the CRM already has"
        change = updates.get(node.key)
        if problem:
            written[node.key] = Written(
                node, WriteResult(handle, False, code=node.problem_code, message=problem)
            )
        elif change is None:
            flows = column_flows(node.mapping, toggle_of(node.mapping, toggles), scope.policy)
            made, sent = push_bodies.create(connector, plan, node, flows)
            writes.append((made, Written(node, WriteResult(handle, False), sent=sent)))
        elif change.gone:
            written[node.key] = Written(node, _gone(node, handle), change)
        elif change.idle:
            written[node.key] = Written(node, WriteResult(handle, True, node.crm_id, code=IN_STEP), change)
        else:
            writes.append(
                (
                    push_bodies.update(connector, plan, node, change),
                    Written(node, WriteResult(handle, False), change),
                )
            )
    results = connector.write([w for w, _ in writes]) if writes else []
    for (_, pending), result in zip(writes, results, strict=True):
        assert pending.node is not None
        # Deleted in the CRM after it was read (a cascade of a parent's delete): not a failure.
        deleted = result.code == "ENTITY_IS_DELETED" and not result.fields and pending.node.crm_id
        pending.result = _gone(pending.node, result.key) if deleted else result
        written[pending.node.key] = pending
    return written


def _gone(node: Node, handle: str) -> WriteResult:
    message = (
        f"not pushed: {node.mapping.object} {node.crm_id} was deleted in the CRM; the next pull "
        "applies the deletion to the platform"
    )
    return WriteResult(handle, False, node.crm_id, code=GONE, message=message)
