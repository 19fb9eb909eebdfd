"""A platform value that cannot be read as its column's type fails that record alone: a log
entry naming the record, the column and the value, a failure count, a lock after three;
every other record is pushed (`push`, `sweep`, `resync`, on SQLite and PostgreSQL)."""

from __future__ import annotations

from push_kit import Project

from crmsync.emulators.salesforce.server import Emulator

# What each backend lets an application store in a DATE or NUMERIC column that Python's
# types cannot hold: SQLite keeps any text; PostgreSQL keeps dates beyond year 9999.
POISON = {
    "sqlite": [
        ("close_date", "'03/02/2024'", "close_date holds '03/02/2024', which cannot be read as a date"),
        ("amount", "'12,50'", "amount holds '12,50', which cannot be read as a number"),
        ("close_date", "'2024-02-30'", "close_date holds '2024-02-30', which cannot be read as a date"),
    ],
    "postgres": [
        ("close_date", "'infinity'", "close_date holds 'infinity', which cannot be read as a date"),
        ("close_date", "'10000-01-01'", "close_date holds '10000-01-01', which cannot be read as a date"),
        ("close_date", "'-infinity'", "close_date holds '-infinity', which cannot be read as a date"),
    ],
}


def test_poison_rows_fail_alone_and_lock_after_three(project: Project, push_emulator: Emulator) -> None:
    project.write_config(push_emulator.base_url, toggles="default = { pull = true, push = true }")
    project.ok("sync", "all")
    gifts = [int(r[0]) for r in project.sql("SELECT id FROM transactions ORDER BY id LIMIT 4")]
    poisoned = dict(zip(gifts, POISON[project.backend], strict=False))
    for gift, (column, value, _) in poisoned.items():
        project.sql(f"UPDATE transactions SET {column} = {value} WHERE id = {gift}")
    project.sql(f"UPDATE transactions SET name = 'Still pushed' WHERE id = {gifts[3]}")
    emails = project.sign_up("sign-up-", 5)

    pushed = project.cli("push")

    assert pushed.returncode == 3, pushed.stderr  # some records failed: the others went
    assert "Traceback" not in pushed.stderr
    assert "5 pushed" not in pushed.stdout
    contacts = {r["Email"] for r in push_emulator.org.scan("Contact") if not r["IsDeleted"]}
    assert set(emails) <= contacts
    gift_names = {r["Name"] for r in push_emulator.org.scan("Opportunity")}
    assert "Still pushed" in gift_names
    entries = project.json_lines("logs", "--status", "error", "--direction", "push")
    by_record = {e["platform_id"]: e["message"] for e in entries if e["data_type"] == "transactions"}
    for gift, (_, _, said) in poisoned.items():
        assert by_record[gift].startswith(f"transactions {gift}: UNREADABLE_VALUE: {said}"), by_record
        assert by_record[gift].endswith("correct the value in the platform")

    # Two more tries (Resync goes at once) make three failures in a row: the records lock.
    ids = [str(g) for g in poisoned]
    for _ in range(2):
        again = project.cli("resync", "transactions", *ids)
        assert again.returncode == 3, again.stderr
    locks = {lock["key"]: lock for lock in project.json_lines("locks")}
    for gift, (_, _, said) in poisoned.items():
        assert locks[f"transactions:{gift}"]["failures"] == 3
        assert said in locks[f"transactions:{gift}"]["last_error"]

    # Locked rows are left alone by the sweep; what else is new is still pushed.
    more = project.sign_up("sweep-", 1)
    swept = project.cli("sweep")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert more[0] in {r["Email"] for r in push_emulator.org.scan("Contact")}

    # Corrected in the platform and archived, a record goes again.
    gift = gifts[0]
    project.sql(f"UPDATE transactions SET close_date = '2024-03-02' WHERE id = {gift}")
    assert project.cli("locks", "archive", f"transactions:{gift}").returncode == 0
    fixed = project.json("push")
    assert fixed["records"][f"transactions:{gift}"]["status"] == "pushed"
    assert fixed["counts"]["failed"] == 0


def test_sweep_fails_an_unreadable_new_row_alone(project: Project, push_emulator: Emulator) -> None:
    project.write_config(push_emulator.base_url, toggles="funds = { pull = true, push = true }")
    assert project.cli("status").returncode == 0  # makes the schema
    stamp = "'not a time'" if project.backend == "sqlite" else "'infinity'"
    project.sql(
        "INSERT INTO funds (organization_id, name, created_at, updated_at) "
        f"VALUES (1, 'Broken fund', '{project.now()}', {stamp})"
    )
    project.sql(
        "INSERT INTO funds (organization_id, name, created_at, updated_at) "
        f"VALUES (1, 'Good fund', '{project.now()}', '{project.now()}')"
    )

    swept = project.cli("sweep", "--json")

    assert swept.returncode == 3, swept.stderr
    assert "Good fund" in {r["Name"] for r in push_emulator.org.scan("npsp__General_Accounting_Unit__c")}
    assert "updated_at holds" in swept.stdout
