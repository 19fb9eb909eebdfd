"""The Streaming API (``POST /cometd/{version}``): Bayeux over HTTP long polling, for change events.

A client handshakes (``/meta/handshake``, getting a ``clientId`` and the ``BAYEUX_BROWSER``
cookie it must send back), subscribes to ``/data/ChangeEvents`` or ``/data/<Object>ChangeEvent``
with the replay extension (``"ext":{"replay":{"<channel>": -1|-2|<replayId>}}`` on the
subscribe message, or given once in the handshake's ``ext``), then polls ``/meta/connect``:
each connect answers with the events after the subscription's position followed by the
connect reply, or waits up to the advice timeout when there are none. CometD clients that
append the message type to the URL (``/cometd/61.0/connect``) are answered the same.

Authentication is the REST API's (``Authorization: Bearer|OAuth <token>``): no token answers
HTTP 401 ``401::Request requires authentication``; a token that is no longer valid gets
Salesforce's Bayeux replies (``403::Handshake denied`` with ``401::Authentication invalid``
in ``ext.sfdc.failureReason``; ``401::Authentication invalid`` with advice ``reconnect: none``).
Handshakes and connects are not API calls; each delivered event counts against
``DailyDurableStreamingApiEvents``. Fault rules apply as to any other path.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import bayeux
from .bayeux import Message
from .cdc_model import ChangeEvent
from .responses import json_response
from .state import MIN_API_VERSION, SUPPORTED_VERSIONS, EmulatorState
from .streaming_clients import StreamingClient

MAX_EVENTS_PER_CONNECT = 500


async def cometd(request: Request) -> Response:
    """Answer one HTTP request of Bayeux messages."""
    state: EmulatorState = request.app.state.emulator
    if request.path_params["version"] not in SUPPORTED_VERSIONS:
        error = bayeux.unsupported_version(f"{MIN_API_VERSION}.0", SUPPORTED_VERSIONS[-1])
        return json_response([{"error": error, "successful": False}], 400)
    authorization = request.headers.get("authorization")
    session = state.auth.session_for(authorization)
    messages = _messages(await request.body())
    if messages is None:
        return json_response([{"error": bayeux.MALFORMED, "successful": False}], 400)
    if session is None:
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token.strip():
            return json_response([{"error": bayeux.AUTH_REQUIRED, "successful": False}], 401)
        return json_response([bayeux.authentication_failure(message) for message in messages])
    exchange = _Exchange(state, request.cookies.get(bayeux.BROWSER_COOKIE))
    replies: list[Message] = []
    connects: list[Message] = []
    for message in messages:
        if message.get("channel") == "/meta/connect":
            connects.append(message)
        else:
            replies.append(exchange.handle(message))
    for message in connects:
        replies.extend(await exchange.connect(message))
    exchange.touch()
    response = json_response(replies)
    if exchange.new_browser is not None:
        response.set_cookie(bayeux.BROWSER_COOKIE, exchange.new_browser, path="/", httponly=True)
    return response


def _messages(raw: bytes) -> list[Message] | None:
    try:
        parsed = json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list) or not parsed or not all(isinstance(m, dict) for m in parsed):
        return None
    return parsed


class _Exchange:
    """The messages of one HTTP request, and the clients they touched."""

    def __init__(self, state: EmulatorState, browser: str | None) -> None:
        self.state = state
        self.bus = state.cdc
        self.clients = state.streaming
        self.browser = browser
        self.new_browser: str | None = None
        self.touched: dict[str, StreamingClient] = {}

    def touch(self) -> None:
        """Restart the reconnect timeout of every client this request spoke for."""
        now = self.state.org.clock.now()
        for client in self.touched.values():
            client.last_seen = now

    def handle(self, message: Message) -> Message:
        """The reply to one message other than a connect."""
        channel = message.get("channel")
        if channel == "/meta/handshake":
            return self._handshake(message)
        if not isinstance(channel, str) or not channel.startswith("/meta/"):
            return bayeux.failure(message, bayeux.PUBLISH_DENIED, _text(message.get("clientId")))
        client = self._client(message)
        if client is None:
            return bayeux.unknown_client(message)
        if client.browser != self.browser:
            return bayeux.failure(message, bayeux.no_cookie(client.client_id), client.client_id)
        if channel == "/meta/subscribe":
            return self._subscribe(message, client)
        if channel == "/meta/unsubscribe":
            client.subscriptions.pop(str(message.get("subscription")), None)
            return bayeux.reply(
                message, client.client_id, subscription=message.get("subscription"), successful=True
            )
        if channel == "/meta/disconnect":
            self.clients.drop(client.client_id)
            self.touched.pop(client.client_id, None)
            return bayeux.reply(message, client.client_id, successful=True)
        return bayeux.failure(message, f"400::Unknown meta channel {channel}", client.client_id)  # (emulator)

    def _client(self, message: Message) -> StreamingClient | None:
        client = self.clients.get(message.get("clientId"))
        if client is not None:
            self.touched[client.client_id] = client
        return client

    def _handshake(self, message: Message) -> Message:
        types = message.get("supportedConnectionTypes")
        if isinstance(types, list) and bayeux.LONG_POLLING not in types:
            return bayeux.failure(message, bayeux.invalid_connection_type(",".join(map(str, types))))
        ext = message.get("ext")
        defaults: dict[str, int] = {}
        replay = ext.get("replay") if isinstance(ext, dict) else None
        if isinstance(replay, dict):
            for channel, value in replay.items():
                number = bayeux.replay_value(value)
                if number is not None:
                    defaults[str(channel)] = number
        if self.browser is None:
            self.browser = self.new_browser = secrets.token_urlsafe(18)
        client = self.clients.open(self.browser, defaults)
        if client is None:
            return bayeux.handshake_denied(message, bayeux.CLIENTS_LIMIT)
        self.touched[client.client_id] = client
        return {
            "ext": dict(bayeux.SERVER_EXT),
            "minimumVersion": bayeux.BAYEUX_VERSION,
            "clientId": client.client_id,
            "supportedConnectionTypes": [bayeux.LONG_POLLING],
            **bayeux.reply(message),
            "version": bayeux.BAYEUX_VERSION,
            "successful": True,
        }

    def _subscribe(self, message: Message, client: StreamingClient) -> Message:
        channel = message.get("subscription")
        client_id = client.client_id
        if not isinstance(channel, str) or not channel:
            return bayeux.failure(message, bayeux.NO_CHANNEL_NAME, client_id)
        if not channel.startswith("/"):
            return bayeux.failure(message, bayeux.NO_LEADING_SLASH, client_id)
        known, _ = self.bus.channel_entity(channel)
        if not known:
            return bayeux.failure(message, bayeux.no_such_channel(channel), client_id)
        if self.state.usage.streaming_spent():
            return bayeux.failure(message, bayeux.EVENTS_LIMIT, client_id)
        ext = message.get("ext")
        given = ext.get("replay") if isinstance(ext, dict) else None
        raw: Any = given.get(channel, None) if isinstance(given, dict) else None
        if raw is None:
            raw = client.replay_defaults.get(channel, -1)
        replay = bayeux.replay_value(raw)
        if replay == -1:
            position = self.bus.last_replay_id
        elif replay == -2:
            position = self.bus.floor()
        elif replay is not None and replay >= 0 and self.bus.valid_replay(replay):
            position = replay
        else:
            return bayeux.failure(message, bayeux.invalid_replay(raw), client_id)
        client.subscriptions[channel] = position
        # A connect of this client that is waiting may have events to deliver now.
        self.bus.notify()
        return bayeux.reply(message, client_id, subscription=channel, successful=True)

    async def connect(self, message: Message) -> list[Message]:
        """The events for one ``/meta/connect`` (after waiting for some, if need be) and its reply."""
        client = self._client(message)
        if client is None:
            return [bayeux.unknown_client(message)]
        client_id = client.client_id
        if client.browser != self.browser:
            return [bayeux.failure(message, bayeux.no_cookie(client_id), client_id)]
        kind = message.get("connectionType", bayeux.LONG_POLLING)
        if kind != bayeux.LONG_POLLING:
            return [bayeux.failure(message, bayeux.invalid_connection_type(kind), client_id)]
        timeout_ms = self.bus.settings.timeout_ms
        advice = message.get("advice")
        asked = advice.get("timeout") if isinstance(advice, dict) else None
        wait_ms = (
            min(timeout_ms, asked) if isinstance(asked, int) and not isinstance(asked, bool) else timeout_ms
        )
        deadline = time.monotonic() + max(wait_ms, 0) / 1000
        first, client.connected = not client.connected, True
        client.busy += 1
        try:
            while True:
                seen = self.bus.generation
                if self.clients.get(client_id) is None:
                    return [bayeux.unknown_client(message)]
                delivered = self._deliver(client)
                if delivered is None:
                    spent = bayeux.failure(message, bayeux.EVENTS_LIMIT, client_id)
                    return [{**spent, "advice": {"reconnect": "none", "interval": 0}}]
                remaining = deadline - time.monotonic()
                if delivered or remaining <= 0:
                    break
                await self.bus.wait(remaining, seen)
        finally:
            client.busy -= 1
        answer = bayeux.reply(message, client_id, successful=True)
        if first:
            answer = {
                "clientId": client_id,
                "advice": {"interval": 0, "timeout": timeout_ms, "reconnect": "retry"},
                **answer,
            }
        return [*delivered, answer]

    def _deliver(self, client: StreamingClient) -> list[Message] | None:
        """Messages of the events due to ``client`` (its positions move past them); None when
        the day's allocation of delivered events is spent."""
        due: list[tuple[ChangeEvent, str]] = []
        for channel, position in client.subscriptions.items():
            known, entity = self.bus.channel_entity(channel)
            if known:
                due.extend(
                    (event, channel) for event in self.bus.after(position, entity, MAX_EVENTS_PER_CONNECT)
                )
        if not due:
            return []
        due.sort(key=lambda pair: pair[0].replay_id)
        allowed = self.state.usage.deliver_events(min(len(due), MAX_EVENTS_PER_CONNECT))
        if not allowed:
            return None
        messages = []
        for event, channel in due[:allowed]:
            client.subscriptions[channel] = event.replay_id
            messages.append({"data": event.data(), "channel": channel})
        return messages


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
