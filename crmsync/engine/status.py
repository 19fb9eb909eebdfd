"""Status of every connection: org syncs, last runs, locks and the push queue, as data."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from crmsync.engine.workspace import Workspace
from crmsync.store import leases, loops, org_syncs, push_state, retries, runs, tenancy
from crmsync.store.db import reading
from crmsync.store.types import utcnow


def status(workspace: Workspace) -> dict[str, Any]:
    """A JSON-ready picture of the organization's connections (no secrets)."""
    org = workspace.organization_id
    now = utcnow()
    connections = []
    with reading(workspace.engine) as conn:
        for row in tenancy.list_connections(conn, org):
            last = runs.recent(conn, org, row.id, limit=1)
            syncs = org_syncs.all_of(conn, org, row.id)
            running = [_loop(loop, now) for loop in loops.all_of(conn, org, row.id)]
            dead = [loop for loop in running if loop["state"] != loops.STOPPED and not loop["alive"]]
            connections.append(
                {
                    "name": row.name,
                    "crm": row.crm,
                    "profile": row.profile,
                    # A loop that should run and does not: nothing moves, whatever the syncs say.
                    "status": "Error" if dead else _connection_status([s.status for s in syncs]),
                    "problem": dead[0]["problem"] if dead else None,
                    "loops": running,
                    "last_run": (
                        {
                            "id": last[0].id,
                            "kind": last[0].kind,
                            "status": last[0].status,
                            "started_at": last[0].started_at,
                            "finished_at": last[0].finished_at,
                            "message": last[0].message,
                        }
                        if last
                        else None
                    ),
                    "org_syncs": [
                        {
                            "object": s.crm_object,
                            "method": s.method,
                            "interval_minutes": s.interval_minutes,
                            "enabled": s.enabled,
                            "status": s.status,
                            "last_sync": s.last_sync_at,
                            "error_total": s.error_total,
                            "last_error": s.last_error,
                            "next_poll": s.next_poll_at,
                        }
                        for s in syncs
                    ],
                    "locks": len(push_state.locks(conn, org, row.id)) + len(retries.locks(conn, org, row.id)),
                    "queue_depth": push_state.depth(conn, org, row.id),
                    "error_total": sum(s.error_total for s in syncs),
                }
            )
    return {"organization": org, "connections": connections}


def _loop(loop: loops.Loop, now: datetime) -> dict[str, Any]:
    """A loop as status shows it: alive or not, its heartbeat and last error, and if it is
    not alive, what that means."""
    alive = loop.alive(now)
    problem = None
    if not alive and loop.state == loops.RESTARTING:
        problem = f"the {loop.kind} stopped on an error and is being restarted: {loop.last_error}"
    elif not alive and loop.state != loops.STOPPED:
        beat = f"{loop.heartbeat_at or loop.seen_at:%Y-%m-%d %H:%M:%S}"
        problem = (
            f"the {loop.kind} is not running: no heartbeat from process {leases.process_of(loop.owner)} "
            f"since {beat} UTC (it was killed, or hangs); start `crmsync run` (or `push --watch`) again"
        )
    shown = asdict(loop)
    del shown["connection_id"]
    return {**shown, "alive": alive, "problem": problem}


def _connection_status(statuses: list[str]) -> str:
    """The worst org sync status (Error, Circuit open, Active, Paused), or Active without any."""
    for candidate in ("Error", "Circuit open", "Active"):
        if candidate in statuses:
            return candidate
    return "Paused" if statuses else "Active"
