"""Supervising long-lived loops: each in a thread of its own, restarted if it dies, and
reported so that `crmsync status` (from any process) shows each loop's heartbeat and last
error, and a connection whose loop is not alive is not Active.

A loop waits out what it can (the CRM or the database away) and says so on its pulse;
anything that still ends it is logged, reported, and the loop is started again after a
backoff (1 s doubling to a minute, back to 1 s once it has run for five minutes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.engine.pulse import Pulse, first_line
from crmsync.store import leases, loops
from crmsync.store.types import utcnow

log = logging.getLogger("crmsync.runner")
REPORT_EVERY = 5.0
RESTART_FIRST = 1.0
RESTART_MAX = 60.0
# A loop that ran this long before it died starts again at once, not after a long backoff.
HEALTHY_AFTER = 300.0


@dataclass
class _Loop:
    connection_id: int
    name: str
    kind: str
    target: Callable[[Pulse], None]
    pulse: Pulse = field(default_factory=Pulse)
    thread: threading.Thread | None = None
    started_at: datetime = field(default_factory=utcnow)
    ran_since: float = 0.0
    restarts: int = 0
    backoff: float = RESTART_FIRST
    restart_at: float | None = None


class Supervisor:
    """Runs loops in threads until ``stop`` is set; restarts and reports them."""

    def __init__(
        self,
        engine: Engine,
        organization_id: int,
        stop: threading.Event,
        *,
        on_event: Callable[[str], None] = lambda _text: None,
        report_every: float = REPORT_EVERY,
    ) -> None:
        self.engine = engine
        self.organization_id = organization_id
        self.stop = stop
        self.on_event = on_event
        self.report_every = report_every
        self.owner = leases.owner_name()
        self._loops: list[_Loop] = []
        self._watcher: threading.Thread | None = None

    def add(self, connection_id: int, name: str, kind: str, target: Callable[[Pulse], None]) -> None:
        """A loop to run: ``target(pulse)`` runs until ``stop`` is set."""
        self._loops.append(_Loop(connection_id, name, kind, target))

    def start(self) -> None:
        """Start every loop, and the thread that watches them."""
        for loop in self._loops:
            self._start(loop)
        self._watcher = threading.Thread(target=self._watch, name="crmsync-supervisor", daemon=True)
        self._watcher.start()

    def join(self, timeout: float) -> None:
        """Wait for the loops to finish their work in hand (after ``stop``), and say they stopped."""
        deadline = time.monotonic() + timeout
        for thread in [self._watcher, *(loop.thread for loop in self._loops)]:
            if thread is not None:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for loop in self._loops:
            loop.pulse.beat(loops.STOPPED)
        self._report()

    def _start(self, loop: _Loop) -> None:
        loop.restart_at = None
        loop.pulse.beat()
        loop.ran_since = time.monotonic()
        loop.thread = threading.Thread(
            target=self._run, args=(loop,), name=f"crmsync-{loop.kind}-{loop.name}", daemon=True
        )
        loop.thread.start()

    def _run(self, loop: _Loop) -> None:
        try:
            loop.target(loop.pulse)
        except Exception as exc:  # the loop's boundary: logged, reported, restarted
            log.exception("%s: the %s loop stopped on an error", loop.name, loop.kind)
            loop.pulse.failed(f"stopped on an error: {first_line(exc)}")

    def _watch(self) -> None:
        next_report = 0.0
        while not self.stop.wait(0.2):
            for loop in self._loops:
                self._restart_if_dead(loop)
            if time.monotonic() >= next_report:
                self._report()
                next_report = time.monotonic() + self.report_every

    def _restart_if_dead(self, loop: _Loop) -> None:
        if loop.thread is None or loop.thread.is_alive() or self.stop.is_set():
            return
        now = time.monotonic()
        if loop.restart_at is None:
            if now - loop.ran_since >= HEALTHY_AFTER:
                loop.backoff = RESTART_FIRST
            loop.restart_at = now + loop.backoff
            loop.pulse.state = loops.RESTARTING
            why = loop.pulse.error or "it ended"
            self.on_event(
                f"{loop.name}: the {loop.kind} loop died ({why}); restarting in {loop.backoff:.0f} s"
            )
            loop.backoff = min(RESTART_MAX, loop.backoff * 2)
        elif now >= loop.restart_at:
            loop.restarts += 1
            self.on_event(f"{loop.name}: restarting the {loop.kind} loop (restart {loop.restarts})")
            self._start(loop)

    def _report(self) -> None:
        now = utcnow()
        seen = [
            loops.Loop(
                loop.connection_id,
                loop.kind,
                self.owner,
                loop.pulse.state,
                loop.started_at,
                now,
                loop.pulse.beat_at,
                loop.pulse.note,
                loop.pulse.error,
                loop.pulse.error_at,
                loop.restarts,
            )
            for loop in self._loops
        ]
        try:
            with self.engine.begin() as conn:
                loops.report(conn, self.organization_id, seen)
        except sa.exc.DBAPIError as exc:
            # The database is away or locked: the loops say so themselves; report next time.
            log.warning("could not report the loops: %s", first_line(exc))
