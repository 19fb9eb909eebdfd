"""Pages: Integration logs, Integration locks, Archived records, Records (table views, record page,
Resync), Why."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import Route

from crmsync.engine import connections, explain, records_view
from crmsync.engine.locks import archive_locks
from crmsync.engine.push import PushReport
from crmsync.errors import ConfigError
from crmsync.web import schemas as s
from crmsync.web.api_activity import get_locks_for, list_logs_for, log_detail, record_detail, resync
from crmsync.web.api_archived import archived_for, restore_for
from crmsync.web.api_connections import connection_row
from crmsync.web.api_kit import validation_message
from crmsync.web.errors import ApiError
from crmsync.web.pages_kit import Page, page


def _query(p: Page, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: p.arg(k) for k in keys if p.arg(k) is not None}


@page
def logs(p: Page) -> Response:
    raw = _query(p, ("tab", "status", "type", "since", "until", "connection", "before"))
    raw.setdefault("tab", "pull")
    try:
        query = s.LogQuery.model_validate(raw)
    except ValidationError as exc:
        return p.render("error.html", status=422, message=validation_message(exc, "filter"))
    result = list_logs_for(p.workspace, query)
    keep = {k: v for k, v in raw.items() if k != "before"}
    more = f"/logs?{urlencode({**keep, 'before': result.next_before})}" if result.next_before else None
    return p.render(
        "logs.html",
        page=result,
        query=query,
        tabs=("pull", "push", "errors"),
        statuses=("processed", "error", "pending", "skipped"),
        connections=[c.name for c in connections.cards(p.workspace)],
        more=more,
        filters=keep,
    )


@page
def log_entry(p: Page) -> Response:
    text = str(p.path["entry_id"])
    if not text.isdigit() or int(text) > 2**53:
        raise ApiError(404, "not_found", f"log entry {text} does not exist")
    return p.render("log_entry.html", entry=log_detail(p.workspace, int(text)))


@page
def locks(p: Page) -> Response:
    if p.request.method == "POST":
        keys = p.fields("key")
        if not keys:
            return p.back("/locks", error="Select the locks to archive first.")
        try:
            count = archive_locks(p.workspace, keys)
        except ConfigError as exc:
            return p.back("/locks", error=exc.message)
        plural = "s" if count != 1 else ""
        return p.back(
            "/locks", notice=f"Archived {count} lock{plural}; the records are queued to be pushed again"
        )
    return p.render("locks.html", locks=get_locks_for(p.workspace, None).locks)


@page
def archived(p: Page) -> Response:
    if p.request.method == "POST":
        name, key = p.field("connection"), p.field("key")
        platform_type, _, text = key.partition(":")
        if not text.isdigit() or int(text) > 2**53:
            return p.back("/archived", error=f"{key!r} is not an archived record")
        try:
            done = restore_for(p.workspace, name, platform_type, int(text))
        except ConfigError as exc:
            return p.back("/archived", error=exc.message)
        return p.back("/archived", notice=done.restored[0].message)
    return p.render("archived.html", records=archived_for(p.workspace, None).archived)


@page
def records_index(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    first = records_view.types_of(p.workspace, row)[0][0]
    return p.back(f"/integrations/{quote(row.name)}/records/{first}")


@page
def records(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    platform_type = p.path["type"]
    if p.request.method == "POST":
        ids = [int(i) for i in p.fields("id") if i.isdigit() and int(i) <= 2**53]
        here = f"/integrations/{quote(row.name)}/records/{quote(platform_type)}"
        if not ids:
            return p.back(here, error="Select the records to resync first.")
        report = resync(p.workspace, row.name, platform_type, ids)
        return p.back(here, notice=_report_text(report))
    raw = _query(p, ("state", "before"))
    try:
        query = s.RecordQuery.model_validate(raw)
    except ValidationError as exc:
        return p.render("error.html", status=422, message=validation_message(exc, "filter"))
    found = records_view.page(p.workspace, row, platform_type, state=query.state, before=query.before)
    more = None
    if len(found) == query.limit:
        more = "?" + urlencode({**({"state": query.state} if query.state else {}), "before": found[-1].id})
    return p.render(
        "records.html",
        name=row.name,
        platform_type=platform_type,
        types=records_view.types_of(p.workspace, row),
        records=found,
        state=query.state,
        states=records_view.STATES,
        more=more,
    )


def _report_text(report: PushReport) -> str:
    counts = [f"{report.count(status)} {status}" for status in ("pushed", "failed", "skipped")]
    return "Resync: " + ", ".join(counts)


@page
def record(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    text = str(p.path["record_id"])
    if not text.isdigit() or int(text) > 2**53:
        raise ApiError(404, "not_found", f"record {text} does not exist")
    record_id = int(text)
    here = f"/integrations/{quote(row.name)}/records/{quote(p.path['type'])}/{record_id}"
    if p.request.method == "POST":
        report = resync(p.workspace, row.name, p.path["type"], [record_id])
        outcome = next(iter(report.outcomes.values()), None)
        if outcome is not None and outcome.status == "failed":
            return p.back(here, error=f"Resync failed: {outcome.message}")
        return p.back(here, notice=_report_text(report))
    detail = record_detail(p.workspace, row.name, p.path["type"], record_id)
    return p.render("record.html", name=row.name, platform_type=p.path["type"], detail=detail)


@page
def why(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    types = records_view.types_of(p.workspace, row)
    platform_type = p.arg("type") or types[0][0]
    answer = None
    record_id, crm_id = p.arg("id"), p.arg("crm_id")
    if platform_type not in {t for t, _ in types}:
        raise ConfigError(f"profile {row.profile} has no platform type {platform_type!r}")
    if record_id:
        if not record_id.isdigit() or int(record_id) > 2**53:
            raise ConfigError("the record id must be a whole number")
        page_data = records_view.get(p.workspace, row, platform_type, int(record_id))
        if page_data is None:
            raise ApiError(404, "not_found", f"{platform_type} {record_id} does not exist")
        answer = explain.explain(p.workspace, row, page_data, platform_type)
    elif crm_id:
        answer = explain.explain_crm(p.workspace, row, platform_type, crm_id[:64])
    return p.render(
        "why.html",
        name=row.name,
        types=types,
        platform_type=platform_type,
        answer=answer,
        record_id=record_id,
        crm_id=crm_id,
    )


routes = [
    Route("/logs", logs),
    Route("/logs/{entry_id}", log_entry),
    Route("/locks", locks, methods=["GET", "POST"]),
    Route("/archived", archived, methods=["GET", "POST"]),
    Route("/integrations/{name}/records", records_index),
    Route("/integrations/{name}/records/{type}", records, methods=["GET", "POST"]),
    Route("/integrations/{name}/records/{type}/{record_id}", record, methods=["GET", "POST"]),
    Route("/integrations/{name}/why", why),
]
