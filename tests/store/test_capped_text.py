"""Error text is stored capped wherever it goes (log entries, push queue, failures, runs, org
syncs, pull retries), whichever function writes it."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import testkit

from crmsync.engine.workspace import Workspace
from crmsync.store import bulk, logs, org_syncs, push_state, retries, runs
from crmsync.store.db import reading
from crmsync.store.tables import pull_retries, push_queue
from crmsync.store.types import utcnow
from crmsync.textcap import STORED

# What Salesforce answers to a 100 KB value in a 32 KB field: the whole value, quoted.
HUGE = "STRING_TOO_LONG: Description: data value too large: " + "v" * 104_805 + " (max length=32768)"
NOTE = f"... [truncated, {len(HUGE):,} characters in all]"


def _assert_capped(stored: str | None) -> None:
    assert stored == HUGE[:STORED] + NOTE


def test_log_entries_cap_messages_and_details_on_both_insert_paths(workspace: Workspace) -> None:
    org, cid = workspace.organization_id, testkit.bare_connection(workspace, "sf")
    entry = logs.LogEntry(
        "funds", "push", "push", "error", HUGE, platform_id=1, details={"errors": [{"message": HUGE}]}
    )
    with workspace.engine.begin() as conn:
        logs.write(
            conn, org, [entry, entry._replace(message="short", details=None)], connection_id=cid, run_id=None
        )
        same = {"data_type": "funds", "action": "create", "direction": "pull", "status": "processed"}
        columns = {"message": [HUGE, "created"], "crm_id": ["a", "b"], "details": [{"v": HUGE}, None]}
        target = bulk.Target.of(conn)
        bulk.run(conn, logs.column_statements(target, org, same, columns, connection_id=cid, run_id=None))
    with reading(workspace.engine) as conn:
        entries = logs.page(conn, org, limit=10)
    by_id = sorted(entries, key=lambda e: e.id)
    _assert_capped(by_id[0].message)
    assert by_id[0].details is not None
    _assert_capped(by_id[0].details["errors"][0]["message"])
    assert (by_id[1].message, by_id[1].details) == ("short", None)
    _assert_capped(by_id[2].message)
    assert by_id[2].details is not None
    _assert_capped(by_id[2].details["v"])
    assert (by_id[3].message, by_id[3].details) == ("created", None)


def test_the_push_queue_and_record_failures_cap_last_error(workspace: Workspace) -> None:
    org, cid = workspace.organization_id, testkit.bare_connection(workspace, "sf")
    with workspace.engine.begin() as conn:
        push_state.enqueue(conn, org, cid, [("funds", 7, "upsert", None)])
        push_state.defer(conn, org, cid, [("funds", 7)], delay=timedelta(0), error=HUGE)
        for _ in range(push_state.LOCK_AFTER):
            push_state.record_failure(conn, org, cid, "funds", 7, code="STRING_TOO_LONG", message=HUGE)
    with reading(workspace.engine) as conn:
        _assert_capped(conn.execute(sa.select(push_queue.c.last_error)).scalar_one())
        (lock,) = push_state.locks(conn, org, cid)
    _assert_capped(lock.last_error)
    assert lock.last_error_code == "STRING_TOO_LONG"


def test_runs_org_syncs_and_pull_retries_cap_their_messages(workspace: Workspace) -> None:
    org, cid = workspace.organization_id, testkit.bare_connection(workspace, "sf")
    with workspace.engine.begin() as conn:
        run_id = runs.start(conn, org, cid, "sync_all")
        runs.finish(conn, org, run_id, status=runs.FAILED, counts={}, api_calls=0, message=HUGE)
        sync = org_syncs.add(conn, org, cid, "Contact")
        failed = org_syncs.record_failure(
            conn, org, sync, message=HUGE, fatal=True, open_after=5, next_poll_at=utcnow()
        )
        entry = logs.LogEntry("supporters", "pull", "pull", "error", HUGE, crm_id="003A")
        for _ in range(2):
            failure = retries.Failure("003A", "INVALID_VALUE", entry)
            retries.note_failures(conn, org, cid, "supporters", [failure], run_id=None)
    with reading(workspace.engine) as conn:
        run = runs.get(conn, org, run_id)
        reason = conn.execute(sa.select(pull_retries.c.reason)).scalar_one()
    assert run is not None
    _assert_capped(run.message)
    _assert_capped(failed.last_error)
    _assert_capped(failed.fatal_error)
    _assert_capped(reason)
    # Said once, however long: the repeat updates the entry it wrote, and says so.
    with reading(workspace.engine) as conn:
        (stored,) = [e for e in logs.page(conn, org) if e.crm_id == "003A"]
    assert stored.message.startswith(HUGE[:1000])
    assert len(stored.message) <= STORED + len(NOTE)
    assert stored.message.endswith(" UTC)")
    assert "(seen 2 times" in stored.message
