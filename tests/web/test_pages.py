"""The admin pages render for a signed-in administrator, and their forms do what they say."""

from __future__ import annotations

from web_testkit import FAST, TestClient, Web

from crmsync.engine.commands import run_sync_all
from crmsync.store import records


def test_every_screen_renders(web: Web, browser_client: tuple[TestClient, str]) -> None:
    client, _ = browser_client
    run_sync_all(web.workspace, "sf", retry=FAST)
    entry = web.client.get("/api/v1/logs", params={"limit": 1}).json()["entries"][0]
    supporter = web.client.get("/api/v1/connections/sf/records/supporters").json()["records"][0]
    screens = {
        "/integrations": "Sync All",
        "/integrations/sf/settings": "nothing moves that is not toggled on",
        "/logs?tab=pull": "Pull",
        "/logs?tab=push": "No log entries match",
        "/logs?tab=errors": "Errors",
        f"/logs/{entry['id']}": "Details: request, response and error",
        "/locks": "No locked records",
        "/archived": "No archived records",
        "/integrations/sf/records/supporters": supporter["label"],
        f"/integrations/sf/records/supporters/{supporter['id']}": "Why didn't this sync?",
        "/integrations/sf/org-syncs": "Add an org sync",
        "/integrations/sf/why": "Explain",
        "/integrations/sf/set-up": "Save credentials",
    }
    for path, text in screens.items():
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert text in answer.text, path
        assert answer.headers["cache-control"] == "no-store"
    assert client.get("/integrations/nope/settings").status_code == 404
    assert client.get("/logs/abc").status_code == 404
    assert client.get("/logs?status=lost").status_code == 422
    assert client.get("/integrations/sf/records/nope").status_code == 422
    assert client.get("/static/app.js").status_code == 200


def test_forms_save_settings_and_org_syncs(web: Web, browser_client: tuple[TestClient, str]) -> None:
    client, csrf = browser_client
    saved = client.post(
        "/integrations/sf/settings",
        data={
            "csrf_token": csrf,
            "pull": ["funds", "supporters"],
            "push": ["supporters"],
            "incremental_field": "SystemModstamp",
            "conflict_policy": "crm_wins",
            "filter_supporters": "MailingState = CA\nEmail != null",
        },
    )
    assert "Settings saved" in saved.text
    data = web.client.get("/api/v1/connections/sf/settings").json()
    toggles = {o["type"]: (o["pull"], o["push"]) for o in data["objects"]}
    assert toggles["funds"] == (True, False)
    assert toggles["supporters"] == (True, True)
    assert toggles["households"] == (False, False)
    assert [c["field"] for c in data["filters"]["supporters"]] == ["MailingState", "Email"]
    assert "MailingState = CA" in saved.text
    bad = client.post("/integrations/sf/settings", data={"csrf_token": csrf, "filter_funds": "Nope__c = 1"})
    assert "Nope__c" in bad.text
    assert 'role="alert"' in bad.text
    added = client.post("/integrations/sf/org-syncs", data={"csrf_token": csrf, "object": "Contact"})
    assert "Added the Contact sync" in added.text
    assert "CDC needs Change Data Capture enabled for Contact" in added.text
    saved = client.post(
        "/integrations/sf/org-syncs/Contact/save",
        data={"csrf_token": csrf, "method": "poll", "interval_minutes": "5", "enabled": "on"},
    )
    assert "Saved the Contact sync" in saved.text
    assert (
        "Connection successful"
        in client.post("/integrations/sf/org-syncs/Contact/test", data={"csrf_token": csrf}).text
    )
    question = client.post("/integrations/sf/org-syncs/Contact/remove", data={"csrf_token": csrf})
    assert (
        "Remove Contact sync? This will also remove any data sources linked to this object." in question.text
    )
    removed = client.post(
        "/integrations/sf/org-syncs/Contact/remove", data={"csrf_token": csrf, "confirmed": "yes"}
    )
    assert "Removed the Contact sync" in removed.text


def test_data_source_forms(web: Web, browser_client: tuple[TestClient, str]) -> None:
    client, csrf = browser_client
    login_url = web.client.get("/api/v1/connections/sf").json()["login_url"]
    web.client.put(
        "/api/v1/connections/sf/credentials", json={"profile": "contact-center", "login_url": login_url}
    )
    with web.workspace.engine.begin() as conn:
        (campaign,) = records.insert_many(
            conn, web.workspace.organization_id, "cc_campaigns", [{"name": "Calls"}]
        )
    client.post("/integrations/sf/org-syncs", data={"csrf_token": csrf, "object": "Contact"})
    added = client.post(
        "/integrations/sf/data-sources",
        data={
            "csrf_token": csrf,
            "name": "ca",
            "object": "Contact",
            "filters": "MailingState = CA",
            "fields": "Title",
        },
    )
    assert "Added data source ca" in added.text
    linked = client.post(
        "/integrations/sf/data-sources/ca/link",
        data={
            "csrf_token": csrf,
            "campaign_id": str(campaign),
            "phone_fields": "Phone, MobilePhone",
            "custom_fields": "title=Title",
        },
    )
    assert "ca now feeds campaign" in linked.text
    assert "title=Title" in linked.text
    bad = client.post("/integrations/sf/data-sources/ca/link", data={"csrf_token": csrf, "campaign_id": "x"})
    assert "choose a campaign" in bad.text
    assert (
        "Saved data source ca"
        in client.post(
            "/integrations/sf/data-sources/ca/save",
            data={"csrf_token": csrf, "filters": "", "fields": "Title, Email"},
        ).text
    )
    assert (
        "no longer feeds"
        in client.post(
            "/integrations/sf/data-sources/ca/unlink", data={"csrf_token": csrf, "campaign_id": str(campaign)}
        ).text
    )
    assert (
        "Removed data source ca"
        in client.post("/integrations/sf/data-sources/ca/remove", data={"csrf_token": csrf}).text
    )
