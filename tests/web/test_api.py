"""The JSON API: every endpoint, with good and bad input (422 with a message, never a 500)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from web_testkit import FAST, TestClient, Web, wait_job

from crmsync.engine.commands import run_sync_all
from crmsync.store import push_state, records, tenancy
from crmsync.store.db import reading


def _sync(web: Web) -> None:
    run_sync_all(web.workspace, "sf", retry=FAST)


def _invalid(response: Any, *words: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid"
    for word in words:
        assert word in body["message"]


def test_connections_cards_and_unknown_names(web: Web) -> None:
    (card,) = web.client.get("/api/v1/connections").json()["connections"]
    assert card["name"] == "sf"
    assert card["connected"] is True
    assert card["status"] == "Active"
    assert web.client.get("/api/v1/connections/sf").json()["crm"] == "salesforce"
    missing = web.client.get("/api/v1/connections/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "connection 'nope' does not exist"}


def test_requests_without_a_valid_token_are_refused(web: Web) -> None:
    app = web.client.app

    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/connections").status_code == 401
        bad = anonymous.get("/api/v1/connections", headers={"Authorization": "Bearer cst_nope"})
        assert bad.status_code == 401
        assert "unknown or revoked" in bad.json()["message"]
        basic = anonymous.get("/api/v1/connections", headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401


def test_test_reset_token_and_disconnect(web: Web) -> None:
    assert (
        web.client.post("/api/v1/connections/sf/test").json()["message"].startswith("Connection successful")
    )
    assert web.client.post("/api/v1/connections/sf/reset-token").status_code == 200
    with reading(web.workspace.engine) as conn:
        row = tenancy.get_connection(conn, web.workspace.organization_id, "sf")
    assert row is not None
    assert row.token is None
    assert web.client.delete("/api/v1/connections/sf/credentials").status_code == 200
    assert web.client.get("/api/v1/connections/sf").json()["connected"] is False
    tested = web.client.post("/api/v1/connections/sf/test").json()
    assert tested == {"ok": False, "message": "sf is not connected: set up its credentials first"}
    _invalid(web.client.post("/api/v1/connections/sf/sync-all"), "not connected")


def test_set_up_credentials_never_shows_them(web: Web) -> None:
    login_url = web.client.get("/api/v1/connections/sf").json()["login_url"]
    body = {
        "login_url": login_url,
        "client_id": "crmsync-emulator",
        "client_secret": "emulator-secret",
        "username": "admin@npsp.example.org",
        "password": "emulator-password",
    }
    created = web.client.put("/api/v1/connections/second/credentials", json=body)
    assert created.status_code == 200, created.text
    assert "emulator-password" not in created.text
    assert "emulator-secret" not in created.text
    assert web.client.post("/api/v1/connections/second/test").json()["ok"] is True
    listed = web.client.get("/api/v1/connections").text
    assert "emulator-password" not in listed
    assert "emulator-secret" not in listed
    _invalid(
        web.client.put("/api/v1/connections/x/credentials", json={**body, "login_url": "ftp://x"}),
        "login_url",
    )
    _invalid(web.client.put("/api/v1/connections/x/credentials", json={"surprise": 1}), "surprise")
    _invalid(web.client.put("/api/v1/connections/x/credentials", content=b"{nope"), "not JSON")
    _invalid(web.client.put("/api/v1/connections/x/credentials", json={"login_url": login_url}), "needs")


def test_sync_all_says_nothing_is_enabled_then_counts(web: Web) -> None:
    settings = web.client.get("/api/v1/connections/sf/settings").json()
    off = {o["type"]: {"pull": False, "push": False} for o in settings["objects"]}
    assert web.client.patch("/api/v1/connections/sf/settings", json={"toggles": off}).status_code == 200
    job = wait_job(web.client, web.client.post("/api/v1/connections/sf/sync-all").json()["id"])
    assert job["status"] == "succeeded"
    assert "nothing is enabled to pull" in job["message"]
    on = {t: {"pull": True, "push": False} for t in off}
    web.client.patch("/api/v1/connections/sf/settings", json={"toggles": on})
    started = web.client.post("/api/v1/connections/sf/sync-all")
    assert started.status_code == 202
    job = wait_job(web.client, started.json()["id"])
    assert job["status"] == "succeeded", job
    counts = {o["type"]: o["counts"] for o in job["objects"]}
    assert counts["supporters"]["created"] > 0
    assert job["run_id"] is not None
    runs = web.client.get("/api/v1/connections/sf/runs").json()["runs"]
    assert runs[0]["id"] == job["run_id"]
    assert web.client.get("/api/v1/jobs/unknown").status_code == 404


def test_settings_validate_every_field(web: Web) -> None:
    url = "/api/v1/connections/sf/settings"
    saved = web.client.patch(
        url,
        json={
            "incremental_field": "SystemModstamp",
            "conflict_policy": "crm_wins",
            "filters": {"supporters": [{"field": "MailingState", "op": "=", "value": "CA"}]},
        },
    )
    assert saved.status_code == 200, saved.text
    data = web.client.get(url).json()
    assert (data["incremental_field"], data["conflict_policy"]) == ("SystemModstamp", "crm_wins")
    assert data["filters"]["supporters"][0]["field"] == "MailingState"
    _invalid(web.client.patch(url, json={"conflict_policy": "coin_toss"}), "conflict_policy")
    _invalid(web.client.patch(url, json={"incremental_field": "Now"}), "incremental_field")
    _invalid(
        web.client.patch(url, json={"filters": {"supporters": [{"field": "NoSuchField__c", "value": 1}]}}),
        "NoSuchField__c",
    )
    _invalid(web.client.patch(url, json={"filters": {"nope": []}}), "nope")
    _invalid(web.client.patch(url, json={"toggles": {"funds": {"pull": "maybe", "push": True}}}), "toggles")
    _invalid(
        web.client.patch(url, json={"filters": {"supporters": [{"field": "Email", "op": "in", "value": 1}]}})
    )


def test_logs_tabs_filters_paging_and_details(web: Web) -> None:
    _sync(web)
    first = web.client.get("/api/v1/logs", params={"tab": "pull", "limit": 5}).json()
    assert len(first["entries"]) == 5
    assert all(e["direction"] == "pull" for e in first["entries"])
    second = web.client.get(
        "/api/v1/logs", params={"tab": "pull", "limit": 5, "before": first["next_before"]}
    )
    ids = [e["id"] for e in first["entries"] + second.json()["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 10
    typed = web.client.get("/api/v1/logs", params={"type": "funds"}).json()["entries"]
    assert typed
    assert {e["data_type"] for e in typed} == {"funds"}
    assert web.client.get("/api/v1/logs", params={"tab": "push"}).json()["entries"] == []
    assert web.client.get("/api/v1/logs", params={"tab": "errors"}).json()["entries"] == []
    today = time.strftime("%Y-%m-%d", time.gmtime())
    dated = web.client.get("/api/v1/logs", params={"since": today, "until": today, "limit": 3}).json()
    assert len(dated["entries"]) == 3
    assert web.client.get("/api/v1/logs", params={"until": "2000-01-01"}).json()["entries"] == []
    assert web.client.get("/api/v1/logs", params={"since": "2999-01-01"}).json()["entries"] == []
    _invalid(web.client.get("/api/v1/logs", params={"since": "2026-02-02", "until": "2026-02-01"}), "since")
    _invalid(web.client.get("/api/v1/logs", params={"status": "lost"}), "status")
    _invalid(web.client.get("/api/v1/logs", params={"since": "yesterday"}), "since")
    _invalid(web.client.get("/api/v1/logs", params={"limit": 100000}), "limit")
    assert web.client.get("/api/v1/logs", params={"connection": "nope"}).status_code == 404
    entry = web.client.get(f"/api/v1/logs/{ids[0]}").json()
    assert entry["id"] == ids[0]
    assert "details" in entry
    assert web.client.get("/api/v1/logs/999999999").status_code == 404
    _invalid(web.client.get("/api/v1/logs/abc"), "entry_id")


def _lock(web: Web, platform_type: str = "funds", name: str = "Locked fund") -> int:
    org = web.workspace.organization_id
    with web.workspace.engine.begin() as conn:
        (record_id,) = records.insert_many(conn, org, platform_type, [{"name": name}])
        cid = tenancy.get_connection(conn, org, "sf").id  # type: ignore[union-attr]
        for _ in range(3):
            push_state.record_failure(conn, org, cid, platform_type, record_id, code="X", message="it broke")
    return int(record_id)


def test_locks_and_archive(web: Web) -> None:
    fund = _lock(web)
    (lock,) = web.client.get("/api/v1/locks").json()["locks"]
    assert (lock["key"], lock["connection"], lock["failures"]) == (f"funds:{fund}", "sf", 3)
    assert web.client.get("/api/v1/locks", params={"connection": "nope"}).status_code == 404
    _invalid(web.client.post("/api/v1/locks/archive", json={"keys": []}), "keys")
    _invalid(web.client.post("/api/v1/locks/archive", json={"keys": ["nonsense"]}), "TYPE:ID")
    assert web.client.post("/api/v1/locks/archive", json={"keys": ["funds:999999"]}).status_code == 404
    archived = web.client.post("/api/v1/locks/archive", json={"keys": [lock["key"]], "connection": "sf"})
    assert archived.json() == {"archived": 1}
    assert web.client.get("/api/v1/locks").json()["locks"] == []


def test_records_states_history_why_and_resync(web: Web) -> None:
    _sync(web)
    fund = _lock(web, name="Broken fund")
    listed = web.client.get("/api/v1/connections/sf/records/funds").json()["records"]
    states = {r["id"]: r["state"] for r in listed}
    assert states[fund] == "locked"
    assert "synced" in states.values()
    locked = web.client.get("/api/v1/connections/sf/records/funds", params={"state": "locked"}).json()
    assert [r["id"] for r in locked["records"]] == [fund]
    synced = web.client.get("/api/v1/connections/sf/records/funds", params={"state": "synced"}).json()[
        "records"
    ]
    detail = web.client.get(f"/api/v1/connections/sf/records/funds/{synced[0]['id']}").json()
    assert detail["record"]["crm_id"]
    assert detail["history"][0]["direction"] == "pull"
    assert "push toggle of funds is off" in detail["why"]["reason"]
    why = web.client.get(f"/api/v1/connections/sf/records/funds/{fund}/why").json()
    assert why["reason"].startswith(
        "It is locked after 3 failed pushes in a row; the last error was: it broke"
    )
    assert why["action"] == "resync"
    crm_why = web.client.get(
        "/api/v1/connections/sf/crm-records/funds/why", params={"crm_id": synced[0]["crm_id"]}
    ).json()
    assert "is in the platform" in crm_why["reason"]
    _invalid(web.client.get("/api/v1/connections/sf/crm-records/funds/why"), "crm_id")
    _invalid(web.client.get("/api/v1/connections/sf/records/nope"), "nope")
    _invalid(web.client.get("/api/v1/connections/sf/records/funds", params={"state": "happy"}), "state")
    assert web.client.get("/api/v1/connections/sf/records/funds/999999").status_code == 404
    web.client.patch(
        "/api/v1/connections/sf/settings", json={"toggles": {"funds": {"pull": True, "push": True}}}
    )
    pushed = web.client.post(f"/api/v1/connections/sf/records/funds/{fund}/resync").json()
    assert pushed["pushed"] == 1, pushed
    assert web.client.get("/api/v1/locks").json()["locks"] == []
    many = web.client.post(
        "/api/v1/connections/sf/records/funds/resync", json={"ids": [r["id"] for r in synced[:2]]}
    )
    assert many.json()["pushed"] == 2, many.json()
    assert (
        web.client.post("/api/v1/connections/sf/records/funds/resync", json={"ids": [999999]}).status_code
        == 404
    )
    _invalid(web.client.post("/api/v1/connections/sf/records/funds/resync", json={"ids": []}), "ids")
    _invalid(web.client.post("/api/v1/connections/sf/records/funds/resync", json={"ids": ["x"]}), "ids")


def test_org_syncs(web: Web) -> None:
    base = "/api/v1/connections/sf/org-syncs"
    added = web.client.post(base, json={"object": "contact"})
    assert added.status_code == 201
    assert added.json()["object"] == "Contact"
    _invalid(web.client.post(base, json={"object": "Contact"}), "already")
    _invalid(web.client.post(base, json={"object": "Nope__c"}), "Nope__c")
    _invalid(web.client.post(base, json={}), "object")
    changed = web.client.patch(
        f"{base}/Contact", json={"method": "poll", "interval_minutes": 5, "enabled": True}
    )
    assert changed.json()["status"] == "Active"
    _invalid(web.client.patch(f"{base}/Contact", json={"interval_minutes": 7}), "interval_minutes")
    assert web.client.patch(f"{base}/Lead", json={}).status_code == 404
    assert web.client.post(f"{base}/Contact/test").json()["ok"] is True
    assert [s["object"] for s in web.client.get(base).json()["org_syncs"]] == ["Contact"]
    assert web.client.delete(f"{base}/Contact").status_code == 200
    assert web.client.delete(f"{base}/Contact").status_code == 404


@pytest.fixture
def centre(web: Web) -> int:
    """Connection ``sf`` on the contact-centre profile, a Contact org sync and one campaign."""
    login_url = web.client.get("/api/v1/connections/sf").json()["login_url"]
    web.client.put(
        "/api/v1/connections/sf/credentials", json={"profile": "contact-center", "login_url": login_url}
    )
    web.client.post("/api/v1/connections/sf/org-syncs", json={"object": "Contact"})
    with web.workspace.engine.begin() as conn:
        (campaign,) = records.insert_many(
            conn, web.workspace.organization_id, "cc_campaigns", [{"name": "Calls"}]
        )
    return int(campaign)


def test_data_sources_and_links(web: Web, centre: int) -> None:
    base = "/api/v1/connections/sf/data-sources"
    body = {
        "name": "ca",
        "object": "Contact",
        "filters": [{"field": "MailingState", "value": "CA"}],
        "fields": ["Title"],
    }
    added = web.client.post(base, json=body)
    assert added.status_code == 201, added.text
    _invalid(web.client.post(base, json={**body, "name": "x", "fields": ["Nope__c"]}), "Nope__c")
    _invalid(web.client.post(base, json={**body, "name": "y", "object": "Lead"}), "no org sync")
    _invalid(web.client.post(base, json={**body, "name": ""}), "name")
    changed = web.client.patch(f"{base}/ca", json={"fields": ["Title", "Email"]})
    assert changed.json()["fields"] == ["Title", "Email"]
    assert web.client.patch(f"{base}/nope", json={}).status_code == 404
    assert web.client.get("/api/v1/campaigns").json()["campaigns"] == [{"id": centre, "name": "Calls"}]
    link = {"campaign_id": centre, "phone_fields": ["Phone"], "custom_fields": {"title": "Title"}}
    linked = web.client.post(f"{base}/ca/links", json=link)
    assert linked.status_code == 201
    assert linked.json()["links"][0]["campaign_name"] == "Calls"
    assert web.client.post(f"{base}/ca/links", json={**link, "campaign_id": 99999}).status_code == 404
    _invalid(web.client.post(f"{base}/ca/links", json={**link, "phone_fields": []}), "phone_fields")
    assert [d["name"] for d in web.client.get(base).json()["data_sources"]] == ["ca"]
    assert web.client.delete(f"{base}/ca/links/99999").status_code == 404
    assert web.client.delete(f"{base}/ca/links/{centre}").status_code == 200
    assert web.client.delete(f"{base}/ca").status_code == 200
    assert web.client.get(base).json()["data_sources"] == []


def test_the_openapi_document_lists_every_endpoint(web: Web) -> None:
    document = web.client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = [(m.upper(), p) for p, ops in document["paths"].items() for m in ops]
    assert len(operations) >= 30
    assert ("POST", "/api/v1/connections/{name}/sync-all") in operations
    assert web.client.get("/api/v1/nothing/here").status_code == 404
    assert web.client.delete("/api/v1/connections").status_code == 405
