"""Customer-success sections: order, directions, filters, team and owners, custom-mapped fields."""

from __future__ import annotations

from typing import Any

import pytest
from cs_testkit import (
    CUSTOMER,
    SECTIONS,
    connect_cs,
    count,
    customers,
    fetch,
    linked,
    row_of,
    scope_of,
    seeded,
)
from engine_testkit import CONNECTION, FAST, connection_config, live

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.push import pushable_types
from crmsync.engine.section_commands import list_users, run_sync_company
from crmsync.engine.sections import direction, section_named
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.model.load import load_profile
from crmsync.model.order import pull_order
from crmsync.store import tenancy
from crmsync.store.db import reading

ORDER = [
    "cs_team",
    "cs_companies",
    "cs_end_users",
    "cs_notes",
    "cs_tasks",
    "cs_licenses",
    "cs_assets",
    "cs_projects",
    "cs_tickets",
]
RENEWALS = {
    "object": "Opportunity",
    "label": "renewals",
    "fields": {"name": "Name", "amount": "Amount", "close_date": "CloseDate", "stage": "StageName"},
    "lookups": {"AccountId": {"to": "cs_companies", "column": "company_id", "required": True}},
}


def _expected(emulator: Emulator, accounts: set[str]) -> dict[str, set[str]]:
    """CRM ids each section should link when exactly ``accounts`` are companies."""
    contacts = {c["Id"] for c in live(emulator, "Contact") if c["AccountId"] in accounts}
    assets = {a["Id"] for a in live(emulator, "Asset") if a["AccountId"] in accounts}
    return {
        "cs_team": {u["Id"] for u in live(emulator, "User")},
        "cs_companies": accounts,
        "cs_end_users": contacts,
        "cs_notes": {n["Id"] for n in live(emulator, "Note") if n["ParentId"] in accounts | contacts},
        "cs_tasks": {
            t["Id"]
            for t in live(emulator, "Task")
            if t["WhatId"] in accounts and (t["WhoId"] is None or t["WhoId"] in contacts)
        },
        "cs_licenses": {r["Id"] for r in live(emulator, "License__c") if r["Account__c"] in accounts},
        "cs_assets": assets,
        "cs_projects": {r["Id"] for r in live(emulator, "Project__c") if r["Account__c"] in accounts},
        "cs_tickets": {r["Id"] for r in live(emulator, "Case") if r["AccountId"] in accounts},
    }


def _linked_ids(workspace: Workspace) -> dict[str, set[str]]:
    return {t: set(linked(workspace, t)) for t in SECTIONS}


def test_sections_are_walked_in_order_team_first_custom_sections_before_tickets(
    workspace: Workspace, emulator: Emulator
) -> None:
    assert pull_order(load_profile("customer-success")) == ORDER
    connect_cs(workspace, emulator, sections={"cs_opportunities": {"direction": "receive", **RENEWALS}})
    profile = scope_of(workspace).profile
    assert pull_order(profile) == [*ORDER[:-1], "cs_opportunities", "cs_tickets"]
    assert section_named(profile, "end-users").type == "cs_end_users"
    assert section_named(profile, "renewals").type == "cs_opportunities"
    with pytest.raises(ConfigError, match="has no section 'widgets'"):
        section_named(profile, "widgets")


def test_each_section_has_a_direction_that_becomes_its_toggles(
    workspace: Workspace, emulator: Emulator
) -> None:
    chosen = {"cs_companies": "both", "cs_end_users": "send", "cs_notes": "off", "cs_tickets": "receive"}
    connect_cs(workspace, emulator, sections={t: {"direction": d} for t, d in chosen.items()})
    row = workspace.connection(CONNECTION)
    with reading(workspace.engine) as conn:
        toggles = tenancy.get_toggles(conn, workspace.organization_id, row.id)
    assert {t: direction(toggles.get(t)) for t in chosen} == chosen
    assert direction(toggles["cs_team"]) == "receive"


@pytest.mark.parametrize("setting", [{"direction": "send"}, {"direction": "both"}])
def test_the_team_is_pulled_only(workspace: Workspace, emulator: Emulator, setting: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="team are pulled only"):
        connect_cs(workspace, emulator, sections={"cs_team": setting})
    # A default that pushes every section still leaves the team pull-only.
    everything = {"default": {"pull": True, "push": True}}
    workspace.register(
        CONNECTION, connection_config(emulator, profile="customer-success", toggles=everything)
    )
    row = workspace.connection(CONNECTION)
    with reading(workspace.engine) as conn:
        toggles = tenancy.get_toggles(conn, workspace.organization_id, row.id)
    assert (direction(toggles["cs_team"]), direction(toggles["cs_companies"])) == ("receive", "both")
    forced = {t: tenancy.Toggle(True, True) for t in toggles}
    assert "cs_team" not in pushable_types(workspace.scope(row), forced)


def test_full_fetch_pulls_every_receiving_section_and_resolves_owners_through_the_user_list(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator)
    result = fetch(workspace, full=True)
    assert result.status == "succeeded", result.message
    accounts = {a["Id"] for a in live(emulator, "Account")}
    assert _linked_ids(workspace) == _expected(emulator, accounts)
    users = list_users(workspace, CONNECTION)
    assert {u.crm_id for u in users} == {u["Id"] for u in live(emulator, "User")}
    team = linked(workspace, "cs_team")
    for crm_id, platform_id in linked(workspace, "cs_companies").items():
        owner = emulator.org.get("Account", crm_id)
        assert owner is not None
        assert row_of(workspace, "cs_companies", platform_id)["owner_id"] == team[owner["OwnerId"]]


def test_a_filtered_section_never_pulls_a_non_matching_account(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_companies": {"filter": [CUSTOMER]}})
    matching = {a["Id"] for a in customers(emulator)}
    others = {a["Id"] for a in live(emulator, "Account")} - matching
    assert matching
    assert others
    result = fetch(workspace, full=True)
    # Related sections inherit the filter (or leave out records whose parent it keeps out):
    # no record fails for want of a parent.
    assert result.status == "succeeded", result.message
    assert _linked_ids(workspace) == _expected(emulator, matching)
    # Edited in Salesforce, still not a customer: the incremental fetch leaves it out too.
    prospect = sorted(others)[0]
    emulator.org.update("Account", prospect, {"Description": "edited", "Phone": "(555) 555-0100"})
    again = fetch(workspace)
    assert again.status == "succeeded"
    assert set(linked(workspace, "cs_companies")) == matching
    with pytest.raises(ConfigError, match="does not meet the section's filter"):
        run_sync_company(workspace, CONNECTION, prospect, retry=FAST)
    # Once it becomes a customer, it is pulled.
    emulator.org.update("Account", prospect, {"Type": "Customer - Direct"})
    fetch(workspace, section="companies")
    assert set(linked(workspace, "cs_companies")) == matching | {prospect}


def test_only_default_and_custom_mapped_fields_sync(workspace: Workspace, emulator: Emulator) -> None:
    seeded(emulator)
    account = customers(emulator)[0]
    assert account["Health_Score__c"] is not None
    connect_cs(workspace, emulator)
    fetch(workspace, section="companies")
    company = linked(workspace, "cs_companies")[account["Id"]]
    # Health_Score__c is a field of the org, but no default field maps it: it does not sync.
    assert row_of(workspace, "cs_companies", company)["health_score"] is None
    assert row_of(workspace, "cs_companies", company)["name"] == account["Name"]
    fields = {"health_score": "Health_Score__c", "customer_since": {"crm": "Customer_Since__c"}}
    connect_cs(workspace, emulator, sections={"cs_companies": {"fields": fields}})
    fetch(workspace, section="companies", full=True)
    row = row_of(workspace, "cs_companies", company)
    assert row["health_score"] == account["Health_Score__c"]
    assert row["customer_since"].isoformat() == account["Customer_Since__c"]
    # A default field switched off no longer syncs.
    connect_cs(workspace, emulator, sections={"cs_companies": {"fields": {"phone": {"direction": "off"}}}})
    emulator.org.update("Account", account["Id"], {"Phone": "(555) 555-0199", "Website": "https://x.example"})
    fetch(workspace, section="companies")
    row = row_of(workspace, "cs_companies", company)
    assert row["phone"] == account["Phone"]
    assert row["website"] == "https://x.example"


def test_a_custom_mapped_section_syncs_between_projects_and_tickets(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator, sections={"cs_opportunities": {"direction": "receive", **RENEWALS}})
    seen: list[str] = []

    class Order:
        def object_started(self, platform_type: str, label: str) -> None:
            seen.append(platform_type)

        def page_done(self, platform_type: str, fetched: int, total: int | None) -> None: ...

        def object_done(self, platform_type: str, counts: object) -> None: ...

        def note(self, text: str) -> None: ...

        def waiting(self, text: str) -> None: ...

    result = fetch(workspace, full=True, observer=Order())
    assert result.status == "succeeded", result.message
    assert seen == [*ORDER[:-1], "cs_opportunities", "cs_tickets"]
    renewals = {o["Id"] for o in live(emulator, "Opportunity")}
    assert set(linked(workspace, "cs_opportunities")) == renewals
    assert count(workspace, "cs_opportunities") == len(renewals)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"cs_widgets": {"direction": "receive"}}, "does not map it; name its object"),
        ({"cs_companies": {"fields": {"mrr": {"direction": "receive"}}}}, "needs crm = FIELD"),
        ({"cs_companies": {"fields": {"health_score": "No_Such_Field__c"}}}, "no such field on Account"),
        ({"cs_companies": {"fields": {"no_column": "Health_Score__c"}}}, "column 'no_column' does not exist"),
        ({"cs_companies": {"direction": "receive", "filter": [{"field": "Nope__c", "value": 1}]}}, "Nope__c"),
    ],
)
def test_bad_section_settings_say_what_to_fix(
    workspace: Workspace, emulator: Emulator, sections: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        connect_cs(workspace, emulator, sections=sections)
