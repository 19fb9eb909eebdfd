"""Runs: one execution (Sync All, a poll, a push drain) with counts and a final status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crmsync.store.tables import runs
from crmsync.store.types import utcnow

RUNNING = "running"
SUCCEEDED = "succeeded"
# Finished, but some records failed (each has an error log entry).
PARTIAL = "partial"
FAILED = "failed"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Run:
    """A stored run."""

    id: int
    connection_id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, dict[str, int]]
    api_calls: int
    message: str | None


def start(conn: sa.Connection, organization_id: int, connection_id: int, kind: str) -> int:
    """Record a new run as running; returns its id."""
    result = conn.execute(
        runs.insert().values(
            organization_id=organization_id,
            connection_id=connection_id,
            kind=kind,
            status=RUNNING,
            started_at=utcnow(),
            counts={},
            api_calls=0,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def interrupt_stale(conn: sa.Connection, organization_id: int, connection_id: int) -> int:
    """Mark runs left 'running' by a process that died as interrupted; returns how many."""
    result = conn.execute(
        runs.update()
        .where(
            runs.c.organization_id == organization_id,
            runs.c.connection_id == connection_id,
            runs.c.status == RUNNING,
        )
        .values(
            status=INTERRUPTED,
            finished_at=utcnow(),
            message="the process stopped before the run finished; the next run resumed from its checkpoints",
        )
    )
    return int(result.rowcount)


def save_progress(
    conn: sa.Connection,
    organization_id: int,
    run_id: int,
    counts: Mapping[str, Mapping[str, int]],
    api_calls: int,
) -> None:
    """Store the counts so far (in the same transaction as the page they count)."""
    conn.execute(
        runs.update()
        .where(runs.c.organization_id == organization_id, runs.c.id == run_id)
        .values(counts={k: dict(v) for k, v in counts.items()}, api_calls=api_calls)
    )


def finish(
    conn: sa.Connection,
    organization_id: int,
    run_id: int,
    *,
    status: str,
    counts: Mapping[str, Mapping[str, int]],
    api_calls: int,
    message: str | None,
) -> None:
    """Record the final status, counts and message of a run."""
    conn.execute(
        runs.update()
        .where(runs.c.organization_id == organization_id, runs.c.id == run_id)
        .values(
            status=status,
            finished_at=utcnow(),
            counts={k: dict(v) for k, v in counts.items()},
            api_calls=api_calls,
            message=message,
        )
    )


def get(conn: sa.Connection, organization_id: int, run_id: int) -> Run | None:
    """One run of the organization, or None."""
    row = conn.execute(
        sa.select(runs).where(runs.c.organization_id == organization_id, runs.c.id == run_id)
    ).first()
    return _run(row) if row is not None else None


def recent(
    conn: sa.Connection, organization_id: int, connection_id: int | None = None, limit: int = 20
) -> list[Run]:
    """The newest runs first."""
    query = sa.select(runs).where(runs.c.organization_id == organization_id)
    if connection_id is not None:
        query = query.where(runs.c.connection_id == connection_id)
    rows = conn.execute(query.order_by(runs.c.id.desc()).limit(limit))
    return [_run(r) for r in rows]


def _run(row: sa.Row[Any]) -> Run:
    return Run(
        id=row.id,
        connection_id=row.connection_id,
        kind=row.kind,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=dict(row.counts or {}),
        api_calls=row.api_calls,
        message=row.message,
    )
