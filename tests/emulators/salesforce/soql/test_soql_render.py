"""The REST shape of rendered records: attributes, canonical casing, SELECT order, nested parents."""

from __future__ import annotations

import json

import pytest
from soql_testkit import API, CATALOG, NOW, MemorySource, make_id

from crmsync.emulators.salesforce.soql import compile_query

ACC, ACC_PARENT = make_id("001", 1), make_id("001", 2)
CON, CON_ORPHAN = make_id("003", 1), make_id("003", 2)
USER, BOSS = make_id("005", 1), make_id("005", 2)
OPP = make_id("006", 1)
BASE = "/services/data/v61.0/sobjects"


@pytest.fixture
def source() -> MemorySource:
    return MemorySource(
        {
            "User": [{"Id": USER, "Name": "Ursula", "ManagerId": BOSS}, {"Id": BOSS, "Name": "Boss"}],
            "Account": [
                {"Id": ACC, "Name": "Acme", "AnnualRevenue": 12.5, "ParentId": ACC_PARENT, "OwnerId": USER},
                {"Id": ACC_PARENT, "Name": "Acme Group", "OwnerId": BOSS},
            ],
            "Contact": [
                {
                    "Id": CON,
                    "FirstName": "Jane",
                    "LastName": "Doe",
                    "AccountId": ACC,
                    "Birthdate": "1990-01-02",
                },
                {"Id": CON_ORPHAN, "LastName": "Roe", "AccountId": None},
            ],
            "Opportunity": [
                {"Id": OPP, "Name": "Gift", "Amount": 10, "IsWon": True, "npsp__Primary_Contact__c": CON}
            ],
        }
    )


def rendered(soql: str, source: MemorySource) -> list[dict[str, object]]:
    query = compile_query(soql, CATALOG)
    return [
        query.render(row, source, api_version=API)
        for row in query.run(source, include_deleted=False, now=NOW)
    ]


def test_flat_record(source: MemorySource) -> None:
    [record] = rendered(f"SELECT lastname, ID, birthdate FROM contact WHERE Id = '{CON}'", source)
    assert record == {
        "attributes": {"type": "Contact", "url": f"{BASE}/Contact/{CON}"},
        "LastName": "Doe",
        "Id": CON,
        "Birthdate": "1990-01-02",
    }
    assert list(record) == ["attributes", "LastName", "Id", "Birthdate"]  # SELECT order, canonical casing


def test_missing_values_render_as_null(source: MemorySource) -> None:
    [record] = rendered(f"SELECT Email, FirstName FROM Contact WHERE Id = '{CON_ORPHAN}'", source)
    assert record["Email"] is None
    assert record["FirstName"] is None


def test_parent_fields_nest_under_the_relationship_name(source: MemorySource) -> None:
    [record] = rendered(
        "SELECT Id, account.name, LastName, Account.Owner.Name, ACCOUNT.AnnualRevenue "
        f"FROM Contact WHERE Id = '{CON}'",
        source,
    )
    assert record == {
        "attributes": {"type": "Contact", "url": f"{BASE}/Contact/{CON}"},
        "Id": CON,
        "Account": {
            "attributes": {"type": "Account", "url": f"{BASE}/Account/{ACC}"},
            "Name": "Acme",
            "Owner": {"attributes": {"type": "User", "url": f"{BASE}/User/{USER}"}, "Name": "Ursula"},
            "AnnualRevenue": 12.5,
        },
        "LastName": "Doe",
    }
    assert list(record) == ["attributes", "Id", "Account", "LastName"]  # parent where first named


def test_null_lookup_renders_null(source: MemorySource) -> None:
    [record] = rendered(
        f"SELECT Id, Account.Name, Account.Owner.Name FROM Contact WHERE Id = '{CON_ORPHAN}'", source
    )
    assert record["Account"] is None


def test_null_grandparent_inside_a_parent(source: MemorySource) -> None:
    [record] = rendered(f"SELECT Account.Parent.Parent.Name FROM Contact WHERE Id = '{CON}'", source)
    assert record["Account"] == {
        "attributes": {"type": "Account", "url": f"{BASE}/Account/{ACC}"},
        "Parent": {"attributes": {"type": "Account", "url": f"{BASE}/Account/{ACC_PARENT}"}, "Parent": None},
    }


def test_five_levels(source: MemorySource) -> None:
    [record] = rendered(
        "SELECT npsp__Primary_Contact__r.Account.Parent.Owner.Manager.Name "
        f"FROM Opportunity WHERE Id = '{OPP}'",
        source,
    )
    contact = record["npsp__Primary_Contact__r"]
    assert isinstance(contact, dict)
    assert contact["Account"]["Parent"]["Owner"] == {
        "attributes": {"type": "User", "url": f"{BASE}/User/{BOSS}"},
        "Manager": None,
    }


def test_custom_relationship_and_typed_values(source: MemorySource) -> None:
    [record] = rendered(
        "SELECT Name, Amount, IsWon, npsp__Primary_Contact__r.LastName FROM Opportunity", source
    )
    assert record["Amount"] == 10
    assert record["IsWon"] is True
    assert record["npsp__Primary_Contact__r"] == {
        "attributes": {"type": "Contact", "url": f"{BASE}/Contact/{CON}"},
        "LastName": "Doe",
    }
    json.dumps(record)  # JSON-ready


def test_dangling_reference_renders_null(source: MemorySource) -> None:
    source.add("Contact", {"Id": make_id("003", 9), "LastName": "Lost", "AccountId": make_id("001", 99)})
    [record] = rendered("SELECT Account.Name FROM Contact WHERE LastName = 'Lost'", source)
    assert record["Account"] is None


def test_polymorphic_parent_is_typed_by_its_id_prefix(source: MemorySource) -> None:
    task = make_id("00T", 1)
    source.add("Task", {"Id": task, "Subject": "Call", "WhatId": OPP, "WhoId": CON})
    [record] = rendered("SELECT Subject, What.Name, Who.Name FROM Task", source)
    assert record["What"] == {
        "attributes": {"type": "Opportunity", "url": f"{BASE}/Opportunity/{OPP}"},
        "Name": "Gift",
    }
    # The Contact row carries no Name value, so it renders as null inside its typed parent.
    assert record["Who"] == {"attributes": {"type": "Contact", "url": f"{BASE}/Contact/{CON}"}, "Name": None}


def test_api_version_may_carry_a_v(source: MemorySource) -> None:
    query = compile_query("SELECT Id FROM Account LIMIT 1", CATALOG)
    row = query.run(source, include_deleted=False, now=NOW)[0]
    assert query.render(row, source, api_version="v58.0")["attributes"]["url"].startswith(
        "/services/data/v58.0/"
    )
