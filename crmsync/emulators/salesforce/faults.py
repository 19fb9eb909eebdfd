"""Scripted faults: what real orgs do to integrations, on demand.

Rules match requests (never the control API) as :mod:`crmsync.emulators.common.faults`
describes.

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
from dataclasses import dataclass
from functools import partial
from typing import Any

from crmsync.emulators.common import faults as common
from crmsync.emulators.common.faults import ASGIApp, Receive, Scope, Send

from .auth import AuthService

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
JSON_TYPE = b"application/json;charset=UTF-8"
# A record that cannot be locked; the message names the record unless one is given.
_PRESETS = {"record_error": {"status": 400, "error_code": "UNABLE_TO_LOCK_ROW", "message": ""}}


@dataclass
class FaultRule(common.FaultRule):
    """One scripted fault of an org and how often it has matched and fired."""

    message: str = "The server is temporarily unable to handle your request (emulated fault)."
    error_code: str = "SERVER_UNAVAILABLE"
    object: str | None = None


class FaultInjector(common.FaultRules[FaultRule]):
    """The list of fault rules; thread-safe."""

    def __init__(self) -> None:
        parse = partial(common.parse_rule, FaultRule, kinds=KINDS, presets=_PRESETS)
        super().__init__(parse, not_for_requests=("record_error",))

    def take_record_error(self, object_name: str) -> tuple[int, str, str] | None:
        """(status, error code, message) when a ``record_error`` rule fails this record write."""
        folded = object_name.casefold()
        rule = self.first_firing(
            lambda r: r.kind == "record_error" and (r.object is None or r.object.casefold() == folded)
        )
        return None if rule is None else (rule.status, rule.error_code, rule.message)


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
            await _send_json(send, rule.status, body, rule.retry_after)
        elif rule.kind == "rate_limit":
            body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
            await _send_json(send, 403, body, rule.retry_after)
        elif rule.kind == "expire_session":
            session = self.auth.session_for(_header(scope, b"authorization"))
            if session is not None:
                self.auth.invalidate(session.token)
            body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            await _send_json(send, 401, body)
        elif rule.kind == "malformed":
            empty = b'{"totalSize":0,"done":true,"records":[]}'
            await common.answer_malformed(self.app, scope, receive, send, empty=empty, content_type=JSON_TYPE)
        elif rule.kind == "drop_after_write":
            await common.drop_after_write(self.app, scope, receive, send)
        else:
            await common.drop(send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _send_json(send: Send, status: int, body: Any, retry_after: int | None = None) -> None:
    await common.send_bytes(send, status, common.json_bytes(body), JSON_TYPE, common.retry_after(retry_after))
