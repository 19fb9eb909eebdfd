"""A token store in the platform database: encrypted, shared by processes, one refresh at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.salesforce.auth import Token
from crmsync.secrets import Vault
from crmsync.store import tenancy
from crmsync.store.db import reading
from crmsync.store.tables import connections


class DatabaseTokenStore:
    """Keeps a connection's token encrypted in crmsync_connections.

    A refresh runs inside a transaction that holds the connection row (FOR UPDATE on
    PostgreSQL, the write lock on SQLite), so concurrent processes that all saw the token
    expire wait, then reuse the one fresh token instead of each logging in.
    """

    def __init__(self, engine: Engine, vault: Vault, organization_id: int, connection_id: int) -> None:
        self._engine = engine
        self._vault = vault
        self._org = organization_id
        self._cid = connection_id
        self._lock = threading.Lock()
        self._cached: Token | None = None

    def load(self) -> Token | None:
        """The stored token (cached after the first read)."""
        if self._cached is None:
            with reading(self._engine) as conn:
                self._cached = self._read(conn, lock=False)
        return self._cached

    def replace(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """A token newer than ``stale``: one another process stored meanwhile, or a fresh one."""
        with self._lock, self._engine.begin() as conn:
            current = self._read(conn, lock=True)
            if current is not None and current != stale:
                self._cached = current
                return current
            fresh = fetch()
            tenancy.save_token(conn, self._org, self._cid, self._vault.encrypt(fresh.to_json()))
            self._cached = fresh
            return fresh

    def _read(self, conn: sa.Connection, *, lock: bool) -> Token | None:
        query = sa.select(connections.c.token).where(
            connections.c.organization_id == self._org, connections.c.id == self._cid
        )
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        stored = conn.execute(query).scalar()
        if not stored:
            return None
        return Token.from_json(self._vault.decrypt(stored))
