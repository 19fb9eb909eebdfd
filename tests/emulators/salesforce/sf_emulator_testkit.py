"""Helpers shared by the Salesforce emulator's tests (imported by conftest and test modules)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from requests.adapters import HTTPAdapter

from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

API_VERSION = "61.0"


class ToEmulator(HTTPAdapter):
    """Sends every https:// request simple-salesforce builds to the emulator over plain HTTP."""

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        parts = urlsplit(request.url)
        request.url = urlunsplit(("http", self.host, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


class Control:
    """The emulator's control API, failing loudly on an unexpected status."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/__emulator__", timeout=60)

    def call(self, method: str, path: str, body: Any = None, expect: int | None = 200) -> Any:
        response = self.http.request(method, path, json=body)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response.json()

    def post(self, path: str, body: Any = None, expect: int | None = 200) -> Any:
        return self.call("POST", path, body if body is not None else {}, expect)

    def get(self, path: str, expect: int | None = 200) -> Any:
        return self.call("GET", path, None, expect)

    def seed(self, records: int, seed: int = 1) -> dict[str, int]:
        return self.post("/seed", {"preset": "npsp", "records": records, "seed": seed})["records"]


def password_token(base_url: str) -> dict[str, Any]:
    """A token response of the password grant, fetched directly."""
    response = httpx.post(
        f"{base_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class Bayeux:
    """A small Bayeux (CometD long-polling) client of the Streaming API, as Salesforce's own
    clients drive it: handshake with the replay extension, subscribe, connect in a loop."""

    def __init__(self, base_url: str, token: str | None, version: str = API_VERSION) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.url = f"/cometd/{version}"
        self.client_id: str | None = None
        self.replay: dict[str, int] = {}  # channel -> last replay id received
        self._next_id = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Bayeux:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def message(self, channel: str, **fields: Any) -> dict[str, Any]:
        self._next_id += 1
        body: dict[str, Any] = {"channel": channel, "id": str(self._next_id)}
        if self.client_id is not None and channel != "/meta/handshake":
            body["clientId"] = self.client_id
        return body | fields

    def send(self, *messages: dict[str, Any], path: str = "") -> httpx.Response:
        return self.http.post(self.url + path, json=list(messages))

    def exchange(self, *messages: dict[str, Any], path: str = "") -> list[dict[str, Any]]:
        response = self.send(*messages, path=path)
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies

    def handshake(self, ext: dict[str, Any] | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "ext": ext if ext is not None else {"replay": True},
        }
        (reply,) = self.exchange(self.message("/meta/handshake", **fields), path="/handshake")
        if reply["successful"]:
            self.client_id = reply["clientId"]
        return reply

    def subscribe(self, channel: str, replay: int | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"subscription": channel}
        if replay is not None:
            fields["ext"] = {"replay": {channel: replay}}
        (reply,) = self.exchange(self.message("/meta/subscribe", **fields))
        return reply

    def connect(self, timeout_ms: int | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One long poll: (the event messages it brought, the connect reply)."""
        fields: dict[str, Any] = {"connectionType": "long-polling"}
        if timeout_ms is not None:
            fields["advice"] = {"timeout": timeout_ms}
        replies = self.exchange(self.message("/meta/connect", **fields), path="/connect")
        *events, reply = replies
        for event in events:
            self.replay[event["channel"]] = event["data"]["event"]["replayId"]
        return events, reply

    def receive(self, count: int, polls: int = 20) -> list[dict[str, Any]]:
        """Connect until ``count`` events arrived (or ``polls`` connects went by)."""
        received: list[dict[str, Any]] = []
        for _ in range(polls):
            events, reply = self.connect()
            assert reply["successful"], reply
            received.extend(events)
            if len(received) >= count:
                break
        return received

    def disconnect(self) -> dict[str, Any]:
        (reply,) = self.exchange(self.message("/meta/disconnect"))
        return reply


def payloads(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads (header and fields) of delivered event messages."""
    return [event["data"]["payload"] for event in events]


def headers(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ChangeEventHeaders of delivered event messages."""
    return [payload["ChangeEventHeader"] for payload in payloads(events)]
