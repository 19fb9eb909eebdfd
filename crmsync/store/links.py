"""Links: (connection, platform type, platform id) <-> CRM id, with the last applied version."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from crmsync.jsontext import Encoded
from crmsync.store import bulk
from crmsync.store.tables import links
from crmsync.store.types import utcnow

# Bound parameter lists are chunked below SQLite's historic 999-variable limit.
CHUNK = 900


# (platform id, CRM modstamp, values hash): which version of a CRM record a link holds.
Version = tuple[int, str | None, str | None]


@dataclass(frozen=True)
class Link:
    """One stored link."""

    platform_type: str
    platform_id: int
    crm_id: str
    crm_modstamp: str | None
    values_hash: str | None
    synced_values: dict[str, Any] | None = None

    @property
    def version(self) -> Version:
        """What :func:`versions` says of this link."""
        return (self.platform_id, self.crm_modstamp, self.values_hash)


class NewLink(NamedTuple):
    """A link to write (insert or replace) after a record was applied (a tuple: a pull makes many)."""

    platform_type: str
    platform_id: int
    crm_object: str
    crm_id: str
    crm_modstamp: str | None
    values_hash: str | None
    # The mapped values both sides agree on after this sync (None: leave as stored).
    synced_values: dict[str, Any] | Encoded | None = None


# A new link's row gets its NewLink's fields, in their order.
_INSERTED = NewLink._fields


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def by_crm_ids(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> dict[str, Link]:
    """Links of ``platform_type`` for the given CRM ids, keyed by CRM id."""
    rows = bulk.select_in(
        conn,
        links,
        ("platform_id", "crm_id", "crm_modstamp", "values_hash", "synced_values"),
        where=_where(organization_id, connection_id, platform_type),
        key="crm_id",
        values=crm_ids,
    )
    return {
        crm_id: Link(platform_type, platform_id, crm_id, modstamp, values_hash, synced)
        for platform_id, crm_id, modstamp, values_hash, synced in rows
    }


def platform_ids(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> dict[str, int]:
    """Platform ids of ``platform_type`` for the given CRM ids (those linked), keyed by CRM id.

    The lean form of :func:`by_crm_ids` for resolving lookups, which need nothing else.
    """
    rows = bulk.select_in(
        conn,
        links,
        ("crm_id", "platform_id"),
        where=_where(organization_id, connection_id, platform_type),
        key="crm_id",
        values=crm_ids,
    )
    return dict(rows)


def _where(organization_id: int, connection_id: int, platform_type: str) -> dict[str, Any]:
    return {
        "organization_id": organization_id,
        "connection_id": connection_id,
        "platform_type": platform_type,
    }


def by_platform_ids(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    platform_ids: Sequence[int],
    *,
    base: bool = False,
) -> dict[int, Link]:
    """Links of ``platform_type`` for the given platform ids, keyed by platform id.

    ``base``: with their synced values (the base of a merge), which are otherwise left unread.
    """
    found: dict[int, Link] = {}
    columns = [links.c.platform_id, links.c.crm_id, links.c.crm_modstamp, links.c.values_hash]
    if base:
        columns.append(links.c.synced_values)
    for part in chunks(sorted(set(platform_ids))):
        rows = conn.execute(
            sa.select(*columns).where(
                links.c.organization_id == organization_id,
                links.c.connection_id == connection_id,
                links.c.platform_type == platform_type,
                links.c.platform_id.in_(part),
            )
        )
        for r in rows:
            synced = r.synced_values if base else None
            found[r.platform_id] = Link(
                platform_type, r.platform_id, r.crm_id, r.crm_modstamp, r.values_hash, synced
            )
    return found


def linked_platform_ids(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    platform_type: str,
    platform_ids: Sequence[int],
) -> set[int]:
    """Which of ``platform_ids`` already have a link on this connection."""
    return set(by_platform_ids(conn, organization_id, connection_id, platform_type, platform_ids))


def write(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    new: Sequence[NewLink],
    *,
    existing: AbstractSet[str] | None = None,
) -> None:
    """Insert new links and refresh the version of existing ones (same transaction as the data).

    ``existing``: the CRM ids among ``new`` that the caller knows are linked already (in this
    transaction), which saves looking them up; None to look them up.
    """
    if not new:
        return
    now = utcnow()
    by_type: dict[str, list[NewLink]] = {}
    for link in new:
        by_type.setdefault(link.platform_type, []).append(link)
    for platform_type, items in by_type.items():
        linked = (
            existing
            if existing is not None
            else by_crm_ids(conn, organization_id, connection_id, platform_type, [i.crm_id for i in items])
        )
        inserts = [i for i in items if i.crm_id not in linked]
        updates = [i for i in items if i.crm_id in linked]
        bulk.run(
            conn,
            insert_statements(bulk.Target.of(conn), organization_id, connection_id, inserts, synced_at=now),
        )
        for with_values in (True, False):
            group = [i for i in updates if (i.synced_values is not None) is with_values]
            if not group:
                continue
            extra: dict[str, Any] = {"synced_values": sa.bindparam("b_values")} if with_values else {}
            conn.execute(
                links.update()
                .where(
                    links.c.organization_id == organization_id,
                    links.c.connection_id == connection_id,
                    links.c.platform_type == sa.bindparam("b_type"),
                    links.c.crm_id == sa.bindparam("b_crm_id"),
                )
                .values(
                    # A platform row the application deleted is made again under a new id.
                    platform_id=sa.bindparam("b_platform_id"),
                    crm_modstamp=sa.bindparam("b_modstamp"),
                    values_hash=sa.bindparam("b_hash"),
                    synced_at=now,
                    **extra,
                ),
                [
                    {
                        "b_type": i.platform_type,
                        "b_crm_id": i.crm_id,
                        "b_platform_id": i.platform_id,
                        "b_modstamp": i.crm_modstamp,
                        "b_hash": i.values_hash,
                        **({"b_values": i.synced_values} if with_values else {}),
                    }
                    for i in group
                ],
            )


def insert_statements(
    target: bulk.Target,
    organization_id: int,
    connection_id: int,
    new: Sequence[NewLink],
    *,
    synced_at: datetime | None = None,
) -> list[bulk.Statement]:
    """The statements that insert links not stored yet (see :func:`write` for either kind);
    ``synced_at`` defaults to now."""
    return bulk.insert_statements(
        target, links, _INSERTED, new, shared=_stored_with(organization_id, connection_id, synced_at)
    )


@dataclass(frozen=True)
class CreatedLinks:
    """New links of one platform type and CRM object, column by column (a pull's page makes
    thousands, and a tuple each cost more than the columns)."""

    platform_type: str
    crm_object: str
    platform_ids: Sequence[int]
    crm_ids: Sequence[str]
    crm_modstamps: Sequence[str | None]
    values_hashes: Sequence[str | None]
    synced_values: Sequence[dict[str, Any] | Encoded | None]


def created_statements(
    target: bulk.Target,
    organization_id: int,
    connection_id: int,
    new: CreatedLinks,
    *,
    synced_at: datetime | None = None,
) -> list[bulk.Statement]:
    """The statements that insert ``new``, links not stored yet, as :func:`insert_statements` does."""
    return bulk.column_statements(
        target,
        links,
        {
            "platform_id": new.platform_ids,
            "crm_id": new.crm_ids,
            "crm_modstamp": new.crm_modstamps,
            "values_hash": new.values_hashes,
            "synced_values": new.synced_values,
        },
        shared={
            "platform_type": new.platform_type,
            "crm_object": new.crm_object,
            **_stored_with(organization_id, connection_id, synced_at),
        },
    )


def _stored_with(organization_id: int, connection_id: int, synced_at: datetime | None) -> dict[str, Any]:
    """What every link inserted at once holds: whose it is and when it was synced (default now)."""
    return {
        "organization_id": organization_id,
        "connection_id": connection_id,
        "synced_at": synced_at or utcnow(),
    }


def versions(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_ids: Sequence[str]
) -> dict[str, Version]:
    """(platform id, CRM modstamp, values hash) of the links of these CRM ids, keyed by CRM id.

    What a page's work was decided on: comparing it again later tells whether it still holds.
    """
    rows = bulk.select_in(
        conn,
        links,
        ("crm_id", "platform_id", "crm_modstamp", "values_hash"),
        where=_where(organization_id, connection_id, platform_type),
        key="crm_id",
        values=crm_ids,
    )
    return {
        crm_id: (platform_id, modstamp, values_hash) for crm_id, platform_id, modstamp, values_hash in rows
    }


def remove(
    conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str, crm_id: str
) -> None:
    """Forget the link of one CRM record."""
    conn.execute(
        links.delete().where(
            links.c.organization_id == organization_id,
            links.c.connection_id == connection_id,
            links.c.platform_type == platform_type,
            links.c.crm_id == crm_id,
        )
    )


def any_linked(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> bool:
    """Whether any record of ``platform_type`` is linked on this connection (one index probe)."""
    found = conn.execute(
        sa.select(sa.literal(1))
        .where(
            links.c.organization_id == organization_id,
            links.c.connection_id == connection_id,
            links.c.platform_type == platform_type,
        )
        .limit(1)
    ).first()
    return found is not None


def count(conn: sa.Connection, organization_id: int, connection_id: int, platform_type: str) -> int:
    """How many records of ``platform_type`` are linked on this connection."""
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                links.c.organization_id == organization_id,
                links.c.connection_id == connection_id,
                links.c.platform_type == platform_type,
            )
        ).scalar_one()
    )
