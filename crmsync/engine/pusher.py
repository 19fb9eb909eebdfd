"""The pusher: captured changes -> the push queue -> the CRM, plus the sweep and Resync.

Changes not taken yet (see crmsync.store.change_batches) are queued in the transaction that
marks them taken, so a pusher that dies loses nothing; queued records are pushed, and
removed from the queue only when pushed, skipped, or locked. Transient failures (the CRM is
down) leave them queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.outbound import filter_problem
from crmsync.engine.push import PushItem, PushReport, pushable_types
from crmsync.engine.push_isolate import push_isolated
from crmsync.errors import TransientError
from crmsync.store import archive, change_batches, links, push_state, records, tenancy
from crmsync.store.db import reading
from crmsync.store.platform import platform_table
from crmsync.store.readable import READ_ERRORS, read_rows
from crmsync.store.tables import links as links_table
from crmsync.store.tables import record_failures
from crmsync.store.types import utcnow

BATCH = 2000
RETRY_BASE = timedelta(seconds=10)


@dataclass
class DrainResult:
    """What one drain did."""

    queued: int = 0
    report: PushReport = field(default_factory=PushReport)
    deferred: int = 0


def collect(engine: Engine, scope: Scope, *, limit: int = 10_000) -> int:
    """Move new user changes into the push queue; returns how many records were queued."""
    org, cid = scope.organization_id, scope.connection_id
    with engine.begin() as conn:
        changes, taken = change_batches.take(conn, org, change_batches.mark(conn, cid), limit)
        change_batches.set_mark(conn, cid, taken)
        if not changes:
            return 0
        latest: dict[tuple[str, int], str] = {}
        for change in changes:
            # Pull writes never go back; system writes wait for the daily push or a user change.
            if change.origin != "user":
                continue
            key = (change.platform_type, change.platform_id)
            latest[key] = (
                "delete" if change.operation == "delete" or latest.get(key) == "delete" else "upsert"
            )
        deleted = [k for k, op in latest.items() if op == "delete"]
        crm_ids: dict[tuple[str, int], str] = {}
        for platform_type in {k[0] for k in deleted}:
            ids = [k[1] for k in deleted if k[0] == platform_type]
            for platform_id, link in links.by_platform_ids(conn, org, cid, platform_type, ids).items():
                crm_ids[(platform_type, platform_id)] = link.crm_id
        return push_state.enqueue(
            conn, org, cid, [(t, i, op, crm_ids.get((t, i))) for (t, i), op in latest.items()]
        )


def drain(engine: Engine, scope: Scope, connector: Connector, *, limit: int = BATCH) -> DrainResult:
    """Push what is due in the queue once."""
    org, cid = scope.organization_id, scope.connection_id
    result = DrainResult()
    started = utcnow()
    with reading(engine) as conn:
        items = push_state.due(conn, org, cid, limit)
    if not items:
        return result
    keys = [(i.platform_type, i.platform_id) for i in items]
    attempts = {(i.platform_type, i.platform_id): i.attempts for i in items}
    try:
        report = push_isolated(
            engine,
            scope,
            connector,
            [
                PushItem(
                    i.platform_type,
                    i.platform_id,
                    "delete" if i.operation == "delete" else "upsert",
                    i.crm_id,
                )
                for i in items
            ],
        )
    except TransientError as exc:
        with engine.begin() as conn:
            push_state.defer(conn, org, cid, keys, delay=RETRY_BASE, error=exc.message)
        result.deferred = len(keys)
        raise
    done = [k for k in keys if (o := report.outcomes.get(k)) is None or o.status != "failed" or o.locked]
    retry = [k for k in keys if k not in set(done)]
    # Parents pushed with this batch may be queued themselves (the batch ended between a gift
    # and its new supporter): they were read and written after ``started``, so unless queued
    # again since, pushing them once more would only rewrite the same values.
    requested = set(keys)
    parents = [k for k, o in report.outcomes.items() if k not in requested and o.status == "pushed"]
    with engine.begin() as conn:
        # Queued again since this batch was read (a change, or a lock lifted because the
        # parent it waited for was pushed in this batch): it stays queued.
        push_state.dequeue(conn, org, cid, done, queued_before=started)
        push_state.dequeue(conn, org, cid, parents, queued_before=started)
        for key in retry:
            delay = RETRY_BASE * 2 ** min(attempts[key], 6)
            push_state.defer(conn, org, cid, [key], delay=delay, error=report.outcomes[key].message)
    result.report = report
    result.deferred = len(retry)
    return result


def sweep(engine: Engine, scope: Scope, connector: Connector, *, batch: int = 1000) -> PushReport:
    """Push every push-enabled record that has no CRM id yet, is not locked, and meets the filter."""
    org, cid = scope.organization_id, scope.connection_id
    total = PushReport()
    with reading(engine) as conn:
        pushable = pushable_types(scope, tenancy.get_toggles(conn, org, cid))
    for mapping in scope.profile.objects:
        # The daily push is the safety net of the sections it sends in full; there, records the
        # application's jobs created (origin system) wait for it, as their other changes do.
        if mapping.type not in pushable or (mapping.part_of or mapping.type) in scope.profile.daily_push:
            continue
        after = 0
        while True:
            with reading(engine) as conn:
                rows = _unlinked(conn, scope, mapping.type, after, batch)
            if not rows:
                break
            after = rows[-1][0]
            # A row that cannot be read goes too: its push fails with what is wrong in it.
            wanted = [
                PushItem(mapping.type, i) for i, r in rows if r is None or filter_problem(mapping, r) is None
            ]
            if wanted:
                _merge(total, push_isolated(engine, scope, connector, wanted))
    return total


def resync(
    engine: Engine, scope: Scope, connector: Connector, platform_type: str, ids: Sequence[int]
) -> PushReport:
    """Push these records now, whatever their locks say; a success lifts the lock."""
    report = PushReport()
    for start in range(0, len(ids), BATCH):
        items = _resync_items(engine, scope, platform_type, ids[start : start + BATCH])
        _merge(report, push_isolated(engine, scope, connector, items, bypass_locks=True))
    # Records that failed because of these (children of a rejected new parent) go with them.
    released = report.released
    while released:
        part = push_isolated(engine, scope, connector, [PushItem(*key) for key in released])
        _merge(report, part)
        released = part.released
    with engine.begin() as conn:
        push_state.dequeue(
            conn,
            scope.organization_id,
            scope.connection_id,
            [k for k, o in report.outcomes.items() if o.status == "pushed"],
        )
    return report


def _resync_items(engine: Engine, scope: Scope, platform_type: str, ids: Sequence[int]) -> list[PushItem]:
    """A push of each record the platform has; a delete of each it no longer has (a delete that
    failed is retried with the CRM id it had, else by the record's link)."""
    org, cid = scope.organization_id, scope.connection_id
    with reading(engine) as conn:
        present = records.existing_ids(conn, org, platform_type, ids)
        crm_ids = push_state.failed_deletes(
            conn, org, cid, platform_type, [i for i in ids if i not in present]
        )
    return [
        PushItem(platform_type, i) if i in present else PushItem(platform_type, i, "delete", crm_ids.get(i))
        for i in ids
    ]


def select_ids(engine: Engine, scope: Scope, platform_type: str, where: dict[str, str]) -> list[int]:
    """Ids of a table view: rows of ``platform_type`` whose columns equal the given values."""
    table = platform_table(platform_type)
    query = sa.select(table.c.id).where(table.c.organization_id == scope.organization_id)
    for column, value in where.items():
        if column not in table.c:
            raise KeyError(column)
        query = query.where(sa.cast(table.c[column], sa.String) == value)
    with reading(engine) as conn:
        return [int(r[0]) for r in conn.execute(query.order_by(table.c.id))]


def _unlinked(
    conn: sa.Connection, scope: Scope, platform_type: str, after: int, limit: int
) -> list[tuple[int, dict[str, Any] | None]]:
    """Unlinked, unlocked rows after ``after`` by id; None for a row that cannot be read."""
    table = platform_table(platform_type)
    linked = sa.select(links_table.c.platform_id).where(
        links_table.c.organization_id == scope.organization_id,
        links_table.c.connection_id == scope.connection_id,
        links_table.c.platform_type == platform_type,
    )
    locked = sa.select(record_failures.c.platform_id).where(
        record_failures.c.organization_id == scope.organization_id,
        record_failures.c.connection_id == scope.connection_id,
        record_failures.c.platform_type == platform_type,
        record_failures.c.locked_at.is_not(None),
    )
    query = (
        sa.select(table)
        .where(
            table.c.organization_id == scope.organization_id,
            table.c.id > after,
            table.c.id.not_in(linked),
            table.c.id.not_in(locked),
            # Deleted in the CRM and kept: made again there only once restored.
            table.c.id.not_in(archive.ids_query(scope.organization_id, platform_type, scope.connection_id)),
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    try:
        return [(int(r.id), dict(r._mapping)) for r in conn.execute(query)]
    except READ_ERRORS:
        ids = [int(i) for i in conn.execute(query.with_only_columns(table.c.id)).scalars()]
        found, _ = read_rows(conn, table, ids)
        return [(i, found.get(i)) for i in ids]


def _merge(total: PushReport, part: PushReport) -> None:
    total.outcomes.update(part.outcomes)
    total.api_calls += part.api_calls
    total.released += part.released
