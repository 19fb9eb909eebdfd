"""Archived records in the console and the API: listed, and restored by an administrator."""

from __future__ import annotations

from web_testkit import FAST, TestClient, Web

from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.commands import run_sync_all


def test_a_contact_deleted_in_salesforce_is_listed_and_restored(
    web: Web, emulator: Emulator, browser_client: tuple[TestClient, str]
) -> None:
    client, csrf = browser_client
    run_sync_all(web.workspace, "sf", retry=FAST)
    supporter = web.client.get("/api/v1/connections/sf/records/supporters").json()["records"][0]
    contact = supporter["crm_id"]
    emulator.org.delete("Contact", contact)
    run_sync_all(web.workspace, "sf", retry=FAST)

    listed = web.client.get("/api/v1/archived", params={"type": "supporters"}).json()["archived"]
    assert [(r["key"], r["crm_id"], r["reason"], r["connection"]) for r in listed] == [
        (f"supporters:{supporter['id']}", contact, "deleted", "sf")
    ]
    page = client.get("/archived")
    assert page.status_code == 200
    assert f"supporters:{supporter['id']}" in page.text
    assert "deleted in the CRM" in page.text

    answer = client.post(
        "/archived", data={"csrf_token": csrf, "connection": "sf", "key": f"supporters:{supporter['id']}"}
    )
    assert answer.status_code == 200
    assert "is not in the CRM" in answer.text
    assert web.client.get("/api/v1/archived").json()["archived"] == []
    missing = web.client.post(f"/api/v1/connections/sf/archived/supporters/{supporter['id']}/restore")
    assert missing.status_code == 422
    assert "is not archived" in missing.json()["message"]
