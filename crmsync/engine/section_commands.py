"""Section operations the CLI and the web app ask of the engine: fetch, sync one company, push
one model, the daily push now, the connection's user list."""

from __future__ import annotations

from datetime import timedelta

import httpx

from crmsync.connectors.retry import RetryPolicy
from crmsync.engine import manual, patience
from crmsync.engine.commands import opened
from crmsync.engine.daily import DailyResult, daily_push
from crmsync.engine.jobs import stamp_field
from crmsync.engine.progress import Observer
from crmsync.engine.pull import PullOptions, RunResult
from crmsync.engine.push import PushReport
from crmsync.engine.sections import TeamMember, connection_users
from crmsync.engine.workspace import Workspace


def pull_options(workspace: Workspace, connection: str | None) -> PullOptions:
    """How a connection's manual pulls read: its cursor field, lookback and filters."""
    row = workspace.connection(connection)
    return PullOptions(
        modstamp_field=stamp_field(row.settings, workspace.profile(row)),
        lookback=timedelta(seconds=int(row.settings.get("lookback_seconds", 300))),
        filters=workspace.filters(row),
    )


def run_fetch(
    workspace: Workspace,
    connection: str | None,
    *,
    section: str | None = None,
    full: bool = False,
    observer: Observer | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> RunResult:
    """Fetch (or, with ``full``, Full Fetch) every receiving section, or one."""
    options = pull_options(workspace, connection)
    after = patience.FULL_FETCH if full else patience.RESUMES
    with opened(
        workspace, connection, transport=transport, retry=retry, run=after, observer=observer
    ) as session:
        return manual.fetch(
            workspace.engine,
            session.scope,
            session.connector,
            options,
            section=section,
            full=full,
            observer=observer,
        )


def run_sync_company(
    workspace: Workspace,
    connection: str | None,
    record: str,
    *,
    section: str = "companies",
    observer: Observer | None = None,
    retry: RetryPolicy | None = None,
) -> manual.CompanySync:
    """Sync one company (a CRM id or a linked platform id) with its related records, plus team."""
    options = pull_options(workspace, connection)
    with opened(workspace, connection, retry=retry, run=patience.COMPANY, observer=observer) as session:
        return manual.sync_related(
            workspace.engine,
            session.scope,
            session.connector,
            options,
            section=section,
            record=record,
            observer=observer,
        )


def run_push_model(
    workspace: Workspace,
    connection: str | None,
    section: str,
    *,
    retry: RetryPolicy | None = None,
    observer: Observer | None = None,
) -> PushReport:
    """Push every record of one section now."""
    with opened(workspace, connection, retry=retry, run=patience.PUSHES, observer=observer) as session:
        return manual.push_model(workspace.engine, session.scope, session.connector, section)


def run_daily_push(
    workspace: Workspace,
    connection: str | None,
    *,
    retry: RetryPolicy | None = None,
    observer: Observer | None = None,
) -> DailyResult:
    """The daily push, now."""
    with opened(workspace, connection, retry=retry, run=patience.PUSHES, observer=observer) as session:
        return daily_push(workspace.engine, session.scope, session.connector)


def list_users(workspace: Workspace, connection: str | None) -> list[TeamMember]:
    """The connection's user list (its team section's linked records)."""
    row = workspace.connection(connection)
    return connection_users(workspace.engine, workspace.scope(row))
