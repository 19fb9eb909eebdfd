"""The push queue and failure counts: coalescing, batched removal, locks."""

from __future__ import annotations

import threading
from datetime import timedelta

from crmsync.config import SalesforceConfig
from crmsync.engine.workspace import Workspace
from crmsync.store import push_state
from crmsync.store.db import reading
from crmsync.store.types import utcnow


def _connection(workspace: Workspace) -> int:
    config = SalesforceConfig.model_validate(
        {
            "login_url": "http://127.0.0.1:9",
            "auth": "password",
            "client_id": "id",
            "client_secret": "secret",
            "username": "user@example.org",
            "password": "password",
        }
    )
    return workspace.register("sf", config).id


def _queue(workspace: Workspace, cid: int) -> dict[tuple[str, int], push_state.QueueItem]:
    with reading(workspace.engine) as conn:
        items = push_state.due(conn, workspace.organization_id, cid, limit=100)
    return {(i.platform_type, i.platform_id): i for i in items}


def test_enqueue_coalesces_and_keeps_a_known_crm_id(workspace: Workspace) -> None:
    org, cid = workspace.organization_id, _connection(workspace)
    with workspace.engine.begin() as conn:
        assert (
            push_state.enqueue(
                conn,
                org,
                cid,
                [
                    ("supporters", 1, "upsert", None),
                    ("supporters", 2, "upsert", None),
                    ("funds", 3, "delete", "a0X"),
                ],
            )
            == 3
        )
        push_state.defer(conn, org, cid, [("supporters", 2)], delay=timedelta(hours=1), error="down")
    assert set(_queue(workspace, cid)) == {("supporters", 1), ("funds", 3)}
    with workspace.engine.begin() as conn:
        push_state.enqueue(
            conn,
            org,
            cid,
            [
                ("funds", 3, "upsert", None),
                ("supporters", 1, "delete", "003A"),
                ("supporters", 1, "upsert", None),
                ("supporters", 2, "upsert", None),
            ],
        )
    queue = _queue(workspace, cid)
    assert set(queue) == {("supporters", 1), ("supporters", 2), ("funds", 3)}
    assert (queue[("funds", 3)].operation, queue[("funds", 3)].crm_id) == ("upsert", "a0X")
    assert (queue[("supporters", 1)].operation, queue[("supporters", 1)].crm_id) == ("upsert", "003A")
    # A new change makes a deferred record due at once; its attempts are kept.
    assert queue[("supporters", 2)].attempts == 1


def test_dequeue_in_batches_and_only_what_was_queued_before(workspace: Workspace) -> None:
    org, cid = workspace.organization_id, _connection(workspace)
    before = utcnow() - timedelta(seconds=1)
    with workspace.engine.begin() as conn:
        push_state.enqueue(conn, org, cid, [("supporters", i, "upsert", None) for i in range(1, 1001)])
        push_state.enqueue(conn, org, cid, [("funds", 1, "upsert", None)])
    with workspace.engine.begin() as conn:
        # Queued after ``before``: a record that changed again stays.
        push_state.dequeue(conn, org, cid, [("funds", 1)], queued_before=before)
        push_state.dequeue(conn, org, cid, [("supporters", i) for i in range(1, 1000)])
    with reading(workspace.engine) as conn:
        assert push_state.depth(conn, org, cid) == 2
    assert set(_queue(workspace, cid)) == {("supporters", 1000), ("funds", 1)}


def test_clear_failures_lifts_only_the_given_locks(workspace: Workspace) -> None:
    org, cid = workspace.organization_id, _connection(workspace)
    with workspace.engine.begin() as conn:
        for platform_id in (1, 2):
            for _ in range(push_state.LOCK_AFTER):
                push_state.record_failure(conn, org, cid, "supporters", platform_id, code="X", message="no")
        push_state.clear_failures(conn, org, cid, [("supporters", 1), ("funds", 9)])
    with reading(workspace.engine) as conn:
        assert [lock.key for lock in push_state.locks(conn, org, cid)] == ["supporters:2"]
        assert push_state.locked_ids(conn, org, cid, "supporters", [1, 2]) == {2: 3}


def test_two_transactions_queueing_the_same_record_coalesce(workspace: Workspace) -> None:
    """A lock lifted in one process while the pusher of another queues the same record."""
    org, cid = workspace.organization_id, _connection(workspace)
    with workspace.engine.connect() as first:
        held = first.begin()
        push_state.enqueue(first, org, cid, [("supporters", 7, "upsert", None)])
        done = threading.Event()

        def queue_too() -> None:
            with workspace.engine.begin() as conn:
                push_state.enqueue(conn, org, cid, [("supporters", 7, "delete", "003A")])
            done.set()

        second = threading.Thread(target=queue_too)
        second.start()
        # On PostgreSQL the second waits on the first's row; on SQLite on its write lock.
        assert not done.wait(0.3)
        held.commit()
        second.join(timeout=30)
    assert done.is_set()
    (item,) = _queue(workspace, cid).values()
    assert (item.operation, item.crm_id) == ("delete", "003A")
