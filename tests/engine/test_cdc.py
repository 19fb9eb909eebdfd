"""Change Data Capture: events applied in order, echoes skipped, replay after a restart,
gap and overflow events, deletions and merges."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest
from engine_testkit import FAST, connect, live, platform_state, sync

from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.connectors.salesforce.streaming import StreamingSession
from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine import cdc
from crmsync.engine.apply import Scope
from crmsync.engine.commands import run_push
from crmsync.engine.orgsync import Change, add_sync, list_syncs, set_sync
from crmsync.engine.pull import PullOptions
from crmsync.engine.workspace import Workspace
from crmsync.errors import RunBusyError
from crmsync.store import leases, records


def _scope(workspace: Workspace) -> Scope:
    row = workspace.connection("sf")
    return Scope(workspace.organization_id, row.id, workspace.profile(row))


@pytest.fixture
def cdc_on(emulator: Emulator) -> None:
    httpx.post(
        f"{emulator.base_url}/__emulator__/cdc",
        json={"objects": ["Contact", "Account", "Opportunity"], "enabled": True, "timeout_ms": 300},
    ).raise_for_status()


class Subscriber:
    """The CDC subscriber of connection ``sf`` in a thread, for one test."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.stop = threading.Event()
        self.notes: list[str] = []
        row = workspace.connection("sf")
        self.connector: SalesforceConnector = workspace.connector(row, retry=FAST)
        self.thread = threading.Thread(
            target=cdc.subscribe,
            args=(
                workspace.engine,
                _scope(workspace),
                self.connector,
                lambda: StreamingSession(self.connector.client, poll_timeout=10),
                self.stop,
                PullOptions(kind="cdc"),
            ),
            kwargs={"recheck": 0.5, "on_event": self.notes.append},
            daemon=True,
        )
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=15)
        self.connector.close()


@pytest.fixture
def subscriber(workspace: Workspace) -> Iterator[Callable[[], Subscriber]]:
    started: list[Subscriber] = []

    def start() -> Subscriber:
        started.append(Subscriber(workspace))
        return started[-1]

    yield start
    for one in started:
        one.close()


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the change did not arrive in time")


def _cdc_syncs(workspace: Workspace, *objects: str) -> None:
    for crm_object in objects:
        add_sync(workspace, "sf", crm_object)
        set_sync(workspace, "sf", crm_object, Change(method="cdc", enabled=True))


def test_events_are_applied_and_the_replay_id_is_stored(
    workspace: Workspace, emulator: Emulator, cdc_on: None, subscriber: Callable[[], Subscriber]
) -> None:
    seed_npsp(emulator.org, 200, seed=60)
    connect(workspace, emulator)
    sync(workspace)
    _cdc_syncs(workspace, "Contact", "Account")
    subscriber()
    contact = live(emulator, "Contact")[0]["Id"]
    household = live(emulator, "Contact")[0]["AccountId"]
    emulator.org.update("Contact", contact, {"Title": "Streamed"})
    _eventually(lambda: platform_state(workspace)["supporters"][contact]["title"] == "Streamed")
    # A new household and its contact arrive in one transaction: parents first.
    account = emulator.org.insert("Account", {"Name": "Streamed Household", "RecordTypeId": _hh(emulator)})
    new_contact = emulator.org.insert("Contact", {"LastName": "Streamed", "AccountId": account})
    _eventually(lambda: new_contact in platform_state(workspace)["supporters"])
    assert platform_state(workspace)["supporters"][new_contact]["household_id"] == account
    syncs = {s.crm_object: s for s in list_syncs(workspace, "sf")}
    assert syncs["Contact"].replay_id is not None
    assert syncs["Contact"].status == "Active"
    assert household


def test_a_restart_resumes_from_the_stored_replay_id(
    workspace: Workspace, emulator: Emulator, cdc_on: None, subscriber: Callable[[], Subscriber]
) -> None:
    seed_npsp(emulator.org, 200, seed=61)
    connect(workspace, emulator)
    sync(workspace)
    _cdc_syncs(workspace, "Contact")
    first = subscriber()
    contacts = [c["Id"] for c in live(emulator, "Contact")[:3]]
    emulator.org.update("Contact", contacts[0], {"Title": "One"})
    _eventually(lambda: platform_state(workspace)["supporters"][contacts[0]]["title"] == "One")
    first.close()
    # Changes while nobody listens are replayed on the next subscription.
    emulator.org.update("Contact", contacts[1], {"Title": "Two"})
    emulator.org.update("Contact", contacts[2], {"Title": "Three"})
    subscriber()
    _eventually(lambda: platform_state(workspace)["supporters"][contacts[2]]["title"] == "Three")
    assert platform_state(workspace)["supporters"][contacts[1]]["title"] == "Two"


def test_our_own_writes_come_back_as_echoes_and_change_nothing(
    workspace: Workspace, emulator: Emulator, cdc_on: None, subscriber: Callable[[], Subscriber]
) -> None:
    seed_npsp(emulator.org, 150, seed=62)
    connect(workspace, emulator, toggles={"default": {"pull": True, "push": True}})
    sync(workspace)
    _cdc_syncs(workspace, "Contact", "Account", "Opportunity")
    subscriber()
    with workspace.engine.begin() as conn:
        (household,) = records.insert_many(
            conn, workspace.organization_id, "households", [{"name": "Echo HH"}]
        )
        records.insert_many(
            conn, workspace.organization_id, "supporters", [{"last_name": "Echo", "household_id": household}]
        )
    run_push(workspace, "sf", retry=FAST)
    before = platform_state(workspace)
    writes = emulator.state.usage.by_resource.copy()
    time.sleep(1.5)
    assert platform_state(workspace) == before
    assert run_push(workspace, "sf", retry=FAST).outcomes == {}
    delta = emulator.state.usage.by_resource - writes
    assert not any(k.startswith("composite/graph") or k == "composite/sobjects" for k in delta)


def test_deletions_merges_and_gaps_arrive_through_events(
    workspace: Workspace, emulator: Emulator, cdc_on: None, subscriber: Callable[[], Subscriber]
) -> None:
    seed_npsp(emulator.org, 300, seed=63)
    connect(workspace, emulator)
    sync(workspace)
    _cdc_syncs(workspace, "Contact", "Opportunity")
    subscriber()
    contacts = [c["Id"] for c in live(emulator, "Contact")]
    emulator.org.delete("Contact", contacts[0])
    emulator.org.merge("Contact", contacts[1], [contacts[2]])
    _eventually(lambda: contacts[0] not in platform_state(workspace)["supporters"])
    _eventually(lambda: contacts[2] not in platform_state(workspace)["supporters"])
    # A gap event names records but not their values: they are read.
    emulator.org.update("Contact", contacts[3], {"Title": "Gap"}, system=True)
    httpx.post(
        f"{emulator.base_url}/__emulator__/cdc/gap",
        json={"object": "Contact", "changeType": "GAP_UPDATE", "recordIds": [contacts[3]]},
    ).raise_for_status()
    _eventually(lambda: platform_state(workspace)["supporters"][contacts[3]]["title"] == "Gap")


def test_an_overflow_event_makes_the_object_due_for_a_poll(
    workspace: Workspace, emulator: Emulator, cdc_on: None, subscriber: Callable[[], Subscriber]
) -> None:
    seed_npsp(emulator.org, 150, seed=64)
    connect(workspace, emulator)
    sync(workspace)
    _cdc_syncs(workspace, "Contact")
    one = subscriber()
    httpx.post(
        f"{emulator.base_url}/__emulator__/cdc/gap", json={"object": "Contact", "changeType": "GAP_OVERFLOW"}
    ).raise_for_status()
    _eventually(lambda: any("overflow" in note for note in one.notes))
    (state,) = list_syncs(workspace, "sf")
    assert state.next_poll_at is not None
    assert state.next_poll_at.date() <= date.today()


def test_events_that_arrive_while_a_poll_holds_the_connection_wait_for_it(
    workspace: Workspace, emulator: Emulator, cdc_on: None, subscriber: Callable[[], Subscriber]
) -> None:
    seed_npsp(emulator.org, 150, seed=65)
    connect(workspace, emulator)
    sync(workspace)
    _cdc_syncs(workspace, "Contact")
    subscriber()
    first, second = (c["Id"] for c in live(emulator, "Contact")[:2])
    emulator.org.update("Contact", first, {"Title": "Before"})
    _eventually(lambda: platform_state(workspace)["supporters"][first]["title"] == "Before")
    # Another process (a scheduled poll) holds the connection when the next event arrives.
    owner, connection_id = "elsewhere:1:poll", workspace.connection("sf").id

    def take() -> bool:
        try:
            with workspace.engine.begin() as conn:
                leases.acquire(conn, connection_id, owner)
        except RunBusyError:
            return False  # the subscriber is finishing the run that applied "Before"
        return True

    _eventually(take)
    emulator.org.update("Contact", second, {"Title": "During"})
    time.sleep(1.0)
    assert platform_state(workspace)["supporters"][second]["title"] != "During"
    with workspace.engine.begin() as conn:
        leases.release(conn, connection_id, owner)
    # Once the poll is over the event is applied, not dropped (nothing else changes the record).
    _eventually(lambda: platform_state(workspace)["supporters"][second]["title"] == "During")


def test_a_long_poll_waits_no_longer_than_the_session_asks(workspace: Workspace, emulator: Emulator) -> None:
    # Salesforce's own wait (110 s) would hold a stopping runner that long.
    httpx.post(
        f"{emulator.base_url}/__emulator__/cdc",
        json={"objects": ["Contact"], "enabled": True, "timeout_ms": 110_000},
    ).raise_for_status()
    connect(workspace, emulator)
    connector = workspace.connector(workspace.connection("sf"), retry=FAST)
    session = StreamingSession(connector.client, poll_timeout=30, wait=0.5)
    try:
        session.subscribe({"/data/ContactChangeEvent": -1})
        started = time.monotonic()
        assert session.poll() == []
        assert time.monotonic() - started < 10
    finally:
        session.close()
        connector.close()


def _hh(emulator: Emulator) -> str:
    return next(r["Id"] for r in emulator.org.scan("RecordType") if r["DeveloperName"] == "HH_Account")
