"""Applying one page of CRM records to the platform, in the caller's transaction.

For each live record: skip it if its version was already applied; resolve its lookups
through links (a missing parent fails the record, never creates it incomplete); find its
platform row (link first, then the profile's matching rules); create or update it; stamp
the link. Deleted and merged-away records are noted for the end of the run.

The first half (:func:`prepare`) only reads; :mod:`crmsync.engine.plan` also uses it to
work out a page's writes before the page's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from crmsync.connectors.base import CrmRecord
from crmsync.connectors.stamps import parse_crm_datetime
from crmsync.engine import lookups, matching, pull_entries
from crmsync.engine.conflicts import Flow, Policy, merge_fields
from crmsync.engine.counts import Counts
from crmsync.engine.flows import column_flows, toggle_of
from crmsync.engine.mapping import Pulled, encoded
from crmsync.errors import RecordError
from crmsync.jsontext import Encoded
from crmsync.model.profile import ObjectMapping, Profile
from crmsync.store import archive, links, match_keys, records, retries
from crmsync.store.archive import Archived
from crmsync.store.links import Link, NewLink
from crmsync.store.logs import LogEntry
from crmsync.store.platform import platform_table
from crmsync.store.tenancy import Toggle

# Which way fields flow when a caller did not say (every section both ways): a platform
# edit is then kept for the push rather than overwritten.
BOTH_WAYS = Toggle(pull=True, push=True)


@dataclass(frozen=True)
class Scope:
    """Whose data a page belongs to."""

    organization_id: int
    connection_id: int
    profile: Profile
    # Who wins a field changed on both sides since the last sync.
    policy: Policy = "latest_wins"
    # The connection's toggles as the work began (which way each field flows); None: both ways.
    toggles: Mapping[str, Toggle] | None = None
    # Compare every record read with its platform row, even one whose version was applied
    # (a Full Fetch: it puts right what drifted on the platform).
    full: bool = False
    # The run the work belongs to (its log entries name it).
    run_id: int | None = None

    def flows(self, mapping: ObjectMapping) -> dict[str, Flow]:
        """Which way each column of ``mapping`` flows in this work."""
        toggle = BOTH_WAYS if self.toggles is None else toggle_of(mapping, self.toggles)
        return column_flows(mapping, toggle, self.policy)


@dataclass(slots=True)
class Row:
    """A fresh record of a page, mapped and resolved, and where it goes on the platform."""

    record: CrmRecord
    values: dict[str, Any]
    digest: str
    # The mapped values both sides hold after this sync (stored on the link): the CRM's,
    # unless merging with the platform row decides otherwise.
    synced: dict[str, Any]
    # The CRM's (as first read), encoded: what a created row's link stores.
    synced_text: Encoded
    platform_id: int | None = None
    matched_by: str | None = None


# A create (changed columns None) or an update (the changed columns) of one row.
Write = tuple[Row, dict[str, Any] | None]


@dataclass
class PageResult:
    """What applying a page did: counts and the log entries to write."""

    counts: Counts = field(default_factory=Counts)
    logs: list[LogEntry] = field(default_factory=list)


@dataclass
class Prepared:
    """A page sorted out before anything is written: what is gone, what is fresh, what failed."""

    gone: list[CrmRecord]
    # The links of the page's live records, as read.
    known: dict[str, Link]
    # The fresh records that map and resolve; platform_id set where a link exists.
    rows: list[Row]
    # The records that do not, with the entries to log for them (see crmsync.store.retries).
    failures: list[retries.Failure]
    result: PageResult
    # Parents taken from pages not written yet (type -> CRM id -> platform id), see prepare.
    assumed: dict[str, dict[str, int]] = field(default_factory=dict)
    # Records back in the CRM (undeleted) whose platform row was archived: restored, by CRM id.
    restored: dict[str, Archived] = field(default_factory=dict)


def apply_page(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, page: Sequence[CrmRecord]
) -> PageResult:
    """Apply ``page`` (records of ``mapping.object``) and return what happened."""
    prepared = prepare(conn, scope, mapping, page)
    note_gone(conn, scope, mapping, prepared.gone)
    _match(conn, scope, mapping, [r for r in prepared.rows if r.platform_id is None])
    touched = _write(conn, scope, mapping, prepared)
    # Which links exist is known from the start of the page: links.write need not ask again.
    links.write(conn, scope.organization_id, scope.connection_id, touched, existing=prepared.known.keys())
    note_outcome(conn, scope, mapping, [t.crm_id for t in touched], prepared.failures)
    _unarchive(conn, scope, mapping, prepared, {t.crm_id for t in touched})
    return prepared.result


def _unarchive(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, prepared: Prepared, written: set[str]
) -> None:
    """Rows archived when their CRM record was deleted, and linked again now it is back."""
    for crm_id, kept in prepared.restored.items():
        if crm_id not in written:
            continue
        archive.remove(conn, scope.organization_id, scope.connection_id, mapping.type, kept.platform_id)
        prepared.result.logs.append(pull_entries.restored(mapping, crm_id, kept.platform_id))


def prepare(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    page: Sequence[CrmRecord],
    *,
    unwritten: Mapping[str, Mapping[str, int]] | None = None,
    linked: bool = True,
) -> Prepared:
    """Read what ``page`` needs (its links, its parents) and map its fresh records; writes nothing.

    ``unwritten``: links that pages not written yet will make (type -> CRM id -> platform id);
    a parent not in the database is looked for there, and noted in ``assumed``.
    ``linked``: False when the caller knows the page's records have no links to read (see
    :mod:`crmsync.engine.plan`); they are then all fresh.
    """
    result = PageResult()
    result.counts.fetched = len(page)
    org, cid = scope.organization_id, scope.connection_id
    gone = [r for r in page if r.deleted]
    live = [r for r in page if not r.deleted]
    known = links.by_crm_ids(conn, org, cid, mapping.type, [r.id for r in live]) if linked else {}
    pulled = Pulled(mapping, platform_table(mapping.type))
    candidates = live if scope.full else [r for r in live if _maybe_fresh(r, known.get(r.id))]
    # A record undeleted in the CRM comes back to the row archived when it was deleted.
    unlinked = [r.id for r in live if r.id not in known]
    restored: dict[str, Archived] = {}
    if unlinked and archive.any_archived(conn, org, cid, mapping.type):
        restored = archive.by_crm_ids(conn, org, cid, mapping.type, unlinked)
    result.counts.unchanged += len(live) - len(candidates)
    assumed: dict[str, dict[str, int]] = {}
    parents = lookups.parents(conn, org, cid, mapping, candidates, unwritten or {}, assumed)
    resolver = lookups.Lookups(mapping, parents)
    rows: list[Row] = []
    failures: list[retries.Failure] = []
    for record in candidates:
        try:
            values = pulled.values(record.values)
            resolver.resolve(record, values)
        except RecordError as exc:
            failures.append(pull_entries.failure(mapping, record, exc))
            if exc.code == retries.PARENT_MISSING:
                result.counts.skipped += 1
            else:
                result.counts.failed += 1
            continue
        synced = pulled.synced(values)
        text, digest = encoded(synced)
        link = known.get(record.id)
        same = link is not None and link.crm_modstamp == record.modstamp and link.values_hash == digest
        if same and not scope.full:
            result.counts.unchanged += 1
            continue
        platform_id = link.platform_id if link is not None else None
        if record.id in restored:
            platform_id = restored[record.id].platform_id
        rows.append(Row(record, values, digest, synced, text, platform_id))
    return Prepared(gone, known, rows, failures, result, assumed, restored)


def note_gone(conn: sa.Connection, scope: Scope, mapping: ObjectMapping, gone: Sequence[CrmRecord]) -> None:
    """Deleted and merged-away records: removed at the end of the run, never retried."""
    if not gone:
        return
    org, cid = scope.organization_id, scope.connection_id
    retries.note_removals(conn, org, cid, [retries.Removal(mapping.type, r.id, r.master_id) for r in gone])
    retries.clear_failures(conn, org, cid, mapping.type, [r.id for r in gone])


def note_outcome(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    written: Sequence[str],
    failures: Sequence[retries.Failure],
) -> None:
    """Records written (by CRM id) wait no more; failed ones are logged (once per reason) and
    fetched again on a later pull (see crmsync.store.retries)."""
    org, cid = scope.organization_id, scope.connection_id
    # Almost always nothing waits: one indexed probe instead of deleting by every id of the page.
    if written and retries.any_waiting(conn, org, cid, mapping.type):
        retries.clear_failures(conn, org, cid, mapping.type, written)
    retries.note_failures(conn, org, cid, mapping.type, failures, run_id=scope.run_id)


def _maybe_fresh(record: CrmRecord, link: links.Link | None) -> bool:
    """Not known to be applied: no link, another modstamp, or the same modstamp with a values hash.

    CRMs stamp to the whole second, so two changes of a record within one second share a
    modstamp; only the values tell the second from the first: such a record is mapped and
    its values' digest compared with the link's.
    """
    return link is None or link.crm_modstamp != record.modstamp or link.values_hash is not None


def _match(conn: sa.Connection, scope: Scope, mapping: ObjectMapping, unlinked: list[Row]) -> None:
    """Attach unlinked rows to existing platform rows by the profile's matching rules."""
    found = matching.matches(conn, scope, mapping, [r.values for r in unlinked])
    for row, match in zip(unlinked, found, strict=True):
        if match is not None:
            row.platform_id, row.matched_by = match


def _write(conn: sa.Connection, scope: Scope, mapping: ObjectMapping, prepared: Prepared) -> list[NewLink]:
    org = scope.organization_id
    known, result, failures = prepared.known, prepared.result, prepared.failures
    creates = [r for r in prepared.rows if r.platform_id is None]
    existing = [r for r in prepared.rows if r.platform_id is not None]
    current = records.get_many(conn, org, mapping.type, [r.platform_id for r in existing if r.platform_id])
    touched: list[NewLink] = []
    updates: list[tuple[Row, dict[str, Any]]] = []
    flows = scope.flows(mapping)
    for row in existing:
        assert row.platform_id is not None
        before = current.get(row.platform_id)
        if before is None:
            # The application deleted the platform row: create it again.
            row.platform_id = None
            creates.append(row)
            continue
        link = known.get(row.record.id)
        base = link.synced_values if link is not None and row.matched_by is None else None
        if row.record.id in prepared.restored:
            base = prepared.restored[row.record.id].synced_values
        merged = merge_fields(
            {c: f for c, f in flows.items() if c in row.values},
            before,
            row.values,
            base,
            crm_modified_at=modified_at(row.record),
            platform_modified_at=before.get("updated_at"),
        )
        changed = merged.receive
        # A pull cannot send: what the platform changed stays for the push to find.
        row.synced = {**(base or {}), **merged.base_before_sending()}
        result.logs.extend(
            pull_entries.conflict(mapping, row.record, row.platform_id, c) for c in merged.conflicts
        )
        result.logs.extend(
            pull_entries.undecided(mapping, row.record, row.platform_id, u) for u in merged.undecided
        )
        if not changed and row.matched_by is None:
            result.counts.unchanged += 1
            touched.append(new_link(mapping, row))
            continue
        updates.append((row, changed))
    writes: list[Write] = [(r, None) for r in creates]
    writes += [(r, c) for r, c in updates]
    for row, written, error in _guarded(conn, org, mapping, writes):
        if error:
            result.counts.failed += 1
            failures.append(
                pull_entries.failure(mapping, row.record, RecordError(error, code="PLATFORM_REJECTED"))
            )
            continue
        assert row.platform_id is not None
        touched.append(new_link(mapping, row))
        if written is None:
            result.logs.append(pull_entries.created(mapping, row.record, row.platform_id))
            result.counts.created += 1
        else:
            result.logs.append(
                pull_entries.updated(mapping, row.record, row.platform_id, written, matched_by=row.matched_by)
            )
            result.counts.updated += 1
    return touched


def _guarded(
    conn: sa.Connection, org: int, mapping: ObjectMapping, writes: list[Write]
) -> list[tuple[Row, dict[str, Any] | None, str]]:
    """Write in bulk; if the database rejects the batch, row by row so one bad row fails alone."""
    try:
        with conn.begin_nested():
            _bulk(conn, org, mapping, writes)
        return [(row, changed, "") for row, changed in writes]
    except DBAPIError:
        pass
    outcome = []
    for row, changed in writes:
        try:
            with conn.begin_nested():
                _bulk(conn, org, mapping, [(row, changed)])
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            if changed is None:
                row.platform_id = None
            outcome.append(
                (row, changed, f"the platform database rejected {mapping.object} {row.record.id}: {reason}")
            )
        else:
            outcome.append((row, changed, ""))
    return outcome


def _bulk(conn: sa.Connection, org: int, mapping: ObjectMapping, writes: list[Write]) -> None:
    creates = [row for row, changed in writes if changed is None]
    ids = records.insert_many(conn, org, mapping.type, [r.values for r in creates])
    if mapping.match:
        match_keys.note_inserted(conn, org, mapping.type, ids, [r.values for r in creates])
    for row, new_id in zip(creates, ids, strict=True):
        row.platform_id = new_id
    records.update_many(
        conn,
        org,
        mapping.type,
        [(row.platform_id, changed) for row, changed in writes if changed and row.platform_id is not None],
    )


def new_link(mapping: ObjectMapping, row: Row) -> NewLink:
    """The link to store for ``row`` once it is written."""
    assert row.platform_id is not None
    return NewLink(
        mapping.type,
        row.platform_id,
        mapping.object,
        row.record.id,
        row.record.modstamp,
        row.digest,
        row.synced,
    )


def modified_at(record: CrmRecord) -> datetime | None:
    """When the CRM record last changed: its LastModifiedDate if read, else its modification stamp."""
    stamp = record.values.get("LastModifiedDate") or record.modstamp
    try:
        return parse_crm_datetime(str(stamp)) if stamp else None
    except ValueError:
        return None
