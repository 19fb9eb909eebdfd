"""The real-time pusher: changes pushed as they happen, by one process per connection.

A pusher pushes only while it holds the connection's push lease (as a run pulls only while
it holds the pull lease): two pushers (two `crmsync run`, or `push --watch` twice) would
write every record twice and race each other's links. The other one stands by and takes
over when the lease is free: at once when the holder stopped, or died on the same host;
when the lease expires otherwise. Nothing is lost meanwhile: changes wait in the change
log and the push queue.

The loop outlives what it can wait out: the CRM away (TransientError), the database away
or locked (a dropped connection, a server restart, SQLite locked by a long writer). Each
is reported to the loop's pulse, waited out with backoff, and the loop goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.explain import note_next_sweep
from crmsync.engine.pulse import DATABASE_AWAY, MAX_BACKOFF, Pulse, first_line
from crmsync.engine.pusher import DrainResult, collect, drain, sweep
from crmsync.errors import RunBusyError, TransientError
from crmsync.store import leases, push_state
from crmsync.store.capture import CHANNEL
from crmsync.store.db import reading
from crmsync.store.loops import STANDBY
from crmsync.store.types import utcnow

# The push lease: renewed every few seconds, taken over once a minute has passed without.
PUSH_TTL = timedelta(seconds=60)
RENEW_EVERY = 10.0
# How often a pusher standing by looks whether the lease is free.
STANDBY_POLL = 2.0


@dataclass
class _Pusher:
    """One connection's pusher and what it was asked."""

    engine: Engine
    scope: Scope
    connector: Connector
    stop: threading.Event
    sweep_every: timedelta
    poll: float
    on_report: Callable[[DrainResult], None] | None
    pulse: Pulse


def watch(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    stop: threading.Event,
    *,
    sweep_every: timedelta = timedelta(minutes=15),
    poll: float = 0.1,
    on_report: Callable[[DrainResult], None] | None = None,
    pulse: Pulse | None = None,
) -> None:
    """Push changes as they happen until ``stop`` is set; sweep on schedule.

    Pushes only while this process holds the connection's push lease; stands by otherwise.
    """
    pusher = _Pusher(engine, scope, connector, stop, sweep_every, poll, on_report, pulse or Pulse())
    cid = scope.connection_id
    owner = leases.owner_name()
    backoff = 0.0
    while not stop.is_set():
        try:
            holder = _take_lease(engine, cid, owner)
            if holder is not None:
                pusher.pulse.beat(STANDBY, f"standing by: {holder} is pushing this connection's changes")
                stop.wait(STANDBY_POLL)
                continue
            lost = threading.Event()
            try:
                with leases.kept(
                    engine, cid, owner, every=RENEW_EVERY, ttl=PUSH_TTL, kind=leases.PUSH, lost=lost
                ):
                    _push_while_held(pusher, lost)
            finally:
                _release(engine, cid, owner)
            if lost.is_set():
                pusher.pulse.failed(
                    "another process took the push lease over (the database was away for long)"
                )
            backoff = 0.0
        except DATABASE_AWAY as exc:
            backoff = min(MAX_BACKOFF, backoff * 2 or 1.0)
            pusher.pulse.failed(f"database: {first_line(exc)}; trying again in {backoff:.0f} s")
            stop.wait(backoff)


@contextmanager
def push_lease(engine: Engine, connection_id: int) -> Iterator[None]:
    """Hold the connection's push lease for a one-off push (or raise RunBusyError)."""
    owner = leases.owner_name()
    with engine.begin() as conn:
        leases.acquire(conn, connection_id, owner, ttl=PUSH_TTL, kind=leases.PUSH)
    try:
        with leases.kept(engine, connection_id, owner, every=RENEW_EVERY, ttl=PUSH_TTL, kind=leases.PUSH):
            yield
    finally:
        _release(engine, connection_id, owner)


def _take_lease(engine: Engine, connection_id: int, owner: str) -> str | None:
    """None once this process holds the push lease; else who holds it."""
    with reading(engine) as conn:
        held = leases.holder(conn, connection_id, leases.PUSH)
    if held is not None and held.owner != owner:
        return f"process {leases.process_of(held.owner)}"
    try:
        with engine.begin() as conn:
            leases.acquire(conn, connection_id, owner, ttl=PUSH_TTL, kind=leases.PUSH)
    except RunBusyError:
        return "another crmsync process"
    return None


def _release(engine: Engine, connection_id: int, owner: str) -> None:
    try:
        with engine.begin() as conn:
            leases.release(conn, connection_id, owner, kind=leases.PUSH)
    except DATABASE_AWAY:
        pass  # the lease expires by itself; a pusher standing by then takes over


def _push_while_held(pusher: _Pusher, lost: threading.Event) -> None:
    engine, scope, connector, stop, pulse = (
        pusher.engine,
        pusher.scope,
        pusher.connector,
        pusher.stop,
        pusher.pulse,
    )
    waiter = _Waiter(engine, pusher.poll)
    next_sweep = time.monotonic()
    backoff = 0.0
    try:
        while not stop.is_set() and not lost.is_set():
            try:
                collect(engine, scope)
                while not lost.is_set():
                    result = drain(engine, scope, connector)
                    if pusher.on_report is not None and result.report.outcomes:
                        pusher.on_report(result)
                    if not result.report.outcomes:
                        break
                if time.monotonic() >= next_sweep:
                    sweep(engine, scope, connector)
                    next_sweep = time.monotonic() + pusher.sweep_every.total_seconds()
                    # For "Why didn't this sync?": "waiting for the next sweep at HH:MM".
                    with engine.begin() as conn:
                        note_next_sweep(
                            conn, scope.organization_id, scope.connection_id, utcnow() + pusher.sweep_every
                        )
                backoff = 0.0
                pulse.beat()
                waiter.wait(stop)
            except TransientError as exc:
                backoff = min(MAX_BACKOFF, backoff * 2 or 1.0)
                pulse.failed(f"CRM: {exc.message}; trying again in {backoff:.0f} s")
                stop.wait(backoff)
            except DATABASE_AWAY as exc:
                backoff = min(MAX_BACKOFF, backoff * 2 or 1.0)
                pulse.failed(f"database: {first_line(exc)}; trying again in {backoff:.0f} s")
                waiter.close()
                stop.wait(backoff)
    finally:
        waiter.close()


class _Waiter:
    """Sleeps until a change may have arrived: LISTEN/NOTIFY on PostgreSQL, polling on SQLite.

    A LISTEN connection that drops is opened again at the next wait; meanwhile the pusher
    looks for changes every second anyway.
    """

    def __init__(self, engine: Engine, poll: float) -> None:
        self.poll = poll
        self.engine = engine
        self._raw: Any = None
        self._last = -1
        self._listens = engine.dialect.name == "postgresql"
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    def wait(self, stop: threading.Event) -> None:
        """Return when a change may have come, after a second at most."""
        if self._listens:
            try:
                self._notified()
            except (self._driver_error, *DATABASE_AWAY):
                self.close()
                stop.wait(1.0)
            return
        deadline = time.monotonic() + 1.0
        while not stop.is_set() and time.monotonic() < deadline:
            with reading(self.engine) as conn:
                latest = push_state.latest_change_id(conn)
            if latest != self._last:
                self._last = latest
                return
            stop.wait(self.poll)

    def _notified(self) -> None:
        if self._raw is None:
            raw = self.engine.raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
            self._raw = raw
        for _ in self._raw.driver_connection.notifies(timeout=1.0, stop_after=1):
            break

    def close(self) -> None:
        """Let go of the LISTEN connection, if any."""
        raw, self._raw = self._raw, None
        if raw is not None:
            # Discarded, not given back to the pool: it listens, in autocommit mode.
            raw.invalidate()
