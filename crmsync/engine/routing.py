"""Routing pulled CRM records into platform campaigns through data sources and their links.

Runs in the transaction that applied the page: a record that matches a data source's
filter is imported (or refreshed) in every campaign the source is linked to, with the
link's phone numbers and custom fields. Records never leave a campaign here: what was
imported stays when the record stops matching or the link goes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from crmsync.connectors.base import CrmRecord
from crmsync.engine.apply import Scope
from crmsync.model.conditions import holds
from crmsync.store import data_sources
from crmsync.store.data_sources import DataSource
from crmsync.store.logs import LogEntry
from crmsync.store.platform import cc_campaign_contacts
from crmsync.store.types import utcnow


def sources_for(conn: sa.Connection, scope: Scope, crm_object: str) -> list[DataSource]:
    """The connection's data sources over ``crm_object``."""
    wanted = crm_object.casefold()
    return [
        s
        for s in data_sources.all_of(conn, scope.organization_id, scope.connection_id)
        if s.crm_object.casefold() == wanted
    ]


def extra_fields(conn: sa.Connection, scope: Scope, crm_object: str) -> list[str]:
    """The union of the fields the object's data sources need (an org sync reads them too)."""
    names: list[str] = []
    for source in sources_for(conn, scope, crm_object):
        names += source.needed_fields()
    return list(dict.fromkeys(names))


def matches(filters: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> bool:
    """Whether a record's values meet every condition (SOQL semantics: text ignores case)."""
    return all(holds(str(c["field"]), str(c.get("op", "=")), c.get("value"), values) for c in filters)


def route(
    conn: sa.Connection, scope: Scope, sources: Sequence[DataSource], records: Sequence[CrmRecord]
) -> list[LogEntry]:
    """Import the matching records into the linked campaigns; returns the log entries."""
    entries: list[LogEntry] = []
    org = scope.organization_id
    now = utcnow()
    for source in sources:
        chosen = [r for r in records if not r.deleted and matches(source.filters, r.values)]
        for link in source.links:
            existing = _imported(conn, org, link.campaign_id, source.crm_object, [r.id for r in chosen])
            for record in chosen:
                phones = [str(p) for f in link.phone_fields if (p := record.values.get(f))]
                values = {
                    "name": _name(record.values),
                    "phone_numbers": phones,
                    "custom_fields": {key: record.values.get(f) for key, f in link.custom_fields.items()},
                    "data_source": source.name,
                    "updated_at": now,
                }
                row_id = existing.get(record.id)
                if row_id is None:
                    conn.execute(
                        cc_campaign_contacts.insert().values(
                            organization_id=org,
                            campaign_id=link.campaign_id,
                            crm_object=source.crm_object,
                            crm_id=record.id,
                            created_at=now,
                            **values,
                        )
                    )
                    entries.append(
                        LogEntry(
                            data_type="cc_campaign_contacts",
                            action="create",
                            direction="pull",
                            status="processed",
                            message=(
                                f"imported {source.crm_object} {record.id} into campaign {link.campaign_id} "
                                f"through data source {source.name} ({len(phones)} phone numbers)"
                            ),
                            crm_id=record.id,
                        )
                    )
                else:
                    conn.execute(
                        cc_campaign_contacts.update()
                        .where(cc_campaign_contacts.c.id == row_id)
                        .values(**values)
                    )
    return entries


def _imported(
    conn: sa.Connection, organization_id: int, campaign_id: int, crm_object: str, crm_ids: list[str]
) -> dict[str, int]:
    if not crm_ids:
        return {}
    rows = conn.execute(
        sa.select(cc_campaign_contacts.c.crm_id, cc_campaign_contacts.c.id).where(
            cc_campaign_contacts.c.organization_id == organization_id,
            cc_campaign_contacts.c.campaign_id == campaign_id,
            cc_campaign_contacts.c.crm_object == crm_object,
            cc_campaign_contacts.c.crm_id.in_(crm_ids),
        )
    )
    return {r.crm_id: int(r.id) for r in rows}


def _name(values: Mapping[str, Any]) -> str | None:
    parts = [values.get("FirstName"), values.get("LastName")]
    joined = " ".join(str(p) for p in parts if p)
    return joined or (str(values["Name"]) if values.get("Name") else None)
