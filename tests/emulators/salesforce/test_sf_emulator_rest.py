"""sObject REST resources through simple-salesforce, and what only plain HTTP can show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sf_emulator_testkit import API_VERSION, Control
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from crmsync.emulators.salesforce.ids import make_id
from crmsync.emulators.salesforce.server import Emulator


def test_crud_through_simple_salesforce(sf: Salesforce) -> None:
    created = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.org"})
    assert created["success"] is True
    assert created["errors"] == []
    record = sf.Contact.get(created["id"])
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v{API_VERSION}/sobjects/Contact/{created['id']}",
    }
    assert record["Name"] == "Ada Lovelace"
    assert sf.Contact.update(created["id"], {"Title": "Analyst"}) == 204
    assert sf.Contact.get(created["id"])["Title"] == "Analyst"
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.get(created["id"])
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_by_platform_id(sf: Salesforce, sf_session: object, emulator: Emulator) -> None:
    assert sf.Contact.upsert("Platform_Id__c/plat-1", {"LastName": "Doe"}) == 201
    assert sf.Contact.upsert("Platform_Id__c/plat-1", {"Title": "Chair"}) == 200
    found = sf.Contact.get_by_custom_id("Platform_Id__c", "plat-1")
    assert found["Title"] == "Chair"
    old = Salesforce(
        instance_url=emulator.base_url, session_id=sf.session_id, session=sf_session, version="45.0"
    )
    assert old.Contact.upsert("Platform_Id__c/plat-1", {"Title": "Treasurer"}) == 204


def test_upsert_bodies_and_300(api: httpx.Client) -> None:
    created = api.patch("/sobjects/Contact/Platform_Id__c/p-1", json={"LastName": "Doe"})
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "success": True, "errors": [], "created": True}
    updated = api.patch("/sobjects/Contact/Platform_Id__c/p-1", json={"Title": "x"})
    assert updated.status_code == 200
    assert updated.json()["created"] is False
    not_external = api.patch("/sobjects/Contact/LastName/Doe", json={"Title": "x"})
    assert not_external.status_code == 404
    assert not_external.json() == {
        "message": "The requested resource does not exist",
        "errorCode": "NOT_FOUND",
    }
    gift = api.post(
        "/sobjects/Opportunity", json={"Name": "G", "StageName": "Closed Won", "CloseDate": "2024-01-01"}
    )
    for _ in range(2):
        payment = {"npe01__Opportunity__c": gift.json()["id"], "npsp__Gateway_Payment_ID__c": "tx-1"}
        assert api.post("/sobjects/npe01__OppPayment__c", json=payment).status_code == 201
    ambiguous = api.patch("/sobjects/npe01__OppPayment__c/npsp__Gateway_Payment_ID__c/tx-1", json={})
    assert ambiguous.status_code == 300
    assert all(
        url.startswith(f"/services/data/v{API_VERSION}/sobjects/npe01__OppPayment__c/")
        for url in ambiguous.json()
    )
    inserted = api.post("/sobjects/Contact/Id", json={"LastName": "ViaUpsert"})
    assert inserted.status_code == 201
    assert inserted.json()["created"] is True


def test_300_through_simple_salesforce(sf: Salesforce) -> None:
    gift = sf.Opportunity.create({"Name": "G", "StageName": "Closed Won", "CloseDate": "2024-01-01"})
    for _ in range(2):
        sf.npe01__OppPayment__c.create(
            {"npe01__Opportunity__c": gift["id"], "npsp__Gateway_Payment_ID__c": "tx-9"}
        )
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.npe01__OppPayment__c.get_by_custom_id("npsp__Gateway_Payment_ID__c", "tx-9")


def test_read_errors_by_kind_of_segment(api: httpx.Client) -> None:
    contact_id = api.post("/sobjects/Contact", json={"LastName": "Doe"}).json()["id"]
    by_name = api.get("/sobjects/Contact/not-an-id")
    assert by_name.status_code == 404
    assert (
        by_name.json()[0]["message"]
        == "Provided external ID field does not exist or is not accessible: not-an-id"
    )
    bad_suffix = api.get(f"/sobjects/Contact/{contact_id[:15]}999")
    assert (bad_suffix.status_code, bad_suffix.json()[0]["errorCode"]) == (400, "MALFORMED_ID")
    wrong_object = api.get(f"/sobjects/Account/{contact_id}")
    assert (wrong_object.status_code, wrong_object.json()[0]["errorCode"]) == (400, "MALFORMED_ID")
    missing = api.get(f"/sobjects/Contact/{make_id('003', 999_999)}")
    assert (missing.status_code, missing.json()[0]["errorCode"]) == (404, "NOT_FOUND")
    assert api.get(f"/sobjects/Contact/{contact_id[:15]}").status_code == 200  # 15-character ids work
    fields = api.get(f"/sobjects/Contact/{contact_id}", params={"fields": "LastName,Email"}).json()
    assert list(fields) == ["attributes", "LastName", "Email"]
    bad_field = api.get(f"/sobjects/Contact/{contact_id}", params={"fields": "Nope"})
    assert bad_field.json()[0]["errorCode"] == "INVALID_FIELD"
    assert api.get("/sobjects/Nope__c/describe").json()[0]["errorCode"] == "NOT_FOUND"


def test_create_errors_are_arrays(api: httpx.Client) -> None:
    response = api.post("/sobjects/Contact", json={"FirstName": "No"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "Required fields are missing: [LastName]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName"],
        }
    ]
    broken = api.post("/sobjects/Contact", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_simple_salesforce_maps_validation_errors(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "X", "Email": "broken"})
    assert caught.value.content[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_method_not_allowed(api: httpx.Client) -> None:
    response = api.put("/sobjects/Contact", json={})
    assert response.status_code == 405
    assert response.json()[0] == {
        "message": "HTTP Method 'PUT' not allowed. Allowed are GET,HEAD,POST",
        "errorCode": "METHOD_NOT_ALLOWED",
        "fields": [],
    }


def test_versions_resources_and_unknown_paths(emulator: Emulator, api: httpx.Client) -> None:
    versions = httpx.get(f"{emulator.base_url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    resources = api.get("/").json()
    assert resources["query"] == f"/services/data/v{API_VERSION}/query"
    assert api.get("/nothing/here").status_code == 404
    old = httpx.get(f"{emulator.base_url}/services/data/v20.0/sobjects", headers=api.headers)
    assert old.status_code == 404


def test_describe_global_and_object(sf: Salesforce, control: Control) -> None:
    control.seed(300)
    names = {entry["name"]: entry for entry in sf.describe()["sobjects"]}
    assert names["Contact"]["keyPrefix"] == "003"
    assert names["Contact"]["mergeable"] is True
    described = sf.Contact.describe()
    fields = {field["name"]: field for field in described["fields"]}
    assert fields["Id"]["type"] == "id"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["AccountId"]["cascadeDelete"] is True
    assert fields["Platform_Id__c"]["externalId"] is True
    assert fields["Platform_Id__c"]["idLookup"] is True
    assert fields["Email"]["soapType"] == "xsd:string"
    assert fields["Name"]["createable"] is False
    assert fields["npe01__Preferred_Email__c"]["picklistValues"][0]["value"] == "Personal"
    children = {(rel["childSObject"], rel["field"]) for rel in described["childRelationships"]}
    assert ("Opportunity", "npsp__Primary_Contact__c") in children
    account = sf.Account.describe()
    developer_names = {info["developerName"] for info in account["recordTypeInfos"]}
    assert developer_names == {"HH_Account", "Organization", "Master"}
    basic = sf.Contact.metadata()
    assert basic["objectDescribe"]["name"] == "Contact"
    assert len(basic["recentItems"]) == 5


def test_limits_and_usage_header(sf: Salesforce, api: httpx.Client, control: Control) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert "DailyBulkApiRequests" in limits
    assert sf.api_usage["api-usage"].total == 100_000
    used = sf.api_usage["api-usage"].used
    sf.query("SELECT Id FROM User")
    assert sf.api_usage["api-usage"].used == used + 1
    response = api.get("/sobjects/Contact/not-an-id")
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    stats = control.get("/stats")["api_calls"]
    assert stats["by_resource"]["query"] >= 1


def test_request_limit_exceeded(sf: Salesforce, control: Control) -> None:
    control.post("/limits", {"daily_api_requests": 50, "used": 50})
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED", "fields": []}
    ]
    control.post("/limits", {"used": 0})
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_updated_and_deleted_resources(sf: Salesforce, control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-05-01T10:00:00Z"})
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    control.post("/clock", {"advance_seconds": 120})
    sf.Contact.delete(gone)
    control.post("/clock", {"advance_seconds": 120})
    start = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    updated = sf.Contact.updated(start, start + timedelta(hours=2))
    assert updated["ids"] == [kept]
    assert updated["latestDateCovered"] == "2024-05-01T10:04:00.000+0000"
    deleted = sf.Contact.deleted(start, start + timedelta(hours=2))
    assert deleted["deletedRecords"] == [{"id": gone, "deletedDate": "2024-05-01T10:02:00.000+0000"}]
    assert deleted["earliestDateAvailable"] <= "2024-05-01T09:00:00.000+0000"


def test_updated_needs_a_window(api: httpx.Client) -> None:
    missing = api.get("/sobjects/Contact/updated/")
    assert missing.json()[0]["errorCode"] == "MISSING_ARGUMENT"
    backwards = api.get(
        "/sobjects/Contact/updated/", params={"start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}
    )
    assert backwards.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
