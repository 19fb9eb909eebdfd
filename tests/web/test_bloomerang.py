"""A Bloomerang connection in the console: set up by API key, its card, Test, Sync All, settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_testkit import TestClient, Web, wait_job

from crmsync.emulators.bloomerang import DEFAULT_API_KEY
from crmsync.emulators.bloomerang.server import Emulator as BloomerangEmulator
from crmsync.emulators.bloomerang.server import running_emulator


@pytest.fixture(scope="module")
def bloomerang() -> Iterator[BloomerangEmulator]:
    with running_emulator(seed="bloomerang:300") as emulator:
        yield emulator


def test_set_up_by_api_key_test_and_sync_all(web: Web, bloomerang: BloomerangEmulator) -> None:
    wrong = web.client.put(
        "/api/v1/connections/donors/credentials",
        json={"crm": "bloomerang", "api_url": bloomerang.api_url, "api_key": "not-the-key"},
    )
    assert wrong.status_code == 200, wrong.text
    failed = web.client.post("/api/v1/connections/donors/test").json()
    assert failed["ok"] is False
    assert "refused the API key" in failed["message"]
    card = web.client.put(
        "/api/v1/connections/donors/credentials",
        json={"api_key": DEFAULT_API_KEY},
    ).json()
    assert card["crm"] == "bloomerang"
    assert card["profile"] == "bloomerang"
    assert card["connected"] is True
    assert "api_key" not in str(web.client.get("/api/v1/connections/donors").json())
    tested = web.client.post("/api/v1/connections/donors/test").json()
    assert tested["ok"] is True, tested
    assert tested["message"].startswith("Connection successful")
    settings = web.client.get("/api/v1/connections/donors/settings").json()
    assert settings["crm"] == "bloomerang"
    assert settings["org_syncs"] == []
    on = {o["type"]: {"pull": True, "push": False} for o in settings["objects"]}
    web.client.patch("/api/v1/connections/donors/settings", json={"toggles": on})
    job = wait_job(
        web.client, web.client.post("/api/v1/connections/donors/sync-all").json()["id"], timeout=120
    )
    assert job["status"] == "succeeded", job
    counts = {o["type"]: o["counts"] for o in job["objects"]}
    assert counts["supporters"]["created"] > 0
    assert counts["transactions"]["created"] > 0
    assert counts["fund_allocations"]["created"] >= counts["transactions"]["created"]


def test_the_card_and_screens_fit_a_bloomerang_connection(
    web: Web, bloomerang: BloomerangEmulator, browser_client: tuple[TestClient, str]
) -> None:
    client, csrf = browser_client
    form = client.get("/integrations/donors/set-up?crm=bloomerang")
    assert "API key" in form.text
    assert "Login URL" not in form.text
    saved = client.post(
        "/integrations/donors/set-up?crm=bloomerang",
        data={"csrf_token": csrf, "api_url": bloomerang.api_url, "api_key": DEFAULT_API_KEY},
    )
    assert "credentials saved" in saved.text
    page = client.get("/integrations").text
    donors = page[page.index("donors") :]
    assert "Bloomerang" in donors
    assert 'Reset token<span class="visually-hidden"> donors' not in page
    assert "/integrations/donors/org-syncs" not in page
    settings = client.get("/integrations/donors/settings").text
    assert "no change feed" in settings
    assert "Incremental pulls compare" not in settings
    bad = client.post(
        "/integrations/donors/set-up",
        data={"csrf_token": csrf, "api_url": "ftp://x", "api_key": DEFAULT_API_KEY},
    )
    assert "https://" in bad.text
