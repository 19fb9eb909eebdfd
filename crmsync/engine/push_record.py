"""Recording a push in one transaction: links with their new base, the CRM's changes written
onto the platform, failure counts and locks, and a log entry for every record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.writes import WriteResult
from crmsync.engine import merge_entries
from crmsync.engine.apply import Scope
from crmsync.engine.push_merge import Update
from crmsync.engine.push_plan import Key, Node
from crmsync.engine.push_report import Outcome, PushReport
from crmsync.engine.push_waits import release, waited_for
from crmsync.model.profile import ObjectMapping
from crmsync.store import capture, links, logs, push_state, records
from crmsync.store.links import NewLink
from crmsync.store.logs import LogEntry

# Results that are not failures of the record: nothing was sent.
IN_STEP = "IN_STEP"
GONE = "DELETED_IN_CRM"


@dataclass
class Written:
    """One record's write and what it was decided on."""

    node: Node | None
    result: WriteResult
    # The merge of an update; None for a create or a delete.
    update: Update | None = None
    # The base a create leaves (the values it sent).
    sent: dict[str, Any] | None = None


def record(
    engine: Engine,
    scope: Scope,
    written: Mapping[Key, Written],
    report: PushReport,
    entries: list[LogEntry],
    *,
    run_id: int | None,
) -> None:
    """Links, platform writes, failure counts, locks and log entries of a push, in one transaction."""
    org, cid = scope.organization_id, scope.connection_id
    new_links: list[NewLink] = []
    successes: list[Key] = []
    with engine.begin() as conn:
        for key, item in written.items():
            node, result = item.node, item.result
            mapping = scope.profile.mapping(key[0])
            noun = f"{mapping.label_text} {key[1]}"
            if result.code == GONE:
                successes.append(key)
                _entry(entries, key, "push", "skipped", result.message, result.crm_id)
                report.outcomes[key] = Outcome("skipped", result.message, crm_id=result.crm_id)
                continue
            if result.ok and node is None:
                links.remove(conn, org, cid, key[0], result.crm_id or "")
                successes.append(key)
                message = f"deleted {mapping.object} {result.crm_id} ({noun})"
                _entry(entries, key, "delete", "processed", message, result.crm_id)
                report.outcomes[key] = Outcome("pushed", "deleted", crm_id=result.crm_id)
                continue
            if result.ok and node is not None:
                assert result.crm_id is not None
                base = _base(conn, scope, mapping, node, item, entries, result.crm_id)
                new_links.append(NewLink(key[0], key[1], mapping.object, result.crm_id, None, None, base))
                successes.append(key)
                verb, detail = _verb(item)
                action: Literal["create", "update"] = "create" if result.created else "update"
                text = f"{verb} {mapping.object} {result.crm_id} from {noun}{detail}"
                if result.code == IN_STEP:
                    text = f"{noun} and {mapping.object} {result.crm_id} are in step, nothing to send{detail}"
                _entry(entries, key, action, "processed", text, result.crm_id)
                if node.requested or key in report.outcomes:
                    report.outcomes[key] = Outcome("pushed", verb, crm_id=result.crm_id)
                else:
                    report.outcomes.setdefault(
                        key, Outcome("pushed", f"{verb} as a parent", crm_id=result.crm_id)
                    )
                continue
            failures = push_state.record_failure(
                conn,
                org,
                cid,
                key[0],
                key[1],
                code=result.code,
                message=result.error_text,
                # A delete's CRM id is kept: archiving the lock or a Resync deletes again.
                operation="upsert" if node else "delete",
                crm_id=None if node else result.crm_id,
                waiting_for=waited_for(key, written),
            )
            locked = failures >= push_state.LOCK_AFTER
            suffix = f"; locked after {failures} failures in a row" if locked else ""
            text = f"{noun}: {result.error_text}{suffix}"
            _entry(entries, key, "push", "error", text, result.crm_id, code=result.code)
            report.outcomes[key] = Outcome("failed", result.error_text, code=result.code, locked=locked)
        links.write(conn, org, cid, new_links)
        push_state.clear_failures(conn, org, cid, successes)
        release(conn, scope, successes, entries, report)
        logs.write(conn, org, entries, connection_id=cid, run_id=run_id)


def _base(
    conn: sa.Connection,
    scope: Scope,
    mapping: ObjectMapping,
    node: Node,
    item: Written,
    entries: list[LogEntry],
    crm_id: str,
) -> dict[str, Any]:
    """The link's new base; the CRM's changes are written onto the platform row meanwhile."""
    if item.update is None or item.update.merged is None:
        return item.sent or {}
    merged = item.update.merged
    prior = {} if node.matched or node.base is None else node.base
    base = {**prior, **merged.agreed}
    platform_id = node.key[1]
    entries.extend(
        merge_entries.conflict(mapping, c, direction="push", crm_id=crm_id, platform_id=platform_id)
        for c in merged.conflicts
    )
    entries.extend(
        merge_entries.undecided(mapping, u, direction="push", crm_id=crm_id, platform_id=platform_id)
        for u in merged.undecided
    )
    if merged.receive:
        with capture.origin(conn, "sync"):
            written = records.update_if_unchanged(
                conn,
                scope.organization_id,
                mapping.type,
                node.key[1],
                merged.receive,
                updated_at=node.row.get("updated_at"),
            )
        if not written:
            # The row changed since it was read: its change is queued, and the next push
            # merges again with the base from before.
            old = node.base or {}
            for column in merged.receive:
                if column in old:
                    base[column] = old[column]
                else:
                    base.pop(column, None)
    return base


def _verb(item: Written) -> tuple[str, str]:
    """What happened, in short (the outcome), and what to add in the log entry (which fields)."""
    node, result = item.node, item.result
    assert node is not None
    merged = item.update.merged if item.update is not None else None
    received = sorted(merged.receive) if merged is not None else []
    taken = f"; took {', '.join(received)} from the CRM" if received else ""
    if result.created:
        return "created", ""
    if result.code == IN_STEP:
        return "in step", taken
    short = "matched and updated" if node.matched else "updated"
    sent = f": sent {', '.join(sorted(merged.send))}" if merged is not None and merged.send else ""
    return short, f"{sent}{taken}"


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
