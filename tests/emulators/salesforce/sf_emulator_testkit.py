"""Helpers shared by the Salesforce emulator's tests (imported by conftest and test modules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import httpx
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

API_VERSION = "61.0"
V = f"v{API_VERSION}"
BASE = f"/services/data/{V}"


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


# One refused write as each write path reports it: (error code, message, fields, other keys).
Written = tuple[str, str, list[str], dict[str, Any]]
Writer = Callable[[Salesforce, str, dict[str, Any]], Written | None]


def from_array(body: list[dict[str, Any]]) -> Written:
    """The first error of an error array (``errorCode``)."""
    error = dict(body[0])
    return error.pop("errorCode"), error.pop("message"), error.pop("fields", []), error


def from_record(result: dict[str, Any]) -> Written:
    """The first error of a failed sObject Collections result (``statusCode``)."""
    assert result["success"] is False
    error = dict(result["errors"][0])
    return error.pop("statusCode"), error.pop("message"), error.pop("fields"), error


def _platform_id() -> str:
    return f"new-{uuid4().hex[:12]}"


def via_rest(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through ``POST /sobjects/{Obj}``."""
    try:
        getattr(sf, object_name).create(fields)
    except SalesforceMalformedRequest as error:
        return from_array(error.content)
    return None


def via_upsert(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through ``PATCH /sobjects/{Obj}/Platform_Id__c/{new value}``."""
    try:
        getattr(sf, object_name).upsert(f"Platform_Id__c/{_platform_id()}", fields)
    except SalesforceMalformedRequest as error:
        return from_array(error.content)
    return None


def via_collection(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through sObject Collections."""
    record = {"attributes": {"type": object_name}, **fields}
    result = sf.restful("composite/sobjects", method="POST", json={"records": [record]})[0]
    return None if result["success"] else from_record(result)


def via_collection_upsert(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through an sObject Collections upsert by Platform_Id__c."""
    record = {"attributes": {"type": object_name}, "Platform_Id__c": _platform_id(), **fields}
    path = f"composite/sobjects/{object_name}/Platform_Id__c"
    result = sf.restful(path, method="PATCH", json={"records": [record]})[0]
    return None if result["success"] else from_record(result)


def via_composite(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through a subrequest of ``/composite``."""
    request = {"method": "POST", "url": f"{BASE}/sobjects/{object_name}", "referenceId": "c", "body": fields}
    answer = sf.restful("composite", method="POST", json={"compositeRequest": [request]})
    entry = answer["compositeResponse"][0]
    return None if entry["httpStatusCode"] == 201 else from_array(entry["body"])


def via_batch(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through a subrequest of ``/composite/batch``."""
    request = {"method": "POST", "url": f"{V}/sobjects/{object_name}", "richInput": fields}
    result = sf.restful("composite/batch", method="POST", json={"batchRequests": [request]})["results"][0]
    return None if result["statusCode"] == 201 else from_array(result["result"])


def via_graph(sf: Salesforce, object_name: str, fields: dict[str, Any]) -> Written | None:
    """Create through a node of ``/composite/graph``."""
    request = {"method": "POST", "url": f"{BASE}/sobjects/{object_name}", "referenceId": "c", "body": fields}
    graph = {"graphId": "g", "compositeRequest": [request]}
    answer = sf.restful("composite/graph", method="POST", json={"graphs": [graph]})["graphs"][0]
    entry = answer["graphResponse"]["compositeResponse"][0]
    return None if answer["isSuccessful"] else from_array(entry["body"])


# Every way an API client creates one record.
CREATE_PATHS: list[Writer] = [
    via_rest,
    via_upsert,
    via_collection,
    via_collection_upsert,
    via_composite,
    via_batch,
    via_graph,
]
