"""Constituents over the API: create, read, partial update, delete, contact points, custom
values (the "Platform Id" lookup), communication settings, search and duplicates."""

from __future__ import annotations

from typing import Any

import httpx
from bl_testkit import LENIENT, Control, person


def create(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/constituent", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_answers_200_with_the_record_and_derived_names(api: httpx.Client) -> None:
    body = person(
        Prefix="Dr.", MiddleName="King", PrimaryPhone={"Type": "Mobile", "Number": "(317) 555-0100"}
    )
    created = create(api, body)
    assert created["Type"] == "Individual"
    assert created["FullName"] == "Ada King Lovelace"
    assert created["FormalName"] == "Dr. Ada Lovelace"
    assert created["InformalName"] == "Ada"
    assert created["PrimaryEmail"]["Value"] == "ada@example.org"
    assert created["PrimaryEmail"]["AccountId"] == created["Id"]
    assert created["EmailIds"] == [created["PrimaryEmail"]["Id"]]
    assert created["PrimaryPhone"]["Number"] == "(317) 555-0100"
    assert created["IsInHousehold"] is False
    assert "HouseholdId" not in created  # absent values are left out, never null
    audit = created["AuditTrail"]
    assert audit["CreatedDate"] == audit["LastModifiedDate"]
    assert audit["CreatedDate"].endswith("Z")
    assert api.get(f"/constituent/{created['Id']}").json() == created


def test_organizations_need_a_full_name_and_individuals_first_and_last(api: httpx.Client) -> None:
    org = create(api, {"Type": "Organization", "FullName": "Acme Foundation"})
    assert org["RecognitionName"] == "Acme Foundation"
    missing = api.post("/constituent", json={"Type": "Organization"})
    assert missing.status_code == 400
    assert "FullName" in missing.json()["Message"]
    assert api.post("/constituent", json={"Type": "Individual", "FirstName": "Solo"}).status_code == 400
    assert api.post("/constituent", json={"Type": "Robot"}).status_code == 400
    assert api.post("/constituent", content=b"{not json").status_code == 400


def test_put_is_a_partial_update_that_moves_last_modified(api: httpx.Client, control: Control) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-05-01T10:00:00Z"})
    created = create(api, person(JobTitle="Countess"))
    control.post("/clock", {"advance_seconds": 90})
    updated = api.put(
        f"/constituent/{created['Id']}", json={"LastName": "Byron", "Website": "https://ada.example.org"}
    )
    assert updated.status_code == 200
    body = updated.json()
    assert body["LastName"] == "Byron"
    assert body["FullName"] == "Ada Byron"
    assert body["JobTitle"] == "Countess"  # absent: unchanged
    assert body["AuditTrail"]["CreatedDate"] == "2024-05-01T10:00:00Z"
    assert body["AuditTrail"]["LastModifiedDate"] == "2024-05-01T10:01:30Z"
    cleared = api.put(f"/constituent/{created['Id']}", json={"JobTitle": ""}).json()
    assert "JobTitle" not in cleared
    assert api.put(f"/constituent/{created['Id']}", json={"Type": "Organization"}).status_code == 400
    assert api.put("/constituent/424242", json={"LastName": "X"}).status_code == 404


def test_primary_email_update_keeps_its_id_and_secondaries_are_added(api: httpx.Client) -> None:
    created = create(api, person())
    email_id = created["PrimaryEmail"]["Id"]
    body = {
        "PrimaryEmail": {"Value": "ada@work.example.org", "Type": "Work"},
        "SecondaryEmails": [{"Value": "a@b.example"}],
    }
    updated = api.put(f"/constituent/{created['Id']}", json=body).json()
    assert updated["PrimaryEmail"]["Id"] == email_id
    assert updated["PrimaryEmail"]["Value"] == "ada@work.example.org"
    assert len(updated["EmailIds"]) == 2
    bad = api.put(f"/constituent/{created['Id']}", json={"PrimaryEmail": {"Value": "not-an-email"}})
    assert bad.status_code == 400


def test_delete_answers_the_delete_response_then_404(api: httpx.Client) -> None:
    created = create(api, person())
    deleted = api.delete(f"/constituent/{created['Id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"Id": created["Id"], "Type": "Constituent", "Deleted": True}
    assert api.get(f"/constituent/{created['Id']}").status_code == 404
    assert api.delete(f"/constituent/{created['Id']}").status_code == 404


def test_platform_id_custom_value_finds_the_record_again(api: httpx.Client, basics: dict[str, Any]) -> None:
    field = basics["platform_field"]
    mine = create(api, person(CustomValues=[{"FieldId": field, "Value": "sup-000123"}]))
    create(
        api,
        person("Grace", "Hopper", "grace@example.org", CustomValues=[{"FieldId": field, "Value": "sup-999"}]),
    )
    assert mine["CustomValues"][0]["FieldId"] == field
    assert mine["CustomValues"][0]["Value"]["Value"] == "sup-000123"
    found = api.get("/constituents", params={"customFieldId": field, "customFieldValue": "SUP-000123"}).json()
    assert [r["Id"] for r in found["Results"]] == [mine["Id"]]
    assert found["TotalFiltered"] == 1
    assert found["Total"] == 2
    nothing = api.get("/constituents", params={"customFieldId": field, "customFieldValue": "sup-404"}).json()
    assert nothing["Results"] == []
    assert api.get("/constituents", params={"customFieldId": field}).status_code == 400
    # The document says null clears a custom value, though its schema allows no null.
    clear = {"CustomValues": [{"FieldId": field, "Value": None}]}
    cleared = api.put(f"/constituent/{mine['Id']}", json=clear, extensions=LENIENT).json()
    assert cleared["CustomValues"] == []
    unknown = api.post("/constituent", json=person(CustomValues=[{"FieldId": 987654, "Value": "x"}]))
    assert unknown.status_code == 400


def test_custom_fields_are_listed_per_object_type(api: httpx.Client, basics: dict[str, Any]) -> None:
    fields = api.get("/customFields/Constituent/").json()
    assert [(f["Id"], f["Name"], f["PickType"]) for f in fields] == [
        (basics["platform_field"], "Platform Id", "Freeform")
    ]
    assert [f["Name"] for f in api.get("/customFields/Transaction/").json()] == ["Platform Id"]
    assert [c["Name"] for c in api.get("/customFieldCategories/Constituent/").json()] == ["Integration"]
    assert api.get("/customValues/Constituent").json() == []
    assert api.get("/customFields/Planet/").status_code == 400


def test_communication_settings_and_email_interests(api: httpx.Client, basics: dict[str, Any]) -> None:
    created = create(api, person())
    assert created["EmailInterestType"] == "All"
    news, events = basics["interests"]
    body = {
        "CommunicationRestrictions": {
            "UpdateReason": "Asked on the phone",
            "CommunicationRestrictions": ["DoNotCall"],
        },
        "PreferredChannel": {"PreferredCommunicationChannel": "Mail"},
        "EmailInterests": {
            "UpdateReason": "Preferences page",
            "EmailInterestType": "Custom",
            "CustomEmailInterestIds": [news],
        },
    }
    answer = api.put(f"/constituent/{created['Id']}/updateCommunicationSettings", json=body)
    assert answer.status_code == 200
    updated = answer.json()
    assert updated["CommunicationRestrictions"] == ["DoNotCall"]
    assert updated["CommunicationRestrictionsUpdateReason"] == "Asked on the phone"
    assert updated["PreferredCommunicationChannel"] == "Mail"
    assert updated["EmailInterestType"] == "Custom"
    assert updated["CustomEmailInterests"] == [{"Id": news, "Name": "Newsletter"}]
    opted_out = {"EmailInterests": {"UpdateReason": "Unsubscribed", "EmailInterestType": "OptedOut"}}
    assert (
        api.put(f"/constituent/{created['Id']}/updateCommunicationSettings", json=opted_out).json()[
            "EmailInterestType"
        ]
        == "OptedOut"
    )
    missing_reason = {"EmailInterests": {"EmailInterestType": "All"}}
    assert (
        api.put(f"/constituent/{created['Id']}/updateCommunicationSettings", json=missing_reason).status_code
        == 400
    )
    interests = api.get("/emailInterests").json()
    assert [i["Id"] for i in interests["Results"]] == [news, events]
    assert api.get(f"/emailInterest/{events}").json()["Name"] == "Events"


def test_search_finds_constituents_and_households(api: httpx.Client) -> None:
    ada = create(api, person())
    create(api, person("Grace", "Hopper", "grace@example.org"))
    household = api.post(
        "/household",
        json={
            "FullName": "The Lovelace Family",
            "SortName": "Lovelace",
            "InformalName": "Lovelaces",
            "FormalName": "The Lovelace Family",
            "EnvelopeName": "The Lovelace Family",
            "RecognitionName": "The Lovelace Family",
            "Head": {"Id": ada["Id"]},
        },
    ).json()
    found = api.get("/constituents/search", params={"search": "lovelace"}).json()
    assert sorted(r["Id"] for r in found["Results"]) == sorted([ada["Id"], household["Id"]])
    only_households = api.get(
        "/constituents/search", params={"search": "lovelace", "type": "Household"}
    ).json()
    assert [r["Type"] for r in only_households["Results"]] == ["Household"]
    by_email = api.get("/constituents/search", params={"search": "grace@example.org"}).json()
    assert [r["LastName"] for r in by_email["Results"]] == ["Hopper"]


def test_duplicates_need_a_name_and_one_piece_of_contact_info(api: httpx.Client) -> None:
    ada = create(api, person(PrimaryAddress={"Street": "12 St James's Square", "City": "London"}))
    create(api, person(email="other-ada@example.org"))
    by_email = api.get(
        "/constituent/duplicates",
        params={"firstName": "ada", "lastName": "LOVELACE", "emailAddress": "Ada@Example.org"},
    ).json()
    assert [r["Id"] for r in by_email["Results"]] == [ada["Id"]]
    by_street = api.post(
        "/constituent/duplicates",
        json={
            "Type": "Individual",
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Street": "12 st james's square",
        },
    ).json()
    assert [r["Id"] for r in by_street["Results"]] == [ada["Id"]]
    by_name = api.get("/constituent/duplicates", params={"firstName": "Ada", "lastName": "Lovelace"}).json()
    assert by_name["ResultCount"] == 2


def test_merge_endpoint_merges_into_a_duplicate_or_creates(api: httpx.Client) -> None:
    ada = create(api, person())
    merged = api.post(
        "/constituent/merge", json=person(PrimaryPhone={"Number": "317-555-0101"}, JobTitle="Analyst")
    )
    assert merged.status_code == 200
    body = merged.json()
    assert body["Id"] == ada["Id"]
    assert body["JobTitle"] == "Analyst"
    assert body["PrimaryPhone"]["Number"] == "317-555-0101"
    fresh = api.post("/constituent/merge", json=person("Grace", "Hopper", "grace@example.org")).json()
    assert fresh["Id"] != ada["Id"]
    refused = api.post("/constituent/merge", json=person(SecondaryEmails=[{"Value": "x@example.org"}]))
    assert refused.status_code == 400
    assert api.get("/constituents").json()["Total"] == 2
