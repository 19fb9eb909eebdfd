"""Errors found by checking a query against the catalog: unknown names and mistyped values."""

from __future__ import annotations

import pytest
from soql_testkit import CATALOG, detail, soql_error

from crmsync.emulators.salesforce.soql import SoqlError, compile_query

WSDL = "Please reference your WSDL or the describe call for the appropriate names."


def test_unknown_object_is_invalid_type_with_salesforce_message() -> None:
    error = soql_error("SELECT Id FROM Foo")
    assert error.error_code == "INVALID_TYPE"
    assert error.message == (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure to "
        f"append the '__c' after the entity name. {WSDL}"
    )


def test_unknown_field_is_invalid_field_with_salesforce_message() -> None:
    error = soql_error("SELECT Id, Nme FROM Account")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Id, Nme FROM Account\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Nme' on entity 'Account'. If you are attempting to use a custom field, be sure "
        f"to append the '__c' after the custom field name. {WSDL}"
    )


def test_unknown_relationship_is_invalid_field() -> None:
    error = soql_error("SELECT Id, Acount.Name FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Id, Acount.Name FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        "Didn't understand relationship 'Acount' in field path. If you are attempting to use a custom "
        f"relationship, be sure to append the '__r' after the custom relationship name. {WSDL}"
    )


def test_unknown_field_on_a_parent_names_the_parent_entity() -> None:
    error = soql_error("SELECT Account.Nme FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert detail(error.message).startswith("No such column 'Nme' on entity 'Account'.")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id FROM Contact WHERE Acount.Name = 'x'",
        "SELECT Id FROM Contact ORDER BY Acount.Name",
        "SELECT Id FROM Opportunity WHERE npsp__Primary_Contact__c.LastName = 'x'",  # needs __r
        "SELECT AccountId.Name FROM Contact",
    ],
)
def test_bad_relationship_anywhere(text: str) -> None:
    error = soql_error(text)
    assert error.error_code == "INVALID_FIELD"
    assert detail(error.message).startswith("Didn't understand relationship")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id FROM Contact WHERE Nme = 'x'",
        "SELECT Id FROM Contact ORDER BY Nme",
        "SELECT Account FROM Contact",  # a relationship is not a column
    ],
)
def test_unknown_field_anywhere(text: str) -> None:
    assert soql_error(text).error_code == "INVALID_FIELD"


def test_object_and_field_names_are_case_insensitive() -> None:
    query = compile_query("select ID, lastNAME, ACCOUNT.name from CONTACT", CATALOG)
    assert query.object_name == "Contact"


def test_the_object_name_may_qualify_its_own_fields() -> None:
    compile_query("SELECT Contact.LastName FROM Contact WHERE Contact.LastName = 'x'", CATALOG)


def test_duplicate_field() -> None:
    error = soql_error("SELECT Id, Name, name FROM Account")
    assert (error.error_code, detail(error.message)) == ("MALFORMED_QUERY", "duplicate field selected: name")
    assert "Column:18" in error.message
    error = soql_error("SELECT Account.Name, account.NAME FROM Contact")
    assert detail(error.message) == "duplicate field selected: account.NAME"


@pytest.mark.parametrize(
    ("condition", "field", "type_", "quoted"),
    [
        ("Name = 5", "Name", "string", True),
        ("Name = true", "Name", "string", True),
        ("Name = 2024-01-01", "Name", "string", True),
        ("Name = TODAY", "Name", "string", True),
        ("Name IN ('a', 5)", "Name", "string", True),
        ("Industry = 5", "Industry", "string", True),
        ("OwnerId = 5", "OwnerId", "string", True),
        ("AnnualRevenue = '5'", "AnnualRevenue", "double", False),
        ("AnnualRevenue = true", "AnnualRevenue", "double", False),
        ("NumberOfEmployees = '5'", "NumberOfEmployees", "int", False),
        ("IsDeleted = 'true'", "IsDeleted", "boolean", False),
        ("IsDeleted = 1", "IsDeleted", "boolean", False),
        ("CreatedDate = '2024-01-01T00:00:00Z'", "CreatedDate", "dateTime", False),
        ("CreatedDate > 2024-01-01", "CreatedDate", "dateTime", False),
        ("SystemModstamp LIKE '2024%'", "SystemModstamp", "dateTime", False),
        ("Tags__c = 5", "Tags__c", "string", True),
    ],
)
def test_value_of_wrong_type_on_account(condition: str, field: str, type_: str, quoted: bool) -> None:
    error = soql_error(f"SELECT Id FROM Account WHERE {condition}")
    quoting = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    assert error.error_code == "INVALID_FIELD"
    assert detail(error.message) == (
        f"value of filter criterion for field '{field}' must be of type {type_} and {quoting}"
    )
    assert "ERROR at Row:1:Column:30" in error.message  # points at the field


def test_date_field_rejects_datetime_and_quoted_values() -> None:
    for value in ("2024-01-01T00:00:00Z", "'2024-01-01'", "5"):
        error = soql_error(f"SELECT Id FROM Contact WHERE Birthdate = {value}")
        assert detail(error.message) == (
            "value of filter criterion for field 'Birthdate' "
            "must be of type date and should not be enclosed in quotes"
        )


def test_parent_field_type_is_checked_too() -> None:
    error = soql_error("SELECT Id FROM Contact WHERE Account.AnnualRevenue = 'x'")
    assert detail(error.message).startswith(
        "value of filter criterion for field 'AnnualRevenue' must be of type double"
    )


def test_invalid_date_value() -> None:
    error = soql_error("SELECT Id FROM Contact WHERE Birthdate = 2024-02-30")
    assert (error.error_code, detail(error.message)) == ("MALFORMED_QUERY", "invalid date: 2024-02-30")


@pytest.mark.parametrize("value", ["'abc'", "'001000000000001AA'", "'001000000000001AAA!'"])
def test_invalid_id_literal(value: str) -> None:
    error = soql_error(f"SELECT Id FROM Contact WHERE AccountId = {value}")
    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert detail(error.message) == f"invalid ID field: {value[1:-1]}"


def test_long_text_area_cannot_be_filtered_or_sorted() -> None:
    error = soql_error("SELECT Id FROM Account WHERE Description = 'x'")
    assert (error.error_code, detail(error.message)) == (
        "INVALID_FIELD",
        "field 'Description' can not be filtered in a query call",
    )
    error = soql_error("SELECT Id FROM Account ORDER BY Description")
    assert detail(error.message) == "field 'Description' can not be sorted in a query call"
    compile_query("SELECT Description FROM Account", CATALOG)  # selecting it is fine


def test_multipicklist_operators() -> None:
    error = soql_error("SELECT Id FROM Account WHERE Name INCLUDES ('a')")
    assert (error.error_code, detail(error.message)) == (
        "INVALID_FIELD",
        "includes or excludes operator only valid on multipicklist field",
    )
    for condition in ("Tags__c < 'a'", "Tags__c LIKE 'a%'"):
        error = soql_error(f"SELECT Id FROM Account WHERE {condition}")
        assert detail(error.message) == "invalid operator on multipicklist field"
    error = soql_error("SELECT Id FROM Account ORDER BY Tags__c")
    assert detail(error.message) == "field 'Tags__c' can not be sorted in a query call"


def test_offset_limit() -> None:
    compile_query("SELECT Id FROM Account LIMIT 50000 OFFSET 2000", CATALOG)
    error = soql_error("SELECT Id FROM Account LIMIT 10 OFFSET 2001")
    assert (error.error_code, detail(error.message)) == (
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    )
    assert "Column:40" in error.message


def test_errors_are_reported_in_clause_order() -> None:
    # The object is checked before fields, SELECT before WHERE before ORDER BY.
    assert soql_error("SELECT Nme FROM Foo").error_code == "INVALID_TYPE"
    assert "'Nme'" in soql_error("SELECT Nme FROM Account WHERE Bad = 1 ORDER BY Worse").message
    assert "'Bad'" in soql_error("SELECT Name FROM Account WHERE Bad = 1 ORDER BY Worse").message


def test_soql_error_carries_code_and_message() -> None:
    error = SoqlError("MALFORMED_QUERY", "boom")
    assert (error.error_code, error.message, str(error)) == (
        "MALFORMED_QUERY",
        "boom",
        "MALFORMED_QUERY: boom",
    )
