"""API: integration logs, locks, records with their sync state, "Why didn't this sync?", Resync."""

from __future__ import annotations

from dataclasses import asdict

from crmsync.engine import explain, log_view, records_view
from crmsync.engine.commands import run_resync
from crmsync.engine.locks import archive_locks, list_locks
from crmsync.engine.push import PushReport
from crmsync.engine.workspace import Workspace
from crmsync.store import tenancy
from crmsync.store.db import reading
from crmsync.store.logs import StoredLogEntry
from crmsync.web import schemas as s
from crmsync.web.api_connections import connection_row
from crmsync.web.api_kit import Api, Call
from crmsync.web.errors import ApiError, not_found

api = Api()


def connection_names(workspace: Workspace) -> dict[int, str]:
    """Connection ids to names, for the organization."""
    with reading(workspace.engine) as conn:
        return {r.id: r.name for r in tenancy.list_connections(conn, workspace.organization_id)}


def entry_out(entry: StoredLogEntry, names: dict[int, str]) -> s.LogEntryOut:
    """A log entry as listed."""
    data = asdict(entry)
    data.pop("details")
    data["connection"] = names.get(entry.connection_id) if entry.connection_id is not None else None
    return s.LogEntryOut.model_validate(data)


def log_filter(workspace: Workspace, query: s.LogQuery) -> log_view.LogFilter:
    """The engine's filter for an API or page query (an unknown connection is a 404)."""
    connection_id = connection_row(workspace, query.connection).id if query.connection else None
    return log_view.LogFilter(
        tab=query.tab,
        status=query.status,
        data_type=query.type,
        since=query.since,
        until=query.until,
        connection_id=connection_id,
        before=query.before,
        limit=query.limit,
    )


def list_logs_for(workspace: Workspace, query: s.LogQuery) -> s.LogPage:
    """A page of the log for the API and the Integration logs screen."""
    if query.since and query.until and query.since > query.until:
        raise ApiError(422, "invalid", "query.since: must not be after until")
    wanted = log_filter(workspace, query)
    names = connection_names(workspace)
    with reading(workspace.engine) as conn:
        entries = log_view.page(conn, workspace.organization_id, wanted)
    more = entries[-1].id if len(entries) == query.limit else None
    return s.LogPage(entries=[entry_out(e, names) for e in entries], next_before=more)


@api.route(
    "GET",
    "/logs",
    summary="Log entries, newest first (keyset paging)",
    tag="logs",
    response=s.LogPage,
    query=s.LogQuery,
)
def list_logs(call: Call) -> s.LogPage:
    return list_logs_for(call.workspace, call.q(s.LogQuery))


def log_detail(workspace: Workspace, entry_id: int) -> s.LogEntryDetail:
    """One entry with its details (the full request, response and error), or 404."""
    with reading(workspace.engine) as conn:
        entry = log_view.get(conn, workspace.organization_id, entry_id)
    if entry is None:
        raise not_found(f"log entry {entry_id}")
    listed = entry_out(entry, connection_names(workspace))
    return s.LogEntryDetail(**listed.model_dump(), details=entry.details)


@api.route(
    "GET",
    "/logs/{entry_id}",
    summary="One log entry with its details",
    tag="logs",
    response=s.LogEntryDetail,
    ints=("entry_id",),
)
def get_log(call: Call) -> s.LogEntryDetail:
    return log_detail(call.workspace, call.path["entry_id"])


def get_locks_for(workspace: Workspace, name: str | None) -> s.LockList:
    """Locks of the organization (or one of its connections)."""
    if name:
        connection_row(workspace, name)
    names = connection_names(workspace)
    return s.LockList(
        locks=[
            s.LockOut(connection=names.get(lock.connection_id, "?"), **asdict(lock))
            for lock in list_locks(workspace, name)
        ]
    )


@api.route(
    "GET",
    "/locks",
    summary="Locked records with their last error",
    tag="locks",
    response=s.LockList,
    query=s.LockQuery,
)
def get_locks(call: Call) -> s.LockList:
    return get_locks_for(call.workspace, call.q(s.LockQuery).connection)


@api.route(
    "POST",
    "/locks/archive",
    summary="Archive locks (TYPE:ID); the records are queued again",
    tag="locks",
    response=s.ArchiveOut,
    body=s.ArchiveIn,
)
def archive(call: Call) -> s.ArchiveOut:
    body = call.b(s.ArchiveIn)
    if body.connection:
        connection_row(call.workspace, body.connection)
    known = {lock.key for lock in list_locks(call.workspace, body.connection)}
    missing = [key for key in body.keys if key not in known]
    if missing and all(":" in key and key.partition(":")[2].isdigit() for key in missing):
        raise not_found(f"lock {missing[0]}")
    return s.ArchiveOut(archived=archive_locks(call.workspace, body.keys, body.connection))


def record_out(row: records_view.RecordRow) -> s.RecordOut:
    """A record as listed."""
    return s.RecordOut.model_validate(asdict(row))


@api.route(
    "GET",
    "/connections/{name}/records/{type}",
    summary="A table view: records with sync state",
    tag="records",
    response=s.RecordPageOut,
    query=s.RecordQuery,
)
def list_records(call: Call) -> s.RecordPageOut:
    row = connection_row(call.workspace, call.path["name"])
    query = call.q(s.RecordQuery)
    found = records_view.page(
        call.workspace, row, call.path["type"], state=query.state, before=query.before, limit=query.limit
    )
    more = found[-1].id if len(found) == query.limit else None
    return s.RecordPageOut(records=[record_out(r) for r in found], next_before=more)


def record_detail(workspace: Workspace, name: str, platform_type: str, record_id: int) -> s.RecordDetail:
    """A record page's data (404 when the organization has no such record)."""
    row = connection_row(workspace, name)
    page = records_view.get(workspace, row, platform_type, record_id)
    if page is None:
        raise not_found(f"{platform_type} {record_id}")
    why = explain.explain(workspace, row, page, platform_type)
    names = connection_names(workspace)
    return s.RecordDetail(
        record=record_out(page.row),
        values=dict(page.values),
        synced_at=page.synced_at,
        history=[entry_out(e, names) for e in page.history],
        why=s.WhyOut.model_validate(asdict(why)),
    )


@api.route(
    "GET",
    "/connections/{name}/records/{type}/{record_id}",
    summary="A record with its history",
    tag="records",
    response=s.RecordDetail,
    ints=("record_id",),
)
def get_record(call: Call) -> s.RecordDetail:
    return record_detail(call.workspace, call.path["name"], call.path["type"], call.path["record_id"])


@api.route(
    "GET",
    "/connections/{name}/records/{type}/{record_id}/why",
    summary="Why didn't this sync?",
    tag="records",
    response=s.WhyOut,
    ints=("record_id",),
)
def why_record(call: Call) -> s.WhyOut:
    return record_detail(call.workspace, call.path["name"], call.path["type"], call.path["record_id"]).why


@api.route(
    "GET",
    "/connections/{name}/crm-records/{type}/why",
    summary="Why is this CRM record not here?",
    tag="records",
    response=s.WhyOut,
    query=s.CrmWhyQuery,
)
def why_crm_record(call: Call) -> s.WhyOut:
    row = connection_row(call.workspace, call.path["name"])
    platform_type = call.path["type"]
    if platform_type not in call.workspace.profile(row).types():
        raise ApiError(422, "invalid", f"profile {row.profile} has no platform type {platform_type!r}")
    why = explain.explain_crm(call.workspace, row, platform_type, call.q(s.CrmWhyQuery).crm_id)
    return s.WhyOut.model_validate(asdict(why))


def resync_out(report: PushReport) -> s.ResyncOut:
    """A push report as the API shows it."""
    return s.ResyncOut(
        pushed=report.count("pushed"),
        failed=report.count("failed"),
        skipped=report.count("skipped"),
        api_calls=report.api_calls,
        records=[
            s.ResyncRecord(type=t, id=i, status=o.status, message=o.message, crm_id=o.crm_id, locked=o.locked)
            for (t, i), o in report.outcomes.items()
        ],
    )


def resync(workspace: Workspace, name: str, platform_type: str, ids: list[int]) -> PushReport:
    """Resync records that exist in the organization (404 for any other)."""
    row = connection_row(workspace, name)
    missing = sorted(set(ids) - records_view.existing_ids(workspace, row, platform_type, ids))
    if missing:
        raise not_found(f"{platform_type} {missing[0]}")
    return run_resync(workspace, row.name, platform_type, ids=ids)


@api.route(
    "POST",
    "/connections/{name}/records/{type}/resync",
    summary="Push these records now, bypassing locks",
    tag="records",
    response=s.ResyncOut,
    body=s.ResyncIn,
)
def resync_records(call: Call) -> s.ResyncOut:
    return resync_out(resync(call.workspace, call.path["name"], call.path["type"], call.b(s.ResyncIn).ids))


@api.route(
    "POST",
    "/connections/{name}/records/{type}/{record_id}/resync",
    summary="Push this record now, bypassing its lock",
    tag="records",
    response=s.ResyncOut,
    ints=("record_id",),
)
def resync_record(call: Call) -> s.ResyncOut:
    return resync_out(resync(call.workspace, call.path["name"], call.path["type"], [call.path["record_id"]]))
