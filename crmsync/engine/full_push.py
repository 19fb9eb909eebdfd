"""Pushing a whole section: every record in full, or only the fields a receiving section sends.

``push_all`` is Push one model and the daily push of a section that sends: every record of
the type goes through the ordinary push (parents first, matched before created, upserted by
platform id), so whatever changed since, system changes included, reaches the CRM.

``push_fields`` is the daily push of a section that only receives but sends a few fields
(``direction: push``): its linked records go through the same push, which creates none of
them; the section's fields flow as its direction says, so only those ``push`` fields the
platform changed since they were last sent are sent, and no lookup is written.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.push import PushItem, PushReport, push
from crmsync.model.profile import ObjectMapping
from crmsync.store import push_state
from crmsync.store.db import reading
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
    *,
    run_id: int | None = None,
) -> PushReport:
    """Send the ``push`` fields of ``mapping``'s linked records that the platform changed."""
    total = PushReport()
    for batch in _linked(engine, scope, mapping.type):
        items = [PushItem(mapping.type, platform_id) for platform_id in batch]
        part = push(engine, scope, connector, items, run_id=run_id, linked_only=True)
        total.outcomes.update(part.outcomes)
        total.api_calls += part.api_calls
    return total


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
