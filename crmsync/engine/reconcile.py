"""Id reconciliation: for CRMs without a deleted-records feed (Bloomerang), list every id.

A linked record whose id the CRM no longer lists was deleted (or merged away) there: its
platform row is removed as a pull's deletions are. A merge leaves no other trace in the API,
but the loser's children (its gifts) are listed under the survivor: when they all point to
one other record of the same type, the removal is that merge, and the platform children move
to the survivor's row instead of losing their parent. A listed record that has no link and
is not waiting for a retry was missed (a list read with skip/take while records changed can
step over one): it is fetched by id and applied. One run reads each list once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.engine.apply import Scope
from crmsync.engine.counts import Counts
from crmsync.engine.pull import PullOptions, sync_all
from crmsync.engine.removals import apply_removals
from crmsync.engine.sections import pulled_steps
from crmsync.model.profile import Condition, ObjectMapping
from crmsync.store import links as link_store
from crmsync.store import retries, tenancy
from crmsync.store.db import reading
from crmsync.store.platform import platform_table
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
    listed_by_type: dict[str, set[str]] = {}
    # Each listed record's lookup values (its parents' CRM ids): a merge shows in them.
    parents: dict[str, dict[str, dict[str, Any]]] = {}
    gone_by_type: dict[str, list[str]] = {}
    with connector.shared_reads():
        connector.prefetch(
            [
                ReadRequest(object=m.object, fields=(), conditions=m.filter + (filters or {}).get(m.type, ()))
                for m in mappings
            ]
        )
        for mapping in mappings:
            conditions = mapping.filter + (filters or {}).get(mapping.type, ())
            fields = tuple(dict.fromkeys(lookup.crm for lookup in mapping.lookups))
            listed = listed_by_type.setdefault(mapping.type, set())
            known = parents.setdefault(mapping.type, {})
            request = ReadRequest(object=mapping.object, fields=fields, conditions=conditions)
            for page in connector.read(request):
                for record in page.records:
                    listed.add(record.id)
                    if fields:
                        known[record.id] = record.values
            with reading(engine) as conn:
                linked = set(
                    conn.execute(
                        sa.select(links.c.crm_id).where(
                            links.c.connection_id == cid, links.c.platform_type == mapping.type
                        )
                    ).scalars()
                )
                waiting = set(retries.known(conn, org, cid, mapping.type))
            gone = sorted(linked - listed)
            if gone:
                gone_by_type[mapping.type] = gone
                result.deleted[mapping.type] = len(gone)
            unseen = listed - linked - waiting
            if unseen:
                missed.setdefault(mapping.object.casefold(), set()).update(unseen)
                result.missed[mapping.type] = len(unseen)
    for mapping in mappings:
        removed = gone_by_type.get(mapping.type)
        if not removed:
            continue
        with engine.begin() as conn:
            survivors = _survivors(conn, scope, mapping, removed, mappings, listed_by_type, parents)
            retries.note_removals(
                conn, org, cid, [retries.Removal(mapping.type, i, survivors.get(i)) for i in removed]
            )
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


def _survivors(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    gone: list[str],
    mappings: list[ObjectMapping],
    listed: dict[str, set[str]],
    parents: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, str]:
    """Gone records of ``mapping`` merged into another: the one other listed record of the same
    type that the CRM now names as the parent of the children linked to the gone record's row."""
    org, cid = scope.organization_id, scope.connection_id
    gone_of = {
        link.platform_id: crm_id
        for crm_id, link in link_store.by_crm_ids(conn, org, cid, mapping.type, gone).items()
    }
    candidates: dict[str, set[str]] = {}
    for child in mappings:
        for lookup in child.lookups:
            for target in lookup.targets:
                if target.type != mapping.type:
                    continue
                table = platform_table(child.type)
                column = table.c[target.column]
                parent_of: dict[int, int] = {}
                for part in link_store.chunks(sorted(gone_of)):
                    rows = conn.execute(
                        sa.select(table.c.id, column).where(table.c.organization_id == org, column.in_(part))
                    )
                    parent_of.update({int(r[0]): int(r[1]) for r in rows})
                child_links = link_store.by_platform_ids(conn, org, cid, child.type, list(parent_of))
                for platform_id, link in child_links.items():
                    now = parents.get(child.type, {}).get(link.crm_id, {}).get(lookup.crm)
                    was = gone_of[parent_of[platform_id]]
                    if now is not None and str(now) != was and str(now) in listed[mapping.type]:
                        candidates.setdefault(was, set()).add(str(now))
    return {crm_id: next(iter(found)) for crm_id, found in candidates.items() if len(found) == 1}
