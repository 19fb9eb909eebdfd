"""The embedded runner: one process does everything for every connection.

Per connection, a scheduler thread polls due org syncs and a pusher thread pushes changes
as they happen (and sweeps every 15 minutes). Everything they owe is in the database
(cursors, the change log, the push queue), so stopping at any moment loses nothing: on
SIGTERM the threads finish the page or batch in hand and exit.

Each loop waits out the CRM or the database being away, with backoff; a supervisor
restarts a loop that dies all the same and reports every loop for `crmsync status`
(see crmsync.runner.supervisor).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Literal

from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.connectors.salesforce.streaming import StreamingSession
from crmsync.engine import cdc, push_watch
from crmsync.engine.apply import Scope
from crmsync.engine.interval import run_interval_due
from crmsync.engine.jobs import Ran, run_due
from crmsync.engine.poll import connection_share, due, poll
from crmsync.engine.pull import PullOptions
from crmsync.engine.pulse import DATABASE_AWAY, MAX_BACKOFF, Pulse, first_line
from crmsync.engine.workspace import Workspace
from crmsync.errors import CrmsyncError, FatalError
from crmsync.runner.supervisor import Supervisor
from crmsync.store import tenancy
from crmsync.store.db import reading
from crmsync.store.types import utcnow

if TYPE_CHECKING:
    from crmsync.web.server import WebServer

log = logging.getLogger("crmsync.runner")
# How soon a scheduled poll tries again when another pull holds the connection.
BUSY_RETRY = 0.05


@dataclass
class RunnerOptions:
    """How often the runner looks for work."""

    tick: float = 5.0
    # Long polls of the Streaming API; Salesforce holds them up to 110 s.
    stream_timeout: float = 120.0
    # How long one long poll waits when no event comes: a stop waits at most about this long
    # for the CDC thread (Salesforce's own 110 s is longer than shutdown waits, 30 s).
    stream_wait: float = 10.0
    sweep_every: timedelta = timedelta(minutes=15)
    on_event: Callable[[str], None] = field(default=lambda _text: None)
    # Serve the admin console and JSON API on (host, port) too; None: do not serve.
    serve: tuple[str, int] | None = None
    cookie_secure: Literal["auto", "always", "never"] = "auto"


class EmbeddedRunner:
    """Runs the scheduler and the pusher of every connection until stopped."""

    def __init__(self, workspace: Workspace, options: RunnerOptions | None = None) -> None:
        self.workspace = workspace
        self.options = options or RunnerOptions()
        self.stop = threading.Event()
        self.supervisor = Supervisor(
            workspace.engine, workspace.organization_id, self.stop, on_event=self.options.on_event
        )
        self.web: WebServer | None = None

    def start(self) -> None:
        """Start one scheduler and one pusher thread per connection (and the web app, if asked)."""
        if self.options.serve is not None:
            # Imported here: a runner that does not serve never loads the web stack.
            from crmsync.web.app import WebConfig  # noqa: PLC0415
            from crmsync.web.server import WebServer  # noqa: PLC0415

            host, port = self.options.serve
            self.web = WebServer(
                self.workspace, host, port, WebConfig(cookie_secure=self.options.cookie_secure)
            )
            self.web.start()
            self.options.on_event(f"admin console on {self.web.url} (JSON API under /api/v1)")
        with_rows = self._connections()
        for name in with_rows:
            row = self.workspace.connection(name)
            # Salesforce: org syncs (polls) and CDC; Bloomerang: a pull of what changed on an
            # interval and a periodic id reconciliation (it has no change feed).
            workers: tuple[tuple[Callable[[str, Pulse], None], str], ...] = (
                ((self._schedule, "scheduler"), (self._push, "pusher"), (self._stream, "cdc"))
                if row.crm == "salesforce"
                else ((self._schedule_pulls, "scheduler"), (self._push, "pusher"))
            )
            for target, kind in workers:
                self.supervisor.add(row.id, name, kind, partial(target, name))
        self.supervisor.start()
        self.options.on_event(f"running {len(with_rows)} connection(s): {', '.join(with_rows) or 'none'}")

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop and wait for the threads to finish their current unit of work."""
        self.stop.set()
        if self.web is not None:
            self.web.stop()
        self.supervisor.join(timeout)

    def _connections(self) -> list[str]:
        with reading(self.workspace.engine) as conn:
            return [r.name for r in tenancy.list_connections(conn, self.workspace.organization_id)]

    def _scope(self, name: str) -> Scope:
        return self.workspace.scope(self.workspace.connection(name))

    def _schedule(self, name: str, pulse: Pulse) -> None:
        row = self.workspace.connection(name)
        connector = self.workspace.connector(row)
        scope = self._scope(name)
        options = PullOptions(
            kind="poll",
            modstamp_field=str(row.settings.get("incremental_field", "LastModifiedDate")),
            lookback=timedelta(seconds=int(row.settings.get("lookback_seconds", 300))),
            filters=self.workspace.filters(row),
        )
        share = connection_share(self.workspace.engine, scope)

        def tick() -> None:
            # CDC org syncs are polled too, at their interval: a safety net behind the events,
            # and the catch-up after an overflow or a lost replay id.
            syncs = due(self.workspace.engine, scope, now=utcnow(), methods=("poll", "cdc"))
            if syncs:
                engine = self.workspace.engine
                polling = partial(poll, engine, scope, connector, options, syncs=syncs, budget_share=share)
                result = polling()
                # Another pull holds the connection, most often a batch of this runner's own
                # CDC events. Batches are short but come back to back while events flow, so
                # one try per tick can lose for minutes: try again between them.
                deadline = time.monotonic() + self.options.tick
                while result.busy and time.monotonic() < deadline and not self.stop.wait(BUSY_RETRY):
                    result = polling()
                self._report(name, result.polled, result.skipped, result.failed)
            # The incremental job (standard or alternative) and the daily push, when due.
            ran = run_due(
                self.workspace.engine,
                scope,
                connector,
                row.settings,
                now=utcnow(),
                filters=options.filters,
                budget_share=share,
            )
            self._report_jobs(name, ran)

        try:
            self._every_tick(name, pulse, tick)
        finally:
            connector.close()

    def _schedule_pulls(self, name: str, pulse: Pulse) -> None:
        """Pull what changed every ``poll_minutes``; reconcile ids every ``reconcile_hours``."""
        row = self.workspace.connection(name)
        connector = self.workspace.connector(row)
        scope = self._scope(name)
        filters = self.workspace.filters(row)

        def tick() -> None:
            for line in run_interval_due(
                self.workspace.engine, scope, connector, row.settings, now=utcnow(), filters=filters
            ):
                self.options.on_event(f"{name}: {line}")

        try:
            self._every_tick(name, pulse, tick)
        finally:
            connector.close()

    def _every_tick(self, name: str, pulse: Pulse, tick: Callable[[], None]) -> None:
        """Run ``tick`` every tick until stopped; the CRM's errors are reported, the database
        being away is waited out with backoff."""
        backoff = 0.0
        while not self.stop.is_set():
            try:
                tick()
                backoff = 0.0
                pulse.beat()
            except CrmsyncError as exc:
                self._failed(name, pulse, f"scheduler: {exc.message}")
            except DATABASE_AWAY as exc:
                backoff = min(MAX_BACKOFF, backoff * 2 or self.options.tick)
                self._failed(
                    name, pulse, f"scheduler: database: {first_line(exc)}; next try in {backoff:.0f} s"
                )
            self.stop.wait(max(self.options.tick, backoff))

    def _failed(self, name: str, pulse: Pulse, message: str) -> None:
        pulse.failed(message)
        self.options.on_event(f"{name}: {message}")

    def _stream(self, name: str, pulse: Pulse) -> None:
        row = self.workspace.connection(name)
        connector = self.workspace.connector(row)
        assert isinstance(connector, SalesforceConnector)
        scope = self._scope(name)
        options = PullOptions(kind="cdc", filters=self.workspace.filters(row))
        try:
            cdc.subscribe(
                self.workspace.engine,
                scope,
                connector,
                lambda: StreamingSession(
                    connector.client, poll_timeout=self.options.stream_timeout, wait=self.options.stream_wait
                ),
                self.stop,
                options,
                recheck=self.options.tick * 6,
                on_event=lambda text: self.options.on_event(f"{name}: {text}"),
                pulse=pulse,
            )
        finally:
            connector.close()

    def _push(self, name: str, pulse: Pulse) -> None:
        row = self.workspace.connection(name)
        connector = self.workspace.connector(row)
        scope = self._scope(name)
        backoff = 1.0
        try:
            while not self.stop.is_set():
                try:
                    push_watch.watch(
                        self.workspace.engine,
                        scope,
                        connector,
                        self.stop,
                        sweep_every=self.options.sweep_every,
                        on_report=lambda r: self.options.on_event(
                            f"{name}: pushed {r.report.count('pushed')}, failed {r.report.count('failed')}"
                        ),
                        pulse=pulse,
                    )
                except FatalError as exc:
                    # Credentials or configuration: nothing to gain by hammering; check slowly.
                    self._failed(name, pulse, f"pusher stopped: {exc.message}")
                    self.stop.wait(60)
                except CrmsyncError as exc:
                    self._failed(name, pulse, f"pusher: {exc.message}")
                    self.stop.wait(backoff)
                    backoff = min(60.0, backoff * 2)
        finally:
            connector.close()

    def _report_jobs(self, name: str, ran: Ran) -> None:
        for note in ran.notes:
            self.options.on_event(f"{name}: {note}")
        if ran.incremental is not None:
            run = ran.incremental
            self.options.on_event(f"{name}: incremental job: {run.status}, {run.message}")
        if ran.daily is not None:
            self.options.on_event(f"{name}: daily push: {ran.daily.status}, {ran.daily.message}")

    def _report(self, name: str, polled: list[str], skipped: str | None, failed: dict[str, str]) -> None:
        if skipped:
            self.options.on_event(f"{name}: poll of {', '.join(polled)} skipped: {skipped}")
        for crm_object, message in failed.items():
            self.options.on_event(f"{name}: poll of {crm_object} failed: {message}")
