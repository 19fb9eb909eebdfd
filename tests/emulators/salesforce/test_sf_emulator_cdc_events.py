"""Change events over the Streaming API: what each kind of change produces, in which transaction,
with which origin; merges, automations, merged recordIds, gap and overflow events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sf_emulator_testkit import API_VERSION, Bayeux, Control, headers, payloads

from crmsync.emulators.salesforce.server import Emulator

BASE = f"/services/data/v{API_VERSION}"
CONTACTS = "/data/ContactChangeEvent"


def sub(method: str, url: str, ref: str, body: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": f"{BASE}{url}", "referenceId": ref}
    return request | ({"body": body} if body is not None else {})


def create(api: httpx.Client, object_name: str, **fields: Any) -> str:
    response = api.post(f"/sobjects/{object_name}", json=fields)
    assert response.status_code == 201, response.text
    record_id: str = response.json()["id"]
    return record_id


def listen(stream: Bayeux, channel: str = CONTACTS) -> None:
    assert stream.subscribe(channel, -1)["successful"]


def test_create_update_delete_undelete(stream: Bayeux, api: httpx.Client, control: Control) -> None:
    listen(stream)
    contact = create(api, "Contact", FirstName="Jane", LastName="Doe", MailingCity="Oslo", Email="j@x.org")
    assert (
        api.patch(f"/sobjects/Contact/{contact}", json={"MailingCity": None, "Phone": "555"}).status_code
        == 204
    )
    assert api.delete(f"/sobjects/Contact/{contact}").status_code == 204
    control.post("/undelete", {"object": "Contact", "ids": [contact]})

    events = stream.receive(4)
    assert [h["changeType"] for h in headers(events)] == ["CREATE", "UPDATE", "DELETE", "UNDELETE"]
    assert all(event["channel"] == CONTACTS for event in events)
    assert all(h["recordIds"] == [contact] and h["entityName"] == "Contact" for h in headers(events))
    replay_ids = [event["data"]["event"]["replayId"] for event in events]
    assert replay_ids == sorted(replay_ids)
    assert len(set(replay_ids)) == 4

    created, updated, deleted, undeleted = payloads(events)
    # CREATE: every non-null field; compound fields nested; no Id, IsDeleted, SystemModstamp.
    assert created["Name"] == {"FirstName": "Jane", "LastName": "Doe"}
    assert created["MailingAddress"] == {"City": "Oslo"}
    assert created["Email"] == "j@x.org"
    assert created["CreatedDate"].endswith(".000Z")
    assert created["LastModifiedDate"].endswith(".000Z")
    assert not {"Id", "IsDeleted", "SystemModstamp", "Phone"} & set(created)
    assert created["ChangeEventHeader"]["changedFields"] == []
    # UPDATE: only what changed, LastModifiedDate always; a nulled component is listed as such.
    update_header = updated.pop("ChangeEventHeader")
    assert update_header["changedFields"] == ["Phone", "MailingAddress.City", "LastModifiedDate"]
    assert update_header["nulledFields"] == ["MailingAddress.City"]
    assert update_header["diffFields"] == []
    assert set(updated) == {"Phone", "MailingAddress", "LastModifiedDate"}
    assert updated["MailingAddress"] == {"City": None}
    # DELETE: the header alone. UNDELETE: every non-null field again.
    assert set(deleted) == {"ChangeEventHeader"}
    assert undeleted["Phone"] == "555"
    assert undeleted["Name"]["LastName"] == "Doe"
    assert "MailingAddress" not in undeleted


def test_header_fields_and_origin(stream: Bayeux, api: httpx.Client, emulator: Emulator) -> None:
    listen(stream)
    tagged = {"Sforce-Call-Options": "client=crmsync-7, defaultNamespace=npsp"}
    assert api.post("/sobjects/Contact", json={"LastName": "Tagged"}, headers=tagged).status_code == 201
    create(api, "Contact", LastName="Plain")
    older = httpx.post(
        f"{emulator.base_url}/services/data/v59.0/sobjects/Contact",
        json={"LastName": "Older"},
        headers=dict(api.headers),
    )
    assert older.status_code == 201

    first, second, third = headers(stream.receive(3))
    assert first["changeOrigin"] == "com/salesforce/api/rest/61.0;client=crmsync-7"
    assert second["changeOrigin"] == "com/salesforce/api/rest/61.0"
    assert third["changeOrigin"] == "com/salesforce/api/rest/59.0"
    assert first["commitUser"] == emulator.org.user_id
    assert first["sequenceNumber"] == 1
    assert len({h["transactionKey"] for h in (first, second, third)}) == 3
    assert first["commitNumber"] < second["commitNumber"] < third["commitNumber"]
    assert abs(first["commitTimestamp"] - emulator.org.clock.now().timestamp() * 1000) < 60_000
    assert list(first) == [
        "entityName",
        "recordIds",
        "changeType",
        "changeOrigin",
        "transactionKey",
        "sequenceNumber",
        "commitTimestamp",
        "commitNumber",
        "commitUser",
        "nulledFields",
        "diffFields",
        "changedFields",
    ]


def test_composite_is_one_transaction_with_one_event_per_record(stream: Bayeux, api: httpx.Client) -> None:
    listen(stream, "/data/ChangeEvents")
    requests = [
        sub("POST", "/sobjects/Account", "household", {"Name": "Doe Household"}),
        sub("POST", "/sobjects/Contact", "jane", {"LastName": "Doe", "AccountId": "@{household.id}"}),
        sub("PATCH", "/sobjects/Contact/@{jane.id}", "rename", {"FirstName": "Jane"}),
        sub("POST", "/sobjects/Contact", "john", {"LastName": "Roe", "AccountId": "@{household.id}"}),
    ]
    answer = api.post(
        "/composite", json={"compositeRequest": requests}, headers={"Sforce-Call-Options": "client=c1"}
    )
    assert answer.status_code == 200, answer.text

    events = stream.receive(3)
    found = headers(events)
    assert [(h["entityName"], h["changeType"], h["sequenceNumber"]) for h in found] == [
        ("Account", "CREATE", 1),
        ("Contact", "CREATE", 2),
        ("Contact", "CREATE", 3),
    ]
    assert len({h["transactionKey"] for h in found}) == 1
    assert {h["changeOrigin"] for h in found} == {"com/salesforce/api/rest/61.0;client=c1"}
    # The contact created then renamed in one transaction: one CREATE with the committed data.
    assert payloads(events)[1]["Name"] == {"FirstName": "Jane", "LastName": "Doe"}
    assert all(event["channel"] == "/data/ChangeEvents" for event in events)


def test_rolled_back_changes_make_no_events(stream: Bayeux, api: httpx.Client) -> None:
    listen(stream)
    requests = [
        sub("POST", "/sobjects/Contact", "ok", {"LastName": "Kept?"}),
        sub("POST", "/sobjects/Contact", "bad", {"FirstName": "No last name"}),
    ]
    assert api.post("/composite", json={"compositeRequest": requests, "allOrNone": True}).status_code == 200
    create(api, "Contact", LastName="After")
    events = stream.receive(1)
    assert [p["Name"]["LastName"] for p in payloads(events)] == ["After"]


def test_batch_subrequests_and_graphs_are_transactions_of_their_own(
    stream: Bayeux, api: httpx.Client
) -> None:
    listen(stream)
    batch = [
        {"method": "POST", "url": f"v{API_VERSION}/sobjects/Contact", "richInput": {"LastName": "B1"}},
        {"method": "POST", "url": f"v{API_VERSION}/sobjects/Contact", "richInput": {"LastName": "B2"}},
    ]
    assert api.post("/composite/batch", json={"batchRequests": batch}).status_code == 200
    graphs = [
        {
            "graphId": f"g{n}",
            "compositeRequest": [sub("POST", "/sobjects/Contact", "c", {"LastName": f"G{n}"})],
        }
        for n in (1, 2)
    ]
    assert api.post("/composite/graph", json={"graphs": graphs}).status_code == 200
    found = headers(stream.receive(4))
    assert len({h["transactionKey"] for h in found}) == 4
    assert {h["sequenceNumber"] for h in found} == {1}


def test_same_change_on_several_records_is_one_event(
    stream: Bayeux, api: httpx.Client, control: Control
) -> None:
    listen(stream)
    records = [{"attributes": {"type": "Contact"}, "LastName": f"C{n}"} for n in range(3)]
    created = api.post("/composite/sobjects", json={"records": records}).json()
    ids = [item["id"] for item in created]
    # Three creates differ (names); three updates to the same value and three deletes do not.
    updates = [{"attributes": {"type": "Contact"}, "id": i, "Department": "Sales"} for i in ids]
    assert api.patch("/composite/sobjects", json={"records": updates}).status_code == 200
    assert api.delete("/composite/sobjects", params={"ids": ",".join(ids)}).status_code == 200
    found = headers(stream.receive(5))
    assert [(h["changeType"], h["recordIds"]) for h in found] == [
        ("CREATE", [ids[0]]),
        ("CREATE", [ids[1]]),
        ("CREATE", [ids[2]]),
        ("UPDATE", ids),
        ("DELETE", ids),
    ]
    assert [h["sequenceNumber"] for h in found[:3]] == [1, 2, 3]

    control.post("/cdc", {"merge_events": False})
    more = [i["id"] for i in api.post("/composite/sobjects", json={"records": records[:2]}).json()]
    assert api.delete("/composite/sobjects", params={"ids": ",".join(more)}).status_code == 200
    found = headers(stream.receive(4))
    assert [(h["changeType"], h["recordIds"]) for h in found[2:]] == [
        ("DELETE", [more[0]]),
        ("DELETE", [more[1]]),
    ]


def test_merge_deletes_losers_updates_master_and_reparents_children(
    stream: Bayeux, api: httpx.Client, control: Control
) -> None:
    listen(stream, "/data/ChangeEvents")
    master = create(api, "Account", Name="Doe Household")
    loser = create(api, "Account", Name="Doe Household (2)")
    children = [create(api, "Contact", LastName=name, AccountId=loser) for name in ("Doe", "Roe")]
    stream.receive(4)

    control.post(
        "/merge", {"object": "Account", "master": master, "losers": [loser], "fields": {"Phone": "555"}}
    )
    events = stream.receive(3)
    found = headers(events)
    assert len({h["transactionKey"] for h in found}) == 1
    assert [(h["entityName"], h["changeType"], h["recordIds"]) for h in found] == [
        ("Contact", "UPDATE", children),
        ("Account", "DELETE", [loser]),
        ("Account", "UPDATE", [master]),
    ]
    # Re-parenting is a system change: the lookup moves, LastModifiedDate does not.
    reparented = payloads(events)[0]
    assert reparented["ChangeEventHeader"]["changedFields"] == ["AccountId"]
    assert reparented["AccountId"] == master
    assert found[2]["changedFields"] == ["Phone", "LastModifiedDate"]
    # A screen action: no API origin.
    assert {h["changeOrigin"] for h in found} == {""}


def test_automations_and_system_changes_make_updates(
    stream: Bayeux, api: httpx.Client, control: Control
) -> None:
    listen(stream)
    control.post(
        "/rules",
        {
            "kind": "automation",
            "name": "Default_Lead_Source",
            "object": "Contact",
            "when": {"field": "LeadSource", "op": "blank"},
            "set": {"LeadSource": "Web"},
        },
        expect=201,
    )
    contact = create(api, "Contact", LastName="Doe")
    control.call(
        "PATCH", f"/records/Contact/{contact}", {"fields": {"npo02__TotalOppAmount__c": 250}, "system": True}
    )
    # A system change that moves only SystemModstamp changes nothing an event carries.
    control.call("PATCH", f"/records/Contact/{contact}", {"fields": {}, "system": True})
    create(api, "Contact", LastName="Sentinel", LeadSource="Phone")

    events = stream.receive(3)
    created, rollup, sentinel = payloads(events)
    assert created["LeadSource"] == "Web"  # the before-save automation is part of the create
    assert rollup["ChangeEventHeader"]["changeType"] == "UPDATE"
    assert rollup["ChangeEventHeader"]["changedFields"] == ["npo02__TotalOppAmount__c"]
    assert rollup["ChangeEventHeader"]["changeOrigin"] == ""
    assert set(rollup) == {"ChangeEventHeader", "npo02__TotalOppAmount__c"}
    assert sentinel["Name"]["LastName"] == "Sentinel"


def test_gap_and_overflow_events(stream: Bayeux, api: httpx.Client, control: Control) -> None:
    listen(stream)
    contact = create(api, "Contact", LastName="Doe")
    gap = control.post("/cdc/gap", {"object": "Contact", "changeType": "GAP_UPDATE", "recordIds": [contact]})
    overflow = control.post("/cdc/gap", {"object": "Contact", "changeType": "GAP_OVERFLOW"})
    assert gap["channel"] == CONTACTS
    assert overflow["replayId"] == gap["replayId"] + 1
    # Past overflow_after records in one transaction, one GAP_OVERFLOW stands for the rest.
    control.post("/cdc", {"overflow_after": 2})
    records = [{"attributes": {"type": "Contact"}, "LastName": f"C{n}"} for n in range(4)]
    assert api.post("/composite/sobjects", json={"records": records}).status_code == 200

    events = stream.receive(6)
    found = headers(events)
    assert [h["changeType"] for h in found] == [
        "CREATE",
        "GAP_UPDATE",
        "GAP_OVERFLOW",
        "CREATE",
        "CREATE",
        "GAP_OVERFLOW",
    ]
    assert found[1]["recordIds"] == [contact]
    assert found[2]["recordIds"] == []
    assert set(payloads(events)[1]) == {"ChangeEventHeader"}
    assert found[5]["transactionKey"] == found[3]["transactionKey"]
    assert found[5]["sequenceNumber"] == 3
    assert found[5]["recordIds"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"object": "Lead", "changeType": "GAP_UPDATE", "recordIds": ["00Q"]}, "not enabled"),
        ({"object": "Contact", "changeType": "UPDATE", "recordIds": ["003"]}, "changeType"),
        ({"object": "Contact", "changeType": "GAP_DELETE"}, "recordIds"),
    ],
)
def test_gap_requests_are_checked(cdc: object, control: Control, body: dict[str, Any], message: str) -> None:
    refused = control.post("/cdc/gap", body, expect=400)
    assert message in refused["message"]


def test_only_enabled_objects_and_only_real_changes(
    stream: Bayeux, api: httpx.Client, control: Control
) -> None:
    listen(stream, "/data/ChangeEvents")
    create(api, "Lead", LastName="Not enabled", Company="Acme")
    control.post("/load", {"Contact": [{"LastName": "Loaded"}]})  # setting the org up: no events
    control.post("/cdc", {"objects": ["Contact"], "enabled": False})
    create(api, "Contact", LastName="Disabled")
    create(api, "Account", Name="Still enabled")
    events = stream.receive(1)
    assert [(h["entityName"], h["changeType"]) for h in headers(events)] == [("Account", "CREATE")]
    status = control.get("/cdc")
    assert status["enabled"] == ["Account", "Opportunity"]
    assert status["events"] == 1
    assert status["clients"] == 1
    listed = control.get("/cdc/events")["events"]
    assert [(e["channel"], e["replayId"]) for e in listed] == [
        ("/data/AccountChangeEvent", events[0]["data"]["event"]["replayId"])
    ]
