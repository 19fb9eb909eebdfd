"""Change Data Capture's event bus: which objects are enabled, and the retained change events.

The record store hands it the writes of every committed transaction on enabled objects; it
turns them into change events (``cdc_events``), numbers them with replay ids (one
monotonic sequence for every channel, never reused, not contiguous per channel) and keeps
them for ``retention_hours`` of org time (72, as Salesforce). Subscribers read them with
``after``; waiting subscribers (long polls, on the server's event loop) are woken through
``notify`` from whichever thread committed.

Off by default for every object, as in Salesforce; ``enable`` selects objects. With a state
file, the selection, the settings and the events survive a restart.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from crmsync.catalogs import Catalog, ObjectDef

from .cdc_events import Draft, drafts_of, gap_draft
from .cdc_model import CapturedChange, ChangeEvent
from .cdc_shapes import EventShape, channel_of
from .clock import Clock

RETENTION_HOURS = 72
OVERFLOW_AFTER = 100_000
CONNECT_TIMEOUT_MS = 110_000
CLIENT_TIMEOUT_SECONDS = 40
COMMIT_NUMBER_BASE = 11_000_000_000_000
GAP_TYPES = ("GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW")


@dataclass
class CdcSettings:
    """How the bus and the Streaming endpoint behave; all settable through the control API."""

    retention_hours: float = RETENTION_HOURS
    overflow_after: int = OVERFLOW_AFTER
    merge_events: bool = True
    # The long poll of /meta/connect, also announced as the advice timeout.
    timeout_ms: int = CONNECT_TIMEOUT_MS
    # A streaming client that has not come back this long after an answer is forgotten.
    client_timeout_seconds: float = CLIENT_TIMEOUT_SECONDS


class EventStore(Protocol):
    """Where events and settings survive a restart (the SQLite state file)."""

    def put_meta(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""

    def get_meta(self, key: str) -> Any:
        """The value stored under ``key``, or None."""

    def save_events(self, events: Sequence[ChangeEvent]) -> None:
        """Persist events (and the last replay id)."""

    def load_events(self) -> list[ChangeEvent]:
        """Every stored event, oldest first."""

    def delete_events(self, through_replay_id: int) -> None:
        """Forget events up to and including ``through_replay_id``."""


class ChangeEventBus:
    """Enabled objects and retained events of one org; thread-safe."""

    def __init__(self, catalog: Catalog, clock: Clock, user_id: str, store: EventStore | None = None) -> None:
        self.catalog = catalog
        self.clock = clock
        self.user_id = user_id
        self.settings = CdcSettings()
        self.enabled: set[str] = set()
        self._store = store
        self._lock = threading.RLock()
        self._shapes = {name: EventShape.of(obj) for name, obj in catalog.objects.items()}
        self._events: list[ChangeEvent] = []
        self._ids: list[int] = []
        self._last_id = 0
        self._generation = 0
        self._waiters: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        if store is not None:
            self._restore(store)

    # -- the record store's capture --------------------------------------------------------

    def wants(self, object_name: str) -> bool:
        """True for objects enabled for Change Data Capture."""
        return object_name in self.enabled

    def commit(self, captured: Sequence[CapturedChange | None]) -> list[ChangeEvent]:
        """Events of the committed writes (a None separates transactions); published at once."""
        groups: list[list[CapturedChange]] = [[]]
        for change in captured:
            if change is None:
                groups.append([])
            else:
                groups[-1].append(change)
        with self._lock:
            settings = self.settings
            events: list[ChangeEvent] = []
            for group in groups:
                if group:
                    drafts = drafts_of(
                        group,
                        self._shapes,
                        merge=settings.merge_events,
                        overflow_after=settings.overflow_after,
                    )
                    events.extend(self._publish(drafts))
        return events

    # -- publishing ------------------------------------------------------------------------

    def inject_gap(self, object_name: str, change_type: str, record_ids: Sequence[str]) -> ChangeEvent:
        """Publish a gap or overflow event (control API); persisted at once."""
        with self._lock:
            (event,) = self._publish([gap_draft(object_name, change_type, record_ids)])
            if self._store is not None:
                self._store.save_events([event])
            return event

    def _publish(self, drafts: Sequence[Draft]) -> list[ChangeEvent]:
        """Number one transaction's drafts, retain them and wake the subscribers."""
        if not drafts:
            return []
        commit_ms = int(self.clock.now().timestamp() * 1000)
        header = {
            "transactionKey": str(uuid.uuid4()),
            "commitTimestamp": commit_ms,
            "commitNumber": COMMIT_NUMBER_BASE + self._last_id + 1,
            "commitUser": self.user_id,
        }
        events = []
        for sequence, draft in enumerate(drafts, start=1):
            self._last_id += 1
            full = draft.header() | header | {"sequenceNumber": sequence}
            full |= {"nulledFields": draft.nulled, "diffFields": [], "changedFields": draft.changed}
            payload = {"ChangeEventHeader": _ordered(full), **draft.body}
            event = ChangeEvent(
                self._last_id, draft.entity, commit_ms, self._shapes[draft.entity].schema, payload
            )
            events.append(event)
        self._events.extend(events)
        self._ids.extend(event.replay_id for event in events)
        self._expire()
        self.notify()
        return events

    # -- reading ---------------------------------------------------------------------------

    @property
    def last_replay_id(self) -> int:
        """The replay id of the newest event ever published (0: none yet)."""
        return self._last_id

    def floor(self) -> int:
        """The lowest replay id a subscriber may resume after without missing a retained event."""
        with self._lock:
            self._expire()
            return self._ids[0] - 1 if self._ids else self._last_id

    def valid_replay(self, replay_id: int) -> bool:
        """True when every event after ``replay_id`` is still retained (and it was ever issued)."""
        return self.floor() <= replay_id <= self._last_id

    def after(self, replay_id: int, entity: str | None, limit: int) -> list[ChangeEvent]:
        """Up to ``limit`` retained events after ``replay_id``, of ``entity`` (None: any)."""
        with self._lock:
            self._expire()
            found: list[ChangeEvent] = []
            for event in self._events[bisect.bisect_right(self._ids, replay_id) :]:
                if entity is None or event.entity == entity:
                    found.append(event)
                    if len(found) >= limit:
                        break
            return found

    def retained(self) -> int:
        """How many events are retained."""
        with self._lock:
            self._expire()
            return len(self._events)

    def channel_entity(self, channel: str) -> tuple[bool, str | None]:
        """(known, entity) for a channel: ``/data/ChangeEvents`` is every object (None);
        ``/data/ContactChangeEvent`` one; an unknown or non-enabled object's channel is not known."""
        if channel == "/data/ChangeEvents":
            return True, None
        for name in self.enabled:
            obj = self.catalog.objects[name]
            if channel_of(obj) == channel:
                return True, name
        return False, None

    # -- waiting ---------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Moves on every publish and every ``notify``; a waiter passes the one it has seen."""
        return self._generation

    async def wait(self, timeout: float, seen: int) -> None:
        """Return when something was published after generation ``seen``, or after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        key = id(woken)
        with self._lock:
            if self._generation != seen:
                return
            self._waiters[key] = (loop, woken)
        try:
            await asyncio.wait_for(woken.wait(), max(timeout, 0))
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.pop(key, None)

    def notify(self) -> None:
        """Wake every waiting subscriber (new events, or a client dropped)."""
        with self._lock:
            self._generation += 1
            waiters = list(self._waiters.values())
        for loop, woken in waiters:
            try:
                loop.call_soon_threadsafe(woken.set)
            except RuntimeError:  # the loop has closed: nobody waits there any more
                continue

    # -- settings --------------------------------------------------------------------------

    def enable(self, objects: Iterable[ObjectDef], enabled: bool) -> None:
        """Select objects for change notifications (or deselect them)."""
        with self._lock:
            names = {obj.name for obj in objects}
            self.enabled = self.enabled | names if enabled else self.enabled - names
            self._save_settings()

    def configure(self, **changes: Any) -> None:
        """Change settings (keys of ``CdcSettings``)."""
        with self._lock:
            for key, value in changes.items():
                setattr(self.settings, key, value)
            self._expire()
            self._save_settings()

    def reset(self) -> None:
        """No object enabled, no event retained, default settings; replay ids go on from where they were."""
        with self._lock:
            if self._ids and self._store is not None:
                self._store.delete_events(self._ids[-1])
            self._events.clear()
            self._ids.clear()
            self.enabled = set()
            self.settings = CdcSettings()
            self._save_settings()
        self.notify()

    def describe(self) -> dict[str, Any]:
        """Enabled objects, channels, retained events and settings, for the control API."""
        with self._lock:
            self._expire()
            return {
                "enabled": sorted(self.enabled),
                "channels": [
                    "/data/ChangeEvents",
                    *sorted(channel_of(self.catalog.objects[name]) for name in self.enabled),
                ],
                "events": len(self._events),
                "first_replay_id": self._ids[0] if self._ids else None,
                "last_replay_id": self._last_id,
                "settings": asdict(self.settings),
            }

    # -- internals -------------------------------------------------------------------------

    def _expire(self) -> None:
        """Drop events older than the retention window (org time)."""
        if not self._events:
            return
        cutoff = int(self.clock.now().timestamp() * 1000 - self.settings.retention_hours * 3_600_000)
        keep = 0
        while keep < len(self._events) and self._events[keep].commit_ms < cutoff:
            keep += 1
        if keep:
            dropped = self._ids[keep - 1]
            del self._events[:keep]
            del self._ids[:keep]
            if self._store is not None:
                self._store.delete_events(dropped)

    def _save_settings(self) -> None:
        if self._store is not None:
            self._store.put_meta(
                "cdc",
                {"enabled": sorted(self.enabled), "settings": asdict(self.settings), "last": self._last_id},
            )

    def _restore(self, store: EventStore) -> None:
        saved = store.get_meta("cdc") or {}
        self.enabled = {name for name in saved.get("enabled", []) if name in self.catalog.objects}
        known = set(CdcSettings.__dataclass_fields__)
        self.settings = CdcSettings(
            **{k: v for k, v in dict(saved.get("settings", {})).items() if k in known}
        )
        self._events = [event for event in store.load_events() if event.entity in self.catalog.objects]
        self._ids = [event.replay_id for event in self._events]
        last_saved = int(store.get_meta("cdc_last_replay_id") or 0)
        self._last_id = max(int(saved.get("last", 0)), last_saved, self._ids[-1] if self._ids else 0)


_HEADER_ORDER = (
    "entityName",
    "recordIds",
    "changeType",
    "changeOrigin",
    "transactionKey",
    "sequenceNumber",
    "commitTimestamp",
    "commitNumber",
    "commitUser",
    "nulledFields",
    "diffFields",
    "changedFields",
)


def _ordered(header: dict[str, Any]) -> dict[str, Any]:
    return {key: header[key] for key in _HEADER_ORDER}
