"""API: connections (cards, Test, Sync All, Reset token, Disconnect, Set up) and sync settings."""

from __future__ import annotations

from dataclasses import asdict

from crmsync.engine import connections, orgsync
from crmsync.engine import settings as sync_settings
from crmsync.engine.workspace import Workspace
from crmsync.model.profile import Condition
from crmsync.store import runs
from crmsync.store.db import reading
from crmsync.store.org_syncs import OrgSync
from crmsync.store.tenancy import ConnectionRow, Toggle
from crmsync.web import schemas as s
from crmsync.web.api_kit import Api, Call
from crmsync.web.errors import ApiError, not_found

api = Api()
TAG = "connections"


def connection_row(workspace: Workspace, name: str) -> ConnectionRow:
    """The caller's connection ``name``; 404 for any other (another organization's included)."""
    row = connections.find(workspace, name)
    if row is None:
        raise not_found(f"connection {name!r}")
    return row


def _card(card: connections.Card) -> s.ConnectionCard:
    data = asdict(card)
    return s.ConnectionCard.model_validate(data)


@api.route("GET", "/connections", summary="Every connection, as cards", tag=TAG, response=s.ConnectionList)
def list_connections(call: Call) -> s.ConnectionList:
    return s.ConnectionList(connections=[_card(c) for c in connections.cards(call.workspace)])


@api.route("GET", "/connections/{name}", summary="One connection", tag=TAG, response=s.ConnectionCard)
def get_connection(call: Call) -> s.ConnectionCard:
    name = call.path["name"]
    connection_row(call.workspace, name)
    card = connections.card(call.workspace, name)
    assert card is not None
    return _card(card)


@api.route(
    "PUT",
    "/connections/{name}/credentials",
    summary="Set up (or replace) credentials; creates the connection if needed",
    tag=TAG,
    response=s.ConnectionCard,
    body=s.CredentialsIn,
)
def put_credentials(call: Call) -> s.ConnectionCard:
    name = call.path["name"]
    data = call.b(s.CredentialsIn).model_dump(exclude_none=True)
    connections.set_up(call.workspace, name, data)
    card = connections.card(call.workspace, name)
    assert card is not None
    return _card(card)


@api.route(
    "DELETE",
    "/connections/{name}/credentials",
    summary="Disconnect: drop the credentials and token",
    tag=TAG,
    response=s.Message,
)
def disconnect(call: Call) -> s.Message:
    row = connection_row(call.workspace, call.path["name"])
    connections.disconnect(call.workspace, row)
    return s.Message(message=f"{row.name} is disconnected; its data, links and logs stay")


@api.route(
    "POST", "/connections/{name}/test", summary="Log in and read one record", tag=TAG, response=s.TestOut
)
def test_connection(call: Call) -> s.TestOut:
    row = connection_row(call.workspace, call.path["name"])
    result = connections.test(call.workspace, row)
    return s.TestOut(ok=result.ok, message=result.message)


@api.route(
    "POST",
    "/connections/{name}/reset-token",
    summary="Forget the access token; the next call logs in again",
    tag=TAG,
    response=s.Message,
)
def reset_token(call: Call) -> s.Message:
    row = connection_row(call.workspace, call.path["name"])
    connections.reset_token(call.workspace, row)
    return s.Message(message=f"the token of {row.name} was reset; the next call logs in again")


@api.route(
    "POST",
    "/connections/{name}/sync-all",
    summary="Start Sync All in the background; poll the job for progress",
    tag=TAG,
    response=s.JobOut,
    status=202,
)
def start_sync_all(call: Call) -> s.JobOut:
    row = connection_row(call.workspace, call.path["name"])
    if not row.credentials:
        raise ApiError(422, "invalid", f"{row.name} is not connected: set up its credentials first")
    jobs = call.jobs
    job = jobs.start_sync_all(call.workspace, row.name)
    found = jobs.get(call.workspace.organization_id, job.id)
    assert found is not None
    return s.JobOut.model_validate(found)


@api.route("GET", "/jobs/{job_id}", summary="Progress of a Sync All", tag=TAG, response=s.JobOut)
def get_job(call: Call) -> s.JobOut:
    found = call.jobs.get(call.workspace.organization_id, call.path["job_id"])
    if found is None:
        raise not_found(f"job {call.path['job_id']!r}")
    return s.JobOut.model_validate(found)


@api.route(
    "GET", "/connections/{name}/runs", summary="Recent runs, newest first", tag=TAG, response=s.RunList
)
def list_runs(call: Call) -> s.RunList:
    row = connection_row(call.workspace, call.path["name"])
    with reading(call.workspace.engine) as conn:
        found = runs.recent(conn, call.workspace.organization_id, row.id, limit=20)
    return s.RunList(runs=[s.RunOut.model_validate(asdict(r)) for r in found])


def settings_out(workspace: Workspace, row: ConnectionRow) -> s.SettingsOut:
    """The Sync settings screen's data."""
    current = sync_settings.read(workspace, row)
    return s.SettingsOut(
        crm=row.crm,
        objects=[s.ObjectSettingOut.model_validate(asdict(o)) for o in current.objects],
        incremental_field=current.incremental_field,
        conflict_policy=current.conflict_policy,
        filters={t: [Condition.model_validate(c) for c in conds] for t, conds in current.filters.items()},
        org_syncs=[org_sync_out(x) for x in orgsync.list_syncs(workspace, row.name)],
    )


def org_sync_out(sync: OrgSync) -> s.OrgSyncOut:
    """An org sync as the API shows it."""
    return s.OrgSyncOut(
        object=sync.crm_object,
        method=sync.method,
        interval_minutes=sync.interval_minutes,
        enabled=sync.enabled,
        status=sync.status,
        last_sync=sync.last_sync_at,
        error_total=sync.error_total,
        last_error=sync.last_error,
        next_poll=sync.next_poll_at,
    )


@api.route("GET", "/connections/{name}/settings", summary="Sync settings", tag=TAG, response=s.SettingsOut)
def get_settings(call: Call) -> s.SettingsOut:
    return settings_out(call.workspace, connection_row(call.workspace, call.path["name"]))


@api.route(
    "PATCH",
    "/connections/{name}/settings",
    summary="Change toggles, incremental field, conflict policy or filters",
    tag=TAG,
    response=s.SettingsOut,
    body=s.SettingsIn,
)
def patch_settings(call: Call) -> s.SettingsOut:
    row = connection_row(call.workspace, call.path["name"])
    body = call.b(s.SettingsIn)
    change = sync_settings.SettingsChange(
        toggles={t: Toggle(v.pull, v.push) for t, v in body.toggles.items()}
        if body.toggles is not None
        else None,
        incremental_field=body.incremental_field,
        conflict_policy=body.conflict_policy,
        filters=body.filters,
    )
    sync_settings.save(call.workspace, row, change)
    fresh = connection_row(call.workspace, row.name)
    return settings_out(call.workspace, fresh)
