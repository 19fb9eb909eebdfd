"""The customer-success seed: size, determinism, realism, and its objects through simple-salesforce."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sf_emulator_testkit import Control
from simple_salesforce import Salesforce

from crmsync.catalogs import load_catalog
from crmsync.emulators.salesforce.clock import Clock
from crmsync.emulators.salesforce.org import Org
from crmsync.emulators.salesforce.presets import seed_preset
from crmsync.emulators.salesforce.seed import parse_seed_spec
from crmsync.emulators.salesforce.seed_cs import CS_USERS, seed_customer_success

OBJECTS = {
    "User",
    "Account",
    "Contact",
    "Note",
    "Task",
    "License__c",
    "Asset",
    "Project__c",
    "Case",
    "Opportunity",
}


def frozen_org() -> Org:
    clock = Clock()
    clock.freeze()
    clock.set(datetime(2025, 6, 15, 9, 30, tzinfo=UTC))
    org = Org(load_catalog("salesforce_npsp"), clock=clock)
    org.ensure_admin()
    return org


@pytest.mark.parametrize("records", [200, 2000])
def test_seed_size_is_within_five_percent(records: int) -> None:
    org = frozen_org()
    seed_customer_success(org, records, seed=3)
    assert abs(org.total() - records) <= records * 0.05


def test_same_seed_same_org() -> None:
    first, second, other = frozen_org(), frozen_org(), frozen_org()
    for org, seed in ((first, 4), (second, 4), (other, 5)):
        seed_preset(org, "customer-success", 500, seed)

    def rows(org: Org) -> dict[str, list[dict[str, object]]]:
        return {name: [row.to_dict() for row in org.scan(name)] for name in OBJECTS}

    assert rows(first) == rows(second)
    assert rows(first) != rows(other)


def test_seed_is_a_believable_customer_success_org() -> None:
    org = frozen_org()
    counts = seed_customer_success(org, 3000, seed=1)
    assert set(counts) == OBJECTS
    assert counts["User"] == len(CS_USERS)
    accounts = list(org.scan("Account"))
    types = Counter(a["Type"] for a in accounts)
    assert types["Customer - Direct"] > types["Prospect"] > 0
    owners = {u["Id"] for u in org.scan("User")}
    for name in ("Account", "Contact", "Task", "Case", "Project__c"):
        assert all(r["OwnerId"] in owners for r in org.scan(name)), name
    customers = {a["Id"] for a in accounts if a["Type"].startswith("Customer")}
    assert all(a["Health_Score__c"] is not None for a in accounts if a["Id"] in customers)
    assert all(r["Account__c"] in customers for r in org.scan("License__c"))
    contacts = {c["Id"]: c["AccountId"] for c in org.scan("Contact")}
    for task in org.scan("Task"):
        assert task["WhoId"] is None or contacts[task["WhoId"]] == task["WhatId"]
    assert {n["ParentId"][:3] for n in org.scan("Note")} == {"001", "003"}
    cases = list(org.scan("Case"))
    assert len({c["CaseNumber"] for c in cases}) == len(cases)
    assert any(c["AssetId"] for c in cases)


def test_the_seed_spec_knows_the_preset() -> None:
    assert parse_seed_spec("customer-success:2500") == ("customer-success", 2500)
    with pytest.raises(ValueError, match="known: npsp, customer-success"):
        parse_seed_spec("crm:10")


def test_seeded_through_the_control_api_and_read_with_simple_salesforce(
    control: Control, sf: Salesforce
) -> None:
    counts = control.post("/seed", {"preset": "customer-success", "records": 400, "seed": 2})["records"]
    assert counts["Case"] > 0
    account = sf.query(
        "SELECT Id, Name, Type, Health_Score__c FROM Account WHERE Type = 'Customer - Direct' LIMIT 1"
    )
    account_id = account["records"][0]["Id"]
    tasks = sf.query_all(
        f"SELECT Id, Subject, WhatId, WhoId, Who.Name FROM Task WHERE WhatId = '{account_id}'"
    )
    assert tasks["totalSize"] >= 1
    notes = sf.query_all(f"SELECT Id, Title FROM Note WHERE ParentId = '{account_id}'")
    assert notes["totalSize"] >= 1
    case = sf.Case.create({"Subject": "Printer on fire", "AccountId": account_id})
    created = sf.Case.get(case["id"])
    assert created["Status"] == "New"
    assert created["CaseNumber"]
    described = sf.Task.describe()
    what = next(f for f in described["fields"] if f["name"] == "WhatId")
    assert what["polymorphicForeignKey"]
    assert "Account" in what["referenceTo"]
