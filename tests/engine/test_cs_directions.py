"""Per-field direction, user vs system changes and the daily push (customer-success profile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cs_testkit import (
    connect_cs,
    connector_of,
    customers,
    fetch,
    linked,
    options_of,
    row_of,
    scope_of,
    seeded,
    write,
)
from engine_testkit import CONNECTION, FAST, live

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_push, run_sweep
from crmsync.engine.jobs import NEXT_DAILY_PUSH, run_due
from crmsync.engine.section_commands import run_daily_push
from crmsync.engine.workspace import Workspace
from crmsync.store import capture, records, runs, tenancy
from crmsync.store.db import reading

HEALTH = {"health_score": {"crm": "Health_Score__c", "direction": "send"}}


def _account(emulator: Emulator, crm_id: str) -> dict[str, object]:
    row = emulator.org.get("Account", crm_id)
    assert row is not None
    return dict(row)


def _first_company(workspace: Workspace, emulator: Emulator) -> tuple[str, int]:
    crm_id = customers(emulator)[0]["Id"]
    return crm_id, linked(workspace, "cs_companies")[crm_id]


def test_a_receiving_section_sends_one_field_by_the_daily_push_not_on_change(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_companies": {"fields": HEALTH}})
    fetch(workspace, full=True)
    crm_id, company = _first_company(workspace, emulator)
    before = _account(emulator, crm_id)
    # A person edits the company in the application: the health score and the name.
    write(workspace, "cs_companies", company, {"health_score": 97, "name": "Renamed here"}, origin="user")
    report = run_push(workspace, CONNECTION, retry=FAST)
    assert report.count("pushed") == 0
    assert _account(emulator, crm_id)["Health_Score__c"] == before["Health_Score__c"]
    daily = run_daily_push(workspace, CONNECTION, retry=FAST)
    assert daily.status == "succeeded", daily.message
    after = _account(emulator, crm_id)
    assert after["Health_Score__c"] == 97
    # Only the field the section sends: the name in Salesforce is not touched.
    assert after["Name"] == before["Name"]
    assert daily.reports["cs_companies"].count("pushed") == len(linked(workspace, "cs_companies"))
    # The section receives, so the CRM owns the name: the daily push, which read the account
    # to merge with it, put the platform's name back. Its echo then changes nothing (the
    # health score is never pulled).
    row = row_of(workspace, "cs_companies", company)
    assert (row["health_score"], row["name"]) == (97, before["Name"])
    result = fetch(workspace)
    assert result.counts["cs_companies"].updated == 0
    assert row_of(workspace, "cs_companies", company)["health_score"] == 97


def test_a_sending_section_receives_one_field_onto_the_records_it_linked(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_tickets": {"direction": "send"}})
    fetch(workspace, full=True)
    assert linked(workspace, "cs_tickets") == {}
    _, company = _first_company(workspace, emulator)
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        (ticket,) = records.insert_many(
            conn, org, "cs_tickets", [{"subject": "Export fails", "status": "New", "company_id": company}]
        )
    report = run_push(workspace, CONNECTION, retry=FAST)
    assert report.count("pushed") == 1
    case_id = linked(workspace, "cs_tickets")
    (crm_id,) = case_id
    case = emulator.org.get("Case", crm_id)
    assert case is not None
    assert case["CaseNumber"]
    assert row_of(workspace, "cs_tickets", ticket)["case_number"] is None
    # The next pull brings Salesforce's case number (a `pull` field) onto the ticket, and
    # nothing else: the cases made in Salesforce stay there.
    result = fetch(workspace)
    assert result.status == "succeeded", result.message
    assert row_of(workspace, "cs_tickets", ticket)["case_number"] == case["CaseNumber"]
    assert set(linked(workspace, "cs_tickets")) == {crm_id}
    assert len(live(emulator, "Case")) > 1


def test_a_system_change_is_not_pushed_until_the_daily_job(workspace: Workspace, emulator: Emulator) -> None:
    seeded(emulator)
    fields = {"health_score": "Health_Score__c"}
    connect_cs(workspace, emulator, direction="both", sections={"cs_companies": {"fields": fields}})
    fetch(workspace, full=True)
    crm_id, company = _first_company(workspace, emulator)
    # The application's scoring job recomputes the health score: an automated (system) change.
    write(workspace, "cs_companies", company, {"health_score": 12}, origin="system")
    assert run_push(workspace, CONNECTION, retry=FAST).outcomes == {}
    assert _account(emulator, crm_id)["Health_Score__c"] != 12
    # The runner's jobs: nothing before the daily push's time, then the daily push.
    scope = scope_of(workspace)
    settings = {**workspace.connection(CONNECTION).settings, "incremental_jobs": False}
    settings["daily_push_at"] = "03:00"
    connector = connector_of(workspace)
    day = datetime(2030, 5, 1, 1, 0, tzinfo=UTC)
    try:
        for moment in (day, day + timedelta(hours=1, minutes=59)):
            ran = run_due(workspace.engine, scope, connector, settings, now=moment, filters={})
            assert ran.daily is None
        assert _account(emulator, crm_id)["Health_Score__c"] != 12
        ran = run_due(workspace.engine, scope, connector, settings, now=day + timedelta(hours=2), filters={})
        assert ran.daily is not None
        assert ran.daily.status == "succeeded", ran.daily.message
        assert _account(emulator, crm_id)["Health_Score__c"] == 12
        # Once a day: not again the same day, again the next day at the same time.
        later = run_due(
            workspace.engine, scope, connector, settings, now=day + timedelta(hours=20), filters={}
        )
        assert later.daily is None
        nextday = day + timedelta(days=1, hours=2)
        assert (
            run_due(workspace.engine, scope, connector, settings, now=nextday, filters={}).daily is not None
        )
    finally:
        connector.close()
    with reading(workspace.engine) as conn:
        stored = tenancy.get_setting(
            conn, workspace.organization_id, NEXT_DAILY_PUSH, connection_id=scope.connection_id
        )
        kinds = [r.kind for r in runs.recent(conn, workspace.organization_id, limit=5)]
    assert stored == (day + timedelta(days=2, hours=2)).isoformat()
    assert kinds.count("daily_push") == 2


def test_a_later_user_change_sends_the_system_changed_fields_too(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, direction="both")
    fetch(workspace, full=True)
    crm_id, company = _first_company(workspace, emulator)
    write(workspace, "cs_companies", company, {"phone": "(555) 555-0111"}, origin="system")
    assert run_push(workspace, CONNECTION, retry=FAST).outcomes == {}
    assert _account(emulator, crm_id)["Phone"] != "(555) 555-0111"
    write(workspace, "cs_companies", company, {"website": "https://user.example.com"}, origin="user")
    report = run_push(workspace, CONNECTION, retry=FAST)
    assert report.count("pushed") == 1
    after = _account(emulator, crm_id)
    assert (after["Website"], after["Phone"]) == ("https://user.example.com", "(555) 555-0111")


def test_end_users_created_by_the_system_reach_the_crm_with_the_daily_push(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, direction="both")
    fetch(workspace, full=True)
    crm_id, company = _first_company(workspace, emulator)
    org = workspace.organization_id
    with workspace.engine.begin() as conn, capture.origin(conn, "system"):
        # Seen in the product's usage data: the application creates the end user itself.
        (person,) = records.insert_many(
            conn,
            org,
            "cs_end_users",
            [
                {
                    "first_name": "Uma",
                    "last_name": "Usage",
                    "email": "uma@usage.example",
                    "company_id": company,
                }
            ],
        )
    assert run_push(workspace, CONNECTION, retry=FAST).outcomes == {}
    # Nor does the safety-net sweep take it: the daily push is that section's safety net.
    assert run_sweep(workspace, CONNECTION, retry=FAST).outcomes == {}
    assert not [c for c in live(emulator, "Contact") if c["Email"] == "uma@usage.example"]
    daily = run_daily_push(workspace, CONNECTION, retry=FAST)
    assert daily.status == "succeeded", daily.message
    (contact,) = [c for c in live(emulator, "Contact") if c["Email"] == "uma@usage.example"]
    assert contact["AccountId"] == crm_id
    assert linked(workspace, "cs_end_users")[contact["Id"]] == person
    # Receiving sections are not pushed whole by the daily push; the others were not asked for.
    assert set(daily.reports) == {"cs_companies", "cs_end_users"}
    assert options_of(workspace).modstamp_field == "LastModifiedDate"
