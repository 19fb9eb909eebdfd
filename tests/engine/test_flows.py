"""Directions are a promise both ways: which way each field flows, and pulls that keep to it."""

from __future__ import annotations

import pytest
from cs_testkit import connect_cs, fetch, linked, row_of, seeded, write
from engine_testkit import live

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.conflicts import Flow
from crmsync.engine.flows import column_flows
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.model.profile import FieldMapping
from crmsync.store import logs
from crmsync.store.db import reading
from crmsync.store.tenancy import Toggle

SUPPORTERS = load_profile("npsp").mapping("supporters")


@pytest.mark.parametrize(
    ("toggle", "both", "lookup"),
    [
        (Toggle(pull=True, push=True), Flow(True, True), Flow(True, True)),
        (Toggle(pull=True, push=False), Flow(False, True), Flow(False, True)),
        (Toggle(pull=False, push=True), Flow(True, False), Flow(True, False)),
    ],
)
def test_a_two_way_field_flows_as_its_section_does(toggle: Toggle, both: Flow, lookup: Flow) -> None:
    flows = column_flows(SUPPORTERS, toggle, "latest_wins")
    assert flows["title"] == both
    assert flows["household_id"] == lookup


def test_one_way_fields_flow_their_way_whatever_the_section_does() -> None:
    fields = (
        FieldMapping(column="score", crm="Score__c", direction="push"),
        FieldMapping(column="rating", crm="Rating__c", direction="pull", conflict_policy="crm_wins"),
        FieldMapping(column="title", crm="Title", conflict_policy="platform_wins"),
    )
    mapping = SUPPORTERS.model_copy(update={"fields": fields, "lookups": ()})
    receiving = column_flows(mapping, Toggle(pull=True, push=False), "latest_wins")
    assert receiving["score"] == Flow(sends=True, receives=False)
    assert receiving["rating"] == Flow(sends=False, receives=True, policy="crm_wins")
    both = column_flows(mapping, Toggle(pull=True, push=True), "crm_wins")
    assert both["title"] == Flow(sends=True, receives=True, policy="platform_wins")
    assert column_flows(mapping, Toggle(pull=False, push=False), "latest_wins") == {}


def test_a_pull_only_section_never_sends() -> None:
    team = load_profile("customer-success").mapping("cs_team")
    flows = column_flows(team, Toggle(pull=True, push=True), "latest_wins")
    assert flows
    assert not any(f.sends for f in flows.values())


def test_a_receive_only_field_edited_on_the_platform_is_put_right_by_a_full_fetch(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    # Every section receives; the CRM owns every field, whatever the conflict policy.
    connect_cs(workspace, emulator, conflict_policy="platform_wins")
    fetch(workspace, full=True)
    account = next(a for a in live(emulator, "Account") if a["Type"] == "Customer - Direct")
    company = _platform_id(workspace, account["Id"])
    write(workspace, "cs_companies", company, {"name": "Renamed on the platform"}, origin="user")
    # Nothing changed in the CRM: an incremental fetch does not read the account.
    fetch(workspace)
    assert row_of(workspace, "cs_companies", company)["name"] == "Renamed on the platform"
    result = fetch(workspace, full=True)
    assert result.status == "succeeded", result.message
    assert result.counts["cs_companies"].updated == 1
    assert row_of(workspace, "cs_companies", company)["name"] == account["Name"]
    entry = _entries(workspace, "conflict on")[0]
    assert "receive-only" in entry.message
    assert entry.details is not None
    assert entry.details["conflict"]["platform"] == "Renamed on the platform"
    # Put right, it stays right: another Full Fetch changes nothing.
    again = fetch(workspace, full=True)
    assert sum(c.updated + c.created for c in again.counts.values()) == 0


def test_a_receive_only_field_is_set_on_every_pull_of_its_record(
    workspace: Workspace, emulator: Emulator
) -> None:
    seeded(emulator)
    connect_cs(workspace, emulator)
    fetch(workspace, full=True)
    account = next(a for a in live(emulator, "Account") if a["Type"] == "Customer - Direct")
    company = _platform_id(workspace, account["Id"])
    write(workspace, "cs_companies", company, {"name": "Drifted"}, origin="user")
    # The CRM changes another field of the record: the pull applies every field that differs.
    emulator.org.update("Account", account["Id"], {"Description": "changed in Salesforce"})
    fetch(workspace)
    row = row_of(workspace, "cs_companies", company)
    assert row["name"] == account["Name"]


def test_a_send_only_field_is_never_written_by_a_pull(workspace: Workspace, emulator: Emulator) -> None:
    seeded(emulator)
    health = {"health_score": {"crm": "Health_Score__c", "direction": "send"}}
    connect_cs(workspace, emulator, sections={"cs_companies": {"fields": health}})
    fetch(workspace, full=True)
    account = next(a for a in live(emulator, "Account") if a["Type"] == "Customer - Direct")
    company = _platform_id(workspace, account["Id"])
    write(workspace, "cs_companies", company, {"health_score": 12}, origin="system")
    emulator.org.update("Account", account["Id"], {"Health_Score__c": 88, "Description": "edited"})
    fetch(workspace)
    fetch(workspace, full=True)
    assert row_of(workspace, "cs_companies", company)["health_score"] == 12


def _platform_id(workspace: Workspace, crm_id: str) -> int:
    return linked(workspace, "cs_companies")[crm_id]


def _entries(workspace: Workspace, text: str) -> list[logs.StoredLogEntry]:
    with reading(workspace.engine) as conn:
        found = logs.page(conn, workspace.organization_id, limit=500)
    return [e for e in found if text in e.message]
