"""Leases: at most one process works on a connection at a time, across machines.

A lease row names its owner (host, pid, nonce) and expires unless renewed; a process that
died leaves a lease that expires, or that its own host can prove dead at once. Each kind of
work has its own lease: pulls (a run at a time) and pushes (one pusher at a time, so two
never write the same records twice).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from crmsync.errors import RunBusyError
from crmsync.store.tables import leases
from crmsync.store.types import utcnow

TTL = timedelta(minutes=5)
PULL = "pull"
PUSH = "push"
# What the holder of each kind of lease is doing, and what that means for whoever asks.
_DOING = {
    PULL: "is working on this connection; wait for it to finish",
    PUSH: "is pushing this connection's changes; it pushes these too, as they come",
}


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, until when."""

    owner: str
    expires_at: datetime


def owner_name() -> str:
    """A name unique to this process: host:pid:nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def process_of(owner: str) -> str:
    """``host:pid`` of an owner name, as a person looks for the process."""
    return owner.rpartition(":")[0] or owner


def owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` (host:pid:nonce) is a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def holder(conn: sa.Connection, connection_id: int, kind: str = PULL) -> Holder | None:
    """Who holds the lease now (None when nobody does: none, expired, or its process is gone)."""
    row = conn.execute(
        sa.select(leases.c.owner, leases.c.expires_at).where(
            leases.c.connection_id == connection_id, leases.c.kind == kind
        )
    ).first()
    if row is None or row.expires_at <= utcnow() or owner_is_dead(row.owner):
        return None
    return Holder(row.owner, row.expires_at)


def acquire(
    conn: sa.Connection, connection_id: int, owner: str, *, ttl: timedelta = TTL, kind: str = PULL
) -> None:
    """Take the lease of a connection or raise RunBusyError naming who holds it.

    Two processes may try at once: the row is inserted only if absent, and taken over only
    from the holder that was read, so exactly one of them gets it.
    """
    now = utcnow()
    where = (leases.c.connection_id == connection_id) & (leases.c.kind == kind)
    row = conn.execute(sa.select(leases.c.owner, leases.c.expires_at).where(where)).first()
    if row is None:
        values = {"connection_id": connection_id, "kind": kind, "owner": owner, "expires_at": now + ttl}
        if conn.execute(_insert_if_absent(conn, values)).rowcount == 1:
            return
        row = conn.execute(sa.select(leases.c.owner, leases.c.expires_at).where(where)).first()
        if row is None:
            raise RunBusyError(_busy_message(kind, "another crmsync process", None))
    if row.owner != owner and row.expires_at > now and not owner_is_dead(row.owner):
        raise RunBusyError(_busy_message(kind, f"another crmsync process ({row.owner})", row.expires_at))
    taken = conn.execute(
        leases.update()
        .where(where, leases.c.owner == row.owner, leases.c.expires_at == row.expires_at)
        .values(owner=owner, expires_at=now + ttl)
    )
    if taken.rowcount == 0:
        raise RunBusyError(_busy_message(kind, "another crmsync process, just now,", None))


def _busy_message(kind: str, who: str, until: datetime | None) -> str:
    expiry = f" (its lease expires at {until:%H:%M:%S} UTC)" if until else ""
    return f"{who} {_DOING.get(kind, _DOING[PULL])}{expiry}"


def _insert_if_absent(conn: sa.Connection, values: dict[str, object]) -> sa.Executable:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(leases).values(**values).on_conflict_do_nothing()
    return sqlite.insert(leases).values(**values).on_conflict_do_nothing()


def renew(
    conn: sa.Connection, connection_id: int, owner: str, *, ttl: timedelta = TTL, kind: str = PULL
) -> None:
    """Extend a held lease; raise RunBusyError if another process took it over."""
    result = conn.execute(
        leases.update()
        .where(leases.c.connection_id == connection_id, leases.c.kind == kind, leases.c.owner == owner)
        .values(expires_at=utcnow() + ttl)
    )
    if result.rowcount == 0:
        raise RunBusyError("this process lost its lease on the connection to another process; stopping")


def release(conn: sa.Connection, connection_id: int, owner: str, *, kind: str = PULL) -> None:
    """Give the lease back."""
    conn.execute(
        leases.delete().where(
            leases.c.connection_id == connection_id, leases.c.kind == kind, leases.c.owner == owner
        )
    )


@contextmanager
def kept(
    engine: Engine,
    connection_id: int,
    owner: str,
    *,
    every: float = TTL.total_seconds() / 5,
    ttl: timedelta = TTL,
    kind: str = PULL,
    lost: threading.Event | None = None,
) -> Iterator[None]:
    """Renew a held lease every ``every`` seconds for as long as the block runs.

    A run renews its lease with each page it writes; waiting out a failing CRM for minutes
    writes none, and another process must not take the connection over meanwhile. ``lost``
    is set if another process took the lease over (the database was away for longer than
    the lease lasts).
    """
    stop = threading.Event()

    def renew_until_stopped() -> None:
        while not stop.wait(every):
            try:
                with engine.begin() as conn:
                    renew(conn, connection_id, owner, ttl=ttl, kind=kind)
            except RunBusyError:
                # Taken over: the run's next page says so when it renews.
                if lost is not None:
                    lost.set()
                return
            except sa.exc.DBAPIError:
                # The database is busy or away for a moment: the next turn tries again.
                continue

    keeper = threading.Thread(target=renew_until_stopped, name="crmsync-lease", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()
