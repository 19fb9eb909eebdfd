"""Locks that outlived their cause: a delete that failed three times is deleted again by
`locks archive` and by `resync`; a child that failed because its new parent was rejected
goes when the parent does (SQLite and PostgreSQL, through the CLI against the emulator)."""

from __future__ import annotations

import httpx
from push_kit import Project, crm_record

from crmsync.emulators.salesforce.server import Emulator

PUSH_ALL = "default = { pull = true, push = true }"
CANNOT_DELETE = {
    "kind": "record_error",
    "object": "Contact",
    "count": None,
    "error_code": "DELETE_FAILED",
    "message": "Your attempt to delete this contact could not be completed: it has open cases",
}


def test_a_locked_delete_is_deleted_again_by_archive_and_by_resync(
    project: Project, push_emulator: Emulator
) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    first, second = (int(r[0]) for r in project.sql("SELECT id FROM supporters ORDER BY id LIMIT 2"))
    contacts = {i: project.crm_id("supporters", i) for i in (first, second)}
    push_emulator.state.faults.add(CANNOT_DELETE)
    project.sql(f"DELETE FROM supporters WHERE id IN ({first}, {second})")

    assert project.cli("push").returncode == 3
    for _ in range(2):
        assert project.cli("resync", "supporters", str(first), str(second)).returncode == 3
    locks = {lock["key"]: lock for lock in project.json_lines("locks")}
    for platform_id, crm_id in contacts.items():
        lock = locks[f"supporters:{platform_id}"]
        assert (lock["failures"], lock["operation"], lock["crm_id"]) == (3, "delete", crm_id)
        assert "DELETE_FAILED" in lock["last_error"]
    assert not crm_record(push_emulator, "Contact", contacts[first])["IsDeleted"]

    push_emulator.state.faults.clear()
    assert project.cli("locks", "archive", f"supporters:{first}").returncode == 0
    pushed = project.json("push")
    assert pushed["records"][f"supporters:{first}"]["message"] == "deleted"
    resynced = project.json("resync", "supporters", str(second))
    assert resynced["records"][f"supporters:{second}"]["message"] == "deleted"
    assert resynced["counts"] == {"pushed": 1, "failed": 0, "skipped": 0}
    for crm_id in contacts.values():
        assert crm_record(push_emulator, "Contact", crm_id)["IsDeleted"]
    assert project.json_lines("locks") == []


def test_a_child_locked_behind_its_rejected_parent_goes_when_the_parent_does(
    project: Project, push_emulator: Emulator
) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    rule = {
        "name": "No_Placeholder_Names",
        "object": "Contact",
        "when": {"field": "LastName", "op": "=", "value": "Unknown"},
        "message": "Enter the donor's real last name",
        "field": "LastName",
    }
    httpx.post(f"{push_emulator.base_url}/__emulator__/rules", json=rule).raise_for_status()
    now = project.now()
    project.sql(
        "INSERT INTO supporters (organization_id, first_name, last_name, email, created_at, updated_at) "
        f"VALUES (1, 'Grace', 'Unknown', 'grace@example.org', '{now}', '{now}')"
    )
    supporter = int(project.sql("SELECT max(id) FROM supporters")[0][0])
    project.sql(
        "INSERT INTO transactions (organization_id, name, amount, close_date, stage, supporter_id, "
        f"created_at, updated_at) VALUES (1, 'Grace''s gift', 40, '2026-02-01', 'Closed Won', {supporter}, "
        f"'{now}', '{now}')"
    )
    gift = int(project.sql("SELECT max(id) FROM transactions")[0][0])

    assert project.cli("push").returncode == 3
    for _ in range(2):
        assert project.cli("resync", "transactions", str(gift)).returncode == 3
    locks = {lock["key"]: lock for lock in project.json_lines("locks")}
    assert locks[f"transactions:{gift}"]["last_error_code"] == "PROCESSING_HALTED"
    assert locks[f"transactions:{gift}"]["waiting_for"] == f"supporters:{supporter}"

    project.sql(f"UPDATE supporters SET last_name = 'Hopper' WHERE id = {supporter}")
    resynced = project.json("resync", "supporters", str(supporter))

    assert resynced["records"][f"transactions:{gift}"]["status"] == "pushed"
    assert project.json_lines("locks") == []
    opportunity = crm_record(push_emulator, "Opportunity", project.crm_id("transactions", gift))
    assert opportunity["npsp__Primary_Contact__c"] == project.crm_id("supporters", supporter)
    pending = project.json_lines("logs", "--status", "pending", "--type", "transactions")
    assert pending[0]["message"].startswith(
        f"transactions {gift} failed because supporters:{supporter} could not be pushed; "
    )
    assert project.cli("status").returncode == 0
    assert project.sql("SELECT count(*) FROM crmsync_push_queue")[0][0] == 0
