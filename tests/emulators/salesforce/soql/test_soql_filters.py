"""WHERE semantics: typed comparisons, every operator, nulls, LIKE, lists, relationships."""

from __future__ import annotations

import pytest
from soql_testkit import MemorySource, ids, make_id

from crmsync.emulators.salesforce.soql.operands import id18

A1, A2, A3, A4 = (make_id("001", n) for n in range(1, 5))
C1, C2, C3 = (make_id("003", n) for n in range(1, 4))
U1, U2 = make_id("005", 1), make_id("005", 2)
RT_HH = make_id("012", 1)


@pytest.fixture
def source() -> MemorySource:
    return MemorySource(
        {
            "User": [
                {"Id": U1, "Name": "Ursula", "ManagerId": U2},
                {"Id": U2, "Name": "Boss", "ManagerId": None},
            ],
            "RecordType": [{"Id": RT_HH, "DeveloperName": "HH_Account", "SobjectType": "Account"}],
            "Account": [
                {
                    "Id": A1,
                    "Name": "Acme",
                    "Industry": "Banking",
                    "AnnualRevenue": 1000.0,
                    "NumberOfEmployees": 10,
                    "Tags__c": "Gold;Vip",
                    "OwnerId": U1,
                    "RecordTypeId": RT_HH,
                    "CreatedDate": "2024-05-15T08:00:00.000+0000",
                },
                {
                    "Id": A2,
                    "Name": "acme west",
                    "Industry": None,
                    "AnnualRevenue": 250.5,
                    "NumberOfEmployees": 0,
                    "Tags__c": "Silver",
                    "OwnerId": U2,
                    "CreatedDate": "2024-05-14T23:59:59.999+0000",
                },
                {
                    "Id": A3,
                    "Name": "50% Off_Shop",
                    "Industry": "Education",
                    "AnnualRevenue": None,
                    "NumberOfEmployees": None,
                    "Tags__c": None,
                    "CreatedDate": "2023-12-31T12:00:00.000+0000",
                },
                {"Id": A4, "Name": "Gone", "IsDeleted": True, "AnnualRevenue": 5.0},
            ],
            "Contact": [
                {
                    "Id": C1,
                    "LastName": "Doe",
                    "AccountId": A1,
                    "Birthdate": "1990-05-15",
                    "HasOptedOutOfEmail": True,
                },
                {
                    "Id": C2,
                    "LastName": "Roe",
                    "AccountId": A2,
                    "Birthdate": None,
                    "HasOptedOutOfEmail": False,
                },
                {"Id": C3, "LastName": "O'Brien", "AccountId": None, "Email": "", "Birthdate": "2024-05-14"},
            ],
        }
    )


def accounts(condition: str, source: MemorySource, *, include_deleted: bool = False) -> set[str]:
    return set(ids(f"SELECT Id FROM Account WHERE {condition}", source, include_deleted=include_deleted))


def contacts(condition: str, source: MemorySource) -> set[str]:
    return set(ids(f"SELECT Id FROM Contact WHERE {condition}", source))


def test_deleted_rows_only_with_include_deleted(source: MemorySource) -> None:
    assert set(ids("SELECT Id FROM Account", source)) == {A1, A2, A3}
    assert set(ids("SELECT Id FROM Account", source, include_deleted=True)) == {A1, A2, A3, A4}
    assert accounts("IsDeleted = true", source, include_deleted=True) == {A4}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Name = 'acme'", {A1}),  # text equality ignores case
        ("Name = 'ACME WEST'", {A2}),
        ("Name != 'Acme'", {A2, A3}),
        ("Name <> 'Acme'", {A2, A3}),
        ("Name < 'acme west'", {A1, A3}),  # '5' < 'a'; case-insensitive ordering
        ("Name >= 'ACME'", {A1, A2}),
        ("Industry = 'banking'", {A1}),  # picklists compare like text
        ("Industry != 'Banking'", {A2, A3}),  # null passes !=
        ("Industry < 'Z'", {A1, A3}),  # null fails ordering comparisons
        ("Industry = null", {A2}),
        ("Industry != null", {A1, A3}),
        ("Industry = ''", {A2}),  # '' is null in Salesforce
        ("Industry != ''", {A1, A3}),
    ],
)
def test_text(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


def test_empty_string_in_a_row_is_null(source: MemorySource) -> None:
    assert contacts("Email = null", source) == {C1, C2, C3}
    assert contacts("Email != null", source) == set()


def test_escaped_quote_in_literal(source: MemorySource) -> None:
    assert contacts(r"LastName = 'o\'brien'", source) == {C3}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("AnnualRevenue = 1000", {A1}),
        ("AnnualRevenue = 1000.0", {A1}),
        ("AnnualRevenue != 1000", {A2, A3}),
        ("AnnualRevenue > 250.5", {A1}),
        ("AnnualRevenue >= 250.5", {A1, A2}),
        ("AnnualRevenue < 1000", {A2}),
        ("AnnualRevenue <= -1", set()),
        ("AnnualRevenue > -1", {A1, A2}),
        ("AnnualRevenue = null", {A3}),
        ("NumberOfEmployees = 0", {A2}),  # zero is not null
        ("NumberOfEmployees != null", {A1, A2}),
        ("NumberOfEmployees > null", set()),
        ("NumberOfEmployees IN (0, 10)", {A1, A2}),
        ("NumberOfEmployees NOT IN (10)", {A2, A3}),
    ],
)
def test_numbers(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("HasOptedOutOfEmail = true", {C1}),
        ("HasOptedOutOfEmail = FALSE", {C2, C3}),  # a missing checkbox reads as false
        ("HasOptedOutOfEmail != true", {C2, C3}),
        ("NOT HasOptedOutOfEmail = true", {C2, C3}),
    ],
)
def test_booleans(condition: str, expected: set[str], source: MemorySource) -> None:
    assert contacts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Name LIKE 'acme%'", {A1, A2}),
        ("Name LIKE '%WEST'", {A2}),
        ("Name LIKE 'Acm_'", {A1}),
        ("Name LIKE '%e%'", {A1, A2}),
        (r"Name LIKE '50\%%'", {A3}),
        (r"Name LIKE '%\_Shop'", {A3}),
        (r"Name LIKE '%f\_S%'", {A3}),
        ("Name LIKE '50_ Off_Shop'", {A3}),
        (r"Name LIKE 'Acme\%'", set()),
        ("Industry LIKE '%'", {A1, A3}),  # null never matches LIKE
        ("NOT Name LIKE 'acme%'", {A3}),
    ],
)
def test_like(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Name IN ('ACME', 'nothing')", {A1}),
        ("Name NOT IN ('ACME', 'nothing')", {A2, A3}),
        ("Industry IN ('Banking', null)", {A1, A2}),
        ("Industry NOT IN ('Banking')", {A2, A3}),  # null passes NOT IN (two-valued logic)
        ("Industry NOT IN ('Banking', null)", {A3}),
        (f"Id IN ('{A1}', '{A3}')", {A1, A3}),
        (f"Id NOT IN ('{A1}')", {A2, A3}),
    ],
)
def test_in_and_not_in(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Tags__c INCLUDES ('gold')", {A1}),
        ("Tags__c INCLUDES ('Vip;Gold')", {A1}),  # both values, any order
        ("Tags__c INCLUDES ('Gold;Silver')", set()),
        ("Tags__c INCLUDES ('Gold;Silver', 'Silver')", {A2}),  # any of the items
        ("Tags__c EXCLUDES ('Gold')", {A2, A3}),
        ("Tags__c = 'VIP;gold'", {A1}),  # = on a multi-select compares the set
        ("Tags__c = 'Gold'", set()),
        ("Tags__c != 'Gold;Vip'", {A2, A3}),
        ("Tags__c = null", {A3}),
    ],
)
def test_multipicklist(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


def test_ids_compare_by_their_18_character_form(source: MemorySource) -> None:
    assert accounts(f"Id = '{A1}'", source) == {A1}
    assert accounts(f"Id = '{A1[:15]}'", source) == {A1}  # a 15-char id finds its record
    assert accounts(f"Id > '{A1}'", source) == {A2, A3}
    assert contacts(f"AccountId = '{A2}'", source) == {C2}
    assert contacts("AccountId = null", source) == {C3}
    assert contacts("AccountId = ''", source) == {C3}
    assert accounts("Id LIKE '001%'", source) == {A1, A2, A3}


def test_id18_conversion() -> None:
    assert id18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert id18("001000000000000") == "001000000000000AAA"
    assert id18("001D000000IqhSLIAZ") == "001D000000IqhSLIAZ"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = 2024-05-15T08:00:00Z", {A1}),
        ("CreatedDate = 2024-05-15T08:00:00.000Z", {A1}),
        ("CreatedDate = 2024-05-15T10:00:00+02:00", {A1}),  # offsets convert to UTC
        ("CreatedDate = 2024-05-15T00:00:00-08:00", {A1}),
        ("CreatedDate > 2024-05-14T23:59:59Z", {A1, A2}),  # milliseconds count
        ("CreatedDate > 2024-05-14T23:59:59.999Z", {A1}),
        ("CreatedDate < 2024-01-01T00:00:00Z", {A3}),
        ("CreatedDate != 2024-05-15T08:00:00Z", {A2, A3}),
    ],
)
def test_datetime_literals(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Birthdate = 1990-05-15", {C1}),
        ("Birthdate > 2000-01-01", {C3}),
        ("Birthdate <= 2024-05-14", {C1, C3}),
        ("Birthdate = null", {C2}),
        ("Birthdate != 1990-05-15", {C2, C3}),
    ],
)
def test_date_values(condition: str, expected: set[str], source: MemorySource) -> None:
    assert contacts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # NOW is 2024-05-15T13:30Z.
        ("CreatedDate = TODAY", {A1}),
        ("CreatedDate = YESTERDAY", {A2}),
        ("CreatedDate < TODAY", {A2, A3}),
        ("CreatedDate > YESTERDAY", {A1}),
        ("CreatedDate >= YESTERDAY", {A1, A2}),
        ("CreatedDate <= YESTERDAY", {A2, A3}),
        ("CreatedDate != TODAY", {A2, A3}),
        ("CreatedDate = THIS_YEAR", {A1, A2}),
        ("CreatedDate = LAST_YEAR", {A3}),
        ("CreatedDate = LAST_N_DAYS:1", {A1, A2}),
        ("CreatedDate = LAST_N_DAYS:0", {A1}),
        ("CreatedDate IN (TODAY, LAST_YEAR)", {A1, A3}),
        ("CreatedDate NOT IN (TODAY)", {A2, A3}),
    ],
)
def test_relative_date_literals_on_datetimes(
    condition: str, expected: set[str], source: MemorySource
) -> None:
    assert accounts(condition, source) == expected


def test_relative_date_literals_on_dates(source: MemorySource) -> None:
    assert contacts("Birthdate = YESTERDAY", source) == {C3}
    assert contacts("Birthdate = THIS_MONTH", source) == {C3}
    assert contacts("Birthdate < LAST_N_DAYS:30", source) == {C1}
    assert contacts("Birthdate = TODAY", source) == set()


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Name = 'Acme' OR Name = 'Gone'", {A1}),
        ("Name LIKE 'acme%' AND AnnualRevenue > 500", {A1}),
        ("(Name = 'Acme' OR AnnualRevenue < 300) AND Industry = null", {A2}),
        ("Name = 'Acme' OR (AnnualRevenue < 300 AND Industry = null)", {A1, A2}),
        ("NOT (Name = 'Acme' OR Name = 'acme west')", {A3}),
        ("NOT NOT Name = 'Acme'", {A1}),
        ("Name != 'x' AND Name != 'y' AND Name != 'Acme'", {A2, A3}),
        ("Name = 'x' OR Name = 'y' OR Name = 'Acme'", {A1}),
    ],
)
def test_boolean_logic(condition: str, expected: set[str], source: MemorySource) -> None:
    assert accounts(condition, source) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Account.Name = 'Acme'", {C1}),
        ("Account.Name LIKE 'acme%'", {C1, C2}),
        ("Account.Name = null", {C3}),  # no parent reads as null
        ("Account.Name != 'Acme'", {C2, C3}),
        ("Account.Owner.Name = 'Boss'", {C2}),
        ("Account.Owner.Manager.Name = 'Boss'", {C1}),
        ("Account.RecordType.DeveloperName = 'HH_Account'", {C1}),
        ("Account.AnnualRevenue > 300", {C1}),
    ],
)
def test_relationship_fields_in_where(condition: str, expected: set[str], source: MemorySource) -> None:
    assert contacts(condition, source) == expected


def test_each_parent_is_fetched_once_per_run(source: MemorySource) -> None:
    for n in range(4, 50):
        source.add("Contact", {"Id": make_id("003", n), "LastName": f"C{n}", "AccountId": A1})
    source.gets = 0
    ids("SELECT Id FROM Contact WHERE Account.Name = 'Acme' AND Account.Owner.Name != 'x'", source)
    assert source.gets <= 4  # A1, A2 and their owners, however many contacts point at them


def test_parents_are_not_fetched_when_no_filter_needs_them(source: MemorySource) -> None:
    source.gets = 0
    ids(
        "SELECT Id, Account.Name, Account.Owner.Name FROM Contact WHERE LastName != null ORDER BY LastName",
        source,
    )
    assert source.gets == 0


def test_polymorphic_lookup() -> None:
    task_on_account, task_on_opp, task_without = make_id("00T", 1), make_id("00T", 2), make_id("00T", 3)
    opp = make_id("006", 1)
    source = MemorySource(
        {
            "Account": [{"Id": A1, "Name": "Acme"}],
            "Opportunity": [{"Id": opp, "Name": "Big gift"}],
            "Task": [
                {"Id": task_on_account, "WhatId": A1},
                {"Id": task_on_opp, "WhatId": opp},
                {"Id": task_without, "WhatId": None},
            ],
        }
    )
    assert ids("SELECT Id FROM Task WHERE What.Name = 'Acme'", source) == [task_on_account]
    assert ids("SELECT Id FROM Task WHERE What.Name LIKE 'big%'", source) == [task_on_opp]
    assert ids("SELECT Id FROM Task WHERE What.Name = null", source) == [task_without]
