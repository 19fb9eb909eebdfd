"""Pushing so that no one record's exception stops the others.

A push fails per record through results (the CRM's answer, a value that cannot be read).
Anything else a record makes crmsync raise (a value no code path expected, the platform
refusing what the CRM holds) would end the whole push, and a pusher would meet it again at
every retry: nothing behind it would ever go. Such a push is tried again in halves down to
the record that raises, which fails alone like any failure (a log entry, a count, a lock
after three); the others go on. An error that is nobody's record (the CRM or the database
away, credentials) still ends the push, for the loop to wait out or report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.pulse import DATABASE_AWAY, first_line
from crmsync.engine.push import push
from crmsync.engine.push_report import Outcome, PushItem, PushReport
from crmsync.errors import CrmsyncError, RecordError
from crmsync.store import logs, push_state
from crmsync.store.logs import LogEntry

log = logging.getLogger("crmsync.push")
UNEXPECTED = "UNEXPECTED_ERROR"


def push_isolated(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    items: Sequence[PushItem],
    *,
    bypass_locks: bool = False,
    run_id: int | None = None,
) -> PushReport:
    """:func:`crmsync.engine.push.push`, with a record that raises failed alone."""
    error: Exception | None = None
    for attempt in range(2):
        try:
            return push(engine, scope, connector, items, bypass_locks=bypass_locks, run_id=run_id)
        except Exception as exc:  # sorted here: one record's fault, or the caller's to handle
            if not _records_fault(exc):
                raise
            error = exc
            # Most often another writer stored the same link or queue row a moment before:
            # once more, from what is stored now, before looking for a record to blame.
            if attempt == 0 and isinstance(exc, sa.exc.IntegrityError):
                continue
            break
    assert error is not None
    if len(items) == 1:
        return _fail_alone(engine, scope, items[0], error, run_id)
    half = len(items) // 2
    report = PushReport()
    for part in (items[:half], items[half:]):
        found = push_isolated(engine, scope, connector, part, bypass_locks=bypass_locks, run_id=run_id)
        report.outcomes.update(found.outcomes)
        report.api_calls += found.api_calls
        report.released += found.released
    return report


def _records_fault(error: Exception) -> bool:
    """Whether ``error`` may be one record's: not the CRM, the database or the setup failing."""
    if isinstance(error, RecordError):
        return True
    return not isinstance(error, (CrmsyncError, *DATABASE_AWAY))


def _fail_alone(
    engine: Engine, scope: Scope, item: PushItem, error: Exception, run_id: int | None
) -> PushReport:
    """Record the failure of the record that raises, as any failure is recorded."""
    org, cid = scope.organization_id, scope.connection_id
    log.error("pushing %s:%s raised", *item.key, exc_info=error)
    message = (
        f"{UNEXPECTED}: crmsync could not push it ({first_line(error)}); the other records went on. "
        "Check the record's values; if they look right, report this message to crmsync's maintainers"
    )
    with engine.begin() as conn:
        failures = push_state.record_failure(
            conn,
            org,
            cid,
            *item.key,
            code=UNEXPECTED,
            message=message,
            operation=item.operation,
            crm_id=item.crm_id,
        )
        locked = failures >= push_state.LOCK_AFTER
        suffix = f"; locked after {failures} failures in a row" if locked else ""
        noun = f"{scope.profile.mapping(item.platform_type).label_text} {item.platform_id}"
        entry = LogEntry(
            data_type=item.platform_type,
            action="delete" if item.operation == "delete" else "push",
            direction="push",
            status="error",
            message=f"{noun}: {message}{suffix}",
            platform_id=item.platform_id,
            details={"code": UNEXPECTED},
        )
        logs.write(conn, org, [entry], connection_id=cid, run_id=run_id)
    report = PushReport()
    report.outcomes[item.key] = Outcome("failed", message, code=UNEXPECTED, locked=locked)
    return report
