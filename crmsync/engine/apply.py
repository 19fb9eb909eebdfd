"""Applying one page of CRM records to the platform, in the caller's transaction.

For each live record: skip it if its version was already applied; resolve its lookups
through links (a missing parent fails the record, never creates it incomplete); find its
platform row (link first, then the profile's matching rules); create or update it; stamp
the link. Deleted and merged-away records are noted for the end of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from crmsync.connectors.base import CrmRecord
from crmsync.engine.conflicts import Conflict, Policy, merge, normalized, snapshot
from crmsync.engine.counts import Counts
from crmsync.engine.mapping import Pulled, parse_crm_datetime
from crmsync.errors import RecordError
from crmsync.model.profile import ObjectMapping, Profile
from crmsync.store import links, records, retries
from crmsync.store.links import Link, NewLink
from crmsync.store.logs import LogEntry
from crmsync.store.platform import platform_table


@dataclass(frozen=True)
class Scope:
    """Whose data a page belongs to."""

    organization_id: int
    connection_id: int
    profile: Profile
    # Who wins a field changed on both sides since the last sync.
    policy: Policy = "latest_wins"


@dataclass
class _Row:
    record: CrmRecord
    values: dict[str, Any]
    digest: str
    platform_id: int | None = None
    matched_by: str | None = None
    # The mapped values both sides hold after this sync (stored on the link).
    synced: dict[str, Any] | None = None


# What a lookup target type without any linked parent on the page resolves against.
_NO_PARENTS: dict[str, int] = {}

# A create (changed columns None) or an update (the changed columns) of one row.
Write = tuple[_Row, dict[str, Any] | None]


@dataclass
class PageResult:
    """What applying a page did: counts and the log entries to write."""

    counts: Counts = field(default_factory=Counts)
    logs: list[LogEntry] = field(default_factory=list)


def apply_page(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, page: Sequence[CrmRecord]
) -> PageResult:
    """Apply ``page`` (records of ``mapping.object``) and return what happened."""
    result = PageResult()
    result.counts.fetched = len(page)
    org, cid = scope.organization_id, scope.connection_id
    gone = [r for r in page if r.deleted]
    live = [r for r in page if not r.deleted]
    if gone:
        retries.note_removals(
            conn, org, cid, [retries.Removal(mapping.type, r.id, r.master_id) for r in gone]
        )
        retries.clear_failures(conn, org, cid, mapping.type, [r.id for r in gone])
    known = links.by_crm_ids(conn, org, cid, mapping.type, [r.id for r in live])
    pulled = Pulled(mapping, platform_table(mapping.type))
    fresh = [r for r in live if _fresh(r, known.get(r.id), pulled)]
    result.counts.unchanged += len(live) - len(fresh)
    parents = _parents(conn, scope, mapping, fresh)
    rows: list[_Row] = []
    failures: list[tuple[str, str]] = []
    for record in fresh:
        try:
            values = pulled.values(record.values)
            _resolve(mapping, record, parents, values)
        except RecordError as exc:
            failures.append((record.id, exc.message))
            result.logs.append(_failure(mapping, record, exc))
            if exc.code == "PARENT_MISSING":
                result.counts.skipped += 1
            else:
                result.counts.failed += 1
            continue
        row = _Row(record, values, pulled.fingerprint(record.values))
        link = known.get(record.id)
        row.platform_id = link.platform_id if link is not None else None
        rows.append(row)
    _match(conn, scope, mapping, [r for r in rows if r.platform_id is None])
    touched = _write(conn, scope, mapping, rows, known, result, failures)
    # Which links exist is known from the start of the page: links.write need not ask again.
    links.write(conn, org, cid, touched, existing=known.keys())
    # Almost always nothing waits: one indexed probe instead of deleting by every id of the page.
    if touched and retries.any_waiting(conn, org, cid, mapping.type):
        retries.clear_failures(conn, org, cid, mapping.type, [t.crm_id for t in touched])
    retries.note_failures(conn, org, cid, mapping.type, failures)
    return result


def _fresh(record: CrmRecord, link: links.Link | None, pulled: Pulled) -> bool:
    """Not applied yet: no link, another modstamp, or other values under the same modstamp.

    CRMs stamp to the whole second, so two changes of a record within one second share a
    modstamp; only the values tell the second from the first (compared only then: cheap).
    """
    if link is None or link.crm_modstamp != record.modstamp:
        return True
    return link.values_hash is not None and link.values_hash != pulled.fingerprint(record.values)


def _parents(
    conn: sa.Connection, scope: Scope, mapping: ObjectMapping, page: Sequence[CrmRecord]
) -> dict[str, dict[str, int]]:
    """For every target type of the mapping's lookups: CRM id -> platform id, for this page.

    A parent is taken from the first target type that has it (see _resolve), so a later
    target type is asked only for the parents the earlier ones lack: an AccountId is looked
    up among organizations only when it is no household.
    """
    found: dict[str, dict[str, int]] = {}
    for lookup in mapping.lookups:
        wanted = list(dict.fromkeys(str(v) for r in page if (v := r.values.get(lookup.crm))))
        for target in lookup.targets:
            if not wanted:
                break
            known = links.platform_ids(conn, scope.organization_id, scope.connection_id, target.type, wanted)
            found.setdefault(target.type, {}).update(known)
            if known:
                wanted = [crm_id for crm_id in wanted if crm_id not in known]
    return found


def _resolve(
    mapping: ObjectMapping, record: CrmRecord, parents: dict[str, dict[str, int]], values: dict[str, Any]
) -> None:
    """Set the lookup columns of ``values``; RecordError when a parent is missing."""
    for lookup in mapping.lookups:
        crm_value = record.values.get(lookup.crm)
        for target in lookup.targets:
            values[target.column] = None
        if not crm_value:
            if lookup.required:
                raise RecordError(
                    f"{mapping.object} {record.id} has no {lookup.crm}, which "
                    f"{mapping.label_text} need; set it in the CRM",
                    code="PARENT_MISSING",
                    fields=(lookup.crm,),
                )
            continue
        # The first target type that has the parent (platform ids are never None).
        for target in lookup.targets:
            platform_id = parents.get(target.type, _NO_PARENTS).get(crm_value)
            if platform_id is not None:
                values[target.column] = platform_id
                break
        else:
            types = " or ".join(t.type.replace("_", " ") for t in lookup.targets)
            raise RecordError(
                f"skipped {mapping.object} {record.id}: its parent {crm_value} ({lookup.crm}) is not in the "
                f"platform as {types}; pull that record first (check its pull toggle and filter). "
                "crmsync retries this record on the next pull",
                code="PARENT_MISSING",
                fields=(lookup.crm,),
                details={"parent_id": crm_value, "parent_field": lookup.crm},
            )


def _match(conn: sa.Connection, scope: Scope, mapping: ObjectMapping, unlinked: list[_Row]) -> None:
    """Attach unlinked rows to existing platform rows by the profile's matching rules."""
    if not unlinked or not mapping.match:
        return
    # A first pull into an empty platform, and every later pull once all rows are linked, has
    # nothing to match against: one cheap question instead of a keyed query per rule and chunk.
    if not records.has_unlinked(conn, scope.organization_id, scope.connection_id, mapping.type):
        return
    taken: set[int] = set()
    for rule in mapping.match:
        pending = [r for r in unlinked if r.platform_id is None]
        keyed: dict[int, tuple[Any, ...]] = {}
        for row in pending:
            key = tuple(records.normalized(row.values.get(c), rule.normalize) for c in rule.columns)
            if all(part not in (None, "") for part in key):
                keyed[id(row)] = key
        found = records.find_unlinked_matches(
            conn,
            scope.organization_id,
            scope.connection_id,
            mapping.type,
            rule.columns,
            rule.normalize,
            list(keyed.values()),
        )
        for row in pending:
            row_key = keyed.get(id(row))
            platform_id = found.get(row_key) if row_key is not None else None
            # Two CRM records with the same key: the first one takes the platform row.
            if platform_id is not None and platform_id not in taken:
                taken.add(platform_id)
                row.platform_id = platform_id
                row.matched_by = ", ".join(rule.columns)


def _write(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    rows: list[_Row],
    known: dict[str, Link],
    result: PageResult,
    failures: list[tuple[str, str]],
) -> list[NewLink]:
    org = scope.organization_id
    creates = [r for r in rows if r.platform_id is None]
    existing = [r for r in rows if r.platform_id is not None]
    current = records.get_many(conn, org, mapping.type, [r.platform_id for r in existing if r.platform_id])
    touched: list[NewLink] = []
    updates: list[tuple[_Row, dict[str, Any]]] = []
    for row in existing:
        assert row.platform_id is not None
        before = current.get(row.platform_id)
        if before is None:
            # The application deleted the platform row: create it again.
            row.platform_id = None
            creates.append(row)
            continue
        link = known.get(row.record.id)
        changed, conflicts = merge(
            row.values,
            before,
            link.synced_values if link is not None and row.matched_by is None else None,
            policy=scope.policy,
            crm_modified_at=_modified_at(row.record),
            platform_modified_at=before.get("updated_at"),
        )
        row.synced = _agreed(row.values, before, changed, link.synced_values if link else None)
        result.logs.extend(_conflict(mapping, row, c) for c in conflicts)
        if not changed and row.matched_by is None:
            result.counts.unchanged += 1
            touched.append(_link(mapping, row))
            continue
        updates.append((row, changed))
    writes: list[Write] = [(r, None) for r in creates]
    writes += [(r, c) for r, c in updates]
    for row, written, error in _guarded(conn, org, mapping, writes):
        if error:
            result.counts.failed += 1
            failures.append((row.record.id, error))
            result.logs.append(_failure(mapping, row.record, RecordError(error, code="PLATFORM_REJECTED")))
            continue
        touched.append(_link(mapping, row))
        result.logs.append(_success(mapping, row, written))
        if written is None:
            result.counts.created += 1
        else:
            result.counts.updated += 1
    return touched


def _guarded(
    conn: sa.Connection, org: int, mapping: ObjectMapping, writes: list[Write]
) -> list[tuple[_Row, dict[str, Any] | None, str]]:
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
    for row, new_id in zip(creates, ids, strict=True):
        row.platform_id = new_id
    records.update_many(
        conn,
        org,
        mapping.type,
        [(row.platform_id, changed) for row, changed in writes if changed and row.platform_id is not None],
    )


def _link(mapping: ObjectMapping, row: _Row) -> NewLink:
    assert row.platform_id is not None
    synced = row.synced if row.synced is not None else snapshot(row.values)
    return NewLink(
        mapping.type, row.platform_id, mapping.object, row.record.id, row.record.modstamp, row.digest, synced
    )


def _agreed(
    incoming: dict[str, Any], before: dict[str, Any], written: dict[str, Any], old: dict[str, Any] | None
) -> dict[str, Any]:
    """The new last-synced values: where both sides now agree, that value; elsewhere the old one."""
    agreed: dict[str, Any] = {}
    for column, value in incoming.items():
        crm = normalized(value)
        platform = normalized(written[column]) if column in written else normalized(before.get(column))
        agreed[column] = crm if crm == platform or old is None else old.get(column)
    return agreed


def _modified_at(record: CrmRecord) -> Any:
    stamp = record.values.get("LastModifiedDate")
    try:
        return parse_crm_datetime(str(stamp)) if stamp else None
    except ValueError:
        return None


def _conflict(mapping: ObjectMapping, row: _Row, conflict: Conflict) -> LogEntry:
    winner = "the CRM's" if conflict.winner == "crm" else "the platform's"
    return LogEntry(
        data_type=mapping.type,
        action="update",
        direction="pull",
        status="processed",
        message=(
            f"conflict on {mapping.label_text} {row.platform_id} field {conflict.column}: CRM "
            f"{normalized(conflict.crm_value)!r}, platform {normalized(conflict.platform_value)!r} "
            f"(last synced {conflict.synced_value!r}); kept {winner} value, {conflict.reason}"
        ),
        crm_id=row.record.id,
        platform_id=row.platform_id,
        details={"conflict": conflict.as_details()},
    )


def _success(mapping: ObjectMapping, row: _Row, changed: dict[str, Any] | None) -> LogEntry:
    noun = mapping.label_text.rstrip("s") if mapping.label_text.endswith("s") else mapping.label_text
    if changed is None:
        return LogEntry(
            data_type=mapping.type,
            action="create",
            direction="pull",
            status="processed",
            message=f"created {noun} {row.platform_id} from {mapping.object} {row.record.id}",
            crm_id=row.record.id,
            platform_id=row.platform_id,
        )
    how = f" (matched by {row.matched_by})" if row.matched_by else ""
    names = ", ".join(sorted(changed)) or "no fields"
    return LogEntry(
        data_type=mapping.type,
        action="update",
        direction="pull",
        status="processed",
        message=f"updated {noun} {row.platform_id} from {mapping.object} {row.record.id}{how}: {names}",
        crm_id=row.record.id,
        platform_id=row.platform_id,
        details={"changed": {k: _json(v) for k, v in changed.items()}},
    )


def _failure(mapping: ObjectMapping, record: CrmRecord, exc: RecordError) -> LogEntry:
    return LogEntry(
        data_type=mapping.type,
        action="pull",
        direction="pull",
        status="error",
        message=exc.message,
        crm_id=record.id,
        details={"code": exc.code, "fields": list(exc.fields), **exc.details},
    )


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
