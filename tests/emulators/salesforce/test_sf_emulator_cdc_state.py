"""Change events across a restart with a state file, the 72-hour retention window, and reset."""

from __future__ import annotations

from pathlib import Path

import httpx
from sf_emulator_testkit import API_VERSION, Bayeux, Control, headers, password_token

from crmsync.emulators.salesforce.server import Emulator, running_emulator

CONTACTS = "/data/ContactChangeEvent"


def write_contact(base_url: str, token: str, name: str) -> str:
    response = httpx.post(
        f"{base_url}/services/data/v{API_VERSION}/sobjects/Contact",
        json={"LastName": name},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    record_id: str = response.json()["id"]
    return record_id


def test_a_subscriber_resumes_after_a_restart_with_its_stored_replay_id(tmp_path: Path) -> None:
    state = tmp_path / "org.sqlite"
    with running_emulator(state=state) as emulator:
        control = Control(emulator.base_url)
        control.post("/cdc", {"objects": ["Contact"], "timeout_ms": 200})
        token = password_token(emulator.base_url)["access_token"]
        with Bayeux(emulator.base_url, token) as client:
            client.handshake()
            client.subscribe(CONTACTS, -1)
            first = write_contact(emulator.base_url, token, "Before")
            client.receive(1)
            stored = client.replay[CONTACTS]
        missed = write_contact(emulator.base_url, token, "Missed")  # while the subscriber was away
        control.http.close()

    with running_emulator(state=state) as restarted:
        control = Control(restarted.base_url)
        status = control.get("/cdc")
        assert status["enabled"] == ["Contact"]
        assert status["events"] == 2
        assert status["settings"]["timeout_ms"] == 200
        token = password_token(restarted.base_url)["access_token"]
        with Bayeux(restarted.base_url, token) as client:
            client.handshake()
            assert client.subscribe(CONTACTS, stored)["successful"]
            assert [h["recordIds"] for h in headers(client.receive(1))] == [[missed]]
            later = write_contact(restarted.base_url, token, "After")
            (event,) = client.receive(1)
            assert event["data"]["payload"]["ChangeEventHeader"]["recordIds"] == [later]
            assert event["data"]["event"]["replayId"] > stored + 1  # replay ids are never reused
        with Bayeux(restarted.base_url, token) as everything:
            everything.handshake()
            everything.subscribe(CONTACTS, -2)
            assert [h["recordIds"][0] for h in headers(everything.receive(3))] == [first, missed, later]
        control.http.close()


def test_events_expire_after_72_hours_of_org_time(emulator: Emulator, cdc: object, control: Control) -> None:
    base_url = emulator.base_url
    token = password_token(base_url)["access_token"]
    write_contact(base_url, token, "Old")
    with Bayeux(base_url, token) as client:
        client.handshake()
        client.subscribe(CONTACTS, -2)
        (old,) = client.receive(1)
    stored = old["data"]["event"]["replayId"]

    control.post("/clock", {"advance_seconds": 71 * 3600})
    token = password_token(base_url)["access_token"]  # sessions expire by the org clock too
    with Bayeux(base_url, token) as client:
        client.handshake()
        assert client.subscribe(CONTACTS, stored - 1)["successful"]  # still retained
    control.post("/clock", {"advance_seconds": 2 * 3600})
    assert control.get("/cdc")["events"] == 0
    token = password_token(base_url)["access_token"]
    with Bayeux(base_url, token) as client:
        client.handshake()
        refused = client.subscribe(CONTACTS, stored - 1)
        assert refused["error"] == (
            f"400::The replayId {{{stored - 1}}} you provided was invalid.  Please provide a valid ID, "
            "-2 to replay all events, or -1 to replay only new events."
        )
        # Resuming after the last event received is fine: nothing after it was lost.
        assert client.subscribe(CONTACTS, stored)["successful"]
        assert client.subscribe(CONTACTS, -2)["successful"]
        assert client.connect()[0] == []


def test_reset_turns_change_data_capture_off(
    emulator: Emulator, cdc: object, control: Control, token: str
) -> None:
    write_contact(emulator.base_url, token, "Doe")
    last = control.get("/cdc")["last_replay_id"]
    control.post("/reset")
    status = control.get("/cdc")
    assert status["enabled"] == []
    assert status["events"] == 0
    assert status["clients"] == 0
    assert status["last_replay_id"] == last  # replay ids go on from where they were
    assert status["settings"]["timeout_ms"] == 110_000
