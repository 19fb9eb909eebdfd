"""Scripted faults: what a bad day at Bloomerang looks like to an integration, on demand.

A rule matches API requests by method and path prefix (never the control API), in the order
rules were added: every matching ``latency`` rule delays the request and lets it through;
the first other matching rule answers it. ``after`` lets that many matching requests pass
first; ``count`` limits how many requests the rule affects (null: until cleared).

Kinds: ``status`` (``{"Message": message}`` with the given status), ``rate_limit`` (429
with ``Retry-After``), both with ``Retry-After: retry_after`` when given; ``malformed``
(200 with the real answer's JSON cut in half); ``drop_connection`` (the connection closes,
nothing is carried out); ``drop_after_write`` (carried out and committed, then the
connection closes with no answer: the ambiguous failure); ``latency``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = ("status", "latency", "rate_limit", "malformed", "drop_connection", "drop_after_write")
RATE_LIMIT_MESSAGE = "API rate limit exceeded. Retry after {seconds} second(s)."
JSON_TYPE = b"application/json; charset=utf-8"


@dataclass
class FaultRule:
    """One scripted fault and how often it matched and fired."""

    id: int
    kind: str
    method: str | None = None
    path_prefix: str = "/v2/"
    after: int = 0
    count: int | None = 1
    status: int = 503
    message: str = "The service is temporarily unavailable (emulated fault)."
    latency_ms: int = 0
    retry_after: int | None = None
    matched: int = 0
    fired: int = 0

    def active(self) -> bool:
        """True while the rule may still fire."""
        return self.count is None or self.fired < self.count

    def answer_status(self) -> int:
        """The status the client sees (0: the connection closes without an answer)."""
        return {"status": self.status, "rate_limit": 429, "malformed": 200}.get(self.kind, 0)


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
    for key in ("method", "path_prefix", "message"):
        if data.get(key) is not None:
            if not isinstance(data[key], str):
                raise ValueError(f"fault {key} must be a string")
            setattr(rule, key, data[key])
    for key in ("after", "status", "latency_ms", "count", "retry_after"):
        if key not in data:
            continue
        value = data[key]
        if value is None and key in ("count", "retry_after"):
            setattr(rule, key, None)
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"fault {key} must be a non-negative integer")
        setattr(rule, key, value)
    if rule.method is not None:
        rule.method = rule.method.upper()
    if kind == "status" and not 100 <= rule.status <= 599:
        raise ValueError("fault status must be an HTTP status code")
    if rule.retry_after is not None and kind not in ("status", "rate_limit"):
        raise ValueError("retry_after applies to status and rate_limit faults only")
    return rule


class FaultInjector:
    """The list of fault rules; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self.fired = 0

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
        """Every rule with its counters."""
        with self._lock:
            return [asdict(rule) | {"active": rule.active()} for rule in self._rules]

    def select(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """(total latency in ms, the rule that answers) for one request."""
        latency = 0
        with self._lock:
            for rule in self._rules:
                if not rule.active() or not path.startswith(rule.path_prefix):
                    continue
                if rule.method is not None and rule.method != method.upper():
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                rule.fired += 1
                self.fired += 1
                if rule.kind == "latency":
                    latency += rule.latency_ms
                    continue
                return latency, rule
        return latency, None


async def answer_fault(rule: FaultRule, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request as ``rule`` says."""
    if rule.kind == "status":
        await send_json(send, rule.status, {"Message": rule.message}, rule.retry_after)
        return
    if rule.kind == "rate_limit":
        seconds = rule.retry_after if rule.retry_after is not None else 1
        await send_json(send, 429, {"Message": RATE_LIMIT_MESSAGE.format(seconds=seconds)}, seconds)
        return
    if rule.kind == "malformed":
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        whole = b"".join(chunks) or b'{"Total":0,"Results":[]}'
        # Cut inside the document so the JSON can never parse, whatever its length.
        await send_bytes(send, 200, whole[: max(1, len(whole) // 2)])
        return
    if rule.kind == "drop_after_write":

        async def discard(message: Message) -> None:
            return None

        await app(scope, receive, discard)
    await drop(send)


async def send_json(send: Send, status: int, body: Any, retry_after: int | None = None) -> None:
    """A JSON answer, with ``Retry-After`` when given."""
    extra = [] if retry_after is None else [(b"retry-after", str(retry_after).encode())]
    await send_bytes(send, status, json.dumps(body).encode(), extra)


async def send_bytes(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A raw JSON-typed answer."""
    headers = [(b"content-type", JSON_TYPE), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def drop(send: Send) -> None:
    """Close the connection without answering.

    uvicorn hands the app a bound ``send`` of its request cycle, which holds the transport;
    closing that is the only way to hang up before any byte of a response. With another
    server, start a response and abandon it, which also makes clients fail.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        # Let the server notice the closed connection, so it does not try to answer 500.
        await asyncio.sleep(0.01)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
