"""Scripted faults, the part both emulators share: rules, their matching, and ways to answer.

A rule matches requests by method and path prefix, in the order rules were added: every
matching ``latency`` rule delays the request and lets it through; the first other matching
rule answers it. ``after`` lets that many matching requests pass first; ``count`` limits how
many requests the rule affects (null: until cleared). Each emulator names its kinds, the
fields its rules add, and how its API answers them.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Generic, TypeVar

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Keys a rule takes as non-negative integers; the others (but kind) are text.
NUMBER_KEYS = ("after", "status", "latency_ms", "count", "retry_after")
# Keys set by the emulator, never by the control API.
COUNTERS = ("id", "matched", "fired")
# Number keys that null clears.
NULLABLE = ("count", "retry_after")


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
    message: str = ""
    latency_ms: int = 0
    retry_after: int | None = None
    matched: int = 0
    fired: int = 0

    def active(self) -> bool:
        """True while the rule may still fire."""
        return self.count is None or self.fired < self.count


Rule = TypeVar("Rule", bound=FaultRule)


def parse_rule(
    rule_type: type[Rule],
    rule_id: int,
    data: Any,
    kinds: tuple[str, ...],
    presets: Mapping[str, Mapping[str, Any]] | None = None,
) -> Rule:
    """A rule of ``rule_type`` from the control API's JSON; ValueError says what is wrong.

    ``presets``: the defaults of some kinds, different from the rule type's.
    """
    if not isinstance(data, dict):
        raise ValueError("a fault must be a JSON object")
    allowed = {f.name for f in fields(rule_type)} - set(COUNTERS)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown fault keys: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    kind = data.get("kind")
    if kind not in kinds:
        raise ValueError(f"fault kind must be one of {', '.join(kinds)}; got {kind!r}")
    rule = rule_type(id=rule_id, kind=kind, **(presets or {}).get(kind, {}))
    for key in sorted(allowed - {"kind"}):
        if key not in data:
            continue
        value = data[key]
        if key in NUMBER_KEYS:
            if value is None and key in NULLABLE:
                setattr(rule, key, None)
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"fault {key} must be a non-negative integer")
        elif value is None:
            continue
        elif not isinstance(value, str):
            raise ValueError(f"fault {key} must be a string")
        setattr(rule, key, value)
    if rule.method is not None:
        rule.method = rule.method.upper()
    if kind == "status" and not 100 <= rule.status <= 599:
        raise ValueError("fault status must be an HTTP status code")
    if rule.retry_after is not None and kind not in ("status", "rate_limit"):
        raise ValueError("retry_after applies to status and rate_limit faults only")
    return rule


class FaultRules(Generic[Rule]):
    """The rules in force, in the order added; thread-safe."""

    def __init__(self, parse: Callable[[int, Any], Rule], *, not_for_requests: Iterable[str] = ()) -> None:
        """``parse`` makes a rule (id, JSON); rules of the ``not_for_requests`` kinds match something else."""
        self._parse = parse
        self._not_for_requests = frozenset(not_for_requests)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._next_id = 1
        # How many times any rule fired.
        self.fired = 0

    def add(self, data: Any) -> Rule:
        """Add a rule from control-API JSON."""
        with self._lock:
            rule = self._parse(self._next_id, data)
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

    def select(self, method: str, path: str) -> tuple[int, Rule | None]:
        """(total latency in ms, the rule that answers) for one request."""
        latency = 0
        with self._lock:
            for rule in self._rules:
                if rule.kind in self._not_for_requests or not path.startswith(rule.path_prefix):
                    continue
                if rule.method is not None and rule.method != method.upper():
                    continue
                if not self._fires(rule):
                    continue
                if rule.kind == "latency":
                    latency += rule.latency_ms
                    continue
                return latency, rule
        return latency, None

    def first_firing(self, matches: Callable[[Rule], bool]) -> Rule | None:
        """The first rule that ``matches`` and fires (for the kinds that match no request)."""
        with self._lock:
            for rule in self._rules:
                if matches(rule) and self._fires(rule):
                    return rule
        return None

    def _fires(self, rule: Rule) -> bool:
        """Count a match of ``rule``; whether it fires (active, and past its ``after``)."""
        if not rule.active():
            return False
        rule.matched += 1
        if rule.matched <= rule.after:
            return False
        rule.fired += 1
        self.fired += 1
        return True


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """An answer of ``body``, with ``extra`` headers."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def retry_after(seconds: int | None) -> list[tuple[bytes, bytes]]:
    """The Retry-After header, when there is a time to give."""
    return [] if seconds is None else [(b"retry-after", str(seconds).encode())]


def json_bytes(body: Any) -> bytes:
    """``body`` as the JSON of an answer."""
    return json.dumps(body).encode()


async def answer_malformed(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, empty: bytes, content_type: bytes
) -> None:
    """The real answer's JSON cut in half, with status 200 (``empty``: the document when it has none)."""
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    whole = b"".join(chunks) or empty
    # Cut inside the document so the JSON can never parse, whatever its length.
    await send_bytes(send, 200, whole[: max(1, len(whole) // 2)], content_type)


async def drop_after_write(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Carry the request out (its writes are committed), then hang up instead of answering."""

    async def discard(message: Message) -> None:
        return None

    await app(scope, receive, discard)
    await drop(send)


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
