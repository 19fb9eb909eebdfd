"""Id reconciliation: for CRMs without a deleted-records feed (Bloomerang), list every id.

A linked record whose id the CRM no longer lists was deleted (or merged away) there: its
platform row is removed as a pull's deletions are. A listed record that has no link and is
not waiting for a retry was missed (a list read with skip/take while records changed can
step over one): it is fetched by id and applied. One run reads each list once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.engine.apply import Scope
from crmsync.engine.counts import Counts
from crmsync.engine.pull import PullOptions, sync_all
from crmsync.engine.removals import apply_removals
from crmsync.engine.sections import pulled_steps
from crmsync.model.profile import Condition
from crmsync.store import retries, tenancy
from crmsync.store.db import reading
from crmsync.store.tables import links


@dataclass
class Reconciled:
    """What a reconciliation found and did, by platform type."""

    deleted: dict[str, int] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)
    counts: dict[str, Counts] = field(default_factory=dict)
    api_calls: int = 0


def reconcile(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    *,
    filters: dict[str, tuple[Condition, ...]] | None = None,
) -> Reconciled:
    """Compare every pull-enabled type's CRM ids with its links; remove the deleted, fetch the missed."""
    org, cid = scope.organization_id, scope.connection_id
    before = connector.api_calls
    result = Reconciled()
    with reading(engine) as conn:
        toggles = tenancy.get_toggles(conn, org, cid)
    steps, _ = pulled_steps(scope.profile, toggles, None)
    mappings = [m for step in steps for m in step]
    missed: dict[str, set[str]] = {}
    with connector.shared_reads():
        for mapping in mappings:
            conditions = mapping.filter + (filters or {}).get(mapping.type, ())
            listed: set[str] = set()
            for page in connector.read(ReadRequest(object=mapping.object, fields=(), conditions=conditions)):
                listed.update(r.id for r in page.records)
            with reading(engine) as conn:
                linked = set(
                    conn.execute(
                        sa.select(links.c.crm_id).where(
                            links.c.connection_id == cid, links.c.platform_type == mapping.type
                        )
                    ).scalars()
                )
                waiting = set(retries.failures(conn, org, cid, mapping.type, before=None))
            gone = sorted(linked - listed)
            if gone:
                with engine.begin() as conn:
                    retries.note_removals(
                        conn, org, cid, [retries.Removal(mapping.type, i, None) for i in gone]
                    )
                result.deleted[mapping.type] = len(gone)
            unseen = listed - linked - waiting
            if unseen:
                missed.setdefault(mapping.object.casefold(), set()).update(unseen)
                result.missed[mapping.type] = len(unseen)
    if missed:
        run = sync_all(
            engine,
            scope,
            connector,
            PullOptions(
                kind="reconcile", ids={k: tuple(sorted(v)) for k, v in missed.items()}, filters=filters or {}
            ),
        )
        result.counts.update(run.counts)
    for platform_type, counts in apply_removals(
        engine, scope, {m.type for m in mappings}, run_id=None
    ).items():
        result.counts.setdefault(platform_type, Counts()).add(counts)
    result.api_calls = connector.api_calls - before
    return result
