"""Scheduled jobs of a connection: the incremental job and the daily push.

The **standard** incremental job runs every 10 minutes and reads what changed by
``LastModifiedDate`` (changes made by people). A connection may enable the **alternative**
job instead: every 30 minutes by ``SystemModstamp`` (every change, automations included);
then the standard one does not run. Either walks the sections in pull order, team first,
as one run whose first pages come in one call. The **daily push** runs once a day at the
connection's ``daily_push_at`` (UTC). When each job is next due is kept in the database,
so a restarted runner neither repeats nor skips one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.daily import DailyResult, daily_push
from crmsync.engine.poll import over_budget
from crmsync.engine.progress import Observer
from crmsync.engine.pull import PullOptions, RunResult, sync_all
from crmsync.errors import RunBusyError
from crmsync.model.profile import Condition, Profile
from crmsync.store import tenancy
from crmsync.store.db import reading

NEXT_INCREMENTAL = "jobs.incremental.next_at"
NEXT_DAILY_PUSH = "jobs.daily_push.next_at"
# A daily push that could not finish (the CRM was unreachable) is tried again this much later.
DAILY_RETRY = timedelta(minutes=15)


@dataclass(frozen=True)
class IncrementalJob:
    """One of the two incremental jobs: its name, the field it compares, how often it runs."""

    name: Literal["standard", "alternative"]
    field: str
    every: timedelta

    @property
    def kind(self) -> str:
        """The run kind it records (``incremental_standard``)."""
        return f"incremental_{self.name}"


STANDARD = IncrementalJob("standard", "LastModifiedDate", timedelta(minutes=10))
ALTERNATIVE = IncrementalJob("alternative", "SystemModstamp", timedelta(minutes=30))


def incremental_job(settings: Mapping[str, Any], profile: Profile) -> IncrementalJob | None:
    """The connection's incremental job, or None when it runs none (it keeps in step otherwise)."""
    enabled = settings.get("incremental_jobs")
    if not (profile.incremental_jobs if enabled is None else enabled):
        return None
    return ALTERNATIVE if settings.get("alternative_incremental") else STANDARD


def stamp_field(settings: Mapping[str, Any], profile: Profile) -> str:
    """The field the connection's cursors follow: its incremental job's, or ``incremental_field``."""
    job = incremental_job(settings, profile)
    return job.field if job else str(settings.get("incremental_field", "LastModifiedDate"))


def run_incremental(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    job: IncrementalJob,
    *,
    filters: Mapping[str, tuple[Condition, ...]],
    lookback: timedelta = timedelta(minutes=5),
    observer: Observer | None = None,
) -> RunResult:
    """One run of ``job``: every receiving section since its cursor, in order, team first."""
    options = PullOptions(
        kind=job.kind, modstamp_field=job.field, lookback=lookback, filters=dict(filters), isolate=True
    )
    return sync_all(engine, scope, connector, options, observer, batched=True)


def next_daily_push(settings: Mapping[str, Any], now: datetime) -> datetime:
    """The first moment after ``now`` at the connection's ``daily_push_at`` (HH:MM, UTC)."""
    hour, _, minute = str(settings.get("daily_push_at", "02:00")).partition(":")
    moment = datetime.combine(now.date(), time(int(hour), int(minute)), tzinfo=now.tzinfo)
    return moment if moment > now else moment + timedelta(days=1)


@dataclass
class Ran:
    """What ``run_due`` did (for the runner's log and tests)."""

    incremental: RunResult | None = None
    daily: DailyResult | None = None
    notes: list[str] = field(default_factory=list)


def run_due(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    settings: Mapping[str, Any],
    *,
    now: datetime,
    filters: Mapping[str, tuple[Condition, ...]],
    budget_share: float = 0.5,
) -> Ran:
    """Run the connection's jobs that are due at ``now``."""
    ran = Ran()
    job = incremental_job(settings, scope.profile)
    next_at = due_at(engine, scope, NEXT_INCREMENTAL)
    daily_at = due_at(engine, scope, NEXT_DAILY_PUSH)
    if job is not None and (next_at is None or next_at <= now):
        reason = over_budget(connector, budget_share)
        if reason is not None:
            ran.notes.append(f"{job.name} incremental job skipped: {reason}")
        else:
            try:
                lookback = timedelta(seconds=int(settings.get("lookback_seconds", 300)))
                ran.incremental = run_incremental(
                    engine, scope, connector, job, filters=filters, lookback=lookback
                )
            except RunBusyError as exc:
                # Another pull holds the connection: try again at the next tick.
                ran.notes.append(f"{job.name} incremental job waits: {exc.message}")
                return ran
        set_due_at(engine, scope, NEXT_INCREMENTAL, now + job.every)
    if not scope.profile.daily_push:
        return ran
    if daily_at is None:
        # First sight of the connection: the first daily push is at the next scheduled time.
        set_due_at(engine, scope, NEXT_DAILY_PUSH, next_daily_push(settings, now))
    elif daily_at <= now:
        try:
            ran.daily = daily_push(engine, scope, connector)
        except Exception:
            set_due_at(engine, scope, NEXT_DAILY_PUSH, now + DAILY_RETRY)
            raise
        set_due_at(engine, scope, NEXT_DAILY_PUSH, next_daily_push(settings, now))
    return ran


def due_at(engine: Engine, scope: Scope, key: str) -> datetime | None:
    """When the job kept under ``key`` in the connection's settings is next due (None: never set)."""
    with reading(engine) as conn:
        value = tenancy.get_setting(conn, scope.organization_id, key, connection_id=scope.connection_id)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def set_due_at(engine: Engine, scope: Scope, key: str, moment: datetime) -> None:
    """Keep when the job under ``key`` is next due."""
    with engine.begin() as conn:
        tenancy.put_setting(
            conn, scope.organization_id, key, moment.isoformat(), connection_id=scope.connection_id
        )
