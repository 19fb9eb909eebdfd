"""The operations that the CLI, the web app and the runner ask of the engine."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx

from crmsync.connectors.base import Connector
from crmsync.connectors.retry import RetryPolicy
from crmsync.engine import patience, push_watch, pusher
from crmsync.engine.apply import Scope
from crmsync.engine.progress import Observer
from crmsync.engine.pull import PullOptions, RunResult, sync_all
from crmsync.engine.pulse import Pulse
from crmsync.engine.push import PushReport
from crmsync.engine.reconcile import Reconciled, reconcile
from crmsync.engine.restore import RestoreResult, restore
from crmsync.engine.stamp import StampResult, stamp_ids
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import archive
from crmsync.store.db import reading


@dataclass
class Session:
    """An opened connection: its scope and a connector (close it when done)."""

    workspace: Workspace
    scope: Scope
    connector: Connector


@contextmanager
def opened(
    workspace: Workspace,
    connection: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    run: str | None = None,
    observer: Observer | None = None,
) -> Iterator[Session]:
    """The named (or only) connection with a connector, closed afterwards.

    ``run``, for a command that starts a whole run, says what comes after giving up: its
    connector waits out a failing CRM for the connection's patience, and shows each wait to
    ``observer`` (see crmsync.engine.patience).
    """
    row = workspace.connection(connection)
    if run is not None:
        retry = patience.run_policy(row, retry, afterwards=run, observer=observer)
    connector = workspace.connector(row, transport=transport, retry=retry)
    try:
        yield Session(workspace, workspace.scope(row), connector)
    finally:
        connector.close()


def run_sync_all(
    workspace: Workspace,
    connection: str | None,
    *,
    only: Iterable[str] | None = None,
    observer: Observer | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> RunResult:
    """Sync All on one connection (or the only one), optionally limited to some platform types."""
    with opened(
        workspace, connection, transport=transport, retry=retry, run=patience.RESUMES, observer=observer
    ) as session:
        profile = session.scope.profile
        wanted = frozenset(only) if only else None
        top = [m.type for m in profile.objects if m.part_of is None]
        if wanted:
            unknown = sorted(wanted - set(top))
            if unknown:
                raise ConfigError(
                    f"--object {unknown[0]} is not a type of profile {profile.name}; "
                    f"choose from {', '.join(top)}"
                )
        row = workspace.connection(connection)
        options = PullOptions(
            only=wanted,
            lookback=timedelta(seconds=int(row.settings.get("lookback_seconds", 300))),
            filters=workspace.filters(row),
        )
        return sync_all(workspace.engine, session.scope, session.connector, options, observer)


def run_reconcile(
    workspace: Workspace,
    connection: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    observer: Observer | None = None,
) -> Reconciled:
    """List every CRM id of the pull-enabled objects: remove what the CRM deleted, fetch what was missed."""
    with opened(
        workspace, connection, transport=transport, retry=retry, run=patience.RECONCILE, observer=observer
    ) as session:
        row = workspace.connection(connection)
        return reconcile(workspace.engine, session.scope, session.connector, filters=workspace.filters(row))


def run_push(
    workspace: Workspace,
    connection: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> PushReport:
    """Queue the captured user changes and push everything due, until the queue is drained."""
    total = PushReport()
    with (
        opened(workspace, connection, transport=transport, retry=retry) as session,
        push_watch.push_lease(workspace.engine, session.scope.connection_id),
    ):
        engine = workspace.engine
        while pusher.collect(engine, session.scope):
            pass
        while True:
            result = pusher.drain(engine, session.scope, session.connector)
            if not result.report.outcomes:
                break
            total.outcomes.update(result.report.outcomes)
            total.api_calls += result.report.api_calls
            if result.deferred == len(result.report.outcomes):
                break
    return total


def run_watch(
    workspace: Workspace,
    connection: str | None,
    stop: threading.Event,
    *,
    sweep_every: timedelta = timedelta(minutes=15),
    on_report: Callable[[pusher.DrainResult], None] | None = None,
    pulse: Pulse | None = None,
) -> None:
    """Push changes as they happen until ``stop`` is set (standing by while another pushes)."""
    with opened(workspace, connection) as session:
        push_watch.watch(
            workspace.engine,
            session.scope,
            session.connector,
            stop,
            sweep_every=sweep_every,
            on_report=on_report,
            pulse=pulse,
        )


def run_sweep(
    workspace: Workspace,
    connection: str | None,
    *,
    retry: RetryPolicy | None = None,
    observer: Observer | None = None,
) -> PushReport:
    """The safety-net sweep, now."""
    with (
        opened(workspace, connection, retry=retry, run=patience.PUSHES, observer=observer) as session,
        push_watch.push_lease(workspace.engine, session.scope.connection_id),
    ):
        return pusher.sweep(workspace.engine, session.scope, session.connector)


def run_resync(
    workspace: Workspace,
    connection: str | None,
    platform_type: str,
    *,
    ids: Sequence[int] = (),
    where: dict[str, str] | None = None,
    retry: RetryPolicy | None = None,
) -> PushReport:
    """Push records now (by id, or every record of a table view), bypassing locks."""
    with opened(workspace, connection, retry=retry) as session:
        types = [m.type for m in session.scope.profile.objects]
        if platform_type not in types:
            raise ConfigError(f"unknown platform type {platform_type!r}; choose from {', '.join(types)}")
        chosen = list(ids)
        if where:
            try:
                chosen += pusher.select_ids(workspace.engine, session.scope, platform_type, where)
            except KeyError as exc:
                raise ConfigError(
                    f"--where names column {exc.args[0]!r}, which {platform_type} does not have"
                ) from None
        if not chosen:
            raise ConfigError("name the records to resync: ids, or --where COLUMN=VALUE for a table view")
        return pusher.resync(
            workspace.engine, session.scope, session.connector, platform_type, sorted(set(chosen))
        )


def run_stamp_ids(
    workspace: Workspace,
    connection: str | None,
    *,
    retry: RetryPolicy | None = None,
    observer: Observer | None = None,
) -> StampResult:
    """Write platform ids onto linked CRM records that lack them."""
    with opened(workspace, connection, retry=retry, run=patience.STAMPS, observer=observer) as session:
        return stamp_ids(workspace.engine, session.scope, session.connector)


def list_archived(
    workspace: Workspace, connection: str | None = None, platform_type: str | None = None
) -> list[archive.Archived]:
    """Platform records archived because their CRM record was deleted or merged away, newest first."""
    connection_id = workspace.connection(connection).id if connection else None
    with reading(workspace.engine) as conn:
        return archive.listing(
            conn, workspace.organization_id, connection_id=connection_id, platform_type=platform_type
        )


def run_restore(
    workspace: Workspace,
    connection: str | None,
    platform_type: str,
    platform_id: int,
    *,
    retry: RetryPolicy | None = None,
) -> RestoreResult:
    """Restore an archived record (and those archived with it), linked again where the CRM has it."""
    with opened(workspace, connection, retry=retry) as session:
        if platform_type not in session.scope.profile.types():
            known = ", ".join(session.scope.profile.types())
            raise ConfigError(f"unknown platform type {platform_type!r}; choose from {known}")
        return restore(workspace.engine, session.scope, session.connector, platform_type, platform_id)
