"""The limits Salesforce sets on field values, in every write path: dates, text, numbers,
e-mail addresses, restricted picklists."""

from __future__ import annotations

from typing import Any

import pytest
from sf_emulator_testkit import CREATE_PATHS, Control, Writer
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

# (object, fields, the refusal's code, message and fields); a subscription's contact is added.
REFUSED: list[tuple[str, dict[str, Any], str, str, list[str]]] = [
    (
        "Contact",
        {"LastName": "Doe", "Birthdate": "0001-01-01"},
        "FIELD_INTEGRITY_EXCEPTION",
        "Birthdate: invalid date: 0001-01-01",
        ["Birthdate"],
    ),
    (
        "Contact",
        {"LastName": "Doe", "Birthdate": "9999-12-31"},
        "FIELD_INTEGRITY_EXCEPTION",
        "Birthdate: invalid date: 9999-12-31",
        ["Birthdate"],
    ),
    (
        "Contact",
        {"LastName": "Doe", "Last_Seen__c": "4000-12-31T00:00:01Z"},
        "FIELD_INTEGRITY_EXCEPTION",
        "Last Seen in Product: invalid date: 4000-12-31T00:00:01Z",
        ["Last_Seen__c"],
    ),
    (
        "Contact",
        {"LastName": "D" * 81},
        "STRING_TOO_LONG",
        f"Last Name: data value too large: {'D' * 81} (max length=80)",
        ["LastName"],
    ),
    (
        "Contact",
        {"LastName": "Doe", "Email": "doe@"},
        "INVALID_EMAIL_ADDRESS",
        "Email: invalid email address: doe@",
        ["Email"],
    ),
    (
        "Account",
        {"Name": "Acme", "Health_Score__c": 1000},
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Health Score: value outside of valid range on numeric field: 1000",
        ["Health_Score__c"],
    ),
    (
        "Account",
        {"Name": "Acme", "NumberOfEmployees": 3_000_000_000},
        "JSON_PARSER_ERROR",
        "Cannot deserialize instance of int from VALUE_NUMBER_INT value 3000000000 or request may be "
        "missing a required field (field NumberOfEmployees)",
        ["NumberOfEmployees"],
    ),
    (
        "Communication_Subscription__c",
        {"List_Name__c": "Newsletter", "Channel__c": "Fax"},
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "Channel: bad value for restricted picklist field: Fax",
        ["Channel__c"],
    ),
]


@pytest.mark.parametrize("write", CREATE_PATHS, ids=lambda path: path.__name__)
def test_out_of_limit_values_are_refused_in_every_write_path(
    sf: Salesforce, control: Control, write: Writer
) -> None:
    contact = sf.Contact.create({"LastName": "Subscriber"})["id"]
    for object_name, fields, code, message, names in REFUSED:
        given = fields | ({"Contact__c": contact} if object_name.endswith("__c") else {})
        assert write(sf, object_name, given) == (code, message, names, {}), object_name
    stored = {name: count for name, count in control.get("/stats")["records"].items() if count}
    assert stored == {"Contact": 1, "User": 1}


@pytest.mark.parametrize(
    ("field", "accepted", "refused"),
    [
        ("Birthdate", ["1700-01-01", "4000-12-31"], ["1699-12-31"]),
        (
            "Last_Seen__c",
            ["1700-01-01T00:00:00Z", "4000-12-31T00:00:00.000+0000", "1700-01-01T02:00:00+02:00"],
            # Each in UTC is before the first instant or after the last, whatever its offset.
            ["1700-01-01T00:30:00+01:00", "4000-12-30T23:00:00-01:01", "0001-01-01T00:00:00+01:00"],
        ),
    ],
)
def test_date_range_bounds_on_create_and_update(
    sf: Salesforce, field: str, accepted: list[str], refused: list[str]
) -> None:
    for value in accepted:
        assert sf.Contact.create({"LastName": "Doe", field: value})["success"]
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    for value in refused:
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.Contact.update(contact, {field: value})
        assert caught.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION", value
    assert sf.Contact.get(contact)[field] is None


def test_restricted_picklists_take_their_values_only(sf: Salesforce, control: Control) -> None:
    described = {field["name"]: field for field in sf.Communication_Subscription__c.describe()["fields"]}
    assert described["Channel__c"]["restrictedPicklist"] is True
    assert described["Status__c"]["restrictedPicklist"] is True
    contact_fields = {field["name"]: field for field in sf.Contact.describe()["fields"]}
    assert contact_fields["LeadSource"]["restrictedPicklist"] is False
    assert sf.Contact.create({"LastName": "Doe", "LeadSource": "Carrier pigeon"})["success"]
    contact = sf.Contact.create({"LastName": "Roe"})["id"]
    subscription = {"Contact__c": contact, "List_Name__c": "News", "Channel__c": "SMS"}
    created = sf.Communication_Subscription__c.create(subscription)["id"]
    records = [
        {"attributes": {"type": "Communication_Subscription__c"}, "id": created, "Status__c": "Pending"},
        # Values match as the value set spells them.
        {"attributes": {"type": "Communication_Subscription__c"}, "id": created, "Status__c": "pending"},
    ]
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert [result["success"] for result in results] == [True, False]
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    screen = {"fields": {"Contact__c": contact, "List_Name__c": "Other", "Channel__c": "Fax"}}
    refused = control.post("/records/Communication_Subscription__c", screen, expect=400)
    assert refused["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
