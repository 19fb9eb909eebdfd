"""The Streaming API endpoint (``/cometd/61.0``): Bayeux handshake, subscribe with the replay
extension, long polls, channels, unknown clients, authentication, faults and limits."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sf_emulator_testkit import API_VERSION, Bayeux, Control, headers, password_token

from crmsync.emulators.salesforce.server import Emulator

CONTACTS = "/data/ContactChangeEvent"
INVALID_REPLAY = (
    "400::The replayId {%s} you provided was invalid.  Please provide a valid ID, "
    "-2 to replay all events, or -1 to replay only new events."
)


def new_contacts(api: httpx.Client, *names: str) -> list[str]:
    ids = []
    for name in names:
        response = api.post("/sobjects/Contact", json={"LastName": name})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_handshake_subscribe_connect_shapes(emulator: Emulator, cdc: object, token: str) -> None:
    with Bayeux(emulator.base_url, token) as client:
        reply = client.handshake()
        assert reply == {
            "ext": {"replay": True, "payload.format": True},
            "minimumVersion": "1.0",
            "clientId": client.client_id,
            "supportedConnectionTypes": ["long-polling"],
            "channel": "/meta/handshake",
            "id": "1",
            "version": "1.0",
            "successful": True,
        }
        assert len(reply["clientId"]) == 27
        assert client.http.cookies.get("BAYEUX_BROWSER")
        assert client.subscribe(CONTACTS, -1) == {
            "clientId": client.client_id,
            "channel": "/meta/subscribe",
            "id": "2",
            "subscription": CONTACTS,
            "successful": True,
        }
        started = time.monotonic()
        events, first = client.connect()
        assert time.monotonic() - started >= 0.15  # nothing to deliver: waited the advice timeout
        assert events == []
        assert first == {
            "clientId": client.client_id,
            "advice": {"interval": 0, "timeout": 200, "reconnect": "retry"},
            "channel": "/meta/connect",
            "id": "3",
            "successful": True,
        }
        _, second = client.connect(timeout_ms=0)
        assert "advice" not in second
        assert second["successful"]
        (unsubscribed,) = client.exchange(client.message("/meta/unsubscribe", subscription=CONTACTS))
        assert unsubscribed["successful"]
        assert unsubscribed["subscription"] == CONTACTS
        assert client.disconnect() == {
            "clientId": client.client_id,
            "channel": "/meta/disconnect",
            "id": "6",
            "successful": True,
        }
        _, gone = client.connect()
        assert gone["error"] == "403::Unknown client"


def test_replay_new_all_and_from_a_stored_id(
    stream: Bayeux, api: httpx.Client, emulator: Emulator, token: str
) -> None:
    assert stream.subscribe(CONTACTS)["successful"]  # no replay option: new events only
    first, second, third = new_contacts(api, "A", "B", "C")
    events = stream.receive(3)
    assert [h["recordIds"] for h in headers(events)] == [[first], [second], [third]]
    stored = events[0]["data"]["event"]["replayId"]

    with Bayeux(emulator.base_url, token) as everything:
        everything.handshake()
        everything.subscribe(CONTACTS, -2)
        assert [h["recordIds"][0] for h in headers(everything.receive(3))] == [first, second, third]
    with Bayeux(emulator.base_url, token) as resumed:
        resumed.handshake()
        resumed.subscribe(CONTACTS, stored)
        assert [h["recordIds"][0] for h in headers(resumed.receive(2))] == [second, third]
    with Bayeux(emulator.base_url, token) as tip:
        tip.handshake()
        tip.subscribe(CONTACTS, -1)
        assert tip.connect()[0] == []
        (fourth,) = new_contacts(api, "D")
        assert [h["recordIds"][0] for h in headers(tip.receive(1))] == [fourth]
    # Salesforce's own replay extension can also send the map once, in the handshake.
    with Bayeux(emulator.base_url, token) as from_handshake:
        from_handshake.handshake({"replay": {CONTACTS: stored}})
        from_handshake.subscribe(CONTACTS)
        assert len(from_handshake.receive(3)) == 3


def test_invalid_replay_ids(stream: Bayeux, api: httpx.Client) -> None:
    new_contacts(api, "A")
    for replay in (99, -3):
        refused = stream.subscribe(CONTACTS, replay)
        assert refused["successful"] is False
        assert refused["error"] == INVALID_REPLAY % replay
        assert refused["subscription"] == CONTACTS


def test_channels(stream: Bayeux, api: httpx.Client, control: Control) -> None:
    assert stream.subscribe("/data/ChangeEvents", -1)["successful"]
    assert stream.subscribe("/data/contactChangeEvent")["error"] == (
        "400::The channel you requested to subscribe to does not exist {/data/contactChangeEvent}"
    )
    assert stream.subscribe("/data/LeadChangeEvent")["error"].endswith(
        "does not exist {/data/LeadChangeEvent}"
    )
    assert (
        stream.subscribe("data/ChangeEvents")["error"]
        == "400::Channel subscriptions must start with a leading '/'"
    )
    control.post("/cdc", {"objects": ["npe03__Recurring_Donation__c"]})
    custom = "/data/npe03__Recurring_Donation__ChangeEvent"
    assert stream.subscribe(custom, -1)["successful"]
    assert custom in control.get("/cdc")["channels"]
    account = api.post("/sobjects/Account", json={"Name": "Acme"}).json()["id"]
    new_contacts(api, "Doe")
    events = stream.receive(2)
    assert [(e["channel"], e["data"]["payload"]["ChangeEventHeader"]["entityName"]) for e in events] == [
        ("/data/ChangeEvents", "Account"),
        ("/data/ChangeEvents", "Contact"),
    ]
    assert events[0]["data"]["payload"]["ChangeEventHeader"]["recordIds"] == [account]
    (published,) = stream.exchange(stream.message("/data/ContactChangeEvent", data={"x": 1}))
    assert published["successful"] is False


def test_long_poll_returns_as_soon_as_a_change_commits(
    stream: Bayeux, api: httpx.Client, control: Control
) -> None:
    control.post("/cdc", {"timeout_ms": 10_000})
    stream.subscribe(CONTACTS, -1)
    writer = threading.Timer(0.3, new_contacts, args=(api, "Late"))
    writer.start()
    started = time.monotonic()
    events, reply = stream.connect()
    writer.join()
    assert reply["successful"]
    assert len(events) == 1
    assert 0.25 <= time.monotonic() - started < 5
    assert reply["advice"]["timeout"] == 10_000


def test_unknown_client_is_told_to_handshake_again(
    stream: Bayeux, control: Control, api: httpx.Client
) -> None:
    stream.subscribe(CONTACTS, -1)
    (unknown,) = stream.exchange({"channel": "/meta/connect", "clientId": "nobody", "id": "9"})
    assert unknown == {
        "advice": {"interval": 0, "reconnect": "handshake"},
        "channel": "/meta/connect",
        "id": "9",
        "error": "403::Unknown client",
        "successful": False,
    }
    assert control.call("DELETE", "/cdc/clients") == {"dropped": 1}
    _, dropped = stream.connect()
    assert dropped["error"] == "403::Unknown client"
    assert dropped["advice"]["reconnect"] == "handshake"
    # A client that stays away longer than the reconnect timeout (org time) is forgotten too.
    stream.handshake()
    control.post("/clock", {"advance_seconds": 41})
    assert stream.subscribe(CONTACTS)["error"] == "403::Unknown client"
    # Handshake again and resubscribe from the last event received: nothing is lost.
    stream.handshake()
    stream.subscribe(CONTACTS, -1)
    before = stream.connect(timeout_ms=0)[1]["successful"]
    new_contacts(api, "After")
    assert before
    assert len(stream.receive(1)) == 1


def test_the_browser_cookie_must_come_back(stream: Bayeux, emulator: Emulator, token: str) -> None:
    with httpx.Client(base_url=emulator.base_url, headers={"Authorization": f"Bearer {token}"}) as bare:
        message = {"channel": "/meta/connect", "clientId": stream.client_id, "connectionType": "long-polling"}
        (reply,) = bare.post(f"/cometd/{API_VERSION}", json=[message]).json()
    assert reply["error"] == (
        f"400::Client {stream.client_id} has established a session, but no BAYEUX_BROWSER cookie present"
    )


def test_authentication(emulator: Emulator, cdc: object, control: Control) -> None:
    url = f"{emulator.base_url}/cometd/{API_VERSION}"
    handshake = {
        "channel": "/meta/handshake",
        "id": "1",
        "version": "1.0",
        "supportedConnectionTypes": ["long-polling"],
    }
    missing = httpx.post(url, json=[handshake])
    assert missing.status_code == 401
    assert missing.json() == [{"error": "401::Request requires authentication", "successful": False}]
    wrong = httpx.post(url, json=[handshake], headers={"Authorization": "Bearer not-a-session"})
    assert wrong.status_code == 200
    assert wrong.json() == [
        {
            "ext": {
                "sfdc": {"failureReason": "401::Authentication invalid"},
                "replay": True,
                "payload.format": True,
            },
            "advice": {"reconnect": "none"},
            "channel": "/meta/handshake",
            "id": "1",
            "error": "403::Handshake denied",
            "successful": False,
        }
    ]
    token = password_token(emulator.base_url)["access_token"]
    with Bayeux(emulator.base_url, token) as client:
        client.handshake()
        control.post("/auth/expire-sessions")
        _, reply = client.connect()
        assert reply == {
            "clientId": client.client_id,
            "channel": "/meta/connect",
            "id": "2",
            "error": "401::Authentication invalid",
            "successful": False,
            "advice": {"reconnect": "none", "interval": 0},
        }
    # "OAuth <token>" works as for REST.
    fresh = password_token(emulator.base_url)["access_token"]
    oauth = httpx.post(url, json=[handshake], headers={"Authorization": f"OAuth {fresh}"})
    assert oauth.json()[0]["successful"] is True


def test_versions(emulator: Emulator, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    handshake = [
        {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    ]
    old = httpx.post(f"{emulator.base_url}/cometd/20.0", json=handshake, headers=auth)
    assert old.status_code == 400
    assert old.json()[0]["error"].startswith("400::Unsupported API version.")
    assert httpx.post(f"{emulator.base_url}/cometd/59.0", json=handshake, headers=auth).json()[0][
        "successful"
    ]
    assert httpx.get(f"{emulator.base_url}/cometd/{API_VERSION}", headers=auth).status_code in (404, 405)


def test_faults_apply_to_the_streaming_endpoint(stream: Bayeux, api: httpx.Client, control: Control) -> None:
    stream.subscribe(CONTACTS, -1)
    new_contacts(api, "Doe")
    control.post("/faults", {"kind": "drop_connection", "path_prefix": "/cometd"}, expect=201)
    with pytest.raises(httpx.TransportError):
        stream.connect()
    # Nothing was carried out: the same client gets the event on its next connect.
    assert len(stream.receive(1)) == 1

    control.post(
        "/faults", {"kind": "status", "path_prefix": "/cometd", "status": 503, "retry_after": 7}, expect=201
    )
    busy = stream.send(stream.message("/meta/connect", connectionType="long-polling"))
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "7"

    # The answer is lost after the events left: resubscribing from the stored replay id brings them back.
    (later,) = new_contacts(api, "Later")
    control.post("/faults", {"kind": "drop_after_write", "path_prefix": "/cometd"}, expect=201)
    with pytest.raises(httpx.TransportError):
        stream.connect()
    assert stream.connect()[0] == []
    stream.handshake()
    stream.subscribe(CONTACTS, stream.replay[CONTACTS])
    assert [h["recordIds"] for h in headers(stream.receive(1))] == [[later]]


def test_deliveries_count_against_streaming_events_not_api_requests(
    stream: Bayeux, api: httpx.Client, control: Control
) -> None:
    stream.subscribe(CONTACTS, -1)
    new_contacts(api, "A", "B")
    calls = control.get("/stats")["api_calls"]["total"]
    assert len(stream.receive(2)) == 2
    stream.connect(timeout_ms=0)
    assert control.get("/stats")["api_calls"]["total"] == calls  # handshakes and connects are free
    limits = api.get("/limits").json()
    assert limits["DailyDurableStreamingApiEvents"] == {"Max": 10_000, "Remaining": 9_998}
    assert control.get("/limits")["streaming_events"] == {"used": 2, "max": 10_000}

    control.post("/limits", {"daily_streaming_events": 3})
    new_contacts(api, "C", "D")
    assert len(stream.receive(1)) == 1  # one left in the allocation
    _, spent = stream.connect()
    assert spent["error"] == "403::Organization total events daily limit exceeded"
    assert (
        stream.subscribe("/data/ChangeEvents")["error"]
        == "403::Organization total events daily limit exceeded"
    )
