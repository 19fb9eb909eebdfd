"""SOQL built from structured conditions: operators, typed and escaped literals, cursor clauses;
checked as text and by running the queries against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sf_connector_testkit import CountingTransport, ids

from crmsync.connectors.base import FieldInfo, ObjectInfo, ReadRequest
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.connectors.salesforce.soql import condition, literal, quote, read_query
from crmsync.emulators.salesforce.server import Emulator
from crmsync.errors import ConfigError
from crmsync.model.profile import Condition

TYPES = {
    "Id": "id",
    "Name": "string",
    "Email": "email",
    "Stage": "picklist",
    "Notes": "textarea",
    "AccountId": "reference",
    "Birthdate": "date",
    "CreatedDate": "datetime",
    "SystemModstamp": "datetime",
    "NumberOfEmployees": "int",
    "Amount": "currency",
    "Probability": "percent",
    "Score__c": "double",
    "DoNotCall": "boolean",
}
INFO = ObjectInfo("Contact", {name: FieldInfo(name, kind) for name, kind in TYPES.items()})
# Control characters SOQL has no escape for (\b \t \n \f \r have one).
UNSAYABLE = [chr(c) for c in [*range(0x08), 0x0B, *range(0x0E, 0x20), 0x7F]]


def where(field: str, op: str = "=", value: Any = None) -> str:
    return condition(Condition(field=field, op=op, value=value), INFO, where="reading Contact")


# -- operators and literals, as text ----------------------------------------------------


@pytest.mark.parametrize(
    ("op", "text"),
    [("=", "="), ("!=", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">="), ("like", "LIKE")],
)
def test_every_comparison_operator(op: str, text: str) -> None:
    assert where("Name", op, "Ann") == f"Name {text} 'Ann'"


def test_in_and_not_in_type_every_value() -> None:
    assert where("Stage", "in", ("Prospect", "Closed Won")) == "Stage IN ('Prospect', 'Closed Won')"
    assert where("Amount", "not in", (10, "12.50")) == "Amount NOT IN (10, 12.50)"
    assert where("Birthdate", "in", ("2024-01-01",)) == "Birthdate IN (2024-01-01)"


def test_in_with_no_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="filter on Stage: in needs at least one value"):
        where("Stage", "in", ())


def test_like_keeps_its_wildcards() -> None:
    assert where("Email", "like", "%@example.org") == "Email LIKE '%@example.org'"
    assert where("Name", "like", "A_n%") == "Name LIKE 'A_n%'"


def test_like_matches_a_percent_or_underscore_itself_when_escaped() -> None:
    assert where("Name", "like", "100\\% sure") == "Name LIKE '100\\% sure'"
    assert where("Name", "like", "a\\_b") == "Name LIKE 'a\\_b'"
    # Any other backslash, and quotes, are escaped as in any string.
    assert where("Name", "like", "O'B\\n%") == "Name LIKE 'O\\'B\\\\n%'"
    with pytest.raises(ConfigError, match="filter on Name"):
        where("Name", "like", "%\x00%")


@pytest.mark.parametrize("op", ["=", "!="])
def test_null_compares_with_equality_only(op: str) -> None:
    assert where("Birthdate", op, None) == f"Birthdate {op} null"


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "like"])
def test_null_with_an_ordering_operator_is_a_config_error(op: str) -> None:
    with pytest.raises(ConfigError, match="filter on Birthdate: only = and != can compare with null"):
        where("Birthdate", op, None)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("Birthdate", "2024-02-29", "2024-02-29"),
        ("CreatedDate", "2024-01-31T12:00:00Z", "2024-01-31T12:00:00Z"),
        ("CreatedDate", "2024-01-31T12:00:00.000+0000", "2024-01-31T12:00:00Z"),
        ("CreatedDate", "2024-01-31T12:00:00+02:00", "2024-01-31T10:00:00Z"),
        ("CreatedDate", "2024-01-31T23:30:00-0130", "2024-02-01T01:00:00Z"),
        ("CreatedDate", "2024-01-31T12:00:00.25Z", "2024-01-31T12:00:00.250Z"),
        ("NumberOfEmployees", 10, "10"),
        ("NumberOfEmployees", "10", "10"),
        ("NumberOfEmployees", 10.0, "10"),
        ("NumberOfEmployees", 12345678901234567890, "12345678901234567890"),
        ("Amount", 12.5, "12.5"),
        ("Amount", "12.50", "12.50"),
        ("Amount", -3, "-3"),
        ("Amount", 1e20, "100000000000000000000"),
        ("Amount", "1e3", "1000"),
        ("Probability", 1e-7, "0.0000001"),
        ("Score__c", 0.1, "0.1"),
        ("DoNotCall", True, "true"),
        ("DoNotCall", False, "false"),
        ("DoNotCall", "TRUE", "true"),
        ("DoNotCall", "false", "false"),
        ("Name", "O'Brien", "'O\\'Brien'"),
        ("Name", 42, "'42'"),
        ("Email", "ann@example.org", "'ann@example.org'"),
        ("AccountId", "001RO0000000001YAA", "'001RO0000000001YAA'"),
        ("Id", "003RO0000000001YAA", "'003RO0000000001YAA'"),
        # Fields the description does not know, and parent fields: typed by the value.
        ("Unknown__c", 42, "42"),
        ("Unknown__c", 2.5, "2.5"),
        ("Unknown__c", True, "true"),
        ("Unknown__c", "x", "'x'"),
        ("Account.Name", "Acme", "'Acme'"),
        ("Account.NumberOfEmployees", 5, "5"),
    ],
)
def test_literals_are_typed_by_the_described_field(field: str, value: Any, expected: str) -> None:
    assert where(field, "=", value) == f"{field} = {expected}"


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("Birthdate", "2024-02-30", "is not a date"),
        ("Birthdate", "31/01/2024", "is not a date"),
        ("CreatedDate", "2024-01-31T12:00:00", "is not a date-time"),
        ("CreatedDate", "2024-01-31", "is not a date-time"),
        ("CreatedDate", "yesterday", "is not a date-time"),
        ("CreatedDate", "2024-13-31T12:00:00Z", "is not a valid date-time"),
        ("CreatedDate", "2024-01-31T12:00:00+99:00", "is not a valid date-time"),
        ("NumberOfEmployees", "ten", "is not a number"),
        ("Amount", True, "is not a number"),
        ("Amount", "nan", "is not a finite number"),
        ("Amount", "inf", "is not a finite number"),
        ("DoNotCall", "yes", "is not a boolean"),
        ("DoNotCall", 1, "is not a boolean"),
    ],
)
def test_a_value_that_does_not_fit_the_field_is_a_config_error_naming_it(
    field: str, value: Any, complaint: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        where(field, "=", value)
    assert f"reading Contact, filter on {field}: " in str(raised.value)
    assert complaint in str(raised.value)


def test_datetime_values_are_converted_to_utc() -> None:
    eastern = datetime(2024, 1, 31, 7, 0, tzinfo=UTC) - timedelta(hours=5)
    assert literal(eastern.astimezone(), "datetime", where="w") == "2024-01-31T02:00:00Z"
    with pytest.raises(ConfigError, match="has no time zone"):
        literal(datetime(2024, 1, 31), "datetime", where="w")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("\\", "\\\\"),
        ("'", "\\'"),
        ('"', '\\"'),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\b", "\\b"),
        ("\f", "\\f"),
        ("%_", "%_"),
        ("é中😀", "é中😀"),
    ],
)
def test_string_escapes(raw: str, escaped: str) -> None:
    assert quote(raw, where="w") == f"'{escaped}'"


@pytest.mark.parametrize("char", UNSAYABLE, ids=[f"U+{ord(c):04X}" for c in UNSAYABLE])
def test_a_control_character_soql_cannot_express_is_a_config_error_naming_the_field(char: str) -> None:
    with pytest.raises(ConfigError) as raised:
        where("Name", "=", f"bad{char}name")
    message = str(raised.value)
    assert "filter on Name" in message
    assert f"U+{ord(char):04X}" in message
    assert "\n" not in message


# -- cursor clauses -----------------------------------------------------------------------

STAMP = "2024-05-01T10:00:00.000+0000"


def test_a_strict_cursor_continues_after_the_last_id_of_its_timestamp() -> None:
    request = ReadRequest(object="Contact", fields=("Name",), after=(STAMP, "003RO0000000009YAA"))
    assert read_query(request, INFO, select=["Id", "SystemModstamp", "Name"], where="w") == (
        "SELECT Id, SystemModstamp, Name FROM Contact WHERE "
        "(SystemModstamp > 2024-05-01T10:00:00Z OR "
        "(SystemModstamp = 2024-05-01T10:00:00Z AND Id > '003RO0000000009YAA')) "
        "ORDER BY SystemModstamp ASC, Id ASC"
    )


def test_a_lookback_cursor_starts_inclusively_before_the_mark() -> None:
    request = ReadRequest(
        object="Contact",
        fields=("Name",),
        modstamp_field="LastModifiedDate",
        conditions=(Condition(field="DoNotCall", value=False),),
        after=(STAMP, "003RO0000000009YAA"),
        lookback=timedelta(minutes=5),
    )
    assert read_query(request, INFO, select=["Id"], where="w") == (
        "SELECT Id FROM Contact WHERE DoNotCall = false AND LastModifiedDate >= 2024-05-01T09:55:00Z "
        "ORDER BY LastModifiedDate ASC, Id ASC"
    )


def test_ids_and_a_cursor_combine() -> None:
    request = ReadRequest(object="Contact", fields=(), ids=("003A", "003B"), after=(STAMP, "003A"))
    text = read_query(request, INFO, select=["Id"], where="w")
    assert "Id IN ('003A', '003B') AND (SystemModstamp > 2024-05-01T10:00:00Z OR" in text


def test_a_cursor_that_is_not_a_timestamp_is_a_config_error() -> None:
    request = ReadRequest(object="Contact", fields=(), after=("last tuesday", "003A"))
    with pytest.raises(ConfigError, match="is not a date-time"):
        read_query(request, INFO, select=["Id"], where="reading Contact")


# -- the same queries, run against the emulator ------------------------------------------


@pytest.fixture
def people(emulator: Emulator) -> dict[str, str]:
    """Five contacts and three accounts with typed values; name -> id."""
    org = emulator.org
    org.clock.freeze()
    org.clock.set(datetime(2024, 3, 1, 10, 0, tzinfo=UTC))
    made = {
        "Alpha": org.insert(
            "Contact", {"LastName": "Alpha", "Birthdate": "1980-01-01", "DoNotCall": True, "Email": "a@x.org"}
        ),
        "Beta": org.insert("Contact", {"LastName": "Beta", "Birthdate": "1985-01-01", "Email": "b@y.org"}),
    }
    org.clock.set(datetime(2024, 3, 2, 10, 0, tzinfo=UTC))
    made["Gamma"] = org.insert("Contact", {"LastName": "Gamma", "Birthdate": "1990-06-15"})
    made["O'Brien"] = org.insert("Contact", {"LastName": "O'Brien", "DoNotCall": True})
    made["50% off_"] = org.insert("Contact", {"LastName": "50% off_"})
    for name, employees, revenue in [("Small", 10, 999.5), ("Medium", 100, 1000.5), ("Large", 5000, 1e9)]:
        made[name] = org.insert(
            "Account", {"Name": name, "NumberOfEmployees": employees, "AnnualRevenue": revenue}
        )
    return made


CONTACT_CASES: list[tuple[Condition, set[str]]] = [
    (Condition(field="LastName", value="Alpha"), {"Alpha"}),
    (Condition(field="LastName", op="!=", value="Alpha"), {"Beta", "Gamma", "O'Brien", "50% off_"}),
    (Condition(field="LastName", value="O'Brien"), {"O'Brien"}),
    (Condition(field="LastName", value="50% off_"), {"50% off_"}),
    (Condition(field="LastName", value="50"), set()),
    (Condition(field="Birthdate", op="<", value="1985-01-01"), {"Alpha"}),
    (Condition(field="Birthdate", op="<=", value="1985-01-01"), {"Alpha", "Beta"}),
    (Condition(field="Birthdate", op=">", value="1985-01-01"), {"Gamma"}),
    (Condition(field="Birthdate", op=">=", value="1985-01-01"), {"Beta", "Gamma"}),
    (Condition(field="Birthdate", value=None), {"O'Brien", "50% off_"}),
    (Condition(field="Birthdate", op="!=", value=None), {"Alpha", "Beta", "Gamma"}),
    (Condition(field="DoNotCall", value=True), {"Alpha", "O'Brien"}),
    (Condition(field="DoNotCall", value="false"), {"Beta", "Gamma", "50% off_"}),
    (Condition(field="Email", op="like", value="%@x.org"), {"Alpha"}),
    (Condition(field="LastName", op="like", value="_eta"), {"Beta"}),
    (Condition(field="LastName", op="like", value="%\\%%"), {"50% off_"}),
    (Condition(field="LastName", op="like", value="%\\_"), {"50% off_"}),
    (Condition(field="LastName", op="like", value="%'%"), {"O'Brien"}),
    (Condition(field="LastName", op="in", value=("Alpha", "Gamma", "Nobody")), {"Alpha", "Gamma"}),
    (Condition(field="LastName", op="not in", value=("Alpha", "Gamma")), {"Beta", "O'Brien", "50% off_"}),
    (
        Condition(field="CreatedDate", op=">", value="2024-03-01T12:00:00+02:00"),
        {"Gamma", "O'Brien", "50% off_"},
    ),
    (
        Condition(field="CreatedDate", op=">=", value="2024-03-01T12:00:00+02:00"),
        {"Alpha", "Beta", "Gamma", "O'Brien", "50% off_"},
    ),
    (Condition(field="CreatedDate", op="<", value="2024-03-02T10:00:00.000+0000"), {"Alpha", "Beta"}),
]
ACCOUNT_CASES: list[tuple[Condition, set[str]]] = [
    (Condition(field="NumberOfEmployees", op=">", value=50), {"Medium", "Large"}),
    (Condition(field="NumberOfEmployees", op="in", value=(10, "5000")), {"Small", "Large"}),
    (Condition(field="AnnualRevenue", op=">=", value="1000.5"), {"Medium", "Large"}),
    (Condition(field="AnnualRevenue", op="<", value=1e20), {"Small", "Medium", "Large"}),
    (Condition(field="AnnualRevenue", op="<=", value=999.5), {"Small"}),
]


@pytest.mark.parametrize(
    ("obj", "cond", "expected"),
    [("Contact", c, e) for c, e in CONTACT_CASES] + [("Account", c, e) for c, e in ACCOUNT_CASES],
    ids=lambda v: f"{v.field} {v.op} {v.value!r}" if isinstance(v, Condition) else None,
)
def test_built_filters_select_the_right_records(
    connector: SalesforceConnector, people: dict[str, str], obj: str, cond: Condition, expected: set[str]
) -> None:
    found = ids(connector.read(ReadRequest(object=obj, fields=(), conditions=(cond,))))
    by_id = {record_id: name for name, record_id in people.items()}
    names = {by_id[i] for i in found if i in by_id}
    assert names == expected
    assert len(found) == len(set(found))


# -- the property: any sayable text finds exactly its record ------------------------------

TRICKY = st.sampled_from(list("'\"\\%_\n\r\t\b\f aZ0é中😀\u00a0\u2028\x85"))
SAYABLE = st.one_of(
    st.text(TRICKY, min_size=1, max_size=40),
    st.text(st.characters(codec="utf-8", exclude_characters=UNSAYABLE), min_size=1, max_size=60),
)


@pytest.fixture
def name_finder(emulator: Emulator, connector: SalesforceConnector) -> Any:
    org = emulator.org

    def find(text: str) -> tuple[str, list[str]]:
        target = org.insert("Account", {"Name": text})
        decoys = [org.insert("Account", {"Name": text + "x"}), org.insert("Account", {"Name": "x" + text})]
        try:
            request = ReadRequest(
                object="Account", fields=("Name",), conditions=(Condition(field="Name", value=text),)
            )
            return target, ids(connector.read(request))
        finally:
            for record_id in (target, *decoys):
                org.delete("Account", record_id)

    return find


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=SAYABLE)
def test_any_sayable_name_finds_exactly_its_record(name_finder: Any, text: str) -> None:
    target, found = name_finder(text)
    assert found == [target]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.text(max_size=5), bad=st.sampled_from(UNSAYABLE), after=st.text(max_size=5))
def test_any_unsayable_name_is_a_config_error_before_any_request(
    connector: SalesforceConnector, transport: CountingTransport, before: str, bad: str, after: str
) -> None:
    request = ReadRequest(
        object="Account", fields=(), conditions=(Condition(field="Name", value=before + bad + after),)
    )
    with pytest.raises(ConfigError) as raised:
        list(connector.read(request))
    assert "filter on Name" in str(raised.value)
    assert transport.count("/services/data/v61.0/query") == 0
