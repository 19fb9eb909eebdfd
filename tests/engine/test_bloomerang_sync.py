"""Sync All, incremental pulls, pushes and id reconciliation against the Bloomerang emulator
over loopback HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from bloomerang_testkit import (
    BOTH_WAYS,
    CONNECTION,
    Control,
    connect,
    expected_ids,
    linked_ids,
    minimum_calls,
    platform_id,
    platform_state,
    push,
    row_counts,
    sync,
)

from crmsync.emulators.bloomerang import Emulator
from crmsync.engine.apply import Scope
from crmsync.engine.commands import opened
from crmsync.engine.locks import archive_locks, list_locks
from crmsync.engine.reconcile import Reconciled, reconcile
from crmsync.engine.workspace import Workspace
from crmsync.errors import TransientError
from crmsync.model.load import load_profile
from crmsync.store import archive, logs, push_state, records, runs
from crmsync.store.db import reading
from crmsync.store.tables import push_queue
from crmsync.store.types import utcnow

SEED = 600
# Sync All's own test reads the most (~2,300 gifts, 46 pages of transactions): enough pages
# that the two small type-filtered reads (pledges, recurring donations) stay within 5 %.
FULL_SEED = 3000


def _scope(workspace: Workspace) -> Scope:
    row = workspace.connection(CONNECTION)
    return Scope(workspace.organization_id, row.id, workspace.profile(row))


def _reconcile(workspace: Workspace) -> Reconciled:
    with opened(workspace, CONNECTION) as session:
        row = workspace.connection(CONNECTION)
        return reconcile(workspace.engine, session.scope, session.connector, filters=workspace.filters(row))


def _changes(result: Any) -> dict[str, dict[str, int]]:
    """Per type, what a run changed (created, updated, deleted, merged), zeros left out."""
    out: dict[str, dict[str, int]] = {}
    for platform_type, counts in result.counts.items():
        changed = {
            k: v
            for k, v in counts.as_dict().items()
            if k in ("created", "updated", "deleted", "merged") and v
        }
        if changed:
            out[platform_type] = changed
    return out


def test_sync_all_pulls_every_object_in_dependency_order_with_the_fewest_calls(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(FULL_SEED, seed=11)
    connect(workspace, bl_emulator)
    before = bl_control.api_calls()
    result = sync(workspace)
    assert result.status == "succeeded", result.message
    expected = expected_ids(bl_emulator)
    assert linked_ids(workspace) == expected
    assert row_counts(workspace) == {k: len(v) for k, v in expected.items()}
    assert {k: c.created for k, c in result.counts.items()} == {k: len(v) for k, v in expected.items()}
    # Parents before children: every lookup's targets were pulled before the object itself.
    order = list(result.counts)
    for mapping in load_profile("bloomerang").objects:
        for lookup in mapping.lookups:
            for target in lookup.targets:
                assert order.index(target.type) < order.index(mapping.type), (mapping.type, target.type)
    # Each list is read once for every object it serves, 50 records a page.
    fewest = minimum_calls(bl_emulator)
    assert result.api_calls == bl_control.api_calls() - before
    assert fewest <= result.api_calls <= fewest * 1.05
    state = platform_state(workspace)
    assert all("<dangling>" not in str(row) for rows in state.values() for row in rows.values())
    with bl_emulator.store.lock:
        people = {str(i): c for i, c in bl_emulator.store.tables["Constituent"].items()}
    for crm_id, row in state["supporters"].items():
        household = people[crm_id].get("HouseholdId")
        assert row["household_id"] == (str(household) if household else None)
    with workspace.engine.connect() as conn:
        stored = runs.get(conn, workspace.organization_id, result.run_id)
    assert stored is not None
    assert stored.status == "succeeded"
    assert stored.api_calls == result.api_calls


def test_an_incremental_pull_applies_exactly_the_screen_edits(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(SEED, seed=12)
    connect(workspace, bl_emulator)
    assert sync(workspace).status == "succeeded"
    before = platform_state(workspace)
    with bl_emulator.store.lock:
        tables = bl_emulator.store.tables
        person = next(c for c in tables["Constituent"].values() if c["Type"] == "Individual")
        gift = next(
            t
            for t in tables["Transaction"].values()
            if len(t["DesignationIds"]) == 1
            and tables["Designation"][t["DesignationIds"][0]]["Type"] == "Donation"
        )
        line = gift["DesignationIds"][0]
    bl_control.update(
        "Constituent", person["Id"], {"PrimaryAddress": {"City": "Lisbon", "Street": "1 Rua Augusta"}}
    )
    # A designation changes through its transaction: a new amount for both.
    bl_control.update(
        "Transaction",
        gift["Id"],
        {"Amount": 77, "Designations": [{"Id": line, "Type": "Donation", "Amount": 77}]},
    )
    newcomer = bl_control.create(
        "Constituent", {"Type": "Individual", "FirstName": "Nova", "LastName": "Quinn"}
    )
    result = sync(workspace)
    assert result.status == "succeeded", result.message
    assert _changes(result) == {
        "supporters": {"created": 1, "updated": 1},
        "transactions": {"updated": 1},
        "fund_allocations": {"updated": 1},
        # The newcomer's subscriptions: one per active email interest.
        "subscriptions": {"created": 4},
    }
    after = platform_state(workspace)
    assert after["supporters"][str(person["Id"])]["city"] == "Lisbon"
    assert after["supporters"][str(newcomer["Id"])]["last_name"] == "Quinn"
    assert after["transactions"][str(gift["Id"])]["amount"] == "77.00"
    assert after["fund_allocations"][str(line)]["amount"] == "77.00"
    changed = {
        ("supporters", str(person["Id"])),
        ("transactions", str(gift["Id"])),
        ("fund_allocations", str(line)),
    }
    for platform_type, rows in before.items():
        for crm_id, row in rows.items():
            if (platform_type, crm_id) not in changed:
                assert after[platform_type][crm_id] == row, (platform_type, crm_id)
    # Nothing changed since: an idle pull applies nothing and reads one page per list.
    idle = sync(workspace)
    assert idle.status == "succeeded"
    assert _changes(idle) == {}
    assert platform_state(workspace) == after
    assert idle.api_calls <= len(load_profile("bloomerang").objects) + 3


def _new_donor(
    workspace: Workspace, *, last_name: str = "Lovelace", email: str = "ada@example.org"
) -> dict[str, int]:
    """A supporter and a gift written by the application (origin user)."""
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (supporter,) = records.insert_many(
            conn,
            org,
            "supporters",
            [{"first_name": "Ada", "last_name": last_name, "email": email, "city": "London"}],
        )
        (gift,) = records.insert_many(
            conn,
            org,
            "transactions",
            [
                {
                    "supporter_id": supporter,
                    "amount": 25,
                    "close_date": datetime.date(2026, 1, 5),
                    "payment_method": "Check",
                }
            ],
        )
    return {"supporter": supporter, "gift": gift}


def _text(values: Any) -> set[str]:
    """The texts of stored freeform custom values (``{"FieldId", "Value": {"Id", "Value"}}``)."""
    return {str(v["Value"]["Value"]) for v in values or () if isinstance(v.get("Value"), dict)}


def _by_platform_id(bl_emulator: Emulator, kind: str, value: str) -> list[dict[str, Any]]:
    """Constituents or transactions (by their first designation) carrying a "Platform Id"."""
    store = bl_emulator.store
    with store.lock:
        if kind == "Constituent":
            return [c for c in store.tables["Constituent"].values() if value in _text(c.get("CustomValues"))]
        lines = store.tables["Designation"]
        return [
            t
            for t in store.tables["Transaction"].values()
            if value in _text(lines[t["DesignationIds"][0]].get("CustomValues"))
        ]


def test_push_creates_the_supporter_then_its_gift_and_a_second_push_updates(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(300, seed=13)
    connect(workspace, bl_emulator, toggles=BOTH_WAYS)
    ids = _new_donor(workspace)
    report = push(workspace)
    supporter_key, gift_key = ("supporters", ids["supporter"]), ("transactions", ids["gift"])
    assert report.outcomes[supporter_key].status == "pushed", report.outcomes
    assert report.outcomes[gift_key].status == "pushed", report.outcomes
    (constituent,) = _by_platform_id(bl_emulator, "Constituent", f"supporters:{ids['supporter']}")
    (transaction,) = _by_platform_id(bl_emulator, "Transaction", f"transactions:{ids['gift']}")
    assert report.outcomes[supporter_key].crm_id == str(constituent["Id"])
    assert report.outcomes[gift_key].crm_id == str(transaction["Id"])
    # Parents first: the gift names the constituent just created.
    assert transaction["AccountId"] == constituent["Id"]
    assert (transaction["Amount"], transaction["Method"]) == (25.0, "Check")
    assert platform_id(workspace, "supporters", constituent["Id"]) == ids["supporter"]
    assert platform_id(workspace, "transactions", transaction["Id"]) == ids["gift"]
    with reading(workspace.engine) as conn:
        entries = logs.page(conn, workspace.organization_id, direction="push")
    assert {(e.data_type, e.action) for e in entries} == {
        ("supporters", "create"),
        ("transactions", "create"),
    }
    constituents, transactions = (
        bl_emulator.store.count("Constituent"),
        bl_emulator.store.count("Transaction"),
    )
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        records.update_many(conn, org, "supporters", [(ids["supporter"], {"city": "Paris"})])
        records.update_many(conn, org, "transactions", [(ids["gift"], {"amount": 40})])
    again = push(workspace)
    assert again.outcomes[supporter_key].message == "updated", again.outcomes
    assert again.outcomes[gift_key].message == "updated", again.outcomes
    assert (bl_emulator.store.count("Constituent"), bl_emulator.store.count("Transaction")) == (
        constituents,
        transactions,
    )
    assert bl_control.get("Constituent", constituent["Id"])["PrimaryAddress"]["City"] == "Paris"
    updated = bl_control.get("Transaction", transaction["Id"])
    assert updated["Amount"] == 40.0
    assert [d["Id"] for d in updated["Designations"]] == transaction["DesignationIds"]
    # A pull links the pushed records to the same platform rows: nothing is created twice.
    pulled = sync(workspace)
    assert pulled.status == "succeeded", pulled.message
    assert platform_id(workspace, "supporters", constituent["Id"]) == ids["supporter"]
    assert platform_id(workspace, "transactions", transaction["Id"]) == ids["gift"]
    state = platform_state(workspace)
    assert state["supporters"][str(constituent["Id"])]["city"] == "Paris"
    assert state["transactions"][str(transaction["Id"])]["amount"] == "40.00"
    assert not any(k.startswith("<unlinked") for rows in state.values() for k in rows)


def test_a_lost_answer_during_push_does_not_duplicate(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(300, seed=14)
    connect(workspace, bl_emulator, toggles=BOTH_WAYS)
    ids = _new_donor(workspace)
    bl_control.fault(kind="drop_after_write", method="POST", path_prefix="/v2/transaction", count=1)
    # The supporter is created, the gift too, but its answer is lost: the push is deferred.
    with pytest.raises(TransientError):
        push(workspace)
    with workspace.engine.begin() as conn:
        conn.execute(push_queue.update().values(next_attempt_at=utcnow()))
    report = push(workspace)
    assert report.outcomes[("transactions", ids["gift"])].status == "pushed", report.outcomes
    assert len(_by_platform_id(bl_emulator, "Constituent", f"supporters:{ids['supporter']}")) == 1
    assert len(_by_platform_id(bl_emulator, "Transaction", f"transactions:{ids['gift']}")) == 1


def test_a_rejected_push_logs_bloomerangs_message_and_locks_after_three_failures(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(300, seed=15)
    connect(workspace, bl_emulator, toggles=BOTH_WAYS)
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (bad,) = records.insert_many(conn, org, "supporters", [{"first_name": "Nameless", "last_name": ""}])
        (good,) = records.insert_many(
            conn, org, "supporters", [{"first_name": "Grace", "last_name": "Hopper"}]
        )
    scope = _scope(workspace)
    for attempt in range(3):
        if attempt:
            with workspace.engine.begin() as conn:
                push_state.enqueue(conn, org, scope.connection_id, [("supporters", bad, "upsert", None)])
        report = push(workspace)
        assert report.outcomes[("supporters", bad)].status == "failed"
        assert report.outcomes[("supporters", bad)].locked == (attempt == 2)
    assert report.outcomes[("supporters", bad)].code == "INVALID_REQUEST"
    with reading(workspace.engine) as conn:
        errors = logs.page(conn, org, status="error", direction="push")
    assert len(errors) == 3
    assert errors[0].message.startswith(
        f"supporters {bad}: INVALID_REQUEST: FirstName and LastName are required for an Individual."
    )
    assert "locked after 3 failures" in errors[0].message
    (lock,) = list_locks(workspace, CONNECTION)
    assert lock.key == f"supporters:{bad}"
    assert _by_platform_id(bl_emulator, "Constituent", f"supporters:{good}")
    # A locked record is left alone, even when it changes; archiving the lock lets it go again.
    with workspace.engine.begin() as conn:
        records.update_many(conn, org, "supporters", [(bad, {"last_name": "Named"})])
    assert push(workspace).outcomes[("supporters", bad)].status == "skipped"
    assert archive_locks(workspace, [lock.key], CONNECTION) == 1
    assert push(workspace).outcomes[("supporters", bad)].status == "pushed"
    assert list_locks(workspace, CONNECTION) == []


def test_reconcile_removes_deleted_records_and_fetches_missed_ones(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(SEED, seed=16)
    connect(workspace, bl_emulator)
    assert sync(workspace).status == "succeeded"
    with bl_emulator.store.lock:
        tables = bl_emulator.store.tables
        giving = {t["AccountId"] for t in tables["Transaction"].values()}
        credited = {s["AccountId"] for s in tables["SoftCredit"].values()}
        doomed = next(
            c
            for c in tables["Constituent"].values()
            if c["Type"] == "Individual" and c["Id"] not in giving | credited and not c.get("HouseholdId")
        )
    bl_control.delete("Constituent", doomed["Id"])
    # A constituent the cursor has passed (an import with an old stamp): no pull sees it.
    bl_control.load(
        {
            "Constituent": [
                {
                    "Type": "Individual",
                    "FirstName": "Late",
                    "LastName": "Import",
                    "AuditTrail": {
                        "CreatedDate": "2020-01-01T00:00:00Z",
                        "LastModifiedDate": "2020-01-01T00:00:00Z",
                    },
                }
            ]
        }
    )
    polled = sync(workspace)
    assert _changes(polled) == {}
    result = _reconcile(workspace)
    assert result.deleted == {"supporters": 1, "subscriptions": 4}
    assert result.missed == {"supporters": 1, "subscriptions": 4}
    assert platform_id(workspace, "supporters", doomed["Id"]) is None
    assert linked_ids(workspace) == expected_ids(bl_emulator)
    state = platform_state(workspace)
    assert [r["last_name"] for r in state["supporters"].values() if r["first_name"] == "Late"] == ["Import"]
    # Every list once, and a fetch by id of what was missed.
    assert result.api_calls <= minimum_calls(bl_emulator) * 1.05 + 4
    assert _changes(_reconcile(workspace)) == {}


def test_reconcile_after_a_screen_merge_moves_the_losers_gifts_to_the_survivor(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(SEED, seed=17)
    connect(workspace, bl_emulator)
    assert sync(workspace).status == "succeeded"
    with bl_emulator.store.lock:
        tables = bl_emulator.store.tables
        by_account: dict[int, list[int]] = {}
        for t in tables["Transaction"].values():
            by_account.setdefault(t["AccountId"], []).append(t["Id"])
        donors = [
            c["Id"]
            for c in tables["Constituent"].values()
            if c["Type"] == "Individual" and by_account.get(c["Id"]) and not c.get("HouseholdId")
        ]
    survivor, loser = donors[0], donors[1]
    loser_gifts = by_account[loser]
    survivor_row = platform_id(workspace, "supporters", survivor)
    loser_row = platform_id(workspace, "supporters", loser)
    gift_rows = {platform_id(workspace, "transactions", g) for g in loser_gifts} - {None}
    assert gift_rows
    bl_control.merge(survivor, loser)
    result = _reconcile(workspace)
    assert result.deleted.get("supporters") == 1
    assert result.counts["supporters"].merged == 1
    assert platform_id(workspace, "supporters", loser) is None
    with reading(workspace.engine) as conn:
        entries = logs.page(conn, workspace.organization_id, data_type="supporters")
    (entry,) = [e for e in entries if e.action == "merge"]
    assert entry.message.startswith(f"merged supporters {loser_row} into {survivor_row}")
    assert "archived supporters" in entry.message
    with workspace.engine.connect() as conn:
        # Merged away in the CRM, the loser's platform row is archived (restorable), not lost.
        assert records.get_many(conn, workspace.organization_id, "supporters", [loser_row or 0])
        kept = archive.listing(conn, workspace.organization_id, platform_type="supporters")
        assert [(k.platform_id, k.reason, k.master_crm_id) for k in kept] == [
            (loser_row, "merged", str(survivor))
        ]
        moved = records.get_many(
            conn, workspace.organization_id, "transactions", sorted(g for g in gift_rows if g)
        )
    # The same platform gifts (ids kept), now the survivor's.
    assert {row["supporter_id"] for row in moved.values()} == {survivor_row}
    assert len(moved) == len(gift_rows)
    # A pull afterwards agrees with the CRM and changes nothing more on the gifts' donors.
    after = sync(workspace)
    assert after.status == "succeeded", after.message
    assert linked_ids(workspace) == expected_ids(bl_emulator)
    state = platform_state(workspace)
    for gift in loser_gifts:
        if str(gift) in state["transactions"]:
            assert state["transactions"][str(gift)]["supporter_id"] == str(survivor)


def test_an_existing_constituent_is_matched_by_email_and_name_not_duplicated(
    workspace: Workspace, bl_emulator: Emulator, bl_control: Control
) -> None:
    bl_control.seed(300, seed=18)
    connect(workspace, bl_emulator, toggles={"default": {"pull": False, "push": True}})
    existing = bl_control.create(
        "Constituent",
        {
            "Type": "Individual",
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "PrimaryEmail": {"Type": "Home", "Value": "Ada@Example.org"},
        },
    )
    before = bl_emulator.store.count("Constituent")
    ids = _new_donor(workspace, email=" ada@EXAMPLE.org ")
    report = push(workspace)
    outcome = report.outcomes[("supporters", ids["supporter"])]
    assert outcome.status == "pushed", report.outcomes
    assert outcome.crm_id == str(existing["Id"])
    assert outcome.message == "matched and updated"
    assert bl_emulator.store.count("Constituent") == before
    (matched,) = _by_platform_id(bl_emulator, "Constituent", f"supporters:{ids['supporter']}")
    assert matched["Id"] == existing["Id"]
    gift = report.outcomes[("transactions", ids["gift"])]
    assert bl_control.get("Transaction", gift.crm_id or "")["AccountId"] == existing["Id"]
