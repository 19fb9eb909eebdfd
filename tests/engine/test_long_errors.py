"""A 100 KB value Salesforce rejects: every place the error is stored keeps a capped copy."""

from __future__ import annotations

import sqlalchemy as sa
from engine_testkit import FAST, connect

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_push
from crmsync.engine.locks import list_locks
from crmsync.engine.workspace import Workspace
from crmsync.store import logs, push_state, records
from crmsync.store.db import reading
from crmsync.store.tables import push_queue
from crmsync.textcap import STORED

# 100 KB of text for a fund's description, which Salesforce holds up to 32,768 characters.
VALUE = "A generous description. " * 4369 + "e"
CAPPED = STORED + len("... [truncated, 105,000 characters in all]")


def test_a_rejected_100_kb_value_is_stored_capped_in_logs_queue_and_lock(
    workspace: Workspace, emulator: Emulator
) -> None:
    assert len(VALUE) == 104_857
    seed_npsp(emulator.org, 50, seed=31)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": True}})
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (fund,) = records.insert_many(conn, org, "funds", [{"name": "Long fund", "description": VALUE}])
    cid = workspace.connection("sf").id
    for attempt in range(push_state.LOCK_AFTER):
        if attempt:
            with workspace.engine.begin() as conn:
                push_state.enqueue(conn, org, cid, [("funds", fund, "upsert", None)])
        outcome = run_push(workspace, "sf", retry=FAST).outcomes[("funds", fund)]
        assert (outcome.status, outcome.code) == ("failed", "STRING_TOO_LONG")
        if attempt == 0:
            # Deferred for the next attempt, with the error it met.
            with reading(workspace.engine) as conn:
                queued = conn.execute(sa.select(push_queue.c.last_error)).scalar_one()
            assert VALUE[:100] in queued
            assert len(queued) <= CAPPED
            assert queued.endswith("characters in all]")
    with reading(workspace.engine) as conn:
        errors = logs.page(conn, org, status="error", direction="push")
    assert len(errors) == push_state.LOCK_AFTER
    for entry in errors:
        assert entry.message.startswith(
            f"funds {fund}: STRING_TOO_LONG: Description: data value too large: A "
        )
        assert len(entry.message) <= CAPPED
        assert entry.message.endswith("characters in all]")
        assert len(str(entry.details)) < 3 * CAPPED
    (lock,) = list_locks(workspace)
    assert lock.key == f"funds:{fund}"
    assert len(lock.last_error) <= CAPPED
    assert "truncated" in lock.last_error
