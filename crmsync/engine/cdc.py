"""Applying Change Data Capture events: the CDC org syncs of a connection, continuously.

Events name the records that changed; the subscriber reads those records (all objects of
one batch of events in one Composite Batch call) and applies them through the same path
as every pull, in dependency order. That way filters, lookups, matching, deletions and
merges behave exactly as in a poll, and an event's partial payload is never mistaken for
the whole record. crmsync's own writes come back as events whose changeOrigin names our
client; they are skipped (echo suppression). Gap events are read like any other; an
overflow event, which names no records, makes the object due for a poll. The replay id of
the last event applied is stored per org sync, so a restart resumes without loss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.connectors.salesforce.streaming import (
    ALL_EVENTS,
    ChangeEvent,
    StreamingSession,
    channel_for,
)
from crmsync.engine.apply import Scope
from crmsync.engine.poll import OPEN_AFTER, types_for
from crmsync.engine.pull import PullOptions, RunResult, sync_all
from crmsync.engine.pulse import DATABASE_AWAY, MAX_BACKOFF, Pulse, first_line
from crmsync.errors import CrmsyncError, FatalError, ReplayLostError, RunBusyError
from crmsync.store import org_syncs
from crmsync.store.db import reading
from crmsync.store.org_syncs import OrgSync
from crmsync.store.types import utcnow

OWN_CLIENT = "client=crmsync"
# While a poll holds the connection, a batch of events waits for it this often, at most this
# long; then the subscription starts again from the stored replay ids, which the waiting
# events have not moved (Salesforce forgets a client that does not come back within 40 s).
BUSY_RETRY = 0.05
BUSY_PATIENCE = 20.0


@dataclass
class EventsResult:
    """What one batch of events did."""

    applied: int = 0
    echoes: int = 0
    overflowed: list[str] = field(default_factory=list)
    run: RunResult | None = None


def apply_events(
    engine: Engine, scope: Scope, connector: Connector, events: Sequence[ChangeEvent], options: PullOptions
) -> EventsResult:
    """Apply a batch of change events (in their order) as one run."""
    result = EventsResult()
    ids: dict[str, dict[str, None]] = {}
    for event in events:
        if OWN_CLIENT in event.change_origin:
            result.echoes += 1
            continue
        if event.change_type == "GAP_OVERFLOW" or not event.record_ids:
            result.overflowed.append(event.entity)
            continue
        wanted = ids.setdefault(event.entity.casefold(), {})
        wanted.update(dict.fromkeys(event.record_ids))
        result.applied += 1
    if ids:
        objects = {event.entity for event in events if event.entity.casefold() in ids}
        result.run = sync_all(
            engine,
            scope,
            connector,
            replace(
                options,
                kind="cdc",
                only=types_for(scope, objects),
                ids={k: tuple(v) for k, v in ids.items()},
                isolate=True,
            ),
            batched=True,
        )
    return result


def subscribe(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    session_factory: Callable[[], StreamingSession],
    stop: threading.Event,
    options: PullOptions,
    *,
    recheck: float = 30.0,
    on_event: Callable[[str], None] = lambda _text: None,
    pulse: Pulse | None = None,
) -> None:
    """Follow the change events of every enabled CDC org sync until ``stop`` is set."""
    pulse = pulse or Pulse()
    backoff = 0.0
    syncs: list[OrgSync] = []
    while not stop.is_set():
        session: StreamingSession | None = None
        try:
            syncs = _cdc_syncs(engine, scope)
            pulse.beat()
            if not syncs:
                stop.wait(recheck)
                continue
            session = session_factory()
            session.subscribe({channel_for(s.crm_object): _replay(s) for s in syncs})
            watched = {s.crm_object for s in syncs}
            checked = utcnow()
            while not stop.is_set():
                events = session.poll()
                pulse.beat()
                if events:
                    if not _handle(engine, scope, connector, events, options, syncs, on_event, stop):
                        break  # still busy (or stopping): these events come again from the replay ids
                    syncs = _cdc_syncs(engine, scope)
                backoff = 0.0
                if (utcnow() - checked).total_seconds() >= recheck:
                    checked = utcnow()
                    if {s.crm_object for s in _cdc_syncs(engine, scope)} != watched:
                        break  # an org sync was added, removed or switched: subscribe again
        except ReplayLostError as exc:
            on_event(f"CDC: {exc.message}")
            pulse.failed(f"CDC: {exc.message}")
            _fail(engine, scope, syncs, exc, resync=True)
        except FatalError as exc:
            on_event(f"CDC stopped: {exc.message}")
            pulse.failed(f"CDC stopped: {exc.message}")
            _fail(engine, scope, syncs, exc, resync=False)
            stop.wait(recheck)
        except CrmsyncError as exc:
            on_event(f"CDC: {exc.message}")
            pulse.failed(f"CDC: {exc.message}")
            _fail(engine, scope, syncs, exc, resync=False)
            backoff = min(MAX_BACKOFF, backoff * 2 or 1.0)
            stop.wait(backoff)
        except DATABASE_AWAY as exc:
            # The events are not acknowledged: the next subscription replays them.
            backoff = min(MAX_BACKOFF, backoff * 2 or 1.0)
            on_event(f"CDC: database: {first_line(exc)}; subscribing again in {backoff:.0f} s")
            pulse.failed(f"CDC: database: {first_line(exc)}; subscribing again in {backoff:.0f} s")
            stop.wait(backoff)
        finally:
            if session is not None:
                session.close()


def _handle(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    events: list[ChangeEvent],
    options: PullOptions,
    syncs: list[OrgSync],
    on_event: Callable[[str], None],
    stop: threading.Event,
) -> bool:
    """Apply a batch and store the replay ids; False when it could not be applied (yet)."""
    deadline = time.monotonic() + BUSY_PATIENCE
    while True:
        try:
            result = apply_events(engine, scope, connector, events, options)
            break
        except RunBusyError:
            # A poll holds the connection (the interval's safety net, or Sync All). The session
            # has moved past these events and the next batch would store replay ids past them:
            # dropping them would lose the changes. Wait for the poll, usually well under a second.
            if stop.wait(BUSY_RETRY) or time.monotonic() > deadline:
                return False
    by_object = {s.crm_object.casefold(): s for s in syncs}
    last: dict[str, int] = {}
    for event in events:
        last[event.entity.casefold()] = event.replay_id
    now = utcnow()
    with engine.begin() as conn:
        for name, replay_id in last.items():
            sync = by_object.get(name)
            if sync is None:
                continue
            # The interval's poll stays as a safety net behind the events.
            org_syncs.record_success(
                conn, scope.organization_id, sync, next_poll_at=now + timedelta(minutes=sync.interval_minutes)
            )
            values: dict[str, object] = {"replay_id": str(replay_id)}
            if name in {o.casefold() for o in result.overflowed}:
                # Too many changes to name: the scheduler polls the object now.
                values["next_poll_at"] = now
            org_syncs.update(conn, scope.organization_id, sync.id, **values)
    if result.overflowed:
        on_event(f"CDC overflow on {', '.join(sorted(set(result.overflowed)))}: polling instead")
    return True


def _cdc_syncs(engine: Engine, scope: Scope) -> list[OrgSync]:
    with reading(engine) as conn:
        syncs = org_syncs.all_of(conn, scope.organization_id, scope.connection_id)
    now = utcnow()
    return [
        s
        for s in syncs
        if s.enabled
        and s.method == "cdc"
        and not s.fatal_error
        and (s.circuit_opened_at is None or s.next_poll_at is None or s.next_poll_at <= now)
    ]


def _retry_delay(failures: int) -> timedelta:
    """1, 2, 4 ... minutes once the circuit is open, up to an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, failures - OPEN_AFTER)))


def _replay(sync: OrgSync) -> int:
    """Resume after the last applied event; the first time, replay all that is retained."""
    return int(sync.replay_id) if sync.replay_id else ALL_EVENTS


def _fail(engine: Engine, scope: Scope, syncs: list[OrgSync], error: CrmsyncError, *, resync: bool) -> None:
    now = utcnow()
    with engine.begin() as conn:
        for sync in syncs:
            org_syncs.record_failure(
                conn,
                scope.organization_id,
                sync,
                message=error.message,
                fatal=isinstance(error, FatalError),
                open_after=OPEN_AFTER,
                next_poll_at=now + _retry_delay(sync.consecutive_failures + 1),
            )
            if resync:
                # The events are gone: forget the replay id and let a poll catch up from the cursor.
                org_syncs.update(conn, scope.organization_id, sync.id, replay_id=None, next_poll_at=now)
