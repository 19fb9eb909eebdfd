"""Administrators, their web sessions and API tokens; secrets are stored only as hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crmsync.store.tables import admins, api_tokens, organizations, web_sessions
from crmsync.store.types import utcnow


@dataclass(frozen=True)
class Admin:
    """An administrator of one organization."""

    id: int
    organization_id: int
    email: str
    password_hash: str


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: whose, for which organization, and its CSRF token."""

    admin_id: int
    organization_id: int
    email: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """An API token as listed (never the token itself)."""

    id: int
    organization_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def add_admin(conn: sa.Connection, organization_id: int, email: str, password_hash: str) -> int:
    """Store a new administrator; returns its id."""
    result = conn.execute(
        admins.insert().values(
            organization_id=organization_id, email=email, password_hash=password_hash, created_at=utcnow()
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def admin_by_email(conn: sa.Connection, email: str) -> Admin | None:
    """The administrator signing in as ``email`` (already normalised), or None."""
    row = conn.execute(sa.select(admins).where(admins.c.email == email)).first()
    return _admin(row) if row is not None else None


def set_password(conn: sa.Connection, admin_id: int, password_hash: str) -> None:
    """Replace an administrator's password hash (also used to upgrade old parameters)."""
    conn.execute(admins.update().where(admins.c.id == admin_id).values(password_hash=password_hash))


def signed_in(conn: sa.Connection, admin_id: int) -> None:
    """Note a successful sign-in."""
    conn.execute(admins.update().where(admins.c.id == admin_id).values(last_sign_in_at=utcnow()))


def _admin(row: sa.Row[Any]) -> Admin:
    return Admin(row.id, row.organization_id, row.email, row.password_hash)


def start_session(
    conn: sa.Connection, admin: Admin, token_hash: str, csrf_token: str, expires_at: datetime
) -> None:
    """Store a new session (and forget this administrator's expired ones)."""
    now = utcnow()
    conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
    conn.execute(
        web_sessions.insert().values(
            token_hash=token_hash,
            organization_id=admin.organization_id,
            admin_id=admin.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def session_by_hash(conn: sa.Connection, token_hash: str) -> WebSession | None:
    """The live session with this token hash, or None (expired sessions do not count)."""
    row = conn.execute(
        sa.select(web_sessions, admins.c.email)
        .join(admins, admins.c.id == web_sessions.c.admin_id)
        .where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    return WebSession(row.admin_id, row.organization_id, row.email, row.csrf_token, row.expires_at)


def end_session(conn: sa.Connection, token_hash: str) -> None:
    """Sign out: the session row goes."""
    conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == token_hash))


def add_token(conn: sa.Connection, organization_id: int, name: str, token_hash: str, prefix: str) -> int:
    """Store a new API token's hash; returns its id."""
    result = conn.execute(
        api_tokens.insert().values(
            organization_id=organization_id,
            name=name,
            token_hash=token_hash,
            prefix=prefix,
            created_at=utcnow(),
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def token_by_hash(conn: sa.Connection, token_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash, or None."""
    row = conn.execute(
        sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
    ).first()
    return _token(row) if row is not None else None


def token_used(conn: sa.Connection, token_id: int) -> None:
    """Note when a token was last used."""
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=utcnow()))


def list_tokens(conn: sa.Connection, organization_id: int) -> list[ApiToken]:
    """The organization's tokens, newest first."""
    rows = conn.execute(
        sa.select(api_tokens)
        .where(api_tokens.c.organization_id == organization_id)
        .order_by(api_tokens.c.id.desc())
    )
    return [_token(r) for r in rows]


def revoke_token(conn: sa.Connection, organization_id: int, token_id: int) -> bool:
    """Revoke one of the organization's tokens; returns whether it was live."""
    result = conn.execute(
        api_tokens.update()
        .where(
            api_tokens.c.organization_id == organization_id,
            api_tokens.c.id == token_id,
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)


def organization_name(conn: sa.Connection, organization_id: int) -> str:
    """The organization's name."""
    return str(
        conn.execute(
            sa.select(organizations.c.name).where(organizations.c.id == organization_id)
        ).scalar_one()
    )


def _token(row: sa.Row[Any]) -> ApiToken:
    return ApiToken(
        row.id, row.organization_id, row.name, row.prefix, row.created_at, row.last_used_at, row.revoked_at
    )
