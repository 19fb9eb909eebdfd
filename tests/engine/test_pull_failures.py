"""Pull failures: one entry per record and reason, no floods, locks after three, waits for parents
at no API cost, and records a filter leaves out say so."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cs_testkit import connect_cs, fetch, linked, seeded
from engine_testkit import CONNECTION, connect, live, sync
from testkit import bare_connection

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.locks import archive_locks, list_locks
from crmsync.engine.workspace import Workspace
from crmsync.store import logs, retries, tenancy
from crmsync.store.db import reading
from crmsync.store.tables import links, log_entries

REJECTED = "Refused-By-The-App"


def _entries(workspace: Workspace, status: str) -> list[logs.StoredLogEntry]:
    with reading(workspace.engine) as conn:
        return logs.page(conn, workspace.organization_id, status=status, limit=100_000)


def _reject_last_name(workspace: Workspace) -> None:
    """The application's own rule: a supporter may not be called REJECTED (a trigger refuses it)."""
    with workspace.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for event in ("INSERT", "UPDATE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER app_refuses_{event.lower()} BEFORE {event} ON supporters "
                    f"WHEN NEW.last_name = '{REJECTED}' BEGIN SELECT RAISE(ABORT, 'the application refuses "
                    "this name'); END"
                )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION app_refuses() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.last_name = '{REJECTED}' THEN RAISE EXCEPTION 'the application refuses this name'; "
                "END IF; RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER app_refuses BEFORE INSERT OR UPDATE ON supporters "
                "FOR EACH ROW EXECUTE FUNCTION app_refuses()"
            )


def test_records_waiting_for_a_parent_are_logged_once_and_cost_no_calls_until_it_comes(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 400, seed=61)
    connect_toggles = {"default": {"pull": True}, "supporters": {"pull": False}}
    connect(workspace, emulator, toggles=connect_toggles)
    first = sync(workspace)
    assert first.status == "partial"
    waiting = sum(c.skipped for c in first.counts.values())
    assert waiting > 0
    skipped = len(_entries(workspace, "skipped"))
    assert skipped == waiting
    calls = []
    for _ in range(3):
        again = sync(workspace)
        calls.append(again.api_calls)
        # Nothing new to say: the same records, the same reasons.
        assert len(_entries(workspace, "skipped")) == skipped
        assert _entries(workspace, "error") == []
    # An idle run costs what it costs with nothing waiting: no record is fetched again.
    assert len(set(calls)) == 1, calls
    # The supporters come: everything waiting for one of them arrives in that same run.
    with workspace.engine.begin() as conn:
        row = tenancy.get_connection(conn, workspace.organization_id, CONNECTION)
        assert row is not None
        tenancy.set_toggles(
            conn, workspace.organization_id, row.id, {"supporters": tenancy.Toggle(True, False)}
        )
    done = sync(workspace)
    assert done.status == "succeeded", done.message
    with reading(workspace.engine) as conn:
        assert retries.known(conn, workspace.organization_id, row.id, "transactions") == []


def test_a_record_the_platform_refuses_is_logged_once_then_locked_after_three_pulls(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 200, seed=62)
    contact = live(emulator, "Contact")[0]
    emulator.org.update("Contact", contact["Id"], {"LastName": REJECTED})
    connect(workspace, emulator)
    _reject_last_name(workspace)
    attempts = []
    for _ in range(6):
        result = sync(workspace)
        attempts.append(result.counts["supporters"].failed)
    # Tried on the first pull, the next, then after one pull let pass: locked, not fetched again.
    assert attempts == [1, 1, 0, 1, 0, 0]
    (entry,) = _entries(workspace, "error")
    assert "the application refuses this name" in entry.message
    assert "locked after 3 failures in a row" in entry.message
    assert "(seen 3 times" in entry.message
    assert entry.details is not None
    assert entry.details["times"] == 3
    (lock,) = [lock for lock in list_locks(workspace) if lock.key.startswith("pull:")]
    assert lock.key == f"pull:supporters:{contact['Id']}"
    # Fixed in the CRM and the lock archived: the next pull fetches it and it arrives.
    emulator.org.update("Contact", contact["Id"], {"LastName": "Accepted"})
    assert archive_locks(workspace, [lock.key]) == 1
    result = sync(workspace)
    assert result.status == "succeeded", result.message
    with reading(workspace.engine) as conn:
        linked = conn.execute(sa.select(links.c.crm_id).where(links.c.crm_id == contact["Id"])).all()
    assert len(linked) == 1
    assert [lock for lock in list_locks(workspace) if lock.key.startswith("pull:")] == []


def test_a_contact_owned_outside_the_team_is_left_out_with_a_reason(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    users = [u for u in live(emulator, "User") if u.get("Department")]
    team = users[0]["Department"]
    outsider = next(u for u in live(emulator, "User") if u.get("Department") != team)
    contact = next(c for c in live(emulator, "Contact") if c["AccountId"])
    emulator.org.update("Contact", contact["Id"], {"OwnerId": outsider["Id"]})
    connect_cs(
        workspace, emulator, sections={"cs_team": {"filter": [{"field": "Department", "value": team}]}}
    )
    result = fetch(workspace, full=True)
    assert result.status == "succeeded", result.message
    assert "all records are in step" not in result.message
    left = sum(c.left_out for c in result.counts.values())
    # The contact, and what hangs from it (its tasks and notes), left out with it.
    assert left >= 1
    assert f"{left} are left out by filters" in result.message
    entry = next(e for e in _entries(workspace, "skipped") if e.crm_id == contact["Id"])
    assert f"OwnerId {outsider['Id']}" in entry.message
    assert "Department" in entry.message
    # Said once: a Full Fetch reads it again and counts it again, without a new entry; an
    # incremental fetch leaves it alone, and still says it is not in step.
    again = fetch(workspace, full=True)
    assert sum(c.left_out for c in again.counts.values()) == left
    quiet = fetch(workspace)
    assert f"{left} are left out by filters" in quiet.message
    with reading(workspace.engine) as conn:
        notes = conn.execute(
            sa.select(sa.func.count()).where(
                log_entries.c.crm_id == contact["Id"], log_entries.c.status == "skipped"
            )
        ).scalar_one()
    assert notes == 1
    # The owner joins the team: the contact comes in with the team's next pull, by itself.
    emulator.org.update("User", outsider["Id"], {"Department": team})
    joined = fetch(workspace)
    assert joined.message == "all records are in step", joined.message
    assert contact["Id"] in linked(workspace, "cs_end_users")


@pytest.mark.parametrize("times", [1, 2])
def test_a_new_reason_gets_a_new_entry(workspace: Workspace, times: int) -> None:
    cid = bare_connection(workspace, "sf")
    org = workspace.organization_id

    def fail(message: str) -> None:
        entry = logs.LogEntry("supporters", "pull", "pull", "error", message, crm_id="003A")
        with workspace.engine.begin() as conn:
            retries.note_failures(
                conn, org, cid, "supporters", [retries.Failure("003A", "X", entry)], run_id=None
            )

    for _ in range(times):
        fail("first reason")
    fail("second reason")
    messages = [e.message for e in _entries(workspace, "error")]
    assert len(messages) == 2
    assert messages[0].startswith("second reason")
    assert messages[1].startswith("first reason")
    assert ("(seen 2 times" in messages[1]) is (times == 2)
