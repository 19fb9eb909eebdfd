"""Sync All waits out a Salesforce that fails for minutes, gives up saying so when it fails for
longer, and the next run resumes from the last checkpoint to the state of an undisturbed run.

The retry policy's sleep and clock are injected: the waits are asserted, never spent."""

from __future__ import annotations

from typing import Any

import pytest
from cs_testkit import connect_cs, customers, fetch, linked, seeded, write
from engine_testkit import FAST, connect, platform_state, row_counts
from testkit import FakeTime

from crmsync.connectors.retry import PATIENT_MAX_DELAY, RetryPolicy
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_sync_all
from crmsync.engine.counts import Counts
from crmsync.engine.pull import RunResult
from crmsync.engine.section_commands import run_daily_push
from crmsync.engine.workspace import Workspace
from crmsync.errors import GaveUpError
from crmsync.secrets import Vault, generate_key
from crmsync.store import runs

CONTACTS = 1000
ONLY_SUPPORTERS = {"default": {"pull": False}, "supporters": {"pull": True}}
QUERY = "/services/data/v61.0/query"
# A field the companies section sends only by the daily push.
HEALTH = {"health_score": {"crm": "Health_Score__c", "direction": "send"}}


class Waits:
    """An observer that keeps what the run said about its waits."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def object_started(self, platform_type: str, label: str) -> None: ...

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None: ...

    def object_done(self, platform_type: str, counts: Counts) -> None: ...

    def note(self, text: str) -> None: ...

    def waiting(self, text: str) -> None:
        self.lines.append(text)


@pytest.fixture
def org(emulator: Emulator) -> Emulator:
    """1,000 contacts, read by pages of 200 (a describe, then five query requests)."""
    for n in range(CONTACTS):
        emulator.org.insert("Contact", {"LastName": f"Patient {n:04d}", "Email": f"patient{n}@example.org"})
    return emulator


def _unavailable(emulator: Emulator, count: int, **extra: Any) -> None:
    """``count`` 503s in a row on the third query request (the second page), one run's midst."""
    rule = {"kind": "status", "status": 503, "error_code": "SERVER_UNAVAILABLE", "path_prefix": QUERY}
    emulator.state.faults.add(
        {**rule, "message": "Salesforce is down for maintenance", "after": 2, "count": count, **extra}
    )


def _sync(workspace: Workspace, fake: FakeTime, observer: Waits | None = None) -> RunResult:
    patient = RetryPolicy.patient(10, sleep=fake.sleep, clock=fake.clock)
    return run_sync_all(workspace, "sf", retry=patient, observer=observer)


def _assert_exponential(delays: list[float]) -> None:
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(PATIENT_MAX_DELAY, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling, f"wait {delay} before attempt {attempt + 1}"


def _undisturbed(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reference = Workspace(
        f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}", vault=Vault(generate_key())
    )
    connect(reference, emulator, page_size=200, toggles=ONLY_SUPPORTERS)
    assert _sync(reference, FakeTime()).status == "succeeded"
    state = platform_state(reference)
    reference.close()
    return state


def test_five_503s_in_a_row_are_waited_out_and_the_run_succeeds(workspace: Workspace, org: Emulator) -> None:
    connect(workspace, org, page_size=200, toggles=ONLY_SUPPORTERS)
    _unavailable(org, 5)
    fake, waits = FakeTime(), Waits()

    result = _sync(workspace, fake, waits)

    assert result.status == "succeeded", result.message
    assert result.counts["supporters"].created == CONTACTS
    assert len(fake.delays) == 5
    _assert_exponential(fake.delays)
    assert waits.lines == [
        f"Salesforce unavailable (503), retrying in {delay:.0f} s, attempt {attempt}"
        for attempt, delay in enumerate(fake.delays, start=2)
    ]


def test_a_retry_after_of_30_s_is_waited_in_full(workspace: Workspace, org: Emulator) -> None:
    connect(workspace, org, page_size=200, toggles=ONLY_SUPPORTERS)
    _unavailable(org, 3, retry_after=30)
    fake = FakeTime()

    assert _sync(workspace, fake).status == "succeeded"
    assert fake.delays == [30.0, 30.0, 30.0]


def test_twenty_503s_give_up_saying_so_and_the_next_run_resumes_to_the_same_state(
    workspace: Workspace, org: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    expected = _undisturbed(org, tmp_path_factory)
    connect(workspace, org, page_size=200, toggles=ONLY_SUPPORTERS)
    _unavailable(org, 20)
    fake = FakeTime()

    with pytest.raises(GaveUpError) as raised:
        _sync(workspace, fake)

    attempts = len(fake.delays) + 1
    assert attempts < 20
    _assert_exponential(fake.delays)
    assert max(fake.delays) > 60
    minutes = sum(fake.delays) / 60
    assert 8 <= minutes <= 10
    message = raised.value.message
    assert message == (
        f"Salesforce unavailable (503): crmsync gave up after {attempts} attempts over {minutes:.1f} "
        "minutes; Salesforce said last: query Contact: SERVER_UNAVAILABLE: Salesforce is down for "
        "maintenance; the next run resumes from the last checkpoint"
    )
    with workspace.engine.connect() as conn:
        (failed,) = runs.recent(conn, workspace.organization_id, limit=1)
    assert (failed.status, failed.message) == ("failed", message)
    # The two pages read before the outage were applied and checkpointed.
    assert row_counts(workspace)["supporters"] == 400

    # The next run meets the rest of the outage (fewer 503s than patience allows), waits it
    # out, and reads only what was left.
    again = FakeTime()
    resumed = _sync(workspace, again)
    assert resumed.status == "succeeded", resumed.message
    assert len(again.delays) == 20 - attempts
    assert resumed.counts["supporters"].fetched == CONTACTS - 400
    assert platform_state(workspace) == expected


def test_a_daily_push_that_gives_up_is_recorded_failed_with_the_message(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_companies": {"fields": HEALTH}})
    fetch(workspace, full=True)
    crm_id = customers(emulator)[0]["Id"]
    write(
        workspace,
        "cs_companies",
        linked(workspace, "cs_companies")[crm_id],
        {"health_score": 97},
        origin="system",
    )
    emulator.state.faults.add(
        {"kind": "status", "status": 503, "path_prefix": "/services/data/v61.0/composite", "count": None}
    )
    fake = FakeTime()

    with pytest.raises(GaveUpError) as raised:
        run_daily_push(workspace, "sf", retry=RetryPolicy.patient(10, sleep=fake.sleep, clock=fake.clock))

    message = raised.value.message
    assert message.startswith("Salesforce unavailable (503): crmsync gave up after ")
    assert message.endswith("; the next run pushes what this one did not")
    with workspace.engine.connect() as conn:
        (failed,) = runs.recent(conn, workspace.organization_id, limit=1)
    assert (failed.kind, failed.status, failed.message) == ("daily_push", "failed", message)
    emulator.state.faults.clear()
    assert run_daily_push(workspace, "sf", retry=FAST).status == "succeeded"
    assert emulator.org.get("Account", crm_id)["Health_Score__c"] == 97  # type: ignore[index]
