"""Rollbacks are real (rows, indexes, recycle bin, state file) and the apply-then-drop fault."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from sf_emulator_testkit import API_VERSION, Control, password_token
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from crmsync.emulators.salesforce.server import running_emulator

BASE = f"/services/data/v{API_VERSION}"


def sub(method: str, url: str, ref: str, body: Any = None) -> dict[str, Any]:
    return {"method": method, "url": f"{BASE}{url}", "referenceId": ref} | ({"body": body} if body else {})


def stored(path: Path) -> dict[str, dict[str, Any]]:
    """What the state file holds: id -> record."""
    with sqlite3.connect(path) as db:
        return {row_id: json.loads(data) for row_id, data in db.execute("SELECT id, data FROM records")}


def test_rollback_restores_indexes_and_recycle_bin(sf: Salesforce, control: Control) -> None:
    parent = sf.Account.create({"Name": "Parent"})["id"]
    child = sf.Contact.create({"LastName": "Child", "AccountId": parent, "Platform_Id__c": "p-1"})["id"]
    requests_ = [
        sub("PATCH", "/sobjects/Contact/Platform_Id__c/p-2", "created", {"LastName": "New"}),
        sub("PATCH", f"/sobjects/Contact/{child}", "rekey", {"Platform_Id__c": "p-3"}),
        sub("DELETE", f"/sobjects/Account/{parent}", "gone"),
        sub("POST", "/sobjects/Contact", "bad", {}),
    ]
    answer = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": requests_})
    assert [entry["httpStatusCode"] for entry in answer["compositeResponse"]] == [400] * 4
    # External-id index: p-2 and p-3 are free, p-1 still names the child.
    assert sf.Contact.upsert("Platform_Id__c/p-2", {"LastName": "Again"}) == 201
    assert sf.Contact.get_by_custom_id("Platform_Id__c", "p-1")["Id"] == child
    assert sf.Contact.upsert("Platform_Id__c/p-3", {"LastName": "Third"}) == 201
    # The delete (cascading to the child) and its recycle-bin entries are undone; it works again.
    assert sf.Contact.get(child)["AccountId"] == parent
    assert set(control.get("/stats")["deleted"].values()) == {0}
    assert sf.Account.delete(parent) == 204
    assert control.get(f"/records/Contact/{child}")["IsDeleted"] is True
    assert control.post("/undelete", {"object": "Account", "ids": [parent]})["restored"] == [parent, child]


def test_nothing_of_a_rolled_back_group_reaches_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "org.sqlite"
    with running_emulator(state=state) as emulator:
        token = password_token(emulator.base_url)["access_token"]
        api = httpx.Client(base_url=emulator.base_url + BASE, headers={"Authorization": f"Bearer {token}"})
        kept = api.post("/sobjects/Contact", json={"LastName": "Kept", "Title": "Old"}).json()["id"]
        before = stored(state)
        failing = [
            sub("POST", "/sobjects/Account", "acct", {"Name": "Ghost"}),
            sub("PATCH", f"/sobjects/Contact/{kept}", "edit", {"Title": "Ghost"}),
            sub("POST", "/sobjects/Contact", "bad", {"FirstName": "x"}),
        ]
        api.post("/composite", json={"allOrNone": True, "compositeRequest": failing})
        records = [
            {"attributes": {"type": "Lead"}, "LastName": "Ghost", "Company": "C"},
            {"attributes": {"type": "Lead"}},
        ]
        api.post("/composite/sobjects", json={"allOrNone": True, "records": records})
        graph = {"graphId": "g", "compositeRequest": failing}
        assert (
            api.post("/composite/graph", json={"graphs": [graph]}).json()["graphs"][0]["isSuccessful"]
            is False
        )
        assert stored(state) == before
        succeeding = [sub("POST", "/sobjects/Account", "acct", {"Name": "Real"})]
        api.post("/composite", json={"allOrNone": True, "compositeRequest": succeeding})
        api.post("/composite/sobjects", json={"allOrNone": False, "records": records})
        api.close()
    names = sorted(record.get("LastName") or record.get("Name") for record in stored(state).values())
    assert names == ["Admin", "Ghost", "Kept", "Real"]  # the one good lead of the partial collection
    with running_emulator(state=state) as restarted:
        rows = {row["Id"]: row for row in restarted.org.scan("Contact")}
        assert rows[kept]["Title"] == "Old"
        assert restarted.org.count("Account") == (1, 0)


def test_drop_after_write_commits_then_hangs_up(sf: Salesforce, control: Control) -> None:
    control.post(
        "/faults",
        {"kind": "drop_after_write", "method": "PATCH", "path_prefix": f"{BASE}/sobjects/Contact/"},
        expect=201,
    )
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.upsert("Platform_Id__c/plat-9", {"LastName": "Maybe"})
    # The write happened; retrying the idempotent upsert updates instead of duplicating.
    assert sf.Contact.upsert("Platform_Id__c/plat-9", {"LastName": "Surely"}) == 200
    found = sf.query("SELECT Id, LastName FROM Contact WHERE Platform_Id__c = 'plat-9'")
    assert found["totalSize"] == 1
    assert found["records"][0]["LastName"] == "Surely"
    assert control.get("/stats")["records"]["Contact"] == 1


def test_drop_after_write_on_composite(sf: Salesforce, control: Control, api: httpx.Client) -> None:
    control.post("/faults", {"kind": "drop_after_write", "path_prefix": f"{BASE}/composite"}, expect=201)
    records = [{"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "C"} for n in range(3)]
    with pytest.raises(httpx.TransportError):
        api.post("/composite/sobjects", json={"records": records})
    assert control.get("/stats")["records"]["Lead"] == 3
    assert control.get("/faults")["faults"][0]["fired"] == 1


def test_record_error_on_single_record_calls(sf: Salesforce, control: Control) -> None:
    contact = sf.Contact.create({"LastName": "Doe"})["id"]
    control.post("/faults", {"kind": "record_error", "object": "contact", "count": 2}, expect=201)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact, {"Title": "x"})
    assert caught.value.content == [
        {
            "message": f"unable to obtain exclusive access to this record or 1 records: {contact}",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.delete(contact)
    assert sf.Lead.create({"LastName": "L", "Company": "C"})["success"]  # other objects pass
    control.post("/records/Contact", {"fields": {"LastName": "Screen"}}, expect=201)
    assert sf.Contact.delete(contact) == 204
    locked = {"kind": "record_error", "error_code": "ENTITY_IS_LOCKED", "message": "locked", "status": 409}
    control.post("/faults", locked, expect=201)
    with pytest.raises(SalesforceGeneralError) as failed:
        sf.Lead.create({"LastName": "L", "Company": "C"})
    assert failed.value.status == 409
    assert failed.value.content == [{"message": "locked", "errorCode": "ENTITY_IS_LOCKED", "fields": []}]


def test_rules_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "org.sqlite"
    rule = {
        "name": "Need_Email",
        "object": "Contact",
        "when": {"field": "Email", "op": "blank"},
        "message": "Email!",
    }
    duplicate = {"name": "Dup", "object": "Contact", "match_fields": ["Email"]}
    with running_emulator(state=state) as emulator:
        control = Control(emulator.base_url)
        control.post("/rules", rule, expect=201)
        control.post("/duplicate-rules", duplicate, expect=201)
        control.http.close()
    with running_emulator(state=state) as restarted:
        control = Control(restarted.base_url)
        assert control.get("/rules") == {"rules": [rule]}
        assert control.get("/duplicate-rules") == {"duplicate_rules": [duplicate]}
        refused = control.post("/records/Contact", {"fields": {"LastName": "Doe"}}, expect=400)
        assert refused["message"] == "Email!"
        control.post("/reset")
        control.http.close()
    with running_emulator(state=state) as emptied:
        assert emptied.org.rules.listing() == []
