"""Leases: at most one process works on a connection at a time, across machines.

A lease row names its owner (host, pid, nonce) and expires unless renewed; a process that
died leaves a lease that expires, or that its own host can prove dead at once.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.errors import RunBusyError
from crmsync.store.tables import leases
from crmsync.store.types import utcnow

TTL = timedelta(minutes=5)


def owner_name() -> str:
    """A name unique to this process: host:pid:nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str) -> bool:
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


def acquire(conn: sa.Connection, connection_id: int, owner: str, *, ttl: timedelta = TTL) -> None:
    """Take the lease of a connection or raise RunBusyError naming who holds it."""
    now = utcnow()
    row = conn.execute(
        sa.select(leases.c.owner, leases.c.expires_at).where(leases.c.connection_id == connection_id)
    ).first()
    if row is None:
        conn.execute(leases.insert().values(connection_id=connection_id, owner=owner, expires_at=now + ttl))
        return
    if row.owner != owner and row.expires_at > now and not _owner_is_dead(row.owner):
        raise RunBusyError(
            f"another crmsync process ({row.owner}) is working on this connection; "
            f"wait for it to finish (its lease expires at {row.expires_at:%H:%M:%S} UTC)"
        )
    conn.execute(
        leases.update()
        .where(leases.c.connection_id == connection_id)
        .values(owner=owner, expires_at=now + ttl)
    )


def renew(conn: sa.Connection, connection_id: int, owner: str, *, ttl: timedelta = TTL) -> None:
    """Extend a held lease; raise RunBusyError if another process took it over."""
    result = conn.execute(
        leases.update()
        .where(leases.c.connection_id == connection_id, leases.c.owner == owner)
        .values(expires_at=utcnow() + ttl)
    )
    if result.rowcount == 0:
        raise RunBusyError("this process lost its lease on the connection to another process; stopping")


def release(conn: sa.Connection, connection_id: int, owner: str) -> None:
    """Give the lease back."""
    conn.execute(leases.delete().where(leases.c.connection_id == connection_id, leases.c.owner == owner))


@contextmanager
def kept(
    engine: Engine, connection_id: int, owner: str, *, every: float = TTL.total_seconds() / 5
) -> Iterator[None]:
    """Renew a held lease every ``every`` seconds for as long as the block runs.

    A run renews its lease with each page it writes; waiting out a failing CRM for minutes
    writes none, and another process must not take the connection over meanwhile.
    """
    stop = threading.Event()

    def renew_until_stopped() -> None:
        while not stop.wait(every):
            try:
                with engine.begin() as conn:
                    renew(conn, connection_id, owner)
            except RunBusyError:
                # Taken over: the run's next page says so when it renews.
                return
            except sa.exc.OperationalError:
                # The database is busy or away for a moment: the next turn tries again.
                continue

    keeper = threading.Thread(target=renew_until_stopped, name="crmsync-lease", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()
