"""A page's writes worked out before its transaction, while the page before is written.

A pull spends about as long in the database as in Python, and SQLite and PostgreSQL's
drivers let other threads run while the database works. With pages written in a thread of
their own (:mod:`crmsync.engine.writer`), the next page is mapped and its rows, links, log
entries and their statements are made meanwhile; its transaction then only runs them.

A plan is made on what the database held when it was made, outside the page's transaction:
the page before may still be being written, and other processes write too. So the
transaction first checks that what the plan was made on still holds: the links of the
page's records, that no platform row without a link matches one of the new rows by the
mapping's rules (a small table is asked for any row without a link, a larger one for the
page's keys through the keys crmsync stores, brought up to date first, so that the cost
follows the page, not the table), and that the ids taken for the new rows are still free.
If anything changed, or the database refuses a row, the page is applied inside the
transaction as if no plan had been made: a plan can make a page faster, never different.

The parents a plan resolved are not read again: a parent's link is only ever removed or
re-pointed together with its platform row (a deletion or merge, pushed or pulled), platform
ids are never used twice, and every lookup column has a foreign key to its parent's table
(a mapping with one that has not is not planned). So a parent that went away since makes
the database refuse the row, and the page is applied inside its transaction.

A parent may also come from a plan not written yet (the last page of the object before,
still in the writer when this object's first page is planned): the writer writes in order,
so by this page's transaction that plan is written, and the transaction checks that its
links are the ones assumed. A plan that did not hold made other ids, and this page is then
applied inside its transaction too.

A first pull of a type reads no links for its pages: when none of the type's records was
linked as its pull began, the pages are planned as all fresh, which saves a lookup of every
record of the page. The transaction reads the page's links anyway to check the plan, so a
record linked since (read twice, on a page still being written, or pushed meanwhile) makes
the page apply inside it.

Only pages that create and skip records are planned. An update merges with the platform row
as it is at that moment, a record that a matching rule finds a platform row for is matched
among rows another writer may be changing, and a lookup to the mapping's own type may need
rows of the page before: such pages are applied inside their transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from crmsync.connectors.base import CrmRecord
from crmsync.engine import pull_entries
from crmsync.engine.apply import (
    PageResult,
    Scope,
    apply_page,
    note_gone,
    note_outcome,
    prepare,
)
from crmsync.engine.matching import matches_waiting
from crmsync.model.profile import ObjectMapping
from crmsync.store import bulk, capture, links, logs, match_keys, records, retries
from crmsync.store.links import Version
from crmsync.store.platform import platform_table


@dataclass
class PagePlan:
    """What applying a page will write, and what that was decided on."""

    mapping: ObjectMapping
    # The page as given, to apply inside the transaction should the plan no longer hold.
    records: Sequence[CrmRecord]
    # Its counts; the log entries are among the statements.
    result: PageResult
    # The new platform rows, then their links and the page's log entries.
    rows: list[bulk.Statement]
    rest: list[bulk.Statement]
    gone: list[CrmRecord]
    created: list[str]
    failures: list[retries.Failure]
    # What the plan was made on.
    versions: dict[str, Version]
    ids: list[int] = field(default_factory=list)
    # The mapped values of the rows it creates, when the mapping has matching rules: it
    # relied on no platform row without a link matching one of them.
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    # Parents taken from plans written before it (type -> CRM id -> platform id).
    assumed: dict[str, dict[str, int]] = field(default_factory=dict)

    def new_links(self) -> dict[str, int]:
        """CRM id -> platform id of the records this plan creates."""
        return dict(zip(self.created, self.ids, strict=True))


def plan_page(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    page: Sequence[CrmRecord],
    *,
    run_id: int | None,
    above: int = 0,
    unwritten: Mapping[str, Mapping[str, int]] | None = None,
    linked: bool = True,
) -> PagePlan | None:
    """The writes of ``page``, read on ``conn`` (outside any writing transaction); None when the
    page must be applied inside its transaction.

    ``above``: the highest platform id of ``mapping``'s type promised to a plan not yet written.
    ``unwritten``: the links that plans not written yet will make, by type (their
    :meth:`PagePlan.new_links`); parents found there are checked when this plan is written.
    ``linked``: False if no record of ``mapping``'s type was linked when its pull began; the
    page's links are then not read (its transaction checks them).
    """
    if not plannable(mapping):
        return None
    prepared = prepare(conn, scope, mapping, page, unwritten=unwritten, linked=linked)
    creates = prepared.rows
    if any(row.platform_id is not None for row in creates):
        return None
    org, cid = scope.organization_id, scope.connection_id
    ids = records.new_ids(conn, mapping.type, len(creates), above=above) if creates else []
    unmatched = [r.values for r in creates] if mapping.match else []
    if unmatched and matches_waiting(conn, scope, mapping, unmatched, size=ids[0]):
        return None
    for row, new_id in zip(creates, ids, strict=True):
        row.platform_id = new_id
    created = [r.record.id for r in creates]
    same, columns = pull_entries.created_columns(mapping, created, ids)
    prepared.result.counts.created += len(creates)
    target = bulk.Target.of(conn)
    return PagePlan(
        mapping=mapping,
        records=page,
        result=PageResult(prepared.result.counts),
        rows=capture.captured_inserts(
            target.dialect,
            platform_table(mapping.type).name,
            ids,
            records.insert_statements(target, org, mapping.type, [r.values for r in creates], ids),
        ),
        rest=[
            *links.created_statements(
                target,
                org,
                cid,
                links.CreatedLinks(
                    mapping.type,
                    mapping.object,
                    ids,
                    created,
                    [r.record.modstamp for r in creates],
                    [r.digest for r in creates],
                    # Created as read: the links hold the CRM's values, as encoded for the digest.
                    [r.synced_text for r in creates],
                ),
            ),
            # The records that failed, then those created.
            *logs.insert_statements(target, org, prepared.result.logs, connection_id=cid, run_id=run_id),
            *logs.column_statements(target, org, same, columns, connection_id=cid, run_id=run_id),
        ],
        gone=prepared.gone,
        created=created,
        failures=prepared.failures,
        versions={crm_id: link.version for crm_id, link in prepared.known.items()},
        ids=ids,
        unmatched=unmatched,
        assumed=prepared.assumed,
    )


def apply_plan(conn: sa.Connection, scope: Scope, plan: PagePlan) -> PageResult:
    """Write ``plan`` in ``conn``'s transaction if it still holds, else apply its page there."""
    if not _holds(conn, scope, plan):
        return apply_page(conn, scope, plan.mapping, plan.records)
    try:
        with conn.begin_nested():
            bulk.run(conn, plan.rows)
    except DBAPIError:
        # A row the database refuses (one of the application's constraints): applied inside
        # the transaction, the page is written row by row and only that row fails.
        return apply_page(conn, scope, plan.mapping, plan.records)
    if plan.unmatched:
        match_keys.note_inserted(conn, scope.organization_id, plan.mapping.type, plan.ids, plan.unmatched)
    bulk.run(conn, plan.rest)
    note_gone(conn, scope, plan.mapping, plan.gone)
    note_outcome(conn, scope, plan.mapping, plan.created, plan.failures)
    return plan.result


def _holds(conn: sa.Connection, scope: Scope, plan: PagePlan) -> bool:
    """Whether, in this transaction, the database still holds what ``plan`` was made on."""
    org, cid, mapping = scope.organization_id, scope.connection_id, plan.mapping
    live = [r.id for r in plan.records if not r.deleted]
    if links.versions(conn, org, cid, mapping.type, live) != plan.versions:
        return False
    if not records.ids_unused(conn, mapping.type, plan.ids):
        return False
    for parent_type, assumed in plan.assumed.items():
        # Written by the plans before (in this writer, in order) only if those plans held.
        if links.platform_ids(conn, org, cid, parent_type, list(assumed)) != assumed:
            return False
    return not (
        plan.unmatched
        and matches_waiting(conn, scope, mapping, plan.unmatched, size=plan.ids[0], refresh=True)
    )


def plannable(mapping: ObjectMapping) -> bool:
    """Whether the database itself refuses a planned row whose parent went away meanwhile.

    Not so for a lookup to the mapping's own type (its parent may be on the page before,
    not written yet) or one whose column has no foreign key to the parent's table.
    """
    table = platform_table(mapping.type)
    for lookup in mapping.lookups:
        for target in lookup.targets:
            parent = platform_table(target.type)
            if target.type == mapping.type or not any(
                key.references(parent) for key in table.c[target.column].foreign_keys
            ):
                return False
    return True
