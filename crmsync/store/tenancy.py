"""Organizations, connections, toggles and settings; every query scoped by organization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from crmsync.store.tables import connections, organizations, settings, toggles
from crmsync.store.types import utcnow


@dataclass(frozen=True)
class ConnectionRow:
    """A connection as stored (credentials stay encrypted here)."""

    id: int
    organization_id: int
    name: str
    crm: str
    profile: str
    settings: dict[str, Any]
    credentials: str | None
    token: str | None
    config_hash: str | None


@dataclass(frozen=True)
class Toggle:
    """Whether a platform type is pulled and pushed on a connection."""

    pull: bool
    push: bool


def ensure_organization(conn: sa.Connection, name: str) -> int:
    """The id of organization ``name``, created on first use."""
    found = conn.execute(sa.select(organizations.c.id).where(organizations.c.name == name)).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(organizations.insert().values(name=name, created_at=utcnow()))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def upsert_connection(
    conn: sa.Connection,
    organization_id: int,
    *,
    name: str,
    crm: str,
    profile: str,
    settings_: Mapping[str, Any],
    credentials: str | None,
    config_hash: str | None,
) -> tuple[int, bool]:
    """Create or update a connection; returns (id, whether its configuration changed)."""
    now = utcnow()
    row = conn.execute(
        sa.select(connections.c.id, connections.c.config_hash).where(
            connections.c.organization_id == organization_id, connections.c.name == name
        )
    ).first()
    values = {
        "crm": crm,
        "profile": profile,
        "settings": dict(settings_),
        "credentials": credentials,
        "config_hash": config_hash,
        "updated_at": now,
    }
    if row is None:
        result = conn.execute(
            connections.insert().values(organization_id=organization_id, name=name, created_at=now, **values)
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0]), True
    changed = row.config_hash != config_hash
    if changed:
        conn.execute(connections.update().where(connections.c.id == row.id).values(**values))
    return int(row.id), changed


def get_connection(conn: sa.Connection, organization_id: int, name: str) -> ConnectionRow | None:
    """The connection called ``name`` of the organization, or None."""
    row = conn.execute(
        sa.select(connections).where(
            connections.c.organization_id == organization_id, connections.c.name == name
        )
    ).first()
    return _connection(row) if row is not None else None


def list_connections(conn: sa.Connection, organization_id: int) -> list[ConnectionRow]:
    """Every connection of the organization, by name."""
    rows = conn.execute(
        sa.select(connections)
        .where(connections.c.organization_id == organization_id)
        .order_by(connections.c.name)
    )
    return [_connection(r) for r in rows]


def _connection(row: sa.Row[Any]) -> ConnectionRow:
    return ConnectionRow(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        crm=row.crm,
        profile=row.profile,
        settings=dict(row.settings or {}),
        credentials=row.credentials,
        token=row.token,
        config_hash=row.config_hash,
    )


def save_token(conn: sa.Connection, organization_id: int, connection_id: int, token: str | None) -> None:
    """Store the connection's encrypted access/refresh token."""
    conn.execute(
        connections.update()
        .where(connections.c.organization_id == organization_id, connections.c.id == connection_id)
        .values(token=token, updated_at=utcnow())
    )


def set_toggles(
    conn: sa.Connection, organization_id: int, connection_id: int, values: Mapping[str, Toggle]
) -> None:
    """Set the pull/push toggles of the given platform types."""
    for platform_type, toggle in values.items():
        where = (toggles.c.connection_id == connection_id) & (toggles.c.platform_type == platform_type)
        updated = conn.execute(
            toggles.update()
            .where(where, toggles.c.organization_id == organization_id)
            .values(pull=toggle.pull, push=toggle.push)
        )
        if updated.rowcount == 0:
            conn.execute(
                toggles.insert().values(
                    organization_id=organization_id,
                    connection_id=connection_id,
                    platform_type=platform_type,
                    pull=toggle.pull,
                    push=toggle.push,
                )
            )


def get_toggles(conn: sa.Connection, organization_id: int, connection_id: int) -> dict[str, Toggle]:
    """Toggles by platform type; a type without a row is off both ways (nothing moves unasked)."""
    rows = conn.execute(
        sa.select(toggles.c.platform_type, toggles.c.pull, toggles.c.push).where(
            toggles.c.organization_id == organization_id, toggles.c.connection_id == connection_id
        )
    )
    return {r.platform_type: Toggle(pull=bool(r.pull), push=bool(r.push)) for r in rows}


def get_setting(
    conn: sa.Connection, organization_id: int, key: str, *, connection_id: int | None = None
) -> Any:
    """A stored setting's value, or None."""
    return conn.execute(
        sa.select(settings.c.value).where(
            settings.c.organization_id == organization_id,
            settings.c.key == key,
            settings.c.connection_id.is_(None)
            if connection_id is None
            else settings.c.connection_id == connection_id,
        )
    ).scalar()


def put_setting(
    conn: sa.Connection, organization_id: int, key: str, value: Any, *, connection_id: int | None = None
) -> None:
    """Store a setting (JSON value)."""
    where = sa.and_(
        settings.c.organization_id == organization_id,
        settings.c.key == key,
        settings.c.connection_id.is_(None)
        if connection_id is None
        else settings.c.connection_id == connection_id,
    )
    if conn.execute(settings.update().where(where).values(value=value)).rowcount == 0:
        conn.execute(
            settings.insert().values(
                organization_id=organization_id, connection_id=connection_id, key=key, value=value
            )
        )


def update_settings(
    conn: sa.Connection, organization_id: int, connection_id: int, settings_: Mapping[str, Any]
) -> None:
    """Replace a connection's non-secret settings (an administrator changed them in the console).

    The configuration hash is kept: editing crmsync.toml later still wins, as it does for toggles.
    """
    conn.execute(
        connections.update()
        .where(connections.c.organization_id == organization_id, connections.c.id == connection_id)
        .values(settings=dict(settings_), updated_at=utcnow())
    )


def forget_credentials(conn: sa.Connection, organization_id: int, connection_id: int) -> None:
    """Disconnect: drop the encrypted credentials and token (and the hash, so that the
    configuration file, if it still has credentials, stores them again when next read)."""
    conn.execute(
        connections.update()
        .where(connections.c.organization_id == organization_id, connections.c.id == connection_id)
        .values(credentials=None, token=None, config_hash=None, updated_at=utcnow())
    )
