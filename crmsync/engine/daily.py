"""The daily push: once a day, the profile's main sections go to the CRM in full.

Changes made by the application's automated jobs (origin ``system``: health scores, formula
fields, end users created from usage data) never trigger the real-time push; they reach the
CRM with the next user change of the record, or here. A section that sends is pushed whole
(every record, every sent field, parents first); a section that only receives sends its
``push`` fields (per-field overrides) onto the records it linked, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector
from crmsync.engine.apply import Scope
from crmsync.engine.full_push import push_all, push_fields
from crmsync.engine.push import PushReport, Status
from crmsync.engine.sections import OFF, sections, sent_only
from crmsync.errors import CrmsyncError
from crmsync.store import runs, tenancy
from crmsync.store.db import reading


@dataclass
class DailyResult:
    """What a daily push did, by section."""

    run_id: int
    status: str
    message: str
    reports: dict[str, PushReport] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    api_calls: int = 0

    def count(self, status: Status) -> int:
        """Records that ended with ``status`` (pushed, failed, skipped) over every section."""
        return sum(r.count(status) for r in self.reports.values())


def daily_push(engine: Engine, scope: Scope, connector: Connector) -> DailyResult:
    """Push the profile's daily sections now, as one run."""
    org, cid = scope.organization_id, scope.connection_id
    calls = connector.api_calls
    with engine.begin() as conn:
        run_id = runs.start(conn, org, cid, "daily_push")
    with reading(engine) as conn:
        toggles = tenancy.get_toggles(conn, org, cid)
    result = DailyResult(run_id, runs.RUNNING, "")
    wanted = set(scope.profile.daily_push)
    try:
        for mapping in sections(scope.profile):
            if mapping.type not in wanted:
                continue
            toggle = toggles.get(mapping.type, OFF)
            if toggle.push:
                result.reports[mapping.type] = push_all(engine, scope, connector, mapping.type, run_id=run_id)
            elif toggle.pull and sent_only(mapping):
                result.reports[mapping.type] = push_fields(engine, scope, connector, mapping, run_id=run_id)
            else:
                result.skipped[mapping.type] = (
                    f"{mapping.label_text} do not send and have no field to send (direction push)"
                )
    except CrmsyncError as exc:
        # The run's record says what stopped it (a CRM that stayed down: for how long).
        _finish(engine, scope, result, runs.FAILED, exc.message, calls, connector)
        raise
    except Exception:
        _finish(engine, scope, result, runs.FAILED, "the daily push stopped; see the log", calls, connector)
        raise
    failed = result.count("failed")
    if failed:
        message = f"{failed} records failed; see the error log"
        return _finish(engine, scope, result, runs.PARTIAL, message, calls, connector)
    message = f"pushed {result.count('pushed')} records in full or by field"
    return _finish(engine, scope, result, runs.SUCCEEDED, message, calls, connector)


def _finish(
    engine: Engine,
    scope: Scope,
    result: DailyResult,
    status: str,
    message: str,
    calls: int,
    connector: Connector,
) -> DailyResult:
    result.status, result.message = status, message
    result.api_calls = connector.api_calls - calls
    statuses: tuple[Status, ...] = ("pushed", "failed", "skipped")
    counts = {t: {str(s): r.count(s) for s in statuses} for t, r in result.reports.items()}
    with engine.begin() as conn:
        runs.finish(
            conn,
            scope.organization_id,
            result.run_id,
            status=status,
            counts=counts,
            api_calls=result.api_calls,
            message=message,
        )
    return result
