"""Scripted faults: what real orgs do to integrations, on demand.

A fault rule matches requests by method and path prefix (never the control API). Rules are
checked in the order they were added: every matching ``latency`` rule delays the request
and lets it through, the first other matching rule answers it. ``after`` lets that many
matching requests pass first; ``count`` limits how many requests the rule affects (null:
until the rules are cleared).

Kinds: ``status`` (an error array with the given status and code), ``rate_limit`` (403
REQUEST_LIMIT_EXCEEDED), both with a ``Retry-After`` header when ``retry_after`` (seconds)
is given, ``expire_session`` (401 INVALID_SESSION_ID, and the token used stops working),
``malformed`` (200 with the real answer's JSON cut in half), ``drop_connection``
(the connection closes with no response), ``drop_after_write`` (the request is carried out
and committed, then the connection closes with no response: the ambiguous failure),
``latency``.

``record_error`` rules match records, not requests: each API write of a record of ``object``
(null: any object), through any write resource, counts as one match, and a firing rule
fails that record alone with ``error_code`` (default UNABLE_TO_LOCK_ROW), as a per-record
error in sObject Collections or a 400 answer elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

from .auth import AuthService

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = (
    "status",
    "latency",
    "expire_session",
    "rate_limit",
    "malformed",
    "drop_connection",
    "drop_after_write",
    "record_error",
)
CONTROL_PREFIX = "/__emulator__"


@dataclass
class FaultRule:
    """One scripted fault and how often it has matched and fired."""

    id: int
    kind: str
    method: str | None = None
    path_prefix: str = "/"
    after: int = 0
    count: int | None = 1
    status: int = 503
    error_code: str = "SERVER_UNAVAILABLE"
    message: str = "The server is temporarily unable to handle your request (emulated fault)."
    latency_ms: int = 0
    object: str | None = None
    retry_after: int | None = None
    matched: int = 0
    fired: int = 0

    def active(self) -> bool:
        """True while the rule may still fire."""
        return self.count is None or self.fired < self.count


def parse_rule(rule_id: int, data: Any) -> FaultRule:
    """A FaultRule from the control API's JSON; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a fault must be a JSON object")
    allowed = set(FaultRule.__dataclass_fields__) - {"id", "matched", "fired"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown fault keys: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValueError(f"fault kind must be one of {', '.join(KINDS)}; got {kind!r}")
    rule = FaultRule(id=rule_id, kind=kind)
    if kind == "record_error":
        # A record that cannot be locked; the message names the record unless one is given.
        rule.status, rule.error_code, rule.message = 400, "UNABLE_TO_LOCK_ROW", ""
    for key in ("method", "path_prefix", "error_code", "message", "object"):
        if key in data and data[key] is not None:
            if not isinstance(data[key], str):
                raise ValueError(f"fault {key} must be a string")
            setattr(rule, key, data[key])
    for key in ("after", "status", "latency_ms", "count", "retry_after"):
        if key in data and (data[key] is not None or key not in ("count", "retry_after")):
            value = data[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"fault {key} must be a non-negative integer")
            setattr(rule, key, value)
        elif key == "count" and key in data:
            rule.count = None
    if rule.retry_after is not None and kind not in ("status", "rate_limit"):
        raise ValueError("retry_after applies to status and rate_limit faults only")
    if rule.method is not None:
        rule.method = rule.method.upper()
    if kind == "status" and not 100 <= rule.status <= 599:
        raise ValueError("fault status must be an HTTP status code")
    return rule


class FaultInjector:
    """The list of fault rules; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, data: Any) -> FaultRule:
        """Add a rule from control-API JSON."""
        with self._lock:
            rule = parse_rule(self._next_id, data)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            return count

    def list(self) -> list[dict[str, Any]]:
        """Every rule with its counters, for the control API."""
        with self._lock:
            return [asdict(rule) | {"active": rule.active()} for rule in self._rules]

    def take_record_error(self, object_name: str) -> tuple[int, str, str] | None:
        """(status, error code, message) when a ``record_error`` rule fails this record write."""
        with self._lock:
            for rule in self._rules:
                if rule.kind != "record_error" or not rule.active():
                    continue
                if rule.object is not None and rule.object.casefold() != object_name.casefold():
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                rule.fired += 1
                return rule.status, rule.error_code, rule.message
        return None

    def select(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """(total latency in ms, the rule that answers) for one request."""
        latency = 0
        with self._lock:
            for rule in self._rules:
                if rule.kind == "record_error" or not rule.active() or not path.startswith(rule.path_prefix):
                    continue
                if rule.method is not None and rule.method != method.upper():
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    latency += rule.latency_ms
                    continue
                return latency, rule
        return latency, None


class FaultMiddleware:
    """ASGI middleware applying the injector's rules before the emulator sees a request."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, auth: AuthService) -> None:
        self.app = app
        self.injector = injector
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        latency, rule = self.injector.select(scope["method"], path)
        if latency:
            await asyncio.sleep(latency / 1000)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "status":
            body = [{"message": rule.message, "errorCode": rule.error_code}]
            await _send_json(send, rule.status, body, _retry_after(rule))
        elif rule.kind == "rate_limit":
            body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
            await _send_json(send, 403, body, _retry_after(rule))
        elif rule.kind == "expire_session":
            authorization = _header(scope, b"authorization")
            session = self.auth.session_for(authorization)
            if session is not None:
                self.auth.invalidate(session.token)
            body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            await _send_json(send, 401, body)
        elif rule.kind == "malformed":
            await self._malformed(scope, receive, send)
        elif rule.kind == "drop_after_write":
            await self._answer_then_drop(scope, receive, send)
        else:
            await _drop(send)

    async def _answer_then_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Carry the request out (its writes are committed), then hang up instead of answering."""

        async def discard(message: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        await _drop(send)

    async def _malformed(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        whole = b"".join(chunks) or b'{"totalSize":0,"done":true,"records":[]}'
        # Cut inside the document so the JSON can never parse, whatever its length.
        truncated = whole[: max(1, len(whole) // 2)]
        await _send_bytes(send, 200, truncated)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _retry_after(rule: FaultRule) -> list[tuple[bytes, bytes]]:
    return [] if rule.retry_after is None else [(b"retry-after", str(rule.retry_after).encode())]


async def _send_json(
    send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await _send_bytes(send, status, json.dumps(body).encode(), extra)


async def _send_bytes(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json;charset=UTF-8"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Close the connection without answering.

    uvicorn hands the ASGI app a bound ``send`` of its request cycle, which holds the
    transport; closing that is the only way to hang up before any byte of a response. With
    another server, start a response and abandon it, which also makes clients fail.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        # Let the server notice the closed connection, so it does not try to answer 500.
        await asyncio.sleep(0.01)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
