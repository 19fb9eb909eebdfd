"""Sync All against the emulated NPSP org over loopback HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from engine_testkit import (
    CONNECTION,
    FAST,
    connect,
    expected_ids,
    linked_ids,
    live,
    platform_state,
    row_counts,
    sync,
)

from crmsync.connectors.base import Connector, Page, ReadRequest
from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import opened
from crmsync.engine.pull import NOTHING_ENABLED, sync_all
from crmsync.engine.workspace import Workspace
from crmsync.store import archive, logs, records, runs, tenancy
from crmsync.store.platform import platform_table
from crmsync.store.tables import links


def test_sync_all_pulls_every_object_with_links_and_parents(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 900, seed=7)
    connect(workspace, emulator)
    result = sync(workspace)
    assert result.status == "succeeded", result.message
    expected = expected_ids(emulator)
    assert linked_ids(workspace) == {k: v for k, v in expected.items() if v}
    assert row_counts(workspace) == {k: len(v) for k, v in expected.items()}
    state = platform_state(workspace)
    # Every lookup resolved to the platform record of the CRM parent.
    contacts = {c["Id"]: c for c in live(emulator, "Contact")}
    for crm_id, row in state["supporters"].items():
        assert row["household_id"] == contacts[crm_id]["AccountId"]
        assert row["email"] == contacts[crm_id]["Email"]
    payments = {p["Id"]: p for p in live(emulator, "npe01__OppPayment__c")}
    for crm_id, row in state["transaction_payments"].items():
        assert row["transaction_id"] == payments[crm_id]["npe01__Opportunity__c"]
    assert all("<dangling>" not in str(row) for rows in state.values() for row in rows.values())
    # One log entry per created record, one run with counts per object.
    created = sum(c.created for c in result.counts.values())
    assert created == sum(len(v) for v in expected.values())
    with workspace.engine.connect() as conn:
        entries = logs.page(conn, workspace.organization_id, run_id=result.run_id, limit=100_000)
        stored = runs.get(conn, workspace.organization_id, result.run_id)
    assert len(entries) == created
    assert {e.action for e in entries} == {"create"}
    assert stored is not None
    assert stored.status == "succeeded"
    assert stored.counts["supporters"]["created"] == len(expected["supporters"])


def test_a_second_sync_all_creates_nothing_new(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 500, seed=3)
    connect(workspace, emulator)
    sync(workspace)
    before = platform_state(workspace)
    again = sync(workspace)
    assert again.status == "succeeded"
    assert sum(c.created + c.updated for c in again.counts.values()) == 0
    assert platform_state(workspace) == before


def test_all_toggles_off_is_a_successful_run_that_says_so(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 200, seed=1)
    connect(workspace, emulator, toggles={"default": {"pull": False, "push": True}})
    result = sync(workspace)
    assert result.status == "succeeded"
    assert result.message == NOTHING_ENABLED
    assert result.api_calls == 0
    assert sum(row_counts(workspace).values()) == 0


def test_missing_parent_skips_with_an_entry_then_retries_when_the_parent_arrives(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 300, seed=2)
    connect(workspace, emulator, toggles={"default": {"pull": False}, "supporters": {"pull": True}})
    result = sync(workspace)
    assert result.status == "partial"
    contacts = live(emulator, "Contact")
    with_household = [c for c in contacts if c["AccountId"]]
    assert result.counts["supporters"].skipped == len(with_household)
    assert row_counts(workspace)["supporters"] == len(contacts) - len(with_household)
    with workspace.engine.connect() as conn:
        skipped = logs.page(conn, workspace.organization_id, status="skipped", limit=10_000)
    sample = next(e for e in skipped if e.crm_id == with_household[0]["Id"])
    assert f"its parent {with_household[0]['AccountId']} (AccountId)" in sample.message
    assert "households" in sample.message
    # The parent type is switched on: the skipped contacts come in although they did not change.
    with workspace.engine.begin() as conn:
        row = tenancy.get_connection(conn, workspace.organization_id, "sf")
        assert row is not None
        tenancy.set_toggles(
            conn, workspace.organization_id, row.id, {"households": tenancy.Toggle(True, False)}
        )
    again = sync(workspace)
    assert again.status == "succeeded", again.message
    assert row_counts(workspace)["supporters"] == len(contacts)
    assert linked_ids(workspace)["supporters"] == {c["Id"] for c in contacts}


def test_matching_links_an_existing_supporter_by_normalised_email(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 200, seed=4)
    contact = next(c for c in live(emulator, "Contact") if c["Email"])
    with workspace.engine.begin() as conn:
        (existing,) = records.insert_many(
            conn,
            workspace.organization_id,
            "supporters",
            [{"last_name": "Local", "email": f"  {contact['Email'].upper()} "}],
        )
    connect(workspace, emulator)
    result = sync(workspace)
    assert result.status == "succeeded"
    with workspace.engine.connect() as conn:
        linked = conn.execute(
            sa.select(links.c.platform_id).where(
                links.c.crm_id == contact["Id"], links.c.platform_type == "supporters"
            )
        ).scalar_one()
        row = records.get_many(conn, workspace.organization_id, "supporters", [existing])[existing]
        entry = logs.page(conn, workspace.organization_id, data_type="supporters", limit=100_000)
    assert linked == existing
    assert row["last_name"] == contact["LastName"]
    assert row_counts(workspace)["supporters"] == len(live(emulator, "Contact"))
    assert any("matched by email" in e.message and e.platform_id == existing for e in entry)


def test_edits_merges_and_deletions_made_in_the_crm(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 600, seed=5)
    connect(workspace, emulator)
    sync(workspace)
    org = emulator.org
    gifts = live(emulator, "Opportunity")
    loser_id = next(g["npsp__Primary_Contact__c"] for g in gifts if g["npsp__Primary_Contact__c"])
    loser = org.get("Contact", loser_id)
    assert loser is not None
    master_id = next(c["Id"] for c in live(emulator, "Contact") if c["Id"] != loser_id)
    edited = next(c["Id"] for c in live(emulator, "Contact") if c["Id"] not in (loser_id, master_id))
    org.update("Contact", edited, {"Phone": "555-0199"})
    loser_gifts = {g["Id"] for g in gifts if g["npsp__Primary_Contact__c"] == loser_id}
    org.merge("Contact", master_id, [loser_id])
    member = live(emulator, "CampaignMember")[0]["Id"]
    org.delete("CampaignMember", member)
    with workspace.engine.connect() as conn:
        loser_platform = conn.execute(
            sa.select(links.c.platform_id).where(
                links.c.crm_id == loser_id, links.c.platform_type == "supporters"
            )
        ).scalar_one()

    result = sync(workspace)
    assert result.status == "succeeded", result.message
    assert result.counts["supporters"].merged == 1
    assert result.counts["campaign_members"].deleted == 1
    assert result.counts["supporters"].updated >= 1
    state = platform_state(workspace)
    assert loser_id not in state["supporters"]
    assert member not in state["campaign_members"]
    assert state["supporters"][edited]["phone"] == "555-0199"
    for gift in loser_gifts:
        assert state["transactions"].get(gift, state["pledges"].get(gift))["supporter_id"] == master_id
    with workspace.engine.connect() as conn:
        # Kept and archived (on_crm_delete = archive), not deleted: restorable, and out of pushes.
        assert records.get_many(conn, workspace.organization_id, "supporters", [loser_platform])
        kept = {(k.platform_type, k.reason) for k in archive.listing(conn, workspace.organization_id)}
        assert kept == {("supporters", "merged"), ("campaign_members", "deleted")}
        merges = logs.page(conn, workspace.organization_id, data_type="supporters", limit=100_000)
    assert any(e.action == "merge" and e.crm_id == loser_id and e.status == "processed" for e in merges)
    assert linked_ids(workspace) == {k: v for k, v in expected_ids(emulator).items() if v}


def test_platform_children_of_a_merged_record_move_even_if_not_repulled(
    workspace: Workspace, emulator: Emulator
) -> None:
    seed_npsp(emulator.org, 300, seed=6)
    connect(workspace, emulator)
    sync(workspace)
    contacts = live(emulator, "Contact")
    loser_id, master_id = contacts[0]["Id"], contacts[1]["Id"]
    with workspace.engine.begin() as conn:
        ids = {
            r.crm_id: r.platform_id
            for r in conn.execute(
                sa.select(links.c.crm_id, links.c.platform_id).where(links.c.platform_type == "supporters")
            )
        }
        # A platform-only gift of the loser (the application's own record, never in the CRM).
        (gift,) = records.insert_many(
            conn, workspace.organization_id, "transactions", [{"supporter_id": ids[loser_id]}]
        )
    emulator.org.merge("Contact", master_id, [loser_id])
    sync(workspace)
    with workspace.engine.connect() as conn:
        moved = records.get_many(conn, workspace.organization_id, "transactions", [gift])[gift]
    assert moved["supporter_id"] == ids[master_id]


def test_record_failures_are_logged_and_do_not_stop_the_run(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 300, seed=8)
    org = emulator.org
    # A fund without a name: the platform column is NOT NULL, so the database rejects it.
    nameless = org.insert("npsp__General_Accounting_Unit__c", {"npsp__Active__c": True})
    # A recurring donation with a fractional installment count: not an integer on the platform.
    donation = live(emulator, "npe03__Recurring_Donation__c")[0]["Id"]
    org.update("npe03__Recurring_Donation__c", donation, {"npe03__Installments__c": 2.5})
    connect(workspace, emulator)
    result = sync(workspace)
    assert result.status == "partial"
    assert result.counts["funds"].failed == 1
    assert result.counts["recurring_donations"].failed == 1
    assert result.counts["funds"].created == len(live(emulator, "npsp__General_Accounting_Unit__c")) - 1
    with workspace.engine.connect() as conn:
        errors = {e.crm_id: e.message for e in logs.page(conn, workspace.organization_id, status="error")}
    assert "platform database rejected" in errors[nameless]
    assert "npe03__Installments__c has the value 2.5" in errors[donation]
    # Fixing the record in the CRM brings it in on the next run.
    org.update("npe03__Recurring_Donation__c", donation, {"npe03__Installments__c": 3})
    again = sync(workspace)
    assert again.counts["recurring_donations"].created == 1


def test_many_records_sharing_one_timestamp_resume_after_a_failed_page(
    workspace: Workspace, emulator: Emulator
) -> None:
    org = emulator.org
    org.clock.freeze()
    for n in range(2300):
        org.insert("Contact", {"LastName": f"Bulk {n:04d}", "Email": f"bulk{n}@example.org"})
    org.clock.real_time()
    connect(
        workspace, emulator, page_size=200, toggles={"default": {"pull": False}, "supporters": {"pull": True}}
    )
    # The fifth page request onwards fails until the fault is cleared: the run stops.
    emulator.state.faults.add(
        {
            "kind": "status",
            "status": 503,
            "path_prefix": "/services/data/v61.0/query/",
            "after": 4,
            "count": None,
        }
    )
    failed = None
    try:
        sync(workspace)
    except Exception as exc:
        failed = exc
    assert failed is not None
    assert "503" in str(failed) or "unavailable" in str(failed).lower()
    partial = row_counts(workspace)["supporters"]
    assert partial == 5 * 200
    emulator.state.faults.clear()
    result = sync(workspace)
    assert result.status == "succeeded"
    assert row_counts(workspace)["supporters"] == 2300
    assert linked_ids(workspace)["supporters"] == {c["Id"] for c in live(emulator, "Contact")}
    # The resumed run read only what was left: 1300 records in 7 pages, plus a describe.
    assert result.counts["supporters"].fetched == 1300
    with workspace.engine.connect() as conn:
        statuses = [r.status for r in runs.recent(conn, workspace.organization_id)]
    assert statuses[:2] == ["succeeded", "failed"]


def test_an_expired_session_mid_run_logs_in_again(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 400, seed=9)
    connect(workspace, emulator)
    emulator.state.faults.add({"kind": "expire_session", "after": 5, "count": 1})
    result = sync(workspace)
    assert result.status == "succeeded"
    assert linked_ids(workspace) == {k: v for k, v in expected_ids(emulator).items() if v}


def test_platform_rows_of_other_organizations_are_untouched(workspace: Workspace, emulator: Emulator) -> None:
    seed_npsp(emulator.org, 200, seed=10)
    with workspace.engine.begin() as conn:
        other = tenancy.ensure_organization(conn, "other-tenant")
        contact = next(c for c in live(emulator, "Contact") if c["Email"])
        # Same email in another tenant: must never be matched, moved or counted.
        records.insert_many(conn, other, "supporters", [{"last_name": "Other", "email": contact["Email"]}])
    connect(workspace, emulator)
    sync(workspace)
    table = platform_table("supporters")
    with workspace.engine.connect() as conn:
        theirs = conn.execute(sa.select(table).where(table.c.organization_id == other)).all()
    assert [r.last_name for r in theirs] == ["Other"]


class _RepeatingReads:
    """The emulator's connector, but each page after the first also carries the record that
    ended the page before, as when a record changes while the pages are read."""

    def __init__(self, inner: Connector) -> None:
        self._inner = inner
        self.repeated = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def read(self, request: ReadRequest) -> Iterator[Page]:
        last = None
        for page in self._inner.read(request):
            if last is not None:
                page.records.insert(0, last)
                self.repeated += 1
            last = page.records[-1] if page.records else last
            yield page


def test_a_record_read_again_on_the_next_page_is_applied_once(
    workspace: Workspace, emulator: Emulator
) -> None:
    # Each page is planned while the page before is written, so the repeated record's link
    # is not in the database yet when its second page is planned.
    seed_npsp(emulator.org, 3000, seed=5)
    connect(workspace, emulator, page_size=200)
    with opened(workspace, CONNECTION, retry=FAST) as session:
        connector = _RepeatingReads(session.connector)
        result = sync_all(workspace.engine, session.scope, connector)  # type: ignore[arg-type]
    assert result.status == "succeeded", result.message
    assert connector.repeated >= 8
    expected = expected_ids(emulator)
    assert row_counts(workspace) == {k: len(v) for k, v in expected.items()}
    assert linked_ids(workspace) == {k: v for k, v in expected.items() if v}
    assert sum(c.unchanged for c in result.counts.values()) == connector.repeated
