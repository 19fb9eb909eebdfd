"""Deleting in the CRM the records the platform deleted: by their link, or by the platform id
when a create's answer was lost and no link was made."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.connectors.writes import WriteResult
from crmsync.engine.apply import Scope
from crmsync.engine.outbound import PLATFORM_ID_FIELD, platform_key
from crmsync.engine.push_plan import Key
from crmsync.engine.push_report import PushItem, PushReport, skip
from crmsync.model.profile import Condition
from crmsync.store import links
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry

NOTHING_TO_DELETE = (
    "nothing to delete in the CRM: no CRM record is linked to it or carries its platform id "
    "(never synced, or deleted already)"
)


def delete_in_crm(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    items: Sequence[PushItem],
    report: PushReport,
    entries: list[LogEntry],
) -> dict[Key, WriteResult]:
    """Delete the CRM records of ``items``; one result per record that had one."""
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
            skip(report, entries, item, NOTHING_TO_DELETE)
            continue
        keys[key] = item
        targets.append((key, scope.profile.mapping(item.platform_type).object, found[key]))
    results = connector.delete(targets) if targets else []
    return {keys[r.key].key: r for r in results}


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
