"""The Streaming API's clients: who handshook, what each subscribed to, and how far it got.

A client that does not come back within ``client_timeout_seconds`` (org time) of its last
answer is forgotten, as Salesforce's server forgets one after 40 seconds; its next message
gets ``403::Unknown client`` and the advice to handshake again. At most ``MAX_CLIENTS``
clients may be live at once (the org's ``DurableStreamingApiConcurrentClients``).
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .cdc_bus import ChangeEventBus
from .clock import Clock

MAX_CLIENTS = 20
_ID_CHARS = string.ascii_lowercase + string.digits


@dataclass
class StreamingClient:
    """One handshaken client: its subscriptions (channel -> replay id delivered last)."""

    client_id: str
    browser: str
    last_seen: datetime
    replay_defaults: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, int] = field(default_factory=dict)
    connected: bool = False
    busy: int = 0


class StreamingClients:
    """The handshaken clients; one that stays away ``client_timeout_seconds`` is forgotten."""

    def __init__(self, clock: Clock, bus: ChangeEventBus) -> None:
        self._clock = clock
        self._bus = bus
        self._lock = threading.Lock()
        self._clients: dict[str, StreamingClient] = {}

    def open(self, browser: str, replay_defaults: dict[str, int]) -> StreamingClient | None:
        """A new client, or None when the org has as many as it may."""
        with self._lock:
            self._sweep()
            if len(self._clients) >= MAX_CLIENTS:
                return None
            client_id = "".join(secrets.choice(_ID_CHARS) for _ in range(27))
            client = StreamingClient(client_id, browser, self._clock.now(), dict(replay_defaults))
            self._clients[client_id] = client
            return client

    def get(self, client_id: Any) -> StreamingClient | None:
        """The live client with ``client_id``, or None."""
        with self._lock:
            self._sweep()
            return self._clients.get(client_id) if isinstance(client_id, str) else None

    def drop(self, client_id: str) -> None:
        """Forget one client (it disconnected)."""
        with self._lock:
            self._clients.pop(client_id, None)
        self._bus.notify()

    def clear(self) -> int:
        """Forget every client, as a server restart would; returns how many there were."""
        with self._lock:
            count = len(self._clients)
            self._clients.clear()
        self._bus.notify()
        return count

    def count(self) -> int:
        """How many clients are live."""
        with self._lock:
            self._sweep()
            return len(self._clients)

    def _sweep(self) -> None:
        now = self._clock.now()
        limit = self._bus.settings.client_timeout_seconds
        for client_id, client in list(self._clients.items()):
            if client.busy == 0 and (now - client.last_seen).total_seconds() > limit:
                del self._clients[client_id]
