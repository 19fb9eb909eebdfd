"""Managing data sources and their campaign links; backfilling a new or changed source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.catalogs import load_catalog
from crmsync.connectors.base import Connector, ReadRequest
from crmsync.engine.apply import Scope
from crmsync.engine.routing import route
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError, ProfileError
from crmsync.model.load import catalog_field, check_condition
from crmsync.model.profile import Condition
from crmsync.store import capture, data_sources, logs, org_syncs
from crmsync.store.data_sources import DataSource
from crmsync.store.db import reading
from crmsync.store.platform import cc_campaigns
from crmsync.store.tenancy import ConnectionRow


def list_sources(workspace: Workspace, connection: str | None = None) -> list[DataSource]:
    """Data sources with their links."""
    connection_id = workspace.connection(connection).id if connection else None
    with reading(workspace.engine) as conn:
        return data_sources.all_of(conn, workspace.organization_id, connection_id)


def add_source(
    workspace: Workspace,
    connection: str | None,
    name: str,
    crm_object: str,
    *,
    filters: Sequence[Condition] = (),
    fields: Sequence[str] = (),
) -> DataSource:
    """A filtered view of an org sync's object, reading ``fields`` too."""
    row = workspace.connection(connection)
    with workspace.engine.begin() as conn:
        sync = org_syncs.get(conn, workspace.organization_id, row.id, crm_object)
        if sync is None:
            raise ConfigError(
                f"{crm_object} has no org sync on {row.name}; a data source is a view of an org sync's "
                f"object (add one with `crmsync orgsync add {crm_object}`)"
            )
        _check_fields(workspace, row, sync.crm_object, fields, filters)
        if any(s.name == name for s in data_sources.all_of(conn, workspace.organization_id, row.id)):
            raise ConfigError(f"a data source named {name!r} already exists on {row.name}")
        data_sources.add(
            conn,
            workspace.organization_id,
            connection_id=row.id,
            org_sync_id=sync.id,
            name=name,
            crm_object=sync.crm_object,
            filters=[c.model_dump(mode="json") for c in filters],
            fields=list(fields),
        )
    return _source(workspace, row, name)


def set_source(
    workspace: Workspace,
    connection: str | None,
    name: str,
    *,
    filters: Sequence[Condition] | None = None,
    fields: Sequence[str] | None = None,
) -> DataSource:
    """Change a data source's filter or fields; the next poll reads the new field list."""
    row = workspace.connection(connection)
    source = _source(workspace, row, name)
    _check_fields(workspace, row, source.crm_object, fields or (), filters or ())
    values: dict[str, Any] = {"needs_backfill": True}
    if filters is not None:
        values["filters"] = [c.model_dump(mode="json") for c in filters]
    if fields is not None:
        values["fields"] = list(fields)
    with workspace.engine.begin() as conn:
        data_sources.update(conn, workspace.organization_id, source.id, **values)
    return _source(workspace, row, name)


def remove_source(workspace: Workspace, connection: str | None, name: str) -> DataSource:
    """Remove a data source and its links; imported records stay in their campaigns."""
    row = workspace.connection(connection)
    source = _source(workspace, row, name)
    with workspace.engine.begin() as conn:
        data_sources.remove(conn, workspace.organization_id, source.id)
    return source


def link_source(
    workspace: Workspace,
    connection: str | None,
    name: str,
    campaign_id: int,
    *,
    phone_fields: Sequence[str],
    custom_fields: dict[str, str],
) -> DataSource:
    """Attach a data source to a platform campaign with a field mapping."""
    row = workspace.connection(connection)
    source = _source(workspace, row, name)
    if not phone_fields:
        raise ConfigError("map at least one phone field (e.g. --phone Phone): a campaign dials phone numbers")
    _check_fields(workspace, row, source.crm_object, [*phone_fields, *custom_fields.values()], ())
    with workspace.engine.begin() as conn:
        found = conn.execute(
            sa.select(cc_campaigns.c.id).where(
                cc_campaigns.c.organization_id == workspace.organization_id, cc_campaigns.c.id == campaign_id
            )
        ).first()
        if found is None:
            raise ConfigError(f"no platform campaign {campaign_id} in this organization")
        data_sources.add_link(
            conn,
            workspace.organization_id,
            source.id,
            campaign_id=campaign_id,
            phone_fields=list(phone_fields),
            custom_fields=dict(custom_fields),
        )
        data_sources.update(conn, workspace.organization_id, source.id, needs_backfill=True)
    return _source(workspace, row, name)


def unlink_source(workspace: Workspace, connection: str | None, name: str, campaign_id: int) -> None:
    """Detach a data source from a campaign; imported records stay."""
    row = workspace.connection(connection)
    source = _source(workspace, row, name)
    with workspace.engine.begin() as conn:
        if not data_sources.remove_link(conn, workspace.organization_id, source.id, campaign_id):
            raise ConfigError(f"data source {name} is not linked to campaign {campaign_id}")


def backfill(engine: Engine, scope: Scope, connector: Connector, *, run_id: int | None = None) -> int:
    """Import every matching record of each new or changed data source; returns records read."""
    with reading(engine) as conn:
        pending = [
            s
            for s in data_sources.all_of(conn, scope.organization_id, scope.connection_id)
            if s.needs_backfill
        ]
    total = 0
    for source in pending:
        info = connector.describe(source.crm_object)
        names = [n for n in ("FirstName", "LastName", "Name") if info.field(n) is not None]
        request = ReadRequest(
            object=source.crm_object,
            fields=tuple(dict.fromkeys([*names, *source.needed_fields()])),
            conditions=tuple(Condition.model_validate(c) for c in source.filters),
        )
        for page in connector.read(request):
            total += len(page.records)
            with engine.begin() as conn, capture.origin(conn, "sync"):
                entries = route(conn, scope, [source], page.records)
                logs.write(
                    conn, scope.organization_id, entries, connection_id=scope.connection_id, run_id=run_id
                )
        with engine.begin() as conn:
            data_sources.update(conn, scope.organization_id, source.id, needs_backfill=False)
    return total


def _source(workspace: Workspace, row: ConnectionRow, name: str) -> DataSource:
    with reading(workspace.engine) as conn:
        for source in data_sources.all_of(conn, workspace.organization_id, row.id):
            if source.name == name:
                return source
    raise ConfigError(f"no data source named {name!r} on {row.name}; `crmsync datasource list` shows them")


def _check_fields(
    workspace: Workspace,
    row: ConnectionRow,
    crm_object: str,
    fields: Sequence[str],
    filters: Sequence[Condition],
) -> None:
    catalog = load_catalog(workspace.profile(row).catalog)
    obj = catalog.object(crm_object)
    assert obj is not None
    for name in fields:
        if catalog_field(catalog, obj, name) is None:
            raise ConfigError(f"{crm_object} has no field {name!r}")
    for cond in filters:
        try:
            check_condition(catalog, obj, cond, f"data source on {crm_object}")
        except ProfileError as exc:
            raise ConfigError(str(exc)) from None
