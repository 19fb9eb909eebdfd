"""API: records archived because their CRM record was deleted or merged away, and restoring them."""

from __future__ import annotations

from crmsync.engine.commands import list_archived, run_restore
from crmsync.engine.workspace import Workspace
from crmsync.web import schemas as s
from crmsync.web.api_activity import connection_names
from crmsync.web.api_connections import connection_row
from crmsync.web.api_kit import Api, Call

api = Api()


def archived_for(workspace: Workspace, name: str | None, platform_type: str | None = None) -> s.ArchivedList:
    """Archived records of the organization (or one of its connections), newest first."""
    if name:
        connection_row(workspace, name)
    names = connection_names(workspace)
    return s.ArchivedList(
        archived=[
            s.ArchivedOut(
                key=record.key,
                connection=names.get(record.connection_id, "?"),
                platform_type=record.platform_type,
                platform_id=record.platform_id,
                crm_object=record.crm_object,
                crm_id=record.crm_id,
                reason=record.reason,
                master_crm_id=record.master_crm_id,
                parent_type=record.parent_type,
                parent_id=record.parent_id,
                archived_at=record.archived_at,
            )
            for record in list_archived(workspace, name, platform_type)
        ]
    )


def restore_for(workspace: Workspace, name: str, platform_type: str, record_id: int) -> s.RestoreOut:
    """Restore one archived record of a connection (and those archived with it)."""
    row = connection_row(workspace, name)
    result = run_restore(workspace, row.name, platform_type, record_id)
    return s.RestoreOut(
        restored=[
            s.RestoredOut(key=done.record.key, linked_to=done.linked_to, message=done.message)
            for done in result.restored
        ],
        api_calls=result.api_calls,
    )


@api.route(
    "GET",
    "/archived",
    summary="Records kept when their CRM record was deleted or merged away",
    tag="archived",
    response=s.ArchivedList,
    query=s.ArchivedQuery,
)
def get_archived(call: Call) -> s.ArchivedList:
    query = call.q(s.ArchivedQuery)
    return archived_for(call.workspace, query.connection, query.type)


@api.route(
    "POST",
    "/connections/{name}/archived/{type}/{record_id}/restore",
    summary="Bring back an archived record (and those archived with it)",
    tag="archived",
    response=s.RestoreOut,
    ints=("record_id",),
)
def restore(call: Call) -> s.RestoreOut:
    return restore_for(call.workspace, call.path["name"], call.path["type"], call.path["record_id"])
