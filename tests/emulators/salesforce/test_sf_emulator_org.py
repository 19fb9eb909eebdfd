"""The org's Salesforce semantics, in process: validation, audit fields, delete, merge, upsert."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmsync.catalogs import load_catalog
from crmsync.emulators.salesforce.clock import Clock
from crmsync.emulators.salesforce.errors import ApiError, MultipleMatchesError
from crmsync.emulators.salesforce.org import Org


@pytest.fixture
def org() -> Org:
    clock = Clock()
    clock.freeze()
    clock.set(datetime(2024, 3, 1, 12, 0, tzinfo=UTC))
    created = Org(load_catalog("salesforce_npsp"), clock=clock)
    created.ensure_admin()
    return created


def error_of(call: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def household(org: Org, name: str = "Doe Household") -> str:
    return org.insert("Account", {"Name": name})


def test_insert_fills_audit_fields_defaults_and_name(org: Org) -> None:
    account = household(org)
    contact_id = org.insert("Contact", {"FirstName": "Jane", "LastName": "Doe", "AccountId": account})
    row = org.get("Contact", contact_id)
    assert row is not None
    assert row["Name"] == "Jane Doe"
    assert (
        row["CreatedDate"]
        == row["LastModifiedDate"]
        == row["SystemModstamp"]
        == "2024-03-01T12:00:00.000+0000"
    )
    assert row["CreatedById"] == row["LastModifiedById"] == row["OwnerId"] == org.user_id
    assert row["IsDeleted"] is False
    assert row["DoNotCall"] is False  # checkbox default
    assert row["Email"] is None  # every field present, None when unset
    assert set(row) == set(org.catalog.objects["Contact"].fields)


def test_auto_number_names(org: Org) -> None:
    opportunity = org.insert(
        "Opportunity", {"Name": "Gift", "StageName": "Closed Won", "CloseDate": "2024-01-01"}
    )
    payment = org.insert("npe01__OppPayment__c", {"npe01__Opportunity__c": opportunity})
    row = org.get("npe01__OppPayment__c", payment)
    assert row is not None
    assert row["Name"] == "PMT-000001"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"FirstName": "No"}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]"),
        (
            {"LastName": "X", "Foo__c": 1},
            "INVALID_FIELD",
            "No such column 'Foo__c' on sobject of type Contact",
        ),
        (
            {"LastName": "X", "Id": "003RO0000000001YAA"},
            "INVALID_FIELD",
            "The Id field should not be specified",
        ),
        (
            {"LastName": "X", "Name": "Y"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Name.",
        ),
        ({"LastName": "X", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", "Email: invalid email address"),
        ({"LastName": "X" * 81}, "STRING_TOO_LONG", "(max length=80)"),
        ({"LastName": "X", "Birthdate": "2024-02-30"}, "JSON_PARSER_ERROR", "instance of date"),
        ({"LastName": "X", "DoNotCall": "maybe"}, "JSON_PARSER_ERROR", "instance of boolean"),
        (
            {"LastName": "X", "AccountId": "001RO0000000999"},
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        ),
        ({"LastName": "X", "AccountId": "nonsense"}, "MALFORMED_ID", "id value of incorrect type: nonsense"),
    ],
)
def test_insert_errors(org: Org, body: dict[str, Any], code: str, message: str) -> None:
    error = error_of(org.insert, "Contact", body)
    assert (error.status, error.error_code) == (400, code)
    assert message in error.message


def test_number_fields_take_numbers_and_numeric_strings_only(org: Org) -> None:
    base = {"Name": "Gift", "StageName": "Pledged", "CloseDate": "2024-01-01"}
    gift = org.insert("Opportunity", base | {"Amount": "12.345"})
    assert org.get("Opportunity", gift)["Amount"] == 12.35  # type: ignore[index]
    error = error_of(org.insert, "Opportunity", base | {"Amount": "lots"})
    assert error.error_code == "JSON_PARSER_ERROR"
    assert "Amount" in error.message


def test_reference_must_point_at_the_right_object(org: Org) -> None:
    contact = org.insert("Contact", {"LastName": "Doe"})
    error = error_of(org.insert, "Contact", {"LastName": "X", "AccountId": contact})
    assert error.error_code == "INVALID_CROSS_REFERENCE_KEY"
    assert error.fields == ["AccountId"]


def test_unique_external_id(org: Org) -> None:
    first = org.insert("Contact", {"LastName": "A", "Platform_Id__c": "p-1"})
    error = error_of(org.insert, "Contact", {"LastName": "B", "Platform_Id__c": "P-1"})
    assert error.error_code == "DUPLICATE_VALUE"
    assert (
        error.message == f"duplicate value found: Platform_Id__c duplicates value on record with id: {first}"
    )


def test_user_and_system_updates_move_different_stamps(org: Org) -> None:
    contact = org.insert("Contact", {"LastName": "Doe"})
    org.clock.advance(60)
    org.update("Contact", contact, {"Title": "Chair"})
    row = org.get("Contact", contact)
    assert row is not None
    assert row["LastModifiedDate"] == row["SystemModstamp"] == "2024-03-01T12:01:00.000+0000"
    org.clock.advance(60)
    org.update("Contact", contact, {"npo02__TotalOppAmount__c": 100}, system=True)
    assert row["LastModifiedDate"] == "2024-03-01T12:01:00.000+0000"
    assert row["SystemModstamp"] == "2024-03-01T12:02:00.000+0000"
    # An automation may write roll-up summaries; a user may not.
    gift = org.insert("Opportunity", {"Name": "G", "StageName": "Closed Won", "CloseDate": "2024-01-01"})
    org.update("Opportunity", gift, {"npe01__Payments_Made__c": 25}, system=True)
    assert org.get("Opportunity", gift)["npe01__Payments_Made__c"] == 25  # type: ignore[index]
    error = error_of(org.update, "Opportunity", gift, {"npe01__Payments_Made__c": 5})
    assert error.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_update_renames_and_checks_required(org: Org) -> None:
    contact = org.insert("Contact", {"FirstName": "Jane", "LastName": "Doe"})
    org.update("Contact", contact, {"LastName": "Roe"})
    assert org.get("Contact", contact)["Name"] == "Jane Roe"  # type: ignore[index]
    assert error_of(org.update, "Contact", contact, {"LastName": None}).error_code == "REQUIRED_FIELD_MISSING"


def test_delete_cascades_and_clears_lookups(org: Org) -> None:
    account = household(org)
    contact = org.insert("Contact", {"LastName": "Doe", "AccountId": account})
    gift = org.insert(
        "Opportunity",
        {
            "Name": "G",
            "StageName": "Closed Won",
            "CloseDate": "2024-01-01",
            "AccountId": account,
            "npsp__Primary_Contact__c": contact,
        },
    )
    payment = org.insert("npe01__OppPayment__c", {"npe01__Opportunity__c": gift})
    organization = org.insert("Account", {"Name": "Acme", "npe01__One2OneContact__c": contact})
    org.clock.advance(5)
    deleted = org.delete("Account", account)
    assert set(deleted) == {account, contact, gift, payment}
    for object_name, record_id in (
        ("Account", account),
        ("Contact", contact),
        ("npe01__OppPayment__c", payment),
    ):
        row = org.get(object_name, record_id)
        assert row is not None
        assert row["IsDeleted"] is True
        assert row["SystemModstamp"] == "2024-03-01T12:00:05.000+0000"
    survivor = org.get("Account", organization)
    assert survivor is not None
    assert survivor["npe01__One2OneContact__c"] is None  # SetNull, as a system change
    assert survivor["SystemModstamp"] == "2024-03-01T12:00:05.000+0000"
    assert survivor["LastModifiedDate"] == "2024-03-01T12:00:00.000+0000"
    assert "undelete" in error_of(org.undelete, "Contact", contact).message
    assert org.undelete("Account", account) == deleted
    assert not org.get("Contact", contact)["IsDeleted"]  # type: ignore[index]


def test_restrict_blocks_delete(org: Org) -> None:
    fund = org.insert("npsp__General_Accounting_Unit__c", {"Name": "General Fund"})
    gift = org.insert("Opportunity", {"Name": "G", "StageName": "Closed Won", "CloseDate": "2024-01-01"})
    org.insert(
        "npsp__Allocation__c", {"npsp__General_Accounting_Unit__c": fund, "npsp__Opportunity__c": gift}
    )
    error = error_of(org.delete, "npsp__General_Accounting_Unit__c", fund)
    assert error.error_code == "DELETE_FAILED"
    assert "Your attempt to delete General Fund could not be completed" in error.message
    assert "gau allocations" in error.message


def test_deleted_record_is_gone_for_writes(org: Org) -> None:
    contact = org.insert("Contact", {"LastName": "Doe", "Platform_Id__c": "p-9"})
    org.delete("Contact", contact)
    error = error_of(org.update, "Contact", contact, {"Title": "x"})
    assert (error.status, error.error_code) == (404, "ENTITY_IS_DELETED")
    # The external id of a deleted record is free again, as Salesforce's recycle bin allows.
    assert org.insert("Contact", {"LastName": "Again", "Platform_Id__c": "p-9"})


def test_merge_repoints_children_and_deletes_losers(org: Org) -> None:
    account = household(org)
    master = org.insert("Contact", {"LastName": "Doe", "AccountId": account})
    loser = org.insert("Contact", {"LastName": "Doe", "Email": "JANE@EXAMPLE.ORG", "AccountId": account})
    gift = org.insert(
        "Opportunity",
        {
            "Name": "G",
            "StageName": "Closed Won",
            "CloseDate": "2024-01-01",
            "npsp__Primary_Contact__c": loser,
        },
    )
    role = org.insert("OpportunityContactRole", {"OpportunityId": gift, "ContactId": loser, "Role": "Donor"})
    org.clock.advance(30)
    org.merge("Contact", master, [loser], {"Email": "jane@example.org"})
    loser_row, master_row = org.get("Contact", loser), org.get("Contact", master)
    gift_row, role_row = org.get("Opportunity", gift), org.get("OpportunityContactRole", role)
    assert loser_row is not None
    assert master_row is not None
    assert gift_row is not None
    assert role_row is not None
    assert loser_row["IsDeleted"] is True
    assert loser_row["MasterRecordId"] == master
    assert master_row["Email"] == "jane@example.org"
    assert master_row["LastModifiedDate"] == "2024-03-01T12:00:30.000+0000"
    assert gift_row["npsp__Primary_Contact__c"] == master
    assert role_row["ContactId"] == master
    assert gift_row["SystemModstamp"] == "2024-03-01T12:00:30.000+0000"
    assert gift_row["LastModifiedDate"] == "2024-03-01T12:00:00.000+0000"
    assert error_of(org.merge, "Opportunity", gift, [gift]).error_code == "INVALID_OPERATION"
    extra = [org.insert("Contact", {"LastName": f"D{n}"}) for n in range(3)]
    assert "one or two" in error_of(org.merge, "Contact", master, extra).message


def test_upsert_creates_updates_and_detects_duplicates(org: Org) -> None:
    record_id, created = org.upsert("Contact", "Platform_Id__c", "u-1", {"LastName": "Doe"})
    assert created
    again, created = org.upsert("Contact", "Platform_Id__c", "U-1", {"Title": "Chair"})
    assert (again, created) == (record_id, False)
    error = error_of(org.upsert, "Contact", "LastName", "Doe", {"Title": "x"})
    assert (error.status, error.bare) == (404, True)
    # npe01__OppPayment__c has two non-unique external ids; give two payments one value.
    gift = org.insert("Opportunity", {"Name": "G", "StageName": "Closed Won", "CloseDate": "2024-01-01"})
    for _ in range(2):
        org.insert(
            "npe01__OppPayment__c", {"npe01__Opportunity__c": gift, "npsp__Gateway_Payment_ID__c": "tx-1"}
        )
    with pytest.raises(MultipleMatchesError) as caught:
        org.upsert("npe01__OppPayment__c", "npsp__Gateway_Payment_ID__c", "tx-1", {})
    assert len(caught.value.ids) == 2


def test_relationship_by_external_id_in_body(org: Org) -> None:
    account = org.insert("Account", {"Name": "Doe Household", "Platform_Id__c": "hh-1"})
    contact = org.insert("Contact", {"LastName": "Doe", "Account": {"Platform_Id__c": "hh-1"}})
    assert org.get("Contact", contact)["AccountId"] == account  # type: ignore[index]
    error = error_of(org.insert, "Contact", {"LastName": "Doe", "Account": {"Platform_Id__c": "nope"}})
    assert "Foreign key external ID: nope not found" in error.message


def test_record_type_must_belong_to_the_object(org: Org) -> None:
    now = org.clock.stamp()
    org.add_complete(
        "RecordType",
        {
            "Id": "012RO0000000001YAA",
            "Name": "Donation",
            "DeveloperName": "Donation",
            "SobjectType": "Opportunity",
            "CreatedDate": now,
            "LastModifiedDate": now,
            "SystemModstamp": now,
        },
    )
    error = error_of(org.insert, "Account", {"Name": "X", "RecordTypeId": "012RO0000000001YAA"})
    assert error.error_code == "INVALID_CROSS_REFERENCE_KEY"
    assert "isn't valid for the user" in error.message
