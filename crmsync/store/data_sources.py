"""Data sources (filtered views of an org sync's object) and their links to platform campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from crmsync.store.tables import data_source_links, data_sources
from crmsync.store.types import utcnow


@dataclass(frozen=True)
class SourceLink:
    """A data source attached to one platform campaign, with its field mapping."""

    id: int
    data_source_id: int
    campaign_id: int
    phone_fields: list[str]
    custom_fields: dict[str, str]


@dataclass(frozen=True)
class DataSource:
    """A data source with its links."""

    id: int
    connection_id: int
    org_sync_id: int
    name: str
    crm_object: str
    filters: list[dict[str, Any]]
    fields: list[str]
    needs_backfill: bool
    links: tuple[SourceLink, ...]

    def needed_fields(self) -> list[str]:
        """Every CRM field the source and its links read (its own, filters', mappings')."""
        names = [*self.fields, *(f["field"] for f in self.filters)]
        for link in self.links:
            names += link.phone_fields + list(link.custom_fields.values())
        return list(dict.fromkeys(names))


def all_of(conn: sa.Connection, organization_id: int, connection_id: int | None = None) -> list[DataSource]:
    """Data sources (with their links) of the organization or one connection, by name."""
    query = sa.select(data_sources).where(data_sources.c.organization_id == organization_id)
    if connection_id is not None:
        query = query.where(data_sources.c.connection_id == connection_id)
    rows = conn.execute(query.order_by(data_sources.c.name)).all()
    by_source: dict[int, list[SourceLink]] = {}
    if rows:
        for link in conn.execute(
            sa.select(data_source_links)
            .where(
                data_source_links.c.organization_id == organization_id,
                data_source_links.c.data_source_id.in_([r.id for r in rows]),
            )
            .order_by(data_source_links.c.id)
        ):
            by_source.setdefault(link.data_source_id, []).append(
                SourceLink(
                    link.id,
                    link.data_source_id,
                    int(link.campaign_id),
                    list(link.phone_fields),
                    dict(link.custom_fields),
                )
            )
    return [
        DataSource(
            r.id,
            r.connection_id,
            r.org_sync_id,
            r.name,
            r.crm_object,
            list(r.filters),
            list(r.fields),
            bool(r.needs_backfill),
            tuple(by_source.get(r.id, ())),
        )
        for r in rows
    ]


def add(
    conn: sa.Connection,
    organization_id: int,
    *,
    connection_id: int,
    org_sync_id: int,
    name: str,
    crm_object: str,
    filters: list[dict[str, Any]],
    fields: list[str],
) -> None:
    """Store a new data source; it is backfilled on the next poll."""
    now = utcnow()
    conn.execute(
        data_sources.insert().values(
            organization_id=organization_id,
            connection_id=connection_id,
            org_sync_id=org_sync_id,
            name=name,
            crm_object=crm_object,
            filters=filters,
            fields=fields,
            needs_backfill=True,
            created_at=now,
            updated_at=now,
        )
    )


def update(conn: sa.Connection, organization_id: int, source_id: int, **values: Any) -> None:
    """Change stored fields of one data source."""
    conn.execute(
        data_sources.update()
        .where(data_sources.c.organization_id == organization_id, data_sources.c.id == source_id)
        .values(**values, updated_at=utcnow())
    )


def remove(conn: sa.Connection, organization_id: int, source_id: int) -> None:
    """Delete a data source and its links."""
    conn.execute(
        data_sources.delete().where(
            data_sources.c.organization_id == organization_id, data_sources.c.id == source_id
        )
    )


def add_link(
    conn: sa.Connection,
    organization_id: int,
    source_id: int,
    *,
    campaign_id: int,
    phone_fields: list[str],
    custom_fields: dict[str, str],
) -> None:
    """Attach a data source to a campaign (or change the mapping of an existing attachment)."""
    where = (data_source_links.c.data_source_id == source_id) & (
        data_source_links.c.campaign_id == campaign_id
    )
    values = {"phone_fields": phone_fields, "custom_fields": custom_fields}
    if conn.execute(data_source_links.update().where(where).values(**values)).rowcount == 0:
        conn.execute(
            data_source_links.insert().values(
                organization_id=organization_id,
                data_source_id=source_id,
                campaign_id=campaign_id,
                created_at=utcnow(),
                **values,
            )
        )


def remove_link(conn: sa.Connection, organization_id: int, source_id: int, campaign_id: int) -> bool:
    """Detach a data source from a campaign; returns whether it was attached."""
    result = conn.execute(
        data_source_links.delete().where(
            data_source_links.c.organization_id == organization_id,
            data_source_links.c.data_source_id == source_id,
            data_source_links.c.campaign_id == campaign_id,
        )
    )
    return bool(result.rowcount)
