"""sObject Collections: create, update, delete, retrieve, upsert; per-record errors; allOrNone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sf_emulator_testkit import Control
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from crmsync.emulators.salesforce.ids import make_id

ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": (
        "Record rolled back because not all records were valid and the request was using AllOrNone header"
    ),
    "fields": [],
}


def typed(object_name: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": object_name}, **fields}


def collection(sf: Salesforce, method: str, records: list[dict[str, Any]], **options: Any) -> list[Any]:
    answer = sf.restful("composite/sobjects", method=method, json={"records": records, **options})
    assert isinstance(answer, list)
    return answer


def test_create_mixed_types_with_errors_in_input_order(sf: Salesforce, control: Control) -> None:
    results = collection(
        sf,
        "POST",
        [
            typed("Account", Name="Acme"),
            typed("Contact", FirstName="No last name"),
            typed("Contact", LastName="Doe", Email="doe@example.org"),
            typed("Contact", LastName="Bad", Email="nope"),
            typed("Lead", LastName="Lee", Company="Co"),
            typed("Contact", Id=make_id("003", 5), LastName="With id"),
        ],
    )
    assert [result["success"] for result in results] == [True, False, True, False, True, False]
    assert results[0] == {"id": results[0]["id"], "success": True, "errors": []}
    assert results[0]["id"].startswith("001")
    assert results[4]["id"].startswith("00Q")
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    assert results[3]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert "errorCode" not in results[3]["errors"][0]
    assert results[5]["errors"][0] == {
        "statusCode": "INVALID_FIELD",
        "message": "cannot specify Id in an insert call",
        "fields": ["Id"],
    }
    stats = control.get("/stats")
    assert stats["records"]["Contact"] == 1
    assert stats["api_calls"]["by_resource"] == {"composite/sobjects": 1}


def test_create_all_or_none_rolls_back(sf: Salesforce, control: Control) -> None:
    results = collection(
        sf,
        "POST",
        [typed("Account", Name="A"), typed("Contact"), typed("Account", Name="B")],
        allOrNone=True,
    )
    assert results[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2] == {"success": False, "errors": [ROLLED_BACK]}
    assert control.get("/stats")["records"]["Account"] == 0


def test_update_by_id(sf: Salesforce) -> None:
    first = sf.Contact.create({"LastName": "One"})["id"]
    second = sf.Contact.create({"LastName": "Two"})["id"]
    deleted = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(deleted)
    account = sf.Account.create({"Name": "Acme"})["id"]
    results = collection(
        sf,
        "PATCH",
        [
            typed("Contact", id=first, Title="Chair"),
            typed("Contact", Title="No id"),
            typed("Contact", Id=second, Email="bad"),
            typed("Contact", id=deleted, Title="x"),
            typed("Contact", id="003nonsense", Title="x"),
            typed("Contact", id=account, Title="x"),
            typed("Contact", id=make_id("003", 999), Title="x"),
        ],
    )
    assert results[0] == {"id": first, "success": True, "errors": []}
    codes = [result["errors"][0]["statusCode"] for result in results[1:]]
    assert codes == [
        "MISSING_ARGUMENT",
        "INVALID_EMAIL_ADDRESS",
        "ENTITY_IS_DELETED",
        "MALFORMED_ID",
        "MALFORMED_ID",
        "INVALID_CROSS_REFERENCE_KEY",
    ]
    assert results[1]["errors"][0]["message"] == "Id not specified in an update call"
    assert results[2]["id"] == second
    assert sf.Contact.get(first)["Title"] == "Chair"
    rolled = collection(
        sf,
        "PATCH",
        [typed("Contact", id=first, Title="Again"), typed("Contact", id=second, Email="x")],
        allOrNone=True,
    )
    assert rolled[0] == {"id": first, "success": False, "errors": [ROLLED_BACK]}
    assert sf.Contact.get(first)["Title"] == "Chair"


def test_delete_by_ids(sf: Salesforce, control: Control) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "Doe", "AccountId": account})["id"]
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    ids = ",".join([lead, "bogus", make_id("00Q", 999)])
    results = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids})
    assert results[0] == {"id": lead, "success": True, "errors": []}
    assert results[1]["errors"][0] == {
        "statusCode": "MALFORMED_ID",
        "message": "malformed id bogus",
        "fields": [],
    }
    assert results[2]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    again = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": f"{account},{lead}", "allOrNone": "true"}
    )
    assert again[0] == {"id": account, "success": False, "errors": [ROLLED_BACK]}
    assert again[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert sf.Account.get(account)["IsDeleted"] is False
    assert sf.Contact.get(contact)["AccountId"] == account


def test_retrieve(sf: Salesforce) -> None:
    ids = [sf.Contact.create({"LastName": f"C{n}", "Email": f"c{n}@example.org"})["id"] for n in range(2)]
    wanted = [ids[0], make_id("003", 999), ids[1], "junk"]
    got = sf.restful(
        "composite/sobjects/Contact", params={"ids": ",".join(wanted), "fields": "LastName,Email"}
    )
    assert got[1] is None
    assert got[3] is None
    assert got[0]["LastName"] == "C0"
    assert set(got[2]) == {"attributes", "LastName", "Email"}
    posted = sf.restful(
        "composite/sobjects/Contact", method="POST", json={"ids": ids, "fields": ["Id", "Email"]}
    )
    assert [record["Email"] for record in posted] == ["c0@example.org", "c1@example.org"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects/Contact", params={"ids": ids[0], "fields": "Nope"})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_upsert_by_external_id(sf: Salesforce) -> None:
    sf.Contact.create({"LastName": "Existing", "Platform_Id__c": "p-1"})
    path = "composite/sobjects/Contact/Platform_Id__c"
    results = sf.restful(
        path,
        method="PATCH",
        json={
            "records": [
                typed("Contact", Platform_Id__c="p-1", Title="Updated"),
                typed("Contact", Platform_Id__c="p-2", LastName="New"),
                typed("Contact", LastName="No key"),
                typed("Contact", Platform_Id__c="p-3", LastName="Twice"),
                typed("Contact", Platform_Id__c="P-3", LastName="Twice"),
            ]
        },
    )
    assert results[0]["created"] is False
    assert results[0]["success"] is True
    assert results[1]["created"] is True
    assert results[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert results[3]["errors"][0] == {
        "statusCode": "DUPLICATE_EXTERNAL_ID",
        "message": "Duplicate external id specified: p-3",
        "fields": ["Platform_Id__c"],
    }
    assert results[4]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    assert sf.Contact.get_by_custom_id("Platform_Id__c", "p-1")["Title"] == "Updated"
    again = sf.restful(
        path, method="PATCH", json={"records": [typed("Contact", Platform_Id__c="p-2", Title="x")]}
    )
    assert again == [{"id": results[1]["id"], "success": True, "errors": [], "created": False}]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("composite/sobjects/Contact/LastName", method="PATCH", json={"records": []})


def test_two_hundred_records_and_one_more(api: httpx.Client, control: Control) -> None:
    records = [typed("Lead", LastName=f"L{n}", Company="C") for n in range(201)]
    refused = api.post("/composite/sobjects", json={"records": records})
    assert refused.status_code == 400
    assert refused.json() == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
            "fields": [],
        }
    ]
    assert control.get("/stats")["records"]["Lead"] == 0
    accepted = api.post("/composite/sobjects", json={"records": records[:200]})
    assert accepted.status_code == 200
    assert all(result["success"] for result in accepted.json())
    assert control.get("/stats")["records"]["Lead"] == 200
    ids = ",".join(result["id"] for result in accepted.json()) + "," + make_id("00Q", 999)
    assert (
        api.delete("/composite/sobjects", params={"ids": ids}).json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    )
    assert control.get("/stats")["api_calls"]["by_resource"] == {"composite/sobjects": 3}


def test_malformed_collections(api: httpx.Client) -> None:
    untyped = api.post("/composite/sobjects", json={"records": [{"LastName": "x"}]})
    assert untyped.status_code == 400
    assert untyped.json()[0] == {
        "message": "Must send a concrete entity type.",
        "errorCode": "INVALID_TYPE",
        "fields": [],
    }
    unknown = api.post("/composite/sobjects", json={"records": [typed("Nope__c", Name="x")]})
    assert unknown.json()[0]["errorCode"] == "INVALID_TYPE"
    assert (
        api.post("/composite/sobjects", json={"records": "x"}).json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    )
    assert api.delete("/composite/sobjects").json()[0]["errorCode"] == "MISSING_ARGUMENT"
    assert api.get("/composite/sobjects").status_code == 405


def test_injected_unable_to_lock_row_then_alone_succeeds(sf: Salesforce, control: Control) -> None:
    control.post("/faults", {"kind": "record_error", "object": "Contact", "after": 1, "count": 1}, expect=201)
    records = [typed("Contact", LastName=f"C{n}") for n in range(3)]
    results = collection(sf, "POST", records)
    assert [result["success"] for result in results] == [True, False, True]
    assert results[1]["errors"] == [
        {
            "statusCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
            "fields": [],
        }
    ]
    assert collection(sf, "POST", [records[1]])[0]["success"] is True
    existing = results[0]["id"]
    control.post("/faults", {"kind": "record_error", "error_code": "UNABLE_TO_LOCK_ROW"}, expect=201)
    locked = collection(sf, "PATCH", [typed("Contact", id=existing, Title="x")])
    assert locked[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "UNABLE_TO_LOCK_ROW",
                "message": f"unable to obtain exclusive access to this record or 1 records: {existing}",
                "fields": [],
            }
        ],
        "id": existing,
    }
    assert sf.Contact.update(existing, {"Title": "alone"}) == 204
    rules = control.get("/faults")["faults"]
    # A spent rule stops matching.
    assert [(rule["matched"], rule["fired"], rule["active"]) for rule in rules] == [
        (2, 1, False),
        (1, 1, False),
    ]
