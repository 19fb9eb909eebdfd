"""Pushing a whole section: every record in full, or only the fields a receiving section sends.

``push_all`` is Push one model and the daily push of a section that sends: every record of
the type goes through the ordinary push (parents first, matched before created, upserted by
platform id), so whatever changed since, system changes included, reaches the CRM.

``push_fields`` is the daily push of a section that only receives but sends a few fields
(``direction: push``): linked records are updated by id with those fields and nothing else;
nothing is created, no lookup is written, and the link keeps what the last pull agreed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.connectors.writes import WriteRecord, WriteResult
from crmsync.engine.apply import Scope
from crmsync.engine.outbound import platform_key, to_crm
from crmsync.engine.push import Outcome, PushItem, PushReport, push
from crmsync.model.profile import ObjectMapping
from crmsync.store import logs, push_state, records
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry
from crmsync.store.platform import platform_table
from crmsync.store.tables import links as links_table

BATCH = 2000


def push_all(
    engine: Engine, scope: Scope, connector: Connector, platform_type: str, *, run_id: int | None = None
) -> PushReport:
    """Push every record of ``platform_type`` now, in batches; locks are respected."""
    total = PushReport()
    for ids in _batches(engine, scope, platform_type):
        part = push(engine, scope, connector, [PushItem(platform_type, i) for i in ids], run_id=run_id)
        total.outcomes.update(part.outcomes)
        total.api_calls += part.api_calls
    with engine.begin() as conn:
        # Whatever waited in the queue went with this push.
        push_state.dequeue(
            conn,
            scope.organization_id,
            scope.connection_id,
            [k for k, o in total.outcomes.items() if o.status == "pushed"],
        )
    return total


def push_fields(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    mapping: ObjectMapping,
    columns: Sequence[str],
    *,
    run_id: int | None = None,
) -> PushReport:
    """Update the linked records of ``mapping.type`` in the CRM with ``columns`` only."""
    report = PushReport()
    calls = connector.api_calls
    info = connector.describe(mapping.object)
    fields = [
        (f.column, field.name)
        for f in mapping.fields
        if f.column in columns and (field := info.field(f.crm)) is not None and field.updateable
    ]
    if not fields:
        return report
    org, cid = scope.organization_id, scope.connection_id
    for batch in _linked(engine, scope, mapping.type):
        with reading(engine) as conn:
            rows = records.get_many(conn, org, mapping.type, list(batch))
            locked = push_state.locked_ids(conn, org, cid, mapping.type, list(batch))
        writes = [
            WriteRecord(
                platform_key(mapping.type, platform_id),
                mapping.object,
                {name: to_crm(rows[platform_id].get(column)) for column, name in fields},
                crm_id=crm_id,
            )
            for platform_id, crm_id in batch.items()
            if platform_id in rows and platform_id not in locked
        ]
        results = connector.write(writes) if writes else []
        _record(engine, scope, mapping, [c for c, _ in fields], results, report, run_id=run_id)
    report.api_calls = connector.api_calls - calls
    return report


def _record(
    engine: Engine,
    scope: Scope,
    mapping: ObjectMapping,
    columns: list[str],
    results: list[WriteResult],
    report: PushReport,
    *,
    run_id: int | None,
) -> None:
    org, cid = scope.organization_id, scope.connection_id
    entries: list[LogEntry] = []
    done: list[tuple[str, int]] = []
    names = ", ".join(columns)
    with engine.begin() as conn:
        for result in results:
            platform_id = int(result.key.rpartition(":")[2])
            key = (mapping.type, platform_id)
            noun = f"{mapping.label_text} {platform_id}"
            if result.ok:
                done.append(key)
                report.outcomes[key] = Outcome("pushed", f"sent {names}", crm_id=result.crm_id)
                message = f"sent {names} of {noun} to {mapping.object} {result.crm_id} (daily push)"
                entries.append(_entry(mapping, platform_id, result.crm_id, "processed", message))
                continue
            failures = push_state.record_failure(
                conn, org, cid, mapping.type, platform_id, code=result.code, message=result.error_text
            )
            locked = failures >= push_state.LOCK_AFTER
            suffix = f"; locked after {failures} failures in a row" if locked else ""
            report.outcomes[key] = Outcome("failed", result.error_text, code=result.code, locked=locked)
            message = f"{noun}: {result.error_text}{suffix}"
            entries.append(_entry(mapping, platform_id, result.crm_id, "error", message, code=result.code))
        push_state.clear_failures(conn, org, cid, done)
        logs.write(conn, org, entries, connection_id=cid, run_id=run_id)


def _entry(
    mapping: ObjectMapping,
    platform_id: int,
    crm_id: str | None,
    status: Literal["processed", "error"],
    message: str,
    *,
    code: str | None = None,
) -> LogEntry:
    return LogEntry(
        data_type=mapping.type,
        action="update" if status == "processed" else "push",
        direction="push",
        status=status,
        message=message,
        crm_id=crm_id,
        platform_id=platform_id,
        details={"code": code} if code else None,
    )


def _batches(engine: Engine, scope: Scope, platform_type: str) -> Iterator[list[int]]:
    """Every id of the type, in batches, by id."""
    table = platform_table(platform_type)
    after = 0
    while True:
        with reading(engine) as conn:
            ids = [
                int(r[0])
                for r in conn.execute(
                    sa.select(table.c.id)
                    .where(table.c.organization_id == scope.organization_id, table.c.id > after)
                    .order_by(table.c.id)
                    .limit(BATCH)
                )
            ]
        if not ids:
            return
        yield ids
        after = ids[-1]


def _linked(engine: Engine, scope: Scope, platform_type: str) -> Iterator[dict[int, str]]:
    """Linked records of the type (platform id -> CRM id), in batches, by platform id."""
    after = 0
    while True:
        with reading(engine) as conn:
            rows = conn.execute(
                sa.select(links_table.c.platform_id, links_table.c.crm_id)
                .where(
                    links_table.c.organization_id == scope.organization_id,
                    links_table.c.connection_id == scope.connection_id,
                    links_table.c.platform_type == platform_type,
                    links_table.c.platform_id > after,
                )
                .order_by(links_table.c.platform_id)
                .limit(BATCH)
            ).all()
        if not rows:
            return
        yield {int(r.platform_id): str(r.crm_id) for r in rows}
        after = int(rows[-1].platform_id)
