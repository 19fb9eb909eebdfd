"""Change Data Capture through Salesforce's Streaming API (Bayeux/CometD long polling).

We use CometD rather than the Pub/Sub gRPC API: events are JSON (no Avro schemas to
fetch), and the client is plain HTTP on the connection's own token. Replay ids make it
resumable: subscribe with the last id applied and nothing retained in the 72-hour window is
missed.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.errors import AuthError, ProtocolError, ReplayLostError, TransientError, UnreachableError

NEW_EVENTS = -1
ALL_EVENTS = -2


@dataclass(frozen=True)
class ChangeEvent:
    """One change event, its header unpacked."""

    channel: str
    replay_id: int
    entity: str
    change_type: str
    record_ids: tuple[str, ...]
    changed_fields: tuple[str, ...]
    change_origin: str
    transaction_key: str
    sequence_number: int
    commit_timestamp: int
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def is_gap(self) -> bool:
        """A gap or overflow event: the header says what changed, not how."""
        return self.change_type.startswith("GAP_")


def channel_for(object_name: str) -> str:
    """The change event channel of an object: Contact -> /data/ContactChangeEvent."""
    if object_name.endswith("__c"):
        return f"/data/{object_name[:-3]}__ChangeEvent"
    return f"/data/{object_name}ChangeEvent"


class StreamingSession:
    """One Bayeux client: handshake, subscriptions with replay ids, long polls."""

    def __init__(
        self, client: SalesforceClient, *, poll_timeout: float = 120.0, wait: float | None = None
    ) -> None:
        """``wait``: how long one long poll may wait for events, asked of the server in each
        connect's advice (CometD honours a client's timeout advice); None: the server's own
        (110 s on Salesforce). ``poll_timeout`` must exceed it."""
        self._client = client
        self._wait = wait
        self._http = httpx.Client(
            timeout=httpx.Timeout(poll_timeout, connect=15.0), transport=client.transport
        )
        self._ids = itertools.count(1)
        self._client_id: str | None = None
        self.replay: dict[str, int] = {}

    def close(self) -> None:
        """Say goodbye (best effort) and close the HTTP client."""
        if self._client_id is not None:
            # Best effort: the server forgets idle clients anyway.
            with contextlib.suppress(TransientError, AuthError, ProtocolError):
                self._send([{"channel": "/meta/disconnect"}])
        self._http.close()

    def subscribe(self, replay: Mapping[str, int]) -> None:
        """Handshake and subscribe to each channel from its replay id (-1 new, -2 all retained)."""
        self.replay = dict(replay)
        self._handshake()

    def poll(self) -> list[ChangeEvent]:
        """One long poll; returns the events it brought (possibly none)."""
        if self._client_id is None:
            self._handshake()
        connect: dict[str, Any] = {"channel": "/meta/connect", "connectionType": "long-polling"}
        if self._wait is not None:
            connect["advice"] = {"timeout": int(self._wait * 1000)}
        replies = self._send([connect])
        events: list[ChangeEvent] = []
        for reply in replies:
            channel = str(reply.get("channel", ""))
            if channel == "/meta/connect":
                if not reply.get("successful", False):
                    self._failed(reply)
                continue
            if "data" in reply:
                event = _event(channel, reply["data"])
                self.replay[channel] = event.replay_id
                events.append(event)
        return events

    def _handshake(self) -> None:
        message = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "ext": {"replay": True},
        }
        self._client_id = None
        (reply, *_) = self._send([message])
        if not reply.get("successful", False):
            self._failed(reply)
        self._client_id = str(reply["clientId"])
        for channel, replay_id in self.replay.items():
            (answer, *_) = self._send(
                [
                    {
                        "channel": "/meta/subscribe",
                        "subscription": channel,
                        "ext": {"replay": {channel: replay_id}},
                    }
                ]
            )
            if not answer.get("successful", False):
                self._failed(answer)

    def _send(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for message in messages:
            message["id"] = str(next(self._ids))
            if self._client_id is not None and message["channel"] != "/meta/handshake":
                message["clientId"] = self._client_id
        refreshed = False
        while True:
            token = self._client.token()
            url = f"{token.instance_url}/cometd/{self._client.api_version}"
            try:
                response = self._http.post(
                    url, json=messages, headers={"Authorization": f"Bearer {token.access_token}"}
                )
            except httpx.ConnectError as exc:
                raise UnreachableError(f"cannot reach the Streaming API at {url} ({exc})") from None
            except httpx.TransportError as exc:
                raise TransientError(f"the Streaming API connection dropped ({type(exc).__name__})") from None
            if response.status_code == 401 and not refreshed:
                self._client.refresh(token)
                refreshed = True
                continue
            if response.status_code >= 500:
                raise TransientError(f"the Streaming API answered HTTP {response.status_code}")
            if response.status_code != 200:
                raise AuthError(f"the Streaming API refused the connection: HTTP {response.status_code}")
            try:
                replies = response.json()
            except ValueError:
                raise TransientError("the Streaming API answered with a body that is not JSON") from None
            if not isinstance(replies, list) or not replies:
                raise ProtocolError("the Streaming API answered without Bayeux messages")
            if not refreshed and any(_auth_failure(r) for r in replies):
                self._client.refresh(token)
                refreshed = True
                self._client_id = None
                if messages[0]["channel"] != "/meta/handshake":
                    self._handshake()
                    for message in messages:
                        message["clientId"] = self._client_id
                continue
            return [r for r in replies if isinstance(r, dict)]

    def _failed(self, reply: Mapping[str, Any]) -> None:
        error = str(reply.get("error", "unknown error"))
        advice = reply.get("advice") or {}
        if "replayId" in error and "invalid" in error:
            raise ReplayLostError(
                f"the stored replay id is no longer retained by Salesforce ({error}); resyncing"
            )
        if error.startswith("403::Unknown client") or advice.get("reconnect") == "handshake":
            self._client_id = None
            raise TransientError(f"the Streaming API forgot this client ({error}); subscribing again")
        if error.startswith("401"):
            raise AuthError(f"the Streaming API refused the session ({error}); check the credentials")
        if "does not exist" in error:
            raise ProtocolError(
                f"Salesforce has no such change event channel ({error}); enable Change Data Capture for "
                "the object in Setup (Integrations > Change Data Capture)"
            )
        raise TransientError(f"the Streaming API failed: {error}")


def _auth_failure(reply: Mapping[str, Any]) -> bool:
    return str(reply.get("error", "")).startswith("401::") and reply.get("channel", "").startswith("/meta/")


def _event(channel: str, data: Mapping[str, Any]) -> ChangeEvent:
    payload = dict(data.get("payload") or {})
    header = payload.pop("ChangeEventHeader", None) or {}
    replay = (data.get("event") or {}).get("replayId")
    if not isinstance(replay, int) or not header:
        raise ProtocolError(f"a change event on {channel} has no replay id or header")
    return ChangeEvent(
        channel=channel,
        replay_id=replay,
        entity=str(header.get("entityName", "")),
        change_type=str(header.get("changeType", "")),
        record_ids=tuple(header.get("recordIds") or ()),
        changed_fields=tuple(header.get("changedFields") or ()),
        change_origin=str(header.get("changeOrigin") or ""),
        transaction_key=str(header.get("transactionKey", "")),
        sequence_number=int(header.get("sequenceNumber") or 0),
        commit_timestamp=int(header.get("commitTimestamp") or 0),
        values=payload,
    )
