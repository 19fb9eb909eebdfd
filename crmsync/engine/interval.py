"""Keeping in step without a change feed (Bloomerang): a pull on an interval, ids reconciled.

When each is next due is kept in the connection's settings, so a restarted runner neither
repeats a reconciliation it just did nor forgets one that is overdue.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.jobs import due_at, set_due_at
from crmsync.engine.pull import PullOptions, sync_all
from crmsync.engine.reconcile import reconcile
from crmsync.errors import RunBusyError
from crmsync.model.profile import Condition

NEXT_PULL = "jobs.pull.next_at"
NEXT_RECONCILE = "jobs.reconcile.next_at"


def run_interval_due(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    settings: Mapping[str, Any],
    *,
    now: datetime,
    filters: Mapping[str, tuple[Condition, ...]],
) -> list[str]:
    """Pull what changed and reconcile ids when due; returns one line per thing done."""
    done: list[str] = []
    pull_every = timedelta(minutes=float(settings.get("poll_minutes", 15)))
    reconcile_every = timedelta(hours=float(settings.get("reconcile_hours", 24)))
    next_pull = due_at(engine, scope, NEXT_PULL)
    next_reconcile = due_at(engine, scope, NEXT_RECONCILE)
    if next_reconcile is None:
        # The first reconciliation comes one period after the connection is first seen.
        set_due_at(engine, scope, NEXT_RECONCILE, now + reconcile_every)
        next_reconcile = now + reconcile_every
    try:
        if next_pull is None or next_pull <= now:
            options = PullOptions(
                kind="poll",
                lookback=timedelta(seconds=int(settings.get("lookback_seconds", 300))),
                filters=dict(filters),
            )
            result = sync_all(engine, scope, connector, options)
            set_due_at(engine, scope, NEXT_PULL, now + pull_every)
            done.append(f"pull {result.status}: {result.message} ({result.api_calls} API calls)")
        if next_reconcile <= now:
            found = reconcile(engine, scope, connector, filters=dict(filters))
            set_due_at(engine, scope, NEXT_RECONCILE, now + reconcile_every)
            done.append(
                f"reconciled ids: {sum(found.deleted.values())} deleted in the CRM, "
                f"{sum(found.missed.values())} missed records fetched ({found.api_calls} API calls)"
            )
    except RunBusyError as exc:
        done.append(f"waits: {exc.message}")
    return done
