"""One campaign member per campaign and person, one subscription per contact and list, in every
write path."""

from __future__ import annotations

from typing import Any

import pytest
from sf_emulator_testkit import CREATE_PATHS, Control, Writer
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

ALREADY = ("DUPLICATE_VALUE", "Already a campaign member.", [], {})


def _members(control: Control) -> int:
    count: int = control.get("/stats")["records"].get("CampaignMember", 0)
    return count


@pytest.fixture
def people(sf: Salesforce) -> dict[str, str]:
    """A campaign with one contact member; a second campaign, contact and a lead, not members."""
    ids = {
        "campaign": sf.Campaign.create({"Name": "Spring Appeal"})["id"],
        "other_campaign": sf.Campaign.create({"Name": "Gala"})["id"],
        "contact": sf.Contact.create({"LastName": "Doe"})["id"],
        "other_contact": sf.Contact.create({"LastName": "Roe"})["id"],
        "lead": sf.Lead.create({"LastName": "Lee", "Company": "Acme"})["id"],
    }
    ids["member"] = sf.CampaignMember.create({"CampaignId": ids["campaign"], "ContactId": ids["contact"]})[
        "id"
    ]
    return ids


@pytest.mark.parametrize("write", CREATE_PATHS, ids=lambda path: path.__name__)
def test_second_member_is_refused_in_every_write_path(
    sf: Salesforce, control: Control, people: dict[str, str], write: Writer
) -> None:
    again = {"CampaignId": people["campaign"], "ContactId": people["contact"], "Status": "Responded"}
    assert write(sf, "CampaignMember", again) == ALREADY
    assert _members(control) == 1
    assert write(sf, "CampaignMember", again | {"ContactId": people["other_contact"]}) is None
    lead = {"CampaignId": people["campaign"], "LeadId": people["lead"]}
    assert write(sf, "CampaignMember", lead) is None
    assert write(sf, "CampaignMember", lead) == ALREADY
    assert _members(control) == 3


def test_other_campaigns_and_deleted_members_do_not_count(
    sf: Salesforce, control: Control, people: dict[str, str]
) -> None:
    assert sf.CampaignMember.create({"CampaignId": people["other_campaign"], "ContactId": people["contact"]})
    sf.CampaignMember.delete(people["member"])
    again = sf.CampaignMember.create({"CampaignId": people["campaign"], "ContactId": people["contact"]})["id"]
    # The recycle bin gives the old member back only while the pair is free.
    refused = control.post("/undelete", {"object": "CampaignMember", "ids": [people["member"]]}, expect=400)
    assert (refused["errorCode"], refused["message"]) == ALREADY[:2]
    sf.CampaignMember.delete(again)
    assert control.post("/undelete", {"object": "CampaignMember", "ids": [people["member"]]}) == {
        "restored": [people["member"]]
    }


@pytest.mark.parametrize("all_or_none", [False, True])
def test_collections_report_the_duplicate_per_record(
    sf: Salesforce, control: Control, people: dict[str, str], all_or_none: bool
) -> None:
    def member(contact: str) -> dict[str, Any]:
        return {
            "attributes": {"type": "CampaignMember"},
            "CampaignId": people["campaign"],
            "ContactId": contact,
        }

    records = [member(people["other_contact"]), member(people["contact"]), member(people["other_contact"])]
    body = {"allOrNone": all_or_none, "records": records}
    results = sf.restful("composite/sobjects", method="POST", json=body)
    refused = {"statusCode": "DUPLICATE_VALUE", "message": "Already a campaign member.", "fields": []}
    assert results[1] == {"success": False, "errors": [refused]}
    # A pair is taken by the first record of the call that holds it.
    assert results[2] == {"success": False, "errors": [refused]}
    if all_or_none:
        assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        assert _members(control) == 1
    else:
        assert results[0]["success"] is True
        assert _members(control) == 2


def test_moving_a_member_onto_a_taken_pair(sf: Salesforce, control: Control, people: dict[str, str]) -> None:
    moved = sf.CampaignMember.create(
        {"CampaignId": people["campaign"], "ContactId": people["other_contact"]}
    )["id"]
    # A member's campaign and person are create-only for API clients, as in Salesforce.
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.CampaignMember.update(moved, {"ContactId": people["contact"]})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    # A system change may move them, and meets the same uniqueness.
    system = {"fields": {"ContactId": people["contact"]}, "system": True}
    refused = control.call("PATCH", f"/records/CampaignMember/{moved}", system, expect=400)
    assert (refused["errorCode"], refused["message"]) == ALREADY[:2]
    screen = {"fields": {"CampaignId": people["campaign"], "ContactId": people["contact"]}}
    assert control.post("/records/CampaignMember", screen, expect=400)["errorCode"] == "DUPLICATE_VALUE"


def test_a_data_file_with_a_second_member_is_refused(control: Control, people: dict[str, str]) -> None:
    def member(contact: str) -> dict[str, str]:
        return {"CampaignId": people["other_campaign"], "ContactId": contact}

    document = {"CampaignMember": [member(people["other_contact"]), member(people["other_contact"])]}
    refused = control.post("/load", document, expect=400)
    assert refused["errorCode"] == "LOAD_FAILED"
    assert [(p["record"][:2], p["field"], p["errorCode"]) for p in refused["problems"]] == [
        ("#2", "ContactId", "DUPLICATE_VALUE")
    ]
    taken = {"CampaignMember": [{"CampaignId": people["campaign"], "ContactId": people["contact"]}]}
    assert control.post("/load", taken, expect=400)["problems"][0]["errorCode"] == "DUPLICATE_VALUE"
    assert _members(control) == 1


# -- one subscription per contact and list ------------------------------------------------------

SUBSCRIPTION = "Communication_Subscription__c"


def _taken(record_id: str) -> tuple[str, str, list[str], dict[str, Any]]:
    message = f"duplicate value found: Subscription_Key__c duplicates value on record with id: {record_id}"
    return ("DUPLICATE_VALUE", message, ["Subscription_Key__c"], {})


@pytest.fixture
def subscribed(sf: Salesforce) -> dict[str, str]:
    """Two contacts; the first subscribed to the newsletter."""
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    other = sf.Contact.create({"LastName": "Roe"})["id"]
    first = sf.Communication_Subscription__c.create({"Contact__c": contact, "List_Name__c": "Newsletter"})
    return {"contact": contact, "other_contact": other, "subscription": first["id"]}


@pytest.mark.parametrize("write", CREATE_PATHS, ids=lambda path: path.__name__)
def test_second_subscription_is_refused_in_every_write_path(
    sf: Salesforce, control: Control, subscribed: dict[str, str], write: Writer
) -> None:
    # Unique text is case-insensitive, and the flow trims the list name.
    again = {"Contact__c": subscribed["contact"], "List_Name__c": "  NEWSLETTER ", "Channel__c": "SMS"}
    assert write(sf, SUBSCRIPTION, again) == _taken(subscribed["subscription"])
    assert control.get("/stats")["records"][SUBSCRIPTION] == 1
    assert write(sf, SUBSCRIPTION, again | {"List_Name__c": "Events"}) is None
    assert write(sf, SUBSCRIPTION, again | {"Contact__c": subscribed["other_contact"]}) is None


def test_the_key_follows_the_pair_and_updates_meet_it(sf: Salesforce, subscribed: dict[str, str]) -> None:
    subscriptions = sf.Communication_Subscription__c
    contact, first = subscribed["contact"], subscribed["subscription"]
    assert subscriptions.get(first)["Subscription_Key__c"] == f"{contact}:Newsletter"
    events = subscriptions.create({"Contact__c": contact, "List_Name__c": "Events", "Platform_Id__c": "s-2"})
    second = events["id"]
    for change in ({"List_Name__c": "newsletter"}, {"Contact__c": contact, "List_Name__c": "Newsletter"}):
        with pytest.raises(SalesforceMalformedRequest) as caught:
            subscriptions.update(second, change)
        assert caught.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        subscriptions.upsert("Platform_Id__c/s-2", {"List_Name__c": "Newsletter"})
    assert caught.value.content[0]["message"] == _taken(first)[1]
    # Moving to another contact frees the pair: the key is the flow's, never the client's.
    assert subscriptions.update(first, {"Contact__c": subscribed["other_contact"]}) == 204
    assert subscriptions.get(first)["Subscription_Key__c"] == f"{subscribed['other_contact']}:Newsletter"
    assert subscriptions.update(second, {"List_Name__c": "Newsletter"}) == 204
    with pytest.raises(SalesforceMalformedRequest) as caught:
        subscriptions.update(second, {"Subscription_Key__c": "mine"})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_collection_updates_report_the_duplicate_per_record(
    sf: Salesforce, subscribed: dict[str, str]
) -> None:
    events = {"Contact__c": subscribed["other_contact"], "List_Name__c": "Events"}
    second = sf.Communication_Subscription__c.create(events)["id"]
    records = [
        {"attributes": {"type": SUBSCRIPTION}, "id": second, "Contact__c": subscribed["contact"]},
        {"attributes": {"type": SUBSCRIPTION}, "id": second, "List_Name__c": "Newsletter"},
    ]
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert results[0] == {"id": second, "success": True, "errors": []}
    code, message, fields, _ = _taken(subscribed["subscription"])
    assert results[1] == {
        "id": second,
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": fields}],
    }


def test_loaded_and_seeded_subscriptions_are_keyed(
    sf: Salesforce, control: Control, subscribed: dict[str, str]
) -> None:
    pair = {"Contact__c": subscribed["contact"], "List_Name__c": "Newsletter"}
    refused = control.post("/load", {SUBSCRIPTION: [pair]}, expect=400)
    assert refused["problems"][0]["message"] == _taken(subscribed["subscription"])[1]
    control.seed(300)
    rows = sf.query_all(f"SELECT Contact__c, List_Name__c, Subscription_Key__c FROM {SUBSCRIPTION}")[
        "records"
    ]
    assert rows
    for row in rows:
        assert row["Subscription_Key__c"] == f"{row['Contact__c']}:{row['List_Name__c']}"
