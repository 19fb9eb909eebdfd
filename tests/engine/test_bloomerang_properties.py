"""Property: whatever Bloomerang's users do in its screens (create, edit, delete, merge),
a pull followed by an id reconciliation leaves the platform equal to the CRM: every record
once, none lost, every gift on its donor's platform row."""

from __future__ import annotations

import os
from typing import Any

import pytest
from bloomerang_testkit import Control, connect, expected_ids, linked_ids, platform_state, sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.emulators.bloomerang import Emulator
from crmsync.engine.commands import opened
from crmsync.engine.reconcile import reconcile
from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key

CITIES = ["Lisbon", "Oslo", "Quito"]

operation = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(CITIES), st.none()),
    st.tuples(st.just("edit"), st.integers(0, 99), st.sampled_from(CITIES)),
    st.tuples(st.just("delete"), st.integers(0, 99), st.none()),
    st.tuples(st.just("merge"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("gift"), st.integers(0, 99), st.integers(1, 500)),
    st.tuples(st.just("regift"), st.integers(0, 999), st.integers(1, 500)),
    st.tuples(st.just("ungift"), st.integers(0, 999), st.none()),
    st.tuples(st.just("pull"), st.none(), st.none()),
)


@settings(
    max_examples=int(os.environ.get("CRMSYNC_PROPERTY_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_screen_changes_then_pull_and_reconcile_leave_the_platform_equal_to_bloomerang(
    ops: list[tuple[str, Any, Any]],
    bl_emulator: Emulator,
    bl_control: Control,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    bl_control.reset()
    bl_control.seed(300, seed=41)
    workspace = Workspace(
        f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}", vault=Vault(generate_key())
    )
    try:
        connect(workspace, bl_emulator)
        assert sync(workspace).status == "succeeded"
        for kind, a, b in ops:
            _play(workspace, bl_emulator, bl_control, kind, a, b)
        pulled = sync(workspace)
        assert pulled.status == "succeeded", pulled.message
        with opened(workspace, "bl") as session:
            reconcile(workspace.engine, session.scope, session.connector)
        _check(workspace, bl_emulator)
    finally:
        workspace.close()


def _individuals(emulator: Emulator) -> list[int]:
    with emulator.store.lock:
        return sorted(i for i, c in emulator.store.tables["Constituent"].items() if c["Type"] == "Individual")


def _donations(emulator: Emulator) -> list[tuple[int, int]]:
    """(transaction, designation) of one-line donations: safe to edit or delete."""
    with emulator.store.lock:
        tables = emulator.store.tables
        return sorted(
            (i, t["DesignationIds"][0])
            for i, t in tables["Transaction"].items()
            if len(t["DesignationIds"]) == 1
            and tables["Designation"][t["DesignationIds"][0]]["Type"] == "Donation"
        )


def _play(workspace: Workspace, emulator: Emulator, control: Control, kind: str, a: Any, b: Any) -> None:
    people, gifts = _individuals(emulator), _donations(emulator)
    if kind == "create":
        control.create(
            "Constituent",
            {
                "Type": "Individual",
                "FirstName": "New",
                "LastName": f"Person{len(people)}",
                "PrimaryAddress": {"City": a},
            },
        )
    elif kind == "edit" and people:
        control.update("Constituent", people[a % len(people)], {"PrimaryAddress": {"City": b}})
    elif kind == "delete" and people:
        control.delete("Constituent", people[a % len(people)])
    elif kind == "merge" and len(people) > 1 and a % len(people) != b % len(people):
        control.merge(people[a % len(people)], people[b % len(people)])
    elif kind == "gift" and people:
        with emulator.store.lock:
            fund = min(emulator.store.tables["Fund"])
        control.create(
            "Transaction",
            {
                "AccountId": people[a % len(people)],
                "Date": "2025-06-01",
                "Amount": b,
                "Method": "Cash",
                "Designations": [{"Type": "Donation", "Amount": b, "FundId": fund}],
            },
        )
    elif kind == "regift" and gifts:
        transaction, line = gifts[a % len(gifts)]
        control.update(
            "Transaction",
            transaction,
            {"Amount": b, "Designations": [{"Id": line, "Type": "Donation", "Amount": b}]},
        )
    elif kind == "ungift" and gifts:
        control.delete("Transaction", gifts[a % len(gifts)][0])
    elif kind == "pull":
        assert sync(workspace).status == "succeeded"


def _check(workspace: Workspace, emulator: Emulator) -> None:
    assert linked_ids(workspace) == expected_ids(emulator)
    state = platform_state(workspace)
    for rows in state.values():
        assert not any(crm_id.startswith("<unlinked") for crm_id in rows), "a platform row has no link"
        assert not any("<dangling>" in str(row) for row in rows.values()), "a lookup names no linked row"
    with emulator.store.lock:
        tables = emulator.store.tables
        people = {str(i): c for i, c in tables["Constituent"].items()}
        gifts = {str(i): t for i, t in tables["Transaction"].items()}
    for crm_id, row in state["supporters"].items():
        person = people[crm_id]
        address = next((a for a in person.get("Addresses") or () if a["IsPrimary"]), {})
        assert row["city"] == address.get("City"), crm_id
        household = person.get("HouseholdId")
        assert row["household_id"] == (str(household) if household else None), crm_id
    for crm_id, row in state["transactions"].items():
        donor = str(gifts[crm_id]["AccountId"])
        assert donor in (row["supporter_id"], row["donor_organization_id"]), crm_id
        assert float(row["amount"] or 0) == float(gifts[crm_id]["Amount"]), crm_id
