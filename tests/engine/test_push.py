"""Push: change capture, parents first, matching, idempotent retries, locks, sweep, Resync."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from engine_testkit import FAST, bare_connection, connect, live, sync

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine import push_watch, pusher
from crmsync.engine.apply import Scope
from crmsync.engine.commands import run_push, run_resync, run_stamp_ids, run_sweep
from crmsync.engine.locks import archive_locks, list_locks
from crmsync.engine.workspace import Workspace
from crmsync.errors import TransientError
from crmsync.store import capture, logs, push_state, records, tenancy
from crmsync.store.db import reading
from crmsync.store.tables import changes, links

PUSH_ALL = {"default": {"pull": True, "push": True}}


def _scope(workspace: Workspace) -> Scope:
    row = workspace.connection("sf")
    return Scope(workspace.organization_id, row.id, workspace.profile(row))


def _donation(
    workspace: Workspace, email: str = "ada@example.org", *, fund: int | None = None
) -> dict[str, int]:
    """A new household, supporter, gift and allocation written by the application."""
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (household,) = records.insert_many(conn, org, "households", [{"name": "Lovelace Household"}])
        (supporter,) = records.insert_many(
            conn,
            org,
            "supporters",
            [{"first_name": "Ada", "last_name": "Lovelace", "email": email, "household_id": household}],
        )
        if fund is None:
            (fund,) = records.insert_many(conn, org, "funds", [{"name": "Analytical Engine Fund"}])
        (gift,) = records.insert_many(
            conn,
            org,
            "transactions",
            [
                {
                    "name": "Ada's gift",
                    "amount": 25,
                    "close_date": date(2026, 1, 5),
                    "stage": "Closed Won",
                    "supporter_id": supporter,
                    "household_id": household,
                }
            ],
        )
        (allocation,) = records.insert_many(
            conn, org, "fund_allocations", [{"fund_id": fund, "transaction_id": gift, "amount": 25}]
        )
    return {
        "household": household,
        "supporter": supporter,
        "fund": fund,
        "gift": gift,
        "allocation": allocation,
    }


def _crm_by_platform_id(emulator: Emulator, object_name: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in live(emulator, object_name):
        if row.get("Platform_Id__c"):
            found.setdefault(row["Platform_Id__c"], []).append(dict(row))
    return found


def test_changes_are_captured_with_their_origin_even_from_plain_sql(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (fund,) = records.insert_many(conn, org, "funds", [{"name": "user"}])
        with capture.origin(conn, "system"):
            records.update_many(conn, org, "funds", [(fund, {"name": "system"})])
        with capture.origin(conn, "sync"):
            records.update_many(conn, org, "funds", [(fund, {"name": "sync"})])
        now = "2026-01-01 00:00:00" if conn.dialect.name == "sqlite" else "2026-01-01T00:00:00Z"
        conn.exec_driver_sql(
            "INSERT INTO funds (organization_id, name, created_at, updated_at) "
            f"VALUES ({org}, 'raw', '{now}', '{now}')"
        )
        conn.exec_driver_sql(f"DELETE FROM funds WHERE id = {fund}")
    with reading(workspace.engine) as conn:
        rows = conn.execute(sa.select(changes.c.operation, changes.c.origin).order_by(changes.c.id)).all()
        if conn.dialect.name == "sqlite":
            assert conn.execute(sa.text("SELECT count(*) FROM crmsync_origin")).scalar() == 0
    assert [tuple(r) for r in rows] == [
        ("insert", "user"),
        ("update", "system"),
        ("update", "sync"),
        ("insert", "user"),
        ("delete", "user"),
    ]


def test_a_failed_transaction_leaves_no_change_and_no_origin(workspace: Workspace) -> None:
    org = workspace.organization_id

    def write_then_fail() -> None:
        with workspace.engine.begin() as conn, capture.origin(conn, "sync"):
            records.insert_many(conn, org, "funds", [{"name": "rolled back"}])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    with workspace.engine.begin() as conn:
        records.insert_many(conn, org, "funds", [{"name": "after"}])
    with reading(workspace.engine) as conn:
        assert [r.origin for r in conn.execute(sa.select(changes.c.origin))] == ["user"]


def test_a_new_donation_goes_parents_first_in_one_graph_call(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 150, seed=21)
    connect(workspace, emulator, toggles=PUSH_ALL)
    ids = _donation(workspace)
    before = emulator.state.usage.by_resource.copy()
    report = run_push(workspace, "sf", retry=FAST)
    used = emulator.state.usage.by_resource - before
    assert report.count("pushed") == 5, report.outcomes
    assert used["composite/graph"] == 1
    assert sum(used[k] for k in used if k.startswith("composite")) == 1
    contacts = _crm_by_platform_id(emulator, "Contact")
    (contact,) = contacts[f"supporters:{ids['supporter']}"]
    (household,) = _crm_by_platform_id(emulator, "Account")[f"households:{ids['household']}"]
    (gift,) = _crm_by_platform_id(emulator, "Opportunity")[f"transactions:{ids['gift']}"]
    (allocation,) = _crm_by_platform_id(emulator, "npsp__Allocation__c")[
        f"fund_allocations:{ids['allocation']}"
    ]
    record_types = {r["Id"]: r["DeveloperName"] for r in emulator.org.scan("RecordType")}
    assert record_types[household["RecordTypeId"]] == "HH_Account"
    assert contact["AccountId"] == household["Id"]
    assert gift["npsp__Primary_Contact__c"] == contact["Id"]
    assert gift["AccountId"] == household["Id"]
    assert gift["StageName"] == "Closed Won"
    assert allocation["npsp__Opportunity__c"] == gift["Id"]
    with reading(workspace.engine) as conn:
        stored = {(r.platform_type, r.platform_id): r.crm_id for r in conn.execute(sa.select(links))}
    assert stored[("supporters", ids["supporter"])] == contact["Id"]
    # Pushing the same records again updates them by id: nothing new in the CRM.
    with workspace.engine.begin() as conn:
        records.update_many(
            conn, workspace.organization_id, "supporters", [(ids["supporter"], {"phone": "555-0142"})]
        )
    again = run_push(workspace, "sf", retry=FAST)
    assert again.count("pushed") == 1
    assert len(_crm_by_platform_id(emulator, "Contact")[f"supporters:{ids['supporter']}"]) == 1
    assert emulator.org.get("Contact", contact["Id"])["Phone"] == "555-0142"  # type: ignore[index]


def test_a_lost_response_is_retried_without_duplicates(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 150, seed=22)
    connect(workspace, emulator, toggles=PUSH_ALL)
    ids = _donation(workspace)
    emulator.state.faults.add(
        {"kind": "drop_after_write", "path_prefix": "/services/data/v61.0/composite", "count": 1}
    )
    report = run_push(workspace, "sf", retry=FAST)
    assert report.count("pushed") == 5
    for object_name, key in (
        ("Contact", f"supporters:{ids['supporter']}"),
        ("Account", f"households:{ids['household']}"),
        ("Opportunity", f"transactions:{ids['gift']}"),
    ):
        assert len(_crm_by_platform_id(emulator, object_name)[key]) == 1


def test_a_record_deleted_after_its_create_lost_its_answer_is_deleted_in_the_crm_too(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 150, seed=24)
    connect(workspace, emulator, toggles={"default": {"pull": False, "push": True}})
    with workspace.engine.begin() as conn:
        (supporter,) = records.insert_many(
            conn, workspace.organization_id, "supporters", [{"last_name": "Orphan", "email": None}]
        )
    # Every write lands in Salesforce but its answer is lost: no link is ever stored.
    emulator.state.faults.add(
        {"kind": "drop_after_write", "path_prefix": "/services/data/v61.0/composite", "count": 50}
    )
    with pytest.raises(TransientError):
        run_push(workspace, "sf", retry=FAST)
    emulator.state.faults.clear()
    key = f"supporters:{supporter}"
    assert len(_crm_by_platform_id(emulator, "Contact")[key]) == 1
    with workspace.engine.begin() as conn:
        records.delete(conn, workspace.organization_id, "supporters", supporter)
    run_push(workspace, "sf", retry=FAST)
    assert key not in _crm_by_platform_id(emulator, "Contact")


def test_existing_crm_contact_is_matched_by_email_not_duplicated(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 150, seed=23)
    connect(workspace, emulator, toggles={"default": {"pull": False, "push": True}})
    existing = emulator.org.insert("Contact", {"LastName": "Lovelace", "Email": "ADA@example.org"})
    contacts_before = len(live(emulator, "Contact"))
    ids = _donation(workspace, email=" ada@EXAMPLE.org ")
    report = run_push(workspace, "sf", retry=FAST)
    assert report.outcomes[("supporters", ids["supporter"])].crm_id == existing
    assert len(live(emulator, "Contact")) == contacts_before
    assert emulator.org.get("Contact", existing)["Platform_Id__c"] == f"supporters:{ids['supporter']}"  # type: ignore[index]


def test_push_toggle_off_is_logged_as_skipped(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 100, seed=24)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": False}})
    with workspace.engine.begin() as conn:
        (fund,) = records.insert_many(conn, workspace.organization_id, "funds", [{"name": "Quiet fund"}])
    report = run_push(workspace, "sf", retry=FAST)
    assert report.outcomes[("funds", fund)].status == "skipped"
    with reading(workspace.engine) as conn:
        (entry,) = logs.page(conn, workspace.organization_id, direction="push")
        assert push_state.depth(conn, workspace.organization_id, _scope(workspace).connection_id) == 0
    assert entry.status == "skipped"
    assert "push toggle of funds is off" in entry.message
    assert not _crm_by_platform_id(emulator, "npsp__General_Accounting_Unit__c")


def test_validation_failures_lock_after_three_then_archive_and_resync(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 100, seed=25)
    connect(workspace, emulator, toggles=PUSH_ALL)
    httpx.post(
        f"{emulator.base_url}/__emulator__/rules",
        json={
            "name": "Phone_Format",
            "object": "Contact",
            "when": {"field": "Phone", "op": "contains", "value": "x"},
            "message": "Phone numbers may only contain digits",
            "field": "Phone",
        },
    ).raise_for_status()
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (bad,) = records.insert_many(conn, org, "supporters", [{"last_name": "Bad", "phone": "12x4"}])
        (good,) = records.insert_many(conn, org, "supporters", [{"last_name": "Good", "phone": "1234"}])
    scope = _scope(workspace)
    for attempt in range(3):
        if attempt:
            with workspace.engine.begin() as conn:
                push_state.enqueue(conn, org, scope.connection_id, [("supporters", bad, "upsert", None)])
        report = run_push(workspace, "sf", retry=FAST)
        assert report.outcomes[("supporters", bad)].status == "failed"
    assert report.outcomes[("supporters", bad)].locked
    assert report.outcomes[("supporters", bad)].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    with reading(workspace.engine) as conn:
        errors = logs.page(conn, org, status="error", direction="push")
    assert errors[0].message.startswith(f"supporters {bad}: FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone numbers")
    assert "locked after 3 failures" in errors[0].message
    (lock,) = list_locks(workspace)
    assert lock.key == f"supporters:{bad}"
    # Automatic pushes and the sweep leave a locked record alone.
    with workspace.engine.begin() as conn:
        records.update_many(conn, org, "supporters", [(bad, {"title": "still bad"})])
    assert run_push(workspace, "sf", retry=FAST).outcomes[("supporters", bad)].status == "skipped"
    assert ("supporters", bad) not in run_sweep(workspace, "sf", retry=FAST).outcomes
    assert _crm_by_platform_id(emulator, "Contact").get(f"supporters:{good}")
    # Fix the rule, archive the lock: the record is pushed again and the lock is gone.
    httpx.delete(f"{emulator.base_url}/__emulator__/rules").raise_for_status()
    assert archive_locks(workspace, [lock.key]) == 1
    assert run_push(workspace, "sf", retry=FAST).outcomes[("supporters", bad)].status == "pushed"
    assert list_locks(workspace) == []


def test_resync_bypasses_locks_and_clears_them(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 100, seed=26)
    connect(workspace, emulator, toggles=PUSH_ALL)
    org = workspace.organization_id
    scope = _scope(workspace)
    with workspace.engine.begin() as conn:
        (fund,) = records.insert_many(conn, org, "funds", [{"name": "Locked fund"}])
        for _ in range(3):
            push_state.record_failure(
                conn, org, scope.connection_id, "funds", fund, code="X", message="earlier"
            )
    assert run_sweep(workspace, "sf", retry=FAST).outcomes.get(("funds", fund)) is None
    report = run_resync(workspace, "sf", "funds", where={"name": "Locked fund"}, retry=FAST)
    assert report.outcomes[("funds", fund)].status == "pushed"
    assert list_locks(workspace) == []


def test_the_sweep_pushes_unlinked_records_that_meet_the_filter(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 100, seed=27)
    connect(workspace, emulator, toggles=PUSH_ALL)
    org = workspace.organization_id
    with workspace.engine.begin() as conn, capture.origin(conn, "system"):
        # System writes are not pushed at once; the sweep finds them.
        (campaign,) = records.insert_many(conn, org, "campaigns", [{"name": "Spring appeal"}])
        (pledge_like,) = records.insert_many(
            conn,
            org,
            "transactions",
            [{"name": "Not a gift", "stage": "Pledged", "close_date": date(2026, 2, 1)}],
        )
    assert run_push(workspace, "sf", retry=FAST).outcomes == {}
    report = run_sweep(workspace, "sf", retry=FAST)
    assert report.outcomes[("campaigns", campaign)].status == "pushed"
    assert ("transactions", pledge_like) not in report.outcomes
    assert _crm_by_platform_id(emulator, "Campaign").get(f"campaigns:{campaign}")


def test_deleting_a_synced_record_deletes_it_in_the_crm(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 200, seed=28)
    connect(workspace, emulator, toggles=PUSH_ALL)
    sync(workspace)
    member = live(emulator, "CampaignMember")[0]["Id"]
    with reading(workspace.engine) as conn:
        platform_id = conn.execute(
            sa.select(links.c.platform_id).where(links.c.crm_id == member)
        ).scalar_one()
    with workspace.engine.begin() as conn:
        records.delete(conn, workspace.organization_id, "campaign_members", platform_id)
    report = run_push(workspace, "sf", retry=FAST)
    assert report.outcomes[("campaign_members", platform_id)].status == "pushed"
    assert emulator.org.get("CampaignMember", member)["IsDeleted"] is True  # type: ignore[index]
    with reading(workspace.engine) as conn:
        assert conn.execute(sa.select(links.c.id).where(links.c.crm_id == member)).first() is None


def test_pull_writes_are_never_pushed_back(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 200, seed=29)
    connect(workspace, emulator, toggles=PUSH_ALL)
    sync(workspace)
    before = emulator.state.usage.used
    report = run_push(workspace, "sf", retry=FAST)
    assert report.outcomes == {}
    assert emulator.state.usage.used == before


def test_stamp_ids_then_the_next_pull_applies_nothing(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 300, seed=30)
    connect(workspace, emulator)
    sync(workspace)
    result = run_stamp_ids(workspace, "sf", retry=FAST)
    linked = sum(1 for _ in live(emulator, "Contact"))
    assert result.stamped["supporters"] == linked
    assert all(c["Platform_Id__c"] for c in live(emulator, "Contact"))
    with reading(workspace.engine) as conn:
        watermark = push_state.latest_change_id(conn)
    again = sync(workspace)
    assert sum(c.created + c.updated for c in again.counts.values()) == 0
    with reading(workspace.engine) as conn:
        assert push_state.latest_change_id(conn) == watermark


def test_watch_pushes_a_change_within_a_second(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 100, seed=31)
    connect(workspace, emulator, toggles=PUSH_ALL)
    scope = _scope(workspace)
    stop = threading.Event()
    row = workspace.connection("sf")
    connector = workspace.connector(row, retry=FAST)
    thread = threading.Thread(
        target=push_watch.watch, args=(workspace.engine, scope, connector, stop), daemon=True
    )
    thread.start()
    try:
        time.sleep(0.5)
        with workspace.engine.begin() as conn:
            (fund,) = records.insert_many(
                conn, workspace.organization_id, "funds", [{"name": "Realtime fund"}]
            )
        started = time.monotonic()
        while time.monotonic() - started < 5:
            if _crm_by_platform_id(emulator, "npsp__General_Accounting_Unit__c").get(f"funds:{fund}"):
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=10)
        connector.close()
    assert elapsed < 1.0, f"the change took {elapsed:.2f}s to reach the CRM"


def test_parents_pushed_with_a_batch_leave_the_queue(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 100, seed=32)
    connect(workspace, emulator, toggles=PUSH_ALL)
    _donation(workspace)
    scope = _scope(workspace)
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        assert pusher.collect(workspace.engine, scope) == 5
        # A batch of one (the allocation, first in queue order) takes its gift, supporter,
        # household and fund along as parents; they are not pushed a second time.
        first = pusher.drain(workspace.engine, scope, connector, limit=1)
        assert first.report.count("pushed") == 5
        with reading(workspace.engine) as conn:
            assert push_state.depth(conn, workspace.organization_id, scope.connection_id) == 0
        before = emulator.state.usage.used
        assert pusher.drain(workspace.engine, scope, connector).report.outcomes == {}
        assert emulator.state.usage.used == before
    finally:
        connector.close()


def test_a_change_committed_late_with_a_lower_id_is_not_skipped(workspace: Workspace, database: Any) -> None:
    if database.backend == "sqlite":
        pytest.skip("SQLite commits one writer at a time: ids are taken in commit order")
    org = workspace.organization_id
    cid = bare_connection(workspace)
    with workspace.engine.begin() as conn:
        tenancy.set_toggles(conn, org, cid, {"funds": tenancy.Toggle(True, True)})
    scope = Scope(org, cid, workspace.profile(workspace.connection("sf")))
    slow = workspace.engine.connect()
    slow_tx = slow.begin()
    (late,) = records.insert_many(slow, org, "funds", [{"name": "takes its id first, commits last"}])
    with workspace.engine.begin() as conn:
        (early,) = records.insert_many(conn, org, "funds", [{"name": "commits first"}])
    assert late < early
    # The open transaction delays only its own change: the other one is taken at once.
    pusher.collect(workspace.engine, scope)
    with reading(workspace.engine) as conn:
        assert {i.platform_id for i in push_state.due(conn, org, cid)} == {early}
    slow_tx.commit()
    slow.close()
    pusher.collect(workspace.engine, scope)
    with reading(workspace.engine) as conn:
        queued = {i.platform_id for i in push_state.due(conn, org, cid)}
    assert queued == {late, early}


def test_a_transaction_open_elsewhere_holds_back_only_its_own_changes(
    workspace: Workspace, database: Any
) -> None:
    if database.backend == "sqlite":
        pytest.skip("SQLite has one writer at a time: no transaction stays open beside a commit")
    org = workspace.organization_id
    cid = bare_connection(workspace)
    with workspace.engine.begin() as conn:
        tenancy.set_toggles(conn, org, cid, {"funds": tenancy.Toggle(True, True)})
    scope = Scope(org, cid, workspace.profile(workspace.connection("sf")))
    # Another session of the server (another database, a forgotten BEGIN) holds a
    # transaction id and stays idle.
    idle = sa.create_engine(database.url).connect()
    idle_tx = idle.begin()
    idle.execute(sa.text("SELECT pg_current_xact_id()"))
    try:
        taken: set[int] = set()
        for batch in range(3):
            with workspace.engine.begin() as conn:
                made = records.insert_many(
                    conn, org, "funds", [{"name": f"fund {batch}.{n}"} for n in range(40)]
                )
            pusher.collect(workspace.engine, scope, limit=15)
            while pusher.collect(workspace.engine, scope, limit=15):
                pass
            with reading(workspace.engine) as conn:
                taken = {i.platform_id for i in push_state.due(conn, org, cid)}
            assert set(made) <= taken
        assert len(taken) == 120
    finally:
        idle_tx.rollback()
        idle.close()
    # Taken once each: nothing more to take.
    assert pusher.collect(workspace.engine, scope) == 0
