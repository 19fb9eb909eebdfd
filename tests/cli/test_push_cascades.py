"""Changes a CRM cascade already made are recognised, not pushed as failures: a payment whose
gift the platform deleted (its lookup cleared by the platform's foreign key) is deleted with
the gift in Salesforce (and archived in the platform by the next pull), and a record deleted
between the read and the write is skipped (SQLite and PostgreSQL, through the CLI against the
emulator)."""

from __future__ import annotations

from typing import Any

from push_kit import Project, crm_record

from crmsync.emulators.salesforce.server import Emulator

PUSH_ALL = "default = { pull = true, push = true }"


def _errors(project: Project) -> list[dict[str, Any]]:
    return list(project.json_lines("logs", "--status", "error", "--limit", "500"))


def test_a_crm_cascade_is_not_pushed_as_a_failure(project: Project, push_emulator: Emulator) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    rows = project.sql(
        "SELECT t.id, p.id FROM transactions t JOIN transaction_payments p ON p.transaction_id = t.id "
        "ORDER BY t.id LIMIT 4"
    )
    gifts = sorted({int(r[0]) for r in rows})
    payments = {int(r[1]): project.crm_id("transaction_payments", int(r[1])) for r in rows}
    before = {e["id"] for e in _errors(project)}

    # The platform's foreign keys clear the payments' transaction_id (a change each).
    project.sql(f"DELETE FROM transactions WHERE id IN ({', '.join(map(str, gifts))})")
    pushed = project.json("push")

    assert pushed["counts"]["failed"] == 0, pushed
    for payment, crm_id in payments.items():
        outcome = pushed["records"][f"transaction_payments:{payment}"]
        assert outcome["status"] == "skipped", outcome
        assert "was deleted in the CRM" in outcome["message"]
        assert crm_record(push_emulator, "npe01__OppPayment__c", crm_id)["IsDeleted"]
    assert [e for e in _errors(project) if e["id"] not in before] == []
    assert project.json_lines("locks") == []
    # The next pull ends the platform's payments as the CRM has them: deleted there, archived
    # here (the default for a CRM delete).
    project.ok("sync", "all")
    archived = project.json_lines("archived", "transaction_payments")
    assert {(a["platform_id"], a["crm_id"], a["reason"]) for a in archived} == {
        (payment, crm_id, "deleted") for payment, crm_id in payments.items()
    }


def test_a_record_deleted_between_read_and_write_is_skipped(
    project: Project, push_emulator: Emulator
) -> None:
    project.write_config(push_emulator.base_url, toggles=PUSH_ALL)
    project.ok("sync", "all")
    payment = int(project.sql("SELECT min(id) FROM transaction_payments")[0][0])
    project.sql(f"UPDATE transaction_payments SET amount = amount + 1 WHERE id = {payment}")
    # The read finds the record; the write is answered as Salesforce answers one whose parent's
    # delete cascaded to it meanwhile.
    push_emulator.state.faults.add(
        {
            "kind": "record_error",
            "object": "npe01__OppPayment__c",
            "count": 1,
            "error_code": "ENTITY_IS_DELETED",
            "message": "entity is deleted",
        }
    )

    pushed = project.json("push")

    outcome = pushed["records"][f"transaction_payments:{payment}"]
    assert outcome["status"] == "skipped", outcome
    assert project.json_lines("locks") == []
    assert project.sql("SELECT count(*) FROM crmsync_record_failures")[0][0] == 0
