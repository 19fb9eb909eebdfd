"""Scheduled polls: one call when idle, boundaries, echoes, circuit breaker, budget, org syncs."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from engine_testkit import FAST, connect, live, platform_state, sync

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.apply import Scope
from crmsync.engine.commands import run_push
from crmsync.engine.orgsync import Change, add_sync, list_syncs, remove_sync, set_sync
from crmsync.engine.poll import due, poll
from crmsync.engine.pull import PullOptions
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import records
from crmsync.store.types import utcnow

OBJECTS = [
    "npsp__General_Accounting_Unit__c",
    "Account",
    "Contact",
    "Campaign",
    "npe03__Recurring_Donation__c",
    "Opportunity",
    "npe01__OppPayment__c",
    "npsp__Allocation__c",
    "CampaignMember",
    "npsp__Partial_Soft_Credit__c",
    "Communication_Subscription__c",
]


def _writes(emulator: Emulator) -> int:
    """API calls that can write (reads come through query and composite/batch)."""
    usage = emulator.state.usage.by_resource
    return sum(usage[r] for r in ("composite", "composite/graph", "composite/sobjects", "sobjects"))


def _scope(workspace: Workspace) -> Scope:
    row = workspace.connection("sf")
    return Scope(workspace.organization_id, row.id, workspace.profile(row))


def _enable_all(workspace: Workspace, method: str = "poll") -> None:
    for crm_object in OBJECTS:
        add_sync(workspace, "sf", crm_object)
        set_sync(workspace, "sf", crm_object, Change(method=method, interval_minutes=5, enabled=True))


def _poll(
    workspace: Workspace, connector: object, *, field: str = "LastModifiedDate", lookback: int = 300
) -> object:
    scope = _scope(workspace)
    options = PullOptions(kind="poll", modstamp_field=field, lookback=timedelta(seconds=lookback))
    syncs = due(workspace.engine, scope, now=utcnow() + timedelta(days=1))
    return poll(workspace.engine, scope, connector, options, syncs=syncs)  # type: ignore[arg-type]


def test_an_idle_poll_of_every_object_costs_one_call(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 400, seed=50)
    connect(workspace, emulator)
    sync(workspace)
    _enable_all(workspace)
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        _poll(workspace, connector)  # the first poll describes each object once
        before = connector.api_calls
        result = _poll(workspace, connector)
        assert connector.api_calls - before == 1
        assert result.run is not None  # type: ignore[attr-defined]
        assert result.run.status == "succeeded"  # type: ignore[attr-defined]
        assert len(result.polled) == len(OBJECTS)  # type: ignore[attr-defined]
    finally:
        connector.close()


def test_polls_pick_up_user_changes_and_system_changes_by_setting(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 300, seed=51)
    connect(workspace, emulator)
    sync(workspace)
    _enable_all(workspace)
    org = emulator.org
    contact = live(emulator, "Contact")[0]["Id"]
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        org.update("Contact", contact, {"Title": "Treasurer"})
        _poll(workspace, connector)
        assert platform_state(workspace)["supporters"][contact]["title"] == "Treasurer"
        # An automation moves only SystemModstamp: a LastModifiedDate poll does not see it
        # (once a later user change moved the cursor past the overlap that re-reads it)...
        other = live(emulator, "Contact")[1]["Id"]
        org.clock.advance(600)
        org.update("Contact", other, {"Title": "Secretary"})
        _poll(workspace, connector)
        org.update("Contact", contact, {"Title": "Chair"}, system=True)
        _poll(workspace, connector)
        assert platform_state(workspace)["supporters"][contact]["title"] == "Treasurer"
        # ... a SystemModstamp poll does.
        _poll(workspace, connector, field="SystemModstamp")
        assert platform_state(workspace)["supporters"][contact]["title"] == "Chair"
    finally:
        connector.close()


def test_a_change_that_lands_late_inside_the_overlap_is_not_lost(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 200, seed=52)
    connect(workspace, emulator)
    sync(workspace)
    _enable_all(workspace)
    org = emulator.org
    first, second = (c["Id"] for c in live(emulator, "Contact")[:2])
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        org.clock.freeze()
        org.update("Contact", first, {"Title": "A"})
        _poll(workspace, connector)
        # A transaction that started earlier commits now, stamped before the cursor.
        org.clock.advance(-30)
        org.update("Contact", second, {"Title": "B"})
        org.clock.advance(60)
        result = _poll(workspace, connector)
        state = platform_state(workspace)["supporters"]
        assert (state[first]["title"], state[second]["title"]) == ("A", "B")
        # The overlap re-read the first contact and recognised it as already applied.
        counts = result.run.counts["supporters"]  # type: ignore[attr-defined]
        assert counts.updated == 1
        assert counts.unchanged >= 1
    finally:
        org.clock.real_time()
        connector.close()


def test_a_push_echo_changes_nothing_and_writes_nothing(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 200, seed=53)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": True}})
    sync(workspace)
    _enable_all(workspace)
    with workspace.engine.begin() as conn:
        # Checkboxes cannot be null in Salesforce: give the fund a value so the echo is exact.
        (fund,) = records.insert_many(
            conn, workspace.organization_id, "funds", [{"name": "Echo fund", "active": True}]
        )
    # On PostgreSQL a change is pushed once no transaction older than it is open on the server
    # (another session's may be): push until the fund has gone, however busy the server.
    for _ in range(50):
        if ("funds", fund) in run_push(workspace, "sf", retry=FAST).outcomes:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the new fund was never pushed")
    state = platform_state(workspace)
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        writes_before = _writes(emulator)
        for _ in range(2):
            result = _poll(workspace, connector)
            assert sum(c.created + c.updated for c in result.run.counts.values()) == 0  # type: ignore[attr-defined]
        assert run_push(workspace, "sf", retry=FAST).outcomes == {}
        writes_after = _writes(emulator)
    finally:
        connector.close()
    assert platform_state(workspace) == state
    assert writes_after == writes_before
    assert fund


def test_five_failures_open_the_circuit_and_a_success_closes_it(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 100, seed=54)
    connect(workspace, emulator)
    sync(workspace)
    add_sync(workspace, "sf", "Contact")
    set_sync(workspace, "sf", "Contact", Change(method="poll", interval_minutes=5, enabled=True))
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    emulator.state.faults.add(
        {"kind": "status", "status": 503, "path_prefix": "/services/data", "count": None}
    )
    try:
        for attempt in range(1, 6):
            _poll(workspace, connector)
            (state,) = list_syncs(workspace, "sf")
            assert state.consecutive_failures == attempt
            assert state.status == ("Circuit open" if attempt == 5 else "Active")
        assert state.error_total == 5
        assert state.next_poll_at is not None
        # The probe waits: no call while the circuit is open.
        assert due(workspace.engine, _scope(workspace), now=utcnow()) == []
        # A test reads through, but does not close the circuit.
        emulator.state.faults.clear()
        assert connector.probe("Contact").startswith("Connection successful")
        (state,) = list_syncs(workspace, "sf")
        assert state.status == "Circuit open"
        _poll(workspace, connector)
        (state,) = list_syncs(workspace, "sf")
        assert state.status == "Active"
        assert state.consecutive_failures == 0
        assert state.error_total == 5
    finally:
        connector.close()


def test_a_fatal_error_sets_status_error_until_an_admin_changes_it(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 100, seed=55)
    connect(workspace, emulator)
    add_sync(workspace, "sf", "Contact")
    set_sync(workspace, "sf", "Contact", Change(method="poll", enabled=True))
    connect(workspace, emulator, password="wrong")
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        _poll(workspace, connector)
    finally:
        connector.close()
    (state,) = list_syncs(workspace, "sf")
    assert state.status == "Error"
    assert "refused" in (state.last_error or "")
    assert due(workspace.engine, _scope(workspace), now=utcnow() + timedelta(days=1)) == []
    (state,) = [set_sync(workspace, "sf", "Contact", Change(enabled=True))]
    assert state.status == "Active"


def test_polls_wait_when_the_api_budget_is_spent(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 100, seed=56)
    connect(workspace, emulator)
    sync(workspace)
    _enable_all(workspace)
    emulator.state.usage.configure(daily_max=1000, used=600)
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    try:
        connector.test()  # learns the usage from the limits header
        before = connector.api_calls
        result = _poll(workspace, connector)
        assert result.skipped is not None  # type: ignore[attr-defined]
        assert "API headroom" in result.skipped  # type: ignore[attr-defined]
        assert connector.api_calls == before
    finally:
        connector.close()


def test_org_sync_management_checks_its_input(workspace: Workspace, emulator: Emulator) -> None:
    connect(workspace, emulator)
    created = add_sync(workspace, "sf", "contact")
    assert (created.crm_object, created.method, created.enabled, created.status) == (
        "Contact",
        "cdc",
        False,
        "Paused",
    )
    with pytest.raises(ConfigError, match="already has an org sync"):
        add_sync(workspace, "sf", "Contact")
    with pytest.raises(ConfigError, match="maps no object 'Lead'"):
        add_sync(workspace, "sf", "Lead")
    with pytest.raises(ConfigError, match="interval must be one of 5, 10, 15, 30"):
        set_sync(workspace, "sf", "Contact", Change(interval_minutes=7))
    with pytest.raises(ConfigError, match="method must be cdc or poll"):
        set_sync(workspace, "sf", "Contact", Change(method="push"))
    assert remove_sync(workspace, "sf", "Contact").crm_object == "Contact"
    assert list_syncs(workspace, "sf") == []
