"""The control API: health, stats, reset, screen edits, merges, clock, limits, data files."""

from __future__ import annotations

from typing import Any

import httpx
from sf_emulator_testkit import Control
from simple_salesforce import Salesforce

from crmsync.emulators.salesforce.ids import make_id
from crmsync.emulators.salesforce.server import Emulator


def test_health_and_stats(control: Control, sf: Salesforce) -> None:
    health = control.get("/health")
    assert health["status"] == "ok"
    assert health["org_id"].startswith("00D")
    sf.Contact.create({"LastName": "Doe"})
    doomed = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(doomed)
    stats = control.get("/stats")
    assert stats["records"]["Contact"] == 1
    assert stats["deleted"]["Contact"] == 1
    assert stats["api_calls"]["total"] == 3
    assert stats["api_calls"]["by_resource"] == {"sobjects": 3}


def test_reset_empties_the_org_but_keeps_sessions(control: Control, sf: Salesforce) -> None:
    control.seed(300)
    assert control.get("/health")["records"] > 250
    control.post("/reset")
    assert control.get("/health")["records"] == 1  # the integration user
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_screen_edits_and_automation_changes(control: Control, emulator: Emulator) -> None:
    control.post("/clock", {"freeze": True, "set": "2024-01-01T00:00:00Z"})
    created = control.post("/records/Contact", {"fields": {"LastName": "Doe"}}, expect=201)
    contact_id = created["id"]
    control.post("/clock", {"advance_seconds": 60})
    user_edit = control.call("PATCH", f"/records/Contact/{contact_id}", {"fields": {"Title": "Chair"}})
    assert user_edit["LastModifiedDate"] == user_edit["SystemModstamp"] == "2024-01-01T00:01:00.000+0000"
    control.post("/clock", {"advance_seconds": 60})
    automation = control.call(
        "PATCH",
        f"/records/Contact/{contact_id}",
        {"fields": {"npo02__TotalOppAmount__c": 50}, "system": True},
    )
    assert automation["LastModifiedDate"] == "2024-01-01T00:01:00.000+0000"
    assert automation["SystemModstamp"] == "2024-01-01T00:02:00.000+0000"
    row = control.get(f"/records/Contact/{contact_id}")
    assert row["npo02__TotalOppAmount__c"] == 50.0
    bad = control.call("PATCH", f"/records/Contact/{contact_id}", {"fields": {"Nope": 1}}, expect=400)
    assert bad["errorCode"] == "INVALID_FIELD"
    assert control.call("DELETE", f"/records/Contact/{contact_id}")["deleted"] == [contact_id]
    assert control.get(f"/records/Contact/{contact_id}")["IsDeleted"] is True
    assert emulator.org.get("Contact", contact_id)["IsDeleted"] is True  # type: ignore[index]


def test_clock_controls_share_a_timestamp(control: Control, sf: Salesforce) -> None:
    control.post("/clock", {"freeze": True})
    ids = [sf.Contact.create({"LastName": f"Same {n}"})["id"] for n in range(5)]
    stamps = {sf.Contact.get(record_id)["SystemModstamp"] for record_id in ids}
    assert len(stamps) == 1
    state = control.post("/clock", {"set": "2030-06-01T12:00:00Z"})
    assert state == {"now": "2030-06-01T12:00:00.000+0000", "frozen": True}
    # Timestamps are whole seconds, as in Salesforce.
    assert control.post("/clock", {"advance_seconds": 1.5})["now"] == "2030-06-01T12:00:01.000+0000"
    running = control.post("/clock", {"freeze": False})
    assert running["frozen"] is False
    assert running["now"] >= "2030-06-01T12:00:01.000+0000"
    assert control.post("/clock", {"nonsense": 1}, expect=400)["errorCode"] == "INVALID_REQUEST"


def test_delete_and_undelete_many(control: Control, sf: Salesforce) -> None:
    ids = [sf.Lead.create({"LastName": f"L{n}", "Company": "Acme"})["id"] for n in range(3)]
    assert control.post("/delete", {"object": "Lead", "ids": ids})["deleted"] == ids
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert control.post("/undelete", {"object": "Lead", "ids": ids[:1]})["restored"] == ids[:1]
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 1
    missing = control.post("/delete", {"object": "Lead", "ids": [make_id("00Q", 9999)]}, expect=404)
    assert missing["errorCode"] == "NOT_FOUND"


def test_merge_through_control_visible_to_query_all(control: Control, sf: Salesforce) -> None:
    master = sf.Account.create({"Name": "Acme"})["id"]
    loser = sf.Account.create({"Name": "ACME Inc"})["id"]
    contact = sf.Contact.create({"LastName": "Doe", "AccountId": loser})["id"]
    merged = control.post(
        "/merge", {"object": "Account", "master": master, "losers": [loser], "fields": {"Phone": "555"}}
    )
    assert merged == {"master": master, "merged": [loser]}
    assert sf.Contact.get(contact)["AccountId"] == master
    rows = sf.query_all(
        f"SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE Id = '{loser}'", include_deleted=True
    )
    assert rows["records"][0]["MasterRecordId"] == master
    refused = control.post("/merge", {"object": "Account", "master": master, "losers": []}, expect=400)
    assert "one or two" in refused["message"]


def test_limits_endpoint(control: Control) -> None:
    assert control.post("/limits", {"daily_api_requests": 10, "used": 3}) == {
        "total": 3,
        "max": 10,
        "by_resource": {},
        "streaming_events": {"used": 0, "max": 10_000},
    }
    assert control.post("/limits", {"used": -1}, expect=400)["errorCode"] == "INVALID_REQUEST"


def sample_file(account_id: str, contact_id: str) -> dict[str, Any]:
    return {
        # Children may come before their parents: references are checked after the whole file.
        "Contact": [
            {
                "Id": contact_id,
                "FirstName": "Jo",
                "LastName": "Doe",
                "AccountId": account_id,
                "CreatedDate": "2020-01-01T00:00:00Z",
                "SystemModstamp": "2021-01-01T00:00:00.000+0000",
            }
        ],
        "Account": [{"Id": account_id[:15], "Name": "Doe Household"}],
    }


def test_load_keeps_ids_and_audit_fields(control: Control, sf: Salesforce) -> None:
    account_id, contact_id = make_id("001", 777), make_id("003", 777)
    loaded = control.post("/load", sample_file(account_id, contact_id))
    assert loaded == {"loaded": {"Contact": 1, "Account": 1}}
    contact = sf.Contact.get(contact_id)
    assert contact["AccountId"] == account_id
    assert contact["CreatedDate"] == "2020-01-01T00:00:00.000+0000"
    assert contact["LastModifiedDate"] == "2020-01-01T00:00:00.000+0000"
    assert contact["SystemModstamp"] == "2021-01-01T00:00:00.000+0000"
    assert contact["Name"] == "Jo Doe"
    # New ids continue after the loaded ones.
    assert sf.Contact.create({"LastName": "Next"})["id"] == make_id("003", 778)


def test_load_errors_name_object_record_and_field(control: Control) -> None:
    document = {
        "Contact": [
            {"Id": make_id("003", 1), "LastName": "Doe", "AccountId": make_id("001", 404)},
            {"Id": make_id("003", 2), "FirstName": "No last name"},
            {"Id": make_id("001", 3), "LastName": "Wrong prefix"},
            {"LastName": "X", "Birthdate": "yesterday"},
        ],
        "Nope__c": [],
    }
    failed = control.post("/load", document, expect=400)
    assert failed["errorCode"] == "LOAD_FAILED"
    problems = {(p["object"], p["field"], p["errorCode"]) for p in failed["problems"]}
    assert ("Contact", "LastName", "REQUIRED_FIELD_MISSING") in problems
    assert ("Contact", "Id", "MALFORMED_ID") in problems
    assert ("Contact", "Birthdate", "JSON_PARSER_ERROR") in problems
    assert ("Nope__c", None, "INVALID_TYPE") in problems
    assert all(p["record"] for p in failed["problems"] if p["object"] == "Contact")
    assert control.get("/health")["records"] == 1  # nothing was stored
    dangling = {"Contact": [{"Id": make_id("003", 1), "LastName": "Doe", "AccountId": make_id("001", 404)}]}
    reference = control.post("/load", dangling, expect=400)["problems"][0]
    assert reference["field"] == "AccountId"
    assert reference["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert make_id("003", 1) in reference["record"]


def test_control_rejects_malformed_requests(emulator: Emulator) -> None:
    response = httpx.post(f"{emulator.base_url}/__emulator__/seed", content=b"[")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "JSON_PARSER_ERROR"
    unknown = httpx.post(f"{emulator.base_url}/__emulator__/seed", json={"preset": "other", "records": 5})
    assert unknown.json()["message"].startswith("unknown preset")
