"""The package's public surface, and a smoke test against the packaged NPSP catalog."""

from __future__ import annotations

import pytest
from soql_testkit import NOW, MemorySource, make_id

import crmsync.emulators.salesforce.soql as soql
from crmsync.catalogs import Catalog, CatalogError, load_catalog


def test_public_surface_is_exactly_the_sorted_all() -> None:
    assert soql.__all__ == sorted(soql.__all__)
    assert soql.__all__ == ["CompiledQuery", "RecordSource", "SoqlError", "compile_query"]
    for name in soql.__all__:
        assert getattr(soql, name).__module__.startswith("crmsync.emulators.salesforce.soql")


def test_memory_source_satisfies_the_protocol() -> None:
    source: soql.RecordSource = MemorySource()
    assert list(source.scan("Account")) == []


@pytest.fixture(scope="module")
def npsp() -> Catalog:
    try:
        return load_catalog("salesforce_npsp")
    except CatalogError:
        pytest.skip("the salesforce_npsp catalog is not generated yet")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id, Name, StageName, Amount, CloseDate, SystemModstamp, RecordType.DeveloperName "
        "FROM Opportunity WHERE (SystemModstamp > 2024-01-01T00:00:00.000Z OR (SystemModstamp = "
        "2024-01-01T00:00:00.000Z AND Id > '006000000000000AAA')) AND StageName != 'Pledged' "
        "ORDER BY SystemModstamp, Id",
        "SELECT Id, LastName, Email, Account.Name, Account.RecordType.DeveloperName FROM Contact "
        "WHERE Email LIKE '%@example.org' ORDER BY LastName NULLS LAST LIMIT 200",
        "SELECT Id, npe03__Contact__r.Email, npe03__Amount__c FROM npe03__Recurring_Donation__c",
        "SELECT COUNT() FROM Account WHERE RecordType.DeveloperName = 'HH_Account'",
    ],
)
def test_typical_queries_compile_against_the_npsp_catalog(npsp: Catalog, text: str) -> None:
    query = soql.compile_query(text, npsp)
    assert query.run(MemorySource(), include_deleted=True, now=NOW) == []


def test_a_row_renders_against_the_npsp_catalog(npsp: Catalog) -> None:
    account, contact = make_id("001", 1), make_id("003", 1)
    source = MemorySource(
        {
            "Account": [{"Id": account, "Name": "Doe Household"}],
            "Contact": [{"Id": contact, "LastName": "Doe", "AccountId": account}],
        }
    )
    query = soql.compile_query("SELECT Id, Account.Name FROM Contact WHERE Account.Name LIKE 'doe%'", npsp)
    [row] = query.run(source, include_deleted=False, now=NOW)
    assert query.render(row, source, api_version="61.0")["Account"]["Name"] == "Doe Household"
