"""Pushing platform records to the CRM: parents first, matched before created, never duplicated.

A record with a link is updated by its CRM id; one without is upserted by the platform-id
external field, so a retry after a lost response updates instead of creating twice. Every
attempt is a log entry; three failures in a row lock a record until an admin archives the
lock (Resync goes through locks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.connectors.writes import Ref, WriteRecord, WriteResult
from crmsync.engine.apply import Scope
from crmsync.engine.conflicts import snapshot
from crmsync.engine.outbound import PLATFORM_ID_FIELD, equality_defaults, field_values, platform_key
from crmsync.engine.push_plan import Key, Node, Plan, match_in_crm, plan_push
from crmsync.model.profile import Condition
from crmsync.store import links, logs, push_state, tenancy
from crmsync.store.db import reading
from crmsync.store.links import NewLink
from crmsync.store.logs import LogEntry

Status = Literal["pushed", "failed", "skipped"]


@dataclass(frozen=True)
class PushItem:
    """A platform record to push (or whose CRM record to delete)."""

    platform_type: str
    platform_id: int
    operation: Literal["upsert", "delete"] = "upsert"
    crm_id: str | None = None

    @property
    def key(self) -> Key:
        """(platform type, platform id)."""
        return self.platform_type, self.platform_id


@dataclass
class Outcome:
    """What happened to one requested record."""

    status: Status
    message: str
    code: str | None = None
    locked: bool = False
    crm_id: str | None = None


@dataclass
class PushReport:
    """Outcomes by requested record, and the API calls the push made."""

    outcomes: dict[Key, Outcome] = field(default_factory=dict)
    api_calls: int = 0

    def count(self, status: Status) -> int:
        """How many requested records ended with ``status``."""
        return sum(1 for o in self.outcomes.values() if o.status == status)


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
) -> PushReport:
    """Push ``items`` now; TransientError propagates (nothing is recorded as failed then)."""
    org, cid = scope.organization_id, scope.connection_id
    report = PushReport()
    calls_before = connector.api_calls
    entries: list[LogEntry] = []
    with reading(engine) as conn:
        pushable = pushable_types(scope, tenancy.get_toggles(conn, org, cid))
        locked = _locked(conn, scope, items) if not bypass_locks else {}
    upserts: list[PushItem] = []
    deletes: list[PushItem] = []
    for item in items:
        noun = item.platform_type.replace("_", " ")
        if item.platform_type not in pushable:
            _skip(
                report,
                entries,
                item,
                f"not pushed: the push toggle of {noun} is off; the change stays in the platform",
            )
        elif item.key in locked:
            _skip(
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
    results: dict[Key, tuple[Node | None, WriteResult]] = {}
    if deletes:
        results.update(_deletes(engine, scope, connector, deletes, report, entries))
    if upserts:
        results.update(_upserts(engine, scope, connector, upserts, pushable, report, entries))
    _record(engine, scope, results, report, entries, run_id=run_id)
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


def _skip(report: PushReport, entries: list[LogEntry], item: PushItem, message: str) -> None:
    report.outcomes[item.key] = Outcome("skipped", message)
    entries.append(
        LogEntry(
            data_type=item.platform_type,
            action="delete" if item.operation == "delete" else "push",
            direction="push",
            status="skipped",
            message=message,
            platform_id=item.platform_id,
        )
    )


def _deletes(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    items: Sequence[PushItem],
    report: PushReport,
    entries: list[LogEntry],
) -> dict[Key, tuple[Node | None, WriteResult]]:
    targets: list[tuple[str, str, str]] = []
    keys: dict[str, PushItem] = {}
    unlinked: list[PushItem] = []
    with reading(engine) as conn:
        for item in items:
            crm_id = item.crm_id
            if crm_id is None:
                link = links.by_platform_ids(
                    conn, scope.organization_id, scope.connection_id, item.platform_type, [item.platform_id]
                ).get(item.platform_id)
                crm_id = link.crm_id if link else None
            if crm_id is None:
                unlinked.append(item)
                continue
            key = platform_key(*item.key)
            keys[key] = item
            targets.append((key, scope.profile.mapping(item.platform_type).object, crm_id))
    # A create whose answer was lost left a CRM record and no link: find it by the platform id.
    found = _created_unlinked(connector, scope, unlinked)
    for item in unlinked:
        key = platform_key(*item.key)
        if key not in found:
            _skip(report, entries, item, "nothing to delete in the CRM: the record was never synced")
            continue
        keys[key] = item
        targets.append((key, scope.profile.mapping(item.platform_type).object, found[key]))
    results = connector.delete(targets) if targets else []
    return {keys[r.key].key: (None, r) for r in results}


def _created_unlinked(connector: Connector, scope: Scope, items: Sequence[PushItem]) -> dict[str, str]:
    """Platform key -> CRM id of records carrying the platform id although no link names them."""
    by_object: dict[str, list[str]] = {}
    for item in items:
        by_object.setdefault(scope.profile.mapping(item.platform_type).object, []).append(
            platform_key(*item.key)
        )
    found: dict[str, str] = {}
    for object_name, wanted in by_object.items():
        external = connector.describe(object_name).field(PLATFORM_ID_FIELD)
        if external is None or not external.external_id:
            continue  # no searchable platform-id field: nothing can have been created by it
        request = ReadRequest(
            object=object_name,
            fields=(PLATFORM_ID_FIELD,),
            conditions=(Condition(field=PLATFORM_ID_FIELD, op="in", value=tuple(sorted(wanted))),),
        )
        for page in connector.read(request):
            for record in page.records:
                value = record.values.get(PLATFORM_ID_FIELD)
                if isinstance(value, str) and value in wanted:
                    found.setdefault(value, record.id)
    return found


def _upserts(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    items: Sequence[PushItem],
    pushable: set[str],
    report: PushReport,
    entries: list[LogEntry],
) -> dict[Key, tuple[Node | None, WriteResult]]:
    org, cid = scope.organization_id, scope.connection_id
    with reading(engine) as conn:
        plan = plan_push(conn, org, cid, scope.profile, [i.key for i in items], pushable)
        match_in_crm(conn, org, cid, connector, plan)
    requested = {i.key for i in items}
    for key in plan.missing:
        if key in requested:
            _skip(report, entries, PushItem(*key), "not pushed: the record no longer exists in the platform")
    writes: list[WriteRecord] = []
    results: dict[Key, tuple[Node | None, WriteResult]] = {}
    for key, node in plan.nodes.items():
        if node.problem:
            results[key] = (
                node,
                WriteResult(platform_key(*key), False, code="NOT_PUSHABLE", message=node.problem),
            )
            continue
        writes.append(_write_record(connector, plan, node))
    by_key = {
        w.key: k for k, w in zip((k for k, n in plan.nodes.items() if not n.problem), writes, strict=True)
    }
    for result in connector.write(writes) if writes else []:
        key = by_key[result.key]
        results[key] = (plan.nodes[key], result)
    return results


def _write_record(connector: Connector, plan: Plan, node: Node) -> WriteRecord:
    mapping = node.mapping
    info = connector.describe(mapping.object)
    creating = node.crm_id is None
    body = field_values(mapping, node.row, info, creating=creating)
    depends: list[str] = []
    for crm_field, parent in node.parents.items():
        field_info = info.field(crm_field)
        if field_info is None or not (field_info.createable if creating else field_info.updateable):
            continue
        if parent in plan.parent_ids:
            body[crm_field] = plan.parent_ids[parent]
        elif parent in plan.nodes and plan.nodes[parent].crm_id:
            body[crm_field] = plan.nodes[parent].crm_id
        else:
            body[crm_field] = Ref(platform_key(*parent))
            depends.append(platform_key(*parent))
    for lookup in mapping.lookups:
        if lookup.crm not in node.parents and lookup.crm not in body:
            field_info = info.field(lookup.crm)
            if field_info is not None and (field_info.createable if creating else field_info.updateable):
                body[lookup.crm] = None
    key = platform_key(*node.key)
    if info.field(PLATFORM_ID_FIELD) is not None:
        body[PLATFORM_ID_FIELD] = key
    if creating:
        defaults = connector.create_defaults(mapping.object, equality_defaults(mapping))
        for name, value in {**defaults, **mapping.create_values}.items():
            if body.get(name) is None:
                body[name] = value
        body.pop(PLATFORM_ID_FIELD, None)
        return WriteRecord(
            key,
            mapping.object,
            body,
            external_field=PLATFORM_ID_FIELD,
            external_id=key,
            depends_on=tuple(depends),
        )
    return WriteRecord(key, mapping.object, body, crm_id=node.crm_id, depends_on=tuple(depends))


def _record(
    engine: Engine,
    scope: Scope,
    results: dict[Key, tuple[Node | None, WriteResult]],
    report: PushReport,
    entries: list[LogEntry],
    *,
    run_id: int | None,
) -> None:
    """Links, failure counts, locks and log entries of a push, in one transaction."""
    org, cid = scope.organization_id, scope.connection_id
    new_links: list[NewLink] = []
    successes: list[Key] = []
    with engine.begin() as conn:
        for key, (node, result) in results.items():
            noun = key[0].replace("_", " ")
            mapping = scope.profile.mapping(key[0])
            if result.ok and node is None:
                links.remove(conn, org, cid, key[0], result.crm_id or "")
                successes.append(key)
                _entry(
                    entries,
                    key,
                    "delete",
                    "processed",
                    f"deleted {mapping.object} {result.crm_id} ({noun} {key[1]})",
                    result.crm_id,
                )
                report.outcomes[key] = Outcome("pushed", "deleted", crm_id=result.crm_id)
                continue
            if result.ok and node is not None:
                assert result.crm_id is not None
                # No version yet: the next pull compares values, so the echo of this write
                # changes nothing on the platform. Both sides now hold the pushed values.
                pushed = {f.column: node.row.get(f.column) for f in mapping.fields if f.pulls}
                pushed.update({c: node.row.get(c) for c in mapping.lookup_columns()})
                new_links.append(
                    NewLink(key[0], key[1], mapping.object, result.crm_id, None, None, snapshot(pushed))
                )
                successes.append(key)
                verb = "created" if result.created else ("matched and updated" if node.matched else "updated")
                _entry(
                    entries,
                    key,
                    "create" if result.created else "update",
                    "processed",
                    f"{verb} {mapping.object} {result.crm_id} from {noun} {key[1]}",
                    result.crm_id,
                )
                if node.requested or key in report.outcomes:
                    report.outcomes[key] = Outcome("pushed", verb, crm_id=result.crm_id)
                else:
                    report.outcomes.setdefault(
                        key, Outcome("pushed", f"{verb} as a parent", crm_id=result.crm_id)
                    )
                continue
            failures = push_state.record_failure(
                conn, org, cid, key[0], key[1], code=result.code, message=result.error_text
            )
            locked = failures >= push_state.LOCK_AFTER
            suffix = f"; locked after {failures} failures in a row" if locked else ""
            _entry(
                entries,
                key,
                "push",
                "error",
                f"{noun} {key[1]}: {result.error_text}{suffix}",
                result.crm_id,
                code=result.code,
            )
            report.outcomes[key] = Outcome("failed", result.error_text, code=result.code, locked=locked)
        links.write(conn, org, cid, new_links)
        push_state.clear_failures(conn, org, cid, successes)
        logs.write(conn, org, entries, connection_id=cid, run_id=run_id)


def _entry(
    entries: list[LogEntry],
    key: Key,
    action: Literal["create", "update", "delete", "push"],
    status: Literal["processed", "error", "skipped"],
    message: str,
    crm_id: str | None,
    *,
    code: str | None = None,
) -> None:
    entries.append(
        LogEntry(
            data_type=key[0],
            action=action,
            direction="push",
            status=status,
            message=message,
            crm_id=crm_id,
            platform_id=key[1],
            details={"code": code} if code else None,
        )
    )
