"""The two incremental jobs and the manual syncs: Full Fetch, Fetch one section, Sync one company,
Push one model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cs_testkit import (
    CUSTOMER,
    SECTIONS,
    connect_cs,
    connector_of,
    count,
    customers,
    fetch,
    linked,
    row_of,
    scope_of,
    seeded,
    write,
)
from engine_testkit import CONNECTION, FAST, live

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.counts import Counts
from crmsync.engine.jobs import ALTERNATIVE, STANDARD, incremental_job, run_due, run_incremental
from crmsync.engine.section_commands import run_push_model, run_sync_company
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import records
from crmsync.store.tables import cursors

DAY = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


class Order:
    """An observer that notes the order sections are walked in."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def object_started(self, platform_type: str, label: str) -> None:
        self.seen.append(platform_type)

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None: ...

    def object_done(self, platform_type: str, counts: Counts) -> None: ...

    def note(self, text: str) -> None: ...

    def waiting(self, text: str) -> None: ...


def _due(workspace: Workspace, connector: Any, now: datetime, **settings: Any) -> Any:
    row = workspace.connection(CONNECTION)
    chosen = {**row.settings, **settings}
    return run_due(
        workspace.engine, scope_of(workspace), connector, chosen, now=now, filters=workspace.filters(row)
    )


def _cursor_fields(workspace: Workspace) -> set[str]:
    with workspace.engine.connect() as conn:
        return set(conn.execute(sa.select(cursors.c.field).distinct()).scalars())


def test_the_standard_job_runs_every_ten_minutes_by_last_modified_date(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator)
    row = workspace.connection(CONNECTION)
    assert incremental_job(row.settings, scope_of(workspace).profile) == STANDARD
    connector = connector_of(workspace)
    try:
        first = _due(workspace, connector, DAY)
        assert first.incremental is not None
        assert first.incremental.status == "succeeded", first.incremental.message
        assert set(linked(workspace, "cs_companies")) == {a["Id"] for a in live(emulator, "Account")}
        account = customers(emulator)[0]
        emulator.org.update("Account", account["Id"], {"Description": "changed by a person"})
        assert _due(workspace, connector, DAY + timedelta(minutes=9)).incremental is None
        second = _due(workspace, connector, DAY + timedelta(minutes=10))
        assert second.incremental is not None
        assert second.incremental.counts["cs_companies"].updated == 1
    finally:
        connector.close()
    company = linked(workspace, "cs_companies")[account["Id"]]
    assert row_of(workspace, "cs_companies", company)["description"] == "changed by a person"
    assert _cursor_fields(workspace) == {"LastModifiedDate"}


def test_the_alternative_job_replaces_the_standard_one_and_sees_automation_changes(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, alternative_incremental=True)
    row = workspace.connection(CONNECTION)
    assert incremental_job(row.settings, scope_of(workspace).profile) == ALTERNATIVE
    connector = connector_of(workspace)
    try:
        first = _due(workspace, connector, DAY)
        assert first.incremental is not None
        assert first.incremental.status == "succeeded"
        # An automation (a flow) changes an account: only SystemModstamp moves.
        account = customers(emulator)[0]
        emulator.org.update("Account", account["Id"], {"Description": "set by a flow"}, system=True)
        # Not every 10 minutes: every 30.
        assert _due(workspace, connector, DAY + timedelta(minutes=10)).incremental is None
        assert _due(workspace, connector, DAY + timedelta(minutes=29)).incremental is None
        second = _due(workspace, connector, DAY + timedelta(minutes=30))
        assert second.incremental is not None
        assert second.incremental.counts["cs_companies"].updated == 1
    finally:
        connector.close()
    company = linked(workspace, "cs_companies")[account["Id"]]
    assert row_of(workspace, "cs_companies", company)["description"] == "set by a flow"
    # The standard job never ran: no cursor by LastModifiedDate.
    assert _cursor_fields(workspace) == {"SystemModstamp"}


@pytest.mark.parametrize("alternative", [False, True])
def test_both_jobs_walk_the_sections_in_order_starting_with_team(
    workspace: Workspace, emulator: Emulator, alternative: bool
) -> None:
    seeded(emulator, 200)
    connect_cs(workspace, emulator, alternative_incremental=alternative)
    row = workspace.connection(CONNECTION)
    job = incremental_job(row.settings, scope_of(workspace).profile)
    assert job is not None
    order = Order()
    connector = connector_of(workspace)
    try:
        result = run_incremental(
            workspace.engine, scope_of(workspace), connector, job, filters={}, observer=order
        )
    finally:
        connector.close()
    assert result.status == "succeeded"
    assert order.seen == list(SECTIONS)
    # The first pages of every section came in one call (plus one describe per object).
    assert result.api_calls == len(SECTIONS) + 1


def test_the_jobs_can_be_switched_off(workspace: Workspace, emulator: Emulator) -> None:
    connect_cs(workspace, emulator, incremental_jobs=False)
    assert incremental_job(workspace.connection(CONNECTION).settings, scope_of(workspace).profile) is None


def test_full_fetch_reads_all_history_again_respecting_filters(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_companies": {"filter": [CUSTOMER]}})
    fetch(workspace)
    matching = {a["Id"] for a in customers(emulator)}
    assert set(linked(workspace, "cs_companies")) == matching
    # The application deleted a company: an incremental fetch has nothing new to bring...
    company = next(iter(linked(workspace, "cs_companies").values()))
    with workspace.engine.begin() as conn:
        records.delete(conn, workspace.organization_id, "cs_companies", company)
    assert fetch(workspace).counts["cs_companies"].created == 0
    # ...a Full Fetch reads every record again, and still only those that meet the filter.
    result = fetch(workspace, full=True)
    assert result.status == "succeeded", result.message
    assert result.counts["cs_companies"].created == 1
    assert result.counts["cs_companies"].fetched == len(matching)
    assert set(linked(workspace, "cs_companies")) == matching


def test_fetch_one_section_pulls_it_with_the_team_only(workspace: Workspace, emulator: Emulator) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator)
    order = Order()
    result = fetch(workspace, section="licenses", observer=order)
    assert order.seen == ["cs_team", "cs_licenses"]
    # Their companies were not asked for: each license waits for its company, with an error.
    assert result.status == "partial"
    assert result.counts["cs_licenses"].skipped == len(live(emulator, "License__c"))
    fetch(workspace, section="companies")
    assert set(linked(workspace, "cs_companies")) == {a["Id"] for a in live(emulator, "Account")}
    assert count(workspace, "cs_end_users") == 0
    again = fetch(workspace, section="licenses", observer=order)
    assert again.status == "succeeded", again.message
    assert order.seen[-2:] == ["cs_team", "cs_licenses"]
    assert set(linked(workspace, "cs_licenses")) == {r["Id"] for r in live(emulator, "License__c")}
    with pytest.raises(ConfigError, match="has no section 'widgets'"):
        fetch(workspace, section="widgets")


def test_sync_one_company_brings_in_exactly_that_accounts_related_records(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator)
    account = customers(emulator)[1]["Id"]
    contacts = {c["Id"] for c in live(emulator, "Contact") if c["AccountId"] == account}
    assets = {a["Id"] for a in live(emulator, "Asset") if a["AccountId"] == account}
    expected = {
        "cs_companies": {account},
        "cs_end_users": contacts,
        "cs_notes": {n["Id"] for n in live(emulator, "Note") if n["ParentId"] in {account} | contacts},
        "cs_tasks": {
            t["Id"] for t in live(emulator, "Task") if t["WhatId"] == account or t["WhoId"] in contacts
        },
        "cs_licenses": {r["Id"] for r in live(emulator, "License__c") if r["Account__c"] == account},
        "cs_assets": assets,
        "cs_projects": {r["Id"] for r in live(emulator, "Project__c") if r["Account__c"] == account},
        "cs_tickets": {r["Id"] for r in live(emulator, "Case") if r["AccountId"] == account},
        "cs_team": {u["Id"] for u in live(emulator, "User")},
    }
    assert all(expected.values()), expected
    synced = run_sync_company(workspace, CONNECTION, account, retry=FAST)
    assert synced.company.status == "succeeded", synced.company.message
    assert {t: set(linked(workspace, t)) for t in SECTIONS} == expected
    # No cursor moved but the team's: the scheduled jobs still read everything else.
    with workspace.engine.connect() as conn:
        assert set(conn.execute(sa.select(cursors.c.platform_type)).scalars()) == {"cs_team"}
    # By the platform id of a linked company, again: nothing new, nothing duplicated.
    again = run_sync_company(
        workspace, CONNECTION, str(linked(workspace, "cs_companies")[account]), retry=FAST
    )
    assert again.company.status == "succeeded"
    assert sum(c.created for c in again.company.counts.values()) == 0
    with pytest.raises(ConfigError, match="is not linked"):
        run_sync_company(workspace, CONNECTION, "999999", retry=FAST)


def test_push_one_model_pushes_every_record_of_a_sending_section(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator, 200)
    connect_cs(workspace, emulator, direction="both", sections={"cs_end_users": {"direction": "receive"}})
    fetch(workspace, full=True)
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        new = records.insert_many(conn, org, "cs_companies", [{"name": f"Pushed Co {i}"} for i in range(3)])
    (crm_id, company), *_ = linked(workspace, "cs_companies").items()
    write(workspace, "cs_companies", company, {"phone": "(555) 555-0123"}, origin="system")
    report = run_push_model(workspace, CONNECTION, "companies", retry=FAST)
    assert report.count("failed") == 0
    assert report.count("pushed") == len(linked(workspace, "cs_companies"))
    names = {a["Name"] for a in live(emulator, "Account")}
    assert {f"Pushed Co {i}" for i in range(3)} <= names
    assert set(new) <= set(linked(workspace, "cs_companies").values())
    pushed = emulator.org.get("Account", crm_id)
    assert pushed is not None
    assert pushed["Phone"] == "(555) 555-0123"
    with pytest.raises(ConfigError, match="end users do not send"):
        run_push_model(workspace, CONNECTION, "end users", retry=FAST)
