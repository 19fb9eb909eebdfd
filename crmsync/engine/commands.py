"""The operations that the CLI, the web app and the runner ask of the engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import httpx

from crmsync.connectors.salesforce.client import RetryPolicy
from crmsync.engine.apply import Scope
from crmsync.engine.progress import Observer
from crmsync.engine.pull import PullOptions, RunResult, sync_all
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError


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
    row = workspace.connection(connection)
    profile = workspace.profile(row)
    wanted = frozenset(only) if only else None
    if wanted:
        unknown = sorted(wanted - {m.type for m in profile.objects if m.part_of is None})
        if unknown:
            raise ConfigError(
                f"--object {unknown[0]} is not a type of profile {profile.name}; "
                f"choose from {', '.join(m.type for m in profile.objects if m.part_of is None)}"
            )
    options = PullOptions(
        only=wanted,
        lookback=timedelta(seconds=int(row.settings.get("lookback_seconds", 300))),
        filters=workspace.filters(row),
    )
    connector = workspace.connector(row, transport=transport, retry=retry)
    try:
        scope = Scope(workspace.organization_id, row.id, profile)
        return sync_all(workspace.engine, scope, connector, options, observer)
    finally:
        connector.close()
