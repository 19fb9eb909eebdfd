"""Validation rules, before-save automations and duplicate rules, in every write path."""

from __future__ import annotations

from typing import Any

import pytest
from sf_emulator_testkit import BASE, CREATE_PATHS, Control, Writer
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

NEEDS_EMAIL = {
    "name": "Chairs_Need_Email",
    "object": "Contact",
    "when": [{"field": "Title", "op": "=", "value": "Chair"}, {"field": "Email", "op": "blank"}],
    "message": "A chair needs an email address",
    "field": "Email",
}
EMAIL_RULE = {"name": "Contact_Email", "object": "Contact", "match_fields": ["Email"], "action": "block"}


@pytest.mark.parametrize("write", CREATE_PATHS, ids=lambda path: path.__name__)
def test_validation_rule_in_every_write_path(sf: Salesforce, control: Control, write: Writer) -> None:
    control.post("/rules", NEEDS_EMAIL, expect=201)
    refused = write(sf, "Contact", {"LastName": "Doe", "Title": "Chair"})
    assert refused == ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "A chair needs an email address", ["Email"], {})
    assert control.get("/stats")["records"]["Contact"] == 0
    assert write(sf, "Contact", {"LastName": "Doe", "Title": "Chair", "Email": "doe@example.org"}) is None


@pytest.mark.parametrize("write", CREATE_PATHS, ids=lambda path: path.__name__)
def test_duplicate_rule_in_every_write_path(sf: Salesforce, control: Control, write: Writer) -> None:
    existing = sf.Contact.create({"LastName": "First", "Email": "jo@example.org"})["id"]
    control.post("/duplicate-rules", EMAIL_RULE, expect=201)
    refused = write(sf, "Contact", {"LastName": "Second", "Email": "JO@Example.org"})
    assert refused is not None
    code, message, fields, extra = refused
    assert (code, message, fields) == ("DUPLICATES_DETECTED", "Use one of these records?", [])
    result = extra["duplicateResult"]
    assert result["allowSave"] is False
    assert result["duplicateRule"] == "Contact_Email"
    assert result["duplicateRuleEntityType"] == "Contact"
    match = result["matchResults"][0]
    assert match["size"] == 1
    assert match["matchRecords"][0]["record"] == {
        "attributes": {"type": "Contact", "url": f"{BASE}/sobjects/Contact/{existing}"},
        "Id": existing,
    }
    assert control.get("/stats")["records"]["Contact"] == 1
    assert write(sf, "Contact", {"LastName": "Other", "Email": "other@example.org"}) is None


def test_rules_on_updates_and_screen_writes(sf: Salesforce, control: Control) -> None:
    control.post("/rules", NEEDS_EMAIL | {"on": ["update"]}, expect=201)
    contact = sf.Contact.create({"LastName": "Doe", "Title": "Chair"})["id"]  # not checked on create
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact, {"Phone": "555"})
    assert caught.value.content[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    screen = control.call("PATCH", f"/records/Contact/{contact}", {"fields": {"Phone": "555"}}, expect=400)
    assert screen["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert screen["message"] == "A chair needs an email address"
    # A system change (an automation, a rollup) is not a user's save: rules do not run.
    control.call("PATCH", f"/records/Contact/{contact}", {"fields": {"Phone": "555"}, "system": True})
    assert sf.Contact.update(contact, {"Title": "Member"}) == 204


def test_automation_sets_fields_before_save(sf: Salesforce, control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-05-01T10:00:00Z"})
    control.post(
        "/rules",
        {
            "kind": "automation",
            "name": "Web_Source",
            "object": "Contact",
            "when": {"field": "LeadSource", "op": "blank"},
            "set": {"LeadSource": "Web", "Description": "set by flow"},
        },
        expect=201,
    )
    control.post(
        "/rules",
        {
            "name": "No_Web_Chairs",
            "object": "Contact",
            "message": "no",
            "when": [
                {"field": "LeadSource", "op": "=", "value": "Web"},
                {"field": "Title", "op": "contains", "value": "Chair"},
            ],
        },
        expect=201,
    )
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    record = sf.Contact.get(contact)
    assert (record["LeadSource"], record["Description"]) == ("Web", "set by flow")
    # The automation's value is validated like the client's: a web chair is refused.
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.create({"LastName": "Roe", "Title": "Vice Chair"})
    sf.Contact.update(contact, {"LeadSource": "Phone Inquiry"})
    control.post("/clock", {"advance_seconds": 60})
    sf.Contact.update(contact, {"LeadSource": None, "Title": "Member"})
    record = sf.Contact.get(contact)
    assert record["LeadSource"] == "Web"
    # Part of the user's save: LastModifiedDate moves with SystemModstamp.
    assert record["LastModifiedDate"] == record["SystemModstamp"] == "2024-05-01T10:01:00.000+0000"
    screen = control.post("/records/Contact", {"fields": {"LastName": "Screen"}}, expect=201)
    assert control.get(f"/records/Contact/{screen['id']}")["LeadSource"] == "Web"


def test_duplicate_alert_header_and_screen(sf: Salesforce, control: Control) -> None:
    sf.Contact.create({"LastName": "First", "Email": "jo@example.org"})
    control.post("/duplicate-rules", EMAIL_RULE | {"action": "alert"}, expect=201)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Second", "Email": "jo@example.org"})
    body = caught.value.content[0]
    assert body["duplicateResult"]["allowSave"] is True
    assert (
        body["message"]
        == "You're creating a duplicate record. We recommend you use an existing record instead."
    )
    header = {"Sforce-Duplicate-Rule-Header": "allowSave=true; includeRecordDetails=true"}
    assert sf.Contact.create({"LastName": "Second", "Email": "jo@example.org"}, headers=header)["success"]
    control.post("/records/Contact", {"fields": {"LastName": "Third", "Email": "jo@example.org"}}, expect=201)
    control.post("/duplicate-rules", EMAIL_RULE | {"name": "Block", "action": "block"}, expect=201)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Fourth", "Email": "jo@example.org"}, headers=header)
    result = caught.value.content[0]["duplicateResult"]
    assert result["matchResults"][0]["size"] == 3
    assert result["matchResults"][0]["matchRecords"][0]["record"]["Email"] == "jo@example.org"
    assert (
        control.post(
            "/records/Contact", {"fields": {"LastName": "5", "Email": "jo@example.org"}}, expect=400
        )["errorCode"]
        == "DUPLICATES_DETECTED"
    )


def test_duplicate_rule_allow_blank_and_self(sf: Salesforce, control: Control) -> None:
    control.post("/duplicate-rules", EMAIL_RULE, expect=201)
    first = sf.Contact.create({"LastName": "A", "Email": "a@example.org"})["id"]
    assert sf.Contact.update(first, {"Title": "Same record is no duplicate"}) == 204
    sf.Contact.create({"LastName": "No email"})
    sf.Contact.create({"LastName": "No email either"})  # blanks never match
    second = sf.Contact.create({"LastName": "B", "Email": "b@example.org"})["id"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.update(second, {"Email": "A@EXAMPLE.ORG"})
    sf.Contact.delete(first)
    assert sf.Contact.update(second, {"Email": "a@example.org"}) == 204  # deleted records never match
    control.post("/duplicate-rules", EMAIL_RULE | {"action": "allow"}, expect=201)
    assert sf.Contact.create({"LastName": "C", "Email": "a@example.org"})["success"]
    company = {"name": "Company", "object": "Lead", "match_fields": ["Company", "LastName"]}
    control.post("/duplicate-rules", company, expect=201)
    sf.Lead.create({"LastName": "Lee", "Company": "Acme Inc"})
    assert sf.Lead.create({"LastName": "Lee", "Company": "Other"})["success"]  # every field must match
    with pytest.raises(SalesforceMalformedRequest):
        sf.Lead.create({"LastName": "LEE", "Company": "  acme inc "})


def test_rules_control_api(control: Control) -> None:
    assert control.post("/rules", NEEDS_EMAIL, expect=201)["rules"] == [NEEDS_EMAIL]
    automation = {
        "kind": "automation",
        "name": "A",
        "object": "Lead",
        "when": {"field": "Company", "op": "not_blank"},
        "set": {"Rating": "Hot"},
    }
    control.post("/rules", automation, expect=201)
    assert [rule["name"] for rule in control.get("/rules")["rules"]] == ["Chairs_Need_Email", "A"]
    assert control.call("DELETE", "/rules/A") == {"removed": "A"}
    assert control.call("DELETE", "/rules/A", expect=404)["errorCode"] == "NOT_FOUND"
    control.post("/duplicate-rules", EMAIL_RULE, expect=201)
    assert control.get("/duplicate-rules")["duplicate_rules"] == [EMAIL_RULE]
    assert control.call("DELETE", "/duplicate-rules") == {"cleared": 1}
    assert control.call("DELETE", "/rules") == {"cleared": 1}
    control.post("/rules", NEEDS_EMAIL, expect=201)
    control.post("/reset")
    assert control.get("/rules") == {"rules": []}


@pytest.mark.parametrize(
    ("path", "rule", "message"),
    [
        ("/rules", NEEDS_EMAIL | {"object": "Nope"}, "'object' must name an object"),
        ("/rules", NEEDS_EMAIL | {"when": {"field": "Nope"}}, "no field 'Nope'"),
        ("/rules", NEEDS_EMAIL | {"when": {"field": "Title", "op": "~"}}, "'op' must be one of"),
        ("/rules", NEEDS_EMAIL | {"when": {"field": "Birthdate", "op": ">", "value": "soon"}}, "Birthdate"),
        ("/rules", {k: v for k, v in NEEDS_EMAIL.items() if k != "message"}, "needs the 'message'"),
        ("/rules", NEEDS_EMAIL | {"on": ["delete"]}, "'on' must be"),
        ("/rules", NEEDS_EMAIL | {"colour": 1}, "unknown validation rule keys: colour"),
        (
            "/rules",
            {"kind": "automation", "name": "x", "object": "Contact", "when": [], "set": {}},
            "needs at least",
        ),
        (
            "/rules",
            {
                "kind": "automation",
                "name": "x",
                "object": "Contact",
                "when": {"field": "Title"},
                "set": {"CreatedDate": "x"},
            },
            "cannot set",
        ),
        ("/duplicate-rules", EMAIL_RULE | {"action": "warn"}, "'action' must be one of"),
        ("/duplicate-rules", EMAIL_RULE | {"match_fields": []}, "'match_fields'"),
        ("/duplicate-rules", {k: v for k, v in EMAIL_RULE.items() if k != "name"}, "'name' is required"),
    ],
)
def test_invalid_rules(control: Control, path: str, rule: dict[str, Any], message: str) -> None:
    refused = control.post(path, rule, expect=400)
    assert refused["errorCode"] == "INVALID_REQUEST"
    assert message in refused["message"]
