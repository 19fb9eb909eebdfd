"""Administrators and API tokens: argon2id passwords, random tokens stored as SHA-256 hashes.

What the ``crmsync admin`` and ``crmsync token`` commands and the web app's sign-in call.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from crmsync.errors import ConfigError
from crmsync.store import accounts
from crmsync.store.accounts import Admin, ApiToken, WebSession
from crmsync.store.db import reading
from crmsync.store.types import utcnow

TOKEN_PREFIX = "cst_"  # noqa: S105  (a marker that names the token kind, not a secret)
MIN_PASSWORD = 12
SESSION_LIFETIME = timedelta(hours=12)

_hasher = PasswordHasher()
# Verified when the email is unknown, so that a wrong email takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")


def digest(secret: str) -> str:
    """SHA-256 of a random token (tokens are long and random: no salt or slow hash needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normal_email(email: str) -> str:
    """Sign-in names compare case-folded and trimmed."""
    return email.strip().casefold()


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")


def create_admin(engine: Engine, organization_id: int, email: str, password: str) -> int:
    """A new administrator of the organization; returns its id."""
    address = normal_email(email)
    if "@" not in address or len(address) > 255:
        raise ConfigError(f"{email!r} is not an email address")
    check_password(password)
    with engine.begin() as conn:
        if accounts.admin_by_email(conn, address) is not None:
            raise ConfigError(f"an administrator {address} exists already")
        return accounts.add_admin(conn, organization_id, address, _hasher.hash(password))


def authenticate(engine: Engine, email: str, password: str) -> Admin | None:
    """The administrator if the password is right, else None (same work either way)."""
    with reading(engine) as conn:
        admin = accounts.admin_by_email(conn, normal_email(email))
    try:
        _hasher.verify(admin.password_hash if admin else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if admin is None:
        return None
    with engine.begin() as conn:
        if _hasher.check_needs_rehash(admin.password_hash):
            accounts.set_password(conn, admin.id, _hasher.hash(password))
        accounts.signed_in(conn, admin.id)
    return admin


@dataclass(frozen=True)
class NewSession:
    """A session just started: the cookie value (shown once) and its CSRF token."""

    token: str
    csrf_token: str
    expires_at: datetime


def start_session(engine: Engine, admin: Admin, lifetime: timedelta = SESSION_LIFETIME) -> NewSession:
    """A new random session for ``admin`` (a fresh token at every sign-in: no fixation)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = utcnow() + lifetime
    with engine.begin() as conn:
        accounts.start_session(conn, admin, digest(token), csrf, expires)
    return NewSession(token, csrf, expires)


def session(engine: Engine, token: str) -> WebSession | None:
    """The live session of a cookie value, or None."""
    with reading(engine) as conn:
        return accounts.session_by_hash(conn, digest(token))


def end_session(engine: Engine, token: str) -> None:
    """Sign out."""
    with engine.begin() as conn:
        accounts.end_session(conn, digest(token))


def create_token(engine: Engine, organization_id: int, name: str) -> tuple[ApiToken, str]:
    """A new API token: (its listing, the token itself, which is shown only this once)."""
    if not name.strip() or len(name) > 100:
        raise ConfigError("name the token (1 to 100 characters), e.g. after the system that uses it")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        token_id = accounts.add_token(conn, organization_id, name.strip(), digest(token), token[:10])
        listed = {t.id: t for t in accounts.list_tokens(conn, organization_id)}
    return listed[token_id], token


def token_caller(engine: Engine, token: str) -> ApiToken | None:
    """The live API token a bearer presents, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with reading(engine) as conn:
        found = accounts.token_by_hash(conn, digest(token))
    # A write per request would queue API reads behind sync writes on SQLite: once a minute.
    if found is not None and (
        found.last_used_at is None or utcnow() - found.last_used_at > timedelta(minutes=1)
    ):
        with engine.begin() as conn:
            accounts.token_used(conn, found.id)
    return found


def list_tokens(engine: Engine, organization_id: int) -> list[ApiToken]:
    """The organization's tokens (never their values)."""
    with reading(engine) as conn:
        return accounts.list_tokens(conn, organization_id)


def revoke_token(engine: Engine, organization_id: int, token_id: int) -> None:
    """Revoke a token of the organization."""
    with engine.begin() as conn:
        if not accounts.revoke_token(conn, organization_id, token_id):
            raise ConfigError(
                f"no live token {token_id} in this organization; `crmsync token list` shows them"
            )
