"""API: org syncs (add, change, Test, remove), data sources and their links to campaigns."""

from __future__ import annotations

import sqlalchemy as sa

from crmsync.engine import datasources, orgsync
from crmsync.engine.commands import opened
from crmsync.engine.workspace import Workspace
from crmsync.errors import CrmsyncError
from crmsync.store.data_sources import DataSource
from crmsync.store.db import reading
from crmsync.store.org_syncs import OrgSync
from crmsync.store.platform import cc_campaigns
from crmsync.web import schemas as s
from crmsync.web.api_connections import connection_row, org_sync_out
from crmsync.web.api_kit import Api, Call
from crmsync.web.errors import not_found

api = Api()
TAG = "org syncs"


def _sync(workspace: Workspace, name: str, crm_object: str) -> OrgSync:
    row = connection_row(workspace, name)
    for sync in orgsync.list_syncs(workspace, row.name):
        if sync.crm_object.casefold() == crm_object.casefold():
            return sync
    raise not_found(f"the {crm_object} org sync of {name}")


@api.route("GET", "/connections/{name}/org-syncs", summary="Org syncs", tag=TAG, response=s.OrgSyncList)
def list_org_syncs(call: Call) -> s.OrgSyncList:
    row = connection_row(call.workspace, call.path["name"])
    return s.OrgSyncList(org_syncs=[org_sync_out(x) for x in orgsync.list_syncs(call.workspace, row.name)])


@api.route(
    "POST",
    "/connections/{name}/org-syncs",
    summary="Add an org sync (disabled, cdc, 15 min)",
    tag=TAG,
    response=s.OrgSyncOut,
    body=s.OrgSyncAdd,
    status=201,
)
def add_org_sync(call: Call) -> s.OrgSyncOut:
    row = connection_row(call.workspace, call.path["name"])
    return org_sync_out(orgsync.add_sync(call.workspace, row.name, call.b(s.OrgSyncAdd).object))


@api.route(
    "PATCH",
    "/connections/{name}/org-syncs/{object}",
    summary="Change method, interval, enabled",
    tag=TAG,
    response=s.OrgSyncOut,
    body=s.OrgSyncChange,
)
def change_org_sync(call: Call) -> s.OrgSyncOut:
    sync = _sync(call.workspace, call.path["name"], call.path["object"])
    body = call.b(s.OrgSyncChange)
    change = orgsync.Change(body.method, body.interval_minutes, body.enabled)
    return org_sync_out(orgsync.set_sync(call.workspace, call.path["name"], sync.crm_object, change))


@api.route(
    "DELETE",
    "/connections/{name}/org-syncs/{object}",
    summary="Remove an org sync and the data sources linked to its object",
    tag=TAG,
    response=s.Message,
)
def remove_org_sync(call: Call) -> s.Message:
    sync = _sync(call.workspace, call.path["name"], call.path["object"])
    orgsync.remove_sync(call.workspace, call.path["name"], sync.crm_object)
    return s.Message(message=f"removed the {sync.crm_object} sync and its data sources")


@api.route(
    "POST",
    "/connections/{name}/org-syncs/{object}/test",
    summary="Read one record of the object",
    tag=TAG,
    response=s.TestOut,
)
def test_org_sync(call: Call) -> s.TestOut:
    return test_object(call.workspace, call.path["name"], call.path["object"])


def test_object(workspace: Workspace, name: str, crm_object: str) -> s.TestOut:
    """An org sync's Test: "Connection successful ..." or the CRM's error; changes nothing."""
    sync = _sync(workspace, name, crm_object)
    try:
        with opened(workspace, name) as session:
            return s.TestOut(ok=True, message=session.connector.probe(sync.crm_object))
    except CrmsyncError as exc:
        return s.TestOut(ok=False, message=exc.message)


def campaign_names(workspace: Workspace) -> dict[int, str]:
    """The organization's platform campaigns (contact centre), by id."""
    with reading(workspace.engine) as conn:
        rows = conn.execute(
            sa.select(cc_campaigns.c.id, cc_campaigns.c.name)
            .where(cc_campaigns.c.organization_id == workspace.organization_id)
            .order_by(cc_campaigns.c.name)
        )
        return {int(r.id): str(r.name) for r in rows}


def source_out(source: DataSource, campaigns: dict[int, str]) -> s.DataSourceOut:
    """A data source as the API shows it."""
    return s.DataSourceOut(
        name=source.name,
        object=source.crm_object,
        filters=source.filters,
        fields=source.fields,
        needs_backfill=source.needs_backfill,
        links=[
            s.SourceLinkOut(
                campaign_id=link.campaign_id,
                campaign_name=campaigns.get(link.campaign_id),
                phone_fields=link.phone_fields,
                custom_fields=link.custom_fields,
            )
            for link in source.links
        ],
    )


def _source(workspace: Workspace, name: str, source_name: str) -> DataSource:
    row = connection_row(workspace, name)
    for source in datasources.list_sources(workspace, row.name):
        if source.name == source_name:
            return source
    raise not_found(f"data source {source_name!r}")


@api.route(
    "GET", "/campaigns", summary="Platform campaigns a data source can feed", tag=TAG, response=s.CampaignList
)
def list_campaigns(call: Call) -> s.CampaignList:
    return s.CampaignList(
        campaigns=[s.CampaignOut(id=i, name=n) for i, n in campaign_names(call.workspace).items()]
    )


@api.route(
    "GET",
    "/connections/{name}/data-sources",
    summary="Data sources with their links",
    tag=TAG,
    response=s.DataSourceList,
)
def list_data_sources(call: Call) -> s.DataSourceList:
    row = connection_row(call.workspace, call.path["name"])
    campaigns = campaign_names(call.workspace)
    return s.DataSourceList(
        data_sources=[source_out(x, campaigns) for x in datasources.list_sources(call.workspace, row.name)]
    )


@api.route(
    "POST",
    "/connections/{name}/data-sources",
    summary="Add a data source over an org sync's object",
    tag=TAG,
    response=s.DataSourceOut,
    body=s.DataSourceIn,
    status=201,
)
def add_data_source(call: Call) -> s.DataSourceOut:
    row = connection_row(call.workspace, call.path["name"])
    body = call.b(s.DataSourceIn)
    source = datasources.add_source(
        call.workspace, row.name, body.name, body.object, filters=body.filters, fields=body.fields
    )
    return source_out(source, campaign_names(call.workspace))


@api.route(
    "PATCH",
    "/connections/{name}/data-sources/{source}",
    summary="Replace filters or fields",
    tag=TAG,
    response=s.DataSourceOut,
    body=s.DataSourceChange,
)
def change_data_source(call: Call) -> s.DataSourceOut:
    source = _source(call.workspace, call.path["name"], call.path["source"])
    body = call.b(s.DataSourceChange)
    changed = datasources.set_source(
        call.workspace, call.path["name"], source.name, filters=body.filters, fields=body.fields
    )
    return source_out(changed, campaign_names(call.workspace))


@api.route(
    "DELETE",
    "/connections/{name}/data-sources/{source}",
    summary="Remove a data source",
    tag=TAG,
    response=s.Message,
)
def remove_data_source(call: Call) -> s.Message:
    source = _source(call.workspace, call.path["name"], call.path["source"])
    datasources.remove_source(call.workspace, call.path["name"], source.name)
    return s.Message(message=f"removed data source {source.name}; imported records stay in their campaigns")


@api.route(
    "POST",
    "/connections/{name}/data-sources/{source}/links",
    summary="Link a data source to a campaign with a field mapping",
    tag=TAG,
    response=s.DataSourceOut,
    body=s.LinkIn,
    status=201,
)
def link_data_source(call: Call) -> s.DataSourceOut:
    source = _source(call.workspace, call.path["name"], call.path["source"])
    body = call.b(s.LinkIn)
    if body.campaign_id not in campaign_names(call.workspace):
        raise not_found(f"campaign {body.campaign_id}")
    changed = datasources.link_source(
        call.workspace,
        call.path["name"],
        source.name,
        body.campaign_id,
        phone_fields=body.phone_fields,
        custom_fields=body.custom_fields,
    )
    return source_out(changed, campaign_names(call.workspace))


@api.route(
    "DELETE",
    "/connections/{name}/data-sources/{source}/links/{campaign_id}",
    summary="Unlink a data source from a campaign",
    tag=TAG,
    response=s.Message,
    ints=("campaign_id",),
)
def unlink_data_source(call: Call) -> s.Message:
    source = _source(call.workspace, call.path["name"], call.path["source"])
    if not any(link.campaign_id == call.path["campaign_id"] for link in source.links):
        raise not_found(f"the link of {source.name} to campaign {call.path['campaign_id']}")
    datasources.unlink_source(call.workspace, call.path["name"], source.name, call.path["campaign_id"])
    return s.Message(message=f"{source.name} no longer feeds campaign {call.path['campaign_id']}")
