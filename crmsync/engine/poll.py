"""Scheduled incremental pulls of org syncs, with a circuit breaker and an API budget.

One poll covers every due org sync of a connection: their objects are pulled as one run,
first pages in one Composite Batch call, in dependency order, through the same apply path
as Sync All. Each org sync keeps its own failure count: five failed calls in a row open
its circuit (no calls for it for a while, growing up to an hour, then one probe); the next
successful poll closes it. A fatal error (credentials, configuration) sets status Error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.datasources import backfill
from crmsync.engine.progress import Observer
from crmsync.engine.pull import PullOptions, RunResult, sync_all
from crmsync.errors import CrmsyncError, FatalError, RunBusyError
from crmsync.store import org_syncs, tenancy
from crmsync.store.db import reading
from crmsync.store.org_syncs import OrgSync
from crmsync.store.types import utcnow

OPEN_AFTER = 5
MAX_OPEN = timedelta(hours=1)


@dataclass
class PollResult:
    """What a poll did: the run (if any), the org syncs polled, and why it did not run."""

    run: RunResult | None = None
    polled: list[str] = field(default_factory=list)
    skipped: str | None = None
    failed: dict[str, str] = field(default_factory=dict)
    # Skipped because another pull (a batch of CDC events, a Sync All) held the connection.
    busy: bool = False


def due(
    engine: Engine, scope: Scope, *, now: datetime, methods: tuple[str, ...] = ("poll",)
) -> list[OrgSync]:
    """Enabled org syncs of the connection whose next poll has come (circuit probes included)."""
    with reading(engine) as conn:
        syncs = org_syncs.all_of(conn, scope.organization_id, scope.connection_id)
    return [
        s
        for s in syncs
        if s.enabled
        and not s.fatal_error
        and s.method in methods
        and (s.next_poll_at is None or s.next_poll_at <= now)
    ]


def types_for(scope: Scope, objects: set[str]) -> frozenset[str]:
    """Top-level platform types whose pull step reads one of these CRM objects."""
    wanted = {o.casefold() for o in objects}
    return frozenset(m.part_of or m.type for m in scope.profile.objects if m.object.casefold() in wanted)


def over_budget(connector: Connector, share: float) -> str | None:
    """Why scheduled work must wait for the API budget, or None."""
    usage = connector.api_usage
    if usage is None:
        return None
    used, limit = usage
    if limit and used >= share * limit:
        return (
            f"paused to keep API headroom: {used} of {limit} daily calls used, "
            f"crmsync may use {share:.0%}; scheduled polls resume when usage falls"
        )
    return None


def poll(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    options: PullOptions,
    *,
    syncs: list[OrgSync],
    budget_share: float = 0.5,
    observer: Observer | None = None,
    now: datetime | None = None,
) -> PollResult:
    """Pull what changed for ``syncs`` (one run), then record each one's success or failure."""
    now = now or utcnow()
    result = PollResult(polled=[s.crm_object for s in syncs])
    if not syncs:
        return result
    reason = over_budget(connector, budget_share)
    if reason is not None:
        result.skipped = reason
        with engine.begin() as conn:
            for sync in syncs:
                org_syncs.update(conn, scope.organization_id, sync.id, next_poll_at=now + _interval(sync))
        return result
    types = types_for(scope, {s.crm_object for s in syncs})
    try:
        # A new or changed data source imports every record it matches, not only changes.
        backfill(engine, scope, connector)
        run = sync_all(
            engine,
            scope,
            connector,
            replace(options, kind="poll", only=types, isolate=True),
            observer,
            batched=True,
        )
    except RunBusyError as exc:
        # Another process is pulling this connection right now: try again shortly.
        result.skipped = exc.message
        result.busy = True
        return result
    except CrmsyncError as exc:
        _record(engine, scope, syncs, {s.crm_object: exc for s in syncs}, now)
        result.failed = {s.crm_object: exc.message for s in syncs}
        return result
    result.run = run
    failures: dict[str, CrmsyncError] = {}
    for platform_type, error in run.object_errors.items():
        failures[scope.profile.mapping(platform_type).object.casefold()] = error
    by_object = {s.crm_object: failures.get(s.crm_object.casefold()) for s in syncs}
    _record(engine, scope, syncs, by_object, now)
    result.failed = {o: e.message for o, e in by_object.items() if e is not None}
    return result


def _record(
    engine: Engine, scope: Scope, syncs: list[OrgSync], errors: dict[str, CrmsyncError | None], now: datetime
) -> None:
    with engine.begin() as conn:
        for sync in syncs:
            error = errors.get(sync.crm_object)
            if error is None:
                org_syncs.record_success(
                    conn, scope.organization_id, sync, next_poll_at=now + _interval(sync)
                )
                continue
            failures = sync.consecutive_failures + 1
            org_syncs.record_failure(
                conn,
                scope.organization_id,
                sync,
                message=error.message,
                fatal=isinstance(error, FatalError),
                open_after=OPEN_AFTER,
                next_poll_at=now + _retry_delay(sync, failures),
            )


def _interval(sync: OrgSync) -> timedelta:
    return timedelta(minutes=sync.interval_minutes)


def _retry_delay(sync: OrgSync, failures: int) -> timedelta:
    """Before the circuit opens, the usual interval; once open, 1, 2, 4 ... minutes up to an hour."""
    if failures < OPEN_AFTER:
        return _interval(sync)
    return min(MAX_OPEN, timedelta(minutes=2 ** (failures - OPEN_AFTER)))


def connection_share(engine: Engine, scope: Scope) -> float:
    """The share of the org's daily API limit crmsync may use (connection setting, default 50%)."""
    with reading(engine) as conn:
        row = next(
            (r for r in tenancy.list_connections(conn, scope.organization_id) if r.id == scope.connection_id),
            None,
        )
    return float(row.settings.get("api_budget_share", 0.5)) if row else 0.5
